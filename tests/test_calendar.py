"""The evaluation calendar as data: sourced and assumed rounds, the next round, what a to-do
is due by, a data folder's own calendar, and clear errors for a bad file."""

from __future__ import annotations

import datetime as dt

import pytest

from kla_analysis import calendar as C
from kla_analysis.errors import KlaError

D = dt.date
SOURCE_2023 = "https://radarsampit.com/berita/kotim-siap-wujudkan-kabupaten-layak-anak.html/2"


def test_the_2023_round_is_sourced_with_the_reference_dates():
    r = C.load_calendar().rounds[2023]
    sa = r.steps["self_assessment"]
    assert (sa.start, sa.end, sa.status, sa.source) == (D(2023, 2, 7), D(2023, 3, 31),
                                                        "sourced", SOURCE_2023)
    assert r.steps["admin_verification"].start == D(2023, 4, 1)
    assert r.steps["announcement"].end == D(2023, 7, 23)
    assert r.status == "sourced" and r.pattern is None and r.deadline == D(2023, 3, 31)


def test_rounds_without_a_calendar_are_the_2023_pattern_and_labelled_assumptions():
    r = C.load_calendar().rounds[2027]
    assert r.pattern == 2023 and r.status == "assumption"
    assert r.deadline == D(2027, 3, 31)
    for step in r.steps.values():
        assert step.status == "assumption" and step.source is None
        assert "2023 round's dates shifted to 2027 (assumption)" in step.note
    # the 2025 round's own account (months) is sourced; its field verification is a reading
    r25 = C.load_calendar().rounds[2025]
    assert r25.deadline == D(2024, 6, 30) and r25.status == "mixed"
    assert r25.steps["field_verification"].status == "assumption"


@pytest.mark.parametrize(("today", "after", "expected"), [
    (D(2026, 12, 1), 2022, 2027),   # today (the brief's date): 2023, 2025, 2026 closed
    (D(2026, 12, 1), 2025, 2027),
    (D(2023, 3, 31), 2022, 2023),   # the deadline's own day still counts
    (D(2023, 4, 1), 2022, 2025),    # a day late: the next round
    (D(2024, 7, 1), 2022, 2026),    # the 2025 round closed its self-assessment in June 2024
    (D(2026, 12, 1), None, 2027),
    (D(2026, 12, 1), 2030, None),   # nothing after the last round
    (D(2031, 1, 1), None, None),
])
def test_next_round_with_a_fixed_today(today, after, expected):
    r = C.next_round(today, after)
    assert (r.year if r else None) == expected


def test_a_report_s_to_do_is_due_in_its_own_round_while_open_else_the_next():
    cal = C.load_calendar()
    own = C.todo_due(2023, D(2023, 3, 1), cal)
    assert (own.round, own.date, own.status, own.source) == (2023, D(2023, 3, 31), "sourced",
                                                             SOURCE_2023)
    assert (own.window_hours, own.window_start, own.window_end) == (48, D(2023, 4, 1),
                                                                    D(2023, 6, 30))
    assert own.window_status == "sourced" and not own.is_assumption
    late = C.todo_due(2023, D(2026, 12, 1), cal)
    assert (late.round, late.date, late.pattern) == (2027, D(2027, 3, 31), 2023)
    assert late.is_assumption and late.window_status == "assumption"
    assert C.todo_due(2031, D(2026, 12, 1), cal) is None


def _raw(tmp_path, text: str):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "calendar.yaml").write_text(text, encoding="utf-8")
    return raw


def test_a_folder_calendar_replaces_its_rounds_and_keeps_the_others(tmp_path):
    raw = _raw(tmp_path, """
rounds:
  2027:
    steps:
      self_assessment: {start: 2027-01-10, end: 2027-04-15, status: sourced,
                        source: "Surat KemenPPPA (contoh)"}
      field_verification: {start: 2027-05-01, end: 2027-06-15, status: assumption}
""")
    before = (raw / "calendar.yaml").read_bytes()
    cal = C.load_calendar(raw)
    assert cal.files == ("calendar.yaml", "raw/calendar.yaml")
    r = cal.rounds[2027]
    assert (r.deadline, r.file, r.pattern, r.status) == (D(2027, 4, 15), "raw/calendar.yaml",
                                                         None, "mixed")
    assert "admin_verification" not in r.steps  # the folder's round, not the pattern
    assert cal.rounds[2023].file == "calendar.yaml" and 2028 in cal.rounds
    due = C.todo_due(2025, D(2026, 12, 1), cal)
    assert (due.round, due.date, due.status, due.source) == (
        2027, D(2027, 4, 15), "sourced", "Surat KemenPPPA (contoh)")
    assert (due.window_start, due.window_end) == (D(2027, 5, 1), D(2027, 6, 15))
    assert (raw / "calendar.yaml").read_bytes() == before


def test_a_pattern_shifts_29_february_to_28(tmp_path):
    raw = _raw(tmp_path, """
rounds:
  2024:
    steps:
      self_assessment: {start: 2024-01-02, end: 2024-02-29, status: assumption}
  2025: {pattern: 2024}
""")
    assert C.load_calendar(raw).rounds[2025].deadline == D(2025, 2, 28)


STEP = "{start: 2027-02-01, end: 2027-03-31, status: assumption}"


@pytest.mark.parametrize(("text", "key", "value"), [
    ("rounds:\n  2027:\n    steps:\n      self_assessment: {start: 2027-02-01, "
     "end: '2027-02-30', status: assumption}\n",
     "rounds.2027.steps.self_assessment.end", "'2027-02-30'"),
    ("rounds:\n  2027:\n    steps:\n      self_assesment: " + STEP + "\n",
     "rounds.2027.steps.self_assesment", "'self_assesment'"),
    ("rounds:\n  2027:\n    steps:\n      self_assessment: {start: 2027-02-01, "
     "end: 2027-03-31, status: official}\n",
     "rounds.2027.steps.self_assessment.status", "'official'"),
    ("rounds:\n  2027:\n    steps:\n      self_assessment: {start: 2027-02-01, "
     "end: 2027-03-31, status: sourced}\n",
     "rounds.2027.steps.self_assessment.source", "a sourced step names its source"),
    ("rounds:\n  2027:\n    steps:\n      self_assessment: {start: 2027-03-01, "
     "end: 2027-02-01, status: assumption}\n",
     "rounds.2027.steps.self_assessment.end", "'2027-02-01'"),
    ("rounds:\n  2027: {pattern: 2019}\n", "rounds.2027.pattern", "2019"),
    ("rounds:\n  2027:\n    steps:\n      announcement: " + STEP + "\n",
     "rounds.2027.steps", "self_assessment step"),
    ("rounds:\n  2027:\n    steps:\n      self_assessment: " + STEP + "\n      announcement: "
     "{start: 2028-07-23, end: 2028-07-23, status: assumption}\n",
     "rounds.2027.steps.announcement.start", "'2028-07-23'"),
    ("rounds:\n  next:\n    pattern: 2023\n", "rounds.next", "'next'"),
    ("rounds:\n  2027:\n    steps:\n      self_assessment: " + STEP + "\n      training: "
     "{start: 2027-05-01, end: 2027-05-02, status: assumption}\n",
     "rounds.2027.steps.self_assessment.start", "starts before training"),
    ("document_window: {hours: two days, during: [field_verification], status: assumption}\n",
     "document_window.hours", "'two days'"),
    ("round:\n  2027: {pattern: 2023}\n", "round", "unknown key"),
])
def test_a_bad_calendar_is_a_clear_error_naming_file_key_and_value(tmp_path, text, key, value):
    raw = _raw(tmp_path, text)
    with pytest.raises(KlaError) as err:
        C.load_calendar(raw)
    message = str(err.value)
    assert message.startswith("raw/calendar.yaml: "), message
    assert key in message and value in message, message


def test_not_yaml_names_the_file(tmp_path):
    raw = _raw(tmp_path, "rounds: [unclosed\n")
    with pytest.raises(KlaError, match="calendar.yaml: not valid YAML"):
        C.load_calendar(raw)


def test_manifest_rounds_are_json_ready_with_their_basis():
    recs = C.manifest_rounds(C.load_calendar())
    by = {r["round"]: r for r in recs}
    assert by[2023] == {"round": 2023, "due": "2023-03-31", "status": "sourced",
                        "pattern": None}
    assert by[2027] == {"round": 2027, "due": "2027-03-31", "status": "assumption",
                        "pattern": 2023}
