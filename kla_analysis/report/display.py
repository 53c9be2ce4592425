"""Tables for JupyterLab: Indonesian (or English) labels, status and predikat colours.

``style_table(df, lang)`` turns a table of :mod:`kla_analysis.report` (``indicator_table``,
``cluster_table``, ``evidence_gaps`` ...) or of :mod:`kla_analysis.explore` into a pandas
``Styler``: column labels from ``data/display.yaml`` (the report's i18n wording where it has
one), numbers in the report language's format (``1.234,5`` in Bahasa Indonesia), status
codes shown as words on the report's status colours, predikat names on the chart's band
colours, points lost or gained as in-cell bars. Only the display changes: the DataFrame keeps
its codes and floats, so it can still be sorted, filtered or exported.

Colours are read from the report stylesheet (``templates/kla_report/static/report.css``) and
from :mod:`kla_analysis.plots`, so notebook, report and charts agree. Every function takes
``lang`` (``id`` default, or ``en``)::

    report.indicator_table(rep).pipe(display.style_table, "id")
    display.style_record(explore.headline_view(rep), "id")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

import pandas as pd
from markupsafe import escape
from pandas.io.formats.style import Styler

from ..catalog import load_bands
from ..config import PACKAGE_DIR, package_file
from ..model.rules import status_labels
from ..params import check_lang
from ..yamlfile import read_yaml
from . import plots
from .formatting import (
    MISSING,
    fmt_int,
    fmt_number,
    fmt_percent,
    fmt_points,
    fmt_value,
    is_missing,
    predicate_label,
)
from .i18n import t

REPORT_CSS = PACKAGE_DIR / "templates" / "kla_report" / "static" / "report.css"
KINDS = ("text", "int", "points", "estimate", "share", "percent", "value", "status",
         "predicate", "score_predicate", "official_status", "yesno")
PREDICATE_KINDS = {"predicate", "score_predicate"}
NUMERIC_KINDS = {"int", "points", "estimate", "share", "percent", "value"}
#: In-cell bars: the chart colours of claimed (lost) and backed (gained) points, translucent
#: so the number on top stays readable.
BAR_COLOURS = {"lost": plots.CLAIMED["color"] + "55", "gain": plots.BACKED["color"] + "55"}
_CSS_VAR = re.compile(r"--([a-z0-9-]+)\s*:\s*(#[0-9a-fA-F]{3,8})\s*;")


@lru_cache(maxsize=1)
def display_config() -> dict:
    """``data/display.yaml``: ``columns`` (label, kind, bar) and ``status_colours``."""
    return read_yaml(package_file("display.yaml"), "display settings")


def _column(col: object) -> dict:
    return (display_config()["columns"] or {}).get(str(col)) or {}


def _status_codes() -> set[str]:
    return set(display_config()["status_colours"])


def column_kind(col: object) -> str:
    """Display kind of a column (``text`` when not configured; ``int`` for status counts)."""
    if str(col) in _status_codes():
        return "int"
    return _column(col).get("kind", "text")


def column_label(col: object, lang: str = "id") -> str:
    """Label of a column in ``lang``; unknown columns keep their name."""
    lang = check_lang(lang)
    if str(col) in _status_codes():
        return status_label(str(col), lang)
    label = _column(col).get("label")
    if label is None:
        return str(col)
    return t(label, lang) if isinstance(label, str) else label[lang]


def label_columns(df: pd.DataFrame, lang: str = "id") -> pd.DataFrame:
    """A copy of ``df`` with labelled column names (for ``.pipe`` or a spreadsheet)."""
    return df.rename(columns={c: column_label(c, lang) for c in df.columns})


def status_label(code: object, lang: str = "id") -> str:
    """Word for an indicator status (``met`` ...) or a data dukung status (``ada`` ...)."""
    if is_missing(code):
        return MISSING
    code = str(code)
    indicator = status_labels(lang)
    if code in indicator:
        return indicator[code]
    try:
        return t(f"evidence_status.{code}", lang)
    except KeyError:
        return code


def official_status_label(status: object, lang: str = "id") -> str:
    """``published`` / ``inferred`` / ``unconfirmed`` in words."""
    if is_missing(status):
        return MISSING
    try:
        return t(f"official_status_short.{status}", lang)
    except KeyError:
        return str(status)


@lru_cache(maxsize=1)
def css_colours() -> dict[str, str]:
    """The colour variables of the report stylesheet (``met`` -> ``#d7f0e6`` ...)."""
    return dict(_CSS_VAR.findall(REPORT_CSS.read_text(encoding="utf-8")))


def status_css(code: object) -> str:
    """CSS for a status cell: the report's background and text colour for that status."""
    if is_missing(code):
        return ""
    name = display_config()["status_colours"].get(str(code))
    if name is None:
        return ""
    colours = css_colours()
    return f"background-color: {colours[name]}; color: {colours[name + '-ink']}"


@lru_cache(maxsize=1)
def predicate_colours() -> dict[str, str]:
    """Predikat name -> the fill of its band in the charts (lowest band lightest)."""
    names = load_bands()["predicate"]
    return {str(n): plots.BAND_FILLS[i % len(plots.BAND_FILLS)] for i, n in enumerate(names)}


def predicate_css(predicate: object) -> str:
    """CSS for a predikat cell: its chart band colour, bold."""
    if is_missing(predicate) or str(predicate) not in predicate_colours():
        return ""
    return f"background-color: {predicate_colours()[str(predicate)]}; color: #1b1b1b; " \
           "font-weight: 600"


def formatter(kind: str, lang: str = "id") -> Callable[[object], str]:
    """Function that formats one value of a display kind in ``lang``."""
    lang = check_lang(lang)
    if kind not in KINDS:
        raise ValueError(f"unknown display kind {kind!r}; one of {', '.join(KINDS)}")
    yes, no = t("label.yes", lang), t("label.no", lang)
    return {
        "text": lambda v: MISSING if is_missing(v) else str(v),
        "int": lambda v: fmt_int(v, lang),
        "points": lambda v: fmt_points(v, lang),
        "estimate": lambda v: fmt_number(v, lang, decimals=1, trim=True),
        "share": lambda v: MISSING if is_missing(v) else fmt_percent(100 * float(v), lang),
        "percent": lambda v: fmt_percent(v, lang),
        "value": lambda v: fmt_value(v, None, lang),
        "status": lambda v: status_label(v, lang),
        "predicate": lambda v: MISSING if is_missing(v) or v == "" else str(v),
        "score_predicate": lambda v: predicate_label(v, lang),
        "official_status": lambda v: official_status_label(v, lang),
        "yesno": lambda v: MISSING if is_missing(v) else (yes if bool(v) else no),
    }[kind]


def _labels(columns, lang: str) -> list[str]:
    """Escaped column labels (statistic labels may come from data)."""
    return [str(escape(column_label(c, lang))) for c in columns]


def _caption(styler: Styler, caption: object) -> Styler:
    """Styler captions are raw HTML: escape the text (it may be an OPD name from data)."""
    if caption is None or is_missing(caption) or caption == "":
        return styler
    return styler.set_caption(str(escape(caption)))


def _has_numbers(s: pd.Series) -> bool:
    return pd.to_numeric(s, errors="coerce").notna().any()


def style_table(df: pd.DataFrame, lang: str = "id", caption: str | None = None,
                kinds: Mapping[str, str] | None = None) -> Styler:
    """A labelled, formatted and coloured view of ``df`` for JupyterLab.

    ``kinds`` overrides the configured display kind of some columns. The index is hidden
    (tables here carry their keys as columns).
    """
    lang = check_lang(lang)
    kinds = {c: (kinds or {}).get(c, column_kind(c)) for c in df.columns}
    styler = df.style.format({c: formatter(k, lang) for c, k in kinds.items()}, escape="html")
    numeric = [c for c, k in kinds.items() if k in NUMERIC_KINDS]
    text = [c for c in df.columns if c not in numeric]
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    if text:  # JupyterLab right-aligns every cell by default
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    for col, kind in kinds.items():
        if kind == "status":
            styler = styler.map(status_css, subset=[col])
        elif kind in PREDICATE_KINDS:
            styler = styler.map(predicate_css, subset=[col])
        bar = _column(col).get("bar")
        if bar and kind in NUMERIC_KINDS and _has_numbers(df[col]):
            styler = styler.bar(subset=[col], color=BAR_COLOURS[bar], vmin=0, height=60,
                                width=100)
    styler = styler.relabel_index(_labels(df.columns, lang), axis="columns")
    styler = styler.hide(axis="index")
    styler = styler.set_table_styles([
        {"selector": "th", "props": "text-align: left; white-space: normal; max-width: 12em"},
        {"selector": "caption", "props": "text-align: left; font-weight: 600"}])
    return _caption(styler, caption)


def style_record(record: Mapping[str, object], lang: str = "id",
                 caption: str | None = None) -> Styler:
    """One record (e.g. the headline figures) as a two-column table: label, value.

    Each value is formatted and coloured by its key's display kind.
    """
    lang = check_lang(lang)
    keys = list(record)
    kinds = [column_kind(k) for k in keys]
    shown = pd.DataFrame({
        "label": [column_label(k, lang) for k in keys],
        "value": [formatter(k, lang)(record[key]) for key, k in zip(keys, kinds, strict=True)]})
    css = [status_css(record[key]) if k == "status" else
           predicate_css(record[key]) if k in PREDICATE_KINDS else ""
           for key, k in zip(keys, kinds, strict=True)]
    align = ["text-align: right" if k in NUMERIC_KINDS else "text-align: left" for k in kinds]

    def colour(_col: pd.Series) -> list[str]:
        return [";".join(filter(None, pair)) for pair in zip(css, align, strict=True)]

    styler = shown.style.format(escape="html").apply(colour, subset=["value"], axis=0)
    styler = styler.set_properties(subset=["label"], **{"text-align": "left"})
    styler = styler.hide(axis="index").hide(axis="columns")
    return _caption(styler, caption)


def style_matrix(values: pd.DataFrame, standing: pd.DataFrame, lang: str = "id",
                 keys: int = 2, lagging: float = 0.25, caption: str | None = None) -> Styler:
    """A kelurahan x statistic matrix (``explore.kelurahan_matrix``) coloured by standing.

    The first ``keys`` columns (kecamatan, kelurahan) are labels; every other cell shows its
    value and is coloured like a status: the bottom ``lagging`` share of kelurahan on that
    statistic as *not met*, the top share as *met* (``standing`` has the same shape, 0 =
    worst, 1 = best, NaN = no direction to judge by).
    """
    lang = check_lang(lang)
    if list(values.columns) != list(standing.columns) or len(values) != len(standing):
        raise ValueError("values and standing must have the same columns and rows")
    data = list(values.columns[keys:])
    low, high = status_css("not_met"), status_css("met")
    fmt = formatter("value", lang)

    def colour(frame: pd.DataFrame) -> pd.DataFrame:
        pos = standing[data].reset_index(drop=True).set_axis(frame.index)
        out = pd.DataFrame("", index=frame.index, columns=frame.columns)
        out = out.mask(pos.le(lagging + 1e-9), low).mask(pos.ge(1 - lagging - 1e-9), high)
        return out

    styler = values.style.format({c: fmt for c in data}, escape="html", na_rep=MISSING)
    styler = styler.apply(colour, subset=data, axis=None)
    styler = styler.set_properties(subset=data, **{"text-align": "right"})
    styler = styler.set_properties(subset=list(values.columns[:keys]), **{"text-align": "left"})
    styler = styler.relabel_index(
        _labels(values.columns[:keys], lang) + [str(escape(c)) for c in data], axis="columns")
    styler = styler.hide(axis="index").set_table_styles([
        {"selector": "th", "props": "text-align: left; white-space: normal; max-width: 10em"}])
    return _caption(styler, caption)
