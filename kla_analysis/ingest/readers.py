"""Read agency CSV and Excel files into tables of raw cells, keeping spreadsheet row numbers.

* CSV: decoded as UTF-8 (with or without BOM), else Windows-1252 (UTF-16 with a BOM too); the
  separator (``;``, ``,`` or tab) is sniffed; every cell stays text.
* Excel (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) through python-calamine; numeric and date
  cells keep their type; merged cells are filled with their top-left value; hidden sheets are
  skipped (templates keep their drop-down lists there).
* The header row is the row (or pair of rows, for merged two-row headers) whose cells match the
  most known headers of the dataset; title rows above it are kept as ``title`` (for a year
  written as "TAHUN 2023") and a column-numbering row ``(1) (2) ...`` under it is skipped.
* :func:`tidy_rows` then works on the stacked bodies of all tables of a dataset at once
  (vectorised, no per-file pandas overhead): blank rows are dropped, a note row (only one
  cell, starting "Sumber", "Keterangan", ...) ends its table, and total rows ("JUMLAH") are
  dropped.

Nothing here raises on bad input: problems come back as rows for the problems table.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .cleaning import keys, on_uniques, squeeze, text_cells
from .specs import IGNORE, DatasetSpec, Specs, header_key, header_targets

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
HEADER_SCAN_ROWS = 30


class ReadError(Exception):
    """A file that cannot be read at all; becomes one problem row."""

    def __init__(self, rule: str, value: str, hint: str, row: int | None = None):
        super().__init__(hint)
        self.rule, self.value, self.hint, self.row = rule, value, hint, row


@dataclass
class Sheet:
    """All cells of one sheet (or CSV file): row ``i`` of ``cells`` is spreadsheet row i + 1."""

    name: str
    cells: pd.DataFrame
    decimal: str
    merged: list = field(default_factory=list)  # ((r0, c0), (r1, c1)) 0-based, inclusive


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
        nums = pd.to_numeric(other, errors="coerce")
        same = nums.notna().sum() == other.notna().sum()
        out[VAL] = nums.astype("float64") if same else other.astype(object)
    return out


def problem(file: str, sheet: str = "", row: int | None = None, column: str = "",
            rule: str = "", value: object = "", hint: str = "") -> dict:
    return {"file": file, "sheet": sheet, "row": row, "column": column, "rule": rule,
            "value": "" if value is None else str(value), "hint": hint}


def list_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """Readable data files under ``folder`` (recursively, sorted) and unsupported ones.

    Hidden files, Excel lock files (``~$...``) and Markdown/README files are not data.
    """
    if not folder.is_dir():
        return [], []
    ok, other = [], []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith((".", "~$")) or p.suffix.lower() == ".md":
            continue
        (ok if p.suffix.lower() in EXCEL_SUFFIXES | CSV_SUFFIXES else other).append(p)
    return ok, other


# ---------------------------------------------------------------- decoding and raw cells


def decode_text(raw: bytes) -> str:
    """Text of a CSV file: UTF-16 (BOM), UTF-8 (optional BOM), else Windows-1252."""
    if raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ReadError("unreadable_file", "", "this is an Excel workbook saved with a text "
                        "extension; rename it to .xlsx (or .xls) or export it as CSV")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
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
    return Sheet("", cells, "," if sep == ";" else ".")


def read_excel_cells(path: Path) -> list[Sheet]:
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    if path.stat().st_size == 0:
        raise ReadError("empty_file", "", "the file is empty")
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = []
        for meta in wb.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible:
                continue
            sh = wb.get_sheet_by_name(meta.name)
            rows = sh.to_python(skip_empty_area=False)
            cells = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(dtype=object)
            sheets.append(Sheet(meta.name, cells, ",", list(sh.merged_cell_ranges or [])))
    except (CalamineError, ValueError, OSError) as err:
        raise ReadError("unreadable_file", "", f"not a readable Excel workbook ({err}); open it "
                        "in Excel and save it again as .xlsx") from None
    return sheets


def read_cells(path: Path) -> list[Sheet]:
    """Every visible sheet of ``path`` as raw cells. Raises :class:`ReadError`."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_excel_cells(path)
    return [read_csv_cells(path)]


# ---------------------------------------------------------------- locating the table


def fill_merged(cells: pd.DataFrame, merged: list, vertical_only: bool = False) -> pd.DataFrame:
    """Give every cell of a merged range its top-left value.

    With ``vertical_only`` only the first column of a range is filled downwards (a kecamatan
    merged over its kelurahan rows), so a note merged across the width stays one cell.
    """
    if not merged:
        return cells
    cells = cells.copy()
    nrows, ncols = cells.shape
    for (r0, c0), (r1, c1) in merged:
        if r0 < nrows and c0 < ncols:
            cols = slice(c0, c0 + 1) if vertical_only else slice(c0, c1 + 1)
            cells.iloc[r0:r1 + 1, cols] = cells.iat[r0, c0]
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
    header_row = start + nrows  # 1-based row number of the last header row
    title = " ".join(dict.fromkeys(t for row in texts[:start] for t in row if t))
    body = cells.iloc[header_row:]
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
    for pos, header in zip(cells.columns, headers, strict=True):
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
        if target == IGNORE or (target in spec.fields and spec.fields[target].label):
            tbl.labels.append(name)
        for suffix, part in split_cells(body[pos]).items():
            columns[name + suffix] = part.array
    tbl.data = pd.DataFrame(columns, index=body.index + 1)
    return tbl


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
        expected = ", ".join(f.header for f in spec.fields.values() if f.required)
        return problem(rel, sheets[0].name if len(sheets) == 1 else "", None, "", "no_header", "",
                       f"no row holds the headers expected for {spec.name} (e.g. {expected})")
    return tables
