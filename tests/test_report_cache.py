"""The report scores each year once: its calibration table, built from the per-year scores
of the headline and trend, equals calibration.calibrate (which scores every year again)."""

from __future__ import annotations

import pandas as pd
import pytest
from estimate_fixtures import evidence, full_tables, official, write_processed
from report_fixtures import build_data

from kla_analysis.catalog import load_evidence_requirements
from kla_analysis.model import calibration
from kla_analysis.report import sections


def _check(rep: sections.Report, tables=None) -> pd.DataFrame:
    cal, summary = sections.calibration_table(rep)
    want = calibration.calibrate(tables or rep.tables, rep.city, settings=rep.settings)
    pd.testing.assert_frame_equal(cal, want)
    assert summary == calibration.calibration_summary(want)
    return cal


@pytest.mark.parametrize("year", [2022, 2023])
def test_hand_made_tables(tmp_path, year):
    # 2021: claims without inventory; 2025: an official result without a self-assessment
    write_processed(full_tables(), tmp_path)
    rep = sections.load_report(year, data_dir=str(tmp_path))
    sections.trend_table(rep)  # the order of the sections must not matter
    cal = _check(rep)
    assert set(cal["note"]) == {"", "no evidence inventory", "no self-assessment"}


def test_official_predicate_at_the_edge_of_the_range(tmp_path):
    # every item present: estimate 960; the grid's lowest total (570) is Pratama, the
    # official predicate, so the range just overlaps the band
    tables = full_tables()
    req = load_evidence_requirements()
    tables["evidence"] = evidence([(int(r.indicator), r.item, "ada") for r in req.itertuples()])
    tables["official_results"] = official([(2023, "Pratama")])
    write_processed(tables, tmp_path)
    cal = _check(sections.load_report(2023, data_dir=str(tmp_path)))
    row = cal.set_index("year").loc[2023]
    assert 500 <= row["estimated_total_min"] <= 600 and bool(row["range_overlaps_band"])


def test_report_fixture_city(tmp_path):
    paths = build_data(tmp_path / "data")
    _check(sections.load_report(2023, data_dir=str(paths.data_dir)))


def test_a_year_that_cannot_be_scored_is_left_out(tmp_path):
    tables = full_tables()
    ev = tables["evidence"]
    tables["evidence"] = ev.assign(status=ev["status"].where(ev["year"] != 2022, "hilang"))
    write_processed(tables, tmp_path)
    rep = sections.load_report(2023, data_dir=str(tmp_path))
    without = {k: v for k, v in rep.tables.items()}
    for name in ("self_assessment", "evidence"):
        without[name] = without[name][without[name]["year"] != 2022]
    cal = _check(rep, without)
    assert 2022 in rep.problems
    assert cal.set_index("year").loc[2022, "note"] == "no self-assessment"
