"""Security: data never becomes markup, formulas or code.

- Problem tables printed by the CLI show cell values as text (no rich markup, no terminal
  control sequences).
"""

from __future__ import annotations

import pandas as pd
import pytest

from kla_analysis.cli import print_problems
from kla_analysis.errors import problems_frame


@pytest.mark.parametrize("value", ["[/bold]", "[red]merah[/red]", "[link=http://x]x[/link]",
                                   "\x1b[2J\x1b[31mred", "bell\x07", "a\x9bb"])
def test_problem_values_are_printed_as_text_not_markup_or_terminal_codes(value, capsys):
    probs = problems_frame(pd.DataFrame([{
        "file": f"statistik {value}.csv", "sheet": "", "row": 7, "column": "Kelurahan",
        "rule": "unknown_kelurahan", "value": value, "hint": "closest known: Palam"}]))
    print_problems(probs)
    err = capsys.readouterr().err
    shown = value.replace("\x1b", "\\x1b").replace("\x07", "\\x07").replace("\x9b", "\\x9b")
    assert shown in err  # printed literally (markup not interpreted)
    assert not any(c in err for c in "\x1b\x07\x9b")
    assert "unknown_kelurahan" in err and "7" in err


# ---------------------------------------------------------------- spreadsheet exports

FORMULA_TEXTS = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+Diskominfo", "-2+3",
                 "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "  =1+1"]
PLAIN_TEXTS = ["Dinkes", "a=b", "", " ", "Dokumen - 2023", "'=quoted already"]


@pytest.mark.parametrize("dtype", ["str", object])
def test_spreadsheet_safe_matches_the_workbook_rule(dtype):
    from kla_analysis.export import FORMULA_TRIGGERS, neutralise
    from kla_analysis.tables import FORMULA_TRIGGERS as TABLE_TRIGGERS
    from kla_analysis.tables import spreadsheet_safe

    assert TABLE_TRIGGERS == FORMULA_TRIGGERS
    texts = FORMULA_TEXTS + PLAIN_TEXTS
    df = pd.DataFrame({"t": pd.Series(texts, dtype=dtype), "n": -1.5})
    out = spreadsheet_safe(df)
    assert out["t"].tolist() == [neutralise(t) for t in texts]
    assert out["t"].tolist()[:len(FORMULA_TEXTS)] == ["'" + t for t in FORMULA_TEXTS]
    assert (out["n"] == -1.5).all() and df["t"].tolist() == texts  # input untouched


def test_processed_csv_neutralises_formula_text_and_parquet_keeps_it(tmp_path):
    from kla_analysis.config import ProjectPaths
    from kla_analysis.tables import load_table, table_path, write_table

    paths = ProjectPaths(tmp_path / "data", tmp_path / "reports")
    # processed text is whitespace-squeezed by the validator, so no tab/CR cells here
    formulas = [t for t in FORMULA_TEXTS if t.strip(" ")[0] not in "\t\r"]
    texts = formulas + ["Dinkes", "a=b", "Dokumen - 2023"]
    df = pd.DataFrame({"title": pd.Series(texts, dtype="str"), "points": -2.5})
    write_table(df, "evidence", paths)
    pd.testing.assert_frame_equal(load_table("evidence", paths), df)  # exact text kept
    csv = pd.read_csv(table_path("evidence", paths, ".csv"), dtype={"title": str},
                      keep_default_na=False)
    assert csv["title"].tolist() == ["'" + t for t in formulas] + texts[len(formulas):]
    assert (csv["points"] == -2.5).all()  # numbers are not text: never prefixed


def test_problems_csv_neutralises_formula_text_from_raw_cells(tmp_path):
    import shutil
    from pathlib import Path

    from typer.testing import CliRunner

    from kla_analysis.cli import app

    base = Path(__file__).parent / "fixtures" / "bad_inputs" / "base"
    data = tmp_path / "data"
    shutil.copytree(base, data)
    evil = '=HYPERLINK("http://evil.example","klik")'
    (data / "raw" / "self_assessment" / "tambahan.csv").write_text(
        f'Tahun,Indikator,Nilai Mandiri\n2023,"{evil.replace(chr(34), chr(34) * 2)}",10\n',
        encoding="utf-8")
    out = tmp_path / "problems.csv"
    res = CliRunner().invoke(app, ["validate", "--data-dir", str(data), "--problems-csv",
                                   str(out)])
    assert res.exit_code == 1, res.output
    probs = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert probs[["file", "row", "column", "rule", "value"]].values.tolist() == [
        ["self_assessment/tambahan.csv", "2", "Indikator", "unknown_indicator", "'" + evil]]
