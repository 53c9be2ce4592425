import pandas as pd
import pytest

from kla_analysis.catalog import (
    band_set_names,
    folder_weights,
    load_bands,
    load_catalog,
    load_clusters,
    load_evidence_requirements,
    weight_set_info,
    weight_set_names,
)
from kla_analysis.errors import KlaError

BLOCKS = ["KLB", "I", "II", "III", "IV", "V", "KD"]
# probable_2023: the application's dashboard (instrument-2026.md section 1)
PROBABLE = {"KLB": 164, "I": 115, "II": 156, "III": 150, "IV": 110, "V": 205, "KD": 100}


def test_catalog_has_26_unique_indicators_in_seven_blocks():
    cat = load_catalog()
    assert sorted(cat["indicator"]) == list(range(1, 27)) and cat["indicator"].is_unique
    assert list(load_clusters()["cluster"]) == BLOCKS
    assert set(cat["cluster"]) == set(BLOCKS)
    assert cat.set_index("indicator").loc[[25, 26], "cluster"].eq("KD").all()


@pytest.mark.parametrize("name", weight_set_names())
def test_every_packaged_weight_set_sums_to_1000_with_provenance(name):
    cat = load_catalog(name)
    assert cat["max_points"].sum() == pytest.approx(1000, abs=1e-9)
    assert (cat["max_points"] > 0).all()
    info = weight_set_info(cat)
    assert info["weight_set"] == name and info["status"] in {"probable", "assumption"}
    assert info["label_id"] and info["label_en"] and info["provenance_id"] and info["provenance_en"]


def test_probable_2023_is_the_default_and_its_block_sums_match_the_source():
    cat = load_catalog()
    assert weight_set_info(cat)["weight_set"] == "probable_2023" == weight_set_names()[0]
    assert weight_set_info(cat)["status"] == "probable"
    blocks = cat.groupby("cluster")["max_points"].sum().round(6).to_dict()
    assert blocks == PROBABLE
    by_ind = cat.set_index("indicator")
    assert by_ind.loc[[1, 2, 3], "max_points"].tolist() == [96, 36, 32]
    # the three Kelembagaan indicators are given by the source; every other split is assumed
    assert not by_ind.loc[[1, 2, 3], "max_points_assumed"].any()
    assert by_ind.drop(index=[1, 2, 3])["max_points_assumed"].all()
    # inside a block the unknown split is equal (to the cent)
    for block in ["I", "II", "III", "IV", "V", "KD"]:
        pts = cat.loc[cat["cluster"] == block, "max_points"]
        assert pts.max() - pts.min() <= 0.01 + 1e-9, block


def test_equal_set_splits_1000_over_every_indicator_in_whole_points():
    cat = load_catalog("equal")
    assert set(cat["max_points"]) == {38, 39}
    assert cat["max_points_assumed"].all() and weight_set_info(cat)["status"] == "assumption"


def test_changing_the_set_changes_only_the_points():
    a, b = load_catalog("probable_2023"), load_catalog("equal")
    points = ["max_points", "max_points_assumed", "claims_max_points"]
    pd.testing.assert_frame_equal(a.drop(columns=points), b.drop(columns=points))
    # a what-if set keeps the claims on the folder's scale
    what_if = load_catalog("equal", claims="probable_2023")
    assert what_if["claims_max_points"].tolist() == a["max_points"].tolist()
    assert weight_set_info(what_if)["claims_scale"] == "probable_2023"


def test_cluster_of_10_and_11_and_block_kd_split_are_flagged_assumption():
    cat = load_catalog().set_index("indicator")
    assert cat.loc[[10, 11, 25, 26], "cluster_assumed"].all()
    assert not cat.drop(index=[10, 11, 25, 26])["cluster_assumed"].any()


def test_catalog_rows_are_complete():
    cat = load_catalog()
    for col in ["name_id", "name_en", "opd", "source"]:
        assert cat[col].str.len().gt(0).all(), col
    measured = cat[cat["measure"].notna()]
    assert measured["direction"].isin(["higher", "lower"]).all()
    assert measured["target"].notna().all()
    assert cat.loc[cat["indicator"] == 4, "measure"].item() == "birth_certificate_coverage"
    assert cat.set_index("indicator").loc[[25, 26], "measure"].tolist() == [
        "kecamatan_layak_anak", "desa_kelurahan_layak_anak"]


def test_every_indicator_has_evidence_items_with_unique_codes():
    ev = load_evidence_requirements()
    assert set(ev["indicator"]) == set(range(1, 27))
    assert ev["item"].is_unique


def test_user_weights_csv(tmp_path):
    w = pd.DataFrame({"indicator": range(1, 27), "max_points": [1000 / 26] * 26})
    path = tmp_path / "w.csv"
    w.to_csv(path, index=False)
    cat = load_catalog(weights=path)
    assert cat["max_points"].sum() == pytest.approx(1000)
    assert cat["max_points_assumed"].all()  # a user table counts as an assumption
    assert weight_set_info(cat)["weight_set"] == "w.csv"


def test_bad_user_weights_name_the_file_the_row_and_the_rule(tmp_path):
    path = tmp_path / "bobot.csv"
    path.write_text("indicator,max_points\n1,abc\n1,10\n99,5\n", encoding="utf-8")
    with pytest.raises(KlaError) as err:
        load_catalog(weights=path)
    msg = str(err.value)
    assert str(path) in msg and "row 2, column max_points: 'abc'" in msg
    assert "row 4, column indicator: '99'" in msg and "indicator 1 is listed more than once" in msg
    assert "missing" in msg and "26" in msg
    path.write_text("indicator,max_points\n" + "".join(f"{i},10\n" for i in range(1, 27)),
                    encoding="utf-8")
    with pytest.raises(KlaError, match="add up to 260, not 1000"):
        load_catalog(weights=path)
    with pytest.raises(KlaError, match="unknown weight set 'nope'.*probable_2023, equal"):
        load_catalog(weights="nope")


def test_a_folder_names_its_weight_set_in_city_yaml(tmp_path):
    (tmp_path / "city.yaml").write_text("city: Kota Contoh\n", encoding="utf-8")
    assert folder_weights(tmp_path) is None
    (tmp_path / "city.yaml").write_text("city: Kota Contoh\nweights: equal\n", encoding="utf-8")
    assert folder_weights(tmp_path) == "equal"
    (tmp_path / "bobot.csv").write_text("indicator,max_points\n", encoding="utf-8")
    (tmp_path / "city.yaml").write_text("city: X\nweights: bobot.csv\n", encoding="utf-8")
    assert folder_weights(tmp_path) == tmp_path / "bobot.csv"
    (tmp_path / "city.yaml").write_text("city: X\nweights: bobot_lama.csv\n", encoding="utf-8")
    with pytest.raises(KlaError, match="weights: 'bobot_lama.csv' is neither"):
        folder_weights(tmp_path)


def test_bands_load_by_name():
    assert {"kemenpppa", "pratama_501"} <= set(band_set_names())
    b = load_bands()
    assert list(b["predicate"]) == ["Pratama", "Madya", "Nindya", "Utama", "KLA"]
    assert list(b["entry"]) == [500, 601, 701, 801, 901]
    with pytest.raises(ValueError, match="unknown band set"):
        load_bands("nope")
