"""The runner: parameter validation, offline check, fingerprint, failing and hung cells."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from report_fixtures import CITY, YEARS, build_data
from typer.testing import CliRunner

from kla_analysis import params
from kla_analysis.cli import app
from kla_analysis.config import ProjectPaths
from kla_analysis.errors import KlaError
from kla_analysis.publish import offline, runner


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> ProjectPaths:
    return build_data(tmp_path_factory.mktemp("runner") / "data")


@pytest.fixture
def paths(data, tmp_path) -> ProjectPaths:
    return ProjectPaths(data.data_dir, tmp_path / "reports")


@pytest.mark.parametrize("year", [True, 2023.0, "2023; import os", None, "abc", [2023]])
def test_year_must_be_a_whole_number(year):
    with pytest.raises(KlaError, match="whole number"):
        params.parse_year(year)


@pytest.mark.parametrize("year", [1999, 2005, 2101, -1])
def test_year_must_be_in_range(year):
    with pytest.raises(KlaError, match="out of range"):
        params.parse_year(year)


def test_year_given_as_digits_is_accepted():
    assert params.parse_year(" 2023 ") == 2023 and params.parse_year(2023) == 2023


def test_city_slug_is_ascii_and_cannot_leave_the_folder():
    assert params.city_slug("Kota Banjarbaru") == "kota-banjarbaru"
    assert params.city_slug("../../etc/passwd") == "etc-passwd"
    assert params.city_slug("Kab. Hulu Sungai Utara") == "kab-hulu-sungai-utara"
    with pytest.raises(KlaError):
        params.city_slug("../")


def test_prepare_job_validates_against_the_data(paths):
    job = runner.prepare_job(2023, "en", paths)
    assert (job.city, job.year, job.lang, job.target) == (CITY, 2023, "en", None)
    assert job.html == paths.reports_dir / "kota-contoh" / "2023-en.html"
    assert job.parameters() == {"year": 2023, "city": CITY, "data_dir": str(paths.data_dir),
                                "target": "", "lang": "en"}
    assert runner.prepare_job(2023, "id", paths, target="nindya").target == "Nindya"
    with pytest.raises(KlaError, match="unknown report language 'fr'"):
        runner.prepare_job(2023, "fr", paths)
    with pytest.raises(KlaError, match="no self-assessment .* 2021"):
        runner.prepare_job(2021, "id", paths)
    with pytest.raises(KlaError, match="unknown predicate 'Emas'"):
        runner.prepare_job(2023, "id", paths, target="Emas")
    with pytest.raises(KlaError, match="no self-assessment for city"):
        runner.prepare_job(2023, "id", paths, city="Kota <script>")


def test_prepare_job_refuses_missing_folders(tmp_path):
    with pytest.raises(KlaError, match="data folder not found"):
        runner.prepare_job(2023, "id", ProjectPaths(tmp_path / "nope", tmp_path / "r"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(KlaError, match="run `kla build` first"):
        runner.prepare_job(2023, "id", ProjectPaths(tmp_path / "empty", tmp_path / "r"))
    with pytest.raises(KlaError, match="inside the raw data folder"):
        data = build_data(tmp_path / "d")
        runner.prepare_job(2023, "id", ProjectPaths(data.data_dir, data.raw / "reports"))
    with pytest.raises(KlaError, match="control character"):
        runner.prepare_job(2023, "id", ProjectPaths(tmp_path / "a\nb", tmp_path / "r"))


def test_cli_rejects_bad_parameters_before_any_kernel_starts(paths):
    cli = CliRunner()
    base = ["report", "--data-dir", str(paths.data_dir), "--reports-dir", str(paths.reports_dir)]
    for args, message in [(["--year", "1800"], "out of range"),
                          (["--year", "2023", "--lang", "fr"], "unknown report language"),
                          (["--year", "2023", "--all"], "either --year YEAR or --all"),
                          ([], "either --year YEAR or --all"),
                          (["--year", "2023", "--target", "x"], "unknown predicate")]:
        res = cli.invoke(app, base + args)
        assert res.exit_code == 1, (args, res.output)
        assert message in res.output
        assert "Traceback" not in res.output
    res = cli.invoke(app, base + ["--year", "abc"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert not paths.reports_dir.exists() or not list(paths.reports_dir.rglob("*.html"))


def test_external_references_lists_only_fetched_network_urls():
    html = """<html><head><link rel="stylesheet" href="https://cdn.example/x.css">
    <script src="//cdn.example/require.js"></script><style>body{background:url('http://x/y.png')}
    @import "https://fonts.example/f.css";</style></head><body>
    <img src="data:image/png;base64,AAAA"><img srcset="a.png 1x, https://x/b.png 2x">
    <a href="https://example.org/source">source</a><a href="2023-en.html">en</a>
    <div style="background-image: url(https://x/z.png)"></div></body></html>"""
    found = offline.external_references(html)
    assert set(found) == {"https://cdn.example/x.css", "//cdn.example/require.js",
                          "http://x/y.png", "https://fonts.example/f.css", "https://x/b.png",
                          "https://x/z.png"}


def test_fingerprint_changes_with_data_parameters_and_notebook(paths, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "package_files", lambda: [])  # others edit code meanwhile
    job = runner.prepare_job(2023, "id", paths)
    fp = runner.input_fingerprint(job)
    assert fp == runner.input_fingerprint(runner.prepare_job(2023, "id", paths))
    assert fp != runner.input_fingerprint(runner.prepare_job(2023, "en", paths))
    assert fp != runner.input_fingerprint(runner.prepare_job(2022, "id", paths))
    assert fp != runner.input_fingerprint(runner.prepare_job(2023, "id", paths, target="Utama"))
    nb = tmp_path / "other.ipynb"
    nb.write_text(runner.NOTEBOOK.read_text() + "\n")
    assert fp != runner.input_fingerprint(job, nb)


def test_fingerprint_changes_when_a_processed_table_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "package_files", lambda: [])
    p = build_data(tmp_path / "data")
    job = runner.prepare_job(2023, "id", p)
    before = runner.input_fingerprint(job)
    (p.processed / "statistics.parquet").write_bytes(
        (p.processed / "statistics.parquet").read_bytes() + b"\0")
    assert runner.input_fingerprint(job) != before


def _notebook(path, body: str):
    nb = new_notebook(cells=[
        new_code_cell('year = 2023\ncity = ""\ndata_dir = ""\ntarget = ""\nlang = "id"',
                      metadata={"tags": ["parameters"]}),
        new_code_cell('print("first cell ok")'),
        new_code_cell(body)],
        metadata={"kernelspec": {"name": "kla-analysis", "display_name": "kla",
                                 "language": "python"}})
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_hung_cell_ends_in_a_timeout_naming_year_and_cell(paths, tmp_path):
    job = runner.prepare_job(2023, "id", paths)
    job.out_dir.mkdir(parents=True)
    job.html.write_text("previous report")
    nb = _notebook(tmp_path / "hang.ipynb", "# hang here\nimport time\ntime.sleep(120)")
    with pytest.raises(runner.ReportFailed) as err:
        runner.render(job, notebook=nb, cell_timeout=3)
    msg = str(err.value)
    assert "2023" in msg and "cell 4 `# hang here`" in msg and "timeout of 3 s" in msg
    assert job.html.read_text() == "previous report"
    assert job.error_ipynb.exists() and not job.manifest.exists()
    assert not list(job.out_dir.glob(".tmp-*"))


@pytest.mark.slow
def test_a_failing_cell_keeps_the_previous_html_and_the_executed_notebook(paths, tmp_path):
    job = runner.prepare_job(min(YEARS), "en", paths)
    job.out_dir.mkdir(parents=True)
    job.html.write_bytes(b"<p>previous</p>")
    nb = _notebook(tmp_path / "fail.ipynb", "# 4. Indicators\nraise ValueError('bad data')")
    with pytest.raises(runner.ReportFailed) as err:
        runner.render(job, notebook=nb, cell_timeout=60)
    msg = str(err.value)
    assert f"{CITY} {min(YEARS)} (en)" in msg
    assert "cell 4 `# 4. Indicators` raised ValueError: bad data" in msg
    assert str(job.error_ipynb) in msg
    assert job.html.read_bytes() == b"<p>previous</p>"
    executed = nbformat.read(job.error_ipynb, as_version=4)
    first = next(c for c in executed.cells if c.source == 'print("first cell ok")')
    assert first.outputs[0]["text"].strip() == "first cell ok"
    assert any("bad data" in str(c.get("outputs")) for c in executed.cells)
    assert not list(job.out_dir.glob(".tmp-*"))


def test_manifest_roundtrip_and_unreadable_manifest(paths):
    job = runner.prepare_job(2023, "id", paths)
    runner.write_manifest(job, {"claimed_total": 1.5}, "abc", 2.0)
    doc = runner.read_manifest(job.manifest)
    assert doc["headline"] == {"claimed_total": 1.5} and doc["input_hash"] == "abc"
    job.manifest.write_text("{not json")
    assert runner.read_manifest(job.manifest) is None
    assert json.loads(json.dumps(runner.read_manifest(job.out_dir / "none.json"))) is None


def test_a_full_disk_while_publishing_is_a_clear_failure(paths, monkeypatch):
    job = runner.prepare_job(2023, "id", paths)
    job.out_dir.mkdir(parents=True)
    job.html.write_text("previous report")

    def full(*_a, **_k):
        raise OSError(28, "No space left on device")

    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", full)
    with pytest.raises(runner.ReportFailed, match="No space left on device"):
        runner.render(job, cell_timeout=5)
    assert job.html.read_text() == "previous report"
    assert not list(job.out_dir.glob(".tmp-*"))


def test_kernel_start_failure_is_retried_once_and_other_errors_are_not():
    from kla_analysis.publish.runner import retry_kernel_start

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "ran"

    assert retry_kernel_start(flaky) == "ran" and len(calls) == 2

    def always_dead():
        calls.append(1)
        raise RuntimeError("Kernel didn't respond in 60 seconds")

    calls.clear()
    with pytest.raises(RuntimeError, match="didn't respond"):
        retry_kernel_start(always_dead)
    assert len(calls) == 2

    def cell_error():
        calls.append(1)
        raise RuntimeError("some cell failed")

    calls.clear()
    with pytest.raises(RuntimeError, match="some cell failed"):
        retry_kernel_start(cell_error)
    assert len(calls) == 1


def test_fingerprint_accepts_a_relative_notebook_path(tmp_path, monkeypatch):
    from pathlib import Path

    job = runner.ReportJob(year=2023, lang="id", city="Kota X", target=None,
                           data_dir=tmp_path, reports_dir=tmp_path / "reports")
    (tmp_path / "nb.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert (runner.input_fingerprint(job, Path("nb.ipynb"))
            == runner.input_fingerprint(job, tmp_path / "nb.ipynb"))


def test_rendering_processes_skip_the_slow_iri_checker_and_still_validate_notebooks():
    """jsonschema's optional rfc3987-syntax "iri" checker costs ~0.6 s per process at import
    (python-jsonschema/jsonschema#1428); runner turns it off, notebook validation still works."""
    import subprocess
    import sys

    code = """
import sys
import kla_analysis.publish.runner
import nbformat
from nbformat.v4 import new_notebook
assert sys.modules.get("rfc3987_syntax", "absent") in (None, "absent")
nb = new_notebook()
nbformat.validate(nb)
nb["cells"] = [{"cell_type": "code"}]  # no source, outputs, metadata: invalid
try:
    nbformat.validate(nb)
except nbformat.ValidationError:
    print("caught")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "caught"
