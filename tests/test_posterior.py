"""The posterior model (kla_analysis.model.posterior): priors as data, the likelihood by hand,
status weights, leave-one-out, the effective sample size and its refusal, the simulation
check of the 80 % intervals, and the outputs on the bundled data and the CLI."""

from __future__ import annotations

import json
import math
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
    official,
    self_assessment,
    statistic,
    statistics,
)
from scipy.stats import norm
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import package_file
from kla_analysis.errors import KlaError
from kla_analysis.model import calibration as C
from kla_analysis.model import estimate as E
from kla_analysis.model import posterior as P
from kla_analysis.model import rules as R
from kla_analysis.model.bulk import score_all
from kla_analysis.model.priors import (
    draw_noise,
    draw_round_effects,
    draw_rules,
    prior_specs,
    rules_document,
)
from kla_analysis.model.settings import load_settings
from kla_analysis.tables import load_processed

S = fixture_settings()
BANDS = ["Belum berpredikat", "Pratama", "Madya", "Nindya", "Utama", "KLA"]


def with_posterior(settings, **changes):
    """``settings`` with some ``posterior`` settings of the rules document replaced."""
    doc = dict(settings.rules_document)
    doc["posterior"] = {**doc["posterior"], **changes}
    return replace(settings, rules_document=doc)


def hand_score(post) -> np.ndarray:
    """full_tables 2022/2023 by hand, per draw: indicators 1-16 all items 'ada' and claimed
    40, 17-24 nothing; 10 of 1-16 have a measure but no statistic in the data. Evidence
    only: 16 x 40 = 640; zero: 6 x 40 + 10 x c with c = 40 (1 - w) for basis claimed,
    min(40, 42 (1 - w)) for basis max (legacy maximum 42)."""
    p = post.core.params
    w = p["statistic.weight"]
    part = np.where(p["points.basis"] == "claimed", 40 * (1 - w), np.minimum(40, 42 * (1 - w)))
    return np.where(p["statistic.missing"] == "evidence_only", 640.0, 240 + 10 * part)


def test_likelihood_by_hand():
    post = P.fit(full_tables(), S)
    core = post.core
    cy = core.city_years.set_index("year")
    assert not bool(cy.loc[2021, "available"])  # claims but no inventory: not scored
    m = hand_score(post)
    for year in (2022, 2023):
        got = core.scores[:, int(np.flatnonzero(core.city_years["year"] == year)[0])]
        np.testing.assert_allclose(got, m, rtol=1e-6)
    # rows used: 2022 Nindya and 2023 Madya (2021: no inventory; 2025: no self-assessment)
    used = core.official.iloc[core.used_rows]
    assert used["year"].tolist() == [2022, 2023]
    sd = core.noise_sd
    for col, (year, lo, hi) in enumerate([(2022, 700, 800), (2023, 600, 700)]):
        score = core.scores[:, int(np.flatnonzero(core.city_years["year"] == year)[0])]
        mu = score.astype(float) + core.effects[:, core.rounds.index(year)]  # = m, float32
        p = norm.cdf((hi - mu) / sd) - norm.cdf((lo - mu) / sd)
        sane = p > 1e-8  # the plain CDF difference is exact enough there
        assert sane.mean() > 0.5
        np.testing.assert_allclose(core.loglik[sane, col], np.log(p[sane]), rtol=1e-5, atol=1e-6)
        far = core.loglik[~sane, col]  # far in a tail: the log-CDF keeps a finite value
        assert np.isfinite(far).all() and (far < math.log(2e-8)).all()
    np.testing.assert_allclose(post.log_weights, core.loglik.sum(axis=1))
    w = np.exp(post.log_weights - post.log_weights.max())
    np.testing.assert_allclose(post.weights, w / w.sum())
    assert post.ess == pytest.approx(1 / np.square(post.weights).sum())
    assert 0 < post.ess < post.n_draws and post.enough


def test_band_probability_helpers():
    p = P.band_probabilities(np.array([650.0, 1200.0, -50.0]), np.array([50.0, 10.0, 10.0]),
                             np.array([500, 600, 700, 800, 900.0]))
    assert p.shape == (3, 6) and np.allclose(p.sum(axis=1), 1)
    assert p[0, 2] == pytest.approx(norm.cdf(1) - norm.cdf(-1))  # Madya: within one sd
    assert p[1, 5] == pytest.approx(1) and p[2, 0] == pytest.approx(1)
    far = P.log_band_probability(0.0, 1.0, 30.0, 31.0)  # beyond the plain CDF's precision
    assert far == pytest.approx(norm.logsf(30) + math.log1p(-math.exp(norm.logsf(31)
                                                                      - norm.logsf(30))))
    assert P.kish_ess(np.full(10, 0.1)) == pytest.approx(10)
    assert P.kish_ess(np.array([1.0, 0, 0])) == pytest.approx(1)
    q = P.mixture_quantiles(np.array([0.0]), np.array([1.0]), np.array([1.0]), (0.1, 0.9))
    assert q == pytest.approx(norm.ppf([0.1, 0.9]), abs=1e-3)
    assert P.chance_words(0.21) == "about 2 in 10" and P.chance_words(0.01) == "less than 1 in 20"


def test_status_weights_matter():
    t = full_tables()
    base = P.fit(t, S)
    l22, l23 = base.core.loglik[:, 0], base.core.loglik[:, 1]
    t2 = {**t, "official_results": t["official_results"].assign(
        status=["published", "inferred", "unconfirmed", "published"])}
    post = P.fit(t2, S)
    # same draws (same seed), each row's log-likelihood times its status weight
    np.testing.assert_allclose(post.log_weights, 0.5 * l22 + 0.25 * l23)
    assert post.ess > base.ess  # weaker evidence: the weights spread less
    bad = {**t, "official_results": t["official_results"].assign(status="rumour")}
    with pytest.raises(KlaError, match="status 'rumour' has no weight"):
        P.fit(bad, S)


def test_leave_one_out_excludes_the_row():
    post = P.fit(full_tables(), S)
    loo = P.fit(full_tables(), S, exclude=[("  kota   CONTOH ", 2023)])
    np.testing.assert_allclose(loo.log_weights, post.core.loglik[:, 0])  # only 2022 left
    both = P.reweigh(post, [(CITY, 2022), (CITY, 2023)])
    assert both.ess == pytest.approx(post.n_draws)  # nothing left: the prior
    inside, out = P.predict(post, CITY, 2023), P.predict(loo, CITY, 2023)
    assert not inside["out_of_sample"] and out["out_of_sample"]
    assert inside["band_probabilities"]["Madya"] > out["band_probabilities"]["Madya"]
    check = P.fit_check(post, CITY).set_index("year")
    assert check.loc[2023, "p_out_of_sample"] == pytest.approx(out["band_probabilities"]["Madya"])
    assert check.loc[2023, "p_in_sample"] == pytest.approx(inside["band_probabilities"]["Madya"])
    assert check.loc[2021, "note"] == "no evidence inventory"
    assert check.loc[2025, "note"] == "no self-assessment"


def test_refuses_probabilities_below_the_minimum_ess():
    strict = with_posterior(S, min_ess=10 ** 9)
    post = P.fit(full_tables(), strict)
    assert not post.enough and any("probabilities are withheld" in m for m in post.messages)
    s = C.score_year(full_tables(), 2022, settings=strict)
    # 2022 has an official result: its probabilities come from the fit without it
    assert s["ess"] == pytest.approx(P.reweigh(post, [(CITY, 2022)]).ess)
    assert s["enough"] is False
    assert s["band_probabilities"] is None and s["p_target"] is None
    assert s["interval_80"] is None and s["posterior_median"] is None
    # the target (Nindya: one above the latest official, 2025 Madya) is judged by the
    # official result of 2022 (Nindya), not by withheld probabilities
    assert s["target_predicate"] == "Nindya" and s["target_reached"] is True
    assert C.score_year(full_tables(), 2023, settings=strict)["target_reached"] is False
    lines = P.chance_lines(s)
    assert any("chance per predikat: withheld" in line for line in lines)
    assert not any("chance of reaching" in line or "median" in line for line in lines)
    assert P.prior_posterior(post)["posterior_mean"].isna().all()


def test_the_model_says_what_it_cannot_explain():
    """Every claim 0: the model score is 0 in every draw, so an official Utama (above 800)
    is out of reach of any round effect and noise the priors allow."""
    t = full_tables()
    t["self_assessment"] = t["self_assessment"].assign(points_claimed=0.0)
    t["official_results"] = official([(2023, "Utama")])
    post = P.fit(t, S)
    assert post.unexplained == ((CITY, 2023),)
    assert any("the model cannot explain Kota Contoh 2023" in m for m in post.messages)
    # the judgement rests on the prior draws, also when the draws were re-made around the
    # (implausible) settings that would explain it
    assert post.core.method == "adaptive"


def _simulated_case(rng, template, specs, n_draws, seed):
    """One synthetic round: 4 city-years with random inputs; the truth is one more draw
    from the priors (rules, round effect, noise sd) and a noise draw per city-year; the
    first 3 get the official band of their true verified score, the 4th is predicted."""
    frames = []
    for c in range(4):
        f = template.copy()
        n = len(f)
        for s in R.ITEM_STATUSES:
            f[f"n_{s}"] = rng.integers(0, 3, n)
        f["n_required"] = sum(f[f"n_{s}"] for s in R.ITEM_STATUSES)
        f["evidence_rows"] = rng.integers(1, 4, n)
        f["claimed_points"] = rng.uniform(25, 42, n)
        f["statistic_value"] = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 120, n))
        frames.append(f.assign(city=f"c{c}"))
    arrays = P._float32(E._arrays(pd.concat(frames, ignore_index=True)))
    params = draw_rules(specs, n_draws + 1, seed)
    scores = P.score_draws(arrays, S.rules, params, len(template))
    effects = draw_round_effects(specs, n_draws + 1, seed, [2023])
    noise = draw_noise(specs, n_draws + 1, seed)
    true = np.clip(scores[-1] + effects[-1, 0] + noise[-1] * rng.standard_normal(4), 0, 1000)
    bands = np.searchsorted(S.bands["lower"].to_numpy(float), true[:3], side="left")
    cy = pd.DataFrame({"ck": [f"c{c}" for c in range(4)], "city": [f"c{c}" for c in range(4)],
                       "year": 2023, "available": True})
    off = pd.DataFrame({"ck": cy["ck"][:3], "city": cy["city"][:3], "province": None,
                        "year": 2023, "predicate": [BANDS[b] for b in bands], "band": bands,
                        "status": "published", "weight": 1.0})
    core = P.build_core(cy, scores[:-1], effects[:-1], noise[:-1],
                        {k: v[:-1] for k, v in params.items()}, off, S, rounds=[2023])
    return P.weigh(core), true[3]


def test_simulation_80_percent_intervals_cover_80_percent():
    """Synthetic city-years drawn from the model itself (its priors and likelihood): the
    80 % interval of the held-out city-year covers its true verified score in 80 +- 5 % of
    250 cases (fixed seed)."""
    rng = np.random.default_rng(14)
    template = E.indicator_inputs(full_tables(), 2023, settings=S)
    specs = prior_specs(S.rules_document)
    hits, n_cases = 0, 250
    for case in range(n_cases):
        post, truth = _simulated_case(rng, template, specs, 2000, seed=1000 + case)
        lo, hi = P.predict(post, "c3", 2023)["interval_80"]
        hits += lo <= truth <= hi
    print(f"80% interval coverage: {hits / n_cases:.3f} over {n_cases} cases")
    assert abs(hits / n_cases - 0.8) <= 0.05, hits / n_cases


def test_scenarios_for_the_planner():
    post = P.fit(full_tables(), S)
    sc = P.scenarios(post, CITY, 2023, n=300, seed=5)
    assert len(sc) == 300 and sc["weight"].sum() == pytest.approx(1)
    assert set(S.rules) <= set(sc.columns) and {"offset", "draw", "model_score"} <= set(sc)
    assert (sc["evidence_weight.ada"] == 1).all()  # no prior: the headline value
    assert sc["statistic.strictness"].nunique() > 50  # drawn
    assert sc.attrs["enough"] and sc.attrs["ess"] == pytest.approx(post.ess)
    # the scenario's verified score = its model score + offset, model score as drawn
    np.testing.assert_allclose(sc["model_score"], hand_score(post)[sc["draw"]], rtol=1e-6)
    again = P.scenarios(post, CITY, 2023, n=300, seed=5)
    pd.testing.assert_frame_equal(sc, again)
    with pytest.raises(KlaError, match="at least 1"):
        P.scenarios(post, CITY, 2023, n=0)
    with pytest.raises(KlaError, match="no self-assessment for Kota Contoh in 2030"):
        P.scenarios(post, CITY, 2030)


def test_prior_posterior_lists_every_prior():
    post = P.fit(full_tables(), S)
    pp = P.prior_posterior(post).set_index("parameter")
    assert {"evidence_weight.dalam_proses", "statistic.strictness", "noise_sd",
            "round_effect.2022", "points.basis = claimed"} <= set(pp.index)
    assert pp.loc["evidence_weight.dalam_proses", "prior_mean"] == pytest.approx(0.5, abs=0.01)
    assert pp.loc["points.basis = claimed", "prior_mean"] == pytest.approx(0.7, abs=0.02)
    assert pp.loc["round_effect.2021", "note"].startswith("no official result")
    # every 'ada' and no statistic: the record cannot tell the partial-document weights
    assert not pp.loc["evidence_weight.dalam_proses", "settled"]


def test_national_counts_term():
    """By hand: two bands, all regions scored (no sampling variance): the shares' normal
    likelihood; and it enters the fit where enough cities without a result are scored."""
    probs = np.array([[[0.2, 0.8], [0.4, 0.6]]])  # 1 draw, 2 cities, 2 bands
    var = (0.2 * 0.8 + 0.4 * 0.6) / 4  # mean share of band 1: 0.3, published 0.5
    got = P.national_loglik(probs, np.array([1.0, 1.0]), population=2)
    assert got[0] == pytest.approx(norm.logpdf(0.3 - 0.5, scale=math.sqrt(var + 1e-9)))
    # 40 cities scored in 2023, none with an official result: the 2023 counts are used
    sa, ev = [], []
    for c in range(40):
        sa.append(self_assessment(dict.fromkeys(range(1, 25), 40), 2023, f"Kota {c}"))
        ev.append(evidence([(1, "1.1", "ada")], 2023, f"Kota {c}"))
    t = {"self_assessment": pd.concat(sa), "evidence": pd.concat(ev),
         "statistics": statistics([]), "official_results": official([])}
    post = P.fit(t, S)
    assert post.national_rounds == (2023,)
    few = with_posterior(S, national_min_scored=41)
    assert P.fit(t, few).national_rounds == ()


def test_bundled_years_have_probabilities_that_sum_to_one(bundled_data):
    tables, settings = load_processed(bundled_data), load_settings()
    post = P.fit(tables, settings)
    assert post.enough and post.ess >= settings.rules_document["posterior"]["min_ess"]
    years = E.assessment_years(tables)
    for year in years:
        s = C.score_year(tables, year, settings=settings)
        probs = s["band_probabilities"]
        assert list(probs) == BANDS and sum(probs.values()) == pytest.approx(1)
        lo, hi = s["interval_80"]
        assert 0 <= lo <= s["posterior_median"] <= hi <= 1000
        assert s["ess"] >= 400 and s["enough"]
        assert [r["year"] for r in s["fit_check"]] == [2018, 2019, 2022, 2023, 2025]
        assert s["out_of_sample"]  # an official year leaves its result out; others have none
        if s["official_denies_target"]:
            assert s["target_reached"] is False
    s = C.score_year(tables, 2025, settings=settings)
    assert s["official_predicate"] == "Madya" and s["target_predicate"] == "Nindya"
    assert s["official_denies_target"] and s["target_reached"] is False
    scores = score_all(tables, settings=settings)
    p = scores[[P.band_column(b) for b in BANDS]]
    assert np.allclose(p.sum(axis=1), 1) and scores["posterior_enough"].all()


def test_cli_score_prints_the_chance_and_json_carries_it(bundled_data):
    runner = CliRunner()
    res = runner.invoke(app, ["score", "--year", "2023", "--data-dir", str(bundled_data.data_dir),
                              "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert list(s["band_probabilities"]) == BANDS
    assert sum(s["band_probabilities"].values()) == pytest.approx(1, abs=1e-5)
    assert len(s["interval_80"]) == 2 and s["fit_check"][0]["year"] == 2018
    text = runner.invoke(app, ["score", "--year", "2025", "--data-dir",
                               str(bundled_data.data_dir)])
    assert text.exit_code == 0, text.output
    assert "chance of reaching Nindya: about" in text.stdout
    assert "target Nindya NOT reached: the official result for 2025 is Madya" in text.stdout


def test_old_statistic_achievement_key_still_reads(tmp_path):
    doc = yaml.safe_load(package_file("scoring_rules.yaml").read_text(encoding="utf-8"))
    entry = doc["rules"].pop("statistic.strictness")
    doc["rules"]["statistic.achievement"] = {**entry, "value": "threshold"}
    grid = doc["sensitivity"]["grid"]
    grid.pop("statistic.strictness")
    grid["statistic.achievement"] = ["proportional", "threshold"]
    for section in ("priors", "posterior", "backtest"):
        doc.pop(section)
    path = tmp_path / "old_rules.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert R.load_rules(path)["statistic.strictness"] == R.LEGACY_STRICTNESS["threshold"]
    assert R.sensitivity_grid(path)["statistic.strictness"] == [1.0, 1e5]
    old = rules_document(path)
    assert old["packaged_sections"] == ["priors", "posterior", "backtest"]
    assert "statistic.achievement = threshold" in old["rules"]["statistic.strictness"]["legacy"]
    # scores as strictness 1e5 (threshold): the fixture of test_estimate gives 96.125
    from estimate_fixtures import small_tables

    settings = fixture_settings(rules_file=path)
    ind = E.estimate_indicators(small_tables(), 2023, settings=settings)
    assert ind["backed_points"].sum() == pytest.approx(96.125)
    doc["rules"]["statistic.achievement"]["value"] = "sometimes"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(KlaError, match="statistic.achievement"):
        R.load_rules(path)


def test_bad_priors_are_clear_errors(tmp_path):
    doc = yaml.safe_load(package_file("scoring_rules.yaml").read_text(encoding="utf-8"))
    doc["priors"]["evidence_weight.dalam_proses"]["a"] = 8  # mode 0.58: not the headline 0.5
    doc["priors"]["statistic.missing"]["probabilities"] = {"evidence_only": 0.5, "never": 0.5}
    doc["priors"]["statistic.weight"]["distribution"] = "normal"
    del doc["priors"]["noise_sd"]
    doc["posterior"]["draws"] = 10
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(KlaError) as err:
        rules_document(path)
    msg = str(err.value)
    for part in ("evidence_weight.dalam_proses", "headline value 0.5", "unknown choice(s) never",
                 "statistic.weight", "prior 'noise_sd' is missing", "posterior.draws"):
        assert part in msg, part


def test_packaged_priors_are_assumptions_centred_on_the_headline():
    doc = rules_document()
    for key, spec in doc["priors"].items():
        assert spec["assumption"] is True and spec["rationale"] and spec["rationale_id"], key
    assert doc["posterior"]["draws"] >= 20000
    assert doc["posterior"]["status_weights"] == {"published": 1.0, "inferred": 0.5,
                                                  "unconfirmed": 0.25}


def test_zero_target_reference_gives_credit_for_a_reduction():
    """Marriage dispensations (indicator 7): target 0, reference 50 in the catalog. 40
    applications earn 1 - 40/50 = 0.2, 20 earn 0.6; without the reference any count > 0
    earned 0."""
    cat = S.catalog.set_index("indicator")
    assert cat.loc[7, "target"] == 0 and cat.loc[7, "reference"] == 50
    t = full_tables()
    credit = {}
    for value in (40.0, 20.0):
        t["statistics"] = statistics([statistic(7, "marriage_dispensations", value,
                                                unit="count")])
        ind = E.estimate_indicators(t, 2023, settings=S).set_index("indicator")
        credit[value] = (ind.loc[7, "statistic_achievement"], ind.loc[7, "backed_points"])
    assert credit[40.0][0] == pytest.approx(0.2) and credit[20.0][0] == pytest.approx(0.6)
    # backing = 0.5 x completeness 1 + 0.5 x credit; claimed 40
    assert credit[40.0][1] == pytest.approx(40 * 0.6) and credit[20.0][1] == pytest.approx(32)
    no_ref = replace(S, catalog=S.catalog.assign(reference=np.nan))
    ind = E.estimate_indicators(t, 2023, settings=no_ref).set_index("indicator")
    assert ind.loc[7, "statistic_achievement"] == 0
    # strictness 2 squares the credit
    ind = E.estimate_indicators(t, 2023, settings=S.with_rules(
        **{"statistic.strictness": 2.0})).set_index("indicator")
    assert ind.loc[7, "statistic_achievement"] == pytest.approx(0.36)


def _many_cities(n: int, seed: int) -> dict[str, pd.DataFrame]:
    """``n`` cities in 2023 with random claims and evidence; each official band is the
    headline estimate + 20 + Normal(0, 30) noise: a record sharp enough that prior draws
    leave few effective draws."""
    from kla_analysis.catalog import load_evidence_requirements

    rng = np.random.default_rng(seed)
    req = load_evidence_requirements()
    sa, ev = [], []
    for c in range(n):
        city = f"Kota {c:02d}"
        sa.append(self_assessment({i: float(rng.uniform(20, 42)) for i in range(1, 25)},
                                  2023, city))
        ev.append(evidence([(int(r.indicator), r.item, str(rng.choice(
            ["ada", "dalam_proses", "kedaluwarsa", "tidak_ada"], p=[0.5, 0.2, 0.2, 0.1])))
            for r in req.itertuples()], 2023, city))
    t = {"self_assessment": pd.concat(sa, ignore_index=True),
         "evidence": pd.concat(ev, ignore_index=True), "statistics": statistics([]),
         "official_results": official([])}
    est = score_all(t, settings=S, sensitivity=False, posterior=False)
    true = est["estimated_total"].to_numpy() + 20 + rng.normal(0, 30, n)
    band = np.clip(np.searchsorted([500, 600, 700, 800, 900], true, side="left") - 1, 0, 4)
    t["official_results"] = pd.concat([official([(2023, BANDS[b + 1])], city)
                                       for b, city in zip(band, est["city"], strict=True)],
                                      ignore_index=True)
    return t


def test_adaptive_draws_agree_with_plain_importance_sampling():
    """15 cities: 20,000 prior draws leave under 400 effective draws, so the fit adapts its
    draws (mode + t proposal, weights prior / proposal x likelihood). Its answers must be
    those of plain prior draws, given enough of them (80,000 here)."""
    t = _many_cities(15, 3)
    ad = P.fit(t, S)
    assert ad.core.method == "adaptive" and ad.enough
    assert any("re-made around the most probable settings" in m for m in ad.messages)
    plain_settings = with_posterior(S, adapt={**S.rules_document["posterior"]["adapt"],
                                              "enabled": False})
    assert not P.fit(t, plain_settings).enough  # 20,000 prior draws: too few
    plain = P.fit(t, plain_settings, draws=80000)
    assert plain.enough and plain.core.method == "prior"
    for city in ("Kota 00", "Kota 01", "Kota 02"):
        a, b = P.predict(plain, city, 2023), P.predict(ad, city, 2023)
        for band in BANDS:
            assert a["band_probabilities"][band] == pytest.approx(
                b["band_probabilities"][band], abs=0.04), (city, band)
        assert a["interval_80"] == pytest.approx(b["interval_80"], abs=6)
    # the prior summary still comes from prior draws, not from the adapted ones
    pp = P.prior_posterior(ad).set_index("parameter")
    assert pp.loc["round_effect.2023", "prior_mean"] == pytest.approx(0, abs=2)
    assert pp.loc["noise_sd", "prior_mean"] == pytest.approx(40 * math.sqrt(2 / math.pi), rel=0.03)
    # leave-one-out still re-weights the same draws
    loo = P.reweigh(ad, [("Kota 00", 2023)])
    assert loo.ess > 0 and P.predict(loo, "Kota 00", 2023)["out_of_sample"]


@pytest.mark.parametrize("spec", [
    {"distribution": "beta", "a": 2, "b": 5}, {"distribution": "beta", "a": 0.7, "b": 0.9},
    {"distribution": "lognormal", "median": 2, "sigma": 0.5},
    {"distribution": "normal", "mean": 1, "sd": 2},
    {"distribution": "half_normal", "scale": 3}, {"distribution": "uniform", "low": 1, "high": 3}])
def test_prior_quantiles_without_scipy_stats_equal_scipy_stats(spec):
    # the methodology section describes the priors with closed forms and scipy.special;
    # they must give scipy.stats' quantiles
    from kla_analysis.model.priors import frozen, quantiles

    qs = [0.1, 0.5, 0.9]
    assert quantiles(spec, qs) == pytest.approx(list(frozen(spec).ppf(qs)), rel=1e-9)
