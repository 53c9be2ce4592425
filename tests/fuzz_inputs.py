"""Hypothesis strategies and oracles for the input fuzzer (``tests/test_fuzz_inputs.py``).

A case starts from the minimal valid raw folder of the bad-input corpus
(``tests/fixtures/bad_inputs/base/raw``), rewrites ONE dataset's file as CSV or XLSX and
replaces a few of its cells by values drawn from every cell type (number, text, boolean,
date, duration, Excel error, empty) and from hostile text (Unicode forms, control and
bidirectional characters, formula prefixes, markup, very long strings, numbers in
Indonesian and English formats). Each drawn value carries what a person would read in it:

- ``Expect.BAD``: no reading is right (TRUE in a points column, ``#DIV/0!``, a control
  character, a place with an emoji): the validator must report a problem at that cell;
- ``Expect.VALUE``: a person reads one value (``"1.234,5"`` in a decimal-comma file is
  1234.5): either the processed table holds exactly it, or the validator reports the cell;
- ``Expect.TEXT``: free text (a title, an OPD): it arrives as written (NFC, spaces
  trimmed and collapsed), or the cell is reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from hypothesis import strategies as st

BASE = Path(__file__).parent / "fixtures" / "bad_inputs" / "base" / "raw"


class Expect(Enum):
    BAD = "bad"
    VALUE = "value"
    TEXT = "text"


@dataclass(frozen=True)
class Cell:
    """A drawn cell: what is written (Python value for XLSX; ``csv`` text for CSV) and what
    a person would read in it."""

    value: object
    expect: Expect
    reading: object = None
    #: For XLSX: write as an Excel error cell (``value`` is the error literal).
    error: bool = False

    def as_csv(self) -> str:
        v = self.value
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, dt.timedelta):
            return str(v)
        if isinstance(v, dt.date):
            return v.strftime("%d/%m/%Y")
        return "" if v is None else str(v)


EXCEL_ERRORS = ["#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x0b"]
BIDI = ["\u202e", "\u202d", "\u2066", "\u2067", "\u200f"]
SPACES = ["\u00a0", "\u202f", "\u2007", "\u3000", "\u200b", "\u2060", "\ufeff"]
EMOJI = ["🙂", "⭐", "✅", "🏫"]


def person_text(s: str) -> str:
    """Free text as a person reads it: NFC, zero-width characters gone, every run of spaces
    one space, trimmed."""
    s = unicodedata.normalize("NFC", s)
    for z in ("\u200b", "\u2060", "\ufeff"):
        s = s.replace(z, "")
    return " ".join(s.split())


# --- values a person cannot read as a value of the field --------------------------------------

def bad_typed() -> st.SearchStrategy[Cell]:
    """Cells no number, year, date, choice or code field may accept silently."""
    return st.one_of(
        st.booleans().map(lambda b: Cell(b, Expect.BAD)),
        st.sampled_from(EXCEL_ERRORS).map(lambda e: Cell(e, Expect.BAD, error=True)),
        st.timedeltas(min_value=dt.timedelta(hours=1), max_value=dt.timedelta(days=3))
        .map(lambda d: Cell(d, Expect.BAD)),
        st.sampled_from(["abc", "12 🙂", "1,2,3,4x", "=1+1", "<b>5</b>", "⁵", "½"])
        .map(lambda t: Cell(t, Expect.BAD)),
    )


def unsafe_text(base: str) -> st.SearchStrategy[Cell]:
    """``base`` with a control or bidirectional character somewhere: always a problem."""
    return st.tuples(st.sampled_from(CONTROL + BIDI), st.integers(0, len(base))).map(
        lambda ci: Cell(base[:ci[1]] + ci[0] + base[ci[1]:], Expect.BAD))


def hostile_text(base: str) -> st.SearchStrategy[Cell]:
    """Free text a person reads as written: formula prefixes, markup, other Unicode forms,
    odd spaces, long strings. It must arrive as ``person_text`` of it (or be reported)."""
    def nfd(s: str) -> str:
        return unicodedata.normalize("NFD", s)
    texts = st.one_of(
        st.sampled_from(["=HYPERLINK(\"http://x\",\"klik\")", "+62 811", "-", "@Dinkes",
                         "<script>alert(1)</script>", "[/b] [red]x", "Café Ibu & Anak",
                         "Perwali No. 12/2023 (perubahan)", "’Dinas’", "ÅNGSTRÖM " * 3]),
        st.sampled_from(SPACES).map(lambda s: f"{s}{base}{s}"),
        st.just(nfd("Dinas Pemberdayaan Perempuan é ü ñ")),
        st.integers(300, 3000).map(lambda n: ("Panjang " * n)[:n]),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs",
                                                                             "Co", "Cn", "Zl",
                                                                             "Zp")),
                min_size=1, max_size=40).filter(lambda s: s.strip() != ""),
    )
    return texts.map(lambda t: Cell(t, Expect.TEXT, person_text(t)))


# --- values a person reads as one value -------------------------------------------------------

def number_cell(decimal: str, lo: float, hi: float, whole: bool = False) -> st.SearchStrategy:
    """A number written as an XLSX number or as text in the file's decimal mark (with or
    without thousands separators), read as that number."""
    values = (st.integers(int(lo), int(hi)).map(float) if whole else
              st.integers(int(lo * 10), int(hi * 10)).map(lambda i: i / 10))

    def text(v: float, group: bool) -> str:
        s = f"{v:,.1f}" if not v.is_integer() else f"{int(v):,}"
        if not group:
            s = s.replace(",", "")
        if decimal == ",":
            s = s.translate(str.maketrans({",": ".", ".": ","}))
        return s

    return st.one_of(
        values.map(lambda v: Cell(v, Expect.VALUE, v)),
        st.tuples(values, st.booleans()).map(lambda vg: Cell(text(*vg), Expect.VALUE, vg[0])),
    )


# --- writing a dataset file --------------------------------------------------------------------

def read_base(rel: str) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and separator of a base CSV file."""
    text = (BASE / rel).read_text(encoding="utf-8")
    sep = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    return rows[0], [r for r in rows[1:] if r], sep


def write_csv(path: Path, header: list[str], rows: list[list[object]], sep: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([c.as_csv() if isinstance(c, Cell) else c for c in r])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(v, Cell):
                if v.error:
                    cell.value = v.value
                    cell.data_type = "e"
                elif isinstance(v.value, str):
                    cell.value = v.value
                    cell.data_type = "s"  # text typed as text ('=1+1), never a formula
                else:
                    cell.value = v.value
            else:
                cell.value = _typed(v)
    wb.save(path)


def _typed(text: str) -> object:
    """A base CSV cell as an Excel user would have typed it (numbers as numbers)."""
    t = text.strip()
    if t.isdigit():
        return int(t)
    return text
