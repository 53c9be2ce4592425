"""A rendered report and ``reports/index.html`` in a real browser (Debian's headless Chromium,
driven by Playwright; ``make browser`` installs it, ``playwright install`` is never used).

At desktop (1280 px) and phone (390 px) width each page is screenshotted and must load with
no console error and no request leaving the machine (every request is routed; anything not
``file:``/``data:`` is aborted and recorded), with every ``<img>`` decoded at a non-zero size,
and, at phone width, with no text wider than the screen. Printed to PDF, every page is A4 and
no chart is cut across a page break.

The bundled Banjarbaru sample (20 kelurahan, the task force's own city) is built and its
newest year rendered in both languages (``bundled``); on it and on the index:

* axe-core (``axe-playwright-python``) finds no violation at 1280, 390 and 360 px, with every
  folded table opened; every text keeps 4.5:1 contrast in greyscale too;
* at 390 and 360 px no element is wider than the screen, no table cell cuts its content, and
  every chart's text shows at 11 px or more (charts are SVG: their smallest font size times
  the image's scale);
* printed on A4: the last row of every table (folded ones included) is in the PDF's text, no
  chart is split, chart text is 8 pt or more, the summary (``#headline``) ends on page 1 and
  the report has at most ``MAX_PAGES`` pages.

The probes are first run on small pages built to fail them, so a probe that cannot see a
problem fails the suite instead of passing silently. Without Chromium the browser tests are
skipped with the reason, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import time
import unicodedata

import pytest
from report_fixtures import YEARS, kla, rendered, report_data  # noqa: F401 - fixtures
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import PROJ_ROOT, ProjectPaths
from kla_analysis.errors import KlaError
from kla_analysis.publish import screenshots

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
A4_PT = (595.28, 841.89)
#: A4 page content height in CSS px for the report's ``@page { margin: 14mm 12mm }``.
A4_CONTENT_PX = (297 - 2 * 14) / 25.4 * 96
VIEWPORTS = screenshots.VIEWPORTS
#: Widths the layout and accessibility checks run at (CSS px): a laptop, a common phone
#: and a small one.
WIDTHS = {"desktop": 1280, "phone": 390, "small-phone": 360}
PHONES = ("phone", "small-phone")
#: The A4 page's content width in CSS px (print measurements are taken at this width).
A4_CONTENT_WIDTH_PX = round((210 - 2 * 12) / 25.4 * 96)
MIN_CHART_TEXT_PX = 11      # on a phone
MIN_PRINT_TEXT_PT = 8       # on paper
MIN_CONTRAST = 4.5
MAX_PAGES = 16              # a printed report of a city of 20 kelurahan
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


# --- phone layout, chart text, contrast, accessibility, print ------------------------------

OPEN_DETAILS_JS = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"

#: Every element wider than the screen (inside table wrappers too: a phone shows every
#: column without sideways scrolling) and every table cell whose content is wider than the
#: cell (a number cut mid-digit). Visually hidden elements (1 px boxes) are left out.
LAYOUT_JS = """() => {
    const W = document.documentElement.clientWidth;
    const tiny = el => { for (let e = el; e && e !== document.body; e = e.parentElement) {
        const r = e.getBoundingClientRect(); if (r.width <= 1 && r.height <= 1) return true; }
        return false; };
    const name = el => `${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]} `
        + `"${el.textContent.trim().slice(0, 30)}"`;
    const wide = [], clipped = [];
    for (const el of document.body.querySelectorAll("*")) {
        const r = el.getBoundingClientRect();
        if ((r.width === 0 && r.height === 0) || tiny(el)) continue;
        if (r.right > W + 1 || r.left < -1)
            wide.push(`${name(el)} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
    for (const c of document.querySelectorAll("td, th")) {
        if (!tiny(c) && c.scrollWidth > c.clientWidth + 1)
            clipped.push(`${name(c)} ${c.scrollWidth} > ${c.clientWidth} px`);
    }
    return {width: W, wide, clipped};
}"""

#: Per image: raster or SVG, and for SVG the smallest text as shown (its font size times the
#: image's shown width over its own width).
CHART_TEXT_JS = """() => [...document.querySelectorAll("img")].map(img => {
    const src = img.currentSrc || img.src;
    const shown = img.getBoundingClientRect().width;
    const out = {src: src.slice(0, 30), alt: img.alt.slice(0, 40), shown,
                 chart: !!img.closest("figure"), raster: !src.startsWith("data:image/svg+xml")};
    if (out.raster) return out;
    const b64 = src.slice(src.indexOf(",") + 1);
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "image/svg+xml");
    const root = doc.documentElement;
    const vb = (root.getAttribute("viewBox") || "").split(/[ ,]+/).map(Number);
    const own = vb.length === 4 && vb[2] > 0 ? vb[2] : parseFloat(root.getAttribute("width"));
    const size = t => { for (let e = t; e && e.getAttribute; e = e.parentNode) {
        const v = e.getAttribute("font-size"); if (v) return parseFloat(v); } return 16; };
    const sizes = [...doc.getElementsByTagName("text")].map(size);
    out.px = sizes.length ? Math.min(...sizes) * shown / own : null;
    return out;
}).filter(i => i.chart)"""

#: Texts whose contrast with their background, both turned to grey (Rec. 601 luma, as a
#: greyscale printer or screen does), is below the minimum.
GREY_CONTRAST_JS = """(minimum) => {
    const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const lin = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const luma = c => lin(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]);
    const bg = el => { for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length >= 3 && (c.length === 3 || c[3] >= 0.5)) return c; }
        return [255, 255, 255]; };
    const out = [];
    for (const el of document.body.querySelectorAll("*")) {
        if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        if (r.width <= 1 || r.height <= 1 || s.visibility === "hidden") continue;
        const fg = rgb(s.color), b = bg(el), a = fg.length > 3 ? fg[3] : 1;
        const f = [0, 1, 2].map(i => fg[i] * a + b[i] * (1 - a));
        const [hi, lo] = [luma(f), luma(b)].sort((x, y) => y - x);
        const ratio = (hi + 0.05) / (lo + 0.05);
        if (ratio < minimum)
            out.push(`${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]} `
                     + `"${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
    return out;
}"""

#: The text of the last row of every table, per cell (as shown; a cell not shown, in a
#: folded table, by its text content).
LAST_ROWS_JS = """() => [...document.querySelectorAll("table")].map(t => {
    const rows = t.tBodies.length ? t.tBodies[t.tBodies.length - 1].rows : t.rows;
    const last = rows[rows.length - 1];
    return last ? [...last.cells].map(c => c.innerText || c.textContent) : [];
}).filter(r => r.length)"""

#: The summary section's text (the output holding ``h2#headline``), or null.
HEADLINE_JS = """() => { const h = document.getElementById("headline");
    return h ? h.parentElement.innerText : null; }"""


def layout_problems(page) -> list[str]:
    """Elements wider than the screen and table cells that cut their content."""
    o = page.evaluate(LAYOUT_JS)
    out = [f"wider than the {o['width']} px screen: {w}" for w in o["wide"][:15]]
    out += [f"table cell cuts its content: {c}" for c in o["clipped"][:15]]
    return out


def chart_text_problems(page, minimum: float, unit: str = "px") -> list[str]:
    """Charts whose smallest text shows below ``minimum`` (px, or pt when printed), and raster
    charts, whose text size cannot be checked."""
    factor = 0.75 if unit == "pt" else 1.0
    out = []
    for c in page.evaluate(CHART_TEXT_JS):
        if c["raster"]:
            out.append(f"raster chart (its text cannot be checked): {c['src']} {c['alt']}")
        elif c["px"] is not None and c["px"] * factor < minimum - 1e-6:
            out.append(f"chart text {c['px'] * factor:.1f} {unit} < {minimum}: {c['alt']}")
    return out


def grey_contrast_problems(page) -> list[str]:
    return [f"greyscale contrast below {MIN_CONTRAST}:1: {x}"
            for x in page.evaluate(GREY_CONTRAST_JS, MIN_CONTRAST)]


def axe_problems(page) -> list[str]:
    """axe-core's violations (every rule axe runs by default), one line each."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [f"axe {v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['help']}; e.g. "
            f"{v['nodes'][0]['html'][:90]}" for v in result.response["violations"]]


def page_meta_problems(html: str, lang: str | None) -> list[str]:
    """A page without a meta description, without ``<html lang>``, or (a report) whose link
    to the other language is not marked as that language."""
    out = []
    m = re.search(r'<meta (?=[^>]*name="description")[^>]*content="([^"]*)"', html)
    if not m or len(m.group(1).strip()) < 40:
        out.append("no meta description (40+ characters) in <head>")
    elif html.index(m.group(0)) > html.find("</head>"):
        out.append("the meta description is not in <head>")
    if not re.search(r'<html lang="[a-z]{2}"', html):
        out.append("no <html lang>")
    if lang:
        other = "en" if lang == "id" else "id"
        if not re.search(rf'<a [^>]*hreflang="{other}" lang="{other}"', html):
            out.append(f"the link to the {other} report is not marked lang={other}")
        if lang != "id" and not re.search(r'<h1>[^<]*<span lang="id">', html):
            out.append("the city's name in the title is not marked lang=id")
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"\w[\w.,%/()+−–-]*", unicodedata.normalize("NFKC", text).casefold())


def _in_order(hay: list[str], needle: list[str], window: int = 80) -> bool:
    """``needle``'s words appear in ``hay`` in order, within ``window`` words of the first
    (a table cell's text wraps, so other cells' words may come between)."""
    if not needle:
        return True
    for start in (i for i, w in enumerate(hay) if w == needle[0]):
        k = 1
        for w in hay[start + 1:start + window]:
            if k < len(needle) and w == needle[k]:
                k += 1
        if k == len(needle):
            return True
    return False


def printed_problems(page, max_pages: int = MAX_PAGES) -> tuple[int, list[str]]:
    """The page printed on A4 (print media, as laid out at the A4 content width): what is
    missing or wrong in the PDF. Returns the page count and the problems."""
    from pypdf import PdfReader

    page.set_viewport_size({"width": A4_CONTENT_WIDTH_PX, "height": 1123})
    page.emulate_media(media="print")
    rows = page.evaluate(LAST_ROWS_JS)
    headline = page.evaluate(HEADLINE_JS)
    problems = chart_text_problems(page, MIN_PRINT_TEXT_PT, "pt")
    page.evaluate(RASTERISE_SVG_JS)
    pdf = print_pdf(page)
    n_pages, _, split = pdf_problems(pdf)
    problems += split
    texts = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    words = _words(" ".join(texts))
    for cells in rows:
        missing = [c.strip() for c in cells if c.strip() and not _in_order(words, _words(c))]
        if missing:
            problems.append(f"a table's last row is not in the PDF: {missing}")
    if headline is not None and not _in_order(_words(texts[0]), _words(headline)[-8:]):
        problems.append("the summary (#headline) does not end on page 1")
    if n_pages > max_pages:
        problems.append(f"{n_pages} pages printed, more than {max_pages}")
    return n_pages, problems


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


def _svg_chart(font_px: float, width: int = 300) -> str:
    """A chart image (SVG data URI) whose text is ``font_px`` px in its own size."""
    import base64

    doc = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" '
           f'viewBox="0 0 {width} 60"><text x="10" y="30" font-size="{font_px}">Kel. A</text>'
           "</svg>")
    return "data:image/svg+xml;base64," + base64.b64encode(doc.encode()).decode()


@needs_browser
def test_layout_probes_catch_wide_elements_cut_cells_small_chart_text_and_grey_contrast(
        browser, tmp_path):
    page_file = tmp_path / "phone.html"
    page_file.write_text(
        "<!doctype html><html lang=id><head><meta name=viewport content='width=device-width'>"
        "</head><body style='margin:0'>"
        "<div class=table-wrap style='overflow-x:auto'><table><tr>"
        "<td style='min-width:600px'>Poin hilang</td></tr></table></div>"
        "<table style='table-layout:fixed;width:40px'><tr>"
        "<td style='width:30px;overflow:hidden;white-space:nowrap'>1100000</td></tr></table>"
        f"<figure><img src='{_svg_chart(9)}' alt='svg chart' width=300 height=60></figure>"
        f"<figure><img src='{_png(30, 10)}' alt='png chart' width=300 height=100></figure>"
        "<p style='color:#D55E00'>ESTIMASI</p><p style='color:#595959'>muted is fine</p>"
        "<div style='position:absolute;width:1px;height:1px;overflow:hidden;"
        "clip-path:inset(50%)'><p style='width:900px'>visually hidden</p></div>"
        "</body></html>", encoding="utf-8")
    with screenshots.visit(browser, page_file, width=360, height=800) as v:
        layout = layout_problems(v.page)
        charts = chart_text_problems(v.page, MIN_CHART_TEXT_PX)
        grey = grey_contrast_problems(v.page)
    assert any("wider than" in p and "Poin hilang" in p for p in layout), layout
    assert any("cuts its content" in p and "1100000" in p for p in layout), layout
    assert not any("visually hidden" in p for p in layout), layout
    assert any("chart text 9.0 px" in p for p in charts) and any("raster" in p for p in charts)
    assert len(grey) == 1 and "ESTIMASI" in grey[0], grey  # #D55E00 is 4.48:1 in grey


@needs_browser
def test_axe_and_page_metadata_probes_catch_an_inaccessible_page(browser, tmp_path):
    html = ("<!doctype html><html><head><title>x</title></head><body><main><h1>x</h1>"
            "<p><span style='color:#D55E00'>ESTIMASI</span></p>"
            "<div style='overflow:auto;width:200px;height:50px'><p style='width:600px'>wide"
            "</p><p>and</p><p>tall</p></div></main></body></html>")
    page_file = tmp_path / "a11y.html"
    page_file.write_text(html, encoding="utf-8")
    with screenshots.visit(browser, page_file) as v:
        problems = axe_problems(v.page)
    ids = {p.split()[1] for p in problems}
    assert {"color-contrast", "scrollable-region-focusable", "html-has-lang"} <= ids, problems
    meta = page_meta_problems(html, "en")
    assert any("meta description" in p for p in meta) and any("<html lang>" in p for p in meta)
    assert any("lang=id" in p for p in meta) and any("the id report" in p for p in meta)


PROBE_REPORT_CSS = (PROJ_ROOT / "kla_analysis" / "templates" / "kla_report" / "static" /
                    "report.css")


@needs_browser
def test_print_probes_catch_folded_tables_long_summaries_small_chart_text_and_page_count(
        browser, tmp_path):
    body = ("<div><h2 id=headline>Ringkasan</h2><div style='height:1300px'></div>"
            "<p>akhir ringkasan nomor satu</p></div>"
            "<details><summary>Tabel</summary><table class=data><tbody><tr>"
            "<td>Kelurahan Terakhir Zeta</td><td>97,5%</td></tr></tbody></table></details>"
            f"<figure class=chart><img src='{_svg_chart(9)}' alt='kecil' width=300 height=60>"
            "</figure>" + "<div style='break-before:page'>halaman</div>" * 17)
    plain = tmp_path / "plain.html"
    plain.write_text(f"<!doctype html><html lang=id><body>{body}</body></html>",
                     encoding="utf-8")
    with screenshots.visit(browser, plain) as v:
        n_pages, problems = printed_problems(v.page)
    assert n_pages > MAX_PAGES and any(f"more than {MAX_PAGES}" in p for p in problems)
    assert any("Kelurahan Terakhir Zeta" in p for p in problems), problems  # folded: not printed
    assert any("does not end on page 1" in p for p in problems), problems
    assert any("chart text 6.8 pt" in p for p in problems), problems
    # the report's stylesheet prints a folded table open
    styled = tmp_path / "styled.html"
    styled.write_text(f"<!doctype html><html lang=id><head><style>"
                      f"{PROBE_REPORT_CSS.read_text(encoding='utf-8')}</style></head>"
                      f"<body>{body}</body></html>", encoding="utf-8")
    with screenshots.visit(browser, styled) as v:
        _, problems = printed_problems(v.page)
    assert not any("Kelurahan Terakhir Zeta" in p for p in problems), problems


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


# --- the bundled city (20 kelurahan): phone, accessibility, print ---------------------------

@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> dict:
    """The bundled Banjarbaru sample, built, with its newest year rendered in both languages:
    ``{"id": html, "en": html, "index": html}``."""
    import pandas as pd

    root = tmp_path_factory.mktemp("bundled")
    data, reports = root / "data", root / "reports"
    shutil.copytree(PROJ_ROOT / "data" / "raw", data / "raw")
    build = kla("build", "--data-dir", str(data))
    assert build.returncode == 0, build.stdout + build.stderr
    assert len(pd.read_parquet(data / "processed" / "gazetteer.parquet")) == 20  # kelurahan
    year = int(pd.read_parquet(data / "processed" / "self_assessment.parquet")["year"].max())
    run = kla("report", "--year", str(year), "--lang", "id", "--lang", "en", "--jobs", "2",
              "--data-dir", str(data), "--reports-dir", str(reports))
    assert run.returncode == 0, run.stdout + run.stderr
    city = next(p for p in reports.iterdir() if p.is_dir() and p.name != "screenshots")
    return {"id": city / f"{year}-id.html", "en": city / f"{year}-en.html",
            "index": reports / "index.html"}


@pytest.mark.parametrize("name", ["id", "en", "index"])
def test_pages_have_a_description_and_mark_the_other_language(bundled, name):
    html = bundled[name].read_text(encoding="utf-8")
    problems = page_meta_problems(html, None if name == "index" else name)
    assert not problems, "\n".join(problems)


@needs_browser
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", ["id", "en", "index"])
def test_axe_finds_no_violation_and_grey_contrast_holds(browser, bundled, name, width):
    start = time.perf_counter()
    with screenshots.visit(browser, bundled[name], width=WIDTHS[width], height=800) as v:
        v.page.evaluate(OPEN_DETAILS_JS)  # folded tables are checked too
        problems = axe_problems(v.page) + grey_contrast_problems(v.page)
    TIMINGS[f"axe-{name}-{width}"] = time.perf_counter() - start
    assert not problems, "\n".join(problems)


@needs_browser
@pytest.mark.parametrize("width", PHONES)
@pytest.mark.parametrize("name", ["id", "en", "index"])
def test_phone_shows_every_column_and_number_and_legible_chart_text(browser, bundled, name,
                                                                    width):
    with screenshots.visit(browser, bundled[name], width=WIDTHS[width], height=800) as v:
        v.page.evaluate(OPEN_DETAILS_JS)
        n_tables = v.page.evaluate("() => document.querySelectorAll('table').length")
        problems = layout_problems(v.page) + chart_text_problems(v.page, MIN_CHART_TEXT_PX)
        n_charts = len(v.page.evaluate(CHART_TEXT_JS))
    assert not problems, "\n".join(problems)
    if name != "index":  # the report's tables and charts were all looked at
        assert n_tables >= 10 and n_charts >= 10, (n_tables, n_charts)


@needs_browser
@pytest.mark.parametrize("name", ["id", "en"])
def test_printed_report_has_every_table_whole_charts_and_fits_the_page_budget(
        browser, bundled, name):
    start = time.perf_counter()
    with screenshots.visit(browser, bundled[name], width=A4_CONTENT_WIDTH_PX, height=1123) as v:
        n_pages, problems = printed_problems(v.page)
    TIMINGS[f"print-{name}"] = time.perf_counter() - start
    assert not problems, f"{n_pages} pages\n" + "\n".join(problems)


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
