"""``reports/index.html``: every rendered evaluation-year report with its headline figures.

Built from the manifests the runner writes beside each HTML (``<year>-<lang>.json``), and
from any report HTML without one; rebuilt after every ``kla report`` run. Like the reports it
is one offline file: inline CSS, no script, a Content-Security-Policy, every data-derived
string escaped, relative links only.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from ..atomic import write_text
from ..chars import strip_unsafe
from ..params import LANGS, check_lang
from ..report.formatting import fmt_estimate, fmt_points, predicate_label
from ..report.html import chance_words
from ..report.i18n import t
from .runner import TEMPLATE_DIR, TEMPLATE_NAME, ReportJob, read_manifest

INDEX_NAME = "index.html"
_REPORT_FILE = re.compile(r"^(\d{4})-([a-z]{2})\.html$")


def _css() -> str:
    return (TEMPLATE_DIR / TEMPLATE_NAME / "static" / "report.css").read_text(encoding="utf-8")


def collect_reports(reports_dir: Path) -> list[dict]:
    """One dict per rendered report: ``slug, city, year, lang, href, manifest`` (may be None).

    Sorted by city, then year (newest first), then language.
    """
    found = []
    if not reports_dir.is_dir():
        return found
    for html in sorted(reports_dir.glob("*/*.html")):
        m = _REPORT_FILE.match(html.name)
        if not m or m.group(2) not in LANGS or html.parent.name.startswith("."):
            continue
        manifest = read_manifest(html.with_suffix(".json"))
        city = (manifest or {}).get("city") or html.parent.name
        found.append({"slug": html.parent.name, "city": str(city), "year": int(m.group(1)),
                      "lang": m.group(2), "href": f"{html.parent.name}/{html.name}",
                      "manifest": manifest})
    return sorted(found, key=lambda r: (r["city"].casefold(), -r["year"], LANGS.index(r["lang"])))


def _year_block(entries: list[dict], lang: str) -> Markup:
    """One ``<li>`` for a city-year: headline line and a link per language."""
    year = entries[0]["year"]
    main = next((e for e in entries if e["lang"] == lang), entries[0])
    h = (main["manifest"] or {}).get("headline") or {}
    lines = []
    if h:
        official = h.get("official_predicate") or t("headline.official_unknown", lang)
        if h.get("estimated_total") is not None:
            lines.append(t("index.year_line", lang, official=official,
                           claimed=fmt_points(h.get("claimed_total"), lang),
                           estimate=fmt_estimate(h.get("estimated_total"), lang),
                           low=fmt_estimate(h.get("estimated_total_min"), lang),
                           high=fmt_estimate(h.get("estimated_total_max"), lang),
                           predicate=predicate_label(h.get("estimated_predicate"), lang)))
            gap = h.get("points_to_target_predicate")
            target = h.get("target_predicate")
            if target and h.get("official_denies_target"):  # the official result first
                lines.append(t("index.official_denies", lang, official=official, target=target))
            elif target and gap is not None:
                lines.append(t("index.target_reached", lang, target=target) if gap <= 0 else
                             t("index.to_target", lang, points=fmt_estimate(gap, lang),
                               target=target))
            if target and h.get("p_target") is not None:
                lines.append(t("index.chance", lang, target=target,
                               chance=chance_words(float(h["p_target"]), lang)))
        else:
            lines.append(t("index.year_line_no_estimate", lang, official=official,
                           claimed=fmt_points(h.get("claimed_total"), lang)))
    links = Markup(" · ").join(
        Markup('<a href="{}" hreflang="{}">{}</a>').format(e["href"], e["lang"],
                                                          t(f"index.language.{e['lang']}", lang))
        for e in entries)
    when = (main["manifest"] or {}).get("rendered_at")
    meta = Markup(" · ").join([links, *([t("index.rendered", lang, date=when[:10])]
                                        if when else [])])
    return Markup('<li><span class="what">{}</span>{}<div class="meta">{}</div></li>').format(
        year, Markup("").join(Markup("<div>{}</div>").format(x) for x in lines), meta)


def index_html(reports_dir: Path, failures: list[tuple[ReportJob, str]] | None = None,
               lang: str = "id") -> str:
    """The index page as a string (see ``build_index``, which checks ``lang``)."""
    reports = collect_reports(reports_dir)
    body = [Markup("<h1>{}</h1><p>{}</p>").format(t("index.title", lang), t("index.intro", lang))]
    if failures:
        body.append(Markup('<div class="notice"><strong>{}</strong><ul>{}</ul></div>').format(
            t("index.failed", lang), Markup("").join(
                Markup("<li>{}: {}</li>").format(job.label, msg.splitlines()[0] if msg else "")
                for job, msg in failures)))
    if not reports:
        body.append(Markup("<p>{}</p>").format(t("index.empty", lang)))
    cities: dict[str, list[dict]] = {}
    for r in reports:
        cities.setdefault(r["city"], []).append(r)
    for city, entries in cities.items():
        years: dict[int, list[dict]] = {}
        for e in entries:
            years.setdefault(e["year"], []).append(e)
        body.append(Markup('<h2>{}</h2><ul class="items reports">{}</ul>').format(
            city, Markup("").join(_year_block(v, lang) for _, v in sorted(
                years.items(), reverse=True))))
    body.append(Markup('<footer class="report-footer">{}</footer>').format(
        t("index.updated", lang, date=datetime.now().isoformat(timespec="minutes"))))
    return str(Markup(
        '<!DOCTYPE html>\n<html lang="{}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
        '<meta name="referrer" content="no-referrer"><title>{}</title><style>{}</style></head>'
        '<body><main class="report">{}</main></body></html>\n').format(
        lang, t("index.title", lang), Markup(_css()), Markup("").join(body)))


def build_index(reports_dir: Path, failures: list[tuple[ReportJob, str]] | None = None,
                lang: str = "id") -> Path:
    """Write ``<reports_dir>/index.html`` atomically and return its path."""
    lang = check_lang(lang)
    reports_dir.mkdir(parents=True, exist_ok=True)
    # data strings are escaped where they enter; unsafe characters leave the page too
    return write_text(reports_dir / INDEX_NAME,
                      strip_unsafe(index_html(reports_dir, failures, lang)))
