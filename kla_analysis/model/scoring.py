"""Scoring core: indicator points -> cluster subtotals -> total -> predicate and gaps.

Pure functions on DataFrames and numbers. The bands, catalog and clusters are passed in
(``catalog.load_bands`` / ``load_catalog`` / ``load_clusters``, read where the run starts).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import pandas as pd


def _check_score(score: object, bands: pd.DataFrame) -> float:
    lo, hi = bands.attrs.get("scale_min", 0), bands.attrs.get("scale_max", 1000)
    if isinstance(score, bool) or not isinstance(score, Real | np.number):
        raise ValueError(f"score must be a number, got {score!r}")
    value = float(score)
    if math.isnan(value) or not lo <= value <= hi:
        raise ValueError(f"score must be between {lo} and {hi}, got {score!r}")
    return value


def predicate_for(score: float, bands: pd.DataFrame) -> str | None:
    """Predicate name for a total score, or None below the lowest band.

    Raises ValueError for a score that is not a number or lies outside 0-1000.

    >>> from kla_analysis.catalog import load_bands
    >>> b = load_bands()
    >>> predicate_for(600, b), predicate_for(600.01, b), predicate_for(499.9, b)
    ('Pratama', 'Madya', None)
    """
    b = bands
    value = _check_score(score, b)
    reached = (value > b["lower"]) | (b["lower_inclusive"] & (value == b["lower"]))
    return str(b.loc[reached, "predicate"].iloc[-1]) if reached.any() else None


def assign_predicates(scores: pd.Series, bands: pd.DataFrame) -> pd.Series:
    """Vectorised ``predicate_for``: missing scores stay missing, invalid ones raise."""
    b = bands
    s = pd.to_numeric(scores, errors="raise").astype(float)
    bad = s.notna() & ~s.between(b.attrs.get("scale_min", 0), b.attrs.get("scale_max", 1000))
    if bad.any():
        raise ValueError(f"scores outside the scale: {s[bad].tolist()}")
    # searchsorted on thresholds: "right" puts a value equal to an exclusive bound below it.
    lowers = b["lower"].to_numpy(float)
    idx = np.searchsorted(lowers, s.fillna(-1).to_numpy(), side="right") - 1
    on_edge = (idx >= 0) & (s.to_numpy() == lowers[np.clip(idx, 0, None)])
    exclusive = ~b["lower_inclusive"].to_numpy(bool)[np.clip(idx, 0, None)]
    idx = np.where(on_edge & exclusive, idx - 1, idx)
    names = np.array(list(b["predicate"]) + [None], dtype=object)
    out = pd.Series(names[np.where(idx >= 0, idx, len(b))], index=scores.index, dtype=object)
    return out.where(s.notna(), None)


class PointsError(ValueError):
    """Indicator points outside [0, max points]; the message names every offending indicator."""


def validate_points(points: pd.DataFrame, catalog: pd.DataFrame,
                    points_col: str = "points") -> pd.DataFrame:
    """Return ``points`` unchanged if every indicator's points lie in [0, max]; else raise.

    ``points`` has an ``indicator`` column and ``points_col``. Unknown indicator numbers
    and non-numeric points are errors too. All problems are listed in one message.
    """
    maxp = catalog.set_index("indicator")["max_points"]
    values = pd.to_numeric(points[points_col], errors="coerce")
    known = points["indicator"].isin(maxp.index)
    limit = points["indicator"].map(maxp)
    problems = []
    for ind in points.loc[~known, "indicator"]:
        problems.append(f"indicator {ind}: unknown indicator number (expected 1-{maxp.index.max()})")
    for ind, raw in points.loc[known & values.isna(), ["indicator", points_col]].itertuples(index=False):
        problems.append(f"indicator {ind}: points {raw!r} is not a number")
    out = known & values.notna() & ((values < 0) | (values > limit))
    for ind, v, lim in zip(points.loc[out, "indicator"], values[out], limit[out], strict=True):
        problems.append(f"indicator {ind}: points {v:g} outside 0-{lim:g}")
    if problems:
        raise PointsError("; ".join(problems))
    return points


def cluster_totals(points: pd.DataFrame, catalog: pd.DataFrame, clusters: pd.DataFrame,
                   points_col: str = "points") -> pd.DataFrame:
    """Cluster subtotals in report order: ``cluster, name_id, name_en, points, max_points``.

    Indicators without a row count as 0 points (no claim); every cluster appears.
    Extra key columns in ``points`` (e.g. ``year``) are not grouped: pass one year at a time,
    or use ``groupby(...).apply`` / ``pipe`` per group.
    """
    merged = catalog[["indicator", "cluster", "max_points"]].merge(
        points[["indicator", points_col]], on="indicator", how="left")
    # a plain column sum (no per-group lambda: this runs for every year of every report)
    merged = merged.assign(points=pd.to_numeric(merged[points_col]).fillna(0))
    sums = merged.groupby("cluster", sort=False)[["points", "max_points"]].sum()
    out = clusters.set_index("cluster").join(sums, how="inner").sort_values("order").reset_index()
    return out[["cluster", "name_id", "name_en", "points", "max_points"]]


def total_score(points: pd.DataFrame, points_col: str = "points") -> float:
    """Sum of indicator points (missing counted as 0)."""
    return float(pd.to_numeric(points[points_col]).fillna(0).sum())


def entry_score(predicate: str, bands: pd.DataFrame) -> float:
    """Published lower bound of a predicate (the score to aim for), e.g. 701 for Nindya."""
    b = bands
    row = b[b["predicate"].str.casefold() == str(predicate).casefold()]
    if row.empty:
        raise ValueError(f"unknown predicate {predicate!r}; known: {', '.join(b['predicate'])}")
    return float(row["entry"].iloc[0])


def canonical_predicate(name: str, bands: pd.DataFrame) -> str:
    """Spelling of a predicate as in the band table (case-insensitive lookup)."""
    b = bands
    entry_score(name, b)  # raises for unknown names
    return str(b.loc[b["predicate"].str.casefold() == name.casefold(), "predicate"].iloc[0])


def points_to_predicate(score: float, target: str, bands: pd.DataFrame) -> float:
    """Points still needed to reach ``target``'s published lower bound (0 if reached)."""
    b = bands
    value = _check_score(score, b)
    current = predicate_for(value, b)
    ranks = dict(zip(b["predicate"], b["rank"], strict=True))
    target = canonical_predicate(target, b)
    if current is not None and ranks[current] >= ranks[target]:
        return 0.0
    return round(max(0.0, entry_score(target, b) - value), 6)


def next_predicate(score: float, bands: pd.DataFrame) -> str | None:
    """The predicate one above the score's current one (None at the top)."""
    b = bands
    current = predicate_for(score, b)
    names = list(b["predicate"])
    if current is None:
        return names[0]
    i = names.index(current)
    return names[i + 1] if i + 1 < len(names) else None


def points_to_next_predicate(score: float, bands: pd.DataFrame) -> float | None:
    """Points to the next predicate's published lower bound; None at the top band."""
    nxt = next_predicate(score, bands)
    return None if nxt is None else points_to_predicate(score, nxt, bands)


def score_summary(points: pd.DataFrame, bands: pd.DataFrame, points_col: str = "points",
                  target: str | None = None) -> dict:
    """Headline numbers for one year's indicator points."""
    b = bands
    total = total_score(points, points_col)
    out = {"total": total, "predicate": predicate_for(total, b),
           "next_predicate": next_predicate(total, b),
           "points_to_next_predicate": points_to_next_predicate(total, b)}
    if target:
        out["target"] = canonical_predicate(target, b)
        out["points_to_target"] = points_to_predicate(total, target, b)
    return out
