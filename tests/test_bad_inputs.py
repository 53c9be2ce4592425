"""The bad-input corpus (tests/fixtures/bad_inputs/): every case through `kla validate` and
`kla build`.

For each case: both commands exit as expected (1 = refused), print a problem table naming
every expected problem (file, sheet, row, column, rule; value and hint where given) and
nothing else, never a traceback; raw/, processed/ and reports/ are byte-identical before and
after. Most cases run through the in-process CLI runner (fast); a few run as real
subprocesses, as cron would run them. Plus the guards' edges (formula with a saved result,
the size limit's override, links inside raw/).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fixtures.bad_inputs import make_binary
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import ProjectPaths
from kla_analysis.ingest import guards
from kla_analysis.ingest.build import build
from kla_analysis.ingest.validate import validate_data
from kla_analysis.tables import load_table, table_path

CORPUS = Path(__file__).parent / "fixtures" / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]
BY_ID = {c["id"]: c for c in CASES}
KEY = ("file", "sheet", "row", "column", "rule")
# Each item of issue 8's bad-input list must be covered by at least one case.
REQUIRED = [
    "empty file", "header only", "wrong encoding", "BOM",
    '";" file with decimal commas mixed with "." decimals', "missing required column",
    "unexpected extra column", "duplicate key rows", "negative counts", "percentage above 100",
    "numerator above denominator", "unknown indicator number", "unknown kelurahan",
    "year out of range or as text", "indicator points above the maximum",
    "corrupt .xlsx (truncated zip)", "password-protected .xlsx",
    "an Excel sheet with formulas instead of values", "a 200 MB file",
    "a text field holding <script> or an =HYPERLINK(...) formula",
    "a file that is a symlink to outside the data folder",
]
# As cron runs them: a real process per command (the rest use the in-process runner).
SUBPROCESS_CASES = ["file_200mb", "password_protected_xlsx", "rich_markup_in_cell"]
WIDE = {"COLUMNS": "1000"}  # a wide terminal, so no cell of the problem table is folded


def tree_hash(folder: Path) -> dict[str, str]:
    """Digest of every file (and link target) under ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            with open(p, "rb") as fh:  # the 200 MB case is a hole: hashing it is cheap
                out[rel] = hashlib.file_digest(fh, "sha256").hexdigest()
    return out


def trees(paths: ProjectPaths) -> dict[str, dict[str, str]]:
    return {"raw": tree_hash(paths.raw), "processed": tree_hash(paths.processed),
            "reports": tree_hash(paths.reports_dir)}


@pytest.fixture(scope="module")
def built_base(tmp_path_factory) -> Path:
    """base/ copied and built (processed tables written), with previous reports beside it."""
    root = tmp_path_factory.mktemp("bad_inputs_base")
    shutil.copytree(CORPUS / "base", root / "data")
    paths = ProjectPaths(root / "data", root / "reports")
    build(paths)
    (paths.reports_dir / "kota-contoh").mkdir(parents=True)
    (paths.reports_dir / "index.html").write_text("<html>previous index</html>\n")
    (paths.reports_dir / "kota-contoh" / "2023-id.html").write_text("<html>previous</html>\n")
    return root


def place(case: dict, built_base: Path, tmp_path: Path) -> ProjectPaths:
    """A copy of the built base with the case's files placed under raw/."""
    work = tmp_path / "work"
    shutil.copytree(built_base, work, symlinks=True)
    paths = ProjectPaths(work / "data", work / "reports")
    folder = CORPUS / "cases" / case["id"] / "raw"
    if folder.is_dir():
        shutil.copytree(folder, paths.raw, dirs_exist_ok=True)
    if case.get("make"):
        make_binary.make(case["make"], paths.raw, tmp_path / "outside")
    return paths


def printed_problems(output: str) -> list[dict]:
    """The rows of the problem table the CLI printed (a cell's extra lines joined)."""
    rows: list[list[str]] = []
    header = None
    for line in output.splitlines():
        if line.startswith("┃") and header is None:
            header = [c.strip() for c in line.strip("┃").split("┃")]
        elif line.startswith("│") and header:
            cells = [c.strip() for c in line.strip().strip("│").split("│")]
            if rows and not cells[0] and not cells[header.index("rule")]:
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
            else:
                rows.append(cells)
    return [dict(zip(header, r, strict=True)) for r in rows] if header else []


def expected_key(p: dict) -> tuple:
    row = p.get("row")
    return (p["file"], p.get("sheet", ""), "" if row is None else str(row), p["column"],
            p["rule"])


def check_output(case: dict, output: str) -> None:
    assert "Traceback" not in output and "Internal error" not in output, output
    if case["exit"] == 0:
        return
    printed = printed_problems(output)
    got = Counter(tuple(r[k] for k in KEY) for r in printed)
    want = Counter(expected_key(p) for p in case["problems"])
    assert got == want, output
    for p in case["problems"]:
        row = next(r for r in printed if tuple(r[k] for k in KEY) == expected_key(p))
        if "value" in p:
            assert row["value"] == p["value"], row
        assert row["hint"], row  # every problem says how to fix it
        if "hint" in p:
            assert p["hint"] in row["hint"], row
    n = len(case["problems"])
    assert f"Error: {n} problem{'s' if n != 1 else ''} found in the input files" in output


# ---------------------------------------------------------------- the corpus itself


def test_corpus_covers_every_listed_case_and_each_case_is_complete():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 25 and len(set(ids)) == len(ids)
    assert set(REQUIRED) <= {c["covers"] for c in CASES}
    folders = {p.name for p in (CORPUS / "cases").iterdir() if p.is_dir()}
    assert folders <= set(ids)  # no stray folder
    for c in CASES:
        has_files = c["id"] in folders and any((CORPUS / "cases" / c["id"]).rglob("*.*"))
        assert has_files or c.get("make"), c["id"]
        assert make_binary.KINDS.get((c.get("make") or {}).get("kind"), True), c["id"]
        assert c["exit"] in (0, 1) and (c["exit"] == 0) == (not c["problems"]), c["id"]


def test_base_folder_is_valid(built_base):
    res = validate_data(ProjectPaths(built_base / "data", built_base / "reports"))
    assert res.ok, res.problems
    # every table holds rows, but the answers of question-level self-assessment files and
    # the area declarations: the base has neither (an empty table is fine)
    optional = {"self_assessment_answers", "area_declarations"}
    assert all(len(res.tables[n]) for n in res.tables if n not in optional)


# ---------------------------------------------------------------- every case


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_validate_and_build_name_every_problem_and_change_nothing(case, built_base, tmp_path,
                                                                  monkeypatch):
    paths = place(case, built_base, tmp_path)
    monkeypatch.chdir(tmp_path)  # where a command injected through data would write
    before = trees(paths)
    runner = CliRunner()
    for command in ("validate", "build"):
        res = runner.invoke(app, [command, "--data-dir", str(paths.data_dir),
                                  "--reports-dir", str(paths.reports_dir)], env=WIDE)
        assert res.exit_code == case["exit"], (command, res.output)
        check_output(case, res.output)
    after = trees(paths)
    assert after["raw"] == before["raw"] and after["reports"] == before["reports"]
    if case["exit"] == 1:
        assert after["processed"] == before["processed"]
    for name in case.get("absent", []):
        assert not (tmp_path / name).exists()


def test_cases_as_real_processes(built_base, tmp_path):
    """`python -m kla_analysis validate|build` as cron runs them, all started at once."""
    env = {**os.environ, **WIDE, "KLA_DATA_DIR": "", "KLA_REPORTS_DIR": "", "KLA_DEBUG": ""}
    runs = []
    for cid in SUBPROCESS_CASES:
        case = BY_ID[cid]
        paths = place(case, built_base, tmp_path / cid)
        before = trees(paths)
        for command in ("validate", "build"):
            proc = subprocess.Popen(
                [sys.executable, "-m", "kla_analysis", command, "--data-dir",
                 str(paths.data_dir), "--reports-dir", str(paths.reports_dir)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                cwd=tmp_path / cid)
            runs.append((case, command, paths, before, proc))
    for case, command, paths, before, proc in runs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == case["exit"], (case["id"], command, out, err)
        check_output(case, out + err)
        assert trees(paths) == before


# ---------------------------------------------------------------- accepted as data


def test_markup_and_formula_text_is_data_kept_exactly_and_neutralised_in_the_csv(
        built_base, tmp_path):
    paths = place(BY_ID["script_and_hyperlink_text"], built_base, tmp_path)
    build(paths)
    ev = load_table("evidence", paths).set_index("item")
    assert ev.loc["3.1", "title"] == "<script>alert(1)</script> Daftar lembaga"
    assert ev.loc["3.1", "opd"] == '=HYPERLINK("http://evil.example","klik")'
    assert ev.loc["5.1", "title"] == '<img src=x onerror=alert(1)> "Forum" & Anak'
    assert ev.loc["5.1", "opd"] == "+Diskominfo" and ev.loc["5.1", "link"] == "-2+3"
    csv = pd.read_csv(table_path("evidence", paths, ".csv"), dtype=str,
                      keep_default_na=False).set_index("item")
    assert csv.loc["3.1", "opd"] == "'" + ev.loc["3.1", "opd"]
    assert csv.loc["3.1", "link"] == "'" + ev.loc["3.1", "link"]
    assert csv.loc["5.1", ["opd", "link"]].tolist() == ["'+Diskominfo", "'-2+3"]
    assert csv.loc["3.1", "title"] == ev.loc["3.1", "title"]  # not formula-like: as is


# ---------------------------------------------------------------- guards' edges


def _with_cached_values(data: bytes, values: dict[str, str]) -> bytes:
    """The workbook with saved results for the given formula cells (as Excel saves them)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = body.decode()
                for ref, v in values.items():
                    text, n = re.subn(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/>',
                                      rf"\1\2<v>{v}</v>", text)
                    assert n == 1, ref
                body = text.encode()
            dst.writestr(item, body)
    return out.getvalue()


def test_a_formula_with_a_saved_result_is_read_as_that_result(built_base, tmp_path):
    rows = BY_ID["formulas_without_values"]["make"]["rows"]
    data = _with_cached_values(make_binary.xlsx_bytes(rows), {"F3": "90", "F4": "85"})
    paths = place({"id": "none"}, built_base, tmp_path)
    (paths.raw / "statistics" / "rumus.xlsx").write_bytes(data)
    (paths.raw / "statistics" / "statistik.csv").unlink()  # same keys as the workbook
    res = validate_data(paths)
    assert res.ok, res.problems
    st = res.tables["statistics"]
    got = st[st["data_year"] == 2021].set_index("area")["value"].to_dict()
    assert got == {"Sukamaju": 90.0, "Sukarame": 85.0, "Mekarsari": 87.5}


def test_formula_cells_are_listed_up_to_the_limit_and_hidden_sheets_are_skipped(tmp_path):
    cap = guards.load_limits()["max_formula_cells_listed"]
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, cap + 6):
        ws.cell(r, 1, r)
        ws.cell(r, 2, f"=A{r}*2")
    hidden = wb.create_sheet("Daftar")
    hidden["A1"] = "=1+1"
    hidden.sheet_state = "hidden"
    path = tmp_path / "raw" / "rumus.xlsx"
    path.parent.mkdir()
    wb.save(path)
    probs = guards.file_problems(path, tmp_path / "raw")
    assert len(probs) == cap + 1
    assert [(p["row"], p["column"], p["value"]) for p in probs[:2]] == [
        (1, "B", "=A1*2"), (2, "B", "=A2*2")]
    assert probs[-1]["row"] is None and probs[-1]["value"] == "5 more cells"
    assert {p["sheet"] for p in probs} == {ws.title}


def test_size_limit_comes_from_data_and_can_be_raised_or_lowered_for_a_run(built_base,
                                                                           tmp_path):
    paths = place({"id": "none"}, built_base, tmp_path)
    make_binary.sparse(paths.raw / "statistics" / "besar.csv",
                       {"head": "Kelurahan;Tahun Data;APK PAUD\n", "size_mb": 200}, tmp_path)
    assert guards.max_file_bytes() == guards.load_limits()["max_file_mb"] * 1024 * 1024
    runner = CliRunner()
    low = runner.invoke(app, ["validate", "--data-dir", str(paths.data_dir)],
                        env={**WIDE, "KLA_MAX_FILE_MB": "0.0001"})
    assert low.exit_code == 1
    refused = {r["file"] for r in printed_problems(low.output) if r["rule"] == "file_too_large"}
    assert "statistics/statistik.csv" in refused and "statistics/besar.csv" in refused
    bad = runner.invoke(app, ["validate", "--data-dir", str(paths.data_dir)],
                        env={**WIDE, "KLA_MAX_FILE_MB": "banyak"})
    assert bad.exit_code == 1 and "KLA_MAX_FILE_MB must be a number" in bad.output
    assert "Traceback" not in bad.output


def test_links_inside_the_data_folder_are_read(built_base, tmp_path):
    paths = place({"id": "none"}, built_base, tmp_path)
    stats = paths.raw / "statistics"
    (stats / "asli").mkdir()
    shutil.move(stats / "statistik.csv", stats / "asli" / "statistik.csv")
    os.symlink(stats / "asli" / "statistik.csv", stats / "tautan.csv")
    (stats / ".#tautan.csv").symlink_to("root@host.1234")  # an editor's lock link: ignored
    res = validate_data(paths)
    assert res.problems[["file", "rule"]].values.tolist() == [
        ["statistics/tautan.csv", "duplicate_key"]] * 3  # read twice: also via the link
