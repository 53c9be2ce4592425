"""The report's first section answers the task force's questions in order (issue 15).

On the bundled data, every year with a self-assessment and both languages: the official
predikat first (or "not yet announced"), the band probabilities of ``kla score --json``,
never a target "reached" the official result denies, the three indicators losing the most
points with why, and the most valuable action. Expected values are computed here from the
library's public tables (``rep.indicators``, ``plan_result``), not typed in; a small
hand-made case pins the "why" reasons and the most valuable action exactly.
"""

from __future__ import annotations

import json
import pickle
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.model import calibration, estimate
from kla_analysis.model.rules import load_rules
from kla_analysis.report import html, sections, summary, summary_html
from kla_analysis.report.formatting import fmt_estimate, fmt_percent, predicate_label
from kla_analysis.report.i18n import t

YEARS = (2019, 2021, 2022, 2023, 2025)
LANGS = ("id", "en")


class Text(HTMLParser):
    """The visible text of a fragment, whitespace collapsed."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.feed(fragment)

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def text_of(fragment: str) -> str:
    return Text(fragment).text


@pytest.fixture(scope="module")
def reports(bundled_data) -> dict:
    """(year, lang) -> (Report, the first section's HTML)."""
    out = {}
    for year in YEARS:
        for lang in LANGS:
            rep = sections.load_report(year, data_dir=str(bundled_data.data_dir), lang=lang)
            out[(year, lang)] = (rep, str(html.headline_html(rep)))
    return out


@pytest.fixture(scope="module")
def cli_scores(bundled_data) -> dict:
    """``kla score --json --year Y`` of every year, as the CLI prints it."""
    runner = CliRunner()
    out = {}
    for year in YEARS:
        res = runner.invoke(app, ["score", "--json", "--year", str(year), "--data-dir",
                                  str(bundled_data.data_dir)])
        assert res.exit_code == 0, res.output
        out[year] = json.loads(res.stdout)
    return out


def _answers(fragment: str) -> str:
    """The answers (the section without its folded detailed figures)."""
    return fragment.split('<details class="sum-details">')[0]


def test_the_years_tested_are_the_bundled_assessment_years(reports):
    rep = reports[(YEARS[0], "id")][0]
    assert tuple(estimate.assessment_years(rep.tables, rep.city)) == YEARS


# --- 1. the official predikat ---------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("year", YEARS)
def test_the_first_card_names_the_official_predikat(reports, year, lang):
    rep, out = reports[(year, lang)]
    off = calibration.official_predicates(rep.tables, rep.city, bands=rep.bands)
    off = off[off["year"] == year]
    body = out.split("</h2>", 1)[1]
    first = body[body.index('class="card'):body.index("</div></div>")]
    assert "sum-official" in first
    if off.empty:
        assert t("summary.official_none", lang) in text_of(first)
        assert "tag-official" not in first
        return
    predicate, status = str(off["predicate"].iloc[0]), str(off["status"].iloc[0])
    assert f">{predicate}<" in first
    assert ("tag-official" in first) == (status == "published")
    assert ("tag-unconfirmed" in first) == (status != "published")


# --- 2. the chance of each band ---------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("year", YEARS)
def test_band_chances_are_those_of_kla_score_json(reports, cli_scores, year, lang):
    rep, out = reports[(year, lang)]
    cli = cli_scores[year]["band_probabilities"]
    chances = summary.summary(rep)["chances"]
    if cli is None:
        assert chances is None
        return
    got = dict(chances["bands"])
    assert list(got) == list(cli)  # every band, lowest first
    assert got == pytest.approx(cli, abs=1e-6)
    sentence = text_of(out[out.index('<p class="sum-chances">'):])
    sentence = sentence[:sentence.index(".", sentence.index(":")) + 1]
    below = t("label.below_lowest", "id")
    for band, p in cli.items():
        name = predicate_label(None if band == below else band, lang)
        figure = t("summary.pct_under_one", lang) if p < 0.005 else \
            fmt_percent(100 * p, lang, 0)
        assert f"{name} {figure}" in sentence, (band, sentence)
    p_target = cli_scores[year]["p_target"]
    assert html.chance_words(p_target, lang) in sentence
    assert f"({fmt_percent(100 * p_target, lang, 0)})" in sentence
    # the bar: decoration with the same shares, in band order
    bar = out[out.index('<div class="bandbar sum-bandbar"'):]
    bar = bar[:bar.index("</div>")]
    assert 'aria-hidden="true"' in bar
    widths = [float(w) for w in re.findall(r'<span style="width:([\d.]+)%', bar)]
    assert widths == pytest.approx([100 * p for p in cli.values() if p >= 0.005], abs=0.06)


def test_bar_text_has_contrast_and_segments_differ_without_colour(reports):
    fills = summary_html.band_fills()
    for fill in fills.values():
        assert summary_html.contrast(fill, summary_html.BAR_INK) >= 4.5, fill
    # neighbouring segments never share a pattern (told apart in greyscale too)
    pats = summary_html.BAR_PATTERNS
    assert len(set(pats)) == len(pats) >= len(fills)
    css = Path(summary_html.__file__).parents[1] / "templates/kla_report/static/summary.css"
    text = css.read_text(encoding="utf-8")
    for p in pats[1:]:  # the lowest band is plain white, every other one has a pattern
        assert re.search(rf"\.{p} \{{[^}}]*background-image", text), p
    rep, out = reports[(2025, "id")]
    classes = re.findall(r'<span style="width:[\d.]+%;background-color:(#[0-9a-f]{6})" '
                         r'class="([^"]+)"', out)
    assert classes and all(c.split()[0] in pats for _, c in classes)
    firsts = [c.split()[0] for _, c in classes]
    assert all(a != b for a, b in zip(firsts, firsts[1:], strict=False))


# --- never "reached" against the official result ------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("year", YEARS)
def test_never_says_target_reached_when_the_official_band_is_below(reports, year, lang):
    rep, out = reports[(year, lang)]
    ranks = dict(zip(rep.bands["predicate"], rep.bands["rank"], strict=True))
    official = rep.score["official_predicate"]
    below = official is not None and ranks[official] < ranks[rep.target]
    assert rep.score["official_denies_target"] == below
    text = text_of(out)
    reached = t("summary.official_target_met", lang, target=rep.target)
    if official is None or below:  # no official result, or one below the target
        assert t("headline.target_reached", lang) not in text
        assert {"id": "target tercapai", "en": "target reached"}[lang] not in text
        assert reached not in text
    if below:
        assert t("summary.official_target_denied", lang, target=rep.target,
                 official=official) in text


def test_some_bundled_year_has_an_official_band_below_the_target(reports):
    # the test above must meet the case it guards against
    assert any(reports[(y, "id")][0].score["official_denies_target"] for y in YEARS)


# --- 3. the official result against the model ------------------------------------------------

@pytest.mark.parametrize("year", YEARS)
def test_a_past_year_compares_the_official_result_with_the_model(reports, year):
    rep, out = reports[(year, "id")]
    probs = rep.score["band_probabilities"]
    official = rep.score["official_predicate"]
    heading = t("summary.compare_heading", "id")
    if official is None or not probs:
        assert heading not in out
        return
    assert rep.score["out_of_sample"]
    part = text_of(out[out.index(heading):out.index(t("summary.losers_heading", "id",
                                                        n=3))])
    likely = max(probs, key=probs.get)
    below = t("label.below_lowest", "id")
    assert f"{official} peluang {fmt_percent(100 * probs[official], 'id', 0)}" in part
    assert f"{predicate_label(None if likely == below else likely, 'id')} " \
           f"({fmt_percent(100 * probs[likely], 'id', 0)})" in part
    order = list(probs)
    rel = "same" if likely == official else \
        "higher" if order.index(official) > order.index(likely) else "lower"
    assert t(f"summary.relation.{rel}", "id") in part
    assert fmt_estimate(rep.score["points_lost"], "id") in part  # claimed points not backed


# --- 4. the indicators losing the most points, with why -------------------------------------

def _expected_losers(rep) -> pd.DataFrame:
    ind = rep.indicators
    ind = ind[ind["points_lost"] > 0.005]
    return ind.sort_values(["points_lost", "indicator"], ascending=[False, True]).head(3)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("year", YEARS)
def test_names_the_three_indicators_losing_most_with_why(reports, year, lang):
    rep, out = reports[(year, lang)]
    expected = _expected_losers(rep)
    assert len(expected) == 3
    ol = out[out.index('<ol class="sum-losers">'):]
    items = [text_of(li) for li in re.findall(r"<li>(.*?)</li>", ol[:ol.index("</ol>")])]
    assert len(items) == 3
    measures = rep.catalog.dropna(subset=["measure"]).set_index("measure")
    for li, r in zip(items, expected.itertuples(), strict=True):
        assert f"{r.indicator}. {getattr(r, f'name_{lang}')}" in li
        assert fmt_estimate(r.points_lost, lang) in li
        for reason, count in (("missing", r.n_tidak_ada + r.n_missing),
                              ("expired", r.n_kedaluwarsa),
                              ("in_progress", r.n_dalam_proses)):
            said = t(f"summary.reason.{reason}", lang, n=int(count))
            assert (said in li) == (count > 0), (r.indicator, reason, li)
        short = pd.notna(r.statistic_achievement) and r.statistic_achievement < 1 - 1e-9
        label = str(measures.loc[r.measure, f"measure_{lang}"]) if pd.notna(r.measure) else ""
        assert (bool(label) and label in li) == short, (r.indicator, li)


# --- 5. the most valuable action -------------------------------------------------------------

def _expected_action(rep) -> pd.Series | None:
    res = sections.plan_result(rep)
    cp = res.get("chance_plan")
    acts = cp["actions"] if cp is not None and cp.get("enough", True) else None
    if acts is not None and not acts.empty and (acts["chance_gain"] > 1e-12).any():
        key = acts["chance_gain"] / acts["effort"]
    else:
        acts = acts if acts is not None and not acts.empty else res["actions"]
        if acts.empty:
            return None
        key = acts["points_gained"] / acts["effort"]
    ranked = acts.assign(_k=key, _p=acts["points_gained"] / acts["effort"])
    return ranked.sort_values(["_k", "_p", "indicator", "item"],
                              ascending=[False, False, True, True]).iloc[0]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("year", YEARS)
def test_names_the_most_valuable_action(reports, year, lang):
    rep, out = reports[(year, lang)]
    best = _expected_action(rep)
    assert best is not None
    part = out[out.index('<p class="sum-action">'):]
    part = text_of(part[:part.index("</p>")])
    if isinstance(best["item"], str):
        assert f"{best['item']} {best[f'item_name_{lang}']}" in part
    else:  # raise a statistic
        measures = rep.catalog.dropna(subset=["measure"]).set_index("measure")
        assert str(measures.loc[best["measure"], f"measure_{lang}"]) in part
    assert str(best["opd"]) in part and f"{int(best['effort'])} " in part
    # the effort-chance choice, in one line, from the frontier
    frontier = sections.plan_result(rep)["chance_plan"]["frontier"]
    line = out[out.index('<p class="sum-frontier">'):]
    line = text_of(line[:line.index("</p>")])
    reached = frontier[frontier["feasible"]]
    top = reached.loc[reached["chance"].idxmax()]
    assert f"{int(top['effort'])} " in line and fmt_percent(100 * top["chance"], lang, 0) in line
    for r in frontier[~frontier["feasible"]].itertuples():
        assert fmt_percent(100 * r.best_chance, lang, 0) in line


# --- 6. what changed since the previous evaluation -----------------------------------------------

@pytest.mark.parametrize("year", YEARS)
def test_change_since_the_previous_evaluation_by_block_and_indicator(reports, year):
    rep, out = reports[(year, "id")]
    prev = sections.previous_year(rep)
    text = text_of(_answers(out))
    if prev is None:
        assert t("headline.no_previous", "id") in text
        return
    assert t("headline.change", "id", prev_year=prev) in text
    trend = sections.trend_cluster_table(rep)
    now, was = (trend[trend["year"] == y].set_index("cluster") for y in (year, prev))
    for code, label in sections.cluster_labels(rep).items():
        change = round(float(now.loc[code, "backed"] - was.loc[code, "backed"]), 1)
        shown = fmt_estimate(abs(change), "id")
        assert re.search(rf"{re.escape(label)} [+−]?{re.escape(shown)}\b", text), (label, change)


# --- the cached data --------------------------------------------------------------------------

def test_cached_summary_is_language_independent_and_picklable(reports):
    for year in YEARS:
        a, b = summary.summary(reports[(year, "id")][0]), summary.summary(reports[(year, "en")][0])
        assert pickle.loads(pickle.dumps(a)) == a
        assert a == b


# --- small hand-made case: the reasons and the most valuable action -------------------------

RULES = {**load_rules(), "evidence_weight.ada": 1.0, "evidence_weight.dalam_proses": 0.5,
         "evidence_weight.kedaluwarsa": 0.25, "evidence_weight.tidak_ada": 0.0,
         "evidence_weight.missing": 0.0, "statistic.weight": 0.5,
         "statistic.strictness": 1.0, "statistic.missing": "evidence_only",
         "points.basis": "claimed"}


def _row(**changes) -> pd.Series:
    """One indicator: 40 claimed, 4 items (ada, tidak_ada, kedaluwarsa, dalam_proses), a
    statistic at half its target (40 of 80, higher is better)."""
    row = {"city": "Kota Uji", "year": 2025, "indicator": 7, "cluster": "I", "name_id": "Uji",
           "name_en": "Test", "opd": "Dinas Uji", "max_points": 40.0, "claimed_points": 40.0,
           "n_required": 4, "n_ada": 1, "n_dalam_proses": 1, "n_kedaluwarsa": 1,
           "n_tidak_ada": 1, "n_missing": 0, "evidence_rows": 4, "extra_items": 0,
           "measure": "m_uji", "unit": "percent", "direction": "higher", "target": 80.0,
           "reference": None, "data_year": 2024, "statistic_value": 40.0,
           "statistic_source": "uji"}
    row.update(changes)
    return estimate.score_inputs(pd.DataFrame([row]), RULES).iloc[0]


ITEMS = pd.DataFrame({"indicator": [7, 7, 7, 7], "item": ["7.1", "7.2", "7.3", "7.4"],
                      "name_id": ["A", "B", "C", "D"], "name_en": ["A", "B", "C", "D"],
                      "status": ["ada", "tidak_ada", "kedaluwarsa", "dalam_proses"]})


def test_loss_reasons_by_hand():
    row = _row()
    # completeness (1 + 0 + 0.25 + 0.5) / 4 = 0.4375; backing 0.5 * 0.4375 + 0.5 * 0.5
    assert row["backed_points"] == pytest.approx(40 * 0.46875)
    got = summary.loss_reasons(row, RULES, ITEMS)
    # each reason alone: statistic at target 0.5 * 0.4375 + 0.5 = 0.71875 -> +10;
    # missing made ada (2.75 / 4) -> +5; expired (2.5 / 4) -> +3.75; in progress -> +2.5
    assert [(r["reason"], r["points"]) for r in got] == [
        ("statistic_below", pytest.approx(10)), ("missing", pytest.approx(5)),
        ("expired", pytest.approx(3.75)), ("in_progress", pytest.approx(2.5))]
    assert [i["item"] for i in got[1]["items"]] == ["7.2"] and got[1]["n"] == 1
    assert [i["item"] for i in got[2]["items"]] == ["7.3"]
    stat = got[0]
    assert (stat["value"], stat["target"], stat["direction"]) == (40.0, 80.0, "higher")


def test_a_missing_statistic_is_a_reason_only_when_the_rules_count_it_as_zero():
    row = _row(statistic_value=float("nan"), n_ada=4, n_dalam_proses=0, n_kedaluwarsa=0,
               n_tidak_ada=0)
    assert summary.loss_reasons(row, RULES) == []  # evidence_only: nothing is lost
    zero = {**RULES, "statistic.missing": "zero"}
    row = estimate.score_inputs(pd.DataFrame([row[list(estimate.INPUT_COLUMNS)]]), zero).iloc[0]
    got = summary.loss_reasons(row, zero)
    assert [(r["reason"], r["points"]) for r in got] == [("statistic_missing",
                                                          pytest.approx(20))]


def test_top_losers_order_and_reasons():
    rows = pd.DataFrame([_row(indicator=i, claimed_points=c) for i, c in
                         ((1, 10.0), (2, 40.0), (3, 40.0), (4, 0.0))])
    got = summary.top_losers(rows, RULES, n=3)
    assert [g["indicator"] for g in got] == [2, 3, 1]  # most lost, ties: lower number
    assert all(g["reasons"] for g in got)


def _actions(**cols) -> pd.DataFrame:
    base = {"opd": ["A", "B", "C"], "indicator": [1, 2, 3], "item": ["1.1", "2.1", "3.1"],
            "action": ["complete_missing"] * 3, "effort": [1, 3, 2],
            "points_gained": [5.0, 20.0, 30.0]}
    base.update(cols)
    return pd.DataFrame(base)


def test_most_valuable_action_by_hand():
    cp = {"chance": 0.8, "chance_target": 0.8}
    # chance per effort: A 0.02, B 0.03, C 0.025 -> B (though C has more points per effort)
    best = summary.best_action(_actions(chance_gain=[0.02, 0.09, 0.05]), None, cp)
    assert (best["opd"], best["basis"], best["value_per_effort"]) == \
        ("B", "chance", pytest.approx(0.03))
    # no chance gained: points per effort (A 5, B 6.7, C 15) -> C
    best = summary.best_action(_actions(chance_gain=[0.0, 0.0, 0.0]), None, cp)
    assert (best["opd"], best["basis"]) == ("C", "points")
    # no chance plan: the single-setting plan's actions, by points per effort
    best = summary.best_action(None, _actions())
    assert (best["opd"], best["basis"], best["chance_gain"]) == ("C", "points", None)
    # ties on chance per effort: more points per effort first
    best = summary.best_action(_actions(chance_gain=[0.02, 0.06, 0.04]), None, cp)
    assert best["opd"] == "C"
    assert summary.best_action(None, _actions().iloc[0:0]) is None


def test_frontier_points_keep_each_effort_that_buys_more_chance():
    frontier = pd.DataFrame({"level": [0.5, 0.8, 0.9, 1.0],
                             "feasible": [True, True, True, False],
                             "chance": [0.55, 0.8, 0.91, float("nan")],
                             "effort": pd.array([14, 26, 33, None], dtype="Int64"),
                             "best_chance": [float("nan")] * 3 + [0.99]})
    cp = {"headline_plan": {"feasible": True, "effort": 14, "chance": 0.52},
          "frontier": frontier}
    got = summary.frontier_points(cp)
    assert got == {"points": [(14, 0.55), (26, 0.8), (33, 0.91)], "unreached": [(1.0, 0.99)]}
    # a plan of no effort is left out (its chance is the sentence's p_target, over all draws)
    cp["headline_plan"] = {"feasible": True, "effort": 0, "chance": 0.62}
    assert summary.frontier_points(cp)["points"][0] == (14, 0.55)
    assert summary.frontier_points(None) is None


def test_effort_unit_is_the_to_do_lists_unit(reports, tmp_path):
    # without a folder setting: the package's labelled default, the same words as the to-do
    from kla_analysis.config import ProjectPaths

    for lang in LANGS:
        rep, out = reports[(2023, lang)]
        assert summary.effort_unit(rep) == t("todo.effort_unit_default", lang)
        assert summary.effort_unit(rep) in text_of(out)
    # a folder that sets effort_unit gets its own words
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "kla.yaml").write_text("effort_unit:\n  id: hari kerja\n  en: person-days\n",
                                  encoding="utf-8")
    rep, _ = reports[(2023, "id")]
    other = type(rep)(**{**rep.__dict__, "paths": ProjectPaths(tmp_path, tmp_path / "r")})
    assert summary.effort_unit(other) == "hari kerja"
