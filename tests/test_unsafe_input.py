"""Control and bidirectional characters are refused on the way in, with file, row and
column (issue: a control byte in an OPD name made the to-do XLSX unreadable; a right-to-left
override survived into the report, the processed CSV and a sheet name)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kla_analysis.config import ProjectPaths
from kla_analysis.errors import InputProblems
from kla_analysis.ingest.build import build
from kla_analysis.ingest.validate import validate_data

BASE = Path(__file__).parent / "fixtures" / "bad_inputs" / "base" / "raw"


def _folder(tmp_path: Path, old: str, new: str) -> ProjectPaths:
    shutil.copytree(BASE, tmp_path / "raw")
    f = tmp_path / "raw" / "evidence" / "data_dukung_2023.csv"
    f.write_text(f.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return ProjectPaths(tmp_path, tmp_path / "reports")


@pytest.mark.parametrize("char, code", [("\u202e", "U+202E"), ("\x07", "U+0007"),
                                        ("\x1b", "U+001B"), ("\u2066", "U+2066"),
                                        ("\x85", "U+0085")])
def test_a_control_or_bidi_character_in_a_text_cell_is_a_problem(tmp_path, char, code):
    paths = _folder(tmp_path, "Bagian Hukum", f"Bagian {char}Hukum")
    result = validate_data(paths)
    bad = result.problems
    # C0 control bytes of a CSV are found by the reader (control_character), the others when
    # the cell is parsed (unsafe_character): one problem either way
    assert len(bad) == 1 and bad["rule"].iloc[0] in ("unsafe_character", "control_character")
    row = bad.iloc[0]
    assert (row["file"], row["row"], row["column"]) == (
        "evidence/data_dukung_2023.csv", 2, "OPD Penanggung Jawab")
    assert code in row["hint"] or repr(char)[1:-1] in row["hint"]
    assert char not in row["value"] and "Hukum" in row["value"]  # shown escaped


def test_the_build_refuses_and_writes_nothing(tmp_path):
    paths = _folder(tmp_path, "SK Gugus Tugas KLA", "SK Gugus \u202eTugas KLA")
    with pytest.raises(InputProblems):
        build(paths)
    assert not (tmp_path / "processed").exists() or not any((tmp_path / "processed").iterdir())


def test_ordinary_text_with_tabs_accents_and_quotes_passes(tmp_path):
    paths = _folder(tmp_path, "SK Gugus Tugas KLA", "SK “Gugus Tugas” KLA – Perubahan ke-2 (é)")
    assert validate_data(paths).ok
