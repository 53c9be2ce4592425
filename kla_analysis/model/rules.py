"""The estimate's rules as data: status vocabularies, the rule checks, and the loaders of
``scoring_rules.yaml`` (headline values, sensitivity grid, priors, status labels).

Every rule is an ASSUMPTION with a rationale (KemenPPPA publishes no scoring formula). The
estimate, the planner and the methodology table all read their vocabulary from here, so
none of them needs another to know what a status or a rule is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..config import package_file
from ..errors import KlaError
from ..yamlfile import read_yaml

EVIDENCE_STATUSES = ("ada", "dalam_proses", "kedaluwarsa", "tidak_ada")
#: Evidence status classes of a required item; ``missing`` = no inventory row.
ITEM_STATUSES = (*EVIDENCE_STATUSES, "missing")
INDICATOR_STATUSES = ("met", "partial", "not_met", "no_data")
#: Tolerance for comparing a backing fraction with a status threshold.
TOL = 1e-9

#: Headline rule settings, flat: ``'evidence_weight.ada' -> 1.0``.
Rules = dict[str, object]


def _unit(v: object) -> str | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1
    return None if ok else "must be a number between 0 and 1"


def _choice(*options: str):
    def check(v: object) -> str | None:
        return None if v in options else f"must be one of {', '.join(options)}"
    return check


def _offset(v: object) -> str | None:
    ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 5
    return None if ok else "must be a whole number of years between 0 and 5"


def _bool(v: object) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


#: Largest strictness accepted (credit = ratio ** k): beyond it every shortfall scores 0.
MAX_STRICTNESS = 1e6

#: How an old rules file's ``statistic.achievement`` choice reads as ``statistic.strictness``:
#: proportional credit is k = 1; threshold (all-or-nothing) credit is approached by a large k
#: (1e5: a statistic 0.01 % short of its target keeps ``0.9999 ** 1e5`` ~ 5e-5 of its credit).
LEGACY_STRICTNESS = {"proportional": 1.0, "threshold": 1e5}


def _strictness(v: object) -> str | None:
    ok = (isinstance(v, int | float) and not isinstance(v, bool)
          and 0 < v <= MAX_STRICTNESS)
    return None if ok else f"must be a number above 0 and at most {MAX_STRICTNESS:g}"


def upgrade_rules(rules: Mapping[str, object]) -> dict[str, object]:
    """``rules`` with an old ``statistic.achievement`` choice replaced by the
    ``statistic.strictness`` it stands for (``LEGACY_STRICTNESS``); other keys unchanged.
    An unknown choice is left in place, so ``check_rules`` names it."""
    out = dict(rules)
    if "statistic.achievement" in out and out["statistic.achievement"] in LEGACY_STRICTNESS:
        out["statistic.strictness"] = LEGACY_STRICTNESS[out.pop("statistic.achievement")]
    return out


def _precedence(v: object) -> str | None:
    ok = isinstance(v, list | tuple) and sorted(v) == sorted(EVIDENCE_STATUSES)
    return None if ok else f"must list each of {', '.join(EVIDENCE_STATUSES)} once"


#: Rules whose value is one of a few choices.
RULE_CHOICES = {"statistic.missing": ("evidence_only", "zero"),
                "points.basis": ("claimed", "max")}

#: Every rule the estimate reads, with its value check (the YAML must give exactly these).
RULE_CHECKS = {
    **{f"evidence_weight.{s}": _unit for s in ITEM_STATUSES},
    "statistic.weight": _unit,
    "statistic.strictness": _strictness,
    "statistic.missing": _choice(*RULE_CHOICES["statistic.missing"]),
    "statistic.data_year_offset": _offset,
    "statistic.aggregate_areas": _bool,
    "points.basis": _choice(*RULE_CHOICES["points.basis"]),
    "status.met_from": _unit,
    "status.partial_from": _unit,
    "evidence.status_precedence": _precedence,
}


def rules_path(path: str | Path | None = None) -> Path:
    """The rules file in use: ``path`` or the packaged ``scoring_rules.yaml``."""
    return Path(path) if path is not None else package_file("scoring_rules.yaml")


def _yaml(path: str | Path) -> dict:
    doc = read_yaml(path, "rules file")
    if not isinstance(doc, Mapping):
        raise KlaError(f"{path}: expected a mapping with 'rules' and 'sensitivity'")
    return doc


def check_rules(rules: Mapping[str, object], where: str = "rules") -> None:
    """Raise ``KlaError`` listing every unknown, missing or out-of-range rule value."""
    problems = [f"unknown rule {k!r}" for k in rules if k not in RULE_CHECKS]
    problems += [f"rule {k!r} is missing" for k in RULE_CHECKS if k not in rules]
    for key, check in RULE_CHECKS.items():
        if key in rules and (msg := check(rules[key])):
            problems.append(f"rule {key!r} value {rules[key]!r} {msg}")
    if not problems and rules["status.partial_from"] > rules["status.met_from"]:
        problems.append("rule 'status.partial_from' must not exceed 'status.met_from'")
    if problems:
        raise KlaError(f"{where}: " + "; ".join(problems))


def rules_document(path: str | Path | None = None) -> dict:
    """The checked rules file: ``rules`` (value, assumption, rationale per rule),
    ``sensitivity`` and ``status_labels`` (and, unchecked here, ``priors``, ``posterior``
    and ``backtest``: ``priors.rules_document`` checks those); ``KlaError`` names the file
    and every bad rule.

    An old file's ``statistic.achievement`` is read as ``statistic.strictness``
    (``LEGACY_STRICTNESS``)."""
    p = rules_path(path)
    doc = _yaml(p)
    entries = doc.get("rules")
    if not isinstance(entries, Mapping):
        raise KlaError(f"{p}: a 'rules' mapping is required")
    bad = [k for k, e in entries.items()
           if not isinstance(e, Mapping) or "value" not in e or "assumption" not in e
           or not str(e.get("rationale") or "").strip()]
    if bad:
        raise KlaError(f"{p}: rules {', '.join(bad)} need value, assumption and rationale")
    doc = _upgrade_document(doc, p)
    check_rules({k: e["value"] for k, e in doc["rules"].items()}, str(p))
    return doc


def _upgrade_document(doc: Mapping, path: Path) -> dict:
    """An old rules file (``statistic.achievement`` proportional / threshold) read as the
    ``statistic.strictness`` it stands for, in its rules and its sensitivity grid."""
    doc = dict(doc)
    entries = dict(doc["rules"])
    old = entries.get("statistic.achievement")
    if old is not None and "statistic.strictness" not in entries:
        choice = old["value"]
        if choice not in LEGACY_STRICTNESS:
            raise KlaError(f"{path}: rule 'statistic.achievement' value {choice!r} must be one "
                           f"of {', '.join(LEGACY_STRICTNESS)} (or give statistic.strictness)")
        k = LEGACY_STRICTNESS[choice]
        entries.pop("statistic.achievement")
        entries["statistic.strictness"] = {
            **old, "value": k, "legacy": f"statistic.achievement = {choice}",
            "rationale": f"{old['rationale']} (read from the old rule statistic.achievement = "
                         f"{choice} as strictness k = {k:g})"}
        doc["rules"] = entries
    sens = doc.get("sensitivity") or {}
    grid = dict(sens.get("grid") or {})
    if "statistic.achievement" in grid and "statistic.strictness" not in grid:
        values = grid.pop("statistic.achievement")
        if isinstance(values, list | tuple):
            grid["statistic.strictness"] = [LEGACY_STRICTNESS.get(v, v) for v in values]
        doc["sensitivity"] = {**sens, "grid": grid}
    return doc


def load_rules(path: str | Path | None = None) -> Rules:
    """The headline rule settings as a flat dict (``'evidence_weight.ada' -> 1.0``, ...).

    Raises ``KlaError`` naming the file and every bad rule if the YAML is invalid.
    """
    return {k: e["value"] for k, e in rules_document(path)["rules"].items()}


def sensitivity_grid(path: str | Path | None = None) -> dict[str, list]:
    """Alternative values per rule (``{'statistic.weight': [0.25, 0.5, 0.75], ...}``)."""
    p = rules_path(path)
    grid = (rules_document(path).get("sensitivity") or {}).get("grid") or {}
    problems = []
    for key, values in grid.items():
        if key not in RULE_CHECKS:
            problems.append(f"unknown rule {key!r}")
        elif not isinstance(values, list | tuple) or not values:
            problems.append(f"{key!r} needs a list of values")
        else:
            problems += [f"{key!r} value {v!r} {m}" for v in values if (m := RULE_CHECKS[key](v))]
    if problems:
        raise KlaError(f"{p}: sensitivity grid: " + "; ".join(problems))
    return {k: list(v) for k, v in grid.items()}


def status_labels(lang: str = "id", path: str | Path | None = None) -> dict[str, str]:
    """Display labels of the indicator status codes (``met``, ``partial``, ...)."""
    labels = rules_document(path).get("status_labels") or {}
    return dict(labels.get(lang) or {s: s for s in INDICATOR_STATUSES})


def show_value(value: object) -> str:
    """A rule value as the methodology table prints it (``0.5``, ``true``, ``a, b``)."""
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)
