"""pytest set-up shared by the three kinds of test in ``make test``.

- ``tests/``: the library's tests (their own fixtures are in ``tests/conftest.py``);
- ``kla_analysis/``: the doctests in the package's docstrings (``--doctest-modules``);
- ``notebooks/``: every notebook run cell by cell under nbval (``--nbval-lax``: a cell
  fails when it raises; outputs are not compared, they change with the data).

The notebooks read the processed tables of ``$KLA_DATA_DIR`` (else the project's
``data/``, empty on a fresh clone), so the bundled sample is built once per test process
into a temporary folder and the notebooks' kernels start with ``KLA_DATA_DIR`` pointing at
it; the variable is set only while a notebook's kernel starts, so no other test sees it.
Under pytest-xdist the cells of one notebook must stay in one worker (one kernel runs them
in order): ``make test`` uses ``--dist loadfile``. (``--dist loadgroup`` with an
``xdist_group`` per notebook would be finer, but pytest-xdist 3.8 ignores the groups under
pytest 9.2: pytest-dev/pytest-xdist#1386.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
#: Not modules to doctest: ``python -m kla_analysis`` runs the CLI when imported, and the
#: fixture scripts under tests/fixtures/ build data when run.
collect_ignore = ["kla_analysis/__main__.py"]
collect_ignore_glob = ["tests/fixtures/*"]

_built: dict[str, Path] = {}


def _is_notebook_cell(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb"


def _bundled_data(config: pytest.Config) -> Path:
    """The bundled sample's processed tables, built once per process (raw/ linked, never
    copied or written)."""
    if "data" not in _built:
        from kla_analysis.config import DEFAULT_DATA_DIR, ProjectPaths
        from kla_analysis.ingest.build import build

        folder = Path(tempfile.mkdtemp(prefix="kla-nbval-"))
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        (folder / "raw").symlink_to(DEFAULT_DATA_DIR / "raw", target_is_directory=True)
        build(ProjectPaths(folder, folder / "reports"))
        _built["data"] = folder
    return _built["data"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_notebook_cell(item):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """A notebook's kernel starts in the setup of its first cell: give it the data folder."""
    if not _is_notebook_cell(item):
        yield
        return
    data = _bundled_data(item.config)
    env = {"KLA_DATA_DIR": str(data), "KLA_REPORTS_DIR": str(data / "reports")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
