"""Every validation rule with a deliberately broken fixture, asserting the exact file, sheet,
row (as a spreadsheet user counts it) and column reported."""

import pytest
from fixtures.pipeline.helpers import (
    data_dir,
    problems,
    rule,
    self_assessment_rows,
    where,
    write_text,
    write_xlsx,
)

from kla_analysis.config import project_paths
from kla_analysis.errors import InputProblems
from kla_analysis.ingest.validate import check_data, validate_data


def stats_csv(d, text, name="s.csv", encoding="utf-8"):
    return write_text(d / "raw" / "statistics" / name, text, encoding)


# ---------------------------------------------------------------- a clean fixture passes


def test_minimal_valid_folder_has_no_problems(tmp_path):
    d = data_dir(tmp_path)
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", self_assessment_rows())
    stats_csv(d, "Kelurahan;Tahun;APK PAUD\nPalam;2022;55,5\n")
    res = validate_data(project_paths(d))
    assert res.ok, res.problems
    assert len(res.tables["self_assessment"]) == 26
    st = res.tables["statistics"]
    assert st[["measure", "area_level", "kecamatan", "area", "value", "indicator"]].iloc[0].tolist() \
        == ["paud_participation", "desa_kelurahan", "Cempaka", "Palam", 55.5, 10]
    assert st[["source_file", "source_sheet", "source_row"]].iloc[0].tolist() == [
        "statistics/s.csv", "", 2]


# ---------------------------------------------------------------- unreadable files


def test_unreadable_files_each_give_one_problem_row_in_the_same_table(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "", "empty.csv")
    (d / "raw" / "statistics" / "corrupt.xlsx").write_bytes(b"not a workbook")
    (d / "raw" / "statistics" / "bad_encoding.csv").write_bytes(
        b"Kelurahan;Tahun;APK PAUD\nPalam\x81\x8d;2022;55\n")
    (d / "raw" / "statistics" / "scan.pdf").write_bytes(b"%PDF")
    stats_csv(d, "a;b\n1;2\n", "no_header.csv")
    probs = problems(d)
    got = {(f, r) for f, r in probs[["file", "rule"]].itertuples(index=False)}
    assert got == {("statistics/empty.csv", "empty_file"),
                   ("statistics/corrupt.xlsx", "unreadable_file"),
                   ("statistics/bad_encoding.csv", "unreadable_file"),
                   ("statistics/scan.pdf", "unsupported_file"),
                   ("statistics/no_header.csv", "no_header")}
    assert list(probs.columns) == ["file", "sheet", "row", "column", "rule", "value", "hint"]
    assert (probs["hint"] != "").all()


def test_missing_required_column_reported_at_the_header_row(tmp_path):
    d = data_dir(tmp_path)
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx",
               [["PENILAIAN MANDIRI"], [], ["Tahun", "Indikator", "Keterangan"], [2023, 1, "x"]])
    p = rule(problems(d), "missing_column")
    assert where(p) == [("self_assessment/pm.xlsx", "Data", 3, "Nilai Penilaian Mandiri")]


def test_year_may_come_from_the_title_rows_else_missing_column(tmp_path):
    d = data_dir(tmp_path)
    rows = [["PENILAIAN MANDIRI KOTA BANJARBARU TAHUN 2023"], [],
            ["Indikator", "Nilai Mandiri"], *[[i, 20] for i in range(1, 27)]]
    write_xlsx(d / "raw" / "self_assessment" / "with_title.xlsx", rows)
    write_xlsx(d / "raw" / "self_assessment" / "no_year.xlsx", [["PENILAIAN MANDIRI"], *rows[1:]])
    res = validate_data(project_paths(d))
    assert where(res.problems) == [("self_assessment/no_year.xlsx", "Data", 3, "Tahun Evaluasi")]
    assert res.problems["rule"].tolist() == ["missing_column"]
    assert set(res.tables["self_assessment"]["year"].dropna()) == {2023}


def test_header_only_file_has_no_data(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "Judul\nKelurahan;Tahun;APK PAUD\n")
    assert where(rule(problems(d), "no_data")) == [("statistics/s.csv", "", 2, "")]


def test_unknown_and_duplicate_columns(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "Kelurahan;Tahun;APK PAUD;Warna;Tahun Data\nPalam;2022;55;biru;2022\n")
    probs = problems(d)
    assert where(rule(probs, "unknown_column")) == [("statistics/s.csv", "", 1, "Warna")]
    assert where(rule(probs, "duplicate_column")) == [("statistics/s.csv", "", 1, "Tahun Data")]


# ---------------------------------------------------------------- values


def test_bad_cells_reported_with_spreadsheet_row_and_header_as_written(tmp_path):
    d = data_dir(tmp_path)
    text = ("DATA KESEHATAN (ilustratif)\n"                                    # 1
            "\n"                                                               # 2
            "Kelurahan;Tahun;Balita Diukur;Balita Stunting;% Stunting\n"       # 3
            "Palam;Tahun 2022;1.234;150;12,2%\n"                               # 4 ok
            "Bangkal;2022;abc;10;-\n"                                          # 5 not a number
            "Cempaka;2022;100,5;10;10\n"                                       # 6 not an integer
            "Komet;2022;100;120;\n"                                            # 7 num > den
            "Mentaos;2022;200;20;25\n"                                         # 8 != 10
            "Kemuning;2022;200;20;105\n"                                       # 9 > 100
            "Sungai Besar;2022;-5;;\n"                                         # 10 negative
            "Palam;1999;100;10;10\n"                                           # 11 year range
            "Palam;dua ribu;100;10;10\n")                                      # 12 not a year
    stats_csv(d, text, encoding="cp1252")
    probs = problems(d)
    f = "statistics/s.csv"
    expect = {
        "not_a_number": [(f, "", 5, "Balita Diukur")],
        "not_an_integer": [(f, "", 6, "Balita Diukur")],
        "numerator_above_denominator": [(f, "", 7, "Balita Stunting")],
        "value_mismatch": [(f, "", 8, "% Stunting")],
        "out_of_range": [(f, "", 9, "% Stunting"), (f, "", 10, "Balita Diukur")],
        "year_out_of_range": [(f, "", 11, "Tahun")],
        "not_a_year": [(f, "", 12, "Tahun")],
    }
    for name, locs in expect.items():
        assert where(rule(probs, name)) == locs, name
    assert rule(probs, "not_a_number")["value"].tolist() == ["abc"]
    assert set(probs["rule"]) == set(expect)


def test_missing_values_in_required_columns(tmp_path):
    d = data_dir(tmp_path)
    rows = self_assessment_rows()
    rows[5][2] = None   # spreadsheet row 6
    rows[7][2] = "-"    # row 8
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", rows)
    p = rule(problems(d), "missing_value")
    assert where(p) == [("self_assessment/pm.xlsx", "Data", 6, "Nilai Mandiri"),
                        ("self_assessment/pm.xlsx", "Data", 8, "Nilai Mandiri")]


def test_points_above_the_catalog_maximum_and_unknown_indicators(tmp_path):
    d = data_dir(tmp_path)
    rows = self_assessment_rows()
    rows[4][2] = 50        # indicator 4, max 40 in the folder's flat test weights; row 5
    rows[24][1] = 27       # row 25: there is no indicator 27 (so 24 is missing)
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", rows)
    probs = problems(d)
    over = rule(probs, "out_of_range")
    assert where(over) == [("self_assessment/pm.xlsx", "Data", 5, "Nilai Mandiri")]
    assert "0-40" in over["hint"].iloc[0] and "assumption" in over["hint"].iloc[0]
    assert where(rule(probs, "unknown_indicator")) == [
        ("self_assessment/pm.xlsx", "Data", 25, "Indikator")]
    missing = rule(probs, "missing_indicator")
    assert where(missing) == [("self_assessment/pm.xlsx", "Data", None, "Indikator")]
    assert missing["value"].iloc[0] == "24"


def test_points_maximum_follows_a_configured_catalog(tmp_path):
    from kla_analysis.catalog import load_catalog

    d = data_dir(tmp_path)
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", self_assessment_rows(points=40))
    from fixtures.pipeline.helpers import FLAT_WEIGHTS

    cat = load_catalog(FLAT_WEIGHTS)  # claims are checked on the claims scale
    cat.loc[cat["indicator"] == 3, "claims_max_points"] = 30.0
    res = validate_data(project_paths(d), catalog=cat)
    # indicator 3 above its maximum, and so block KLB (1-3) above its 40 + 40 + 30
    got = sorted(zip(where(res.problems), res.problems["rule"], strict=True))
    assert got == [(("self_assessment/pm.xlsx", "Data", 2, "Nilai Mandiri"),
                    "above_block_maximum"),
                   (("self_assessment/pm.xlsx", "Data", 4, "Nilai Mandiri"), "out_of_range")]


def test_duplicate_keys_within_and_across_files_point_at_the_first(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "Kelurahan;Tahun;APK PAUD\nPalam;2022;55\nPALAM;2022;56\n", "a.csv")
    stats_csv(d, "Kelurahan;Tahun;APK PAUD\nKel. Palam;2022;57\nPalam;2023;57\n", "b.csv")
    p = rule(problems(d), "duplicate_key")
    assert where(p) == [("statistics/a.csv", "", 3, "APK PAUD"),
                        ("statistics/b.csv", "", 2, "APK PAUD")]
    assert p["hint"].str.endswith("statistics/a.csv row 2").all()


# ---------------------------------------------------------------- places


def test_unknown_kelurahan_not_mapped_but_hinted(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "Kecamatan;Kelurahan;Tahun;APK PAUD\n"
                 "Cempaka;SEI. TIUNG;2022;50\n"      # listed variant: accepted
                 "Cempaka;Sei Tyung;2022;51\n"       # unknown spelling: row 3
                 "Kec. Cempaka;Komet;2022;52\n"      # Komet lies in Banjarbaru Utara: row 4
                 "Cempaka Raya;Palam;2022;53\n")     # unknown kecamatan: row 5
    res = validate_data(project_paths(d))
    unknown = rule(res.problems, "unknown_kelurahan")
    assert where(unknown) == [("statistics/s.csv", "", 3, "Kelurahan")]
    assert "Sungai Tiung" in unknown["hint"].iloc[0]
    assert where(rule(res.problems, "kecamatan_mismatch")) == [("statistics/s.csv", "", 4,
                                                                 "Kecamatan")]
    assert where(rule(res.problems, "unknown_kecamatan")) == [("statistics/s.csv", "", 5,
                                                                "Kecamatan")]
    assert "Sungai Tiung" in set(res.tables["statistics"]["area"])  # the variant was mapped


def test_unknown_city_and_bad_city_config(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "Kota;Kelurahan;Tahun;APK PAUD\nKota Banjarbaruu;Palam;2022;50\n")
    p = rule(problems(d), "unknown_city")
    assert where(p) == [("statistics/s.csv", "", 2, "Kota")]
    assert "Kota Banjarbaru" in p["hint"].iloc[0]
    write_text(d / "raw" / "city.yaml", "city: [unclosed\n")
    assert where(rule(problems(d), "invalid_config")) == [("city.yaml", "", None, "")]


def test_without_city_yaml_a_city_column_is_required(tmp_path):
    d = data_dir(tmp_path, city=False)
    stats_csv(d, "Kelurahan;Tahun;APK PAUD\nPalam;2022;50\n")
    # the header the templates write (neutral for kabupaten and kota), and the hint names
    # the folder's settings file, never the package
    found = rule(problems(d), "missing_column")
    assert where(found) == [("statistics/s.csv", "", 1, "Kabupaten/Kota")]
    assert "raw/kla.yaml" in found["hint"][0] and "kla_analysis/" not in found["hint"][0]


def test_gazetteer_duplicate_and_ambiguous_variants(tmp_path):
    d = data_dir(tmp_path, gazetteer=False)
    write_text(d / "raw" / "gazetteer" / "g.csv",
               "Kota,Kecamatan,Kelurahan,Varian Ejaan\n"
               "Kota Banjarbaru,Cempaka,Palam,Palem\n"
               "Kota Banjarbaru,Cempaka,Bangkal,Palem | Bangkel\n"
               "Kota Banjarbaru,Cempaka,PALAM,\n")
    probs = problems(d)
    assert where(rule(probs, "ambiguous_variant")) == [("gazetteer/g.csv", "", 2, "Varian Ejaan"),
                                                       ("gazetteer/g.csv", "", 3, "Varian Ejaan")]
    assert where(rule(probs, "duplicate_key")) == [("gazetteer/g.csv", "", 4, "Kelurahan")]


def test_gazetteer_holds_several_cities(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "gazetteer" / "banjarmasin.csv",
               "Kota,Kecamatan,Kelurahan\nKota Banjarmasin,Banjarmasin Utara,Alalak Utara\n"
               "Kota Banjarmasin,Banjarmasin Utara,Palam\n")  # same name, other city: fine
    stats_csv(d, "Kota;Kelurahan;Tahun;APK PAUD\nKota Banjarmasin;Alalak Utara;2022;50\n"
                 "Kota Banjarmasin;Palam;2022;51\nKota Banjarbaru;Palam;2022;52\n"
                 "Kota Banjarbaru;Alalak Utara;2022;53\n")
    res = validate_data(project_paths(d))
    assert where(res.problems) == [("statistics/s.csv", "", 5, "Kelurahan")]
    st = res.tables["statistics"].dropna(subset=["area"])
    assert sorted(zip(st["city"], st["area"], strict=True)) == [
        ("Kota Banjarbaru", "Palam"), ("Kota Banjarmasin", "Alalak Utara"),
        ("Kota Banjarmasin", "Palam")]


# ---------------------------------------------------------------- measures


def test_long_layout_unknown_measure_and_unit_mismatch(tmp_path):
    d = data_dir(tmp_path)
    write_xlsx(d / "raw" / "statistics" / "long.xlsx", [
        ["CAPAIAN KOTA"], [],
        ["Tahun Data", "Ukuran", "Nilai", "Pembilang", "Penyebut", "Satuan"],   # 3
        [2022, "Jumlah penduduk", "258.753", None, None, "jiwa"],               # 4 ok
        [2022, "stunting_prevalence", None, 130, 1000, "persen"],               # 5 ok, computed
        [2022, "Prevalensi stuntng", 13, None, None, "persen"],                 # 6 unknown
        [2022, "violence_cases", 12, None, None, "persen"],                     # 7 unit
    ])
    res = validate_data(project_paths(d))
    f = "statistics/long.xlsx"
    um = rule(res.problems, "unknown_measure")
    assert where(um) == [(f, "Data", 6, "Ukuran")] and "stunting_prevalence" in um["hint"][0]
    assert where(rule(res.problems, "unit_mismatch")) == [(f, "Data", 7, "Satuan")]
    st = res.tables["statistics"].set_index("measure")
    assert st.loc["population", "value"] == 258753 and \
        st.loc["population", "area_level"] == "kabupaten_kota"
    assert st.loc["stunting_prevalence", "value"] == 13.0


def test_blank_statistics_are_not_carried_over(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "Kelurahan;Tahun;APK PAUD;APS 16-18\nPalam;2022;-;n/a\nBangkal;2022;;80\n")
    res = validate_data(project_paths(d))
    assert res.ok
    assert res.tables["statistics"][["area", "measure"]].values.tolist() == [
        ["Bangkal", "school_participation"]]


# ---------------------------------------------------------------- evidence and official


def evidence_rows(*rows):
    return [["Tahun", "Indikator", "Kode Data Dukung", "Judul Dokumen", "Status", "OPD",
             "Tanggal Dokumen", "Tautan"], *rows]


def test_evidence_rules(tmp_path):
    d = data_dir(tmp_path)
    write_xlsx(d / "raw" / "evidence" / "dd.xlsx", evidence_rows(
        [2023, 4, "4.1", "Data akta", "ADA", "Disdukcapil", "12/03/2023", "a.pdf"],    # 2 ok
        [2023, 4, "4.9", "X", "ada", "Disdukcapil", None, None],                      # 3 item
        [2023, 5, "4.2", "X", "ada", "Disdukcapil", None, None],                      # 4 mismatch
        [2023, 2, "2.1", None, "Ada", "DP3APMP2KB", None, "-"],                       # 5 no doc
        [2023, 2, "2.2", "RAD", "hilang", "DP3APMP2KB", None, None],                  # 6 status
        [2023, 2, "2.3", "Profil", "kadaluarsa", "DP3APMP2KB", "kemarin", None],      # 7 date
        [2023, 2, "2.3", "Profil", "tidak  ada", None, None, None],                   # 8 dup, opd
    ))
    probs = problems(d)
    f = "evidence/dd.xlsx"
    expect = {
        "unknown_item": [(f, "Data", 3, "Kode Data Dukung")],
        "item_indicator_mismatch": [(f, "Data", 4, "Indikator")],
        "missing_document": [(f, "Data", 5, "Status")],
        "not_allowed": [(f, "Data", 6, "Status")],
        "not_a_date": [(f, "Data", 7, "Tanggal Dokumen")],
        "duplicate_key": [(f, "Data", 8, "Kode Data Dukung")],
        "missing_value": [(f, "Data", 8, "OPD")],
    }
    for name, locs in expect.items():
        assert where(rule(probs, name)) == locs, name
    assert set(probs["rule"]) == set(expect)
    assert "tidak ada" in rule(probs, "not_allowed")["hint"][0]


def test_evidence_status_normalised_and_indicator_derived_from_item(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "evidence" / "dd.csv",
               "Tahun,Kode Data Dukung,Status,OPD\n2023,4.1,Tidak_Ada,Disdukcapil\n"
               "2023,13.2,DALAM PROSES,Dinkes\n", "utf-8-sig")
    res = validate_data(project_paths(d))
    assert res.ok, res.problems
    ev = res.tables["evidence"]
    assert ev[["indicator", "item", "status"]].values.tolist() == [
        [4, "4.1", "tidak_ada"], [13, "13.2", "dalam_proses"]]


def test_official_results_rules(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "official" / "o.csv",
               "Kabupaten/Kota,Tahun,Predikat,Nilai,Status,Sumber\n"
               "Kab. Tabalong,2023,nindya,,published,https://example.org/a\n"   # 2 ok
               "Kota Banjarmasin,2023,Super,,published,https://example.org/b\n"  # 3 predicate
               "Kota Banjarmasin,2022,Nindya,1200,rumor,example.org\n"          # 4 score, status, url
               "Kabupaten Tabalong,2023,Nindya,,published,https://example.org/c\n")  # 5 dup
    res = validate_data(project_paths(d))
    f = "official/o.csv"
    assert where(res.problems) == [(f, "", 3, "Predikat"), (f, "", 4, "Nilai"),
                                   (f, "", 4, "Status"), (f, "", 4, "Sumber"),
                                   (f, "", 5, "Tahun")]
    assert res.problems["rule"].tolist() == ["not_allowed", "out_of_range", "not_allowed",
                                             "not_a_url", "duplicate_key"]
    row = res.tables["official_results"].iloc[0]
    assert (row["city"], row["predicate"], row["province"]) == (
        "Kabupaten Tabalong", "Nindya", "Kalimantan Selatan")


# ---------------------------------------------------------------- one pass, one exception


def test_all_problems_of_all_files_in_one_pass_and_one_exception(tmp_path):
    d = data_dir(tmp_path)
    stats_csv(d, "Kelurahan;Tahun;APK PAUD\nPalam;2022;abc\n", "a.csv")
    stats_csv(d, "", "b.csv")
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", self_assessment_rows(points=99))
    with pytest.raises(InputProblems) as err:
        check_data(project_paths(d))
    probs = err.value.problems
    assert set(probs["file"]) == {"statistics/a.csv", "statistics/b.csv",
                                  "self_assessment/pm.xlsx"}
    assert (probs["rule"] == "out_of_range").sum() == 26  # every indicator, block KD too
    assert probs["row"].dtype == "Int64" and list(probs.columns) == [
        "file", "sheet", "row", "column", "rule", "value", "hint"]



def test_messy_excel_and_bom_csv_report_the_exact_cell(tmp_path):
    """Title rows, a merged two-row header, a numbering row, a vertically merged kecamatan, a
    JUMLAH row and a note below (Excel); a UTF-8-BOM CSV whose first header carries the BOM."""
    d = data_dir(tmp_path)
    rows = [
        ["REKAPITULASI AKTA KELAHIRAN ANAK"],                                       # 1
        ["KOTA BANJARBARU TAHUN 2022"],                                             # 2
        [],                                                                         # 3
        ["No", "Kecamatan", "Kelurahan", "Jumlah Anak 0-17 Tahun",
         "Memiliki Akta Kelahiran", None],                                         # 4
        [None, None, None, None, "Jumlah", "%"],                                    # 5
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"],                                 # 6
        [1, "CEMPAKA", "PALAM", 2000, 1800, 90.0],                                  # 7
        [2, None, "BANGKAL", 1000, 950, "95,0%"],                                   # 8
        [3, None, "SEI. TIUNG", 1000, 900, "sembilan puluh"],                       # 9 bad
        [4, None, "CEMPAKA", 1000, 900, 90.0],                                      # 10
        ["JUMLAH", None, None, 5000, 4550, 91.0],                                   # 11
        [],                                                                         # 12
        ["Sumber: Disdukcapil (ilustratif)"],                                       # 13
    ]
    merges = ("A4:A5", "B4:B5", "C4:C5", "D4:D5", "E4:F4", "B7:B10", "A11:C11", "A13:F13")
    write_xlsx(d / "raw" / "statistics" / "akta.xlsx", rows, merges, sheet="2022")
    stats_csv(d, "Tahun Data,Kelurahan,APS 16-18 (%)\n2022,Palam,85.5\n2022,Bangkal,8x5\n",
              "disdik.csv", "utf-8-sig")
    res = validate_data(project_paths(d))
    assert where(res.problems) == [
        ("statistics/akta.xlsx", "2022", 9, "Memiliki Akta Kelahiran / %"),
        ("statistics/disdik.csv", "", 3, "APS 16-18 (%)")]
    assert set(res.problems["rule"]) == {"not_a_number"}
    st = res.tables["statistics"]
    akta = st[st["measure"] == "birth_certificate_coverage"].set_index("area")
    assert akta.loc["Bangkal", "value"] == 95.0 and akta.loc["Sungai Tiung", "kecamatan"] == \
        "Cempaka"
    assert set(akta["data_year"]) == {2022} and len(akta) == 4
