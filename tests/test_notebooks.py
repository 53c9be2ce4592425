"""Every notebook in notebooks/ runs, top to bottom, on the bundled data; all are stored clean.

The processed tables are built from the bundled ``data/raw`` into a tmp folder (``raw/`` is a
symlink, so nothing is copied and the repo's ``data/processed`` is never written); each
notebook then runs with papermill and the project kernel, its default parameters and
``KLA_DATA_DIR`` pointing at that folder, as an analyst's JupyterLab or cron would run it.
Any failing cell fails the test with the cell and error papermill reports.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from kla_analysis.config import KERNEL_NAME, NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPLORATION = [p for p in NOTEBOOKS if re.match(r"^\d\d-", p.name)]
CELL_TIMEOUT = 300


def _read(path):
    return nbformat.read(path, as_version=4)


def test_the_notebooks_folder_holds_the_report_and_numbered_exploration_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert "evaluation_report.ipynb" in names
    assert len(EXPLORATION) >= 3, names
    numbers = [int(p.name[:2]) for p in EXPLORATION]
    assert numbers == list(range(1, len(EXPLORATION) + 1)), f"not numbered 01, 02, ...: {names}"
    for p in EXPLORATION:
        assert re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", p.name), p.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs_or_execution_counts(path):
    nb = _read(path)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs or execution counts " \
                      "(clear them before committing: Edit > Clear Outputs of All Cells)"
    assert "papermill" not in nb.metadata, f"{path.name}: an executed copy was saved over it"
    spec = nb.metadata.get("kernelspec", {})
    assert spec.get("name") == KERNEL_NAME
    assert spec.get("display_name") == "Python (kla-analysis)"


@pytest.mark.parametrize("path", EXPLORATION, ids=lambda p: p.name)
def test_exploration_notebook_is_a_thin_caller_with_a_bilingual_question(path):
    nb = _read(path)
    intro = nb.cells[0]
    assert intro.cell_type == "markdown"
    assert "**Pertanyaan:**" in intro.source and "**Question:**" in intro.source
    assert "bukan hasil resmi" in intro.source and "never an official" in intro.source
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "data_dir" in params[0].source and "lang" in params[0].source
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "sys.path" not in code, "import kla_analysis as installed, never edit sys.path"
    assert not re.search(r"""["'](\.\./|data/|/work|/home)""", code), \
        "paths come from kla_analysis.config (project_paths, $KLA_DATA_DIR)"
    # only the report stage's public surface (docs/architecture.md), nothing deeper
    imported = re.findall(r"^from (kla_analysis[\w.]*) import", code, flags=re.M)
    assert imported and set(imported) <= {"kla_analysis", "kla_analysis.report"}, imported
    assert not re.search(r"^import kla_analysis", code, flags=re.M)


# --- execution ------------------------------------------------------------------------------

def _outputs(nb, kind: str | None = None) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if kind is None or o.get("output_type") == kind]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_with_its_default_parameters(path, bundled_data, tmp_path, monkeypatch):
    import papermill

    monkeypatch.setenv("KLA_DATA_DIR", str(bundled_data.data_dir))
    monkeypatch.setenv("KLA_REPORTS_DIR", str(bundled_data.reports_dir))
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), kernel_name=KERNEL_NAME,
                               cwd=str(NOTEBOOKS_DIR), progress_bar=False, log_output=False,
                               execution_timeout=CELL_TIMEOUT)
    nb = _read(out)
    assert not _outputs(nb, "error")
    html = [o for o in _outputs(nb) if "text/html" in o.get("data", {})]
    assert html, f"{path.name} displayed no table or report section"
    # The data came from $KLA_DATA_DIR (the tmp build), not from the repo's data/.
    shown = "".join(o.get("text", "") for o in _outputs(nb, "stream")) + \
        "".join(json.dumps(o["data"]) for o in html)
    # (the evaluation report names its data folder, never its absolute path; the analyst
    # notebooks print where they read from)
    where = bundled_data.data_dir.name if path.name == "evaluation_report.ipynb" \
        else str(bundled_data.data_dir)
    assert where in shown, f"{path.name} did not read $KLA_DATA_DIR"
    if path.name == "evaluation_report.ipynb":
        assert str(bundled_data.data_dir) not in shown, "the report shows a local path"
