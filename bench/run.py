"""``make bench``: the four measurements of issue 7, as medians with targets and ratios.

1. **report** -- one evaluation-year report against its floor: a bare notebook importing
   exactly the modules the report imports (``floor.report_modules``; no seaborn) and
   drawing one chart (``bench/floor.py``), both through
   ``kla_analysis.publish.runner.render`` (same papermill call, kernel, nbconvert template,
   offline check and atomic publish). Runs alternate floor/report; the ratio is the median
   of the per-pair ratios. The report is measured with the model results an earlier report
   of the same data kept (``kla_analysis.report.model_cache``: every report of ``kla report
   --all`` but the first) and cold (that cache removed before each run). Also reported:
   per-cell times from papermill's
   ``papermill.duration`` metadata.
2. **batch** -- ``kla report --all`` (every bundled year, both languages) with ``--jobs 2``
   against ``--jobs 1`` in fresh reports folders, alternating; then an unchanged re-run
   (everything cached).
3. **scale** -- ``kla validate``, ``kla build`` and scoring every city-year
   (``bench/score.py``) on generated province and national folders (``bench/generate.py``),
   each a child process measured for wall time and peak RSS (``os.wait4``); the same
   parse-and-aggregate work in DuckDB (``bench/duckdb_baseline.py``) in the same run.
4. **tests** -- the whole test suite once, as ``make test`` runs it (``python -m pytest -q -n
   auto --dist loadfile``: tests, doctests and notebooks, one worker per core).

Every run records the 1-minute load average (the machine is shared). Results go to
``bench/out/results/<time>.json`` and ``latest.json`` / ``latest.md`` (the table for
``docs/performance.md``).

    .venv/bin/python bench/run.py                 # everything, 5 runs, national scale too
    .venv/bin/python bench/run.py --quick         # province scale only, 3 runs, no test suite
    .venv/bin/python bench/run.py --only report --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PY = sys.executable
KLA = str(Path(PY).with_name("kla"))
sys.path.insert(0, str(BENCH))

import floor  # noqa: E402
import generate  # noqa: E402


def load() -> float:
    return round(os.getloadavg()[0], 2)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


@dataclass
class Child:
    """One child process: wall time (s), peak RSS (MB), exit code, load average before."""

    cmd: list[str]
    seconds: float
    peak_mb: float
    code: int
    load: float
    out: str = ""


def run_child(cmd: list[str], log: Path | None = None, env: dict | None = None) -> Child:
    """Run ``cmd``; wall time and the peak RSS of the child (and the descendants it waited
    for) from ``os.wait4``. Output goes to ``log`` (or is kept when short)."""
    la = load()
    log = log or OUT / "logs" / "last-child.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as fh:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT,
                             env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    return Child(cmd, seconds, usage.ru_maxrss / 1024, p.returncode, la, text[-2000:])


def check(child: Child, what: str) -> Child:
    if child.code != 0:
        raise SystemExit(f"{what} failed (exit {child.code}): {' '.join(child.cmd)}\n{child.out}")
    return child


@dataclass
class Row:
    """One line of the results table."""

    measurement: str
    median: float | None
    unit: str
    target: str = ""
    ratio: float | None = None
    passed: bool | None = None
    note: str = ""
    runs: list = field(default_factory=list)


# ---------------------------------------------------------------- 1. report vs floor


def bundled_data() -> Path:
    """``bench/out/bundled``: a copy of ``data/raw`` (refreshed when it changes), built."""
    data = OUT / "bundled"
    raw_src, raw = ROOT / "data" / "raw", data / "raw"
    stamp = data / "raw-stamp.json"
    now = {str(p.relative_to(raw_src)): p.stat().st_mtime_ns for p in sorted(raw_src.rglob("*"))
           if p.is_file()}
    old = json.loads(stamp.read_text()) if stamp.is_file() else None
    if old != now or not (data / "processed").is_dir():
        shutil.rmtree(raw, ignore_errors=True)
        shutil.copytree(raw_src, raw)
        check(run_child([KLA, "build", "--data-dir", str(data)]), "kla build (bundled)")
        stamp.write_text(json.dumps(now))
    return data


def cell_times(ipynb: Path) -> list[tuple[str, float]]:
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    out = []
    for i, cell in enumerate(nb["cells"]):
        src = "".join(cell.get("source", "")).strip().splitlines()
        name = f"{i + 1} {src[0][:60] if src else ''}"
        out.append((name, float(cell.get("metadata", {}).get("papermill", {}).get("duration")
                                or 0.0)))
    return out


def bench_report(runs: int, year: int = 2023) -> list[Row]:
    from kla_analysis.config import ProjectPaths
    from kla_analysis.publish import runner

    data = bundled_data()
    paths = ProjectPaths(data.resolve(), (OUT / "report-bench").resolve())
    job = runner.prepare_job(year, "id", paths)
    modules = floor.report_modules(runner.NOTEBOOK, year, data)
    notebooks = {"floor": floor.write_floor_notebook(OUT / "floor" / "floor.ipynb", modules),
                 "report": runner.NOTEBOOK, "cold": runner.NOTEBOOK}
    model_results = data / "interim" / "model"
    for nb in notebooks.values():  # warm-up: disk caches, font cache, compiled bytecode
        runner.render(job, notebook=nb)
    times: dict[str, list[float]] = {k: [] for k in notebooks}
    loads, pairs, cold_pairs, cells = [], [], [], []
    size = 0
    for i in range(runs):
        order = list(notebooks) if i % 2 == 0 else list(notebooks)[::-1]
        loads.append(load())
        for kind in order:
            if kind == "cold":  # no model results kept from an earlier report
                shutil.rmtree(model_results, ignore_errors=True)
            start = time.perf_counter()
            runner.render(job, notebook=notebooks[kind])
            times[kind].append(time.perf_counter() - start)
            if kind == "report":
                cells.append(cell_times(job.ipynb))
                size = job.html.stat().st_size
        pairs.append(times["report"][-1] / times["floor"][-1])
        cold_pairs.append(times["cold"][-1] / times["floor"][-1])
    per_cell = {name: round(median([c[k][1] for c in cells]), 3)
                for k, (name, _) in enumerate(cells[0])}
    ratio = median(pairs)
    return [
        Row("report: floor (bare notebook, the report's imports)", median(times["floor"]), "s",
            runs=[round(x, 3) for x in times["floor"]],
            note=f"{len(modules)} modules; load {loads}"),
        Row(f"report: {year} report (id), model results kept by an earlier report of the "
            "same data", median(times["report"]), "s", target="<= 1.3x floor",
            ratio=ratio, passed=ratio <= 1.3, runs=[round(x, 3) for x in times["report"]],
            note=f"HTML {size / 1e6:.2f} MB; cells (median s): {per_cell}"),
        Row(f"report: {year} report (id), cold (model results computed in the kernel)",
            median(times["cold"]), "s", ratio=median(cold_pairs),
            runs=[round(x, 3) for x in times["cold"]],
            note="the first report after the data change; the others of `kla report --all` "
                 "reuse its model results"),
    ]


# ---------------------------------------------------------------- 2. batch


def bench_batch(runs: int) -> list[Row]:
    data = bundled_data()
    base = OUT / "batch-bench"
    times: dict[int, list[float]] = {1: [], 2: []}
    loads, pairs = [], []
    last = None
    for i in range(runs):
        loads.append(load())
        for jobs in ([1, 2] if i % 2 == 0 else [2, 1]):
            reports = base / f"run{i}-jobs{jobs}"
            shutil.rmtree(reports, ignore_errors=True)
            c = check(run_child([KLA, "report", "--all", "--jobs", str(jobs), "--data-dir",
                                 str(data), "--reports-dir", str(reports)],
                                OUT / "logs" / f"batch-jobs{jobs}.log"), "kla report --all")
            times[jobs].append(c.seconds)
            if jobs == 2:
                last = reports
            else:
                shutil.rmtree(reports, ignore_errors=True)
        pairs.append(times[2][-1] / times[1][-1])
    n = sum(1 for _ in (last / "kota-banjarbaru").glob("*.html"))
    cached = []
    for _ in range(runs):
        c = check(run_child([KLA, "report", "--all", "--data-dir", str(data), "--reports-dir",
                             str(last)], OUT / "logs" / "batch-cached.log"), "cached rerun")
        if "0 rendered" not in c.out:
            raise SystemExit(f"the unchanged re-run rendered something:\n{c.out}")
        cached.append(c.seconds)
    shutil.rmtree(base, ignore_errors=True)
    ratio = median(pairs)
    return [
        Row(f"batch: kla report --all --jobs 1 ({n} reports)", median(times[1]), "s",
            runs=[round(x, 2) for x in times[1]], note=f"load {loads}"),
        Row("batch: kla report --all --jobs 2", median(times[2]), "s", target="<= 0.65x jobs 1",
            ratio=ratio, passed=ratio <= 0.65, runs=[round(x, 2) for x in times[2]]),
        Row("batch: unchanged re-run (all cached)", median(cached), "s", target="<= 1 s",
            passed=median(cached) <= 1.0, runs=[round(x, 3) for x in cached]),
    ]


# ---------------------------------------------------------------- 3. scale


def bench_scale(scale: str, runs: int) -> list[Row]:
    data = generate.dataset(scale)
    info = dict(line.split(": ", 1) for line in
                (data / "generated.txt").read_text().splitlines() if ": " in line)
    steps = {
        "duckdb": [PY, str(BENCH / "duckdb_baseline.py"), str(data)],
        "validate": [KLA, "validate", "--data-dir", str(data)],
        "build": [KLA, "build", "--data-dir", str(data)],
        "score": [PY, str(BENCH / "score.py"), str(data)],
        # without `kla validate` first (cron's `make report`): build validates itself
        "build_alone": [KLA, "build", "--data-dir", str(data)],
    }
    res: dict[str, list[Child]] = {k: [] for k in steps}
    for _ in range(runs):
        for name, cmd in steps.items():
            if name in ("validate", "build_alone"):  # no validation kept from before
                shutil.rmtree(data / "interim", ignore_errors=True)
            res[name].append(check(run_child(cmd, OUT / "logs" / f"{scale}-{name}.log"), name))
    secs = {k: [c.seconds for c in v] for k, v in res.items()}
    peak = {k: max(c.peak_mb for c in v) for k, v in res.items()}
    loads = [c.load for c in res["duckdb"]]
    all3 = [a + b + c for a, b, c in zip(secs["validate"], secs["build"], secs["score"],
                                         strict=True)]
    build_score = [b + c for b, c in zip(secs["build_alone"], secs["score"], strict=True)]
    parse = [a + c for a, c in zip(secs["validate"], secs["score"], strict=True)]
    ratio = median([p / d for p, d in zip(parse, secs["duckdb"], strict=True)])
    mem = max(peak["validate"], peak["build"], peak["score"], peak["build_alone"])
    national = scale == "national"
    duck = json.loads(res["duckdb"][-1].out.strip().splitlines()[-1])
    what = (f"{info['cities']} kab/kota, {info['kelurahan']} kelurahan, {info['years']} years, "
            f"{duck['statistic_rows']} statistic rows, {info['files']} files "
            f"({int(info['bytes']) / 1e6:.0f} MB)")
    t = "<= 60 s" if national else ""
    rows = [
        Row(f"{scale}: kla validate", median(secs["validate"]), "s", runs=_r(secs["validate"]),
            note=f"peak {peak['validate']:.0f} MB; {what}; load {loads}"),
        Row(f"{scale}: kla build after kla validate (reuses its validation, writes Parquet "
            "+ CSV)", median(secs["build"]), "s", runs=_r(secs["build"]),
            note=f"peak {peak['build']:.0f} MB"),
        Row(f"{scale}: kla build alone (validates, writes Parquet + CSV)",
            median(secs["build_alone"]), "s", runs=_r(secs["build_alone"]),
            note=f"peak {peak['build_alone']:.0f} MB"),
        Row(f"{scale}: score every city-year (bench/score.py)", median(secs["score"]), "s",
            runs=_r(secs["score"]), note=f"peak {peak['score']:.0f} MB"),
        Row(f"{scale}: validate + build + score", median(all3), "s", target=t,
            passed=median(all3) <= 60 if national else None, runs=_r(all3)),
        Row(f"{scale}: build alone + score (build validates)", median(build_score), "s",
            target=t, passed=median(build_score) <= 60 if national else None,
            runs=_r(build_score)),
        Row(f"{scale}: peak memory (largest of the four)", mem, "MB",
            target="<= 4096 MB" if national else "", passed=mem <= 4096 if national else None),
        Row(f"{scale}: DuckDB same parse + aggregate", median(secs["duckdb"]), "s",
            runs=_r(secs["duckdb"]), note=f"peak {peak['duckdb']:.0f} MB, threads "
            f"{duck['threads']}, rows {duck['statistic_rows']}"),
        Row(f"{scale}: (validate + score) / DuckDB", median(parse), "s",
            target="<= 3x" if national else "", ratio=ratio,
            passed=ratio <= 3 if national else None, runs=_r(parse)),
    ]
    return rows


def _r(xs: list[float]) -> list[float]:
    return [round(x, 2) for x in xs]


# ---------------------------------------------------------------- 4. tests


#: The options `make test` gives pytest (Makefile, TEST_JOBS=auto).
MAKE_TEST_ARGS = ["-n", "auto", "--dist", "loadfile"]


def bench_tests() -> list[Row]:
    c = run_child([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MAKE_TEST_ARGS],
                  OUT / "logs" / "pytest.log")
    summary = [ln for ln in c.out.splitlines() if " passed" in ln or " failed" in ln]
    return [Row(f"tests: python -m pytest -q {' '.join(MAKE_TEST_ARGS)} (1 run)", c.seconds,
                "s", target="< 600 s",
                passed=c.seconds < 600 and c.code == 0,
                note=f"exit {c.code}; {summary[-1] if summary else ''}; load {c.load}")]


# ---------------------------------------------------------------- 6. posterior + frontier


def bench_model(runs: int, year: int = 2023, target: str = "Nindya") -> list[Row]:
    """``posterior.fit`` + ``predict`` and the chance plan with its frontier for one
    city-year of the bundled data, each run in a fresh process (cold caches: what one
    ``kla plan --chance`` pays), ``bench/model.py``."""
    data = bundled_data()
    totals, post, plans = [], [], []
    for _ in range(max(runs, 3)):
        c = check(run_child([PY, str(Path(__file__).parent / "model.py"), str(data), str(year),
                             target], OUT / "logs" / "model.log"), "bench/model.py")
        r = json.loads(c.out.strip().splitlines()[-1])
        totals.append(r["total_s"])
        post.append(r["posterior_s"])
        plans.append(r["plan_s"])
    return [Row(f"model: posterior + chance frontier, {year} -> {target} (fresh process)",
                median(totals), "s", target="<= 2 s", passed=median(totals) <= 2,
                runs=[round(x, 3) for x in totals],
                note=f"posterior {median(post):.3f} s, plan + frontier {median(plans):.3f} s "
                     f"(imports and table loading not counted)")]


# ---------------------------------------------------------------- 5. evidence folder


def bench_evidence(runs: int) -> list[Row]:
    """``kla evidence scan`` on 1,000 generated PDFs (~500 MB) and its unchanged rescan
    (``bench/evidence.py``, issue 18)."""
    import evidence

    r = evidence.measure(1000, 500, runs)
    libs = "; ".join(f"{x['library']} {x['ms_per_file']} ms/file"
                     for x in r["libraries_matplotlib"])
    return [
        Row(f"evidence: kla evidence scan, {r['files']} PDFs ({r['megabytes']} MB), no cache",
            r["scan_s"], "s", target="<= 60 s", passed=r["scan_s"] <= 60,
            note=f"PDF text per matplotlib page: {libs}"),
        Row("evidence: scan peak memory", r["scan_peak_mb"], "MB", target="<= 1 GB",
            passed=r["scan_peak_mb"] <= 1024),
        Row("evidence: unchanged rescan (cache)", r["rescan_s"], "s", target="<= 2 s",
            passed=r["rescan_s"] <= 2),
    ]


# ---------------------------------------------------------------- output


def machine() -> dict:
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    cpu = sh("lscpu | grep 'Model name' | cut -d: -f2").strip() or platform.processor()
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": sh("free -h | awk '/Mem:/ {print $2}'"),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_start": os.getloadavg()}


def fmt(v: float | None, unit: str) -> str:
    if v is None:
        return ""
    return f"{v:.0f} {unit}" if unit == "MB" else f"{v:.2f} {unit}"


def table(rows: list[Row]) -> str:
    head = "| measurement | median | target | ratio | pass |\n| --- | --- | --- | --- | --- |\n"
    body = "".join(
        f"| {r.measurement} | {fmt(r.median, r.unit)} | {r.target} | "
        f"{'' if r.ratio is None else f'{r.ratio:.2f}x'} | "
        f"{'' if r.passed is None else ('PASS' if r.passed else 'FAIL')} |\n" for r in rows)
    return head + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="province scale only, 3 runs, no test suite (development)")
    ap.add_argument("--runs", type=int, help="runs per measurement (default 5, quick 3)")
    ap.add_argument("--only", default="report,batch,scale,tests,evidence,model",
                    help="comma-separated subset of report,batch,scale,tests,evidence,model")
    ap.add_argument("--scales", help="comma-separated scales (default province,national)")
    ap.add_argument("--write-docs", action="store_true",
                    help="put the table into docs/performance.md (between its bench markers)")
    args = ap.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    only = set(args.only.split(","))
    scales = (args.scales or ("province" if args.quick else "province,national")).split(",")
    if args.quick:
        only.discard("tests")
    info = machine()
    print(f"kla-analysis benchmarks: {runs} runs; {info['cpus']} cores ({info['cpu']}), "
          f"{info['memory']} RAM; load {info['load_start']}", flush=True)
    rows: list[Row] = []
    stages = [("report", lambda: bench_report(runs)), ("batch", lambda: bench_batch(runs))]
    stages += [("scale", (lambda s=s: bench_scale(s, runs))) for s in scales]
    stages += [("tests", bench_tests), ("evidence", lambda: bench_evidence(runs)),
               ("model", lambda: bench_model(runs))]
    for name, fn in stages:
        if name not in only:
            continue
        start = time.perf_counter()
        new = fn()
        rows += new
        print(table(new) + f"({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)
    info["load_end"] = os.getloadavg()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    res = OUT / "results"
    res.mkdir(parents=True, exist_ok=True)
    doc = {"when": stamp, "runs": runs, "machine": info,
           "rows": [r.__dict__ for r in rows]}
    for path in (res / f"{stamp}.json", res / "latest.json"):
        path.write_text(json.dumps(doc, indent=2, default=str))
    (res / "latest.md").write_text(table(rows))
    print(table(rows))
    for r in rows:
        if r.note:
            print(f"- {r.measurement}: {r.note}")
    print(f"\nresults: {res / (stamp + '.json')}")
    if args.write_docs:
        write_docs(rows, info, runs, stamp)
    return 0


DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def write_docs(rows: list[Row], info: dict, runs: int, stamp: str) -> None:
    """Replace the table between the bench markers of docs/performance.md."""
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} has no {START} ... {END} block")
    la = ", ".join(f"{x:.2f}" for x in info["load_start"])
    block = (f"{START}\nRun {stamp}, {runs} runs per measurement, medians; load average at "
             f"start {la}.\n\n{table(rows)}{END}")
    head, rest = text.split(START, 1)
    DOC.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")
    print(f"table written to {DOC}")


if __name__ == "__main__":
    sys.exit(main())
