"""`kla plan --chance`: the chance-constrained plan in plain words and in JSON, and today's
plan (with a note) when the posterior model is not available."""

from __future__ import annotations

import json

import pytest
from estimate_fixtures import full_tables, write_processed
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.model import chance_plan as C

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    return write_processed(full_tables(), tmp_path_factory.mktemp("fixture"))


def test_plan_chance_on_bundled_data(bundled_data):
    pytest.importorskip("kla_analysis.model.posterior")
    args = ("plan", "--year", 2023, "--target", "Nindya", "--chance", 0.9, "--data-dir",
            bundled_data.data_dir)
    res = run(*args, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    cp = out["chance_plan"]
    assert cp["chance"] >= 0.9 and cp["chance_target"] == 0.9
    assert [p["level"] for p in cp["frontier"]] == list(C.FRONTIER_LEVELS)
    assert all("chance" in p for p in cp["frontier"])
    assert all("chance_gain" in a for a in cp["actions"])
    assert 0 <= out["summary"]["chance"] <= 1  # the headline plan's chance
    text = run(*args)
    assert text.exit_code == 0, text.output
    assert "This plan reaches Nindya in about 9 of 10 scenarios" in text.stdout
    assert "Effort vs chance:" in text.stdout and "(today's cheapest plan" in text.stdout
    assert "stability check" in text.stdout


def test_plan_without_posterior_keeps_todays_plan(fixture_dir, monkeypatch):
    monkeypatch.setattr(C, "posterior_available", lambda: False)
    res = run("plan", "--year", 2023, "--data-dir", fixture_dir, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert "chance_plan" not in out and out["summary"]["total_effort"] == 12
    assert "posterior model is not available" in res.stderr


def test_plan_chance_without_posterior_is_a_clear_error(fixture_dir, monkeypatch):
    def missing(*args, **kwargs):
        raise C.KlaError("chance-constrained plans need the posterior model")

    monkeypatch.setattr(C, "posterior_scenarios", missing)
    res = run("plan", "--year", 2023, "--data-dir", fixture_dir, "--chance", 0.8)
    assert res.exit_code == 1 and "need the posterior model" in res.stderr


def test_plan_chance_out_of_range_is_refused(fixture_dir):
    res = run("plan", "--year", 2023, "--data-dir", fixture_dir, "--chance", 1.5)
    assert res.exit_code == 2 and "--chance" in res.output
