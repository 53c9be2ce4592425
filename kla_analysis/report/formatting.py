"""Numbers, labels and HTML fragments for the reports.

Indonesian reports write ``1.234,5`` and English ones ``1,234.5``. Every value that comes from
data is escaped: HTML fragments are ``markupsafe.Markup`` objects built with
``Markup(...).format(...)``, which escapes each argument that is not already Markup, so a
``<script>`` in an agency's file arrives in the report as text.

Before escaping, ``esc`` (and so ``html_table``, ``badge`` and the captions and headers) removes
the control, bidirectional and invisible characters of ``kla_analysis.chars``: a right-to-left
override in an OPD name cannot make the report display text reversed, and a zero-width space
cannot make two names look equal. The validator reports these characters in the raw files;
this is the writer's second line of defence. Data strings put into ``Markup(...).format(...)``
directly are escaped but not stripped: pass them through ``esc`` first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real

import pandas as pd
from markupsafe import Markup, escape

from ..chars import strip_unsafe
from .i18n import t

MISSING = "–"  # shown for no data (never 0)
MINUS = "−"

_CSS_CLASS = re.compile(r"^[a-z][a-z0-9_-]*$")


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, Real) and not isinstance(value, bool) and math.isnan(float(value))


def fmt_number(value: object, lang: str = "id", decimals: int = 1, trim: bool = False) -> str:
    """``1234.5`` -> ``1.234,5`` (id) or ``1,234.5`` (en); missing -> ``–``.

    ``trim`` drops trailing decimal zeros (``979.00`` -> ``979``, ``652.50`` -> ``652,5``).
    ``lang`` was checked where the run started (``params.check_lang``).
    """
    if is_missing(value):
        return MISSING
    x = float(value)  # type: ignore[arg-type]
    text = f"{abs(x):,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "id":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    negative = x < 0 and any(c not in "0.," for c in text)
    return (MINUS if negative else "") + text


def fmt_int(value: object, lang: str = "id") -> str:
    return fmt_number(value, lang, decimals=0)


def fmt_points(value: object, lang: str = "id") -> str:
    """Points with up to two decimals, trailing zeros dropped: ``946,45``, ``979``."""
    return fmt_number(value, lang, decimals=2, trim=True)


def fmt_estimate(value: object, lang: str = "id") -> str:
    """A number derived from the estimate: one decimal at most (the estimate is not that
    precise): ``652,5``, ``700``."""
    return fmt_number(value, lang, decimals=1, trim=True)


def fmt_percent(value: object, lang: str = "id", decimals: int = 1) -> str:
    """A value on the 0-100 scale: ``85,5%`` (id) / ``85.5%`` (en)."""
    text = fmt_number(value, lang, decimals=decimals, trim=True)
    return text if text == MISSING else text + "%"


def fmt_signed(value: object, lang: str = "id") -> str:
    """A change with its sign: ``+12,5``, ``−3``, ``0``."""
    text = fmt_points(value, lang)
    if text == MISSING or text.startswith(MINUS) or text == "0":
        return text
    return "+" + text


def fmt_range(low: object, high: object, lang: str = "id") -> str:
    return f"{fmt_points(low, lang)}–{fmt_points(high, lang)}"


def fmt_value(value: object, unit: str | None, lang: str = "id") -> str:
    """A statistic in its unit: percentages with ``%``, counts as whole numbers."""
    if unit == "percent":
        return fmt_percent(value, lang)
    if unit == "count":
        return fmt_int(value, lang)
    return fmt_number(value, lang, decimals=2, trim=True)


def predicate_label(predicate: object, lang: str = "id") -> str:
    """A predicate name for display; ``None`` (below the lowest band) -> "Belum berpredikat"."""
    if is_missing(predicate) or predicate == "":
        return t("label.below_lowest", lang)
    return strip_unsafe(str(predicate))


def esc(value: object) -> Markup:
    """Escape any value for HTML (``None`` -> empty); Markup passes through unchanged.

    Text loses its control, bidirectional and invisible characters first
    (``chars.strip_unsafe``):

    >>> esc("<b>Dinas\u202e Kes</b>\x07")
    Markup('&lt;b&gt;Dinas Kes&lt;/b&gt;')
    """
    if value is None:
        return Markup("")
    if hasattr(value, "__html__"):  # Markup (already escaped and stripped where it was built)
        return escape(value)
    return escape(strip_unsafe(value if isinstance(value, str) else str(value)))


def _css(name: str | None) -> str:
    if not name:
        return ""
    parts = str(name).split()
    bad = [p for p in parts if not _CSS_CLASS.match(p)]
    if bad:
        raise ValueError(f"not a CSS class name: {bad[0]!r}")
    return " ".join(parts)


def _cell(value: object) -> Markup:
    return value if isinstance(value, Markup) else esc(MISSING if is_missing(value) else value)


def markup_column(values: Iterable[object]) -> pd.Series:
    """A column that keeps ``Markup`` values as they are (pandas 3 would store plain str)."""
    return pd.Series(list(values), dtype=object)


def key_columns(columns: Sequence[str], numeric: Iterable[str] = ()) -> list[str]:
    """The columns that name a row: the first, and the text columns right after it while a
    number column still follows (``No, Indikator, Status`` of the indicator table,
    ``Kecamatan, Kelurahan`` of an area table, only ``Kota`` of a table without numbers).

    On a phone a table becomes one card per row (``html_table``): these cells make the
    card's title line, every other cell a "label value" pair below it.
    """
    numeric = set(numeric)
    cols = list(columns)
    keys = cols[:1]
    for i in range(1, len(cols)):
        if cols[i] in numeric or not any(c in numeric for c in cols[i + 1:]):
            break
        keys.append(cols[i])
    return keys


def html_table(df: pd.DataFrame, *, caption: str | None = None,
               numeric: Iterable[str] = (),
               cell_classes: Mapping[str, Sequence[str | None]] | None = None,
               row_classes: Sequence[str | None] | None = None,
               table_class: str = "", keys: Sequence[str] | None = None,
               label: str | None = None) -> Markup:
    """An escaped HTML table that reads on a phone, on a desktop and on paper.

    Values are shown as they are (format them first with the ``fmt_*`` functions); Markup
    values are kept (build such columns with ``markup_column``), everything else is
    escaped, missing values show ``–``. ``numeric`` columns are right-aligned and never
    wrap; ``cell_classes`` maps a column to one CSS class per row (e.g. status colours);
    ``row_classes`` gives one class per row.

    Every cell carries its column's name (``data-label``): below 600 px the stylesheet
    shows each row as a card, the ``keys`` cells (default ``key_columns``) as its title and
    every other cell as "label value", so no column is off-screen and no number is cut.
    Wider, the table scrolls inside its wrapper when it must; the wrapper is keyboard
    focusable and named: a region named by ``label`` (or the caption), else a group named
    by its column names.
    """
    numeric = set(numeric)
    cell_classes = cell_classes or {}
    for col, classes in cell_classes.items():
        if len(classes) != len(df):
            raise ValueError(f"cell_classes[{col!r}] has {len(classes)} entries for {len(df)} rows")
    key_set = set(key_columns(df.columns, numeric) if keys is None else keys)
    head = Markup("").join(
        Markup('<th scope="col"{}>{}</th>').format(
            Markup(' class="num"') if col in numeric else Markup(""), esc(col))
        for col in df.columns)
    # the cell's start tag per column (its label and the column's classes) built once, and
    # rows joined as escaped strings: Markup.format per cell was most of a big table's time
    fixed = {col: " ".join(filter(None, ["key" if col in key_set else "",
                                         "num" if col in numeric else ""]))
             for col in df.columns}
    labels = {col: str(esc(col)) for col in df.columns}
    extra = {col: [_css(c) for c in classes] for col, classes in cell_classes.items()}
    rows = []
    for i, rec in enumerate(df.itertuples(index=False, name=None)):
        cells = []
        for col, value in zip(df.columns, rec, strict=True):
            cls = fixed[col]
            if col in extra and extra[col][i]:
                cls = f"{cls} {extra[col][i]}" if cls else extra[col][i]
            attr = f' class="{escape(cls)}"' if cls else ""
            cells.append(f'<td data-label="{labels[col]}"{attr}>{_cell(value)}</td>')
        rcls = _css(row_classes[i]) if row_classes is not None else ""
        rattr = f' class="{escape(rcls)}"' if rcls else ""
        rows.append(f"<tr{rattr}>{''.join(cells)}</tr>")
    body = Markup("".join(rows))  # every part was escaped above
    cap = Markup("<caption>{}</caption>").format(esc(caption)) if caption else Markup("")
    # a landmark (region) needs a name of its own: the label or caption says what the table
    # is; the column names alone may repeat on a page (one area table per statistic), so
    # such a wrapper is a named group, not a landmark
    name = label or caption
    role = "region" if name else "group"
    name = name or ", ".join(str(c) for c in df.columns)
    return Markup('<div class="table-wrap" role="{}" tabindex="0" aria-label="{}">'
                  '<table class="{}">{}<thead><tr>{}</tr></thead>'
                  "<tbody>{}</tbody></table></div>").format(
        role, esc(name), _css(("data " + table_class).strip()), cap, head, body)


def badge(text: object, css_class: str) -> Markup:
    """A small coloured label with its text (colour is never the only cue)."""
    return Markup('<span class="badge {}">{}</span>').format(_css(css_class), esc(text))
