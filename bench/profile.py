"""Where the time goes: pyinstrument profiles of one report and of the scale pipeline.

``report``: in one process, imports, ``sections.load_report`` and every section of
``report_view`` (what the notebook's cells call), plus the median CPU seconds per section
over ``--runs`` repetitions (warm caches, as in a kernel that already imported the stack).
``pipeline SCALE``: ``validate_data``, writing the processed tables and ``bulk.score_all``
on a generated folder. Full text profiles go to ``bench/out/profiles/``; the top frames are
printed.

    .venv/bin/python bench/profile.py report
    .venv/bin/python bench/profile.py pipeline national
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from pyinstrument import Profiler

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out" / "profiles"
sys.path.insert(0, str(BENCH))


def save(name: str, prof: Profiler) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-{datetime.now():%Y%m%d-%H%M%S}.txt"
    path.write_text(prof.output_text(unicode=False, color=False, show_all=False))
    return path


def profile_report(year: int, runs: int) -> None:
    import run  # bench/run.py: the bundled data folder

    data = run.bundled_data()
    prof = Profiler(interval=0.001)
    prof.start()
    t0 = time.perf_counter()
    from kla_analysis.report import html as report_html
    from kla_analysis.report import sections
    t1 = time.perf_counter()
    rep = sections.load_report(year=year, data_dir=str(data))
    t2 = time.perf_counter()
    html = report_html.full_html(rep)
    t3 = time.perf_counter()
    prof.stop()
    print(f"imports {t1 - t0:.2f} s, load_report {t2 - t1:.2f} s, sections {t3 - t2:.2f} s, "
          f"HTML {len(html) / 1e6:.2f} MB; profile: {save('report', prof)}")
    cpu: dict[str, list[float]] = {}
    parts = [("load_report", None), ("title", report_html.title_html),
             *[(a, report_html.SECTION_HTML[a]) for a, _ in report_html.SECTIONS],
             ("footer", report_html.footer_html)]
    for _ in range(runs):
        for name, fn in parts:
            start = time.process_time()
            if fn is None:
                rep = sections.load_report(year=year, data_dir=str(data))
            else:
                fn(rep)
            cpu.setdefault(name, []).append(time.process_time() - start)
    total = 0.0
    for name, xs in cpu.items():
        m = statistics.median(xs)
        total += m
        print(f"  {name:12s} {m:6.3f} s CPU (median of {runs})")
    print(f"  {'total':12s} {total:6.3f} s")


def profile_pipeline(scale: str) -> None:
    import generate

    from kla_analysis.config import project_paths
    from kla_analysis.ingest.build import build
    from kla_analysis.model.bulk import score_all
    from kla_analysis.model.settings import load_settings

    data = generate.dataset(scale)
    paths = project_paths(data)
    prof = Profiler(interval=0.005)
    prof.start()
    t0 = time.perf_counter()
    tables = build(paths)
    t1 = time.perf_counter()
    scores = score_all(tables, settings=load_settings())
    t2 = time.perf_counter()
    prof.stop()
    print(f"build {t1 - t0:.1f} s, score_all {t2 - t1:.1f} s ({len(scores)} city-years); "
          f"profile: {save('pipeline-' + scale, prof)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("report")
    r.add_argument("--year", type=int, default=2023)
    r.add_argument("--runs", type=int, default=5)
    p = sub.add_parser("pipeline")
    p.add_argument("scale", choices=["tiny", "province", "national"])
    args = ap.parse_args(argv)
    if args.what == "report":
        profile_report(args.year, args.runs)
    else:
        profile_pipeline(args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
