"""The posterior model: band probabilities fitted to the official record.

In plain words. The scoring rules of the estimate are not published, so the priors in
``scoring_rules.yaml`` give each uncertain rule a distribution (assumptions with their
rationale). ``fit`` draws many rule settings from them (20,000 by default), scores every
city-year that has a self-assessment under each setting in one vectorised pass, and asks of
each draw how well it reproduces the official record:

* the **verified score** of a city-year is ``model score + round effect + noise``: the round
  effect (points shared by every city of one evaluation round: stricter or more lenient
  verifiers, a changed instrument) is drawn with the setting; the noise (what the rules
  cannot see in one city and year) is normal with a drawn standard deviation and is
  integrated exactly (normal CDF differences over the band's bounds);
* the **likelihood** of a draw is the product over official rows of P(verified score in the
  announced band) ^ status weight (published 1, inferred 0.5, unconfirmed 0.25: data); where
  many cities without their own official row are scored in a round, the published national
  counts per predikat add a term (normal approximation of the shares);
* each draw's **weight** is its likelihood, normalised (importance sampling from the prior);
  the **effective sample size** (Kish: 1 / sum of squared weights) says how many equally
  weighted draws the weights are worth. Below ``posterior.min_ess`` the draws are too few to
  trust and ``enough`` is False: callers must not print probabilities then.

When the record is too sharp for prior draws (hundreds of official rows: the first 2,000
draws promise far fewer than ``min_ess`` effective draws, or all 20,000 leave fewer), the
draws are re-made around the most probable settings and weighted by prior / proposal x
likelihood (:mod:`kla_analysis.model.adaptive`): the same posterior, more effective draws;
``messages`` says so. Whether the model can explain an official row is always judged on
prior draws. The machinery (bands, scored draws, weights) is in
:mod:`kla_analysis.model.draws`.

``predict`` turns the weighted draws into the predictive distribution of one city-year's
verified score: the probability of each band ("Belum berpredikat" below Pratama included;
they sum to 1), P(reaching a target), the posterior median and an 80 % interval.
``fit(..., exclude=[(city, year)])`` leaves official rows out (leave-one-year-out: the
backtest and the out-of-sample headline of a past year); re-weighting is cheap because the
scored draws are cached per (tables, settings) within the process.

Every number here is a model estimate resting on assumptions, never an official result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import KlaError
from .draws import (
    CHUNK_ELEMENTS,
    Core,
    Posterior,
    _float32,
    _key,
    _weigh,
    band_column,
    band_cuts,
    band_names,
    band_probabilities,
    build_core,
    kish_ess,
    log_band_probability,
    mixture_quantiles,
    national_loglik,
    official_table,
    score_draws,
    weigh,
)
from .estimate import Tables, _arrays
from .inputs_all import _inputs_all, city_years
from .priors import (
    EXTRA,
    draw_noise,
    draw_round_effects,
    draw_rules,
    prior_specs,
    quantiles,
)
from .scoring import canonical_predicate
from .settings import Settings

#: Names of :mod:`draws` used with ``posterior.`` (the planner, the report, the tests).
__all__ = ["Core", "Posterior", "band_column", "band_cuts", "band_names", "band_probabilities",
           "build_core", "chance_lines", "chance_words", "clear_cache", "fit", "fit_check",
           "kish_ess", "log_band_probability", "mixture_quantiles", "national_loglik",
           "official_table", "predict", "predict_all", "prior_description", "prior_posterior",
           "reweigh", "scenarios", "score_draws", "weigh", "year_outputs"]

#: Prior draws scored first, to tell whether prior draws can do (see ``_core``).
PRE_DRAWS = 2000
#: Fit-check flag: an official band given less than this probability.
FLAG_BELOW = 0.2


def chance_words(p: float | None) -> str:
    """A probability as people read it: ``about 2 in 10``, ``less than 1 in 20``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "not known"
    if p < 0.05:
        return "less than 1 in 20"
    if p > 0.95:
        return "more than 19 in 20"
    return f"about {max(1, min(9, round(p * 10)))} in 10"


# ---------------------------------------------------------------------------------------------
# The scored draws of one (tables, settings), cached
# ---------------------------------------------------------------------------------------------


_CACHE: list[Core] = []
_CACHE_SIZE = 2


def _tables_key(tables: Tables) -> tuple:
    return tuple((name, id(df), len(df), tuple(map(str, df.columns)))
                 for name, df in sorted(tables.items(), key=lambda kv: kv[0]))


def _core(tables: Tables, settings: Settings, draws: int | None, seed: int | None) -> Core:
    doc = settings.rules_document
    config = dict(doc["posterior"])
    n = int(draws or config["draws"])
    seed = int(config["seed"] if seed is None else seed)
    key = (_tables_key(tables), id(settings), n, seed)
    for c in _CACHE:
        if c.key == key:
            return c
    specs = prior_specs(doc)
    cy = city_years(tables)
    n_ind = len(settings.catalog)
    params = draw_rules(specs, n, seed)
    rules = dict(settings.rules)
    available, arrays = np.zeros(len(cy), dtype=bool), {}
    if not cy.empty:
        try:
            inputs = _inputs_all(tables, cy, settings)
        except KlaError:
            # one city-year whose data cannot be scored must not take down every other one:
            # leave it out (its own report says why) and score the rest
            tables, cy, config["skipped"] = _scorable(tables, cy, settings)
            inputs = _inputs_all(tables, cy, settings)
        arrays = _float32(_arrays(inputs))
        available = inputs["evidence_rows"].to_numpy().reshape(len(cy), n_ind).sum(1) > 0
    cy = cy.assign(available=available)
    rounds = tuple(sorted(int(y) for y in cy["year"].unique()))
    effects, noise = draw_round_effects(specs, n, seed, rounds), draw_noise(specs, n, seed)
    official = official_table(tables, settings.bands, config)
    refs = (tables, dict(tables), settings)
    adapt = config.get("adapt") or {}
    min_ess = float(config["min_ess"])

    def scored(d: slice) -> np.ndarray:
        if cy.empty:
            return np.empty((len(noise[d]), 0), dtype=np.float32)
        out = score_draws(arrays, rules, {k: v[d] for k, v in params.items()}, n_ind)
        out[:, ~available] = np.nan
        return out

    def keep(core: Core) -> Core:
        _CACHE.insert(0, core)
        del _CACHE[_CACHE_SIZE:]
        return core

    first = slice(0, PRE_DRAWS) if adapt.get("enabled") and n >= 10 * PRE_DRAWS else slice(0, n)
    scores = scored(first)
    if first.stop < n:
        # a first tenth of the draws tells whether prior draws can do: when even ten
        # times as many would leave far too few effective draws, adapt straight away
        pre = build_core(cy, scores, effects[first], noise[first],
                         {k: v[first] for k, v in params.items()}, official, settings,
                         rounds=rounds, key=key, refs=refs)
        if len(pre.used_rows) and _weigh(pre, ()).ess * n / PRE_DRAWS < min_ess / 4:
            from .adaptive import refine  # a record too sharp for prior draws

            return keep(refine(pre, arrays, n_ind, n_draws=n, prior_sample={
                "params": params, "effects": effects.astype(np.float32), "noise_sd": noise}))
        scores = np.concatenate([scores, scored(slice(first.stop, n))])
    core = build_core(cy, scores, effects, noise, params, official, settings, rounds=rounds,
                      key=key, refs=refs)
    if adapt.get("enabled") and len(core.used_rows) and _weigh(core, ()).ess < min_ess:
        from .adaptive import refine

        core = refine(core, arrays, n_ind, n_draws=n)
    return keep(core)


def _scorable(tables: Tables, cy: pd.DataFrame, settings: Settings) -> tuple[
        dict, pd.DataFrame, dict]:
    """The tables without the city-years whose data cannot be scored, those city-years'
    rows of ``cy`` dropped, and ``{(city key, year): why}`` for each (found one city-year at
    a time with ``estimate.indicator_inputs``, which raises for that year alone)."""
    from .estimate import get_table, indicator_inputs

    bad = {}
    for ck, city, year in cy[["ck", "city", "year"]].itertuples(index=False):
        try:
            indicator_inputs(tables, int(year), city, settings=settings)
        except KlaError as err:
            bad[(ck, int(year))] = str(err)
    out = dict(tables)
    for name in ("self_assessment", "evidence"):
        df = get_table(tables, name)
        if df.empty:
            continue
        key = list(zip(df["city"].map(_key), pd.to_numeric(df["year"], errors="coerce"),
                       strict=True))
        out[name] = df[[(k, y) not in bad for k, y in key]]
    drop = [(k, int(y)) in bad for k, y in zip(cy["ck"], cy["year"], strict=True)]
    return out, cy[~np.array(drop, dtype=bool)].reset_index(drop=True), bad


def clear_cache() -> None:
    """Forget the scored draws kept for re-use (tests; a long-running process)."""
    _CACHE.clear()


def fit(tables: Tables, settings: Settings, *, exclude: Iterable = (),
        draws: int | None = None, seed: int | None = None) -> Posterior:
    """Weight the prior draws by the official record (see the module docstring).

    ``exclude``: official ``(city, year)`` rows left out of the likelihood (city names
    compared case- and space-insensitively), e.g. leave-one-year-out. ``draws``/``seed``
    override ``posterior.draws``/``posterior.seed`` of the rules file. The scored draws are
    cached for the same ``tables``/``settings`` objects (treat them as read-only), so a
    second call with another ``exclude`` only re-weights.
    """
    return _weigh(_core(tables, settings, draws, seed), exclude)


def reweigh(post: Posterior, exclude: Iterable = ()) -> Posterior:
    """The same draws weighted with other official rows left out (no re-scoring)."""
    return _weigh(post.core, exclude)


# ---------------------------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------------------------


def _cy_index(core: Core, city: str, year: int) -> int:
    cy = core.city_years
    hit = np.flatnonzero((cy["ck"] == _key(city)).to_numpy() & (cy["year"] == int(year))
                         .to_numpy())
    if not len(hit):
        why = (core.config.get("skipped") or {}).get((_key(city), int(year)))
        if why:
            raise KlaError(why)
        known = sorted(cy.loc[cy["ck"] == _key(city), "year"].astype(int))
        raise KlaError(f"no self-assessment for {city} in {year}; years with a "
                       f"self-assessment: {', '.join(map(str, known)) or 'none'}")
    return int(hit[0])


def _effect(core: Core, year: int, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Round effect of ``year`` per draw; a year without a round in the data is drawn from
    its prior stream (the same for every call)."""
    if int(year) in core.rounds:
        return core.effects[idx, core.rounds.index(int(year))].astype(float)
    fresh = draw_round_effects(core.specs, core.n_draws, int(core.config["seed"]), [int(year)])
    return fresh[idx, 0]


def draw_scores(post: Posterior, inputs: pd.DataFrame) -> np.ndarray:
    """Model score of every draw for one city-year's ``indicator_inputs`` (shape (S,))."""
    core = post.core
    arrays = _float32(_arrays(inputs))
    return score_draws(arrays, core.rules, core.params, len(inputs))[:, 0].astype(float)


def _default_target(core: Core, ck: str, median: float | None) -> str:
    names = list(core.bands)
    off = core.official[core.official["ck"] == ck]
    if len(off):
        i = int(off.sort_values("year")["band"].iloc[-1])
        return names[max(1, min(i + 1, len(names) - 1))]
    if median is None or math.isnan(median):
        return names[1]
    i = int(np.searchsorted(core.cuts, median, side="left"))
    return names[max(1, min(i + 1, len(names) - 1))]


def _target(core: Core, target: str | None, ck: str, median: float | None) -> str:
    if target is None:
        return _default_target(core, ck, median)
    try:
        return canonical_predicate(target, core.settings.bands)
    except ValueError as err:
        raise KlaError(str(err)) from None


def predict(post: Posterior, city: str, year: int, target: str | None = None, *,
            inputs: pd.DataFrame | None = None) -> dict:
    """The predictive distribution of one city-year's verified score.

    Keys: ``city, year, band_probabilities`` (every band, 'Belum berpredikat' included, to
    its probability; they sum to 1), ``target, p_target`` (P(band >= target); the default
    target is one band above the city's latest official predikat), ``interval_80`` (lo, hi:
    the 10 % and 90 % quantiles, points), ``median``, ``ess``, ``enough`` (ESS >= the
    minimum: when False do not print the probabilities), ``official_predicate`` (of that
    year, or None), ``out_of_sample`` (True when that year's official row is not in the
    fit: excluded or absent), ``evidence_available``, ``messages``.

    ``inputs``: the city-year's ``indicator_inputs`` (e.g. a what-if); by default the
    scored draws of the tables are used. ``KlaError`` for a city-year without a
    self-assessment or an unknown target.
    """
    core = post.core
    i = _cy_index(core, city, year)
    rec = core.city_years.iloc[i]
    ck = str(rec["ck"])
    off = core.official[(core.official["ck"] == ck) & (core.official["year"] == int(year))]
    official = None if off.empty else str(off["predicate"].iloc[0])
    out = {"city": str(rec["city"]), "year": int(year), "official_predicate": official,
           "out_of_sample": off.empty or (ck, int(year)) in post.exclude,
           "evidence_available": bool(rec["available"]), "ess": post.ess,
           "enough": post.enough, "messages": list(post.messages)}
    if inputs is None and not rec["available"]:
        target = _target(core, target, ck, None)
        return {**out, "band_probabilities": None, "target": target, "p_target": None,
                "interval_80": None, "median": None, "enough": False,
                "messages": [*post.messages, "no evidence inventory for this year: the model "
                                             "has no score to predict from"]}
    m = core.scores[:, i].astype(float) if inputs is None else draw_scores(post, inputs)
    mu = m + _effect(core, year)
    probs = post.weights @ band_probabilities(mu, core.noise_sd, core.cuts)
    probs = probs / probs.sum()
    lo, med, hi = mixture_quantiles(mu, core.noise_sd, post.weights, (0.1, 0.5, 0.9))
    smin = float(core.settings.bands.attrs.get("scale_min", 0))
    smax = float(core.settings.bands.attrs.get("scale_max", 1000))
    lo, med, hi = (float(np.clip(v, smin, smax)) for v in (lo, med, hi))
    target = _target(core, target, ck, med)
    t = list(core.bands).index(target)
    return {**out, "band_probabilities": dict(zip(core.bands, map(float, probs), strict=True)),
            "target": target, "p_target": float(probs[t:].sum()), "interval_80": (lo, hi),
            "median": med}


def predict_all(post: Posterior) -> pd.DataFrame:
    """Band probabilities of every scored city-year at once: ``ck, city, year`` and one
    ``p_<band>`` column per band (``band_column``; NaN without an evidence inventory),
    plus ``ess`` and ``enough``. In-sample: a city-year's own official row is in the fit."""
    core = post.core
    cy = core.city_years
    out = cy[["ck", "city", "year"]].copy().reset_index(drop=True)
    k = len(core.bands)
    probs = np.full((len(cy), k), np.nan)
    avail = np.flatnonzero(cy["available"].to_numpy())
    r_of = np.array([core.rounds.index(int(y)) for y in cy["year"]], dtype=int)
    step = max(1, CHUNK_ELEMENTS // 8 // max(1, core.n_draws * k))
    keep = np.flatnonzero(post.weights > 1e-12 * post.weights.max())
    w = post.weights[keep] / post.weights[keep].sum()
    sd = core.noise_sd[keep][:, None]
    for g0 in range(0, len(avail), step):
        g = avail[g0:g0 + step]
        mu = (core.scores[np.ix_(keep, g)].astype(float)
              + core.effects[np.ix_(keep, r_of[g])])
        p = band_probabilities(mu, np.broadcast_to(sd, mu.shape), core.cuts)
        probs[g] = np.einsum("s,sck->ck", w, p)
    for j, name in enumerate(core.bands):
        out[band_column(name)] = probs[:, j]
    out["ess"] = post.ess
    out["enough"] = post.enough
    return out


def scenarios(post: Posterior, city: str, year: int, n: int = 300,
              seed: int | None = None) -> pd.DataFrame:
    """A weighted resample of ``n`` posterior draws for the planner: one row per scenario,
    one column per rule of ``Rules`` (the drawn value, or the headline value of a rule
    without a prior), ``offset`` (that scenario's round effect for ``year`` plus one noise
    draw, points: the verified score is the scenario's model score + offset), ``weight``
    (1/n), ``draw`` (the posterior draw) and ``model_score`` (the city-year's model score
    in that draw). Systematic resampling with ``seed`` (default: the rules' seed and the
    year). ``attrs``: ``ess``, ``enough``, ``city``, ``year`` (check ``enough`` before
    printing a chance)."""
    core = post.core
    if not isinstance(n, int) or n < 1:
        raise KlaError(f"scenarios: n must be a whole number of at least 1, got {n!r}")
    i = _cy_index(core, city, year)
    rng = np.random.default_rng([int(core.config["seed"]), int(year)] if seed is None
                                else seed)
    cum = np.cumsum(post.weights)
    idx = np.minimum(np.searchsorted(cum, (rng.random() + np.arange(n)) / n * cum[-1]),
                     core.n_draws - 1)
    cols: dict[str, object] = {}
    for key, value in core.rules.items():
        if key in core.params:
            v = core.params[key][idx]
            cols[key] = v.astype(float) if v.dtype.kind == "f" else v.astype(object)
        else:
            cols[key] = [value] * n
    offset = _effect(core, year, idx) + rng.standard_normal(n) * core.noise_sd[idx]
    df = pd.DataFrame({**cols, "offset": offset, "weight": 1.0 / n, "draw": idx,
                       "model_score": core.scores[idx, i].astype(float)})
    df.attrs.update(ess=post.ess, enough=post.enough, city=str(core.city_years.iloc[i]["city"]),
                    year=int(year))
    return df


# ---------------------------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------------------------

FIT_CHECK_COLUMNS = ["city", "year", "official_predicate", "official_status", "weight",
                     "p_in_sample", "p_out_of_sample", "ess_out_of_sample", "flag", "note"]


def _row_probability(post: Posterior, col: int) -> float:
    return float(post.weights @ np.exp(post.core.loglik[:, col]))


def fit_check(post: Posterior, city: str) -> pd.DataFrame:
    """Per official year of the city: ``FIT_CHECK_COLUMNS``. ``p_in_sample`` is the
    probability the fit gives the official band with that year in the record,
    ``p_out_of_sample`` without it (leave-one-year-out); ``flag`` is True when the
    out-of-sample probability is under 0.2 (or the in-sample one, where no out-of-sample
    one can be computed). Years the model cannot score say why in ``note``."""
    core = post.core
    ck = _key(city)
    off = core.official[core.official["ck"] == ck]
    col_of = {int(j): c for c, j in enumerate(core.used_rows)}
    rows = []
    for j, r in off.iterrows():
        year = int(r["year"])
        row = {"city": str(r["city"]), "year": year, "official_predicate": r["predicate"],
               "official_status": r["status"], "weight": float(r["weight"]),
               "p_in_sample": None, "p_out_of_sample": None, "ess_out_of_sample": None,
               "flag": None, "note": ""}
        if int(j) not in col_of:
            row["note"] = ("no self-assessment" if r["cy"] < 0 else "no evidence inventory")
            rows.append(row)
            continue
        col = col_of[int(j)]
        inside = _weigh(core, [(c, y) for c, y in post.exclude if (c, y) != (ck, year)])
        loo = _weigh(core, [*post.exclude, (ck, year)])
        p_in, p_out = _row_probability(inside, col), _row_probability(loo, col)
        row.update(p_in_sample=p_in, p_out_of_sample=p_out, ess_out_of_sample=loo.ess,
                   flag=bool((p_out if loo.enough else p_in) < FLAG_BELOW))
        notes = []
        if p_in < FLAG_BELOW:
            notes.append("the fitted model gives the official band little probability even "
                         "with this year in the record")
        if not loo.enough:
            notes.append("too few effective draws without this year")
        elif p_out < FLAG_BELOW:
            notes.append("out of sample the model misses this year")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=FIT_CHECK_COLUMNS)


PRIOR_POSTERIOR_COLUMNS = ["parameter", "kind", "prior_mean", "prior_lo", "prior_hi",
                           "posterior_mean", "posterior_lo", "posterior_hi", "settled", "note"]


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Iterable[float]) -> np.ndarray:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    cum /= cum[-1]
    return np.interp(list(qs), cum, x[order])


def prior_posterior(post: Posterior) -> pd.DataFrame:
    """Per parameter, the prior against the posterior: ``PRIOR_POSTERIOR_COLUMNS``.

    Numbers (rules with a prior, ``round_effect.<year>``, ``noise_sd``): mean and 80 %
    interval (10 %-90 %) of the prior draws and of the weighted draws; ``settled`` when the
    posterior interval is under half as wide as the prior's (the record has narrowed that
    assumption). Choices: one row per choice with its prior and posterior probability
    (``settled`` when they differ by more than 0.2). Without enough effective draws the
    posterior columns are empty."""
    core, w = post.core, post.weights
    prior = core.prior_sample or {"params": core.params, "effects": core.effects,
                                  "noise_sd": core.noise_sd}
    ok = post.enough
    rows = []

    def numeric(name: str, x: np.ndarray, px: np.ndarray, note: str = "") -> None:
        x, px = np.asarray(x, dtype=float), np.asarray(px, dtype=float)
        plo, phi = np.quantile(px, (0.1, 0.9))
        row = {"parameter": name, "kind": "number", "prior_mean": float(px.mean()),
               "prior_lo": float(plo), "prior_hi": float(phi), "posterior_mean": None,
               "posterior_lo": None, "posterior_hi": None, "settled": None, "note": note}
        if ok:
            lo, hi = _weighted_quantiles(x, w, (0.1, 0.9))
            row.update(posterior_mean=float(w @ x), posterior_lo=float(lo),
                       posterior_hi=float(hi),
                       settled=bool((hi - lo) < 0.5 * (phi - plo)))
        rows.append(row)

    for key, x in core.params.items():
        px = prior["params"][key]
        if x.dtype.kind == "f":
            numeric(key, x, px)
        else:
            for choice in core.specs[key]["probabilities"]:
                hit = (x == choice).astype(float)
                p0 = float((px == choice).mean())
                row = {"parameter": f"{key} = {choice}", "kind": "choice",
                       "prior_mean": p0, "prior_lo": None, "prior_hi": None,
                       "posterior_mean": None, "posterior_lo": None, "posterior_hi": None,
                       "settled": None, "note": "probability of this choice"}
                if ok:
                    p1 = float(w @ hit)
                    row.update(posterior_mean=p1, settled=bool(abs(p1 - p0) > 0.2))
                rows.append(row)
    for j, y in enumerate(core.rounds):
        has = bool(((core.official["year"] == y) & core.official["used"]).any())
        numeric(f"round_effect.{y}", core.effects[:, j], prior["effects"][:, j],
                "" if has else "no official result in this round: the prior")
    numeric("noise_sd", core.noise_sd, prior["noise_sd"])
    return pd.DataFrame(rows, columns=PRIOR_POSTERIOR_COLUMNS)


def prior_description(specs: Mapping[str, Mapping]) -> pd.DataFrame:
    """The priors as a table: ``parameter, distribution, summary`` (median and 80 %
    interval, or the choice probabilities), for the methodology text."""
    rows = []
    for key, spec in specs.items():
        if spec["distribution"] == "categorical":
            summary = ", ".join(f"{c} {p:g}" for c, p in spec["probabilities"].items())
        else:
            lo, med, hi = quantiles(spec, [0.1, 0.5, 0.9])
            summary = f"median {med:.3g}, 80% {lo:.3g}-{hi:.3g}"
        params = ", ".join(f"{k}={v}" for k, v in spec.items() if k not in (
            "distribution", "assumption", "rationale", "rationale_id", "probabilities"))
        rows.append({"parameter": key, "distribution": f"{spec['distribution']}({params})",
                     "summary": summary, "extra": key in EXTRA})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# One year's outputs for score_year
# ---------------------------------------------------------------------------------------------


def year_outputs(tables: Tables, settings: Settings, city: str, year: int,
                 target: str, inputs: pd.DataFrame | None = None) -> dict:
    """What ``calibration.score_year`` adds from the posterior for one city-year.

    For a year with an official result the probabilities are OUT OF SAMPLE (that year's row
    left out of the fit); otherwise from the whole record. Keys: ``band_probabilities``,
    ``p_target``, ``interval_80``, ``posterior_median`` (None when ``enough`` is False or
    the year has no evidence inventory), ``ess``, ``enough``, ``out_of_sample``,
    ``fit_check`` (records of ``fit_check``), ``posterior_messages``."""
    full = fit(tables, settings)
    core = full.core
    ck = _key(city)
    has_official = bool(((core.official["ck"] == ck) & (core.official["year"] == int(year)))
                        .any())
    post = reweigh(full, [(city, year)]) if has_official else full
    pred = predict(post, city, year, target, inputs=inputs)
    show = pred["enough"] and pred["band_probabilities"] is not None
    # the fit check is the same for every year of the city: computed once per fit
    cache = core.config.setdefault("_fit_checks", {})
    if ck not in cache:
        cache[ck] = fit_check(full, city)
    check = cache[ck]
    return {"band_probabilities": pred["band_probabilities"] if show else None,
            "p_target": pred["p_target"] if show else None,
            "interval_80": list(pred["interval_80"]) if show else None,
            "posterior_median": pred["median"] if show else None,
            "ess": float(pred["ess"]), "enough": bool(pred["enough"]),
            "out_of_sample": bool(pred["out_of_sample"]),
            "fit_check": [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                           for k, v in r.items()} for r in check.to_dict("records")],
            "posterior_messages": list(pred["messages"])}


def chance_lines(s: Mapping) -> list[str]:
    """``kla score``'s lines about the posterior, in plain words (from ``score_year``)."""
    lines = []
    off, target = s.get("official_predicate"), s.get("target_predicate")
    if off is not None and s.get("official_denies_target"):
        lines.append(f"  target {target} NOT reached: the official result for "
                     f"{s['year']} is {off}")
    for m in s.get("posterior_messages") or []:
        lines.append(f"  note: {m}")
    if not s.get("enough") or s.get("band_probabilities") is None:
        lines.append("  chance per predikat: withheld (too few effective draws or no "
                     "evidence inventory)")
        return lines
    sample = ("out of sample: this year's official result left out of the fit"
              if s.get("out_of_sample") and off is not None else "fitted to the official record")
    lines.append(f"  chance of reaching {target}: {chance_words(s['p_target'])} "
                 f"({s['p_target']:.0%}; model, {sample})")
    probs = s["band_probabilities"]
    lines.append("  chance per predikat: " + ", ".join(
        f"{b} {p:.0%}" for b, p in probs.items() if p >= 0.005))
    lo, hi = s["interval_80"]
    lines.append(f"  verified score, model: median {s['posterior_median']:.0f}, 80% between "
                 f"{lo:.0f} and {hi:.0f} (effective draws {s['ess']:.0f})")
    flagged = [f"{r['year']} ({r['official_predicate']})" for r in s.get("fit_check") or []
               if r.get("flag")]
    if flagged:
        lines.append("  fit check: the model gives the official band under 20% in "
                     + ", ".join(flagged))
    return lines
