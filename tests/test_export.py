"""To-do workbook: one sheet per OPD, formula neutralisation, atomic write."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from estimate_fixtures import evidence, full_tables

from kla_analysis.model import plan as P
from kla_analysis.model.settings import load_settings
from kla_analysis.report import export as X


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x",
                                  "  =HYPERLINK(\"http://x\")"])
def test_formula_like_text_is_neutralised(text):
    assert X.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Dinkes", "Data 4.1", "", "  ", 3, -2.5, None])
def test_other_values_are_unchanged(value):
    assert X.neutralise(value) == value


def test_sheet_names_are_valid_and_unique():
    taken = {"Keterangan"}
    names = [X.sheet_name(n, taken) for n in ["Dinas: A/B", "Dinas- A-B", "x" * 40,
                                               "keterangan", None]]
    assert names[0] == "Dinas- A-B" and names[1] == "Dinas- A-B (2)"
    assert len(names[2]) == 31 and names[3] == "keterangan (2)" and names[4] == "OPD"


def _hostile_plan():
    """The full fixture with hostile OPD names and document titles on 17-24's items."""
    t = full_tables()
    rows = [(ind, f"{ind}.{k}", "tidak_ada") for ind in range(17, 25) for k in (1, 2)]
    ev = evidence(rows, opd="=HYPERLINK(\"http://evil\",\"klik\")")
    ev.loc[ev["indicator"] >= 21, "opd"] = "@Dinkes"
    ev["title"] = "=cmd|' /C calc'!A0"
    t["evidence"] = pd.concat([t["evidence"], ev], ignore_index=True)
    return P.plan_year(t, 2023, settings=load_settings())


def test_workbook_one_sheet_per_opd_and_no_formula(tmp_path):
    plan = _hostile_plan()
    assert plan["summary"]["n_actions"] == 4
    path = X.write_todo_workbook(plan, tmp_path / "todo.xlsx")
    wb = openpyxl.load_workbook(path)
    opds = sorted(plan["actions"]["opd"].unique())
    assert wb.sheetnames[:-1] == [X.sheet_name(o, {"Keterangan"}) for o in opds]
    assert wb.sheetnames[-1] == "Keterangan"
    n_rows = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.value.lstrip(" ")[:1] not in X.FORMULA_TRIGGERS
        if ws.title != "Keterangan":
            n_rows += ws.max_row - 1
            assert ws["A1"].value == "Indikator"
    assert n_rows == len(plan["actions"])
    first = wb.worksheets[0]
    titles = [c.value for c in first["F"][1:]]
    assert all(t == "'=cmd|' /C calc'!A0" for t in titles)
    notes = [c.value for c in wb["Keterangan"]["B"]]
    assert any(isinstance(v, str) and "bukan hasil evaluasi resmi" in v for v in notes)
    assert not list(tmp_path.glob(".tmp-*"))  # atomic write left no temp file


def test_english_workbook_and_failed_write_keeps_old_file(tmp_path, monkeypatch):
    plan = P.plan_year(full_tables(), 2023, settings=load_settings())
    path = X.write_todo_workbook(plan, tmp_path / "todo.xlsx", lang="en")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-1] == "Notes" and wb.worksheets[0]["A1"].value == "Indicator"
    before = path.read_bytes()

    def boom(self, filename):
        with open(filename, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", boom)
    with pytest.raises(OSError):
        X.write_todo_workbook(plan, path)
    assert path.read_bytes() == before and not list(tmp_path.glob(".tmp-*"))
