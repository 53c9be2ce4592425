"""Small, vectorised, pure cleaning functions: Series in, Series (or DataFrame) out.

Cells arrive as read from the file: CSV cells are text; Excel cells are text, numbers or dates.
Each parser returns the parsed values plus a mask of cells that could not be parsed (the
validator turns that mask into problem rows), so a bad cell is never a silent NaN.
Work is done once per distinct cell value (:func:`on_uniques`), which keeps national-scale
files fast: agency tables repeat the same few thousand values millions of times.

Number rule (deterministic, see docs/data-contracts.md):

* Excel numeric cells are taken as numbers.
* In text, spaces and a trailing ``%`` are ignored; ``-``, blank, ``n/a`` ... mean missing.
* If a text holds both ``.`` and ``,`` the rightmost one is the decimal mark and the other
  groups thousands (``1.234,5`` and ``1,234.5`` are both 1234.5).
* A single separator followed by exactly three digits after a group of 1-3 digits that does
  not start with 0 (``1.234``, ``12,500``) is ambiguous: it groups thousands in a count column
  (counts are whole numbers), and otherwise when it is not the file's decimal mark. The file's
  decimal mark is ``,`` for ``;``-separated CSV and text cells in Excel, ``.`` for
  ``,``-separated CSV.
* Otherwise a single ``,`` or ``.`` is the decimal mark (``85,5`` and ``85.5`` are 85.5), and
  several identical separators group thousands (``1.234.567``).

Text rule (applied before anything is matched or parsed: headers, place names, measure names,
choices, item codes, indicator numbers, years, numbers and dates written as text, missing
markers):

* Zero-width characters are removed: zero-width space, non-joiner and joiner, word joiner,
  byte-order mark (:data:`kla_analysis.chars.INVISIBLE`), soft hyphen and the Mongolian vowel
  separator. They show nothing, so ``Suka`` U+200B ``rame`` reads, and matches, as
  ``Sukarame``. Control characters (C0 and C1 but the whitespace ones) and bidirectional
  formatting characters (:data:`kla_analysis.chars.BIDI`) are removed as well: they are no
  name characters, but the readers and the validator already report every cell holding one
  (``control_character``, ``unsafe_character``, naming the code point), so the cell gives
  that one problem, not a second ``unknown_kelurahan`` or ``not_a_year`` for the same cause.
* Every kind of space is one space and is trimmed at both ends: space, tab, line breaks
  inside a cell (line feed, carriage return, U+0085, U+2028, U+2029), no-break space U+00A0,
  narrow no-break space U+202F, figure space U+2007, the other Unicode space separators
  (U+1680, U+2000-U+200A, U+205F) and the ideographic space U+3000 (:func:`squeeze`).
  Numbers drop them all, so ``1`` U+00A0 ``234,5`` is ``1 234,5`` is 1234.5.
* The text is then in Unicode NFC: a name typed with combining marks (``a`` + U+0300)
  equals the same name with composed letters (U+00E0). Only non-ASCII values are
  normalised (ASCII text is NFC already), once per distinct value.

Keys (:func:`keys`, :func:`name_key`, :func:`city_key`, ``specs.header_key``) are computed
from that text, lower-cased, with ``%`` read as ``persen``. For matching, the characters of a
name or header are:

* name characters, kept: letters of any script (Unicode L*), combining marks (M*, so
  accents count: ``Dalam`` and ``Dal`` U+00E0 ``m`` are different spellings, the second one
  matches only as a listed variant) and digits and other numbers (N*);
* separators, read as a space: spaces and punctuation (Unicode P*: ``. , ' ( ) / - & : ; *
  " ! ? #`` ..., dashes and quotes of every kind) and the characters used as apostrophes
  (`` ` `` U+0060, U+00B4, U+2018, U+2019, U+02BB, U+02BC, U+2032). So ``KEL. SEI-TIUNG``,
  ``Sei Tiung`` and ``Sei (Tiung)`` are one key, and a footnote star (``Sukamaju*``) is
  ignored;
* everything else: symbols (Unicode S*: emoji and other So, Sk such as ``^``, Sm such as
  ``+`` or U+2264, Sc such as ``$``), private-use (Co), unassigned (Cn) and surrogate code
  points, format characters (Cf) other than the ones removed above (e.g. tag characters).
  Nothing else reports them, so they are KEPT in the key, and such a name never matches the
  plain name: ``Guntung Manggis`` followed by an emoji (U+1F642) is reported as an unknown
  kelurahan with ``Guntung Manggis`` as the closest known name, never silently read as it.
  (A spelling with a symbol listed in the gazetteer as a variant does match: that is the
  analyst's explicit decision.) The same holds for headers and total labels.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from ..chars import BIDI
from ..chars import INVISIBLE as _ZERO_WIDTH

NUMBER_FORMAT = r"[+-]?\d+(?:\.\d+)?"


def on_uniques(s: pd.Series, fn: Callable[[pd.Series], pd.Series | pd.DataFrame],
               categorical: bool = False):
    """Apply ``fn`` to the distinct values of ``s`` only and spread the result back.

    A categorical ``s`` is handled through its categories. With ``categorical=True`` text
    results come back as categoricals (millions of repeated names stay small).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        values = np.asarray(s.cat.categories, dtype=object)
        dtype = "str"
    else:
        codes, values = pd.factorize(s, use_na_sentinel=True)
        values = np.asarray(values, dtype=object)
        dtype = s.dtype if s.dtype != object else object
    # the last entry stands for missing cells, so fn decides what they become
    uniques = pd.Series(np.append(values, np.nan), dtype=dtype)
    full = fn(uniques)
    if isinstance(full, pd.Series):
        full = full.to_frame()
    full = full.reset_index(drop=True)
    take = np.where(codes < 0, len(values), codes)
    if not categorical:
        return full.take(take).set_axis(s.index)
    out = {}
    for c in full.columns:
        col = full[c]
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            c2, cats = pd.factorize(col, use_na_sentinel=True)
            out[c] = pd.Categorical.from_codes(c2[take], pd.Index(cats, dtype="str"))
        else:
            out[c] = col.to_numpy()[take] if not isinstance(
                col.dtype, pd.api.extensions.ExtensionDtype) else col.array.take(take)
    return pd.DataFrame(out, index=s.index)


def as_text(s: pd.Series) -> pd.Series:
    """``s`` as a ``str`` Series; categoricals are expanded from their categories (fast)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = pd.array(np.asarray(s.cat.categories, dtype=object).astype(str), dtype="str")
        return pd.Series(cats.take(s.cat.codes.to_numpy(), allow_fill=True), index=s.index)
    return s.astype("str")


def text_cells(s: pd.Series) -> pd.Series:
    """The text cells of ``s`` as a ``str`` Series; NA where the cell is empty or not text."""
    if isinstance(s.dtype, pd.StringDtype):
        return s
    kind = pd.api.types.infer_dtype(s, skipna=True) if s.dtype == object else "other"
    if kind in ("string", "empty"):
        return s.astype("str")
    if kind not in ("mixed", "mixed-integer"):  # numbers, dates, booleans: no text at all
        return pd.Series(np.nan, index=s.index, dtype="str")
    return s.where(s.str.len().notna()).astype("str")


def value_cells(s: pd.Series) -> pd.Series:
    """The non-text, non-empty cells of ``s`` (numbers, dates from Excel); NA elsewhere."""
    if isinstance(s.dtype, pd.StringDtype):
        return pd.Series(np.nan, index=s.index)
    if s.dtype != object:
        return s
    return s.where(text_cells(s).isna())


# Character classes spelled out ("\s" is not run by Arrow's engine). Not raw strings, so the
# patterns hold the characters themselves: a "\u2009" escape in the pattern text would send
# pandas back to Python's re, one cell at a time (seconds at national scale).
#: Characters that show nothing: removed before anything else.
INVISIBLE = _ZERO_WIDTH + "\u00ad\u180e"
#: Control characters other than the whitespace ones (tab, line breaks, VT, FF, NEL).
CONTROL = "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
#: Removed too: the validator reports each cell holding one (``unsafe_character``).
REMOVED = INVISIBLE + CONTROL + BIDI
#: Every kind of space (Unicode Zs, Zl, Zp) and the ASCII / C1 whitespace controls.
SPACES = (" \t\n\v\f\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000")
WHITESPACE = f"[{SPACES}]+"
_REMOVED_RUN = f"[{REMOVED}]+"
_ODD_SPACE = f"[{REMOVED}{SPACES.removeprefix(' ')}]|  "  # besides single spaces
_REMOVED_RE = re.compile(_REMOVED_RUN)
_SPACES_RE = re.compile(WHITESPACE)
#: Characters agencies use as an apostrophe, some of them letters or symbols for Unicode.
APOSTROPHES = "'`\u00b4\u2018\u2019\u02bb\u02bc\u2032"


def normalise_text(text: str) -> str:
    """One text value as it is matched: zero-width characters removed, spaces collapsed
    and trimmed, NFC (see the module docstring). :func:`squeeze` for a single string."""
    text = _SPACES_RE.sub(" ", _REMOVED_RE.sub("", text)).strip(" ")
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def squeeze(s: pd.Series) -> pd.Series:
    """Text as it is matched: zero-width characters removed, every kind of space (and line
    breaks) collapsed to one space, trimmed, then NFC. Same result as :func:`normalise_text`.

    Only the values needing it are rewritten (most hold single ASCII spaces only).
    """
    odd = (_flag(s.str.contains(_ODD_SPACE, regex=True)) | _flag(s.str.startswith(" "))
           | _flag(s.str.endswith(" ")))
    pos = _non_ascii(s)
    if not odd.any() and not len(pos):
        return s
    vals = s.to_numpy(dtype=object).copy()
    if odd.any():
        vals[odd] = (s[odd].str.replace(_REMOVED_RUN, "", regex=True)
                     .str.replace(WHITESPACE, " ", regex=True).str.strip(" ")
                     .to_numpy(dtype=object))
    # NFC per value, for the few non-ASCII ones
    vals[pos] = [unicodedata.normalize("NFC", v) for v in vals[pos]]
    return pd.Series(vals, index=s.index, dtype=s.dtype, name=s.name)


def _flag(test: pd.Series) -> np.ndarray:
    """A string test's result as booleans, False for missing values."""
    return test.fillna(False).to_numpy(dtype=bool)


def _non_ascii(t: pd.Series) -> np.ndarray:
    """Positions of the text values of ``t`` holding a non-ASCII character."""
    return np.flatnonzero(t.notna().to_numpy() & ~_flag(t.str.isascii()))


def _separator(ch: str) -> bool:
    return ch in APOSTROPHES or unicodedata.category(ch)[0] in "PZ"


_ASCII_SEPARATORS = {c: " " for c in range(128) if _separator(chr(c))}


def _char_class(chars: Iterable[str]) -> str:
    """A regex class of literal characters (works in Python's re and in Arrow's RE2)."""
    return "[" + "".join("\\" + c if c in "\\[]^-" else c for c in sorted(chars)) + "]"


def text_key(text: str) -> str:
    """The matching key of one text (``specs.header_key``; :func:`keys` for columns):
    normalised, lower case, ``%`` as ``persen``, separators (spaces, punctuation,
    apostrophes) as one space; letters, marks, digits, and symbols (which keep the text
    from matching a plain name) kept. See the module docstring."""
    t = _lower(normalise_text(text)).replace("%", " persen ")
    table = _ASCII_SEPARATORS
    if not t.isascii():
        table = table | {ord(c): " " for c in set(t) if not c.isascii() and _separator(c)}
    return " ".join(w for w in t.translate(table).split(" ") if w)


def _lower(text: str) -> str:
    """Python's lower case, in NFC again (``İ`` lowers to ``i`` + U+0307)."""
    return text.lower() if text.isascii() else unicodedata.normalize("NFC", text.lower())


def keys(s: pd.Series) -> pd.Series:
    """Vectorised :func:`text_key` (same result, for whole columns): pandas string
    operations, and Python's lower case for the few non-ASCII values (Arrow's differs)."""
    text = squeeze(s.astype("str"))
    pos = _non_ascii(text)
    t = text.str.lower()
    seps = {chr(c) for c in _ASCII_SEPARATORS}
    if len(pos):
        vals = t.to_numpy(dtype=object).copy()
        vals[pos] = [_lower(v) for v in text.iloc[pos].to_numpy(dtype=object)]
        t = pd.Series(vals, index=t.index, dtype=t.dtype, name=t.name)
        # the separators among the non-ASCII characters present
        seps |= {c for c in set("".join(vals[pos])) if not c.isascii() and _separator(c)}
    t = t.str.replace("%", " persen ", regex=False)
    return t.str.replace(_char_class(seps) + "+", " ", regex=True).str.strip(" ")


def missing_mask(s: pd.Series, markers: Iterable[str]) -> pd.Series:
    """True where a cell holds no value: empty, NA, or a missing marker (``-``, ``n/a``...)."""
    text = text_cells(s)
    markers = list(markers)
    is_marker = on_uniques(text, lambda u: squeeze(u).str.lower().isin(markers).to_frame())
    return (text.isna() & value_cells(s).isna()) | is_marker.iloc[:, 0].fillna(False).astype(bool)


def display(s: pd.Series) -> pd.Series:
    """Cells as a user would read them (for problem reports): text as written, 1234.0 -> 1234."""
    text = text_cells(s)
    other = value_cells(s)
    if other.notna().any():
        shown = other.astype(str).str.replace(r"\.0$", "", regex=True)
        shown = shown.str.replace(r" 00:00:00$", "", regex=True)
        text = text.fillna(shown.where(other.notna()))
    return text.fillna("")


_THOUSANDS_DOT = r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?"
_THOUSANDS_COMMA = r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?"
_AMBIG_DOT = r"[+-]?[1-9]\d{0,2}\.\d{3}"
_AMBIG_COMMA = r"[+-]?[1-9]\d{0,2},\d{3}"


def _normalise_number_text(t: pd.Series, decimal: str, count: bool) -> pd.Series:
    """Text numbers rewritten with ``.`` as decimal mark and no grouping; NA if not a number."""
    t = squeeze(t).str.replace(" ", "", regex=False).str.replace(r"%$", "", regex=True)
    out = pd.Series(np.nan, index=t.index, dtype="str")
    dot_groups = t.str.fullmatch(_AMBIG_DOT) & (count or decimal == ",")
    comma_groups = t.str.fullmatch(_AMBIG_COMMA) & (count or decimal == ".")
    plain = t.str.fullmatch(NUMBER_FORMAT)
    comma_dec = t.str.fullmatch(r"[+-]?\d+,\d+")
    rules = [  # first match wins
        (dot_groups, t.str.replace(".", "", regex=False)),
        (comma_groups, t.str.replace(",", "", regex=False)),
        (plain & ~t.str.fullmatch(_AMBIG_DOT), t),
        (comma_dec & ~t.str.fullmatch(_AMBIG_COMMA), t.str.replace(",", ".", regex=False)),
        (t.str.fullmatch(_AMBIG_DOT), t),  # decimal point file, not a count
        (t.str.fullmatch(_AMBIG_COMMA), t.str.replace(",", ".", regex=False)),
        (t.str.fullmatch(_THOUSANDS_DOT),
         t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)),
        (t.str.fullmatch(_THOUSANDS_COMMA), t.str.replace(",", "", regex=False)),
    ]
    done = pd.Series(False, index=t.index)
    for mask, val in rules:
        take = mask.fillna(False).astype(bool) & ~done
        out = out.where(~take, val)
        done |= take
    return out


def parse_numbers(s: pd.Series, decimal: str = ",", count: bool = False,
                  markers: Iterable[str] = ("", "-", "n/a")) -> pd.DataFrame:
    """Parse numbers; returns ``value`` (float, NaN when missing) and ``bad`` (unparseable).

    ``decimal`` is the file's decimal mark for text cells; ``count`` marks whole-number columns
    (the ambiguous ``1.234`` then groups thousands). See the module docstring for the rule.
    """
    missing = missing_mask(s, markers)
    text = text_cells(s).where(~missing)
    norm = on_uniques(text, lambda u: _normalise_number_text(u, decimal, count).to_frame())
    norm = norm.iloc[:, 0]
    from_text = pd.to_numeric(norm, errors="coerce")
    other = value_cells(s).where(~missing)
    from_cell = (pd.to_numeric(other, errors="coerce").astype("float64")
                 if other.notna().any() else pd.Series(np.nan, index=s.index))
    value = from_text.fillna(from_cell).astype("float64")
    bad = ~missing & value.isna()
    return pd.DataFrame({"value": value, "bad": bad}, index=s.index)


_YEAR = r"^(?:tahun|thn\.?|th\.?)?\s*((?:19|20)\d{2})$"


def _whole_numbers(s: pd.Series, pattern: str, markers: Iterable[str]) -> pd.DataFrame:
    """Whole numbers written as text matching ``pattern`` (group 1 is the number) or as
    numeric cells (Excel's ``2023.0``): ``value`` (Int64) and ``bad``."""
    missing = missing_mask(s, markers)
    text = text_cells(s).where(~missing)
    from_text = on_uniques(text, lambda u: squeeze(u).str.lower().str.extract(pattern)[[0]])
    from_text = pd.to_numeric(from_text.iloc[:, 0], errors="coerce")
    other = pd.to_numeric(value_cells(s).where(~missing), errors="coerce")
    other = other.where(other == other.round())
    value = from_text.fillna(other).astype("Float64").round().astype("Int64")
    return pd.DataFrame({"value": value, "bad": ~missing & value.isna()}, index=s.index)


def parse_years(s: pd.Series, markers: Iterable[str] = ("", "-")) -> pd.DataFrame:
    """Years from ``2023``, ``2023.0`` (Excel), ``Tahun 2023``, ``TH. 2023``: ``value``, ``bad``."""
    return _whole_numbers(s, _YEAR, markers)


def parse_title_year(title: str) -> int | None:
    """The first ``Tahun 2023`` (or ``TH 2023``) in title text, if any."""
    m = re.search(r"\b(?:tahun|thn|th)\.?\s*((?:19|20)\d{2})\b", normalise_text(title),
                  flags=re.IGNORECASE)
    return int(m.group(1)) if m else None


def parse_indicators(s: pd.Series, markers: Iterable[str] = ("", "-")) -> pd.DataFrame:
    """Indicator numbers from ``4``, ``4.0`` (Excel), ``Indikator 4``, ``Ind. 4``: ``value``, ``bad``."""
    return _whole_numbers(s, r"^(?:indikator|ind\.?)?\s*(\d{1,2})\.?$", markers)


def parse_question_numbers(s: pd.Series, markers: Iterable[str] = ("", "-")) -> pd.DataFrame:
    """Question numbers from ``3``, ``3.0`` (Excel), ``Pertanyaan 3``, ``P3``, ``No. 3``:
    ``value``, ``bad``."""
    return _whole_numbers(s, r"^(?:pertanyaan|soal|no\.?|p\.?)?\s*(\d{1,2})\.?$", markers)


def parse_item_codes(s: pd.Series, markers: Iterable[str] = ("", "-")) -> pd.DataFrame:
    """Evidence item codes ``4.1`` (text, ``4,1`` or an Excel number 4.1) as text: ``value``, ``bad``."""
    missing = missing_mask(s, markers)
    text = text_cells(s).where(~missing)
    other = value_cells(s).where(~missing)
    if other.notna().any():
        nums = pd.to_numeric(other, errors="coerce")
        text = text.fillna(nums.round(2).astype("str").where(nums.notna()))
    extracted = on_uniques(text, lambda u: squeeze(u).str.lower()
                           .str.replace(",", ".", regex=False)
                           .str.extract(r"^(?:kode\s*)?(\d{1,2})\.(\d{1,2})$"))
    value = (extracted[0].astype("Int64").astype("str") + "."
             + extracted[1].astype("Int64").astype("str"))
    value = value.where(extracted[0].notna() & extracted[1].notna())
    return pd.DataFrame({"value": value.astype("str"), "bad": ~missing & value.isna()},
                        index=s.index)


_MONTHS = {
    "januari": 1, "jan": 1, "january": 1, "februari": 2, "feb": 2, "pebruari": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6,
    "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7, "agustus": 8, "agu": 8, "agt": 8,
    "aug": 8, "august": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10,
    "oct": 10, "october": 10, "november": 11, "nov": 11, "nop": 11, "desember": 12, "des": 12,
    "dec": 12, "december": 12,
}


def _dates_from_text(u: pd.Series) -> pd.DataFrame:
    t = squeeze(u).str.lower()
    iso = t.str.extract(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")
    dmy = t.str.extract(r"^(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})$")
    named = t.str.extract(r"^(?P<day>\d{1,2})\s+(?P<month>[a-z]+)\.?\s+(?P<year>\d{4})$")
    named["month"] = named["month"].map(_MONTHS)
    parts = iso.fillna(dmy).fillna(named).apply(pd.to_numeric, errors="coerce")
    out = pd.to_datetime(parts[["year", "month", "day"]], errors="coerce")
    return out.to_frame("date")


def parse_dates(s: pd.Series, markers: Iterable[str] = ("", "-")) -> pd.DataFrame:
    """Dates from Excel date cells, ``2023-03-12``, ``12/03/2023`` (day first), ``12 Maret 2023``.

    Returns ``value`` (datetime64[s], NaT when missing) and ``bad``.
    """
    missing = missing_mask(s, markers)
    text = text_cells(s).where(~missing)
    from_text = on_uniques(text, _dates_from_text).iloc[:, 0]
    other = value_cells(s).where(~missing)
    if other.notna().any():
        nums = pd.to_numeric(other, errors="coerce")
        serial = pd.to_datetime(nums, unit="D", origin="1899-12-30", errors="coerce")
        stamps = pd.to_datetime(other.where(nums.isna()), errors="coerce")
        from_text = from_text.fillna(serial).fillna(stamps)
    value = pd.to_datetime(from_text).astype("datetime64[s]")
    return pd.DataFrame({"value": value, "bad": ~missing & value.isna()}, index=s.index)


def choice_key(s: pd.Series) -> pd.Series:
    """Key for allowed-value matching: lower case, ``_``/``-`` as spaces, spaces collapsed."""
    return (squeeze(s).str.lower().str.replace("[_\\- ]+", " ", regex=True)
            .str.strip(" "))


def choice_lookup(pairs: Iterable[tuple[str, object]]) -> dict[str, str]:
    """``choice_key`` of each written form -> its canonical value, from ``(canonical,
    written)`` pairs (a later pair wins a shared key), keyed in one vectorised pass (one
    pandas call per form made this a third of a small folder's validation)."""
    pairs = list(pairs)
    if not pairs:
        return {}
    keys = choice_key(pd.Series([str(v) for _, v in pairs]))
    return dict(zip(keys, (k for k, _ in pairs), strict=True))


def parse_choices(s: pd.Series, choices: dict[str, Iterable[str]],
                  markers: Iterable[str] = ("", "-")) -> pd.DataFrame:
    """Map written variants to canonical values (``Tidak  Ada`` -> ``tidak_ada``): ``value``, ``bad``."""
    lookup = choice_lookup((k, v) for k, vs in choices.items() for v in [k, *vs])
    missing = missing_mask(s, markers)
    text = display(s).where(~missing).astype("str")
    value = on_uniques(text, lambda u: choice_key(u).map(lookup).to_frame()).iloc[:, 0]
    value = value.astype("str")
    return pd.DataFrame({"value": value, "bad": ~missing & value.isna()}, index=s.index)


def clean_text(s: pd.Series, markers: Iterable[str] = ("", "-")) -> pd.Series:
    """Text with whitespace squeezed; NA for missing markers. Numbers shown as written."""
    missing = missing_mask(s, markers)
    shown = display(s).astype("str").where(~missing)
    return on_uniques(shown, lambda u: squeeze(u).to_frame()).iloc[:, 0].astype("str")


def _text_or_category(s: pd.Series) -> pd.Series:
    return s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("str")


_PREFIXES = r"^(?:kelurahan|kel|desa|ds|kecamatan|kec)\b\.?\s*"


def name_key(s: pd.Series) -> pd.Series:
    """Key for place-name matching: :func:`header_key` without ``Kel.``/``Kec.``/``Desa`` prefixes."""
    def name_keys(u: pd.Series) -> pd.Series:
        return keys(u).str.replace(_PREFIXES, "", regex=True).str.strip().to_frame()
    return on_uniques(_text_or_category(s), name_keys).iloc[:, 0]


def city_key(s: pd.Series) -> pd.Series:
    """Key for kab/kota names: ``Kab.``/``Kab`` read as ``Kabupaten``, case and spaces ignored."""
    def city_keys(u: pd.Series) -> pd.Series:
        return keys(u).str.replace(r"^kab\b", "kabupaten", regex=True).to_frame()
    return on_uniques(_text_or_category(s), city_keys).iloc[:, 0]


def closest(values: Iterable[str], candidates: Iterable[str], cutoff: float = 0.6) -> dict:
    """For each distinct value, the most similar candidate (or ``None``): used for hints only."""
    cands = sorted(set(candidates))
    return {v: next(iter(difflib.get_close_matches(v, cands, n=1, cutoff=cutoff)), None)
            for v in set(values)}
