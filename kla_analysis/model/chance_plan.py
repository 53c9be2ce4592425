"""Chance-constrained plans: the least effort that reaches a target predicate with a stated
chance over scenarios of the scoring rules, and the effort-chance frontier.

A *scenario* is one setting of every scoring rule plus an ``offset`` (points added to the
scenario's total: a verification effect and a noise draw) and a ``weight`` (the scenario
frame's weights sum to 1). ``posterior.scenarios(...)`` returns such a frame, one row per
weighted posterior draw, with one column per rule key; this module passes every column but
``offset`` and ``weight`` to the estimate's rules as a column of values, so it does not
depend on which rules the posterior varies.

The problem. Each indicator's points depend only on its own evidence and statistic, so a
plan picks one *option* per indicator (``options.option_states``: how many items of each
status to fix, times the statistic level; option "do nothing" included). Every option is
scored in every scenario in one vectorised pass (``scenario_points``), which gives exact
points ``p[i, o, s]`` even where the rules are not additive. The plan's chance is the
weight of the scenarios whose total (plus offset) reaches the entry score. We want the
least total effort with chance >= P.

Two exact methods solve it, and the tests hold both to brute force on small cases.

1. ``method="search"`` (the default): a branch and bound over the indicators
   (``BranchAndBound``). For every scenario a multiple-choice knapsack DP over whole
   effort units gives ``suffix[k][s, b]``, the most points indicators ``k..`` can still
   add in scenario s with b effort units; a partial plan is cut as soon as the scenarios it
   could still reach, each with its own best completion, weigh less than P. Budgets are
   tried upward from the DP's lower bound (the least b whose per-scenario bound reaches
   P), so the first budget with a plan is the least effort; within it the search keeps the
   plan with the most expected points (bounded by the same DP on the weighted mean
   gains), so the tie-break is exact too. The bound is the per-scenario integer
   optimum, far tighter than a linear relaxation: on the bundled data the whole frontier
   (4 levels, 300 scenarios) takes a few hundred nodes and milliseconds.

2. ``method="milp"``: the same problem as a mixed-integer linear programme for HiGHS
   (``scipy.optimize.milp``, ``solve_chance``)::

    minimise   sum_io effort_io y_io  -  eps * sum_io gbar_io y_io
    subject to sum_o y_io = 1                                  for every indicator i
               sum_io g_ios y_io - M_s z_s >= lo_s - EPS       for every open scenario s
               sum_s w_s z_s >= P - w_always
               y, z binary

   with ``g_ios`` the points option o adds to indicator i over doing nothing in scenario
   s, ``need_s`` = entry - (total with no action + offset_s), ``lo_s`` = the least the
   options can add in s (so ``M_s = need_s - lo_s`` is the tightest big-M: with
   ``z_s = 0`` the row holds for every plan, with ``z_s = 1`` it says the plan reaches the
   entry in s). Scenarios every plan reaches count without a variable (``w_always``);
   scenarios no plan reaches get none. Tie-break: ``gbar_io = sum_s w_s g_ios`` with
   ``eps = 0.5 / (span + 1)``, ``span`` = the sum over indicators of the largest minus the
   smallest ``gbar`` of their options; efforts are whole numbers (``actions.yaml``), so a
   plan with one more effort unit has an objective at least ``1 - eps * span > 0.5``
   higher: the term cannot trade effort for points, it only orders plans of equal effort
   (one solve, ``mip_rel_gap = 0``). It is exact but slow here: the big-M relaxation is
   weak (root bound ~5 effort units against an optimum of 15 on the bundled 2023 data),
   so HiGHS needs 2-30 s per level with 300 scenarios, against the 2 s budget for the
   whole frontier. It stays as the fallback when the search exceeds its node limit, and
   as an independent cross-check in the tests. Should the re-scored chance of a MILP plan
   ever fall short of P (HiGHS accepts integer values within 1e-6, which a big-M row can
   turn into ~1e-3 points), the solve is repeated with a small safety margin on every row
   and the result says so (``solver_margin``).

Why not a plain DP over scenarios: the single-scenario DP (``plan.solve_min_effort``) is
exact because a plan is summarised by one number (its points) per effort level. With S
scenarios a plan is summarised by its S-vector of points (or the subset of scenarios it
reaches); an exact DP must keep every non-dominated vector per effort level, which grows
exponentially with S (2^300 subsets for 300 draws), so a tractable DP over scenarios
must round or prune and is no longer exact. The search above uses the per-scenario DP
only as a bound, which keeps it exact.

Both methods drop dominated options first (another option of the same indicator with no
more effort and at least as many points in every scenario): this cannot change the
optimum, since swapping a dominated option for its dominator keeps every reached
scenario, adds no effort and loses no expected points. Whatever the method, the chosen
plan is re-scored in every scenario from the raw inputs (``plan_totals``) and that
recomputed chance, not the solver's, is reported.

Everything here is an ESTIMATE resting on assumptions (rules, priors, efforts); the chance
is a share of scenarios of those assumptions, not a probability of the official result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import KlaError
from .estimate import _arrays, _score_arrays, score_inputs
from .options import (
    EPS,
    _action_rows,
    _apply_record,
    _records_by_indicator,
    _solve,
    action_what,
    indicator_options,
    option_states,
)
from .rules import Rules

#: The frontier's chance levels: 50 %, 80 %, 90 % and the worst case (every scenario).
FRONTIER_LEVELS = (0.5, 0.8, 0.9, 1.0)
#: The chance ``kla plan`` asks for when none is given.
DEFAULT_CHANCE = 0.8
#: Posterior draws resampled for planning, and the seeds of the plan's resample (None: the
#: posterior's own default for the year, as the report uses) and of the independent
#: resample that checks the chance's stability.
N_SCENARIOS = 300
SEEDS = (None, 982_451_653)
#: Scenario columns that are not rule values.
SCENARIO_EXTRA = ("offset", "weight")
#: Rules that shape the inputs (which statistic, which inventory row counts), not the
#: scoring: a scenario frame may not vary them, the planner scores one set of inputs.
INPUT_RULES = ("statistic.data_year_offset", "statistic.aggregate_areas",
               "evidence.status_precedence")
#: Slack when comparing a chance with the level asked for (sums of float weights).
CHANCE_TOL = 1e-9
#: Seconds HiGHS may spend on one solve before the result is flagged as not proven optimal.
TIME_LIMIT = 60.0


# ---------------------------------------------------------------------------------------------
# Scenarios and their points
# ---------------------------------------------------------------------------------------------


def check_scenarios(scenarios: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The scenario frame, checked, with ``weight`` normalised to sum 1 and ``offset``
    float; ``KlaError`` for an empty frame, missing columns, bad weights or offsets, or a
    scenario that varies a rule shaping the inputs (``INPUT_RULES``)."""
    if not isinstance(scenarios, pd.DataFrame) or scenarios.empty:
        raise KlaError("chance plan: the scenario frame is empty")
    missing = [c for c in SCENARIO_EXTRA if c not in scenarios.columns]
    if missing:
        raise KlaError(f"chance plan: the scenario frame lacks column(s) {', '.join(missing)}")
    w = pd.to_numeric(scenarios["weight"], errors="coerce").to_numpy(float)
    off = pd.to_numeric(scenarios["offset"], errors="coerce").to_numpy(float)
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise KlaError("chance plan: scenario weights must be finite, >= 0 and not all 0")
    if not np.isfinite(off).all():
        raise KlaError("chance plan: scenario offsets must be finite numbers")
    for key in INPUT_RULES:
        if key in scenarios.columns and key in rules and not all(
                _same(v, rules[key]) for v in scenarios[key]):
            raise KlaError(f"chance plan: the scenarios vary rule {key!r}, which changes the "
                           "inputs; the planner scores one set of inputs")
    out = scenarios.reset_index(drop=True).copy()
    out["weight"] = w / w.sum()
    out["offset"] = off
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, list | tuple | np.ndarray) or isinstance(b, list | tuple | np.ndarray):
        return isinstance(a, list | tuple | np.ndarray) and isinstance(
            b, list | tuple | np.ndarray) and list(a) == list(b)
    return bool(a == b)


def scenario_rules(rules: Rules, scenarios: pd.DataFrame) -> dict[str, object]:
    """``rules`` with every rule column of ``scenarios`` as an ``(S, 1)`` column of values
    (the form ``estimate._score_arrays`` scores S settings with in one pass). A rule column
    is one named like a key of ``rules`` (the run's rules, read from the same rules file as
    the posterior's); other columns (``offset``, ``weight``, the posterior's ``draw`` and
    ``model_score``) are not rules."""
    out: dict[str, object] = dict(rules)
    for col in scenarios.columns:
        if col not in rules or col in INPUT_RULES:
            continue
        values = scenarios[col].to_numpy()
        if values.dtype == object and all(isinstance(v, int | float | np.number)
                                          and not isinstance(v, bool) for v in values):
            values = values.astype(float)
        out[col] = values[:, None]
    return out


def scenario_points(states: pd.DataFrame, rules: Rules, scenarios: pd.DataFrame) -> np.ndarray:
    """Backed points of every row of ``states`` (``indicator_inputs`` rows) in every
    scenario: an ``(S, rows)`` array, one vectorised pass of the estimate's rules."""
    n = len(scenarios)
    if states.empty:
        return np.zeros((n, 0))
    backed = _score_arrays(_arrays(states), scenario_rules(rules, scenarios))["backed_points"]
    return np.array(np.broadcast_to(np.asarray(backed, dtype=float), (n, len(states))))


def plan_totals(inputs: pd.DataFrame, candidates: pd.DataFrame, action_ids: Sequence[str],
                rules: Rules, scenarios: pd.DataFrame) -> np.ndarray:
    """Total (plus offset) of the year after ``action_ids`` in every scenario, ``(S,)``:
    the plan re-scored from the raw inputs, independently of any solver matrix."""
    return _indicator_points(inputs, candidates, action_ids, rules, scenarios).sum(axis=1) + \
        scenarios["offset"].to_numpy(float)


def _indicator_points(inputs, candidates, action_ids, rules, scenarios) -> np.ndarray:
    """``(S, indicators)`` backed points of every indicator after ``action_ids``."""
    recs = {int(r["indicator"]): r for r in inputs.to_dict("records")}
    chosen = candidates.set_index("action_id").loc[list(action_ids)].reset_index()
    for ind, acts in _records_by_indicator(chosen).items():
        recs[ind] = _apply_record(recs[ind], acts)
    states = pd.DataFrame([recs[i] for i in sorted(recs)], columns=inputs.columns)
    return scenario_points(states, rules, scenarios)


def chance_of(totals: np.ndarray, weights: np.ndarray, entry: float) -> float:
    """Weight of the scenarios whose total reaches ``entry`` (same tolerance as the DP);
    exactly 1 when every scenario does, 0 when none does."""
    hit = totals >= entry - EPS
    return 1.0 if hit.all() else 0.0 if not hit.any() else float(np.sum(weights[hit]))


# ---------------------------------------------------------------------------------------------
# The problem (options x scenarios) and the MILP
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One city-year's options scored in every scenario (dominated options dropped)."""

    indicator: np.ndarray  #: indicator of each option column, ascending
    effort: np.ndarray  #: whole effort units of each option
    gain: np.ndarray  #: (S, n) points each option adds over doing nothing, per scenario
    base: np.ndarray  #: (S,) total with no action, plus the scenario's offset
    weight: np.ndarray  #: (S,) scenario weights, sum 1
    action_ids: tuple  #: the option's actions (tuples of action ids)
    n_options_all: int  #: options before dropping dominated ones


def build_problem(inputs: pd.DataFrame, candidates: pd.DataFrame, rules: Rules,
                  scenarios: pd.DataFrame) -> Problem:
    """Every option of every indicator scored in every scenario; dominated options dropped
    (see the module docstring: exact)."""
    meta, states = option_states(inputs, candidates)
    pts = scenario_points(states, rules, scenarios)
    ind = meta["indicator"].to_numpy(int)
    nothing = meta["action_ids"].map(len).to_numpy() == 0
    col0 = dict(zip(ind[nothing], np.flatnonzero(nothing), strict=True))
    gain = pts - pts[:, [col0[i] for i in ind]]
    base = pts[:, nothing].sum(axis=1) + scenarios["offset"].to_numpy(float)
    effort = meta["effort"].to_numpy(int)
    keep = _undominated(ind, effort, gain)
    return Problem(indicator=ind[keep], effort=effort[keep], gain=gain[:, keep], base=base,
                   weight=scenarios["weight"].to_numpy(float),
                   action_ids=tuple(meta["action_ids"].iloc[j] for j in np.flatnonzero(keep)),
                   n_options_all=len(meta))


def _undominated(ind: np.ndarray, effort: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Mask of the options no other option of the same indicator dominates: b dominates a
    when effort_b <= effort_a and gain_b >= gain_a in every scenario, and b is strictly
    better somewhere or (an exact copy) listed first."""
    keep = np.ones(len(ind), dtype=bool)
    for i in np.unique(ind):
        cols = np.flatnonzero(ind == i)
        if len(cols) < 2:
            continue
        g, e = gain[:, cols], effort[cols]
        ge = (g[:, :, None] >= g[:, None, :]).all(axis=0)  # ge[b, a]: b >= a everywhere
        eq = ge & ge.T
        order = np.arange(len(cols))
        better = (e[:, None] < e[None, :]) | ~eq | (order[:, None] < order[None, :])
        dom = ge & (e[:, None] <= e[None, :]) & better
        np.fill_diagonal(dom, False)
        keep[cols[dom.any(axis=0)]] = False
    return keep


def solve_chance(problem: Problem, entry: float, level: float, *, margin: float = 0.0,
                 time_limit: float = TIME_LIMIT) -> dict:
    """Least-effort choice of one option per indicator whose chance (by the solver's
    matrices) is >= ``level``; among those the most expected points.

    Returns ``status`` (``optimal``, ``infeasible``, ``time_limit``), ``columns`` (the chosen
    option columns, or None) and ``seconds``. ``margin`` is added to every scenario's need
    (a safety margin, normally 0).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp  # only when the MILP runs

    pr, start = problem, time.perf_counter()
    n, groups = len(pr.effort), np.unique(pr.indicator)
    need = entry - pr.base + margin
    gmin = _group_reduce(pr, np.minimum)
    gmax = _group_reduce(pr, np.maximum)
    w = pr.weight
    always = need - EPS <= gmin
    never = need - EPS > gmax
    worst_case = level >= 1.0 - CHANCE_TOL
    if worst_case:
        if (never & (w > 0)).any():
            return _result("infeasible", None, start)
        rows = ~always & (w > 0)
        open_ = np.zeros_like(rows)
        rest = 0.0
    else:
        open_ = ~always & ~never & (w > 0)
        rows = open_
        rest = level - float(w[always].sum()) - CHANCE_TOL
        if float(w[open_].sum()) < rest:
            return _result("infeasible", None, start)
        if rest <= 0:
            open_ = rows = np.zeros_like(open_)
    k = int(open_.sum())
    gbar = w @ pr.gain
    span = sum(float(gbar[pr.indicator == i].max() - gbar[pr.indicator == i].min())
               for i in groups)
    eps = 0.5 / (span + 1.0)
    c = np.concatenate([pr.effort - eps * gbar, np.zeros(k)])
    cons = []
    one = (pr.indicator[None, :] == groups[:, None]).astype(float)
    cons.append(LinearConstraint(np.hstack([one, np.zeros((len(groups), k))]), 1, 1))
    if rows.any():
        g = pr.gain[rows]
        zcol = np.zeros((int(rows.sum()), k))
        if k:
            # rows and open scenarios coincide unless worst_case (then k == 0)
            zcol[np.arange(k), np.arange(k)] = -(need[rows] - gmin[rows])
        lo = np.where(open_[rows], gmin[rows], need[rows]) - EPS
        cons.append(LinearConstraint(np.hstack([g, zcol]), lo, np.inf))
    if k:
        cons.append(LinearConstraint(np.concatenate([np.zeros(n), w[open_]])[None, :],
                                     rest, np.inf))
    res = milp(c, integrality=np.ones(n + k), bounds=Bounds(0, 1), constraints=cons,
               options={"mip_rel_gap": 0.0, "time_limit": time_limit, "presolve": True})
    if res.x is None:
        return _result("infeasible" if res.status == 2 else "time_limit", None, start)
    cols = np.flatnonzero(res.x[:n] > 0.5)
    return _result("optimal" if res.status == 0 else "time_limit", cols, start)


def max_chance(problem: Problem, entry: float, *, time_limit: float = TIME_LIMIT) -> dict:
    """The choice with the largest chance (by the solver's matrices), whatever the effort:
    ``status``, ``columns``, ``seconds`` as ``solve_chance``."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # only when the MILP runs

    pr, start = problem, time.perf_counter()
    n, groups = len(pr.effort), np.unique(pr.indicator)
    need = entry - pr.base
    gmin, gmax = _group_reduce(pr, np.minimum), _group_reduce(pr, np.maximum)
    open_ = (need - EPS > gmin) & (need - EPS <= gmax) & (pr.weight > 0)
    k = int(open_.sum())
    if k == 0:  # nothing to gain: the cheapest plan has the best chance
        return solve_chance(problem, entry, 0.0, time_limit=time_limit)
    c = np.concatenate([np.zeros(n), -pr.weight[open_]])
    one = (pr.indicator[None, :] == groups[:, None]).astype(float)
    zcol = np.zeros((k, k))
    zcol[np.arange(k), np.arange(k)] = -(need[open_] - gmin[open_])
    cons = [LinearConstraint(np.hstack([one, np.zeros((len(groups), k))]), 1, 1),
            LinearConstraint(np.hstack([pr.gain[open_], zcol]), gmin[open_] - EPS, np.inf)]
    res = milp(c, integrality=np.ones(n + k), bounds=Bounds(0, 1), constraints=cons,
               options={"mip_rel_gap": 0.0, "time_limit": time_limit})
    if res.x is None:
        return _result("time_limit", None, start)
    return _result("optimal" if res.status == 0 else "time_limit",
                   np.flatnonzero(res.x[:n] > 0.5), start)


def _group_reduce(pr: Problem, fn) -> np.ndarray:
    """Per scenario, the sum over indicators of ``fn`` (min or max) of their options' gain."""
    out = np.zeros(len(pr.base))
    for i in np.unique(pr.indicator):
        out += fn.reduce(pr.gain[:, pr.indicator == i], axis=1)
    return out


def _result(status: str, cols, start: float) -> dict:
    return {"status": status, "columns": cols, "seconds": time.perf_counter() - start}


# ---------------------------------------------------------------------------------------------
# The exact branch and bound (default): per-scenario DP bounds
# ---------------------------------------------------------------------------------------------


class SearchLimit(Exception):
    """The branch and bound visited more nodes than allowed (``chance_plan`` then falls back
    to the MILP)."""


class BranchAndBound:
    """Exact least-effort search over one option per indicator (module docstring).

    Indicators are decided one at a time (largest expected gain first). ``suffix[k][s, b]``
    is the most points indicators ``k..`` can add in scenario ``s`` with at most ``b``
    effort units (a multiple-choice knapsack DP per scenario, all scenarios at once), so a
    partial plan with points ``T`` and remaining budget ``r`` can reach at most the
    scenarios with ``T_s + suffix[k+1][s, r] >= need_s``: if their weight is below the
    chance asked for, no completion can reach it and the branch is cut. ``expected[k][b]``
    bounds the expected points the same way, for the tie-break among least-effort plans.
    """

    def __init__(self, problem: Problem, entry: float, node_limit: int = 200_000):
        pr = self.problem = problem
        self.need = entry - pr.base - EPS
        self.w = pr.weight
        gbar = self.gbar = pr.weight @ pr.gain
        inds = sorted(np.unique(pr.indicator), key=lambda i: (-gbar[pr.indicator == i].max(), i))
        self.opts = [np.flatnonzero(pr.indicator == i) for i in inds]
        self.opts = [o[np.argsort(pr.effort[o], kind="stable")] for o in self.opts]
        self.horizon = int(sum(int(pr.effort[o].max()) for o in self.opts))
        n_s, h = len(pr.base), self.horizon
        self.suffix = [np.zeros((n_s, h + 1))]
        self.expected = [np.zeros(h + 1)]
        for o in reversed(self.opts):
            self.suffix.insert(0, self._knapsack(self.suffix[0], pr.gain[:, o], pr.effort[o]))
            self.expected.insert(0, self._knapsack(self.expected[0][None, :],
                                                   gbar[o][None, :], pr.effort[o])[0])
        self.node_limit, self.nodes = node_limit, 0

    def _knapsack(self, after: np.ndarray, gain: np.ndarray, effort: np.ndarray) -> np.ndarray:
        """``best[s, b]`` = max over options j of gain[s, j] + after[s, b - effort_j]."""
        out = np.full(after.shape, -np.inf)
        for j, e in enumerate(effort):
            if e <= self.horizon:
                np.maximum(out[:, e:], after[:, :after.shape[1] - e] + gain[:, [j]],
                           out=out[:, e:])
        return np.maximum.accumulate(out, axis=1)

    def _reach(self, k: int, budget: int) -> float:
        """Upper bound on the chance of indicators ``k..`` alone with ``budget``."""
        return float(self.w[self.suffix[k][:, budget] >= self.need].sum())

    def least_effort(self, level: float) -> np.ndarray | None:
        """The option columns of a least-effort plan with chance >= ``level`` (the most
        expected points among them), or None when no plan reaches ``level``."""
        if self._reach(0, self.horizon) < level - CHANCE_TOL:
            return None
        budget = next(b for b in range(self.horizon + 1)
                      if self._reach(0, b) >= level - CHANCE_TOL)
        for b in range(budget, self.horizon + 1):
            best = self._search(b, level)
            if best is not None:
                return best
        return None  # pragma: no cover - the full budget reaches the bound

    def _search(self, budget: int, level: float) -> np.ndarray | None:
        pr, w, need, n = self.problem, self.w, self.need, len(self.opts)
        best: list = [-np.inf, None]  # expected points, columns

        def visit(k: int, points: np.ndarray, spent: int, exp: float, cols: list) -> None:
            self.nodes += 1
            if self.nodes > self.node_limit:
                raise SearchLimit
            o = self.opts[k]
            o = o[spent + pr.effort[o] <= budget]
            if not o.size:
                return
            rest = budget - spent - pr.effort[o]
            after = points[:, None] + pr.gain[:, o]
            ub = w @ (after + self.suffix[k + 1][:, rest] >= need[:, None])
            bound = exp + self.gbar[o] + self.expected[k + 1][rest]
            ok = np.flatnonzero(ub >= level - CHANCE_TOL)
            for j in ok[np.argsort(-bound[ok], kind="stable")]:
                if bound[j] <= best[0] + 1e-9:
                    break
                if k + 1 == n:
                    best[:] = [exp + self.gbar[o[j]], [*cols, o[j]]]
                else:
                    visit(k + 1, after[:, j], spent + int(pr.effort[o[j]]),
                          exp + float(self.gbar[o[j]]), [*cols, o[j]])

        visit(0, np.zeros(len(need)), 0, 0.0, [])
        return None if best[1] is None else np.sort(np.array(best[1], dtype=int))

    def best_chance(self) -> np.ndarray:
        """The option columns of a plan with the largest chance, whatever its effort."""
        pr, w, need, n = self.problem, self.w, self.need, len(self.opts)
        top = self._reach(0, self.horizon)
        best: list = [-1.0, None]

        def visit(k: int, points: np.ndarray, cols: list) -> None:
            self.nodes += 1
            if self.nodes > self.node_limit:
                raise SearchLimit
            o = self.opts[k]
            after = points[:, None] + pr.gain[:, o]
            ub = w @ (after + self.suffix[k + 1][:, [self.horizon]] >= need[:, None])
            for j in np.argsort(-ub, kind="stable"):
                if ub[j] <= best[0] + CHANCE_TOL or best[0] >= top - CHANCE_TOL:
                    break
                if k + 1 == n:
                    best[:] = [float(ub[j]), [*cols, o[j]]]
                else:
                    visit(k + 1, after[:, j], [*cols, o[j]])

        visit(0, np.zeros(len(need)), [])
        return np.sort(np.array(best[1], dtype=int))


# ---------------------------------------------------------------------------------------------
# The chance-constrained plan of a year
# ---------------------------------------------------------------------------------------------

FRONTIER_COLUMNS = ["level", "feasible", "chance", "effort", "n_opd", "n_actions",
                    "expected_total", "best_chance"]


def chance_plan(inputs: pd.DataFrame, candidates: pd.DataFrame, rules: Rules,
                scenarios: pd.DataFrame, entry: float, chance: float = DEFAULT_CHANCE, *,
                catalog: pd.DataFrame, resample: pd.DataFrame | None = None,
                levels: Sequence[float] = FRONTIER_LEVELS, method: str = "search",
                node_limit: int = 200_000, time_limit: float = TIME_LIMIT) -> dict:
    """Least-effort actions reaching ``entry`` with a chance >= ``chance`` over
    ``scenarios``, with the effort-chance frontier.

    ``inputs`` is ``indicator_inputs(...)``, ``candidates`` ``options.candidate_actions(...)``
    of the same city-year, ``rules`` the run's (headline) rules, ``scenarios`` a scenario
    frame (module docstring), ``resample`` an optional second, independent scenario frame
    on which the plan's chance is re-evaluated (stability). Returns a dict:

    - ``feasible`` (the chance is reachable), ``message`` (plain words; "not reachable:
      best achievable chance X" when infeasible), ``chance_target``, ``chance`` (the plan's
      chance, recomputed by scoring the plan in every scenario), ``best_chance`` (the
      largest chance any plan reaches, computed when the target chance is infeasible),
      ``effort``, ``n_opd``, ``n_actions``, ``expected_total`` (weighted mean of the totals),
      ``total_p10``/``total_p90`` (weighted 10th/90th percentile of the totals),
      ``resample_chance`` (None without ``resample``), ``status``, ``solver_margin``,
      ``enough`` and ``ess`` (the scenario frame's ``attrs``, set by ``posterior.scenarios``:
      False when the posterior has too few effective draws; ``chance_lines`` then withholds
      every chance).
    - ``actions``: ``options.PLAN_ACTION_COLUMNS`` (``points_gained`` under the headline
      rules) plus ``chance_gain`` (the plan's chance minus its chance without that action).
      Empty when infeasible.
    - ``headline_plan``: today's cheapest plan under the headline rules alone (``plan``'s
      DP): ``feasible, effort, chance, n_opd, n_actions``.
    - ``frontier``: DataFrame ``FRONTIER_COLUMNS``, one row per level (least effort for
      that chance; ``best_chance`` filled where infeasible).
    - ``n_scenarios``, ``n_options`` (after dropping dominated ones), ``n_options_all``,
      ``method`` (``search`` or ``milp``: the solver that produced the result),
      ``search_nodes`` (branch-and-bound nodes visited), ``solve_seconds`` (every solve of
      the plan and the frontier), ``seconds`` (the whole call).

    ``method="milp"`` solves every level with HiGHS instead of the branch and bound (the
    same optimum; slower). The search falls back to the MILP by itself if it visits more
    than ``node_limit`` nodes.

    Never raises for an unreachable target: the result says so.
    """
    start = time.perf_counter()
    if not 0 < chance <= 1:
        raise KlaError(f"chance must be in (0, 1], got {chance:g}")
    if method not in ("search", "milp"):
        raise KlaError(f"chance plan: unknown method {method!r} (search or milp)")
    scen = check_scenarios(scenarios, rules)
    w = scen["weight"].to_numpy(float)
    problem = build_problem(inputs, candidates, rules, scen)
    search = BranchAndBound(problem, entry, node_limit)
    solves: dict[float, dict] = {}
    solve_time = 0.0
    used = {"method": method}

    def plan_at(level: float) -> dict:
        nonlocal solve_time
        if level not in solves:
            t0 = time.perf_counter()
            if used["method"] == "search":
                try:
                    cols = search.least_effort(level)
                    solves[level] = {"status": "optimal" if cols is not None else "infeasible",
                                     "columns": cols, "margin": 0.0}
                except SearchLimit:
                    used["method"] = "milp"  # pathological case: let HiGHS try
            if level not in solves:
                solves[level] = _milp_plan(level)
            solve_time += time.perf_counter() - t0
        return solves[level]

    def _milp_plan(level: float) -> dict:
        sol, margin = None, 0.0
        for margin in (0.0, 1e-4, 1e-3, 1e-2):
            sol = solve_chance(problem, entry, level, margin=margin, time_limit=time_limit)
            if sol["columns"] is None:
                break
            ids = _ids(problem, sol["columns"])
            got = chance_of(plan_totals(inputs, candidates, ids, rules, scen), w, entry)
            if got >= level - CHANCE_TOL:
                break
        return {**sol, "margin": margin}

    best: dict = {}

    def best_chance() -> float:
        nonlocal solve_time
        if not best:
            t0 = time.perf_counter()
            cols = None
            if used["method"] == "search":
                try:
                    cols = search.best_chance()
                except SearchLimit:
                    used["method"] = "milp"
            if cols is None:
                cols = max_chance(problem, entry, time_limit=time_limit)["columns"]
            ids = _ids(problem, cols) if cols is not None else []
            best.update(chance=chance_of(plan_totals(inputs, candidates, ids, rules, scen), w,
                                         entry), ids=ids)
            solve_time += time.perf_counter() - t0
        return best["chance"]

    frontier = []
    for level in levels:
        sol = plan_at(float(level))
        row = dict.fromkeys(FRONTIER_COLUMNS)
        row.update(level=float(level), feasible=sol["columns"] is not None)
        if row["feasible"]:
            ids = _ids(problem, sol["columns"])
            tot = plan_totals(inputs, candidates, ids, rules, scen)
            row.update(chance=chance_of(tot, w, entry), effort=_effort(candidates, ids),
                       n_opd=_n_opd(candidates, ids), n_actions=len(ids),
                       expected_total=float(w @ tot))
        else:
            row["best_chance"] = best_chance()
        frontier.append(row)

    sol = plan_at(float(chance))
    out = {"chance_target": float(chance), "n_scenarios": len(scen),
           "enough": bool(scenarios.attrs.get("enough", True)),
           "ess": scenarios.attrs.get("ess"),
           "n_options": len(problem.effort), "n_options_all": problem.n_options_all,
           "status": sol["status"], "solver_margin": sol["margin"], "best_chance": None,
           "headline_plan": _headline(inputs, candidates, rules, scen, entry)}
    if sol["columns"] is None:
        bc = best_chance()
        ids: list[str] = []
        out.update(feasible=False, chance=None, effort=None, n_opd=None, n_actions=0,
                   expected_total=None, total_p10=None, total_p90=None, best_chance=bc,
                   resample_chance=None,
                   message=f"not reachable: best achievable chance {_pct(bc)}"
                           + (" (time limit hit)" if sol["status"] == "time_limit" else ""))
        out["actions"] = _action_rows(inputs, candidates, ids, rules, catalog).assign(
            chance_gain=pd.Series(dtype=float))
    else:
        ids = _ids(problem, sol["columns"])
        tot = plan_totals(inputs, candidates, ids, rules, scen)
        got = chance_of(tot, w, entry)
        acts = _action_rows(inputs, candidates, ids, rules, catalog)
        gains = _chance_gains(inputs, candidates, ids, rules, scen, entry, got)
        acts["chance_gain"] = acts["action_id"].map(gains).astype(float)
        out.update(feasible=True, chance=got, effort=_effort(candidates, ids),
                   n_opd=_n_opd(candidates, ids), n_actions=len(ids),
                   expected_total=float(w @ tot), total_p10=_quantile(tot, w, 0.1),
                   total_p90=_quantile(tot, w, 0.9), actions=acts,
                   resample_chance=_resample_chance(inputs, candidates, ids, rules,
                                                    resample, entry),
                   message=f"reached in {_pct(got)} of scenarios")
    out["frontier"] = pd.DataFrame(frontier, columns=FRONTIER_COLUMNS).astype(
        {"effort": "Int64", "n_opd": "Int64", "n_actions": "Int64", "chance": float,
         "expected_total": float, "best_chance": float})
    out["search_nodes"] = search.nodes
    out["method"] = used["method"]
    out["solve_seconds"] = solve_time
    out["seconds"] = time.perf_counter() - start
    return out


def _resample_chance(inputs, candidates, ids, rules, resample, entry) -> float | None:
    """The plan's chance on a second, independent scenario frame (None without one)."""
    if resample is None:
        return None
    again = check_scenarios(resample, rules)
    return chance_of(plan_totals(inputs, candidates, ids, rules, again),
                     again["weight"].to_numpy(float), entry)


def _ids(problem: Problem, cols) -> list[str]:
    return [a for j in cols for a in problem.action_ids[j]]


def _effort(candidates: pd.DataFrame, ids: Sequence[str]) -> int:
    eff = dict(zip(candidates["action_id"], candidates["effort"], strict=True))
    return int(sum(eff[a] for a in ids))


def _n_opd(candidates: pd.DataFrame, ids: Sequence[str]) -> int:
    """Distinct OPD of the actions, as the to-do workbook groups them (one sheet each)."""
    opd = dict(zip(candidates["action_id"], candidates["opd"], strict=True))
    return len({"" if pd.isna(opd[a]) else str(opd[a]).strip() for a in ids})


def _quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cum, q - CHANCE_TOL), len(values) - 1)])


def _chance_gains(inputs, candidates, ids, rules, scen, entry, chance) -> dict[str, float]:
    """Per chosen action: the plan's chance minus the chance of the plan without it
    (its indicator re-scored with the indicator's other actions), all in one pass."""
    if not ids:
        return {}
    recs = {int(r["indicator"]): r for r in inputs.to_dict("records")}
    chosen = candidates.set_index("action_id").loc[list(ids)].reset_index()
    by_ind = _records_by_indicator(chosen)
    inds = sorted(recs)
    plan_states = [_apply_record(recs[i], by_ind[i]) if i in by_ind else recs[i] for i in inds]
    without, where = [], []
    for i, acts in by_ind.items():
        for a in acts:
            without.append(_apply_record(recs[i], [b for b in acts if b is not a]))
            where.append((a["action_id"], inds.index(i)))
    pts = scenario_points(pd.DataFrame(plan_states + without, columns=inputs.columns), rules,
                          scen)
    per_ind, alt = pts[:, :len(inds)], pts[:, len(inds):]
    total = per_ind.sum(axis=1) + scen["offset"].to_numpy(float)
    w = scen["weight"].to_numpy(float)
    return {a: chance - chance_of(total - per_ind[:, k] + alt[:, j], w, entry)
            for j, (a, k) in enumerate(where)}


def _headline(inputs, candidates, rules, scen, entry) -> dict:
    """Today's cheapest plan (single scenario: the headline rules, plan's DP) and its chance
    over the scenarios."""
    opts = indicator_options(inputs, candidates, rules)
    current = float(score_inputs(inputs, rules)["backed_points"].sum())
    sol = _solve(opts, entry - current)
    if not sol["feasible"]:
        return {"feasible": False, "effort": None, "chance": None, "n_opd": None,
                "n_actions": None}
    ids_of = dict(zip(zip(opts["indicator"], opts["option"], strict=True), opts["action_ids"],
                      strict=True))
    ids = [a for i, o in sol["choice"].items() if o for a in ids_of[(i, o)]]
    tot = plan_totals(inputs, candidates, ids, rules, scen)
    return {"feasible": True, "effort": int(sol["effort"]),
            "chance": chance_of(tot, scen["weight"].to_numpy(float), entry),
            "n_opd": _n_opd(candidates, ids), "n_actions": len(ids)}


# ---------------------------------------------------------------------------------------------
# Scenarios from the posterior, and plain words
# ---------------------------------------------------------------------------------------------


def posterior_scenarios(tables: Mapping[str, pd.DataFrame], year: int, city: str, *,
                        settings, n: int = N_SCENARIOS,
                        seeds: Sequence[int | None] = SEEDS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two weighted resamples (``n`` scenarios each) of the posterior for ``city`` and
    ``year``: the one to plan on (seed ``seeds[0]``; None = the posterior's default for the
    year) and an independent one (``seeds[1]``) that checks the chance's stability.
    ``KlaError`` when the posterior module is not available."""
    try:
        from . import posterior
    except ImportError as err:
        raise KlaError("chance-constrained plans need the posterior model "
                       "(kla_analysis.model.posterior), which is not available here; run "
                       f"`kla plan` without --chance ({err})") from None
    # the year's own official result left out, as in the year's headline chance (``kla
    # score``): the plan's "no action" chance is then the chance the headline states
    post = posterior.fit(tables, settings, exclude=[(city, int(year))])
    return tuple(posterior.scenarios(post, city, year, n=n, seed=s) for s in seeds[:2])


def posterior_available() -> bool:
    """True when ``kla_analysis.model.posterior`` can be imported."""
    import importlib.util

    return importlib.util.find_spec(f"{__package__}.posterior") is not None


def _pct(p: float | None) -> str:
    """``0.62`` -> ``62 %``; near 0 or 1 one decimal, so 99.8 % never reads as 100 %."""
    if p is None:
        return "-"
    if 0 < p < 0.005 or 0.995 <= p < 1:
        return f"{100 * p:.1f} %" if 0.0005 <= p <= 0.9995 else (
            "< 0.1 %" if p < 0.5 else "> 99.9 %")
    return f"{100 * p:.0f} %"


def _tenths(p: float) -> str:
    k = int(math.floor(10 * p + 0.5 + 1e-12))
    if k == 10 and p < 1 - CHANCE_TOL:
        k = 9  # "10 of 10" only when every scenario is reached
    if k == 0 and p > 0:
        return "fewer than 1 in 10 scenarios"
    return f"about {k} of 10 scenarios" if k < 10 else "every scenario"


def chance_lines(cp: dict, target: str) -> list[str]:
    """The chance-constrained plan (``chance_plan``'s result) in plain words, for ``kla plan``:
    the plan's chance, its effort and OPD, the stability check, the frontier, the actions."""
    lines = [f"Chance plan (target {target} with at least {_pct(cp['chance_target'])} "
             f"chance over {cp['n_scenarios']} scenarios of the assumptions, fitted without "
             "this year's own official result; ESTIMATE):"]
    if not cp.get("enough", True):
        ess = cp.get("ess")
        return [*lines, "  Chances withheld: the official record and the priors leave too few "
                        "effective posterior draws" + (f" ({ess:.0f})" if ess is not None else "")
                        + " to trust them."]
    if not cp["feasible"]:
        lines.append(f"  {target} with {_pct(cp['chance_target'])} chance is not reachable "
                     f"with the available actions: best achievable chance "
                     f"{_pct(cp['best_chance'])}.")
    elif cp["n_actions"] == 0:
        lines.append(f"  Without any action {target} is reached in {_tenths(cp['chance'])} "
                     f"({_pct(cp['chance'])}).")
    else:
        lines.append(f"  This plan reaches {target} in {_tenths(cp['chance'])} "
                     f"({_pct(cp['chance'])}): {cp['n_actions']} actions, {cp['effort']} "
                     f"effort units, {cp['n_opd']} OPD; total {cp['total_p10']:.0f}-"
                     f"{cp['total_p90']:.0f} in 8 of 10 scenarios.")
    if cp.get("resample_chance") is not None:
        lines.append(f"  On a second, independent set of scenarios it reaches {target} in "
                     f"{_pct(cp['resample_chance'])} (stability check).")
    head = cp["headline_plan"]
    parts: list[tuple[int, float, str]] = []  # (effort, chance, words), shown by effort
    if head["feasible"]:
        parts.append((head["effort"], head["chance"], f"{head['effort']} -> "
                      f"{_pct(head['chance'])} (today's cheapest plan, {head['n_opd']} OPD)"))
    out_of_reach, best = [], None
    for r in cp["frontier"].itertuples():
        if r.feasible:
            parts.append((int(r.effort), float(r.chance), f"{r.effort} -> {_pct(r.chance)}" + (
                " (worst case)" if r.level >= 1 else "") + f", {r.n_opd} OPD"))
        else:
            out_of_reach.append("every scenario" if r.level >= 1 else _pct(r.level))
            best = r.best_chance
    words = [w for _, _, w in sorted(parts, key=lambda p: (p[0], p[1]))]
    if words:
        words[0] = words[0].replace(" -> ", " effort units -> ", 1)
    if out_of_reach:
        words.append(f"{', '.join(out_of_reach)}: not reachable (best {_pct(best)})")
    lines.append("  Effort vs chance: " + "; ".join(words))
    for r in cp["actions"].itertuples():
        what = action_what(r)
        lines.append(f"  [{r.opd}] ind {r.indicator}: {r.label_en}: {what}; effort "
                     f"{r.effort}; without it {_pct(cp['chance'] - r.chance_gain)}")
    return lines
