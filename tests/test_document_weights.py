"""Optional per-document weights of data dukung items (``weight`` of an evidence entry in
``indicators.yaml``): an item of weight k counts as k items in its indicator's counts, the
bulk inputs count the same, the planner moves the whole weight, and the chance planner and
the single-scenario DP still agree. Bad weights stop with a clear error.

Expected numbers are worked out here from the rule values (``evidence_weight.<status>``),
never taken from a run.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

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
    statistic,
    statistics,
)

from kla_analysis import catalog as K
from kla_analysis.catalog import load_bands, load_evidence_requirements
from kla_analysis.errors import KlaError
from kla_analysis.model import chance_plan as C
from kla_analysis.model import estimate as E
from kla_analysis.model import plan as P
from kla_analysis.model.inputs_all import indicator_inputs_all
from kla_analysis.model.rules import EVIDENCE_STATUSES, ITEM_STATUSES
from kla_analysis.model.scoring import entry_score

S = fixture_settings()


def weighted(settings, weights: dict[str, int]):
    """``settings`` whose requirements give the items of ``weights`` those weights."""
    req = settings.requirements
    w = [int(weights.get(str(i), 1)) for i in req["item"]]
    return replace(settings, requirements=req.assign(weight=w))


def credit(rules, status: str) -> float:
    return float(rules[f"evidence_weight.{status}"])


# --- the catalog: bundled weights, loading and validating ------------------------------------


def test_bundled_catalog_weights_every_item_one():
    req = load_evidence_requirements()
    assert req["weight"].tolist() == [1] * len(req)


def _doc_with_weight(value, item: str = "1.1"):
    """The packaged catalog document with ``weight: value`` on evidence ``item``."""
    doc = K._catalog_doc()
    inds = []
    for ind in doc["indicators"]:
        ev = [{**e, "weight": value} if e["code"] == item else dict(e) for e in ind["evidence"]]
        inds.append({**ind, "evidence": ev})
    return {**doc, "indicators": inds}


def test_a_weight_in_the_catalog_reaches_the_settings(monkeypatch):
    from kla_analysis.model.settings import load_settings

    doc = _doc_with_weight(3)
    monkeypatch.setattr(K, "_catalog_doc", lambda: doc)
    req = load_settings().requirements.set_index("item")["weight"]
    assert req["1.1"] == 3
    assert (req.drop("1.1") == 1).all()


@pytest.mark.parametrize("value", [0, 2.5, "x", 99, -1, True, 3.0])
def test_a_bad_weight_is_a_clear_error(monkeypatch, value):
    doc = _doc_with_weight(value)
    monkeypatch.setattr(K, "_catalog_doc", lambda: doc)
    with pytest.raises(KlaError) as err:
        load_evidence_requirements()
    msg = str(err.value)
    for part in ("indicators.yaml", "indicator 1", "item 1.1", f"weight {value!r}",
                 "whole number from 1 to 20"):
        assert part in msg, (part, msg)


def test_the_bounds_are_accepted(monkeypatch):
    for value in (1, 20):
        doc = _doc_with_weight(value)
        monkeypatch.setattr(K, "_catalog_doc", lambda d=doc: d)
        assert load_evidence_requirements().set_index("item").loc["1.1", "weight"] == value


# --- the estimate: completeness with one item weighted 3 -------------------------------------

#: Indicator 2 (no statistic) has items 2.1-2.4; 2.1 is weighted 3.
OTHERS = {"2.2": "dalam_proses", "2.3": "kedaluwarsa", "2.4": None}  # None: no inventory row


@pytest.mark.parametrize("status", [*EVIDENCE_STATUSES, None])
def test_completeness_counts_the_weighted_item_three_times(status):
    settings = weighted(S, {"2.1": 3})
    listed = {"2.1": status, **OTHERS}
    rows = [(2, item, s) for item, s in listed.items() if s is not None]
    tables = {"self_assessment": self_assessment({2: 40}), "evidence": evidence(rows),
              "statistics": statistics([]), "official_results": official([])}
    got = E.estimate_indicators(tables, 2023, settings=settings).set_index("indicator").loc[2]
    r = settings.rules
    others = sum(credit(r, s or "missing") for s in OTHERS.values())
    want = (3 * credit(r, status or "missing") + others) / (3 + len(OTHERS))
    assert got["evidence_completeness"] == pytest.approx(want, abs=1e-12)
    assert got["n_required"] == 3 + len(OTHERS)
    assert got["backed_points"] == pytest.approx(40 * want, abs=1e-9)
    # the unweighted catalog gives the plain share: the weight is what changed it
    plain = E.estimate_indicators(tables, 2023, settings=S).set_index("indicator").loc[2]
    assert plain["evidence_completeness"] == pytest.approx(
        (credit(r, status or "missing") + others) / (1 + len(OTHERS)), abs=1e-12)


def test_evidence_items_carry_the_weight():
    items = E.evidence_items(full_tables(), 2023, settings=weighted(S, {"2.1": 3, "17.2": 5}))
    w = items.set_index("item")["weight"]
    assert (w["2.1"], w["17.2"], w["2.2"]) == (3, 5, 1)


# --- the bulk inputs equal the per-city inputs, with weights ---------------------------------


def _random_tables(seed: int) -> dict[str, pd.DataFrame]:
    """Several cities and years, random statuses, repeated and unknown items, some years
    without inventory, a few statistics."""
    rng = np.random.default_rng(seed)
    req = load_evidence_requirements()
    sa, ev, st = [], [], []
    for city in (CITY, "Kabupaten Lain", "Kota Ketiga"):
        for year in rng.choice([2021, 2022, 2023], size=int(rng.integers(1, 4)), replace=False):
            year = int(year)
            sa.append(self_assessment({i: float(rng.integers(0, 42)) for i in range(1, 25)
                                       if rng.random() < 0.9}, year, city))
            if rng.random() < 0.8:
                rows = [(int(r.indicator), r.item, str(rng.choice(EVIDENCE_STATUSES)))
                        for r in req.itertuples() if rng.random() < 0.7]
                rows += [(2, "2.1", "ada"), (2, "2.1", "tidak_ada"), (3, "3.9", "ada")]
                ev.append(evidence(rows, year, city))
            st.append(statistic(4, "birth_certificate_coverage", float(rng.uniform(50, 99)),
                                year - 1, city=city))
    return {"self_assessment": pd.concat(sa, ignore_index=True),
            "evidence": pd.concat(ev, ignore_index=True) if ev else evidence([]),
            "statistics": statistics(st), "official_results": official([])}


@pytest.mark.parametrize("seed", range(4))
def test_bulk_inputs_equal_per_city_inputs_with_weights(seed):
    rng = random.Random(seed)
    items = list(load_evidence_requirements()["item"])
    settings = weighted(S, {i: rng.randint(1, 20) for i in rng.sample(items, 15)})
    tables = _random_tables(seed)
    bulk = indicator_inputs_all(tables, settings=settings)
    pairs = [(c, y) for c in E.cities(tables) for y in E.assessment_years(tables, c)]
    assert len(pairs) >= 3
    for city, year in pairs:
        ref = E.indicator_inputs(tables, year, city, settings=settings)
        mine = bulk[(bulk["city"] == city) & (bulk["year"] == year)]
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), ref, check_dtype=False)
        # and both are the weighted sums of the items' statuses
        it = E.evidence_items(tables, year, city, settings=settings)
        sums = it.groupby(["indicator", "status"])["weight"].sum()
        ref = ref.set_index("indicator")
        for s in ITEM_STATUSES:
            want = [int(sums.get((i, s), 0)) for i in ref.index]
            assert ref[f"n_{s}"].tolist() == want, (city, year, s)
        assert ref["n_required"].tolist() == it.groupby("indicator")["weight"].sum().reindex(
            ref.index, fill_value=0).tolist()


# --- the planner: an action moves the item's whole weight ------------------------------------


def _set_ada(tables, indicator: int, item: str):
    """The tables with ``item`` completed (status ada; a row added when it has none),
    independently of the planner's state arithmetic."""
    ev = tables["evidence"].copy()
    at = (ev["indicator"] == indicator) & (ev["item"] == item)
    if at.any():
        ev.loc[at, "status"] = "ada"
    else:
        ev = pd.concat([ev, evidence([(indicator, item, "ada")])], ignore_index=True)
    return {**tables, "evidence": ev}


@pytest.mark.parametrize("status", ["tidak_ada", "kedaluwarsa", "dalam_proses", None])
def test_plan_gain_of_the_weighted_item_is_its_weighted_share(status):
    settings = weighted(S, {"2.1": 3})
    rows = [(2, "2.2", "ada"), (2, "2.3", "tidak_ada")] + (
        [(2, "2.1", status)] if status else [])
    tables = {"self_assessment": self_assessment({2: 40}), "evidence": evidence(rows),
              "statistics": statistics([]), "official_results": official([])}
    inputs = E.indicator_inputs(tables, 2023, settings=settings)
    items = E.evidence_items(tables, 2023, settings=settings)
    cands = P.candidate_actions(items, inputs, settings.rules, settings.actions)
    assert cands.set_index("item").loc["2.1", "weight"] == 3
    assert cands.set_index("item").loc["2.3", "weight"] == 1
    gains = dict(zip(cands["item"], P.single_action_gains(inputs, cands, settings.rules),
                     strict=True))
    r, n = settings.rules, 3 + 3  # 2.1 counts 3, 2.2-2.4 one each
    from_ = status or "missing"
    assert gains["2.1"] == pytest.approx(40 * 3 * (credit(r, "ada") - credit(r, from_)) / n)
    assert gains["2.3"] == pytest.approx(40 * (credit(r, "ada") - credit(r, "tidak_ada")) / n)
    # the same gain from the tables with the document completed
    before = E.estimate_indicators(tables, 2023, settings=settings)["backed_points"].sum()
    after = E.estimate_indicators(_set_ada(tables, 2, "2.1"), 2023,
                                  settings=settings)["backed_points"].sum()
    assert gains["2.1"] == pytest.approx(after - before, abs=1e-9)
    now = inputs.set_index("indicator").loc[2]
    state = P.apply_actions(inputs, cands[cands["item"] == "2.1"]).set_index("indicator").loc[2]
    assert state["n_ada"] == now["n_ada"] + 3 == 1 + 3
    assert state[f"n_{from_}"] == now[f"n_{from_}"] - 3


def test_plan_rows_carry_the_weight_and_their_gains_add_up():
    weights = {"17.1": 4, "18.2": 2, "21.1": 3}
    res = P.plan_year(full_tables(), 2023, target="Nindya", settings=weighted(S, weights))
    acts = res["actions"]
    ev = acts[acts["action"] != "raise_statistic"]
    assert len(ev) > 0
    assert ev["weight"].tolist() == [weights.get(i, 1) for i in ev["item"]]
    s = res["summary"]
    assert acts["points_gained"].sum() == pytest.approx(s["total_after"] - s["current_total"])
    # every item of 17-24 is missing, claims 40: an action regains 40 x weight / n_required
    n = weighted(S, weights).requirements.groupby("indicator")["weight"].sum()
    for r in ev.itertuples():
        assert r.points_gained == pytest.approx(40 * r.weight / n[r.indicator])


# --- the chance planner and the single-scenario DP agree with weights ------------------------


def _small_bands():
    b = load_bands()
    out = b.assign(**{c: b[c] / 10 for c in ("lower", "entry", "upper")})
    out.attrs.update(b.attrs, scale_max=100)
    return out


#: Items of the small cases: three indicators, one with a statistic.
CASE_ITEMS = [(1, "1.1"), (1, "1.2"), (2, "2.1"), (2, "2.2"), (2, "2.3"), (4, "4.1"),
              (4, "4.2"), (17, "17.1"), (17, "17.2"), (18, "18.1"), (18, "18.2")]


def _case_tables(rng: random.Random):
    statuses = ["ada", "dalam_proses", "kedaluwarsa", "tidak_ada", None]
    rows = [(ind, item, s) for ind, item in CASE_ITEMS if (s := rng.choice(statuses))]
    # at most 99 points in all: the small bands' scale is 0-100
    claims = {1: rng.randint(10, 25), 2: rng.randint(10, 25), 4: rng.randint(10, 25),
              17: rng.randint(5, 12), 18: rng.randint(5, 12)}
    return {"self_assessment": self_assessment(claims), "evidence": evidence(rows),
            "statistics": statistics([statistic(4, "birth_certificate_coverage",
                                                rng.choice([85.0, 92.5]))]),
            "official_results": official([])}


def _case(seed: int):
    rng = random.Random(500 + seed)
    weights = {item: rng.choice([1, 1, 2, 3, 5]) for _, item in CASE_ITEMS}
    actions = {**S.actions, "statistic_action": {**S.actions["statistic_action"], "by_unit": {
        "percent": {"step": 2.5, "max_change": 5, "effort_per_step": rng.randint(1, 3),
                    "assumption": True, "rationale": "test"}}}}
    settings = replace(weighted(S, weights), actions=actions, bands=_small_bands())
    tables = _case_tables(rng)
    inputs = E.indicator_inputs(tables, 2023, settings=settings)
    items = E.evidence_items(tables, 2023, settings=settings)
    cands = P.candidate_actions(items, inputs, settings.rules, settings.actions)
    # unclaimed indicators back 0 points whatever is done: keep the brute force small
    claimed = inputs.loc[inputs["claimed_points"] > 0, "indicator"]
    cands = cands[cands["indicator"].isin(claimed)].reset_index(drop=True)
    return tables, settings, inputs, cands, rng


def _subsets(df: pd.DataFrame) -> list[list[str]]:
    """Every subset of one indicator's candidate actions with at most one statistic level:
    independent of the planner's options (which group items by status and weight)."""
    ev = df.loc[df["action"] != "raise_statistic", "action_id"].tolist()
    levels = [None, *df.loc[df["action"] == "raise_statistic", "action_id"]]
    return [[*picked, *([lv] if lv else [])] for k in range(len(ev) + 1)
            for picked in itertools.combinations(ev, k) for lv in levels]


def _brute(inputs, cands, rules, scen, entry, level):
    """Least effort reaching ``entry`` with at least chance ``level`` over ``scen`` (ties:
    the highest expected total), and the best chance, over every combination of every
    indicator's action subsets."""
    eff = dict(zip(cands["action_id"], cands["effort"], strict=True))
    w = scen["weight"].to_numpy(float)
    groups = {i: _subsets(df) for i, df in cands.groupby("indicator")}
    states, where = [], {}
    for i, subsets in groups.items():
        for ids in subsets:
            after = P.apply_actions(inputs, cands[cands["action_id"].isin(ids)])
            where[(i, tuple(ids))] = len(states)
            states.append(after[after["indicator"] == i])
    pts = C.scenario_points(pd.concat(states, ignore_index=True), rules, scen)
    rest = inputs[~inputs["indicator"].isin(list(groups))]
    fixed = C.scenario_points(rest, rules, scen).sum(axis=1) + scen["offset"].to_numpy(float)
    best, best_chance = None, 0.0
    for combo in itertools.product(*([(i, tuple(ids)) for ids in g] for i, g in groups.items())):
        tot = fixed + sum(pts[:, where[c]] for c in combo)
        chance = C.chance_of(tot, w, entry)
        best_chance = max(best_chance, chance)
        if chance >= level - C.CHANCE_TOL:
            key = (sum(eff[a] for _, ids in combo for a in ids), -float(w @ tot))
            best = key if best is None or key < best else best
    return best, best_chance


def _scenarios(rules, grid, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{**rules, **{k: v[rng.integers(len(v))] for k, v in grid.items()}, "offset": 0.0}
            for _ in range(n)]
    out = pd.DataFrame(rows)
    out["weight"] = rng.dirichlet(np.full(n, 5.0))
    return out


@pytest.mark.parametrize("seed", range(24))
def test_single_scenario_dp_is_exact_with_weights(seed):
    """The DP plan's effort is the least effort of any subset of actions reaching the
    entry score under the headline rules (the options group items by status and weight)."""
    tables, settings, inputs, cands, rng = _case(seed)
    target = rng.choice(["Pratama", "Madya", "Nindya"])
    entry = float(entry_score(target, settings.bands))
    dp = P.plan_year(tables, 2023, target=target, settings=settings)
    head = pd.DataFrame([{**settings.rules, "offset": 0.0, "weight": 1.0}])
    best, _ = _brute(inputs, cands, settings.rules, head, entry, 1.0)
    s = dp["summary"]
    if best is None:
        assert not s["reachable"]
        return
    assert s["reachable"] and s["planned_predicate"] == target
    assert s["total_effort"] == best[0]
    # and the chance planner with one headline scenario finds the same plan effort
    res = C.chance_plan(inputs, cands, settings.rules, head, entry, 1.0,
                        catalog=settings.catalog)
    assert s["total_after"] == pytest.approx(-best[1], abs=1e-6)
    assert res["feasible"] and res["effort"] == s["total_effort"]
    assert res["expected_total"] == pytest.approx(s["total_after"], abs=1e-6)


def test_the_planner_completes_the_heavier_item_of_a_status():
    """Two missing items of one indicator at the same effort, one weighted 5: completing
    that one alone reaches the target, so a plan of one action exists (a planner taking
    "the first k items of a status" would need both)."""
    settings = replace(weighted(S, {"2.4": 5}), bands=_small_bands())
    tables = {"self_assessment": self_assessment({1: 20, 2: 40}),
              "evidence": evidence([(1, "1.1", "ada"), (1, "1.2", "ada"), (2, "2.2", "ada"),
                                    (2, "2.3", "ada")]),
              "statistics": statistics([]), "official_results": official([])}
    entry = float(entry_score("Pratama", settings.bands))
    # today 20 + 40 x 2/8; 2.4 alone: 20 + 40 x 7/8; 2.1 alone: 20 + 40 x 3/8
    assert 20 + 40 * 3 / 8 < entry <= 20 + 40 * 7 / 8
    res = P.plan_year(tables, 2023, target="Pratama", settings=settings)
    assert res["actions"]["item"].tolist() == ["2.4"]
    assert res["summary"]["total_after"] == pytest.approx(20 + 40 * 7 / 8)
    inputs = E.indicator_inputs(tables, 2023, settings=settings)
    cands = P.candidate_actions(E.evidence_items(tables, 2023, settings=settings), inputs,
                                settings.rules, settings.actions)
    cp = C.chance_plan(inputs, cands, settings.rules,
                       pd.DataFrame([{**settings.rules, "offset": 0.0, "weight": 1.0}]),
                       entry, 1.0, catalog=settings.catalog)
    assert cp["actions"]["item"].tolist() == ["2.4"]
    assert cp["effort"] == res["summary"]["total_effort"] == int(
        cands.set_index("item").loc["2.4", "effort"])


@pytest.mark.parametrize("method", ["search", "milp"])
@pytest.mark.parametrize("seed", range(12))
def test_chance_plan_matches_brute_force_with_weights(seed, method):
    tables, settings, inputs, cands, rng = _case(seed)
    scen = _scenarios(settings.rules, settings.grid, rng.randint(2, 5), seed)
    entry = float(rng.choice([50, 60, 70, 75]))
    level = rng.choice([0.5, 0.8, 1.0])
    best, best_chance = _brute(inputs, cands, settings.rules, scen, entry, level)
    res = C.chance_plan(inputs, cands, settings.rules, scen, entry, level,
                        catalog=settings.catalog, method=method)
    if best is None:
        assert not res["feasible"] and res["best_chance"] == pytest.approx(best_chance)
        return
    assert res["feasible"] and res["effort"] == best[0]
    assert res["expected_total"] == pytest.approx(-best[1], abs=1e-6)
    assert res["actions"]["weight"].notna().sum() == (res["actions"]["action"]
                                                      != "raise_statistic").sum()


def test_weighted_cases_exercise_the_weights():
    """The random cases above include weighted items the plans can act on, feasible and
    infeasible targets (so the comparisons are not vacuous)."""
    heavy, outcomes = 0, set()
    for seed in range(10):
        tables, settings, inputs, cands, rng = _case(seed)
        heavy += int((cands["weight"].fillna(1) > 1).sum())
        target = rng.choice(["Pratama", "Madya", "Nindya"])
        outcomes.add(P.plan_year(tables, 2023, target=target,
                                 settings=settings)["summary"]["reachable"])
    assert heavy >= 10 and outcomes == {True, False}


@pytest.mark.parametrize("target", ["Nindya", "Utama"])
def test_one_headline_scenario_equals_dp_plan_on_full_tables_with_weights(target):
    settings = weighted(S, {"17.1": 3, "19.2": 2, "21.1": 5, "23.2": 4})
    tables = full_tables()
    dp = P.plan_year(tables, 2023, target=target, settings=settings)
    inputs = E.indicator_inputs(tables, 2023, settings=settings)
    items = E.evidence_items(tables, 2023, settings=settings)
    cands = P.candidate_actions(items, inputs, settings.rules, settings.actions)
    entry = float(entry_score(target, settings.bands))
    res = C.chance_plan(inputs, cands, settings.rules,
                        pd.DataFrame([{**settings.rules, "offset": 0.0, "weight": 1.0}]),
                        entry, 1.0, catalog=settings.catalog)
    assert res["feasible"] and res["chance"] == 1.0
    assert res["effort"] == dp["summary"]["total_effort"]
    assert res["expected_total"] == pytest.approx(dp["summary"]["total_after"])
