"""Official results and how far the evidence-backed estimate lands from them.

``calibrate`` compares, for every year with an official predicate, the self-assessment
total and the estimate (headline and sensitivity range) with the official band, so readers
can judge how far to trust the estimate. Official results are published facts (with a
``status`` of published / inferred / unconfirmed); the estimate is an assumption-based model.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from ..errors import KlaError
from .estimate import (
    Tables,
    assessment_years,
    city_rows,
    estimate_summary,
    get_table,
    resolve_city,
    score_inputs,
    sensitivity,
    sensitivity_range,
)
from .estimate import indicator_inputs as _inputs
from .posterior import year_outputs
from .scoring import (
    canonical_predicate,
    next_predicate,
    points_to_predicate,
    predicate_for,
)
from .settings import Settings

OFFICIAL_COLUMNS = ["city", "year", "predicate", "status", "score", "source_url", "band_entry",
                    "band_upper", "rank"]


def official_predicates(tables: Tables, city: str | None = None, *,
                        bands: pd.DataFrame) -> pd.DataFrame:
    """Years of the city with an official predicate, ascending: ``OFFICIAL_COLUMNS``.

    ``predicate`` is spelled as in the band table; ``band_entry``/``band_upper`` are its
    published bounds (e.g. 601 and 700 for Madya); ``rank`` 1 = lowest predicate.
    Raises ``KlaError`` for a predicate name the band table does not know.
    """
    city = resolve_city(tables, city)
    b = bands
    off = city_rows(get_table(tables, "official_results"), city)
    named = off["predicate"].astype("string").str.strip()
    off, named = off[named.notna() & (named != "")], named[named.notna() & (named != "")]
    if off.empty:
        return pd.DataFrame(columns=OFFICIAL_COLUMNS)
    spelled = named.str.casefold().map({p.casefold(): p for p in b["predicate"]})
    if spelled.isna().any():  # canonical_predicate's error names the allowed spellings
        rec = off[spelled.isna()].iloc[0]
        try:
            canonical_predicate(str(rec["predicate"]).strip(), b)
        except ValueError as err:
            raise KlaError(f"official_results, {city} {rec['year']}: {err}") from None
    band = b.set_index("predicate").loc[spelled.astype(object)]
    out = pd.DataFrame({
        "city": city, "year": off["year"].astype(int).to_numpy(),
        "predicate": spelled.astype(object).to_numpy(),
        **{c: off[c].to_numpy() if c in off else None for c in ("status", "score",
                                                                  "source_url")},
        "band_entry": band["entry"].astype(float).to_numpy(),
        "band_upper": band["upper"].astype(float).to_numpy(),
        "rank": band["rank"].astype(int).to_numpy()}, columns=OFFICIAL_COLUMNS)
    dup = out["year"][out["year"].duplicated()]
    if not dup.empty:
        raise KlaError(f"official_results lists {city} more than once for year(s) "
                       f"{', '.join(map(str, sorted(dup.unique())))}")
    return out.sort_values("year").reset_index(drop=True)


def official_predicate(tables: Tables, year: int, city: str | None = None, *,
                       bands: pd.DataFrame) -> str | None:
    """The official predicate of ``year`` (None if no result is recorded)."""
    off = official_predicates(tables, city, bands=bands)
    hit = off.loc[off["year"] == int(year), "predicate"]
    return None if hit.empty else str(hit.iloc[0])


def latest_official(tables: Tables, city: str | None = None, *,
                    bands: pd.DataFrame) -> dict | None:
    """The most recent official result (``year, predicate, status``), or None."""
    off = official_predicates(tables, city, bands=bands)
    if off.empty:
        return None
    last = off.iloc[-1]
    return {"year": int(last["year"]), "predicate": str(last["predicate"]),
            "status": last["status"]}


def default_target(tables: Tables, city: str | None = None, *, bands: pd.DataFrame,
                   estimated_total: float | None = None) -> str:
    """The predicate to aim for: one above the latest official predicate (Madya -> Nindya).

    Without any official result: one above the predicate of ``estimated_total`` (the lowest
    predicate if that is None). The top predicate stays the target once reached.
    """
    b = bands
    names = list(b["predicate"])
    last = latest_official(tables, city, bands=b)
    if last is not None:
        i = names.index(last["predicate"])
        return names[min(i + 1, len(names) - 1)]
    if estimated_total is None:
        return names[0]
    return next_predicate(estimated_total, b) or names[-1]


def distance_to_band(total: float | None, predicate: str, bands: pd.DataFrame) -> float:
    """Signed points from ``total`` to the published band of ``predicate``: 0 inside it,
    ``total - upper`` above (positive), ``total - entry`` below (negative); NaN if no total.

    >>> from kla_analysis.catalog import load_bands
    >>> b = load_bands()
    >>> distance_to_band(946.45, "Madya", b), distance_to_band(650, "Madya", b)
    (246.45, 0.0)
    """
    if total is None or (isinstance(total, float) and math.isnan(total)):
        return math.nan
    b = bands
    pred = canonical_predicate(predicate, b)
    if predicate_for(total, b) == pred:
        return 0.0
    band = b[b["predicate"] == pred].iloc[0]
    if total > float(band["upper"]):
        return round(total - float(band["upper"]), 6)
    return round(total - float(band["entry"]), 6)


CALIBRATION_COLUMNS = [
    "city", "year", "official_predicate", "official_status", "band_entry", "band_upper",
    "claimed_total", "claimed_predicate", "claimed_in_band", "claimed_distance_to_band",
    "estimated_total", "estimated_total_min", "estimated_total_max", "estimated_predicate",
    "in_band", "range_overlaps_band", "distance_to_band", "note",
]


def calibrate(tables: Tables, city: str | None = None, *, settings: Settings,
              score_of: Callable[[int], dict | None] | None = None) -> pd.DataFrame:
    """One row per year with an official predicate: ``CALIBRATION_COLUMNS``.

    ``in_band``: the headline estimate's predicate equals the official one;
    ``range_overlaps_band``: some sensitivity setting lands in the official band;
    ``distance_to_band``: see ``distance_to_band`` (0 inside). Years without a
    self-assessment or without any evidence inventory keep NaN estimates and say so in
    ``note``. ``claimed_*`` columns show the same for the self-assessment total.

    ``score_of(year)`` gives that year's ``score_year`` dict, or None for a year that cannot
    be scored (read as "no self-assessment"). By default each year is scored here; the
    report passes the scores it already computed, so no year runs the grid twice.
    """
    b = settings.bands
    city = resolve_city(tables, city)
    years_sa = set(assessment_years(tables, city))
    if score_of is None:
        def score_of(year: int) -> dict:
            return score_year(tables, year, city, settings=settings)
    ranks = dict(zip(b["predicate"], b["rank"], strict=True))
    rows = []
    for off in official_predicates(tables, city, bands=b).to_dict("records"):
        year, pred = off["year"], off["predicate"]
        row = {"city": city, "year": year, "official_predicate": pred,
               "official_status": off["status"], "band_entry": off["band_entry"],
               "band_upper": off["band_upper"], "claimed_total": math.nan,
               "claimed_predicate": None, "estimated_total": math.nan,
               "estimated_total_min": math.nan, "estimated_total_max": math.nan,
               "estimated_predicate": None, "in_band": pd.NA, "range_overlaps_band": pd.NA,
               "note": ""}
        s = score_of(year) if year in years_sa else None
        if s is None:
            row["note"] = "no self-assessment"
        elif not s["evidence_available"]:
            row.update(claimed_total=s["claimed_total"], claimed_predicate=s["claimed_predicate"],
                       note="no evidence inventory")
        else:
            lo = ranks.get(predicate_for(s["estimated_total_min"], b), 0)
            hi = ranks.get(predicate_for(s["estimated_total_max"], b), 0)
            row.update(claimed_total=s["claimed_total"], claimed_predicate=s["claimed_predicate"],
                       estimated_total=s["estimated_total"],
                       estimated_total_min=s["estimated_total_min"],
                       estimated_total_max=s["estimated_total_max"],
                       estimated_predicate=s["estimated_predicate"],
                       in_band=s["estimated_predicate"] == pred,
                       range_overlaps_band=lo <= ranks[pred] <= hi)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in CALIBRATION_COLUMNS
                                      if "distance" not in c and "claimed_in" not in c])
    out["claimed_in_band"] = [pd.NA if pd.isna(c) else p == o for c, p, o in
                              zip(out["claimed_total"], out["claimed_predicate"],
                                  out["official_predicate"], strict=True)]
    out["claimed_distance_to_band"] = [distance_to_band(t, p, b) for t, p in
                                       zip(out["claimed_total"], out["official_predicate"],
                                           strict=True)]
    out["distance_to_band"] = [distance_to_band(t, p, b) for t, p in
                               zip(out["estimated_total"], out["official_predicate"],
                                   strict=True)]
    for col in ("in_band", "range_overlaps_band", "claimed_in_band"):
        out[col] = out[col].astype("boolean")
    return out[CALIBRATION_COLUMNS]


def calibration_summary(cal: pd.DataFrame) -> dict:
    """Headline of ``calibrate``: ``years_compared`` (years with an estimate),
    ``years_in_band``, ``years_range_overlaps``, ``mean_abs_distance`` and
    ``mean_abs_claimed_distance`` (None when nothing was compared)."""
    est = cal[cal["estimated_total"].notna()]
    claimed = cal[cal["claimed_total"].notna()]

    def mean_abs(s: pd.Series) -> float | None:
        return None if s.empty else float(s.abs().mean())

    return {"years_compared": int(len(est)),
            "years_in_band": int(est["in_band"].fillna(False).sum()),
            "years_range_overlaps": int(est["range_overlaps_band"].fillna(False).sum()),
            "mean_abs_distance": mean_abs(est["distance_to_band"]),
            "mean_abs_claimed_distance": mean_abs(claimed["claimed_distance_to_band"])}


def score_year(tables: Tables, year: int, city: str | None = None, target: str | None = None,
               *, settings: Settings, inputs: pd.DataFrame | None = None) -> dict:
    """Headline numbers of one year (what ``kla score`` prints).

    Keys: ``city, year, claimed_total, claimed_predicate, estimated_total,
    estimated_total_min, estimated_total_max, estimated_predicate, estimated_predicates``
    (distinct predicates over the sensitivity grid), ``official_predicate``,
    ``official_status``, ``next_predicate``, ``points_to_next_predicate``,
    ``target_predicate``, ``points_to_target_predicate``, ``points_lost``,
    ``evidence_available``, ``n_met, n_partial, n_not_met, n_no_data``, ``n_settings``,
    ``is_estimate`` (always True: never an official result).
    Points to the next/target predicate are measured from the estimated total (None when
    the year has no evidence inventory). ``target`` defaults to ``default_target``.

    The official predikat of the year comes first. From the posterior model
    (``posterior.year_outputs``): ``band_probabilities`` (each band, 'Belum berpredikat'
    included, to its probability), ``p_target`` (P(band >= target)), ``interval_80`` and
    ``posterior_median`` of the verified score (points), ``ess``, ``enough`` (when False the
    probabilities are None: too few effective draws), ``out_of_sample`` (for a year with an
    official result the probabilities leave that result out of the fit), ``fit_check`` and
    ``posterior_messages``. ``estimated_total`` stays the headline-rule estimate (the
    figure of earlier versions); ``posterior_median`` is the model's central verified
    score. ``target_reached`` comes from the official result when there is one, else from
    P(>= target) >= 0.5 (None without probabilities); ``official_denies_target`` is True
    when the year's official predikat is below the target: then the target is never
    reported as reached.
    ``inputs``: the year's ``indicator_inputs`` when the caller has them already (a report
    needs them for other sections too).
    Raises ``KlaError`` for an unknown city, year without self-assessment or unknown target.
    """
    rules, b = settings.rules, settings.bands
    city = resolve_city(tables, city)
    if inputs is None:
        inputs = _inputs(tables, year, city, settings=settings)
    summ = estimate_summary(score_inputs(inputs, rules), b)
    est = summ["estimated_total"]
    if target is not None:
        try:
            target = canonical_predicate(target, b)
        except ValueError as err:
            raise KlaError(str(err)) from None
    else:
        target = default_target(tables, city, bands=b, estimated_total=est)
    off = official_predicates(tables, city, bands=b)
    off = off[off["year"] == int(year)]
    official = None if off.empty else str(off["predicate"].iloc[0])
    out = {"city": city, "year": int(year), "official_predicate": official,
           "official_status": None if off.empty else off["status"].iloc[0],
           "claimed_total": summ["claimed_total"],
           "claimed_predicate": summ["claimed_predicate"], "estimated_total": est,
           "estimated_total_min": None, "estimated_total_max": None,
           "estimated_predicate": summ["estimated_predicate"], "estimated_predicates": [],
           "next_predicate": None, "points_to_next_predicate": None,
           "target_predicate": target, "points_to_target_predicate": None,
           "points_lost": summ["points_lost"], "evidence_available": summ["evidence_available"],
           **{k: v for k, v in summ.items() if k.startswith("n_")}, "n_settings": 0,
           "is_estimate": True}
    if est is not None:
        rng = sensitivity_range(sensitivity(inputs, settings), b)
        nxt = next_predicate(est, b)
        out.update(estimated_total_min=rng["estimated_total_min"],
                   estimated_total_max=rng["estimated_total_max"],
                   estimated_predicates=rng["predicates"], n_settings=rng["n_settings"],
                   next_predicate=nxt,
                   points_to_next_predicate=None if nxt is None
                   else points_to_predicate(est, nxt, b),
                   points_to_target_predicate=points_to_predicate(est, target, b))
    post = year_outputs(tables, settings, city, year, target, inputs)
    ranks = dict(zip(b["predicate"], b["rank"], strict=True))
    denies = official is not None and ranks[official] < ranks[target]
    if official is not None:
        reached = ranks[official] >= ranks[target]
    elif post["p_target"] is not None:
        reached = post["p_target"] >= 0.5
    else:
        reached = None
    out.update(post, target_reached=reached, official_denies_target=denies)
    return out
