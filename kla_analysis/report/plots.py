"""Report charts sized for a phone and for paper, each returned with its alt text.

Every function takes tidy data and returns an ``SvgFigure``: SVG text written directly
(``kla_analysis.report.svg``) with an alt text that states the numbers shown and an optional
caption; ``to_html()`` embeds it as a base64 data: URI in an ``<img alt=...>`` (escaped), so
the report file is self-contained and the alt text survives nbconvert. A chart takes about a
millisecond (a matplotlib figure took a tenth of a second) and its text stays sharp at any
zoom.

Sizes: a chart is ``CHART_PX`` CSS px wide, about the width of a 360-390 px phone's column,
and every text is ``TEXT_PX`` (12 px): at least 11.5 px on a 360 px phone, 9 pt on A4, where
the chart prints at its own size. A percentage axis starts at 0, or shows where it is
broken (``_axis_break``).

Colours are the Okabe-Ito colour-blind-safe palette; every series also differs by marker,
hatch or line style, and bands carry text labels, so the charts read in greyscale print.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.ticker import MaxNLocator

from . import svg
from .formatting import fmt_estimate, fmt_number, fmt_points, fmt_value, predicate_label
from .i18n import t

# Okabe & Ito (2008), https://jfly.uni-koeln.de/color/
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
CLAIMED = {"color": OKABE_ITO["vermillion"], "marker": "v", "hatch": "////", "linestyle": "--"}
BACKED = {"color": OKABE_ITO["blue"], "marker": "o", "hatch": "", "linestyle": "-"}
TARGET = {"color": OKABE_ITO["black"], "linestyle": (0, (4, 2))}
OFFICIAL = {"color": "#bdbdbd", "hatch": "xx"}
# Predicate bands, lowest first: light fills of rising darkness plus distinct hatches.
BAND_FILLS = ["#f7f7f7", "#e3eef6", "#c6dbef", "#9ecae1", "#6baed6"]
BAND_HATCHES = ["", "..", "//", "\\\\", "xx"]
BELOW_FILL = "#ffffff"

#: Chart width in CSS px: the column of a 360 px phone is 328 px, of a 390 px one 358 px,
#: so a chart shows at 0.96-1.05 of its size there (and at its size on A4).
CHART_PX = 340
#: Size of every chart text in CSS px (11.6 px on a 360 px phone, 9 pt on paper).
TEXT_PX = 12.0
#: Height of one kelurahan / kecamatan row of the dot plots, and of a peers row.
ROW_PX = 18.0
CLUSTER_LABEL_CHARS = 16  # klaster labels wrap beyond this
DASH = "5 3"


@dataclass
class SvgFigure:
    """A chart written as SVG (``kla_analysis.svg``), ``width`` x ``height`` px, with its
    alt text: embedded as an ``<img>`` with a data: URI."""

    svg: str
    width: float
    height: float
    alt: str
    caption: str = ""

    def to_html(self) -> Markup:
        return figure_html(svg.data_uri(self.svg), self.alt, self.width, self.height,
                           self.caption)

    def _repr_html_(self) -> str:
        return str(self.to_html())



def figure_html(src: str, alt: str, width: float, height: float, caption: str = "") -> Markup:
    """``<figure>`` holding one embedded image (escaped alt text) and its caption."""
    cap = Markup("<figcaption>{}</figcaption>").format(caption) if caption else ""
    return Markup('<figure class="chart"><img src="{}" alt="{}" width="{}" height="{}" '
                  'loading="eager">{}</figure>').format(
        Markup(src), alt, int(round(width)), int(round(height)), cap)


# --- shared pieces -------------------------------------------------------------------------

def _scale(d0: float, d1: float, r0: float, r1: float):
    """The linear map from data ``[d0, d1]`` to pixels ``[r0, r1]``."""
    span = (d1 - d0) or 1.0
    return lambda v: r0 + (float(v) - d0) / span * (r1 - r0)


def _ticks(lo: float, hi: float, nbins: int = 5, integer: bool = False) -> list[float]:
    locator = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10], integer=integer)
    return [float(x) for x in locator.tick_values(lo, hi) if lo - 1e-9 <= x <= hi + 1e-9]


def _num(v: object) -> bool:
    return v is not None and not pd.isna(v)


def _label(x: float, y: float, value: str, anchor: str = "middle", lo: float = 0.0,
           hi: float = CHART_PX, boxed: bool = False, **kw: object) -> str:
    """Text kept inside ``[lo, hi]`` (moved, never cut), on a white box if ``boxed``."""
    w = svg.text_width(value, TEXT_PX)
    start = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    start = min(max(start, lo + 1), hi - 1 - w)
    out = svg.rect(start - 2, y - 0.6 * TEXT_PX, w + 4, 1.2 * TEXT_PX, "#ffffff") if boxed else ""
    return out + svg.text(start, y, value, TEXT_PX, "start", **kw)


def _band_defs() -> list[str]:
    return [svg.hatch(f"band{i}", fill, BAND_HATCHES[i]) for i, fill in enumerate(BAND_FILLS)]


def _band_spans(bands: pd.DataFrame, lang: str, lo: float) -> list[tuple]:
    """``(start, end, name, fill)`` of the region below the lowest band and of each band,
    clipped to start at ``lo``."""
    first = float(bands["lower"].iloc[0])
    spans = [(lo, first, t("label.below_lowest", lang), BELOW_FILL)]
    for i, b in enumerate(bands.itertuples()):
        spans.append((float(b.lower), float(b.upper), b.predicate,
                      f"url(#band{i % len(BAND_FILLS)})"))
    return [(max(a, lo), e, n, f) for a, e, n, f in spans if e > lo]


def _legend(items: list[tuple[str, str]], y: float, width: float = CHART_PX
            ) -> tuple[list[str], float]:
    """Legend entries (``swatch svg at (0, 0)``, label) packed left to right in lines;
    returns the elements and the y below the last line."""
    out, x, line_h = [], 6.0, TEXT_PX + 6
    for swatch, label in items:
        w = 22 + svg.text_width(label, TEXT_PX)
        if x > 6 and x + w > width - 4:
            x, y = 6.0, y + line_h
        out.append(f'<g transform="translate({svg.num(x)},{svg.num(y)})">{swatch}</g>')
        out.append(svg.text(x + 20, y, label, TEXT_PX))
        x += w + 12
    return out, y + line_h / 2 + 4


def _axis_floor(values) -> float:
    vals = [float(v) for v in values if _num(v)]
    return float(max(0, min([400.0, *vals]) // 100 * 100)) if vals else 400.0


def _x_axis(x, lo: float, hi: float, y: float, ticks: list[float], labels: list[str]
            ) -> list[str]:
    out = [svg.line(x(lo), y, x(hi), y, "#000000", 1)]
    for v, label in zip(ticks, labels, strict=True):
        out.append(svg.line(x(v), y, x(v), y + 4, "#000000", 0.8))
        out.append(_label(x(v), y + 12, label))
    return out


# --- 2. score against the predicate bands --------------------------------------------------

def score_bands_figure(bands: pd.DataFrame, claimed: float | None, estimate: float | None,
                       low: float | None = None, high: float | None = None,
                       target: str | None = None, target_entry: float | None = None,
                       estimated_predicate: str | None = None, lang: str = "id") -> SvgFigure:
    """One horizontal chart: the bands, the claimed total, the estimate with its range, the target."""
    width = CHART_PX
    lo = _axis_floor([claimed, estimate, low])
    top_max = float(bands.attrs.get("scale_max", 1000))
    rows = [(t("label.claimed", lang), claimed, CLAIMED),
            (t("label.estimate", lang).capitalize(), estimate, BACKED)]
    x0 = 6 + max(svg.text_width(name, TEXT_PX) for name, _, _ in rows) + 8
    x1 = width - 16
    x = _scale(lo, top_max, x0, x1)
    y_top, row_h = 36.0, 42.0
    y_bot = y_top + 2 * row_h + 30
    body = []
    for start, end, _, fill in _band_spans(bands, lang, lo):
        body.append(svg.rect(x(start), y_top, x(end) - x(start), y_bot - y_top, fill,
                             "#9a9a9a", 0.6))
    shown = 0
    for start, end, name, _ in _band_spans(bands, lang, lo):
        # labels alternate between two rows, so a label may be wider than its band
        if svg.text_width(str(name), TEXT_PX) <= 1.9 * (x(end) - x(start)):
            body.append(_label((x(start) + x(end)) / 2, 9 + 15 * (shown % 2), str(name)))
            shown += 1
    if target_entry is not None and _num(target_entry):
        tx = x(target_entry)
        body.append(svg.line(tx, y_top, tx, y_bot, TARGET["color"], 1.4, stroke_dasharray=DASH))
        label = t("chart.target_line", lang, predicate=target,
                  entry=fmt_points(target_entry, lang))
        right = tx > x0 + 0.6 * (x1 - x0)
        body.append(_label(tx - 4 if right else tx + 4, y_bot - 12, label,
                           "end" if right else "start", boxed=True))
    for i, (name, value, style) in enumerate(rows):
        yc = y_top + row_h * (i + 0.5) + 8
        body.append(svg.text(x0 - 8, yc, name, TEXT_PX, "end"))
        if not _num(value):
            continue
        if style is BACKED and _num(low) and _num(high):
            body += [svg.line(x(low), yc, x(high), yc, style["color"], 2),
                     svg.line(x(low), yc - 6, x(low), yc + 6, style["color"], 2),
                     svg.line(x(high), yc - 6, x(high), yc + 6, style["color"], 2)]
        body.append(svg.marker(style["marker"], x(value), yc, 13, style["color"]))
        text = fmt_points(value, lang) if style is CLAIMED else fmt_estimate(value, lang)
        body.append(_label(x(value), yc - 15, text, lo=x0, boxed=True))
    ticks = _ticks(lo, top_max, 6, integer=True)
    body += _x_axis(x, lo, top_max, y_bot, ticks, [fmt_number(v, lang, 0) for v in ticks])
    body.append(svg.line(x0, y_top, x0, y_bot, "#000000", 1))
    body.append(_label((x0 + x1) / 2, y_bot + 30, t("chart.score_axis", lang)))
    height = math.ceil(y_bot + 40)
    target_text = (t("alt.bands_target", lang, predicate=target,
                     entry=fmt_points(target_entry, lang)) if target_entry is not None else "")
    alt = t("alt.bands", lang, claimed=fmt_points(claimed, lang),
            estimate=fmt_estimate(estimate, lang), low=fmt_estimate(low, lang),
            high=fmt_estimate(high, lang), predicate=predicate_label(estimated_predicate, lang),
            target=target_text).strip()
    doc = svg.document(width, height, [svg.defs(_band_defs()), *body],
                       title=t("chart.score_axis", lang))
    return SvgFigure(doc, width, height, alt)


# --- 3. clusters ---------------------------------------------------------------------------

def clusters_figure(clusters: pd.DataFrame, lang: str = "id") -> SvgFigure:
    """Per cluster: maximum (outline), claimed (hatched) and backed (solid) points.

    ``clusters`` has columns ``label, claimed, backed, max_points`` in report order.
    """
    width = CHART_PX
    room = 0.36 * width
    # a long block name (no short label) wraps, then is cut, instead of squeezing the bars
    names = [[svg.fit_text(part, TEXT_PX, room) for part in
              textwrap.wrap(str(label), CLUSTER_LABEL_CHARS)[:2] or [""]]
             for label in clusters["label"]]
    x0 = 6 + max((svg.text_width(p, TEXT_PX) for n in names for p in n), default=0) + 8
    top = float(clusters["max_points"].max()) * 1.2
    x1 = width - 10
    x = _scale(0, top, x0, x1)
    body, y = [], 6.0
    for label, r in zip(names, clusters.itertuples(), strict=True):
        row = max(36.0, 15.0 * len(label) + 8)
        yc = y + row / 2
        parts = [svg.rect(x0, yc - 13, x(r.max_points) - x0, 26, "none", "#000000", 1)]
        claimed = 0 if pd.isna(r.claimed) else r.claimed
        backed = 0 if pd.isna(r.backed) else r.backed
        parts.append(svg.rect(x0, yc - 11, x(claimed) - x0, 10, "url(#claimed)"))
        parts.append(svg.rect(x0, yc + 1, x(backed) - x0, 10, BACKED["color"]))
        parts.append(_label(x(backed) + 3, yc + 6, fmt_estimate(r.backed, lang), "start",
                            lo=x0, boxed=True))
        for k, part in enumerate(label):
            parts.append(svg.text(x0 - 8, yc + 15 * (k - (len(label) - 1) / 2), part,
                                  TEXT_PX, "end"))
        body.append("<g>" + "".join(parts) + "</g>")
        y += row
    ticks = _ticks(0, top / 1.2, 5, integer=True)
    body += _x_axis(x, 0, top, y + 4, ticks, [fmt_number(v, lang, 0) for v in ticks])
    body.append(svg.line(x0, 0, x0, y + 4, "#000000", 1))
    body.append(_label((x0 + x1) / 2, y + 34, t("chart.points_axis", lang)))
    legend, bottom = _legend([
        (svg.rect(0, -6, 14, 12, "none", "#000000", 1), t("label.maximum", lang)),
        (svg.rect(0, -6, 14, 12, "url(#claimed)"), t("label.claimed", lang)),
        (svg.rect(0, -6, 14, 12, BACKED["color"]), t("label.backed", lang))], y + 56)
    body += legend
    height = math.ceil(bottom)
    items = "; ".join(
        t("alt.clusters_item", lang, cluster=r.label, claimed=fmt_points(r.claimed, lang),
          backed=fmt_estimate(r.backed, lang), max=fmt_points(r.max_points, lang))
        for r in clusters.itertuples())
    defs = svg.defs([svg.hatch("claimed", CLAIMED["color"], CLAIMED["hatch"], "#ffffff", 1.2)])
    doc = svg.document(width, height, [defs, *body], title=t("chart.points_axis", lang))
    return SvgFigure(doc, width, height, t("alt.clusters", lang, items=items))


# --- 6. trend across evaluation years ------------------------------------------------------

def _runs(xs: list[float], ys: list[object]) -> list[list[tuple[float, float]]]:
    """Consecutive points with a value (a line breaks where a year has none)."""
    runs, cur = [], []
    for px, v in zip(xs, ys, strict=True):
        if _num(v):
            cur.append((px, float(v)))
        elif cur:
            runs.append(cur)
            cur = []
    return [*runs, cur] if cur else runs


def trend_figure(trend: pd.DataFrame, bands: pd.DataFrame, lang: str = "id") -> SvgFigure:
    """Claimed and estimated totals by evaluation year over the official band of each year.

    ``trend`` has ``year, claimed, estimate, low, high, official_predicate`` (missing allowed).
    """
    trend = trend.sort_values("year").reset_index(drop=True)
    width = CHART_PX
    lo = _axis_floor([*trend["claimed"], *trend["estimate"], *trend["low"]])
    top_max = float(bands.attrs.get("scale_max", 1000))
    names = [str(p) for p in bands["predicate"]]
    label_w = max((svg.text_width(n, TEXT_PX) for n in names), default=0) + 8
    y_ticks = _ticks(lo, top_max, 6, integer=True)
    tick_text = [fmt_number(v, lang, 0) for v in y_ticks]
    x0 = 6 + max(svg.text_width(s, TEXT_PX) for s in tick_text) + 6
    x1 = width - label_w - 4
    y_top, y_bot = 26.0, 256.0
    y = _scale(lo, top_max, y_bot, y_top)
    n = len(trend)
    col = (x1 - x0) / max(n, 1)
    xs = [x0 + col * (i + 0.5) for i in range(n)]
    body = [svg.text(x0 - 4, 9, t("chart.score_axis", lang), TEXT_PX)]
    for start, end, name, fill in _band_spans(bands, lang, lo):
        body.append(svg.rect(x0, y(end), x1 - x0, y(start) - y(end), fill, "#9a9a9a", 0.6))
        if name in names and y(start) - y(end) >= TEXT_PX + 2:
            body.append(svg.text(x1 + 4, (y(start) + y(end)) / 2, name, TEXT_PX))
    by_name = bands.set_index("predicate")
    for px, pred in zip(xs, trend["official_predicate"], strict=True):
        if isinstance(pred, str) and pred in by_name.index:
            b = by_name.loc[pred]
            body.append(svg.rect(px - 0.3 * col, y(b["upper"]), 0.6 * col,
                                 y(b["lower"]) - y(b["upper"]), "url(#official)", "#000000", 0.8))
    for px, est, a, b in zip(xs, trend["estimate"], trend["low"], trend["high"], strict=True):
        if _num(est) and _num(a) and _num(b):
            body += [svg.line(px, y(a), px, y(b), BACKED["color"], 1.5),
                     svg.line(px - 5, y(a), px + 5, y(a), BACKED["color"], 1.5),
                     svg.line(px - 5, y(b), px + 5, y(b), BACKED["color"], 1.5)]
    for values, style, size in ((trend["claimed"], CLAIMED, 12), (trend["estimate"], BACKED, 11)):
        dash = DASH if style["linestyle"] == "--" else None
        for run in _runs(xs, list(values)):
            if len(run) > 1:
                body.append(svg.polyline([(px, y(v)) for px, v in run], style["color"], 1.8,
                                         stroke_dasharray=dash))
            body += [svg.marker(style["marker"], px, y(v), size, style["color"]) for px, v in run]
    body.append(svg.line(x0, y_top, x0, y_bot, "#000000", 1))
    body.append(svg.line(x0, y_bot, x1, y_bot, "#000000", 1))
    for v, label in zip(y_ticks, tick_text, strict=True):
        body += [svg.line(x0 - 4, y(v), x0, y(v), "#000000", 0.8),
                 svg.text(x0 - 6, y(v), label, TEXT_PX, "end")]
    years = [str(int(v)) for v in trend["year"]]
    slant = max((svg.text_width(s, TEXT_PX) for s in years), default=0) + 4 > col
    for px, label in zip(xs, years, strict=True):
        body.append(svg.line(px, y_bot, px, y_bot + 4, "#000000", 0.8))
        if slant:  # upright years would touch on a phone
            body.append(svg.text(px + 4, y_bot + 12, label, TEXT_PX, "end",
                                 transform=f"rotate(-40 {svg.num(px + 4)} {svg.num(y_bot + 12)})"))
        else:
            body.append(svg.text(px, y_bot + 13, label, TEXT_PX, "middle"))
    legend_y = y_bot + (48 if slant else 34)
    legend, bottom = _legend([
        (svg.line(0, 0, 14, 0, CLAIMED["color"], 1.8, stroke_dasharray="4 2")
         + svg.marker("v", 7, 0, 10, CLAIMED["color"]), t("label.claimed", lang)),
        (svg.line(0, 0, 14, 0, BACKED["color"], 1.8) + svg.marker("o", 7, 0, 9, BACKED["color"]),
         t("label.estimate", lang).capitalize()),
        (svg.rect(0, -6, 14, 12, "url(#official)", "#000000", 0.8),
         t("chart.official_band", lang))], legend_y)
    body += legend
    height = math.ceil(bottom)
    items = "; ".join(
        t("alt.trend_item", lang, year=int(r.year), claimed=fmt_points(r.claimed, lang),
          estimate=fmt_estimate(r.estimate, lang),
          official=(r.official_predicate if isinstance(r.official_predicate, str)
                    else t("headline.official_unknown", lang)))
        for r in trend.itertuples())
    defs = svg.defs([*_band_defs(), svg.hatch("official", OFFICIAL["color"], OFFICIAL["hatch"],
                                              "#000000", 0.7)])
    doc = svg.document(width, height, [defs, *body], title=t("chart.score_axis", lang))
    return SvgFigure(doc, width, height, t("alt.trend", lang, items=items))


# --- 7. kelurahan view ---------------------------------------------------------------------

SHORT = {"color": OKABE_ITO["vermillion"], "marker": "D"}   # short of the target
MET = {"color": OKABE_ITO["blue"], "marker": "o"}           # target met
NEUTRAL = {"color": "#8c8c8c", "marker": "o"}              # no target to compare with


def kelurahan_figure(values: pd.DataFrame, measure_label: str, unit: str | None,
                     target: float | None, direction: str | None, data_year: int,
                     lang: str = "id") -> SvgFigure:
    """A dot per kelurahan (``area, value``), worst first, with the target line, as SVG.

    A dot plot (not bars), so the axis can zoom on the range the values and the target span:
    coverage figures of 90-97% stay distinguishable, on an axis drawn broken after its "0". Dots short of the target are vermillion
    diamonds, the others blue circles (grey when there is no target); every dot carries its
    value. Written as SVG directly (``kla_analysis.svg``): a report has one such chart per
    kelurahan statistic, and through matplotlib they were half of its rendering time.
    """
    df = values.dropna(subset=["value"]).sort_values(
        "value", ascending=direction != "lower").reset_index(drop=True)
    has_target = target is not None and not pd.isna(target)
    if not has_target:
        short = pd.Series(False, index=df.index)
    elif direction == "lower":
        short = df["value"] > target
    else:
        short = df["value"] < target
    vals = [*df["value"], *([float(target)] if has_target else [])]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    pad = max((hi - lo) * 0.08, abs(hi) * 0.01, 0.5)
    left = max(0.0, lo - pad) if unit == "percent" or lo >= 0 else lo - pad
    right = hi + (hi - left) * 0.22 + pad
    left = _axis_start(left, right)
    body, (width, height) = _dot_plot(df, short, left, right, float(target) if has_target
                                      else None, unit, lang, MET if has_target else NEUTRAL)
    ordered = df if direction != "lower" else df.iloc[::-1]
    fmt = [f"{a} {fmt_value(v, unit, lang)}" for a, v in zip(ordered["area"], ordered["value"],
                                                              strict=True)]
    alt = t("alt.kelurahan", lang, measure=measure_label, data_year=data_year,
            target=fmt_value(target, unit, lang), lowest=", ".join(fmt[:3]),
            highest=", ".join(fmt[-3:][::-1]))
    return SvgFigure(svg.document(width, height, body, title=measure_label), width, height, alt)


def _axis_start(left: float, right: float) -> float:
    """Where a dot plot's axis of non-negative values starts: at 0 when the values come
    near it, else at ``left`` (coverage figures of 90-97% stay apart; the axis is then
    drawn broken)."""
    return 0.0 if 0 < left <= 0.4 * right else left


def _dot_plot(df: pd.DataFrame, short: pd.Series, left: float, right: float,
              target: float | None, unit: str | None, lang: str,
              other: dict, ranges: pd.DataFrame | None = None
              ) -> tuple[list[str], tuple[float, float]]:
    """SVG elements of the kelurahan dot plot (one ``<g>`` per kelurahan) and the size.
    ``ranges`` (``low, high`` per row): a grey bar per row (the kecamatan view); a row with
    no value then shows its bar only. An axis of non-negative values that starts above 0
    is drawn broken: a "0" tick, a zigzag, then the values' range (``_axis_break``)."""
    width = CHART_PX
    size = TEXT_PX
    # long names are cut with an ellipsis (the table below has them whole), rather than
    # set in small type or a plot squeezed to nothing
    room = 0.46 * width
    names = [svg.fit_text(str(a), size, room) for a in df["area"]]
    widest = max((svg.text_width(n, size) for n in names), default=0.0)
    top_tick = min(right, 100.0) if unit == "percent" else right  # no "105%" tick
    locator = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10], integer=unit == "count")
    ticks = [x for x in locator.tick_values(left, right) if left - 1e-9 <= x <= top_tick + 1e-9]
    tick_text = [fmt_value(x, unit, lang) if unit == "percent"
                 else fmt_number(x, lang, decimals=2, trim=True) for x in ticks]
    broken = left > 0
    x0 = 4 + widest + 8
    start = x0 + (30 if broken else 0)  # the broken axis keeps room for "0" and the zigzag
    x1 = width - max(6.0, max((svg.text_width(s, size) for s in tick_text[-1:]),
                              default=0) / 2 + 2)
    top, row = 6.0, ROW_PX
    axis_y = top + row * len(df) + 4
    height = math.ceil(axis_y + (40 if broken else 24))

    def x(v: float) -> float:
        return start + (v - left) / (right - left) * (x1 - start)

    body = []
    if target is not None:  # under the dots; value labels sit on a white box where they cross it
        body.append(svg.line(x(target), top - 4, x(target), axis_y, TARGET["color"], 1.6,
                             stroke_dasharray="6 3"))
    for i, (name, v, is_short) in enumerate(zip(names, df["value"], short, strict=True)):
        y = top + row * (i + 0.5)
        style = SHORT if is_short else other
        parts = [svg.line(x0 - 4, y, x0, y, "#000000", 0.8),
                 svg.text(x0 - 6, y, name, size, "end")]
        if ranges is not None and pd.notna(ranges["low"].iloc[i]):
            lo_v, hi_v = float(ranges["low"].iloc[i]), float(ranges["high"].iloc[i])
            parts.insert(0, svg.rect(x(lo_v), y - 3, max(x(hi_v) - x(lo_v), 2.0), 6,
                                     "#bdbdbd"))
            end = hi_v
        else:
            if pd.notna(v):
                parts.insert(0, svg.line(x0, y, x(v), y, "#d0d0d0", 0.8))
            end = v
        if pd.notna(v):
            parts += [svg.marker(style["marker"], x(v), y, 9.0, style["color"]),
                      svg.boxed_text(x(max(v, end)) + 6, y, fmt_value(v, unit, lang), size)]
        body.append("<g>" + "".join(parts) + "</g>")
    body.append(svg.line(x0, 0, x0, axis_y, "#000000", 1))
    body.append(svg.line(x0, axis_y, x1, axis_y, "#000000", 1))
    for v, label in zip(ticks, tick_text, strict=True):
        body.append(svg.line(x(v), axis_y, x(v), axis_y + 4, "#000000", 0.8))
        body.append(svg.text(x(v), axis_y + 13, label, size, "middle"))
    if broken:
        body += _axis_break(x0, x0 + 15, axis_y, fmt_value(0, unit, lang) if unit == "percent"
                            else "0", t("chart.axis_break", lang,
                                        start=fmt_value(left, unit, lang)), size)
    return body, (width, height)


def _axis_break(x0: float, xb: float, y: float, zero: str, note: str, size: float
                ) -> list[str]:
    """The mark of an axis that does not run from 0: a "0" tick at the axis' start, a
    white gap with two slanted strokes at ``xb``, and a note under the axis saying where
    the drawn part starts."""
    return ['<g class="axis-break">'
            + svg.line(x0, y, x0, y + 4, "#000000", 0.8)
            + svg.text(x0, y + 13, zero, size, "middle")
            + svg.rect(xb - 3, y - 3, 6, 6, "#ffffff")
            + svg.line(xb - 5, y + 4, xb - 1, y - 4, "#000000", 1)
            + svg.line(xb + 1, y + 4, xb + 5, y - 4, "#000000", 1)
            + svg.text(4, y + 30, note, size) + "</g>"]


def worst_first(values: pd.Series, direction: str | None) -> pd.Index:
    """Index of ``values`` ordered worst first: highest first when lower is better, else
    lowest first (missing values last)."""
    return values.sort_values(ascending=direction != "lower", na_position="last",
                              kind="stable").index


def kecamatan_figure(kec: pd.DataFrame, measure_label: str, unit: str | None,
                     target: float | None, direction: str | None, data_year: int,
                     area_word: str = "desa/kelurahan", lang: str = "id") -> SvgFigure:
    """One row per kecamatan, worst first: its figure (a dot; ``kec`` as
    ``sections.kelurahan_views`` gives it: ``kecamatan, value, low, high``) and, as a grey
    bar, the range of its desa/kelurahan values, with the target line, as SVG.

    The view of a kabupaten with hundreds of desa: one row per kecamatan instead of one per
    desa keeps the chart a screen high on a phone. A kecamatan without a figure of its own
    (percentages without counts) shows its range only; rows are ordered by the figure, else
    by the worst value of its range."""
    df = kec.copy()
    for c in ("value", "low", "high"):
        df[c] = pd.to_numeric(df[c], errors="coerce") if c in df else np.nan
    worst = df["high"] if direction == "lower" else df["low"]
    df["_order"] = df["value"].fillna(worst)
    df = df.loc[worst_first(df["_order"], direction)].reset_index(drop=True)
    has_target = target is not None and not pd.isna(target)
    marks = df["value"]
    short = pd.Series(False, index=df.index)
    if has_target:
        short = (marks > target) if direction == "lower" else (marks < target)
    vals = [v for v in [*df["value"], *df["low"], *df["high"],
                        *([float(target)] if has_target else [])] if pd.notna(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    pad = max((hi - lo) * 0.08, abs(hi) * 0.01, 0.5)
    left = max(0.0, lo - pad) if unit == "percent" or lo >= 0 else lo - pad
    right = hi + (hi - left) * 0.22 + pad
    left = _axis_start(left, right)
    body, (width, height) = _dot_plot(
        df.assign(area=df["kecamatan"], value=df["value"]), short, left, right,
        float(target) if has_target else None, unit, lang, MET if has_target else NEUTRAL,
        ranges=df[["low", "high"]])
    given = df.dropna(subset=["value"])
    fmt = [f"{k} {fmt_value(v, unit, lang)}" for k, v in zip(given["kecamatan"],
                                                              given["value"], strict=True)]
    alt = t("alt.kecamatan", lang, measure=measure_label, data_year=data_year,
            target=fmt_value(target, unit, lang), area=area_word,
            worst=", ".join(fmt[:3]) or t("label.none", lang),
            best=", ".join(fmt[-3:][::-1]) or t("label.none", lang))
    return SvgFigure(svg.document(width, height, body, title=measure_label), width, height, alt)


# --- 8. peers ------------------------------------------------------------------------------

def peers_figure(peers: pd.DataFrame, bands: pd.DataFrame, highlight: str | None = None,
                 lang: str = "id") -> SvgFigure:
    """A grid of kab/kota (rows) by evaluation year (columns); each cell names the predicate.

    ``peers`` has ``city, year, predicate``. Cell shade rises with the predicate, and its
    short name (``predicate_abbreviations``, explained in the caption) is written in the
    cell, so the grid reads without colour on a phone-width chart. The city's own row is
    bold. Written as SVG directly, like the kelurahan dot plots (a grid of labelled cells).
    """
    ranks = dict(zip(bands["predicate"], bands["rank"], strict=True))
    abbr = predicate_abbreviations(bands)
    years = sorted(int(y) for y in peers["year"].unique())
    cities = sorted(peers["city"].unique(),
                    key=lambda c: (c != highlight, -peers.loc[peers["city"] == c, "predicate"]
                                   .map(ranks).fillna(0).max(), c))
    lookup = {(r.city, int(r.year)): r.predicate for r in peers.itertuples()}
    size = TEXT_PX
    width, row = CHART_PX, 24.0
    names = {c: svg.fit_text(short_city(c), size, 0.42 * width) for c in cities}
    # bold text is wider: measured with a margin
    widest = max((svg.text_width(n, size) * (1.1 if c == highlight else 1)
                  for c, n in names.items()), default=0.0)
    x0 = 6 + widest + 8
    col = (width - 4 - x0) / max(len(years), 1)
    # years stand upright (turned a quarter) when side by side they would touch
    slant = svg.text_width("2000", size) + 4 > col
    top = svg.text_width("2000", size) + 10 if slant else 22.0
    height = math.ceil(top + row * len(cities) + 4)
    body = [svg.text(x0 + col * (j + 0.5), top - 5, y, size, "start",
                     transform=f"rotate(-90 {svg.num(x0 + col * (j + 0.5))} {svg.num(top - 5)})")
            if slant else svg.text(x0 + col * (j + 0.5), top / 2, y, size, "middle")
            for j, y in enumerate(years)]
    for i, city in enumerate(cities):
        weight = "bold" if city == highlight else None
        yc = top + row * (i + 0.5)
        body.append(svg.text(x0 - 6, yc, names[city], size, "end", font_weight=weight))
        for j, year in enumerate(years):
            pred = lookup.get((city, year))
            if not isinstance(pred, str):
                continue
            rank = ranks.get(pred, 0)
            fill = BAND_FILLS[min(rank, len(BAND_FILLS)) - 1] if rank else BELOW_FILL
            body.append("<g>" + svg.rect(x0 + col * (j + 0.04), top + row * (i + 0.08),
                                          col * 0.92, row * 0.84, fill, "#4d4d4d", 0.6)
                        + svg.text(x0 + col * (j + 0.5), yc, abbr.get(pred, pred), size,
                                   "middle", font_weight=weight) + "</g>")
    items = "; ".join(
        t("alt.peers_item", lang, city=r.city, year=int(r.year), predicate=r.predicate)
        for r in peers.sort_values(["city", "year"]).itertuples() if isinstance(r.predicate, str))
    caption = ", ".join(f"{abbr[p]} = {p}" for p in bands["predicate"] if abbr[p] != p)
    title = t("section.peers", lang)
    return SvgFigure(svg.document(width, height, body, title=title), width, height,
                     t("alt.peers", lang, items=items), caption)


def predicate_abbreviations(bands: pd.DataFrame) -> dict[str, str]:
    """Shortest unambiguous prefix of each predicate (Pratama -> P, ..., KLA stays KLA)."""
    names = list(bands["predicate"])
    out = {}
    for name in names:
        for n in range(1, len(name) + 1):
            if sum(o.startswith(name[:n]) for o in names) == 1:
                out[name] = name[:n]
                break
        else:
            out[name] = name
    return {k: (k if len(k) <= 3 and k.isupper() else v) for k, v in out.items()}


def short_city(name: str) -> str:
    """``Kabupaten Hulu Sungai Utara`` -> ``Kab. Hulu Sungai Utara`` for chart labels."""
    return name.replace("Kabupaten ", "Kab. ", 1) if name.startswith("Kabupaten ") else name
