"""Faults a nightly job meets with nobody watching: SIGKILL at several points, overlapping
runs, a full disk. Previous outputs must stay whole and readable, and the next run must
recover without manual clean-up.

Already proven elsewhere (not repeated here): a held lock makes a second run wait then stop
(test_batch.py::test_overlapping_run_waits_then_stops_with_a_clear_message), a killed lock
holder and its temp files do not block the next run (test_batch.py), a hung cell of a test
notebook ends at the timeout naming year and cell (test_runner.py; here the REAL report
notebook hangs, through the CLI), a failing year keeps its HTML (test_batch.py), nothing is
written when validation fails (test_build.py, test_bad_inputs.py).

Kill points are found by watching the output folders from outside (a temp file appears, a
target is replaced), so each point is reached whatever the machine's speed; no hook in the
code. The full disk is a real 2 MB tmpfs when the tests run as root and may mount one;
elsewhere the writer is patched to fail the same way.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import YEARS, build_data
from typer.testing import CliRunner

from kla_analysis.atomic import TMP_PREFIX, atomic_group
from kla_analysis.cli import app
from kla_analysis.config import PROJ_ROOT, ProjectPaths
from kla_analysis.ingest.build import built_files
from kla_analysis.tables import TABLES, load_processed, write_tables

pytestmark = pytest.mark.slow
BUNDLED_RAW = PROJ_ROOT / "data" / "raw"
BASE = Path(__file__).parent / "fixtures" / "bad_inputs" / "base"
ENV = {**os.environ, "KLA_DATA_DIR": "", "KLA_REPORTS_DIR": "", "KLA_DEBUG": ""}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): digest(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def temp_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob(TMP_PREFIX + "*")) if folder.is_dir() else []


def kla_popen(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kla_analysis", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)


def kill_when(proc: subprocess.Popen, condition, timeout: float = 120) -> bool:
    """SIGKILL ``proc`` as soon as ``condition()`` holds; False if it ended first."""
    end = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < end:
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            with_children_gone(proc)
            return True
        time.sleep(0.0005)
    proc.communicate(timeout=timeout)
    return False


def with_children_gone(proc: subprocess.Popen, wait: float = 10) -> None:
    """Let the killed run's helpers (kernel, workers) notice, then clear what is left of its
    process group so no test leaves processes behind."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- kla build


@pytest.fixture(scope="module")
def build_states(tmp_path_factory) -> dict:
    """The bundled raw data with an OLD set of processed tables (every table different from
    what the next build writes), and the NEW tables' digests from a reference build."""
    root = tmp_path_factory.mktemp("build_faults")
    ref = ProjectPaths(root / "ref", root / "reports")
    shutil.copytree(BUNDLED_RAW, ref.raw)
    res = CliRunner().invoke(app, ["build", "--data-dir", str(ref.data_dir)])
    assert res.exit_code == 0, res.output
    new = {p.name: digest(p) for p in built_files(ref)}
    tables = load_processed(ref)
    old_dir = ProjectPaths(root / "old", root / "reports")
    shutil.copytree(BUNDLED_RAW, old_dir.raw)
    write_tables({n: t.assign(source_row=t["source_row"] + 1000) for n, t in tables.items()},
                 old_dir)
    old = {p.name: digest(p) for p in built_files(old_dir)}
    assert not set(old.values()) & set(new.values())
    return {"root": root, "old_dir": old_dir, "old": old, "new": new}


def assert_whole_tables(paths: ProjectPaths, states: dict) -> str:
    """Every processed file is the previous or the new version, complete and readable;
    returns "old", "new" or "mixed"."""
    seen = set()
    for path in built_files(paths):
        d = digest(path)
        assert d in (states["old"][path.name], states["new"][path.name]), path.name
        seen.add("old" if d == states["old"][path.name] else "new")
        if path.suffix == ".parquet":
            assert len(pd.read_parquet(path))
        else:
            assert len(pd.read_csv(path, dtype=str))
    return seen.pop() if len(seen) == 1 else "mixed"


def test_sigkill_during_build_keeps_every_table_whole_and_the_next_build_recovers(
        build_states, tmp_path):
    n_files = 2 * len(TABLES)
    states_new = build_states["new"]
    points = {
        "starting up": lambda d: time.monotonic() - d["t0"] > 0.3,
        "first temp file written": lambda d: len(temp_files(d["dir"])) >= 1,
        "half the temp files written": lambda d: len(temp_files(d["dir"])) >= n_files // 2,
        "renaming": lambda d: any(digest_or_none(p) == states_new.get(p.name)
                                  for p in built_files(d["paths"])),
    }
    outcome = {}
    left_over = []
    for name, cond in points.items():
        for attempt in range(4):  # a loaded machine may run the whole write between polls
            paths = ProjectPaths(tmp_path / f"{name.replace(' ', '_')}_{attempt}",
                                 tmp_path / "reports")
            shutil.copytree(build_states["old_dir"].data_dir, paths.data_dir)
            proc = kla_popen("build", "--data-dir", str(paths.data_dir))
            state = {"t0": time.monotonic(), "dir": paths.processed, "paths": paths}
            killed = kill_when(proc, lambda s=state, c=cond: c(s))
            outcome[name] = (killed, assert_whole_tables(paths, build_states))
            if killed:
                break
        if temp_files(paths.processed):
            left_over.append(paths)
    # the write phase was really hit: a kill left temp files and the previous tables
    assert left_over, outcome
    assert outcome["starting up"] == (True, "old"), outcome
    assert outcome["half the temp files written"][1] == "old", outcome
    # the next run clears the leftovers and writes every table
    runs = [(p, kla_popen("build", "--data-dir", str(p.data_dir))) for p in left_over]
    for paths, proc in runs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
        assert not temp_files(paths.processed)
        assert assert_whole_tables(paths, build_states) == "new"


def digest_or_none(path: Path) -> str | None:
    try:
        return digest(path)
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs to fill up, or None where mounting is not allowed (not root)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
        capture_output=True).returncode == 0
    try:
        yield mnt if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path, leave: int = 4096) -> Path:
    """Fill ``disk`` until ``leave`` bytes are free; returns the filler file."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


def enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_atomic_group_replaces_nothing_when_one_write_fails(tmp_path):
    targets = [tmp_path / f"t{i}.txt" for i in range(3)]
    for t in targets:
        t.write_text("previous")
    with pytest.raises(OSError), atomic_group(targets) as tmps:
        tmps[0].write_text("new")
        tmps[1].write_text("new")
        enospc()
    assert [t.read_text() for t in targets] == ["previous"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [t.name for t in targets]


def test_build_on_a_full_disk_is_a_clear_error_and_keeps_the_previous_tables(
        small_disk, tmp_path, monkeypatch):
    root = small_disk or tmp_path
    paths = ProjectPaths(root / "data", root / "reports")
    shutil.copytree(BASE, paths.data_dir)
    assert CliRunner().invoke(app, ["build", "--data-dir", str(paths.data_dir)]).exit_code == 0
    before = digests(paths.processed)
    (paths.raw / "statistics" / "statistik.csv").write_text(
        (BASE / "raw" / "statistics" / "statistik.csv").read_text().replace("900", "901"))
    if small_disk is not None:  # a real full disk, a real process
        filler = fill(small_disk)
        proc = kla_popen("build", "--data-dir", str(paths.data_dir))
        out, err = proc.communicate(timeout=120)
        code, output = proc.returncode, out + err
    else:  # no tmpfs here: the Parquet writer fails as on a full disk
        filler = None
        monkeypatch.setattr(pd.DataFrame, "to_parquet", enospc)
        res = CliRunner().invoke(app, ["build", "--data-dir", str(paths.data_dir)])
        code, output = res.exit_code, res.output
        monkeypatch.undo()
    assert code == 1, output
    assert "No space left on device" in output and "previous tables are unchanged" in output
    assert "Traceback" not in output and "Internal error" not in output
    assert digests(paths.processed) == before and not temp_files(paths.processed)
    if filler is not None:
        filler.unlink()
    res = CliRunner().invoke(app, ["build", "--data-dir", str(paths.data_dir)])
    assert res.exit_code == 0, res.output
    assert digests(paths.processed) != before


def test_report_on_a_full_disk_is_a_clear_error_and_keeps_previous_html_and_index(
        small_disk, tmp_path, monkeypatch):
    paths = build_data(tmp_path / "data")
    reports = (small_disk or tmp_path) / "reports"
    paths = ProjectPaths(paths.data_dir, reports)
    (reports / "kota-contoh").mkdir(parents=True)
    (reports / "kota-contoh" / "2023-id.html").write_text("<html>previous report</html>\n")
    (reports / "index.html").write_text("<html>previous index</html>\n")
    before = digests(reports)
    args = ["report", "--year", "2023", "--lang", "id", "--data-dir", str(paths.data_dir),
            "--reports-dir", str(reports)]
    if small_disk is not None:
        fill(small_disk)
        proc = kla_popen(*args)
        out, err = proc.communicate(timeout=300)
        code, output = proc.returncode, out + err
    else:  # every atomic write fails as on a full disk
        import kla_analysis.atomic as atomic

        monkeypatch.setattr(atomic.tempfile, "mkstemp", enospc)
        res = CliRunner().invoke(app, args)
        code, output = res.exit_code, res.output
    assert code == 1, output
    assert "FAILED Kota Contoh 2023 (id)" in output and "No space left on device" in output
    assert "previous report is unchanged" in output
    assert "previous index.html is unchanged" in output
    assert "Traceback" not in output and "Internal error" not in output
    after = {k: v for k, v in digests(reports).items() if k != ".kla-report.lock"}
    assert after == before and not temp_files(reports)


# ---------------------------------------------------------------- kla report --all


def is_complete_report(html: str) -> bool:
    return html.rstrip().endswith("</html>") and '<main class="report">' in html


def assert_reports_whole(reports: Path, previous: dict[str, bytes]) -> dict[str, str]:
    """Every HTML is its previous bytes or a complete new page; manifests parse."""
    state = {}
    for name, old in previous.items():
        data = (reports / name).read_bytes()
        if data == old:
            state[name] = "previous"
            continue
        text = data.decode("utf-8")
        assert is_complete_report(text) or (name == "index.html" and "</html>" in text), name
        state[name] = "new"
    for manifest in reports.rglob("*.json"):
        assert isinstance(json.loads(manifest.read_text(encoding="utf-8")), dict), manifest
    return state


def test_sigkill_during_report_all_at_several_points_then_recovery_and_overlap(tmp_path):
    """One language, both fixture years, one job: kill while starting, while a kernel runs,
    just after the first report is published; then a recovery run, overlapped by a second
    run that must wait or stop with a clear message. Nothing is ever half-written."""
    paths = build_data(tmp_path / "data")
    reports = tmp_path / "reports"
    paths = ProjectPaths(paths.data_dir, reports)
    city = reports / "kota-contoh"
    city.mkdir(parents=True)
    previous = {"index.html": b"<!DOCTYPE html><html>previous index</html>\n"}
    for y in YEARS:
        previous[f"kota-contoh/{y}-id.html"] = f"<html>previous {y}</html>\n".encode()
    for name, data in previous.items():
        (reports / name).write_bytes(data)
    args = ["report", "--all", "--lang", "id", "--jobs", "1", "--data-dir",
            str(paths.data_dir), "--reports-dir", str(reports)]
    first = city / f"{min(YEARS)}-id.html"
    first_inode = first.stat().st_ino
    t0 = {}
    points = {
        "starting up": lambda: time.monotonic() - t0["t"] > 1.0,
        "kernel running": lambda: any(p.suffix == ".ipynb" for p in temp_files(city)),
        "first report published": lambda: first.stat().st_ino != first_inode,
    }
    seen, left = {}, {}
    for name, cond in points.items():
        t0["t"] = time.monotonic()
        proc = kla_popen(*args)
        assert kill_when(proc, cond), f"the run ended before '{name}'"
        seen[name] = assert_reports_whole(reports, previous)
        left[name] = set(temp_files(reports))
    # a kill mid-render leaves its temp notebook; the next run removes it under the lock
    assert left["kernel running"]
    assert not left["kernel running"] & left["first report published"]
    assert seen["starting up"] == dict.fromkeys(previous, "previous")
    assert seen["kernel running"] == dict.fromkeys(previous, "previous")
    assert seen["first report published"][f"kota-contoh/{min(YEARS)}-id.html"] == "new"
    assert seen["first report published"][f"kota-contoh/{max(YEARS)}-id.html"] == "previous"

    # recovery: the stale lock and temp files of the killed runs do not block it; a second
    # run started while it renders must wait for it or stop with a clear message
    stale = set(temp_files(reports))
    recovery = kla_popen(*args)
    deadline = time.monotonic() + 120
    # a new temp file means the recovery run holds the lock and is rendering
    while not set(temp_files(city)) - stale and recovery.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    overlap = kla_popen(*args)
    r_out, r_err = recovery.communicate(timeout=300)
    o_out, o_err = overlap.communicate(timeout=300)
    assert recovery.returncode == 0, r_out + r_err
    assert "Traceback" not in r_err + o_err and "Internal error" not in r_err + o_err
    if overlap.returncode == 1:
        assert "another `kla report` run is rendering" in o_err
        assert "without changing any report" in o_err
    else:  # it got the lock once the first run was done, and found nothing to do
        assert overlap.returncode == 0 and "0 rendered" in o_out, o_out + o_err
    final = assert_reports_whole(reports, previous)
    assert final == dict.fromkeys(previous, "new")
    assert not temp_files(reports)
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f"kota-contoh/{y}-id.html" in index for y in YEARS)


# ---------------------------------------------------------------- a hung cell, through the CLI

HANG = '''\
import os
if os.environ.get("JPY_PARENT_PID"):  # only inside the Jupyter kernel papermill starts
    import time
    import kla_analysis.report.sections as report
    report.load_report = lambda *a, **k: time.sleep(600)
'''


def test_a_hung_cell_of_the_real_report_times_out_through_the_cli(tmp_path):
    """The real notebook, its data-loading cell made to hang inside the kernel only (a
    sitecustomize on the kernel's path): `kla report --timeout 3` names the year and the
    cell, exits 1, keeps the previous HTML and lists the failure in the index."""
    import nbformat

    from kla_analysis.publish.runner import NOTEBOOK

    paths = build_data(tmp_path / "data")
    reports = tmp_path / "reports"
    (reports / "kota-contoh").mkdir(parents=True)
    html = reports / "kota-contoh" / "2023-id.html"
    html.write_text("<html>previous report</html>\n")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HANG)
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    i = next(i for i, c in enumerate(cells) if "load_report(" in c.source)
    # counted from 1 in the executed notebook, which has the injected-parameters cell too
    name = f"cell {i + 2} `{cells[i].source.strip().splitlines()[0][:80]}`"
    env = {**ENV, "PYTHONPATH": os.pathsep.join(
        [str(hook), *filter(None, [os.environ.get("PYTHONPATH")])])}
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "kla_analysis", "report", "--year", "2023",
                          "--lang", "id", "--timeout", "3", "--data-dir", str(paths.data_dir),
                          "--reports-dir", str(reports)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr
    assert time.monotonic() - start < 120
    out = res.stdout + res.stderr
    assert "FAILED Kota Contoh 2023 (id)" in out and name in out, out
    assert "did not finish within the execution timeout of 3 s" in out
    assert "Traceback" not in out and "Internal error" not in out
    assert html.read_text() == "<html>previous report</html>\n"
    assert (reports / "kota-contoh" / "2023-id.error.ipynb").exists()
    assert "Kota Contoh 2023 (id)" in (reports / "index.html").read_text(encoding="utf-8")
    assert not temp_files(reports)
