"""The bundled Banjarbaru sample: it validates, carries the published figures with their
sources, labels everything else illustrative, contains the messy cases, and tells the story
of claimed points without evidence."""

import csv

import openpyxl
import pandas as pd
import pytest
from fixtures.pipeline.helpers import BUNDLED, bundled_validation

from kla_analysis.catalog import load_catalog, load_evidence_requirements
from kla_analysis.ingest.readers import list_files, read_cells
from kla_analysis.ingest.specs import load_specs

DATA_FOLDERS = ["gazetteer", "official", "self_assessment", "evidence", "statistics",
                "area_declarations"]


@pytest.fixture(scope="module")
def tables():
    res = bundled_validation()
    assert res.ok, res.problems.to_string()
    return res.tables


def test_bundled_data_validates_cleanly(tables):
    assert {n: len(t) > 0 for n, t in tables.items()} == dict.fromkeys(tables, True)


def test_gazetteer_has_the_5_kecamatan_and_20_kelurahan(tables):
    gaz = tables["gazetteer"]
    assert gaz.groupby("kecamatan")["kelurahan"].nunique().to_dict() == {
        "Banjarbaru Selatan": 4, "Banjarbaru Utara": 4, "Cempaka": 4, "Landasan Ulin": 4,
        "Liang Anggang": 4}


def test_published_self_assessment_totals_and_points_within_the_maximum(tables):
    sa = tables["self_assessment"]
    totals = sa.groupby("year")["points_claimed"].sum().round(2)
    assert totals[2021] == 979 and totals[2023] == 946.45
    assert set(sa["year"]) == {2019, 2021, 2022, 2023, 2025}
    assert totals.drop([2021, 2023]).between(900, 980).all()
    cat = load_catalog()  # the bundled folder's scale: probable_2023, the default
    maxp = sa["indicator"].map(cat.set_index("indicator")["max_points"])
    assert (sa["points_claimed"] <= maxp).all()
    assert (sa.groupby("year").size() == len(cat)).all()  # all 26 indicators, block KD too
    blocks = sa.assign(block=sa["indicator"].map(cat.set_index("indicator")["cluster"]))
    block_max = cat.groupby("cluster")["max_points"].sum()
    per_block = blocks.groupby(["year", "block"])["points_claimed"].sum()
    assert (per_block <= per_block.index.get_level_values("block").map(block_max)).all()


def stat(tables, measure, year, level="kabupaten_kota"):
    st = tables["statistics"]
    rows = st[(st["measure"] == measure) & (st["data_year"] == year) & (st["area_level"] == level)]
    return rows


def test_published_statistics_present_with_their_values(tables):
    expect = {("population", 2021): 258753, ("population", 2020): 253442,
              ("violence_cases", 2020): 21, ("violence_cases", 2021): 36,
              ("violence_cases", 2023): 63, ("violence_cases", 2024): 81,
              ("child_violence_cases", 2024): 47, ("marriage_dispensations", 2021): 34,
              ("marriage_dispensations_jan_oct", 2022): 26, ("child_marriages", 2020): 35,
              ("stunting_prevalence", 2023): 13.03, ("stunting_prevalence_ssgi", 2022): 18}
    for (measure, year), value in expect.items():
        assert stat(tables, measure, year)["value"].tolist() == [value], (measure, year)
    kec = stat(tables, "population", 2021, "kecamatan").set_index("area")["value"]
    assert kec.to_dict() == {"Cempaka": 36271, "Landasan Ulin": 77982}


def test_kelurahan_stunting_2023_adds_up_to_the_published_city_figure(tables):
    kel = stat(tables, "stunting_prevalence", 2023, "desa_kelurahan")
    assert len(kel) == 20
    assert round(100 * kel["numerator"].sum() / kel["denominator"].sum(), 2) == 13.03


def test_statistics_cover_headline_measures_at_kelurahan_and_kota_level(tables):
    st = tables["statistics"]
    cat = load_catalog().dropna(subset=["measure"]).set_index("measure")["indicator"]
    kel_level = set(st.loc[st["area_level"] == "desa_kelurahan", "measure"])
    assert {"birth_certificate_coverage", "facility_births", "stunting_prevalence",
            "exclusive_breastfeeding", "immunisation_complete", "school_participation",
            "child_forum_members"} <= kel_level
    assert {"marriage_dispensations", "violence_cases"} <= set(
        st.loc[st["area_level"] == "kabupaten_kota", "measure"])
    headline = st[st["measure"].isin(cat.index)]
    assert (headline["indicator"] == headline["measure"].map(cat)).all()
    assert set(st["measure"]) <= set(load_specs().datasets["statistics"].measures)


def test_official_results_have_sources_and_status(tables):
    off = tables["official_results"]
    assert off["source_url"].str.startswith("https://").all()
    assert set(off["status"]) == {"published", "inferred", "unconfirmed"}
    bjb = off[off["city"] == "Kota Banjarbaru"].set_index("year")
    assert bjb.loc[[2023, 2025], "predicate"].tolist() == ["Madya", "Madya"]
    assert bjb.loc[[2023, 2025], "status"].tolist() == ["published", "published"]
    assert 2021 not in bjb.index  # not published: no invented row
    assert off["score"].isna().all()


def test_evidence_story_many_claimed_points_lack_evidence(tables):
    ev = tables["evidence"]
    missing = ev.assign(m=ev["status"] != "ada").groupby("year")["m"].mean()
    assert missing.drop(2025).between(1 / 3, 0.6).all()
    assert missing[2025] < missing.drop(2025).mean()
    assert missing[2025] >= 0.25
    by_opd = ev.assign(m=ev["status"] != "ada").groupby("opd")["m"].mean()
    assert by_opd.max() - by_opd.min() > 0.3  # varies by OPD
    assert set(ev["status"]) == {"ada", "tidak_ada", "dalam_proses", "kedaluwarsa"}
    assert (ev.groupby("year").size() == len(load_evidence_requirements())).all()


def test_sources_csv_lists_every_raw_file_with_provenance():
    with open(BUNDLED / "sources.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    files = {r["file"] for r in rows}
    on_disk = {p.relative_to(BUNDLED).as_posix() for f in DATA_FOLDERS
               for p in list_files(BUNDLED / f)[0]} | {"city.yaml"}
    assert files == on_disk
    assert {r["status"] for r in rows} <= {"published", "illustrative", "mixed"}
    for r in rows:
        if r["status"] in ("published", "mixed"):
            assert r["source_url"].startswith("https://") or r["source_url"] == \
                "see column Sumber", r["file"]


def cell_text(path):
    return " ".join(str(v) for s in read_cells(path) for v in s.cells.to_numpy().ravel()
                    if v is not None and str(v) != "nan").lower()


def test_illustrative_files_say_so_in_the_data():
    with open(BUNDLED / "sources.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] in ("illustrative", "mixed")]
    for r in rows:
        assert "ilustratif" in cell_text(BUNDLED / r["file"]), r["file"]


def test_the_sample_contains_the_messy_cases():
    raw = {p.relative_to(BUNDLED).as_posix(): p.read_bytes()
           for f in DATA_FOLDERS for p in list_files(BUNDLED / f)[0]}
    csvs = {k: v for k, v in raw.items() if k.endswith(".csv")}
    assert any(v.startswith(b"\xef\xbb\xbf") for v in csvs.values())  # UTF-8 BOM

    def is_cp1252(b):
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    assert any(is_cp1252(v) for v in csvs.values())
    text = " ".join(v.decode("utf-8-sig", errors="replace") for v in csvs.values())
    for needle in [";", "1.", "%;", "n/a", ";-;", ";;", "Tahun 20", "Sei. "]:
        assert needle in text, needle
    merged = [k for k in raw if k.endswith(".xlsx") and any(
        ws.merged_cells.ranges for ws in openpyxl.load_workbook(BUNDLED / k).worksheets)]
    assert "statistics/disdukcapil_akta_kelahiran.xlsx" in merged
    xl = cell_text(BUNDLED / "statistics" / "disdukcapil_akta_kelahiran.xlsx")
    assert "sumber:" in xl and "jumlah" in xl and "lds. ulin timur" in xl


def test_processed_rows_point_back_to_their_raw_cells(tables):
    st = tables["statistics"]
    row = st[(st["measure"] == "stunting_prevalence")
             & (st["area_level"] == "kabupaten_kota")].iloc[0]
    lines = (BUNDLED / row["source_file"]).read_text(encoding="utf-8").splitlines()
    assert "13,03%" in lines[row["source_row"] - 1]
    ev = tables["evidence"]
    first = ev[ev["source_file"].str.endswith(".xlsx")].iloc[0]
    cells = {s.name: s.cells for s in read_cells(BUNDLED / first["source_file"])}
    assert first["item"] in pd.Series(cells[first["source_sheet"]].iloc[first["source_row"] - 1]
                                      ).astype(str).tolist()
