"""Calibration against official predicates, on the 24-indicator fixture.

``full_tables``: every indicator claimed at 40 (960 = KLA band); all evidence items of
indicators 1-16 'ada' and none for 17-24, so the estimate is 16 x 40 = 640 (Madya) in 2022
and 2023; the packaged sensitivity grid spans 340-640 (see test_estimate). 2021 has a claim
but no inventory. Official: 2021 Pratama, 2022 Nindya, 2023 Madya, 2025 Madya (no claim).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from estimate_fixtures import fixture_settings, full_tables, official

from kla_analysis.errors import KlaError
from kla_analysis.model import calibration as C
from kla_analysis.model.estimate import indicator_inputs

S = fixture_settings()


@pytest.fixture(scope="module")
def cal() -> pd.DataFrame:
    return C.calibrate(full_tables(), settings=S).set_index("year")


def test_rows_and_notes(cal):
    assert list(cal.index) == [2021, 2022, 2023, 2025]
    assert cal.loc[2021, "note"] == "no evidence inventory" and math.isnan(
        cal.loc[2021, "estimated_total"])
    assert cal.loc[2025, "note"] == "no self-assessment" and math.isnan(
        cal.loc[2025, "claimed_total"])


def test_in_band_and_distances(cal):
    # 2023: 640 is Madya = official -> inside, distance 0; range 340-640 reaches Madya
    assert cal.loc[2023, "in_band"] and cal.loc[2023, "distance_to_band"] == 0
    assert cal.loc[2023, "range_overlaps_band"]
    assert (cal.loc[2023, "estimated_total_min"], cal.loc[2023, "estimated_total_max"]) == (340, 640)
    # 2022: official Nindya (701-800): 640 - 701 = -61; no setting reaches Nindya
    assert not cal.loc[2022, "in_band"] and cal.loc[2022, "distance_to_band"] == -61
    assert not cal.loc[2022, "range_overlaps_band"]
    # claimed 960 against each official band's upper bound: 600, 800, 700
    assert cal["claimed_distance_to_band"].dropna().tolist() == [360, 160, 260]
    assert not cal["claimed_in_band"].dropna().any()


def test_summary(cal):
    s = C.calibration_summary(cal.reset_index())
    assert s == {"years_compared": 2, "years_in_band": 1, "years_range_overlaps": 1,
                 "mean_abs_distance": 30.5, "mean_abs_claimed_distance": 260.0}


def test_distance_to_band_edges():
    assert C.distance_to_band(600.5, "Madya", S.bands) == 0  # (600, 700]: 600.5 is Madya
    assert C.distance_to_band(600, "Madya", S.bands) == -1  # Pratama; published Madya starts at 601
    assert C.distance_to_band(700.25, "Madya", S.bands) == pytest.approx(0.25)
    assert math.isnan(C.distance_to_band(None, "Madya", S.bands))


def test_score_year_headline():
    s = C.score_year(full_tables(), 2023, settings=S)
    assert (s["claimed_total"], s["estimated_total"]) == (960, 640)
    assert (s["claimed_predicate"], s["estimated_predicate"]) == ("KLA", "Madya")
    assert s["official_predicate"] == "Madya" and s["official_status"] == "published"
    assert s["next_predicate"] == "Nindya" and s["points_to_next_predicate"] == 61
    assert s["target_predicate"] == "Nindya" and s["points_to_target_predicate"] == 61
    assert (s["estimated_total_min"], s["estimated_total_max"]) == (340, 640)
    assert s["estimated_predicates"] == [None, "Pratama", "Madya"] and s["is_estimate"]
    assert C.score_year(full_tables(), 2023, target="utama", settings=S)["points_to_target_predicate"] == 161
    # inputs the caller already has give the same numbers (the report passes them)
    inputs = indicator_inputs(full_tables(), 2023, settings=S)
    assert C.score_year(full_tables(), 2023, inputs=inputs, settings=S) == s
    half = inputs.assign(claimed_points=inputs["claimed_points"] / 2)
    assert C.score_year(full_tables(), 2023, inputs=half, settings=S)["claimed_total"] == 480  # used


def test_score_year_without_inventory_and_errors():
    s = C.score_year(full_tables(), 2021, settings=S)
    assert s["claimed_total"] == 960 and s["estimated_total"] is None
    assert s["points_to_next_predicate"] is None and s["official_predicate"] == "Pratama"
    with pytest.raises(KlaError, match="unknown predicate"):
        C.score_year(full_tables(), 2023, target="Emas", settings=S)
    with pytest.raises(KlaError, match="no self-assessment for Kota Contoh in 2025"):
        C.score_year(full_tables(), 2025, settings=S)


def test_default_target():
    t = full_tables()
    assert C.default_target(t, bands=S.bands) == "Nindya"  # latest official (2025) Madya
    none = {**t, "official_results": official([])}
    assert C.default_target(none, bands=S.bands, estimated_total=640) == "Nindya"
    assert C.default_target(none, bands=S.bands) == "Pratama"
    top = {**t, "official_results": official([(2023, "KLA")])}
    assert C.default_target(top, bands=S.bands) == "KLA"


def test_unknown_official_predicate_is_a_clear_error():
    bad = {**full_tables(), "official_results": official([(2023, "Emas")])}
    with pytest.raises(KlaError, match="official_results, Kota Contoh 2023"):
        C.calibrate(bad, settings=S)
