"""``kla report --all``: lock, stale files, skipping unchanged years, failures, progress, kill."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from report_fixtures import (  # noqa: F401 - fixtures
    YEARS,
    copy_rendered,
    kla,
    rendered,
    report_data,
)

from kla_analysis.config import ProjectPaths
from kla_analysis.errors import KlaError
from kla_analysis.publish import batch, runner
from kla_analysis.tables import load_table, write_table

pytestmark = pytest.mark.slow


def _digests(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _args(paths: ProjectPaths, *extra: str) -> list[str]:
    return ["report", *extra, "--data-dir", str(paths.data_dir),
            "--reports-dir", str(paths.reports_dir)]


def _hold_lock(lock_path) -> subprocess.Popen:
    """Another process holding the reports lock, as an overlapping run would."""
    code = ("import sys, time; from filelock import FileLock; l = FileLock(sys.argv[1]); "
            "l.acquire(); print('locked', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(lock_path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_unchanged_years_are_skipped_and_force_renders_again(rendered, tmp_path,  # noqa: F811
                                                             monkeypatch):
    paths = copy_rendered(rendered, tmp_path)
    monkeypatch.setattr(runner, "package_files", lambda: [])  # same code for both checks
    jobs = batch.plan_jobs(paths)
    assert len(jobs) == len(YEARS) * 2
    # the copy was rendered with the real package files, so record fingerprints first
    for job in jobs:
        doc = runner.read_manifest(job.manifest)
        runner.write_manifest(job, doc["headline"], runner.input_fingerprint(job), 0)
    before = _digests(paths.reports_dir / "kota-contoh")
    out = batch.run_reports(jobs, n_jobs=2, stream=io.StringIO(), tty=False)
    assert [o.status for o in out] == ["skipped"] * len(jobs)
    assert _digests(paths.reports_dir / "kota-contoh") == before
    assert all(batch.is_current(j, runner.input_fingerprint(j)) for j in jobs)
    # a changed processed table makes every year stale
    sa = load_table("self_assessment", paths)
    write_table(sa.assign(points_claimed=sa["points_claimed"] * 0.99), "self_assessment", paths)
    assert not any(batch.is_current(j, runner.input_fingerprint(j)) for j in jobs)


def test_overlapping_run_waits_then_stops_with_a_clear_message(rendered, tmp_path):  # noqa: F811
    paths = copy_rendered(rendered, tmp_path)
    before = _digests(paths.reports_dir)
    holder = _hold_lock(paths.reports_dir / batch.LOCK_NAME)
    try:
        start = time.monotonic()
        res = kla(*_args(paths, "--all", "--force"))
        waited = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    assert res.returncode == 1
    assert "another `kla report` run is rendering" in res.stderr
    assert "Traceback" not in res.stderr
    assert waited >= batch.LOCK_WAIT
    assert _digests(paths.reports_dir) == before


def test_a_killed_lock_holder_and_its_temp_files_do_not_block_the_next_run(rendered,  # noqa: F811
                                                                           tmp_path,
                                                                           monkeypatch):
    paths = copy_rendered(rendered, tmp_path)
    holder = _hold_lock(paths.reports_dir / batch.LOCK_NAME)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    stale = paths.reports_dir / "kota-contoh" / ".tmp-2023-id.html.abc123"
    stale.write_text("half a report")
    seen = []
    monkeypatch.setattr(runner, "package_files", lambda: [])
    jobs = batch.plan_jobs(paths, [max(YEARS)], ["id"])
    for job in jobs:
        runner.write_manifest(job, {}, runner.input_fingerprint(job), 0)
    out = batch.run_reports(jobs, lock_wait=1, stream=io.StringIO(), tty=False,
                            on_locked=lambda: seen.append(stale.exists()))
    assert [o.status for o in out] == ["skipped"]
    assert seen == [False] and not stale.exists()  # removed as soon as the lock is held


def test_a_failing_year_keeps_its_previous_html_and_the_run_exits_non_zero(rendered,  # noqa: F811
                                                                           tmp_path):
    paths = copy_rendered(rendered, tmp_path)
    city_dir = paths.reports_dir / "kota-contoh"
    bad_year, good_year = min(YEARS), max(YEARS)
    before = (city_dir / f"{bad_year}-id.html").read_bytes()
    # an evidence status the estimate does not know: the kernel raises for that year only
    ev = load_table("evidence", paths)
    ev["status"] = ev["status"].where(ev["year"] != bad_year, "hilang")
    write_table(ev, "evidence", paths)
    res = kla(*_args(paths, "--all", "--lang", "id", "--jobs", "2"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "1 rendered, 0 skipped (unchanged), 1 failed" in res.stdout
    assert f"FAILED Kota Contoh {bad_year} (id)" in res.stdout
    assert "hilang" in res.stdout
    assert "Traceback" not in res.stderr
    assert (city_dir / f"{bad_year}-id.html").read_bytes() == before
    assert (city_dir / f"{bad_year}-id.error.ipynb").exists()
    assert (city_dir / f"{good_year}-id.html").stat().st_mtime > \
        (city_dir / f"{bad_year}-id.html").stat().st_mtime
    index = (paths.reports_dir / "index.html").read_text()
    assert f"Kota Contoh {bad_year} (id)" in index  # the failure notice
    assert f"kota-contoh/{bad_year}-id.html" in index  # previous report still listed
    # plain log lines for cron, one per report, with a timestamp
    lines = [ln for ln in res.stderr.splitlines() if "kla report:" in ln]
    assert len(lines) == 2 and all(ln[:4].isdigit() and "T" in ln[:20] for ln in lines)
    assert not list(paths.reports_dir.rglob(".tmp-*"))


def _descendants(pid: int) -> set[int]:
    """Live processes below ``pid`` (its batch workers and their kernels), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended while we looked
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        kids = [c for c, ppid in parents.items() if ppid == parent and c not in found]
        found.update(kids)
        todo.extend(kids)
    return found


def _alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie has stopped; only its reaper is missing)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _wait_for(what: str, check, timeout: float, proc: subprocess.Popen | None = None):
    """Poll ``check()`` until it returns something truthy; fail clearly after ``timeout`` s
    (or as soon as ``proc`` has exited, when given: the awaited state can no longer come)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the run exited (code {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def _executing(city_dir: Path) -> list[Path]:
    """Temp executed notebooks of renders whose kernel is running a cell.

    ``runner.render`` creates ``.tmp-<year>-<lang>.*.ipynb`` (under the lock) and papermill
    rewrites it at every cell start, with that cell's status ``running``, until the cell
    completes. The file may be half-written or already renamed when read; then it does
    not count (yet).
    """
    found = []
    for p in city_dir.glob(".tmp-*.ipynb"):
        try:
            if '"status": "running"' in p.read_text(encoding="utf-8", errors="replace"):
                found.append(p)
        except OSError:
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="reads /proc; workers die with their parent on Linux only")
def test_sigkill_during_a_run_leaves_previous_reports_intact(rendered, tmp_path):  # noqa: F811
    """SIGKILL of ``kla report --all`` while a notebook is executing: every HTML is still
    the previous one or a complete new one, the workers and kernels stop, and the next run
    clears the killed run's temp files and renders normally."""
    paths = copy_rendered(rendered, tmp_path)
    city_dir = paths.reports_dir / "kota-contoh"
    before = {k: v for k, v in _digests(paths.reports_dir).items() if k.endswith(".html")}
    assert {f"kota-contoh/{y}-{lang}.html" for y in YEARS for lang in ("id", "en")} <= set(before)
    assert not list(paths.reports_dir.rglob(".tmp-*"))  # any temp file below is this run's
    env = {**os.environ, "KLA_DATA_DIR": "", "KLA_REPORTS_DIR": ""}
    proc = subprocess.Popen([sys.executable, "-m", "kla_analysis",
                             *_args(paths, "--all", "--force", "--jobs", "2")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _wait_for("a kernel executing a report cell (a .tmp-*.ipynb in the city folder "
                  "with a cell marked running)", lambda: _executing(city_dir),
                  timeout=180, proc=proc)
        renderers = _descendants(proc.pid)
        assert renderers, "no worker or kernel process below the run"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    _wait_for("the killed run's workers and kernels to exit (they must die with the parent)",
              lambda: not _alive(renderers), timeout=60)
    # the killed renders' temp notebooks stay behind (SIGTERM skips their clean-up), so the
    # last check below proves the next run removes them
    assert list(city_dir.glob(".tmp-*.ipynb")), "the killed run left no temp notebook"
    for name, digest in before.items():
        path = paths.reports_dir / name
        html = path.read_text(encoding="utf-8")
        # each report is either the previous one or a complete new one, never partial
        assert html.rstrip().endswith("</html>"), name
        assert digest == hashlib.sha256(path.read_bytes()).hexdigest() or \
            "<main class=\"report\">" in html
    res = kla(*_args(paths, "--year", str(max(YEARS))), timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert not list(paths.reports_dir.rglob(".tmp-*"))


def test_progress_reporter_plain_and_terminal():
    job = runner.ReportJob(2023, "id", "Kota X", None, Path("/d"), Path("/r"))
    plain = io.StringIO()
    rep = batch._Reporter(2, plain, tty=False)
    rep.advance(batch.Outcome(job, "rendered", 1.5))
    rep.advance(batch.Outcome(job, "failed", 0.5, "cell 3 raised X"))
    rep.close()
    lines = plain.getvalue().splitlines()
    assert lines[0].endswith("kla report: rendered Kota X 2023 (id) (1.5 s) [1/2]")
    assert lines[1].endswith("kla report: FAILED Kota X 2023 (id): cell 3 raised X")
    tty = io.StringIO()
    rep = batch._Reporter(1, tty, tty=True)
    rep.advance(batch.Outcome(job, "skipped"))
    rep.close()
    assert "rendering reports" in tty.getvalue() and "1/1" in tty.getvalue()


def test_summary_and_exit_code():
    job = runner.ReportJob(2023, "id", "Kota X", None, Path("/d"), Path("/r"))
    ok = [batch.Outcome(job, "rendered"), batch.Outcome(job, "skipped")]
    assert batch.exit_code(ok) == 0
    bad = [*ok, batch.Outcome(job, "failed", 0, "boom")]
    assert batch.exit_code(bad) == 1
    text = batch.summarize(bad)
    assert text.splitlines()[0] == "1 rendered, 1 skipped (unchanged), 1 failed"
    assert "FAILED Kota X 2023 (id): boom" in text


def test_plan_jobs_needs_built_data(tmp_path):
    with pytest.raises(KlaError, match="run `kla build` first"):
        batch.plan_jobs(ProjectPaths(tmp_path, tmp_path / "r"))


def test_default_jobs_is_one_per_core():
    assert batch.default_jobs() == (os.cpu_count() or 1)
