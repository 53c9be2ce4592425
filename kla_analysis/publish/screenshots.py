"""The rendered reports in a real browser: offline page visits and README screenshots.

Uses Playwright for Python driving Debian's Chromium (``/usr/bin/chromium``, or the program
named by ``$KLA_CHROMIUM``), so ``playwright install`` is never needed; ``make browser``
installs the ``chromium`` package. Every page is opened offline: each request is routed,
and anything that is not ``file:`` or ``data:`` is aborted and recorded in
``Visit.blocked`` (a report that tried to load a web font or a CDN script shows up there).
Measurements in the page (``page.evaluate``) are not subject to the report's
Content-Security-Policy, which forbids the page's own scripts.

``kla screenshots`` (run by ``make report``) saves the first screens of the newest
Bahasa Indonesia report at desktop width (``report-desktop.png``) and phone width
(``report-phone.png``) to ``<reports>/screenshots/``, written atomically. Where Chromium or
Playwright is missing, it says why and writes nothing (``Shots.skipped``): screenshots are
optional, the reports are not.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_bytes
from ..config import ProjectPaths, project_paths
from ..errors import KlaError

CHROMIUM_ENV = "KLA_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Headless, offline, no background traffic (updates, sync, field trials) from Chromium itself.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync")
#: CSS pixel viewports: a laptop and a common phone (iPhone 12-15 class, 390 px wide).
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
#: Height of each README screenshot (CSS px): the first screen or two, not the whole report.
CLIP_HEIGHT = {"desktop": 1000, "phone": 1500}
LOCAL_SCHEMES = ("file:", "data:")
INSTALL_HINT = "`make browser` installs Debian's chromium"


def chromium_path() -> Path:
    """The Chromium program to drive: ``$KLA_CHROMIUM`` or ``/usr/bin/chromium``."""
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)


def unavailable_reason(executable: str | Path | None = None) -> str | None:
    """Why a browser cannot be started here (None when it can)."""
    exe = Path(executable) if executable else chromium_path()
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        extra = f" (another one is at {found}; set {CHROMIUM_ENV})" if found else ""
        return f"Chromium not found at {exe}{extra}; {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    return None


@contextlib.contextmanager
def chromium(executable: str | Path | None = None) -> Iterator:
    """A headless Chromium (Playwright ``Browser``), closed on exit.

    Raises ``KlaError`` with the reason when no browser can be started.
    """
    reason = unavailable_reason(executable)
    if reason:
        raise KlaError(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable or chromium_path()),
                                     args=list(CHROMIUM_ARGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """An open page plus what happened while it loaded."""

    page: object
    #: Console messages of type error and uncaught page errors (CSP violations land here).
    console_errors: list[str] = field(default_factory=list)
    #: Requests that were not ``file:``/``data:``; each was aborted.
    blocked: list[str] = field(default_factory=list)
    #: Every request the page made (``data:`` URLs shortened).
    requests: list[str] = field(default_factory=list)


def _short(url: str) -> str:
    return url[:40] + "..." if url.startswith("data:") and len(url) > 43 else url


@contextlib.contextmanager
def visit(browser, path: str | Path, width: int = 1280, height: int = 800,
          media: str | None = None) -> Iterator[Visit]:
    """Open a local file offline at the given viewport; the context closes on exit."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=1, service_workers="block")
    out = Visit(page=None)

    def route(r) -> None:
        url = r.request.url
        if url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            out.blocked.append(url)
            r.abort("blockedbyclient")

    try:
        context.route("**/*", route)
        page = context.new_page()
        out.page = page
        page.on("console", lambda m: out.console_errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda e: out.console_errors.append(f"page error: {e}"))
        page.on("request", lambda r: out.requests.append(_short(r.url)))
        if media:
            page.emulate_media(media=media)
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        yield out
    finally:
        context.close()


# --- README screenshots --------------------------------------------------------------------

_REPORT_NAME = re.compile(r"^(\d{4})-([a-z]{2})\.html$")


def newest_report(reports_dir: str | Path, lang: str = "id", year: int | None = None) -> Path:
    """The rendered report of ``year`` (default: the newest) in ``lang``, any city."""
    found = []
    for html in sorted(Path(reports_dir).glob("*/*.html")):
        m = _REPORT_NAME.match(html.name)
        if m and m.group(2) == lang and (year is None or int(m.group(1)) == year):
            found.append((int(m.group(1)), html))
    if not found:
        which = f"{year}-{lang}.html" if year else f"<year>-{lang}.html"
        raise KlaError(f"no rendered report {which} under {reports_dir}; run `kla report` first")
    return max(found, key=lambda f: f[0])[1]


def _small_png(png: bytes) -> bytes:
    """The screenshot with a 256-colour palette: a fraction of the size, text stays sharp."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    buf = io.BytesIO()
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def screenshot(browser, path: str | Path, viewport: str) -> bytes:
    """PNG of the first ``CLIP_HEIGHT[viewport]`` CSS px of a page at that viewport."""
    size = VIEWPORTS[viewport]
    with visit(browser, path, **size) as v:
        if v.blocked or v.console_errors:
            raise KlaError(f"{path}: not a clean offline page (blocked {v.blocked}, "
                           f"console errors {v.console_errors})")
        page_height = v.page.evaluate("() => document.scrollingElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": size["width"],
                "height": min(CLIP_HEIGHT[viewport], page_height)}
        return v.page.screenshot(full_page=True, clip=clip, type="png")


@dataclass
class Shots:
    """What ``take_screenshots`` did: the files written, or why it skipped."""

    files: list[Path] = field(default_factory=list)
    report: Path | None = None
    skipped: str | None = None


def take_screenshots(paths: ProjectPaths | None = None, year: int | None = None,
                     lang: str = "id", out_dir: str | Path | None = None,
                     executable: str | Path | None = None, browser=None) -> Shots:
    """Save ``report-desktop.png`` and ``report-phone.png`` of one rendered report.

    The report is ``year``'s (default: the newest) in ``lang`` under ``paths.reports_dir``;
    files go to ``out_dir`` (default ``<reports>/screenshots``). Returns ``Shots`` with
    ``skipped`` set, and writes nothing, when Chromium or Playwright is missing. Raises
    ``KlaError`` when there is no rendered report or the page is not clean offline.
    ``browser``: an open Playwright browser to reuse (one per thread); default: start one.
    """
    paths = paths or project_paths()
    report = newest_report(paths.reports_dir, lang, year)
    reason = None if browser is not None else unavailable_reason(executable)
    if reason:
        return Shots(report=report, skipped=reason)
    out = Path(out_dir) if out_dir else paths.reports_dir / "screenshots"
    shots = Shots(report=report)
    with contextlib.nullcontext(browser) if browser is not None else chromium(executable) as b:
        pngs = {name: _small_png(screenshot(b, report, name)) for name in VIEWPORTS}
    for name, png in pngs.items():
        shots.files.append(write_bytes(out / f"report-{name}.png", png))
    return shots
