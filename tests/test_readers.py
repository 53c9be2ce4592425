"""Readers: encodings, separators, title rows, merged headers, notes, row numbers, bad files."""

import pytest
from fixtures.pipeline.helpers import write_text, write_xlsx

from kla_analysis.ingest.readers import (
    ReadError,
    decode_text,
    list_files,
    read_cells,
    read_tables,
    sniff_delimiter,
    tidy_table,
)
from kla_analysis.ingest.specs import load_specs

SPECS = load_specs()
STATS = SPECS.datasets["statistics"]


def tables(path, raw):
    return read_tables(path, raw, STATS, SPECS)


def rows(tbl):
    return tidy_table(tbl, SPECS)[0]


def test_decode_utf8_bom_cp1252_utf16():
    assert decode_text("\ufeffKelurahan;Nilai".encode()) == "Kelurahan;Nilai"
    assert decode_text("Data – ilustratif".encode("cp1252")) == "Data – ilustratif"
    assert decode_text("Kelurahan,Nilai".encode("utf-16")) == "Kelurahan,Nilai"


@pytest.mark.parametrize("raw, words", [
    (b"Kelurahan;Nilai\n\x81\x8d\x8f;1\n", "neither UTF-8 nor Windows-1252"),
    (b"PK\x03\x04rest-of-a-zip", "Excel workbook saved with a text extension"),
    (b"\x00\x01\x02binary", "binary"),
])
def test_undecodable_text_is_a_read_error(raw, words):
    with pytest.raises(ReadError) as err:
        decode_text(raw)
    assert err.value.rule == "unreadable_file" and words in err.value.hint


@pytest.mark.parametrize("text, sep", [
    ("Kelurahan;Nilai;Persen\nKomet;1.234;85,5\nPalam;2.345;90,1\n", ";"),
    ("Kelurahan,Nilai,Persen\nKomet,1234,85.5\nPalam,2345,\"90,1\"\n", ","),
    ("Kelurahan\tNilai\nKomet\t85,5\n", "\t"),
    ("JUDUL DATA 2023\nKelurahan;Nilai\nKomet;85,5\n", ";"),
])
def test_sniff_delimiter(text, sep):
    assert sniff_delimiter(text) == sep


def test_csv_with_bom_title_rows_and_notes_keeps_text_editor_line_numbers(tmp_path):
    text = ("DATA PARTISIPASI SEKOLAH\n"
            "Kota Banjarbaru Tahun 2022\n"
            "\n"
            "Kecamatan,Kelurahan,APS 16-18 (%)\n"
            "Cempaka,Palam,85.5\n"
            "\n"
            "Cempaka,Bangkal,80.1\n"
            "Sumber: Disdik (ilustratif)\n"
            "Cempaka,Cempaka,99\n")  # after a note: not data
    path = write_text(tmp_path / "raw" / "statistics" / "s.csv", text, "utf-8-sig")
    [tbl] = tables(path, tmp_path / "raw")
    assert tbl.header_row == 4 and tbl.sheet == "" and tbl.decimal == "."
    assert "Tahun 2022" in tbl.title
    data = rows(tbl)
    assert list(data.index) == [5, 7]  # line numbers, blank line 6 skipped
    assert list(data["kelurahan"]) == ["Palam", "Bangkal"]
    assert tbl.headers["m:school_participation:value"] == "APS 16-18 (%)"


def test_semicolon_csv_is_decimal_comma(tmp_path):
    path = write_text(tmp_path / "raw" / "s.csv", "Kelurahan;Tahun;APK PAUD\nPalam;2022;55,5\n",
                      "cp1252")
    [tbl] = tables(path, tmp_path / "raw")
    assert tbl.decimal == "," and rows(tbl).iloc[0]["m:paud_participation:value"] == "55,5"


def test_ragged_csv_rows_do_not_break_reading(tmp_path):
    path = write_text(tmp_path / "raw" / "s.csv",
                      "Judul\nKelurahan;Tahun;APK PAUD\nPalam;2022;55,5;;extra;\n")
    [tbl] = tables(path, tmp_path / "raw")
    data, unknown = tidy_table(tbl, SPECS)
    assert list(data.index) == [3] and unknown == []
    # the extra cell sits under no header: reported by its cell reference, not as a column
    [p] = tbl.problems
    assert (p["rule"], p["row"], p["column"], p["value"]) == ("outside_table", 3, "", "extra")
    assert "E3" in p["hint"]


def test_excel_title_merged_two_row_header_numbering_total_and_notes(tmp_path):
    rows = [
        ["REKAPITULASI AKTA KELAHIRAN ANAK"],                      # 1
        ["KOTA BANJARBARU TAHUN 2022"],                            # 2
        [],                                                        # 3
        ["No", "Kecamatan", "Kelurahan", "Jumlah Anak 0-17 Tahun",
         "Memiliki Akta Kelahiran", None],                        # 4 (E4:F4 merged)
        [None, None, None, None, "Jumlah", "%"],                   # 5
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"],                # 6 numbering row
        [1, "CEMPAKA", "PALAM", 2000, 1800, 90.0],                 # 7 (B7:B8 merged)
        [2, None, "BANGKAL", 1000, 950, 95.0],                     # 8
        ["JUMLAH", None, None, 3000, 2750, 91.67],                 # 9 (A9:C9 merged)
        [],                                                        # 10
        ["Sumber: Disdukcapil (ilustratif)"],                      # 11 (A11:F11 merged)
    ]
    merges = ("A4:A5", "B4:B5", "C4:C5", "D4:D5", "E4:F4", "B7:B8", "A9:C9", "A11:F11")
    path = write_xlsx(tmp_path / "raw" / "akta.xlsx", rows, merges, sheet="2022")
    [tbl] = tables(path, tmp_path / "raw")
    assert (tbl.sheet, tbl.header_row) == ("2022", 5)
    assert tbl.headers["m:birth_certificate_coverage:numerator"] == "Memiliki Akta Kelahiran / Jumlah"
    assert tbl.headers["m:birth_certificate_coverage:value"] == "Memiliki Akta Kelahiran / %"
    data, unknown = tidy_table(tbl, SPECS)
    assert list(data.index) == [7, 8]  # numbering, total and note rows are gone
    assert list(data["kecamatan"]) == ["CEMPAKA", "CEMPAKA"]  # vertical merge filled
    assert list(data["m:birth_certificate_coverage:value#v"]) == [90.0, 95.0]  # Excel numbers
    assert data["m:birth_certificate_coverage:value"].isna().all()  # no text in that column
    assert "TAHUN 2022" in tbl.title and tbl.problems == [] and unknown == []


def test_csv_exported_from_merged_header_carries_top_header_right(tmp_path):
    text = ("Kelurahan;Tahun;Persalinan di Faskes;;\n"
            ";;Sasaran;Jumlah;%\n"
            "Palam;2022;100;95;95,0\n")
    path = write_text(tmp_path / "raw" / "d.csv", text)
    [tbl] = tables(path, tmp_path / "raw")
    assert tbl.headers["m:facility_births:denominator"] == "Persalinan di Faskes / Sasaran"
    assert tbl.headers["m:facility_births:value"] == "Persalinan di Faskes / %"
    assert list(rows(tbl).index) == [3]


def test_hidden_sheets_are_skipped_and_every_visible_sheet_is_read(tmp_path):
    table = [["Kelurahan", "Tahun", "APK PAUD"], ["Palam", 2022, 55]]
    path = write_xlsx(tmp_path / "raw" / "x.xlsx", table,
                      extra_sheets={"2023": table, "Daftar": [["Kelurahan", "Tahun"], ["a", 1]],
                                    "Petunjuk": [["Isi kolom Kelurahan dan Tahun"]]},
                      hidden=("Daftar",))
    assert [t.sheet for t in tables(path, tmp_path / "raw")] == ["Data", "2023"]


def test_files_without_a_recognised_header_say_so(tmp_path):
    path = write_text(tmp_path / "raw" / "x.csv", "a;b;c\n1;2;3\n")
    res = tables(path, tmp_path / "raw")
    assert res["rule"] == "no_header" and res["file"] == "x.csv"


@pytest.mark.parametrize("name, content, rule", [
    ("empty.csv", b"", "empty_file"),
    ("blank.csv", b"\r\n\r\n", "empty_file"),
    ("empty.xlsx", b"", "empty_file"),
    ("corrupt.xlsx", b"this is not a zip file", "unreadable_file"),
])
def test_unreadable_files_are_problems_not_tracebacks(tmp_path, name, content, rule):
    path = tmp_path / "raw" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    res = tables(path, tmp_path / "raw")
    assert isinstance(res, dict) and res["rule"] == rule and res["file"] == name


def test_read_cells_excel_keeps_types(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [["a", 1.5, "85,5%"]])
    [sheet] = read_cells(path)
    assert list(sheet.cells.iloc[0]) == ["a", 1.5, "85,5%"] and sheet.decimal == ","


def test_list_files_skips_readme_hidden_and_lock_files(tmp_path):
    for name in ["a.csv", "b.xlsx", "README.md", ".hidden.csv", "~$b.xlsx", "scan.pdf"]:
        (tmp_path / name).write_bytes(b"x")
    ok, other = list_files(tmp_path)
    assert [p.name for p in ok] == ["a.csv", "b.xlsx"] and [p.name for p in other] == ["scan.pdf"]
