"""The evidence-backed estimate pinned on a hand-computed fixture.

Fixture (``estimate_fixtures.small_tables``), evaluation year 2023, headline rules
(ada 1, dalam_proses 0.5, kedaluwarsa 0.25, tidak_ada/missing 0; statistic weight 0.5;
strictness 1 = proportional achievement; statistics of data year 2022; basis = claimed):

====  =======  ======================================  ===========  ==========  ======  ======  =========
ind   claimed  evidence items                          completeness statistic   backing backed  status
====  =======  ======================================  ===========  ==========  ======  ======  =========
1     40       1.1 ada, 1.2 dalam_proses               1.5/2=0.75   none        0.75    30      partial
2     42       ada, kedaluwarsa, tidak_ada, (missing)  1.25/4       none        0.3125  13.125  not_met
4     30       4.1 kedaluwarsa+ada (best: ada), 4.2    1            90/100=0.9  0.95    28.5    met
5     10       5.1 tidak_ada, 5.2 tidak_ada            0            none        0       0       not_met
12    20       12.1 ada                                1            missing ->  1       20      met
                                                                    evidence only
13    36       (no rows)                               0            50/400 =    0.5     18      partial
                                                                    12.5% <= 14 -> 1
6     --       (no rows)                               0            missing     0       0       no_data
====  =======  ======================================  ===========  ==========  ======  ======  =========

Claimed 40+42+30+10+20+36 = 178; backed 30+13.125+28.5+0+20+18 = 109.625; lost 68.375.
The 2023 birth-certificate row (value 50) is ignored: 2023 uses data year 2022.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml
from estimate_fixtures import (
    CITY,
    evidence,
    fixture_settings,
    full_tables,
    self_assessment,
    small_tables,
)

from kla_analysis import levels
from kla_analysis.catalog import load_catalog, load_evidence_requirements
from kla_analysis.config import package_file
from kla_analysis.errors import KlaError
from kla_analysis.model import estimate as E
from kla_analysis.model import methodology
from kla_analysis.model import rules as R

S = fixture_settings()


@pytest.fixture(scope="module")
def ind() -> pd.DataFrame:
    return E.estimate_indicators(small_tables(), 2023, settings=S).set_index("indicator")


def test_per_indicator_numbers_match_hand_computation(ind):
    expected = {  # indicator: (completeness, achievement, backing, backed, lost, status)
        1: (0.75, None, 0.75, 30.0, 10.0, "partial"),
        2: (0.3125, None, 0.3125, 13.125, 28.875, "not_met"),
        4: (1.0, 0.9, 0.95, 28.5, 1.5, "met"),
        5: (0.0, None, 0.0, 0.0, 10.0, "not_met"),
        12: (1.0, None, 1.0, 20.0, 0.0, "met"),
        13: (0.0, 1.0, 0.5, 18.0, 18.0, "partial"),
        6: (0.0, None, 0.0, 0.0, 0.0, "no_data"),
    }
    for i, (compl, ach, backing, backed, lost, status) in expected.items():
        r = ind.loc[i]
        assert r["evidence_completeness"] == pytest.approx(compl), i
        assert (pd.isna(r["statistic_achievement"]) if ach is None
                else r["statistic_achievement"] == pytest.approx(ach)), i
        assert r["backing"] == pytest.approx(backing), i
        assert r["backed_points"] == pytest.approx(backed), i
        assert r["points_lost"] == pytest.approx(lost), i
        assert r["status"] == status, i


def test_inputs_counts_offset_and_aggregation(ind):
    assert ind.loc[2, ["n_ada", "n_kedaluwarsa", "n_tidak_ada", "n_missing"]].tolist() == [1, 1, 1, 1]
    assert ind.loc[4, "n_ada"] == 2 and ind.loc[4, "evidence_rows"] == 3
    assert ind.loc[4, "statistic_value"] == 90.0 and ind.loc[4, "data_year"] == 2022
    assert ind.loc[13, "statistic_value"] == pytest.approx(12.5)
    assert ind.loc[13, "statistic_source"].startswith("kecamatan (2 areas")
    assert pd.isna(ind.loc[6, "claimed_points"]) and len(ind) == 26


def test_no_data_is_distinct_from_zero(ind):
    # both back 0 points, but one has inventory rows saying "tidak ada", the other has nothing
    assert ind.loc[5, "backed_points"] == ind.loc[6, "backed_points"] == 0
    assert ind.loc[5, "status"] == "not_met" and ind.loc[6, "status"] == "no_data"


def test_totals_and_clusters(ind):
    summ = E.estimate_summary(ind.reset_index(), S.bands)
    assert summ["claimed_total"] == pytest.approx(178)
    assert summ["estimated_total"] == pytest.approx(109.625)
    assert summ["points_lost"] == pytest.approx(68.375)
    assert summ["estimated_predicate"] is None  # below Pratama
    assert (summ["n_met"], summ["n_partial"], summ["n_not_met"], summ["n_no_data"]) == (2, 2, 2, 20)
    cl = E.estimate_clusters(ind.reset_index(), S.catalog, S.clusters).set_index("cluster")
    assert cl.loc["KLB", "claimed_points"] == 82 and cl.loc["KLB", "backed_points"] == pytest.approx(43.125)
    assert cl.loc["I", "backed_points"] == pytest.approx(28.5)
    assert cl.loc["III", "backed_points"] == pytest.approx(38)
    assert cl["backed_points"].sum() == pytest.approx(109.625)
    assert pd.isna(cl.loc["IV", "backing"])  # nothing claimed: no ratio, not zero


@pytest.mark.parametrize(("override", "total"), [
    # basis max: min(claimed, 42 x backing): 31.5 + 13.125 + 30 + 0 + 20 + 21
    ({"points.basis": "max"}, 115.625),
    # threshold: indicator 4 (90 < 100) -> backing 0.5 -> 15 (an old rules key, read as
    # strictness 1e5: 0.9 ** 1e5 = 0)
    ({"statistic.achievement": "threshold"}, 96.125),
    ({"statistic.strictness": 1e5}, 96.125),
    # strictness 2: indicator 4 credit 0.9 ** 2 = 0.81 -> backing 0.905 -> 27.15
    ({"statistic.strictness": 2.0}, 30 + 13.125 + 27.15 + 0 + 20 + 18),
    # missing statistic counts 0: indicator 12 -> 0.5 x 20 = 10
    ({"statistic.missing": "zero"}, 99.625),
    # data year 2023 (offset 0): indicator 4 value 50 -> 0.75 x 30; indicator 13 has no data
    # -> evidence only (0)
    ({"statistic.data_year_offset": 0}, 30 + 13.125 + 22.5 + 0 + 20 + 0),
])
def test_rule_variants(override, total):
    ind = E.estimate_indicators(small_tables(), 2023, settings=S.with_rules(**override))
    assert ind["backed_points"].sum() == pytest.approx(total)


def test_sensitivity_grid_hand_computed():
    """dp in {0, 1} x statistic weight in {0.5, 1}, plus the headline (0.5, 0.5):
    (0, .5) 99.625; (1, .5) 119.625; (0, 1) 20+13.125+27+0+20+36 = 116.125; (1, 1) 136.125."""
    inputs = E.indicator_inputs(small_tables(), 2023, settings=S)
    grid = {"evidence_weight.dalam_proses": [0.0, 1.0], "statistic.weight": [0.5, 1.0]}
    sens = E.sensitivity(inputs, replace(S, grid=grid))
    got = {(r["evidence_weight.dalam_proses"], r["statistic.weight"]): r["estimated_total"]
           for r in sens.to_dict("records")}
    assert got == pytest.approx({(0.0, 0.5): 99.625, (1.0, 0.5): 119.625,
                                 (0.0, 1.0): 116.125, (1.0, 1.0): 136.125, (0.5, 0.5): 109.625})
    assert sens.loc[sens["is_headline"], "estimated_total"].item() == pytest.approx(109.625)
    rng = E.sensitivity_range(sens, S.bands)
    assert (rng["estimated_total_min"], rng["estimated_total_max"]) == (99.625, 136.125)
    assert rng["n_settings"] == 5 and rng["predicates"] == [None]


def test_sensitivity_predicates_span_bands():
    inputs = E.indicator_inputs(full_tables(), 2023, settings=S)
    sens = E.sensitivity(inputs, S)  # packaged grid
    rng = E.sensitivity_range(sens, S.bands)
    # statistic.missing=zero with statistic weight 0.75 keeps a quarter of the 10 measured
    # indicators among 1-16 (no statistics in the fixture): 6 x 40 + 10 x 10
    assert (rng["estimated_total_min"], rng["estimated_total_max"]) == (340, 640)
    assert rng["predicates"] == [None, "Pratama", "Madya"]  # weight 0.25: 240 + 10 x 30
    assert rng["predicate_min"] is None and rng["predicate_max"] == "Madya"
    oat = E.one_at_a_time(inputs, S).set_index(["rule", "value"])
    assert oat.loc[("statistic.missing", "zero"), "estimated_total"] == 440
    assert oat.loc[("statistic.missing", "evidence_only"), "is_headline"]


def test_packaged_rules_are_all_flagged_assumptions_with_rationale():
    table = methodology.methodology_table(S, "en")
    assert set(table["section"]) == {"weights", "estimate", "sensitivity", "prior", "posterior",
                                     "backtest", "plan"}
    assert set(S.rules_document["priors"]) <= set(table["rule"])  # every prior is listed
    assert table["assumption"].all() and (table["rationale"].str.len() > 10).all()
    assert set(R.RULE_CHECKS) <= set(table["rule"])
    assert methodology.methodology_table(S, "id")["rationale"].iloc[0] != table["rationale"].iloc[0]


def test_bad_rules_file_lists_every_problem(tmp_path):
    doc = yaml.safe_load(package_file("scoring_rules.yaml").read_text(encoding="utf-8"))
    doc["rules"]["evidence_weight.ada"]["value"] = 1.5
    doc["rules"]["points.basis"]["value"] = "guess"
    del doc["rules"]["status.met_from"]["rationale"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(KlaError, match="status.met_from"):
        R.load_rules(path)
    doc["rules"]["status.met_from"]["rationale"] = "x"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(KlaError) as err:
        R.load_rules(path)
    assert "evidence_weight.ada" in str(err.value) and "points.basis" in str(err.value)


def test_city_and_year_errors():
    t = small_tables()
    with pytest.raises(KlaError, match="years with a self-assessment: 2023"):
        E.estimate_indicators(t, 2019, settings=S)
    with pytest.raises(KlaError, match="cities in the data: Kota Contoh"):
        E.estimate_indicators(t, 2023, city="Kota Lain", settings=S)
    assert E.resolve_city(t, "  kota   CONTOH ") == CITY
    two = {**t, "self_assessment": pd.concat([t["self_assessment"],
                                              self_assessment({1: 5}, city="Kota Lain")])}
    with pytest.raises(KlaError, match="several cities"):
        E.estimate_indicators(two, 2023, settings=S)
    assert E.estimate_indicators(two, 2023, city="Kota Lain", settings=S)["claimed_points"].sum() == 5


def test_unknown_evidence_status_is_a_clear_error():
    t = small_tables()
    t["evidence"] = pd.concat([t["evidence"], evidence([(1, "1.1", "hilang")])])
    with pytest.raises(KlaError, match="unknown status 'hilang'"):
        E.estimate_indicators(t, 2023, settings=S)


def test_year_without_inventory_has_no_estimate():
    summ = E.estimate_summary(E.estimate_indicators(full_tables(), 2021, settings=S), S.bands)
    assert summ["claimed_total"] == 960 and summ["evidence_available"] is False
    assert summ["estimated_total"] is None and summ["estimated_predicate"] is None


def test_statistics_without_indicator_are_ignored():
    """Context rows (e.g. population) carry no indicator; they must not break the estimate."""
    from estimate_fixtures import statistic, statistics

    t = small_tables()
    pop = statistic(4, "population", 250000.0, unit="count")
    pop["indicator"] = None
    t["statistics"] = pd.concat([t["statistics"], statistics([pop])], ignore_index=True)
    t["statistics"]["indicator"] = t["statistics"]["indicator"].astype("Int64")
    ind = E.estimate_indicators(t, 2023, settings=S)
    assert ind["backed_points"].sum() == pytest.approx(109.625)


@pytest.mark.parametrize("seed", range(5))
def test_sensitivity_in_one_array_pass_equals_scoring_each_setting(seed):
    """The whole grid is scored as one (settings x indicators) array; each line must equal
    ``score_inputs`` under that setting alone (random counts, claims, statistics, gaps)."""
    rng = np.random.default_rng(seed)
    inputs = E.indicator_inputs(full_tables(), 2023, settings=S)
    n = len(inputs)
    for s in R.ITEM_STATUSES:
        inputs[f"n_{s}"] = rng.integers(0, 3, n)
    inputs["n_required"] = sum(inputs[f"n_{s}"] for s in R.ITEM_STATUSES)
    inputs["evidence_rows"] = rng.integers(0, 4, n)
    inputs["claimed_points"] = np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0, 42, n))
    inputs["statistic_value"] = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 120, n))
    grid = {**R.sensitivity_grid(), "status.met_from": [0.8, 0.9]}
    sens = E.sensitivity(inputs, replace(S, grid=grid))
    varied = list(grid)
    # dalam_proses 4 x kedaluwarsa 3 x weight 3 x strictness 3 x missing 2 x basis 2 = 432
    assert len(sens) == 2 * 432
    for rec in sens.to_dict("records"):
        rules = {**R.load_rules(), **{k: rec[k] for k in varied}}
        alone = E.score_inputs(inputs, rules)["backed_points"].sum()
        assert rec["estimated_total"] == pytest.approx(alone, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_input_counts_agree_with_evidence_items(seed):
    """``indicator_inputs`` counts item statuses itself; they must be ``evidence_items``'
    (repeated items with mixed statuses, items outside the catalog, a blank item)."""
    rng = np.random.default_rng(seed)
    req = load_evidence_requirements()
    picks = req.sample(frac=0.8, replace=True, random_state=seed)
    rows = [(int(r.indicator), r.item, str(rng.choice(R.EVIDENCE_STATUSES)))
            for r in picks.itertuples()]
    rows += [(3, "3.99", "ada"), (3, "3.99", "tidak_ada"), (7, "7.98", "ada"), (5, None, "ada")]
    tables = {**full_tables(), "evidence": evidence(rows)}
    precedence = [str(s) for s in rng.permutation(R.EVIDENCE_STATUSES)]
    rules = {**R.load_rules(), "evidence.status_precedence": precedence}
    items = E.evidence_items(tables, 2023, settings=S.with_rules(**rules))
    inputs = E.indicator_inputs(tables, 2023, settings=S.with_rules(**rules)).set_index(
        "indicator")

    def per_indicator(s: pd.Series) -> list[int]:
        return s.reindex(inputs.index, fill_value=0).tolist()

    counts = pd.crosstab(items["indicator"], items["status"])
    for s in R.ITEM_STATUSES:
        got = inputs[f"n_{s}"].tolist()
        assert got == (per_indicator(counts[s]) if s in counts else [0] * 24), s
    assert inputs["n_required"].tolist() == per_indicator(items.groupby("indicator").size())
    listed = pd.DataFrame(rows, columns=["indicator", "item", "status"])
    assert inputs["evidence_rows"].tolist() == per_indicator(listed.groupby("indicator").size())
    assert inputs["extra_items"][inputs["extra_items"] > 0].to_dict() == {3: 1, 7: 1}
    # each listed item: its most advanced status, and how many rows list it
    rank = {s: i for i, s in enumerate(precedence)}
    for it in items[items["status"] != "missing"].itertuples():
        mine = listed[(listed["indicator"] == it.indicator) & (listed["item"] == it.item)]
        assert it.status == min(mine["status"], key=rank.get) and it.inventory_rows == len(mine)


def _reference_statistic(rows: pd.DataFrame, unit: str, aggregate: bool):
    """One indicator's headline statistic by the documented rule, with pandas per group."""
    # area levels by their documented names (levels.py; "kota"/"kelurahan" read as these)
    level = levels.canonical(rows["area_level"])
    value = pd.to_numeric(rows["value"], errors="coerce")
    kota = value[(level == levels.REGION).to_numpy()].dropna()
    if not kota.empty:
        return float(kota.iloc[0]), levels.REGION
    for lvl in levels.SUB_LEVELS if aggregate else ():
        part = rows[(level == lvl).to_numpy()]
        if part.empty:
            continue
        num, den = part["numerator"], part["denominator"]
        if unit == "percent" and num.notna().all() and den.notna().all() and den.sum() > 0:
            return float(100 * num.sum() / den.sum()), f"{lvl} ({len(part)} areas, aggregated)"
        if unit != "percent" and part["value"].notna().all():
            return float(part["value"].sum()), f"{lvl} ({len(part)} areas, summed)"
    return None, ""


@pytest.mark.parametrize("seed", range(8))
def test_headline_statistics_match_per_group_reference(seed):
    """Area levels in any case and spacing, gaps, zero denominators, other measures and
    years: the values, sources, dtypes and row order equal a per-group pandas reference."""
    from estimate_fixtures import statistic, statistics

    rng = np.random.default_rng(seed)
    cat = load_catalog()
    heads = cat[cat["measure"].notna()]
    rows = []
    for h in heads.itertuples():
        for _ in range(rng.integers(0, 12)):
            level = str(rng.choice(["kota", " Kota", "kecamatan", "KECAMATAN ", "kelurahan"]))
            num = None if rng.random() < 0.05 else float(rng.integers(0, 50))
            den = None if rng.random() < 0.05 else float(rng.integers(0, 3) * rng.integers(1, 99))
            value = None if rng.random() < 0.1 else float(rng.uniform(0, 100))
            rows.append(statistic(h.indicator, str(rng.choice([h.measure, h.measure + " ", "x"])),
                                  value, data_year=int(rng.choice([2022, 2022, 2021])),
                                  area_level=level, numerator=num, denominator=den))
    rows = [rows[i] for i in rng.permutation(len(rows))]
    tables = {**small_tables(), "statistics": statistics(rows)}
    for aggregate in (True, False):
        rules = {**R.load_rules(), "statistic.aggregate_areas": aggregate}
        st = tables["statistics"][tables["statistics"]["data_year"] == 2022]
        st = st.assign(measure=st["measure"].str.strip()).merge(
            heads[["indicator", "measure", "unit"]], on=["indicator", "measure"],
            suffixes=("", "_catalog"))
        expected = [(int(i), *_reference_statistic(g, unit, aggregate))
                    for (i, unit), g in st.groupby(["indicator", "unit_catalog"])]
        expected = pd.DataFrame([r for r in expected if r[1] is not None],
                                columns=["indicator", "statistic_value", "statistic_source"])
        got = E.headline_statistics(tables, 2022, CITY, rules, S.catalog)
        pd.testing.assert_frame_equal(got, expected.astype({"statistic_source": object}),
                                      check_exact=True)
        assert got["statistic_source"].str.contains("aggregated").any() == aggregate
