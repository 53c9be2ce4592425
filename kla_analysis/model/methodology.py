"""The methodology appendix: every rule of the estimate, the sensitivity grid and the
planner, with its value, whether it is an assumption, and its rationale.

Both builders live here, above the estimate and the planner, so neither has to reach into
the other for the other's half of the table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .plan import load_actions
from .rules import rules_document, sensitivity_grid, show_value

COLUMNS = ["section", "rule", "value", "assumption", "rationale"]


def methodology_table(lang: str = "id", rules_file: str | Path | None = None,
                      actions_file: str | Path | None = None) -> pd.DataFrame:
    """Every rule of the estimate and planner: ``section, rule, value, assumption, rationale``.

    ``section`` is ``estimate``, ``sensitivity`` or ``plan``; ``rationale`` is in ``lang``
    (``id`` or ``en``). The report prints this table as its methodology appendix.
    """
    key = "rationale_id" if lang == "id" else "rationale"
    doc = rules_document(rules_file)
    rows = [{"section": "estimate", "rule": k, "value": show_value(e["value"]),
             "assumption": bool(e["assumption"]), "rationale": e.get(key) or e["rationale"]}
            for k, e in doc["rules"].items()]
    sens = doc.get("sensitivity") or {}
    rows += [{"section": "sensitivity", "rule": k, "value": show_value(v),
              "assumption": bool(sens.get("assumption", True)),
              "rationale": sens.get(key) or sens.get("rationale", "")}
             for k, v in sensitivity_grid(rules_file).items()]
    out = pd.concat([pd.DataFrame(rows), actions_methodology(lang, actions_file)],
                    ignore_index=True)
    return out[COLUMNS]


def actions_methodology(lang: str = "id", path: str | Path | None = None) -> pd.DataFrame:
    """Planner assumptions as rows ``section='plan', rule, value, assumption, rationale``."""
    doc = load_actions(path)
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
