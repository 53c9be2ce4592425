"""A small processed data folder and rendered reports shared by the report tests.

The data are illustrative (a fictional "Kota Contoh"), written with ``tables.write_table``
exactly as ``kla build`` writes them. A ``<script>`` is planted in text fields (an evidence
title, an OPD name, a kelurahan name) to prove the report escapes data.

Rendering costs seconds per report, so the rendered outputs are made once per test session
(``rendered`` below) and shared; the module-level cache keeps that true even when several
test modules import the fixture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kla_analysis.catalog import load_catalog, load_evidence_requirements
from kla_analysis.config import ProjectPaths
from kla_analysis.tables import write_table

CITY = "Kota Contoh"
PROVINCE = "Kalimantan Selatan"
YEARS = (2022, 2023)          # years with a self-assessment (rendered)
OFFICIAL = {2019: ("Pratama", "published"), 2022: ("Madya", "inferred"),
            2023: ("Madya", "published")}
PEERS = [("Kota Tetangga", 2022, "Nindya"), ("Kota Tetangga", 2023, "Nindya"),
         ("Kab. Sebelah", 2023, "Madya"), ("Kab. Sebelah", 2025, "Nindya")]
PLANTED = "<script>alert('x')</script>"
KELURAHAN = [("Utara", "Kel. Satu"), ("Utara", "Kel. Dua"), ("Selatan", "Kel. Tiga"),
             ("Selatan", f"Kel. Empat {PLANTED}")]
SRC = "https://example.org/berita-kla"


def _prov(df: pd.DataFrame, file: str) -> pd.DataFrame:
    return df.assign(source_file=file, source_sheet="", source_row=range(2, len(df) + 2))


def claimed_points(year: int) -> dict[int, float]:
    """Claims: near the maximum (self-assessments are generous); indicator 24 unclaimed."""
    cat = load_catalog()
    share = {2022: 0.95, 2023: 0.93}[year]
    return {int(r.indicator): round(r.max_points * share, 2)
            for r in cat.itertuples() if r.indicator != 24}


def evidence_status(year: int, indicator: int, k: int) -> str | None:
    """Item k of an indicator: a deterministic mix of statuses; None = not in the inventory."""
    code = (indicator * 7 + k * 3 + year) % 6
    return {0: "ada", 1: "ada", 2: "tidak_ada", 3: "dalam_proses", 4: "kedaluwarsa",
            5: None}[code]


def build_data(data_dir: Path) -> ProjectPaths:
    """Write the processed tables and the raw provenance files of the fixture city."""
    paths = ProjectPaths(data_dir, data_dir.parent / "reports")
    paths.processed.mkdir(parents=True, exist_ok=True)
    paths.raw.mkdir(parents=True, exist_ok=True)
    sa = pd.DataFrame([{"city": CITY, "year": y, "indicator": i, "points_claimed": p}
                       for y in YEARS for i, p in claimed_points(y).items()])
    write_table(_prov(sa, "self_assessment/penilaian_mandiri.csv"), "self_assessment", paths)

    req = load_evidence_requirements()
    rows = []
    for y in YEARS:
        for ind, grp in req.groupby("indicator"):
            for k, item in enumerate(grp["item"]):
                status = evidence_status(y, int(ind), k)
                if status is None or ind == 24:
                    continue
                title = f"Dokumen {item} tahun {y - 1}"
                opd = grp["opd"].iloc[0]
                if (y, item) == (2023, "2.1"):
                    title = f"SK Gugus Tugas {PLANTED}"
                if ind == 5:
                    opd = f"Diskominfo {PLANTED}"
                rows.append({"city": CITY, "year": y, "indicator": int(ind), "item": item,
                             "title": title, "status": status, "opd": opd,
                             "document_date": f"{y - 1}-06-30", "link": f"dokumen/{item}.pdf"})
    write_table(_prov(pd.DataFrame(rows), "evidence/data_dukung.xlsx"), "evidence", paths)

    stats = []
    for data_year in (2021, 2022):
        for n, (kec, kel) in enumerate(KELURAHAN):
            den = 1000 + 100 * n
            num = den * (0.80 + 0.05 * n + 0.02 * (data_year - 2021))
            stats.append({"city": CITY, "data_year": data_year, "indicator": 4,
                          "measure": "birth_certificate_coverage", "area_level": "kelurahan",
                          "kecamatan": kec, "area": kel, "value": round(100 * num / den, 1),
                          "numerator": round(num), "denominator": den, "unit": "percent"})
        stats.append({"city": CITY, "data_year": data_year, "indicator": 13,
                      "measure": "stunting_prevalence", "area_level": "kota",
                      "kecamatan": "", "area": CITY, "value": 16.5 - (data_year - 2021),
                      "numerator": None, "denominator": None, "unit": "percent"})
    write_table(_prov(pd.DataFrame(stats), "statistics/statistik.csv"), "statistics", paths)

    off = [{"city": CITY, "province": PROVINCE, "year": y, "predicate": p, "score": None,
            "status": s, "source_url": SRC} for y, (p, s) in OFFICIAL.items()]
    off += [{"city": c, "province": PROVINCE, "year": y, "predicate": p, "score": None,
             "status": "published", "source_url": SRC} for c, y, p in PEERS]
    write_table(_prov(pd.DataFrame(off), "official/hasil_evaluasi.csv"), "official_results",
                paths)
    gaz = pd.DataFrame([{"city": CITY, "kecamatan": k, "kelurahan": kel} for k, kel in KELURAHAN])
    write_table(_prov(gaz, "gazetteer/wilayah.csv"), "gazetteer", paths)
    write_empty_tables(paths, {"area_declarations", "self_assessment_answers"})

    (paths.raw / "city.yaml").write_text(f"city: {CITY}\nprovince: {PROVINCE}\n",
                                         encoding="utf-8")
    pd.DataFrame([
        {"file": "self_assessment/penilaian_mandiri.csv", "dataset": "self_assessment",
         "delivered_by": "DP3APMP2KB", "status": "illustrative", "source_url": "",
         "notes": f"test fixture {PLANTED}"},
        {"file": "official/hasil_evaluasi.csv", "dataset": "official", "delivered_by": "",
         "status": "published", "source_url": SRC, "notes": ""},
    ]).to_csv(paths.raw / "sources.csv", index=False)
    return paths


def write_empty_tables(paths: ProjectPaths, names: set[str]) -> None:
    """Write ``names`` as empty processed tables (a folder without such data, as built)."""
    from kla_analysis.ingest.validate import COLUMNS, DTYPES, PROVENANCE

    for name in sorted(names):
        write_table(pd.DataFrame({c: pd.Series(dtype=DTYPES[name].get(c, "str"))
                                  for c in [*COLUMNS[name], *PROVENANCE]}), name, paths)


def kla(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the ``kla`` CLI in a subprocess (as cron would)."""
    full_env = {**os.environ, "KLA_DATA_DIR": "", "KLA_REPORTS_DIR": "", **(env or {})}
    return subprocess.run([sys.executable, "-m", "kla_analysis", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout)


_CACHE: dict[str, object] = {}


@pytest.fixture(scope="session")
def report_data(tmp_path_factory) -> ProjectPaths:
    """The fixture data folder (processed tables + raw provenance), built once."""
    if "data" not in _CACHE:
        _CACHE["data"] = build_data(tmp_path_factory.mktemp("kla") / "data")
    return _CACHE["data"]


@pytest.fixture(scope="session")
def rendered(report_data: ProjectPaths) -> dict:
    """``kla report --all --jobs 2`` over the fixture data (both years, both languages),
    run once as cron would run it. Returns the paths, the CompletedProcess and the folder
    of the city's reports. Tests that modify outputs must work on a copy (``copy_rendered``).
    """
    if "rendered" not in _CACHE:
        paths = report_data
        batch = kla("report", "--all", "--jobs", "2", "--data-dir", str(paths.data_dir),
                    "--reports-dir", str(paths.reports_dir))
        _CACHE["rendered"] = {"paths": paths, "batch": batch,
                              "city_dir": paths.reports_dir / "kota-contoh"}
    return _CACHE["rendered"]


def copy_rendered(rendered: dict, dest: Path) -> ProjectPaths:
    """A private copy of the data and reports folders for tests that change them."""
    src: ProjectPaths = rendered["paths"]
    shutil.copytree(src.data_dir, dest / "data")
    shutil.copytree(src.reports_dir, dest / "reports")
    return ProjectPaths(dest / "data", dest / "reports")
