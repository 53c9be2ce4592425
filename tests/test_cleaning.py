"""Unit tests of the pure cleaning functions, one messy case at a time."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kla_analysis.ingest import cleaning as cl

MARKS = ["", "-", "n/a", "na"]


def nums(values, decimal=",", count=False, dtype="str"):
    res = cl.parse_numbers(pd.Series(values, dtype=dtype), decimal, count, MARKS)
    return [None if np.isnan(v) else v for v in res["value"]], list(res["bad"])


@pytest.mark.parametrize("text, decimal, count, expected", [
    ("1.234", ",", False, 1234.0),      # ';' CSV: '.' groups thousands
    ("1.234", ".", False, 1.234),       # ',' CSV: '.' is the decimal mark
    ("1.234", ".", True, 1234.0),       # a count is a whole number: thousands
    ("12,500", ".", False, 12500.0),    # ',' CSV: ',' groups thousands
    ("12,500", ",", False, 12.5),       # ';' CSV: ',' is the decimal mark
    ("85,5", ",", False, 85.5),
    ("85,5", ".", False, 85.5),         # a single comma with one decimal is never a grouping
    ("85,5%", ",", False, 85.5),
    ("85.5", ",", False, 85.5),
    ("85.5 %", ",", False, 85.5),
    ("1.234,5", ".", False, 1234.5),    # both marks: the rightmost is the decimal
    ("1,234.5", ",", False, 1234.5),
    ("1.234.567", ".", False, 1234567.0),
    ("0.855", ",", False, 0.855),       # a leading 0 is never a thousands group
    ("258.753", ",", True, 258753.0),
    ("-3", ",", False, -3.0),
    (" 13,03 ", ",", False, 13.03),
    ("1\xa0234", ",", True, 1234.0),    # non-breaking space inside
])
def test_number_rule(text, decimal, count, expected):
    values, bad = nums([text], decimal, count)
    assert values == [pytest.approx(expected)] and bad == [False]


@pytest.mark.parametrize("text", ["-", "", "n/a", "N/A", "  ", "NA"])
def test_missing_markers_are_missing_not_bad(text):
    assert nums([text]) == ([None], [False])


@pytest.mark.parametrize("text", ["abc", "12a", "1.23.4", "1e5", "inf", "85,5,5%x", "Rp 1.000"])
def test_unparseable_numbers_are_flagged_not_silent_nan(text):
    assert nums([text]) == ([None], [True])


def test_excel_cells_numbers_taken_as_numbers_text_parsed():
    cells = pd.Series([1234.0, 85.5, "85,5%", "", None, dt.date(2023, 1, 1)], dtype=object)
    values, bad = nums(cells, ",", dtype=object)
    assert values[:5] == [1234.0, 85.5, 85.5, None, None]
    assert bad == [False, False, False, False, False, True]  # a date is not a number


def test_parse_is_per_distinct_value_and_keeps_index():
    s = pd.Series(["1.234"] * 3 + ["x"], index=[10, 11, 12, 13], dtype="str")
    res = cl.parse_numbers(s, ",", False, MARKS)
    assert list(res.index) == [10, 11, 12, 13]
    assert list(res["value"][:3]) == [1234.0] * 3 and list(res["bad"]) == [False] * 3 + [True]


@pytest.mark.parametrize("cell, year", [
    ("2023", 2023), ("Tahun 2023", 2023), ("TAHUN  2022", 2022), ("Th. 2021", 2021),
    ("thn 2019", 2019), (2024.0, 2024), (2025, 2025),
])
def test_years(cell, year):
    res = cl.parse_years(pd.Series([cell], dtype=object))
    assert res["value"].iloc[0] == year and not res["bad"].iloc[0]


@pytest.mark.parametrize("cell", ["20233", "Tahun dua ribu", "2023.5", 2023.5, "23"])
def test_bad_years(cell):
    assert cl.parse_years(pd.Series([cell], dtype=object))["bad"].iloc[0]


def test_title_year():
    assert cl.parse_title_year("REKAP PENILAIAN KOTA BANJARBARU TAHUN 2023 (revisi)") == 2023
    assert cl.parse_title_year("Data th. 2021") == 2021
    assert cl.parse_title_year("Data kesehatan") is None


def test_indicators_and_item_codes():
    ind = cl.parse_indicators(pd.Series(["4", 5.0, "Indikator 12", "Ind. 7", "4.1", "x"],
                                        dtype=object))
    assert list(ind["value"][:4]) == [4, 5, 12, 7] and list(ind["bad"]) == [False] * 4 + [True] * 2
    items = cl.parse_item_codes(pd.Series(["4.1", 4.2, "4,1", " 10.2 ", "x", "-"], dtype=object))
    assert list(items["value"][:4]) == ["4.1", "4.2", "4.1", "10.2"]
    assert list(items["bad"]) == [False] * 4 + [True, False]


def test_dates():
    cells = pd.Series(["2023-03-01", "12/03/2023", "5 Maret 2023", "7 Agt 2022",
                       dt.datetime(2022, 1, 2), 45000.0, "kemarin", "-"], dtype=object)
    res = cl.parse_dates(cells)
    assert [str(d)[:10] for d in res["value"][:6]] == [
        "2023-03-01", "2023-03-12", "2023-03-05", "2022-08-07", "2022-01-02", "2023-03-15"]
    assert list(res["bad"]) == [False] * 6 + [True, False]


def test_choices_normalise_case_spacing_and_listed_variants():
    choices = {"ada": ["ada"], "tidak_ada": ["tidak ada"], "dalam_proses": ["dalam proses"],
               "kedaluwarsa": ["kedaluwarsa", "kadaluarsa"]}
    res = cl.parse_choices(pd.Series(["Ada", "TIDAK  ADA", "tidak_ada", "Kadaluarsa",
                                      "dalam-proses", "hilang", "-"]), choices)
    assert list(res["value"][:5]) == ["ada", "tidak_ada", "tidak_ada", "kedaluwarsa",
                                      "dalam_proses"]
    assert list(res["bad"]) == [False] * 5 + [True, False]


def test_name_keys_ignore_case_punctuation_and_prefixes():
    keys = cl.name_key(pd.Series(["KEL. LANDASAN ULIN TIMUR", "Kelurahan Landasan Ulin  Timur",
                                  "Kec. Cempaka", "Sei. Tiung", None]))
    assert list(keys[:4]) == ["landasan ulin timur", "landasan ulin timur", "cempaka",
                              "sei tiung"]
    assert pd.isna(keys.iloc[4])
    assert list(cl.city_key(pd.Series(["Kab. Banjar", "KABUPATEN  BANJAR", "Kota Banjar"]))) == [
        "kabupaten banjar", "kabupaten banjar", "kota banjar"]


def test_display_shows_cells_as_written():
    cells = pd.Series(["85,5%", 1234.0, 85.5, "", dt.date(2023, 1, 1), None], dtype=object)
    assert list(cl.display(cells)) == ["85,5%", "1234", "85.5", "", "2023-01-01", ""]


def test_closest_is_a_hint_only():
    assert cl.closest(["sungai tyung", "zzz"], ["sungai tiung", "palam"]) == {
        "sungai tyung": "sungai tiung", "zzz": None}
