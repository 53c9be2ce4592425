"""Score every city and evaluation year at once (vectorised), for province or national data.

:mod:`kla_analysis.estimate` works on one city and year: right for a report, but scoring all
514 kab/kota x 6 years that way filters the multi-million-row statistics table thousands of
times. ``score_all(tables)`` builds the same per-indicator inputs for every city-year with a
handful of group-bys (no Python loop over cities, years or rows), scores them with
:func:`kla_analysis.estimate.score_inputs` and sums per city-year; the sensitivity range
reruns ``score_inputs`` once per grid setting over all city-years together.

The numbers are the estimate's own (same rules, same inputs): ``tests/test_bulk.py`` checks
``indicator_inputs_all`` and ``score_all`` against ``estimate.indicator_inputs`` and
``calibration.score_year`` city-year by city-year. Like every estimate, these are
assumption-based figures, never official results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ProjectPaths
from ..errors import KlaError
from ..tables import table_path
from .estimate import (
    Tables,
    get_table,
    score_inputs,
    sensitivity_settings,
)
from .inputs_all import (  # the vectorised inputs; names kept here for callers of bulk
    _coded,
    _inputs_all,
    _keys,
    _normalise,
    city_years,
    indicator_inputs_all,
)
from .posterior import band_column, band_names, fit, predict_all
from .rules import INDICATOR_STATUSES, ITEM_STATUSES
from .scoring import assign_predicates
from .settings import Settings

__all__ = ["SCORE_COLUMNS", "SCORING_COLUMNS", "_coded", "_inputs_all", "_keys", "_normalise",
           "city_years", "indicator_inputs_all", "load_for_scoring", "score_all"]

#: Columns of ``score_all``, one row per city and evaluation year.
SCORE_COLUMNS = [
    "city", "year", "claimed_total", "claimed_predicate", "estimated_total",
    "estimated_total_min", "estimated_total_max", "estimated_predicate", "predicate_min",
    "predicate_max", "official_predicate", "official_status", "points_lost",
    "evidence_available", "indicators_claimed", *[f"n_{s}" for s in INDICATOR_STATUSES],
    "n_settings", "is_estimate",
]
# The columns score_inputs reads (a slim frame keeps the 432 sensitivity reruns cheap).
_SCORED = ["n_required", *[f"n_{s}" for s in ITEM_STATUSES], "claimed_points", "max_points",
           "measure", "statistic_value", "target", "reference", "direction", "evidence_rows"]


#: The processed columns ``score_all`` reads, per table.
SCORING_COLUMNS = {
    "self_assessment": ["city", "year", "indicator", "points_claimed"],
    "evidence": ["city", "year", "indicator", "item", "status"],
    "statistics": ["city", "data_year", "indicator", "measure", "area_level", "value",
                   "numerator", "denominator"],
    "official_results": ["city", "year", "predicate", "status"],
}


def load_for_scoring(paths: ProjectPaths | None = None) -> dict[str, pd.DataFrame]:
    """The processed tables with only the columns ``score_all`` reads: at national scale the
    statistics table's names, provenance and kecamatan are most of its memory."""
    out = {}
    for name, cols in SCORING_COLUMNS.items():
        path = table_path(name, paths)
        if not path.exists():
            raise KlaError(f"processed table {name!r} not found at {path}; run `kla build` first")
        out[name] = pd.read_parquet(path, columns=cols)
    return out


def _official(tables: Tables, cy: pd.DataFrame, bands: pd.DataFrame) -> pd.DataFrame:
    off = get_table(tables, "official_results")
    cols = ["ck", "year", "official_predicate", "official_status"]
    if off.empty:
        return pd.DataFrame(columns=cols)
    names = {p.casefold(): p for p in bands["predicate"]}
    pred = off["predicate"].astype("string").str.strip().str.casefold()
    df = pd.DataFrame({"ck": _keys(off["city"]), "year": pd.to_numeric(off["year"], errors="coerce"),
                       "official_predicate": pred.map(names).astype(object),
                       "official_status": off["status"].astype(object)})
    unknown = pred.notna() & (pred != "") & df["official_predicate"].isna()
    if unknown.any():
        raise KlaError(f"official_results: unknown predicate {off['predicate'][unknown].iloc[0]!r}")
    df = df.dropna(subset=["ck", "year", "official_predicate"]).astype({"year": int})
    return df.drop_duplicates(["ck", "year"])[cols]


def score_all(tables: Tables, *, settings: Settings, sensitivity: bool = True,
              posterior: bool = True) -> pd.DataFrame:
    """Headline estimate of every city-year: ``SCORE_COLUMNS`` (as ``calibration.score_year``
    gives them: totals, predicates, sensitivity range, official predicate, status counts).

    ``estimated_*`` are NaN/None when the year has no evidence inventory; with
    ``sensitivity=False`` the range columns stay empty (faster). With ``posterior`` (the
    default) the posterior model's band probabilities follow: one ``p_<band>`` column per
    band (``posterior.band_column``: ``p_belum_berpredikat, p_pratama, ...``; they sum to
    1), ``posterior_ess`` and ``posterior_enough`` (False: too few effective draws, the
    probabilities are NaN and must not be printed). They are in-sample (each city-year's
    own official result is part of the fit); ``calibration.score_year`` gives the
    out-of-sample ones of a year with an official result.
    """
    rules, b = settings.rules, settings.bands
    cy = city_years(tables)
    if cy.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS + (_posterior_columns(b) if posterior
                                                     else []))
    inputs = _inputs_all(tables, cy, settings)
    group = np.repeat(np.arange(len(cy)), len(inputs) // len(cy))  # city-year of each row
    out = cy.copy()
    # plain NumPy-backed columns: score_inputs converts them once per call, 432 calls
    slim = inputs[_SCORED].astype({"measure": object, "direction": object, "target": float,
                                   "reference": float})
    scored = score_inputs(slim, rules)

    def total(values: pd.Series | np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=np.asarray(values, dtype=float), minlength=len(cy))

    claimed = total(inputs["claimed_points"].fillna(0))
    available = total(inputs["evidence_rows"]) > 0
    backed = total(scored["backed_points"])
    out["claimed_total"] = claimed
    out["claimed_predicate"] = assign_predicates(pd.Series(claimed), b).to_numpy()
    out["estimated_total"] = np.where(available, backed, np.nan)
    out["estimated_predicate"] = assign_predicates(out["estimated_total"], b).to_numpy()
    out["points_lost"] = claimed - out["estimated_total"]
    out["evidence_available"] = available
    out["indicators_claimed"] = total(inputs["claimed_points"].notna()).astype(int)
    for s in INDICATOR_STATUSES:
        out[f"n_{s}"] = total(scored["status"] == s).astype(int)
    out["estimated_total_min"] = out["estimated_total_max"] = np.nan
    out["predicate_min"] = out["predicate_max"] = None
    out["n_settings"] = 0
    if sensitivity:
        grid = sensitivity_settings(settings.grid, rules)
        varied = [c for c in grid.columns if c != "is_headline"]
        # identical input rows score identically: rerun the grid on distinct rows only
        # (at national scale half the rows; most indicators without a statistic repeat)
        row = slim.groupby(list(slim.columns), dropna=False, sort=False).ngroup().to_numpy()
        first = np.unique(row, return_index=True)[1]
        distinct = slim.iloc[first].reset_index(drop=True)
        totals = np.vstack([
            total(score_inputs(distinct, {**rules, **rec})["backed_points"].to_numpy()[row])
            for rec in grid[varied].to_dict("records")])
        lo, hi = totals.min(axis=0), totals.max(axis=0)
        out["estimated_total_min"] = np.where(available, lo, np.nan)
        out["estimated_total_max"] = np.where(available, hi, np.nan)
        out["predicate_min"] = assign_predicates(out["estimated_total_min"], b).to_numpy()
        out["predicate_max"] = assign_predicates(out["estimated_total_max"], b).to_numpy()
        out["n_settings"] = np.where(available, len(grid), 0)
    out = out.merge(_official(tables, cy, b), on=["ck", "year"], how="left")
    out["official_predicate"] = out["official_predicate"].astype(object).where(
        out["official_predicate"].notna(), None)
    out["is_estimate"] = True
    if not posterior:
        return out[SCORE_COLUMNS]
    post = fit(tables, settings)
    probs = predict_all(post)
    cols = _posterior_columns(b)
    out = out.merge(probs.drop(columns=["city"]).rename(
        columns={"ess": "posterior_ess", "enough": "posterior_enough"}),
        on=["ck", "year"], how="left")
    bands = [c for c in cols if c.startswith("p_")]
    out.loc[~out["posterior_enough"].astype(bool), bands] = np.nan
    return out[SCORE_COLUMNS + cols]


def _posterior_columns(bands: pd.DataFrame) -> list[str]:
    return [*map(band_column, band_names(bands)), "posterior_ess", "posterior_enough"]
