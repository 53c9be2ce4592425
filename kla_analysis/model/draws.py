"""The scored draws of the posterior model and their weights (the machinery under
:mod:`kla_analysis.model.posterior`).

Band arithmetic (the normal likelihood of a band, its log accurate in both tails), the
scored prior draws of one (tables, settings) (``Core``: model score of every draw and
city-year, round effects, noise, log P(official band) per draw and official row), the
national counts term, and the weights (``Posterior``: importance weights, their Kish
effective sample size, what the record cannot explain). ``posterior`` fits, predicts and
explains; ``adaptive`` re-makes the draws when the record is too sharp for prior draws.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import log_ndtr, ndtr

from ..errors import KlaError
from .estimate import Tables, _score_arrays, get_table
from .inputs_all import _keys, _normalise
from .priors import prior_specs
from .rules import Rules
from .settings import Settings

#: Elements of the arrays worked on at a time (float32: 64 MB) where memory, not cache, is
#: the limit (likelihood, predictions).
CHUNK_ELEMENTS = 1 << 24
#: Scoring works on blocks of DRAW_BLOCK draws x city-years of about BLOCK_ELEMENTS elements
#: (float32: 0.5 MB), which stay in the processor's cache.
BLOCK_ELEMENTS = 1 << 17
DRAW_BLOCK = 512

# ---------------------------------------------------------------------------------------------
# Bands and the normal likelihood
# ---------------------------------------------------------------------------------------------


def band_names(bands: pd.DataFrame) -> list[str]:
    """Band names lowest first, the one below the lowest predikat first ('Belum
    berpredikat')."""
    return [str(bands.attrs.get("below_lowest", "Belum berpredikat")),
            *map(str, bands["predicate"])]


def band_cuts(bands: pd.DataFrame) -> np.ndarray:
    """The thresholds between consecutive bands (the predikat ``lower`` bounds)."""
    return bands["lower"].to_numpy(float)


def band_column(name: str) -> str:
    """Column name of a band's probability in ``bulk.score_all``: ``p_belum_berpredikat``."""
    return "p_" + re.sub(r"\W+", "_", name.casefold()).strip("_")


def _log_diff_ndtr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a <= b, accurate in both tails (upper tail by symmetry)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    if a.ndim == 0:
        return _log_diff_ndtr(a[None], b[None])[0]
    flip = a > 0
    lo, hi = np.where(flip, -b, a), np.where(flip, -a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(ndtr(hi) - ndtr(lo))  # fast; exact enough unless the mass is tiny
        tiny = ~(out > -25)
        if tiny.any():  # far in a tail: the log-CDF keeps the precision
            la, lb = log_ndtr(lo[tiny]), log_ndtr(hi[tiny])
            out[tiny] = lb + np.log(-np.expm1(la - lb))
    return out


def log_band_probability(mu, sd, lower, upper) -> np.ndarray:
    """log P(lower < X <= upper) for X ~ Normal(mu, sd) (broadcasting; bounds may be +-inf)."""
    mu, sd = np.asarray(mu, dtype=float), np.asarray(sd, dtype=float)
    return _log_diff_ndtr((np.asarray(lower, dtype=float) - mu) / sd,
                          (np.asarray(upper, dtype=float) - mu) / sd)


def band_probabilities(mu, sd, cuts) -> np.ndarray:
    """P(each band) for X ~ Normal(mu, sd): shape ``mu.shape + (len(cuts) + 1,)``; every
    line sums to 1 (differences of the CDF at the cuts)."""
    mu, sd = np.asarray(mu, dtype=float), np.asarray(sd, dtype=float)
    cdf = ndtr((np.asarray(cuts, dtype=float) - mu[..., None]) / sd[..., None])
    zeros = np.zeros(cdf.shape[:-1] + (1,))
    return np.diff(np.concatenate([zeros, cdf, zeros + 1], axis=-1), axis=-1)


def kish_ess(weights: np.ndarray) -> float:
    """Effective sample size of normalised weights: 1 / sum(w^2)."""
    w = np.asarray(weights, dtype=float)
    s = w.sum()
    return 0.0 if s <= 0 else float(s * s / np.square(w).sum())


def mixture_quantiles(mu: np.ndarray, sd: np.ndarray, weights: np.ndarray,
                      qs: Iterable[float]) -> np.ndarray:
    """Quantiles of the mixture sum_s w_s Normal(mu_s, sd_s) (bisection on its CDF)."""
    w = np.asarray(weights, dtype=float)
    keep = w > 1e-12 * w.max()
    mu, sd, w = np.asarray(mu, float)[keep], np.asarray(sd, float)[keep], w[keep] / w[keep].sum()
    qs = np.asarray(list(qs), dtype=float)
    lo = np.full(qs.shape, float((mu - 9 * sd).min()))
    hi = np.full(qs.shape, float((mu + 9 * sd).max()))
    for _ in range(60):
        mid = (lo + hi) / 2
        cdf = ndtr((mid[:, None] - mu[None, :]) / sd[None, :]) @ w
        below = cdf < qs
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        if float((hi - lo).max()) < 1e-4:
            break
    return (lo + hi) / 2


# ---------------------------------------------------------------------------------------------
# The scored draws of one (tables, settings), cached
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Core:
    """The prior draws of one (tables, settings) scored on every city-year: everything the
    weights of any exclusion need (see ``fit``)."""

    #: ``ck`` (city match key), ``city``, ``year``, ``available`` (has an evidence
    #: inventory); row i is column i of ``scores``.
    city_years: pd.DataFrame
    #: Model score of every draw and city-year, shape (S, city-years), float32; NaN where
    #: the year has no evidence inventory.
    scores: np.ndarray
    #: Evaluation years with a round effect (every year with a self-assessment).
    rounds: tuple[int, ...]
    #: Round effect of every draw and round, points, shape (S, rounds).
    effects: np.ndarray
    #: Noise standard deviation of every draw, points, shape (S,).
    noise_sd: np.ndarray
    #: Drawn value of every rule with a prior, shape (S,) each.
    params: Mapping[str, np.ndarray]
    #: The headline rules (the fixed ones stay at these values).
    rules: Rules
    #: Every official row: ``ck, city, province, year, predicate, band, status, weight,
    #: cy`` (index in ``city_years``, -1: not scored), ``round`` (-1: no round), ``used``.
    official: pd.DataFrame
    #: log P(official band) of every draw and used official row, shape (S, used rows).
    loglik: np.ndarray
    #: Position in ``official`` of each column of ``loglik``.
    used_rows: np.ndarray
    bands: tuple[str, ...]
    cuts: np.ndarray
    config: Mapping
    specs: Mapping
    national: Mapping | None
    settings: Settings
    #: What the cache compares (kept alive so the ids stay unique).
    key: tuple = field(repr=False)
    refs: tuple = field(repr=False)
    #: log(prior density / proposal density) of each draw: 0 for draws from the prior;
    #: set when the draws come from an adapted proposal (``adaptive.refine``).
    log_base: np.ndarray | None = field(default=None, repr=False)
    #: The draws from the prior (``params``, ``effects``, ``noise_sd``) when the draws used
    #: come from an adapted proposal: what ``prior_posterior`` summarises as the prior.
    prior_sample: Mapping | None = field(default=None, repr=False)
    #: How the draws were made: ``prior`` or ``adaptive`` (with the steps in ``notes``).
    method: str = "prior"
    notes: tuple = ()
    #: Highest log P(official band) over the PRIOR draws, per used row: a row no prior draw
    #: gives ``explain_below`` probability is one the model cannot explain (kept from the
    #: prior draws when the draws are adapted).
    row_max: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_draws(self) -> int:
        return int(self.noise_sd.shape[0])


def status_weights(config: Mapping) -> dict[str, float]:
    return {str(k): float(v) for k, v in config["status_weights"].items()}


def official_table(tables: Tables, bands: pd.DataFrame, config: Mapping) -> pd.DataFrame:
    """Every official row with a predicate: ``ck, city, province, year, predicate, band``
    (index in ``band_names``), ``status``, ``weight`` (``posterior.status_weights``; a blank
    status counts as unconfirmed). ``KlaError`` for an unknown predicate or status."""
    cols = ["ck", "city", "province", "year", "predicate", "band", "status", "weight"]
    off = get_table(tables, "official_results")
    if off.empty or "predicate" not in off:
        return pd.DataFrame(columns=cols).astype({"year": int, "band": int, "weight": float})
    names = band_names(bands)
    lookup = {p.casefold(): p for p in bands["predicate"]}
    pred = off["predicate"].astype("string").str.strip()
    keep = pred.notna() & (pred != "")
    off, pred = off[keep.to_numpy(bool)], pred[keep]
    spelled = pred.str.casefold().map(lookup)
    if spelled.isna().any():
        bad = pred[spelled.isna()].iloc[0]
        raise KlaError(f"official_results: unknown predicate {bad!r}; known: "
                       f"{', '.join(bands['predicate'])}")
    weights = status_weights(config)
    status = (off["status"].astype("string").str.strip().str.casefold().fillna("")
              if "status" in off else pd.Series("", index=off.index))
    status = status.where(status != "", "unconfirmed")
    unknown = sorted(set(status) - set(weights))
    if unknown:
        raise KlaError(f"official_results: status {unknown[0]!r} has no weight; allowed: "
                       f"{', '.join(weights)} (rules posterior.status_weights)")
    out = pd.DataFrame({
        "ck": _keys(off["city"]).to_numpy(), "city": off["city"].astype(str).str.strip().to_numpy(),
        "province": (off["province"].astype("string").str.strip().to_numpy(dtype=object,
                                                                           na_value=None)
                     if "province" in off else None),
        "year": pd.to_numeric(off["year"], errors="coerce").to_numpy(),
        "predicate": spelled.astype(object).to_numpy(),
        "status": status.astype(object).to_numpy()})
    out = out.dropna(subset=["ck", "year"]).astype({"year": int})
    out["band"] = out["predicate"].map({n: i for i, n in enumerate(names)}).astype(int)
    out["weight"] = out["status"].map(weights).astype(float)
    return (out.drop_duplicates(["ck", "year"]).sort_values(["ck", "year"], kind="stable")
            .reset_index(drop=True)[cols])


def _float32(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in a.items()}


def _rule_columns(core_rules: Rules, params: Mapping[str, np.ndarray],
                  idx: np.ndarray | slice = slice(None)) -> dict:
    """The rules with each drawn one as an (S, 1) column (numbers float32)."""
    cols = {}
    for k, v in params.items():
        v = v[idx]
        cols[k] = (v.astype(np.float32) if v.dtype.kind == "f" else v)[:, None]
    return {**core_rules, **cols}


def score_draws(arrays: dict[str, np.ndarray], rules: Rules,
                params: Mapping[str, np.ndarray], n_per: int) -> np.ndarray:
    """Total model score of every draw (``params``: the drawn rule values, the other rules
    at their ``rules`` value) and group of ``n_per`` consecutive rows (a city-year): shape
    (S, rows / n_per), float32.

    Scored in blocks of ``DRAW_BLOCK`` draws x city-years of about ``BLOCK_ELEMENTS``
    elements, small enough to stay in the processor's cache (the work is memory bound);
    within a block the rows are ordered statistic rows first (``_score_arrays`` then works
    on views, not copies) and summed per city-year by one matrix product."""
    n_draws = len(next(iter(params.values()))) if params else 1
    n_rows = len(arrays["claimed"])
    groups = n_rows // n_per if n_per else 0
    out = np.empty((n_draws, groups), dtype=np.float32)
    d_step = max(1, min(n_draws, DRAW_BLOCK))
    g_step = max(1, BLOCK_ELEMENTS // max(1, d_step * n_per))
    blocks = [_rule_columns(rules, params, slice(d0, min(n_draws, d0 + d_step)))
              for d0 in range(0, n_draws, d_step)]
    for g0 in range(0, groups, g_step):
        g1 = min(groups, g0 + g_step)
        rows = np.arange(g0 * n_per, g1 * n_per)
        has_stat = ~np.isnan(arrays["achievement.base"][rows])
        no_stat = arrays["has_measure"][rows] & ~has_stat
        order = np.argsort(np.where(has_stat, 0, np.where(no_stat, 1, 2)), kind="stable")
        sub = {k: v[rows[order]] for k, v in arrays.items()}
        back = np.argsort(order)  # the city-year order again, for the sums
        for b, block in zip(range(0, n_draws, d_step), blocks, strict=True):
            backed = _score_arrays(sub, block, status=False)["backed_points"]
            backed = np.broadcast_to(backed, (min(n_draws, b + d_step) - b, len(rows)))
            out[b:b + d_step, g0:g1] = backed[:, back].reshape(
                len(backed), g1 - g0, n_per).sum(axis=-1, dtype=np.float32)
    return out


def build_core(city_years: pd.DataFrame, scores: np.ndarray, effects: np.ndarray,
               noise_sd: np.ndarray, params: Mapping[str, np.ndarray],
               official: pd.DataFrame, settings: Settings, *, rounds: Iterable[int],
               key: tuple = (), refs: tuple = ()) -> Core:
    """A ``Core`` from scored draws: ``city_years`` (``ck, city, year, available``),
    ``scores`` (S, city-years), ``effects`` (S, rounds), ``noise_sd`` (S,), the drawn rule
    values ``params`` and the ``official_table``. Computes which official rows the
    likelihood uses (a scored city-year with an evidence inventory) and their log P(band)
    under every draw. ``fit`` builds it from the tables; tests and simulations may build one
    from arrays."""
    doc = settings.rules_document
    rounds = tuple(int(y) for y in rounds)
    n = int(noise_sd.shape[0])
    cy = city_years.reset_index(drop=True)
    available = cy["available"].to_numpy(bool)
    off = official.copy().reset_index(drop=True)
    pos = {(k, int(y)): i for i, (k, y) in enumerate(zip(cy["ck"], cy["year"], strict=True))}
    off["cy"] = np.array([pos.get((k, int(y)), -1) for k, y in
                          zip(off["ck"], off["year"], strict=True)], dtype=int)
    rix = {y: i for i, y in enumerate(rounds)}
    off["round"] = np.array([rix.get(int(y), -1) for y in off["year"]], dtype=int)
    off["used"] = np.array([i >= 0 and bool(available[i]) for i in off["cy"]], dtype=bool)
    used = np.flatnonzero(off["used"].to_numpy())
    cuts = band_cuts(settings.bands)
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    effects = np.asarray(effects, dtype=np.float32)
    loglik = np.empty((n, len(used)))
    step = max(1, CHUNK_ELEMENTS // 4 // max(1, n))
    cols, rws, bands = (off["cy"].to_numpy()[used], off["round"].to_numpy()[used],
                        off["band"].to_numpy(int)[used])
    for c0 in range(0, len(used), step):
        sl = slice(c0, c0 + step)
        mu = scores[:, cols[sl]].astype(float) + effects[:, rws[sl]]
        loglik[:, sl] = log_band_probability(mu, noise_sd[:, None], edges[bands[sl]],
                                             edges[bands[sl] + 1])
    return Core(city_years=cy, scores=scores, rounds=rounds, effects=effects,
                noise_sd=np.asarray(noise_sd, dtype=float), params=dict(params),
                rules=dict(settings.rules), official=off, loglik=loglik, used_rows=used,
                bands=tuple(band_names(settings.bands)), cuts=cuts,
                config=dict(doc["posterior"]), specs=prior_specs(doc),
                national=settings.national, settings=settings, key=key, refs=refs)


# ---------------------------------------------------------------------------------------------
# The national counts term
# ---------------------------------------------------------------------------------------------


def national_loglik(probs: np.ndarray, counts: np.ndarray, population: int) -> np.ndarray:
    """log-likelihood per draw of published national shares given the scored cities' band
    probabilities ``probs`` (S, N, K): the scored cities are taken as a simple random sample
    of the ``population`` regions whose shares are ``counts`` / ``population``; the sample's
    band shares have mean = the model's mean probabilities and variance = the model's
    (sum of categorical variances / N^2) plus the sampling variance (finite population
    correction). Normal approximation over the first K - 1 bands (shares sum to 1)."""
    s, n_u, k = probs.shape
    pi = np.asarray(counts, dtype=float) / population
    m = probs.mean(axis=1)
    outer = np.einsum("snk,snl->skl", probs, probs)
    v_model = (np.einsum("sk,kl->skl", probs.sum(axis=1), np.eye(k)) - outer) / n_u ** 2
    fpc = (population - n_u) / max(population - 1, 1)
    v_samp = (np.diag(pi) - np.outer(pi, pi)) / n_u * max(fpc, 0.0)
    v = (v_model + v_samp)[:, :k - 1, :k - 1] + 1e-9 * np.eye(k - 1)
    d = (m - pi)[:, :k - 1]
    sol = np.linalg.solve(v, d[..., None])[..., 0]
    _, logdet = np.linalg.slogdet(v)
    return -0.5 * (np.einsum("sk,sk->s", d, sol) + logdet + (k - 1) * math.log(2 * math.pi))


def national_plan(city_years: pd.DataFrame, official: pd.DataFrame, known: np.ndarray,
                  rounds: tuple[int, ...], national: Mapping | None, config: Mapping,
                  bands: tuple[str, ...]) -> list[tuple[int, int, np.ndarray, np.ndarray, int]]:
    """Which rounds' national counts enter the likelihood: ``(year, round index, members,
    counts, population)`` per round whose scored city-years without a ``known`` official
    row (positions in ``official``) number at least ``posterior.national_min_scored``. The
    counts are the published ones less the known rows' bands, on the remaining population."""
    plan = []
    if not national or not len(city_years):
        return plan
    cy = city_years
    k_all = official.iloc[known]
    pop_total = int(national["total_regions"])
    for year, counts in national["rounds"].items():
        if year not in rounds:
            continue
        k_off = k_all[k_all["year"] == year]
        members = np.flatnonzero((cy["year"] == year).to_numpy() & cy["available"].to_numpy()
                                 & ~cy["ck"].isin(set(k_off["ck"])).to_numpy())
        if len(members) < int(config["national_min_scored"]):
            continue
        c = np.array([counts[b] for b in bands], dtype=float)
        c = np.clip(c - np.bincount(k_off["band"].to_numpy(int), minlength=len(c)), 0, None)
        population = int(max(pop_total - len(k_off), len(members)))
        if c.sum() <= 0:
            continue
        plan.append((int(year), rounds.index(year), members, c * population / c.sum(),
                     population))
    return plan


def national_term(plan: list, scores: np.ndarray, effects: np.ndarray, noise_sd: np.ndarray,
                  cuts: np.ndarray) -> np.ndarray:
    """The national counts' log-likelihood per draw for a ``national_plan`` (0 without one),
    in blocks of draws (the band probabilities of every member city are large)."""
    total = np.zeros(len(noise_sd))
    for _, r, members, counts, population in plan:
        step = max(1, CHUNK_ELEMENTS // 8 // max(1, len(members) * (len(cuts) + 1)))
        for d0 in range(0, len(noise_sd), step):
            d = slice(d0, d0 + step)
            mu = scores[d][:, members].astype(float) + effects[d, r][:, None]
            probs = band_probabilities(mu, np.broadcast_to(noise_sd[d, None], mu.shape), cuts)
            total[d] += national_loglik(probs, counts, population)
    return total


def _national_term(core: Core, known: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The national counts' log-likelihood per draw and the rounds it used. ``known``:
    official rows (positions in ``core.official``) the fit may use."""
    plan = national_plan(core.city_years, core.official, known, core.rounds, core.national,
                         core.config, core.bands)
    return (national_term(plan, core.scores, core.effects, core.noise_sd, core.cuts),
            [y for y, *_ in plan])


# ---------------------------------------------------------------------------------------------
# Weights and the Posterior
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Posterior:
    """Weighted prior draws (see the module docstring): ``weights`` sum to 1, ``ess`` is
    their Kish effective sample size, ``enough`` is ``ess >= min_ess``; ``messages`` say
    what the fit cannot explain."""

    core: Core
    #: Official rows left out, as ``(city match key, year)``.
    exclude: frozenset
    log_weights: np.ndarray
    weights: np.ndarray
    ess: float
    min_ess: float
    #: Years (``(city, year)``) no draw gives the official band ``explain_below`` probability.
    unexplained: tuple
    #: Plain-language statements about the fit (a low ESS, years the model cannot explain).
    messages: tuple
    #: Rounds whose national counts entered the likelihood.
    national_rounds: tuple

    @property
    def enough(self) -> bool:
        return bool(self.ess >= self.min_ess)

    @property
    def n_draws(self) -> int:
        return self.core.n_draws

    @property
    def bands(self) -> tuple[str, ...]:
        return self.core.bands


def _key(city: str) -> str:
    """The city match key of one name: the same normalisation as the tables' keys
    (``inputs_all._keys``), so a name given by a caller finds its rows."""
    return str(_normalise(pd.Series([str(city)])).iloc[0])


def _weigh(core: Core, exclude: Iterable) -> Posterior:
    excl = frozenset((_key(c), int(y)) for c, y in exclude)
    off = core.official
    used = core.used_rows
    keep = np.array([(off.at[j, "ck"], int(off.at[j, "year"])) not in excl for j in used],
                    dtype=bool)
    w_rows = off["weight"].to_numpy(float)[used] * keep
    logw = core.loglik @ w_rows if len(used) else np.zeros(core.n_draws)
    if core.log_base is not None:  # draws from an adapted proposal: prior / proposal
        logw = logw + core.log_base
    known = np.array([j for j in range(len(off))
                      if (off.at[j, "ck"], int(off.at[j, "year"])) not in excl], dtype=int)
    nat, nat_rounds = _national_term(core, known)
    logw = logw + nat
    finite = np.isfinite(logw)
    messages, unexplained = [], []
    if not finite.any():
        weights = np.full(core.n_draws, 1.0 / core.n_draws)
        ess = 0.0
    else:
        z = np.where(finite, logw - logw[finite].max(), -np.inf)
        weights = np.exp(z)
        weights /= weights.sum()
        ess = kish_ess(weights)
    floor = math.log(float(core.config["explain_below"]))
    row_max = core.row_max if core.row_max is not None else (
        core.loglik.max(axis=0) if len(used) else np.zeros(0))
    for col, j in enumerate(used):
        if keep[col] and row_max[col] < floor:
            r = off.iloc[j]
            unexplained.append((str(r["city"]), int(r["year"])))
            messages.append(f"the model cannot explain {r['city']} {int(r['year'])}: no draw "
                            f"gives the official {r['predicate']} even a "
                            f"{float(core.config['explain_below']):.0%} chance")
    min_ess = float(core.config["min_ess"])
    messages += list(core.notes)
    if ess < min_ess:
        messages.append(f"only {ess:.0f} effective draws of {core.n_draws} (minimum "
                        f"{min_ess:g}): the official record and these priors leave too few "
                        "draws to trust; probabilities are withheld")
    return Posterior(core=core, exclude=excl, log_weights=logw, weights=weights, ess=ess,
                     min_ess=min_ess, unexplained=tuple(unexplained), messages=tuple(messages),
                     national_rounds=tuple(nat_rounds))


def weigh(core: Core, exclude: Iterable = ()) -> Posterior:
    """The posterior of scored draws ``core`` (``build_core``), official rows in ``exclude``
    left out."""
    return _weigh(core, exclude)
