"""Evidence-backed estimate of a year's KLA score (an ASSUMPTION-based estimate, not official).

For each indicator of one city and evaluation year: points claimed in the self-assessment,
the share of required data dukung present (``evidence_completeness``), the agency statistic's
achievement against the catalog target where one exists, the resulting ``backing`` (0-1),
the ``backed_points`` and the ``points_lost`` (claimed minus backed). The rules are data in
``kla_analysis/data/scoring_rules.yaml`` (every one flagged as an assumption with a
rationale); ``sensitivity`` recomputes the total under every plausible setting of them.

Typical use (``tables`` is ``kla_analysis.tables.load_processed()``, ``s`` is
``kla_analysis.model.settings.load_settings()``, loaded once where the run starts)::

    ind = estimate_indicators(tables, 2023, settings=s)          # one row per indicator
    estimate_clusters(ind, s.catalog, s.clusters)                 # cluster subtotals
    estimate_summary(ind, s.bands)                                # overall totals
    sensitivity_range(sensitivity(indicator_inputs(tables, 2023, settings=s), s), s.bands)

KemenPPPA publishes no per-indicator weights or scoring formula; these numbers show where
claims are not backed by evidence and must never be presented as an official result.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import levels
from ..catalog import predicate_names
from ..errors import KlaError
from .rules import (
    EVIDENCE_STATUSES,
    INDICATOR_STATUSES,
    ITEM_STATUSES,
    TOL,
    Rules,
    check_rules,
    show_value,
)
from .scoring import assign_predicates, cluster_totals, predicate_for
from .settings import Settings

Tables = Mapping[str, pd.DataFrame]


# ---------------------------------------------------------------------------------------------
# Selecting one city and year
# ---------------------------------------------------------------------------------------------


def _norm(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)


def get_table(tables: Tables, name: str) -> pd.DataFrame:
    """``tables[name]``, or an empty frame when the table is absent."""
    df = tables.get(name)
    return df if df is not None else pd.DataFrame(columns=["city"])


def cities(tables: Tables) -> list[str]:
    """Cities with a self-assessment, sorted."""
    sa = get_table(tables, "self_assessment")
    return sorted(sa["city"].dropna().astype(str).str.strip().unique())


def resolve_city(tables: Tables, city: str | None = None) -> str:
    """The city to analyse: ``city`` (case-insensitive) or the only city in the data.

    Raises ``KlaError`` if the data hold several cities and none is given, or ``city`` has
    no self-assessment.
    """
    known = cities(tables)
    if not known:
        raise KlaError("the self-assessment table is empty; add data/raw/self_assessment "
                       "files and run `kla build`")
    if city is None:
        if len(known) > 1:
            raise KlaError(f"the data hold several cities ({', '.join(known)}); "
                           "choose one with --city")
        return known[0]
    match = [c for c in known if c.casefold() == " ".join(city.split()).casefold()]
    if not match:
        raise KlaError(f"no self-assessment for city {city!r}; cities in the data: "
                       f"{', '.join(known)}")
    return match[0]


def city_rows(df: pd.DataFrame, city: str, **eq: object) -> pd.DataFrame:
    """Rows of ``city`` (case/space-insensitive) whose numeric columns equal ``eq``."""
    if df.empty:
        return df.iloc[0:0]
    mask = _norm(df["city"]) == " ".join(city.split()).casefold()
    for col, val in eq.items():
        mask &= pd.to_numeric(df[col], errors="coerce") == val
    return df[mask.fillna(False).astype(bool)]


def assessment_years(tables: Tables, city: str | None = None) -> list[int]:
    """Evaluation years with a self-assessment for the city, ascending."""
    city = resolve_city(tables, city)
    sa = city_rows(get_table(tables, "self_assessment"), city)
    return sorted(int(y) for y in pd.to_numeric(sa["year"]).dropna().unique())


def require_self_assessment(tables: Tables, year: int, city: str | None = None) -> str:
    """Return the resolved city; ``KlaError`` if it has no self-assessment for ``year``."""
    city = resolve_city(tables, city)
    years = assessment_years(tables, city)
    if year not in years:
        raise KlaError(f"no self-assessment for {city} in {year}; years with a "
                       f"self-assessment: {', '.join(map(str, years)) or 'none'}")
    return city


# ---------------------------------------------------------------------------------------------
# Inputs per evidence item and per indicator
# ---------------------------------------------------------------------------------------------

ITEM_COLUMNS = ["city", "year", "indicator", "item", "name_id", "name_en", "status", "title",
                "opd", "document_date", "link", "inventory_rows", "weight"]


def evidence_items(tables: Tables, year: int, city: str | None = None, *,
                   settings: Settings) -> pd.DataFrame:
    """Every required evidence item of the catalog with its status in the year's inventory.

    Columns ``ITEM_COLUMNS``: ``status`` is ``ada``, ``dalam_proses``, ``kedaluwarsa``,
    ``tidak_ada`` or ``missing`` (no inventory row); an item listed several times takes its
    most advanced status (rule ``evidence.status_precedence``); ``opd`` is the inventory's
    OPD, else the indicator's lead OPD in the catalog; ``inventory_rows`` counts the rows;
    ``weight`` is the catalog's (how many ordinary items the item counts as, default 1).
    """
    rules = settings.rules
    city = resolve_city(tables, city)
    req = settings.requirements.assign(weight=requirement_weights(settings.requirements))
    ev = _inventory(tables, year, city)
    cols = ["indicator", "item", "status", "title", "opd", "document_date", "link"]
    best = ev.iloc[sorted(_best_rows(ev, rules).values())]
    out = req.merge(best[cols], on=["indicator", "item"], how="left", suffixes=("_catalog", ""))
    out["status"] = out["status"].fillna("missing").astype(object)
    out["opd"] = out["opd"].where(out["opd"].notna() & (out["opd"].astype("string")
                                                        .str.strip() != ""), out["opd_catalog"])
    rows = Counter(_listed(ev))
    out["inventory_rows"] = np.array([rows[k] for k in zip(out["indicator"], out["item"],
                                                            strict=True)], dtype=int)
    out = out.assign(city=city, year=int(year))
    return out[ITEM_COLUMNS].reset_index(drop=True)


def _inventory(tables: Tables, year: int, city: str) -> pd.DataFrame:
    """Evidence rows of the city and year with clean ``indicator`` and ``item``."""
    cols = ["indicator", "item", "status", "title", "opd", "document_date", "link"]
    ev = city_rows(get_table(tables, "evidence"), city, year=year)
    if ev.empty:
        return pd.DataFrame(columns=cols).astype({"indicator": int, "item": object,
                                                  "status": object})
    ev = ev.reindex(columns=cols).copy()
    ev["indicator"] = pd.to_numeric(ev["indicator"]).astype(int)
    ev["item"] = ev["item"].astype("string").str.strip().astype(object)
    ev["status"] = ev["status"].astype("string").str.strip().str.casefold().astype(object)
    bad = sorted(set(ev["status"].dropna()) - set(EVIDENCE_STATUSES))
    if bad or ev["status"].isna().any():
        raise KlaError(f"evidence table for {city} {year}: unknown status "
                       f"{', '.join(map(repr, bad or [None]))}; "
                       f"allowed: {', '.join(EVIDENCE_STATUSES)}")
    return ev


INPUT_COLUMNS = [
    "city", "year", "indicator", "cluster", "name_id", "name_en", "opd", "max_points",
    "claimed_points", "n_required", *[f"n_{s}" for s in ITEM_STATUSES], "evidence_rows",
    "extra_items", "measure", "unit", "direction", "target", "reference", "data_year",
    "statistic_value", "statistic_source",
]


def indicator_inputs(tables: Tables, year: int, city: str | None = None, *,
                     settings: Settings) -> pd.DataFrame:
    """What the estimate needs per indicator (one row per catalog indicator), before any scoring rule is applied.

    Columns ``INPUT_COLUMNS``: ``claimed_points`` (NaN: the indicator has no self-assessment
    row), ``n_required`` and ``n_<status>`` (required items by status, ``missing`` = no
    inventory row; an item of catalog ``weight`` k counts as k), ``evidence_rows``
    (inventory rows of the indicator, any item), ``extra_items`` (inventory items not in
    the catalog, not counted), and the headline statistic of data year ``year -
    statistic.data_year_offset`` (``statistic_value`` NaN when absent; ``statistic_source``
    says which area level it came from).
    """
    rules, cat = settings.rules, settings.catalog
    city = require_self_assessment(tables, year, city)
    out = cat[["indicator", "cluster", "name_id", "name_en", "opd", "max_points", "measure",
               "unit", "direction", "target", "reference"]].copy()
    out.insert(0, "year", int(year))
    out.insert(0, "city", city)
    # claims are written on the application's scale (claims_max_points): the same share of
    # the active weight set's maximum, so switching sets moves only the points
    scale = cat["max_points"] / cat["claims_max_points"]
    out["claimed_points"] = out["indicator"].map(_claims(tables, year, city)) * scale.to_numpy()

    # counted in plain Python from the requirements and the inventory: the same statuses as
    # evidence_items, without building its table (24 indicators, a few hundred rows)
    req = settings.requirements
    ev = _inventory(tables, year, city)
    required = list(zip(req["indicator"], req["item"], strict=True))
    best, status = _best_rows(ev, rules), ev["status"].tolist()
    # an item of weight k counts as k items, in n_required and in its status's count
    weight = requirement_weights(req)
    by_status: Counter = Counter()
    n_required: Counter = Counter()
    for k, w in zip(required, weight, strict=True):
        by_status[(k[0], status[best[k]] if k in best else "missing")] += w
        n_required[k[0]] += w
    rows = Counter(ev["indicator"])
    extra = Counter(i for i, _ in set(_listed(ev)) - set(required))
    inds = out["indicator"].tolist()
    out["n_required"] = np.array([n_required[i] for i in inds], dtype=int)
    for s in ITEM_STATUSES:
        out[f"n_{s}"] = np.array([by_status[(i, s)] for i in inds], dtype=int)
    out["evidence_rows"] = np.array([rows[i] for i in inds], dtype=int)
    out["extra_items"] = np.array([extra[i] for i in inds], dtype=int)

    data_year = int(year) - int(rules["statistic.data_year_offset"])
    stats = headline_statistics(tables, data_year, city, rules, cat)
    out["data_year"] = data_year
    out = out.merge(stats, on="indicator", how="left")
    return out[INPUT_COLUMNS]


def requirement_weights(requirements: pd.DataFrame) -> list[int]:
    """Each required item's weight (``catalog.load_evidence_requirements``'s ``weight``: the
    number of ordinary items it counts as; 1 for every item of a table without the column)."""
    if "weight" not in requirements:
        return [1] * len(requirements)
    return [int(w) for w in requirements["weight"]]


def _best_rows(ev: pd.DataFrame, rules: Rules) -> dict[tuple[int, str], int]:
    """Position in the inventory ``ev`` of each listed ``(indicator, item)``'s row with its
    most advanced status (rule ``evidence.status_precedence``; the first such row). Plain
    Python: one city and year lists a few hundred rows at most."""
    rank = {s: i for i, s in enumerate(rules["evidence.status_precedence"])}
    status = ev["status"].tolist()
    best: dict[tuple[int, str], int] = {}
    for pos, key in enumerate(zip(ev["indicator"], ev["item"], strict=True)):
        if isinstance(key[1], str) and (key not in best
                                        or rank[status[pos]] < rank[status[best[key]]]):
            best[key] = pos
    return best


def _listed(ev: pd.DataFrame) -> list[tuple[int, str]]:
    """``(indicator, item)`` of every inventory row with an item (blank items never match)."""
    return [k for k in zip(ev["indicator"], ev["item"], strict=True) if isinstance(k[1], str)]


def _claims(tables: Tables, year: int, city: str) -> pd.Series:
    sa = city_rows(get_table(tables, "self_assessment"), city, year=year)
    ind = pd.to_numeric(sa["indicator"]).astype(int)
    dup = sorted(ind[ind.duplicated()].unique())
    if dup:
        raise KlaError(f"self-assessment for {city} {year} lists indicator(s) "
                       f"{', '.join(map(str, dup))} more than once")
    return pd.Series(pd.to_numeric(sa["points_claimed"]).astype(float).to_numpy(),
                     index=ind.to_numpy())


def headline_statistics(tables: Tables, data_year: int, city: str, rules: Rules,
                        catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog statistic of each indicator for ``data_year``: ``indicator,
    statistic_value, statistic_source``.

    A ``kota`` row is used as is (the first one if several). Without one, and if rule
    ``statistic.aggregate_areas`` is true, a percentage is rebuilt from the kecamatan (else
    kelurahan) rows as 100 * sum(numerator) / sum(denominator), and a count is their sum.
    """
    cat = catalog
    st = city_rows(get_table(tables, "statistics"), city, data_year=data_year)
    rows = []
    st = st[pd.to_numeric(st["indicator"], errors="coerce").notna()] if not st.empty else st
    if not st.empty:  # rows without an indicator (e.g. population) are context, not headline
        cols = _statistic_arrays(st)
        aggregate = bool(rules["statistic.aggregate_areas"])
        groups = _headline_groups(st, cat)
        for ind, unit in sorted(groups):
            at = groups[(ind, unit)]
            value, source = _one_statistic({k: v[at] for k, v in cols.items()}, unit, aggregate)
            if value is not None:
                rows.append({"indicator": int(ind), "statistic_value": value,
                             "statistic_source": source})
    out = pd.DataFrame(rows, columns=["indicator", "statistic_value", "statistic_source"])
    return out.astype({"indicator": int, "statistic_value": float, "statistic_source": object})


def _headline_groups(st: pd.DataFrame, cat: pd.DataFrame) -> dict[tuple[int, str], list[int]]:
    """Positions of the statistic rows ``st`` holding their indicator's catalog measure, per
    ``(indicator, catalog unit)`` in table order. A dict lookup per row: a merge and a
    group-by cost more than the few hundred rows of one city and year."""
    unit_of = {(int(i), m): u for i, m, u in zip(cat["indicator"], cat["measure"], cat["unit"],
                                                 strict=True)
               if isinstance(m, str) and isinstance(u, str)}
    ind = pd.to_numeric(st["indicator"]).astype(int).tolist()
    measure = st["measure"].astype("string").str.strip().tolist()
    groups: dict[tuple[int, str], list[int]] = {}
    for pos, key in enumerate(zip(ind, measure, strict=True)):
        if isinstance(key[1], str) and key in unit_of:
            groups.setdefault((key[0], unit_of[key]), []).append(pos)
    return groups


def _statistic_arrays(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Area level (clean text) and numbers of statistic rows as NumPy arrays, converted once
    for all groups (per-group pandas operations cost more than the arithmetic)."""
    out = {"level": levels.canonical_array(rows["area_level"])}  # earlier names read too
    for col in ("value", "numerator", "denominator"):
        out[col] = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float,
                                                                      na_value=np.nan)
    return out


def _one_statistic(rows: dict[str, np.ndarray], unit: str,
                   aggregate: bool) -> tuple[float | None, str]:
    """One indicator's statistic from its rows (``_statistic_arrays``, in table order)."""
    level, value = rows["level"], rows["value"]
    kota = value[(level == levels.REGION) & ~np.isnan(value)]
    if kota.size:
        return float(kota[0]), levels.REGION
    if not aggregate:
        return None, ""
    for lvl in levels.SUB_LEVELS:
        at = level == lvl
        n = int(at.sum())
        if not n:
            continue
        if unit == "percent":
            num, den = rows["numerator"][at], rows["denominator"][at]
            if not (np.isnan(num).any() or np.isnan(den).any()) and den.sum() > 0:
                return float(100 * num.sum() / den.sum()), f"{lvl} ({n} areas, aggregated)"
        elif not np.isnan(vals := value[at]).any():
            return float(vals.sum()), f"{lvl} ({n} areas, summed)"
    return None, ""


# ---------------------------------------------------------------------------------------------
# Applying the rules
# ---------------------------------------------------------------------------------------------

SCORE_COLUMNS = ["evidence_completeness", "statistic_achievement", "backing", "backed_points",
                 "points_lost", "status"]


def _achievements(value, target, direction, reference=None) -> np.ndarray:
    """Credit (0-1) of statistics against targets at strictness 1 (proportional); NaN where
    value or target is NaN. ``statistic.strictness`` k raises it to the power k.

    ``direction`` ``higher``: value / target (1 if the target is 0); ``lower``: 1 when
    value <= target; else, with a ``reference`` (the level earning nothing),
    (reference - value) / (reference - target); without one target / value (0 if the
    target is 0: no reduction short of 0 would count).
    """
    v = np.asarray(value, dtype=float)
    t = np.asarray(pd.array(target, dtype="Float64").to_numpy(dtype=float, na_value=np.nan),
                   dtype=float)
    r = (np.full(v.shape, np.nan) if reference is None else
         np.asarray(pd.array(reference, dtype="Float64").to_numpy(dtype=float,
                                                                  na_value=np.nan), dtype=float))
    higher = np.asarray(direction, dtype=object) == "higher"
    met = np.where(higher, v >= t, v <= t)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(~np.isnan(r), (r - v) / (r - t), np.where(v > 0, t / v, 1.0))
        prop = np.where(higher, np.where(t > 0, v / t, 1.0), lower)
    missing = np.isnan(v) | np.isnan(t)
    return np.where(missing, np.nan, np.clip(np.where(met, 1.0, prop), 0, 1))


def score_inputs(inputs: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Apply the rules to ``indicator_inputs`` rows: adds ``SCORE_COLUMNS``.

    Works on any rows with the input columns (the planner passes hypothetical states).
    ``backed_points`` and ``points_lost`` treat a missing claim as 0; ``status`` is one of
    ``met, partial, not_met, no_data``.
    """
    check_rules(rules)
    out = inputs.copy()
    for col, values in _score_arrays(_arrays(inputs), rules).items():
        out[col] = values
    return out


def _arrays(inputs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Numeric arrays of the inputs, prepared once (sensitivity reuses them)."""
    arr = {f"n_{s}": inputs[f"n_{s}"].to_numpy(float) for s in ITEM_STATUSES}
    arr["n_required"] = inputs["n_required"].to_numpy(float)
    arr["claimed"] = inputs["claimed_points"].fillna(0).to_numpy(float)
    arr["max"] = inputs["max_points"].to_numpy(float)
    arr["has_measure"] = inputs["measure"].notna().to_numpy(bool)
    reference = inputs["reference"] if "reference" in inputs else None
    base = _achievements(pd.to_numeric(inputs["statistic_value"]).to_numpy(float),
                         inputs["target"], inputs["direction"].to_numpy(object), reference)
    # a statistic only counts for an indicator whose catalog entry names a measure
    arr["achievement.base"] = np.where(arr["has_measure"], base, np.nan)
    arr["evidence_rows"] = inputs["evidence_rows"].to_numpy(float)
    return arr


def _columns(mask: np.ndarray) -> np.ndarray | slice:
    """``mask`` as a slice when its True values are one run (a view, no copy), else itself."""
    at = np.flatnonzero(mask)
    return slice(int(at[0]), int(at[-1]) + 1) if len(at) and at[-1] - at[0] + 1 == len(at) \
        else mask


def _score_arrays(a: dict, rules: Mapping[str, object], *,
                  status: bool = True) -> dict[str, np.ndarray]:
    """The rules applied to the input arrays ``a`` (from ``_arrays``, one value per row).

    A rule value may also be a column of settings (shape ``(S, 1)``, numbers or choice
    strings): every output is then ``(S, rows)``, one line per setting, in one pass of
    array operations (``sensitivity`` scores its whole grid so, the posterior its draws).
    Numbers are computed in the dtype of ``a['claimed']`` (the posterior passes float32
    arrays to halve its memory); ``status=False`` gives only ``evidence_completeness``,
    ``backing`` and ``backed_points`` (what a total needs).
    """
    dt = a["claimed"].dtype if a["claimed"].dtype.kind == "f" else np.dtype(float)

    def num(key: str) -> np.ndarray:
        return np.asarray(rules[key], dtype=dt)

    def is_(key: str, choice: str) -> np.ndarray:
        return np.asarray(rules[key]) == choice

    # completeness: the weights every setting shares first (one row each), then the varied
    # ones (one line per setting); an indicator without required items has 0 of 0 -> 0
    weights = {s: num(f"evidence_weight.{s}") for s in ITEM_STATUSES}
    weighted = np.zeros(a["claimed"].shape, dtype=dt)
    for s in ITEM_STATUSES:
        if weights[s].ndim == 0 and weights[s] != 0:
            weighted += weights[s] * a[f"n_{s}"]
    for s in ITEM_STATUSES:
        if weights[s].ndim:
            weighted = weighted + weights[s] * a[f"n_{s}"]
    completeness = weighted / np.where(a["n_required"] > 0, a["n_required"], 1).astype(dt)
    # a statistic's credit = base ** k (k = 1 proportional, a large k approaches
    # all-or-nothing), computed only where the indicator has a statistic
    base = a["achievement.base"]
    has_stat = ~np.isnan(base)
    k = num("statistic.strictness")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ach_s = np.power(base[has_stat].astype(dt), k)
    ws = num("statistic.weight")
    zero_missing = ~is_("statistic.missing", "evidence_only")
    claimed_basis = is_("points.basis", "claimed")
    shape = np.broadcast_shapes(completeness.shape, ws.shape, zero_missing.shape,
                                claimed_basis.shape, k.shape, a["claimed"].shape)
    backing = np.array(np.broadcast_to(completeness, shape), dtype=dt)
    no_stat = a["has_measure"] & ~has_stat  # measured, statistic missing from the data
    if no_stat.any() and zero_missing.any():
        backing[..., _columns(no_stat)] *= np.where(zero_missing, 1 - ws, dt.type(1))
    if has_stat.any():
        at = _columns(has_stat)
        backing[..., at] = (1 - ws) * backing[..., at] + ws * ach_s
    backed = a["claimed"] * backing
    if not claimed_basis.all():
        if claimed_basis.ndim == 2 and claimed_basis.shape[1] == 1 and backed.ndim == 2 \
                and backed.shape[0] == claimed_basis.shape[0]:
            capped = ~claimed_basis[:, 0]  # settings scoring against the maximum
            backed[capped] = np.minimum(a["claimed"], a["max"] * backing[capped])
        else:
            backed = np.where(claimed_basis, backed,
                              np.minimum(a["claimed"], a["max"] * backing))
    out = {"evidence_completeness": completeness, "backing": backing, "backed_points": backed}
    if status:
        ach = np.full(np.broadcast_shapes(k.shape, base.shape), np.nan, dtype=dt)
        ach[..., has_stat] = ach_s
        out.update(statistic_achievement=ach, points_lost=a["claimed"] - backed)
        out["status"] = np.select(
            [(a["evidence_rows"] == 0) & ~has_stat,
             backing >= num("status.met_from") - TOL,
             backing >= num("status.partial_from") - TOL],
            ["no_data", "met", "partial"], "not_met").astype(object)
    return out


def estimate_indicators(tables: Tables, year: int, city: str | None = None, *,
                        settings: Settings) -> pd.DataFrame:
    """Per-indicator estimate of one city and year: ``INPUT_COLUMNS + SCORE_COLUMNS``.

    Raises ``KlaError`` for an unknown city or a year without a self-assessment.
    """
    return indicator_inputs(tables, year, city, settings=settings).pipe(score_inputs,
                                                                       settings.rules)


def estimate_clusters(indicators: pd.DataFrame, catalog: pd.DataFrame,
                      clusters: pd.DataFrame) -> pd.DataFrame:
    """Cluster subtotals in report order: ``cluster, name_id, name_en, max_points,
    claimed_points, backed_points, points_lost, backing`` (``backing`` = backed / claimed)."""
    ind = indicators.assign(claimed_points=indicators["claimed_points"].fillna(0))
    claimed = cluster_totals(ind, catalog, clusters, points_col="claimed_points")
    backed = cluster_totals(ind, catalog, clusters, points_col="backed_points")
    out = claimed.rename(columns={"points": "claimed_points"})
    out["backed_points"] = backed["points"].to_numpy()
    out["points_lost"] = out["claimed_points"] - out["backed_points"]
    claimed_pos = out["claimed_points"].where(out["claimed_points"] > 0)
    out["backing"] = out["backed_points"] / claimed_pos
    return out[["cluster", "name_id", "name_en", "max_points", "claimed_points",
                "backed_points", "points_lost", "backing"]]


def _predicate(total: float, bands: pd.DataFrame) -> str | None:
    if total is None or (isinstance(total, float) and math.isnan(total)):
        return None
    try:
        return predicate_for(total, bands)
    except ValueError as err:
        raise KlaError(f"total {total:g} cannot be placed in a predicate band: {err}") from None


def estimate_summary(indicators: pd.DataFrame, bands: pd.DataFrame) -> dict:
    """Overall numbers of one year's estimate.

    Keys: ``city, year, claimed_total, claimed_predicate, estimated_total,
    estimated_predicate, points_lost, evidence_available`` (False when the year has no
    inventory row at all: the estimate is then not meaningful and ``estimated_total`` is
    None), ``indicators_claimed`` and ``n_met, n_partial, n_not_met, n_no_data``.
    """
    claimed = float(indicators["claimed_points"].fillna(0).sum())
    available = bool(indicators["evidence_rows"].sum() > 0)
    backed = float(indicators["backed_points"].sum()) if available else None
    out = {
        "city": str(indicators["city"].iloc[0]), "year": int(indicators["year"].iloc[0]),
        "claimed_total": claimed, "claimed_predicate": _predicate(claimed, bands),
        "estimated_total": backed, "estimated_predicate": _predicate(backed, bands),
        "points_lost": claimed - backed if available else None,
        "evidence_available": available,
        "indicators_claimed": int(indicators["claimed_points"].notna().sum()),
    }
    counts = indicators["status"].value_counts()
    out.update({f"n_{s}": int(counts.get(s, 0)) for s in INDICATOR_STATUSES})
    return out


# ---------------------------------------------------------------------------------------------
# Sensitivity
# ---------------------------------------------------------------------------------------------


def sensitivity_settings(grid: Mapping[str, list], rules: Rules) -> pd.DataFrame:
    """Every combination of the grid's values, one row per setting (the headline included).

    Columns: one per varied rule, plus ``is_headline`` (the row equal to ``rules``).
    """
    grid = dict(grid)
    combos = [dict(zip(grid, vals, strict=True)) for vals in itertools.product(*grid.values())]
    headline = {k: rules[k] for k in grid}
    if headline not in combos:
        combos.insert(0, headline)
    df = pd.DataFrame(combos, columns=list(grid)) if grid else pd.DataFrame([{}])
    df["is_headline"] = [c == headline for c in combos] if grid else [True]
    return df


def sensitivity(inputs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Estimated total and predicate of one year under every grid setting.

    ``inputs`` is ``indicator_inputs(...)`` of one city and year. Columns: the varied rules,
    ``is_headline``, ``estimated_total``, ``estimated_predicate``. The rules, grid and bands
    are those of ``settings``.
    """
    rules = settings.rules
    grid = sensitivity_settings(settings.grid, rules)
    varied = [c for c in grid.columns if c != "is_headline"]
    for rec in grid[varied].to_dict("records"):
        check_rules({**rules, **rec}, "sensitivity setting")
    # every setting at once: each varied rule becomes a column of values, shape (S, 1)
    columns = {k: grid[k].to_numpy()[:, None] for k in varied}
    backed = _score_arrays(_arrays(inputs), {**rules, **columns})["backed_points"]
    grid["estimated_total"] = np.broadcast_to(backed, (len(grid), len(inputs))).sum(
        axis=1).astype(float)
    grid["estimated_predicate"] = assign_predicates(grid["estimated_total"], settings.bands)
    return grid


def sensitivity_range(sens: pd.DataFrame, bands: pd.DataFrame) -> dict:
    """Range over the grid: ``estimated_total_min/max``, ``predicate_min/max`` (predicates of
    those totals), ``predicates`` (distinct ones, lowest first; None = below the lowest band)
    and ``n_settings``."""
    lo, hi = float(sens["estimated_total"].min()), float(sens["estimated_total"].max())
    names = predicate_names(bands)
    preds = sorted(set(sens["estimated_predicate"]),
                   key=lambda p: names.index(p) if p in names else -1)
    return {"estimated_total_min": lo, "estimated_total_max": hi,
            "predicate_min": _predicate(lo, bands), "predicate_max": _predicate(hi, bands),
            "predicates": preds, "n_settings": int(len(sens))}


def one_at_a_time(inputs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Vary one rule at a time (others at their headline value): which assumption matters.

    Columns: ``rule, value, is_headline, estimated_total, estimated_predicate``.
    """
    rules, grid = settings.rules, settings.grid
    arrays = _arrays(inputs)
    rows = []
    for key, values in grid.items():
        for v in dict.fromkeys([rules[key], *values]):
            r = {**rules, key: v}
            check_rules(r, "sensitivity setting")
            rows.append({"rule": key, "value": show_value(v), "is_headline": v == rules[key],
                         "estimated_total": float(_score_arrays(arrays, r)["backed_points"].sum())})
    out = pd.DataFrame(rows, columns=["rule", "value", "is_headline", "estimated_total"])
    out["estimated_predicate"] = assign_predicates(out["estimated_total"], settings.bands)
    return out
