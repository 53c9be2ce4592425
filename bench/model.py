"""One city-year's posterior and chance frontier, cold, in a fresh process (issue 14).

Prints one JSON line: seconds for loading the processed tables and settings, for
``posterior.fit`` + ``predict`` (20,000 prior draws scored, weighted by the official record),
for the chance-constrained plan with its frontier (300 posterior scenarios), and the total
of the last two (target <= 2 s). Run as ``python bench/model.py DATA_DIR YEAR TARGET``.
"""

from __future__ import annotations

import json
import sys
import time


def main(data_dir: str, year: int, target: str) -> None:
    t0 = time.perf_counter()
    from kla_analysis.config import project_paths
    from kla_analysis.model import plan, posterior
    from kla_analysis.model.settings import load_settings
    from kla_analysis.tables import load_processed

    tables, settings = load_processed(project_paths(data_dir)), load_settings()
    t1 = time.perf_counter()
    city = str(tables["self_assessment"]["city"].iloc[0])
    post = posterior.fit(tables, settings)
    pred = posterior.predict(post, city, year, target)
    t2 = time.perf_counter()
    res = plan.plan_year(tables, year, city, target, settings=settings, chance=0.8)
    t3 = time.perf_counter()
    cp = res["chance_plan"]
    print(json.dumps({"load_s": t1 - t0, "posterior_s": t2 - t1, "plan_s": t3 - t2,
                      "total_s": t3 - t1, "ess": float(pred["ess"]),
                      "chance": cp.get("chance"), "frontier_points": len(cp["frontier"]) if cp.get("frontier") is not None else 0}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
