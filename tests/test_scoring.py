import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kla_analysis.catalog import load_bands, load_catalog, load_clusters, predicate_names
from kla_analysis.model.scoring import (
    PointsError,
    assign_predicates,
    cluster_totals,
    next_predicate,
    points_to_next_predicate,
    points_to_predicate,
    predicate_for,
    total_score,
    validate_points,
)

BANDS = load_bands()
CLUSTERS = load_clusters()

BOUNDARIES = [
    (0, None), (499.99, None), (500, "Pratama"), (550, "Pratama"), (600, "Pratama"),
    (600.01, "Madya"), (601, "Madya"), (700, "Madya"), (700.5, "Nindya"), (800, "Nindya"),
    (800.01, "Utama"), (900, "Utama"), (900.01, "KLA"), (1000, "KLA"),
]


@pytest.mark.parametrize(("score", "expected"), BOUNDARIES)
def test_predicate_boundaries(score, expected):
    assert predicate_for(score, BANDS) == expected


@pytest.mark.parametrize(("score", "expected"), [(500, None), (500.5, None), (501, "Pratama"),
                                                 (600, "Pratama"), (600.5, "Madya")])
def test_pratama_501_band_set(score, expected):
    assert predicate_for(score, load_bands("pratama_501")) == expected


@pytest.mark.parametrize("bad", [-0.01, 1000.01, float("nan"), "700", None, True])
def test_invalid_scores_raise(bad):
    with pytest.raises(ValueError):
        predicate_for(bad, BANDS)


def test_vectorised_matches_scalar():
    scores = pd.Series([s for s, _ in BOUNDARIES] + [None])
    expected = [e for _, e in BOUNDARIES] + [None]
    assert assign_predicates(scores, BANDS).tolist() == expected


RANK = {None: 0, **{n: i + 1 for i, n in enumerate(predicate_names())}}


@given(st.floats(0, 1000), st.floats(0, 1000))
def test_predicate_monotonic_in_score(a, b):
    lo, hi = sorted([a, b])
    assert RANK[predicate_for(lo, BANDS)] <= RANK[predicate_for(hi, BANDS)]


@given(st.floats(0, 1000))
def test_scalar_and_vector_agree(score):
    assert assign_predicates(pd.Series([score]), BANDS).iloc[0] == predicate_for(score, BANDS)


CATALOG = load_catalog()


@given(st.lists(st.floats(0, 1), min_size=len(CATALOG), max_size=len(CATALOG)))
def test_total_equals_sum_of_clusters(fractions):
    pts = CATALOG[["indicator"]].assign(points=CATALOG["max_points"] * fractions)
    validate_points(pts, CATALOG)
    clusters = cluster_totals(pts, CATALOG, CLUSTERS)
    assert math.isclose(clusters["points"].sum(), total_score(pts), abs_tol=1e-6)
    assert clusters["max_points"].sum() == pytest.approx(1000)


def test_missing_indicator_counts_as_zero_and_all_clusters_shown():
    pts = pd.DataFrame({"indicator": [1, 4], "points": [10.0, 20.0]})
    clusters = cluster_totals(pts, CATALOG, CLUSTERS)
    assert list(clusters["cluster"]) == ["KLB", "I", "II", "III", "IV", "V", "KD"]
    assert clusters.set_index("cluster").loc[["KLB", "I", "V"], "points"].tolist() == [10, 20, 0]


def test_validate_points_names_every_bad_indicator():
    pts = pd.DataFrame({"indicator": [1, 2, 3, 99], "points": [100, -1, "x", 1]})
    with pytest.raises(PointsError) as err:
        validate_points(pts, CATALOG)
    msg = str(err.value)
    assert "indicator 1: points 100 outside 0-96" in msg
    assert "indicator 2: points -1 outside 0-36" in msg
    assert "indicator 3: points 'x' is not a number" in msg
    assert "indicator 99: unknown indicator number" in msg


@pytest.mark.parametrize(("score", "target", "needed"), [
    (650, "Nindya", 51), (700.5, "Nindya", 0), (946.45, "Nindya", 0), (0, "Pratama", 500),
    (600, "Madya", 1), (600.5, "Madya", 0), (650, "madya", 0),
])
def test_points_to_predicate(score, target, needed):
    assert points_to_predicate(score, target, BANDS) == pytest.approx(needed)


def test_next_predicate_and_gap():
    assert next_predicate(650, BANDS) == "Nindya"
    assert points_to_next_predicate(650, BANDS) == pytest.approx(51)
    assert next_predicate(400, BANDS) == "Pratama"
    assert next_predicate(950, BANDS) is None and points_to_next_predicate(950, BANDS) is None
    with pytest.raises(ValueError, match="unknown predicate"):
        points_to_predicate(650, "Super", BANDS)
