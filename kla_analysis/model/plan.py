"""Cheapest set of actions that lifts the evidence-backed estimate to a target predicate.

Actions (``kla_analysis/data/actions.yaml``, efforts and limits are ASSUMPTIONS the task force
edits): complete a missing evidence item, renew an expired one, finish one in progress, raise
an indicator's statistic by whole steps. Each indicator's points depend only on its own
evidence and statistic, so the problem is a multiple-choice knapsack: for every indicator
the planner lists its options (how many items of each status to fix -- the cheapest ones,
since the estimate only counts items per status -- times the statistic level), scores each
option with the estimate's own rules (so gains are exact even where the rules are not
additive, e.g. ``points.basis: max``), and an exact dynamic programme over whole effort units
picks one option per indicator with the least total effort reaching the target's entry score.
Among the cheapest plans it returns one with the most points. The building blocks (actions,
options, the DP) live in ``options`` and are re-exported here.

With a chance (``plan_year(..., chance=P)``) the result also holds the least-effort plan
reaching the target in at least a share P of the posterior's scenarios, with the
effort-chance frontier (``chance_plan``).
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import KlaError
from .calibration import default_target
from .estimate import (
    Tables,
    estimate_summary,
    evidence_items,
    indicator_inputs,
    require_self_assessment,
    score_inputs,
)
from .options import (  # noqa: F401 - the planner's building blocks, also read as plan.*
    CANDIDATE_COLUMNS,
    EPS,
    FIX_ORDER,
    PLAN_ACTION_COLUMNS,
    _action_rows,
    _solve,
    apply_actions,
    candidate_actions,
    indicator_options,
    max_gain_by_effort,
    option_states,
    single_action_gains,
    solve_min_effort,
    statistic_levels,
)
from .scoring import canonical_predicate, entry_score, predicate_for
from .settings import Settings

# ---------------------------------------------------------------------------------------------
# The plan for a year
# ---------------------------------------------------------------------------------------------

PLAN_INDICATOR_COLUMNS = ["indicator", "name_id", "name_en", "effort", "backed_before",
                          "backed_after", "gain", "n_actions"]


def plan_year(tables: Tables, year: int, city: str | None = None, target: str | None = None,
              *, settings: Settings, chance: float | None = None,
              scenarios: pd.DataFrame | None = None,
              resample: pd.DataFrame | None = None) -> dict:
    """Cheapest actions lifting ``year``'s estimated total to ``target``'s entry score.

    With ``chance`` or ``scenarios`` given, the result also holds ``chance_plan``: the
    least-effort plan reaching the target with at least that chance (default
    ``chance_plan.DEFAULT_CHANCE``) over the scenario frame, with the effort-chance
    frontier (``chance_plan.chance_plan``; ``resample``, a second independent frame, checks
    the chance's stability), and ``summary["chance"]`` is the chance of the headline plan
    below. ``scenarios=None`` with ``chance`` given draws both frames from the posterior
    (``chance_plan.posterior_scenarios``; ``KlaError`` when it is not available).

    ``target`` defaults to one predicate above the city's latest official one
    (``calibration.default_target``). Returns a dict:

    - ``summary``: ``city, year, target_predicate, target_entry, current_total,
      current_predicate, points_needed, reachable, max_reachable_total,
      best_reachable_predicate, planned_predicate`` (the target if reachable, else the best
      reachable predicate above the current one, else None), ``planned_entry,
      total_effort, total_after, predicate_after, margin`` (total after minus the planned
      entry score), ``n_actions, evidence_available, is_estimate``.
    - ``actions``: ``PLAN_ACTION_COLUMNS``, one row per chosen action. ``points_gained`` is
      the action's marginal gain when the indicator's actions are applied in the listed
      order, so they add up exactly to the indicator's gain.
    - ``indicators``: ``PLAN_INDICATOR_COLUMNS`` for indicators with chosen actions.

    Raises ``KlaError`` for an unknown city, a year without self-assessment or an unknown
    target name.
    """
    rules, actions, b, cat = settings.rules, settings.actions, settings.bands, settings.catalog
    city = require_self_assessment(tables, year, city)
    inputs = indicator_inputs(tables, year, city, settings=settings)
    scored = score_inputs(inputs, rules)
    summ = estimate_summary(scored, b)
    current = float(scored["backed_points"].sum())
    if target is None:
        target = default_target(tables, city, bands=b, estimated_total=current)
    try:
        target = canonical_predicate(target, b)
    except ValueError as err:
        raise KlaError(str(err)) from None
    entry = entry_score(target, b)
    items = evidence_items(tables, year, city, settings=settings)
    cands = candidate_actions(items, inputs, rules, actions)
    opts = indicator_options(inputs, cands, rules)
    dp = None if opts.empty else max_gain_by_effort(opts)
    max_gain = _solve(opts, math.inf, dp)["max_gain"]
    max_total = current + max_gain
    current_pred = predicate_for(current, b)
    best_pred = predicate_for(min(max_total, b.attrs.get("scale_max", 1000)), b)
    reachable = max_total >= entry - EPS
    ranks = dict(zip(b["predicate"], b["rank"], strict=True))
    planned = target if reachable else (
        best_pred if ranks.get(best_pred, 0) > ranks.get(current_pred, 0) else None)
    sol = {"feasible": True, "effort": 0, "gain": 0.0, "choice": {}}
    if planned is not None:
        sol = _solve(opts, entry_score(planned, b) - current, dp)
    keys = zip(opts["indicator"], opts["option"], strict=True)
    ids = dict(zip(keys, opts["action_ids"], strict=True))  # (indicator, option) -> actions
    chosen_ids = [a for ind, o in sol["choice"].items() if o for a in ids[(ind, o)]]
    act = _action_rows(inputs, cands, chosen_ids, rules, cat)
    total_after = current + float(sol["gain"])
    planned_entry = entry_score(planned, b) if planned else None
    summary = {
        "city": city, "year": int(year), "target_predicate": target, "target_entry": entry,
        "current_total": current, "current_predicate": current_pred,
        "points_needed": max(0.0, entry - current), "reachable": bool(reachable),
        "max_reachable_total": max_total, "best_reachable_predicate": best_pred,
        "planned_predicate": planned, "planned_entry": planned_entry,
        "total_effort": int(sol["effort"]), "total_after": total_after,
        "predicate_after": predicate_for(total_after, b),
        "margin": None if planned_entry is None else total_after - planned_entry,
        "n_actions": int(len(act)), "evidence_available": summ["evidence_available"],
        "is_estimate": True,
    }
    out_chance = None
    if chance is not None or scenarios is not None:
        from . import chance_plan as C

        if scenarios is None:
            scenarios, resample = C.posterior_scenarios(tables, year, city, settings=settings)
        out_chance = C.chance_plan(inputs, cands, rules, scenarios, entry,
                                   C.DEFAULT_CHANCE if chance is None else float(chance),
                                   catalog=cat, resample=resample)
        # the headline plan's chance of reaching the target, re-scored in every scenario
        scen = C.check_scenarios(scenarios, rules)
        summary["chance"] = C.chance_of(C.plan_totals(inputs, cands, chosen_ids, rules, scen),
                                        scen["weight"].to_numpy(float), entry)
    per_ind = (act.groupby("indicator")
               .agg(effort=("effort", "sum"), gain=("points_gained", "sum"),
                    n_actions=("action_id", "size")).reset_index())
    per_ind = per_ind.merge(cat[["indicator", "name_id", "name_en"]], on="indicator")
    per_ind["backed_before"] = per_ind["indicator"].map(
        scored.set_index("indicator")["backed_points"])
    per_ind["backed_after"] = per_ind["backed_before"] + per_ind["gain"]
    out = {"summary": summary, "actions": act, "indicators": per_ind[PLAN_INDICATOR_COLUMNS]}
    if out_chance is not None:
        out["chance_plan"] = out_chance
    return out
