"""Hostile inputs cannot hang a run or damage an output.

- YAML: every document goes through ``yamlfile.loads`` / ``read_yaml``, which refuse a document
  over the limits (size, aliases, self-reference, nesting depth, expanded size) with a
  ``yaml.YAMLError`` naming the limit: a "billion laughs" city.yaml or rules file fails at
  once, in little memory, instead of hanging ``kla validate`` / ``kla build``.
- Writers are safe on their own (the readers also flag these characters on the way in): no
  control, bidirectional or invisible character (``kla_analysis.chars``) reaches the to-do
  workbook (cells and sheet names, which also follow Excel's naming rules), the processed CSV,
  the HTML fragments, the SVG charts, or the terminal (shown there as ``\\xNN`` / ``\\uNNNN``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import tracemalloc
import unicodedata
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pandas as pd
import pytest
import yaml
from estimate_fixtures import full_tables

from kla_analysis.chars import NOT_XML, UNSAFE
from kla_analysis.config import ProjectPaths, package_file
from kla_analysis.errors import KlaError, problems_frame
from kla_analysis.ingest.gazetteer import read_city_config
from kla_analysis.model import plan as P
from kla_analysis.model.settings import load_settings
from kla_analysis.report import export as X
from kla_analysis.report import formatting as F
from kla_analysis.report import svg
from kla_analysis.tables import load_table, spreadsheet_safe, table_path, write_table
from kla_analysis.yamlfile import loads, read_yaml

#: Names with every kind of character no output may carry.
HOSTILE_TEXTS = [
    "Dinas\x07 Sosial\x00",             # control characters (XML forbids them)
    "\u202eDinas Kesehatan\u202c",      # right-to-left override ("Trojan Source")
    "Dis\u2066dik\u2069\u200f",         # isolates and a mark
    "Bap\u200bpeda\ufeff",              # zero-width space, byte-order mark
    "\x1b[31mDiskominfo\x1b[0m",        # a terminal escape sequence
    "Kes\x7fbang\x9bpol",               # DEL and a C1 control
]


def _no_unsafe(text: str) -> bool:
    return UNSAFE.search(text) is None and NOT_XML.search(text) is None


# ---------------------------------------------------------------- YAML limits

def _laughs(levels: int = 9, per: int = 9, key: str = "lol") -> str:
    """The classic "billion laughs": ``per ** levels`` strings from a few hundred bytes."""
    lines = [f'a: &a [{", ".join(["lol"] * per)}]']
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{', '.join([f'*{prev}'] * per)}]")
    lines.append(f"{key}: *{chr(96 + levels)}")
    return "\n".join(lines) + "\n"


BOMBS = {
    "billion_laughs": _laughs(),
    # 2 aliases a level, 50 levels: within 100 aliases, still 2**50 values
    "doubling_chain": "a0: &a0 [x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 50)),
    # merge keys copy the merged pairs: the same doubling through <<
    "merge_keys": "m0: &m0 {k0: 1}\n" + "".join(
        f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}\n" for i in range(1, 50)),
    "recursive_sequence": "&a [x, *a]\n",
    "recursive_mapping": "&a {city: *a}\n",
    "many_aliases": "s: &s Banjarbaru\nt: [" + ", ".join(["*s"] * 150) + "]\n",
    "deep_flow": "x: " + "[" * 500 + "]" * 500 + "\n",
    "deep_block": "".join(" " * i + "-\n" for i in range(300)),
}
LIMIT_WORDS = {
    "billion_laughs": "MAX_NODES", "doubling_chain": "MAX_NODES", "merge_keys": "MAX_NODES",
    "recursive_sequence": "recursive alias", "recursive_mapping": "recursive alias",
    "many_aliases": "MAX_ALIASES", "deep_flow": "MAX_DEPTH", "deep_block": "MAX_DEPTH",
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_yaml_bombs_fail_fast_in_little_memory(name):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(yaml.YAMLError, match=LIMIT_WORDS[name]):
            loads(BOMBS[name])
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5 and peak < 20 * 2**20, (elapsed, peak)


def test_oversized_yaml_text_is_refused_before_parsing():
    start = time.perf_counter()
    with pytest.raises(yaml.YAMLError, match="MAX_SIZE"):
        loads("x: " + "y" * (1024 * 1024))
    assert time.perf_counter() - start < 0.1


def test_normal_yaml_still_loads_with_a_few_aliases():
    doc = loads("base: &b {weight: 1}\nuse: [*b, *b]\nmerged: {<<: *b, extra: 2}\n")
    assert doc == {"base": {"weight": 1}, "use": [{"weight": 1}] * 2,
                   "merged": {"weight": 1, "extra": 2}}
    assert loads("") is None and loads("x: [" + "1, " * 50_000 + "1]")["x"][-1] == 1
    for name in ("indicators.yaml", "i18n.yaml", "datasets.yaml", "scoring_rules.yaml",
                 "actions.yaml", "predicates.yaml", "display.yaml", "input_limits.yaml"):
        assert read_yaml(package_file(name), name)  # every packaged file is within the limits


@pytest.mark.parametrize("name", ["billion_laughs", "recursive_mapping", "deep_flow"])
def test_read_yaml_names_the_file_and_the_limit(tmp_path, name):
    path = tmp_path / "rules.yaml"
    path.write_text(BOMBS[name], encoding="utf-8")
    with pytest.raises(KlaError, match=LIMIT_WORDS[name]) as err:
        read_yaml(path, "rules file")
    assert str(path) in str(err.value) and "not valid YAML" in str(err.value)


def test_read_yaml_refuses_an_oversized_file(tmp_path):
    path = tmp_path / "actions.yaml"
    path.write_text("# " + "x" * (1024 * 1024) + "\nk: 1\n", encoding="utf-8")
    with pytest.raises(KlaError, match="MAX_SIZE"):
        read_yaml(path, "actions file")


def test_city_yaml_bomb_is_a_problem_row(tmp_path):
    (tmp_path / "city.yaml").write_text("city: Banjarbaru\n" + _laughs(key="extra"),
                                        encoding="utf-8")
    start = time.perf_counter()
    config, problems = read_city_config(tmp_path)
    assert time.perf_counter() - start < 0.5
    assert config is None and len(problems) == 1
    assert problems[0]["rule"] == "invalid_config" and "MAX_NODES" in problems[0]["hint"]


def _isolated(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, so a regression that hangs is killed, not the
    test session; it prints the peak of the memory Python allocated for ``code`` (kB) last
    (tracemalloc: the process's maximum RSS would include the parent's, kept across exec)."""
    script = "import tracemalloc\ntracemalloc.start()\n" + textwrap.dedent(code) + (
        "\nprint(tracemalloc.get_traced_memory()[1] // 1024)\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=timeout, check=True)


@pytest.mark.parametrize("target", ["read_yaml", "read_city_config"])
def test_billion_laughs_where_the_city_or_rules_are_read_does_not_hang(tmp_path, target):
    (tmp_path / "city.yaml").write_text(_laughs(key="city"), encoding="utf-8")
    code = {
        "read_yaml": f"""
            from kla_analysis.errors import KlaError
            from kla_analysis.yamlfile import read_yaml
            try:
                read_yaml({str(tmp_path / "city.yaml")!r}, "rules file")
            except KlaError as err:
                print("refused:", err)
        """,
        "read_city_config": f"""
            from pathlib import Path
            from kla_analysis.ingest.gazetteer import read_city_config
            print("refused:", read_city_config(Path({str(tmp_path)!r}))[1][0]["hint"])
        """}[target]
    try:
        out = _isolated(code, timeout=60).stdout.splitlines()
    except subprocess.TimeoutExpired:
        pytest.fail(f"{target} of a billion-laughs city.yaml hung")
    assert out[0].startswith("refused:") and "MAX_NODES" in out[0]
    assert int(out[-1]) < 100_000  # kB: imports (pandas for the gazetteer), not a bomb


# ---------------------------------------------------------------- XLSX to-do workbook

LONG = "Dinas Pemberdayaan Perempuan dan Perlindungan Anak"  # > 31 characters
HOSTILE_OPDS = [
    LONG + " Kota", LONG + " Provinsi", LONG + " KOTA",            # one 31-character prefix
    "Dinas Kesehatan", "DINAS KESEHATAN", "dinas kesehatan",       # case variants
    "History", "HISTORY", "Keterangan", "KETERANGAN",               # reserved / the notes sheet
    "[Dinas]/Kes*?", "[]:*?/\\", "'''", "'Bappeda'", "   ",          # forbidden characters
    "x" * 30 + "'" + "yyy",                                         # an apostrophe at 31
    "\U0001F3E5" * 20,                                              # 2 UTF-16 units each
    "\ufb01nance", "finance",                                       # equal under NFKC
    "=HYPERLINK(\"http://evil\",\"klik\")", "\u202e=cmd|' /C calc'!A0",
    *HOSTILE_TEXTS, "Kesbang\ufffepol",
]


def _sheet_rules_hold(names: list[str]) -> None:
    keys = [unicodedata.normalize("NFKC", n).casefold() for n in names]
    assert len(set(keys)) == len(keys), names
    for n in names:
        assert 0 < len(n.encode("utf-16-le")) // 2 <= 31, n
        assert not any(c in n for c in "[]:*?/\\"), n
        assert not n.startswith("'") and not n.endswith("'"), n
        assert n.casefold() != "history" and n.strip() == n and _no_unsafe(n), n


def test_sheet_names_follow_excel_rules():
    taken = {"Keterangan"}
    names = [X.sheet_name(o, taken) for o in HOSTILE_OPDS + [None, "", "lone\ud800"]]
    _sheet_rules_hold(["Keterangan", *names])
    assert names[HOSTILE_OPDS.index("History")] == "History (2)"
    assert names[HOSTILE_OPDS.index("[Dinas]/Kes*?")] == "-Dinas--Kes--"
    assert names[HOSTILE_OPDS.index("[]:*?/\\")] == "OPD"
    assert names[HOSTILE_OPDS.index("\u202eDinas Kesehatan\u202c")] == "Dinas Kesehatan (4)"


def _hostile_plan() -> dict:
    plan = P.plan_year(full_tables(), 2023, settings=load_settings())
    row = plan["actions"].iloc[[0]]
    acts = pd.concat([row] * len(HOSTILE_OPDS), ignore_index=True)
    acts["opd"] = HOSTILE_OPDS
    titles = [*HOSTILE_TEXTS, "\u202e=cmd|' /C calc'!A0"]
    acts["title"] = [titles[i % len(titles)] for i in range(len(acts))]
    acts["label_id"] = "Lengkapi \u202edata\u202c dukung\x0b"
    summary = {**plan["summary"], "city": "Kota \u202eContoh\x07"}
    return {**plan, "actions": acts, "summary": summary}


def test_workbook_with_hostile_names_opens_and_is_well_formed_xml(tmp_path):
    plan = _hostile_plan()
    path = X.write_todo_workbook(plan, tmp_path / "todo.xlsx")
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            if member.endswith((".xml", ".rels")):
                ET.fromstring(zf.read(member))  # raises on malformed XML
    wb = openpyxl.load_workbook(path)
    _sheet_rules_hold(wb.sheetnames)
    assert len(wb.sheetnames) == len({o.strip() for o in HOSTILE_OPDS}) + 1  # + notes
    n_rows = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert _no_unsafe(cell.value), (ws.title, cell.coordinate, cell.value)
                    assert cell.value.lstrip(" ")[:1] not in X.FORMULA_TRIGGERS
                assert cell.data_type != "f"
        if ws.title != "Keterangan":
            n_rows += ws.max_row - 1
    assert n_rows == len(plan["actions"])
    titles = {c.value for ws in wb.worksheets[:-1] for c in ws["F"][1:]}
    assert {"'=cmd|' /C calc'!A0", "Dinas Kesehatan", "Dinas Sosial", "Bappeda"} <= titles
    assert wb.worksheets[0]["C2"].value == "Lengkapi data dukung"
    assert wb["Keterangan"]["B1"].value == "Kota Contoh"


def test_workbook_cells_strip_before_neutralising_and_fit_excel():
    assert X._cell("\u202e=cmd") == "'=cmd"  # a formula once the override is gone
    assert X._cell("\u200b@SUM(A1)\x00") == "'@SUM(A1)"
    assert len(X._cell("a" * 40_000)) == X.MAX_CELL
    assert len(X._cell("\U0001F3E5" * 20_000).encode("utf-16-le")) <= 2 * X.MAX_CELL


# ---------------------------------------------------------------- processed CSV

def test_processed_csv_carries_no_unsafe_characters(tmp_path):
    paths = ProjectPaths(tmp_path / "data", tmp_path / "reports")
    texts = HOSTILE_TEXTS + ["\u202e=1+1", "Dinkes"]
    df = pd.DataFrame({"opd": pd.Series(texts, dtype="str"), "points": 1.5,
                       "obj": pd.Series(texts, dtype=object),
                       "cat": pd.Categorical(texts)})
    write_table(df, "evidence", paths)
    raw = table_path("evidence", paths, ".csv").read_text(encoding="utf-8")
    assert _no_unsafe(raw), [c for c in raw if UNSAFE.match(c)]
    csv = pd.read_csv(table_path("evidence", paths, ".csv"), dtype=str, keep_default_na=False)
    expected = ["Dinas Sosial", "Dinas Kesehatan", "Disdik", "Bappeda", "[31mDiskominfo[0m",
                "Kesbangpol", "'=1+1", "Dinkes"]
    assert csv["opd"].tolist() == expected and csv["obj"].tolist() == expected
    assert csv["cat"].tolist() == expected
    # the Parquet keeps the validated values exactly (see kla_analysis/tables.py)
    pd.testing.assert_frame_equal(load_table("evidence", paths)[["opd", "points"]],
                                  df[["opd", "points"]])


def test_spreadsheet_safe_strips_then_neutralises_problem_values():
    probs = pd.DataFrame({"value": ["\u202e=cmd", "ok\u200b", None, 3], "row": [1, 2, 3, 4]})
    out = spreadsheet_safe(probs)
    assert out["value"].tolist()[:2] == ["'=cmd", "ok"] and out["value"].tolist()[3] == 3
    assert probs["value"].tolist()[0] == "\u202e=cmd"  # the input is not changed


# ---------------------------------------------------------------- HTML

def test_html_fragments_carry_no_unsafe_characters():
    df = pd.DataFrame({"OPD\u202e": HOSTILE_TEXTS, "n": range(len(HOSTILE_TEXTS))})
    html = str(F.html_table(df, caption="Tabel \u202eOPD\x07", numeric=["n"]))
    html += str(F.esc("<b>\u202eKes</b>")) + str(F.badge("\u200bada\x1b", "status-ok"))
    html += F.predicate_label("Madya\u202e")
    assert _no_unsafe(html), [c for c in html if UNSAFE.match(c)]
    assert "Dinas Kesehatan" in html and "&lt;b&gt;Kes&lt;/b&gt;" in html
    assert "<caption>Tabel OPD</caption>" in html and "Madya" in html


# ---------------------------------------------------------------- SVG

def test_svg_text_carries_no_unsafe_characters_and_parses():
    body = [svg.text(10, 10, name, 12) for name in HOSTILE_TEXTS]
    body += [svg.boxed_text(10, 30, "\u202eKelurahan\ufffe", 12),
             svg.text(1, 1, svg.fit_text("\u202e" + "Landasan Ulin " * 10, 12, 80), 12)]
    image = svg.document(200, 100, body, title="Dot \u202eplot\x00")
    assert _no_unsafe(image)
    root = ET.fromstring(image)
    labels = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert labels[:2] == ["Dinas Sosial", "Dinas Kesehatan"]
    assert svg.text_width("Dinas\u202e", 12) == svg.text_width("Dinas", 12)


# ---------------------------------------------------------------- terminal

@pytest.mark.parametrize(("value", "shown"), [
    ("\u202eDinas Kesehatan\u202c", "\\u202eDinas Kesehatan\\u202c"),
    ("Dis\u2066dik\u2069\u200f", "Dis\\u2066dik\\u2069\\u200f"),
    ("Bap\u200bpeda\ufeff", "Bap\\u200bpeda\\ufeff"),
    ("over\rwrite", "over\\x0dwrite"),
    ("next\x85line", "next\\x85line"),
])
def test_problem_tables_show_bidi_and_invisible_characters_as_escapes(value, shown, capsys):
    from kla_analysis.cli import print_problems

    probs = problems_frame(pd.DataFrame([{
        "file": "evidence.csv", "sheet": "", "row": 3, "column": "OPD",
        "rule": "unsafe_character", "value": value, "hint": "U+202E"}]))
    print_problems(probs)
    err = capsys.readouterr().err
    assert shown in err and _no_unsafe(err) and "\r" not in err


def test_echoed_text_lines_show_unsafe_characters_as_escapes(capsys):
    from kla_analysis.cli import _echo

    _echo(["Kota \u202eContoh\x1b[2J", "Dinas\u200b", "lone\ud800"])
    out = capsys.readouterr().out
    assert out == "Kota \\u202eContoh\\x1b[2J\nDinas\\u200b\nlone\\ud800\n"
