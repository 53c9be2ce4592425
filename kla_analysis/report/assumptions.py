"""The assumptions of the estimate, the chance model and the plan as sentences in the
report language, written from the values the run uses (``methodology.assumption_values``:
``scoring_rules.yaml``, its priors, ``actions.yaml`` and the catalog), so an edited rule
changes the sentence with it. No rule identifier appears here: the names and raw values
are the technical appendix's (``methodology.methodology_table``).

A sentence is a plain string (the caller escapes it); an item with details is
``(sentence, [detail, ...])``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..model import methodology
from ..model.settings import Settings
from .formatting import fmt_number, fmt_percent
from .i18n import keys, t

Item = str | tuple[str, list[str]]

#: Item statuses in the order the evidence sentence lists them (``missing`` has its own).
_STATUSES = ("ada", "dalam_proses", "kedaluwarsa", "tidak_ada")
#: Rules whose values are shares (0-1), shown as percentages.
_SHARES = ("evidence_weight.", "statistic.weight", "status.")
_FRACTIONS = {1.0: "full", 0.5: "half", 0.25: "quarter", 0.75: "three_quarters", 0.0: "none"}


def assumption_groups(settings: Settings, lang: str, *, year: int, region: str,
                      area: str) -> list[tuple[str, list[Item]]]:
    """``[(group, items)]`` for the groups ``estimate``, ``model`` and ``plan`` (a group
    with nothing to say is left out). ``region`` is the region's word (``kabupaten``,
    ``kota`` or ``kabupaten/kota``), ``area`` its word for the smallest areas."""
    v = methodology.assumption_values(settings)
    labels = settings.rules_document.get("status_labels", {}).get(lang, {})
    groups = [("estimate", estimate_items(v, lang, year=year, region=region, area=area,
                                          labels=labels)),
              ("model", model_items(v, lang)),
              ("plan", plan_items(v, lang))]
    return [(g, items) for g, items in groups if items]


# --- numbers in words ------------------------------------------------------------------------

def percent(value: float, lang: str, decimals: int = 1) -> str:
    """A share as a percentage: ``0.5`` -> ``50%``, ``0.125`` -> ``12,5%`` (id)."""
    return fmt_percent(100 * float(value), lang, decimals)


def number(value: float, lang: str) -> str:
    return fmt_number(value, lang, decimals=2, trim=True)


def fraction(value: float, lang: str) -> str:
    """``0.5`` -> ``setengah`` / ``half``; a share without a word -> its percentage."""
    word = _FRACTIONS.get(round(float(value), 6))
    return t(f"method.fraction.{word}", lang) if word else percent(value, lang)


def share(value: float, lang: str) -> str:
    """How an item of this value counts: ``dihitung penuh``, ``dihitung setengah nilainya``,
    ``tidak dihitung``."""
    value = float(value)
    if value >= 1:
        return t("method.share.full", lang)
    if value <= 0:
        return t("method.share.none", lang)
    return t("method.share.part", lang, fraction=fraction(value, lang))


def rule_label(rule: str, lang: str) -> str:
    """What a rule is, in words (``nilai item “dalam proses”``); an unknown rule of a
    user's rules file keeps its name."""
    if rule.startswith("evidence_weight."):
        return t("method.rule.evidence_weight", lang, status=_status(rule.split(".", 1)[1], lang))
    key = f"method.rule.{rule}"
    return t(key, lang) if key in keys() else rule


def rule_value(rule: str, value: object, lang: str) -> str:
    """A rule value in words: a share as a percentage, a choice by its label."""
    if isinstance(value, bool):
        return t(f"method.choice.{str(value).lower()}", lang)
    if isinstance(value, int | float):
        return percent(value, lang) if rule.startswith(_SHARES) else number(value, lang)
    key = f"method.choice.{rule}.{value}"
    return t(key, lang) if key in keys() else str(value)


def _status(status: str, lang: str) -> str:
    key = f"evidence_status.{status}"
    return t(key, lang) if key in keys() else status


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _values(rule: str, values: Sequence, lang: str) -> str:
    """Grid values in words: numbers as ``low to high``, choices as ``a or b``."""
    if all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
        lo, hi = min(values), max(values)
        return rule_value(rule, lo, lang) if lo == hi else t(
            "method.list_range", lang, low=rule_value(rule, lo, lang),
            high=rule_value(rule, hi, lang))
    words = [rule_value(rule, x, lang) for x in values]
    return words[0] if len(words) == 1 else t("method.list_or", lang, a=", ".join(words[:-1]),
                                              b=words[-1])


# --- the estimate ------------------------------------------------------------------------------

def estimate_items(v: Mapping, lang: str, *, year: int, region: str, area: str,
                   labels: Mapping) -> list[Item]:
    r = v["rules"]
    items = [evidence_sentence(r, lang),
             t("method.statistic_weight", lang, stat=percent(r["statistic.weight"], lang),
               docs=percent(1 - float(r["statistic.weight"]), lang)),
             strictness_sentence(float(r["statistic.strictness"]), lang),
             t(f"method.statistic_missing.{r['statistic.missing']}", lang, region=region),
             t("method.data_year", lang, year=year,
               data_year=int(year) - int(r["statistic.data_year_offset"])),
             t(f"method.aggregate.{str(bool(r['statistic.aggregate_areas'])).lower()}", lang,
               region=region, area=area),
             t(f"method.basis.{r['points.basis']}", lang),
             t("method.status", lang, met=labels.get("met", "met"),
               partial=labels.get("partial", "partial"),
               not_met=labels.get("not_met", "not met"),
               met_from=percent(r["status.met_from"], lang),
               partial_from=percent(r["status.partial_from"], lang)),
             t("method.precedence", lang, order=", ".join(
                 _status(s, lang) for s in r["evidence.status_precedence"]))]
    items += [t("method.reference", lang, measure=ref[f"label_{lang}"] or ref["measure"],
                target=number(ref["target"], lang), reference=number(ref["reference"], lang))
              for ref in v["references"]]
    if v["grid"]:
        items.append(t("method.range", lang, n=v["n_settings"], items="; ".join(
            t("method.range_item", lang, label=rule_label(rule, lang),
              values=_values(rule, values, lang)) for rule, values in v["grid"].items())))
    return items


def evidence_sentence(rules: Mapping, lang: str) -> str:
    """``Setiap item data dukung dinilai menurut statusnya: “ada” dihitung penuh, ...``."""
    parts = ", ".join(t("method.evidence_part", lang, status=_status(s, lang),
                        share=share(rules[f"evidence_weight.{s}"], lang))
                      for s in _STATUSES if f"evidence_weight.{s}" in rules)
    return t("method.evidence", lang, parts=parts,
             missing=share(rules.get("evidence_weight.missing", 0.0), lang))


def strictness_sentence(k: float, lang: str) -> str:
    if k == 1:
        return t("method.strictness_proportional", lang)
    return t("method.strictness", lang, k=number(k, lang), half=percent(0.5 ** k, lang))


# --- the chance model ----------------------------------------------------------------------

def model_items(v: Mapping, lang: str) -> list[Item]:
    if not v["priors"]:
        return []
    post = v["posterior"]
    items: list[Item] = [(t("method.model_intro", lang, draws=number(post.get("draws", 0), lang)),
                          [prior_sentence(name, p, lang) for name, p in v["priors"].items()])]
    weights = post.get("status_weights") or {}
    if weights:
        items.append(t("method.status_weights", lang, **{
            s: fraction(weights.get(s, 0.0), lang) for s in ("published", "inferred",
                                                             "unconfirmed")}))
    if "min_ess" in post:
        items.append(t("method.min_ess", lang, min_ess=number(post["min_ess"], lang)))
    items.append(t("method.backtest", lang, baselines=", ".join(
        t(f"baseline.{b}", lang) for b in ("persistence", "peers", "national"))))
    return items


def prior_sentence(name: str, prior: Mapping, lang: str) -> str:
    """``Nilai item “dalam proses”: 8 dari 10 kemungkinan antara 28% dan 72%, ...``."""
    label = _capital(rule_label(name, lang))
    if prior["distribution"] == "categorical":
        return t("method.prior_choice", lang, label=label, choices=", ".join(
            t("method.prior_choice_item", lang, choice=rule_value(name, c, lang),
              p=percent(p, lang)) for c, p in prior["probabilities"].items()))
    # a prior's interval is rough by nature: whole percentages, two digits for small numbers
    show = (lambda x: percent(x, lang, 0)) if name.startswith(_SHARES) else (
        lambda x: fmt_number(x, lang, decimals=0 if abs(x) >= 5 else 2, trim=True))
    return t("method.prior_range", lang, label=label, low=show(prior["low"]),
             high=show(prior["high"]), median=show(prior["median"]))


# --- the action plan -----------------------------------------------------------------------

def plan_items(v: Mapping, lang: str) -> list[Item]:
    efforts = [t("method.effort_item", lang, label=a[f"label_{lang}"],
                 effort=number(a["effort"], lang)) for a in v["evidence_actions"]]
    efforts += [t("method.item_effort" if o["available"] else "method.item_unavailable", lang,
                  item=o["item"], name=o[f"name_{lang}"] or o["item"],
                  effort=number(o["effort"] or 0, lang)) for o in v["item_efforts"]]
    items: list[Item] = [t("method.efforts", lang, items="; ".join(efforts))] if efforts else []
    stats = [statistic_action(a, lang) for a in v["statistic_actions"]]
    if stats:
        items.append(t("method.statistic_actions", lang, items="; ".join(stats)))
    return items


def statistic_action(a: Mapping, lang: str) -> str:
    """One statistic action's steps in words, in the unit of its measure."""
    unit = a.get("unit")
    label = a.get(f"label_{lang}") or (t(f"method.unit.{unit}", lang)
                                       if f"method.unit.{unit}" in keys() else a["name"])
    kind = unit if unit in ("percent", "count") else "other"
    show = (lambda x: percent(x, lang)) if kind == "count" else (lambda x: number(x, lang))
    return t(f"method.statistic_action.{kind}", lang, label=_capital(label),
             step=show(a.get("step", 0)), max_change=show(a.get("max_change", 0)),
             effort=number(a.get("effort_per_step", 0), lang))
