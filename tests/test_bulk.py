"""bulk.score_all / indicator_inputs_all give, city-year by city-year, exactly what the
per-city estimate gives (estimate.indicator_inputs, calibration.score_year)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from estimate_fixtures import (
    CITY,
    evidence,
    fixture_settings,
    full_tables,
    official,
    self_assessment,
    small_tables,
    statistic,
    statistics,
)

from kla_analysis.catalog import load_catalog, load_evidence_requirements
from kla_analysis.errors import KlaError
from kla_analysis.model import bulk, calibration, estimate

S = fixture_settings()

COMPARED = ["claimed_total", "claimed_predicate", "estimated_total", "estimated_total_min",
            "estimated_total_max", "estimated_predicate", "official_predicate",
            "official_status", "points_lost", "evidence_available", "n_met", "n_partial",
            "n_not_met", "n_no_data", "n_settings", "is_estimate"]


def _same(a, b) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None or (isinstance(a, float) and math.isnan(a))
    if isinstance(b, float):
        return a is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return a == b


def assert_matches_estimate(tables) -> pd.DataFrame:
    inputs = bulk.indicator_inputs_all(tables, settings=S)
    scores = bulk.score_all(tables, settings=S)
    pairs = [(c, y) for c in estimate.cities(tables)
             for y in estimate.assessment_years(tables, c)]
    assert list(zip(scores["city"], scores["year"], strict=True)) == pairs
    for city, year in pairs:
        ref = estimate.indicator_inputs(tables, year, city, settings=S)
        mine = inputs[(inputs["city"] == city) & (inputs["year"] == year)]
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), ref, check_dtype=False)
        want = calibration.score_year(tables, year, city, settings=S)
        got = scores[(scores["city"] == city) & (scores["year"] == year)].iloc[0]
        for col in COMPARED:
            assert _same(got[col], want[col]), (city, year, col, got[col], want[col])
    return scores


def test_hand_computed_fixtures_match():
    assert_matches_estimate(small_tables())
    scores = assert_matches_estimate(full_tables())
    no_inventory = scores[scores["year"] == 2021].iloc[0]
    assert not no_inventory["evidence_available"] and np.isnan(no_inventory["estimated_total"])


def _random_tables(seed: int) -> dict[str, pd.DataFrame]:
    """Several cities (names written with varying case and spacing), years with and
    without inventory, duplicate and unknown evidence items, statistics at kota,
    kecamatan and kelurahan level with gaps that make the estimate fall back."""
    rng = np.random.default_rng(seed)
    cat = load_catalog()
    req = load_evidence_requirements()
    heads = cat.dropna(subset=["measure"])
    cities = [CITY, "Kabupaten Lain", "Kota Ketiga"]
    sa, ev, st, off = [], [], [], []
    for ci, city in enumerate(cities):
        written = [city, city.upper(), f"  {city.lower()} "][ci % 3]
        for year in rng.choice([2019, 2021, 2022, 2023], size=int(rng.integers(1, 4)),
                               replace=False):
            year = int(year)
            inds = [i for i in cat["indicator"] if rng.random() < 0.9]
            sa.append(self_assessment({i: float(rng.integers(0, 42)) for i in inds}, year,
                                      written if ci else city))
            if rng.random() < 0.8:
                rows = [(int(r.indicator), r.item, str(rng.choice(
                    ["ada", "tidak_ada", "dalam_proses", "kedaluwarsa"])))
                        for r in req.itertuples() if rng.random() < 0.7]
                rows += [(4, "4.1", "ada"), (4, "4.1", "tidak_ada"), (2, "2.9", "ada")]
                ev.append(evidence(rows, year, city))
            off.append(official([(year, str(rng.choice(["Pratama", "madya", "Nindya"])))], city))
            for h in heads.itertuples():
                data_year = year - 1
                kind = rng.integers(0, 4)
                if kind == 0:  # kota row (a NaN one first, sometimes)
                    if rng.random() < 0.3:
                        st.append(statistic(h.indicator, h.measure, np.nan, data_year,
                                            unit=h.unit, city=city))
                    st.append(statistic(h.indicator, h.measure, float(rng.uniform(1, 99)),
                                        data_year, unit=h.unit, city=city))
                for lvl, n in (("kecamatan", 3), ("kelurahan", 5)):
                    if kind in (1, 2, 3):
                        for k in range(n):
                            den = float(rng.integers(1, 500))
                            num = float(rng.integers(0, den + 1))
                            if kind == 2 and lvl == "kecamatan" and k == 0:
                                num = np.nan  # kecamatan incomplete: fall back to kelurahan
                            st.append(statistic(h.indicator, h.measure, 100 * num / den if
                                                not np.isnan(num) else np.nan, data_year,
                                                area_level=lvl, area=f"{lvl}{k}", numerator=num,
                                                denominator=den, unit=h.unit, city=city))
            st.append(statistic(7, "marriage_dispensations", 3.0, year - 1, unit="count",
                                area_level="kelurahan", area="x", city=city))
            st.append(statistic(None, "population", 1000.0, year - 1, unit="count", city=city))
    return {"self_assessment": pd.concat(sa, ignore_index=True),
            "evidence": pd.concat(ev, ignore_index=True) if ev else evidence([]),
            "statistics": statistics(st), "official_results": pd.concat(off, ignore_index=True),
            "gazetteer": pd.DataFrame({"city": cities, "kecamatan": "A", "kelurahan": "A1"})}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_multi_city_tables_match(seed):
    assert_matches_estimate(_random_tables(seed))


def test_without_sensitivity_the_range_stays_empty():
    scores = bulk.score_all(full_tables(), settings=S, sensitivity=False)
    assert scores["estimated_total_min"].isna().all() and (scores["n_settings"] == 0).all()
    assert scores["estimated_total"].notna().any()


def test_bad_evidence_status_and_empty_tables():
    tables = small_tables()
    tables["evidence"] = tables["evidence"].assign(status="hilang")
    with pytest.raises(KlaError, match="unknown status 'hilang'"):
        bulk.score_all(tables, settings=S)
    empty = dict(small_tables(), self_assessment=self_assessment({}))
    assert bulk.score_all(empty, settings=S).empty
