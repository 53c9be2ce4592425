import pandas as pd
import pytest

from kla_analysis.catalog import (
    band_set_names,
    load_bands,
    load_catalog,
    load_clusters,
    load_evidence_requirements,
)


def test_catalog_has_24_unique_indicators():
    cat = load_catalog()
    assert len(cat) == 24
    assert sorted(cat["indicator"]) == list(range(1, 25))
    assert cat["indicator"].is_unique


def test_every_cluster_present_and_known():
    cat = load_catalog()
    clusters = load_clusters()
    assert set(cat["cluster"]) == set(clusters["cluster"]) == {"KLB", "I", "II", "III", "IV", "V"}


def test_max_points_sum_to_1000_and_are_flagged_assumed():
    cat = load_catalog()
    assert cat["max_points"].sum() == pytest.approx(1000)
    assert cat["max_points_assumed"].all()


def test_cluster_of_10_and_11_is_flagged_assumption():
    cat = load_catalog().set_index("indicator")
    assert cat.loc[[10, 11], "cluster_assumed"].all()
    assert not cat.drop(index=[10, 11])["cluster_assumed"].any()


def test_catalog_rows_are_complete():
    cat = load_catalog()
    for col in ["name_id", "name_en", "opd", "source"]:
        assert cat[col].str.len().gt(0).all(), col
    measured = cat[cat["measure"].notna()]
    assert measured["direction"].isin(["higher", "lower"]).all()
    assert measured["target"].notna().all()
    assert cat.loc[cat["indicator"] == 4, "measure"].item() == "birth_certificate_coverage"


def test_every_indicator_has_evidence_items_with_unique_codes():
    ev = load_evidence_requirements()
    assert set(ev["indicator"]) == set(range(1, 25))
    assert ev["item"].is_unique


def test_weights_override(tmp_path):
    w = pd.DataFrame({"indicator": range(1, 25), "max_points": [1000 / 24] * 24})
    path = tmp_path / "w.csv"
    w.to_csv(path, index=False)
    cat = load_catalog(weights=path)
    assert cat["max_points"].sum() == pytest.approx(1000)
    with pytest.raises(ValueError, match="lacks indicators"):
        load_catalog(weights=w.head(3))


def test_bands_load_by_name():
    assert {"kemenpppa", "pratama_501"} <= set(band_set_names())
    b = load_bands()
    assert list(b["predicate"]) == ["Pratama", "Madya", "Nindya", "Utama", "KLA"]
    assert list(b["entry"]) == [500, 601, 701, 801, 901]
    with pytest.raises(ValueError, match="unknown band set"):
        load_bands("nope")
