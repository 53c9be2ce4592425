"""Hostile cells and files: Excel error cells, booleans/times/durations, cell references,
values outside the table (and sheets read by their used range), control characters in a CSV,
and system files dropped into data folders.

Every fixture is built here (openpyxl workbooks, CSV bytes, a hand-written .ods), so what a
file holds is visible next to what is asserted. Each test failed against the readers as they
were before these classes were handled.
"""

from __future__ import annotations

import datetime as dt
import time
import zipfile

import openpyxl
import pandas as pd
import pytest
from fixtures.pipeline.helpers import data_dir, self_assessment_rows, write_text, write_xlsx

from kla_analysis.config import project_paths
from kla_analysis.ingest import readers
from kla_analysis.ingest.readers import read_cells, read_tables, tidy_table
from kla_analysis.ingest.specs import load_specs
from kla_analysis.ingest.validate import validate_data

SPECS = load_specs()
STATS = SPECS.datasets["statistics"]


def tables(path, raw):
    return read_tables(path, raw, STATS, SPECS)


def stats_folder(tmp_path):
    """A data folder that validates cleanly except for what a test puts in statistics/."""
    d = data_dir(tmp_path)
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", self_assessment_rows())
    return d


def problems_of(d, file):
    probs = validate_data(project_paths(d)).problems
    return probs[probs["file"] == file].reset_index(drop=True)


def xlsx(path, cells: dict, sheet="Data"):
    """A workbook with ``cells`` ({"B3": value}); a value ``("e", "#DIV/0!")`` is written as
    an Excel error cell (``<c t="e"><v>#DIV/0!</v></c>``), as Excel saves a failed formula."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for ref, v in cells.items():
        if isinstance(v, tuple) and v[0] == "e":
            ws[ref] = v[1]
            ws[ref].data_type = "e"
        else:
            ws[ref] = v
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# ---------------------------------------------------------------- 1. Excel error cells

ERRORS = ["#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
          "#CALC!", "#GETTING_DATA"]


def test_excel_error_literals_are_exported():
    assert set(ERRORS) <= readers.EXCEL_ERRORS
    assert all(readers.is_excel_error(e) for e in ERRORS)
    assert readers.is_excel_error(" #div/0! ")
    assert not any(readers.is_excel_error(v) for v in ("", "DIV/0", "#1", None, 0.0, "N/A"))


def test_xlsx_error_cells_come_back_as_their_literal_text(tmp_path):
    cells = {"A1": "Kelurahan", "B1": "Tahun", "C1": "APK PAUD"}
    for i, err in enumerate(ERRORS, start=2):
        cells |= {f"A{i}": "Palam", f"B{i}": 2022, f"C{i}": ("e", err)}
    path = xlsx(tmp_path / "raw" / "e.xlsx", cells)
    [sheet] = read_cells(path)
    assert sheet.cells.loc[1:, 2].tolist() == ERRORS  # calamine alone gives '' for each
    [tbl] = tables(path, tmp_path / "raw")
    data = tidy_table(tbl, SPECS)[0]
    assert data["m:paud_participation:value"].tolist() == ERRORS  # text cells downstream
    assert list(data.index) == list(range(2, 2 + len(ERRORS)))


def test_xlsx_error_cell_in_a_range_not_starting_at_a1_keeps_its_position(tmp_path):
    path = xlsx(tmp_path / "e.xlsx", {"C5": "Kelurahan", "D5": "Tahun", "E5": "APK PAUD",
                                      "C6": "Palam", "D6": 2022, "E6": ("e", "#N/A"),
                                      "C7": "Bangkal", "D7": 2022, "E7": 12.5})
    [sheet] = read_cells(path)
    assert sheet.cells.at[5, 4] == "#N/A" and sheet.cells.at[6, 4] == 12.5


def test_ods_error_cells_come_back_as_their_literal_text(tmp_path):
    """LibreOffice writes an error as an empty string marked calcext:value-type="error"."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
        ' office:version="1.3"><office:body><office:spreadsheet>'
        '<table:table table:name="Data">'
        '<table:table-row>'
        + "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p>'
                  '</table:table-cell>' for h in ("Kelurahan", "Tahun", "APK PAUD"))
        + '</table:table-row>'
        '<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>'
        '<table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>Palam</text:p></table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="2022"><text:p>2022</text:p>'
        '</table:table-cell>'
        '<table:table-cell table:formula="of:=1/0" office:value-type="string"'
        ' office:string-value="" calcext:value-type="error"><text:p>#DIV/0!</text:p>'
        '</table:table-cell></table:table-row>'
        '</table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    path = tmp_path / "e.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                    compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    [sheet] = read_cells(path)
    assert sheet.cells.at[3, 0] == "Palam" and sheet.cells.at[3, 2] == "#DIV/0!"


def test_error_cell_is_not_silently_no_data_end_to_end(tmp_path):
    d = stats_folder(tmp_path)
    xlsx(d / "raw" / "statistics" / "e.xlsx", {
        "A1": "Kelurahan", "B1": "Tahun", "C1": "APK PAUD",
        "A2": "Palam", "B2": 2022, "C2": ("e", "#DIV/0!")})
    probs = problems_of(d, "statistics/e.xlsx")
    hit = probs[(probs["row"] == 2) & (probs["column"] == "APK PAUD")]
    assert len(hit) == 1 and hit["value"].iloc[0] == "#DIV/0!", probs


# ---------------------------------------------------------------- 2. booleans, times, durations


def test_booleans_times_and_durations_stay_python_objects(tmp_path):
    path = xlsx(tmp_path / "raw" / "b.xlsx", {
        "A1": "Kelurahan", "B1": "Tahun", "C1": "APK PAUD",
        "A2": "Palam", "B2": 2022, "C2": True,
        "A3": "Bangkal", "B3": 2022, "C3": 55.5,
        "A4": "Cempaka", "B4": 2022, "C4": dt.time(12, 30),
        "A5": "Sungai Tiung", "B5": 2022, "C5": dt.timedelta(hours=5),
        "A6": "Komet", "B6": True, "C6": False})
    [tbl] = tables(path, tmp_path / "raw")
    data = tidy_table(tbl, SPECS)[0]
    v = data["m:paud_participation:value#v"]
    assert v[2] is True and v[6] is False  # not 1.0 / 0.0
    assert v[3] == 55.5
    assert isinstance(v[4], dt.time) and isinstance(v[5], dt.timedelta)
    assert data["data_year#v"][6] is True and data["data_year#v"][2] == 2022


def test_numbers_and_dates_keep_today_s_types(tmp_path):
    path = xlsx(tmp_path / "raw" / "n.xlsx", {
        "A1": "Kelurahan", "B1": "Tahun", "C1": "APK PAUD",
        "A2": "Palam", "B2": 2022, "C2": 55.5, "A3": "Bangkal", "B3": 2022, "C3": 60})
    data = tidy_table(tables(path, tmp_path / "raw")[0], SPECS)[0]
    assert data["m:paud_participation:value#v"].dtype == "float64"


# ---------------------------------------------------------------- 3. cell references


@pytest.mark.parametrize("row, col, ref", [
    (6, 7, "H6"), (1, 0, "A1"), (1, 25, "Z1"), (1, 26, "AA1"), (3, 51, "AZ3"), (3, 52, "BA3"),
    (1, 701, "ZZ1"), (1, 702, "AAA1"), (10, 16383, "XFD10"), (1048576, 16383, "XFD1048576")])
def test_cell_ref(row, col, ref):
    assert readers.cell_ref(row, col) == ref


def test_table_positions_name_every_column_s_sheet_column(tmp_path):
    path = xlsx(tmp_path / "raw" / "p.xlsx", {
        "C5": "No", "D5": "Kelurahan", "E5": "Tahun", "F5": "Warna", "G5": "APK PAUD",
        "C6": 1, "D6": "Palam", "E6": 2022, "G6": 55.5})
    [tbl] = tables(path, tmp_path / "raw")
    assert tbl.header_row == 5 and list(tidy_table(tbl, SPECS)[0].index) == [6]
    pos = tbl.positions
    assert pos["kelurahan"] == 3 and pos["data_year"] == 4 and pos["m:paud_participation:value"] == 6
    assert pos["_u5"] == 5  # unknown header "Warna" in column F
    assert set(pos) == set(tbl.headers)
    assert readers.cell_ref(6, pos["kelurahan"]) == "D6"


# ---------------------------------------------------------------- 4. cells outside the table


def test_used_range_not_starting_at_a1_keeps_spreadsheet_rows(tmp_path):
    path = xlsx(tmp_path / "raw" / "o.xlsx", {
        "B3": "DATA APK PAUD TAHUN 2022", "D7": "Kelurahan", "E7": "Tahun", "F7": "APK PAUD",
        "D8": "Palam", "E8": 2022, "F8": 55.5, "D10": "Bangkal", "E10": 2022, "F10": 60})
    [tbl] = tables(path, tmp_path / "raw")
    data = tidy_table(tbl, SPECS)[0]
    assert tbl.header_row == 7 and list(data.index) == [8, 10]
    assert "TAHUN 2022" in tbl.title and tbl.positions["kelurahan"] == 3


def stray_workbook(path, n=300):
    rows = [["Kelurahan", "Tahun", "APK PAUD"]] + [["Palam", 2022, 55.5]] * n
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in rows:
        ws.append(row)
    ws["XFD10"] = "catatan lama"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_a_stray_cell_in_column_xfd_is_named_and_the_sheet_stays_narrow(tmp_path):
    path = stray_workbook(tmp_path / "raw" / "w.xlsx")
    t = time.perf_counter()
    [sheet] = read_cells(path)
    assert sheet.cells.shape[1] == 4  # A, B, C and XFD, not 16,384 columns
    assert list(sheet.cells.columns) == [0, 1, 2, 16383]
    [tbl] = tables(path, tmp_path / "raw")
    assert time.perf_counter() - t < 10
    [p] = tbl.problems
    assert (p["row"], p["column"], p["rule"], p["value"]) == (10, "", "outside_table",
                                                               "catatan lama")
    assert "XFD10" in p["hint"] and "header" in p["hint"]
    data, unknown = tidy_table(tbl, SPECS)
    assert unknown == [] and len(data) == 300


def test_stray_cells_outside_the_table_end_to_end(tmp_path):
    d = stats_folder(tmp_path)
    write_xlsx(d / "raw" / "statistics" / "w.xlsx", [
        ["Kelurahan", "Tahun", "APK PAUD"],
        ["Palam", 2022, 55.5, None, "x"],          # E2: beside a data row
        [None, None, None, None, None, None, 7],   # G3: alone in a row
        ["Sumber: Disdik"],                        # a note ends the table
        [None, None, None, None, "ttd Kepala Dinas"]])  # below the note: not reported
    probs = problems_of(d, "statistics/w.xlsx")
    assert probs["rule"].tolist() == ["outside_table", "outside_table"], probs
    assert probs["row"].tolist() == [2, 3] and probs["column"].tolist() == ["", ""]
    assert probs["value"].tolist() == ["x", "7"]
    assert "cell E2 " in probs["hint"][0] and "cell G3 " in probs["hint"][1]


def test_many_cells_outside_the_table_are_listed_then_counted(tmp_path):
    lines = "Kelurahan;Tahun;APK PAUD\n" + "Palam;2022;55,5;;x\n" * 60
    path = write_text(tmp_path / "raw" / "s.csv", lines)
    [tbl] = tables(path, tmp_path / "raw")
    out = [p for p in tbl.problems if p["rule"] == "outside_table"]
    assert len(out) == readers.MAX_CELLS_LISTED + 1
    assert out[0]["row"] == 2 and "cell E2 " in out[0]["hint"]
    assert out[-1]["row"] is None and out[-1]["value"] == "10 more cells"


# ---------------------------------------------------------------- 5. control characters in CSV


def csv_with(tmp_path, name, raw: bytes):
    p = tmp_path / "raw" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(raw)
    return p


BODY = "".join(f"Palam;2022;{i},5\n" for i in range(300)).encode()  # > 4 KiB


def test_a_nul_far_into_a_csv_is_a_problem_naming_its_cell(tmp_path):
    raw = b"Kelurahan;Tahun;APK PAUD\n" + BODY + b"Ban\x00gkal;2022;60\n"
    path = csv_with(tmp_path, "n.csv", raw)
    [tbl] = tables(path, tmp_path / "raw")
    [p] = tbl.problems
    assert (p["row"], p["column"], p["rule"]) == (302, "Kelurahan", "control_character")
    assert p["value"] == "Ban\\x00gkal" and "A302" in p["hint"] and "NUL" in p["hint"]


def test_a_nul_near_the_top_of_a_text_csv_is_not_binary(tmp_path):
    raw = b"Kelurahan;Tahun;APK PAUD\nPalam;2022;55\x00,5\nBangkal;20\x07 22;60\n"
    path = csv_with(tmp_path, "n.csv", raw)
    [tbl] = tables(path, tmp_path / "raw")
    got = [(p["row"], p["column"], p["value"]) for p in tbl.problems]
    assert got == [(2, "APK PAUD", "55\\x00,5"), (3, "Tahun", "20\\x07 22")]


@pytest.mark.parametrize("raw", [
    b"\x00\x01\x02binary",
    bytes(range(256)) * 40,
    "Kelurahan;Tahun\nPalam;2022\n".encode("utf-16-le"),  # UTF-16 without a BOM
])
def test_a_mostly_binary_file_is_still_refused(tmp_path, raw):
    res = tables(csv_with(tmp_path, "b.csv", raw), tmp_path / "raw")
    assert isinstance(res, dict) and res["rule"] == "unreadable_file"


def test_control_character_reaches_the_problems_table(tmp_path):
    d = stats_folder(tmp_path)
    csv_with(d, "statistics/n.csv", b"Kelurahan;Tahun;APK PAUD\n" + BODY + b"Pal\x00am;2022;60\n")
    probs = problems_of(d, "statistics/n.csv")
    hit = probs[probs["rule"] == "control_character"]
    assert hit[["row", "column", "value"]].values.tolist() == [[302, "Kelurahan",
                                                                "Pal\\x00am"]]


# ---------------------------------------------------------------- 6. system files

SYSTEM = ["Thumbs.db", "desktop.ini", "DESKTOP.INI", ".DS_Store", "._s.csv", "~$b.xlsx",
          ".~lock.b.xlsx#", "__MACOSX/._b.xlsx", "__MACOSX/b.csv", ".git/config"]


def test_list_files_returns_ignored_system_files(tmp_path):
    for name in ["s.csv", "b.xlsx", "README.md", "scan.pdf", *SYSTEM]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    listing = readers.list_files(tmp_path)
    files, other = listing  # still unpacks as the pair it was
    assert [p.name for p in files] == ["b.xlsx", "s.csv"]
    assert [p.name for p in other] == ["scan.pdf"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in listing.ignored) == sorted(SYSTEM)
    note = readers.ignored_notice(tmp_path / "Thumbs.db", tmp_path)
    assert note.startswith("ignored Thumbs.db") and "\n" not in note


def test_system_files_are_not_fatal_end_to_end(tmp_path):
    d = stats_folder(tmp_path)
    write_text(d / "raw" / "statistics" / "s.csv", "Kelurahan;Tahun;APK PAUD\nPalam;2022;55,5\n")
    for name in ["Thumbs.db", "desktop.ini", ".DS_Store", "._s.csv", "~$s.xlsx",
                 ".~lock.s.csv#"]:
        csv_with(d, "statistics/" + name, b"\x00\x05junk")
    res = validate_data(project_paths(d))
    assert res.ok, res.problems
    assert len(res.tables["statistics"]) == 1
    assert isinstance(res.problems, pd.DataFrame)
