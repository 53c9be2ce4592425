"""The ranked to-do per OPD: the plan's actions with the gain in chance each brings, its
effort in the task force's unit and the date it is due (report section 9, the to-do workbook,
``kla plan``).

The tasks are the chance plan's actions (``plan["chance_plan"]``: the least-effort plan that
reaches the target with at least the stated chance over the posterior's scenarios), ranked by
gain in chance per unit of effort. Without a chance plan (no posterior), with its chances
withheld (too few effective draws) or when its chance cannot be reached, the tasks are the
points plan's (``plan["actions"]``), ranked by points gained per unit of effort, and the
``Todo`` says why (``reason``).

Every task is due at the end of the self-assessment of the round it is for
(``calendar.todo_due``: the report's own round while its self-assessment is open, else the
next one); documents may still be added in the 2 x 24-hour window at verification. The
round's dates are sourced or an assumption, and every text here says which.

The effort unit is the folder's ``effort_unit`` (``raw/kla.yaml``); without one it is the
package's relative units, labelled an assumption.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..calendar import Calendar, Due, load_calendar, todo_due
from ..region import Region, load_region
from .formatting import fmt_percent, fmt_value
from .i18n import t

#: Columns the to-do adds to the plan's action columns (``options.PLAN_ACTION_COLUMNS``).
TODO_COLUMNS = ["rank", "chance_gain", "due", "round", "due_status"]
BASES = ("chance", "points")
#: Why the to-do follows the points plan: no chance plan, chances withheld, chance target
#: not reachable.
REASONS = ("absent", "withheld", "infeasible")


@dataclass(frozen=True)
class Todo:
    """One plan's to-do: ``table`` (the actions with ``TODO_COLUMNS``, by rank), ``basis``
    (``chance`` or ``points``), ``reason`` (one of ``REASONS`` when ``points``), ``due``
    (None when the calendar holds no round ahead), the effort ``unit`` and where it comes
    from (``unit_note``), in ``lang``."""

    table: pd.DataFrame
    basis: str
    reason: str | None
    due: Due | None
    unit: str
    unit_note: str
    lang: str
    plan: dict

    @property
    def chance_plan(self) -> dict | None:
        return self.plan.get("chance_plan")


def fmt_date(day: dt.date | None, lang: str) -> str:
    """``31 Maret 2027`` / ``31 March 2027``; ``–`` for None."""
    if day is None:
        return "–"
    return t("todo.date", lang, day=day.day, month=t(f"todo.month.{day.month}", lang),
             year=day.year)


def effort_unit(region: Region | None, lang: str) -> str:
    """The folder's ``effort_unit`` in ``lang``, else the package's labelled default."""
    if region is not None and region.effort_unit.get(lang):
        return region.effort_unit[lang]
    return t("todo.effort_unit_default", lang)


def effort_unit_note(region: Region | None, lang: str) -> str:
    """Where the effort unit comes from, in a sentence."""
    unit = effort_unit(region, lang)
    if region is not None and region.effort_unit.get(lang):
        return t("todo.effort_unit_source_set", lang, unit=unit, file=region.file or "kla.yaml")
    return t("todo.effort_unit_source_default", lang, unit=unit)


def basis_of(plan: dict) -> tuple[str, str | None]:
    """``("chance", None)`` when the chance plan can rank the tasks, else ``("points",
    reason)`` with the reason (``REASONS``)."""
    cp = plan.get("chance_plan")
    if cp is None:
        return "points", "absent"
    if not cp.get("enough", True):
        return "points", "withheld"
    if not cp.get("feasible"):
        return "points", "infeasible"
    return "chance", None


def _ratio(gain: float, effort: float) -> float:
    """Gain per unit of effort; an action without effort ranks by its gain's sign alone."""
    if effort > 0:
        return gain / effort
    return math.inf if gain > 0 else (-math.inf if gain < 0 else 0.0)


def rank_actions(actions: pd.DataFrame, gain: str) -> pd.DataFrame:
    """``actions`` sorted by ``gain`` per effort (largest first; ties: the larger gain, the
    smaller effort, then indicator and item), with ``rank`` 1..n."""
    df = actions.reset_index(drop=True).copy()
    gains = pd.to_numeric(df[gain], errors="coerce").fillna(0.0).astype(float)
    efforts = pd.to_numeric(df["effort"], errors="coerce").fillna(0.0).astype(float)
    df["_ratio"] = [_ratio(g, e) for g, e in zip(gains, efforts, strict=True)]
    df["_gain"], df["_effort"] = gains, efforts
    df = df.sort_values(["_ratio", "_gain", "_effort", "indicator", "item", "action_id"],
                        ascending=[False, False, True, True, True, True], kind="stable",
                        na_position="last")
    df.insert(0, "rank", range(1, len(df) + 1))
    return df.drop(columns=["_ratio", "_gain", "_effort"]).reset_index(drop=True)


def todo_table(plan: dict, due: Due | None) -> tuple[pd.DataFrame, str, str | None]:
    """The ranked tasks of ``plan`` (``plan.plan_year``'s result) with ``TODO_COLUMNS``,
    the basis and the reason (``basis_of``)."""
    basis, reason = basis_of(plan)
    if basis == "chance":
        acts = plan["chance_plan"]["actions"].copy()
    else:
        acts = plan["actions"].copy()
        acts["chance_gain"] = math.nan
    acts["chance_gain"] = pd.to_numeric(acts["chance_gain"], errors="coerce").astype(float)
    acts["opd"] = acts["opd"].fillna("").astype(str).str.strip()
    out = rank_actions(acts, "chance_gain" if basis == "chance" else "points_gained")
    out["due"] = pd.Series([due.date if due else None] * len(out), index=out.index,
                           dtype=object)
    out["round"] = pd.array([due.round if due else None] * len(out), dtype="Int64")
    out["due_status"] = pd.Series([due.status if due else None] * len(out), index=out.index,
                                  dtype=object)
    return out, basis, reason


def build_todo(plan: dict, lang: str = "id", *, raw_dir: str | Path | None = None,
               today: dt.date | None = None, calendar: Calendar | None = None,
               region: Region | None = None) -> Todo:
    """The to-do of ``plan`` for the data folder whose ``raw/`` is ``raw_dir`` (its
    ``calendar.yaml`` and ``kla.yaml``; the package's calendar and the default unit without
    one), due as of ``today`` (default: today)."""
    if calendar is None:
        calendar = load_calendar(raw_dir)
    if region is None:
        region = load_region(raw_dir) if raw_dir is not None else Region()
    due = todo_due(int(plan["summary"]["year"]), today, calendar)
    table, basis, reason = todo_table(plan, due)
    return Todo(table, basis, reason, due, effort_unit(region, lang),
                effort_unit_note(region, lang), lang, plan)


# --- words -----------------------------------------------------------------------------------

def what(row, lang: str) -> str:
    """What a task changes: ``measure: 90 % → 100 %`` or ``<item> <item name>``."""
    if getattr(row, "action", None) == "raise_statistic":
        return (f"{row.measure}: {fmt_value(row.from_value, row.unit, lang)} → "
                f"{fmt_value(row.to_value, row.unit, lang)}")
    name = getattr(row, f"item_name_{lang}", None)
    return " ".join(str(x) for x in (row.item, name) if isinstance(x, str) and x.strip())


def pct(p: float | None, lang: str) -> str:
    """A chance (0-1) as a percentage, one decimal at most."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return fmt_percent(100 * float(p), lang, 1)


def signed_pct(p: float | None, lang: str) -> str:
    """A change of chance with its sign: ``+7%``, ``−3%``, ``0%``."""
    text = pct(p, lang)
    return text if text == "–" or text.startswith("−") or float(p) == 0 else "+" + text


def window_length(hours: int) -> str:
    """``2 × 24`` for 48 hours (how the instrument says it), else the hours."""
    return f"{hours // 24} × 24" if hours % 24 == 0 and hours > 24 else str(hours)


def basis_text(due: Due, lang: str) -> str:
    """``bersumber`` / ``asumsi`` / ``asumsi: jadwal 2023 digeser`` for a due date."""
    if due.pattern is not None:
        return t("todo.basis.pattern", lang, pattern=due.pattern)
    return t(f"todo.basis.{'sourced' if due.status == 'sourced' else 'assumption'}", lang)


def frontier_text(cp: dict, target: str, unit: str, lang: str) -> str | None:
    """The chance plan's effort-chance frontier in one sentence: least effort for each
    chance level (by effort), then the levels out of reach with the best chance; None
    without a frontier."""
    frontier = cp.get("frontier")
    if frontier is None or frontier.empty:
        return None
    steps: list[tuple[int, float, str]] = []
    out, best = [], None
    for r in frontier.itertuples():
        if r.feasible:
            key = "todo.frontier_worst" if r.level >= 1 else "todo.frontier_step"
            steps.append((int(r.effort), float(r.chance),
                          t(key, lang, effort=int(r.effort), pct=pct(r.chance, lang))))
        else:
            out.append(t("todo.frontier_every", lang) if r.level >= 1 else pct(r.level, lang))
            best = r.best_chance
    words = [w for *_, w in sorted(steps)]
    if out:
        words.append(t("todo.frontier_out", lang, levels=", ".join(out), best=pct(best, lang)))
    return t("todo.frontier", lang, unit=unit, target=target, steps=" · ".join(words))


def due_sentences(due: Due | None, lang: str) -> list[str]:
    """The due date, where it comes from, and the 2 x 24-hour window, as sentences."""
    if due is None:
        return [t("todo.no_round", lang)]
    out = [t("todo.due", lang, date=fmt_date(due.date, lang), round=due.round)]
    if due.status == "sourced":
        out.append(t("todo.due_sourced", lang, source=due.source or ""))
    elif due.pattern is not None:
        out.append(t("todo.due_pattern", lang, pattern=due.pattern, round=due.round))
    else:
        out.append(t("todo.due_assumption", lang))
    if due.window_hours and due.window_start is not None:
        out.append(t("todo.window", lang, length=window_length(due.window_hours),
                     start=fmt_date(due.window_start, lang),
                     end=fmt_date(due.window_end, lang),
                     assumed="" if due.window_status == "sourced"
                     else t("todo.window_assumed", lang)))
    return out


def item_due(due: Due | None, lang: str) -> str:
    """The short due line of one task (``batas waktu 31 Maret 2027 (putaran 2027, asumsi)``)."""
    if due is None:
        return t("todo.no_round", lang)
    return t("todo.item_due", lang, date=fmt_date(due.date, lang), round=due.round,
             assumed="" if due.status == "sourced" else ", " + t("todo.basis.assumption", lang))


def todo_lines(todo: Todo) -> list[str]:
    """The due date (with its basis and the verification window) and the effort unit, for
    ``kla plan``'s terminal output."""
    return [" ".join(due_sentences(todo.due, todo.lang)),
            f"{t('todo.notes.unit', todo.lang)}: {todo.unit_note}"]


def todo_json(todo: Todo) -> dict:
    """The to-do as JSON-ready data for ``kla plan --json``: the basis, the due date and its
    round and status, the effort unit, and the ranked tasks."""
    d = todo.due
    cols = ["rank", "opd", "indicator", "item", "action", "action_id", "chance_gain",
            "points_gained", "effort"]
    items = [{**rec, "due": None if d is None else d.date.isoformat(),
              "round": None if d is None else d.round}
             for rec in todo.table.reindex(columns=cols).to_dict("records")]
    return {"basis": todo.basis, "reason": todo.reason, "effort_unit": todo.unit,
            "due": None if d is None else {
                "round": d.round, "date": d.date.isoformat(), "status": d.status,
                "pattern": d.pattern, "source": d.source, "window_hours": d.window_hours,
                "window_start": d.window_start.isoformat() if d.window_start else None,
                "window_end": d.window_end.isoformat() if d.window_end else None},
            "items": items}
