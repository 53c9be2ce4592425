"""The question catalog (kla_analysis/data/questions.yaml) and question-level self-assessment
files: the catalog adds up to the claims scale, a broken copy is refused with every problem
named, question rows sum to the same processed totals as indicator rows, and every new
validation rule reports the exact file, row, column, value and hint."""

from __future__ import annotations

import shutil

import openpyxl
import pytest
import yaml
from fixtures.pipeline.helpers import BUNDLED, data_dir, problems, rule, where, write_xlsx

from kla_analysis.catalog import load_catalog, load_evidence_requirements
from kla_analysis.config import ProjectPaths, project_paths
from kla_analysis.errors import KlaError
from kla_analysis.ingest.build import build
from kla_analysis.ingest.validate import validate_data
from kla_analysis.ingest.xlsx_templates import FILES, HEADER_ROW, LOCKED, write_templates
from kla_analysis.questions import load_options, load_questions, questions_file
from kla_analysis.tables import load_processed

YEAR = 2025
HEAD = ["Tahun", "Indikator", "Nomor Pertanyaan", "Jawaban", "Nilai"]


# ---------------------------------------------------------------- the catalog


def test_question_maxima_add_up_to_the_claims_scale_per_indicator():
    q = load_questions()
    cat = load_catalog().set_index("indicator")
    sums = q.groupby("indicator")["max_points"].sum().round(2)
    assert sums.to_dict() == cat["claims_max_points"].round(2).to_dict()
    assert round(float(q["max_points"].sum()), 2) == 1000
    opts = load_options()
    top = opts.groupby(["indicator", "question"])["points"].max()
    assert top.tolist() == q.set_index(["indicator", "question"])["max_points"].tolist()
    assert (opts["points"] >= 0).all() and (opts["points"].round(2) == opts["points"]).all()


def test_kelembagaan_has_the_sourced_question_counts_and_the_real_first_question():
    q = load_questions()
    assert q.groupby("indicator").size().loc[[1, 2, 3]].tolist() == [4, 7, 8]
    first = q.iloc[0]
    assert first["text_id"] == ("Apakah tersedia peraturan daerah terkait penyelenggaraan "
                                "Kabupaten/Kota Layak Anak?")
    assert not first["wording_assumed"] and first["points_assumed"]
    assert first["source"] == "https://github.com/randikasptra/dinsos-sipanda-kabulan"
    opts = load_options()
    labels = opts[(opts["indicator"] == 1) & (opts["question"] == 1)]
    assert labels["label_id"].tolist() == [
        "Peraturan Daerah tentang KLA", "Peraturan Bupati/Walikota", "Instruksi Bupati/Walikota",
        "Surat Edaran Bupati/Walikota", "Peraturan lainnya", "Tidak"]
    assert labels["points"].is_monotonic_decreasing  # graded: an assumption
    rest = q.iloc[1:]
    assert rest["wording_assumed"].all() and (rest["source"] == "package").all()
    # indicators 4-26: one question per evidence item, Ada / proses / kedaluwarsa / tidak ada
    later = q[q["indicator"] >= 4]
    ev = load_evidence_requirements()
    assert later["evidence"].tolist() == ev.loc[ev["indicator"] >= 4, "item"].tolist()
    codes = opts[opts["indicator"] >= 4].groupby(["indicator", "question"])["option"].agg(tuple)
    assert set(codes) == {("ada", "dalam_proses", "kedaluwarsa", "tidak_ada")}


def test_every_evidence_item_is_expected_by_a_question_of_its_indicator():
    q = load_questions()
    expected = q.assign(item=q["evidence"].str.split("; ")).explode("item")
    ev = load_evidence_requirements()
    pairs = set(zip(expected["indicator"], expected["item"], strict=True))
    assert set(zip(ev["indicator"], ev["item"], strict=True)) == pairs


def _broken_copy(tmp_path, change) -> str:
    doc = yaml.safe_load(questions_file().read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def test_a_broken_copy_is_refused_naming_the_file_and_every_problem(tmp_path):
    def change(doc):
        qs = doc["questions"]
        qs[0]["options"][0]["points"] = 45  # indicator 1 then adds up to 101
        qs[5]["number"] = 1  # indicator 2: question 1 twice
        qs[20]["evidence"] = ["99.1"]
        del qs[30]["text_en"]
        qs[40]["options"][1]["points"] = 500  # above its indicator's maximum
        qs[10]["indicator"] = 77
    path = _broken_copy(tmp_path, change)
    with pytest.raises(KlaError) as err:
        load_questions(path)
    msg = str(err.value)
    assert msg.startswith(path + ": ")
    for part in ("question #21", "evidence item '99.1' is not in the catalog",
                 "question #31", "missing field(s) text_en",
                 "option dalam_proses has 500 points, above the indicator's maximum",
                 "question #11", "indicator 77 is not an indicator of the catalog"):
        assert part in msg, part
    # sums and numbering are checked once every question reads well
    path = _broken_copy(tmp_path, lambda doc: (
        doc["questions"][0]["options"][0].update(points=45),
        doc["questions"][5].update(number=1),
        doc["questions"].pop(-1)))  # 26.2: its evidence item then has no question
    with pytest.raises(KlaError) as err:
        load_options(path)
    msg = str(err.value)
    assert "indicator 1: the question maxima add up to 101, not the indicator's maximum 96" in msg
    assert "indicator 2: question number(s) 1 given more than once" in msg
    assert "indicator 26: evidence item(s) 26.2 expected by no question" in msg
    assert "indicator 26: the question maxima add up to 25" in msg


def test_points_scale_must_name_a_weight_set(tmp_path):
    path = _broken_copy(tmp_path, lambda doc: doc.update(points_scale="bobot_2030"))
    with pytest.raises(KlaError, match="points_scale is 'bobot_2030'"):
        load_questions(path)


# ---------------------------------------------------------------- question-level files


def folder(tmp_path):
    """A data folder (bundled city and gazetteer) on the packaged default weights: the scale
    the question catalog's points are written in."""
    d = data_dir(tmp_path)
    shutil.copy(BUNDLED / "city.yaml", d / "raw" / "city.yaml")
    return d


def question_rows(year: int = YEAR, pick=lambda o: o["label_id"].iloc[0],
                  skip: tuple[tuple[int, int], ...] = ()) -> list[list]:
    """A complete question-level table (header + a row per question); ``pick`` chooses the
    answer from the question's options (None: unanswered); ``skip`` leaves questions out."""
    opts = load_options()
    rows = [HEAD]
    for (ind, q), o in opts.groupby(["indicator", "question"], sort=False):
        if (ind, q) not in skip:
            rows.append([year, ind, q, pick(o), None])
    return rows


def _pick(o):
    """A fixed, varied choice: the second option where there is one, every 5th unanswered."""
    ind, q = int(o["indicator"].iloc[0]), int(o["question"].iloc[0])
    if (ind * 7 + q) % 5 == 0:
        return None
    return o["label_id"].iloc[min(1, len(o) - 1)] if ind % 2 else o["option"].iloc[0]


def _answer_points(pick) -> dict[int, float]:
    opts = load_options()
    out = {}
    for (ind, _), o in opts.groupby(["indicator", "question"], sort=False):
        chosen = pick(o)
        got = o.loc[(o["label_id"] == chosen) | (o["option"] == chosen), "points"]
        out[int(ind)] = out.get(int(ind), 0.0) + (float(got.iloc[0]) if len(got) else 0.0)
    return {i: round(v, 2) for i, v in out.items()}


def _bundled_copy(tmp_path, name: str) -> ProjectPaths:
    d = tmp_path / name
    shutil.copytree(BUNDLED, d / "raw")
    for p in (d / "raw" / "self_assessment").glob(f"*{YEAR}*"):
        p.unlink()
    return ProjectPaths(d, d / "reports")


def test_question_level_and_indicator_level_files_give_the_same_processed_totals(tmp_path):
    by_question = _bundled_copy(tmp_path, "questions")
    write_xlsx(by_question.raw / "self_assessment" / f"pm_pertanyaan_{YEAR}.xlsx",
               [["PENILAIAN MANDIRI PER PERTANYAAN TAHUN 2025"], [], HEAD[1:4],
                *[r[1:4] for r in question_rows(pick=_pick)[1:]]])
    points = _answer_points(_pick)
    by_indicator = _bundled_copy(tmp_path, "indicators")
    write_xlsx(by_indicator.raw / "self_assessment" / f"pm_{YEAR}.xlsx",
               [["Tahun", "Indikator", "Nilai Mandiri"],
                *[[YEAR, i, p] for i, p in points.items()]])
    a = build(by_question)["self_assessment"]
    b = build(by_indicator)["self_assessment"]
    key = ["city", "year", "indicator", "points_claimed"]
    assert a[key].equals(b[key])
    assert a.loc[a["year"] == YEAR, "points_claimed"].round(2).tolist() == list(points.values())
    # the counts exist only for the question-level year
    assert a.loc[a["year"] != YEAR, "questions_answered"].isna().all()
    assert b["questions_answered"].isna().all() and b["questions_total"].isna().all()
    # both tables are written like the others (an empty answers table too)
    assert len(load_processed(by_question)["self_assessment_answers"]) == 65
    empty = load_processed(by_indicator)["self_assessment_answers"]
    assert empty.empty and list(empty.columns)[:6] == [
        "city", "year", "indicator", "question", "answer", "points"]


def test_completeness_and_the_answers_table(tmp_path):
    d = folder(tmp_path)
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", question_rows(pick=_pick))
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    sa = res.tables["self_assessment"].set_index("indicator")
    total, answered = {}, {}
    for (i, _), o in load_options().groupby(["indicator", "question"]):
        total[i] = total.get(i, 0) + 1
        answered[i] = answered.get(i, 0) + (_pick(o) is not None)
    assert sa["questions_total"].tolist() == list(total.values())
    assert sa["questions_answered"].tolist() == list(answered.values())
    assert sum(total.values()) - sum(answered.values()) == 14  # unanswered: allowed
    assert str(sa["questions_answered"].dtype) == "Int64"
    ans = res.tables["self_assessment_answers"]
    assert len(ans) == 65 and ans["answer"].isna().sum() == 14
    assert ans["points"].isna().sum() == 14
    one = ans.set_index(["indicator", "question"])["answer"]
    assert one[(1, 1)] == "perbup_perwal"  # written as its label
    assert one[(2, 2)] == "ya"  # written as its code
    assert one.isna()[(2, 1)]
    assert ans[["source_file", "source_row"]].iloc[0].tolist() == ["self_assessment/pm.xlsx", 2]
    # the indicator row's provenance is its first question row
    assert sa.loc[2, "source_row"] == 6


def test_answers_match_codes_and_labels_whatever_the_case_and_punctuation(tmp_path):
    d = folder(tmp_path)
    rows = question_rows(pick=lambda o: o["label_id"].iloc[-1])
    rows[1][3] = "  peraturan BUPATI / walikota "  # 1.1 perbup_perwal
    rows[2][3] = "SEBAGIAN"  # 1.2
    rows[3][3] = "semua-opd"  # 1.3, a code written with a dash
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", rows)
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    ans = res.tables["self_assessment_answers"]
    assert ans["answer"].iloc[:3].tolist() == ["perbup_perwal", "sebagian", "semua_opd"]
    sa = res.tables["self_assessment"].set_index("indicator")
    assert sa.loc[1, "points_claimed"] == 30 + 8 + 24 + 0


def row_of(rows: list[list], indicator: int, question: int) -> int:
    """Spreadsheet row of the last row for ``indicator``/``question`` (row 1: the header)."""
    return max(k for k, r in enumerate(rows, start=1) if r[1:3] == [indicator, question])


def _bad_rows() -> list[list]:
    rows = question_rows()
    rows[1][3] = "Perda saja"  # unknown_answer, row 2
    rows[2][4] = 10  # 1.2 'Ya' is worth 16: points_mismatch, row 3
    rows.insert(6, [YEAR, 2, 9, "Ya", None])  # unknown_question, row 7
    rows.insert(7, [YEAR, 3, 1, "Ya", None])  # 3.1 here and again below: duplicate_key
    rows.insert(8, [YEAR, 3, "abc", None, None])  # unknown_question (not a number), row 9
    rows.insert(9, [YEAR, 3, None, "Ya", None])  # an answer without a question, row 10
    five = row_of(rows, 5, 1) - 1
    rows[five][3:5] = [None, 19]  # points without an answer
    return [r for r in rows if r[1] != 26]  # indicator 26 missing


def test_every_question_rule_names_file_row_column_value_and_hint(tmp_path):
    d = folder(tmp_path)
    rows = _bad_rows()
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", rows)
    # indicator 4 also as an indicator-level row (another file, same city and year)
    write_xlsx(d / "raw" / "self_assessment" / "pm_indikator.xlsx",
               [["Tahun", "Indikator", "Nilai Mandiri"], [YEAR, 4, 30]])
    probs = problems(d)
    f = "self_assessment/pm.xlsx"

    def one(name):
        got = rule(probs, name)
        assert len(got) >= 1, (name, probs.to_string())
        return got

    p = one("unknown_answer")
    assert where(p) == [(f, "Data", 2, "Jawaban")] and p["value"].item() == "Perda saja"
    assert "Peraturan Daerah tentang KLA (perda)" in p["hint"].item()
    assert "Tidak (tidak)" in p["hint"].item()
    p = one("points_mismatch")
    assert where(p) == [(f, "Data", 3, "Nilai")] and p["value"].item() == "10"
    assert "is worth 16 points" in p["hint"].item()
    p = one("unknown_question")
    assert where(p) == [(f, "Data", 7, "Nomor Pertanyaan"), (f, "Data", 9, "Nomor Pertanyaan")]
    assert p["value"].tolist() == ["9", "abc"]
    assert "indicator 2 has questions 1-7" in p["hint"].iloc[0]
    assert "whole number" in p["hint"].iloc[1]
    p = one("duplicate_key")  # the later row, pointing at the first
    assert where(p) == [(f, "Data", row_of(rows, 3, 1), "Nomor Pertanyaan")]
    assert p["hint"].item() == ("same city, year, indicator, question as "
                                "self_assessment/pm.xlsx row 8")
    p = one("missing_value")
    assert sorted(where(p)) == [(f, "Data", 10, "Nomor Pertanyaan"),
                                (f, "Data", row_of(rows, 5, 1), "Jawaban")]
    assert set(p["hint"].str.split(":").str[0]) == {
        "an answer is given", "the points are filled in but the answer is blank"}
    p = one("indicator_and_questions")
    assert where(p) == [("self_assessment/pm_indikator.xlsx", "Data", 2, "Indikator")]
    assert p["value"].item() == "4"
    assert "Kota Banjarbaru 2025: indicator 4 is also given question by question (from " \
           f"self_assessment/pm.xlsx row {row_of(rows, 4, 1)})" in p["hint"].item()
    p = one("missing_indicator")
    assert p["value"].item() == "26"


def test_an_indicator_row_without_points_and_a_table_without_answers(tmp_path):
    d = folder(tmp_path)
    rows = [[YEAR, i, 10] for i in load_catalog()["indicator"]]
    rows[4][2] = None
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", [["Tahun", "Indikator", "Nilai"],
                                                           *rows])
    write_xlsx(d / "raw" / "self_assessment" / "no_answer.xlsx",
               [["Tahun", "Indikator", "Nomor Pertanyaan"], [2023, 1, 1]])
    write_xlsx(d / "raw" / "self_assessment" / "no_points.xlsx",
               [["Tahun", "Indikator", "Keterangan"], [2023, 1, "x"]])
    probs = problems(d)
    p = rule(probs, "missing_value")
    assert where(p) == [("self_assessment/pm.xlsx", "Data", 6, "Nilai")]
    assert "unless the row gives Nomor Pertanyaan or Jawaban (a row per question)" in \
        p["hint"].item()
    p = rule(probs, "missing_column")
    assert sorted(where(p)) == [("self_assessment/no_answer.xlsx", "Data", 1, "Jawaban"),
                                ("self_assessment/no_points.xlsx", "Data", 1,
                                 "Nilai Penilaian Mandiri")]


def test_claims_above_a_block_maximum(tmp_path):
    d = folder(tmp_path)
    cat = load_catalog()
    pts = {int(i): float(m) for i, m in zip(cat["indicator"], cat["claims_max_points"],
                                            strict=True)}
    pts[2] = 40.0  # Kelembagaan: 96 + 40 + 32 = 168 > 164
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx",
               [["Tahun", "Indikator", "Nilai"], *[[YEAR, i, p] for i, p in pts.items()]])
    probs = problems(d)
    p = rule(probs, "above_block_maximum")
    assert where(p) == [("self_assessment/pm.xlsx", "Data", 2, "Nilai")]
    assert p["value"].item() == "168"
    hint = p["hint"].item()
    assert "block KLB (Kelembagaan; indicators 1, 2, 3) add up to 168" in hint
    assert "above the block's maximum 164" in hint
    assert where(rule(probs, "out_of_range")) == [("self_assessment/pm.xlsx", "Data", 3, "Nilai")]


def test_a_folder_on_another_weight_set_gets_the_option_points_rescaled(tmp_path):
    d = data_dir(tmp_path)  # flat test weights: 40 per indicator 1-24, 20 for 25-26
    rows = question_rows()  # every question answered with its best option
    rows[1][4] = 40  # 1.1 perda: 40 of indicator 1's 96 points, 16.67 of its 40 here
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", rows)
    p = rule(problems(d), "points_mismatch")
    assert where(p) == [("self_assessment/pm.xlsx", "Data", 2, "Nilai")]
    assert "is worth 16.67 points" in p["hint"].item()
    rows[1][4] = None
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", rows)
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    sa = res.tables["self_assessment"].set_index("indicator")["points_claimed"]
    assert sa.loc[[1, 2, 24, 25]].round(2).tolist() == [40, 40, 40, 20]


def test_evidence_rows_may_name_their_question(tmp_path):
    d = folder(tmp_path)
    write_xlsx(d / "raw" / "self_assessment" / "pm.xlsx", question_rows())
    write_xlsx(d / "raw" / "evidence" / "dd.xlsx", [
        ["Tahun", "Kode Data Dukung", "Nomor Pertanyaan", "Status", "OPD", "Judul Dokumen"],
        [YEAR, "1.1", 1, "ada", "Bagian Hukum", "Perda 1/2024"],
        [YEAR, "2.4", 5, "ada", "DP3APMP2KB", "Notulen"],
        [YEAR, "4.1", None, "tidak ada", "Disdukcapil", None],
        [YEAR, "4.2", 3, "tidak ada", "Disdukcapil", None]])
    probs = problems(d)
    p = rule(probs, "unknown_question")
    assert where(p) == [("evidence/dd.xlsx", "Data", 5, "Nomor Pertanyaan")]
    assert "indicator 4 has questions 1-2" in p["hint"].item()
    assert p["hint"].item().endswith("; item 4.2 is expected by question 2")
    (d / "raw" / "evidence" / "dd.xlsx").unlink()
    write_xlsx(d / "raw" / "evidence" / "dd.xlsx", [
        ["Tahun", "Kode Data Dukung", "Nomor Pertanyaan", "Status", "OPD", "Judul Dokumen"],
        [YEAR, "1.1", 1, "ada", "Bagian Hukum", "Perda 1/2024"],
        [YEAR, "4.1", None, "tidak ada", "Disdukcapil", None]])
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    ev = res.tables["evidence"]
    assert str(ev["question"].dtype) == "Int64" and ev["question"].tolist()[:1] == [1]
    assert ev["question"].isna().sum() == 1


# ---------------------------------------------------------------- the template


def test_the_question_level_template_filled_passes_validation(tmp_path):
    d = folder(tmp_path)
    paths = dict(zip(FILES, write_templates(2026, tmp_path / "out", project_paths(d)),
                     strict=True))
    path = paths["self_assessment_questions"]
    assert path.name == "template_penilaian_mandiri_pertanyaan_2026.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Data"]
    col = {c.value: c.column for c in ws[HEADER_ROW] if c.value}
    assert list(col) == ["Kabupaten/Kota", "Tahun Evaluasi", "Nomor Indikator", "Nomor Pertanyaan",
                         "Uraian Pertanyaan", "Jawaban", "Nilai Penilaian Mandiri",
                         "Keterangan"]
    first = HEADER_ROW + 1
    assert ws.cell(first, col["Uraian Pertanyaan"]).value.startswith("Apakah tersedia peraturan")
    assert ws.protection.sheet and ws.cell(first, col["Uraian Pertanyaan"]).protection.locked
    assert not ws.cell(first, col["Jawaban"]).protection.locked
    assert LOCKED["self_assessment_questions"] == ("Uraian Pertanyaan",)
    # the answer's drop-down lists that question's options
    dv = next(v for v in ws.data_validations.dataValidation
              if str(v.sqref) == f"F{first}")
    ref = dv.formula1.split("!")[1].replace("$", "")
    listed = [c.value for row in wb["Daftar"][ref] for c in row]
    assert listed[0] == "Peraturan Daerah tentang KLA" and listed[-1] == "Tidak"
    # filled: every question answered with its first option, some points written
    opts = load_options().groupby(["indicator", "question"], sort=False)
    for r, (_, o) in enumerate(opts, start=first):
        ws.cell(r, col["Jawaban"], o["label_id"].iloc[0])
        if r % 4 == 0:
            ws.cell(r, col["Nilai Penilaian Mandiri"], float(o["points"].iloc[0]))
    dest = d / "raw" / "self_assessment" / path.name
    dest.parent.mkdir(parents=True)
    wb.save(dest)
    res = validate_data(project_paths(d))
    assert res.ok, res.problems.to_string()
    sa = res.tables["self_assessment"]
    assert round(float(sa["points_claimed"].sum()), 2) == 1000
    assert (sa["questions_answered"] == sa["questions_total"]).all()
