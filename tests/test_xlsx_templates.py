"""kla template: blank workbooks with the readers' headers, drop-downs and instructions; a
filled template passes validation unchanged."""

import openpyxl
import pytest
from fixtures.pipeline.helpers import data_dir, problems, rule
from typer.testing import CliRunner

from kla_analysis.catalog import load_evidence_requirements
from kla_analysis.cli import app
from kla_analysis.config import project_paths
from kla_analysis.errors import KlaError
from kla_analysis.ingest.specs import load_specs
from kla_analysis.ingest.validate import validate_data
from kla_analysis.ingest.xlsx_templates import (
    FILES,
    HEADER_ROW,
    LAYOUT,
    template_dataset,
    write_templates,
)

YEAR = 2026
FOLDERS = {"self_assessment": "self_assessment", "evidence": "evidence",
           "statistics": "statistics", "official_results": "official",
           "area_declarations": "area_declarations",
           "self_assessment_questions": "self_assessment"}


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    d = data_dir(tmp_path_factory.mktemp("tpl"))
    out = d.parent / "out"
    paths = write_templates(YEAR, out, project_paths(d))
    return d, dict(zip(FILES, paths, strict=True))


def headers(ws):
    return [c.value for c in ws[HEADER_ROW] if c.value is not None]


def test_one_workbook_per_dataset_with_the_readers_headers(templates):
    _, paths = templates
    specs = load_specs().datasets
    for name, path in paths.items():
        assert path.name == f"template_{FILES[name]}_{YEAR}.xlsx"
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames[:2] == ["Data", "Petunjuk"] and wb["Daftar"].sheet_state == "hidden"
        fields = specs[template_dataset(name)].fields
        expected = [fields[c.field].aliases[0] if c.field else c.header for c in LAYOUT[name]]
        assert headers(wb["Data"]) == expected


def test_drop_downs_for_kelurahan_indicators_items_and_status(templates):
    _, paths = templates
    wb = openpyxl.load_workbook(paths["evidence"])
    ws = wb["Data"]
    col = {h: i for i, h in enumerate(headers(ws), start=1)}
    lists = {}
    for dv in ws.data_validations.dataValidation:
        letter = dv.formula1.split("$")[1] if dv.formula1 and "Daftar" in dv.formula1 else None
        for rng in dv.sqref.ranges:
            lists[rng.min_col] = (dv.type, letter)
    daftar = wb["Daftar"]
    values = {daftar.cell(1, c).value: [daftar.cell(r, c).value for r in range(2, daftar.max_row + 1)
                                       if daftar.cell(r, c).value is not None]
              for c in range(1, daftar.max_column + 1)}
    assert lists[col["Status"]][0] == "list" and lists[col["Kode Data Dukung"]][0] == "list"
    assert values["daftar status"] == ["ada", "tidak ada", "dalam proses", "kedaluwarsa"]
    n_items = len(load_evidence_requirements())
    assert len(values["daftar item"]) == n_items and values["daftar indicator"] == list(range(1, 27))
    st = openpyxl.load_workbook(paths["statistics"])
    st_lists = st["Daftar"]
    names = [st_lists.cell(1, c).value for c in range(1, st_lists.max_column + 1)]
    kel = [st_lists.cell(r, names.index("daftar kelurahan") + 1).value for r in range(2, 22)]
    assert len(kel) == 20 and "Sungai Tiung" in kel
    assert len(st["Data"].data_validations.dataValidation) >= 5


def test_instructions_in_bahasa_indonesia(templates):
    _, paths = templates
    ws = openpyxl.load_workbook(paths["self_assessment"])["Petunjuk"]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert "PETUNJUK PENGISIAN" in text and "Langkah" in text and "jangan" in text.lower()
    assert "Nilai maksimal per indikator" in text and "asumsi" in text


def fill(path, dest, values_by_header, rows=None):
    wb = openpyxl.load_workbook(path)
    ws = wb["Data"]
    col = {h: i for i, h in enumerate(headers(ws), start=1)}
    for r, row in enumerate(rows or [values_by_header], start=HEADER_ROW + 1):
        for h, v in row.items():
            ws.cell(r, col[h], v(r) if callable(v) else v)
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)


def test_filled_templates_pass_validation_without_cleaning(templates):
    d, paths = templates
    raw = d / "raw"
    fill(paths["self_assessment"], raw / "self_assessment" / "pm.xlsx", None,
         rows=[{"Nilai Penilaian Mandiri": 20}] * 26)  # 20: within every maximum
    n_items = len(load_evidence_requirements())
    fill(paths["evidence"], raw / "evidence" / "dd.xlsx", None,
         rows=[{"Status": "ada", "Judul Dokumen": "Dokumen"}] * 25
         + [{"Status": "tidak ada"}] * (n_items - 25))
    fill(paths["statistics"], raw / "statistics" / "st.xlsx", None, rows=[
        {"Kabupaten/Kota": "Kota Banjarbaru", "Tahun Data": 2025, "Kecamatan": "Cempaka",
         "Desa/Kelurahan": "Palam", "Ukuran": "birth_certificate_coverage", "Pembilang": 900,
         "Penyebut": 1000, "Satuan": "persen"},
        {"Kabupaten/Kota": "Kota Banjarbaru", "Tahun Data": 2025, "Ukuran": "violence_cases",
         "Nilai": 40,
         "Satuan": "jumlah"}])
    fill(paths["official_results"], raw / "official" / "o.xlsx", {
        "Kabupaten/Kota": "Kota Banjarbaru", "Provinsi": "Kalimantan Selatan",
        "Tahun Evaluasi": YEAR, "Predikat": "Nindya", "Status": "published",
        "Sumber": "https://example.org/hasil"})
    # 25 prefilled areas (5 kecamatan, each followed by its 4 kelurahan): the first
    # kecamatan and its kelurahan declared
    fill(paths["area_declarations"], raw / "area_declarations" / "pw.xlsx", None,
         rows=[{"Ditetapkan Layak Anak": "ya", "Nomor SK": "188.45/1/KUM/2025 (contoh)"}] * 5
         + [{"Ditetapkan Layak Anak": "tidak"}] * 20)
    res = validate_data(project_paths(d))
    assert res.ok, res.problems
    t = res.tables
    assert len(t["self_assessment"]) == 26 and set(t["self_assessment"]["year"]) == {YEAR}
    assert t["evidence"]["status"].value_counts().to_dict() == {"tidak_ada": n_items - 25,
                                                                "ada": 25}
    st = t["statistics"].set_index("measure")
    assert st.loc["birth_certificate_coverage", "value"] == 90.0
    assert st.loc["violence_cases", "area_level"] == "kabupaten_kota"
    assert len(t["area_declarations"]) == 25 and set(t["area_declarations"]["year"]) == {
        YEAR - 1}
    assert st.loc["kecamatan_layak_anak", "value"] == 20.0
    assert st.loc["desa_kelurahan_layak_anak", "value"] == 20.0
    for folder in FOLDERS.values():
        for p in (raw / folder).iterdir():
            p.unlink()


def test_unfilled_templates_report_what_is_missing(templates, tmp_path):
    _, paths = templates
    d = data_dir(tmp_path)
    for name, path in paths.items():
        dest = d / "raw" / FOLDERS[name] / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
    probs = problems(d)
    missing = rule(probs, "missing_value")
    assert (missing["file"] == "self_assessment/template_penilaian_mandiri_2026.xlsx").sum() == 26
    assert (missing["file"] == "evidence/template_data_dukung_2026.xlsx").sum() == len(
        load_evidence_requirements())
    # the question-level template unfilled: every question unanswered (allowed), but its
    # indicators are also in the indicator-level template of the same year
    questions = "self_assessment/template_penilaian_mandiri_pertanyaan_2026.xlsx"
    assert not (missing["file"] == questions).any()
    both = rule(probs, "indicator_and_questions")
    assert len(both) == both["value"].nunique() and both["hint"].str.contains(questions).all()
    area = missing[missing["file"] == "area_declarations/template_penetapan_wilayah_layak_anak"
                                      "_2026.xlsx"]
    assert len(area) == 25 and set(area["column"]) == {"Ditetapkan Layak Anak"}
    assert set(rule(probs, "no_data")["file"]) == {
        "statistics/template_statistik_opd_2026.xlsx",
        "official/template_hasil_evaluasi_resmi_2026.xlsx"}


def test_templates_never_go_into_raw(tmp_path):
    d = data_dir(tmp_path)
    with pytest.raises(KlaError, match="raw data folder"):
        write_templates(YEAR, d / "raw" / "templates", project_paths(d))


def test_template_cli(tmp_path):
    d = data_dir(tmp_path)
    res = CliRunner().invoke(app, ["template", "--year", "2026", "--out", str(tmp_path / "t"),
                                   "--data-dir", str(d)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == sorted(
        f"template_{f}_2026.xlsx" for f in FILES.values())
