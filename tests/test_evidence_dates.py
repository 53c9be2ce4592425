"""Dates of data dukung documents against the evaluation round (issue: a document dated after
the evaluation, even 2099, counted as current evidence). Rules: kla_analysis/data/
evidence_dates.yaml (assumptions, as data)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kla_analysis.config import ProjectPaths
from kla_analysis.ingest.validate import evidence_date_rules, validate_data

BASE = Path(__file__).parent / "fixtures" / "bad_inputs" / "base" / "raw"
HEADER = "Tahun,Kode Data Dukung,Judul Dokumen,Status,OPD Penanggung Jawab,Tanggal Dokumen\n"


def _folder(tmp_path: Path, rows: str) -> ProjectPaths:
    shutil.copytree(BASE, tmp_path / "raw")
    (tmp_path / "raw" / "evidence" / "data_dukung_2023.csv").write_text(HEADER + rows,
                                                                         encoding="utf-8")
    return ProjectPaths(tmp_path, tmp_path / "reports")


def test_a_document_dated_in_the_future_is_a_problem_with_file_row_and_column(tmp_path):
    paths = _folder(tmp_path, "2023,1.1,Perwali KLA,ada,Bagian Hukum,01/01/2099\n"
                              "2023,2.1,SK Gugus Tugas KLA,ada,DP3APMP2KB,05/01/2022\n")
    result = validate_data(paths)
    bad = result.problems[result.problems["rule"] == "future_date"]
    assert len(bad) == 1
    row = bad.iloc[0]
    assert row["file"] == "evidence/data_dukung_2023.csv" and row["row"] == 2
    assert row["column"] == "Tanggal Dokumen" and "2099" in row["value"]
    assert "after today" in row["hint"]


def test_a_document_dated_after_the_round_s_deadline_is_a_problem(tmp_path):
    month, day = evidence_date_rules()["deadline"]
    late = pd.Timestamp(2023, month, day) + pd.Timedelta(days=1)
    on_time = pd.Timestamp(2023, month, day)
    paths = _folder(tmp_path, f"2023,1.1,Perwali KLA,ada,Bagian Hukum,{late:%d/%m/%Y}\n"
                              f"2023,2.1,SK Gugus Tugas,ada,DP3APMP2KB,{on_time:%d/%m/%Y}\n")
    result = validate_data(paths)
    rules = result.problems["rule"].tolist()
    assert rules == ["after_deadline"]
    assert result.problems.iloc[0]["row"] == 2
    # the hint names the deadline and that it is an assumption; it never points the user
    # into the installed package (issue 16: hints name the user's file or kla.yaml)
    hint = result.problems.iloc[0]["hint"]
    assert "deadline" in hint and "assumption" in hint and "kla_analysis/" not in hint


def test_a_document_older_than_its_validity_window_counts_as_kedaluwarsa(tmp_path):
    rules = evidence_date_rules()
    start = 2023 - rules["default_years"]
    paths = _folder(tmp_path,
                    f"2023,2.1,SK Gugus Tugas lama,ada,DP3APMP2KB,31/12/{start - 1}\n"
                    f"2023,6.1,SK Forum Anak,dalam proses,DP3APMP2KB,01/01/{start}\n"
                    "2023,1.1,Perwali KLA (in force until revoked),ada,Bagian Hukum,"
                    "12/03/2010\n"
                    f"2023,2.3,Profil Anak,ada,DP3APMP2KB,30/06/{2023 - rules['items']['2.3'] - 1}\n")
    result = validate_data(paths)
    assert result.ok, result.problems
    status = result.tables["evidence"].set_index("item")["status"]
    assert status["2.1"] == "kedaluwarsa"       # before 1 January of Y - default_years
    assert status["6.1"] == "dalam_proses"      # on the first day of the window: still valid
    assert status["1.1"] == "ada"               # regulations never expire by date
    assert status["2.3"] == "kedaluwarsa"       # a yearly document from two years back
    assert len(result.notices) == 1 and "2.1" in result.notices[0] and "2.3" in result.notices[0]
    assert "6.1" not in result.notices[0]


@pytest.mark.parametrize("status", ["tidak ada", "kedaluwarsa"])
def test_an_old_date_leaves_other_statuses_alone(tmp_path, status):
    paths = _folder(tmp_path, f"2023,2.1,SK lama,{status},DP3APMP2KB,01/01/2001\n")
    result = validate_data(paths)
    assert result.ok and not result.notices
