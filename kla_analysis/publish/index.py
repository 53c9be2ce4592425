"""``reports/index.html``: every rendered evaluation-year report with its headline figures.

Built from the manifests the runner writes beside each HTML (``<year>-<lang>.json``), and
from any report HTML without one; rebuilt after every ``kla report`` run. Per year: the
official predikat, the model's chance of the next band (the one above the year's official
predikat, else above the estimate) and the next deadline (``next_deadline``: the end of the
self-assessment of the first round after the year that is still open on the day the index is
built, from the manifest's calendar, else the package's; sourced or an assumption, said so). Like the reports it
is one offline file: inline CSS, no script, a Content-Security-Policy, every data-derived
string escaped, relative links only.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from ..atomic import write_text
from ..calendar import load_calendar, manifest_rounds
from ..catalog import load_bands
from ..chars import strip_unsafe
from ..params import LANGS, check_lang
from ..report.formatting import fmt_estimate, fmt_points, predicate_label
from ..report.html import chance_words
from ..report.i18n import t
from ..report.todo import fmt_date
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


def next_band(h: dict, bands=None) -> str | None:
    """The band above the year's official predikat (else above the estimated predikat; the
    lowest band without either); None at the top."""
    names = list((bands if bands is not None else load_bands())["predicate"])
    base = h.get("official_predicate") or h.get("estimated_predicate")
    if base not in names:
        return names[0]
    i = names.index(base)
    return names[i + 1] if i + 1 < len(names) else None


def band_chance(h: dict, band: str, bands=None) -> float | None:
    """The model's chance of ``band`` or higher: from the manifest's band probabilities,
    else its ``p_target`` when ``band`` is the target; None when withheld or absent."""
    probs = h.get("band_probabilities")
    if isinstance(probs, dict) and probs:
        names = list((bands if bands is not None else load_bands())["predicate"])
        above = set(names[names.index(band):]) if band in names else set()
        return float(sum(float(p) for b, p in probs.items() if b in above))
    if h.get("target_predicate") == band and h.get("p_target") is not None:
        return float(h["p_target"])
    return None


def next_deadline(year: int, rounds: list[dict] | None, today: dt.date) -> dict | None:
    """The first round after ``year - 1`` whose self-assessment is still open on ``today``
    (``round, due`` (a date), ``status``, ``pattern``) from ``rounds`` (a manifest's
    ``deadlines``; None: the package's calendar); None when there is none."""
    if rounds is None:
        rounds = manifest_rounds(load_calendar())
    for r in sorted(rounds, key=lambda r: int(r["round"])):
        try:
            due = dt.date.fromisoformat(str(r["due"]))
        except (KeyError, ValueError):
            continue  # a hand-edited or damaged manifest: skip the record
        if int(r["round"]) >= int(year) and due >= today:
            return {**r, "due": due}
    return None


def _deadline_line(year: int, manifest: dict, lang: str, today: dt.date) -> str:
    rounds = manifest.get("deadlines")
    d = next_deadline(year, rounds if isinstance(rounds, list) else None, today)
    if d is None:
        return t("todo.index_no_deadline", lang)
    if d.get("pattern"):
        basis = t("todo.basis.pattern", lang, pattern=d["pattern"])
    else:
        basis = t(f"todo.basis.{'sourced' if d.get('status') == 'sourced' else 'assumption'}",
                  lang)
    return t("todo.index_deadline", lang, date=fmt_date(d["due"], lang), round=d["round"],
             basis=basis)


def _year_block(entries: list[dict], lang: str, today: dt.date | None = None) -> Markup:
    """One ``<li>`` for a city-year: headline lines (the official predikat, the estimate,
    the chance of the next band, the next deadline) and a link per language."""
    year = entries[0]["year"]
    main = next((e for e in entries if e["lang"] == lang), entries[0])
    h = (main["manifest"] or {}).get("headline") or {}
    today = today or dt.date.today()
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
            band = next_band(h)
            if band and not (band == target and h.get("p_target") is not None):
                p = band_chance(h, band)  # the target line above says it when band == target
                lines.append(t("todo.index_next_band", lang, band=band,
                               chance=chance_words(p, lang)) if p is not None else
                             t("todo.index_next_band_withheld", lang, band=band))
        else:
            lines.append(t("index.year_line_no_estimate", lang, official=official,
                           claimed=fmt_points(h.get("claimed_total"), lang)))
    lines.append(_deadline_line(year, main["manifest"] or {}, lang, today))
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
               lang: str = "id", today: dt.date | None = None) -> str:
    """The index page as a string (see ``build_index``, which checks ``lang``); next
    deadlines as of ``today`` (default: today)."""
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
            city, Markup("").join(_year_block(v, lang, today) for _, v in sorted(
                years.items(), reverse=True))))
    body.append(Markup('<footer class="report-footer">{}</footer>').format(
        t("index.updated", lang, date=datetime.now().isoformat(timespec="minutes"))))
    return str(Markup(
        '<!DOCTYPE html>\n<html lang="{}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
        '<meta name="referrer" content="no-referrer"><meta name="description" content="{}">'
        '<title>{}</title><style>{}</style></head>'
        '<body><main class="report">{}</main></body></html>\n').format(
        lang, t("index.description", lang), t("index.title", lang), Markup(_css()),
        Markup("").join(body)))


def build_index(reports_dir: Path, failures: list[tuple[ReportJob, str]] | None = None,
                lang: str = "id") -> Path:
    """Write ``<reports_dir>/index.html`` atomically and return its path."""
    lang = check_lang(lang)
    reports_dir.mkdir(parents=True, exist_ok=True)
    # data strings are escaped where they enter; unsafe characters leave the page too
    return write_text(reports_dir / INDEX_NAME,
                      strip_unsafe(index_html(reports_dir, failures, lang)))
