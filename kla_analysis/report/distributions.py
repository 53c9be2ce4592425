"""Seaborn views of the indicator statistics across desa/kelurahan, kecamatan and data years.

For the exploration notebooks only: the rendered evaluation reports do not use this module
(they keep their own light charts, ``plots`` and ``svg``). An analyst asks how the areas of
the city spread on a statistic, how that spread moves from one data year to the next, and
whether the areas that lag on one statistic lag on others too:

- ``statistics_long`` / ``report_statistics``: every statistic row of the city across data
  years, one tidy table (``city, data_year, indicator, measure, label, unit, target,
  direction, area_level, kecamatan, area, value, numerator, denominator``);
  ``catalog_targets``: the catalog's statistic, unit, direction and target per indicator;
  ``statistic_label``: a statistic's label in either language;
- ``area_rows`` / ``paired_areas`` / ``standing_long``: the slices the figures draw;
- ``distribution_figure``: one statistic across desa/kelurahan, per kecamatan (box + dots),
  with the catalog target;
- ``years_figure``: the same statistic across data years (every area, the median and the
  interquartile range);
- ``relationship_figure``: two statistics against each other, one dot per area;
- ``standing_figure``: a heatmap of each area's standing (0 = worst, 1 = best) per statistic.

Each figure function takes the tidy frame and returns a ``matplotlib.figure.Figure`` built
without pyplot (``NotebookFigure``: a notebook shows it as the cell's value; nothing is left
open, nothing is shown twice). Labels are in
Bahasa Indonesia (``lang="id"``, default) or English (``"en"``); "desa/kelurahan" and
"kecamatan" stay Indonesian. A kabupaten with desa reads as a kota with kelurahan (both are
the lowest area level, ``desa_kelurahan``), and a statistic with one data year, one
kecamatan or no rows gives a figure with a note rather than an error. Colours are the Okabe-Ito colour-blind-safe palette
(``plots.OKABE_ITO``) and every group also differs by marker.
"""

from __future__ import annotations

import functools
import io
import textwrap

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .. import levels
from ..catalog import load_catalog
from ..errors import KlaError
from ..model import estimate
from ..params import check_lang
from . import explore, sections
from .formatting import fmt_number, fmt_value
from .i18n import measure_label, t
from .plots import MET, NEUTRAL, OKABE_ITO, SHORT, TARGET

#: Columns of ``statistics_long``.
LONG_COLUMNS = ["city", "data_year", "indicator", "measure", "label", "unit", "target",
                "direction", "area_level", "kecamatan", "area", "value", "numerator",
                "denominator"]
#: The lowest area level: desa or kelurahan (``levels.VILLAGE``; earlier names read too).
AREA_LEVELS = (levels.VILLAGE,)
AREA = "desa/kelurahan"
WIDTH_IN = 7.5
DPI = 100
FONT = 10
BOX_FILL = "#e8e8e8"
CITY_MARK = {"color": OKABE_ITO["black"], "marker": "X"}
LAGGING = {"both": {"color": OKABE_ITO["vermillion"], "marker": "D"},
           "one": {"color": OKABE_ITO["orange"], "marker": "^"},
           "none": {"color": OKABE_ITO["blue"], "marker": "o"}}

#: Short phrases that have no key in ``i18n.yaml``: ``{key: (id, en)}``.
TEXT = {
    "short": ("belum mencapai target", "short of the target"),
    "met": ("mencapai target", "target met"),
    "no_target": ("tanpa target", "no target"),
    "target": ("Target {value}", "Target {value}"),
    "median_iqr": ("Median dan rentang antarkuartil", "Median and interquartile range"),
    "city_value": ("Nilai tingkat kabupaten/kota", "Regency/city-level value"),
    "areas": ("{n} desa/kelurahan", "{n} desa/kelurahan"),
    "no_rows": ("Tidak ada data desa/kelurahan untuk {what}.",
                "No desa/kelurahan data for {what}."),
    "no_pair": ("Tidak ada desa/kelurahan dengan kedua statistik pada tahun data yang sama.",
                "No desa/kelurahan has both statistics in the same data year."),
    "no_standing": ("Tidak ada statistik desa/kelurahan dengan arah (lebih tinggi/lebih "
                    "rendah lebih baik).",
                    "No desa/kelurahan statistic with a direction (higher/lower is better)."),
    "one_kecamatan": ("hanya satu kecamatan", "one kecamatan only"),
    "one_year": ("hanya satu tahun data", "one data year only"),
    "one_area": ("hanya satu desa/kelurahan", "one desa/kelurahan only"),
    "lag_both": ("kuartil terbawah pada keduanya", "bottom quarter on both"),
    "lag_one": ("kuartil terbawah pada satu", "bottom quarter on one"),
    "lag_none": ("lainnya", "others"),
    "spearman": ("Spearman ρ = {rho} (n = {n})", "Spearman ρ = {rho} (n = {n})"),
    "standing": ("Posisi (0 = terendah, 1 = terbaik)", "Standing (0 = worst, 1 = best)"),
    "standing_title": ("Posisi desa/kelurahan per statistik (angka: nilainya)",
                       "Standing of each desa/kelurahan per statistic (numbers: the values)"),
    "no_direction": ("{n} statistik tanpa arah tidak ditampilkan",
                     "{n} statistics without a direction left out"),
}


def text(key: str, lang: str = "id", **values: object) -> str:
    """A short phrase of this module in ``lang`` (``TEXT``), placeholders filled."""
    phrase = TEXT[key][0 if check_lang(lang) == "id" else 1]
    return phrase.format(**values) if values else phrase


def _seaborn_figure(fn):
    """Draw in seaborn's ``ticks`` style with mathtext off (a ``$`` in an area name stays a
    ``$``), without touching the notebook's global matplotlib settings."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with rc_context({"text.parse_math": False, "text.usetex": False,
                         "font.size": FONT}), sns.axes_style("ticks"):
            return fn(*args, **kwargs)
    return wrapper


class NotebookFigure(Figure):
    """A ``matplotlib.figure.Figure`` that a notebook shows as a PNG when it is a cell's
    value (``_repr_png_``), whatever the matplotlib backend: nothing goes through pyplot, so
    no figure stays open and the inline backend never shows a second copy."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=self.dpi, facecolor="white")
        return buf.getvalue()


def _figure(height: float, width: float = WIDTH_IN) -> Figure:
    fig = NotebookFigure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.set_facecolor("white")
    return fig


def _note_figure(message: str) -> Figure:
    """A small figure that only says why there is nothing to draw."""
    fig = _figure(1.4)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(message, 80)), ha="center", va="center",
            transform=ax.transAxes, fontsize=FONT, style="italic")
    return fig


def _wrap(label: str, width: int = 70) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _axis_label(label: str, unit: str | None, width: int = 60) -> str:
    suffix = " (%)" if unit == "percent" else ""
    return _wrap(f"{label}{suffix}", width)


def _title(ax, label: str, details: list[str]) -> None:
    ax.set_title(_wrap(label) + "\n" + " · ".join(d for d in details if d),
                 fontsize=FONT, loc="left")


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


# --- tidy frames ----------------------------------------------------------------------------

def catalog_targets(catalog: pd.DataFrame, lang: str = "id") -> pd.DataFrame:
    """The headline statistics of ``catalog`` (a report's ``rep.catalog``): ``indicator,
    measure, label, unit, direction, target`` (one row per indicator with a statistic;
    ``target`` missing where none)."""
    lang = check_lang(lang)
    cat = catalog.dropna(subset=["measure"])
    return pd.DataFrame({
        "indicator": cat["indicator"].astype(int), "measure": cat["measure"].astype(str),
        "label": cat[f"measure_{lang}"].astype(str), "unit": cat["unit"],
        "direction": cat["direction"],
        "target": pd.to_numeric(cat["target"], errors="coerce").astype(float)},
    ).reset_index(drop=True)


def _statistics_city(st: pd.DataFrame, city: str | None) -> str:
    if city:
        return city
    found = sorted(st["city"].dropna().astype(str).str.strip().unique()) if "city" in st else []
    if len(found) == 1:
        return found[0]
    raise KlaError(f"the statistics hold several cities ({', '.join(found)}); choose one"
                   if found else "the statistics table is empty")


def statistics_long(tables: dict, catalog: pd.DataFrame, city: str | None = None,
                    lang: str = "id") -> pd.DataFrame:
    """Every statistic row of ``city`` (all data years, all area levels) with its catalog
    label, unit, direction and target: columns ``LONG_COLUMNS``.

    ``area_level`` is one of ``levels.LEVELS`` (``kabupaten_kota``, ``kecamatan``,
    ``desa_kelurahan``; the names of earlier versions, ``kota``, ``kelurahan``, ``desa``, are
    read as these); ``value`` is numeric. Measures outside the catalog get their ``i18n`` label and no target. ``city``
    None: the only city in the statistics table. Sorted by measure, data year, level,
    kecamatan, area.
    """
    lang = check_lang(lang)
    st = estimate.get_table(tables, "statistics")
    if st.empty:
        return pd.DataFrame(columns=LONG_COLUMNS)
    st = estimate.city_rows(st, _statistics_city(st, city))
    if st.empty:
        return pd.DataFrame(columns=LONG_COLUMNS)
    meta = catalog_targets(catalog, lang).set_index("measure")
    measure = st["measure"].astype(str).str.strip()
    known = measure.isin(meta.index)
    given = pd.to_numeric(st["indicator"], errors="coerce") if "indicator" in st \
        else pd.Series(np.nan, index=st.index)
    out = pd.DataFrame({
        "city": st["city"].astype(str),
        "data_year": pd.to_numeric(st["data_year"], errors="coerce").astype("Int64"),
        "indicator": given.fillna(measure.map(meta["indicator"])).astype("Int64"),
        "measure": measure,
        "label": [meta.at[m, "label"] if k else measure_label(m, lang)
                  for m, k in zip(measure, known, strict=True)],
        "unit": st["unit"].astype("string").str.strip() if "unit" in st else pd.NA,
        "target": measure.map(meta["target"]).astype(float),
        "direction": measure.map(meta["direction"]),
        "area_level": levels.canonical(st["area_level"]),
        "kecamatan": st["kecamatan"].astype("string").fillna("").str.strip(),
        "area": st["area"].astype("string").fillna("").str.strip(),
        "value": pd.to_numeric(st["value"], errors="coerce").astype(float),
        "numerator": _numbers(st, "numerator"),
        "denominator": _numbers(st, "denominator"),
    })
    return out.sort_values(["measure", "data_year", "area_level", "kecamatan", "area"],
                           kind="stable")[LONG_COLUMNS].reset_index(drop=True)


def _numbers(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").astype(float)


def report_statistics(rep: sections.Report) -> pd.DataFrame:
    """``statistics_long`` for the report's city, in its language, up to the report's data
    year (evaluation year minus ``statistic.data_year_offset``, as ``kelurahan_views``)."""
    long = statistics_long(rep.tables, rep.catalog, rep.city, rep.lang)
    data_year = rep.year - int(rep.rules["statistic.data_year_offset"])
    return long[long["data_year"] <= data_year].reset_index(drop=True)


def _areas(long: pd.DataFrame) -> pd.DataFrame:
    return long[long["area_level"].isin(AREA_LEVELS) & long["data_year"].notna()]


def area_measures(long: pd.DataFrame) -> list[str]:
    """Measures with desa/kelurahan rows: those with a target first, then the others, each
    group by name (the first is the default of every figure)."""
    rows = _areas(long)
    if rows.empty:
        return []
    has_target = rows.groupby("measure")["target"].apply(lambda s: s.notna().any())
    return sorted(has_target.index, key=lambda m: (not has_target[m], m))


def _pick_measure(long: pd.DataFrame, measure: str | None) -> str | None:
    if measure is not None:
        return measure
    found = area_measures(long)
    return found[0] if found else None


@functools.lru_cache(maxsize=2)
def _catalog_labels(lang: str) -> dict[str, str]:
    # display words only (the same in every weight set): the packaged catalog's
    targets = catalog_targets(load_catalog(), lang=lang)
    return dict(zip(targets["measure"], targets["label"], strict=True))


def statistic_label(measure: str, lang: str = "id") -> str:
    """The label of a statistic in ``lang``: the catalog's description, else ``i18n``'s
    (figures label in their own ``lang``, whatever language the frame was built in)."""
    return _catalog_labels(check_lang(lang)).get(measure) or measure_label(measure, lang)


def _meta(long: pd.DataFrame, measure: str, lang: str) -> dict:
    rows = long[long["measure"] == measure]
    if rows.empty:
        return {"label": statistic_label(measure, lang), "unit": None, "target": None,
                "direction": None}
    first = rows.iloc[0]
    return {"label": statistic_label(measure, lang),
            "unit": None if _blank(first["unit"]) else str(first["unit"]),
            "target": None if _blank(first["target"]) else float(first["target"]),
            "direction": first["direction"] if first["direction"] in ("higher", "lower")
            else None}


def area_rows(long: pd.DataFrame, measure: str, data_year: int | None = None) -> pd.DataFrame:
    """The desa/kelurahan rows of ``measure`` in ``data_year`` (None: its latest year with
    such rows) with a value, plus ``short_of_target`` (True/False; missing without a target).
    Blank kecamatan read "–"."""
    rows = _areas(long)
    rows = rows[(rows["measure"] == measure) & rows["value"].notna()]
    if rows.empty:
        return rows.assign(short_of_target=pd.Series(dtype="boolean"))
    year = int(rows["data_year"].max()) if data_year is None else int(data_year)
    rows = rows[rows["data_year"] == year].copy()
    rows["kecamatan"] = rows["kecamatan"].mask(rows["kecamatan"] == "", "–")
    rows["short_of_target"] = _short(rows)
    return rows.reset_index(drop=True)


def _short(rows: pd.DataFrame) -> pd.Series:
    target, direction = rows["target"], rows["direction"]
    short = np.where(direction == "lower", rows["value"] > target, rows["value"] < target)
    known = target.notna() & direction.isin(["higher", "lower"])
    return pd.Series(short, index=rows.index).astype("boolean").mask(~known)


def standing_long(long: pd.DataFrame, data_year: int | None = None) -> pd.DataFrame:
    """``explore.kelurahan_long`` of the desa/kelurahan statistics (each measure's latest
    data year, or ``data_year``): the same standing (0 = worst, 1 = best, direction-aware)
    the notebooks rank areas by; the area column is named ``kelurahan`` there."""
    views = []
    for measure in area_measures(long):
        rows = area_rows(long, measure, data_year)
        if rows.empty:
            continue
        first = rows.iloc[0]
        views.append({
            "measure": measure, "label": first["label"], "indicator": first["indicator"],
            "unit": None if _blank(first["unit"]) else str(first["unit"]),
            "target": None if _blank(first["target"])
            else float(first["target"]),
            "direction": first["direction"], "data_year": int(first["data_year"]),
            "values": rows[["kecamatan", "area", "value"]].sort_values("area")})
    return explore.kelurahan_long(views)


def paired_areas(long: pd.DataFrame, x: str, y: str,
                 data_year: int | None = None) -> pd.DataFrame:
    """One row per desa/kelurahan that has both statistics in the same data year (the latest
    such year, or ``data_year``): ``data_year, kecamatan, area, x, y, standing_x,
    standing_y, lagging`` where ``lagging`` counts the statistics on which the area is in the
    bottom quarter (``explore.LAGGING_SHARE``)."""
    cols = ["data_year", "kecamatan", "area", "x", "y", "standing_x", "standing_y", "lagging"]
    rows = _areas(long)
    rows = rows[rows["value"].notna()]
    xs, ys = rows[rows["measure"] == x], rows[rows["measure"] == y]
    years = sorted(set(xs["data_year"].dropna().astype(int)) &
                   set(ys["data_year"].dropna().astype(int)))
    if data_year is not None:
        years = [int(data_year)] if int(data_year) in years else []
    if not years or x == y:
        return pd.DataFrame(columns=cols)
    year = years[-1]
    both = area_rows(long, x, year)[["kecamatan", "area", "value"]].merge(
        area_rows(long, y, year)[["kecamatan", "area", "value"]],
        on=["kecamatan", "area"], suffixes=("_x", "_y"))
    if both.empty:
        return pd.DataFrame(columns=cols)
    stand = standing_long(long[long["measure"].isin([x, y])], year)
    stand = stand.rename(columns={"kelurahan": "area"}).set_index(["measure", "kecamatan",
                                                                   "area"])["standing"]
    key = list(zip(both["kecamatan"], both["area"], strict=True))
    both["standing_x"] = [stand.get((x, k, a), np.nan) for k, a in key]
    both["standing_y"] = [stand.get((y, k, a), np.nan) for k, a in key]
    lag = explore.LAGGING_SHARE + 1e-9
    both["lagging"] = ((both["standing_x"] <= lag).astype(int) +
                       (both["standing_y"] <= lag).astype(int))
    both = both.rename(columns={"value_x": "x", "value_y": "y"}).assign(data_year=year)
    return both[cols].sort_values(["kecamatan", "area"]).reset_index(drop=True)


# --- figures --------------------------------------------------------------------------------

def _status_label(short: object, lang: str) -> str:
    if short is pd.NA or short is None:
        return text("no_target", lang)
    return text("short", lang) if bool(short) else text("met", lang)


def _target_text(target: float, unit: str | None, lang: str) -> str:
    return text("target", lang, value=fmt_value(target, unit, lang))


@_seaborn_figure
def distribution_figure(long: pd.DataFrame, measure: str | None = None,
                        data_year: int | None = None, lang: str = "id") -> Figure:
    """One statistic across the desa/kelurahan of each kecamatan in one data year (latest by
    default): a box per kecamatan, a dot per area (vermillion diamonds short of the target,
    blue circles meeting it, grey without a target) and the catalog target as a dashed line.

    ``long``: ``statistics_long`` / ``report_statistics``; ``measure`` None: the first of
    ``area_measures``.
    """
    lang = check_lang(lang)
    measure = _pick_measure(long, measure)
    if measure is None:
        return _note_figure(text("no_rows", lang, what=t("label.statistic", lang).lower()))
    meta = _meta(long, measure, lang)
    rows = area_rows(long, measure, data_year)
    if rows.empty:
        what = meta["label"] + (f" ({data_year})" if data_year is not None else "")
        return _note_figure(text("no_rows", lang, what=what))
    order = sorted(rows["kecamatan"].unique())
    fig = _figure(1.7 + 0.55 * len(order))
    ax = fig.add_subplot()
    sns.boxplot(data=rows, x="value", y="kecamatan", order=order, orient="h", color=BOX_FILL,
                linecolor="#5a5a5a", linewidth=1, showfliers=False, width=0.6, ax=ax)
    rows["status"] = [_status_label(s, lang) for s in rows["short_of_target"]]
    styles = {text("short", lang): SHORT, text("met", lang): MET,
              text("no_target", lang): NEUTRAL}
    for status, style in styles.items():
        part = rows[rows["status"] == status]
        if part.empty:
            continue
        sns.stripplot(data=part, x="value", y="kecamatan", order=order, orient="h",
                      color=style["color"], marker=style["marker"], size=6, jitter=0.15,
                      edgecolor="black", linewidth=0.5, label=f"{status} ({len(part)})",
                      ax=ax)
    if meta["target"] is not None:
        ax.axvline(meta["target"], color=TARGET["color"], linestyle=TARGET["linestyle"],
                   linewidth=1.4, label=_target_text(meta["target"], meta["unit"], lang),
                   zorder=1)
    _legend(ax)
    _number_ticks(ax.xaxis, lang)
    year = int(rows["data_year"].iloc[0])
    notes = [f"{t('label.data_year', lang)} {year}", text("areas", lang, n=len(rows))]
    if len(order) == 1:
        notes.append(text("one_kecamatan", lang))
    _title(ax, meta["label"], notes)
    ax.set_xlabel(_axis_label(t("label.value", lang), meta["unit"]))
    ax.set_ylabel(t("label.kecamatan", lang))
    sns.despine(ax=ax)
    return fig


def _legend(ax) -> None:
    """A legend under the axes (never over the dots), one entry per label (stripplot
    repeats them); seaborn's own legend inside the axes is removed."""
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    handles, labels = ax.get_legend_handles_labels()
    seen = dict(zip(labels, handles, strict=True))
    if seen:
        ncol = 3 if ax.figure.get_figwidth() >= 6.5 else 2
        ax.figure.legend(list(seen.values()), list(seen), fontsize=FONT - 1, frameon=False,
                         loc="outside lower center", ncol=min(ncol, len(seen)))


def _number_ticks(axis, lang: str) -> None:
    """Tick labels with the language's decimal mark (``12,5`` in Indonesian)."""
    axis.set_major_formatter(FuncFormatter(
        lambda v, _pos: fmt_number(v, lang, decimals=2, trim=True)))


@_seaborn_figure
def years_figure(long: pd.DataFrame, measure: str | None = None, lang: str = "id") -> Figure:
    """One statistic across data years: a grey dot per desa/kelurahan, the median with the
    interquartile range (blue), the city/regency-level value where the data have one (black
    cross) and the catalog target (dashed). A narrowing range means the areas converge."""
    lang = check_lang(lang)
    measure = _pick_measure(long, measure)
    if measure is None:
        return _note_figure(text("no_rows", lang, what=t("label.statistic", lang).lower()))
    meta = _meta(long, measure, lang)
    rows = _areas(long)
    rows = rows[(rows["measure"] == measure) & rows["value"].notna()].copy()
    if rows.empty:
        return _note_figure(text("no_rows", lang, what=meta["label"]))
    rows["year"] = rows["data_year"].astype(int).astype(str)
    order = sorted(rows["year"].unique())
    fig = _figure(4.4, width=min(WIDTH_IN, max(5.5, 3.2 + 0.7 * len(order))))
    ax = fig.add_subplot()
    sns.stripplot(data=rows, x="year", y="value", order=order, color="#9a9a9a", size=4,
                  jitter=0.2, alpha=0.8, label=text("areas", lang, n="").strip(), ax=ax)
    sns.pointplot(data=rows, x="year", y="value", order=order, estimator="median",
                  errorbar=("pi", 50), color=OKABE_ITO["blue"], markers="o",
                  markersize=7, capsize=0.15, err_kws={"linewidth": 2},
                  label=text("median_iqr", lang), ax=ax)
    city = long[(long["measure"] == measure) & long["area_level"].isin([levels.REGION])
                & long["value"].notna() & long["data_year"].notna()]
    city = city[city["data_year"].astype(int).astype(str).isin(order)]
    if not city.empty:
        pos = {y: i for i, y in enumerate(order)}
        ax.scatter([pos[str(int(y))] for y in city["data_year"]], city["value"],
                   color=CITY_MARK["color"], marker=CITY_MARK["marker"], s=60, zorder=5,
                   label=text("city_value", lang))
    if meta["target"] is not None:
        ax.axhline(meta["target"], color=TARGET["color"], linestyle=TARGET["linestyle"],
                   linewidth=1.4, label=_target_text(meta["target"], meta["unit"], lang),
                   zorder=1)
    _legend(ax)
    _number_ticks(ax.yaxis, lang)
    notes = [f"{len(order)} {t('label.data_year', lang).lower()}"]
    if len(order) == 1:
        notes = [text("one_year", lang)]
    _title(ax, meta["label"], notes)
    ax.set_xlabel(t("label.data_year", lang))
    ax.set_ylabel(_axis_label(t("label.value", lang), meta["unit"], 40))
    sns.despine(ax=ax)
    return fig


def _lag_label(n: int, lang: str) -> str:
    return text({2: "lag_both", 1: "lag_one"}.get(int(n), "lag_none"), lang)


@_seaborn_figure
def relationship_figure(long: pd.DataFrame, x: str | None = None, y: str | None = None,
                        data_year: int | None = None, lang: str = "id") -> Figure:
    """Two statistics against each other, a dot per desa/kelurahan (latest common data year,
    or ``data_year``), with a fitted line, both targets and Spearman's rank correlation.

    Areas in the bottom quarter on both statistics are vermillion diamonds and named; on one,
    orange triangles; the others blue circles. ``x``/``y`` None: the first two of
    ``area_measures``.
    """
    lang = check_lang(lang)
    found = area_measures(long)
    x = x if x is not None else (found[0] if found else None)
    y = y if y is not None else next((m for m in found if m != x), None)
    if x is None or y is None:
        return _note_figure(text("no_pair", lang))
    pairs = paired_areas(long, x, y, data_year)
    if pairs.empty:
        return _note_figure(text("no_pair", lang))
    mx, my = _meta(long, x, lang), _meta(long, y, lang)
    pairs = pairs.assign(group=[_lag_label(n, lang) for n in pairs["lagging"]])
    fig = _figure(5.6, width=6.8)
    ax = fig.add_subplot()
    groups = [_lag_label(n, lang) for n in (2, 1, 0)]
    present = [g for g in groups if g in set(pairs["group"])]
    style = dict(zip(groups, LAGGING.values(), strict=True))
    for g in present:
        part = pairs[pairs["group"] == g]
        sns.scatterplot(data=part, x="x", y="y", color=style[g]["color"],
                        marker=style[g]["marker"], s=60, edgecolor="black", linewidth=0.5,
                        label=f"{g} ({len(part)})", legend=False, ax=ax)
    if len(pairs) >= 3 and pairs["x"].nunique() > 1:
        sns.regplot(data=pairs, x="x", y="y", scatter=False, ci=None, truncate=True,
                    color="#7a7a7a", line_kws={"linewidth": 1, "linestyle": ":"}, ax=ax)
    for r in pairs[pairs["lagging"] == 2].itertuples():
        ax.annotate(r.area, (r.x, r.y), xytext=(5, 4), textcoords="offset points",
                    fontsize=FONT - 2)
    for meta, line, axis in ((mx, ax.axvline, "x"), (my, ax.axhline, "y")):
        if meta["target"] is not None:
            line(meta["target"], color=TARGET["color"], linestyle=TARGET["linestyle"],
                 linewidth=1.2, zorder=1,
                 label=f"{_target_text(meta['target'], meta['unit'], lang)} ({axis})")
    _legend(ax)
    _number_ticks(ax.xaxis, lang)
    _number_ticks(ax.yaxis, lang)
    ax.set_xlabel(_axis_label(mx["label"], mx["unit"]))
    ax.set_ylabel(_axis_label(my["label"], my["unit"], 45))
    notes = [f"{t('label.data_year', lang)} {int(pairs['data_year'].iloc[0])}"]
    if len(pairs) >= 3 and pairs["x"].nunique() > 1 and pairs["y"].nunique() > 1:
        rho = pairs["x"].rank().corr(pairs["y"].rank())
        notes.append(text("spearman", lang, rho=fmt_number(rho, lang, decimals=2),
                          n=len(pairs)))
    else:
        notes.append(text("areas", lang, n=len(pairs)))
    ax.set_title(" · ".join(notes), fontsize=FONT, loc="left")
    sns.despine(ax=ax)
    return fig


def _column_label(label: str, year: int, unit: str | None) -> str:
    short = textwrap.shorten(str(label), 44, placeholder="…")
    return _wrap(short, 16) + f"\n({year}{', %' if unit == 'percent' else ''})"


@_seaborn_figure
def standing_figure(long: pd.DataFrame, data_year: int | None = None,
                    lang: str = "id") -> Figure:
    """A heatmap of each desa/kelurahan (rows, by kecamatan) on each statistic with a
    direction (columns, each in its latest data year or ``data_year``): colour is the
    standing (red 0 = worst, blue 1 = best), the number is the value."""
    lang = check_lang(lang)
    stand = standing_long(long, data_year)
    stand = stand[stand["direction"].isin(["higher", "lower"])]
    if stand.empty:
        return _note_figure(text("no_standing", lang))
    left_out = len(area_measures(long)) - stand["measure"].nunique()
    stand = stand.assign(column=[_column_label(statistic_label(m, lang), y, u)
                                 for m, y, u in zip(stand["measure"], stand["data_year"],
                                                    stand["unit"], strict=True)])
    stand = stand.assign(row=stand["kelurahan"] + " · " + stand["kecamatan"])
    order = stand.sort_values(["kecamatan", "kelurahan"])["row"].unique()
    columns = list(dict.fromkeys(stand["column"]))
    colour = stand.pivot_table(index="row", columns="column", values="standing",
                               aggfunc="first").reindex(index=order, columns=columns)
    values = stand.pivot_table(index="row", columns="column", values="value",
                               aggfunc="first").reindex(index=order, columns=columns)
    units = dict(zip(stand["column"], stand["unit"], strict=True))
    annot = np.array([[fmt_value(v, units[c], lang) if pd.notna(v) else ""
                       for c, v in zip(columns, row, strict=True)]
                      for row in values.to_numpy()], dtype=object)
    fig = _figure(2.4 + 0.3 * len(order), width=max(WIDTH_IN, 3.0 + 1.3 * len(columns)))
    ax = fig.add_subplot()
    sns.heatmap(colour, vmin=0, vmax=1, cmap="vlag_r", annot=annot, fmt="",
                annot_kws={"fontsize": FONT - 2}, linewidths=0.5, linecolor="white",
                cbar_kws={"label": text("standing", lang), "shrink": 0.6}, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel(f"{AREA} · kecamatan")
    ax.tick_params(axis="x", labelsize=FONT - 2, rotation=0)
    ax.tick_params(axis="y", labelsize=FONT - 1)
    notes = [text("areas", lang, n=len(order))]
    if left_out > 0:
        notes.append(text("no_direction", lang, n=left_out))
    ax.set_title(text("standing_title", lang) + "\n" + " · ".join(notes), fontsize=FONT,
                 loc="left")
    return fig
