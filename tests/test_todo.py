"""The ranked to-do per OPD: ranking by gain in chance per unit of effort (points when the
chance plan is absent, withheld or out of reach), the due date and its basis, the effort
unit, plural forms, the workbook's columns and date cells, the report section and the
index's next band and next deadline."""

from __future__ import annotations

import datetime as dt
import json
import re

import openpyxl
import pandas as pd
import pytest
from estimate_fixtures import full_tables, write_processed

from kla_analysis import calendar as C
from kla_analysis.model import plan as P
from kla_analysis.model.chance_plan import FRONTIER_COLUMNS
from kla_analysis.model.settings import load_settings
from kla_analysis.publish import index, runner
from kla_analysis.region import Region, read_region
from kla_analysis.report import export as X
from kla_analysis.report import html, sections
from kla_analysis.report import todo as T
from kla_analysis.report.i18n import t

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def points_plan():
    """The fixture's points plan: 4 actions (17.x Dinkes, 18.x Disdik), 2023."""
    return P.plan_year(full_tables(), 2023, settings=load_settings())


def _chance_plan(base: dict, gains, efforts, opds=None, **extra) -> dict:
    acts = base["actions"].copy()
    acts["chance_gain"] = gains
    acts["effort"] = efforts
    if opds is not None:
        acts["opd"] = opds
    frontier = pd.DataFrame([
        {"level": 0.5, "feasible": True, "chance": 0.55, "effort": 3, "n_opd": 1,
         "n_actions": 2, "expected_total": 700.0, "best_chance": None},
        {"level": 0.8, "feasible": True, "chance": 0.85, "effort": sum(efforts), "n_opd": 2,
         "n_actions": 4, "expected_total": 720.0, "best_chance": None},
        {"level": 1.0, "feasible": False, "chance": None, "effort": None, "n_opd": None,
         "n_actions": None, "expected_total": None, "best_chance": 0.97}],
        columns=FRONTIER_COLUMNS)
    cp = {"enough": True, "feasible": True, "chance": 0.85, "chance_target": 0.8,
          "best_chance": None, "n_actions": len(acts), "actions": acts,
          "frontier": frontier, **extra}
    return {**base, "chance_plan": cp}


def test_tasks_are_ranked_by_gain_in_chance_per_effort(points_plan):
    plan = _chance_plan(points_plan, [0.10, 0.06, 0.03, 0.0], [5, 1, 0, 2])
    todo = T.build_todo(plan, "en", today=TODAY)
    assert (todo.basis, todo.reason) == ("chance", None)
    # ratios 0.02, 0.06, free (effort 0, positive gain), 0: free first, then by ratio
    assert list(todo.table["chance_gain"]) == [0.03, 0.06, 0.10, 0.0]
    assert list(todo.table["rank"]) == [1, 2, 3, 4]
    assert set(todo.table["round"]) == {2027} and set(todo.table["due"]) == {
        dt.date(2027, 3, 31)}
    assert set(todo.table["due_status"]) == {"assumption"}


@pytest.mark.parametrize(("change", "reason"), [
    (None, "absent"), ({"enough": False}, "withheld"),
    ({"feasible": False, "best_chance": 0.4}, "infeasible")])
def test_without_a_usable_chance_plan_the_points_plan_is_ranked_and_says_why(
        points_plan, change, reason):
    base = {**points_plan, "actions": points_plan["actions"].assign(
        points_gained=[10.0, 30.0, 20.0, 5.0], effort=[2, 3, 1, 1])}
    plan = base if change is None else {
        **base, "chance_plan": {**_chance_plan(base, [0.5] * 4, [1] * 4)["chance_plan"],
                                **change}}
    todo = T.build_todo(plan, "id", today=TODAY)
    assert (todo.basis, todo.reason) == ("points", reason)
    # points per effort: 20/1, 30/3 = 10/1... ties broken by the larger gain
    assert list(todo.table["points_gained"]) == [20.0, 30.0, 10.0, 5.0]
    assert todo.table["chance_gain"].isna().all()
    assert t(f"todo.reason.{reason}", "id", target="Nindya", level="80%", best="40%")


def test_the_due_date_follows_the_folder_calendar(points_plan, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "calendar.yaml").write_text(
        "rounds:\n  2027:\n    steps:\n      self_assessment: {start: 2027-01-04, "
        "end: 2027-02-26, status: sourced, source: 'https://example.org/se-2027'}\n",
        encoding="utf-8")
    todo = T.build_todo(points_plan, "en", raw_dir=raw, today=TODAY)
    assert set(todo.table["due"]) == {dt.date(2027, 2, 26)}
    assert set(todo.table["due_status"]) == {"sourced"}
    text = " ".join(T.due_sentences(todo.due, "en"))
    assert "Due: 26 February 2027" in text and "sourced (https://example.org/se-2027)" in text
    assert "assumption" not in text.split("Missing documents")[0]
    # the package's pattern round says it is an assumption, in both languages
    assumed = T.build_todo(points_plan, "id", today=TODAY).due
    words = " ".join(T.due_sentences(assumed, "id"))
    assert "31 Maret 2027" in words and "asumsi: jadwal putaran 2023 digeser ke 2027" in words
    assert "2 × 24 jam" in words
    assert T.build_todo(points_plan, "en", today=dt.date(2031, 1, 1)).due is None


@pytest.mark.parametrize(("text", "unit_id", "unit_en"), [
    ("effort_unit:\n  id: hari kerja\n  en: person-days\n", "hari kerja", "person-days"),
    ("effort_unit: minggu-orang\n", "minggu-orang", "minggu-orang"),
])
def test_the_folder_sets_the_effort_unit(tmp_path, text, unit_id, unit_en):
    (tmp_path / "kla.yaml").write_text("region: Kota Contoh\n" + text, encoding="utf-8")
    region, problems = read_region(tmp_path)
    assert problems == []
    assert (T.effort_unit(region, "id"), T.effort_unit(region, "en")) == (unit_id, unit_en)
    assert "ditetapkan Gugus Tugas (raw/kla.yaml" in T.effort_unit_note(region, "id")


DEFAULT_EN = "effort units (assumption)"


@pytest.mark.parametrize(("text", "column", "unit"), [
    ("effort_unit:\n  id: hari kerja\n  en: 3\n", "effort_unit.en", DEFAULT_EN),
    ("effort_unit:\n  id: hari kerja\n", "effort_unit", DEFAULT_EN),
    ("effort_unit:\n  fr: jours\n  id: hari\n  en: days\n", "effort_unit.fr", "days"),
    ("effort_unit: [a, b]\n", "effort_unit", DEFAULT_EN),
])
def test_a_bad_effort_unit_is_one_problem_row(tmp_path, text, column, unit):
    (tmp_path / "kla.yaml").write_text("region: Kota Contoh\n" + text, encoding="utf-8")
    region, problems = read_region(tmp_path)
    assert [(p["rule"], p["column"], p["row"]) for p in problems] == [
        ("invalid_config", column, problems[0]["row"])]
    assert problems[0]["row"] >= 2 and "raw/kla.yaml" in problems[0]["hint"]
    assert T.effort_unit(region, "en") == unit


def test_without_a_setting_the_unit_is_labelled_the_package_s_assumption():
    assert T.effort_unit(Region(), "id") == "satuan usaha (asumsi)"
    assert T.effort_unit(None, "en") == "effort units (assumption)"
    assert "not a measured cost" in T.effort_unit_note(Region(), "en")


@pytest.mark.parametrize("key", ["todo.summary_chance", "todo.summary_points",
                                 "todo.opd_heading_chance", "todo.opd_heading_points",
                                 "todo.notes.tasks_value"])
def test_counted_strings_have_right_plural_forms(key):
    values = dict(n_opd=1, unit="person-days", effort=3, target="Nindya", words="about 8 in 10",
                  pct="80%", gain="5", new_total="705", margin="4", opd="Dinkes")
    one, two = t(key, "en", n=1, **values), t(key, "en", n=2, **values)
    assert re.search(r"\b1 task\b", one) and "1 tasks" not in one
    assert "2 tasks" in two and "2 task " not in two
    assert "1 tugas" in t(key, "id", n=1, **values) and "2 tugas" in t(key, "id", n=2, **values)


def test_workbook_carries_rank_gain_in_chance_effort_unit_and_a_real_due_date(
        points_plan, tmp_path):
    plan = _chance_plan(points_plan, [0.10, 0.06, 0.03, 0.0], [5, 1, 0, 2])
    region = Region(effort_unit={"id": "hari kerja", "en": "person-days"})
    todo = T.build_todo(plan, "en", today=TODAY, region=region)
    path = X.write_todo_workbook(plan, tmp_path / "todo.xlsx", "en", todo=todo)
    wb = openpyxl.load_workbook(path)
    ranks = []
    for ws in wb.worksheets[:-1]:
        head = [c.value for c in ws[1]]
        assert head[0] == "Indicator" and head[10] == "Effort, person-days"
        assert head[12:] == ["Rank", "Gain in chance (estimate)", "Due date",
                             "Evaluation round", "Date basis"]
        rows = list(ws.iter_rows(min_row=2))
        sheet_ranks = [r[12].value for r in rows]
        assert sheet_ranks == sorted(sheet_ranks)
        ranks += sheet_ranks
        for r in rows:
            assert r[14].is_date and r[14].value == dt.datetime(2027, 3, 31)
            assert r[14].number_format == X.DATE_FORMAT
            assert r[13].number_format == X.PERCENT_FORMAT and 0 <= r[13].value <= 0.1
            assert r[15].value == 2027 and r[16].value == "assumption: the 2023 calendar shifted"
    assert sorted(ranks) == [1, 2, 3, 4]
    notes = {r[0]: r[1] for r in wb["Notes"].iter_rows(values_only=True)}
    assert notes["Tasks in this workbook"] == "4 tasks from 2 OPD, total person-days: 8"
    assert notes["Effort unit"].startswith("person-days — the unit the Gugus Tugas set")
    assert "gain in chance per unit of effort" in notes["Order of the tasks"]
    assert "31 March 2027" in notes["Due date"] and "2 × 24 hours" in notes["Due date"]


def test_points_workbook_leaves_the_chance_blank(points_plan, tmp_path):
    path = X.write_todo_workbook(points_plan, tmp_path / "todo.xlsx", "id")
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["M1"].value == "No. urut" and ws["K1"].value == "Upaya, satuan usaha (asumsi)"
    assert all(r[13].value is None for r in ws.iter_rows(min_row=2))


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    return write_processed(full_tables(), tmp_path_factory.mktemp("todo-report"))


@pytest.fixture
def fixed_today(monkeypatch):
    real = T.todo_due
    monkeypatch.setattr(T, "todo_due", lambda year, today, cal: real(year, TODAY, cal))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_report_section_shows_the_ranked_to_do_with_due_date_unit_and_frontier(
        report_dir, points_plan, monkeypatch, fixed_today, lang):
    # one OPD with one task, one with three: both plural forms appear
    plan = _chance_plan(points_plan, [0.10, 0.06, 0.03, 0.01], [5, 1, 1, 2],
                        opds=["Dinkes", "Disdik", "Disdik", "Disdik"])
    monkeypatch.setattr(sections, "plan_result", lambda rep: plan)
    rep = sections.load_report(2023, data_dir=str(report_dir), lang=lang, use_cache=False)
    out = str(html.plan_html(rep))
    if lang == "en":
        assert "Dinkes: 1 task, effort units (assumption): 5" in out
        assert "Disdik: 3 tasks, effort units (assumption): 4" in out
        assert "1 tasks" not in out and "4 tasks from 2 OPD" in out
        assert "due 31 March 2027 (the 2027 round, assumption)" in out
        assert "Report of 2023; these tasks are for the 2027 round." in out
        assert "Effort and chance (effort units (assumption) → chance of reaching Nindya)" in out
        assert "every scenario not reachable (best 97%)" in out
        assert "+10% chance" in out and "No. 1 ·" in out
    else:
        assert "Dinkes: 1 tugas" in out and "Disdik: 3 tugas" in out
        assert "batas waktu 31 Maret 2027 (putaran 2027, asumsi)" in out
        assert "2 × 24 jam" in out
    # ranked: the task with 0.06 per unit (Disdik) is No. 1, its OPD comes first
    assert out.index("Disdik:") < out.index("Dinkes:")


def test_report_section_falls_back_to_points_and_says_so(report_dir, points_plan, monkeypatch,
                                                         fixed_today):
    plan = {**points_plan, "chance_plan": {
        **_chance_plan(points_plan, [0.1] * 4, [1] * 4)["chance_plan"], "enough": False}}
    monkeypatch.setattr(sections, "plan_result", lambda rep: plan)
    rep = sections.load_report(2023, data_dir=str(report_dir), lang="en", use_cache=False)
    out = str(html.plan_html(rep))
    assert "Chances per task are withheld" in out and "Effort and chance" not in out
    assert "4 tasks from 2 OPD" in out and "points gained" in out and "% chance" not in out


def _manifest(reports, year, headline, deadlines="package"):
    folder = reports / "kota-z"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{year}-en.html").write_text("<html></html>")
    doc = {"city": "Kota Z", "year": year, "lang": "en", "headline": headline}
    if deadlines != "package":
        doc["deadlines"] = deadlines
    (folder / f"{year}-en.json").write_text(json.dumps(doc))


HEAD = {"official_predicate": "Madya", "claimed_total": 931.75, "estimated_total": 690.0,
        "estimated_total_min": 600, "estimated_total_max": 720, "estimated_predicate": "Madya",
        "target_predicate": "Utama", "points_to_target_predicate": 111.0,
        "p_target": 0.1, "band_probabilities": {"Belum berpredikat": 0.05, "Pratama": 0.05,
                                                "Madya": 0.6, "Nindya": 0.2, "Utama": 0.1,
                                                "KLA": 0.0}}


def test_index_shows_official_predikat_next_band_chance_and_next_deadline(tmp_path):
    _manifest(tmp_path, 2023, HEAD, deadlines=[
        {"round": 2023, "due": "2023-03-31", "status": "sourced", "pattern": None},
        {"round": 2027, "due": "2027-02-26", "status": "sourced", "pattern": None}])
    _manifest(tmp_path, 2025, {**HEAD, "band_probabilities": None, "p_target": None})
    page = index.index_html(tmp_path, lang="en", today=TODAY)
    assert "Official predikat Madya" in page
    # the band above Madya is Nindya (not the target Utama): P(>= Nindya) = 0.3
    assert "Chance of the next band, Nindya, by the model: about 3 in 10 (estimate)" in page
    assert "Chance of the next band, Nindya: withheld" in page  # 2025: no probabilities
    # 2023 from its manifest's (sourced) calendar, 2025 from the package's pattern round
    assert ("Next deadline: 26 February 2027, the end of the 2027 round&#39;s penilaian "
            "mandiri (sourced)") in page
    assert ("Next deadline: 31 March 2027, the end of the 2027 round&#39;s penilaian mandiri "
            "(assumption: the 2023 calendar shifted)") in page
    late = index.index_html(tmp_path, lang="id", today=dt.date(2031, 1, 1))
    assert late.count("kalender tidak memuat putaran berikutnya") == 2


def test_next_band_helpers():
    assert index.next_band({"official_predicate": "Madya"}) == "Nindya"
    assert index.next_band({"official_predicate": None, "estimated_predicate": None}) == \
        "Pratama"
    assert index.next_band({"official_predicate": "KLA"}) is None
    assert index.band_chance(HEAD, "Nindya") == pytest.approx(0.3)
    assert index.band_chance({"target_predicate": "Nindya", "p_target": 0.4}, "Nindya") == 0.4
    assert index.band_chance({"target_predicate": "Utama", "p_target": 0.4}, "Nindya") is None


def test_manifest_keeps_the_calendar_and_the_fingerprint_follows_it(tmp_path):
    data = tmp_path / "data"
    (data / "processed").mkdir(parents=True)
    (data / "raw").mkdir()
    job = runner.ReportJob(2023, "id", "Kota Z", None, data, tmp_path / "reports")
    job.out_dir.mkdir(parents=True)
    doc = json.loads(runner.write_manifest(job, {}, "x", 1.0).read_text(encoding="utf-8"))
    assert doc["deadlines"] == C.manifest_rounds(C.load_calendar())
    before = runner.input_fingerprint(job)
    (data / "raw" / "calendar.yaml").write_text(
        "rounds:\n  2027:\n    steps:\n      self_assessment: {start: 2027-01-04, "
        "end: 2027-02-26, status: assumption}\n", encoding="utf-8")
    assert runner.input_fingerprint(job) != before
    doc = json.loads(runner.write_manifest(job, {}, "x", 1.0).read_text(encoding="utf-8"))
    assert {"round": 2027, "due": "2027-02-26", "status": "assumption",
            "pattern": None} in doc["deadlines"]
