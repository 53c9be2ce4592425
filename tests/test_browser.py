"""A rendered report and ``reports/index.html`` in a real browser (Debian's headless Chromium,
driven by Playwright; ``make browser`` installs it, ``playwright install`` is never used).

At desktop (1280 px) and phone (390 px) width each page is screenshotted and must load with
no console error and no request leaving the machine (every request is routed; anything not
``file:``/``data:`` is aborted and recorded), with every ``<img>`` decoded at a non-zero size,
and, at phone width, with no text wider than the screen (tables may scroll inside their own
wrapper). Printed to PDF, every page is A4 and no chart is cut across a page break.

The probes are first run on small pages built to fail them, so a probe that cannot see a
problem fails the suite instead of passing silently. Without Chromium the browser tests are
skipped with the reason, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import io
import os
import time

import pytest
from report_fixtures import YEARS, rendered, report_data  # noqa: F401 - fixtures
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import ProjectPaths
from kla_analysis.errors import KlaError
from kla_analysis.publish import screenshots

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
A4_PT = (595.28, 841.89)
#: A4 page content height in CSS px for the report's ``@page { margin: 14mm 12mm }``.
A4_CONTENT_PX = (297 - 2 * 14) / 25.4 * 96
VIEWPORTS = screenshots.VIEWPORTS
TIMINGS: dict[str, float] = {}
needs_browser = pytest.mark.browser

IMAGES_JS = """() => [...document.images].map(i => ({
    src: (i.currentSrc || i.src).slice(0, 40), complete: i.complete,
    width: i.naturalWidth, height: i.naturalHeight}))"""

#: Text blocks (outside table wrappers) wider than the viewport, and the page's scroll width.
OVERFLOW_JS = """() => {
    const W = window.innerWidth;
    const sel = "h1, h2, h3, h4, p, li, dt, dd, figcaption, summary, blockquote, pre, "
              + ".card, .notice, nav, footer, figure, .table-wrap";
    const out = [];
    for (const el of document.querySelectorAll(sel)) {
        if (el.parentElement && el.parentElement.closest(".table-wrap")) continue;
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > W + 1 || r.left < -1))
            out.push(`${el.tagName.toLowerCase()}.${el.className} [${Math.round(r.left)}, `
                     + `${Math.round(r.right)}] ${el.textContent.trim().slice(0, 40)}`);
    }
    return {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: W, offenders: out};
}"""

PRINT_JS = """() => [...document.querySelectorAll("figure")].map(f => ({
    breakInside: getComputedStyle(f).breakInside,
    imgHeight: Math.max(0, ...[...f.querySelectorAll("img")].map(i => i.getBoundingClientRect().height))}))"""
# SVG charts print as vector drawing, which the PDF check cannot follow across pages: each is
# swapped for a PNG of itself with the same box (layout, hence page breaks, are unchanged),
# so every chart of the printed page is an image the check can see.
RASTERISE_SVG_JS = """async () => {
    const imgs = [...document.querySelectorAll("img")].filter(
        i => i.src.startsWith("data:image/svg+xml"));
    for (const img of imgs) {
        const c = document.createElement("canvas");
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        c.getContext("2d").drawImage(img, 0, 0);
        img.src = c.toDataURL("image/png");
        await img.decode();
    }
    return imgs.length;
}"""


def _require_browser() -> None:
    reason = screenshots.unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI must run the browser tests, but: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    start = time.perf_counter()
    with screenshots.chromium() as b:
        TIMINGS["launch"] = time.perf_counter() - start
        yield b


@pytest.fixture(scope="module")
def pages(rendered) -> dict:  # noqa: F811
    batch = rendered["batch"]
    assert batch.returncode == 0, batch.stdout + batch.stderr
    out = {"report": rendered["city_dir"] / f"{max(YEARS)}-id.html",
           "index": rendered["paths"].reports_dir / "index.html"}
    for path in out.values():
        assert path.is_file(), path
    return out


# --- probes ---------------------------------------------------------------------------------

def offline_problems(v: screenshots.Visit) -> list[str]:
    """Everything that shows the page is not a clean offline page."""
    problems = [f"blocked request: {u}" for u in v.blocked]
    problems += [f"non-local request: {u}" for u in v.requests
                 if not u.startswith(screenshots.LOCAL_SCHEMES)]
    problems += [f"console error: {m}" for m in v.console_errors]
    return problems


def image_problems(page) -> tuple[int, list[str]]:
    images = page.evaluate(IMAGES_JS)
    bad = [f"image not loaded: {i['src']} ({i['width']}x{i['height']})" for i in images
           if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    return len(images), bad


def overflow_problems(page) -> list[str]:
    o = page.evaluate(OVERFLOW_JS)
    out = [f"text wider than the screen: {x}" for x in o["offenders"]]
    if o["scrollWidth"] > o["innerWidth"] + 1:
        out.append(f"page scrolls sideways: {o['scrollWidth']} > {o['innerWidth']} px")
    return out


def _image_ids(resources, seen_forms=None) -> set[int]:
    """Image XObjects a page draws, looking inside form XObjects too."""
    seen_forms = seen_forms if seen_forms is not None else set()
    ids: set[int] = set()
    xobjects = resources.get_object().get("/XObject") if resources else None
    for ref in (xobjects.get_object().values() if xobjects else []):
        obj = ref.get_object()
        key = getattr(ref, "idnum", id(obj))
        if obj.get("/Subtype") == "/Image":
            ids.add(key)
        elif obj.get("/Subtype") == "/Form" and key not in seen_forms:
            seen_forms.add(key)
            ids |= _image_ids(obj.get("/Resources"), seen_forms)
    return ids


def pdf_problems(pdf: bytes) -> tuple[int, int, list[str]]:
    """Pages that are not A4, and images drawn on more than one page (cut by a page break)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    problems, pages_of = [], {}
    for n, page in enumerate(reader.pages, start=1):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        if abs(w - A4_PT[0]) > 1 or abs(h - A4_PT[1]) > 1:
            problems.append(f"page {n} is {w:.1f} x {h:.1f} pt, not A4")
        for image in _image_ids(page.get("/Resources")):
            pages_of.setdefault(image, []).append(n)
    problems += [f"an image is split over pages {p}" for p in pages_of.values() if len(p) > 1]
    return len(reader.pages), len(pages_of), problems


def print_pdf(page) -> bytes:
    page.emulate_media(media="print")
    return page.pdf(format="A4", prefer_css_page_size=True, print_background=True)


# --- the probes see what they must see --------------------------------------------------------

def _png(width: int, height: int) -> str:
    import base64

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (0, 114, 178)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@needs_browser
def test_probes_catch_network_requests_broken_images_and_wide_text(browser, tmp_path):
    page_file = tmp_path / "bad.html"
    page_file.write_text(
        "<!doctype html><html><head><meta name=viewport content='width=device-width'>"
        "<link rel=stylesheet href='https://cdn.example.org/x.css'></head><body>"
        f"<img src='{_png(20, 10)}' alt=ok><img src='http://example.org/chart.png' alt=gone>"
        "<p style='width: 700px'>A paragraph wider than a phone</p>"
        "<script>fetch('https://example.org/beacon')</script></body></html>", encoding="utf-8")
    with screenshots.visit(browser, page_file, **VIEWPORTS["phone"]) as v:
        n, bad_images = image_problems(v.page)
        wide = overflow_problems(v.page)
        problems = offline_problems(v)
    assert {"https://cdn.example.org/x.css", "http://example.org/chart.png",
            "https://example.org/beacon"} <= {p.split(": ", 1)[1] for p in problems
                                               if p.startswith("blocked")}
    assert any(p.startswith("console error") for p in problems)
    assert n == 2 and len(bad_images) == 1 and "example.org" in bad_images[0]
    assert any("p." in w for w in wide) and any("sideways" in w for w in wide)


@needs_browser
def test_pdf_probe_sees_a_chart_cut_by_a_page_break_and_a_non_a4_page(browser, tmp_path):
    page_file = tmp_path / "tall.html"
    page_file.write_text(
        "<!doctype html><html><head><style>@page { size: A4; margin: 10mm }"
        "img { display: block; width: 300px; height: 1500px }</style></head><body>"
        f"<p>before</p><img src='{_png(30, 150)}' alt=tall></body></html>", encoding="utf-8")
    with screenshots.visit(browser, page_file) as v:
        _, _, problems = pdf_problems(print_pdf(v.page))
        letter = v.page.pdf(format="Letter")
    assert any("split over pages" in p for p in problems)
    assert any("not A4" in p for p in pdf_problems(letter)[2])


# --- the report and the index ---------------------------------------------------------------

@needs_browser
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", ["report", "index"])
def test_page_loads_offline_with_every_image_and_no_console_error(browser, pages, name,
                                                                  viewport, tmp_path):
    start = time.perf_counter()
    with screenshots.visit(browser, pages[name], **VIEWPORTS[viewport]) as v:
        n_images, bad_images = image_problems(v.page)
        text_problems = overflow_problems(v.page) if viewport == "phone" else []
        shot = v.page.screenshot(full_page=True, type="png")
        problems = offline_problems(v) + bad_images + text_problems
    TIMINGS[f"{name}-{viewport}"] = time.perf_counter() - start
    (tmp_path / f"{name}-{viewport}.png").write_bytes(shot)
    from PIL import Image

    assert Image.open(io.BytesIO(shot)).width == VIEWPORTS[viewport]["width"]
    assert not problems, "\n".join(problems)
    if name == "report":
        assert n_images >= 3, "the report should show its charts"
        assert v.requests and all(u.startswith("file:") or u.startswith("data:")
                                  for u in v.requests)


@needs_browser
@pytest.mark.parametrize("name", ["report", "index"])
def test_printed_pdf_is_a4_with_no_chart_cut_across_pages(browser, pages, name):
    start = time.perf_counter()
    with screenshots.visit(browser, pages[name], width=794, height=1123) as v:
        v.page.emulate_media(media="print")
        figures = v.page.evaluate(PRINT_JS)
        n_svg = v.page.evaluate(RASTERISE_SVG_JS)
        assert v.page.evaluate(PRINT_JS) == figures  # same boxes after the swap
        pdf = print_pdf(v.page)
    n_pages, n_images, problems = pdf_problems(pdf)
    TIMINGS[f"{name}-pdf"] = time.perf_counter() - start
    assert n_pages >= 1
    assert not problems, "\n".join(problems)
    # every chart is kept whole (break-inside: avoid) and fits on a page, so none can be cut
    assert all(f["breakInside"] == "avoid" for f in figures), figures
    assert all(f["imgHeight"] <= A4_CONTENT_PX for f in figures), figures
    if name == "report":  # and the PDF shows it: each chart's image on one page only
        assert n_svg >= 1 and figures and n_images >= len(figures) >= 3


# --- README screenshots (kla screenshots) ---------------------------------------------------

@needs_browser
def test_take_screenshots_saves_the_first_screens_at_desktop_and_phone_width(
        browser, rendered, tmp_path):  # noqa: F811
    from PIL import Image

    paths: ProjectPaths = rendered["paths"]
    start = time.perf_counter()
    shots = screenshots.take_screenshots(paths, out_dir=tmp_path, browser=browser)
    TIMINGS["screenshots"] = time.perf_counter() - start
    assert shots.skipped is None
    assert shots.report == rendered["city_dir"] / f"{max(YEARS)}-id.html"
    assert sorted(p.name for p in shots.files) == ["report-desktop.png", "report-phone.png"]
    for p in shots.files:
        img = Image.open(p)
        kind = p.stem.split("-")[1]
        assert img.width == VIEWPORTS[kind]["width"]
        assert 0 < img.height <= screenshots.CLIP_HEIGHT[kind]
        assert p.stat().st_size < 400_000


@needs_browser
def test_browser_timings_are_reported(browser, capsys):
    """Last in the module: prints how long each browser step took (see -s or -rA)."""
    if not TIMINGS:
        pytest.skip("no browser step ran")
    with capsys.disabled():
        print("\nbrowser timings (s): " + ", ".join(f"{k} {v:.2f}"
                                                 for k, v in TIMINGS.items()))


# --- without Chromium -----------------------------------------------------------------------

@pytest.fixture
def fake_reports(tmp_path) -> ProjectPaths:
    city = tmp_path / "reports" / "kota-x"
    city.mkdir(parents=True)
    for name in ("2021-id.html", "2023-id.html", "2023-en.html", "2024-en.html", "notes.html"):
        (city / name).write_text("<p>x</p>", encoding="utf-8")
    return ProjectPaths(tmp_path / "data", tmp_path / "reports")


def test_newest_report_picks_the_latest_year_in_the_language(fake_reports):
    d = fake_reports.reports_dir
    assert screenshots.newest_report(d, "id").name == "2023-id.html"
    assert screenshots.newest_report(d, "en").name == "2024-en.html"
    assert screenshots.newest_report(d, "id", 2021).name == "2021-id.html"
    with pytest.raises(KlaError, match="kla report"):
        screenshots.newest_report(d, "id", 2019)


def test_screenshots_are_skipped_with_the_reason_when_chromium_is_missing(
        fake_reports, monkeypatch):
    monkeypatch.setenv(screenshots.CHROMIUM_ENV, str(fake_reports.reports_dir / "no-chromium"))
    shots = screenshots.take_screenshots(fake_reports)
    assert shots.files == [] and "Chromium not found" in shots.skipped
    assert not (fake_reports.reports_dir / "screenshots").exists()
    result = CliRunner().invoke(app, ["screenshots", "--reports-dir",
                                      str(fake_reports.reports_dir)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "make browser" in result.output
    assert not (fake_reports.reports_dir / "screenshots").exists()


def test_readme_shows_the_committed_desktop_and_phone_screenshots():
    from PIL import Image

    from kla_analysis.config import PROJ_ROOT

    readme = (PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    for kind in VIEWPORTS:
        rel = f"reports/screenshots/report-{kind}.png"
        assert f"]({rel})" in readme, f"README does not embed {rel}"
        img = Image.open(PROJ_ROOT / rel)
        assert img.width == VIEWPORTS[kind]["width"]
        assert img.height <= screenshots.CLIP_HEIGHT[kind]
