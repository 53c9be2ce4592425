"""Is a page offline? Every network address a browser would fetch when the page opens.

Reports and the index must open with no network (a phone in the field, a printed copy made
from a laptop offline): the runner refuses to publish an HTML page that names any such
address. ``<a href>`` links are not fetched on opening and are allowed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_URL_ATTRS = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background",
              "xlink:href", "manifest", "cite", "longdesc"}
_LINK_TAGS = {"a", "area"}
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]+)", re.I)
_CSS_IMPORT = re.compile(r"@import\s+['\"]([^'\"]+)", re.I)


def _is_external(url: str) -> bool:
    u = url.strip().lower()
    if u.startswith(("data:", "#", "about:blank")):
        return False
    return bool(re.match(r"^(//|[a-z][a-z0-9+.-]*:)", u)) and not u.startswith(("file:", "mailto:"))


class _RefCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self._style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if tag in _LINK_TAGS and name == "href":
                continue  # a link the reader may follow; never fetched when the page opens
            if value and name in _URL_ATTRS:
                parts = value.split(",") if name == "srcset" else [value]
                self.refs += [p.strip().split(" ")[0] for p in parts]
            if value and name == "style":
                self.refs += _CSS_URL.findall(value)
        self._style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._style = False

    def handle_data(self, data):
        if self._style:
            self.refs += _CSS_URL.findall(data) + _CSS_IMPORT.findall(data)


def external_references(html: str) -> list[str]:
    """Every network URL in ``html`` that a browser would fetch when the page opens.

    ``<a href>`` links (e.g. a source's web address) are not fetched and are not listed.
    """
    parser = _RefCollector()
    parser.feed(html)
    return [r for r in parser.refs if _is_external(r)]
