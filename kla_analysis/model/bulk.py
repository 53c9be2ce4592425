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
    INPUT_COLUMNS,
    Tables,
    get_table,
    score_inputs,
    sensitivity_settings,
)
from .rules import EVIDENCE_STATUSES, INDICATOR_STATUSES, ITEM_STATUSES, Rules
from .scoring import assign_predicates
from .settings import Settings

#: Columns of ``score_all``, one row per city and evaluation year.
SCORE_COLUMNS = [
    "city", "year", "claimed_total", "claimed_predicate", "estimated_total",
    "estimated_total_min", "estimated_total_max", "estimated_predicate", "predicate_min",
    "predicate_max", "official_predicate", "official_status", "points_lost",
    "evidence_available", "indicators_claimed", *[f"n_{s}" for s in INDICATOR_STATUSES],
    "n_settings", "is_estimate",
]
# The columns score_inputs reads (a slim frame keeps 288 sensitivity reruns cheap).
_SCORED = ["n_required", *[f"n_{s}" for s in ITEM_STATUSES], "claimed_points", "max_points",
           "measure", "statistic_value", "target", "direction", "evidence_rows"]


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


def _normalise(u: pd.Series) -> pd.Series:
    """City match key as ``estimate.city_rows`` compares names (case and spaces ignored)."""
    return u.astype("string").str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)


def _coded(s: pd.Series, fn) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` applied to the distinct values of ``s`` only: (integer codes, -1 for missing;
    results per code). Millions of repeated names cost one factorize, not millions of
    Python strings."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, np.asarray(fn(pd.Series(np.asarray(uniques, dtype=object), dtype=object)),
                             dtype=object)


def _keys(s: pd.Series) -> pd.Series:
    """The city match key of every row (object; None where the city is missing)."""
    codes, keys = _coded(s, lambda u: _normalise(u).to_numpy(dtype=object, na_value=None))
    return pd.Series(np.append(keys, None)[np.where(codes < 0, len(keys), codes)],
                     index=s.index, dtype=object)


def _ids(s: pd.Series, cy: pd.DataFrame) -> np.ndarray:
    """Position in ``cy``'s distinct city keys of every row's city (-1: not scored)."""
    index = {k: i for i, k in enumerate(pd.unique(cy["ck"]))}
    codes, keys = _coded(s, lambda u: _normalise(u).map(index).fillna(-1).astype(int))
    return np.append(keys.astype("int64"), -1)[np.where(codes < 0, len(keys), codes)]


def city_years(tables: Tables) -> pd.DataFrame:
    """Every city and evaluation year with a self-assessment: ``ck`` (match key), ``city``
    (as written, trimmed), ``year``; sorted by city, year."""
    sa = get_table(tables, "self_assessment")
    cols = ["ck", "city", "year"]
    if sa.empty:
        return pd.DataFrame(columns=cols)
    year = pd.to_numeric(sa["year"], errors="coerce")
    df = pd.DataFrame({"ck": _keys(sa["city"]), "city": sa["city"].astype("string").str.strip(),
                       "year": year}).dropna()
    df["year"] = df["year"].astype(int)
    names = df.groupby("ck")["city"].min()  # one spelling per city key
    out = df[["ck", "year"]].drop_duplicates()
    out["city"] = out["ck"].map(names)
    return out[cols].sort_values(["city", "year"], kind="stable").reset_index(drop=True)


def _claims(tables: Tables, cy: pd.DataFrame) -> pd.DataFrame:
    sa = get_table(tables, "self_assessment")
    df = pd.DataFrame({"ck": _keys(sa["city"]), "year": pd.to_numeric(sa["year"], errors="coerce"),
                       "indicator": pd.to_numeric(sa["indicator"], errors="coerce"),
                       "claimed_points": pd.to_numeric(sa["points_claimed"]).astype(float)})
    df = df.dropna(subset=["ck", "year", "indicator"]).astype({"year": int, "indicator": int})
    dup = df.duplicated(["ck", "year", "indicator"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        raise KlaError(f"self-assessment for {first['ck']} {first['year']} lists indicator "
                       f"{first['indicator']} more than once")
    return df


def _evidence(tables: Tables, rules: Rules,
              requirements: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (city key, year, indicator): required items by status (``n_<status>``,
    ``n_required``), inventory rows (``evidence_rows``) and items outside the catalog
    (``extra_items``) -- what ``estimate.evidence_items`` and ``indicator_inputs`` count."""
    req = requirements[["indicator", "item"]]
    ev = get_table(tables, "evidence")
    keys = ["ck", "year", "indicator"]
    if ev.empty:
        empty = pd.DataFrame(columns=[*keys, "evidence_rows", "extra_items",
                                      *[f"n_{s}" for s in EVIDENCE_STATUSES]])
        return empty, req
    inv = pd.DataFrame({
        "ck": _keys(ev["city"]), "year": pd.to_numeric(ev["year"], errors="coerce"),
        "indicator": pd.to_numeric(ev["indicator"], errors="coerce"),
        "item": ev["item"].astype("string").str.strip(),
        "status": ev["status"].astype("string").str.strip().str.casefold()})
    inv = inv.dropna(subset=["ck", "year"])
    bad = inv["status"].isna() | ~inv["status"].isin(EVIDENCE_STATUSES)
    if bad.any():
        first = inv[bad].iloc[0]
        raise KlaError(f"evidence table for {first['ck']} {int(first['year'])}: unknown status "
                       f"{first['status']!r}; allowed: {', '.join(EVIDENCE_STATUSES)}")
    inv = inv.astype({"year": int, "indicator": int})
    rows = inv.groupby(keys).size().rename("evidence_rows")
    known = inv.merge(req.assign(_known=True), on=["indicator", "item"], how="left")
    extra = known[known["_known"].isna()].groupby(keys)["item"].nunique().rename("extra_items")
    # each required item takes its most advanced status (rule evidence.status_precedence)
    rank = {s: i for i, s in enumerate(rules["evidence.status_precedence"])}
    best = (known[known["_known"].notna()].assign(_rank=lambda d: d["status"].map(rank))
            .sort_values([*keys, "item", "_rank"], kind="stable")
            .drop_duplicates([*keys, "item"]))
    counts = best.groupby([*keys, "status"]).size().unstack("status")
    counts = counts.reindex(columns=list(EVIDENCE_STATUSES)).fillna(0)
    counts.columns = [f"n_{s}" for s in counts.columns]
    out = pd.concat([rows, extra, counts], axis=1).reset_index()
    return out, req


def _statistics(tables: Tables, cy: pd.DataFrame, catalog: pd.DataFrame,
                aggregate: bool) -> pd.DataFrame:
    """The catalog statistic of every (city key, data year, indicator), as
    ``estimate.headline_statistics`` picks it: the first ``kota`` value, else (if
    ``aggregate``) kecamatan, then kelurahan rows summed (percent: 100 x sum(numerator) /
    sum(denominator) when every row has both and the denominator sum is positive; count:
    the sum when every row has a value). Text columns are integer-coded first, so millions
    of rows cost a few array operations."""
    cols = ["ck", "data_year", "indicator", "statistic_value", "statistic_source"]
    st = get_table(tables, "statistics")
    if st.empty:
        return pd.DataFrame(columns=cols)
    heads = catalog.loc[catalog["measure"].notna(), ["indicator", "measure", "unit"]]
    head_of = dict(zip(heads["measure"], heads["indicator"], strict=True))
    unit_of = dict(zip(heads["indicator"], heads["unit"], strict=True))
    levels = {"kota": 0, "kecamatan": 1, "kelurahan": 2}
    m_codes, m_ind = _coded(st["measure"], lambda u: u.astype("string").str.strip()
                            .map(head_of).fillna(-1).astype(int))
    l_codes, l_num = _coded(st["area_level"], lambda u: u.astype("string").str.strip()
                            .str.casefold().map(levels).fillna(-1).astype(int))
    ind = pd.to_numeric(st["indicator"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    head_ind = np.append(m_ind.astype(float), np.nan)[np.where(m_codes < 0, len(m_ind), m_codes)]
    level = np.append(l_num.astype(int), -1)[np.where(l_codes < 0, len(l_num), l_codes)]
    cid = _ids(st["city"], cy)
    keep = (head_ind == ind) & (cid >= 0)  # headline statistic rows of scored cities
    df = pd.DataFrame({
        "cid": cid[keep], "data_year": pd.to_numeric(st["data_year"]).to_numpy()[keep],
        "indicator": ind[keep].astype(int), "level": level[keep],
        "value": pd.to_numeric(st["value"], errors="coerce").to_numpy(float)[keep],
        "numerator": pd.to_numeric(st["numerator"], errors="coerce").to_numpy(float)[keep],
        "denominator": pd.to_numeric(st["denominator"], errors="coerce").to_numpy(float)[keep]})
    keys = ["cid", "data_year", "indicator"]
    kota = df[(df["level"] == 0) & df["value"].notna()].drop_duplicates(keys)  # first one
    parts = [kota[keys].assign(statistic_value=kota["value"], statistic_source="kota", _prio=0)]
    if aggregate:
        for lvl in ("kecamatan", "kelurahan"):
            sub = df[df["level"] == levels[lvl]]
            g = sub.assign(_num=sub["numerator"].notna(), _den=sub["denominator"].notna(),
                           _val=sub["value"].notna()).groupby(keys)
            agg = g.agg(n=("level", "size"), num=("numerator", "sum"), den=("denominator", "sum"),
                        val=("value", "sum"), all_num=("_num", "all"), all_den=("_den", "all"),
                        all_val=("_val", "all")).reset_index()
            pct = (agg["indicator"].map(unit_of) == "percent").to_numpy()
            ok = np.where(pct, agg["all_num"] & agg["all_den"] & (agg["den"] > 0), agg["all_val"])
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(pct, 100 * agg["num"] / agg["den"], agg["val"])
            how = pd.Series(np.where(pct, " areas, aggregated)", " areas, summed)"),
                            index=agg.index)
            source = lvl + " (" + agg["n"].astype(str) + how
            parts.append(agg.loc[ok, keys].assign(statistic_value=value[ok],
                                                  statistic_source=source[ok],
                                                  _prio=levels[lvl]))
    out = pd.concat(parts, ignore_index=True).sort_values([*keys, "_prio"], kind="stable")
    out = out.drop_duplicates(keys).reset_index(drop=True)
    out["ck"] = pd.unique(cy["ck"])[out["cid"].to_numpy()] if len(out) else []
    return out[cols]


def indicator_inputs_all(tables: Tables, *, settings: Settings) -> pd.DataFrame:
    """``estimate.indicator_inputs`` for every city and year with a self-assessment
    (one row per catalog indicator each, ``INPUT_COLUMNS``), sorted by city, year and
    catalog order."""
    return _inputs_all(tables, city_years(tables), settings)


def _inputs_all(tables: Tables, cy: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Rows in ``cy`` order, then catalog order (left merges keep the left order)."""
    rules, cat = settings.rules, settings.catalog
    base = cat[["indicator", "cluster", "name_id", "name_en", "opd", "max_points", "measure",
                "unit", "direction", "target"]]
    out = cy.merge(base, how="cross")
    keys = ["ck", "year", "indicator"]
    out = out.merge(_claims(tables, cy), on=keys, how="left")
    # claims are on the application's scale: the same share of the active set's maximum
    scale = out["indicator"].map(cat.set_index("indicator").eval("max_points / claims_max_points"))
    out["claimed_points"] = out["claimed_points"] * scale
    ev, req = _evidence(tables, rules, settings.requirements)
    out["n_required"] = out["indicator"].map(req.groupby("indicator").size()).fillna(0)
    out = out.merge(ev, on=keys, how="left")
    counted = sum(out[f"n_{s}"].fillna(0) for s in EVIDENCE_STATUSES)
    out["n_missing"] = out["n_required"] - counted
    ints = ["n_required", *[f"n_{s}" for s in ITEM_STATUSES], "evidence_rows", "extra_items"]
    out[ints] = out[ints].fillna(0).astype(int)
    out["data_year"] = out["year"] - int(rules["statistic.data_year_offset"])
    stats = _statistics(tables, cy, cat, bool(rules["statistic.aggregate_areas"]))
    out = out.merge(stats, on=["ck", "data_year", "indicator"], how="left")
    out["statistic_value"] = out["statistic_value"].astype(float)
    out["statistic_source"] = out["statistic_source"].astype(object)
    return out[INPUT_COLUMNS].reset_index(drop=True)


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


def score_all(tables: Tables, *, settings: Settings, sensitivity: bool = True) -> pd.DataFrame:
    """Headline estimate of every city-year: ``SCORE_COLUMNS`` (as ``calibration.score_year``
    gives them: totals, predicates, sensitivity range, official predicate, status counts).

    ``estimated_*`` are NaN/None when the year has no evidence inventory; with
    ``sensitivity=False`` the range columns stay empty (faster).
    """
    rules, b = settings.rules, settings.bands
    cy = city_years(tables)
    if cy.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    inputs = _inputs_all(tables, cy, settings)
    group = np.repeat(np.arange(len(cy)), len(inputs) // len(cy))  # city-year of each row
    out = cy.copy()
    # plain NumPy-backed columns: score_inputs converts them once per call, 288 calls
    slim = inputs[_SCORED].astype({"measure": object, "direction": object, "target": float})
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
    return out[SCORE_COLUMNS]
