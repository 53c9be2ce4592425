"""The data of each report section, assembled from the processed tables and the estimate.

``load_report(year, city, data_dir, target, lang)`` reads the processed tables once and
computes the year's score (``calibration.score_year``) and per-indicator estimate; each
``*_table`` / ``headline`` function then returns the DataFrame or dict one section shows.
Nothing here writes HTML (see ``report_view``), so the same numbers serve the notebook, the
index and the tests.

Every number labelled ``estimated``/``backed`` comes from the assumption-based estimate in
``kla_analysis.estimate``; only ``official_*`` values are published results.
"""

from __future__ import annotations

import functools
import gc
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog import folder_weights
from ..config import ProjectPaths, project_paths
from ..errors import KlaError
from ..model import calibration, chance_plan, estimate, methodology, plan
from ..model.settings import Settings, load_settings
from ..params import check_lang, parse_year
from ..region import load_region
from ..tables import load_processed
from . import model_cache
from .i18n import keys, measure_label, t


@dataclass
class Report:
    """Everything the sections of one report need (one city, one evaluation year)."""

    year: int
    city: str
    lang: str
    target: str
    province: str | None
    paths: ProjectPaths
    tables: dict[str, pd.DataFrame]
    #: The model's configuration (catalog, bands, rules, actions), loaded once per report.
    settings: Settings
    score: dict
    indicators: pd.DataFrame
    #: Other years whose data could not be scored: year -> error message.
    problems: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)
    #: Where model results of this data are kept between reports (``model_cache``), or
    #: None (computed every time).
    model_dir: Path | None = field(default=None, repr=False)

    def model_result(self, what: object, compute) -> object:
        """``compute()``, or the same result kept by an earlier report of the same data
        (``model_cache``: keyed by the city, the target and ``what``); either way computed
        or read once per report (a ``compute`` that raises is tried again next time)."""
        key = ("model", what)
        if key not in self._cache:
            self._cache[key] = compute() if self.model_dir is None else model_cache.cached(
                self.model_dir, model_cache.entry_name(self.city, self.target, what),
                compute)
        return self._cache[key]

    @property
    def rules(self) -> dict:
        return self.settings.rules

    @property
    def bands(self) -> pd.DataFrame:
        return self.settings.bands

    @property
    def catalog(self) -> pd.DataFrame:
        return self.settings.catalog

    def name(self, df: pd.DataFrame, base: str = "name") -> pd.Series:
        """The ``<base>_id`` or ``<base>_en`` column, by report language."""
        return df[f"{base}_{self.lang}"]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        (isinstance(value, str) and not value.strip())


def load_report(year: object, city: str | None = "", data_dir: str | Path | None = "",
                target: str | None = "", lang: str = "id",
                settings: Settings | None = None, use_cache: bool = True) -> Report:
    """Read the data of one report; blank ``city``/``data_dir``/``target`` take defaults.

    The entry point of a report (the notebook's first cell), so ``settings`` is loaded here
    from the packaged configuration when not given, and the parameters are checked here.

    The model results (each year's score and band probabilities, the backtest, the chance
    plan) are kept for the next report of the same data (``model_cache``, in
    ``<data-dir>/interim/model/``); ``use_cache=False`` computes everything afresh.

    Raises ``KlaError`` for a bad year or language, missing processed tables, an unknown
    city or target, or a year without a self-assessment.
    """
    year = parse_year(year)
    lang = check_lang(lang)
    paths = project_paths(data_dir or None)
    tables = load_processed(paths)
    city = estimate.require_self_assessment(tables, year, None if _blank(city) else city)
    own_settings = settings is None
    settings = settings if settings is not None else load_settings(
        weights=folder_weights(paths.raw),  # the data folder's weight set and OPD names
        opd=dict(load_region(paths.raw).opd))  # (raw/kla.yaml, or raw/city.yaml)
    target = None if _blank(target) else target
    # settings given by the caller are not part of the fingerprint: no cache then
    model_dir = model_cache.folder(paths, model_cache.fingerprint(paths)) \
        if use_cache and own_settings else None

    @functools.cache
    def inputs() -> pd.DataFrame:  # computed once, and only when a result is not kept
        return estimate.indicator_inputs(tables, year, city, settings=settings)

    score = model_cache.cached(
        model_dir, model_cache.entry_name(city, target, ("score", year)),
        lambda: calibration.score_year(tables, year, city, target, settings=settings,
                                       inputs=inputs()))
    target = score["target_predicate"]
    indicators = model_cache.cached(
        model_dir, model_cache.entry_name(city, target, ("indicators", year)),
        lambda: estimate.score_inputs(inputs(), settings.rules))
    _freeze_once()
    return Report(year=year, city=city, lang=lang, target=target,
                  province=_province(tables, city, paths), paths=paths, tables=tables,
                  settings=settings, score=score, indicators=indicators,
                  model_dir=model_dir)


def _freeze_once() -> None:
    """Move what is loaded so far (the imported modules, the tables and the settings) out of
    the cyclic garbage collector's generations, once per process (``gc.freeze``).

    They live as long as the report's kernel, and every full collection while the sections
    are built would walk them all again: in the bundled report that was 0.05-0.1 s of about
    0.6 s of work (``bench/run.py --only report``). Reference counting still frees frozen
    objects; only a reference cycle among them waits for the process to end. Once per
    process, so a kernel or test worker that loads many reports does not keep freezing
    what later reports leave behind."""
    if gc.get_freeze_count() == 0:
        gc.freeze()


def _province(tables: dict, city: str, paths: ProjectPaths) -> str | None:
    off = estimate.city_rows(estimate.get_table(tables, "official_results"), city)
    if "province" in off and off["province"].notna().any():
        return str(off["province"].dropna().iloc[0])
    region = load_region(paths.raw)  # raw/kla.yaml (or raw/city.yaml)
    return region.province


# --- 1. headline ---------------------------------------------------------------------------

def other_year_score(rep: Report, year: int) -> dict | None:
    """``score_year`` of another year, or None (noted in ``rep.problems``) when that year's
    data cannot be scored: one bad year must not take down every other year's report."""
    def compute() -> dict:
        try:
            return {"score": calibration.score_year(rep.tables, year, rep.city, rep.target,
                                                    settings=rep.settings)}
        except KlaError as err:
            return {"score": None, "problem": str(err)}

    got = rep.model_result(("other-score", year), compute)
    if got.get("problem"):
        rep.problems[year] = got["problem"]
    return got["score"]


def year_indicators(rep: Report, year: int) -> pd.DataFrame:
    """``estimate.score_inputs`` of ``year`` (the report's own ``rep.indicators`` for its
    year), kept between reports like the other model results. Raises ``KlaError`` when
    that year's data cannot be scored (see ``other_year_score``)."""
    if year == rep.year:
        return rep.indicators
    return rep.model_result(("indicators", year), lambda: estimate.score_inputs(
        estimate.indicator_inputs(rep.tables, year, rep.city, settings=rep.settings),
        rep.rules))


def year_clusters(rep: Report, year: int) -> pd.DataFrame:
    """``estimate.estimate_clusters`` of ``year`` (per block: claimed, backed, lost and
    maximum points; both languages' names), kept between reports like the other model
    results: the trend of every report needs every year's. Raises ``KlaError`` as
    ``year_indicators``."""
    return rep.model_result(("clusters", year), lambda: estimate.estimate_clusters(
        year_indicators(rep, year), rep.catalog, rep.settings.clusters))


def previous_year(rep: Report) -> int | None:
    """The latest earlier evaluation year with a self-assessment (None if there is none)."""
    earlier = [y for y in estimate.assessment_years(rep.tables, rep.city) if y < rep.year]
    return max(earlier) if earlier else None


def headline(rep: Report) -> dict:
    """The headline figures: ``calibration.score_year`` plus the change since the previous
    evaluation (``previous_year``, ``previous_claimed_total``, ``previous_estimated_total``,
    ``previous_official_predicate``, ``change_claimed``, ``change_estimated``)."""
    if "headline" in rep._cache:
        return rep._cache["headline"]
    out = dict(rep.score)
    prev = previous_year(rep)
    out.update(previous_year=prev, previous_claimed_total=None, previous_estimated_total=None,
               previous_official_predicate=None, change_claimed=None, change_estimated=None)
    before = other_year_score(rep, prev) if prev is not None else None
    if before is not None:
        out.update(previous_claimed_total=before["claimed_total"],
                   previous_estimated_total=before["estimated_total"],
                   previous_official_predicate=before["official_predicate"],
                   change_claimed=out["claimed_total"] - before["claimed_total"])
        if out["estimated_total"] is not None and before["estimated_total"] is not None:
            out["change_estimated"] = out["estimated_total"] - before["estimated_total"]
    out["target_entry"] = float(rep.bands.loc[rep.bands["predicate"] == rep.target,
                                              "entry"].iloc[0])
    rep._cache["headline"] = out
    return out


def backtest(rep: Report) -> tuple[pd.DataFrame, dict]:
    """The leave-one-year-out backtest of the report's city (``model.backtest``) and its
    summary (``backtest_summary``: ``calibrated`` only when the model beats every
    baseline), computed once per report."""
    from ..model import backtest as bt

    def compute() -> tuple[pd.DataFrame, dict]:
        table = bt.backtest(rep.tables, rep.settings, rep.city)
        return table, bt.backtest_summary(table)

    return rep.model_result("backtest", compute)


def fit_flags(rep: Report) -> list[int]:
    """Official years whose official band the model gives under 20 % (fit check)."""
    return sorted({int(r["year"]) for r in rep.score.get("fit_check") or [] if r.get("flag")})


def index_headline(rep: Report) -> dict:
    """JSON-ready headline numbers for the index (plain floats, ints, strings, None)."""
    h = headline(rep)
    keys = ["city", "year", "official_predicate", "official_status", "claimed_total",
            "estimated_total", "estimated_total_min", "estimated_total_max",
            "estimated_predicate", "next_predicate", "points_to_next_predicate",
            "target_predicate", "points_to_target_predicate", "previous_year",
            "change_estimated", "change_claimed", "is_estimate", "p_target",
            "official_denies_target", "posterior_median",
            # every band's chance (None when withheld): the index's chance of the next band
            "band_probabilities"]
    out = {}
    for k in keys:
        v = h.get(k)
        if isinstance(v, float) and math.isnan(v):
            v = None
        out[k] = v.item() if hasattr(v, "item") else v
    return out


# --- 3. clusters ---------------------------------------------------------------------------

def cluster_label(code: str, name: str, lang: str) -> str:
    """Short label of a block for charts and tables: ``cluster_short.<code>`` of the report
    strings when there is one (``Kecamatan/desa`` for the long KD name), else the part of
    the name before its colon (``Klaster I``)."""
    key = f"cluster_short.{code}"
    return t(key, lang) if key in keys() else str(name).split(":")[0].strip()


def cluster_labels(rep: Report) -> dict[str, str]:
    """Block code -> short label (``cluster_label``), in report order."""
    cl = rep.settings.clusters
    return {c: cluster_label(c, n, rep.lang) for c, n in zip(cl["cluster"], rep.name(cl),
                                                               strict=True)}


def _questions(rep: Report) -> pd.DataFrame | None:
    """``questions_answered, questions_total`` per indicator (index) of the year's
    self-assessment when it was read from question-level answers; None when the table has
    no such columns or they are blank for the year (indicator-level files)."""
    sa = estimate.city_rows(estimate.get_table(rep.tables, "self_assessment"), rep.city,
                            year=rep.year)
    if "questions_total" not in sa or sa.empty:
        return None
    total = pd.to_numeric(sa["questions_total"], errors="coerce")
    if total.notna().sum() == 0:
        return None
    answered = pd.to_numeric(sa["questions_answered"], errors="coerce") \
        if "questions_answered" in sa else pd.Series(math.nan, index=sa.index)
    q = pd.DataFrame({"indicator": pd.to_numeric(sa["indicator"], errors="coerce"),
                      "questions_answered": answered, "questions_total": total})
    q = q.dropna(subset=["indicator"]).astype({"indicator": int})
    return q.groupby("indicator").sum(min_count=1)


def _with_questions(out: pd.DataFrame, q: pd.DataFrame | None, by: pd.Series) -> pd.DataFrame:
    if q is None:
        return out
    for col in ("questions_answered", "questions_total"):
        out[col] = by.map(q[col]).round().astype("Int64").to_numpy()
    return out


def cluster_table(rep: Report) -> pd.DataFrame:
    """Per block (Kelembagaan, Klaster I-V, kecamatan/desa ...) in report order: ``cluster,
    label, name, claimed, backed, lost, max_points``; ``label`` is the short label
    (``cluster_label``). When the year's self-assessment holds question-level answers, also
    ``questions_answered, questions_total`` (sums over the block's indicators)."""
    cl = year_clusters(rep, rep.year)
    names = rep.name(cl)
    out = pd.DataFrame({
        "cluster": cl["cluster"],
        "label": [cluster_label(c, n, rep.lang) for c, n in zip(cl["cluster"], names,
                                                                 strict=True)],
        "name": names, "claimed": cl["claimed_points"], "backed": cl["backed_points"],
        "lost": cl["points_lost"], "max_points": cl["max_points"]})
    q = _questions(rep)
    if q is not None:
        per = rep.catalog[["indicator", "cluster"]].join(q, on="indicator").groupby("cluster")
        q = pd.DataFrame({c: per[c].sum(min_count=1)
                          for c in ("questions_answered", "questions_total")})
    return _with_questions(out, q, out["cluster"])


def weight_set_summary(rep: Report) -> dict:
    """The active weight set as the methodology names it, in the report language:
    ``weight_set`` (name), ``status`` (probable / assumption), ``label``, ``provenance``,
    ``source`` (URL or path, may be blank), ``claims_scale``, ``n_indicators``, ``n_assumed``
    (indicators whose maximum the set does not give) and ``assumed_blocks``: (block label,
    indicator numbers) for each block with an assumed maximum, in report order."""
    info = rep.settings.weight_set
    cat = rep.catalog
    assumed = cat[cat["max_points_assumed"].astype(bool)]
    labels = cluster_labels(rep)
    blocks = [(labels[c], [int(i) for i in assumed.loc[assumed["cluster"] == c, "indicator"]])
              for c in labels if (assumed["cluster"] == c).any()]
    return {"weight_set": info.get("weight_set", ""), "status": info.get("status", ""),
            "label": info.get(f"label_{rep.lang}", ""),
            "provenance": info.get(f"provenance_{rep.lang}", ""),
            "source": info.get("source", ""), "claims_scale": info.get("claims_scale", ""),
            "n_indicators": len(cat), "n_assumed": len(assumed), "assumed_blocks": blocks}


# --- 4. indicators -------------------------------------------------------------------------

def indicator_table(rep: Report) -> pd.DataFrame:
    """All indicators: ``indicator, name, cluster, opd, status, claimed, backed, lost,
    max_points, completeness, statistic_value, unit, target, data_year``.

    ``claimed`` is NaN where the self-assessment has no row (no data, not zero). When the
    year's self-assessment holds question-level answers, also ``questions_answered,
    questions_total`` (the application's ``[answered/total]``; missing where the indicator
    has no row).
    """
    ind = rep.indicators
    return _with_questions(pd.DataFrame({
        "indicator": ind["indicator"], "name": rep.name(ind), "cluster": ind["cluster"],
        "opd": ind["opd"], "status": ind["status"], "claimed": ind["claimed_points"],
        "backed": ind["backed_points"].where(ind["claimed_points"].notna()),
        "lost": ind["points_lost"].where(ind["claimed_points"].notna()),
        "max_points": ind["max_points"], "completeness": ind["evidence_completeness"],
        "statistic_value": ind["statistic_value"], "unit": ind["unit"],
        "target": ind["target"], "data_year": ind["data_year"]}), _questions(rep),
        ind["indicator"])


# --- 5. missing evidence by OPD -------------------------------------------------------------

def item_files(rep: Report) -> pd.Series:
    """Evidence item code -> the file the year's inventory names for it (its ``link``, as
    ``kla evidence scan`` writes it: the path relative to the scanned folder; several files
    joined with ``; ``), from ``report.evidence_files.evidence_files_for``."""
    from .evidence_files import evidence_files_for

    ev = estimate.city_rows(estimate.get_table(rep.tables, "evidence"), rep.city, year=rep.year)
    if ev.empty or "link" not in ev:
        return pd.Series(dtype=object)
    files = evidence_files_for(ev, rep.year).dropna(subset=["file"])
    return files.groupby("item")["file"].agg("; ".join)


def evidence_gaps(rep: Report) -> pd.DataFrame:
    """Required data dukung items that are not ``ada``, by responsible OPD.

    Columns ``opd, indicator, item, item_name, status, title, gain, file``; ``file`` is the
    document the inventory names for the item (``item_files``; NA: none); ``gain`` is the
    estimate's points regained if only this item were completed (its own action in
    ``plan.candidate_actions``, scored with the estimate's rules). Sorted by OPD (most
    points at stake first), then gain.
    """
    cols = ["opd", "indicator", "item", "item_name", "status", "title", "gain", "file"]
    # language-independent (both names), so kept for the other reports of the same data
    gaps = rep.model_result(("evidence-gaps", rep.year), lambda: _gaps(rep))
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    return gaps.assign(item_name=rep.name(gaps))[cols]


def _gaps(rep: Report) -> pd.DataFrame:
    """``evidence_gaps`` in both languages (``name_id, name_en`` instead of ``item_name``)."""
    items = estimate.evidence_items(rep.tables, rep.year, rep.city, settings=rep.settings)
    gaps = items[items["status"] != "ada"].copy()
    cols = ["opd", "indicator", "item", "name_id", "name_en", "status", "title", "gain",
            "file"]
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    inputs = rep.indicators[estimate.INPUT_COLUMNS]
    cands = plan.candidate_actions(gaps, inputs, rep.rules, rep.settings.actions)
    cands = cands[cands["action"] != "raise_statistic"].reset_index(drop=True)
    gains = {(ind, item): float(g) for ind, item, g in zip(
        cands["indicator"], cands["item"], plan.single_action_gains(inputs, cands, rep.rules),
        strict=True)}
    gaps["gain"] = [gains.get((i, it), math.nan) for i, it in
                    zip(gaps["indicator"], gaps["item"], strict=True)]
    gaps["file"] = gaps["item"].map(item_files(rep))
    gaps["opd"] = gaps["opd"].astype(str).str.strip()
    order = gaps.groupby("opd")["gain"].sum().sort_values(ascending=False)
    gaps["_opd_rank"] = gaps["opd"].map({o: i for i, o in enumerate(order.index)})
    out = gaps.sort_values(["_opd_rank", "gain", "indicator", "item"],
                           ascending=[True, False, True, True], kind="stable")[cols]
    return out.reset_index(drop=True)


# --- 6. trend ------------------------------------------------------------------------------

def official_predicates(rep: Report) -> pd.DataFrame:
    """``calibration.official_predicates`` of the report's city, read once per report (the
    trend and the data-quality notes both need it)."""
    if "official" not in rep._cache:
        rep._cache["official"] = calibration.official_predicates(rep.tables, rep.city,
                                                                 bands=rep.bands)
    return rep._cache["official"]


def trend_table(rep: Report) -> pd.DataFrame:
    """Every evaluation year of the city up to the report's year: ``year, claimed, estimate,
    low, high, estimated_predicate, official_predicate, official_status``.

    Years with a self-assessment carry the estimate; years known only from official
    results carry the official predicate alone.
    """
    if "trend" in rep._cache:
        return rep._cache["trend"]
    off = official_predicates(rep)
    rows = {int(y): {"year": int(y), "official_predicate": p, "official_status": s}
            for y, p, s in zip(off["year"], off["predicate"], off["status"], strict=True)}
    for y in estimate.assessment_years(rep.tables, rep.city):
        s = rep.score if y == rep.year else other_year_score(rep, y)
        if s is None:
            continue
        rows.setdefault(y, {"year": y, "official_predicate": None, "official_status": None})
        rows[y].update(claimed=s["claimed_total"], estimate=s["estimated_total"],
                       low=s["estimated_total_min"], high=s["estimated_total_max"],
                       estimated_predicate=s["estimated_predicate"])
    cols = ["year", "claimed", "estimate", "low", "high", "estimated_predicate",
            "official_predicate", "official_status"]
    out = pd.DataFrame([r for y, r in sorted(rows.items()) if y <= rep.year], columns=cols)
    for c in ("claimed", "estimate", "low", "high"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    rep._cache["trend"] = out
    return out


def trend_cluster_table(rep: Report) -> pd.DataFrame:
    """Every block in every year of ``trend_table`` that has a self-assessment: ``year,
    cluster, label, claimed, backed, max_points`` (years ascending, blocks in report order).

    ``backed`` is NaN in a year without a data dukung inventory (no estimate, as in the
    trend); a year whose data cannot be scored is left out (``rep.problems``), as there.
    """
    if "trend_clusters" in rep._cache:
        return rep._cache["trend_clusters"]
    frames = []
    for y in trend_table(rep).dropna(subset=["claimed"])["year"].astype(int):
        s = rep.score if y == rep.year else other_year_score(rep, y)
        if s is None:
            continue
        cl = year_clusters(rep, y)
        frames.append(pd.DataFrame({
            "year": y, "cluster": cl["cluster"],
            "label": [cluster_label(c, n, rep.lang) for c, n in
                      zip(cl["cluster"], rep.name(cl), strict=True)],
            "claimed": cl["claimed_points"].astype(float),
            "backed": cl["backed_points"].astype(float)
            if s["estimated_total"] is not None else math.nan,
            "max_points": cl["max_points"].astype(float)}))
    cols = ["year", "cluster", "label", "claimed", "backed", "max_points"]
    out = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    rep._cache["trend_clusters"] = out
    return out


# --- 7. kelurahan --------------------------------------------------------------------------

def kelurahan_views(rep: Report) -> list[dict]:
    """Statistics per area for the report's data year (else the latest earlier one): one
    dict per measure with desa/kelurahan or kecamatan rows (``levels``; earlier level names
    read too).

    Keys: ``measure, indicator, label, unit, target, direction, data_year``; ``values``
    (DataFrame ``kecamatan, area, value, numerator, denominator``: the desa/kelurahan rows,
    possibly none); ``kecamatan`` (DataFrame ``kecamatan, value, numerator, denominator,
    source, n_areas, low, high``: one row per kecamatan with a figure or with desa/kelurahan
    rows; ``source`` is ``given`` (a kecamatan row), ``combined`` (its desa/kelurahan added
    up: counts, or percentages with their counts) or ``none``; ``low``/``high``: the range of
    its desa/kelurahan values); ``area_word`` (``desa``, ``kelurahan`` or
    ``desa/kelurahan``, from the gazetteer's ``Jenis`` of the areas shown).
    """
    views = rep.model_result(("kelurahan", rep.year), lambda: _area_views(rep))
    return [{("label" if k == "labels" else k): (x[rep.lang] if k == "labels" else x)
             for k, x in v.items()} for v in views]


def _area_views(rep: Report) -> list[dict]:
    """``kelurahan_views`` with ``labels`` (language -> label) instead of ``label``: the
    same for both languages' reports, so kept between them like the model results."""
    from .. import levels
    from ..params import LANGS

    data_year = rep.year - int(rep.rules["statistic.data_year_offset"])
    st = estimate.city_rows(estimate.get_table(rep.tables, "statistics"), rep.city)
    if st.empty:
        return []
    level = levels.canonical(st["area_level"])
    st = st[level.isin([levels.KECAMATAN, levels.VILLAGE]).fillna(False).to_numpy()].assign(
        _level=level)
    # numbers converted once for every measure (small-frame pandas calls cost ~1 ms each:
    # per measure and per kecamatan they were most of this section's time)
    nums = ("value", "numerator", "denominator")
    st = st.assign(_year=pd.to_numeric(st["data_year"], errors="coerce"),
                   _indicator=pd.to_numeric(st["indicator"], errors="coerce"),
                   **{c: pd.to_numeric(st[c], errors="coerce") for c in nums})
    st = st[st["_year"] <= data_year]
    # the rows of each measure's latest year, desa/kelurahan sorted by name as shown
    st = st[st["_year"] == st.groupby("measure")["_year"].transform("max")]
    st = st.sort_values(["measure", "area", "kecamatan"], kind="stable")
    views = []
    by_measure = rep.catalog.dropna(subset=["measure"]).set_index("measure")
    types = _area_types(rep)
    word = load_region(rep.paths.raw).area_word  # the folder's own word, if it chose one
    cols = ["kecamatan", "area", "value", "numerator", "denominator"]
    for measure, rows in st.groupby("measure", sort=True):
        meta = by_measure.loc[measure] if measure in by_measure.index else None
        given = rows["_indicator"].dropna()
        ind = int(meta["indicator"]) if meta is not None else \
            (int(given.iloc[0]) if len(given) else None)
        village = (rows["_level"] == levels.VILLAGE).to_numpy()
        values = rows.loc[village, cols].reset_index(drop=True)
        unit = str(rows["unit"].iloc[0]) if "unit" in rows else None
        kec = rows.loc[~village, cols]
        views.append({
            "measure": measure, "indicator": ind,
            "labels": {lang: meta[f"measure_{lang}"] if meta is not None
                       else measure_label(str(measure), lang) for lang in LANGS},
            "unit": unit,
            "target": float(meta["target"]) if meta is not None and pd.notna(meta["target"])
            else None,
            "direction": meta["direction"] if meta is not None else None,
            "data_year": int(rows["_year"].iloc[0]),
            "values": values,
            "kecamatan": _kecamatan_figures(kec, values, unit),
            "area_word": word or _area_word(values, types, rep.city)})
    return views


def _area_types(rep: Report) -> dict[tuple[str, str], str]:
    """(kecamatan, desa/kelurahan) -> ``desa`` / ``kelurahan`` from the gazetteer's Jenis."""
    gaz = estimate.get_table(rep.tables, "gazetteer")
    if gaz.empty or "area_type" not in gaz:
        return {}
    gaz = estimate.city_rows(gaz, rep.city).dropna(subset=["area_type"])
    return {(str(k), str(a)): str(t) for k, a, t in zip(
        gaz["kecamatan"], gaz["kelurahan"], gaz["area_type"], strict=True)}


def _area_word(values: pd.DataFrame, types: dict, city: str) -> str:
    """``desa`` or ``kelurahan`` when every area shown is one, else ``desa/kelurahan``
    (unknown types: ``kelurahan`` in a kota, ``desa/kelurahan`` otherwise)."""
    from ..region import region_type

    found = {types.get((str(k), str(a))) for k, a in zip(values["kecamatan"], values["area"],
                                                          strict=True)}
    if None in found:
        found.discard(None)
        found.add("kelurahan" if region_type(city) == "kota" else "desa/kelurahan")
    return found.pop() if len(found) == 1 else "desa/kelurahan"


def _kecamatan_figures(kec: pd.DataFrame, values: pd.DataFrame, unit: str | None
                       ) -> pd.DataFrame:
    """One row per kecamatan (see ``kelurahan_views``), in one grouped pass: a kecamatan's
    own row is kept as given (the last one if it is given twice); a kecamatan known only
    from its desa/kelurahan is combined from them (counts added, percentages from their
    counts when every one has both), else has no figure."""
    cols = ["kecamatan", "value", "numerator", "denominator", "source", "n_areas", "low",
            "high"]
    num = {c: pd.to_numeric(kec[c], errors="coerce").to_numpy(float)
           for c in ("value", "numerator", "denominator")}
    out = {}  # kecamatan -> row; a kecamatan given twice keeps its last row
    for i, k in enumerate(kec["kecamatan"].map(str)):
        out[k] = {"kecamatan": k, "value": num["value"][i], "numerator": num["numerator"][i],
                  "denominator": num["denominator"][i], "source": "given"}
    v = values[values["value"].notna() & values["kecamatan"].notna()]
    # numpy over group codes: pandas' grouped aggregations cost ~1 ms per call, per
    # measure, which was most of this section's time
    codes, names = pd.factorize(v["kecamatan"].map(str), sort=True)
    n_groups = len(names)
    val = v["value"].to_numpy(float)
    nu, de = v["numerator"].to_numpy(float), v["denominator"].to_numpy(float)
    count = np.bincount(codes, minlength=n_groups)
    low, high = np.full(n_groups, np.inf), np.full(n_groups, -np.inf)
    np.minimum.at(low, codes, val)
    np.maximum.at(high, codes, val)
    total = np.bincount(codes, weights=val, minlength=n_groups)
    n_sum = np.bincount(codes, weights=np.nan_to_num(nu), minlength=n_groups)
    d_sum = np.bincount(codes, weights=np.nan_to_num(de), minlength=n_groups)
    complete = (np.bincount(codes, weights=np.isnan(nu) | np.isnan(de),
                            minlength=n_groups) == 0)
    for g, k in enumerate(names):
        row = out.setdefault(k, {"kecamatan": k, "value": math.nan, "numerator": math.nan,
                                 "denominator": math.nan, "source": "none"})
        row.update(n_areas=int(count[g]), low=float(low[g]), high=float(high[g]))
        if row["source"] != "none":
            continue
        if unit == "percent" and complete[g] and d_sum[g] > 0:
            row.update(value=100 * float(n_sum[g]) / float(d_sum[g]),
                       numerator=float(n_sum[g]), denominator=float(d_sum[g]),
                       source="combined")
        elif unit == "count":
            row.update(value=float(total[g]), source="combined")
    df = pd.DataFrame(list(out.values()), columns=cols)
    df["n_areas"] = df["n_areas"].fillna(0).astype(int)
    return df.sort_values("kecamatan").reset_index(drop=True)


# --- 8. peers ------------------------------------------------------------------------------

def peers_table(rep: Report) -> pd.DataFrame:
    """Published predicates of the kab/kota in the city's province (the city included):
    ``city, year, predicate, status, source_url``."""
    off = estimate.get_table(rep.tables, "official_results")
    cols = ["city", "year", "predicate", "status", "source_url"]
    if off.empty or "province" not in off:
        return pd.DataFrame(columns=cols)
    same = off["province"].astype("string").str.strip().str.casefold() == \
        str(rep.province or "").strip().casefold()
    out = off[same.fillna(False).astype(bool) & off["predicate"].notna()].copy()
    out["year"] = pd.to_numeric(out["year"]).astype(int)
    return out.reindex(columns=cols).sort_values(["city", "year"]).reset_index(drop=True)


# --- 9. plan -------------------------------------------------------------------------------

def plan_result(rep: Report) -> dict:
    """``plan.plan_year`` for the report's year and target (``summary, actions, indicators``)
    with ``chance_plan`` (the least-effort plan reaching the target with a chance of at least
    ``chance_plan.DEFAULT_CHANCE`` over the posterior, its effort-chance frontier and each
    action's gain in chance) when the posterior has enough effective draws for the year;
    without it (``chance_plan`` absent) when the posterior cannot be fitted."""
    def compute() -> dict:
        try:
            return plan.plan_year(rep.tables, rep.year, rep.city, rep.target,
                                  settings=rep.settings, chance=chance_plan.DEFAULT_CHANCE)
        except KlaError:  # no posterior for this folder: the single-setting plan
            return plan.plan_year(rep.tables, rep.year, rep.city, rep.target,
                                  settings=rep.settings)

    return rep.model_result(("plan", rep.year), compute)


# --- 10. calibration, methodology, sources, quality ---------------------------------------

def calibration_table(rep: Report) -> tuple[pd.DataFrame, dict]:
    """``calibration.calibrate`` for the city and its summary, fed the per-year scores the
    report already computed for its headline and trend (``other_year_score``), so no year
    is scored twice (each score runs the 288-setting sensitivity grid).

    If some year's data cannot be scored, calibration covers the years that can (that year
    reads "no self-assessment", as if its rows were left out).
    """
    def compute() -> tuple[pd.DataFrame, dict]:
        cal = calibration.calibrate(
            rep.tables, rep.city, settings=rep.settings,
            score_of=lambda y: rep.score if y == rep.year else other_year_score(rep, y))
        return cal, calibration.calibration_summary(cal)

    return rep.model_result(("calibration", rep.year), compute)


def methodology_table(rep: Report) -> pd.DataFrame:
    """Every rule of the estimate, sensitivity and planner (``section, rule, value,
    assumption, rationale``), rationale in the report language."""
    return methodology.methodology_table(rep.settings, rep.lang)


def sources_table(rep: Report) -> pd.DataFrame:
    """``raw/sources.csv`` (provenance of every raw file), or an empty frame.

    ``lang`` is the language the row's notes are written in when the file declares it (an
    optional ``lang`` column, e.g. ``en``), else blank: notes are data, shown as written."""
    path = rep.paths.raw / "sources.csv"
    cols = ["file", "dataset", "delivered_by", "status", "source_url", "notes", "lang"]
    if not path.is_file():
        return pd.DataFrame(columns=cols)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise KlaError(f"{path}: cannot be read ({err})") from None
    return df.reindex(columns=cols, fill_value="")


def quality_notes(rep: Report) -> list[str]:
    """Data-quality notes for the year, as sentences in the report language."""
    ind = rep.indicators
    notes = []
    unclaimed = int(ind["claimed_points"].isna().sum())
    if unclaimed:
        notes.append(t("quality.no_self_assessment", rep.lang, n=unclaimed))
    no_ev = int((ind["evidence_rows"] == 0).sum())
    if no_ev:
        notes.append(t("quality.no_evidence", rep.lang, n=no_ev))
    src = sources_table(rep)
    illustrative = int(src["status"].str.strip().str.casefold().isin(
        ["illustrative", "mixed"]).sum())
    if illustrative:
        notes.append(t("quality.illustrative", rep.lang, n=illustrative))
    off = official_predicates(rep)
    unconfirmed = off.loc[off["status"].astype("string").str.strip() != "published", "year"]
    if len(unconfirmed):
        notes.append(t("quality.official_unconfirmed", rep.lang,
                       years=", ".join(str(int(y)) for y in unconfirmed)))
    headline(rep), trend_table(rep)  # fill rep.problems
    for year, message in sorted(rep.problems.items()):
        notes.append(t("quality.year_failed", rep.lang, year=year, error=message))
    if ind["statistic_value"].isna().all():
        notes.append(t("quality.no_statistics", rep.lang, data_year=int(ind["data_year"].iloc[0])))
    return notes
