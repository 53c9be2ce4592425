"""Score every city and evaluation year of a built data folder (the benchmark's scoring step).

Loads the columns scoring reads from the processed Parquet tables
(:func:`kla_analysis.model.bulk.load_for_scoring`) and runs :func:`kla_analysis.model.bulk.score_all`
(headline estimate and 288-setting sensitivity range of every city-year). Prints one summary line; ``--out FILE.parquet`` keeps the scores.

    .venv/bin/python bench/score.py bench/out/national-seed7-.../
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kla_analysis.config import project_paths
from kla_analysis.model.bulk import load_for_scoring, score_all
from kla_analysis.model.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, help="write the scores to this Parquet file")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    tables = load_for_scoring(project_paths(args.data_dir))
    loaded = time.perf_counter()
    scores = score_all(tables, settings=load_settings())
    done = time.perf_counter()
    if args.out:
        scores.to_parquet(args.out, index=False)
    print(f"scored {len(scores)} city-years of {scores['city'].nunique()} kab/kota "
          f"(load {loaded - start:.1f} s, score {done - loaded:.1f} s); estimated predicates: "
          + ", ".join(f"{k} {v}" for k, v in scores["estimated_predicate"].fillna("none")
                      .value_counts().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
