"""The report works on every block of the catalog and names its weight set.

Seven blocks (Kelembagaan, Klaster I-V, kecamatan/desa) and 26 indicators today; every
expectation here is computed from the catalog (``load_catalog``, ``load_clusters``) and the
weight sets, never typed in, so the tests follow the catalog when it changes.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from report_fixtures import CITY, rendered, report_data  # noqa: F401 - fixtures

from kla_analysis.catalog import load_catalog, load_clusters
from kla_analysis.config import ProjectPaths
from kla_analysis.model import methodology
from kla_analysis.model.settings import load_settings
from kla_analysis.report import export, html, i18n, sections
from kla_analysis.report.formatting import fmt_points
from kla_analysis.tables import load_table, write_table

LANGS = ("id", "en")
CLUSTERS = load_clusters()
LAST = CLUSTERS["cluster"].iloc[-1]          # the block added last (KD today)


def _text(fragment) -> str:
    """Visible text of an HTML fragment, whitespace squeezed (images' alt text dropped)."""
    return " ".join(re.sub(r"<[^>]+>", " ", str(fragment)).replace("&#34;", '"')
                    .replace("&#39;", "'").split())


def _rows(fragment) -> list[list[str]]:
    """Cell texts of every body row of the first table in ``fragment``."""
    body = re.search(r"<tbody>(.*?)</tbody>", str(fragment), re.S).group(1)
    return [[_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.fixture(scope="module")
def reps(report_data):  # noqa: F811
    return {lang: sections.load_report(2023, data_dir=str(report_data.data_dir), lang=lang)
            for lang in LANGS}


@pytest.fixture(scope="module")
def equal_reps(report_data):  # noqa: F811
    settings = load_settings(weights="equal")
    return {lang: sections.load_report(2023, data_dir=str(report_data.data_dir), lang=lang,
                                       settings=settings) for lang in LANGS}


# --- klaster section, indicator table, trend --------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_klaster_section_shows_every_block_of_the_catalog(reps, lang):
    rep = reps[lang]
    cl = sections.cluster_table(rep)
    assert list(cl["cluster"]) == list(CLUSTERS["cluster"])
    want = rep.catalog.groupby("cluster")["max_points"].sum()
    assert cl.set_index("cluster")["max_points"].to_dict() == pytest.approx(want.to_dict())
    fragment = html.clusters_html(rep)
    rows = _rows(fragment)
    assert len(rows) == len(CLUSTERS) + 1                      # every block and the total
    assert [r[0] for r in rows[:-1]] == list(cl["label"])
    # the users' word in both languages: "Klaster I", never "Cluster I"
    assert not any(label.startswith("Cluster") for label in cl["label"])
    assert sections.cluster_labels(rep) == sections.cluster_labels(
        sections.Report(**{**rep.__dict__, "lang": "id", "_cache": {}}))
    assert rows[-1][4] == fmt_points(want.sum(), lang)
    # the last block has a short label on the phone and its full name in the note below
    last = cl.set_index("cluster").loc[LAST]
    assert len(last["label"]) <= 16 and last["label"] != last["name"]
    assert last["name"] in _text(fragment)
    assert re.search(r'alt="[^"]*' + re.escape(last["label"]), str(fragment))


@pytest.mark.parametrize("lang", LANGS)
def test_indicator_table_lists_every_indicator_with_its_block(reps, lang):
    rep = reps[lang]
    fragment = html.indicators_html(rep)
    rows = _rows(fragment)
    cat = rep.catalog
    assert [int(r[0]) for r in rows] == list(cat["indicator"])
    assert {int(r[0]): r[-2] for r in rows} == dict(zip(cat["indicator"], cat["cluster"],
                                                        strict=True))
    intro = i18n.t("indicators.intro", lang, n=len(cat), k=cat["cluster"].nunique())
    assert intro in _text(fragment)
    assert "24" not in intro
    # the codes that are not "Klaster <code>" are explained
    label = sections.cluster_labels(rep)[LAST]
    assert f"{LAST} = {label}" in _text(fragment)


@pytest.mark.parametrize("lang", LANGS)
def test_trend_shows_every_block_per_year(reps, lang):
    rep = reps[lang]
    tc = sections.trend_cluster_table(rep)
    years = sorted(sections.trend_table(rep).dropna(subset=["claimed"])["year"].astype(int))
    assert sorted(tc["year"].unique()) == years
    assert (tc.groupby("year")["cluster"].apply(list) == [list(CLUSTERS["cluster"])]
            * len(years)).all()
    # per year the blocks add up to the trend's totals
    tr = sections.trend_table(rep).set_index("year")
    for y, grp in tc.groupby("year"):
        assert grp["claimed"].sum() == pytest.approx(tr.loc[y, "claimed"])
        assert grp["backed"].sum() == pytest.approx(tr.loc[y, "estimate"])
    fragment = html.trend_html(rep)
    assert i18n.t("trend.clusters", lang) in _text(fragment)
    assert sections.cluster_labels(rep)[LAST] in _text(fragment)


# --- the weight set in the methodology --------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_methodology_names_the_weight_set_its_status_provenance_and_source(reps, lang):
    rep = reps[lang]
    info = rep.settings.weight_set
    text = _text(html.methodology_html(rep))
    assert info[f"label_{lang}"] in text
    assert " ".join(info[f"provenance_{lang}"].split()) in text
    if info["source"]:
        assert f'href="{info["source"]}"' in str(html.methodology_html(rep))
    status = i18n.t(f"weights.status.{info['status']}", lang)
    assert status in text
    cat = rep.catalog
    n = int(cat["max_points_assumed"].sum())
    assert i18n.t("assumptions.weights_assumed", lang, n=n, total=len(cat),
                  blocks="").rstrip(".") in text
    # the assumed indicators' blocks are named, the last block among them when it is assumed
    if cat.loc[cat["cluster"] == LAST, "max_points_assumed"].all():
        assert f"{sections.cluster_labels(rep)[LAST]} (" in text


@pytest.mark.parametrize("lang", LANGS)
def test_methodology_table_has_a_row_for_the_weight_set(lang):
    s = load_settings()
    table = methodology.methodology_table(s, lang)
    w = table[table["section"] == "weights"].set_index("rule")
    assert w.loc["weights.set", "value"] == s.weight_set["weight_set"]
    assert s.weight_set[f"label_{lang}"] in w.loc["weights.set", "rationale"]
    assert s.weight_set["source"] in w.loc["weights.set", "rationale"]
    n = int(s.catalog["max_points_assumed"].sum())
    assert w.loc["weights.assumed_maxima", "value"] == f"{n}/{len(s.catalog)}"
    assert bool(w.loc["weights.assumed_maxima", "assumption"]) == (n > 0)
    # every other section is still there, weights first
    assert list(dict.fromkeys(table["section"])) == ["weights", "estimate", "sensitivity",
                                                     "prior", "posterior", "backtest", "plan"]


def test_numbers_of_assumed_indicators_are_shortened_to_runs():
    assert methodology.number_runs([9, 4, 5, 6, 25, 26]) == "4-6, 9, 25-26"
    assert html._numbers([1]) == "1"


# --- switching the weight set -----------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_equal_weight_set_changes_the_maxima_shown(reps, equal_reps, lang):
    default, equal = reps[lang], equal_reps[lang]
    want = load_catalog("equal").groupby("cluster")["max_points"].sum()
    before = sections.cluster_table(default).set_index("cluster")["max_points"]
    after = sections.cluster_table(equal).set_index("cluster")["max_points"]
    assert after.to_dict() == pytest.approx(want.to_dict())
    assert (before != after).any()
    rows = _rows(html.clusters_html(equal))
    assert [r[4] for r in rows[:-1]] == [fmt_points(want[c], lang) for c in CLUSTERS["cluster"]]
    ind = _rows(html.indicators_html(equal))
    assert [r[6] for r in ind] == [fmt_points(v, lang) for v in
                                  load_catalog("equal")["max_points"]]
    text = _text(html.methodology_html(equal))
    info = equal.settings.weight_set
    assert info["weight_set"] == "equal" and info[f"label_{lang}"] in text
    assert i18n.t("weights.status.assumption", lang) in text
    n = len(equal.catalog)
    assert i18n.t("assumptions.weights_assumed", lang, n=n, total=n, blocks="").rstrip(".") \
        in text
    assert default.settings.weight_set[f"label_{lang}"] not in text
    # claims on the set's own scale: nothing to say; on another set's scale: said
    claims = i18n.t("assumptions.weights_claims", lang, claims=info["claims_scale"])
    assert (claims in text) == (info["claims_scale"] != info["weight_set"])


@pytest.mark.parametrize("lang", LANGS)
def test_claims_written_on_another_scale_are_explained(report_data, lang):  # noqa: F811
    settings = load_settings(weights="equal", claims="probable_2023")
    rep = sections.load_report(2023, data_dir=str(report_data.data_dir), lang=lang,
                               settings=settings)
    text = _text(html.methodology_html(rep))
    assert i18n.t("assumptions.weights_claims", lang, claims="probable_2023") in text
    rationale = methodology.methodology_table(settings, lang).set_index("rule").loc[
        "weights.assumed_maxima", "rationale"]
    assert "probable_2023" in rationale


# --- question-level completeness ----------------------------------------------------------------

@pytest.fixture(scope="module")
def with_questions(report_data, tmp_path_factory):  # noqa: F811
    """The fixture city with question counts in 2023's self-assessment (not indicator 3)."""
    dest = tmp_path_factory.mktemp("questions")
    shutil.copytree(report_data.data_dir, dest / "data")
    paths = ProjectPaths(dest / "data", dest / "reports")
    sa = load_table("self_assessment", paths)
    ind = sa["indicator"].astype(int)
    total = (3 + ind % 4).where((sa["year"] == 2023) & (ind != 3))
    sa["questions_total"] = total.astype("Int64")
    sa["questions_answered"] = (total - (ind % 2)).astype("Int64")
    write_table(sa, "self_assessment", paths)
    return paths


@pytest.mark.parametrize("lang", LANGS)
def test_questions_answered_show_as_in_the_application_when_present(with_questions, lang):
    rep = sections.load_report(2023, data_dir=str(with_questions.data_dir), lang=lang)
    ind = sections.indicator_table(rep).set_index("indicator")
    sa = load_table("self_assessment", with_questions)
    sa = sa[sa["year"] == 2023].set_index("indicator")
    for i in ind.index:
        want = sa["questions_total"].get(i, pd.NA)
        assert (pd.isna(ind.loc[i, "questions_total"]) and pd.isna(want)) or \
            ind.loc[i, "questions_total"] == want
    header = i18n.t("label.questions", lang)
    fragment = html.indicators_html(rep)
    assert f">{header}</th>" in str(fragment)
    cells = {int(r[0]): r[3] for r in _rows(fragment)}
    first = int(sa["questions_total"].dropna().index[0])
    assert cells[first] == (f"[{int(sa.loc[first, 'questions_answered'])}/"
                            f"{int(sa.loc[first, 'questions_total'])}]")
    assert cells[3] == "–"                                   # no count for indicator 3
    # per block: sums over the block's indicators, in the klaster table too
    cl = sections.cluster_table(rep).set_index("cluster")
    per = rep.catalog.set_index("indicator")["cluster"]
    block = per[per.index.isin(sa["questions_total"].dropna().index)]
    want = sa.loc[block.index, "questions_total"].groupby(block).sum()
    assert cl["questions_total"].dropna().astype(int).to_dict() == want.astype(int).to_dict()
    assert f">{header}</th>" in str(html.clusters_html(rep))


@pytest.mark.parametrize("lang", LANGS)
def test_no_question_column_without_question_counts(reps, lang):
    rep = reps[lang]
    assert "questions_total" not in sections.indicator_table(rep)
    assert "questions_total" not in sections.cluster_table(rep)
    header = i18n.t("label.questions", lang)
    assert header not in str(html.indicators_html(rep))
    assert header not in str(html.clusters_html(rep))


# --- the to-do workbook -------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_workbook_notes_name_the_weight_set(lang):
    s = load_settings()
    plan = {"summary": {"reachable": True}}
    notes = export.notes_table(plan, lang, s.weight_set)
    row = notes[notes["key"] == export.WEIGHTS_LABEL[lang]]["value"].iloc[0]
    assert s.weight_set[f"label_{lang}"] in row and s.weight_set["weight_set"] in row
    assert s.weight_set["source"] in row
    assert export.WEIGHTS_LABEL[lang] not in set(export.notes_table(plan, lang)["key"])


# --- the rendered report ------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_rendered_report_shows_the_last_block_and_names_the_weight_set(rendered, lang):  # noqa: F811
    page = (rendered["city_dir"] / f"2023-{lang}.html").read_text(encoding="utf-8")
    settings = load_settings()
    clusters = page[page.index('id="clusters"'):page.index('id="indicators"')]
    label = sections.cluster_label(LAST, CLUSTERS.set_index("cluster").loc[LAST, f"name_{lang}"],
                                   lang)
    # (each cell carries its column's name, data-label, for the phone's card layout)
    assert re.search(rf"<td[^>]*>{re.escape(label)}</td>", clusters)
    indicators = page[page.index('id="indicators"'):page.index('id="evidence"')]
    for number in settings.catalog.loc[settings.catalog["cluster"] == LAST, "indicator"]:
        assert re.search(rf'<td [^>]*class="[^"]*\bnum\b[^>]*>{number}</td>', indicators)
    method = _text(page[page.index('id="methodology"'):])
    assert settings.weight_set[f"label_{lang}"] in method
    assert " ".join(settings.weight_set[f"provenance_{lang}"].split()) in method
    assert CITY in page
