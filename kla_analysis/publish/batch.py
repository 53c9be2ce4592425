"""``kla report``: render one year or every year, in parallel, safely, then rebuild the index.

- One lock per reports folder (``.kla-report.lock``, an OS file lock released by the kernel
  when the holder dies): a second run waits ``lock_wait`` seconds, then stops with a clear
  message and changes nothing. Temp files left by a killed run are removed once the lock
  is held.
- Years run in parallel in ``--jobs`` worker processes (default one per core), each driving
  one notebook at a time in its own kernel; workers die with the parent (Linux), so a
  killed run leaves no renderer behind.
- A year is skipped when its fingerprint (processed data, notebook, package code and data,
  parameters) equals the one recorded when its HTML was made, unless ``force``.
- Each HTML is replaced atomically; a failed year keeps its previous HTML. The index is
  rebuilt after every run. The exit code is 1 when any year failed.
- Progress: a rich progress bar on a terminal, plain timestamped lines otherwise (cron).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ..atomic import clear_stale_temp
from ..config import ProjectPaths, claim_reports_dir, project_paths
from ..errors import KlaError
from ..model.estimate import assessment_years, resolve_city
from ..params import LANGS, check_lang
from ..tables import load_processed
from .index import INDEX_NAME, build_index
from .runner import NOTEBOOK, ReportJob, input_fingerprint, prepare_job, read_manifest, render

LOCK_NAME = ".kla-report.lock"
LOCK_WAIT = 5.0


@dataclass
class Outcome:
    """What happened to one report in a run."""

    job: ReportJob
    status: str          # rendered | skipped | failed
    seconds: float = 0.0
    message: str = ""

    @property
    def label(self) -> str:
        return self.job.label


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def report_lock(reports_dir: Path, wait: float = LOCK_WAIT) -> Iterator[Path]:
    """Hold the reports folder's lock; raise KlaError if another run keeps it ``wait`` s."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / LOCK_NAME
    lock = FileLock(path, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise KlaError(f"another `kla report` run is rendering into {reports_dir} (it holds "
                       f"{path}); waited {wait:g} s and stopped without changing any report. "
                       "Run again when it has finished.") from None
    try:
        clear_stale_temp(reports_dir)
        yield path
    finally:
        lock.release()


def plan_jobs(paths: ProjectPaths | None = None, years: Sequence[int] | None = None,
              langs: Sequence[str] = LANGS, city: str | None = None,
              target: str | None = None) -> list[ReportJob]:
    """Validated jobs for ``years`` (default: every year with a self-assessment) x ``langs``."""
    paths = paths or project_paths()
    if not (paths.data_dir / "processed").is_dir():
        raise KlaError(f"no processed tables in {paths.data_dir}; run `kla build` first")
    langs = [check_lang(lang) for lang in dict.fromkeys(langs)]
    tables = load_processed(paths)
    city = resolve_city(tables, city or None)
    years = list(years) if years else assessment_years(tables, city)
    if not years:
        raise KlaError(f"no evaluation year with a self-assessment for {city}")
    return [prepare_job(y, lang, paths, city, target, tables=tables)
            for y in years for lang in langs]


def _die_with_parent() -> None:
    """Worker initializer: on Linux, ask the kernel to SIGTERM us when the parent dies."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _render_one(job: ReportJob, notebook: Path, cell_timeout: int | None,
                fingerprint: str) -> tuple[str, float, str]:
    """Render in a worker; return (status, seconds, message) -- never raise."""
    start = time.monotonic()
    try:
        render(job, notebook=notebook, cell_timeout=cell_timeout, fingerprint=fingerprint)
    except KlaError as err:
        return "failed", time.monotonic() - start, str(err)
    except Exception as err:  # noqa: BLE001 - one year's surprise must not stop the others
        return "failed", time.monotonic() - start, f"{job.label}: internal error: " \
                                                    f"{type(err).__name__}: {err}"
    return "rendered", time.monotonic() - start, ""


def is_current(job: ReportJob, fingerprint: str) -> bool:
    """True when the job's HTML exists and was made from inputs with this fingerprint."""
    doc = read_manifest(job.manifest)
    return job.html.is_file() and doc is not None and doc.get("input_hash") == fingerprint


class _Reporter:
    """Progress on a terminal (rich), plain timestamped lines otherwise."""

    def __init__(self, total: int, stream=None, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.done = total, 0
        self._progress = None
        if self.tty and total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(TextColumn("rendering reports"), BarColumn(),
                                      MofNCompleteColumn(), TextColumn("{task.description}"),
                                      console=Console(file=self.stream), transient=False)
            self._task = self._progress.add_task("", total=total)
            self._progress.start()

    def log(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            stamp = datetime.now().isoformat(timespec="seconds")
            print(f"{stamp} kla report: {text}", file=self.stream, flush=True)

    def advance(self, outcome: Outcome) -> None:
        self.done += 1
        if outcome.status == "failed":
            self.log(f"FAILED {outcome.label}: {outcome.message}")
        else:
            self.log(f"{outcome.status} {outcome.label} ({outcome.seconds:.1f} s)"
                     f" [{self.done}/{self.total}]")
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=outcome.label)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def run_reports(jobs: Sequence[ReportJob], *, n_jobs: int | None = None, force: bool = False,
                cell_timeout: int | None = None, notebook: Path = NOTEBOOK,
                lock_wait: float = LOCK_WAIT, stream=None, tty: bool | None = None,
                on_locked: Callable[[], None] | None = None) -> list[Outcome]:
    """Render ``jobs`` under the reports folder's lock; rebuild the index; return outcomes.

    ``on_locked`` is called once the lock is held (tests use it to prove the lock).
    """
    if not jobs:
        return []
    reports_dirs = {j.reports_dir for j in jobs}
    if len(reports_dirs) != 1:
        raise KlaError("all reports of one run must go to the same reports folder")
    reports_dir = reports_dirs.pop()
    n_jobs = max(1, n_jobs or default_jobs())
    outcomes: list[Outcome] = []
    with report_lock(reports_dir, lock_wait):
        if on_locked:
            on_locked()
        todo = []
        for job in jobs:
            fp = input_fingerprint(job, notebook)
            if not force and is_current(job, fp):
                outcomes.append(Outcome(job, "skipped", 0.0, "inputs unchanged"))
            else:
                todo.append((job, fp))
        rep = _Reporter(len(jobs), stream, tty)
        try:
            for o in outcomes:
                rep.advance(o)
            outcomes += _render_all(todo, n_jobs, cell_timeout, notebook, rep)
        finally:
            rep.close()
        failures = [o for o in outcomes if o.status == "failed"]
        try:
            build_index(reports_dir, failures=[(o.job, o.message) for o in failures])
        except OSError as err:  # e.g. a full disk: the index is replaced atomically or not at all
            counts = summarize(outcomes).splitlines()[0]
            raise KlaError(f"could not rewrite the index in {reports_dir}: "
                           f"{err.strerror or err}; the previous index.html is unchanged "
                           f"(reports: {counts}). Free some space and run again.") from None
    order = {id(j): i for i, j in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[id(o.job)])


def _render_all(todo, n_jobs, cell_timeout, notebook, rep) -> list[Outcome]:
    results = []
    if not todo:
        return results
    if n_jobs == 1 or len(todo) == 1:
        for job, fp in todo:
            status, secs, msg = _render_one(job, notebook, cell_timeout, fp)
            results.append(Outcome(job, status, secs, msg))
            rep.advance(results[-1])
        return results
    ctx = multiprocessing.get_context("spawn")
    # Each worker drives one notebook at a time (the notebook itself runs in its own kernel
    # process); workers are reused so the package is imported once per worker, not per year.
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(todo)), mp_context=ctx,
                             initializer=_die_with_parent) as pool:
        futures = {pool.submit(_render_one, job, notebook, cell_timeout, fp): job
                   for job, fp in todo}
        try:
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    status, secs, msg = fut.result()
                except Exception as err:  # noqa: BLE001 - a worker that died (e.g. OOM-killed)
                    status, secs, msg = "failed", 0.0, f"{job.label}: worker stopped: {err!r}"
                results.append(Outcome(job, status, secs, msg))
                rep.advance(results[-1])
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results


def summarize(outcomes: Sequence[Outcome], index: Path | None = None) -> str:
    """A short plain-text summary of a run (failures listed one per line)."""
    count = {s: sum(o.status == s for o in outcomes) for s in ("rendered", "skipped", "failed")}
    lines = [f"{count['rendered']} rendered, {count['skipped']} skipped (unchanged), "
             f"{count['failed']} failed"]
    lines += [f"  FAILED {o.label}: {o.message}" for o in outcomes if o.status == "failed"]
    if index is not None:
        lines.append(f"index: {index}")
    return "\n".join(lines)


def exit_code(outcomes: Sequence[Outcome]) -> int:
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def report_command(year: int | None, all_years: bool, langs: Sequence[str] | None,
                   n_jobs: int | None, force: bool, city: str | None, target: str | None,
                   cell_timeout: int | None, paths: ProjectPaths, out=None) -> int:
    """What ``kla report`` does; returns the exit code (1 if any report failed).

    ``--year Y`` renders that year (always, ``force`` implied), default language ``id``;
    ``--all`` renders every year with a self-assessment in both languages (so each report's
    language link works), skipping unchanged ones unless ``force``.
    """
    if (year is None) == (not all_years):
        raise KlaError("give either --year YEAR or --all")
    langs = list(langs or (["id"] if year is not None else LANGS))
    jobs = plan_jobs(paths, [year] if year is not None else None, langs, city, target)
    # one region per reports folder: a marker names it, another region's run is refused
    claim_reports_dir(paths.reports_dir, jobs[0].city, write=False)
    outcomes = run_reports(jobs, n_jobs=n_jobs, force=force or year is not None,
                           cell_timeout=cell_timeout)
    if any(o.status == "rendered" for o in outcomes):
        claim_reports_dir(paths.reports_dir, jobs[0].city)
    out = out or sys.stdout
    print(summarize(outcomes, paths.reports_dir / INDEX_NAME), file=out)
    for o in outcomes:
        if o.status == "rendered":
            print(f"  {o.job.html}", file=out)
    return exit_code(outcomes)
