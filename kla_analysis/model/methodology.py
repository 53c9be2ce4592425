"""The methodology appendix: every rule of the estimate, the sensitivity grid and the
planner, with its value, whether it is an assumption, and its rationale.

Both builders live here, above the estimate and the planner, so neither has to reach into
the other for the other's half of the table.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .rules import show_value
from .settings import Settings

COLUMNS = ["section", "rule", "value", "assumption", "rationale"]


def methodology_table(settings: Settings, lang: str = "id") -> pd.DataFrame:
    """Every rule of the estimate and planner: ``section, rule, value, assumption, rationale``.

    ``section`` is ``estimate``, ``sensitivity`` or ``plan``; ``rationale`` is in ``lang``
    (``id`` or ``en``). The rules, grid and actions are those of ``settings`` (the files the
    run was given). The report prints this table as its methodology appendix.
    """
    key = "rationale_id" if lang == "id" else "rationale"
    doc = settings.rules_document
    rows = [{"section": "estimate", "rule": k, "value": show_value(e["value"]),
             "assumption": bool(e["assumption"]), "rationale": e.get(key) or e["rationale"]}
            for k, e in doc["rules"].items()]
    sens = doc.get("sensitivity") or {}
    rows += [{"section": "sensitivity", "rule": k, "value": show_value(v),
              "assumption": bool(sens.get("assumption", True)),
              "rationale": sens.get(key) or sens.get("rationale", "")}
             for k, v in settings.grid.items()]
    out = pd.concat([pd.DataFrame(rows), actions_methodology(settings.actions, lang)],
                    ignore_index=True)
    return out[COLUMNS]


def actions_methodology(doc: Mapping, lang: str = "id") -> pd.DataFrame:
    """Planner assumptions of the actions document ``doc`` (``actions.load_actions``) as rows
    ``section='plan', rule, value, assumption, rationale``."""
    key = "rationale_id" if lang == "id" else "rationale"
    rows = []
    for name, a in doc["evidence_actions"].items():
        rows.append((f"effort.{name}", f"{a['effort']}", a, "applies to "
                     + ", ".join(a.get("applies_to") or [])))
    for o in doc.get("item_overrides") or []:
        val = f"{o['effort']}" if "effort" in o else ""
        if o.get("available") is False:
            val = "not available"
        rows.append((f"effort.item.{o['item']}", val, o, ""))
    stat = doc.get("statistic_action") or {}
    for group, entries in (("unit", stat.get("by_unit") or {}),
                           ("measure", stat.get("measure_overrides") or {})):
        for name, p in entries.items():
            val = ", ".join(f"{k}={p[k]:g}" for k in ("step", "max_change", "effort_per_step")
                            if k in p)
            rows.append((f"statistic.{group}.{name}", val, p, ""))
    return pd.DataFrame(
        [{"section": "plan", "rule": r, "value": v, "assumption": bool(e.get("assumption", True)),
          "rationale": e.get(key) or e.get("rationale", "")} for r, v, e, _ in rows],
        columns=COLUMNS)
