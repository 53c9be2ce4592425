"""Security: data never becomes markup, formulas or code, and no command writes under raw/.

- Problem tables printed by the CLI show cell values as text (no rich markup, no terminal
  control sequences).
- Spreadsheet exports (processed CSV copies, ``--problems-csv``, the plan's to-do workbook)
  neutralise formula-like text.
- The HTML report and the index show every planted string (markup, quotes, ampersands in the
  city, a kelurahan, evidence titles, OPD names, sources.csv) as text: no element, attribute
  or link comes from data.
- Papermill injects the report's parameters as literals only, whatever a city name or a
  data-folder path holds (the parameters are also validated: tests/test_runner.py).
- Raw data immutability: validate, build, score, plan and report --all leave a copy of the
  bundled data/raw/ byte-identical.
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
    from kla_analysis.report.export import FORMULA_TRIGGERS, neutralise
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


# ---------------------------------------------------------------- HTML report and index

EVIL_CITY = 'Kota "Contoh" & <img src=x onerror=alert(1)>'
EVIL_KEL = 'Kel. Dua <svg onload=alert(2)> "&amp;" & Co'
EVIL_TITLE = '<img src=x onerror=alert(3)> "SK" & Perwali'
EVIL_OPD = "Dinsos <script>alert(4)</script> & 'PPA'"
EVIL_NOTE = "<b onmouseover=alert(5)>catatan</b> & \"kutip\""
EVIL_URL = "javascript:alert(6)"
EVIL_FORMULA = '=HYPERLINK("http://evil.example","klik")'
PLANTED_TEXTS = [EVIL_CITY, EVIL_KEL, EVIL_TITLE, EVIL_OPD, EVIL_NOTE, EVIL_FORMULA]


def hostile_data(root):
    """The report fixture with markup, quotes and ampersands planted in the city, a
    kelurahan, evidence titles, OPD names and raw/sources.csv (as they may come from data)."""
    import yaml
    from report_fixtures import CITY, build_data

    from kla_analysis.tables import load_processed, write_tables

    paths = build_data(root / "data")
    tables = load_processed(paths)
    for df in tables.values():
        for col in ("city", "kelurahan", "area"):
            if col in df:
                df[col] = df[col].str.replace(CITY, EVIL_CITY, regex=False).str.replace(
                    "Kel. Dua", EVIL_KEL, regex=False)
    ev = tables["evidence"]
    ev.loc[ev["indicator"].isin([2, 3, 4]), "title"] = EVIL_TITLE
    ev.loc[ev["indicator"].isin([9, 10, 21]), "opd"] = EVIL_OPD
    ev.loc[ev["indicator"].between(11, 20), "title"] = EVIL_FORMULA
    write_tables(tables, paths)
    (paths.raw / "city.yaml").write_text(
        yaml.safe_dump({"city": EVIL_CITY, "province": "Kalimantan Selatan"}), encoding="utf-8")
    src = pd.read_csv(paths.raw / "sources.csv", dtype=str, keep_default_na=False)
    src.loc[len(src)] = ["statistics/statistik.csv", "statistics", EVIL_OPD, "illustrative",
                         EVIL_URL, EVIL_NOTE]
    src.to_csv(paths.raw / "sources.csv", index=False)
    return paths


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """`kla report --year 2023 --lang id` (report and index) over the hostile data."""
    from report_fixtures import kla

    from kla_analysis.config import ProjectPaths
    from kla_analysis.publish.runner import city_slug

    root = tmp_path_factory.mktemp("hostile")
    paths = ProjectPaths(hostile_data(root).data_dir, root / "reports")
    res = kla("report", "--year", "2023", "--lang", "id", "--data-dir", str(paths.data_dir),
              "--reports-dir", str(paths.reports_dir))
    assert res.returncode == 0, res.stdout + res.stderr
    out = paths.reports_dir / city_slug(EVIL_CITY)
    return {"paths": paths, "report": out / "2023-id.html", "notebook": out / "2023-id.ipynb",
            "index": paths.reports_dir / "index.html"}


class Page:
    """Tags, attributes and text of an HTML page as a browser's parser sees them."""

    def __init__(self, html: str):
        from html.parser import HTMLParser

        page = self

        class P(HTMLParser):
            def handle_starttag(self, tag, attrs):
                page.tags.append((tag, dict(attrs)))

            def handle_data(self, data):
                page.text.append(data)

        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        P(convert_charrefs=True).feed(html)
        self.all_text = " ".join(" ".join(self.text).split())


def assert_no_markup_from_data(html: str) -> Page:
    page = Page(html)
    handlers = [(t, a) for t, a in page.tags for k in a if k.startswith("on")]
    assert not handlers, handlers
    assert not [t for t, _ in page.tags if t in ("script", "iframe", "object", "embed", "svg")]
    assert not [a for t, a in page.tags if t == "img" and a.get("src") == "x"]
    links = [v for _, a in page.tags for k, v in a.items() if k in ("href", "src") and v]
    assert not [v for v in links if v.strip().lower().startswith("javascript:")]
    for raw in ("<img src=x", "<svg onload", "<script>alert", "<b onmouseover"):
        assert raw not in html
    return page


@pytest.mark.slow
def test_every_planted_string_in_the_report_is_text_not_markup(hostile):
    html = hostile["report"].read_text(encoding="utf-8")
    page = assert_no_markup_from_data(html)
    for text in PLANTED_TEXTS:  # shown to the reader exactly as written in the data
        assert " ".join(text.split()) in page.all_text, text
    assert "&amp;amp;" in html  # a literal "&amp;" in data is escaped again, not decoded
    assert EVIL_URL in page.all_text  # a non-http source is shown as text, not linked


@pytest.mark.slow
def test_every_planted_string_in_the_index_is_text_not_markup(hostile):
    html = hostile["index"].read_text(encoding="utf-8")
    page = assert_no_markup_from_data(html)
    assert EVIL_CITY in page.all_text


# ---------------------------------------------------------------- notebook parameters


def _injected_literals(nb) -> dict:
    """The papermill-injected cell as {name: value}; fails unless every statement is
    ``name = <literal>`` (no call, import, attribute or expression that could run code)."""
    import ast

    cells = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    tree = ast.parse(cells[0].source)
    out = {}
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, ast.dump(stmt)
        assert isinstance(stmt.targets[0], ast.Name)
        assert isinstance(stmt.value, ast.Constant), ast.dump(stmt)
        out[stmt.targets[0].id] = stmt.value.value
    return out


@pytest.mark.parametrize("city", [
    'Kota "X"; import os; os.system("touch pwned") #',
    "Kota X\\\"; __import__('os').system('id') #",
    "Kota 'X' \\n\\t ${HOME} `id` {{7*7}} \u00e9",
])
def test_papermill_injects_parameters_as_literals_only(city, tmp_path):
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from kla_analysis.publish.runner import NOTEBOOK, ReportJob

    data_dir = tmp_path / 'data "$(id)" \\ \u00e9'
    job = ReportJob(2023, "id", city, "Nindya", data_dir, tmp_path / "reports")
    # what papermill.execute_notebook does before running the kernel
    nb = parameterize_notebook(load_notebook_node(str(NOTEBOOK)), job.parameters())
    assert _injected_literals(nb) == job.parameters()


@pytest.mark.slow
def test_the_rendered_notebook_received_the_hostile_city_as_a_literal(hostile):
    import nbformat

    params = _injected_literals(nbformat.read(hostile["notebook"], as_version=4))
    assert params["city"] == EVIL_CITY and params["year"] == 2023 and params["lang"] == "id"
    assert params["data_dir"] == str(hostile["paths"].data_dir)


@pytest.mark.slow
def test_plan_workbook_from_hostile_data_has_no_formula_cell(hostile, tmp_path):
    import openpyxl
    from typer.testing import CliRunner

    from kla_analysis.cli import app

    out = tmp_path / "rencana.xlsx"
    res = CliRunner().invoke(app, ["plan", "--year", "2023", "--target", "Utama", "--xlsx",
                                   str(out), "--data-dir", str(hostile["paths"].data_dir)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert any(EVIL_OPD[:20] in n for n in wb.sheetnames)  # hostile data reached the workbook
    assert "'" + EVIL_FORMULA in texts  # as text, neutralised
    assert not [t for t in texts if t.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "\r")]


# ---------------------------------------------------------------- raw data immutability


@pytest.mark.slow
def test_no_command_writes_under_raw(tmp_path):
    """Every file under a copy of the bundled data/raw/ is byte-identical (and no file is
    added or removed) after validate, build, score, plan and report --all."""
    import hashlib
    import shutil

    from report_fixtures import kla

    from kla_analysis.config import PROJ_ROOT

    data = tmp_path / "data"
    shutil.copytree(PROJ_ROOT / "data" / "raw", data / "raw")

    def tree(folder):
        return {p.relative_to(folder).as_posix(): (p.is_dir() or
                                                   hashlib.sha256(p.read_bytes()).hexdigest())
                for p in sorted(folder.rglob("*"))}

    before = tree(data / "raw")
    common = ["--data-dir", str(data), "--reports-dir", str(tmp_path / "reports")]
    for args in (["validate"], ["build"], ["score", "--year", "2023"],
                 ["plan", "--year", "2023", "--xlsx", str(tmp_path / "rencana.xlsx")],
                 ["report", "--all", "--lang", "id", "--jobs", "2"]):
        res = kla(*args, *common)
        assert res.returncode == 0, (args, res.stdout, res.stderr)
        assert tree(data / "raw") == before, args
    assert len(list((tmp_path / "reports").rglob("*.html"))) >= 2


# ---------------------------------------------------------------- docs/reliability.md


def test_reliability_doc_cites_existing_tests():
    """Every `file::test` docs/reliability.md gives as proof exists, and every bracketed
    corpus case it names is in tests/fixtures/bad_inputs/cases.yaml."""
    import re
    from pathlib import Path

    import yaml

    tests = Path(__file__).parent
    doc = (tests.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    cited = re.findall(r"tests/(\w+\.py)::(\w+)", doc)
    assert len(cited) >= 40
    for file, name in cited:
        assert re.search(rf"^def {name}\(", (tests / file).read_text(encoding="utf-8"),
                         re.M), f"{file}::{name}"
    cases = {c["id"] for c in yaml.safe_load(
        (tests / "fixtures" / "bad_inputs" / "cases.yaml").read_text(encoding="utf-8"))["cases"]}
    named = set(re.findall(r"\[([a-z0-9_]+)\]", doc)) - {"id"}
    assert named and named <= cases, named - cases
    assert f"{len(cases)} bad inputs" in doc
