"""`kla score` and `kla plan`: output on a fixture folder and on the bundled data, and the
one-line errors (exit 1) for an unknown year, target or city."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pandas as pd
import pytest
from estimate_fixtures import full_tables, self_assessment, write_processed
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import PROJ_ROOT, project_paths
from kla_analysis.ingest.build import build

runner = CliRunner()


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    return write_processed(full_tables(), tmp_path_factory.mktemp("fixture"))


@pytest.fixture(scope="module")
def bundled_dir(tmp_path_factory):
    """The bundled Banjarbaru sample built into a temporary data folder."""
    d = tmp_path_factory.mktemp("bundled")
    shutil.copytree(PROJ_ROOT / "data" / "raw", d / "raw")
    build(project_paths(d, d / "reports"))
    return d


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_score_json_on_fixture(fixture_dir):
    res = run("score", "--year", 2023, "--data-dir", fixture_dir, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert {"year", "claimed_total", "estimated_total", "estimated_predicate",
            "official_predicate", "points_to_next_predicate"} <= set(s)
    assert (s["year"], s["claimed_total"], s["estimated_total"]) == (2023, 960, 640)
    assert (s["estimated_predicate"], s["official_predicate"]) == ("Madya", "Madya")
    assert s["points_to_next_predicate"] == 61 and s["target_predicate"] == "Nindya"
    assert (s["estimated_total_min"], s["estimated_total_max"]) == (340, 640)


def test_score_text_says_it_is_an_estimate(fixture_dir):
    res = run("score", "--year", 2023, "--data-dir", fixture_dir, "--target", "utama")
    assert res.exit_code == 0, res.output
    assert "not an official result" in res.stdout and "640.00  Madya" in res.stdout
    assert "target predikat: Utama, 161.00 points away" in res.stdout
    none = run("score", "--year", 2021, "--data-dir", fixture_dir)
    assert none.exit_code == 0 and "no data dukung inventory" in none.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["score", "--year", 2024], "no self-assessment for Kota Contoh in 2024"),
    (["plan", "--year", 1999], "no self-assessment for Kota Contoh in 1999"),
    (["score", "--year", 2023, "--target", "Emas"], "unknown predicate 'Emas'"),
    (["plan", "--year", 2023, "--target", "Emas"], "unknown predicate 'Emas'"),
    (["score", "--year", 2023, "--city", "Kota Lain"], "no self-assessment for city"),
    (["plan", "--year", 2023, "--xlsx", "todo.csv"], "--xlsx must name an .xlsx file"),
])
def test_errors_are_one_line_and_exit_1(fixture_dir, args, message):
    res = run(*args, "--data-dir", fixture_dir)
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in res.stderr


def test_several_cities_need_city_option(tmp_path):
    t = full_tables()
    t["self_assessment"] = pd.concat([t["self_assessment"],
                                      self_assessment({1: 30}, city="Kota Lain")])
    d = write_processed(t, tmp_path)
    res = run("score", "--year", 2023, "--data-dir", d)
    assert res.exit_code == 1 and "several cities" in res.stderr and "--city" in res.stderr
    ok = run("score", "--year", 2023, "--data-dir", d, "--city", "kota lain", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["claimed_total"] == 30


def test_unbuilt_data_folder_is_a_clear_error(tmp_path):
    res = run("score", "--year", 2023, "--data-dir", tmp_path)
    assert res.exit_code == 1 and "run `kla build` first" in res.stderr


def test_plan_json_and_workbook_on_fixture(fixture_dir, tmp_path):
    xlsx = tmp_path / "todo.xlsx"
    res = run("plan", "--year", 2023, "--data-dir", fixture_dir, "--json", "--xlsx", xlsx)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    s = out["summary"]
    assert (s["target_predicate"], s["total_effort"], s["total_after"], s["margin"]) == (
        "Nindya", 12, 720, 19)
    assert len(out["actions"]) == 4 and sum(a["points_gained"] for a in out["actions"]) == 80
    assert openpyxl.load_workbook(xlsx).sheetnames[-1] == "Keterangan"
    text = run("plan", "--year", 2023, "--data-dir", fixture_dir)
    assert "4 actions, 12 effort units" in text.stdout and "margin 19.00 over 701" in text.stdout


def test_commands_on_bundled_data(bundled_dir, tmp_path):
    res = run("score", "--year", 2023, "--data-dir", bundled_dir, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["city"] == "Kota Banjarbaru" and s["claimed_total"] == 946.45  # published figure
    assert s["official_predicate"] == "Madya" and s["target_predicate"] == "Nindya"
    assert s["estimated_total_min"] <= s["estimated_total"] <= s["estimated_total_max"]
    assert s["estimated_total"] < s["claimed_total"]
    xlsx = tmp_path / "todo.xlsx"
    res = run("plan", "--year", 2023, "--data-dir", bundled_dir, "--json", "--xlsx", xlsx)
    assert res.exit_code == 0, res.output
    p = json.loads(res.stdout)["summary"]
    # 2023 on the bundled data: the estimate is below Nindya's entry score (701) and the
    # packaged actions can lift it above, so the plan is reachable and needs actions
    assert (p["target_predicate"], p["target_entry"], p["reachable"]) == ("Nindya", 701, True)
    assert p["current_total"] < 701 <= p["max_reachable_total"]
    assert p["planned_predicate"] == "Nindya" and p["n_actions"] > 0
    assert p["total_after"] >= 701 and p["predicate_after"] == "Nindya"
    assert p["margin"] == pytest.approx(p["total_after"] - 701) and p["margin"] >= 0
    wb = openpyxl.load_workbook(xlsx)
    assert len(wb.sheetnames) >= 2
    for year in (2019, 2021, 2022, 2025):
        assert run("score", "--year", year, "--data-dir", bundled_dir).exit_code == 0


def test_plan_shows_statistic_actions(tmp_path):
    """Free statistic steps (effort 0, custom --actions) are always taken: the birth-certificate
    coverage 90 -> 100 in 4 steps of 2.5 appears in the text and the workbook."""
    import yaml
    from estimate_fixtures import statistic, statistics

    from kla_analysis.config import package_file

    t = full_tables()
    t["statistics"] = statistics([statistic(4, "birth_certificate_coverage", 90.0)])
    d = write_processed(t, tmp_path / "data")
    doc = yaml.safe_load(package_file("actions.yaml").read_text(encoding="utf-8"))
    doc["statistic_action"]["by_unit"]["percent"]["effort_per_step"] = 0
    actions = tmp_path / "actions.yaml"
    actions.write_text(yaml.safe_dump(doc), encoding="utf-8")
    xlsx = tmp_path / "todo.xlsx"
    res = run("plan", "--year", 2023, "--data-dir", d, "--actions", actions, "--xlsx", xlsx)
    assert res.exit_code == 0, res.output
    # 40 x 0.5 x (1 - 0.9) = 2 points for free
    assert "birth_certificate_coverage 90 -> 100; effort 0, +2.00 points" in res.stdout
    rows = list(openpyxl.load_workbook(xlsx)["Disdukcapil"].iter_rows(values_only=True))
    assert rows[1][7:12] == ("birth_certificate_coverage", 90, 100, 0, 2)


def _blocking_actions(tmp_path, last_indicator: int):
    """The packaged actions with every evidence item of indicators 17..``last_indicator``
    marked unavailable, so the fixture's missing points cannot all be recovered."""
    import yaml

    from kla_analysis.catalog import load_evidence_requirements
    from kla_analysis.config import package_file

    doc = yaml.safe_load(package_file("actions.yaml").read_text(encoding="utf-8"))
    doc["item_overrides"] = [
        {"item": r.item, "available": False, "assumption": True, "rationale": "test"}
        for r in load_evidence_requirements().itertuples() if 17 <= r.indicator <= last_indicator]
    path = tmp_path / f"actions-17-{last_indicator}.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_plan_unreachable_target_aims_at_best_reachable(fixture_dir, tmp_path):
    """Items of 17-22 blocked: only 23 and 24 (2 x 40) can be recovered, so at most 720 --
    KLA (901) is not reachable and the plan aims at Nindya (701) instead."""
    actions = _blocking_actions(tmp_path, 22)
    args = ("plan", "--year", 2023, "--data-dir", fixture_dir, "--target", "KLA",
            "--actions", actions)
    res = run(*args, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)["summary"]
    assert (s["target_predicate"], s["reachable"], s["max_reachable_total"]) == ("KLA", False, 720)
    assert (s["best_reachable_predicate"], s["planned_predicate"]) == ("Nindya", "Nindya")
    assert (s["total_effort"], s["total_after"], s["margin"]) == (12, 720, 19)
    text = run(*args)
    assert text.exit_code == 0, text.output
    assert ("Target KLA is NOT reachable with the available actions: at most 720.00 points. "
            "Best reachable predikat: Nindya.") in text.stdout
    assert "Plan below aims at Nindya instead." in text.stdout
    assert "4 actions, 12 effort units -> 720.00 (Nindya), margin 19.00 over 701" in text.stdout


def test_plan_unreachable_with_nothing_better_lists_no_actions(fixture_dir, tmp_path):
    """Every item of 17-24 blocked: the estimate (640, Madya) cannot rise at all, so the
    output stops after saying the target is not reachable."""
    actions = _blocking_actions(tmp_path, 24)
    args = ("plan", "--year", 2023, "--data-dir", fixture_dir, "--actions", actions)
    res = run(*args, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    s = out["summary"]
    assert (s["target_predicate"], s["reachable"], s["max_reachable_total"]) == (
        "Nindya", False, 640)
    assert s["best_reachable_predicate"] == "Madya" and s["planned_predicate"] is None
    assert s["n_actions"] == 0 and out["actions"] == []
    text = run(*args)
    assert text.exit_code == 0, text.output
    lines = text.stdout.strip().splitlines()
    unreachable = ("Target Nindya is NOT reachable with the available actions: at most "
                   "640.00 points. Best reachable predikat: Madya.")
    # the headline plan's part ends there; the chance part (over the posterior's
    # scenarios) follows it and lists no action either
    assert unreachable in lines
    assert "Plan below" not in text.stdout and "  [" not in text.stdout
