"""The report's words: the methodology in plain sentences of the report language, rule names
only in the collapsed technical appendix, no English inside the Indonesian report (but data
written in it, and proper names), plural forms that agree, and no absolute local path.

Every bundled evaluation year is rendered through the library (``html.full_html``, the page
the notebook shows, without a kernel) in both languages. Expected words come from the rules
files and the library's own strings, never from a run.
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import pytest
import yaml

from kla_analysis import __version__, params
from kla_analysis.catalog import load_catalog
from kla_analysis.config import PROJ_ROOT, ProjectPaths, package_file
from kla_analysis.model import methodology
from kla_analysis.model.settings import load_settings
from kla_analysis.report import assumptions, html, i18n, sections
from kla_analysis.tables import load_processed

pytestmark = pytest.mark.slow

#: English words that must not appear in the Indonesian report's own text.
ENGLISH = (" the ", " and ", " not ", " items", " actions", " of ", " with ", " is ", " are ",
           "illustrative", "published", "calibrated", " draws", " estimate ", " missing ")
#: "1 <noun>s": a count of one before an English plural noun (not "41.1 points", "1 of 4").
ONE_PLURAL = re.compile(r"(?<![\d.,])1 (?:(?!of\b)[A-Za-z-]+ ){0,2}(?:actions|items|indicators"
                        r"|years|rows|blocks|files|points|combinations|draws|settings|steps)\b")
_VOID = {"br", "img", "meta", "link", "input", "hr", "col", "wbr", "source", "path", "rect",
         "line", "circle", "polyline", "polygon", "use", "stop", "ellipse"}


class Words(HTMLParser):
    """The page's text split by where it stands: ``main`` (the reader's text in the report
    language), ``appendix`` (inside the technical appendix), ``foreign`` (inside an element
    marked with another ``lang``) and ``notes`` (free-text data from raw/sources.csv)."""

    def __init__(self, page: str, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang, self.stack = lang, []
        self.parts: dict[str, list[str]] = {"main": [], "appendix": [], "foreign": [],
                                            "notes": []}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag not in _VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if "style" in tags or "script" in tags:
            return
        classes = " ".join(a.get("class") or "" for _, a in self.stack)
        if any(a.get("lang") not in (None, self.lang) for _, a in self.stack):
            where = "foreign"
        elif "source-note" in classes:
            where = "notes"
        elif "technical-appendix" in classes:
            where = "appendix"
        else:
            where = "main"
        self.parts[where].append(data)

    def text(self, where: str) -> str:
        return " " + " ".join(" ".join(self.parts[where]).split()) + " "


@pytest.fixture(scope="module")
def years(bundled_data) -> list[int]:
    sa = load_processed(bundled_data)["self_assessment"]
    return sorted(int(y) for y in sa["year"].unique())


@pytest.fixture(scope="module")
def pages(bundled_data, years) -> dict:
    """``(year, lang) -> (report, page)`` for every bundled year in both languages."""
    out = {}
    for year in years:
        for lang in params.LANGS:
            rep = sections.load_report(year, data_dir=str(bundled_data.data_dir), lang=lang)
            out[year, lang] = rep, str(html.full_html(rep))
    return out


def _identifiers(rep: sections.Report) -> set[str]:
    """Every rule name the appendix prints, and every key path of scoring_rules.yaml."""
    doc = yaml.safe_load(package_file("scoring_rules.yaml").read_text(encoding="utf-8"))
    names = set(methodology.methodology_table(rep.settings, rep.lang)["rule"])
    names |= set(doc["rules"]) | set(doc["sensitivity"]["grid"]) | set(doc["priors"])
    for section in ("posterior", "backtest"):
        names |= {f"{section}.{k}" for k in doc[section]
                  if k not in ("assumption", "rationale", "rationale_id")}
    return names


def test_every_bundled_year_is_rendered(years, pages):
    assert len(years) >= 4 and set(pages) == {(y, lang) for y in years for lang in params.LANGS}


def test_rule_names_only_in_the_technical_appendix(pages):
    for (year, lang), (rep, page) in pages.items():
        words = Words(page, lang)
        main, appendix = words.text("main"), words.text("appendix")
        names = _identifiers(rep)
        assert not [n for n in names if n in main], (year, lang)
        # the appendix holds them, collapsed under a labelled summary
        shown = set(methodology.methodology_table(rep.settings, lang)["rule"])
        assert all(n in appendix for n in shown), (year, lang)
        summary = i18n.t("method.appendix", lang)
        assert re.search(r'<details class="technical-appendix"><summary>'
                         + re.escape(summary) + "</summary>", page)


def test_no_absolute_local_path(pages, bundled_data):
    folder = bundled_data.data_dir
    for (year, lang), (rep, page) in pages.items():
        for path in (folder, folder.resolve(), PROJ_ROOT, (folder / "raw").resolve()):
            assert str(path) not in page, (year, lang, path)
        footer = str(html.footer_html(rep))
        # a folder outside the project is named, not located
        assert i18n.t("footer.data_outside", lang, name=folder.name) in footer


@pytest.mark.parametrize("lang", params.LANGS)
def test_the_footer_names_a_project_data_folder_relative_to_the_project(pages, years, lang):
    rep, _ = pages[years[-1], lang]
    inside = replace(rep, paths=ProjectPaths(PROJ_ROOT / "data", PROJ_ROOT / "reports"))
    footer = str(html.footer_html(inside))
    assert str(PROJ_ROOT) not in footer
    assert i18n.t("report.generated", lang, date=date.today().isoformat(),
                  version=__version__, data="data") in footer


@pytest.mark.parametrize("lang", params.LANGS)
def test_a_users_weights_file_is_named_without_its_local_folder(bundled_data, tmp_path, lang):
    cat = load_catalog()
    csv = tmp_path / "bobot_gugus_tugas.csv"
    cat[["indicator", "max_points"]].to_csv(csv, index=False)
    settings = load_settings(weights=str(csv))
    rep = sections.load_report(2025, data_dir=str(bundled_data.data_dir), lang=lang,
                               settings=settings)
    out = str(html.weights_html(rep)) + str(html._appendix_html(rep))
    assert str(tmp_path) not in out and csv.name in out


def test_plurals_agree_in_both_languages(pages):
    for (year, lang), (_, page) in pages.items():
        text = Words(page, lang).text("main")
        found = ONE_PLURAL.search(text)
        assert not found, (year, lang, text[max(0, found.start() - 60):found.end() + 20])
        assert " 1 data dukung items" not in text


def test_the_plural_chooser():
    one = i18n.t("evidence.opd_heading", "en", opd="Dinkes", n=1, points="1")
    assert one == "Dinkes: 1 data dukung item, 1 point at stake (estimate)"
    many = i18n.t("evidence.opd_heading", "en", opd="Dinkes", n=2, points="12.5")
    assert many == "Dinkes: 2 data dukung items, 12.5 points at stake (estimate)"
    # Indonesian nouns do not inflect: one form for every count
    assert i18n.t("evidence.opd_heading", "id", opd="Dinkes", n=1, points="1").replace(
        "1", "2") == i18n.t("evidence.opd_heading", "id", opd="Dinkes", n=2, points="2")
    assert not ONE_PLURAL.search("41.1 points; 1 of 4 years") and ONE_PLURAL.search("1 actions")


def test_no_english_inside_the_indonesian_report(pages):
    """Outside elements marked lang="en" and the sources' free-text notes (data, shown as
    written), the Indonesian pages hold no English words."""
    for (year, lang), (_, page) in pages.items():
        if lang != "id":
            continue
        text = Words(page, lang).text("main")
        hits = [w for w in ENGLISH if w in text.casefold()]
        assert not hits, (year, hits, [text[max(0, text.casefold().find(w) - 60):
                                           text.casefold().find(w) + 30] for w in hits])


@pytest.mark.parametrize("lang", params.LANGS)
def test_sources_are_labelled_in_the_report_language(pages, years, lang):
    rep, page = pages[years[-1], lang]
    src = sections.sources_table(rep)
    for status in set(src["status"].str.strip().str.casefold()) - {""}:
        assert i18n.t(f"provenance.{status}", lang) in page
    for dataset in set(src["dataset"].str.strip()) - {""}:
        assert i18n.t(f"dataset.{dataset}", lang) in page
    assert i18n.t("label.delivered_by", lang) in page


def test_a_declared_note_language_is_marked():
    Row = namedtuple("Row", "file dataset delivered_by status source_url notes lang")
    english = str(html._source_item(Row("a.csv", "evidence", "Dinkes", "illustrative", "",
                                        "made-up values", "en"), "id"))
    assert '<span class="source-note" lang="en">made-up values</span>' in english
    assert i18n.t("provenance.illustrative", "id") in english and "illustrative<" not in english
    plain = str(html._source_item(Row("a.csv", "evidence", "Dinkes", "published", "", "catatan",
                                      ""), "id"))
    assert "lang=" not in plain and "catatan" in plain


@pytest.mark.parametrize("lang", params.LANGS)
def test_assumptions_read_as_sentences_of_the_report_language(pages, years, lang):
    rep, page = pages[years[-1], lang]
    text = Words(page, lang).text("main")
    # each sentence says it is an assumption, in its own language: "(asumsi)", "(nilai
    # acuan, asumsi)"
    mark = {"id": "asumsi)", "en": "assumption)"}
    other = mark["en" if lang == "id" else "id"]
    region, area = html._region_words(rep)
    groups = assumptions.assumption_groups(rep.settings, lang, year=rep.year, region=region,
                                           area=area)
    assert [g for g, _ in groups] == ["estimate", "model", "plan"]
    sentences = [i if isinstance(i, str) else i[0] for _, items in groups for i in items]
    for s in sentences:
        assert " ".join(s.split()) in text, s
        assert mark[lang] in s, s
    assert other not in " ".join(sentences)
    # the evidence sentence says how a document in progress counts, from the rule's value
    value = rep.settings.rules["evidence_weight.dalam_proses"]
    assert (f"“{i18n.t('evidence_status.dalam_proses', lang)}” "
            f"{assumptions.share(value, lang)}") in text


@pytest.mark.parametrize("lang", params.LANGS)
def test_an_edited_rule_changes_its_sentence(lang):
    settings = load_settings()
    edited = settings.with_rules(**{"evidence_weight.dalam_proses": 0.75,
                                    "statistic.strictness": 2.0})
    before, after = (" ".join(str(i) for _, items in assumptions.assumption_groups(
        s, lang, year=2025, region="kabupaten", area="desa") for i in items)
        for s in (settings, edited))
    words = {"id": ("dihitung tiga perempat nilainya", "tingkat ketat 2"),
             "en": ("counts for three quarters of its value", "strictness 2")}[lang]
    for w in words:
        assert w not in before and w in after
    assert "kabupaten" in after and "desa" in after
