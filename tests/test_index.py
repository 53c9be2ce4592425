"""``reports/index.html``: lists every rendered year with headline figures, escaped, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_fixtures import CITY, OFFICIAL, YEARS, rendered, report_data  # noqa: F401
from test_report_content import EXTERNAL, Page

from kla_analysis.publish import index, runner
from kla_analysis.report.formatting import fmt_points


def test_index_lists_every_rendered_year_and_language(rendered):  # noqa: F811
    html = (rendered["paths"].reports_dir / "index.html").read_text(encoding="utf-8")
    page = Page(html)
    hrefs = {a["href"] for t, a in page.tags if t == "a"}
    for year in YEARS:
        for lang in ("id", "en"):
            href = f"kota-contoh/{year}-{lang}.html"
            assert href in hrefs
            assert (rendered["paths"].reports_dir / href).is_file()
    text = page.all_text
    assert CITY in text
    for year in YEARS:
        manifest = json.loads((rendered["city_dir"] / f"{year}-id.json").read_text())
        assert fmt_points(manifest["headline"]["claimed_total"], "id") in text
        assert OFFICIAL[year][0] in text
    # newest year first
    assert text.index(str(max(YEARS))) < text.index(str(min(YEARS)) + " ")


def test_index_is_offline_and_has_no_script(rendered):  # noqa: F811
    page = Page((rendered["paths"].reports_dir / "index.html").read_text(encoding="utf-8"))
    assert not [t for t, _ in page.tags if t in ("script", "iframe", "link", "img")]
    for tag, attrs in page.tags:
        for attr in ("src", "href"):
            assert not EXTERNAL.match(attrs.get(attr) or ""), (tag, attrs)
    assert "@page" in " ".join(page.styles)


def _fake_report(reports: Path, slug: str, year: int, lang: str, headline: dict,
                 city: str) -> None:
    folder = reports / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{year}-{lang}.html").write_text("<html></html>")
    (folder / f"{year}-{lang}.json").write_text(json.dumps(
        {"city": city, "year": year, "lang": lang, "headline": headline,
         "rendered_at": "2025-01-02T03:04:05+00:00"}))


def test_data_derived_text_in_the_index_is_escaped(tmp_path):
    evil = "<script>alert('x')</script>"
    _fake_report(tmp_path, "kota-x", 2023, "id",
                 {"official_predicate": f"Madya{evil}", "claimed_total": 950.5,
                  "estimated_total": 640.26, "estimated_total_min": 600,
                  "estimated_total_max": 690, "estimated_predicate": "Madya",
                  "target_predicate": "Nindya", "points_to_target_predicate": 60.75},
                 f"Kota {evil}")
    job = runner.ReportJob(2024, "en", f"Kota {evil}", None, tmp_path, tmp_path)
    html = index.index_html(tmp_path, failures=[(job, f"cell 3 raised {evil}\nmore")])
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 4  # city heading, predicate, failure label, message
    assert "950,5" in html and "640,3" in html and "600–690" in html
    assert "60,8 poin menuju Nindya (estimasi)" in html
    assert "dibuat 2025-01-02" in html
    assert "more" not in html  # only the first line of a failure message


def test_a_reached_target_is_said_in_words(tmp_path):
    _fake_report(tmp_path, "kota-z", 2025, "id",
                 {"official_predicate": "Madya", "claimed_total": 931.75,
                  "estimated_total": 723.5, "estimated_total_min": 411.5,
                  "estimated_total_max": 788.3, "estimated_predicate": "Nindya",
                  "target_predicate": "Nindya", "points_to_target_predicate": 0.0},
                 "Kota Z")
    html = index.index_html(tmp_path)
    # a manifest without the official check (older runs): the estimate, never a result
    assert "Estimasi sudah melewati batas Nindya (bukan hasil resmi)" in html
    assert "0 poin menuju" not in html


def test_the_official_result_comes_before_the_estimate_and_the_chance_is_in_words(tmp_path):
    _fake_report(tmp_path, "kota-z", 2025, "id",
                 {"official_predicate": "Madya", "claimed_total": 931.75,
                  "estimated_total": 723.5, "estimated_total_min": 411.5,
                  "estimated_total_max": 788.3, "estimated_predicate": "Nindya",
                  "target_predicate": "Nindya", "points_to_target_predicate": 0.0,
                  "official_denies_target": True, "p_target": 0.23},
                 "Kota Z")
    html = index.index_html(tmp_path)
    assert "Hasil resmi Madya: target Nindya tidak tercapai" in html
    assert "melewati batas" not in html and "mencapai Nindya menurut model: sekitar 2 dari 10" in html


def test_reports_without_manifest_are_still_listed_and_other_files_ignored(tmp_path):
    (tmp_path / "kota-y").mkdir()
    (tmp_path / "kota-y" / "2021-id.html").write_text("<html></html>")
    (tmp_path / "kota-y" / "2021-id.error.ipynb").write_text("{}")
    (tmp_path / "kota-y" / ".tmp-2022-id.html.x").write_text("partial")
    (tmp_path / "kota-y" / "notes.html").write_text("x")
    (tmp_path / "kota-y" / "2021-fr.html").write_text("x")
    found = index.collect_reports(tmp_path)
    assert [(r["slug"], r["year"], r["lang"]) for r in found] == [("kota-y", 2021, "id")]
    html = index.index_html(tmp_path, lang="en")
    assert 'href="kota-y/2021-id.html"' in html and '<html lang="en"' in html


def test_empty_reports_folder_explains_how_to_render(tmp_path):
    html = index.index_html(tmp_path / "none")
    assert "kla report --all" in html
    out = index.build_index(tmp_path / "new")
    assert out == tmp_path / "new" / "index.html"
    assert "kla report --all" in out.read_text(encoding="utf-8")
    assert out.stat().st_mode & 0o044  # readable by others, like any web page


@pytest.mark.parametrize("lang", ["id", "en"])
def test_index_language(tmp_path, lang):
    assert f'<html lang="{lang}"' in index.index_html(tmp_path, lang=lang)
