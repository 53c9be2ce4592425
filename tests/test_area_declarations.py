"""raw/area_declarations/ (block KD): the register of Kecamatan / Desa-Kelurahan Layak Anak
decrees is validated against the gazetteer and gives the statistics of indicators 25-26
(share of declared areas, city level). All names, SK numbers and dates below are
illustrative test values (the bundled gazetteer: 5 kecamatan, 20 kelurahan)."""

import datetime as dt

import openpyxl
import pandas as pd
from fixtures.pipeline.helpers import data_dir, problems, rule, where, write_text, write_xlsx

from kla_analysis.catalog import load_catalog
from kla_analysis.config import project_paths
from kla_analysis.ingest.build import build
from kla_analysis.ingest.validate import DTYPES, validate_data
from kla_analysis.ingest.xlsx_templates import HEADER_ROW, write_template, write_templates
from kla_analysis.model import rules as R
from kla_analysis.model.estimate import headline_statistics
from kla_analysis.tables import load_table

CITY = "Kota Banjarbaru"
HEAD = "Tahun;Kecamatan;Kelurahan;Ditetapkan Layak Anak;Nomor SK;Tanggal SK;PATBM Terintegrasi"
REGISTER = "\n".join([  # illustrative
    HEAD,
    "2022;Cempaka;;Ditetapkan;188.45/10/KUM/2021;12/03/2021;",
    "2022;Kec. Landasan Ulin;;Belum;;;",
    "2022;Cempaka;Palam;ya;188.45/11/KUM/2022;01/04/2022;ya",
    "2022;Cempaka;Sei Tiung;Sudah Ditetapkan;188.45/12/KUM/2022;01/04/2022;",
    "2022;Cempaka;Bangkal;tidak;;;tidak",
    "2023;Banjarbaru Utara;Komet;ya;188.45/20/KUM/2023;05/05/2023;ya",
]) + "\n"


def kd(stats: pd.DataFrame) -> pd.DataFrame:
    rows = stats[stats["measure"].isin(["kecamatan_layak_anak", "desa_kelurahan_layak_anak"])]
    return rows.set_index(["data_year", "measure"])


def test_shares_of_declared_areas_from_a_small_register(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "area_declarations" / "sk.csv", REGISTER)
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    decl = res.tables["area_declarations"]
    assert {c: str(t) for c, t in decl.dtypes.items()} == DTYPES["area_declarations"]
    assert len(decl) == 6
    kec = decl[decl["area_level"] == "kecamatan"].set_index("kecamatan")
    assert kec["declared"].to_dict() == {"Cempaka": True, "Landasan Ulin": False}
    assert kec["kelurahan"].isna().all()
    kel = decl[decl["area_level"] == "desa_kelurahan"].set_index("kelurahan")
    assert set(kel.index) == {"Palam", "Sungai Tiung", "Bangkal", "Komet"}  # canonical
    assert kel.loc["Palam", "patbm"] and not kel.loc["Bangkal", "patbm"]
    assert pd.isna(kel.loc["Sungai Tiung", "patbm"])  # blank: not given
    assert kel.loc["Palam", "decree_date"] == pd.Timestamp("2022-04-01")

    st = kd(res.tables["statistics"])
    # 2022: 1 of 5 kecamatan, 2 of 20 kelurahan; unlisted areas count as not declared
    k22 = st.loc[(2022, "kecamatan_layak_anak")]
    assert (k22["value"], k22["numerator"], k22["denominator"]) == (20.0, 1.0, 5.0)
    assert (k22["indicator"], k22["unit"], k22["area_level"], k22["area"]) == (
        25, "percent", "kabupaten_kota", CITY)
    assert pd.isna(k22["kecamatan"]) and k22["city"] == CITY
    assert (k22["source_file"], k22["source_row"]) == ("area_declarations/sk.csv", 2)
    d22 = st.loc[(2022, "desa_kelurahan_layak_anak")]
    assert (d22["value"], d22["numerator"], d22["denominator"], d22["indicator"]) == (
        10.0, 2.0, 20.0, 26)
    assert d22["source_row"] == 4
    # 2023 lists a kelurahan only: indicator 26 (1 of 20), no kecamatan figure (no data)
    assert st.loc[(2023, "desa_kelurahan_layak_anak"), "value"] == 5.0
    assert (2023, "kecamatan_layak_anak") not in st.index


def test_the_derived_row_is_the_indicators_headline_statistic(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "area_declarations" / "sk.csv", REGISTER)
    res = validate_data(project_paths(d))
    got = headline_statistics(res.tables, 2022, CITY, R.load_rules(), load_catalog())
    got = got.set_index("indicator")
    assert got.loc[25, "statistic_value"] == 20.0 and got.loc[26, "statistic_value"] == 10.0
    assert got.loc[25, "statistic_source"] == "kabupaten_kota"


def test_year_from_the_title_and_a_register_of_declared_areas_only(tmp_path):
    d = data_dir(tmp_path)
    write_xlsx(d / "raw" / "area_declarations" / "penetapan.xlsx", [
        ["PENETAPAN KELURAHAN LAYAK ANAK KEADAAN TAHUN 2024 (data ilustratif)"],
        [],
        ["No", "Kecamatan", "Desa/Kelurahan", "Status Layak Anak", "No SK", "Tgl SK",
         "Keterangan"],
        [1, "Bjb Utara", "Lok Tabat Utara", "Ya", "188.45/7/KUM/2023",
         dt.datetime(2023, 8, 17), "ilustratif"],
        [2, "Bjb Utara", "Mentaus", "Ditetapkan", "188.45/8/KUM/2024",
         dt.datetime(2024, 2, 1), "ilustratif"],
        [3, "Banjarbaru Utara", None, "ya", "188.45/9/KUM/2024", dt.datetime(2024, 2, 1),
         ""],
        ["Catatan: wilayah lain belum ditetapkan"]])
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    st = kd(res.tables["statistics"])
    assert st.loc[(2024, "desa_kelurahan_layak_anak"), "value"] == 10.0  # 2 of 20
    assert st.loc[(2024, "kecamatan_layak_anak"), "value"] == 20.0  # 1 of 5
    decl = res.tables["area_declarations"]
    assert set(decl["kelurahan"].dropna()) == {"Loktabat Utara", "Mentaos"}
    assert set(decl["source_sheet"]) == {"Data"} and set(decl["year"]) == {2024}


def test_unknown_areas_wrong_kecamatan_and_duplicates_are_problems(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "area_declarations" / "sk.csv", "\n".join([
        HEAD,
        "2022;Cempakka;;tidak;;;",                          # row 2: unknown kecamatan
        "2022;Cempaka;Palma;tidak;;;",                      # row 3: unknown kelurahan
        "2022;Cempaka;Komet;tidak;;;",                      # row 4: Komet is in Bjb Utara
        "2022;Cempaka;;tidak;;;",                           # row 5
        "2022;Kec. Cempaka;;ya;188.45/1/KUM/2022;;",        # row 6: same as row 5
        "2022;Cempaka;Palam;tidak;;;",                      # row 7
        "2022;Cempaka;Kel. Palam;tidak;;;",                 # row 8: same as row 7
        "2021;Cempaka;Palam;tidak;;;",                      # row 9: another year: fine
    ]) + "\n")
    probs = problems(d)
    f = "area_declarations/sk.csv"
    assert where(probs) == [(f, "", 2, "Kecamatan"), (f, "", 3, "Kelurahan"),
                            (f, "", 4, "Kecamatan"), (f, "", 6, "Kecamatan"),
                            (f, "", 8, "Kelurahan")]
    assert rule(probs, "unknown_kecamatan").loc[0, "hint"].startswith(
        "not in the gazetteer for Kota Banjarbaru; closest known: Cempaka")
    assert "closest known: Palam" in rule(probs, "unknown_kelurahan").loc[0, "hint"]
    mismatch = rule(probs, "kecamatan_mismatch").loc[0]
    assert mismatch["value"] == "Cempaka" and mismatch["hint"].startswith(
        "desa/kelurahan Komet lies in kecamatan Banjarbaru Utara, not in Cempaka")
    dup = rule(probs, "duplicate_key")
    assert dup["hint"].tolist() == [f"same city, year, kecamatan as {f} row 5",
                                    f"same city, year, kecamatan, kelurahan as {f} row 7"]
    assert dup["value"].tolist() == ["Kec. Cempaka", "Kel. Palam"]


def test_declared_without_decree_and_decree_dates(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "area_declarations" / "sk.csv", "\n".join([
        HEAD,
        "2022;Cempaka;;ya;;;",                                  # row 2: no SK number
        "2022;Cempaka;Palam;ya;188.45/2/KUM/2023;02/01/2023;",  # row 3: SK after 2022
        "2022;Cempaka;Bangkal;ya;188.45/3/KUM/2099;02/01/2099;",  # row 4: in the future
        "2022;Cempaka;Sungai Tiung;entah;;;",                   # row 5: not a choice
    ]) + "\n")
    write_text(d / "raw" / "area_declarations" / "no_column.csv",
               "Tahun;Kecamatan;Layak Anak\n2022;Liang Anggang;ya\n")
    probs = problems(d)
    f = "area_declarations/sk.csv"
    missing = rule(probs, "missing_decree")
    assert where(missing) == [("area_declarations/no_column.csv", "", 2, "Layak Anak"),
                              (f, "", 2, "Nomor SK")]
    assert "add a column 'Nomor SK'" in missing.loc[0, "hint"]
    assert "write the number of its decree (SK)" in missing.loc[1, "hint"]
    late = rule(probs, "decree_after_year").loc[0]
    assert (late["row"], late["column"], late["value"]) == (3, "Tanggal SK", "02/01/2023")
    assert "dated in 2023, after the year of the row (Tahun: 2022)" in late["hint"]
    assert where(rule(probs, "future_date")) == [(f, "", 4, "Tanggal SK")]
    bad = rule(probs, "not_allowed").loc[0]
    assert (bad["row"], bad["column"], bad["hint"]) == (5, "Ditetapkan Layak Anak",
                                                        "allowed: ya, tidak")


def test_no_register_folder_validates_and_derives_nothing(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "s.csv",
               "Tahun Data;Ukuran;Nilai;Satuan\n2022;Jumlah penduduk;1000;jiwa\n")
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    assert res.tables["area_declarations"].empty
    assert {c: str(t) for c, t in res.tables["area_declarations"].dtypes.items()} == \
        DTYPES["area_declarations"]
    assert kd(res.tables["statistics"]).empty and len(res.tables["statistics"]) == 1
    build(project_paths(d))
    assert load_table("area_declarations", project_paths(d)).empty


def test_a_statistics_file_giving_the_same_figure_is_a_duplicate(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "area_declarations" / "sk.csv", REGISTER)
    write_text(d / "raw" / "statistics" / "capaian.csv", "\n".join([
        "Tahun Data;Ukuran;Nilai;Satuan",
        "2022;Persentase kecamatan layak anak;40;persen",   # row 2: also in the register
        "2021;Kecamatan layak anak;40;persen",              # row 3: not in the register
        "2023;Persentase kecamatan layak anak;60;persen",   # row 4: register lists no kec.
    ]) + "\n")
    probs = problems(d)
    assert where(probs) == [("statistics/capaian.csv", "", 2, "Ukuran")]
    p = probs.iloc[0]
    assert (p["rule"], p["value"]) == ("duplicate_key", "Persentase kecamatan layak anak")
    assert "area_declarations/sk.csv, row 2" in p["hint"]
    assert "kecamatan_layak_anak = 20%" in p["hint"] and "Kota Banjarbaru 2022" in p["hint"]


def test_derived_rows_join_the_statistics_files_rows_unchanged(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "area_declarations" / "sk.csv", REGISTER)
    write_text(d / "raw" / "statistics" / "s.csv", "\n".join([
        "Tahun Data;Kecamatan;Kelurahan;Ukuran;Nilai;Pembilang;Penyebut;Satuan",
        "2022;;;Jumlah penduduk;1000;;;jiwa",
        "2022;Cempaka;Palam;Cakupan akta kelahiran anak;;90;100;persen",
        "2021;;;Persentase kecamatan layak anak;40;;;persen",  # a year the register lacks
    ]) + "\n")
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    st = res.tables["statistics"]
    assert {c: str(t) for c, t in st.dtypes.items()} == DTYPES["statistics"]
    # 3 rows of the file, 3 derived (2022: both levels, 2023: kelurahan only)
    assert st.notna().sum().to_dict() == {
        "city": 6, "data_year": 6, "indicator": 5, "measure": 6, "area_level": 6,
        "kecamatan": 1, "area": 6, "value": 6, "numerator": 4, "denominator": 4, "unit": 6,
        "source_file": 6, "source_sheet": 6, "source_row": 6}
    by = st.set_index(["data_year", "measure", "area_level"])
    palam = by.loc[(2022, "birth_certificate_coverage", "desa_kelurahan")]
    assert (palam["area"], palam["kecamatan"], palam["value"], palam["unit"],
            palam["source_file"], palam["source_row"]) == (
        "Palam", "Cempaka", 90.0, "percent", "statistics/s.csv", 3)
    assert by.loc[(2021, "kecamatan_layak_anak", "kabupaten_kota"), "source_file"] == \
        "statistics/s.csv"
    assert by.loc[(2022, "kecamatan_layak_anak", "kabupaten_kota"), "source_file"] == \
        "area_declarations/sk.csv"


def test_a_statistics_file_may_give_the_measures_without_a_register(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "capaian.csv", "\n".join([
        "Tahun Data;Ukuran;Pembilang;Penyebut;Satuan",
        "2022;Persentase kecamatan layak anak;2;5;persen",
        "2022;DEKELA;5;20;persen",
    ]) + "\n")
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    st = kd(res.tables["statistics"])
    assert st.loc[(2022, "kecamatan_layak_anak"), "value"] == 40.0
    assert st.loc[(2022, "kecamatan_layak_anak"), "indicator"] == 25
    assert st.loc[(2022, "desa_kelurahan_layak_anak"), "indicator"] == 26
    assert set(st["source_file"]) == {"statistics/capaian.csv"}


def test_the_filled_template_validates(tmp_path):
    d = data_dir(tmp_path)
    paths = project_paths(d)
    city, gaz = {"city": CITY, "province": "Kalimantan Selatan"}, validate_data(
        paths).tables["gazetteer"]
    path = write_template("area_declarations", 2026, tmp_path / "out", city, gaz)
    assert path.name == "template_penetapan_wilayah_layak_anak_2026.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Data"]
    head = [c.value for c in ws[HEADER_ROW] if c.value is not None]
    assert head[:8] == ["Kabupaten/Kota", "Tahun", "Kecamatan", "Desa/Kelurahan",
                        "Ditetapkan Layak Anak",
                        "Nomor SK", "Tanggal SK", "PATBM Terintegrasi"]
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, max_col=4, values_only=True))
    assert len(rows) == 25 and {r[1] for r in rows} == {2025}  # data year of 2026
    assert sum(r[3] is None for r in rows) == 5  # one row per kecamatan, then its kelurahan
    daftar = wb["Daftar"]
    lists = {daftar.cell(1, c).value: c for c in range(1, daftar.max_column + 1)}
    assert [daftar.cell(r, lists["daftar ya_tidak"]).value for r in (2, 3)] == ["ya", "tidak"]
    yes_no = [dv for dv in ws.data_validations.dataValidation
              if dv.formula1 and "Daftar" in dv.formula1
              and f"${openpyxl.utils.get_column_letter(lists['daftar ya_tidak'])}$"
              in dv.formula1]
    assert {r.min_col for dv in yes_no for r in dv.sqref.ranges} == {5, 8}
    for r in range(HEADER_ROW + 1, HEADER_ROW + 26):
        kecamatan_row = ws.cell(r, 4).value is None
        declared = kecamatan_row or r % 2 == 0
        ws.cell(r, 5, "ya" if declared else "tidak")
        if declared:
            ws.cell(r, 6, f"188.45/{r}/KUM/2025")
            ws.cell(r, 7, dt.datetime(2025, 3, 1))
        if not kecamatan_row:
            ws.cell(r, 8, "ya" if declared else "tidak")
    (d / "raw" / "area_declarations").mkdir(parents=True)
    wb.save(d / "raw" / "area_declarations" / path.name)
    res = validate_data(paths)
    assert res.ok, res.problems.to_string()
    st = kd(res.tables["statistics"])
    assert st.loc[(2025, "kecamatan_layak_anak"), "value"] == 100.0
    assert st.loc[(2025, "desa_kelurahan_layak_anak"), "numerator"] == 10.0


def test_kla_template_writes_the_register_template(tmp_path):
    d = data_dir(tmp_path)
    names = [p.name for p in write_templates(2026, tmp_path / "t", project_paths(d))]
    assert "template_penetapan_wilayah_layak_anak_2026.xlsx" in names
