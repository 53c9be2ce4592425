"""The planner's actions as data (``kla_analysis/data/actions.yaml``, or a task force's own
file): what each action does, its effort, and limits on raising statistics.

Efforts and limits are ASSUMPTIONS the task force edits; every entry carries a rationale.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..config import package_file
from ..errors import KlaError
from ..yamlfile import read_yaml
from .rules import ITEM_STATUSES


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _positive(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v > 0


def actions_path(path: str | Path | None = None) -> Path:
    """The actions file in use: ``path`` or the packaged ``actions.yaml``."""
    return Path(path) if path is not None else package_file("actions.yaml")


def load_actions(path: str | Path | None, catalog: pd.DataFrame,
                 requirements: pd.DataFrame) -> Mapping:
    """The validated actions document (``path``, or the packaged one when None).

    Item overrides must name an item of ``requirements`` and statistic overrides a measure of
    ``catalog``. ``KlaError`` lists every problem in one message.
    """
    p = actions_path(path)
    doc = read_yaml(p, "actions file")
    doc = doc if isinstance(doc, Mapping) else {}
    problems: list[str] = []
    ev = doc.get("evidence_actions")
    if not isinstance(ev, Mapping) or not ev:
        problems.append("'evidence_actions' must map action names to settings")
        ev = {}
    covered: dict[str, str] = {}
    for name, a in ev.items():
        if not isinstance(a, Mapping):
            problems.append(f"evidence action {name!r} must be a mapping")
            continue
        for s in a.get("applies_to") or []:
            if s not in ITEM_STATUSES or s == "ada":
                problems.append(f"evidence action {name!r}: unknown status {s!r} in applies_to")
            elif s in covered:
                problems.append(f"status {s!r} is covered by both {covered[s]!r} and {name!r}")
            covered[s] = name
        if not _whole(a.get("effort")):
            problems.append(f"evidence action {name!r}: effort {a.get('effort')!r} must be a "
                            "whole number >= 0")
        if not str(a.get("rationale") or "").strip() or "assumption" not in a:
            problems.append(f"evidence action {name!r} needs assumption and rationale")
    items = set(requirements["item"])
    for o in doc.get("item_overrides") or []:
        if not isinstance(o, Mapping) or str(o.get("item")) not in items:
            problems.append(f"item override {o!r}: unknown evidence item")
            continue
        if "effort" in o and not _whole(o["effort"]):
            problems.append(f"item override {o['item']!r}: effort must be a whole number >= 0")
        if "available" in o and not isinstance(o["available"], bool):
            problems.append(f"item override {o['item']!r}: available must be true or false")
    stat = doc.get("statistic_action") or {}
    measures = set(catalog["measure"].dropna())
    for where, params in [*((f"unit {u!r}", p) for u, p in (stat.get("by_unit") or {}).items()),
                          *((f"measure {m!r}", p)
                            for m, p in (stat.get("measure_overrides") or {}).items())]:
        if where.startswith("measure") and where.split("'")[1] not in measures:
            problems.append(f"statistic override for unknown {where}")
        p = params if isinstance(params, Mapping) else {}
        if "step" in p and not _positive(p["step"]):
            problems.append(f"statistic {where}: step must be > 0")
        if "max_change" in p and not (_positive(p["max_change"]) or p["max_change"] == 0):
            problems.append(f"statistic {where}: max_change must be >= 0")
        if "effort_per_step" in p and not _whole(p["effort_per_step"]):
            problems.append(f"statistic {where}: effort_per_step must be a whole number >= 0")
    for unit, p in (stat.get("by_unit") or {}).items():
        missing = {"step", "max_change", "effort_per_step"} - set(p or {})
        if missing:
            problems.append(f"statistic unit {unit!r} lacks {', '.join(sorted(missing))}")
    if problems:
        raise KlaError(f"{p}: " + "; ".join(problems))
    return doc
