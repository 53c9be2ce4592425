"""HTML of each report section, and ``show_*`` functions that display it in the notebook.

Each ``*_html(rep)`` returns a ``Markup`` fragment built from ``kla_analysis.report`` data;
every data-derived string is escaped (``Markup.format`` escapes its arguments). The
notebook calls the ``show_*`` functions, which display the fragment as HTML output, so the
same page appears in JupyterLab and in the nbconvert report.

Estimate-derived numbers carry an "estimasi" tag and are rounded to one decimal; official
predicates carry a "resmi" tag. Nothing estimated is ever shown as official.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pandas as pd
from markupsafe import Markup

from .. import __version__
from ..model import methodology, rules
from ..params import HEADLINE_MIME, LANGS
from . import plots, sections
from .formatting import (
    badge,
    esc,
    fmt_estimate,
    fmt_number,
    fmt_percent,
    fmt_points,
    fmt_value,
    html_table,
    is_missing,
    markup_column,
    predicate_label,
)
from .i18n import glossary, keys, t

#: Section anchors in report order, with their heading key.
SECTIONS = [("headline", "section.headline"), ("bands", "section.bands"),
            ("clusters", "section.clusters"), ("indicators", "section.indicators"),
            ("evidence", "section.evidence"), ("trend", "section.trend"),
            ("kelurahan", "section.kelurahan"), ("peers", "section.peers"),
            ("plan", "section.plan"), ("methodology", "section.methodology")]

_EMPTY = Markup("")
_HTTP = re.compile(r"^https?://[^\s<>\"']+$", re.I)


def _join(parts) -> Markup:
    return Markup("").join(parts)


def _est_tag(lang: str) -> Markup:
    return Markup('<span class="tag-estimate">{}</span>').format(t("label.estimate", lang))


def _official_tag(lang: str) -> Markup:
    return Markup('<span class="tag-official">{}</span>').format(
        "resmi" if lang == "id" else "official")


def _heading(rep: sections.Report, anchor: str) -> Markup:
    key = dict(SECTIONS)[anchor]
    return Markup('<h2 id="{}">{}</h2>').format(anchor, t(key, rep.lang))


def _p(text: str, cls: str = "") -> Markup:
    return Markup('<p class="{}">{}</p>').format(cls, text) if cls else \
        Markup("<p>{}</p>").format(text)


def _domain(url: str) -> str:
    m = re.match(r"^https?://([^/]+)", str(url or ""))
    return m.group(1) if m else str(url or "")


def link(url: object, text: object | None = None) -> Markup:
    """A link for an http(s) address from data; anything else is shown as plain text."""
    if is_missing(url) or not str(url).strip():
        return _EMPTY
    url = str(url).strip()
    if not _HTTP.match(url):
        return esc(url)
    return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, text or url)


# --- title ---------------------------------------------------------------------------------

def title_html(rep: sections.Report) -> Markup:
    """The title block. The link to the other language is marked as that language, and in
    a report not in Bahasa Indonesia the city's name is marked ``lang="id"`` (a screen
    reader then says it as Indonesian). ``data-description`` on the header is the page's
    meta description (the nbconvert template moves it into ``<head>``)."""
    other = next(lang for lang in LANGS if lang != rep.lang)
    toc = _join(Markup('<li><a href="#{}">{}</a></li>').format(a, t(k, rep.lang))
                for a, k in SECTIONS)
    mark = "\ue000"  # where the city goes in the title string
    before, _, after = t("report.title", rep.lang, city=mark, year=rep.year).partition(mark)
    city = esc(rep.city) if rep.lang == "id" else Markup('<span lang="id">{}</span>').format(
        esc(rep.city))
    return Markup(
        '<header data-description="{}"><p class="lang-switch">'
        '<a href="{}-{}.html" hreflang="{}" lang="{}">{}</a> · '
        '<a href="../index.html">{}</a></p><h1>{}{}{}</h1><p class="subtitle">{}</p>'
        '<div class="notice"><strong>{}</strong></div>'
        '<nav class="toc"><strong>{}</strong><ol style="list-style:none;padding-left:0">{}</ol>'
        "</nav></header>").format(
        t("report.description", rep.lang, city=rep.city, year=rep.year),
        rep.year, other, other, other, t("report.other_language", rep.lang),
        t("report.back_to_index", rep.lang), before, city, after,
        t("report.subtitle", rep.lang), t("report.estimate_notice", rep.lang),
        t("report.contents", rep.lang), toc)


# --- 1. headline ---------------------------------------------------------------------------

def _card(label: str, value: str, detail: object = "", tag: Markup = _EMPTY,
          lead: bool = False) -> Markup:
    text = "" if any(c.isdigit() for c in value) else " text"
    return Markup('<div class="card{}"><div class="label">{}{}</div><div class="value{}">{}'
                  '</div><div class="detail">{}</div></div>').format(
        " lead" if lead else "", label, tag, text, value, detail)


def official_status_text(status: object, lang: str) -> str:
    """Short label of an official result's status (published / inferred / unconfirmed)."""
    key = f"official_status_short.{str(status).strip().casefold()}"
    return t(key, lang) if key in _keys() else ("" if is_missing(status) else str(status))


def headline_html(rep: sections.Report) -> Markup:
    """The first section: the task force's six questions answered in order
    (``summary_html.headline_html``), then the detailed figures."""
    from . import summary_html  # here: the module-level imports are shared ground

    return summary_html.headline_html(rep, summary_html.Kit(
        card=_card, est_tag=_est_tag, official_tag=_official_tag,
        status_text=official_status_text, heading=_heading, chance_words=chance_words,
        model_notes=_model_notes, chance_cards=_chance_cards))


def chance_words(p: float, lang: str) -> str:
    """A probability as people say it: "sekitar 2 dari 10" / "about 2 in 10"."""
    if p < 0.05:
        return t("headline.chance_low", lang)
    if p > 0.95:
        return t("headline.chance_high", lang)
    return t("headline.chance_words", lang, k=max(1, min(9, round(p * 10))))


def _chance_cards(h: dict, lang: str) -> list[Markup]:
    """The model's verified-score median and 80 % interval (one card), or one card saying
    why the model's figures are withheld; the chance of each band is the first section's
    sentence (``summary_html.chances_sentence``)."""
    est = _est_tag(lang)
    if h.get("p_target") is None or not h.get("interval_80"):
        if h.get("estimated_total") is None:
            return []
        return [_card(t("headline.verified", lang), "–", t("headline.chance_withheld", lang),
                      est)]
    lo, hi = h["interval_80"]
    return [_card(t("headline.verified", lang), fmt_estimate(h["posterior_median"], lang),
                  t("headline.verified_detail", lang, low=fmt_estimate(lo, lang),
                    high=fmt_estimate(hi, lang)), est)]


def _band_bar(h: dict, lang: str) -> Markup:
    """A stacked bar of the band probabilities of ``h`` (``score_year``'s dict); decoration,
    the figures are in the text beside it (``summary_html.band_bar``)."""
    from . import summary_html

    probs = h.get("band_probabilities")  # lowest band first, as score_year gives them
    if not probs:
        return _EMPTY
    return summary_html.band_bar([(str(b), float(p)) for b, p in probs.items()],
                                 h["target_predicate"], lang)


def _model_notes(rep: sections.Report, short: bool = False) -> list[Markup]:
    """The backtest's verdict in one sentence ("calibrated" only when the model beats every
    simple forecast) and the years the model does not explain well; ``short``: the first
    section's shorter wording (the same figures, the fit note inside the verdict's box),
    which keeps that section to one printed page."""
    lang = rep.lang
    pre = "summary" if short else "headline"
    _, summ = sections.backtest(rep)
    flags = sections.fit_flags(rep)
    flag = t(f"{pre}.fit_flag", lang, years=", ".join(map(str, flags))) if flags else ""
    out = []
    if summ.get("n_years"):
        if summ.get("calibrated"):
            out.append(_p(t("headline.backtest_better", lang, n=summ["n_years"]), "muted"))
        elif summ.get("best_baseline"):
            b = summ["best_baseline"]
            section = t(dict(SECTIONS)["methodology"], lang)
            verdict = t(f"{pre}.backtest_not_better", lang, baseline=t(f"baseline.{b}", lang),
                        model=fmt_number(summ["rps"]["model"], lang, 3),
                        base=fmt_number(summ["rps"][b], lang, 3),
                        section=section.split(".")[0] if short else section)
            if short and flag:
                verdict, flag = f"{verdict} {flag}", ""
            out.append(Markup('<div class="notice">{}</div>').format(verdict))
    if flag:
        out.append(_p(flag, "muted"))
    return out


def _keys() -> set[str]:
    return set(keys())


# --- 2. bands ------------------------------------------------------------------------------

def bands_html(rep: sections.Report) -> Markup:
    h = sections.headline(rep)
    fig = plots.score_bands_figure(
        rep.bands, h["claimed_total"], h["estimated_total"], h["estimated_total_min"],
        h["estimated_total_max"], h["target_predicate"], h["target_entry"],
        h["estimated_predicate"], rep.lang)
    return _join([_heading(rep, "bands"), _p(t("bands.intro", rep.lang)), fig.to_html()])


# --- 3. clusters ---------------------------------------------------------------------------

def questions_text(answered: object, total: object) -> str:
    """The evaluation application's completeness mark ``[answered/total]`` ("–" without a
    total; "[–/total]" when only the total is known)."""
    if is_missing(total):
        return "–"
    done = "–" if is_missing(answered) else f"{int(answered)}"
    return f"[{done}/{int(total)}]"


def _has_questions(df: pd.DataFrame) -> bool:
    return "questions_total" in df and bool(df["questions_total"].notna().any())


def _block_name(label: str, name: str) -> str:
    """What a block's short label leaves out: the name after its colon (``Klaster I:
    ...``, ``Cluster I: ...``), or the whole name when the label is a short form of it (""
    when the label is the name)."""
    _, _, rest = str(name).partition(":")
    if rest.strip():
        return rest.strip()
    return "" if str(name).strip() == label else str(name).strip()


def clusters_html(rep: sections.Report) -> Markup:
    lang = rep.lang
    cl = sections.cluster_table(rep)
    fig = plots.clusters_figure(cl, lang)
    total = pd.DataFrame([{"label": t("label.total", lang), "claimed": cl["claimed"].sum(),
                           "backed": cl["backed"].sum(), "lost": cl["lost"].sum(),
                           "max_points": cl["max_points"].sum()}])
    questions = _has_questions(cl)
    if questions:
        total = total.assign(questions_answered=cl["questions_answered"].sum(),
                             questions_total=cl["questions_total"].sum())
    rows = pd.concat([cl, total], ignore_index=True)
    table = pd.DataFrame({
        t("label.cluster", lang): rows["label"],
        t("label.claimed", lang): [fmt_points(v, lang) for v in rows["claimed"]],
        t("label.backed_short", lang): [fmt_estimate(v, lang) for v in rows["backed"]],
        t("label.lost", lang): [fmt_estimate(v, lang) for v in rows["lost"]],
        t("label.maximum", lang): [fmt_points(v, lang) for v in rows["max_points"]]})
    if questions:
        table[t("label.questions", lang)] = [
            questions_text(a, n) for a, n in zip(rows["questions_answered"],
                                                  rows["questions_total"], strict=True)]
    names = Markup("; ").join(Markup("<b>{}</b>: {}").format(label, rest) for label, rest in
                              ((lab, _block_name(lab, name)) for lab, name in
                               zip(cl["label"], cl["name"], strict=True)) if rest)
    weights = rep.settings.weight_set.get(f"label_{lang}", "")
    intro = t("clusters.intro", lang, n=len(cl), total=fmt_points(cl["max_points"].sum(), lang),
              weights=weights)
    parts = [_heading(rep, "clusters"), _p(intro), fig.to_html(),
             html_table(table, numeric=list(table.columns[1:]), table_class="compact",
                        row_classes=[None] * len(cl) + ["total"]),
             Markup('<p class="muted">{}</p>').format(names)]
    if questions:
        parts.append(_p(t("clusters.questions", lang), "muted"))
    return _join(parts)


def cluster_codes(rep: sections.Report) -> str:
    """``KLB = Kelembagaan, KD = Kecamatan/desa``: the block codes of the indicator table
    whose short label does not end in the code (``Klaster I`` needs no legend)."""
    return ", ".join(f"{code} = {label}" for code, label in sections.cluster_labels(rep).items()
                     if label.split()[-1:] != [code])


# --- 4. indicators -------------------------------------------------------------------------

def indicators_html(rep: sections.Report) -> Markup:
    lang = rep.lang
    ind = sections.indicator_table(rep)
    labels = rules.status_labels(lang)
    stat = [Markup("{} / {}").format(fmt_value(v, u, lang), fmt_value(tg, u, lang))
            if not is_missing(v) else (t("label.no_data", lang) if isinstance(u, str) else "")
            for v, u, tg in zip(ind["statistic_value"], ind["unit"], ind["target"], strict=True)]
    points = {
        t("label.claimed", lang): [fmt_points(v, lang) for v in ind["claimed"]],
        t("label.backed_short", lang): [fmt_estimate(v, lang) for v in ind["backed"]],
        t("label.lost", lang): [fmt_estimate(v, lang) for v in ind["lost"]],
        t("label.maximum", lang): [fmt_points(v, lang) for v in ind["max_points"]]}
    questions = _has_questions(ind)
    table = pd.DataFrame({
        "No": ind["indicator"].astype(str),
        t("label.indicator", lang): ind["name"],
        t("label.status", lang): markup_column(badge(labels.get(s, s), s)
                                               for s in ind["status"]),
        **({t("label.questions", lang): [
            questions_text(a, n) for a, n in zip(ind["questions_answered"],
                                                  ind["questions_total"], strict=True)]}
           if questions else {}),
        **points,
        t("label.cluster", lang): ind["cluster"],
        f"{t('label.statistic', lang)} / {t('label.target', lang)}": markup_column(stat)})
    classes = {t("label.indicator", lang): ["wide"] * len(ind)}
    notes = [_p(t("status.legend", lang), "muted")]
    codes = cluster_codes(rep)
    if codes:
        notes.append(_p(t("indicators.codes", lang, codes=codes), "muted"))
    if questions:
        notes.append(_p(t("indicators.questions", lang), "muted"))
    intro = t("indicators.intro", lang, n=len(ind), k=ind["cluster"].nunique())
    return _join([_heading(rep, "indicators"), _p(intro), *notes,
                  html_table(table, numeric=["No", *points, *([t("label.questions", lang)]
                                                              if questions else [])],
                             cell_classes=classes)])


# --- 5. missing evidence by OPD ------------------------------------------------------------

def evidence_html(rep: sections.Report) -> Markup:
    lang = rep.lang
    gaps = sections.evidence_gaps(rep)
    parts = [_heading(rep, "evidence"), _p(t("evidence.intro", lang))]
    if gaps.empty:
        return _join([*parts, _p(t("evidence.none_missing", lang))])
    parts.append(_p(t("evidence.gain_note", lang), "muted"))
    for opd, grp in gaps.groupby("opd", sort=False):
        parts.append(Markup("<h3>{}</h3>").format(
            t("evidence.opd_heading", lang, opd=opd, n=len(grp),
              points=fmt_estimate(grp["gain"].sum(), lang))))
        items = []
        for r in grp.itertuples():
            status = t(f"evidence_status.{r.status}", lang)
            meta = (t("evidence.item_meta", lang, indicator=r.indicator, status=status,
                      title=r.title) if isinstance(r.title, str) and r.title.strip()
                    else t("evidence.item_meta_untitled", lang, indicator=r.indicator,
                           status=status))
            meta = f"{meta} · " + (t("evidence.file", lang, file=r.file)
                                   if isinstance(r.file, str) and r.file.strip()
                                   else t("evidence.no_file", lang))
            items.append(_item(f"{r.item} {r.item_name}", meta, "+" + fmt_estimate(r.gain, lang)))
        parts.append(Markup('<ul class="items">{}</ul>').format(_join(items)))
    return _join(parts)


def _item(what: str, meta: str, gain: str, due: str = "") -> Markup:
    """One list item: the gain, what to do, its details and (a to-do's) due line."""
    due_line = Markup('<div class="meta">{}</div>').format(due) if due else _EMPTY
    return Markup('<li><span class="gain">{}</span><span class="what">{}</span>'
                  '<div class="meta">{}</div>{}</li>').format(gain, what, meta, due_line)


# --- 6. trend ------------------------------------------------------------------------------

def trend_html(rep: sections.Report) -> Markup:
    lang = rep.lang
    tr = sections.trend_table(rep)
    parts = [_heading(rep, "trend"), _p(t("trend.intro", lang))]
    if tr["estimate"].notna().sum() + tr["official_predicate"].notna().sum() > 1:
        parts.append(plots.trend_figure(tr, rep.bands, lang).to_html())
    else:
        parts.append(_p(t("trend.single_year", lang)))
    table = pd.DataFrame({
        t("label.year", lang): tr["year"].astype(str),
        t("label.claimed_total", lang): [fmt_points(v, lang) for v in tr["claimed"]],
        t("label.estimated_total", lang): [fmt_estimate(v, lang) for v in tr["estimate"]],
        t("label.range", lang): ["–" if is_missing(lo) else f"{fmt_estimate(lo, lang)}–"
                                 f"{fmt_estimate(hi, lang)}" for lo, hi in
                                 zip(tr["low"], tr["high"], strict=True)],
        t("label.estimated_predicate", lang): [
            "–" if is_missing(e) else predicate_label(p, lang)
            for e, p in zip(tr["estimate"], tr["estimated_predicate"], strict=True)],
        t("label.official_predicate", lang): [
            "–" if is_missing(p) else p if s == "published"
            else f"{p} ({official_status_text(s, lang)})"
            for p, s in zip(tr["official_predicate"], tr["official_status"], strict=True)]})
    parts.append(html_table(table, numeric=list(table.columns[:4]), table_class="compact"))
    parts.append(trend_clusters_html(rep))
    return _join(parts)


def trend_clusters_html(rep: sections.Report) -> Markup:
    """Per block per year (``sections.trend_cluster_table``): the estimate with the claim
    below it, folded under the trend table (nothing with fewer than two years)."""
    lang = rep.lang
    tc = sections.trend_cluster_table(rep)
    if tc["year"].nunique() < 2:
        return _EMPTY
    # two lines per cell (estimate, the claim below it): narrow enough for a phone
    order = list(dict.fromkeys(tc["cluster"]))
    labels = dict(zip(tc["cluster"], tc["label"], strict=False))
    by = {(int(r.year), r.cluster): Markup("{}<br><small>{}</small>").format(
        fmt_estimate(r.backed, lang), fmt_points(r.claimed, lang)) for r in tc.itertuples()}
    years = sorted(tc["year"].astype(int).unique())
    latest = tc[tc["year"] == years[-1]].set_index("cluster")["max_points"]
    table = pd.DataFrame({t("label.cluster", lang): [labels[c] for c in order],
                          **{str(y): markup_column(by.get((y, c), "–") for c in order)
                             for y in years},
                          t("label.maximum", lang): [fmt_points(latest.get(c), lang)
                                                     for c in order]})
    return Markup("<details><summary>{}</summary>{}</details>").format(
        t("trend.clusters", lang),
        html_table(table, numeric=list(table.columns[1:]), table_class="compact"))


# --- 7. kelurahan --------------------------------------------------------------------------

#: Up to this many desa/kelurahan a statistic shows all of them in one chart; above it (a
#: kabupaten with hundreds of desa), one row per kecamatan and the worst :data:`WORST_AREAS`.
AREA_CHART_MAX = 30
WORST_AREAS = 10


def kelurahan_html(rep: sections.Report) -> Markup:
    lang = rep.lang
    data_year = rep.year - int(rep.rules["statistic.data_year_offset"])
    views = sections.kelurahan_views(rep)
    parts = [_heading(rep, "kelurahan")]
    if not views:
        return _join([*parts, _p(t("kelurahan.none", lang, data_year=data_year))])
    parts.append(_p(t("kelurahan.intro", lang, data_year=data_year)))
    for v in sorted(views, key=lambda v: (v["indicator"] is None, v["indicator"] or 0,
                                          v["measure"])):
        parts += _area_view(v, lang)
    return _join(parts)


def _short_of(values: pd.Series, target: float | None, direction: str | None) -> pd.Series:
    if target is None:
        return pd.Series(False, index=values.index)
    return values > target if direction == "lower" else values < target


def _area_view(v: dict, lang: str) -> list[Markup]:
    """One statistic of section 7: per kecamatan (its figure and the range of its
    desa/kelurahan) when there are many areas or only kecamatan figures, the desa/kelurahan
    (all, or the worst ones) as dots, and every figure in a collapsed table grouped by
    kecamatan, worst first."""
    unit, target, direction, year = v["unit"], v["target"], v["direction"], v["data_year"]
    word = v.get("area_word") or "desa/kelurahan"
    vals = v["values"].dropna(subset=["value"])
    kec = v.get("kecamatan", pd.DataFrame(columns=["kecamatan", "value", "source"]))
    many = len(vals) > AREA_CHART_MAX
    out = [Markup("<h3>{}</h3>").format(
        f"{v['indicator']}. {v['label']}" if v["indicator"] is not None else v["label"])]
    given = kec[kec["source"] == "given"] if "source" in kec else kec.iloc[:0]
    if not kec.empty and (many or vals.empty or len(given)):
        fig = plots.kecamatan_figure(kec, v["label"], unit, target, direction, year, word,
                                     lang)
        known = kec.dropna(subset=["value"])
        cap = [t("kelurahan.by_kecamatan", lang, n=len(kec), area=word, data_year=year)]
        if target is not None and len(known):
            cap.append(t("kelurahan.below_target", lang, n=int(_short_of(
                known["value"], target, direction).sum()), total=len(known), area="kecamatan",
                target=fmt_value(target, unit, lang), data_year=year))
        if len(known) < len(kec):
            cap.append(t("kelurahan.no_kecamatan_figure", lang, n=len(kec) - len(known),
                         area=word))
        fig.caption = " ".join(cap)
        out.append(fig.to_html())
    if not vals.empty:
        twice = vals["area"].duplicated(keep=False)
        label = vals["area"].where(~(twice | many), vals["area"] + " · " +
                                   vals["kecamatan"].fillna(""))
        shown = vals.assign(area=label)
        if many:
            shown = shown.loc[plots.worst_first(shown["value"], direction)[:WORST_AREAS]]
        fig = plots.kelurahan_figure(shown, v["label"], unit, target, direction, year, lang)
        cap = []
        if many:
            cap.append(t("kelurahan.worst", lang, n=len(shown), total=len(vals), area=word))
        if target is not None:
            cap.append(t("kelurahan.below_target", lang, n=int(_short_of(
                vals["value"], target, direction).sum()), total=len(vals), area=word,
                target=fmt_value(target, unit, lang), data_year=year))
        else:
            cap.append(t("kelurahan.no_target", lang, data_year=year))
        fig.caption = " ".join(cap)
        out.append(fig.to_html())
    elif target is None:
        out.append(_p(t("kelurahan.no_target", lang, data_year=year)))
    table = _area_table(v, kec, lang, word)
    out.append(Markup("<details><summary>{}</summary>{}</details>").format(
        t("kelurahan.table", lang, n=len(v["values"]) or len(kec),
          area=word if len(v["values"]) else "kecamatan"),
        html_table(table, numeric=["n", "N", table.columns[2]])))
    return out


def _area_table(v: dict, kec: pd.DataFrame, lang: str, word: str) -> pd.DataFrame:
    """Every figure of a statistic, grouped by kecamatan (worst kecamatan first): the
    kecamatan's own figure, then its desa/kelurahan, worst first (missing figures last).

    Sorted in plain Python over the rows: a filter per kecamatan and a lookup per row in
    pandas took most of the section's time at regency size."""
    unit, direction = v["unit"], v["direction"]
    lower = direction == "lower"

    def worst(x: object) -> tuple:  # a stable sort on this key is plots.worst_first
        return (1, 0.0) if is_missing(x) else (0, -float(x) if lower else float(x))

    cols = ["kecamatan", "value", "numerator", "denominator"]
    own = list(zip(*(kec[c] for c in cols), strict=True)) if not kec.empty else []
    bounds = list(kec["high" if lower else "low"]) if "low" in kec else [math.nan] * len(kec)
    order = sorted(range(len(own)), key=lambda i: worst(
        bounds[i] if is_missing(own[i][1]) else own[i][1]))
    names = [own[i][0] for i in order]
    vals = list(zip(*(v["values"][c] for c in ["kecamatan", "area", *cols[1:]]), strict=True))
    named = {k for k, *_ in vals if not is_missing(k)}
    names += sorted(named - set(names))
    rank = {k: i for i, k in enumerate(names)}
    whole = t("kelurahan.kecamatan_row", lang)
    first = {}  # a kecamatan's own figure: its first row, if that has a value
    for k, value, n, d in own:
        first.setdefault(k, (k, whole, value, n, d))
    rows = [(rank[k], 0, r) for k, r in first.items() if not is_missing(r[2])]
    placed = sorted((r for r in vals if not is_missing(r[0])), key=lambda r: worst(r[2]))
    rows += [(rank[r[0]], 1, r) for r in placed]
    rows = [r for *_, r in sorted(rows, key=lambda x: (x[0], x[1]))]
    rows += [("", *r[1:]) for r in vals if is_missing(r[0])]
    return pd.DataFrame({
        t("label.kecamatan", lang): [k for k, *_ in rows],
        word.capitalize(): [r[1] for r in rows],
        t("label.value", lang): [fmt_value(r[2], unit, lang) for r in rows],
        "n": [fmt_number(r[3], lang, 0) for r in rows],
        "N": [fmt_number(r[4], lang, 0) for r in rows]})


# --- 8. peers ------------------------------------------------------------------------------

def peers_html(rep: sections.Report) -> Markup:
    lang = rep.lang
    peers = sections.peers_table(rep)
    parts = [_heading(rep, "peers")]
    if peers.empty:
        return _join([*parts, _p(t("peers.none", lang))])
    parts.append(_p(t("peers.intro", lang, province=rep.province or "")))
    parts.append(plots.peers_figure(peers, rep.bands, rep.city, lang).to_html())
    table = pd.DataFrame({
        t("label.city", lang): peers["city"], t("label.year", lang): peers["year"].astype(str),
        t("label.predicate", lang): peers["predicate"],
        t("label.provenance", lang): [official_status_text(v, lang) for v in peers["status"]],
        t("label.source", lang): markup_column(link(u, t("label.source", lang))
                                               for u in peers["source_url"])})
    parts.append(Markup("<details><summary>{}</summary>{}</details>").format(
        t("peers.table", lang, n=len(table)),
        html_table(table, row_classes=["highlight" if c == rep.city else None
                                       for c in peers["city"]])))
    return _join(parts)


# --- 9. plan -------------------------------------------------------------------------------

def plan_html(rep: sections.Report) -> Markup:
    """Section 9: the ranked to-do per OPD (``todo.build_todo``: the chance plan's tasks by
    gain in chance per unit of effort, else the points plan's by points per unit, saying
    why), the plan's chance and effort-chance frontier, the date the tasks are due and the
    effort unit."""
    from . import todo as td  # builds on sections and formatting only (no circle)

    lang = rep.lang
    result = sections.plan_result(rep)
    s = result["summary"]
    parts = [_heading(rep, "plan")]
    if not s["evidence_available"]:
        return _join([*parts, _p(t("plan.unavailable", lang))])
    todo = td.build_todo(result, lang, raw_dir=rep.paths.raw)
    cp, tasks, unit, chance = todo.chance_plan, todo.table, todo.unit, todo.basis == "chance"
    target, entry = s["target_predicate"], fmt_points(s["target_entry"], lang)
    level = fmt_percent(100 * cp["chance_target"], lang, 0) if cp else ""
    if chance:
        parts.append(_p(t("todo.intro_chance", lang, target=target, entry=entry, level=level)))
    else:
        parts.append(_p(t("todo.intro_points", lang, target=target, entry=entry)))
        parts.append(_p(t(f"todo.reason.{todo.reason}", lang, target=target, level=level,
                          best=td.pct(cp.get("best_chance") if cp else None, lang)), "muted"))
        if not s["reachable"]:
            parts.append(Markup('<div class="notice">{}</div>').format(
                t("plan.unreachable", lang, target=target,
                  best=predicate_label(s["best_reachable_predicate"], lang))))
    effort = int(tasks["effort"].sum()) if len(tasks) else 0
    if chance and tasks.empty:
        parts.append(_p(t("todo.none_needed", lang, target=target, level=level,
                          words=chance_words(cp["chance"], lang),
                          pct=td.pct(cp["chance"], lang))))
    elif chance:
        parts.append(Markup("<p><strong>{}</strong>{}</p>").format(
            t("todo.summary_chance", lang, n=len(tasks), n_opd=tasks["opd"].nunique(),
                      unit=unit, effort=effort, target=target,
                      words=chance_words(cp["chance"], lang), pct=td.pct(cp["chance"], lang)),
            _est_tag(lang)))
    elif tasks.empty:
        if s["points_needed"] <= 0:
            parts.append(_p(t("plan.already", lang, target=target)))
    else:
        parts.append(Markup("<p><strong>{}</strong>{}</p>").format(
            t("todo.summary_points", lang, n=len(tasks), n_opd=tasks["opd"].nunique(),
                      unit=unit, effort=effort,
                      gain=fmt_estimate(s["total_after"] - s["current_total"], lang),
                      new_total=fmt_estimate(s["total_after"], lang),
                      margin=fmt_estimate(s["margin"], lang) if s["margin"] is not None
                      else "–"),
            _est_tag(lang)))
    if cp and cp.get("enough", True) and (frontier := td.frontier_text(cp, target, unit, lang)):
        parts.append(_p(frontier, "muted"))
    if tasks.empty:
        return _join(parts)
    due = todo.due
    lead = [t("todo.for_round", lang, year=rep.year, round=due.round)] \
        if due is not None and due.round != rep.year else []
    first, *rest = td.due_sentences(due, lang)
    parts.append(Markup("<p>{}<strong>{}</strong> {}</p>").format(
        " ".join(lead) + (" " if lead else ""), first, " ".join(rest)))
    parts.append(_p(f"{t('todo.notes.unit', lang)}: {todo.unit_note}", "muted"))
    key = "todo.opd_heading_chance" if chance else "todo.opd_heading_points"
    groups = dict(list(tasks.groupby("opd", sort=False)))  # split once, not filtered per OPD
    for opd in sorted(groups, key=lambda o: groups[o]["rank"].min()):  # best task first
        grp = groups[opd]
        parts.append(Markup("<h3>{}</h3>").format(t(
            key, lang, n=len(grp), opd=opd, unit=unit, effort=int(grp["effort"].sum()),
            gain=fmt_estimate(grp["points_gained"].sum(), lang))))
        items = []
        for r in grp.itertuples():
            gain = (t("todo.gain_chance", lang, pct=td.signed_pct(r.chance_gain, lang))
                    if chance else
                    t("todo.gain_points", lang, points=fmt_estimate(r.points_gained, lang)))
            meta = t("todo.item_meta", lang, rank=r.rank, action=getattr(r, f"label_{lang}"),
                     indicator=r.indicator, name=getattr(r, f"indicator_name_{lang}"),
                     points=fmt_estimate(r.points_gained, lang), unit=unit, effort=r.effort)
            items.append(_item(td.what(r, lang), meta, gain, td.item_due(due, lang)))
        parts.append(Markup('<ul class="items">{}</ul>').format(_join(items)))
    return _join(parts)


# --- 10. calibration, methodology, sources, quality, glossary ------------------------------

def _yes_no(value: object, lang: str) -> str:
    if is_missing(value):
        return "–"
    return t("label.yes", lang) if bool(value) else t("label.no", lang)


def _backtest_html(rep: sections.Report) -> list[Markup]:
    """The backtest table (each official year predicted without its own result, the model
    beside the three simple forecasts) and its verdict."""
    lang = rep.lang
    bt, summ = sections.backtest(rep)
    if bt.empty:
        return []
    methods = ["model", "persistence", "peers", "national"]
    names = {"model": t("backtest.model", lang),
             **{m: t(f"baseline.{m}", lang) for m in methods[1:]}}
    rows = {t("label.year", lang): [str(y) for y in bt["year"]] + [t("backtest.mean", lang)],
            t("label.official_predicate", lang): [
                predicate_label(p, lang) for p in bt["official_predicate"]] + [""]}
    for m in methods:
        ok = bt["model_enough"].astype(bool) if m == "model" else pd.Series(True, bt.index)
        cells = [fmt_percent(100 * p, lang, 0) if o and not is_missing(p) else "–"
                 for p, o in zip(bt[f"p_official_{m}"], ok, strict=True)]
        mean = summ["rps"].get(m)
        rows[f"{names[m]} (P / RPS)"] = [
            f"{c} / {fmt_number(r, lang, 3)}" if c != "–" else "–"
            for c, r in zip(cells, bt[f"rps_{m}"], strict=True)] + [
            f"RPS {fmt_number(mean, lang, 3)}" if mean is not None else "–"]
    table = pd.DataFrame(rows)
    verdict = _model_notes(rep)[:1]
    return [Markup("<h3>{}</h3>").format(t("backtest.heading", lang)),
            _p(t("backtest.text", lang)),
            html_table(table, numeric=list(table.columns[2:]), table_class="compact"),
            *verdict]


def methodology_html(rep: sections.Report) -> Markup:
    """Section 10: calibration, backtest, what is official, the method, the assumptions as
    sentences, the technical appendix (rule names and raw values, collapsed), sources,
    data-quality notes and the glossary."""
    lang = rep.lang
    parts = [_heading(rep, "methodology"), *_calibration_html(rep), *_backtest_html(rep),
             Markup("<h3>{}</h3>").format(t("official.heading", lang)),
             _p(t("official.text", lang)),
             Markup("<h3>{}</h3>").format(t("methodology.heading", lang)),
             _p(t("methodology.text", lang)),
             Markup("<h3>{}</h3>").format(t("assumptions.heading", lang)),
             *_assumptions_html(rep), _appendix_html(rep), *_sources_html(rep),
             Markup("<h3>{}</h3>").format(t("quality.heading", lang))]
    notes = sections.quality_notes(rep) or [t("quality.all_good", lang)]
    parts.append(Markup("<ul>{}</ul>").format(_join(
        Markup("<li>{}</li>").format(_no_local_paths(n, rep)) for n in notes)))
    parts.append(Markup("<h3>{}</h3>").format(t("glossary.heading", lang)))
    g = glossary(lang)
    parts.append(Markup('<dl class="glossary">{}</dl>').format(_join(
        Markup("<dt>{}</dt><dd>{}</dd>").format(a, b) for a, b in
        zip(g["term"], g["meaning"], strict=True))))
    return _join(parts)


def _calibration_html(rep: sections.Report) -> list[Markup]:
    """The estimate against the official predikat, year by year."""
    lang = rep.lang
    parts = [Markup("<h3>{}</h3>").format(t("calibration.heading", lang)),
             _p(t("calibration.intro", lang))]
    cal, summary = sections.calibration_table(rep)
    if summary["years_compared"]:
        parts.append(_p(t("calibration.summary", lang, hits=summary["years_in_band"],
                          n=summary["years_compared"])))
    else:
        parts.append(_p(t("calibration.none", lang)))
    if not cal.empty:
        table = pd.DataFrame({
            t("label.year", lang): cal["year"].astype(str),
            t("label.official_predicate", lang): cal["official_predicate"],
            t("label.claimed_total", lang): [fmt_points(v, lang) for v in cal["claimed_total"]],
            t("label.estimated_total", lang): [fmt_estimate(v, lang) for v in cal["estimated_total"]],
            t("label.range", lang): ["–" if is_missing(lo) else f"{fmt_estimate(lo, lang)}–"
                                     f"{fmt_estimate(hi, lang)}" for lo, hi in
                                     zip(cal["estimated_total_min"], cal["estimated_total_max"],
                                         strict=True)],
            t("label.in_band", lang): [_yes_no(v, lang) for v in cal["in_band"]],
            t("label.distance", lang): [fmt_estimate(v, lang) for v in cal["distance_to_band"]]})
        parts.append(html_table(table, numeric=[table.columns[2], table.columns[3],
                                                table.columns[6]], table_class="compact"))
    return parts


def _region_words(rep: sections.Report) -> tuple[str, str]:
    """The region's word (``kabupaten``, ``kota``, or ``kabupaten/kota`` when the folder
    does not say) and its word for the smallest areas, for the assumption sentences."""
    from ..region import load_region, region_type

    region = load_region(rep.paths.raw)
    kind = region.type or region_type(rep.city)
    return (kind or "kabupaten/kota"), region.village_word


def _assumptions_html(rep: sections.Report) -> list[Markup]:
    """The assumptions as sentences in the report language, grouped (points and bands, the
    estimate, the chance model, the plan); rule names stay in the appendix."""
    from . import assumptions  # the sentences' module is needed by this section only

    lang = rep.lang
    assumed = rep.catalog[rep.catalog["cluster_assumed"]]["indicator"]
    source = rep.bands.attrs.get("source", "")
    points = [weights_html(rep), t("assumptions.targets", lang),
              Markup("{} {}").format(t("assumptions.bands", lang),
                                     link(source, _domain(source)))]
    if len(assumed):
        points.insert(1, t("assumptions.clusters", lang,
                           indicators=", ".join(str(i) for i in assumed)))
    region, area = _region_words(rep)
    groups = [("weights", points), *assumptions.assumption_groups(
        rep.settings, lang, year=rep.year, region=region, area=area)]
    return [Markup('<h4>{}</h4><ul class="assumptions">{}</ul>').format(
        t(f"method.group.{name}", lang), _join(_assumption_item(i) for i in items))
        for name, items in groups]


def _assumption_item(item: object) -> Markup:
    """One sentence, or ``(sentence, details)`` with the details as a nested list."""
    if isinstance(item, tuple):
        text, details = item
        return Markup("<li>{}<ul>{}</ul></li>").format(text, _join(
            Markup("<li>{}</li>").format(d) for d in details))
    return Markup("<li>{}</li>").format(item)


#: Sections of the rules table in appendix order.
_APPENDIX_SECTIONS = ("weights", "estimate", "sensitivity", "prior", "posterior", "backtest",
                      "plan")


def _appendix_html(rep: sections.Report) -> Markup:
    """Every rule's name, raw value and rationale (``sections.methodology_table``), collapsed
    under a labelled summary: for the analyst who edits the rules files, not the reader. A
    rationale shared by consecutive rules is written once, after the last of them."""
    lang = rep.lang
    table = sections.methodology_table(rep)
    tag = Markup(' <span class="tag-estimate">{}</span>').format(t("label.assumption", lang))
    body = [_p(t("method.appendix_intro", lang))]
    for section in [s for s in _APPENDIX_SECTIONS if s in set(table["section"])] + sorted(
            set(table["section"]) - set(_APPENDIX_SECTIONS)):
        rows = list(table[table["section"] == section].itertuples())
        key = f"method.appendix.{section}"
        items = []
        for i, r in enumerate(rows):
            items.append(Markup("<dt><code>{}</code> = <code>{}</code>{}</dt>").format(
                r.rule, r.value, tag if r.assumption else _EMPTY))
            if i + 1 == len(rows) or rows[i + 1].rationale != r.rationale:
                items.append(Markup("<dd>{}</dd>").format(_no_local_paths(r.rationale, rep)))
        body.append(Markup('<h4>{}</h4><dl class="rules">{}</dl>').format(
            t(key, lang) if key in _keys() else section, _join(items)))
    return Markup('<details class="technical-appendix"><summary>{}</summary>{}</details>'
                  ).format(t("method.appendix", lang), _join(body))


def _sources_html(rep: sections.Report) -> list[Markup]:
    """``raw/sources.csv`` as a list: file, dataset and status in the report language; who
    delivered it, the notes and the source as written (data), the notes marked with their
    language when the file declares one."""
    lang = rep.lang
    parts = [Markup("<h3>{}</h3>").format(t("sources.heading", lang))]
    src = sections.sources_table(rep)
    if src.empty:
        return [*parts, _p(t("sources.none", lang))]
    parts.append(_p(t("sources.intro", lang)))
    # A list, not a table: long file names and notes made a 950 px table on a phone.
    parts.append(Markup('<dl class="rules sources">{}</dl>').format(_join(
        _source_item(r, lang) for r in src.itertuples())))
    return parts


def _coded(prefix: str, value: object, lang: str) -> str:
    """The report-language label of a coded value (``provenance.illustrative``), or the
    value as written when the code is unknown."""
    key = f"{prefix}.{str(value).strip().casefold()}"
    return t(key, lang) if key in _keys() else str(value)


def _source_item(r, lang: str) -> Markup:
    status = _coded("provenance", r.status, lang) if str(r.status).strip() else ""
    dataset = _coded("dataset", r.dataset, lang) if str(r.dataset).strip() else ""
    tags = _join(Markup(' <span class="tag-source">{}</span>').format(x)
                 for x in (dataset, status) if x)
    who = Markup("{}: {}. ").format(t("label.delivered_by", lang), r.delivered_by) \
        if str(r.delivered_by).strip() else _EMPTY
    note_lang = str(r.lang).strip()
    attr = Markup(' lang="{}"').format(note_lang) if note_lang and note_lang != lang else _EMPTY
    note = Markup('<span class="source-note"{}>{}</span> ').format(attr, r.notes) \
        if str(r.notes).strip() else _EMPTY
    url = str(r.source_url).strip()
    where = link(url, _domain(url)) if _HTTP.match(url) else (
        Markup('<span class="source-note"{}>{}</span>').format(attr, url) if url else _EMPTY)
    return Markup("<dt><code>{}</code>{}</dt><dd>{}{}{}</dd>").format(
        r.file, tags, who, note, where)


def _no_local_paths(text: object, rep: sections.Report) -> str:
    """``text`` with the data folder's absolute path (an error message may name a file in
    it) replaced by the folder as the footer names it."""
    text = str(text)
    folder = str(rep.paths.data_dir)
    return text.replace(folder, _data_folder(rep)) if folder in text else text


def weights_html(rep: sections.Report) -> Markup:
    """The weight set item of the assumptions: label, status, provenance, source link, and
    which indicators' maxima are assumed (``sections.weight_set_summary``)."""
    lang = rep.lang
    w = sections.weight_set_summary(rep)
    key = f"weights.status.{w['status']}"
    status = t(key, lang) if key in _keys() else w["status"]
    label = w["label"] if not status or status.casefold() in w["label"].casefold() \
        else f"{w['label']} ({status})"
    parts = [Markup("{}").format(t("assumptions.weights", lang, label=label,
                                     provenance=w["provenance"]))]
    source = methodology.shown_path(w["source"])  # a user's CSV: never its absolute path
    if source:
        parts.append(Markup(" {} {}.").format(t("assumptions.weights_source", lang),
                                              link(source, _domain(source))))
    if w["n_assumed"]:
        blocks = ", ".join(t("assumptions.weights_block", lang, block=label,
                             indicators=_numbers(nums)) for label, nums in w["assumed_blocks"])
        parts.append(Markup(" {}").format(t("assumptions.weights_assumed", lang,
                                            n=w["n_assumed"], total=w["n_indicators"],
                                            blocks=blocks)))
    else:
        parts.append(Markup(" {}").format(t("assumptions.weights_none_assumed", lang,
                                            total=w["n_indicators"])))
    if w["claims_scale"] and w["claims_scale"] != w["weight_set"]:
        parts.append(Markup(" {}").format(t("assumptions.weights_claims", lang,
                                            claims=w["claims_scale"])))
    return _join(parts)


def _numbers(values) -> str:
    """``[4, 5, 6, 9]`` -> ``4–6, 9``."""
    return methodology.number_runs(values, "–")


def footer_html(rep: sections.Report) -> Markup:
    return Markup('<footer class="report-footer">{}</footer>').format(
        t("report.generated", rep.lang, date=date.today().isoformat(), version=__version__,
          data=_data_folder(rep)))


def _data_folder(rep: sections.Report) -> str:
    """The data folder as a report names it: relative to the project (``data``), or its name
    alone when it lies outside -- never the analyst's absolute local path."""
    from ..config import PROJ_ROOT

    folder = rep.paths.data_dir
    try:
        return folder.relative_to(PROJ_ROOT.resolve()).as_posix()
    except ValueError:
        return t("footer.data_outside", rep.lang, name=folder.name)


# --- notebook display ----------------------------------------------------------------------

SECTION_HTML = {"headline": headline_html, "bands": bands_html, "clusters": clusters_html,
                "indicators": indicators_html, "evidence": evidence_html, "trend": trend_html,
                "kelurahan": kelurahan_html, "peers": peers_html, "plan": plan_html,
                "methodology": methodology_html}


def _display(fragment: Markup) -> None:
    from IPython.display import HTML, display

    display(HTML(str(fragment)))


def show_title(rep: sections.Report) -> None:
    _display(title_html(rep))


def show_section(rep: sections.Report, anchor: str) -> None:
    """Display one numbered section (``headline``, ``bands``, ... ``methodology``)."""
    _display(SECTION_HTML[anchor](rep))
    if anchor == "headline":
        from IPython.display import display

        display({HEADLINE_MIME: sections.index_headline(rep)}, raw=True)


def show_footer(rep: sections.Report) -> None:
    _display(footer_html(rep))


def full_html(rep: sections.Report) -> Markup:
    """Every section in order (what the notebook shows), for tests and quick previews."""
    return _join([title_html(rep), *(SECTION_HTML[a](rep) for a, _ in SECTIONS),
                  footer_html(rep)])


__all__ = ["SECTIONS", "full_html", "show_footer", "show_section", "show_title"]

