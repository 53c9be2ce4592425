"""The estimate's inputs for every city and evaluation year at once (vectorised).

:func:`indicator_inputs_all` builds what ``estimate.indicator_inputs`` gives for one city and
year, for all of them with a handful of group-bys (no Python loop over cities, years or
rows): claims, evidence counts per status, the headline statistics. ``bulk.score_all`` and
the posterior model (``posterior.fit``) both score these rows; ``tests/test_bulk.py`` checks
them against the per-city inputs city-year by city-year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import levels as area_levels
from ..errors import KlaError
from .estimate import INPUT_COLUMNS, Tables, get_table, requirement_weights
from .rules import EVIDENCE_STATUSES, ITEM_STATUSES, Rules
from .settings import Settings


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
    (``extra_items``) -- what ``estimate.evidence_items`` and ``indicator_inputs`` count; an
    item of catalog ``weight`` k counts as k. Returns the requirements too (``indicator,
    item, weight``)."""
    req = requirements[["indicator", "item"]].assign(weight=requirement_weights(requirements))
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
    counts = best.groupby([*keys, "status"])["weight"].sum().unstack("status")
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
    levels = {lvl: i for i, lvl in enumerate(area_levels.LEVELS)}
    m_codes, m_ind = _coded(st["measure"], lambda u: u.astype("string").str.strip()
                            .map(head_of).fillna(-1).astype(int))
    l_codes, l_num = _coded(st["area_level"], lambda u: area_levels.canonical(u)
                            .map(levels).fillna(-1).astype(int))
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
    parts = [kota[keys].assign(statistic_value=kota["value"], statistic_source=area_levels.REGION,
                               _prio=0)]
    if aggregate:
        for lvl in area_levels.SUB_LEVELS:
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
                "unit", "direction", "target", "reference"]]
    out = cy.merge(base, how="cross")
    keys = ["ck", "year", "indicator"]
    out = out.merge(_claims(tables, cy), on=keys, how="left")
    # claims are on the application's scale: the same share of the active set's maximum
    scale = out["indicator"].map(cat.set_index("indicator").eval("max_points / claims_max_points"))
    out["claimed_points"] = out["claimed_points"] * scale
    ev, req = _evidence(tables, rules, settings.requirements)
    out["n_required"] = out["indicator"].map(req.groupby("indicator")["weight"].sum()).fillna(0)
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
