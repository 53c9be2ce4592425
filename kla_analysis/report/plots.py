"""Report charts sized for a phone, each returned with its alt text.

Every function takes tidy data and returns a figure with an alt text that states the
numbers shown and an optional caption; ``to_html()`` embeds the image as a base64 data: URI
in an ``<img alt=...>`` (escaped), so the report file is self-contained and the alt text
survives nbconvert. Bands, klaster and trend are matplotlib figures (``ReportFigure``,
embedded as PNG); the kelurahan dot plots and the peers grid, simple rows of dots, labels
and cells, are written as SVG directly (``SvgFigure``, ``kla_analysis.svg``), which takes a
millisecond where matplotlib took a tenth of a second per chart.

Colours are the Okabe-Ito colour-blind-safe palette; every series also differs by marker,
hatch or line style, and bands carry text labels, so the charts read in greyscale print.
Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so nothing leaks between
charts and the notebook's inline backend never shows a duplicate.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
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
# Predicate bands, lowest first: light fills of rising darkness plus distinct hatches.
BAND_FILLS = ["#f7f7f7", "#e3eef6", "#c6dbef", "#9ecae1", "#6baed6"]
BAND_HATCHES = ["", "..", "//", "\\\\", "xx"]
BELOW_FILL = "#ffffff"

WIDTH_IN = 4.0   # ~360 css px on a phone: 10 pt text stays ~12 px; scales up on a desktop
DPI = 200
FONT = 10
PX = 96          # CSS px per inch: the size an image is laid out at
PT = PX / 72     # CSS px per point (SVG charts use the PNG charts' point sizes)
KELURAHAN_ROW_IN = 0.24
CLUSTER_LABEL_CHARS = 16  # klaster labels wrap beyond this (~1.3 in at FONT on a 4 in chart)


def plain_text(fn):
    """Build a figure with mathtext off: a ``$`` in a kelurahan or OPD name stays a ``$``
    instead of being parsed as a formula (which could fail and stop the report)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with rc_context({"text.parse_math": False, "text.usetex": False}):
            return fn(*args, **kwargs)
    return wrapper


def _figure(height: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    fig.set_facecolor("white")
    return fig


def _style(ax) -> None:
    ax.tick_params(labelsize=FONT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


@dataclass
class ReportFigure:
    """A chart with the alt text that describes it."""

    fig: Figure
    alt: str
    caption: str = ""
    _png: bytes | None = field(default=None, repr=False)

    def png(self) -> bytes:
        """The chart as a PNG at ``DPI`` with a 256-colour palette.

        One Agg draw runs the constrained layout and renders (``savefig`` would draw twice);
        the palette (flat chart colours and their anti-aliased edges, no dithering) keeps
        the image visually unchanged at about a third of the bytes of full RGB, so a report
        with a dozen charts stays small on a phone. Deterministic for equal figures.
        """
        if self._png is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from PIL import Image

            self.fig.set_dpi(DPI)
            canvas = FigureCanvasAgg(self.fig)
            canvas.draw()
            w, h = canvas.get_width_height(physical=True)
            rgb = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0,
                                   1).convert("RGB")
            img = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                               dither=Image.Dither.NONE)
            buf = io.BytesIO()
            img.save(buf, format="png", dpi=(DPI, DPI))
            self._png = buf.getvalue()
        return self._png

    def to_html(self) -> Markup:
        """``<figure>`` with a base64 PNG ``<img>`` whose ``alt`` is the (escaped) alt text."""
        w, h = self.fig.get_size_inches() * PX
        data = base64.b64encode(self.png()).decode("ascii")
        return figure_html(f"data:image/png;base64,{data}", self.alt, w, h, self.caption)

    def _repr_html_(self) -> str:
        return str(self.to_html())


@dataclass
class SvgFigure:
    """A chart written as SVG (``kla_analysis.svg``), ``width`` x ``height`` px, with its
    alt text: embedded like the PNG charts, as an ``<img>`` with a data: URI."""

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


# --- 2. score against the predicate bands --------------------------------------------------

def _draw_bands(ax, bands: pd.DataFrame, lang: str, orientation: str = "x",
                lo: float = 0, labels: bool = True) -> None:
    """Shade each predicate band (and the region below the lowest) with fill, hatch, label."""
    first = float(bands["lower"].iloc[0])
    spans = [(lo, first, t("label.below_lowest", lang), BELOW_FILL, "")]
    for i, b in enumerate(bands.itertuples()):
        spans.append((float(b.lower), float(b.upper), b.predicate,
                      BAND_FILLS[i % len(BAND_FILLS)], BAND_HATCHES[i % len(BAND_HATCHES)]))
    shown = 0
    for start, end, name, fill, hatch in spans:
        if end <= lo:
            continue
        start = max(start, lo)
        span = ax.axvspan if orientation == "x" else ax.axhspan
        span(start, end, facecolor=fill, hatch=hatch, edgecolor="#9a9a9a", linewidth=0.6,
             zorder=0)
        room = 60 if name != spans[0][2] else 12 * len(name)
        if labels and end - start >= room:
            mid = (start + end) / 2
            if orientation == "x":  # labels alternate between two rows so they never touch
                ax.text(mid, 1.02 + 0.13 * (shown % 2), name, transform=ax.get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=FONT - 1.5)
                shown += 1
            else:
                ax.text(1.01, mid, name, transform=ax.get_yaxis_transform(), ha="left",
                        va="center", fontsize=FONT - 1.5)


def _axis_floor(values) -> float:
    vals = [float(v) for v in values if v is not None and not pd.isna(v)]
    return float(max(0, min([400.0, *vals]) // 100 * 100)) if vals else 400.0


@plain_text
def score_bands_figure(bands: pd.DataFrame, claimed: float | None, estimate: float | None,
                       low: float | None = None, high: float | None = None,
                       target: str | None = None, target_entry: float | None = None,
                       estimated_predicate: str | None = None, lang: str = "id") -> ReportFigure:
    """One horizontal chart: the bands, the claimed total, the estimate with its range, the target."""
    fig = _figure(2.5)
    ax = fig.add_subplot()
    lo = _axis_floor([claimed, estimate, low])
    _draw_bands(ax, bands, lang, "x", lo)
    rows = {1: t("label.claimed", lang), 0: t("label.estimate", lang).capitalize()}
    if claimed is not None and not pd.isna(claimed):
        ax.plot([claimed], [1], linestyle="none", marker=CLAIMED["marker"], markersize=10,
                color=CLAIMED["color"], markeredgecolor="black", zorder=3)
        ax.annotate(fmt_points(claimed, lang), (claimed, 1), xytext=(0, 9),
                    textcoords="offset points", ha="center", fontsize=FONT)
    if estimate is not None and not pd.isna(estimate):
        if low is not None and high is not None and not (pd.isna(low) or pd.isna(high)):
            ax.errorbar([estimate], [0], xerr=[[estimate - low], [high - estimate]], fmt="none",
                        ecolor=BACKED["color"], elinewidth=2, capsize=5, zorder=2)
        ax.plot([estimate], [0], linestyle="none", marker=BACKED["marker"], markersize=9,
                color=BACKED["color"], markeredgecolor="black", zorder=3)
        ax.annotate(fmt_estimate(estimate, lang), (estimate, 0), xytext=(0, 9),
                    textcoords="offset points", ha="center", fontsize=FONT)
    if target_entry is not None:
        ax.axvline(target_entry, color=TARGET["color"], linestyle=TARGET["linestyle"], lw=1.4,
                   zorder=2)
        ax.text(target_entry, -0.62, t("chart.target_line", lang, predicate=target,
                                       entry=fmt_points(target_entry, lang)),
                ha="right" if target_entry > lo + 0.6 * (1000 - lo) else "left",
                va="bottom", fontsize=FONT - 1, zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    ax.set_xlim(lo, bands.attrs.get("scale_max", 1000))
    ax.set_ylim(-0.7, 1.6)
    ax.set_yticks(list(rows), list(rows.values()))
    ax.set_xlabel(t("chart.score_axis", lang), fontsize=FONT)
    _style(ax)
    target_text = (t("alt.bands_target", lang, predicate=target,
                     entry=fmt_points(target_entry, lang)) if target_entry is not None else "")
    alt = t("alt.bands", lang, claimed=fmt_points(claimed, lang),
            estimate=fmt_estimate(estimate, lang), low=fmt_estimate(low, lang), high=fmt_estimate(high, lang),
            predicate=predicate_label(estimated_predicate, lang), target=target_text).strip()
    return ReportFigure(fig, alt)


# --- 3. clusters ---------------------------------------------------------------------------

@plain_text
def clusters_figure(clusters: pd.DataFrame, lang: str = "id") -> ReportFigure:
    """Per cluster: maximum (outline), claimed (hatched) and backed (solid) points.

    ``clusters`` has columns ``label, claimed, backed, max_points`` in report order.
    """
    n = len(clusters)
    fig = _figure(0.62 * n + 1.1)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)
    ax.barh(y, clusters["max_points"], height=0.8, facecolor="none", edgecolor="black",
            linewidth=1.0, label=t("label.maximum", lang), zorder=1)
    ax.barh(y + 0.18, clusters["claimed"].fillna(0), height=0.34, color=CLAIMED["color"],
            hatch=CLAIMED["hatch"], edgecolor="white", linewidth=0,
            label=t("label.claimed", lang), zorder=2)
    ax.barh(y - 0.18, clusters["backed"].fillna(0), height=0.34, color=BACKED["color"],
            label=t("label.backed", lang), zorder=2)
    for yi, v in zip(y, clusters["backed"], strict=True):
        ax.text((0 if pd.isna(v) else v) + 2, yi - 0.18, fmt_estimate(v, lang), va="center",
                fontsize=FONT - 1.5)
    # a long block name (no short label) wraps instead of squeezing the bars off a phone
    ax.set_yticks(y, [textwrap.fill(str(label), CLUSTER_LABEL_CHARS)
                      for label in clusters["label"]])
    ax.set_xlabel(t("chart.points_axis", lang), fontsize=FONT)
    ax.set_xlim(0, float(clusters["max_points"].max()) * 1.12)
    fig.legend(fontsize=FONT - 1, loc="outside lower center", ncol=2, frameon=False)
    _style(ax)
    items = "; ".join(
        t("alt.clusters_item", lang, cluster=r.label, claimed=fmt_points(r.claimed, lang),
          backed=fmt_estimate(r.backed, lang), max=fmt_points(r.max_points, lang))
        for r in clusters.itertuples())
    return ReportFigure(fig, t("alt.clusters", lang, items=items))


# --- 6. trend across evaluation years ------------------------------------------------------

@plain_text
def trend_figure(trend: pd.DataFrame, bands: pd.DataFrame, lang: str = "id") -> ReportFigure:
    """Claimed and estimated totals by evaluation year over the official band of each year.

    ``trend`` has ``year, claimed, estimate, low, high, official_predicate`` (missing allowed).
    """
    trend = trend.sort_values("year").reset_index(drop=True)
    fig = _figure(3.4)
    ax = fig.add_subplot()
    x = np.arange(len(trend), dtype=float)
    lo = _axis_floor([*trend["claimed"], *trend["estimate"], *trend["low"]])
    _draw_bands(ax, bands, lang, "y", lo, labels=True)
    by_name = bands.set_index("predicate")
    for xi, pred in zip(x, trend["official_predicate"], strict=True):
        if isinstance(pred, str) and pred in by_name.index:
            b = by_name.loc[pred]
            ax.add_patch(Rectangle((xi - 0.3, b["lower"]), 0.6, b["upper"] - b["lower"],
                                   facecolor="#bdbdbd", hatch="xx", edgecolor="black",
                                   linewidth=0.8, zorder=1))
    has_range = trend["low"].notna() & trend["high"].notna()
    if has_range.any():
        ax.errorbar(x[has_range], trend.loc[has_range, "estimate"],
                    yerr=[trend.loc[has_range, "estimate"] - trend.loc[has_range, "low"],
                          trend.loc[has_range, "high"] - trend.loc[has_range, "estimate"]],
                    fmt="none", ecolor=BACKED["color"], capsize=4, elinewidth=1.5, zorder=2)
    ax.plot(x, trend["claimed"], color=CLAIMED["color"], marker=CLAIMED["marker"],
            linestyle=CLAIMED["linestyle"], markersize=8, markeredgecolor="black",
            label=t("label.claimed", lang), zorder=3)
    ax.plot(x, trend["estimate"], color=BACKED["color"], marker=BACKED["marker"],
            linestyle=BACKED["linestyle"], markersize=7, markeredgecolor="black",
            label=t("label.estimate", lang).capitalize(), zorder=3)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(facecolor="#bdbdbd", hatch="xx", edgecolor="black"))
    labels.append(t("chart.official_band", lang))
    fig.legend(handles, labels, fontsize=FONT - 1, loc="outside lower center", ncol=3,
               frameon=False)
    # Slanted year labels once there are more than four: upright ones touch at phone width.
    ax.set_xticks(x, [str(int(y)) for y in trend["year"]],
                  rotation=40 if len(trend) > 4 else 0, ha="right" if len(trend) > 4 else "center")
    ax.set_xlim(-0.6, len(trend) - 0.4)
    ax.set_ylim(lo, bands.attrs.get("scale_max", 1000))
    ax.set_ylabel(t("chart.score_axis", lang), fontsize=FONT)
    _style(ax)
    items = "; ".join(
        t("alt.trend_item", lang, year=int(r.year), claimed=fmt_points(r.claimed, lang),
          estimate=fmt_estimate(r.estimate, lang),
          official=(r.official_predicate if isinstance(r.official_predicate, str)
                    else t("headline.official_unknown", lang)))
        for r in trend.itertuples())
    return ReportFigure(fig, t("alt.trend", lang, items=items))


# --- 7. kelurahan view ---------------------------------------------------------------------

SHORT = {"color": OKABE_ITO["vermillion"], "marker": "D"}   # short of the target
MET = {"color": OKABE_ITO["blue"], "marker": "o"}           # target met
NEUTRAL = {"color": "#8c8c8c", "marker": "o"}              # no target to compare with


def kelurahan_figure(values: pd.DataFrame, measure_label: str, unit: str | None,
                     target: float | None, direction: str | None, data_year: int,
                     lang: str = "id") -> SvgFigure:
    """A dot per kelurahan (``area, value``), worst first, with the target line, as SVG.

    A dot plot (not bars), so the axis can zoom on the range the values and the target span:
    coverage figures of 90-97% stay distinguishable. Dots short of the target are vermillion
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
    body, (width, height) = _dot_plot(df, short, left, right, float(target) if has_target
                                      else None, unit, lang, MET if has_target else NEUTRAL)
    ordered = df if direction != "lower" else df.iloc[::-1]
    fmt = [f"{a} {fmt_value(v, unit, lang)}" for a, v in zip(ordered["area"], ordered["value"],
                                                              strict=True)]
    alt = t("alt.kelurahan", lang, measure=measure_label, data_year=data_year,
            target=fmt_value(target, unit, lang), lowest=", ".join(fmt[:3]),
            highest=", ".join(fmt[-3:][::-1]))
    return SvgFigure(svg.document(width, height, body, title=measure_label), width, height, alt)


def _dot_plot(df: pd.DataFrame, short: pd.Series, left: float, right: float,
              target: float | None, unit: str | None, lang: str,
              other: dict, ranges: pd.DataFrame | None = None
              ) -> tuple[list[str], tuple[float, float]]:
    """SVG elements of the kelurahan dot plot (one ``<g>`` per kelurahan) and the size.
    ``ranges`` (``low, high`` per row): a grey bar per row (the kecamatan view); a row with
    no value then shows its bar only."""
    width = round(WIDTH_IN * PX)
    tick_size = label_size = (FONT - 1.5) * PT
    value_size = (FONT - 2) * PT
    # long names: text down to 80%, then cut with an ellipsis (the table below has them
    # whole), rather than a plot squeezed to nothing
    room = 0.42 * width
    widest = max((svg.text_width(str(a), label_size) for a in df["area"]), default=0.0)
    if widest > room:
        label_size *= max(0.8, room / widest)
    names = [svg.fit_text(str(a), label_size, room) for a in df["area"]]
    widest = max((svg.text_width(n, label_size) for n in names), default=0.0)
    top_tick = min(right, 100.0) if unit == "percent" else right  # no "105%" tick
    locator = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=unit == "count")
    ticks = [x for x in locator.tick_values(left, right) if left - 1e-9 <= x <= top_tick + 1e-9]
    tick_text = [fmt_value(x, unit, lang) if unit == "percent"
                 else fmt_number(x, lang, decimals=2, trim=True) for x in ticks]
    x0 = 4 + widest + 8
    x1 = width - max(6.0, max((svg.text_width(s, tick_size) for s in tick_text[-1:]),
                              default=0) / 2 + 2)
    top, row = 6.0, KELURAHAN_ROW_IN * PX
    axis_y = top + row * len(df) + 4
    height = math.ceil(axis_y + 24)

    def x(v: float) -> float:
        return x0 + (v - left) / (right - left) * (x1 - x0)

    body = []
    if target is not None:  # under the dots; value labels sit on a white box where they cross it
        body.append(svg.line(x(target), top - 4, x(target), axis_y, TARGET["color"], 1.6,
                             stroke_dasharray="6 3"))
    for i, (name, v, is_short) in enumerate(zip(names, df["value"], short, strict=True)):
        y = top + row * (i + 0.5)
        style = SHORT if is_short else other
        parts = [svg.line(x0 - 4, y, x0, y, "#000000", 0.8),
                 svg.text(x0 - 6, y, name, label_size, "end")]
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
            parts += [svg.marker(style["marker"], x(v), y, 8.0, style["color"]),
                      svg.boxed_text(x(max(v, end)) + 6, y, fmt_value(v, unit, lang),
                                     value_size)]
        body.append("<g>" + "".join(parts) + "</g>")
    body.append(svg.line(x0, 0, x0, axis_y, "#000000", 1))
    body.append(svg.line(x0, axis_y, x1, axis_y, "#000000", 1))
    for v, label in zip(ticks, tick_text, strict=True):
        body.append(svg.line(x(v), axis_y, x(v), axis_y + 4, "#000000", 0.8))
        body.append(svg.text(x(v), axis_y + 13, label, tick_size, "middle"))
    return body, (width, height)


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
    size = (FONT - 1.5) * PT
    width, top, row = round(WIDTH_IN * PX), 22.0, 0.3 * PX
    names = {c: svg.fit_text(short_city(c), size, 0.45 * width) for c in cities}
    # bold text is wider: measured with a margin
    widest = max((svg.text_width(n, size) * (1.1 if c == highlight else 1)
                  for c, n in names.items()), default=0.0)
    x0 = 6 + widest + 8
    col = (width - 4 - x0) / max(len(years), 1)
    height = math.ceil(top + row * len(cities) + 4)
    body = [svg.text(x0 + col * (j + 0.5), top / 2, y, size, "middle")
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
