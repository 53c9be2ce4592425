"""Chance-constrained plans (``model.chance_plan``): the MILP against brute force, the
single-scenario regression against the DP planner, recomputed chances, the frontier, and
unreachable targets as a clear result.

Scenario frames are built here in the posterior's format (one column per rule, plus
``offset`` and ``weight``) from random draws of the sensitivity grid, so these tests do not
depend on the posterior model.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from estimate_fixtures import (
    evidence,
    fixture_settings,
    full_tables,
    official,
    self_assessment,
    statistic,
    statistics,
)

from kla_analysis.catalog import default_weight_set, folder_weights, load_evidence_requirements
from kla_analysis.errors import KlaError
from kla_analysis.model import chance_plan as C
from kla_analysis.model import estimate as E
from kla_analysis.model import plan as P
from kla_analysis.model.scoring import entry_score
from kla_analysis.model.settings import load_settings
from kla_analysis.tables import load_processed

S = fixture_settings()


def headline_scenario(rules) -> pd.DataFrame:
    """One scenario equal to the headline rules, offset 0, weight 1."""
    return pd.DataFrame([{**rules, "offset": 0.0, "weight": 1.0}])


def grid_scenarios(rules, grid, n: int, seed: int, offset_sd: float = 0.0) -> pd.DataFrame:
    """``n`` scenarios: every grid rule drawn from its grid values, the others at their
    headline value; offsets normal(0, ``offset_sd``); random weights summing to 1."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        r = {**rules, **{k: v[rng.integers(len(v))] for k, v in grid.items()}}
        r["offset"] = float(rng.normal(0, offset_sd)) if offset_sd else 0.0
        rows.append(r)
    out = pd.DataFrame(rows)
    out["weight"] = rng.dirichlet(np.full(n, 5.0))
    return out


def independent_chance(inputs, cands, action_ids, rules, scenarios, entry) -> float:
    """The plan's chance scored scenario by scenario with ``score_inputs`` on
    ``apply_actions`` (no vectorised pass, no solver matrix)."""
    after = P.apply_actions(inputs, cands.set_index("action_id").loc[list(action_ids)]
                            .reset_index())
    rule_cols = [c for c in scenarios.columns if c in rules]
    w = scenarios["weight"].to_numpy(float) / scenarios["weight"].sum()
    hit = 0.0
    for k, rec in enumerate(scenarios[rule_cols].to_dict("records")):
        total = E.score_inputs(after, {**rules, **rec})["backed_points"].sum()
        if total + scenarios["offset"].iloc[k] >= entry - P.EPS:
            hit += w[k]
    return hit


def year_inputs(tables, year, settings):
    inputs = E.indicator_inputs(tables, year, settings=settings)
    items = E.evidence_items(tables, year, settings=settings)
    return inputs, P.candidate_actions(items, inputs, settings.rules, settings.actions)


# --- the MILP alone: random option/scenario matrices vs every combination -------------------


def _random_problem(rng: random.Random) -> tuple[C.Problem, float, float]:
    ind, effort, ids = [], [], []
    n_s = rng.randint(1, 7)
    cols = []
    for g in range(1, rng.randint(1, 4) + 1):
        ind.append(g), effort.append(0), ids.append(())
        cols.append(np.zeros(n_s))
        for o in range(rng.randint(0, 4)):
            ind.append(g), effort.append(rng.randint(0, 6)), ids.append((f"{g}:{o}",))
            kind = rng.random()
            col = (np.array([rng.randint(0, 8) * 2.5 for _ in range(n_s)]) if kind < 0.4 else
                   np.array([rng.uniform(-2, 20) for _ in range(n_s)]))
            cols.append(col)
    gain = np.column_stack(cols)
    base = np.array([rng.uniform(0, 10) for _ in range(n_s)])
    w = np.array([rng.choice([1.0, rng.uniform(0.1, 3)]) for _ in range(n_s)])
    problem = C.Problem(indicator=np.array(ind), effort=np.array(effort), gain=gain, base=base,
                        weight=w / w.sum(), action_ids=tuple(ids), n_options_all=len(ind))
    level = rng.choice([1.0, 0.5, 0.8, 0.9, rng.uniform(0.05, 1)])
    entry = rng.uniform(5, 45)
    return problem, entry, level


def _brute(problem: C.Problem, entry: float, level: float):
    groups = [np.flatnonzero(problem.indicator == g) for g in np.unique(problem.indicator)]
    best, best_chance = None, 0.0
    for combo in itertools.product(*groups):
        cols = list(combo)
        tot = problem.base + problem.gain[:, cols].sum(axis=1)
        chance = C.chance_of(tot, problem.weight, entry)
        best_chance = max(best_chance, chance)
        if chance >= level - C.CHANCE_TOL:
            key = (int(problem.effort[cols].sum()), -float(problem.weight @ tot))
            if best is None or key < best:
                best = key
    return best, best_chance


def _solve(method: str, problem: C.Problem, entry: float, level: float):
    """(least-effort columns or None, best-chance columns) by ``method``."""
    if method == "milp":
        sol = C.solve_chance(problem, entry, level)
        assert sol["status"] in ("optimal", "infeasible")
        return sol["columns"], C.max_chance(problem, entry)["columns"]
    bb = C.BranchAndBound(problem, entry)
    return bb.least_effort(level), bb.best_chance()


@pytest.mark.parametrize("method", ["search", "milp"])
@pytest.mark.parametrize("seed", range(60))
def test_solvers_match_brute_force(seed, method):
    rng = random.Random(seed)
    problem, entry, level = _random_problem(rng)
    best, best_chance = _brute(problem, entry, level)
    cols, top = _solve(method, problem, entry, level)
    top_tot = problem.base + problem.gain[:, top].sum(axis=1)
    assert C.chance_of(top_tot, problem.weight, entry) == pytest.approx(best_chance)
    if best is None:
        assert cols is None
        return
    assert cols is not None
    assert sorted(problem.indicator[cols]) == sorted(np.unique(problem.indicator))
    tot = problem.base + problem.gain[:, cols].sum(axis=1)
    assert C.chance_of(tot, problem.weight, entry) >= level - C.CHANCE_TOL
    assert problem.effort[cols].sum() == best[0]
    # among the least-effort plans, the most expected points
    assert problem.weight @ tot == pytest.approx(-best[1], abs=1e-6)


def test_brute_force_cases_cover_both_outcomes():
    outcomes = set()
    for seed in range(60):
        problem, entry, level = _random_problem(random.Random(seed))
        best, _ = _brute(problem, entry, level)
        outcomes.add(best is None)
        outcomes.add(("nonzero", best is not None and best[0] > 0))
    assert {True, False, ("nonzero", True)} <= outcomes


# --- end to end on small raw tables: chance_plan vs every combination of options ------------

def _small_bands():
    from kla_analysis.catalog import load_bands

    b = load_bands()
    out = b.assign(**{c: b[c] / 10 for c in ("lower", "entry", "upper")})
    out.attrs.update(b.attrs, scale_max=100)
    return out


SMALL_BANDS = _small_bands()


def _random_case(seed: int):
    rng = random.Random(1000 + seed)
    statuses = ["ada", "dalam_proses", "kedaluwarsa", "tidak_ada", None]
    rows = [(ind, item, s) for ind, item in [(1, "1.1"), (1, "1.2"), (4, "4.1"), (4, "4.2"),
                                             (12, "12.1")]
            if (s := rng.choice(statuses)) is not None]
    claims = {1: rng.randint(15, 40), 4: rng.randint(15, 40), 12: rng.randint(5, 20)}
    tables = {"self_assessment": self_assessment(claims), "evidence": evidence(rows),
              "statistics": statistics([statistic(4, "birth_certificate_coverage",
                                                  rng.choice([85.0, 92.5, 96.0]))]),
              "official_results": official([])}
    actions = {**S.actions, "statistic_action": {**S.actions["statistic_action"], "by_unit": {
        "percent": {"step": 2.5, "max_change": 5, "effort_per_step": rng.randint(1, 3),
                    "assumption": True, "rationale": "test"}}}}
    settings = replace(S, actions=actions, bands=SMALL_BANDS)
    scen = grid_scenarios(S.rules, S.grid, rng.randint(1, 6), seed, offset_sd=rng.choice([0, 3]))
    level = rng.choice([0.5, 0.8, 1.0, rng.uniform(0.1, 1)])
    entry = float(rng.choice([40, 50, 60, 70, 75, 80]))
    return tables, settings, scen, level, entry


@functools.cache
def _brute_case(seed: int):
    """A small raw-table case and its brute-force optimum over every option combination."""
    tables, settings, scen, level, entry = _random_case(seed)
    inputs, cands = year_inputs(tables, 2023, settings)
    # unclaimed indicators back 0 points whatever is done: keep the brute force small
    cands = cands[cands["indicator"].isin(inputs.loc[inputs["claimed_points"] > 0,
                                                     "indicator"])].reset_index(drop=True)
    meta, _ = P.option_states(inputs, cands)
    groups = [list(df["action_ids"]) for _, df in meta.groupby("indicator")]
    assert np.prod([len(g) for g in groups]) <= 400, "keep the brute force small"
    w = scen["weight"].to_numpy(float) / scen["weight"].sum()
    norm = scen.assign(weight=w)
    eff = dict(zip(cands["action_id"], cands["effort"], strict=True))
    best, best_chance = None, 0.0
    for combo in itertools.product(*groups):
        ids = [a for opt in combo for a in opt]
        tot = C.plan_totals(inputs, cands, ids, settings.rules, norm)
        chance = C.chance_of(tot, w, entry)
        best_chance = max(best_chance, chance)
        if chance >= level - C.CHANCE_TOL:
            key = (sum(eff[a] for a in ids), -float(w @ tot))
            best = key if best is None or key < best else best
    return inputs, cands, settings, scen, level, entry, best, best_chance


def _end_to_end(seed: int, method: str):
    inputs, cands, settings, scen, level, entry, best, best_chance = _brute_case(seed)
    res = C.chance_plan(inputs, cands, settings.rules, scen, entry, level,
                        catalog=settings.catalog, method=method)
    assert res["method"] == method
    return inputs, cands, settings, scen, level, entry, res, best, best_chance


@pytest.mark.parametrize("method", ["search", "milp"])
@pytest.mark.parametrize("seed", range(30))
def test_chance_plan_matches_brute_force_on_raw_tables(seed, method):
    inputs, cands, settings, scen, level, entry, res, best, best_chance = _end_to_end(seed,
                                                                                      method)
    if best is None:
        assert not res["feasible"] and res["actions"].empty
        assert res["best_chance"] == pytest.approx(best_chance)
        assert res["message"] == f"not reachable: best achievable chance {C._pct(best_chance)}"
        return
    assert res["feasible"] and res["effort"] == best[0]
    assert res["expected_total"] == pytest.approx(-best[1], abs=1e-6)
    ids = res["actions"]["action_id"].tolist()
    # the reported chance is the plan re-scored scenario by scenario, and reaches the level
    assert res["chance"] == pytest.approx(independent_chance(inputs, cands, ids,
                                                             settings.rules, scen, entry))
    assert res["chance"] >= level - C.CHANCE_TOL
    assert res["effort"] == res["actions"]["effort"].sum()


def test_end_to_end_cases_cover_both_outcomes():
    cases = [_brute_case(seed) for seed in range(30)]
    assert {c[6] is None for c in cases} == {True, False}
    assert sum(c[6] is not None and c[6][0] > 0 for c in cases) >= 5  # plans with actions
    assert sum(len(c[3]) > 1 for c in cases) >= 10  # several scenarios
    assert {c[4] for c in cases} >= {0.5, 1.0}


# --- one scenario equal to the headline rules: the DP plan's effort -------------------------


@pytest.mark.parametrize("target", ["Nindya", "Utama", "Pratama"])
def test_one_headline_scenario_equals_dp_plan_on_full_tables(target):
    tables = full_tables()
    dp = P.plan_year(tables, 2023, target=target, settings=S)
    inputs, cands = year_inputs(tables, 2023, S)
    entry = float(entry_score(target, S.bands))
    res = C.chance_plan(inputs, cands, S.rules, headline_scenario(S.rules), entry, 1.0,
                        catalog=S.catalog)
    assert res["feasible"] and res["chance"] == 1.0
    assert res["effort"] == dp["summary"]["total_effort"]
    assert res["headline_plan"]["effort"] == dp["summary"]["total_effort"]
    assert res["expected_total"] == pytest.approx(dp["summary"]["total_after"])


@pytest.fixture(scope="module")
def bundled(bundled_data):
    weights = folder_weights(bundled_data.raw) or default_weight_set()
    return load_processed(bundled_data), load_settings(weights=weights, claims=weights)


@pytest.mark.parametrize(("year", "target"), [(2023, "Nindya"), (2025, "Utama"),
                                              (2023, "Utama")])
def test_one_headline_scenario_equals_dp_plan_on_bundled_data(bundled, year, target):
    tables, settings = bundled
    dp = P.plan_year(tables, year, target=target, settings=settings)
    res = P.plan_year(tables, year, target=target, settings=settings, chance=1.0,
                      scenarios=headline_scenario(settings.rules))
    cp, s = res["chance_plan"], dp["summary"]
    assert {k: v for k, v in res["summary"].items() if k != "chance"} == s  # today's keys
    assert cp["feasible"] and cp["effort"] == s["total_effort"] > 0
    assert res["summary"]["chance"] == 1.0 and cp["chance"] == 1.0
    assert cp["expected_total"] == pytest.approx(s["total_after"])


# --- many scenarios on the bundled data: frontier, gains, stability -------------------------


@pytest.fixture(scope="module")
def bundled_2023(bundled):
    tables, settings = bundled
    scen = grid_scenarios(settings.rules, settings.grid, 300, seed=1, offset_sd=15)
    again = grid_scenarios(settings.rules, settings.grid, 300, seed=2, offset_sd=15)
    res = P.plan_year(tables, 2023, target="Nindya", settings=settings, chance=0.9,
                      scenarios=scen, resample=again)
    inputs, cands = year_inputs(tables, 2023, settings)
    return res, scen, inputs, cands, settings


def test_chance_plan_on_bundled_data(bundled_2023):
    res, scen, inputs, cands, settings = bundled_2023
    cp = res["chance_plan"]
    assert cp["feasible"] and cp["chance"] >= 0.9 and cp["n_scenarios"] == 300
    ids = cp["actions"]["action_id"].tolist()
    assert cp["chance"] == pytest.approx(independent_chance(inputs, cands, ids, settings.rules,
                                                            scen, 701))
    assert cp["effort"] == cp["actions"]["effort"].sum()
    assert cp["n_opd"] == cp["actions"]["opd"].str.strip().nunique()
    # the headline plan is cheaper and reaches the target in fewer scenarios
    head = cp["headline_plan"]
    assert head["effort"] == res["summary"]["total_effort"] <= cp["effort"]
    assert head["chance"] == pytest.approx(res["summary"]["chance"])
    assert head["chance"] < cp["chance"]
    assert 0 <= cp["resample_chance"] <= 1
    assert cp["total_p10"] <= cp["expected_total"] <= cp["total_p90"]


def test_chance_gain_is_the_chance_without_that_action(bundled_2023):
    res, scen, inputs, cands, settings = bundled_2023
    cp = res["chance_plan"]
    ids = cp["actions"]["action_id"].tolist()
    w = scen["weight"].to_numpy(float)
    for a in ids[:4]:
        rest = [b for b in ids if b != a]
        without = C.chance_of(C.plan_totals(inputs, cands, rest, settings.rules, scen), w, 701)
        gain = cp["actions"].set_index("action_id").loc[a, "chance_gain"]
        assert gain == pytest.approx(cp["chance"] - without)


def test_frontier_is_monotone(bundled_2023):
    frontier = bundled_2023[0]["chance_plan"]["frontier"]
    assert frontier["level"].tolist() == list(C.FRONTIER_LEVELS)
    feasible = frontier["feasible"].tolist()
    assert feasible == sorted(feasible, reverse=True)  # once unreachable, always unreachable
    ok = frontier[frontier["feasible"]]
    assert (ok["chance"] >= ok["level"] - C.CHANCE_TOL).all()
    assert ok["effort"].is_monotonic_increasing  # more chance never costs less effort
    head = bundled_2023[0]["chance_plan"]["headline_plan"]
    assert all(head["effort"] <= e for e in ok["effort"] if head["chance"] < 0.5)


@pytest.mark.parametrize("seed", range(8))
def test_frontier_is_monotone_on_random_cases(seed):
    tables, settings, scen, _, entry = _random_case(seed)
    inputs, cands = year_inputs(tables, 2023, settings)
    levels = (0.2, 0.4, 0.5, 0.6, 0.8, 0.9, 1.0)
    f = C.chance_plan(inputs, cands, settings.rules, scen, entry, 0.5,
                      catalog=settings.catalog, levels=levels)["frontier"]
    feasible = f["feasible"].tolist()
    assert feasible == sorted(feasible, reverse=True)
    assert f.loc[f["feasible"], "effort"].is_monotonic_increasing


# --- unreachable targets and bad scenario frames ---------------------------------------------


def _blocked(last: int):
    blocked = [{"item": r.item, "available": False, "assumption": True, "rationale": "t"}
               for r in load_evidence_requirements().itertuples() if 17 <= r.indicator <= last]
    return replace(S, actions={**S.actions, "item_overrides": blocked})


def test_unreachable_chance_is_a_clear_result():
    """Items of 17-22 blocked: at most 720 points. Scenarios with offset +200 (weight 0.3)
    reach KLA (901) after the plan, the others never: best achievable chance 30 %."""
    settings = _blocked(22)
    inputs, cands = year_inputs(full_tables(), 2023, settings)
    scen = pd.concat([headline_scenario(S.rules)] * 10, ignore_index=True)
    scen["offset"] = [200.0] * 3 + [0.0] * 7
    scen["weight"] = 0.1
    res = C.chance_plan(inputs, cands, S.rules, scen, 901.0, 0.8, catalog=S.catalog)
    assert not res["feasible"] and res["best_chance"] == pytest.approx(0.3)
    assert res["message"] == "not reachable: best achievable chance 30 %"
    assert res["actions"].empty and res["chance"] is None
    f = res["frontier"].set_index("level")
    assert not f.loc[0.5, "feasible"] and f.loc[0.5, "best_chance"] == pytest.approx(0.3)
    assert not f.loc[1.0, "feasible"]
    assert not res["headline_plan"]["feasible"]
    lines = C.chance_lines(res, "KLA")
    assert any("not reachable" in ln and "best achievable chance 30 %" in ln for ln in lines)
    ok = C.chance_plan(inputs, cands, S.rules, scen, 901.0, 0.3, catalog=S.catalog)
    assert ok["feasible"] and ok["chance"] == pytest.approx(0.3) and ok["effort"] == 12
    # no action can help at all (every item of 17-24 blocked)
    settings = _blocked(24)
    inputs, cands = year_inputs(full_tables(), 2023, settings)
    res = C.chance_plan(inputs, cands, S.rules, headline_scenario(S.rules), 701.0, 0.8,
                        catalog=S.catalog)
    assert not res["feasible"] and res["best_chance"] == 0
    assert res["message"] == "not reachable: best achievable chance 0 %"


def test_target_already_reached_in_every_scenario_needs_no_action():
    inputs, cands = year_inputs(full_tables(), 2023, S)
    scen = grid_scenarios(S.rules, {"statistic.weight": [0.25, 0.75]}, 20, seed=3)
    res = C.chance_plan(inputs, cands, S.rules, scen, 501.0, 0.9, catalog=S.catalog)
    assert res["feasible"] and res["chance"] == 1 and res["effort"] == 0
    assert res["actions"].empty and (res["frontier"]["effort"] == 0).all()
    assert any("Without any action" in ln for ln in C.chance_lines(res, "Pratama"))


def test_bad_scenario_frames_are_clear_errors():
    inputs, cands = year_inputs(full_tables(), 2023, S)

    def run(scen):
        return C.chance_plan(inputs, cands, S.rules, scen, 701.0, 0.8, catalog=S.catalog)

    with pytest.raises(KlaError, match="lacks column"):
        run(headline_scenario(S.rules).drop(columns="weight"))
    with pytest.raises(KlaError, match="empty"):
        run(headline_scenario(S.rules).iloc[0:0])
    with pytest.raises(KlaError, match="weights"):
        run(headline_scenario(S.rules).assign(weight=-1.0))
    with pytest.raises(KlaError, match="changes the inputs"):
        run(headline_scenario(S.rules).assign(**{"statistic.data_year_offset": 2}))
    with pytest.raises(KlaError, match="chance must be"):
        C.chance_plan(inputs, cands, S.rules, headline_scenario(S.rules), 701.0, 1.5,
                      catalog=S.catalog)


def test_plan_year_without_posterior_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(C, "posterior_scenarios", _no_posterior)
    with pytest.raises(KlaError, match="posterior"):
        P.plan_year(full_tables(), 2023, settings=S, chance=0.8)
    res = P.plan_year(full_tables(), 2023, settings=S)  # without chance: today's plan
    assert "chance_plan" not in res and "chance" not in res["summary"]


def _no_posterior(*args, **kwargs):
    raise KlaError("chance-constrained plans need the posterior model")


def test_dominated_options_are_dropped_exactly():
    """Every option of the bundled-size fixture is kept or dominated; dropping changes
    nothing (the brute-force tests above run on the reduced option set)."""
    inputs, cands = year_inputs(full_tables(), 2023, S)
    scen = grid_scenarios(S.rules, S.grid, 50, seed=4)
    pr = C.build_problem(inputs, cands, S.rules, C.check_scenarios(scen, S.rules))
    assert len(pr.effort) < pr.n_options_all
    # unclaimed indicators and zero-gain options are gone; every indicator keeps an option
    assert len(np.unique(pr.indicator)) == inputs["indicator"].nunique()


def test_search_and_milp_agree_on_bundled_data(bundled):
    """The branch and bound (default) and HiGHS give the same frontier on a real city-year
    (30 scenarios keep the MILP quick)."""
    tables, settings = bundled
    inputs, cands = year_inputs(tables, 2023, settings)
    scen = grid_scenarios(settings.rules, settings.grid, 30, seed=5, offset_sd=15)
    got = {m: C.chance_plan(inputs, cands, settings.rules, scen, 701.0, 0.8,
                            catalog=settings.catalog, levels=(0.5, 0.9), method=m)
           for m in ("search", "milp")}
    cols = ["feasible", "chance", "effort"]
    pd.testing.assert_frame_equal(got["search"]["frontier"][cols], got["milp"]["frontier"][cols])
    assert got["search"]["expected_total"] == pytest.approx(got["milp"]["expected_total"])
    assert got["search"]["n_options"] < got["search"]["n_options_all"]  # dominated dropped


def test_search_falls_back_to_the_milp_past_its_node_limit(bundled):
    tables, settings = bundled
    inputs, cands = year_inputs(tables, 2023, settings)
    scen = grid_scenarios(settings.rules, settings.grid, 20, seed=6, offset_sd=15)
    fast = C.chance_plan(inputs, cands, settings.rules, scen, 701.0, 0.8,
                         catalog=settings.catalog, levels=(0.8,))
    slow = C.chance_plan(inputs, cands, settings.rules, scen, 701.0, 0.8,
                         catalog=settings.catalog, levels=(0.8,), node_limit=3)
    assert (fast["method"], slow["method"]) == ("search", "milp")
    assert slow["effort"] == fast["effort"] and slow["chance"] >= 0.8


# --- with the posterior's scenarios (when the posterior model is present) --------------------


def test_plan_year_with_posterior_scenarios(bundled):
    pytest.importorskip("kla_analysis.model.posterior")
    tables, settings = bundled
    res = P.plan_year(tables, 2023, target="Nindya", settings=settings, chance=0.9)
    cp = res["chance_plan"]
    assert cp["n_scenarios"] == C.N_SCENARIOS and cp["enough"]
    assert cp["feasible"] and cp["chance"] >= 0.9
    assert cp["resample_chance"] is not None and abs(cp["resample_chance"] - cp["chance"]) < 0.1
    f = cp["frontier"]
    assert f["level"].tolist() == list(C.FRONTIER_LEVELS)
    assert f.loc[f["feasible"], "effort"].is_monotonic_increasing
    assert 0 <= res["summary"]["chance"] <= 1
    assert cp["seconds"] < 2  # the frontier of one city-year (posterior excluded)
