"""Rendered reports (``kla report --all`` on the fixture folder): content, escaping, offline.

Expected numbers are computed here from the fixture's definition and the library's public
functions, never typed in.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import nbformat
import pytest
from report_fixtures import (  # noqa: F401 - fixtures
    CITY,
    OFFICIAL,
    PLANTED,
    YEARS,
    claimed_points,
    rendered,
    report_data,
)

from kla_analysis import params
from kla_analysis.model import calibration
from kla_analysis.model.settings import load_settings
from kla_analysis.publish.runner import HEADLINE_MIME, NOTEBOOK
from kla_analysis.report import i18n
from kla_analysis.report.formatting import fmt_number, fmt_points
from kla_analysis.tables import load_processed

pytestmark = pytest.mark.slow


class Page(HTMLParser):
    """Tags with their attributes, text, and <style> contents of one page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def _html(run: dict, year: int, lang: str) -> str:
    return (run["city_dir"] / f"{year}-{lang}.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def score(report_data):  # noqa: F811
    tables = load_processed(report_data)
    return {y: calibration.score_year(tables, y, CITY, settings=load_settings()) for y in YEARS}


def test_batch_run_succeeded_and_kept_executed_notebooks(rendered):  # noqa: F811
    batch = rendered["batch"]
    assert batch.returncode == 0, batch.stdout + batch.stderr
    assert "Traceback" not in batch.stderr
    for year in YEARS:
        for lang in params.LANGS:
            stem = rendered["city_dir"] / f"{year}-{lang}"
            assert stem.with_suffix(".html").stat().st_size > 10_000
            nb = nbformat.read(stem.with_suffix(".ipynb"), as_version=4)
            injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
            assert f"year = {year}" in injected[0].source and f'lang = "{lang}"' in injected[0].source
            manifest = json.loads(stem.with_suffix(".json").read_text())
            assert manifest["year"] == year and manifest["lang"] == lang
    assert "4 rendered" in batch.stdout and "0 failed" in batch.stdout


@pytest.mark.parametrize("lang", params.LANGS)
def test_headline_figures_and_labelled_estimate(rendered, score, lang):  # noqa: F811
    year = max(YEARS)
    page = Page(_html(rendered, year, lang))
    text = page.all_text
    s = score[year]
    claimed = sum(claimed_points(year).values())
    assert s["claimed_total"] == pytest.approx(claimed)
    assert fmt_points(claimed, lang) in text
    assert OFFICIAL[year][0] in text
    assert fmt_number(s["estimated_total"], lang, 1, trim=True) in text
    rng = (f"{fmt_number(s['estimated_total_min'], lang, 1, trim=True)}–"
           f"{fmt_number(s['estimated_total_max'], lang, 1, trim=True)}")
    assert rng in text
    assert fmt_number(s["points_to_target_predicate"], lang, 1, trim=True) in text
    assert i18n.t("headline.to_target", lang, predicate=s["target_predicate"]) in text
    assert i18n.t("headline.change", lang, prev_year=min(YEARS)) in text
    # estimates are labelled as such, with the notice that they are not official
    assert i18n.t("report.estimate_notice", lang) in text
    assert text.count(i18n.t("label.estimate", lang).upper()) + \
        text.count(i18n.t("label.estimate", lang)) >= 5


def test_indonesian_report_uses_indonesian_number_format(rendered):  # noqa: F811
    year = max(YEARS)
    claimed = sum(claimed_points(year).values())
    id_text = Page(_html(rendered, year, "id")).all_text
    en_text = Page(_html(rendered, year, "en")).all_text
    assert fmt_points(claimed, "id") != fmt_points(claimed, "en")
    assert fmt_points(claimed, "id") in id_text and fmt_points(claimed, "en") not in id_text
    assert fmt_points(claimed, "en") in en_text


@pytest.mark.parametrize("lang", params.LANGS)
def test_every_section_heading_in_the_report_language(rendered, lang):  # noqa: F811
    html = _html(rendered, max(YEARS), lang)
    page = Page(html)
    text = page.all_text
    for key in (k for k in i18n.keys() if k.startswith("section.")):
        assert i18n.t(key, lang) in text, key
    assert len([a for tag, a in page.tags if tag == "h2"]) == 10
    other = "en" if lang == "id" else "id"
    assert i18n.t("section.headline", other) not in text
    assert f'<html lang="{lang}"' in html


def test_planted_script_is_escaped_and_no_script_runs(rendered):  # noqa: F811
    for year in YEARS:
        for lang in params.LANGS:
            html = _html(rendered, year, lang)
            page = Page(html)
            assert not [t for t, _ in page.tags if t in ("script", "iframe", "object", "embed")]
            assert "<script>alert" not in html
            assert PLANTED in page.all_text  # shown as text
            assert "&lt;script&gt;alert(" in html
            assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]


EXTERNAL = re.compile(r"^\s*(https?:)?//", re.I)


def test_no_network_address_in_any_resource(rendered):  # noqa: F811
    for year in YEARS:
        for lang in params.LANGS:
            page = Page(_html(rendered, year, lang))
            for tag, attrs in page.tags:
                if tag in ("script", "link", "img", "font", "source", "iframe", "video", "audio"):
                    for attr in ("src", "href", "srcset"):
                        assert not EXTERNAL.match(attrs.get(attr) or ""), (tag, attrs)
            css = " ".join(page.styles)
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", css, re.I)
            assert "@import" not in css and "@font-face" not in css
            assert "cdnjs" not in " ".join(page.styles) and "mathjax" not in css.lower()


def test_charts_are_embedded_with_alt_text(rendered):  # noqa: F811
    page = Page(_html(rendered, max(YEARS), "id"))
    imgs = [a for t, a in page.tags if t == "img"]
    # bands, clusters, trend, one per kelurahan measure (the fixture has one) and peers,
    # all SVG (sharp text on a phone and on paper)
    kinds = [a["src"].split(";")[0] for a in imgs]
    assert kinds == ["data:image/svg+xml"] * 5
    for a in imgs:
        assert a["src"].split(",")[0].endswith(";base64")
        assert len(a.get("alt", "").strip()) > 20


def test_no_code_no_prompts_and_no_stderr_in_the_report(rendered):  # noqa: F811
    html = _html(rendered, max(YEARS), "id")
    text = Page(html).all_text
    for needle in ("report.show_section", "import ", "In [", "Out[", "load_report(",
                   "Traceback", "Warning"):
        assert needle not in text, needle
    assert "jp-InputArea" not in html


def test_print_and_phone_css_are_inline(rendered):  # noqa: F811
    css = " ".join(Page(_html(rendered, max(YEARS), "id")).styles)
    assert re.search(r"@page\s*{\s*size:\s*A4", css)
    assert "break-inside: avoid" in css
    assert re.search(r"\.table-wrap\s*{[^}]*overflow-x:\s*auto", css)
    assert 'name="viewport"' in _html(rendered, max(YEARS), "id")


def test_language_links_and_headline_manifest(rendered, score):  # noqa: F811
    year = max(YEARS)
    page = Page(_html(rendered, year, "id"))
    hrefs = [a.get("href") for t, a in page.tags if t == "a"]
    assert f"{year}-en.html" in hrefs and "../index.html" in hrefs
    nb = nbformat.read(rendered["city_dir"] / f"{year}-id.ipynb", as_version=4)
    emitted = [o["data"][HEADLINE_MIME] for c in nb.cells for o in c.get("outputs", [])
               if HEADLINE_MIME in o.get("data", {})]
    assert len(emitted) == 1
    manifest = json.loads((rendered["city_dir"] / f"{year}-id.json").read_text())
    head = manifest["headline"]
    assert head == json.loads(json.dumps(emitted[0]))
    assert head["estimated_total"] == pytest.approx(score[year]["estimated_total"])
    assert head["official_predicate"] == OFFICIAL[year][0]
    assert head["is_estimate"] is True


def test_report_notebook_is_stored_clean_with_parameters_and_kernel():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata.kernelspec.name == "kla-analysis"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for name in ("year", "city", "data_dir", "target", "lang"):
        assert re.search(rf"^{name} = ", params[0].source, re.M)
    for cell in nb.cells:
        assert cell.cell_type == "code"
        assert cell.outputs == [] and cell.execution_count is None
        # thin calls only: no analysis logic (no loops, no pandas) in the notebook
        assert not re.search(r"^\s*(for|while|def|class) |pd\.|groupby", cell.source, re.M)


def test_an_unconfirmed_official_predicate_is_not_tagged_official(rendered):  # noqa: F811
    inferred = [y for y, (_, status) in OFFICIAL.items() if status != "published" and y in YEARS]
    published = [y for y, (_, status) in OFFICIAL.items() if status == "published" and y in YEARS]
    for year, tag in [(inferred[0], "tag-unconfirmed"), (published[0], "tag-official")]:
        html = _html(rendered, year, "id")
        headline = html[html.index('id="headline"'):html.index('id="bands"')]
        first_card = headline[headline.index('class="card'):headline.index("</div></div>")]
        assert tag in first_card, year
