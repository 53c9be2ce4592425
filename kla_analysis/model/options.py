"""Candidate actions, per-indicator options and the exact single-scenario solver of the
planner (``plan``, ``chance_plan``).

Actions (``kla_analysis/data/actions.yaml``, efforts and limits are ASSUMPTIONS the task
force edits): complete a missing evidence item, renew an expired one, finish one in
progress, raise an indicator's statistic by whole steps. Each indicator's points depend only
on its own evidence and statistic, so a plan picks one *option* per indicator (how many
items of each status and catalog weight to fix -- the cheapest ones, since the estimate only
counts items per status, an item of weight k as k -- times the statistic level), each
option scored with the estimate's own rules (so gains are exact even where the rules are
not additive, e.g. ``points.basis: max``). Under one setting of the rules an exact dynamic
programme over whole effort units (``solve_min_effort``) picks the least total effort
reaching a number of points; over many settings ``chance_plan`` does the same for a chance.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .estimate import score_inputs
from .rules import Rules

#: Points tolerance when comparing a planned total with an entry score (float sums).
EPS = 1e-6
#: Evidence status classes in the order actions are applied within an indicator.
FIX_ORDER = ("missing", "tidak_ada", "kedaluwarsa", "dalam_proses")

# ---------------------------------------------------------------------------------------------
# Candidate actions and per-indicator options
# ---------------------------------------------------------------------------------------------

CANDIDATE_COLUMNS = [
    "action_id", "indicator", "action", "label_id", "label_en", "opd", "item", "item_name_id",
    "item_name_en", "title", "from_status", "to_status", "measure", "unit", "from_value",
    "to_value", "steps", "effort", "weight",
]


def candidate_actions(items: pd.DataFrame, inputs: pd.DataFrame, rules: Rules,
                      actions: Mapping) -> pd.DataFrame:
    """Every single action possible from a year's state: ``CANDIDATE_COLUMNS``.

    ``items`` is ``evidence_items(...)`` and ``inputs`` is ``indicator_inputs(...)`` of the
    same city and year. One row per evidence item that is not ``ada`` (action from the
    actions file, effort from it or an item override; items marked ``available: false``
    are left out) and one row per reachable statistic level (``steps`` 1..k; levels of one
    indicator are alternatives, not cumulative). ``action_id`` is a stable text key;
    ``weight`` is the item's catalog weight (the count the action moves to ``ada``; NA for a
    statistic level).
    """
    by_status = {s: (name, a) for name, a in actions["evidence_actions"].items()
                 for s in a.get("applies_to") or []}
    overrides = {str(o["item"]): o for o in actions.get("item_overrides") or []}
    rows = []
    # records of the columns read only: converting dates and links row by row costs
    item_cols = ["indicator", "item", "status", "opd", "name_id", "name_en", "title"]
    item_cols += ["weight"] if "weight" in items else []  # hand-made items: weight 1
    for it in items[item_cols].to_dict("records"):
        if it["status"] not in by_status:
            continue
        name, a = by_status[it["status"]]
        o = overrides.get(str(it["item"]), {})
        if o.get("available") is False:
            continue
        rows.append({"action_id": f"{it['indicator']}:{it['item']}:{name}",
                     "indicator": int(it["indicator"]), "action": name,
                     "label_id": a.get("label_id", name), "label_en": a.get("label_en", name),
                     "opd": it["opd"], "item": it["item"], "item_name_id": it["name_id"],
                     "item_name_en": it["name_en"], "title": it["title"],
                     "from_status": it["status"], "to_status": "ada",
                     "effort": int(o.get("effort", a["effort"])),
                     "weight": item_weight(it)})
    stat = actions.get("statistic_action") or {}
    scored = score_inputs(inputs, rules)[["indicator", "opd", "measure", "unit", "direction",
                                          "target", "statistic_value", "statistic_achievement"]]
    for r in scored.to_dict("records"):
        ach = r["statistic_achievement"]
        if r["measure"] is None or pd.isna(r["measure"]) or pd.isna(ach) or ach >= 1:
            continue
        params = {**(stat.get("by_unit") or {}).get(r["unit"], {}),
                  **(stat.get("measure_overrides") or {}).get(r["measure"], {})}
        if not params:
            continue
        lead_opd = str(r["opd"]).split(";")[0].strip()
        for steps, level in statistic_levels(r["statistic_value"], float(r["target"]),
                                             r["direction"], r["unit"], params):
            rows.append({"action_id": f"{r['indicator']}:{r['measure']}:{steps}",
                         "indicator": int(r["indicator"]), "action": "raise_statistic",
                         "label_id": stat.get("label_id", "raise_statistic"),
                         "label_en": stat.get("label_en", "raise_statistic"),
                         "opd": lead_opd, "measure": r["measure"], "unit": r["unit"],
                         "from_value": float(r["statistic_value"]), "to_value": level,
                         "steps": steps, "effort": int(params["effort_per_step"]) * steps})
    out = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    out["effort"] = out["effort"].astype(int)
    out["steps"] = out["steps"].astype("Int64")
    out["weight"] = out["weight"].astype("Int64")
    return out.sort_values(["indicator", "action_id"], kind="stable").reset_index(drop=True)


def statistic_levels(value: float, target: float, direction: str, unit: str,
                     params: dict) -> list[tuple[int, float]]:
    """Reachable levels ``(steps, level)`` of a statistic: whole steps toward the target,
    at most ``max_change`` away, never past the target (nor outside 0-100 for percentages).
    For ``count`` measures ``step``/``max_change`` are fractions of the current value.
    """
    step, cap = float(params["step"]), float(params["max_change"])
    if unit == "count":
        step, cap = step * value, cap * value
    sign = 1.0 if direction == "higher" else -1.0
    bound = target if unit != "percent" else min(max(target, 0.0), 100.0)
    levels: list[tuple[int, float]] = []
    if step <= 0:
        return levels
    for k in range(1, int(math.floor(cap / step + 1e-9)) + 1):
        level = value + sign * k * step
        if sign * (level - bound) >= 0:
            levels.append((k, float(bound)))
            break
        levels.append((k, round(level, 9)))
    return [(k, lv) for k, lv in levels if sign * (lv - value) > 0]


def apply_actions(inputs: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """Indicator inputs after ``chosen`` actions (rows of ``candidate_actions``).

    Evidence actions move one item (its ``weight``, default 1) from its status to ``ada``
    (a ``missing`` item gains an inventory row); a statistic action sets the statistic to
    its level (at most one per indicator). Pure: returns a new frame, ``inputs`` is unchanged.
    """
    recs = {int(r["indicator"]): r for r in inputs.to_dict("records")}
    by_ind: dict[int, list[dict]] = {}
    for a in chosen.to_dict("records"):
        by_ind.setdefault(int(a["indicator"]), []).append(a)
    for ind, acts in by_ind.items():
        recs[ind] = _apply_record(recs[ind], acts)
    return pd.DataFrame(list(recs.values()), columns=inputs.columns)


def _apply_record(rec: dict, acts: list[dict]) -> dict:
    """One indicator's input record after its actions (see ``apply_actions``)."""
    out = dict(rec)
    stat = [a for a in acts if a["action"] == "raise_statistic"]
    if len(stat) > 1:
        raise ValueError("at most one statistic level per indicator")
    for a in acts:
        if a["action"] == "raise_statistic":
            out["statistic_value"] = float(a["to_value"])
            continue
        w = item_weight(a)  # the counts hold weighted items (estimate.indicator_inputs)
        out[f"n_{a['from_status']}"] -= w
        out["n_ada"] += w
        if a["from_status"] == "missing":
            out["evidence_rows"] += 1
    return out


def item_weight(rec: Mapping) -> int:
    """The catalog weight of an evidence item or action record (1 when absent or NA)."""
    w = rec.get("weight")
    return 1 if w is None or pd.isna(w) else int(w)


#: The action columns the options and their states are built from.
_ACTION_FIELDS = ["indicator", "action_id", "action", "from_status", "to_value", "effort",
                  "weight"]


def _fields(actions: pd.DataFrame) -> pd.DataFrame:
    """``_ACTION_FIELDS`` of ``actions`` (``weight`` NA, i.e. 1, where the frame has none)."""
    return actions[_ACTION_FIELDS[:-1]].assign(
        weight=actions["weight"] if "weight" in actions else pd.NA)


def _records_by_indicator(actions: pd.DataFrame) -> dict[int, list[dict]]:
    """``_ACTION_FIELDS`` of ``actions`` as records grouped by indicator (ascending), row
    order kept: converted once, plain dicts are far cheaper to combine than frame slices."""
    by_ind: dict[int, list[dict]] = {}
    for a in _fields(actions).to_dict("records"):
        by_ind.setdefault(int(a["indicator"]), []).append(a)
    return dict(sorted(by_ind.items()))


def single_action_gains(inputs: pd.DataFrame, candidates: pd.DataFrame,
                        rules: Rules) -> np.ndarray:
    """Backed points each row of ``candidates`` would regain if it were the only action
    taken (its indicator's state with that one action, scored in one call for all)."""
    if candidates.empty:
        return np.zeros(0)
    recs = {int(r["indicator"]): r for r in inputs.to_dict("records")}
    acts = _fields(candidates).to_dict("records")
    after = score_inputs(pd.DataFrame([_apply_record(recs[int(a["indicator"])], [a])
                                       for a in acts], columns=inputs.columns), rules)
    before = score_inputs(inputs, rules).set_index("indicator")["backed_points"]
    return after["backed_points"].to_numpy() - before.loc[candidates["indicator"]].to_numpy()


def option_states(inputs: pd.DataFrame,
                  candidates: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every distinct option per indicator, before any rule is applied: ``(meta, states)``.

    ``meta`` has ``indicator, effort, action_ids`` (tuple), ``states`` the matching
    ``indicator_inputs`` rows after the option's actions (same length, same order). The
    do-nothing option of every indicator of ``inputs`` comes first (ascending indicator,
    empty ``action_ids``), then the options with actions in enumeration order. An option
    fixes the k cheapest items of each evidence status and catalog weight (the estimate
    counts items per status, an item of weight w as w, so cheaper items of the same status
    and weight are always as good) and picks at most one statistic level. Nothing is
    dropped here: an option that gains nothing under one setting of the rules may gain
    under another (``chance_plan`` scores every scenario).
    """
    recs = {int(r["indicator"]): r for r in inputs.to_dict("records")}
    states = [recs[i] for i in sorted(recs)]
    meta = [(i, 0, ()) for i in sorted(recs)]
    for ind, acts in _records_by_indicator(candidates).items():
        ev = sorted((a for a in acts if a["action"] != "raise_statistic"),
                    key=lambda a: (a["effort"], a["action_id"]))
        # one class per status and weight (every weight 1: one class per status, as before)
        classes = [[a for a in ev if a["from_status"] == s and item_weight(a) == w]
                   for s in FIX_ORDER
                   for w in sorted({item_weight(a) for a in ev if a["from_status"] == s})]
        levels = [None, *(a for a in acts if a["action"] == "raise_statistic")]
        for ks in itertools.product(*(range(len(c) + 1) for c in classes)):
            picked = [a for c, k in zip(classes, ks, strict=True) for a in c[:k]]
            for lvl in levels:
                chosen = picked if lvl is None else [*picked, lvl]
                if not chosen:
                    continue
                states.append(_apply_record(recs[ind], chosen))
                meta.append((ind, int(sum(a["effort"] for a in chosen)),
                             tuple(a["action_id"] for a in chosen)))
    return (pd.DataFrame(meta, columns=["indicator", "effort", "action_ids"]),
            pd.DataFrame(states, columns=inputs.columns))


def indicator_options(inputs: pd.DataFrame, candidates: pd.DataFrame,
                      rules: Rules) -> pd.DataFrame:
    """Every distinct option per indicator with its exact effort and gain.

    Columns: ``indicator, option`` (0 = do nothing), ``effort`` (int), ``gain`` (backed points
    gained, exact under ``rules``), ``backed_before, backed_after, action_ids`` (tuple).
    The options are those of ``option_states``; options that gain nothing under ``rules``
    are dropped (except option 0).
    """
    base = score_inputs(inputs, rules).set_index("indicator")
    meta, states = option_states(inputs, candidates)
    cols = ["indicator", "option", "effort", "gain", "backed_before", "backed_after",
            "action_ids"]
    nothing = pd.DataFrame({"indicator": base.index.astype(int), "option": 0, "effort": 0,
                            "gain": 0.0, "backed_before": base["backed_points"].to_numpy(),
                            "backed_after": base["backed_points"].to_numpy(),
                            "action_ids": [()] * len(base)})
    acting = meta["action_ids"].map(len).to_numpy() > 0
    if not acting.any():
        return nothing[cols]
    after = score_inputs(states[acting], rules)
    opts = meta[acting].reset_index(drop=True)
    opts["backed_before"] = opts["indicator"].map(base["backed_points"]).to_numpy()
    opts["backed_after"] = after["backed_points"].to_numpy()
    opts["gain"] = opts["backed_after"] - opts["backed_before"]
    opts = opts[opts["gain"] > EPS]
    opts = opts.sort_values(["indicator", "effort", "gain"], ascending=[True, True, False],
                            kind="stable")
    opts["option"] = opts.groupby("indicator").cumcount() + 1
    out = pd.concat([nothing, opts], ignore_index=True).sort_values(
        ["indicator", "option"], kind="stable").reset_index(drop=True)
    return out[cols]


# ---------------------------------------------------------------------------------------------
# Exact solver (multiple-choice knapsack, dynamic programme over whole effort units)
# ---------------------------------------------------------------------------------------------


def max_gain_by_effort(options: pd.DataFrame) -> tuple[np.ndarray, list, list]:
    """DP table: ``best[e]`` = most points gained with total effort exactly ``e`` (-inf if
    impossible), plus per-group choice arrays for backtracking and the group keys."""
    groups = [(g, df) for g, df in options.groupby("indicator", sort=True)]
    horizon = int(sum(int(df["effort"].max()) for _, df in groups))
    best = np.full(horizon + 1, -np.inf)
    best[0] = 0.0
    choices = []
    for _, df in groups:
        efforts = df["effort"].to_numpy(int)
        gains = df["gain"].to_numpy(float)
        new = np.full_like(best, -np.inf)
        arg = np.full(best.shape, -1, dtype=np.int32)
        # the do-nothing option first, so ties keep it; then cheaper options first
        for j in np.lexsort((-gains, efforts)):
            c = efforts[j]
            cand = np.full_like(best, -np.inf)
            cand[c:] = best[:len(best) - c] + gains[j]
            better = cand > new
            new[better] = cand[better]
            arg[better] = j
        best = new
        choices.append(arg)
    return best, choices, groups


def solve_min_effort(options: pd.DataFrame, need: float) -> dict:
    """Least total effort whose gain reaches ``need`` (one option per indicator).

    ``options`` has ``indicator, option, effort (int >= 0), gain``. Returns ``feasible``,
    ``effort``, ``gain`` and ``choice`` (``{indicator: option}``; all 0 when ``need <= 0``);
    among the cheapest solutions the one with the largest gain. Infeasible: ``feasible``
    False and ``max_gain`` (the most reachable), ``choice`` empty.
    """
    return _solve(options, need)


def _solve(options: pd.DataFrame, need: float, dp: tuple | None = None) -> dict:
    """``solve_min_effort``, reusing ``dp`` (``max_gain_by_effort(options)``) when given:
    ``plan_year`` solves the same options twice."""
    if options.empty:
        return {"feasible": need <= EPS, "effort": 0, "gain": 0.0, "choice": {},
                "max_gain": 0.0}
    best, choices, groups = dp if dp is not None else max_gain_by_effort(options)
    max_gain = float(best.max())
    ok = np.flatnonzero(best >= need - EPS)
    if ok.size == 0:
        return {"feasible": False, "effort": None, "gain": None, "choice": {},
                "max_gain": max_gain}
    e = int(ok[0])
    total, choice = float(best[e]), {}
    for (g, df), arg in zip(reversed(groups), reversed(choices), strict=True):
        j = int(arg[e])
        choice[int(g)] = int(df["option"].iloc[j])
        e -= int(df["effort"].iloc[j])
    assert e == 0, "backtracking must end at zero effort"
    return {"feasible": True, "effort": int(ok[0]), "gain": total,
            "choice": dict(sorted(choice.items())), "max_gain": max_gain}


# ---------------------------------------------------------------------------------------------
# The chosen actions as plan rows
# ---------------------------------------------------------------------------------------------

PLAN_ACTION_COLUMNS = [
    "opd", "indicator", "indicator_name_id", "indicator_name_en", "action", "label_id",
    "label_en", "item", "item_name_id", "item_name_en", "title", "from_status", "to_status",
    "measure", "unit", "from_value", "to_value", "effort", "points_gained", "action_id",
    "weight",
]


def _action_rows(inputs: pd.DataFrame, cands: pd.DataFrame, chosen_ids: list[str],
                 rules: Rules, cat: pd.DataFrame) -> pd.DataFrame:
    """Chosen actions in application order, each with its exact marginal gain."""
    chosen = cands.set_index("action_id").loc[chosen_ids].reset_index()
    order = {s: i for i, s in enumerate(FIX_ORDER)}
    chosen["_o"] = chosen["from_status"].map(order).fillna(len(order))
    chosen = chosen.sort_values(["indicator", "_o", "effort", "action_id"], kind="stable")
    chosen["points_gained"] = _marginal_gains(inputs, chosen, rules)
    names = cat.set_index("indicator")
    chosen["indicator_name_id"] = chosen["indicator"].map(names["name_id"])
    chosen["indicator_name_en"] = chosen["indicator"].map(names["name_en"])
    out = chosen.reindex(columns=PLAN_ACTION_COLUMNS)
    out["effort"] = out["effort"].astype(int)
    out["points_gained"] = out["points_gained"].astype(float)
    out["weight"] = out["weight"].astype("Int64")
    return out.reset_index(drop=True)


def _marginal_gains(inputs: pd.DataFrame, chosen: pd.DataFrame, rules: Rules) -> list[float]:
    """Backed points each row of ``chosen`` adds when its indicator's rows are applied in
    order: every prefix state of every indicator is scored in one call."""
    recs = {int(r["indicator"]): r for r in inputs.to_dict("records")}
    states, first = [], []  # first: position of each indicator's do-nothing state
    for ind, acts in _records_by_indicator(chosen).items():
        first.append(len(states))
        states += [_apply_record(recs[ind], acts[:k]) for k in range(len(acts) + 1)]
    if not states:
        return []
    backed = score_inputs(pd.DataFrame(states, columns=inputs.columns), rules)["backed_points"]
    steps = np.diff(backed.to_numpy())
    return list(np.delete(steps, np.array(first[1:], dtype=int) - 1))


def action_what(action) -> str:
    """What one planned action changes, for terminal lines: ``4.1 dalam_proses`` for an
    evidence item, ``measure 80 -> 90`` for a statistic (``action`` is a row of the plan's
    actions, e.g. from ``itertuples``)."""
    if isinstance(action.item, str):
        return f"{action.item} {action.from_status}"
    return f"{action.measure} {action.from_value:g} -> {action.to_value:g}"
