"""Read agency CSV and Excel files into tables of raw cells, keeping spreadsheet row numbers.

* CSV: decoded as UTF-8 (with or without BOM), else Windows-1252 (UTF-16 with a BOM too); the
  separator (``;``, ``,`` or tab) is sniffed; every cell stays text.
  A C0 control character (NUL, ...; not tab, CR, LF) in a text file is a ``control_character``
  problem naming its cell; a file that is mostly such bytes is refused as binary.
* Excel (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) through python-calamine; numeric and date
  cells keep their type, booleans, times and durations stay Python objects (``True``,
  ``datetime.time``, ``datetime.timedelta``) so the validator can refuse them instead of
  reading TRUE as 1; merged cells are filled with their top-left value; hidden sheets are
  skipped (templates keep their drop-down lists there).
* Sheets are read by their used range: ``Sheet.cells`` is labelled by 0-based sheet row and
  column, so spreadsheet rows stay exact when the range does not start at A1, and a sheet
  wider than :data:`WIDE_SHEET` columns (a stray value in column XFD) keeps only the columns
  holding something instead of 16,384 mostly empty ones.
* Excel error cells (``#DIV/0!``, ``#N/A``, ... see :data:`EXCEL_ERRORS`): python-calamine 0.9
  returns them as empty text (dimastbk/python-calamine#105), so they would silently become
  "no data". For ``.xlsx``/``.xlsm`` they are recovered from the sheet XML (a byte scan for
  ``t="e"``, then a streaming parse of that sheet only) and for ``.ods`` from
  ``content.xml`` (LibreOffice marks them ``calcext:value-type="error"``), and put back as
  their literal text, so downstream sees ``#DIV/0!`` as a text cell (:func:`is_excel_error`).
  Limitation: in an ``.xls`` (Excel 97-2003) workbook an error cell still reads as empty --
  the binary BIFF format is not re-parsed here; save such a file as ``.xlsx``.
* The header row is the row (or pair of rows, for merged two-row headers) whose cells match the
  most known headers of the dataset; title rows above it are kept as ``title`` (for a year
  written as "TAHUN 2023") and a column-numbering row ``(1) (2) ...`` under it is skipped.
* :func:`tidy_rows` then works on the stacked bodies of all tables of a dataset at once
  (vectorised, no per-file pandas overhead): blank rows are dropped, a note row (only one
  cell, starting "Sumber", "Keterangan", ...) ends its table, and total rows ("JUMLAH") are
  dropped.
* A value under no header (a stray cell beside or far to the right of the table) is not part
  of the table: each such cell, in the rows under the header and above the first note row, is
  an ``outside_table`` problem naming the cell (``H12``), in :attr:`Table.problems`.

Nothing here raises on bad input: problems come back as rows for the problems table.
"""

from __future__ import annotations

import io
import operator
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

from ..chars import C0
from .cleaning import keys, on_uniques, squeeze, text_cells
from .guards import local_name, part_matches, system_file_kind, visible_sheet_parts
from .specs import IGNORE, DatasetSpec, Specs, header_key, header_targets

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
HEADER_SCAN_ROWS = 30
#: A used range wider than this many columns is read keeping only its non-empty columns.
WIDE_SHEET = 256
#: Cells listed per table for ``outside_table`` and ``control_character`` (then a count).
MAX_CELLS_LISTED = 50

#: The literal texts of Excel (and LibreOffice) error values.
EXCEL_ERRORS: frozenset[str] = frozenset({
    "#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
    "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#EXTERNAL!",
    "#PYTHON!", "Err:502", "Err:504", "Err:508", "Err:509", "Err:510", "Err:511", "Err:512",
    "Err:522", "Err:523",
})
_ERRORS_UPPER = frozenset(e.upper() for e in EXCEL_ERRORS)

# C0 control characters that cannot occur in text (tab, line feed, carriage return can).
_CONTROL_RE = re.compile(f"[{C0}]")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 11: "VT", 12: "FF", 26: "SUB", 27: "ESC"}
# Share of control bytes above which a "CSV" is binary data, not text with a stray byte.
BINARY_SHARE = 0.10


def is_excel_error(text: object) -> bool:
    """Whether ``text`` is the literal of an Excel error value (``#DIV/0!``, ``#N/A``...).

    >>> is_excel_error("#DIV/0!"), is_excel_error(" #n/a "), is_excel_error("#1")
    (True, True, False)
    """
    return isinstance(text, str) and text.strip().upper() in _ERRORS_UPPER


def column_letters(col: int) -> str:
    """Spreadsheet letters of a 0-based column: 0 -> A, 25 -> Z, 26 -> AA, 16383 -> XFD.

    (``openpyxl.utils.get_column_letter`` does the same, but importing it costs 0.12 s in
    every command that reads data, which otherwise never loads openpyxl.)"""
    out, n = "", col + 1
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def cell_ref(row: int, col: int) -> str:
    """A cell's reference from its 1-based spreadsheet row and 0-based column.

    >>> cell_ref(6, 7), cell_ref(1, 26), cell_ref(10, 16383)
    ('H6', 'AA1', 'XFD10')
    """
    return f"{column_letters(col)}{row}"


_REF_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def parse_ref(ref: str) -> tuple[int, int] | None:
    """(0-based row, 0-based column) of a reference such as ``H6``; None if it is not one."""
    m = _REF_RE.match(ref or "")
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


class ReadError(Exception):
    """A file that cannot be read at all; becomes one problem row."""

    def __init__(self, rule: str, value: str, hint: str, row: int | None = None):
        super().__init__(hint)
        self.rule, self.value, self.hint, self.row = rule, value, hint, row


@dataclass
class Sheet:
    """The used cells of one sheet (or CSV file).

    ``cells`` is labelled by 0-based sheet position: the row labelled ``i`` is spreadsheet row
    i + 1 (labels are consecutive but need not start at 0), the column labelled ``j`` is sheet
    column j (``A`` = 0; labels are increasing, not necessarily consecutive for wide sheets).
    """

    name: str
    cells: pd.DataFrame
    decimal: str
    merged: list = field(default_factory=list)  # ((r0, c0), (r1, c1)) 0-based, inclusive
    control: bool = False  # some cell may hold a C0 control character (checked per cell)


@dataclass
class Table:
    """The body of one table (rows under the header; index = spreadsheet row).

    Columns: the dataset's field names (``m:<measure>:<role>`` for wide statistics), ``_i<n>``
    for known columns to skip and ``_u<n>`` for unknown columns (both kept until blank, note and
    total rows are found, see :func:`tidy_rows`). Every column is ``str``; Excel numbers and
    dates sit in an extra ``<column>#v`` object column.
    """

    file: str
    sheet: str
    header_row: int
    title: str
    decimal: str
    data: pd.DataFrame
    headers: dict[str, str]  # column -> header as written in the file
    labels: list[str] = field(default_factory=list)  # columns that may say "JUMLAH"
    constants: dict[str, str] = field(default_factory=dict)  # field -> value for every row
    problems: list[dict] = field(default_factory=list)
    #: column (field, ``_i<n>``, ``_u<n>``) -> its 0-based sheet column, for :func:`cell_ref`
    positions: dict[str, int] = field(default_factory=dict)

    def cell(self, row: int, name: str) -> str:
        """Reference (``H6``) of the cell of column ``name`` in spreadsheet row ``row``."""
        return cell_ref(row, self.positions[name])


VAL = "#v"  # suffix of the column holding a column's non-text Excel cells
NOTE_PREFIX = "_"  # _i<n> / _u<n>: columns kept only to recognise blank, note and total rows


def split_cells(s: pd.Series) -> dict[str, pd.Series]:
    """A column as ``{"": text cells (str)}`` plus ``{VAL: numbers/dates}`` when there are any."""
    if isinstance(s.dtype, pd.StringDtype):
        return {"": s}
    text = text_cells(s)
    out = {"": text}
    if s.dtype != object or text.isna().all():
        other = s if s.dtype != object else s.where(s.notna())
    else:
        other = s.where(text.isna().to_numpy() & s.notna().to_numpy())
    if other.notna().any():
        # numbers become float64; anything else (dates, and booleans, times and durations,
        # which to_numeric would read as 1.0 or seconds) stays as the Python objects
        kind = pd.api.types.infer_dtype(other, skipna=True)
        if kind in ("floating", "integer", "mixed-integer-float", "decimal"):
            out[VAL] = pd.to_numeric(other, errors="coerce").astype("float64")
        else:
            out[VAL] = other.astype(object)
    return out


def problem(file: str, sheet: str = "", row: int | None = None, column: str = "",
            rule: str = "", value: object = "", hint: str = "") -> dict:
    return {"file": file, "sheet": sheet, "row": row, "column": column, "rule": rule,
            "value": "" if value is None else str(value), "hint": hint}


class Listing(tuple):
    """``(data files, unsupported files)`` -- unpacks as the pair it always was -- plus
    ``ignored``: system files (``Thumbs.db``, ``.DS_Store``, ``~$`` owner files, lock files,
    hidden files) that are skipped with a notice (:func:`ignored_notice`)."""

    ignored: list[Path]

    def __new__(cls, files: list[Path], other: list[Path], ignored: list[Path]) -> Listing:
        self = super().__new__(cls, (files, other))
        self.ignored = ignored
        return self

    @property
    def files(self) -> list[Path]:
        return self[0]

    @property
    def other(self) -> list[Path]:
        return self[1]


def list_files(folder: Path) -> Listing:
    """Readable data files under ``folder`` (recursively, sorted), unsupported ones and (as
    ``.ignored``) system files.

    System files (:func:`kla_analysis.ingest.guards.system_file_kind`: ``Thumbs.db``,
    ``desktop.ini``, ``.DS_Store``, ``._*``, ``~$...``, ``.~lock.*#``, hidden files and
    folders, ``__MACOSX/``) are not data; Markdown/README files are documentation, skipped
    silently.
    """
    if not folder.is_dir():
        return Listing([], [], [])
    ok, other, ignored = [], [], []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if system_file_kind(p.relative_to(folder)):
            ignored.append(p)
        elif p.suffix.lower() == ".md":
            continue
        else:
            (ok if p.suffix.lower() in EXCEL_SUFFIXES | CSV_SUFFIXES else other).append(p)
    return Listing(ok, other, ignored)


def ignored_notice(path: Path, raw_dir: Path) -> str:
    """The one-line notice for a skipped system file (see :class:`Listing`)."""
    rel = path.relative_to(raw_dir).as_posix() if path.is_relative_to(raw_dir) else str(path)
    kind = system_file_kind(path.relative_to(raw_dir) if path.is_relative_to(raw_dir)
                            else Path(path.name)) or "a system file"
    return f"ignored {rel}: {kind}, not data"


# ---------------------------------------------------------------- decoding and raw cells


def is_binary(raw: bytes, sample: int = 1 << 16) -> bool:
    """Whether a file is mostly binary: more than :data:`BINARY_SHARE` of its first bytes are
    C0 control bytes (NUL ...; not tab, CR, LF). UTF-16 text without a byte-order mark is
    half NULs. A text file with a stray NUL is not binary: its cell is reported instead."""
    head = raw[:sample]
    if not head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return control > BINARY_SHARE * len(head)


def decode_text(raw: bytes) -> str:
    """Text of a CSV file: UTF-16 (BOM), UTF-8 (optional BOM), else Windows-1252."""
    if raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ReadError("unreadable_file", "", "this is an Excel workbook saved with a text "
                        "extension; rename it to .xlsx (or .xls) or export it as CSV")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    if is_binary(raw):
        raise ReadError("unreadable_file", "", "binary content (NUL bytes), not a text CSV "
                        "file; if it is Unicode (UTF-16) text without a byte-order mark, save "
                        "it again as 'CSV UTF-8' from Excel")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as err:
        raise ReadError("unreadable_file", f"byte {raw[err.start:err.start + 1]!r}",
                        "the file is neither UTF-8 nor Windows-1252 text; save it again as "
                        "'CSV UTF-8' from Excel", row=raw.count(b"\n", 0, err.start) + 1) from None


def sniff_delimiter(text: str, sample_lines: int = 50) -> str:
    """``;``, ``,`` or tab: the highest lower-median count per line over the first non-empty
    lines (a separator is on every line; a decimal comma only on some), then the highest
    total; ``,`` on a tie."""
    lines = [ln for ln in text.splitlines()[: sample_lines * 2] if ln.strip()][:sample_lines]
    best, best_score = ",", (-1, -1)
    for sep in (",", ";", "\t"):
        counts = sorted(ln.count(sep) for ln in lines)
        score = (counts[(len(counts) - 1) // 2], sum(counts)) if counts else (0, 0)
        if score > best_score:
            best, best_score = sep, score
    return best


def read_csv_cells(path: Path) -> Sheet:
    raw = path.read_bytes()
    if not raw.strip():
        raise ReadError("empty_file", "", "the file is empty")
    if raw.endswith(b"\x1a"):  # the end-of-file mark of old DOS programs
        raw = raw[:-1]
    text = decode_text(raw)
    if not text.strip():
        raise ReadError("empty_file", "", "the file holds no text")
    sep = sniff_delimiter(text)
    body = text.encode("utf-8")
    arr = np.frombuffer(body, dtype=np.uint8)
    starts = np.concatenate([[0], np.flatnonzero(arr == 10) + 1])
    starts = starts[starts < len(arr)]
    per_line = np.add.reduceat((arr == ord(sep)).astype(np.int32), starts) if len(starts) else [0]
    ncols = int(np.max(per_line)) + 1
    try:
        cells = pd.read_csv(io.StringIO(text), sep=sep, header=None, names=range(ncols),
                            dtype=str, keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, index_col=False, quotechar='"',
                            engine="c")
    except (pd.errors.ParserError, ValueError) as err:
        quote = re.search(r"EOF inside string starting at row (\d+)", str(err))
        if quote:  # pandas counts lines from 0
            raise ReadError("unreadable_file", '"', "a quote (\") opened in this row is never "
                            "closed; remove it or close it", row=int(quote.group(1)) + 1) from None
        raise ReadError("unreadable_file", "", f"not a valid CSV table: {err}") from None
    control = _CONTROL_RE.search(text) is not None
    return Sheet("", cells, "," if sep == ";" else ".", control=control)


def read_excel_cells(path: Path) -> list[Sheet]:
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    if path.stat().st_size == 0:
        raise ReadError("empty_file", "", "the file is empty")
    errors = excel_error_cells(path)
    try:
        try:
            return _read_workbook(CalamineWorkbook.from_path(str(path)), errors,
                                  SheetVisibleEnum)
        except CalamineError as err:
            # calamine 0.9 knows the seven classic errors only: a newer one (#SPILL!, #CALC!,
            # #GETTING_DATA, ...) makes the whole sheet unreadable; read a copy in which they
            # say #VALUE! and put the real text back from the scan
            literals = {t for found in errors.values() for _, _, t in found} - CALAMINE_ERRORS
            if "error value" not in str(err) or not literals:
                raise
            copy = _with_known_errors(path, literals)
            return _read_workbook(CalamineWorkbook.from_filelike(copy), errors,
                                  SheetVisibleEnum)
    except (CalamineError, ValueError, OSError, zipfile.BadZipFile) as err:
        raise ReadError("unreadable_file", "", f"not a readable Excel workbook ({err}); open it "
                        "in Excel and save it again as .xlsx") from None


def _read_workbook(wb, errors: dict, visible_enum) -> list[Sheet]:
    sheets = []
    for meta in wb.sheets_metadata:
        if meta.visible != visible_enum.Visible:
            continue
        sh = wb.get_sheet_by_name(meta.name)
        merged = list(sh.merged_cell_ranges or [])
        cells = sheet_frame(sh, merged, errors.get(meta.name, ()))
        sheets.append(Sheet(meta.name, cells, ",", merged))
    return sheets


# The error values python-calamine 0.9 reads (as ''); any other makes the sheet unreadable.
CALAMINE_ERRORS = frozenset({"#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!",
                             "#NULL!"})


def _with_known_errors(path: Path, literals: set[str]) -> io.BytesIO:
    """An in-memory copy of an .xlsx whose error values in ``literals`` read ``#VALUE!``."""
    pattern = re.compile(rb"(<(?:[\w.-]+:)?v>)\s*(?:"
                         + b"|".join(re.escape(t.encode()) for t in sorted(literals))
                         + rb")\s*(</(?:[\w.-]+:)?v>)")
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        parts = set(visible_sheet_parts(src)) | {
            n for n in src.namelist() if n.startswith("xl/worksheets/")}
        for info in src.infolist():
            data = src.read(info)
            if info.filename in parts:
                data = pattern.sub(rb"\1#VALUE!\2", data)
            dst.writestr(info, data)
    out.seek(0)
    return out


def sheet_frame(sh, merged: list, errors=()) -> pd.DataFrame:
    """The used range of a calamine sheet as a frame labelled by 0-based sheet row and column.

    ``errors`` -- ``(row, col, text)`` of error cells, which calamine reads as empty -- are put
    back as their text. A range wider than :data:`WIDE_SHEET` columns keeps only the columns
    holding a value (plus those of merged ranges within the first :data:`WIDE_SHEET`).
    """
    rows = sh.to_python(skip_empty_area=True)
    start = sh.start
    errors = list(errors)
    if not rows or start is None:
        if not errors:
            return pd.DataFrame(dtype=object)
        rows, start = [[""]], (errors[0][0], errors[0][1])
    r0, c0 = start
    width = max(len(r) for r in rows)
    if width <= WIDE_SHEET:
        cells = pd.DataFrame(rows, dtype=object)
        cells.columns = range(c0, c0 + cells.shape[1])
    else:
        keep = _used_columns(rows)
        for (_, a), (_, b) in merged:  # merged headers near the table stay whole
            keep.update(range(max(a - c0, 0), min(b - c0, WIDE_SHEET - 1, width - 1) + 1))
        keep.update(c - c0 for _, c, _ in errors if 0 <= c - c0 < width)
        cols = sorted(keep) or [0]
        pick = operator.itemgetter(*cols)
        data = [pick(r) for r in rows] if len(cols) > 1 else [(pick(r),) for r in rows]
        cells = pd.DataFrame(data, columns=[c0 + c for c in cols], dtype=object)
    cells.index = range(r0, r0 + len(cells))
    for r, c, text in errors:
        if r not in cells.index or c not in cells.columns:  # outside calamine's range
            cells = cells.reindex(index=range(min(r0, r), max(r0 + len(cells), r + 1)),
                                  columns=sorted({*cells.columns, c}), fill_value="")
            r0 = cells.index[0]
        cells.at[r, c] = text
    return cells


def _used_columns(rows: list[list]) -> set[int]:
    """Positions of the columns holding any non-empty cell (calamine's empty cell is '')."""
    used: set[int] = set()
    for row in rows:
        n = len(row) - row.count("")
        if not n:
            continue
        head = row[:WIDE_SHEET]
        in_head = len(head) - head.count("")
        if in_head:
            used.update(np.flatnonzero(np.array(head, dtype=object) != "").tolist())
        if in_head < n:  # something further right: look at the rest of this row only
            tail = np.array(row[WIDE_SHEET:], dtype=object)
            used.update((np.flatnonzero(tail != "") + WIDE_SHEET).tolist())
    return used


# ---------------------------------------------------------------- Excel error cells

_XLSX_ERROR = re.compile(rb"""\bt\s*=\s*["']e["']""")
_ODS_ERROR = re.compile(rb"""value-type\s*=\s*["']error["']""")


def excel_error_cells(path: Path) -> dict[str, list[tuple[int, int, str]]]:
    """Sheet name -> ``(row, col, text)`` (0-based) of the error cells of an .xlsx/.xlsm/.ods
    (``{}`` for other files, when there is none, or when the file is not a readable zip: the
    reader reports that). Streaming, and a sheet is parsed only if a byte scan finds an error
    marker in it, so ordinary files cost one scan."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".ods"):
        return {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if suffix == ".ods":
                if "content.xml" in names and part_matches(zf, "content.xml", _ODS_ERROR):
                    return _ods_errors(zf)
                return {}
            out = {}
            for part, sheet in visible_sheet_parts(zf).items():
                if part in names and part_matches(zf, part, _XLSX_ERROR):
                    found = list(_xlsx_errors(zf, part))
                    if found:
                        out[sheet] = found
            return out
    except (zipfile.BadZipFile, ET.ParseError, OSError, EOFError, KeyError, ValueError):
        return {}


def _xlsx_errors(zf: zipfile.ZipFile, part: str):
    """(row, col, text) of every ``<c t="e"><v>#DIV/0!</v></c>`` of a worksheet part
    (cells and rows without an ``r`` attribute follow the previous one, as in the format)."""
    row, col = -1, -1
    with zf.open(part) as fh:
        for event, el in ET.iterparse(fh, events=("start", "end")):
            tag = local_name(el.tag)
            if event == "start":
                if tag == "row":
                    r = el.get("r")
                    row, col = (int(r) - 1 if r and r.isdigit() else row + 1), -1
                continue
            if tag == "c":
                pos = parse_ref(el.get("r", ""))
                row, col = pos if pos else (row, col + 1)
                if el.get("t") == "e":
                    v = next((ch.text for ch in el if local_name(ch.tag) == "v"), None)
                    yield row, col, (v or "#VALUE!").strip()
                el.clear()
            elif tag == "row":
                el.clear()


_ODS_NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
           "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0"}


def _ods_errors(zf: zipfile.ZipFile) -> dict[str, list[tuple[int, int, str]]]:
    """Error cells of an .ods: LibreOffice writes them as empty strings marked
    ``calcext:value-type="error"`` with the error text in the cell's paragraph."""
    t_ns, rep_rows = _ODS_NS["table"], f"{{{_ODS_NS['table']}}}number-rows-repeated"
    rep_cols = f"{{{t_ns}}}number-columns-repeated"
    out: dict[str, list[tuple[int, int, str]]] = {}
    sheet, row, col, depth = None, -1, 0, 0
    with zf.open("content.xml") as fh:
        for event, el in ET.iterparse(fh, events=("start", "end")):
            tag = local_name(el.tag)
            if event == "start":
                if tag == "table" and el.tag == f"{{{t_ns}}}table":
                    depth += 1
                    if depth == 1:
                        sheet, row = el.get(f"{{{t_ns}}}name", ""), -1
                elif tag == "table-row" and depth == 1:
                    row, col = row + 1, 0
                continue
            if depth != 1:
                if tag == "table" and el.tag == f"{{{t_ns}}}table":
                    depth -= 1
                continue
            if tag in ("table-cell", "covered-table-cell"):
                n = int(el.get(rep_cols, "1") or 1)
                kind = next((v for k, v in el.attrib.items() if local_name(k) == "value-type"
                             and not k.startswith(f"{{{_ODS_NS['office']}}}")), None)
                if kind == "error" and sheet is not None:
                    text = " ".join("".join(p.itertext()) for p in el
                                    if local_name(p.tag) == "p").strip() or "#VALUE!"
                    out.setdefault(sheet, []).extend((row, col + i, text) for i in range(n))
                col += n
                el.clear()
            elif tag == "table-row":
                row += int(el.get(rep_rows, "1") or 1) - 1
                el.clear()
            elif tag == "table" and el.tag == f"{{{t_ns}}}table":
                depth -= 1
                el.clear()
    return out


def read_cells(path: Path) -> list[Sheet]:
    """Every visible sheet of ``path`` as raw cells. Raises :class:`ReadError`."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_excel_cells(path)
    return [read_csv_cells(path)]


# ---------------------------------------------------------------- locating the table


def fill_merged(cells: pd.DataFrame, merged: list, vertical_only: bool = False) -> pd.DataFrame:
    """Give every cell of a merged range its top-left value.

    ``cells`` is labelled by sheet position (see :class:`Sheet`); ``merged`` holds sheet
    positions. With ``vertical_only`` only the first column of a range is filled downwards (a
    kecamatan merged over its kelurahan rows), so a note merged across the width stays one cell.
    """
    if not merged or cells.empty:
        return cells
    cells = cells.copy()
    first = int(cells.index[0])
    labels = np.asarray(cells.columns, dtype="int64")
    nrows = len(cells)
    for (r0, c0), (r1, c1) in merged:
        top = r0 - first
        j = int(np.searchsorted(labels, c0))
        if not (0 <= top < nrows) or j >= len(labels) or labels[j] != c0:
            continue
        hi = j + 1 if vertical_only else int(np.searchsorted(labels, c1, side="right"))
        cells.iloc[top:r1 - first + 1, j:hi] = cells.iat[top, j]
    return cells


def _header_texts(rows: pd.DataFrame) -> list[list[str]]:
    """Cells of the first rows as trimmed text ('' for empty), as plain lists (few rows)."""
    def text(v: object) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return " ".join(str(v).split())
    return [[text(v) for v in row] for row in rows.to_numpy(dtype=object).tolist()]


def two_row_headers(top: list[str], bottom: list[str]) -> list[str]:
    """Headers of a two-row header: "top / bottom", top carried right over merged blanks."""
    out, last = [], ""
    for t, b in zip(top, bottom, strict=True):
        last = t or last
        if not t and b:
            t = last
        out.append(f"{t} / {b}" if t and b and t != b else (t or b))
    return out


def find_header(texts: list[list[str]], targets: dict[str, str]) -> tuple[int, int, list] | None:
    """(first header row index, number of header rows, header texts) or None if no header.

    The header is the row, or pair of rows, matching the most known headers (at least two, one
    of them a data field); ties go to the earlier row and to the single-row reading.
    """
    best = None
    for i, row in enumerate(texts):
        options = [(1, row)]
        if i + 1 < len(texts):
            options.append((2, two_row_headers(row, texts[i + 1])))
        for n, headers in options:
            hits = [targets.get(header_key(h)) for h in headers if h]
            total = sum(h is not None for h in hits)
            real = sum(h is not None and h != IGNORE for h in hits)
            if real >= 1 and total >= 2 and (best is None or total > best[0]):
                best = (total, i, n, headers)
    return None if best is None else best[1:]


def locate_table(sheet: Sheet, file: str, spec: DatasetSpec, specs: Specs) -> Table | None:
    """The dataset's table in ``sheet``; None when no header row is recognised."""
    targets = header_targets(spec)
    scan = fill_merged(sheet.cells.iloc[:HEADER_SCAN_ROWS], sheet.merged)
    cells = fill_merged(sheet.cells, sheet.merged, vertical_only=True)
    texts = _header_texts(scan)
    found = find_header(texts, targets)
    if found is None:
        return None
    start, nrows, headers = found
    header_row = int(cells.index[start + nrows - 1]) + 1  # spreadsheet row of the last one
    title = " ".join(dict.fromkeys(t for row in texts[:start] for t in row if t))
    body = cells.iloc[start + nrows:]
    # numbering row "(1) (2) (3)" right under the header
    if len(body):
        first = [t for t in _header_texts(body.iloc[:1])[0] if t]
        nums = [int(m.group(1)) for t in first if (m := re.fullmatch(r"\(?(\d{1,2})\)?", t))]
        if len(first) >= 2 and len(nums) == len(first) and nums == list(
                range(nums[0], nums[0] + len(nums))):
            body = body.iloc[1:]
    tbl = Table(file=file, sheet=sheet.name, header_row=header_row, title=title,
                decimal=sheet.decimal, data=pd.DataFrame(), headers={})
    columns = {}
    headerless = []
    for pos, header in zip(cells.columns, headers, strict=True):
        if not header:  # no header: not part of the table (see outside_problems)
            headerless.append(pos)
            continue
        target = targets.get(header_key(header))
        if target is None or target == IGNORE:
            name = f"_{'i' if target else 'u'}{pos}"
        elif target in tbl.headers:
            tbl.problems.append(problem(
                file, sheet.name, header_row, header, "duplicate_column", header,
                f"column '{tbl.headers[target]}' already holds {target}; keep one of them"))
            continue
        else:
            name = target
        tbl.headers[name] = header
        tbl.positions[name] = int(pos)
        if target == IGNORE or (target in spec.fields and spec.fields[target].label):
            tbl.labels.append(name)
        for suffix, part in split_cells(body[pos]).items():
            columns[name + suffix] = part.array
    tbl.data = pd.DataFrame(columns, index=body.index + 1)
    if headerless:
        tbl.problems += outside_problems(tbl, body, headerless, specs)
    if sheet.control:
        tbl.problems += control_problems(tbl, sheet.cells, dict(zip(cells.columns, headers,
                                                                    strict=True)))
    return tbl


def _filled(frame: pd.DataFrame) -> pd.DataFrame:
    """Which cells of ``frame`` hold something (not empty, not only spaces)."""
    out = {}
    for c in frame.columns:
        s = frame[c]
        text = s.astype(object).where(s.notna(), "").astype("str")
        out[c] = (text.str.strip() != "").to_numpy(bool)
    return pd.DataFrame(out, index=frame.index)


def _shown(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(v))


def _listed(tbl: Table, found: list[tuple[int, int, dict]], rule: str, what: str) -> list[dict]:
    """The problems of ``found`` ((row, col, problem) in sheet order), at most
    :data:`MAX_CELLS_LISTED` and then one row counting the rest."""
    found.sort(key=lambda x: (x[0], x[1]))
    out = [p for _, _, p in found[:MAX_CELLS_LISTED]]
    if len(found) > MAX_CELLS_LISTED:
        out.append(problem(tbl.file, tbl.sheet, None, "", rule,
                           f"{len(found) - MAX_CELLS_LISTED} more cells",
                           f"only the first {MAX_CELLS_LISTED} cells {what} are listed"))
    return out


def outside_problems(tbl: Table, body: pd.DataFrame, headerless: list, specs: Specs
                     ) -> list[dict]:
    """An ``outside_table`` problem per non-empty cell of a column without a header, in the
    body rows above the first note row (a note or signature block below the table may sit
    anywhere)."""
    filled = _filled(body[headerless])
    if not filled.to_numpy().any():
        return []
    rows = filled.index[filled.any(axis=1).to_numpy()]
    # the first note row: one cell only, starting "Sumber", "Keterangan", ...
    every = _filled(body)
    single = every.index[every.sum(axis=1).to_numpy() == 1]
    cut = None
    for r in single:  # few rows: notes, stray cells, the odd one-cell row
        v = body.loc[r].to_numpy(dtype=object)[every.loc[r].to_numpy()][0]
        if " ".join(str(v).split()).lower().startswith(specs.note_prefixes):
            cut = r
            break
    found = []
    for r in rows:
        if cut is not None and r >= cut:
            break
        for c in filled.columns[filled.loc[r].to_numpy()]:
            ref = cell_ref(int(r) + 1, int(c))
            found.append((int(r), int(c), problem(
                tbl.file, tbl.sheet, int(r) + 1, "", "outside_table", _shown(body.at[r, c]),
                f"cell {ref} holds data outside the table (no header above it); delete it or "
                "give its column a header")))
    return _listed(tbl, found, "outside_table", "outside the table")


def control_problems(tbl: Table, cells: pd.DataFrame, headers: dict) -> list[dict]:
    """A ``control_character`` problem per cell (header and title rows included) holding a C0
    control character (NUL, ...), which no text can contain: usually a broken export."""
    found = []
    for c in cells.columns:
        s = cells[c]
        text = s.where(s.map(lambda v: isinstance(v, str)), "").astype("str") \
            if s.dtype == object else s.astype("str")
        hit = text.str.contains(_CONTROL_RE.pattern, regex=True).fillna(False).to_numpy(bool)
        for r in cells.index[hit]:
            v = str(cells.at[r, c])
            codes = sorted({ord(ch) for ch in _CONTROL_RE.findall(v)})
            names = ", ".join(f"\\x{n:02x}" + (f" ({_CONTROL_NAMES[n]})" if n in _CONTROL_NAMES
                                               else "") for n in codes)
            ref = cell_ref(int(r) + 1, int(c))
            column = headers.get(c, "") if r >= tbl.header_row else ""
            found.append((int(r), int(c), problem(
                tbl.file, tbl.sheet, int(r) + 1, column, "control_character", _shown(v),
                f"cell {ref} holds the control character {names}, which text cannot "
                "contain (often left by a broken export); delete it: retype the cell and "
                "save the file again")))
    return _listed(tbl, found, "control_character", "with control characters")


def tidy_rows(frame: pd.DataFrame, labels: list[str], specs: Specs) -> tuple[np.ndarray,
                                                                           pd.DataFrame]:
    """Drop blank rows, note rows (and the rows under the first note of a table) and total
    rows from the concatenated bodies of many tables (``_t`` = table id, ``source_row``).

    Returns a mask of the data rows and, per table, which ``_u<n>`` (unknown) columns hold
    data. The caller drops the ``_i``/``_u`` helper columns.
    """
    cols = [c for c in frame.columns if c not in ("_t", "source_row")]

    def is_blank(c: str) -> np.ndarray:
        s = frame[c]
        if c.endswith(VAL):
            return s.isna().to_numpy(bool)
        return (s.isna() | (s == "") | s.str.isspace()).fillna(True).to_numpy(bool)

    blank = pd.DataFrame({c: is_blank(c) for c in cols}, index=frame.index)
    filled = (~blank).sum(axis=1)
    keep = (filled > 0).to_numpy().copy()
    single = frame.index[filled == 1]
    text_cols = [c for c in cols if not c.endswith(VAL)]
    if len(single) and text_cols:
        sub = frame.loc[single, text_cols].where(~blank.loc[single, text_cols])
        first = sub.bfill(axis=1).iloc[:, 0]
        low = squeeze(first.astype("str")).str.lower()
        notes = frame.loc[low.index[low.str.startswith(specs.note_prefixes).fillna(False)
                                    .astype(bool)]]
        if len(notes):
            first_note = notes.groupby("_t")["source_row"].min()
            cut = frame["_t"].map(first_note)
            keep &= ~(frame["source_row"] >= cut).fillna(False).to_numpy(bool)
    for c in labels:
        if c in frame:
            is_total = on_uniques(frame[c], lambda u: keys(u).isin(specs.total_labels).to_frame())
            keep &= ~is_total.iloc[:, 0].fillna(False).to_numpy(bool)
    unknown = [c for c in cols if c.startswith("_u")]
    has_data = (~blank.loc[keep, unknown]).groupby(frame["_t"].to_numpy()[keep]).any()
    return keep, has_data


def tidy_table(tbl: Table, specs: Specs) -> tuple[pd.DataFrame, list[str]]:
    """One table's data rows (index = spreadsheet row) and its unknown headers holding data."""
    frame = tbl.data.assign(_t=0, source_row=tbl.data.index.to_numpy())
    keep, has_data = tidy_rows(frame, tbl.labels, specs)
    unknown = [tbl.headers[c] for c in has_data.columns if has_data[c].any()]
    kept = frame.loc[keep, [c for c in frame.columns if not c.startswith(("_i", "_u"))]]
    return kept.set_index("source_row").drop(columns="_t").rename_axis(None), unknown


def read_tables(path: Path, raw_dir: Path, spec: DatasetSpec, specs: Specs) -> list[Table] | dict:
    """The dataset's tables in one file, or a problem dict if the file cannot be used."""
    rel = path.relative_to(raw_dir).as_posix()
    try:
        sheets = read_cells(path)
    except ReadError as err:
        return problem(rel, "", err.row, "", err.rule, err.value, err.hint)
    if not sheets or all(s.cells.empty for s in sheets):
        return problem(rel, "", None, "", "empty_file", "", "the file holds no cells")
    tables = [t for s in sheets if (t := locate_table(s, rel, spec, specs)) is not None]
    if not tables:
        expected = ", ".join(f.header for f in spec.fields.values()
                             if f.required or f.required_unless)
        return problem(rel, sheets[0].name if len(sheets) == 1 else "", None, "", "no_header", "",
                       f"no row holds the headers expected for {spec.name} (e.g. {expected})")
    return tables
