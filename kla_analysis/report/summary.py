"""The data of the report's first section: the task force's six questions, answered in order.

``summary(rep)`` returns one dict (plain values, both languages' names side by side, so the
same data serves the Indonesian and the English page, and pickles):

1. ``official``: the year's official predikat, its status, and whether it meets the target;
2. ``chances``: the model's chance of each band (None when withheld) and of the target;
3. ``comparison``: for a year with an official result, how it compares with what the model
   expected without it (out of sample), and the figures behind the gap;
4. ``losers``: the indicators losing the most points, each with the reasons read from its
   inputs (``loss_reasons``: missing, expired or in-progress data dukung, an outcome
   statistic short of its target or absent), each reason with the points fixing it alone
   would bring back under the estimate's rules;
5. ``action`` (``best_action``: the largest gain in chance per effort unit of the
   chance-constrained plan, else points per effort unit) and ``frontier`` (the effort-chance
   choices, ``frontier_points``);
6. ``change``: what changed since the previous evaluation, by block and by indicator.

Every figure except ``official`` is an ESTIMATE resting on the estimate's assumptions; the
HTML (``summary_html``) tags it so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ..errors import KlaError
from ..model import estimate
from ..model.rules import Rules

#: How many indicators the section names (the issue: "the three indicators losing the most").
TOP_N = 3
#: How many indicators the "what changed" part names.
MOVERS_N = 3
#: Points below which a loss, a reason or a change is noise of the float arithmetic.
EPS = 0.005

#: Loss reasons from the data dukung inventory: reason -> the item statuses it covers.
EVIDENCE_REASONS = {"missing": ("tidak_ada", "missing"), "expired": ("kedaluwarsa",),
                    "in_progress": ("dalam_proses",)}
#: Every reason ``loss_reasons`` can give, in the order ties are listed.
REASONS = (*EVIDENCE_REASONS, "statistic_below", "statistic_missing")


def effort_unit(rep) -> str:
    """The word for one effort unit of ``actions.yaml`` in the report language: the data
    folder's ``effort_unit`` setting, else the package's labelled default (the same words
    as the to-do list, ``todo.effort_unit``)."""
    from ..region import load_region
    from .todo import effort_unit as folder_unit

    return folder_unit(load_region(rep.paths.raw), rep.lang)


def summary(rep) -> dict:
    """The six answers of the first section for ``rep`` (a ``sections.Report``), computed
    once per report and, being language-independent, kept for the other reports of the
    same data like the model results (``Report.model_result``)."""
    return rep.model_result(("summary", rep.year), lambda: _summary(rep))


def _summary(rep) -> dict:
    """``summary`` computed (see there)."""
    from . import sections

    score = rep.score
    plan_res = sections.plan_result(rep)
    cp = plan_res.get("chance_plan")
    if cp is not None and not cp.get("enough", True):
        cp = None  # chances withheld: neither the chance gains nor the frontier count
    items = estimate.evidence_items(rep.tables, rep.year, rep.city, settings=rep.settings)
    return {
        "official": official_result(score),
        "chances": band_chances(score, rep.bands),
        "comparison": official_comparison(score, rep.bands, block_losses(rep)),
        "losers": top_losers(rep.indicators, rep.rules, items)
        if score.get("estimated_total") is not None else [],
        "action": best_action(None if cp is None else cp["actions"], plan_res["actions"],
                              cp),
        "frontier": frontier_points(cp),
        "change": change_since_previous(rep),
    }


# --- 1. the official result ----------------------------------------------------------------

def official_result(score: Mapping) -> dict:
    """``predicate`` (None: not announced / not in the data), ``status``, ``target``,
    ``target_met`` (True/False from the official result; None without one: an estimate
    never says the target is met) and ``denies_target``."""
    official = score.get("official_predicate")
    denies = bool(score.get("official_denies_target"))
    return {"predicate": official, "status": score.get("official_status") if official else None,
            "target": score["target_predicate"],
            "target_met": None if official is None else not denies, "denies_target": denies}


# --- 2. the chance of each band ------------------------------------------------------------

def _band_order(bands: pd.DataFrame) -> list[str]:
    """'Belum berpredikat' then the bands, lowest first."""
    below = bands.attrs.get("below_lowest", "Belum berpredikat")
    return [below, *[str(p) for p in bands.sort_values("rank")["predicate"]]]


def band_chances(score: Mapping, bands: pd.DataFrame) -> dict | None:
    """The model's band probabilities for the year, or None when withheld: ``bands`` ((band,
    p) lowest first, every band of ``score``), ``above`` (bands at or above the target,
    most likely first), ``below`` (the others, most likely first), ``target``, ``p_target``,
    ``most_likely`` (band, p), ``out_of_sample``, ``interval_80``, ``posterior_median``."""
    probs = score.get("band_probabilities")
    if not probs:
        return None
    order = _band_order(bands)
    rank = {b: i for i, b in enumerate(order)}
    rows = sorted(((str(b), float(p)) for b, p in probs.items()),
                  key=lambda bp: rank.get(bp[0], -1))
    target = score["target_predicate"]
    at = rank[target]
    by_p = sorted(rows, key=lambda bp: (-bp[1], -rank.get(bp[0], -1)))
    return {"bands": rows, "target": target,
            "above": [bp for bp in by_p if rank.get(bp[0], -1) >= at],
            "below": [bp for bp in by_p if rank.get(bp[0], -1) < at],
            "p_target": None if score.get("p_target") is None else float(score["p_target"]),
            "most_likely": by_p[0], "out_of_sample": bool(score.get("out_of_sample")),
            "interval_80": None if not score.get("interval_80") else
            [float(v) for v in score["interval_80"]],
            "posterior_median": None if score.get("posterior_median") is None
            else float(score["posterior_median"])}


# --- 3. the official result against the model -----------------------------------------------

def block_losses(rep) -> list[tuple[str, float]]:
    """(block code, points lost) of the year, most lost first (blocks of the catalog)."""
    if rep.score.get("estimated_total") is None:
        return []
    from . import sections

    cl = sections.year_clusters(rep, rep.year)
    rows = [(str(c), float(v)) for c, v in zip(cl["cluster"], cl["points_lost"], strict=True)
            if pd.notna(v)]
    return sorted(rows, key=lambda cv: -cv[1])


def official_comparison(score: Mapping, bands: pd.DataFrame,
                        blocks: list[tuple[str, float]]) -> dict | None:
    """For a year with an official result and band probabilities: ``official``,
    ``p_official`` (the model's chance of the official band, this year's result left out of
    the fit), ``most_likely`` and ``p_most_likely``, ``relation`` of the official band to the
    most likely one (``same``, ``higher``, ``lower``), ``out_of_sample``, and the figures
    behind it: ``claimed_total``, ``claimed_predicate``, ``estimated_total``,
    ``estimated_predicate``, ``points_lost``, ``lost_share`` (of the claim) and
    ``top_block`` ((code, points lost) of the block losing most; None without)."""
    official = score.get("official_predicate")
    chances = band_chances(score, bands)
    if official is None or chances is None:
        return None
    order = _band_order(bands)
    probs = dict(chances["bands"])
    likely, p_likely = chances["most_likely"]
    step = order.index(official) - order.index(likely) if official in order else 0
    claimed = float(score.get("claimed_total") or 0)
    lost = score.get("points_lost")
    return {"official": official, "p_official": float(probs.get(official, 0.0)),
            "most_likely": likely, "p_most_likely": p_likely,
            "relation": "same" if step == 0 else "higher" if step > 0 else "lower",
            "out_of_sample": chances["out_of_sample"], "claimed_total": claimed,
            "claimed_predicate": score.get("claimed_predicate"),
            "estimated_total": score.get("estimated_total"),
            "estimated_predicate": score.get("estimated_predicate"),
            "points_lost": None if lost is None else float(lost),
            "lost_share": None if lost is None or claimed <= 0 else float(lost) / claimed,
            "top_block": blocks[0] if blocks and blocks[0][1] > EPS else None}


# --- 4. the indicators losing the most points, and why --------------------------------------

def _fixed(row: Mapping, reason: str) -> dict:
    """The inputs of one indicator with one reason of loss removed."""
    out = dict(row)
    if reason in EVIDENCE_REASONS:
        moved = sum(int(out[f"n_{s}"]) for s in EVIDENCE_REASONS[reason])
        for s in EVIDENCE_REASONS[reason]:
            out[f"n_{s}"] = 0
        out["n_ada"] = int(out["n_ada"]) + moved
    else:  # the statistic at its target
        out["statistic_value"] = float(out["target"])
    return out


def _candidate_reasons(row: Mapping, rules: Rules) -> list[str]:
    """The reasons that apply to one indicator's inputs (before weighing them). A missing
    statistic is a reason only where the rules count it as 0 (``statistic.missing`` =
    ``zero``): under ``evidence_only`` it costs nothing (supplying it could still gain
    points, but only if it met the target, which the data cannot tell)."""
    found = [r for r, statuses in EVIDENCE_REASONS.items()
             if sum(int(row[f"n_{s}"]) for s in statuses) > 0]
    measured = not _missing(row.get("measure")) and not _missing(row.get("target"))
    if measured:
        if _missing(row.get("statistic_value")):
            if rules["statistic.missing"] != "evidence_only":
                found.append("statistic_missing")
        elif not _missing(row.get("statistic_achievement")) and \
                float(row["statistic_achievement"]) < 1 - 1e-9:
            found.append("statistic_below")
    return found


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def loss_reasons(row: Mapping, rules: Rules, items: pd.DataFrame | None = None) -> list[dict]:
    """Why one indicator (a row of ``rep.indicators``: its inputs and scores) loses points.

    One dict per reason, most points first: ``reason`` (``REASONS``), ``points`` (what
    removing that reason alone brings back under ``rules``: the indicator re-scored with
    the items made ``ada``, or the statistic at its target; reasons interact, so their
    points need not add up to the loss), ``n`` (items concerned; 1 for
    a statistic) and ``items`` (``item, name_id, name_en`` of those items, from ``items``:
    ``estimate.evidence_items`` of the year), plus for a statistic ``measure, value, target,
    unit, direction, data_year``. A reason whose removal brings back nothing (e.g. a
    missing statistic the rules ignore) is left out.
    """
    reasons = _candidate_reasons(row, rules)
    if not reasons:
        return []
    cols = list(estimate.INPUT_COLUMNS)
    base = {c: row[c] for c in cols}
    frame = pd.DataFrame([base, *(_fixed(base, r) for r in reasons)], columns=cols)
    backed = estimate.score_inputs(frame, rules)["backed_points"].to_numpy(float)
    out = []
    for k, reason in enumerate(reasons, start=1):
        points = float(backed[k] - backed[0])
        if points <= EPS:
            continue
        entry = {"reason": reason, "points": points}
        if reason in EVIDENCE_REASONS:
            listed = _items_of(items, int(row["indicator"]), EVIDENCE_REASONS[reason])
            entry.update(n=sum(int(row[f"n_{s}"]) for s in EVIDENCE_REASONS[reason]),
                         items=listed)
        else:
            entry.update(n=1, items=[], measure=str(row["measure"]),
                         value=None if _missing(row["statistic_value"])
                         else float(row["statistic_value"]), target=float(row["target"]),
                         unit=None if _missing(row.get("unit")) else str(row["unit"]),
                         direction=str(row["direction"]),
                         data_year=None if _missing(row.get("data_year"))
                         else int(row["data_year"]))
        out.append(entry)
    return sorted(out, key=lambda e: (-e["points"], REASONS.index(e["reason"])))


def _items_of(items: pd.DataFrame | None, indicator: int, statuses) -> list[dict]:
    if items is None or items.empty:
        return []
    sel = items[(pd.to_numeric(items["indicator"]) == indicator)
                & items["status"].isin(list(statuses))]
    return [{"item": str(r.item), "name_id": str(r.name_id), "name_en": str(r.name_en)}
            for r in sel.sort_values("item").itertuples()]


def top_losers(indicators: pd.DataFrame, rules: Rules, items: pd.DataFrame | None = None,
               n: int = TOP_N) -> list[dict]:
    """The ``n`` indicators losing the most points (claimed minus backed; ties: lower
    indicator number first), each with ``indicator, cluster, name_id, name_en, opd,
    claimed, backed, lost, max_points`` and ``reasons`` (``loss_reasons``)."""
    ind = indicators[pd.to_numeric(indicators["points_lost"], errors="coerce") > EPS]
    ind = ind.sort_values(["points_lost", "indicator"], ascending=[False, True]).head(n)
    out = []
    for row in ind.to_dict("records"):
        out.append({"indicator": int(row["indicator"]), "cluster": str(row["cluster"]),
                    "name_id": str(row["name_id"]), "name_en": str(row["name_en"]),
                    "opd": "" if _missing(row.get("opd")) else str(row["opd"]),
                    "claimed": float(row["claimed_points"]),
                    "backed": float(row["backed_points"]), "lost": float(row["points_lost"]),
                    "max_points": float(row["max_points"]),
                    "reasons": loss_reasons(row, rules, items)})
    return out


# --- 5. the most valuable action and the effort-chance choice --------------------------------

ACTION_FIELDS = ("opd", "indicator", "indicator_name_id", "indicator_name_en", "action",
                 "label_id", "label_en", "item", "item_name_id", "item_name_en", "measure",
                 "unit", "from_value", "to_value", "effort", "points_gained")


def _plain(value: object) -> object:
    if _missing(value):
        return None
    return value.item() if hasattr(value, "item") else value


def best_action(chance_actions: pd.DataFrame | None, plan_actions: pd.DataFrame | None,
                cp: Mapping | None = None) -> dict | None:
    """The most valuable single action.

    With a chance-constrained plan whose actions gain chance (``chance_gain`` > 0: the
    plan's chance minus its chance without the action): the largest ``chance_gain /
    effort`` (``basis`` ``chance``; ties: more points per effort, then lower indicator and
    item). Otherwise the largest ``points_gained / effort`` among the chance plan's actions,
    else the single-setting plan's (``basis`` ``points``). None when no plan has an action.
    The dict holds ``ACTION_FIELDS``, ``chance_gain`` (None on the points basis),
    ``value_per_effort``, ``basis``, and the plan's ``plan_chance``/``chance_target``.
    """
    pool, basis = None, "points"
    if chance_actions is not None and not chance_actions.empty:
        gains = pd.to_numeric(chance_actions["chance_gain"], errors="coerce")
        pool, basis = (chance_actions, "chance") if (gains > 1e-12).any() \
            else (chance_actions, "points")
    if pool is None:
        if plan_actions is None or plan_actions.empty:
            return None
        pool = plan_actions
    effort = pd.to_numeric(pool["effort"]).astype(float).clip(lower=1e-9)
    points = pd.to_numeric(pool["points_gained"]).astype(float) / effort
    if basis == "chance":
        value = pd.to_numeric(pool["chance_gain"]).astype(float) / effort
    else:
        value = points
    ranked = pool.assign(_v=value.to_numpy(), _p=points.to_numpy(),
                         _i=pd.to_numeric(pool["indicator"]).to_numpy(),
                         _it=pool["item"].astype("string").fillna("").to_numpy())
    best = ranked.sort_values(["_v", "_p", "_i", "_it"], ascending=[False, False, True, True],
                              kind="stable").iloc[0]
    out = {f: _plain(best.get(f)) for f in ACTION_FIELDS}
    out.update(basis=basis, value_per_effort=float(best["_v"]),
               chance_gain=float(best["chance_gain"]) if basis == "chance" else None,
               plan_chance=None if cp is None or cp.get("chance") is None
               else float(cp["chance"]),
               chance_target=None if cp is None else float(cp["chance_target"]))
    out["indicator"] = int(out["indicator"])
    out["effort"] = int(out["effort"])
    return out


def frontier_points(cp: Mapping | None) -> dict | None:
    """The effort-chance choices of a chance plan (None without one): ``points`` ((effort,
    chance) ascending in effort, each buying more chance than every cheaper one: today's
    cheapest plan under the headline rules and the least-effort plan of each frontier
    level) and ``unreached`` ((level, best achievable chance) of the levels no plan
    reaches).

    Plans of no effort are left out: their chance is the plan's share of 300 resampled
    scenarios, which differs a little from the year's chance of the target over every
    posterior draw (``p_target``, stated beside it), and two figures for "do nothing"
    would read as a contradiction."""
    if cp is None:
        return None
    pts = []
    head = cp.get("headline_plan") or {}
    if head.get("feasible") and head.get("chance") is not None and head["effort"]:
        pts.append((int(head["effort"]), float(head["chance"])))
    unreached = []
    for r in cp["frontier"].itertuples():
        if r.feasible and int(r.effort) > 0:
            pts.append((int(r.effort), float(r.chance)))
        elif not r.feasible:
            unreached.append((float(r.level), float(r.best_chance)))
    kept: list[tuple[int, float]] = []
    for e, c in sorted(pts, key=lambda ec: (ec[0], -ec[1])):
        if not kept or c > kept[-1][1] + 1e-12:
            kept.append((e, c))
    return {"points": kept, "unreached": unreached}


# --- 6. what changed since the previous evaluation ---------------------------------------------

def change_since_previous(rep) -> dict | None:
    """None without an earlier evaluation in the data; else ``previous_year``,
    ``previous_official``, ``official``, ``change_claimed``, ``change_estimated`` (None when
    either year has no estimate), ``basis`` (``backed``: estimate, else ``claimed``),
    ``blocks`` (``cluster, change`` in report order: the change of the block's points on
    ``basis``) and ``movers`` (the ``MOVERS_N`` indicators whose points changed most:
    ``indicator, name_id, name_en, change``). ``scored`` is False when the earlier year's
    data could not be scored (then only the years and official results are given)."""
    from . import sections

    h = sections.headline(rep)
    prev = h["previous_year"]
    if prev is None:
        return None
    out = {"previous_year": int(prev), "previous_official": h["previous_official_predicate"],
           "official": h["official_predicate"], "change_claimed": h["change_claimed"],
           "change_estimated": h["change_estimated"], "basis": None, "blocks": [],
           "movers": [], "scored": sections.other_year_score(rep, prev) is not None}
    if not out["scored"]:
        return out
    basis = "backed" if h["change_estimated"] is not None else "claimed"
    out["basis"] = basis
    try:
        before = estimate.score_inputs(estimate.indicator_inputs(
            rep.tables, prev, rep.city, settings=rep.settings), rep.rules)
    except KlaError as err:  # scored above, so unexpected; say so rather than fail
        rep.problems.setdefault(prev, str(err))
        out["scored"] = False
        return out
    col = "backed_points" if basis == "backed" else "claimed_points"
    now = rep.indicators.set_index("indicator")
    was = before.set_index("indicator")
    diff = (now[col].fillna(0) - was[col].reindex(now.index).fillna(0)).astype(float)
    by_block = diff.groupby(now["cluster"]).sum()
    order = [str(c) for c in rep.settings.clusters["cluster"]]
    out["blocks"] = [{"cluster": c, "change": float(by_block.get(c, 0.0))} for c in order
                     if c in by_block.index]
    moved = diff[diff.abs() > EPS]
    moved = moved.iloc[sorted(range(len(moved)),
                              key=lambda k: (-abs(moved.iloc[k]), int(moved.index[k])))]
    out["movers"] = [{"indicator": int(i), "name_id": str(now.loc[i, "name_id"]),
                      "name_en": str(now.loc[i, "name_en"]), "change": float(v)}
                     for i, v in moved.head(MOVERS_N).items()]
    out["change_claimed"] = _plain(out["change_claimed"])
    out["change_estimated"] = _plain(out["change_estimated"])
    return out


__all__ = ["EVIDENCE_REASONS", "REASONS", "TOP_N", "best_action", "change_since_previous",
           "effort_unit", "frontier_points", "loss_reasons", "official_comparison",
           "official_result", "summary", "top_losers"]
