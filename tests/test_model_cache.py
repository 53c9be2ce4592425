"""Model results kept between reports (``report.model_cache``): a report that reads them
shows exactly what a report computing everything afresh shows; a changed input, a damaged
or foreign cache file, or settings given by the caller never serve a kept result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from report_fixtures import build_data

from kla_analysis.model import posterior
from kla_analysis.report import model_cache, sections


def _untimed(value: object) -> object:
    """``value`` without the planner's solve times (the only part that differs per run)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in ("seconds", "solve_seconds")}
    return value


def _results(rep: sections.Report) -> dict:
    """Every model result a report reads, language-independent."""
    years = [int(y) for y in sections.trend_table(rep)["year"]]
    return _untimed({"score": rep.score,
            "others": {y: sections.other_year_score(rep, y) for y in years if y != rep.year},
            "backtest": sections.backtest(rep), "plan": sections.plan_result(rep),
            "indicators": {y: sections.year_indicators(rep, y) for y in years
                           if sections.other_year_score(rep, y) is not None}})


@pytest.fixture
def data(tmp_path):
    return build_data(tmp_path / "data")


def test_a_report_reading_kept_results_equals_one_computing_them(data):
    posterior.clear_cache()
    fresh = _results(sections.load_report(2023, data_dir=str(data.data_dir), use_cache=False))
    assert not (data.data_dir / "interim" / "model").exists()  # nothing kept without cache
    first = _results(sections.load_report(2023, data_dir=str(data.data_dir)))
    kept = list((data.data_dir / "interim" / "model").rglob("*.json"))
    names = {p.name.split("-")[0] for p in kept}
    assert {"score", "other", "backtest", "plan", "indicators"} <= names, names
    posterior.clear_cache()  # the second report must not lean on this process's memory
    second = _results(sections.load_report(2023, data_dir=str(data.data_dir)))
    for got in (first, second):
        assert model_cache.same(got, fresh)
    # and the English report reads the same results
    en = sections.load_report(2023, data_dir=str(data.data_dir), lang="en")
    assert model_cache.same(en.score, fresh["score"])


def test_a_changed_table_or_setting_makes_a_new_fingerprint(data):
    before = model_cache.fingerprint(data)
    table = data.processed / "official_results.parquet"
    df = pd.read_parquet(table)
    df.loc[df.index[0], "predicate"] = "Nindya" if df["predicate"].iloc[0] != "Nindya" else "Madya"
    df.to_parquet(table, index=False)
    changed = model_cache.fingerprint(data)
    assert changed != before
    (data.raw / "kla.yaml").write_text("weights: equal\n", encoding="utf-8")
    assert model_cache.fingerprint(data) != changed


def test_damaged_or_foreign_cache_files_are_computed_again(data):
    rep = sections.load_report(2023, data_dir=str(data.data_dir))
    want = rep.score
    files = sorted((data.data_dir / "interim" / "model").rglob("score-*.json"))
    assert files
    for content in ("{not json", json.dumps({"version": "0.0.0", "value": {"x": 1}}),
                    json.dumps({"version": "x"})[:5], ""):
        files[0].write_text(content, encoding="utf-8")
        again = sections.load_report(2023, data_dir=str(data.data_dir))
        assert model_cache.same(again.score, want)


def test_a_kept_value_is_never_a_different_value(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "s": ["x", None], "f": [0.5, np.nan],
                          "o": pd.Series(["p", None], dtype=object)})
    value = {"t": (frame, {"k": np.int64(3), "nan": float("nan"), 4: [True, None]}),
             "b": np.bool_(False)}
    path = tmp_path / "v.json"
    assert model_cache.write(path, value)
    back = model_cache.read(path)
    assert model_cache.same(back, value)
    assert isinstance(back["t"], tuple) and type(back["t"][1]["k"]) is int
    # a value that would not read back the same is not kept
    odd = pd.DataFrame({"when": [pd.Timestamp("2023-01-01")]})
    odd.attrs["note"] = "attrs do not survive the cache"
    assert not model_cache.write(tmp_path / "odd.json", odd)
    assert not model_cache.write(tmp_path / "set.json", {"x": {1, 2}})
    assert not (tmp_path / "set.json").exists()


def test_settings_given_by_the_caller_are_never_served_from_the_cache(data):
    from kla_analysis.model.settings import load_settings

    sections.load_report(2023, data_dir=str(data.data_dir))
    rep = sections.load_report(2023, data_dir=str(data.data_dir),
                               settings=load_settings(weights="equal"))
    assert rep.model_dir is None
    assert rep.settings.catalog.attrs["weight_set"] == "equal"


def test_same_tells_values_apart():
    a = pd.DataFrame({"x": [1.0, 2.0]})
    assert model_cache.same(a, a.copy())
    assert not model_cache.same(a, a.assign(x=[1.0, 2.5]))
    assert not model_cache.same(a, a.astype("float32"))
    assert not model_cache.same({"a": 1}, {"a": 2})
    assert not model_cache.same([1, 2], (1, 2))
    assert model_cache.same(float("nan"), np.float64("nan"))


def test_kept_results_are_the_same_for_both_languages_and_change_no_page(tmp_path):
    """Everything a report keeps is language-independent: the Indonesian and the English
    report of a year keep the same results, and a report reading the results the other
    language's report kept is the page it would have computed itself."""
    from kla_analysis.report import html

    kept, data = {}, {}
    for lang in ("id", "en"):
        data[lang] = build_data(tmp_path / lang / "data").data_dir  # same folder name
        sections.load_report(2023, data_dir=str(data[lang]), lang=lang)  # fills the cache
        posterior.clear_cache()
        kept[lang] = {p.relative_to(data[lang]).as_posix(): model_cache.read(p)
                      for p in (data[lang] / "interim" / "model").rglob("*.json")}
    # the first report keeps the score and indicators; the sections keep the rest
    for lang in ("id", "en"):
        rep = sections.load_report(2023, data_dir=str(data[lang]), lang=lang)
        html.full_html(rep)
        kept[lang] = {p.relative_to(data[lang]).as_posix(): model_cache.read(p)
                      for p in (data[lang] / "interim" / "model").rglob("*.json")}
    assert kept["id"].keys() == kept["en"].keys()
    names = {k.rsplit("/", 1)[1].rsplit("-", 1)[0] for k in kept["id"]}
    assert {"summary-2023", "kelurahan-2023", "evidence-gaps-2023", "calibration-2023",
            "clusters-2023"} <= names, names
    for name, value in kept["id"].items():
        assert model_cache.same(_untimed(value), _untimed(kept["en"][name])), name
    for lang, other in (("id", "en"), ("en", "id")):
        posterior.clear_cache()
        fresh = html.full_html(sections.load_report(2023, data_dir=str(data[lang]), lang=lang,
                                                    use_cache=False))
        posterior.clear_cache()
        read = html.full_html(sections.load_report(2023, data_dir=str(data[other]), lang=lang))
        assert str(read) == str(fresh)
