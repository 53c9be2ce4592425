from kla_analysis.errors import PROBLEM_COLUMNS, InputProblems, problems_frame


def test_problems_frame_is_idempotent_and_keeps_blanks_blank():
    raw = [{"file": "b.csv", "sheet": None, "row": None, "column": "x", "rule": "r",
            "value": float("nan"), "hint": "h"},
           {"file": "a.xlsx", "sheet": "S", "row": 7, "column": "y", "rule": "r",
            "value": 5, "hint": "h"}]
    once = problems_frame(raw)
    twice = problems_frame(once)
    assert list(once.columns) == PROBLEM_COLUMNS
    assert once.equals(twice)
    assert once["file"].tolist() == ["a.xlsx", "b.csv"]
    assert once.loc[1, "sheet"] == "" and once.loc[1, "value"] == ""
    assert once.loc[0, "value"] == "5" and once.loc[0, "row"] == 7
    assert once["row"].isna().tolist() == [False, True]


def test_input_problems_message_counts():
    err = InputProblems([{"file": "a", "row": 1, "column": "c", "rule": "r", "value": "v",
                          "hint": "h"}])
    assert str(err) == "1 problem found in the input files"
