"""Property-based fuzzer of the raw datasets: no traceback, no silent wrong value, nothing
written on a refused build (strategies and oracles in ``fuzz_inputs.py``).

Per dataset, hypothesis rewrites the file of the minimal valid folder as CSV or XLSX with a
few cells replaced by drawn values, runs ``validate_data`` and ``build`` and checks:

1. no exception escapes (every bad input is a problem row);
2. a cell no reading fits (``Expect.BAD``) is reported at its file, row and column;
3. a cell with one reading (``Expect.VALUE``) holds exactly that value in the processed
   table, or its row is reported; free text (``Expect.TEXT``) arrives as a person reads it;
4. a refused build raises ``InputProblems`` and writes no processed file; an accepted one
   writes tables whose CSV holds no control, bidirectional or invisible character.

``make test`` runs a bounded, derandomised search (``KLA_FUZZ_EXAMPLES`` examples per
dataset, default 25: 100 in all, about 2 s each; they were 50 until the suite outgrew its
10 minutes); ``make fuzz`` runs a long one (see docs/reliability.md).
The statistics and official results datasets are fuzzed in ``test_fuzz_inputs_2.py``, so
pytest-xdist runs the two halves side by side.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from fuzz_inputs import (
    BASE,
    EMOJI,
    SPACES,
    Cell,
    Expect,
    bad_typed,
    hostile_text,
    number_cell,
    read_base,
    unsafe_text,
    write_csv,
    write_xlsx,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kla_analysis.chars import UNSAFE
from kla_analysis.config import ProjectPaths
from kla_analysis.errors import InputProblems
from kla_analysis.ingest import interim
from kla_analysis.ingest.build import build
from kla_analysis.ingest.validate import validate_data

EXAMPLES = int(os.environ.get("KLA_FUZZ_EXAMPLES", "25"))
#: make test searches the same examples every run; make fuzz (KLA_FUZZ_RANDOM=1) new ones.
RANDOM = os.environ.get("KLA_FUZZ_RANDOM", "") not in ("", "0")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

try:  # openpyxl's own check of what an XLSX cell may hold
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
except ImportError:  # pragma: no cover
    from openpyxl.utils.exceptions import ILLEGAL_CHARACTERS_RE  # type: ignore[no-redef]


def place(name: str) -> st.SearchStrategy[Cell]:
    """A listed place name: with an emoji it names no place; in NFD, with odd spaces or
    another case it is the same place."""
    import unicodedata

    return st.one_of(
        st.sampled_from(EMOJI).map(lambda e: Cell(f"{name} {e}", Expect.BAD)),
        st.just(Cell(unicodedata.normalize("NFD", name), Expect.VALUE, name)),
        st.sampled_from(SPACES).map(lambda s: Cell(f"{s}{name}{s}", Expect.VALUE, name)),
        st.just(Cell(name.upper(), Expect.VALUE, name)),
    )


def dates() -> st.SearchStrategy[Cell]:
    """A document date inside the 2023 round's validity window and before its deadline, as
    an Excel date or as DD/MM/YYYY text."""
    days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2023, 5, 31))
    return st.one_of(days.map(lambda d: Cell(d, Expect.VALUE, pd.Timestamp(d))),
                     days.map(lambda d: Cell(d.strftime("%d/%m/%Y"), Expect.VALUE,
                                             pd.Timestamp(d))),
                     st.just(Cell("01/01/2099", Expect.BAD)),
                     st.just(Cell("31/02/2023", Expect.BAD)))


def statuses() -> st.SearchStrategy[Cell]:
    return st.one_of(st.sampled_from(["ADA", " Ada ", "ada\u00a0", "Ada"]).map(
        lambda s: Cell(s, Expect.VALUE, "ada")), bad_typed())


#: Per dataset: the base file, processed table, and per header the strategy and the processed
#: column its reading lands in.
DATASETS = {
    "evidence": ("evidence/data_dukung_2023.csv", "evidence", {
        "Tahun": (bad_typed(), "year"),
        "Kode Data Dukung": (bad_typed(), "item"),
        "Judul Dokumen": (st.one_of(hostile_text("Perwali KLA"), unsafe_text("Perwali KLA")),
                          "title"),
        "Status": (statuses(), "status"),
        "OPD Penanggung Jawab": (st.one_of(hostile_text("Bagian Hukum"),
                                           unsafe_text("Bagian Hukum")), "opd"),
        "Tanggal Dokumen": (st.one_of(dates(), bad_typed()), "document_date"),
    }),
    "self_assessment": ("self_assessment/penilaian_mandiri_2023.csv", "self_assessment", {
        "Tahun": (bad_typed(), "year"),
        "Indikator": (bad_typed(), "indicator"),
        "Nilai Mandiri": (st.one_of(number_cell(".", 0, 40), bad_typed()), "points_claimed"),
    }),
    "statistics": ("statistics/statistik.csv", "statistics", {
        "Kecamatan": (place("Utara"), "kecamatan"),
        "Kelurahan": (place("Sukamaju"), "area"),
        "Tahun Data": (bad_typed(), "data_year"),
        "Ukuran": (st.one_of(bad_typed(), unsafe_text("Cakupan akta kelahiran anak")),
                   "measure"),
        "Nilai": (st.one_of(number_cell(",", 0, 100), bad_typed()), "value"),
    }),
    "official_results": ("official/hasil_evaluasi.csv", "official_results", {
        "Provinsi": (st.one_of(hostile_text("Kalimantan Selatan"),
                               unsafe_text("Kalimantan Selatan")), "province"),
        "Tahun": (bad_typed(), "year"),
        "Predikat": (bad_typed(), "predicate"),
    }),
}


def _case(dataset: str):
    rel, _, fields = DATASETS[dataset]
    header, rows, _ = read_base(rel)
    targets = st.tuples(st.integers(0, len(rows) - 1), st.sampled_from(sorted(fields)))
    return st.tuples(
        st.lists(targets, min_size=1, max_size=3, unique=True).flatmap(
            lambda ts: st.tuples(st.just(ts), st.tuples(*[fields[h][0] for _, h in ts]))),
        st.sampled_from(["csv", "xlsx"]))


def _run(dataset: str, mutations, fmt: str) -> None:
    rel, table, fields = DATASETS[dataset]
    header, rows, sep = read_base(rel)
    targets, cells = mutations
    grid = [list(r) for r in rows]
    for (r, h), cell in zip(targets, cells, strict=True):
        grid[r][header.index(h)] = cell
    if fmt == "xlsx" and any(isinstance(c, Cell) and isinstance(c.value, str)
                             and ILLEGAL_CHARACTERS_RE.search(c.value) for c in cells):
        fmt = "csv"  # Excel cannot hold these characters; an agency's CSV can
    folder = Path(tempfile.mkdtemp(prefix="kla-fuzz-"))
    try:
        shutil.copytree(BASE, folder / "raw")
        target = folder / "raw" / rel
        name = target.name
        if fmt == "xlsx":
            target.unlink()
            target = target.with_suffix(".xlsx")
            write_xlsx(target, header, grid)
        else:
            write_csv(target, header, grid, sep)
        file = target.relative_to(folder / "raw").as_posix()
        paths = ProjectPaths(folder, folder / "reports")
        inputs = interim.fingerprint(paths)
        result = validate_data(paths)  # 1. must not raise
        probs = result.problems
        file_level = probs[(probs["file"] == file) & probs["row"].isna()]
        for (r, h), cell in zip(targets, cells, strict=True):
            row = r + 2  # the header is row 1
            at_row = probs[(probs["file"] == file) & (probs["row"] == row)]
            at_cell = at_row[at_row["column"] == h]
            where = f"{dataset} {fmt} ({name}) row {row} column {h!r} value {cell.value!r}"
            if cell.expect is Expect.BAD:  # 2.
                assert len(at_cell) or len(file_level), f"not reported: {where}\n{probs}"
                continue
            if len(at_row) or len(file_level) or not result.ok:
                continue  # reported (or another cell made the table unusable)
            processed = result.tables[table]
            got = processed.loc[(processed["source_file"] == file)
                                & (processed["source_row"] == row), fields[h][1]]
            assert len(got) == 1, f"row vanished without a problem: {where}"
            value = got.iloc[0]
            if cell.expect is Expect.VALUE:  # 3.
                assert value == cell.reading or (
                    isinstance(value, float) and abs(value - cell.reading) < 1e-9), (
                    f"read {value!r} instead of {cell.reading!r}: {where}")
            else:
                assert value == cell.reading, f"text changed to {value!r}: {where}"
        # 4. build: all or nothing
        if result.ok:
            # as `kla validate` then `kla build`: the build writes what was just validated
            assert interim.save(paths, result.tables, inputs, result.notices)
            build(paths)
            for csv_file in (folder / "processed").glob("*.csv"):
                text = csv_file.read_text(encoding="utf-8")
                assert not UNSAFE.search(text), f"unsafe character in {csv_file.name}"
        else:
            with pytest.raises(InputProblems):
                build(paths)
            assert not (folder / "processed").exists() or not any(
                (folder / "processed").iterdir()), "a refused build wrote files"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@FUZZ
@given(case=_case("evidence"))
def test_fuzz_evidence(case):
    _run("evidence", *case)


@pytest.mark.slow
@FUZZ
@given(case=_case("self_assessment"))
def test_fuzz_self_assessment(case):
    _run("self_assessment", *case)


def test_the_oracle_catches_a_silent_wrong_value(tmp_path, monkeypatch):
    """The fuzzer can fail: a validator that reads TRUE as 1 point is caught."""
    import kla_analysis.ingest.validate as v

    real = v.validate_data

    def lenient(paths):
        res = real(paths)
        res.problems = res.problems.iloc[0:0]  # drops every problem: BAD cells go unreported
        return res

    monkeypatch.setattr(__import__("test_fuzz_inputs"), "validate_data", lenient)
    with pytest.raises(AssertionError, match="not reported"):
        _run("self_assessment", ([(0, "Nilai Mandiri")], (Cell(True, Expect.BAD),)), "xlsx")
