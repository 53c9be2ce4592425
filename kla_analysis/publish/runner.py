"""Render one evaluation-year report: papermill runs the notebook, nbconvert writes the HTML.

``render_report(2023, "id", paths)`` validates the parameters (nothing from the command line
reaches the kernel unchecked), executes ``notebooks/evaluation_report.ipynb`` with an
explicit kernel, working directory and per-cell timeout, keeps the executed notebook beside
the HTML (``<year>-<lang>.ipynb``, or ``<year>-<lang>.error.ipynb`` when a cell failed),
exports it with the ``kla_report`` nbconvert template (no code, no prompts, no network
references) and replaces ``reports/<city-slug>/<year>-<lang>.html`` atomically. A failure
raises ``ReportFailed`` naming the year, language and cell; the previous HTML stays.

A small manifest ``<year>-<lang>.json`` beside the HTML records the headline figures (taken
from the executed notebook) and the fingerprint of the inputs, for the index and for
skipping unchanged years in ``kla report --all``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from .. import __version__
from ..atomic import FILE_MODE, TMP_PREFIX, write_text
from ..calendar import CALENDAR_FILE, load_calendar, manifest_rounds, todo_due
from ..catalog import load_bands
from ..chars import strip_unsafe
from ..config import (
    KERNEL_NAME,
    NOTEBOOKS_DIR,
    PACKAGE_DIR,
    ProjectPaths,
    env_positive,
    package_files,
    project_paths,
)
from ..errors import KlaError
from ..model.estimate import require_self_assessment
from ..model.scoring import canonical_predicate
from ..params import HEADLINE_MIME, LANGS, check_lang, city_slug, parse_year
from ..report.i18n import t
from ..tables import load_processed
from .offline import external_references

# nbformat (papermill, nbconvert) imports jsonschema, whose optional "iri" format checker
# rfc3987-syntax (pulled in by jupyterlab's jupyter-events) compiles ~35 Lark grammars at
# import: 0.6 s in every process that renders a report, for a format no notebook schema uses
# (python-jsonschema/jsonschema#1428). Processes that load this module skip that checker;
# jsonschema then has no "iri" check, as when rfc3987-syntax is not installed.
sys.modules.setdefault("rfc3987_syntax", None)

T = TypeVar("T")

NOTEBOOK = NOTEBOOKS_DIR / "evaluation_report.ipynb"
TEMPLATE_DIR = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "kla_report"
#: Seconds one notebook cell may run before the report fails (``KLA_CELL_TIMEOUT``).
DEFAULT_CELL_TIMEOUT = 300
DEFAULT_START_TIMEOUT = 60
KERNEL_LOG_LEVEL = "--IPKernelApp.log_level=CRITICAL"


class ReportFailed(KlaError):
    """A report could not be rendered; the previous HTML (if any) is untouched."""


def cell_timeout_default() -> int:
    return env_positive("KLA_CELL_TIMEOUT", int, DEFAULT_CELL_TIMEOUT,
                        "a whole number of seconds")


# --- parameters ----------------------------------------------------------------------------

def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ReportJob:
    """One report to render, with every parameter already validated."""

    year: int
    lang: str
    city: str
    target: str | None
    data_dir: Path
    reports_dir: Path

    @property
    def slug(self) -> str:
        return city_slug(self.city)

    @property
    def out_dir(self) -> Path:
        return self.reports_dir / self.slug

    @property
    def stem(self) -> str:
        return f"{self.year}-{self.lang}"

    @property
    def html(self) -> Path:
        return self.out_dir / f"{self.stem}.html"

    @property
    def ipynb(self) -> Path:
        return self.out_dir / f"{self.stem}.ipynb"

    @property
    def error_ipynb(self) -> Path:
        return self.out_dir / f"{self.stem}.error.ipynb"

    @property
    def manifest(self) -> Path:
        return self.out_dir / f"{self.stem}.json"

    @property
    def label(self) -> str:
        return f"{self.city} {self.year} ({self.lang})"

    def parameters(self) -> dict:
        """What papermill injects: plain str/int values only."""
        return {"year": self.year, "city": self.city, "data_dir": str(self.data_dir),
                "target": self.target or "", "lang": self.lang}


def _check_dir(path: Path, what: str) -> Path:
    text = str(path)
    if any(c in text for c in "\x00\n\r"):
        raise KlaError(f"{what} contains a control character: {text!r}")
    return path.expanduser().resolve()


def prepare_job(year: object, lang: object = "id", paths: ProjectPaths | None = None,
                city: str | None = None, target: str | None = None,
                tables: dict | None = None) -> ReportJob:
    """Validate the parameters against the data and return the job (raises KlaError).

    The year must be an integer in range with a self-assessment for the city; the language
    one of ``LANGS``; the city one present in the data; the target a known predicate; the
    data folder an existing folder with ``processed/`` tables; outputs stay inside the
    reports folder.
    """
    year = parse_year(year)
    lang = check_lang(lang)
    paths = paths or project_paths()
    data_dir = _check_dir(paths.data_dir, "data folder")
    reports_dir = _check_dir(paths.reports_dir, "reports folder")
    if not data_dir.is_dir():
        raise KlaError(f"data folder not found: {data_dir}")
    if not (data_dir / "processed").is_dir():
        raise KlaError(f"no processed tables in {data_dir}; run `kla build` first")
    if _inside(reports_dir, data_dir / "raw"):
        raise KlaError(f"reports folder {reports_dir} is inside the raw data folder "
                       f"{data_dir / 'raw'}, which code never writes; choose another one")
    tables = tables if tables is not None else load_processed(ProjectPaths(data_dir, reports_dir))
    city = require_self_assessment(tables, year, city or None)
    if target:
        try:
            target = canonical_predicate(str(target), load_bands())
        except ValueError as err:
            raise KlaError(str(err)) from None
    job = ReportJob(year, lang, city, target or None, data_dir, reports_dir)
    if not _inside(job.html, reports_dir):
        raise KlaError(f"report path {job.html} would leave the reports folder {reports_dir}")
    return job


# --- fingerprint of the inputs -------------------------------------------------------------

def input_fingerprint(job: ReportJob, notebook: Path = NOTEBOOK) -> str:
    """SHA-256 of everything a report depends on.

    Processed tables (Parquet), ``raw/sources.csv`` and ``raw/city.yaml`` / ``raw/kla.yaml``
    (the folder's settings: province, OPD names, area word, shown in the
    report), ``raw/calendar.yaml`` and the round the to-do is due in today (it moves on
    when a deadline passes), the notebook, the package version, code, data files and
    templates, and the parameters. Same fingerprint -> same report, so ``--all`` may skip it.
    """
    notebook = Path(notebook).resolve()
    h = hashlib.sha256()
    h.update(json.dumps({"version": __version__, **job.parameters(),
                         "reports_dir": str(job.reports_dir)}, sort_keys=True).encode())
    processed = job.data_dir / "processed"
    raw = job.data_dir / "raw"
    inputs = sorted(processed.glob("*.parquet")) + [raw / "sources.csv", raw / "city.yaml",
                                                     raw / "kla.yaml", raw / CALENDAR_FILE]
    # the round the report's to-do is due in changes once a deadline passes: a new report
    h.update(_due_key(job).encode())
    for path in [*inputs, notebook, *package_files()]:
        h.update(str(path.name if path.is_relative_to(job.data_dir) else
                     path.relative_to(PACKAGE_DIR.parent) if _inside(path, PACKAGE_DIR.parent)
                     else path).encode())
        h.update(path.read_bytes() if path.is_file() else b"<absent>")
    return h.hexdigest()


def _due_key(job: ReportJob) -> str:
    """The round and date the report's to-do is due by today (``calendar.todo_due``), or
    the calendar's error: part of the fingerprint, so a passed deadline renders anew."""
    try:
        due = todo_due(job.year, calendar=load_calendar(job.data_dir / "raw"))
    except KlaError as err:
        return f"calendar error: {err}"
    return "no round ahead" if due is None else f"{due.round}:{due.date.isoformat()}"


def _deadlines(job: ReportJob) -> list[dict] | None:
    """Every round's deadline of the job's calendar for the manifest (None if it does not
    load: the report itself says why)."""
    try:
        return manifest_rounds(load_calendar(job.data_dir / "raw"))
    except KlaError:
        return None


# --- rendering -----------------------------------------------------------------------------

@dataclass
class RenderResult:
    job: ReportJob
    html: Path
    ipynb: Path
    seconds: float
    headline: dict


def _cell_name(cell: dict, index: int) -> str:
    """``cell 4 `# 2. The score...``` -- counted from 1 in the executed notebook."""
    lines = [ln.strip() for ln in cell.get("source", "").splitlines() if ln.strip()]
    first = lines[0] if lines else "(empty cell)"
    return f"cell {index + 1} `{first[:80]}`"


def _last_started_cell(nb_path: Path) -> str:
    """The cell that was running when execution stopped: the last one papermill started."""
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:  # noqa: BLE001 - the notebook may be unreadable after a crash
        return "an unknown cell"
    started = [(i, c) for i, c in enumerate(nb.cells)
               if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return _cell_name(started[-1][1], started[-1][0]) if started else "an unknown cell"


def _keep(tmp: Path, target: Path) -> None:
    """Move the executed notebook ``tmp`` to ``target``, readable like any report file
    (mkstemp made it owner-only)."""
    if tmp.exists():
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)


@functools.lru_cache(maxsize=len(LANGS))
def _exporter(lang: str):
    """One HTML exporter per language and process: its template is compiled once, not for
    every report a batch worker renders."""
    from .exporter import ReportExporter

    return ReportExporter(
        template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        embed_images=True, language_code=lang)


def export_html(nb, lang: str, title: str) -> str:
    """The executed notebook as one self-contained HTML page (no code, prompts or scripts)."""
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    for cell in nb.cells:  # the headline JSON is for the index, not for readers
        cell["outputs"] = [o for o in cell.get("outputs", [])
                           if HEADLINE_MIME not in o.get("data", {})]
    body, _ = _exporter(lang).from_notebook_node(
        nb, resources={"metadata": {"name": title}})
    # data strings are escaped where they enter the page; control, bidirectional and
    # invisible characters are removed from the finished page too (a second line)
    return strip_unsafe(body)


def headline_from_notebook(nb) -> dict:
    """The headline figures the notebook emitted under ``HEADLINE_MIME`` (empty if none)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if HEADLINE_MIME in data:
                value = data[HEADLINE_MIME]
                return json.loads(value) if isinstance(value, str) else dict(value)
    return {}


def _check_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise KlaError(f"the Jupyter kernel {KERNEL_NAME!r} is not installed; run `make env` "
                       f"or `python -m ipykernel install --sys-prefix --name {KERNEL_NAME}`") from None


_KERNEL_START_FAILED = re.compile(r"Kernel died before replying to kernel_info|"
                                  r"Kernel didn't respond")


def retry_kernel_start(run: Callable[[], T]) -> T:
    """``run()``, once more if the kernel died or hung while starting (before any cell ran).

    Seen once in a batch of ten with two jobs: kernels started at the same moment can
    collide. A second start is safe because no cell has run; any other error is raised.
    """
    try:
        return run()
    except RuntimeError as err:
        if type(err) is not RuntimeError or not _KERNEL_START_FAILED.search(str(err)):
            raise
        return run()


def render(job: ReportJob, *, notebook: Path = NOTEBOOK, cell_timeout: int | None = None,
           start_timeout: int = DEFAULT_START_TIMEOUT, log_output: bool = False,
           fingerprint: str | None = None) -> RenderResult:
    """Execute the notebook for ``job`` and write its HTML, executed notebook and manifest."""
    import nbformat
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    cell_timeout = cell_timeout or cell_timeout_default()
    if not notebook.is_file():
        raise KlaError(f"report notebook not found: {notebook}")
    _check_kernel()
    start = time.monotonic()
    where = f"report {job.label}"
    try:  # a folder that cannot be written (permissions, no space or inodes left)
        job.out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{job.stem}.", suffix=".ipynb",
                                        dir=job.out_dir)
    except OSError as err:
        raise ReportFailed(f"{where}: could not write in {job.out_dir}: "
                           f"{err.strerror or err}; the previous report is unchanged") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            retry_kernel_start(lambda: pm.execute_notebook(
                str(notebook), str(tmp), parameters=job.parameters(), kernel_name=KERNEL_NAME,
                cwd=str(notebook.parent), execution_timeout=cell_timeout,
                start_timeout=start_timeout, progress_bar=False, log_output=log_output,
                # the kernel shares our stderr (the cron log): its own log lines (a TCP
                # notice on every start, a traceback when a timed-out cell is interrupted)
                # are noise there; cell errors, timeouts and a dead kernel are reported here
                extra_arguments=[KERNEL_LOG_LEVEL]))
        except PapermillExecutionError as err:
            _keep(tmp, job.error_ipynb)
            name = _cell_name({"source": err.source}, err.cell_index)
            raise ReportFailed(f"{where}: {name} raised {err.ename}: {err.evalue}; the executed "
                               f"notebook is kept at {job.error_ipynb}") from None
        except (CellTimeoutError, TimeoutError) as err:
            cell = _last_started_cell(tmp)
            _keep(tmp, job.error_ipynb)
            raise ReportFailed(f"{where}: {cell} did not finish within the execution timeout "
                               f"of {cell_timeout} s; the executed notebook is kept at "
                               f"{job.error_ipynb} ({type(err).__name__})") from None
        except DeadKernelError as err:
            cell = _last_started_cell(tmp)
            _keep(tmp, job.error_ipynb)
            raise ReportFailed(f"{where}: the kernel died while running {cell} "
                               f"(out of memory?): {err}") from None
        except RuntimeError as err:  # kernel start-up timeouts come as RuntimeError
            _keep(tmp, job.error_ipynb)
            raise ReportFailed(f"{where}: the notebook could not run: {err}") from None
        nb = nbformat.read(tmp, as_version=4)
        title = t("report.title", job.lang, city=job.city, year=job.year)
        html = export_html(nb, job.lang, title)
        bad = external_references(html)
        if bad:
            _keep(tmp, job.error_ipynb)
            raise ReportFailed(f"{where}: the HTML refers to network addresses "
                               f"({', '.join(bad[:3])}); not published")
        write_text(job.html, html)
        _keep(tmp, job.ipynb)
        with contextlib.suppress(FileNotFoundError):
            job.error_ipynb.unlink()
        headline = headline_from_notebook(nb)
        seconds = time.monotonic() - start
        write_manifest(job, headline, fingerprint or input_fingerprint(job, notebook), seconds)
        return RenderResult(job, job.html, job.ipynb, seconds, headline)
    except OSError as err:  # e.g. a full disk while writing; the previous HTML stays
        raise ReportFailed(f"{where}: could not write in {job.out_dir}: "
                           f"{err.strerror or err}; the previous report is unchanged") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_manifest(job: ReportJob, headline: dict, fingerprint: str, seconds: float) -> Path:
    doc = {"city": job.city, "slug": job.slug, "year": job.year, "lang": job.lang,
           "target": job.target, "html": job.html.name, "notebook": job.ipynb.name,
           "rendered_at": datetime.now(UTC).isoformat(timespec="seconds"),
           "seconds": round(seconds, 2), "version": __version__, "input_hash": fingerprint,
           "headline": headline,
           # the calendar's deadlines: the index picks the next one on the day it is built
           "deadlines": _deadlines(job)}
    write_text(job.manifest, json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    return job.manifest


def read_manifest(path: Path) -> dict | None:
    """A manifest as a dict, or None if it is missing or unreadable."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def render_report(year: object, lang: object = "id", paths: ProjectPaths | None = None, *,
                  city: str | None = None, target: str | None = None,
                  notebook: Path = NOTEBOOK, cell_timeout: int | None = None,
                  log_output: bool = False) -> RenderResult:
    """Validate, render and publish one report (see the module docstring)."""
    job = prepare_job(year, lang, paths, city, target)
    return render(job, notebook=notebook, cell_timeout=cell_timeout, log_output=log_output)


def result_dict(result: RenderResult) -> dict:
    out = asdict(result)
    out["job"] = {k: str(v) for k, v in asdict(result.job).items()}
    return out


__all__ = ["ReportFailed", "ReportJob", "RenderResult",
           "input_fingerprint", "prepare_job", "render",
           "render_report", "read_manifest"]
