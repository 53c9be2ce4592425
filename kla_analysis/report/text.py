"""Plain-text renderings for the terminal: what ``kla score``, ``kla plan`` and
``kla predicate`` print (the commands only parse, call and print these lines).

The terminal speaks English with the users' own words (predikat, penilaian mandiri, data
dukung); a score below the lowest band reads as ``label.below_lowest`` of the report
strings ("Belum berpredikat"). Estimates are always called estimates.
"""

from __future__ import annotations

import pandas as pd

from ..model.options import action_what
from ..model.scoring import next_predicate, points_to_next_predicate, predicate_for
from .formatting import predicate_label


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f}"


def _pred(name: object) -> str:
    return predicate_label(name, "id")


def predicate_lines(score: float, bands: pd.DataFrame) -> list[str]:
    """The predikat of a total score and the points to the next one (raises ValueError
    for a score that is not on the scale)."""
    pred = predicate_for(score, bands) or f"{_pred(None)} (below {bands['predicate'].iloc[0]})"
    lines = [f"score {score:g}: {pred}"]
    nxt = next_predicate(score, bands)
    if nxt:
        lines.append(f"{points_to_next_predicate(score, bands):g} points to {nxt}")
    return lines


def score_lines(s: dict) -> list[str]:
    """``calibration.score_year``'s figures of one year as terminal lines."""
    lines = [f"{s['city']}, evaluation year {s['year']} -- ESTIMATE from assumption-based "
             "rules, not an official result",
             f"  claimed (penilaian mandiri): {_fmt(s['claimed_total']):>9}  "
             f"{_pred(s['claimed_predicate'])}"]
    if s["estimated_total"] is None:
        lines.append("  estimated (evidence-backed):       n/a  no data dukung inventory "
                     "for this year")
    else:
        preds = " .. ".join(_pred(p) for p in s["estimated_predicates"][::max(
            1, len(s["estimated_predicates"]) - 1)])
        lines += [
            f"  estimated (evidence-backed): {_fmt(s['estimated_total']):>9}  "
            f"{_pred(s['estimated_predicate'])}",
            f"  range over {s['n_settings']} rule settings: "
            f"{_fmt(s['estimated_total_min'])} - {_fmt(s['estimated_total_max'])}  ({preds})",
            f"  indicators: {s['n_met']} met, {s['n_partial']} partial, "
            f"{s['n_not_met']} not met, {s['n_no_data']} no data; "
            f"{_fmt(s['points_lost'])} claimed points not backed"]
    official = s["official_predicate"]
    lines.append("  official predikat: "
                 + (f"{official} ({s['official_status']})" if official else "not known"))
    if s["next_predicate"]:
        lines.append(f"  next predikat: {s['next_predicate']}, "
                     f"{_fmt(s['points_to_next_predicate'])} points away (estimate)")
    if s["points_to_target_predicate"] is not None:
        cleared = s["points_to_target_predicate"] <= 0
        away = (f"{_fmt(s['points_to_target_predicate'])} points away (estimate)"
                if not (cleared and s.get("official_denies_target")) else
                f"the estimate clears its entry score, but the official result is "
                f"{official}: not reached")
        lines.append(f"  target predikat: {s['target_predicate']}, {away}")
    return lines


def plan_lines(res: dict) -> list[str]:
    """``plan.plan_year``'s result as terminal lines: the summary, then one line per action."""
    s = res["summary"]
    lines = [f"{s['city']} {s['year']}: estimate {_fmt(s['current_total'])} "
             f"({_pred(s['current_predicate'])}); target {s['target_predicate']} from "
             f"{s['target_entry']:g} points (ESTIMATE; efforts are assumptions)"]
    if not s["evidence_available"]:
        lines.append("note: no data dukung inventory for this year; every item counts as "
                     "missing")
    if not s["reachable"]:
        lines.append(f"Target {s['target_predicate']} is NOT reachable with the available "
                     f"actions: at most {_fmt(s['max_reachable_total'])} points. Best "
                     f"reachable predikat: {_pred(s['best_reachable_predicate'])}.")
        if s["planned_predicate"] is None:
            return lines
        lines.append(f"Plan below aims at {s['planned_predicate']} instead.")
    if s["n_actions"] == 0:
        lines.append(f"The estimate under the headline rules already clears "
                     f"{s['planned_predicate']}'s entry score (margin {_fmt(s['margin'])}), so "
                     "the single-setting plan has no action; that is one setting of the "
                     "assumptions, not a result: see the chance plan.")
        return lines
    lines.append(f"{s['n_actions']} actions, {s['total_effort']} effort units -> "
                 f"{_fmt(s['total_after'])} ({s['predicate_after']}), margin "
                 f"{_fmt(s['margin'])} over {s['planned_entry']:g}")
    for r in res["actions"].itertuples():
        what = action_what(r)
        lines.append(f"  [{r.opd}] ind {r.indicator}: {r.label_en}: {what}; effort "
                     f"{r.effort}, +{r.points_gained:.2f} points")
    return lines


def catalog_lines(catalog: pd.DataFrame, clusters: pd.DataFrame, lang: str = "id") -> list[str]:
    """What ``kla catalog`` prints: the active weight set and where it comes from, then
    each block with its maximum and its indicators (number, maximum, name, OPD); ``*``
    marks a maximum that is an assumption (not given by the set's source)."""
    info = catalog.attrs
    label = info.get(f"label_{lang}", info.get("weight_set", ""))
    lines = [f"weight set: {info.get('weight_set', '')} -- {label}",
             f"  {info.get(f'provenance_{lang}', '')}"]
    if info.get("source"):
        lines.append(f"  source: {info['source']}")
    lines.append(f"  self-assessment points are read on the {info.get('claims_scale', '')} "
                 "scale (the points the evaluation application shows)")
    name = f"name_{lang}"
    for c in clusters.itertuples():
        rows = catalog[catalog["cluster"] == c.cluster]
        lines.append("")
        lines.append(f"{c.cluster:<4} {rows['max_points'].sum():>7.2f}  {getattr(c, name)}")
        for r in rows.itertuples():
            flag = "*" if r.max_points_assumed else " "
            lines.append(f"  {r.indicator:>2}  {r.max_points:>7.2f}{flag} {getattr(r, name)}"
                         f"  [{r.opd}]")
    lines += ["", f"total {catalog['max_points'].sum():.2f}",
              "* maximum points are an assumption (not given by the weight set's source)"]
    return lines
