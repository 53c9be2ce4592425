"""HTML of the report's first section ("headline"): the six answers of ``summary.summary``
in the issue's order, short enough for two or three phone screens and one A4 page.

1. the official predikat (or "not yet announced"); 2. the model's chance of each band in
one sentence, with a stacked bar (decoration: ``aria-hidden``; the sentence carries the
figures); 3. for a year with an official result, how it compares with the model's
out-of-sample expectation; 4. the indicators losing the most points, with why; 5. the most
valuable action and the effort-chance choice; 6. what changed since the previous
evaluation. Below them: the backtest's verdict and the detailed figures (cards).

Every data-derived string is escaped (``esc``, ``Markup.format``). Estimates carry the
"estimasi" tag; the official predikat carries "resmi" only when it is published. The
section never says a target is met unless the official result meets it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from . import plots, sections, summary
from .display import predicate_colours
from .formatting import (
    esc,
    fmt_estimate,
    fmt_percent,
    fmt_points,
    fmt_signed,
    fmt_value,
    predicate_label,
)
from .i18n import keys, measure_label, t

_EMPTY = Markup("")
#: Text colour on the bar's labels (the report's ink).
BAR_INK = "#1b1b1b"
#: Narrowest segment (share of the bar) that carries its band's name.
BAR_LABEL_FROM = 0.18
#: Greyscale-safe patterns of the bar segments by band rank (below-lowest first); the CSS
#: classes are in ``static/summary.css``.
BAR_PATTERNS = ("bb-plain", "bb-dots", "bb-up", "bb-down", "bb-lines", "bb-cross")



@dataclass(frozen=True)
class Kit:
    """The report-wide HTML helpers of ``report.html`` this section reuses (the tags, the
    card, the heading, the chance in words, the backtest notes, the verified-score card).
    ``html.headline_html`` passes them in: ``html`` uses this module, so this module
    cannot import ``html`` without an import circle."""

    card: Callable[..., Markup]
    est_tag: Callable[[str], Markup]
    official_tag: Callable[[str], Markup]
    status_text: Callable[[object, str], str]
    heading: Callable[..., Markup]
    chance_words: Callable[[float, str], str]
    model_notes: Callable[..., list]
    chance_cards: Callable[[dict, str], list]


def _join(parts) -> Markup:
    return Markup("").join(parts)


def _pct(p: float, lang: str) -> str:
    """A probability as a whole percentage; under 0.5 % as "under 1 %" (never "0 %" for a
    band the model does not rule out)."""
    return t("summary.pct_under_one", lang) if p < 0.005 else fmt_percent(100 * p, lang, 0)


def _band(name: str, lang: str) -> str:
    """A band's name for display ('Belum berpredikat' in the report language)."""
    below = t("label.below_lowest", "id")
    return predicate_label(None if name == below else name, lang)


def _para(text: object, cls: str = "", tag: Markup = _EMPTY) -> Markup:
    return Markup('<p class="{}">{}{}</p>').format(cls, esc(text), tag) if cls else \
        Markup("<p>{}{}</p>").format(esc(text), tag)


def _h3(text: str, tag: Markup = _EMPTY) -> Markup:
    return Markup("<h3>{}{}</h3>").format(text, tag)


# --- 1. official ---------------------------------------------------------------------------

def official_html(rep: sections.Report, s: dict, kit: Kit) -> Markup:
    """The official predikat card (first card of the section), with its status and whether
    it meets the target."""
    lang, o = rep.lang, s["official"]
    label = t("headline.official", lang, year=rep.year)
    if not o["predicate"]:
        return Markup('<div class="card sum-official"><div class="label">{}</div>'
                      '<div class="value text">{}</div></div>').format(
            label, t("summary.official_none", lang))
    status = str(o["status"] or "unconfirmed")
    tag = kit.official_tag(lang) if status == "published" else Markup(
        '<span class="tag-unconfirmed">{}</span>').format(kit.status_text(status, lang))
    key = f"headline.official_status.{status}"
    said = t(key, lang) if key in keys() else status
    detail = [] if said == kit.status_text(status, lang) else [said]  # not twice
    if o["denies_target"]:
        detail.append(t("summary.official_target_denied", lang, target=o["target"],
                        official=predicate_label(o["predicate"], lang)))
    elif o["target_met"]:
        detail.append(t("summary.official_target_met", lang, target=o["target"]))
    return Markup('<div class="card sum-official"><div class="label">{}{}</div>'
                  '<div class="value text">{}</div><div class="detail">{}</div></div>').format(
        label, tag, esc(predicate_label(o["predicate"], lang)), esc(" · ".join(detail)))


# --- 2. chances ----------------------------------------------------------------------------

def chances_sentence(c: dict, lang: str, words: Callable[[float, str], str],
                     official: bool = False) -> str:
    """The model's chance of each band in one sentence: the target's chance in words, then
    the bands at or above it and those below, most likely first; ``official``: the year
    has an official result, which the sentence says the model left out (out of sample)."""
    def listing(rows):
        return ", ".join(f"{_band(b, lang)} {_pct(p, lang)}" for b, p in rows)

    p = c["p_target"] if c["p_target"] is not None else sum(p for _, p in c["above"])
    basis = t("summary.chances_oos", lang) if official and c["out_of_sample"] else ""
    values = {"basis": basis, "target": c["target"], "words": words(p, lang),
              "pct": fmt_percent(100 * p, lang, 0), "above": listing(c["above"])}
    if c["below"]:
        return t("summary.chances", lang, below=listing(c["below"]), **values)
    return t("summary.chances_no_below", lang, **values)


def chances_html(rep: sections.Report, s: dict, kit: Kit) -> Markup:
    lang, c = rep.lang, s["chances"]
    est = kit.est_tag(lang)
    if c is None:
        if rep.score.get("estimated_total") is None and rep.score.get("enough") is None:
            return _EMPTY
        return _para(t("summary.chances_withheld", lang,
                       reason=t("headline.chance_withheld", lang)), "sum-chances", est)
    sentence = chances_sentence(c, lang, kit.chance_words,
                                official=bool(s["official"]["predicate"]))
    return _join([Markup('<p class="sum-chances">{}{}</p>').format(esc(sentence), est),
                    band_bar(c["bands"], c["target"], lang)])


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def band_fills() -> dict[str, str]:
    """Band -> the bar's fill: the charts' band colours; below the lowest band white."""
    return {t("label.below_lowest", "id"): plots.BELOW_FILL, **predicate_colours()}


def band_bar(rows: list[tuple[str, float]], target: str, lang: str) -> Markup:
    """A stacked bar of the band probabilities ((band, p) lowest first). Decoration only
    (``aria-hidden``: the sentence before it carries the figures). Each segment has its
    band's fill and a pattern of its own (``BAR_PATTERNS``, told apart in greyscale too),
    white separators, and its band's name when wide enough, in ``BAR_INK`` on a chip of
    the plain fill (contrast >= 4.5:1, checked by the tests); the first segment at or
    above the target has a dark left edge (``bb-target``)."""
    if not rows:
        return _EMPTY
    fills = band_fills()
    order = [b for b, _ in rows]
    start = order.index(target) if target in order else None
    segs = []
    for i, (b, p) in enumerate(rows):
        if p < 0.005:
            continue
        fill = fills.get(b, "#dddddd")
        cls = BAR_PATTERNS[i % len(BAR_PATTERNS)] + (
            " bb-target" if start is not None and i == start else "")
        label = Markup('<b style="background-color:{};color:{}">{}</b>').format(
            fill, BAR_INK, _band(b, lang)) if p >= BAR_LABEL_FROM else _EMPTY
        segs.append(Markup('<span style="width:{:.1f}%;background-color:{}" class="{}">{}'
                           "</span>").format(100 * p, fill, cls, label))
    return Markup('<div class="bandbar-wrap"><div class="bandbar sum-bandbar" '
                  'aria-hidden="true">{}</div></div>').format(_join(segs))


# --- 3. the official result against the model -----------------------------------------------

def comparison_html(rep: sections.Report, s: dict, kit: Kit) -> Markup:
    """For a year with an official result: the model's chance of it (out of sample) and
    its most likely band, then the figures behind the gap."""
    lang, c = rep.lang, s["comparison"]
    if c is None:
        return _EMPTY
    est = kit.est_tag(lang)
    basis = "" if c["out_of_sample"] else t("summary.compare_in", lang)
    parts = [_h3(t("summary.compare_heading", lang), est),
             _para(t("summary.compare", lang, basis=basis,
                     official=predicate_label(c["official"], lang),
                     p_official=_pct(c["p_official"], lang),
                     likely=_band(c["most_likely"], lang),
                     p_likely=_pct(c["p_most_likely"], lang),
                     relation=t(f"summary.relation.{c['relation']}", lang)))]
    if c["points_lost"] is not None and c["lost_share"] is not None and c["top_block"]:
        code, lost = c["top_block"]
        parts.append(_para(t(
            "summary.compare_reason", lang, lost=fmt_estimate(c["points_lost"], lang),
            claimed=fmt_points(c["claimed_total"], lang),
            share=fmt_percent(100 * c["lost_share"], lang, 0),
            block=sections.cluster_labels(rep).get(code, code),
            block_lost=fmt_estimate(lost, lang),
            estimate=fmt_estimate(c["estimated_total"], lang),
            estimated_predicate=predicate_label(c["estimated_predicate"], lang),
            claimed_predicate=predicate_label(c["claimed_predicate"], lang))))
    return _join(parts)


# --- 4. the indicators losing the most points -----------------------------------------------

def _measure(rep: sections.Report, measure: str) -> str:
    cat = rep.catalog.dropna(subset=["measure"]).set_index("measure")
    if measure in cat.index:
        return str(cat.loc[measure, f"measure_{rep.lang}"])
    return measure_label(measure, rep.lang)


def reason_text(rep: sections.Report, r: dict) -> str:
    """One reason of ``summary.loss_reasons`` in words, with the points it costs."""
    lang = rep.lang
    if r["reason"] in summary.EVIDENCE_REASONS:
        text = t(f"summary.reason.{r['reason']}", lang, n=r["n"])
        names = "; ".join(f"{i['item']} {i[f'name_{lang}']}" for i in r["items"])
        text = f"{text}: {names}" if names else text
    elif r["reason"] == "statistic_below":
        direction = "lower" if r["direction"] == "lower" else "higher"
        text = t(f"summary.reason.statistic_below.{direction}", lang,
                 measure=_measure(rep, r["measure"]), value=fmt_value(r["value"], r["unit"], lang),
                 target=fmt_value(r["target"], r["unit"], lang),
                 data_year=r["data_year"] if r["data_year"] is not None else "–")
    else:
        text = t("summary.reason.statistic_missing", lang, measure=_measure(rep, r["measure"]),
                 data_year=r["data_year"] if r["data_year"] is not None else "–")
    return f"{text} ({t('summary.reason_points', lang, points=fmt_estimate(r['points'], lang))})"


def losers_html(rep: sections.Report, s: dict, kit: Kit) -> Markup:
    lang = rep.lang
    est = kit.est_tag(lang)
    losers = s["losers"]
    if rep.score.get("estimated_total") is None:
        return _para(t("summary.losers_no_estimate", lang))
    if not losers:
        return _para(t("summary.losers_none", lang), "", est)
    items = []
    for x in losers:
        why = "; ".join(reason_text(rep, r) for r in x["reasons"]) or \
            t("summary.reasons_none", lang)
        items.append(Markup(
            '<li><span class="sum-lost">{}</span><span class="what">{}. {}</span>'
            '<div class="why"><span class="meta">{}.</span> <strong>{}:</strong> {}</div></li>'
        ).format(t("summary.loser_lost", lang, lost=fmt_estimate(x["lost"], lang)),
                 x["indicator"], esc(x[f"name_{lang}"]),
                 esc(t("summary.loser_meta", lang, claimed=fmt_points(x["claimed"], lang),
                       opd=x["opd"] or "–")),
                 t("summary.reasons_label", lang), esc(why)))
    return _join([_h3(t("summary.losers_heading", lang, n=len(losers)), est),
                    _para(t("summary.losers_intro", lang), "muted sum-intro"),
                    Markup('<ol class="sum-losers">{}</ol>').format(_join(items))])


# --- 5. the most valuable action and the effort-chance choice --------------------------------

def action_what(rep: sections.Report, a: dict) -> str:
    """What the action changes: the item and its name, or the statistic from -> to."""
    lang = rep.lang
    if a["action"] == "raise_statistic" or not a.get("item"):
        return (f"{_measure(rep, str(a['measure']))}: {fmt_value(a['from_value'], a['unit'], lang)}"
                f" → {fmt_value(a['to_value'], a['unit'], lang)}")
    return f"{a['item']} {a.get(f'item_name_{lang}') or ''}".strip()


def frontier_text(rep: sections.Report, f: dict, target: str) -> str:
    """The effort-chance choices in one line: "14 satuan upaya → 52%, 26 → 80%, ..."."""
    lang = rep.lang
    words = [f"{e} → {fmt_percent(100 * c, lang, 0)}" for e, c in f["points"]]
    if words:
        words[0] = words[0].replace(" → ", f" {summary.effort_unit(rep)} → ", 1)
    for level, best in f["unreached"]:
        name = t("summary.frontier_every", lang) if level >= 1 else \
            fmt_percent(100 * level, lang, 0)
        words.append(t("summary.frontier_unreached", lang, level=name,
                       best=fmt_percent(100 * best, lang, 0)))
    return t("summary.frontier", lang, target=target, points=", ".join(words))


def action_html(rep: sections.Report, s: dict, kit: Kit) -> Markup:
    lang, a, f = rep.lang, s["action"], s["frontier"]
    est = kit.est_tag(lang)
    parts = [_h3(t("summary.action_heading", lang), est)]
    if a is None:
        parts.append(_para(t("summary.action_none", lang)))
    else:
        unit = summary.effort_unit(rep)
        if a["basis"] == "chance":
            value = t("summary.action_chance", lang, effort=a["effort"], unit=unit,
                      target=rep.target,
                      plan=fmt_percent(100 * (a["plan_chance"] or 0), lang, 0),
                      gain=fmt_estimate(100 * a["chance_gain"], lang),
                      points=fmt_estimate(a["points_gained"], lang))
        else:
            value = t("summary.action_points", lang, effort=a["effort"], unit=unit,
                      points=fmt_estimate(a["points_gained"], lang))
        parts.append(Markup('<p class="sum-action"><strong>{}</strong><br>'
                            '<span class="meta">{}</span><br>{}</p>').format(
            esc(action_what(rep, a)),
            esc(t("summary.action_meta", lang, label=a[f"label_{lang}"] or "",
                  indicator=a["indicator"], name=a.get(f"indicator_name_{lang}") or "",
                  opd=a["opd"] or "–")), esc(value)))
    if f is not None and (f["points"] or f["unreached"]):
        parts.append(_para(frontier_text(rep, f, rep.target), "sum-frontier"))
    elif f is None and a is not None:
        parts.append(_para(t("summary.frontier_none", lang), "muted"))
    return _join(parts)


# --- 6. what changed since the previous evaluation ---------------------------------------------

def change_html(rep: sections.Report, s: dict, kit: Kit) -> Markup:
    lang, c = rep.lang, s["change"]
    if c is None:
        return _join([_h3(t("headline.change_none", lang)),
                        _para(t("headline.no_previous", lang))])
    est = kit.est_tag(lang) if c["basis"] == "backed" else _EMPTY
    unknown = t("headline.official_unknown", lang)
    lines = [t("summary.change_official", lang, prev_year=c["previous_year"], year=rep.year,
               previous=predicate_label(c["previous_official"], lang)
               if c["previous_official"] else unknown,
               current=predicate_label(c["official"], lang) if c["official"] else unknown)]
    if not c["scored"]:
        lines.append(t("summary.change_unscored", lang, prev_year=c["previous_year"]))
    elif c["change_estimated"] is not None:
        lines.append(t("summary.change_totals", lang,
                       estimate=fmt_signed(round(c["change_estimated"], 1), lang),
                       claimed=fmt_signed(c["change_claimed"], lang)))
    else:
        lines.append(t("summary.change_claimed_only", lang,
                       claimed=fmt_signed(c["change_claimed"], lang)))
    parts = [_h3(t("headline.change", lang, prev_year=c["previous_year"]), est),
             _para(" ".join(lines))]
    if c["blocks"]:
        labels = sections.cluster_labels(rep)
        blocks = " · ".join(f"{labels.get(b['cluster'], b['cluster'])} "
                            f"{fmt_signed(round(b['change'], 1), lang)}" for b in c["blocks"])
        parts.append(_para(t("summary.change_blocks", lang,
                             basis=t(f"summary.basis.{c['basis']}", lang), blocks=blocks)))
    if c["movers"]:
        movers = "; ".join(f"{m['indicator']}. {m[f'name_{lang}']} "
                           f"{fmt_signed(round(m['change'], 1), lang)}" for m in c["movers"])
        parts.append(_para(t("summary.change_movers", lang, movers=movers)))
    return _join(parts)


# --- detailed figures (the earlier headline cards) ------------------------------------------

def details_html(rep: sections.Report, kit: Kit) -> Markup:
    """The headline's figures as cards (claimed total, evidence-backed estimate and its
    range, estimated predikat, verified score, points to the next predikat and to the
    target), folded under "detailed figures": the answers above come first."""
    h = sections.headline(rep)
    lang = rep.lang
    est = kit.est_tag(lang)
    cards = [kit.card(t("headline.claimed", lang), fmt_points(h["claimed_total"], lang),
                     t("headline.claimed_predicate", lang,
                       predicate=predicate_label(h["claimed_predicate"], lang)))]
    notes = []
    if h["estimated_total"] is not None:
        preds = [predicate_label(p, lang) for p in h.get("estimated_predicates") or []]
        cards += [
            kit.card(t("headline.estimate", lang), fmt_estimate(h["estimated_total"], lang),
                    t("headline.range", lang, low=fmt_estimate(h["estimated_total_min"], lang),
                      high=fmt_estimate(h["estimated_total_max"], lang)), est),
            kit.card(t("headline.estimated_predicate", lang),
                    predicate_label(h["estimated_predicate"], lang),
                    t("headline.estimated_predicate_range", lang, low=preds[0], high=preds[-1])
                    if len(preds) > 1 else "", est)]
        cards += kit.chance_cards(h, lang)
        if h["next_predicate"]:
            cards.append(kit.card(t("headline.to_next", lang, predicate=h["next_predicate"]),
                                 fmt_estimate(h["points_to_next_predicate"], lang), "", est))
        else:
            cards.append(kit.card(t("headline.at_top", lang), "–"))
        cards.append(kit.card(t("headline.to_target", lang, predicate=h["target_predicate"]),
                             fmt_estimate(h["points_to_target_predicate"], lang),
                             _target_detail(h, lang), est))
        if h["claimed_total"]:
            lost = h["points_lost"]
            notes.append(_para(t("headline.points_lost", lang, lost=fmt_estimate(lost, lang),
                                share=fmt_percent(100 * lost / h["claimed_total"], lang))))
        notes.append(_para(t("headline.points_from_estimate", lang), "muted"))
    return Markup('<details class="sum-details"><summary>{}</summary><div class="sum-body">'
                  '<div class="cards">{}</div>{}</div></details>').format(
        t("summary.details", lang), _join(cards), _join(notes))


def _target_detail(h: dict, lang: str) -> str:
    """Under the points to the target: the official result's denial when it denies the
    target; else the target's entry score (an estimate at 0 points to go is not "reached")."""
    if h.get("official_denies_target"):
        return t("headline.official_denies", lang,
                 official=predicate_label(h["official_predicate"], lang))
    return f"{t('label.target', lang)}: {fmt_points(h['target_entry'], lang)}"


# --- the section ---------------------------------------------------------------------------

def headline_html(rep: sections.Report, kit: Kit) -> Markup:
    """The first section (anchor ``headline``), with ``report.html``'s helpers ``kit``."""
    s = summary.summary(rep)
    answers = [official_html(rep, s, kit), chances_html(rep, s, kit),
               *kit.model_notes(rep, short=True), comparison_html(rep, s, kit),
               losers_html(rep, s, kit), action_html(rep, s, kit), change_html(rep, s, kit)]
    return _join([kit.heading(rep, "headline"),
                  Markup('<div class="sum">{}</div>').format(_join(answers)),
                  details_html(rep, kit)])


__all__ = ["Kit", "band_bar", "chances_sentence", "contrast", "headline_html", "reason_text"]
