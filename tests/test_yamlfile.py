"""The shared YAML cache hands out read-only views, so no caller can corrupt it."""

from __future__ import annotations

import pytest

from kla_analysis.catalog import load_catalog
from kla_analysis.config import package_file
from kla_analysis.model.settings import load_settings
from kla_analysis.yamlfile import frozen, read_yaml


def test_cached_documents_cannot_be_changed_in_place():
    doc = read_yaml(package_file("indicators.yaml"), "indicator catalog")
    with pytest.raises(TypeError):
        doc["indicators"] = []
    with pytest.raises(TypeError):
        doc["indicators"][0]["max_points"] = 1000
    with pytest.raises(AttributeError):
        doc["indicators"][0]["opd"].append("Dinas Lain")
    again = read_yaml(package_file("indicators.yaml"), "indicator catalog")
    assert again is doc  # the same cached object, still as parsed


def test_rules_and_actions_of_the_settings_are_read_only_but_copyable():
    s = load_settings()
    with pytest.raises(TypeError):
        s.actions["evidence_actions"]["complete_missing"]["effort"] = 0
    headline = s.rules["statistic.weight"]
    s.rules["statistic.weight"] = headline / 2  # a flat dict built for this caller alone
    assert load_settings().rules["statistic.weight"] == headline


def test_loaders_return_fresh_frames():
    cat = load_catalog()
    cat.loc[0, "max_points"] = -1
    assert load_catalog().loc[0, "max_points"] >= 0


def test_frozen_keeps_values_and_order():
    data = {"b": [1, {"c": [2, 3]}], "a": "x"}
    out = frozen(data)
    assert list(out) == ["b", "a"] and out["b"][1]["c"] == (2, 3) and out["a"] == "x"
    assert data == {"b": [1, {"c": [2, 3]}], "a": "x"}  # the input is not changed
