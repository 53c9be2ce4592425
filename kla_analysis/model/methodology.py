"""The methodology appendix: every rule of the estimate, the sensitivity grid and the
planner, with its value, whether it is an assumption, and its rationale.

Both builders live here, above the estimate and the planner, so neither has to reach into
the other for the other's half of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePath

import pandas as pd

from ..config import PROJ_ROOT
from .rules import show_value
from .settings import Settings

COLUMNS = ["section", "rule", "value", "assumption", "rationale"]


def methodology_table(settings: Settings, lang: str = "id") -> pd.DataFrame:
    """Every rule of the estimate and planner: ``section, rule, value, assumption, rationale``.

    ``section`` is ``weights`` (the active weight set, ``weights_methodology``), ``estimate``,
    ``sensitivity`` or ``plan``; ``rationale`` is in ``lang`` (``id`` or ``en``). The weight
    set, rules, grid and actions are those of ``settings`` (the files the run was given).
    The report prints this table as its methodology appendix.
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
    out = pd.concat([weights_methodology(settings, lang), pd.DataFrame(rows),
                     reference_methodology(settings, lang),
                     posterior_methodology(settings, lang),
                     actions_methodology(settings.actions, lang)], ignore_index=True)
    return out[COLUMNS]


def reference_methodology(settings: Settings, lang: str = "id") -> pd.DataFrame:
    """The catalog's statistic references (the level of a lower-is-better statistic that
    earns no credit) as rows ``section='estimate'``, ``rule='statistic.reference.<measure>'``."""
    cat = settings.catalog
    if "reference" not in cat:
        return pd.DataFrame(columns=COLUMNS)
    key = "reference_rationale_id" if lang == "id" else "reference_rationale"
    rows = [{"section": "estimate", "rule": f"statistic.reference.{r['measure']}",
             "value": show_value(float(r["reference"])), "assumption": True,
             "rationale": str(r.get(key) or r.get("reference_rationale") or "")}
            for r in cat[cat["reference"].notna()].to_dict("records")]
    return pd.DataFrame(rows, columns=COLUMNS)


def posterior_methodology(settings: Settings, lang: str = "id") -> pd.DataFrame:
    """The posterior model's priors (``section='prior'``: distribution and its median and
    80 % interval or choice probabilities) and its settings (``section='posterior'`` and
    ``'backtest'``), each an assumption with its rationale."""
    from .posterior import prior_description

    key = "rationale_id" if lang == "id" else "rationale"
    doc = settings.rules_document
    specs = doc.get("priors") or {}
    desc = prior_description(specs).set_index("parameter") if specs else None
    rows = [{"section": "prior", "rule": k,
             "value": f"{desc.at[k, 'distribution']}: {desc.at[k, 'summary']}",
             "assumption": bool(e.get("assumption", True)),
             "rationale": e.get(key) or e.get("rationale", "")} for k, e in specs.items()]
    for section in ("posterior", "backtest"):
        e = doc.get(section) or {}
        rows += [{"section": section, "rule": f"{section}.{k}", "value": (
            ", ".join(f"{a}={show_value(b)}" for a, b in v.items()) if isinstance(v, Mapping)
            else show_value(v)), "assumption": bool(e.get("assumption", True)),
            "rationale": e.get(key) or e.get("rationale", "")}
            for k, v in e.items() if k not in ("assumption", "rationale", "rationale_id")]
    return pd.DataFrame(rows, columns=COLUMNS)


#: How a weight set's ``status`` reads, (id, en).
WEIGHT_STATUS = {"probable": ("kemungkinan, tidak resmi", "probable, unofficial"),
                 "assumption": ("asumsi", "assumption")}


def shown_path(source: object, root: Path = PROJ_ROOT) -> str:
    """A source as a report may print it: a web address as it is, a file path relative to
    the project folder ``root`` (``data/raw/bobot.csv``), or its name alone when it lies
    outside -- never the analyst's absolute local path.

    >>> shown_path("https://example.org/a"), shown_path(PROJ_ROOT / "data" / "raw" / "w.csv")
    ('https://example.org/a', 'data/raw/w.csv')
    >>> shown_path("/home/someone/kla/bobot.csv", root=Path("/srv/project"))
    'bobot.csv'
    """
    text = str(source).strip()
    if not text or "://" in text:
        return text
    path = PurePath(text)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return path.name


def number_runs(values, dash: str = "-") -> str:
    """Indicator numbers with runs shortened: ``[4, 5, 6, 9]`` -> ``4-6, 9`` (the report
    passes an en dash)."""
    nums, runs = sorted({int(v) for v in values}), []
    for n in nums:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}{dash}{b}" for a, b in runs)


def weights_methodology(settings: Settings, lang: str = "id") -> pd.DataFrame:
    """The active weight set as rows ``section='weights'``: ``weights.set`` (its name, label,
    status, provenance and source) and ``weights.assumed_maxima`` (how many indicators'
    maxima the set does not give, and which).

    No KemenPPPA regulation publishes the points, so ``assumption`` is True for every set
    but one whose status is ``official``; the rationale says whether the set is probable
    (unofficial) or an assumption.
    """
    en = lang != "id"
    info, cat = settings.weight_set, settings.catalog
    status = str(info.get("status", ""))
    status_text = WEIGHT_STATUS.get(status, (status, status))[en]
    label = info.get("label_en" if en else "label_id", "")
    source = str(info.get("source") or "").strip()
    if status_text and status_text.casefold() not in label.casefold():
        label = f"{label} ({status_text})"
    why = f"{label}. {info.get('provenance_en' if en else 'provenance_id', '')}"
    if source:
        why += (" Source: " if en else " Sumber: ") + shown_path(source)
    assumed = cat.loc[cat["max_points_assumed"].astype(bool), "indicator"]
    n, total = len(assumed), len(cat)
    if n:
        which = (f"Maxima of indicators {number_runs(assumed)} are not given by the set's source "
                 "(assumption)." if en else
                 f"Maksimum indikator {number_runs(assumed)} tidak diberikan sumber set bobot "
                 "ini (asumsi).")
    else:
        which = ("Every indicator's maximum comes from the set's source." if en else
                 "Maksimum setiap indikator berasal dari sumber set bobot ini.")
    claims = str(info.get("claims_scale") or "")
    if claims and claims != info.get("weight_set"):
        which += (f" Self-assessment claims are written on the {claims} scale and read as a "
                  "share of their maximum there." if en else
                  f" Klaim penilaian mandiri ditulis pada skala {claims} dan dibaca sebagai "
                  "bagian dari maksimumnya di skala itu.")
    return pd.DataFrame([
        {"section": "weights", "rule": "weights.set", "value": str(info.get("weight_set", "")),
         "assumption": status != "official", "rationale": why.strip()},
        {"section": "weights", "rule": "weights.assumed_maxima", "value": f"{n}/{total}",
         "assumption": n > 0, "rationale": which}], columns=COLUMNS)


def actions_methodology(doc: Mapping, lang: str = "id") -> pd.DataFrame:
    """Planner assumptions of the actions document ``doc`` (``actions.load_actions``) as rows
    ``section='plan', rule, value, assumption, rationale``."""
    key = "rationale_id" if lang == "id" else "rationale"
    rows = []
    for name, a in doc["evidence_actions"].items():
        rows.append((f"effort.{name}", f"{a['effort']}", a))
    for o in doc.get("item_overrides") or []:
        val = f"{o['effort']}" if "effort" in o else ""
        if o.get("available") is False:
            val = "not available" if lang == "en" else "tidak tersedia"
        rows.append((f"effort.item.{o['item']}", val, o))
    stat = doc.get("statistic_action") or {}
    for group, entries in (("unit", stat.get("by_unit") or {}),
                           ("measure", stat.get("measure_overrides") or {})):
        for name, p in entries.items():
            val = ", ".join(f"{k}={p[k]:g}" for k in ("step", "max_change", "effort_per_step")
                            if k in p)
            rows.append((f"statistic.{group}.{name}", val, p))
    return pd.DataFrame(
        [{"section": "plan", "rule": r, "value": v, "assumption": bool(e.get("assumption", True)),
          "rationale": e.get(key) or e.get("rationale", "")} for r, v, e in rows],
        columns=COLUMNS)


def assumption_values(settings: Settings) -> dict:
    """The values the report writes its plain-language assumptions from (the same files as
    ``methodology_table``, without identifiers to read): ``rules`` (headline values, flat),
    ``grid`` (alternative values per rule) and ``n_settings`` (combinations of the grid),
    ``priors`` (per parameter: ``distribution`` with ``low``, ``median``, ``high`` -- the 80 %
    interval -- or ``probabilities`` of a choice), ``posterior`` and ``backtest`` (their
    settings), ``references`` (statistics with a reference level: ``measure``, ``label_id``,
    ``label_en``, ``reference``, ``target``, ``unit``), ``evidence_actions`` (``name,
    label_id, label_en, effort``), ``item_efforts`` (``item, effort, available``) and
    ``statistic_actions`` (``group`` unit or measure, ``name``, ``step``, ``max_change``,
    ``effort_per_step``)."""
    from .estimate import sensitivity_settings
    from .priors import quantiles

    doc = settings.rules_document
    priors = {}
    for name, spec in (doc.get("priors") or {}).items():
        if spec["distribution"] == "categorical":
            priors[name] = {"distribution": "categorical",
                            "probabilities": dict(spec["probabilities"])}
        else:
            low, median, high = quantiles(spec, [0.1, 0.5, 0.9])
            priors[name] = {"distribution": spec["distribution"], "low": low,
                            "median": median, "high": high}
    grid = {k: list(v) for k, v in settings.grid.items()}
    n_settings = len(sensitivity_settings(settings.grid, settings.rules))
    cat = settings.catalog
    refs = cat[cat["reference"].notna()] if "reference" in cat else cat.iloc[0:0]
    acts = settings.actions
    stat = acts.get("statistic_action") or {}
    req = settings.requirements
    items = {str(r["item"]): {"name_id": r["name_id"], "name_en": r["name_en"]}
             for r in req.drop_duplicates("item").to_dict("records")}
    measures = {r["measure"]: {"unit": r["unit"], "label_id": r.get("measure_id") or "",
                               "label_en": r.get("measure_en") or ""}
                for r in cat[cat["measure"].notna()].to_dict("records")}
    return {
        "rules": dict(settings.rules), "grid": grid, "n_settings": n_settings,
        "priors": priors, "posterior": _plain(doc.get("posterior")),
        "backtest": _plain(doc.get("backtest")),
        "references": [{"measure": r["measure"], "label_id": r.get("measure_id") or "",
                        "label_en": r.get("measure_en") or "", "reference": float(r["reference"]),
                        "target": r["target"], "unit": r.get("unit")}
                       for r in refs.to_dict("records")],
        "evidence_actions": [{"name": n, "label_id": a.get("label_id", n),
                              "label_en": a.get("label_en", n), "effort": a["effort"]}
                             for n, a in acts["evidence_actions"].items()],
        "item_efforts": [{"item": str(o["item"]), "effort": o.get("effort"),
                          "available": o.get("available") is not False,
                          **items.get(str(o["item"]), {"name_id": "", "name_en": ""})}
                         for o in acts.get("item_overrides") or []],
        "statistic_actions": [{"group": group, "name": n, **{k: p[k] for k in (
            "step", "max_change", "effort_per_step") if k in p},
            **(measures.get(n, {"unit": n, "label_id": "", "label_en": ""})
               if group == "measure" else {"unit": n, "label_id": "", "label_en": ""})}
            for group, entries in (("unit", stat.get("by_unit") or {}),
                                   ("measure", stat.get("measure_overrides") or {}))
            for n, p in entries.items()]}


def _plain(section: Mapping | None) -> dict:
    """A settings section without its ``assumption`` flag and rationales; nested mappings
    as dicts."""
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in (section or {}).items()
            if k not in ("assumption", "rationale", "rationale_id")}
