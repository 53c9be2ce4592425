"""The backtest (kla_analysis.model.backtest): scores and baselines by hand on small tables,
leave-one-year-out predictions of the model, the verdict, and `kla calibrate`."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from estimate_fixtures import CITY, fixture_settings, full_tables, official
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.model import backtest as B
from kla_analysis.model import posterior as P

S = fixture_settings()
BANDS = ["Belum berpredikat", "Pratama", "Madya", "Nindya", "Utama", "KLA"]


def test_scores_by_hand():
    sure = np.array([0, 0, 1.0, 0, 0, 0])
    assert B.rps(sure, 2) == 0 and B.log_score(sure, 2) == 0
    assert B.log_score(sure, 3) == math.inf
    uniform = np.full(6, 1 / 6)
    # cumulative 1/6 .. 5/6 against an outcome in the lowest band: (25+16+9+4+1)/36 / 5
    assert B.rps(uniform, 0) == pytest.approx(55 / 36 / 5)
    assert B.rps(uniform, 5) == pytest.approx(55 / 36 / 5)  # symmetric
    assert B.log_score(uniform, 4) == pytest.approx(math.log(6))
    assert B.rps(np.array([0, 1.0, 0, 0, 0, 0]), 3) == pytest.approx(2 / 5)  # two bands off


def test_baselines_by_hand():
    p = B.persistence(2, 6, 0.1)
    assert p[2] == pytest.approx(0.9) and p[0] == pytest.approx(0.02) and p.sum() == pytest.approx(1)
    assert B.persistence(None, 6, 0.1) is None
    off = pd.DataFrame({"ck": ["a", "a", "a", "b", "b"], "year": [2017, 2018, 2019, 2018, 2019],
                        "band": [1, 2, 2, 2, 3]})
    trans, shares = B.transitions(off, 6, 1.0)
    # from Madya: Madya once, Nindya once, plus one each: (1, 1, 2, 2, 1, 1) / 8
    assert trans[2] == pytest.approx(np.array([1, 1, 2, 2, 1, 1]) / 8)
    assert trans[1] == pytest.approx(np.array([1, 1, 2, 1, 1, 1]) / 7)  # Pratama -> Madya
    assert trans[5] == pytest.approx(np.full(6, 1 / 6))  # never seen: add-one only
    assert shares == pytest.approx(np.array([1, 2, 4, 2, 1, 1]) / 11)
    nat = S.national
    rates, used = B.national_rates(nat, 2023, BANDS, 1.0)
    assert used == 2023 and rates[2] == pytest.approx(131 / 520) and rates[5] == pytest.approx(1 / 520)
    assert rates[0] == pytest.approx((514 - 360 + 1) / 520)
    assert B.national_rates(nat, 2024, BANDS, 1.0)[1] == 2023  # tie: the earlier year
    assert B.national_rates(nat, 2020, BANDS, 1.0)[1] == 2019
    assert B.national_rates(nat, 2030, BANDS, 1.0)[1] == 2025


def test_backtest_rows_on_the_fixture():
    """full_tables: official 2021 Pratama (no inventory), 2022 Nindya, 2023 Madya, 2025
    Madya (no self-assessment): the model can be backtested on 2022 and 2023 only."""
    t = full_tables()
    bt = B.backtest(t, S).set_index("year")
    assert list(bt.index) == [2022, 2023]
    assert bt.loc[2022, "previous_predicate"] == "Pratama"
    assert bt.loc[2023, "previous_predicate"] == "Nindya"
    assert bt.loc[2022, "p_official_persistence"] == pytest.approx(0.1 / 5)
    assert bt.loc[2023, "p_official_persistence"] == pytest.approx(0.1 / 5)
    assert bt.loc[2022, "p_official_peers"] == pytest.approx(1 / 6)  # no peers: add-one only
    assert bt.loc[2022, "p_official_national"] == pytest.approx(67 / 520)
    # the model's forecast of a year leaves that year's official row out of the fit
    post = P.fit(t, S)
    loo = P.reweigh(post, [(CITY, 2023)])
    want = P.predict(loo, CITY, 2023)["band_probabilities"]["Madya"]
    assert bt.loc[2023, "p_official_model"] == pytest.approx(want)
    assert bt.loc[2023, "log_model"] == pytest.approx(-math.log(want))
    assert bt.loc[2023, "model_ess"] == pytest.approx(loo.ess)


def test_peers_are_the_other_cities_of_the_province():
    t = full_tables()
    peers = pd.concat([official([(2019, "Nindya"), (2021, "Nindya")], "Kota Tetangga"),
                       official([(2019, "Nindya"), (2021, "Madya")], "Kota Jauh")
                       .assign(province="Jawa Barat")])
    t["official_results"] = pd.concat([t["official_results"], peers], ignore_index=True)
    bt = B.backtest(t, S).set_index("year")
    # 2023 (Madya) follows Nindya (2022). In the province only the neighbour's Nindya ->
    # Nindya: row Nindya = (1, 1, 1, 2, 1, 1) / 7; Kota Jauh's Nindya -> Madya (another
    # province) would make P(Madya) 2/8
    assert bt.loc[2023, "p_official_peers"] == pytest.approx(1 / 7)


def test_summary_and_the_word_calibrated():
    rows = {"model_enough": [True, True, False], "weight": [1.0, 0.5, 1.0]}
    for m in B.METHODS:
        rows[f"rps_{m}"] = [0.2, 0.4, 9.0]
        rows[f"log_{m}"] = [1.0, 2.0, 9.0]
    bt = pd.DataFrame(rows)
    bt["rps_model"], bt["log_model"] = [0.1, 0.1, np.nan], [0.5, 0.5, np.nan]
    s = B.backtest_summary(bt)
    assert s["n_years"] == 2 and s["n_years_withheld"] == 1
    assert s["rps"]["persistence"] == pytest.approx((0.2 + 0.5 * 0.4) / 1.5)  # weighted
    assert s["model_beats_best"] and s["calibrated"] and "calibrated" in s["verdict"]
    bt["rps_model"] = [0.5, 0.5, np.nan]  # worse than the baselines on RPS
    s = B.backtest_summary(bt)
    assert not s["calibrated"] and "calibrated" not in s["verdict"]
    assert "at least as good" in s["verdict"]


def test_bundled_backtest_and_cli(bundled_data):
    from kla_analysis.model.settings import load_settings
    from kla_analysis.tables import load_processed

    tables, settings = load_processed(bundled_data), load_settings()
    bt = B.backtest(tables, settings, "Kota Banjarbaru")
    assert list(bt["year"]) == [2019, 2022, 2023, 2025] and bt["model_enough"].all()
    for m in B.METHODS:
        assert bt[f"rps_{m}"].between(0, 1).all() and np.isfinite(bt[f"log_{m}"]).all()
    summary = B.backtest_summary(bt)
    runner = CliRunner()
    res = runner.invoke(app, ["calibrate", "--data-dir", str(bundled_data.data_dir)])
    assert res.exit_code == 0, res.output
    assert "leave-one-year-out" in res.stdout and summary["verdict"] in res.stdout
    assert ("calibrated" in res.stdout) == summary["calibrated"]
    js = runner.invoke(app, ["calibrate", "--json", "--data-dir", str(bundled_data.data_dir)])
    out = json.loads(js.stdout)
    assert len(out["backtest"]) == 4 and out["summary"]["best_baseline"] in B.BASELINES
    bad = runner.invoke(app, ["calibrate", "--city", "Kota Lain", "--data-dir",
                              str(bundled_data.data_dir)])
    assert bad.exit_code == 1 and "no self-assessment for city 'Kota Lain'" in bad.output
