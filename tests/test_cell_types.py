"""Every Excel cell type has a defined meaning in every field (issue: TRUE in a points column
was 1 point; #DIV/0! became "no data"). An error value anywhere, or a TRUE/FALSE, time or
duration cell where a number, year, date or code is expected, is one problem naming the
file, sheet, cell and column."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from kla_analysis.config import ProjectPaths
from kla_analysis.ingest.validate import validate_data

BASE = Path(__file__).parent / "fixtures" / "bad_inputs" / "base" / "raw"


def _with_workbook(tmp_path: Path, folder: str, stem: str, header: list, rows: list,
                   errors: dict | None = None) -> ProjectPaths:
    shutil.copytree(BASE, tmp_path / "raw")
    for old in (tmp_path / "raw" / folder).iterdir():
        old.unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(header)
    for r in rows:
        ws.append(r)
    for ref, literal in (errors or {}).items():
        ws[ref] = literal
        ws[ref].data_type = "e"
    wb.save(tmp_path / "raw" / folder / f"{stem}.xlsx")
    return ProjectPaths(tmp_path, tmp_path / "reports")


def _self_assessment(tmp_path, changes: dict, errors: dict | None = None) -> ProjectPaths:
    rows = [[2023, i, 20] for i in range(1, 27)]  # 20: within every maximum
    for (r, c), v in changes.items():
        rows[r - 2][c] = v
    return _with_workbook(tmp_path, "self_assessment", "nilai",
                          ["Tahun", "Indikator", "Nilai Mandiri"], rows, errors)


@pytest.mark.parametrize("value, kind", [(True, "TRUE/FALSE"), (False, "TRUE/FALSE"),
                                         (dt.timedelta(hours=2), "duration"),
                                         (dt.time(8, 30), "time of day")])
def test_a_boolean_time_or_duration_in_a_points_column_is_refused(tmp_path, value, kind):
    result = validate_data(_self_assessment(tmp_path, {(5, 2): value}))
    assert result.problems[["sheet", "row", "column", "rule"]].values.tolist() == [
        ["Data", 5, "Nilai Mandiri", "wrong_cell_type"]]
    assert "cell C5" in result.problems["hint"].iloc[0] and kind in result.problems["hint"].iloc[0]


@pytest.mark.parametrize("literal", ["#DIV/0!", "#N/A", "#REF!", "#VALUE!"])
def test_an_excel_error_in_a_number_column_is_named_with_its_cell(tmp_path, literal):
    result = validate_data(_self_assessment(tmp_path, {}, {"C7": literal}))
    p = result.problems
    assert p[["row", "column", "rule", "value"]].values.tolist() == [
        [7, "Nilai Mandiri", "excel_error", literal]]
    assert "cell C7" in p["hint"].iloc[0]


def test_an_excel_error_in_a_text_or_date_column_is_not_silently_empty(tmp_path):
    header = ["Tahun", "Kode Data Dukung", "Judul Dokumen", "Status", "OPD Penanggung Jawab",
              "Tanggal Dokumen"]
    rows = [[2023, "1.1", "Perwali KLA", "ada", "Bagian Hukum", dt.date(2022, 3, 12)],
            [2023, "2.1", "SK Gugus Tugas", "ada", "DP3APMP2KB", dt.date(2022, 1, 5)]]
    paths = _with_workbook(tmp_path, "evidence", "dd", header, rows,
                           {"C2": "#N/A", "F3": "#VALUE!"})
    p = validate_data(paths).problems
    assert sorted(map(tuple, p[["row", "column", "rule"]].values.tolist())) == [
        (2, "Judul Dokumen", "excel_error"), (3, "Tanggal Dokumen", "excel_error")]
    assert {"cell C2", "cell F3"} == {h.split(" holds")[0] for h in p["hint"]}


def test_a_boolean_in_a_free_text_column_is_text(tmp_path):
    header = ["Tahun", "Kode Data Dukung", "Judul Dokumen", "Status", "OPD Penanggung Jawab"]
    rows = [[2023, "1.1", True, "ada", "Bagian Hukum"]]
    result = validate_data(_with_workbook(tmp_path, "evidence", "dd", header, rows))
    assert result.ok, result.problems
    assert result.tables["evidence"]["title"].iloc[0] in ("TRUE", "True")


def test_system_files_are_ignored_with_a_notice(tmp_path):
    shutil.copytree(BASE, tmp_path / "raw")
    for name in ("Thumbs.db", "desktop.ini", ".DS_Store", "~$penilaian.xlsx"):
        (tmp_path / "raw" / "self_assessment" / name).write_bytes(b"\x00\x01junk")
    result = validate_data(ProjectPaths(tmp_path, tmp_path / "reports"))
    assert result.ok, result.problems
    assert len(result.notices) == 4
    assert any("Thumbs.db" in n for n in result.notices)


def test_kla_validate_and_build_print_the_notices_and_succeed(tmp_path):
    from typer.testing import CliRunner

    from kla_analysis.cli import app

    shutil.copytree(BASE, tmp_path / "raw")
    (tmp_path / "raw" / "evidence" / "Thumbs.db").write_bytes(b"\x00junk")
    for cmd in ("validate", "build"):
        res = CliRunner().invoke(app, [cmd, "--data-dir", str(tmp_path)])
        assert res.exit_code == 0, res.output
        assert "note: ignored evidence/Thumbs.db" in res.stderr, (cmd, res.stderr)
