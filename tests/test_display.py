"""display (JupyterLab tables) and explore (analyst views): labels, formats, colours, escaping,
and the numbers of each view, checked against hand-made inputs or the library's own tables."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from report_fixtures import PLANTED, YEARS, report_data  # noqa: F401 - fixture

from kla_analysis.catalog import load_bands, load_catalog
from kla_analysis.model import rules
from kla_analysis.report import display, explore, i18n, sections

LANGS = ("id", "en")


def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)


def _headers(html: str) -> list[str]:
    return re.findall(r'<th [^>]*class="col_heading[^"]*"[^>]*>(.*?)</th>', html, flags=re.S)


@pytest.fixture(scope="module")
def rep(report_data):  # noqa: F811
    return explore.open_report(None, data_dir=str(report_data.data_dir))


# --- display --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_every_configured_column_has_a_label_and_a_known_kind(lang):
    cols = display.display_config()["columns"]
    for col, spec in cols.items():
        label = display.column_label(col, lang)
        assert label and label != col, f"{col}: no {lang} label"
        assert spec.get("kind", "text") in display.KINDS, col
        assert spec.get("bar") in (None, *display.BAR_COLOURS), col


def test_labels_follow_the_report_wording_and_language():
    assert display.column_label("lost", "id") == i18n.t("label.lost", "id")
    assert display.column_label("lost", "en") == i18n.t("label.lost", "en")
    assert display.column_label("not_a_column", "id") == "not_a_column"
    renamed = pd.DataFrame({"claimed": [1.0], "other": [2]}).pipe(display.label_columns, "id")
    assert list(renamed.columns) == [i18n.t("label.claimed", "id"), "other"]


def test_status_colours_are_the_report_stylesheet_colours():
    css = display.REPORT_CSS.read_text(encoding="utf-8")
    seen = set()
    for code in display.display_config()["status_colours"]:
        style = display.status_css(code)
        bg, ink = re.findall(r"#[0-9a-fA-F]{3,8}", style)
        assert bg.lower() in css.lower() and ink.lower() in css.lower(), code
        seen.add(bg)
    assert display.status_css("met") != display.status_css("not_met")
    assert len(seen) == 4  # met, partial, not met, no data
    assert display.status_css(None) == "" and display.status_css("unheard_of") == ""


def test_predicate_colours_follow_the_band_order_of_the_charts():
    from kla_analysis.report.plots import BAND_FILLS

    names = list(load_bands()["predicate"])
    assert [display.predicate_colours()[n] for n in names] == BAND_FILLS[:len(names)]
    assert display.predicate_css(None) == ""


def test_formatters_write_numbers_the_report_language_way():
    assert display.formatter("estimate", "id")(1234.56) == "1.234,6"
    assert display.formatter("estimate", "en")(1234.56) == "1,234.6"
    assert display.formatter("share", "id")(0.625) == "62,5%"
    assert display.formatter("points", "id")(41.5) == "41,5"
    assert display.formatter("int", "id")(3) == "3"
    assert display.formatter("status", "id")("met") == rules.status_labels("id")["met"]
    assert display.formatter("status", "en")("tidak_ada") == i18n.t("evidence_status.tidak_ada", "en")
    assert display.formatter("yesno", "id")(True) == i18n.t("label.yes", "id")
    for kind in set(display.KINDS) - {"score_predicate"}:
        assert display.formatter(kind, "id")(math.nan) == "–", kind  # no data, never 0
    # a score below the lowest band has no predikat, which the report words the same way
    assert display.formatter("score_predicate", "id")(None) == i18n.t("label.below_lowest", "id")
    with pytest.raises(ValueError):
        display.formatter("colour", "id")


def test_style_table_labels_formats_and_colours_the_indicator_table(rep):
    ind = sections.indicator_table(rep)
    html = display.style_table(ind, "id").to_html()
    assert _headers(html)[:3] == [display.column_label(c, "id") for c in ind.columns[:3]]
    labels = rules.status_labels("id")
    cells = _cells(html)
    for code in ind["status"].unique():
        assert labels[code] in cells
        assert display.status_css(code).split(";")[0] in html
    lost = ind["lost"].dropna().iloc[0]
    assert display.formatter("estimate", "id")(lost) in cells
    assert "linear-gradient" in html  # the points-lost bar
    assert ind["status"].iloc[0] == sections.indicator_table(rep)["status"].iloc[0]  # data untouched


def test_style_table_escapes_text_from_data(rep):
    gaps = sections.evidence_gaps(rep)
    planted = gaps[gaps["opd"].str.contains("<script>", regex=False)]
    assert len(planted), "the fixture plants a <script> in an OPD name"
    html = display.style_table(planted, "id", caption=planted["opd"].iloc[0]).to_html()
    assert PLANTED not in html and "&lt;script&gt;" in html


def test_style_record_shows_each_headline_figure_with_its_label(rep):
    rec = explore.headline_view(rep)
    html = display.style_record(rec, "en").to_html()
    cells = _cells(html)
    for key, value in rec.items():
        label = display.column_label(key, "en")
        assert label in cells, key
        shown = display.formatter(display.column_kind(key), "en")(value)
        assert cells[cells.index(label) + 1] == shown, key
    if rec["official_predicate"]:
        assert display.predicate_css(rec["official_predicate"]).split(";")[0] in html


def test_style_matrix_colours_the_bottom_and_top_quarter():
    values = pd.DataFrame({"kecamatan": ["A"] * 4, "kelurahan": ["k1", "k2", "k3", "<b>k4</b>"],
                           "Stat": [1.0, 2.0, 3.0, 4.0]})
    standing = values.assign(Stat=[0.0, 1 / 3, 2 / 3, 1.0])
    html = display.style_matrix(values, standing, "id").to_html()
    low = display.status_css("not_met").split(";")[0]
    high = display.status_css("met").split(";")[0]
    assert html.count(low) == 1 and html.count(high) == 1
    assert "&lt;b&gt;k4" in html
    with pytest.raises(ValueError):
        display.style_matrix(values, standing.drop(columns="Stat"), "id")


# --- explore --------------------------------------------------------------------------------

def test_open_report_takes_the_latest_evaluation_year(rep):
    assert rep.year == max(YEARS)


def test_status_by_cluster_counts_every_indicator_once(rep):
    out = explore.status_by_cluster(rep)
    per_cluster = load_catalog().groupby("cluster").size()
    assert dict(zip(out["cluster"], out["total"], strict=True)) == per_cluster.to_dict()
    for status in rules.INDICATOR_STATUSES:
        assert out[status].sum() == (rep.indicators["status"] == status).sum()
    assert out["total"].sum() == len(rep.indicators)


def test_biggest_losses_are_sorted_and_come_from_the_indicator_table(rep):
    out = explore.biggest_losses(rep, n=5)
    ind = sections.indicator_table(rep)
    assert len(out) == 5
    assert list(out["lost"]) == sorted(ind["lost"].dropna(), reverse=True)[:5]


def test_gaps_by_opd_counts_statuses_and_sums_gains():
    gaps = pd.DataFrame({
        "opd": ["Dinkes", "Dinkes", "Disdik", "Dinkes"],
        "indicator": [12, 13, 18, 12], "item": ["12.1", "13.2", "18.1", "12.2"],
        "status": ["tidak_ada", "kedaluwarsa", "dalam_proses", "missing"],
        "gain": [10.0, 2.5, 20.0, math.nan]})
    out = explore.gaps_by_opd(gaps).set_index("opd")
    assert list(out.index) == ["Disdik", "Dinkes"]  # most points first
    assert out.loc["Dinkes", "items"] == 3
    assert out.loc["Dinkes", ["tidak_ada", "dalam_proses", "kedaluwarsa", "missing"]].tolist() \
        == [1, 0, 1, 1]
    assert out.loc["Dinkes", "indicators"] == "12, 13"
    assert out.loc["Dinkes", "gain"] == 12.5
    assert explore.gaps_by_opd(gaps.iloc[0:0]).empty


def _view(measure, values, target, direction):
    n = len(values)
    return {"measure": measure, "indicator": 1, "label": measure.title(), "unit": "percent",
            "target": target, "direction": direction, "data_year": 2022,
            "values": pd.DataFrame({"kecamatan": ["K"] * n,
                                    "area": [f"kel{i}" for i in range(n)],
                                    "value": values, "numerator": None, "denominator": None})}


def test_kelurahan_standing_is_direction_aware_and_short_of_target():
    views = [_view("coverage", [10.0, 30.0, 20.0], 25.0, "higher"),
             _view("stunting", [10.0, 30.0, 20.0], 14.0, "lower"),
             _view("members", [10.0, 30.0, 20.0], None, None)]
    long = explore.kelurahan_long(views)
    by = {m: g.reset_index(drop=True) for m, g in long.groupby("measure")}
    assert by["coverage"]["standing"].tolist() == [0.0, 1.0, 0.5]
    assert by["coverage"]["short_of_target"].tolist() == [True, False, True]
    assert by["stunting"]["standing"].tolist() == [1.0, 0.0, 0.5]
    assert by["stunting"]["short_of_target"].tolist() == [False, True, True]
    assert by["members"]["standing"].isna().all()
    assert by["members"]["short_of_target"].isna().all()

    ranking = explore.kelurahan_ranking(long).set_index("kelurahan")
    assert ranking["measures"].tolist() == [2, 2, 2]  # members has no direction
    assert ranking.loc["kel0", "lagging"] == 1 and ranking.loc["kel1", "lagging"] == 1
    assert ranking.loc["kel2", "lagging"] == 0
    assert ranking.loc["kel2", "n_short"] == 2
    assert ranking.loc["kel2", "mean_standing"] == 0.5

    matrix = explore.kelurahan_matrix(long)
    assert list(matrix.columns) == ["kecamatan", "kelurahan", "Coverage", "Stunting", "Members"]
    assert matrix.set_index("kelurahan").loc["kel1", "Stunting"] == 30.0
    standing = explore.kelurahan_matrix(long, "standing")
    assert standing.shape == matrix.shape
    assert explore.pick_view(views)["measure"] == "coverage"
    assert explore.pick_view(views, "members")["measure"] == "members"


def test_kelurahan_views_of_the_fixture_report(rep):
    long = explore.kelurahan_long(sections.kelurahan_views(rep))
    assert not long.empty
    assert long["standing"].dropna().between(0, 1).all()
    assert long["kelurahan"].str.contains(PLANTED, regex=False).any()  # kept as data


def test_target_options_cover_every_predicate_above_the_estimate(rep):
    out = explore.target_options(rep)
    bands = load_bands().set_index("predicate")
    est = rep.score["estimated_total"]
    assert list(out["target_predicate"]) == [p for p in bands.index if bands.loc[p, "entry"] > est]
    for r in out.itertuples():
        assert r.points_needed == pytest.approx(bands.loc[r.target_predicate, "entry"] - est)
        if r.reachable:
            assert r.total_after >= r.target_entry - 1e-9
    efforts = out["total_effort"].dropna().tolist()
    assert efforts == sorted(efforts)  # a higher predikat never costs less


def test_plan_for_the_open_target_and_its_opd_summary(rep):
    target = explore.open_target(rep)
    entry = load_bands().set_index("predicate")["entry"]
    assert entry[target] > rep.score["estimated_total"]
    result = explore.plan_for(rep)
    assert result["summary"]["target_predicate"] == target
    assert set(explore.plan_summary(result)) == set(explore.PLAN_KEYS)
    actions = explore.plan_actions(result, "en")
    assert set(actions["action"]) <= set(result["actions"]["label_en"])
    by_opd = explore.plan_by_opd(actions)
    assert by_opd["effort"].sum() == result["summary"]["total_effort"]
    assert by_opd["points_gained"].sum() == pytest.approx(actions["points_gained"].sum())
