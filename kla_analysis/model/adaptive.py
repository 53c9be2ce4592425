"""Adaptive importance sampling, for an official record too sharp for prior draws.

With a few official rows (a city's own history) the prior draws of ``posterior.fit`` are
enough: each draw's weight is its likelihood. With hundreds of rows (a national folder) the
likelihood is so concentrated that one prior draw takes nearly all the weight (an effective
sample size near 1) and no probability could be given. Then ``refine``:

1. finds, for each combination of the choice rules, the most probable setting (the mode of
   prior x likelihood) by L-BFGS-B on the continuous parameters in unconstrained form
   (logit of 0-1 rules, log of strictness and noise sd, round effects as they are), and its
   curvature (finite differences), i.e. a normal approximation of the posterior;
2. draws new settings from a mixture: with probability ``posterior.adapt.defensive`` from
   the prior, otherwise from a Student t (``t_df`` degrees of freedom, scale widened by
   ``inflate``) around the mode of a combination chosen by its approximate posterior mass;
3. weights each draw by prior density / proposal density x likelihood (importance
   sampling; the prior part of the mixture keeps the weights bounded), so the estimates are
   of the same posterior as before, only with far more effective draws.

Leave-one-year-out re-weighting stays valid (the proposal does not depend on which rows
are left out). The effective sample size is still reported and still decides ``enough``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import gammaln

from .draws import (
    Core,
    build_core,
    log_band_probability,
    national_plan,
    national_term,
    score_draws,
    weigh,
)
from .priors import draw_noise, draw_round_effects, draw_rules, frozen, rng_for

#: Finite-difference steps for the gradient and the curvature, in prior standard deviations.
GRAD_STEP = 1e-3
HESS_STEP = 2e-2


class Space:
    """The posterior's parameters in unconstrained coordinates: the continuous rules with a
    prior, the noise sd and one round effect per round (``keys``), and the choice rules."""

    def __init__(self, core: Core) -> None:
        specs = core.specs
        self.rule_keys = [k for k, v in core.params.items() if v.dtype.kind == "f"]
        self.choice_keys = [k for k, v in core.params.items() if v.dtype.kind != "f"]
        self.keys = [*self.rule_keys, "noise_sd", *[f"round_effect.{y}" for y in core.rounds]]
        self.specs = [*(specs[k] for k in self.rule_keys), specs["noise_sd"],
                      *([specs["round_effect"]] * len(core.rounds))]
        self.kinds = [*("log" if k == "statistic.strictness" else "logit"
                        for k in self.rule_keys), "log", *(["id"] * len(core.rounds))]
        self.dists = [frozen(s) for s in self.specs]
        self.choices = [list(specs[k]["probabilities"]) for k in self.choice_keys]
        self.choice_p = [np.array([specs[k]["probabilities"][c] for c in ch], dtype=float)
                         for k, ch in zip(self.choice_keys, self.choices, strict=True)]

    @property
    def dim(self) -> int:
        return len(self.keys)

    def to_u(self, params: Mapping, noise: np.ndarray, effects: np.ndarray) -> np.ndarray:
        cols = [*(params[k] for k in self.rule_keys), noise, *effects.T]
        out = np.empty((len(noise), self.dim))
        for i, (x, kind) in enumerate(zip(cols, self.kinds, strict=True)):
            x = np.asarray(x, dtype=float)
            if kind == "logit":
                x = np.clip(x, 1e-12, 1 - 1e-12)
                out[:, i] = np.log(x) - np.log1p(-x)
            elif kind == "log":
                out[:, i] = np.log(np.maximum(x, 1e-300))
            else:
                out[:, i] = x
        return out

    def from_u(self, u: np.ndarray) -> list[np.ndarray]:
        out = []
        for i, kind in enumerate(self.kinds):
            v = u[:, i]
            out.append(1 / (1 + np.exp(-v)) if kind == "logit" else
                       np.exp(v) if kind == "log" else v)
        return out

    def log_prior(self, u: np.ndarray) -> np.ndarray:
        """log prior density of the continuous parameters in the unconstrained coordinates
        (the density of the value times the Jacobian of the transform)."""
        total = np.zeros(len(u))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for i, (x, kind, dist) in enumerate(zip(self.from_u(u), self.kinds, self.dists,
                                                    strict=True)):
                jac = (np.log(x) + np.log1p(-x) if kind == "logit" else
                       u[:, i] if kind == "log" else 0.0)
                total += dist.logpdf(x) + jac
        return np.where(np.isnan(total), -np.inf, total)

    def log_prior_choices(self, combo_index: np.ndarray) -> np.ndarray:
        idx = np.asarray(combo_index)
        return sum(np.log(p[idx[:, j]]) for j, p in enumerate(self.choice_p)) \
            if self.choice_keys else np.zeros(len(idx))

    def combos(self) -> list[tuple[int, ...]]:
        return list(itertools.product(*(range(len(c)) for c in self.choices)))

    def settings(self, u: np.ndarray, combo_index: np.ndarray):
        """(rule values, noise sd, round effects) of settings ``u`` with choices ``combo``."""
        vals = self.from_u(u)
        n_rules = len(self.rule_keys)
        params = {k: vals[i] for i, k in enumerate(self.rule_keys)}
        for j, (k, ch) in enumerate(zip(self.choice_keys, self.choices, strict=True)):
            params[k] = np.array(ch, dtype=object)[np.asarray(combo_index)[:, j]]
        return params, vals[n_rules], np.column_stack(vals[n_rules + 1:]) if \
            len(vals) > n_rules + 1 else np.zeros((len(u), 0))


class Likelihood:
    """log-likelihood of the whole record (every used official row, status-weighted, and
    the national counts) for a batch of settings, scored afresh."""

    def __init__(self, core: Core, arrays: Mapping[str, np.ndarray], n_ind: int) -> None:
        self.core, self.arrays, self.n_ind = core, arrays, n_ind
        off = core.official
        used = core.used_rows
        self.cols = off["cy"].to_numpy()[used]
        self.rws = off["round"].to_numpy()[used]
        bands = off["band"].to_numpy(int)[used]
        edges = np.concatenate([[-np.inf], core.cuts, [np.inf]])
        self.lo, self.hi = edges[bands], edges[bands + 1]
        self.w = off["weight"].to_numpy(float)[used]
        self.plan = national_plan(core.city_years, off, np.arange(len(off)), core.rounds,
                                  core.national, core.config, core.bands)
        self.available = core.city_years["available"].to_numpy(bool)

    def scores(self, params: Mapping) -> np.ndarray:
        s = score_draws(self.arrays, self.core.rules, params, self.n_ind)
        s[:, ~self.available] = np.nan
        return s

    def __call__(self, params: Mapping, noise: np.ndarray, effects: np.ndarray) -> np.ndarray:
        scores = self.scores(params)
        mu = scores[:, self.cols].astype(float) + effects[:, self.rws]
        ll = log_band_probability(mu, noise[:, None], self.lo, self.hi) @ self.w
        return ll + national_term(self.plan, scores, effects.astype(np.float32), noise,
                                  self.core.cuts)


def _t_logpdf(u: np.ndarray, mean: np.ndarray, chol: np.ndarray, df: float) -> np.ndarray:
    d = len(mean)
    z = np.linalg.solve(chol, (u - mean).T).T
    q = np.square(z).sum(axis=1)
    logdet = np.log(np.diag(chol)).sum()
    return (gammaln((df + d) / 2) - gammaln(df / 2) - d / 2 * math.log(df * math.pi) - logdet
            - (df + d) / 2 * np.log1p(q / df))


def _mode(space: Space, lik: Likelihood, u0: np.ndarray, combo: tuple[int, ...],
          centre: np.ndarray, scale: np.ndarray):
    """(mode, minus log posterior there, covariance) for one combination of choices, in the
    unconstrained coordinates. Worked in standardised coordinates z = (u - centre) / scale
    (``centre``/``scale``: the prior draws' mean and sd per coordinate), where the prior has
    unit spread: the optimiser is well conditioned and a direction the record does not
    inform keeps (at most) the prior's spread."""
    d = space.dim
    combo_rows = lambda n: np.tile(np.array(combo, dtype=int), (n, 1))  # noqa: E731

    def f_batch(z: np.ndarray) -> np.ndarray:
        u = centre + z * scale
        params, noise, effects = space.settings(u, combo_rows(len(u)))
        val = -(space.log_prior(u) + lik(params, noise, effects))
        return np.where(np.isfinite(val), val, 1e300)

    def fun(z: np.ndarray):
        pts = np.vstack([z, z + GRAD_STEP * np.eye(d)])
        v = f_batch(pts)
        return float(v[0]), (v[1:] - v[0]) / GRAD_STEP

    res = optimize.minimize(fun, (u0 - centre) / scale, jac=True, method="L-BFGS-B",
                            options={"maxiter": 400, "maxfun": 800})
    z, h, eye = res.x, HESS_STEP, np.eye(d)
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    v = f_batch(np.vstack([z, z + h * eye, *[z + h * (eye[i] + eye[j]) for i, j in pairs]]))
    f0, fi = v[0], v[1:d + 1]
    hess = np.zeros((d, d))
    for (i, j), fij in zip(pairs, v[d + 1:], strict=True):
        hess[i, j] = hess[j, i] = (fij - fi[i] - fi[j] + f0) / (h * h)
    vals, vecs = np.linalg.eigh(hess)
    vals = np.maximum(vals, 1.0)  # never wider than the prior in any direction
    cov_z = (vecs / vals) @ vecs.T
    return centre + z * scale, float(min(res.fun, f0)), cov_z * np.outer(scale, scale)


def refine(core: Core, arrays: Mapping[str, np.ndarray], n_ind: int, *, n_draws: int,
           prior_sample: Mapping | None = None) -> Core:
    """``n_draws`` draws from an adapted proposal (module docstring) in place of the prior
    draws of ``core`` (which find the modes), with ``log_base`` = log prior / proposal.
    ``prior_sample``: the prior draws summarised as the prior (default: ``core``'s)."""
    cfg = core.config["adapt"]
    n, seed = int(n_draws), int(core.config["seed"])
    start = weigh(core)
    space = Space(core)
    lik = Likelihood(core, arrays, n_ind)
    u_prior = space.to_u(core.params, core.noise_sd, core.effects)
    combo_of = _combo_index(space, core.params, core.n_draws)
    finite = np.isfinite(u_prior).all(axis=1)
    centre, scale = u_prior[finite].mean(axis=0), u_prior[finite].std(axis=0) + 1e-9
    logpost = start.log_weights + space.log_prior(u_prior) + space.log_prior_choices(combo_of)
    modes = []
    for combo in space.combos():
        mine = np.flatnonzero((combo_of == np.array(combo, dtype=int)).all(axis=1))
        if not len(mine):
            continue
        best = mine[np.argmax(logpost[mine])]
        x, fmin, cov = _mode(space, lik, u_prior[best], combo, centre, scale)
        prior_c = float(space.log_prior_choices(np.array([combo]))[0])
        _, logdet = np.linalg.slogdet(cov)
        modes.append((combo, x, cov, -fmin + prior_c + 0.5 * logdet))
    mass = np.array([m[3] for m in modes])
    pi = np.exp(mass - mass.max())
    pi = np.maximum(pi / pi.sum(), float(cfg["min_share"]))
    pi /= pi.sum()
    # the mixture: defensive share from the prior, the rest from t around each mode
    rng = rng_for(seed, "adaptive")
    delta, df, inflate = float(cfg["defensive"]), float(cfg["t_df"]), float(cfg["inflate"])
    comp = np.where(rng.random(n) < delta, -1, rng.choice(len(modes), size=n, p=pi))
    fresh = draw_rules(core.specs, n, seed + 1)
    u = space.to_u(fresh, draw_noise(core.specs, n, seed + 1),
                   draw_round_effects(core.specs, n, seed + 1, core.rounds))
    combo_idx = _combo_index(space, fresh, n)
    chols = []
    for m, (combo, x, cov, _) in enumerate(modes):
        chol = np.linalg.cholesky(cov * inflate ** 2 + 1e-12 * np.eye(space.dim))
        chols.append(chol)
        at = np.flatnonzero(comp == m)
        z = rng.standard_normal((len(at), space.dim))
        g = rng.chisquare(df, len(at)) / df
        u[at] = x + (z @ chol.T) / np.sqrt(g)[:, None]
        combo_idx[at] = np.array(combo, dtype=int)
    lp = space.log_prior(u) + space.log_prior_choices(combo_idx)
    parts = [np.log(delta) + lp]
    for m, (combo, x, _, _) in enumerate(modes):
        same = (combo_idx == np.array(combo, dtype=int)).all(axis=1)
        lt = np.full(n, -np.inf)
        lt[same] = _t_logpdf(u[same], x, chols[m], df)
        parts.append(np.log((1 - delta) * pi[m]) + lt)
    log_q = np.logaddexp.reduce(np.vstack(parts), axis=0)
    params, noise, effects = space.settings(u, combo_idx)
    ok = np.isfinite(lp)
    noise = np.where(ok, noise, 1.0)
    scores = lik.scores(params)
    core2 = build_core(core.city_years, scores, effects, noise, params, core.official,
                       core.settings, rounds=core.rounds, key=core.key, refs=core.refs)
    note = (f"{core.n_draws} prior draws gave only {start.ess:.0f} effective draws, so the draws "
            f"were re-made around the most probable settings ({len(modes)} combinations of "
            f"the choice rules; t proposal, {delta:.0%} from the prior) and weighted by "
            "prior / proposal x likelihood")
    row_max = core.row_max if core.row_max is not None else core.loglik.max(axis=0)
    return replace(core2, log_base=np.where(ok, lp - log_q, -np.inf), row_max=row_max,
                   prior_sample=prior_sample or {"params": core.params, "effects": core.effects,
                                                 "noise_sd": core.noise_sd},
                   method="adaptive", notes=(note,))


def _combo_index(space: Space, params: Mapping, n: int) -> np.ndarray:
    """Position of each draw's value in each choice rule's list of choices: (n, rules)."""
    if not space.choice_keys:
        return np.zeros((n, 0), dtype=int)
    return np.column_stack([pd.Series(params[k]).map({c: i for i, c in enumerate(ch)})
                            .to_numpy(int) for k, ch in zip(space.choice_keys, space.choices,
                                                            strict=True)])
