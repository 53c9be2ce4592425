"""Analyst views for the exploration notebooks: one question each, DataFrame in, DataFrame out.

The report module answers "what does this year look like"; these functions slice the same
numbers the way a task-force analyst asks follow-up questions in JupyterLab:

- ``status_by_cluster``: how many indicators per klaster are met, partial, not met?
- ``gaps_by_opd``: which OPD has to deliver which missing data dukung, and how many
  (estimated) points are at stake?
- ``kelurahan_long`` / ``kelurahan_matrix`` / ``kelurahan_ranking``: which kelurahan lag
  behind on the statistics, relative to the other kelurahan and to the target?
- ``target_options`` / ``plan_by_opd``: what would each higher predikat cost, and who does
  the work?

Every points figure comes from the assumption-based estimate (``kla_analysis.estimate``) and
is never an official result. Nothing here writes files; ``open_report`` reads the processed
tables from ``project_paths()`` (``$KLA_DATA_DIR`` or the project's ``data/``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import project_paths
from ..errors import KlaError
from ..model import estimate, plan, rules
from ..tables import load_processed
from . import sections

#: Share of kelurahan counted as lagging on a statistic (the bottom quarter).
LAGGING_SHARE = 0.25


def latest_year(tables: dict, city: str | None = None) -> int:
    """The latest evaluation year with a self-assessment for the city."""
    years = estimate.assessment_years(tables, city or None)
    if not years:
        raise KlaError("no evaluation year with a self-assessment in the data")
    return years[-1]


def open_report(year: int | None = None, city: str = "", data_dir: str = "",
                lang: str = "id", target: str = "") -> sections.Report:
    """``sections.load_report`` with the latest evaluation year when ``year`` is None."""
    if year is None:
        year = latest_year(load_processed(project_paths(data_dir or None)), city or None)
    return sections.load_report(year=year, city=city, data_dir=data_dir, target=target, lang=lang)


HEADLINE_KEYS = ("official_predicate", "official_status", "claimed_total", "claimed_predicate",
                 "estimated_total", "estimated_total_min", "estimated_total_max",
                 "estimated_predicate", "points_lost", "next_predicate",
                 "points_to_next_predicate", "target_predicate", "points_to_target_predicate")


def headline_view(rep: sections.Report) -> dict:
    """The headline figures of the year, in reading order (for ``display.style_record``)."""
    h = sections.headline(rep)
    return {k: h.get(k) for k in HEADLINE_KEYS}


def status_by_cluster(rep: sections.Report) -> pd.DataFrame:
    """Indicators per klaster and status: ``cluster, label, met, partial, not_met, no_data,
    total`` in catalog order."""
    clusters = sections.cluster_table(rep)[["cluster", "label"]]
    counts = pd.crosstab(rep.indicators["cluster"], rep.indicators["status"])
    counts = counts.reindex(index=clusters["cluster"], columns=list(rules.INDICATOR_STATUSES),
                            fill_value=0)
    out = clusters.reset_index(drop=True).join(counts.reset_index(drop=True))
    out["total"] = counts.sum(axis=1).to_numpy()
    return out


def biggest_losses(rep: sections.Report, n: int = 10) -> pd.DataFrame:
    """The ``n`` indicators whose claim loses the most points against the evidence."""
    cols = ["indicator", "name", "cluster", "opd", "status", "claimed", "backed", "lost",
            "completeness"]
    ind = sections.indicator_table(rep)
    return ind.sort_values(["lost", "indicator"], ascending=[False, True],
                           na_position="last").head(n)[cols].reset_index(drop=True)


GAP_STATUSES = ("tidak_ada", "dalam_proses", "kedaluwarsa", "missing")


def gaps_by_opd(gaps: pd.DataFrame) -> pd.DataFrame:
    """Missing data dukung (``sections.evidence_gaps``) per responsible OPD.

    Columns ``opd, items, tidak_ada, dalam_proses, kedaluwarsa, missing, indicators, gain``
    (``indicators``: the indicator numbers concerned; ``gain``: the estimate's points
    regained if every item were delivered, the sum of the per-item gains). Most points first.
    """
    cols = ["opd", "items", *GAP_STATUSES, "indicators", "gain"]
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    by = gaps.groupby("opd", sort=False)
    counts = pd.crosstab(gaps["opd"], gaps["status"]).reindex(columns=list(GAP_STATUSES),
                                                              fill_value=0)
    out = pd.DataFrame({
        "items": by.size(),
        "indicators": by["indicator"].agg(
            lambda s: ", ".join(str(int(i)) for i in sorted(set(s)))),
        "gain": by["gain"].sum(min_count=1)}).join(counts)
    out = out.rename_axis("opd").reset_index()
    return out.sort_values(["gain", "items", "opd"], ascending=[False, False, True],
                           na_position="last")[cols].reset_index(drop=True)


# --- kelurahan ------------------------------------------------------------------------------

def _standing(values: pd.Series, direction: object) -> pd.Series:
    """0 = the worst kelurahan on this statistic, 1 = the best; NaN without a direction."""
    if direction not in ("higher", "lower") or values.notna().sum() == 0:
        return pd.Series(np.nan, index=values.index)
    ranks = values.rank(method="average", ascending=direction == "higher")
    n = values.notna().sum()
    return (ranks - 1) / (n - 1) if n > 1 else ranks * 0 + 0.5


def kelurahan_long(views: list[dict]) -> pd.DataFrame:
    """``sections.kelurahan_views`` as one tidy table, with each kelurahan's standing.

    Columns ``measure, label, indicator, unit, target, direction, data_year, kecamatan,
    kelurahan, value, short_of_target, standing``. ``short_of_target`` is True/False where
    the statistic has a target and a direction (else missing); ``standing`` ranks the
    kelurahan on that statistic from 0 (worst) to 1 (best), direction-aware (lower is better
    for stunting, for example).
    """
    cols = ["measure", "label", "indicator", "unit", "target", "direction", "data_year",
            "kecamatan", "kelurahan", "value", "short_of_target", "standing"]
    frames = []
    for v in views:
        vals = v["values"].rename(columns={"area": "kelurahan"})
        value = pd.to_numeric(vals["value"], errors="coerce")
        target, direction = v.get("target"), v.get("direction")
        if target is None or direction not in ("higher", "lower"):
            short = pd.Series(pd.NA, index=vals.index, dtype="boolean")
        else:
            short = (value < target) if direction == "higher" else (value > target)
            short = short.astype("boolean").mask(value.isna())
        frames.append(pd.DataFrame({
            "measure": v["measure"], "label": v["label"], "indicator": v["indicator"],
            "unit": v["unit"], "target": target, "direction": direction,
            "data_year": v["data_year"], "kecamatan": vals["kecamatan"],
            "kelurahan": vals["kelurahan"], "value": value, "short_of_target": short,
            "standing": _standing(value, direction)}))
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def pick_view(views: list[dict], measure: str | None = None) -> dict | None:
    """The kelurahan view of ``measure``, or (None) the first statistic with a target."""
    for v in views:
        if v["measure"] == measure or (measure is None and v.get("target") is not None):
            return v
    return None


def kelurahan_matrix(long: pd.DataFrame, what: str = "value") -> pd.DataFrame:
    """Kelurahan x statistic: ``kecamatan, kelurahan`` then one column per statistic label
    holding ``what`` (``value`` or ``standing``), in kecamatan/kelurahan order."""
    if what not in ("value", "standing"):
        raise ValueError("what must be 'value' or 'standing'")
    if long.empty:
        return pd.DataFrame(columns=["kecamatan", "kelurahan"])
    labels = list(dict.fromkeys(long["label"]))
    wide = long.groupby(["kecamatan", "kelurahan", "label"], sort=True)[what].first()
    wide = wide.unstack("label").reindex(columns=labels)
    return wide.reset_index().rename_axis(columns=None)


def kelurahan_ranking(long: pd.DataFrame, lagging: float = LAGGING_SHARE) -> pd.DataFrame:
    """Which kelurahan lag behind most often: ``kecamatan, kelurahan, measures, lagging,
    n_short, mean_standing``.

    ``measures``: statistics with a direction (so a standing); ``lagging``: how many of them
    put the kelurahan in the bottom ``lagging`` share; ``n_short``: statistics where it is
    short of the target. Most lagging first, then lowest mean standing.
    """
    cols = ["kecamatan", "kelurahan", "measures", "lagging", "n_short", "mean_standing"]
    ranked = long.dropna(subset=["standing"])
    if ranked.empty:
        return pd.DataFrame(columns=cols)
    by = ranked.assign(
        _lag=ranked["standing"] <= lagging + 1e-9,
        _short=ranked["short_of_target"].fillna(False).astype(bool),
    ).groupby(["kecamatan", "kelurahan"])
    out = pd.DataFrame({"measures": by.size(), "lagging": by["_lag"].sum(),
                        "n_short": by["_short"].sum(),
                        "mean_standing": by["standing"].mean()}).reset_index()
    out = out.sort_values(["lagging", "mean_standing", "kelurahan"],
                          ascending=[False, True, True])
    return out[cols].astype({"measures": int, "lagging": int, "n_short": int}) \
        .reset_index(drop=True)


# --- planner --------------------------------------------------------------------------------

def open_target(rep: sections.Report) -> str | None:
    """The report's target predikat, or, when the estimate already reaches it, the lowest
    predikat above the estimate (None when the estimate is in the top band)."""
    bands = rep.bands
    current = rep.score["estimated_total"]
    entry = dict(zip(bands["predicate"], bands["entry"], strict=True))
    if current is None or current < entry[rep.target]:
        return rep.target
    above = bands[bands["entry"] > current]
    return str(above["predicate"].iloc[0]) if len(above) else None


def plan_for(rep: sections.Report, target: str | None = None) -> dict:
    """``plan.plan_year`` for ``target`` (default: ``open_target``)."""
    return plan.plan_year(rep.tables, rep.year, rep.city, target or open_target(rep),
                          settings=rep.settings)


def target_options(rep: sections.Report) -> pd.DataFrame:
    """The cheapest plan (``plan.plan_year``) for every predikat above the estimate.

    Columns ``target_predicate, target_entry, points_needed, reachable, total_effort,
    n_actions, total_after, predicate_after``; efforts are the planner's assumptions.
    """
    bands = rep.bands
    current = rep.score["estimated_total"]
    above = bands[bands["entry"] > (current if current is not None else -np.inf)]
    rows = []
    for name in above["predicate"]:
        s = plan.plan_year(rep.tables, rep.year, rep.city, name,
                           settings=rep.settings)["summary"]
        reached = bool(s["reachable"])
        rows.append({"target_predicate": name, "target_entry": s["target_entry"],
                     "points_needed": s["points_needed"], "reachable": reached,
                     "total_effort": s["total_effort"] if reached else None,
                     "n_actions": s["n_actions"] if reached else None,
                     "total_after": s["total_after"] if reached else None,
                     "predicate_after": s["predicate_after"] if reached else None})
    return pd.DataFrame(rows, columns=["target_predicate", "target_entry", "points_needed",
                                       "reachable", "total_effort", "n_actions",
                                       "total_after", "predicate_after"])


PLAN_KEYS = ("target_predicate", "target_entry", "points_needed", "reachable", "total_effort",
             "n_actions", "total_after", "predicate_after")


def plan_summary(result: dict) -> dict:
    """The headline of a plan (``plan.plan_year``) for ``display.style_record``."""
    return {k: result["summary"].get(k) for k in PLAN_KEYS}


def plan_actions(result: dict, lang: str = "id") -> pd.DataFrame:
    """The chosen actions of a plan in the analyst's language: ``opd, indicator, action,
    item, item_name, effort, points_gained``."""
    a = result["actions"]
    cols = ["opd", "indicator", "action", "item", "item_name", "effort", "points_gained"]
    if a.empty:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "opd": a["opd"], "indicator": a["indicator"], "action": a[f"label_{lang}"],
        "item": a["item"], "item_name": a[f"item_name_{lang}"], "effort": a["effort"],
        "points_gained": a["points_gained"]})[cols].reset_index(drop=True)


def plan_by_opd(actions: pd.DataFrame) -> pd.DataFrame:
    """A plan's actions per OPD: ``opd, actions, effort, points_gained``, most effort first."""
    cols = ["opd", "actions", "effort", "points_gained"]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    out = actions.groupby("opd").agg(actions=("effort", "size"), effort=("effort", "sum"),
                                     points_gained=("points_gained", "sum")).reset_index()
    return out.sort_values(["effort", "points_gained", "opd"],
                           ascending=[False, False, True])[cols].reset_index(drop=True)
