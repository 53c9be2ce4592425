"""Any kabupaten or kota, desa as well as kelurahan, with no change to the package (issue 16).

A regency folder (``fixtures/pipeline/regency.py``: desa and a kelurahan, two desa of one name
in two kecamatan, stunting per puskesmas, school participation per kecamatan without counts,
its own OPD names and a header known only to its ``raw/kla.yaml``) runs through validate,
build, score, plan and one rendered report; the figures are checked against the ones computed
from the fixture's own numbers, the wording against the region type, and bad inputs against
their root cause.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fixtures.pipeline.helpers import write_text, write_xlsx
from fixtures.pipeline.regency import (
    BIRTH,
    CHILDREN,
    DATA_YEAR,
    OPD,
    PLACES,
    REGION,
    STUNTING,
    YEAR,
    expected_birth,
    expected_school,
    expected_stunting,
    regency_folder,
)
from report_fixtures import kla
from typer.testing import CliRunner

from kla_analysis import levels
from kla_analysis.catalog import folder_weights, load_catalog
from kla_analysis.cli import app
from kla_analysis.config import REGION_MARKER, claim_reports_dir, project_paths
from kla_analysis.errors import KlaError
from kla_analysis.ingest.validate import validate_data
from kla_analysis.model import estimate
from kla_analysis.model.settings import load_settings
from kla_analysis.region import read_region
from kla_analysis.report import html, plots

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return regency_folder(tmp_path_factory.mktemp("regency"))


@pytest.fixture(scope="module")
def result(folder):
    return validate_data(project_paths(folder))


def _copy(folder: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(folder / "raw", dest / "raw")
    return dest


# --- validation: the regency's headers out of the box, its alias from kla.yaml -------------

def test_the_regency_folder_validates_without_renaming_a_header(result):
    assert result.ok, result.problems.to_string()
    notices = " | ".join(result.notices)
    # nothing silent: the puskesmas rows were combined, the percentages without counts
    # weighted, and the one without weights says why its indicator has no figure
    assert "dinkes_stunting_puskesmas.csv" in notices and "combined into 3 kecamatan" in notices
    assert "disdik_aps_kecamatan.xlsx" in notices and "weighted by child_population" in notices
    assert "disdik_paud_desa.xlsx" in notices and "no kabupaten figure" in notices


def test_the_gazetteer_keys_places_by_kecamatan_and_records_desa_or_kelurahan(result):
    gaz = result.tables["gazetteer"].set_index(["kecamatan", "kelurahan"])
    expected = {(k, n): j.lower() for k, rows in PLACES.items() for n, j, _ in rows}
    assert gaz["area_type"].to_dict() == expected  # both Sungai Rangas, Jawa a kelurahan
    assert gaz["city"].unique().tolist() == [REGION]


def test_statistics_per_desa_puskesmas_and_kecamatan(result):
    st = result.tables["statistics"]
    assert set(st["area_level"]) <= set(levels.LEVELS)
    assert set(st["city"]) == {REGION} and set(st["data_year"]) == {DATA_YEAR}
    birth = st[st["measure"] == "birth_certificate_coverage"].set_index(["kecamatan", "area"])
    assert set(birth["area_level"]) == {levels.VILLAGE}
    assert birth["value"].round(6).to_dict() == {
        k: round(100 * w / c, 6) for k, (c, w) in BIRTH.items()}  # two Sungai Rangas
    # stunting per puskesmas: combined into kecamatan rows, never a kabupaten row
    stunting = st[st["measure"] == "stunting_prevalence"]
    assert set(stunting["area_level"]) == {levels.KECAMATAN}
    want = expected_stunting()
    assert stunting.set_index("kecamatan")["value"].round(6).to_dict() == {
        k: round(want[k], 6) for k in PLACES}
    martapura = stunting.set_index("kecamatan").loc["Martapura"]
    assert (martapura["numerator"], martapura["denominator"]) == (
        STUNTING["Puskesmas Martapura 1"][1] + STUNTING["Puskesmas Martapura 2"][1],
        STUNTING["Puskesmas Martapura 1"][0] + STUNTING["Puskesmas Martapura 2"][0])
    # school participation: a kabupaten row, the kecamatan percentages weighted by children
    school = st[(st["measure"] == "school_participation") & (st["area_level"] == levels.REGION)]
    assert school["value"].tolist() == [pytest.approx(expected_school())]
    assert school["source_file"].tolist() == ["statistics/disdik_aps_kecamatan.xlsx"]
    assert sorted(st.loc[st["measure"] == "child_population", "value"]) == sorted(
        CHILDREN.values())
    # "Cakupan forum anak desa" and the kla.yaml-only "APK PAUD Desa (%)" were read
    assert len(st[st["measure"] == "child_forum_coverage"]) == 3
    assert len(st[st["measure"] == "paud_participation"]) == len(BIRTH)
    assert not ((st["measure"] == "paud_participation") & (st["area_level"] == levels.REGION)).any()


def test_the_headline_statistics_come_from_every_area(folder, result):
    settings = load_settings(weights=folder_weights(folder / "raw"))
    inputs = estimate.indicator_inputs(result.tables, YEAR, REGION, settings=settings)
    got = inputs.set_index("indicator")["statistic_value"]
    assert got[13] == pytest.approx(expected_stunting()[REGION])  # all four puskesmas
    assert got[18] == pytest.approx(expected_school())
    assert got[4] == pytest.approx(expected_birth())
    assert pd.isna(got[10])  # PAUD per desa without counts or weights: no figure (noticed)


# --- the whole chain through the CLI, one rendered report ------------------------------------

def test_validate_build_score_plan_report_read_as_a_kabupaten(folder, tmp_path):
    d = _copy(folder, tmp_path)
    res = runner.invoke(app, ["validate", "--data-dir", str(d)])
    assert res.exit_code == 0, res.output
    assert "passed validation" in res.output and "combined into 3 kecamatan" in res.output
    assert runner.invoke(app, ["build", "--data-dir", str(d)]).exit_code == 0
    score = runner.invoke(app, ["score", "--year", str(YEAR), "--data-dir", str(d), "--json"])
    assert score.exit_code == 0, score.output
    s = json.loads(score.stdout)
    assert s["city"] == REGION and s["claimed_total"] == 1000
    xlsx = tmp_path / "todo.xlsx"
    plan = runner.invoke(app, ["plan", "--year", str(YEAR), "--data-dir", str(d), "--json",
                               "--xlsx", str(xlsx)])
    assert plan.exit_code == 0, plan.output
    offices = {a["opd"] for a in json.loads(plan.stdout)["actions"]}
    assert OPD["DP3APMP2KB"] in offices and "DP3APMP2KB" not in offices
    todo = openpyxl.load_workbook(xlsx)  # one sheet per OPD, under the regency's names
    assert any(name.startswith("DP3AP2KB") for name in todo.sheetnames)
    assert not any(name.startswith("DP3APMP2KB") for name in todo.sheetnames)
    # the report goes under the data folder (no --reports-dir): never the package's reports/
    out = kla("report", "--year", str(YEAR), "--data-dir", str(d))
    assert out.returncode == 0, out.stdout + out.stderr
    page = d / "reports" / "kabupaten-tanah-contoh" / f"{YEAR}-id.html"
    assert (d / "reports" / REGION_MARKER).read_text(encoding="utf-8").strip().endswith(REGION)
    text = _visible_text(page.read_text(encoding="utf-8"))
    assert "Kabupaten" in text and "desa" in text and REGION in text
    assert OPD["DP3APMP2KB"] in text and "Dinas PUPRP" in text
    assert not re.search(r"(?<!Kabupaten/)Kota Layak Anak", text)
    assert "Perwali" not in text and "DP3APMP2KB" not in text and "Banjarbaru" not in text
    assert "pemerintah kota" not in text and "per kelurahan" not in text
    # the area section: per kecamatan, the kecamatan figures and a collapsible table
    area = text[text.index("7. Sebaran antarwilayah", text.index("7. Sebaran") + 10):
                text.index("8. Kabupaten/kota lain", text.index("8. Kabupaten/kota") + 10)]
    assert "Prevalensi stunting" in area and "(seluruh kecamatan)" in area
    assert "Martapura" in area and "Sungai Rangas · Astambul" in area
    assert "partisipasi sekolah" in area  # kecamatan figures only: shown per kecamatan


def _visible_text(page: str) -> str:
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    body = re.sub(r"<img\b[^>]*\balt=\"([^\"]*)\"[^>]*>", r" \1 ", body)
    body = re.sub(r"<[^>]+>", " ", body)
    import html as _html

    return re.sub(r"\s+", " ", _html.unescape(body))


def test_cli_help_and_templates_speak_for_any_region(folder, tmp_path):
    help_text = runner.invoke(app, ["--help"]).output
    assert "Kabupaten/Kota Layak Anak" in help_text
    assert not re.search(r"(?<!Kabupaten/)Kota Layak Anak", help_text)
    d = _copy(folder, tmp_path)
    res = runner.invoke(app, ["template", "--year", "2026", "--data-dir", str(d)])
    assert res.exit_code == 0, res.output
    out = d / "reports" / "kabupaten-tanah-contoh" / "templates" / "2026"
    wb = openpyxl.load_workbook(out / "template_data_dukung_2026.xlsx")
    ws = wb["Data"]
    heads = [c.value for c in ws[3]]
    assert heads[0] == "Kabupaten/Kota"
    opd = [ws.cell(r, heads.index("OPD Penanggung Jawab") + 1).value for r in range(4, 60)]
    assert OPD["DP3APMP2KB"] in opd and "DP3APMP2KB" not in opd
    notes = " ".join(str(c.value) for c in wb["Petunjuk"]["A"] if c.value)
    assert REGION in notes and "Kota/Kabupaten" not in notes
    stat = openpyxl.load_workbook(out / "template_statistik_opd_2026.xlsx")
    assert "Desa/Kelurahan" in [c.value for c in stat["Data"][3]]


# --- problems: root cause first, puskesmas and desa names, kla.yaml itself ------------------

def test_an_unknown_header_is_the_first_problem_and_its_consequences_are_held_back(
        folder, tmp_path):
    d = _copy(folder, tmp_path)
    path = d / "raw" / "statistics" / "disdukcapil_akta_desa.xlsx"
    wb = openpyxl.load_workbook(path)
    wb.active.cell(1, 2, "Nama Dusun")  # the desa column is not known: rows read as kecamatan
    wb.save(path)
    write_text(d / "raw" / "statistics" / "tahun.csv", "Tahun Data;Kecamatan;APK PAUD\n"
               f"{DATA_YEAR};Martapur;50\n")  # a second, independent problem
    probs = validate_data(project_paths(d)).problems
    first = probs.iloc[0]
    assert (first["file"], first["row"], first["column"], first["rule"]) == (
        "statistics/disdukcapil_akta_desa.xlsx", 1, "Nama Dusun", "unknown_column")
    assert "aliases: statistics" in first["hint"] and "raw/kla.yaml" in first["hint"]
    assert "kla_analysis/" not in first["hint"]
    # 7 desa rows read as 3 kecamatan: 4 duplicate keys, counted in the hint, not listed
    assert "4 duplicate_key" in first["hint"]
    assert "duplicate_key" not in set(probs["rule"])
    assert probs["rule"].tolist() == ["unknown_column", "unknown_kecamatan"]
    assert "closest known: Martapura" in probs.iloc[1]["hint"]


def test_puskesmas_figures_are_combined_or_refused_never_the_regency_figure(folder, tmp_path):
    d = _copy(folder, tmp_path)
    f = d / "raw" / "statistics" / "dinkes_stunting_puskesmas.csv"
    write_text(f, "Tahun Data;Puskesmas;Balita Diukur;Balita Stunting;% Stunting\n"
               f"{DATA_YEAR};Puskesmas Martapura 1;;;15\n"      # row 2: no counts, and
               f"{DATA_YEAR};Puskesmas Martapura 2;300;30;\n"   # row 3: Martapura has two
               f"{DATA_YEAR};Puskesmas Astambul;500;100;\n"     # row 4: alone in Astambul
               f"{DATA_YEAR};Puskesmas Entah;100;33;\n"         # row 5: not known
               f"{DATA_YEAR};;250;50;\n")                       # row 6: no puskesmas named
    res = validate_data(project_paths(d))
    p = res.problems.set_index("row")
    assert p.loc[2, "rule"] == "service_area_without_counts"
    assert p.loc[5, "rule"] == "unknown_service_area" and "raw/kla.yaml" in p.loc[5, "hint"]
    assert "never read as the kabupaten/kota figure" in p.loc[5, "hint"]
    assert p.loc[6, "rule"] == "missing_value" and p.loc[6, "column"] == "Puskesmas"
    # Karang Intan's puskesmas is absent: its kecamatan figure cannot come from this table
    # (no row of it, so no problem either); Astambul's one puskesmas is its figure
    assert set(p["rule"]) == {"service_area_without_counts", "unknown_service_area",
                              "missing_value"}
    st = res.tables["statistics"]
    stunting = st[st["measure"] == "stunting_prevalence"]
    assert levels.REGION not in set(stunting["area_level"])


def test_a_kecamatan_missing_one_of_its_puskesmas_is_a_problem(folder, tmp_path):
    d = _copy(folder, tmp_path)
    write_text(d / "raw" / "statistics" / "dinkes_stunting_puskesmas.csv",
               "Tahun Data;Puskesmas;Balita Diukur;Balita Stunting\n"
               f"{DATA_YEAR};Puskesmas Martapura 2;300;30\n")
    probs = validate_data(project_paths(d)).problems
    assert probs["rule"].tolist() == ["incomplete_service_areas"]
    assert "Puskesmas Martapura 1" in probs.iloc[0]["hint"]


def test_a_desa_name_of_two_kecamatan_needs_its_kecamatan(folder, tmp_path):
    d = _copy(folder, tmp_path)
    write_xlsx(d / "raw" / "statistics" / "forum.xlsx", [
        ["Tahun Data", "Desa", "Jumlah Anggota Forum Anak"],
        [DATA_YEAR, "Sungai Rangas", 12],   # row 2: in Martapura and in Astambul
        [DATA_YEAR, "Mandiangin", 8],       # row 3: only one: fine
        [DATA_YEAR, "Tambak Barru", 3]])    # row 4: a misspelling
    probs = validate_data(project_paths(d)).problems
    assert probs[["row", "rule"]].values.tolist() == [[2, "ambiguous_kelurahan"],
                                                      [4, "unknown_kelurahan"]]
    assert "Astambul; Martapura" in probs.iloc[0]["hint"]
    assert "closest known: Tambak Baru" in probs.iloc[1]["hint"]


def test_kla_yaml_problems_name_the_line_and_the_fix(folder, tmp_path):
    d = _copy(folder, tmp_path)
    write_text(d / "raw" / "kla.yaml", "\n".join([
        f"region: {REGION}",
        "type: kota",                               # 2: the name reads as a kabupaten
        "provinsi: Kalimantan Selatan",             # 3: unknown key
        "aliases:",
        "  statistik:",                             # 5: no such dataset
        "    kelurahan: [Nama Desa/Kel.]",
        "  statistics:",
        "    desa: [Nama Desa/Kel.]",               # 8: no such field
        "    kecamatan: [Tahun Data]",              # 9: already another field's header
        "measures:",
        "  forum_anak_desa:",                       # 11: no such measure, no unit
        "    names: [Cakupan forum desa]",
        "opd:",
        "  Dinas Kesehatan: Dinkes Kab",            # 14: not a role of the catalog
        "area_word: dusun",                         # 15
    ]) + "\n")
    probs = validate_data(project_paths(d)).problems
    config = probs[probs["rule"] == "invalid_config"]
    assert config["file"].unique().tolist() == ["kla.yaml"]
    assert sorted(config["row"].tolist()) == [2, 3, 5, 8, 9, 11, 14, 15]
    assert all("raw/kla.yaml" in h and "kla_analysis/" not in h for h in config["hint"])
    by_row = config.set_index("row")["hint"]
    assert "Dinkes" in by_row[14] and "closest" in by_row[11]
    # root causes first: the settings' problems lead; the unread alias makes the birth file's
    # desa column unknown, listed next
    assert probs["rule"].iloc[:len(config)].eq("invalid_config").all()
    assert "unknown_column" in set(probs["rule"])


def test_city_yaml_still_works_and_kla_yaml_takes_over(tmp_path):
    raw = tmp_path / "raw"
    write_text(raw / "city.yaml", "city: Kota Contoh\nprovince: X\nweights: equal\n")
    assert folder_weights(raw) == "equal"
    region, problems = read_region(raw)
    assert (region.file, region.name, region.type, problems) == ("city.yaml", "Kota Contoh",
                                                                 "kota", [])
    write_text(raw / "kla.yaml", "region: Kota Contoh\n")
    region, problems = read_region(raw)
    assert region.file == "kla.yaml" and folder_weights(raw) is None
    assert [p["rule"] for p in problems] == ["invalid_config"]  # both files: keep one
    assert "city.yaml" in problems[0]["hint"]


def test_opd_roles_map_to_the_regions_offices():
    cat = load_catalog(opd=OPD).set_index("indicator")
    assert cat.loc[1, "opd"] == f"Bagian Hukum; {OPD['DP3APMP2KB']}"
    assert "DP3APMP2KB" not in " ".join(cat["opd"])


# --- outputs: one region per reports folder, reports under the data folder -------------------

def test_reports_default_under_the_data_folder_and_one_region_per_folder(tmp_path):
    paths = project_paths(tmp_path / "data")
    assert paths.reports_dir == tmp_path / "data" / "reports"
    claim_reports_dir(paths.reports_dir, REGION)
    claim_reports_dir(paths.reports_dir, REGION.upper())  # the same region: fine
    with pytest.raises(KlaError, match="holds the reports of Kabupaten Tanah Contoh"):
        claim_reports_dir(paths.reports_dir, "Kota Banjarbaru")


def test_templates_refuse_another_regions_reports_folder(folder, tmp_path):
    d = _copy(folder, tmp_path)
    reports = tmp_path / "shared"
    claim_reports_dir(reports, "Kota Banjarbaru")
    res = runner.invoke(app, ["template", "--year", "2026", "--data-dir", str(d),
                              "--reports-dir", str(reports)])
    assert res.exit_code == 1 and "holds the reports of Kota Banjarbaru" in res.output
    assert not (reports / "kabupaten-tanah-contoh").exists()


# --- the area view at regency size -----------------------------------------------------------

def _big_view(n_kec: int = 17, per_kec: int = 17) -> dict:
    """A statistic over 286 desa (17 kecamatan of 16-17 desa), percentages with counts."""
    rows = []
    for k in range(n_kec):
        for i in range(per_kec - (k < 3)):
            den = 100 + 5 * i
            rows.append({"kecamatan": f"Kecamatan {k:02d}", "area": f"Desa {k:02d}-{i:02d}",
                         "value": 100 * (60 + (7 * k + 3 * i) % 40) / 100 * 1.0,
                         "numerator": None, "denominator": den})
    values = pd.DataFrame(rows)
    values["numerator"] = (values["value"] * values["denominator"] / 100).round()
    values["value"] = 100 * values["numerator"] / values["denominator"]
    kec = []
    for k, g in values.groupby("kecamatan"):
        n, dd = g["numerator"].sum(), g["denominator"].sum()
        kec.append({"kecamatan": k, "value": 100 * n / dd, "numerator": n, "denominator": dd,
                    "source": "combined", "n_areas": len(g), "low": g["value"].min(),
                    "high": g["value"].max()})
    return {"measure": "birth_certificate_coverage", "indicator": 4, "label": "Akta kelahiran",
            "unit": "percent", "target": 100.0, "direction": "higher", "data_year": 2024,
            "values": values, "kecamatan": pd.DataFrame(kec), "area_word": "desa"}


def test_the_area_view_of_286_desa_stays_a_few_phone_screens():
    v = _big_view()
    assert len(v["values"]) == 286
    parts = html._area_view(v, "id")
    page = "".join(str(p) for p in parts)
    heights = [int(h) for h in re.findall(r'<img [^>]*height="(\d+)"', page)]
    assert len(heights) == 2  # the kecamatan chart and the worst desa, not 286 rows
    assert sum(heights) < 1100  # about 1.5 phone screens, the full list folded away
    assert page.count("<details>") == 1 and page.count("<tr>") == 1 + 286 + 17
    caps = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert "Per kecamatan (17 kecamatan" in caps[0] and "10 desa dengan angka terburuk" in caps[1]
    # worst first: the first kecamatan of the chart's alt text has the lowest figure
    kec = v["kecamatan"].sort_values("value")
    alt = re.findall(r'alt="([^"]*)"', page)[0]
    assert alt.index(kec["kecamatan"].iloc[0]) < alt.index(kec["kecamatan"].iloc[-1])
    # the table: grouped by kecamatan, worst kecamatan first, its own row first
    first_rows = re.findall(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", page)[:2]
    assert first_rows[0] == (kec["kecamatan"].iloc[0], "(seluruh kecamatan)")
    assert first_rows[1][0] == kec["kecamatan"].iloc[0]


def test_a_kecamatan_figure_without_counts_shows_its_range_only():
    v = _big_view(n_kec=3, per_kec=4)
    v["kecamatan"].loc[0, ["value", "source"]] = [float("nan"), "none"]
    fig = plots.kecamatan_figure(v["kecamatan"], v["label"], "percent", 100, "higher", 2024,
                                 "desa", "id")
    assert "nan" not in fig.svg.lower() and fig.svg.count("<rect") >= 3
    assert "Kecamatan 00" in fig.svg


@pytest.mark.parametrize("how", ["gazetteer_file", "kla_yaml"])
def test_the_puskesmas_table_may_be_a_gazetteer_file_or_kla_yaml(folder, tmp_path, how):
    d = _copy(folder, tmp_path)
    gaz = d / "raw" / "gazetteer" / "wilayah.csv"
    lines = gaz.read_text(encoding="utf-8").splitlines()
    # the places without their Puskesmas column
    gaz.write_text("\n".join(";".join(ln.split(";")[:4]) for ln in lines) + "\n",
                   encoding="utf-8")
    from fixtures.pipeline.regency import KEC_OF_PUSKESMAS

    if how == "gazetteer_file":
        write_text(d / "raw" / "gazetteer" / "puskesmas.csv", "Nama Puskesmas,Kecamatan\n"
                   + "".join(f"{p},{k}\n" for p, k in KEC_OF_PUSKESMAS.items()))
    else:
        kla_yaml = d / "raw" / "kla.yaml"
        kla_yaml.write_text(kla_yaml.read_text(encoding="utf-8") + "service_areas:\n" + "".join(
            f"  {p}: {k}\n" for p, k in KEC_OF_PUSKESMAS.items()), encoding="utf-8")
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    assert len(res.tables["gazetteer"]) == sum(len(r) for r in PLACES.values())
    st = res.tables["statistics"]
    stunting = st[st["measure"] == "stunting_prevalence"].set_index("kecamatan")["value"]
    want = expected_stunting()
    assert stunting.round(6).to_dict() == {k: round(want[k], 6) for k in PLACES}
    # a kecamatan of service_areas that the gazetteer lacks is named with its line
    if how == "kla_yaml":
        kla_yaml.write_text(kla_yaml.read_text(encoding="utf-8").replace(
            "Puskesmas Astambul: Astambul", "Puskesmas Astambul: Astambull"), encoding="utf-8")
        probs = validate_data(project_paths(d)).problems
        bad = probs[probs["rule"] == "invalid_config"].iloc[0]
        assert bad["column"] == "service_areas.Puskesmas Astambul"
        assert "closest known: Astambul" in bad["hint"] and bad["row"] > 1
