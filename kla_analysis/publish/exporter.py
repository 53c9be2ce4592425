"""The HTML exporter of the reports: nbconvert's lab exporter without its page-wide rewrite.

nbconvert's ``HTMLExporter.from_notebook_node`` renders the template and then parses the
whole page with BeautifulSoup, only to give every ``<img>`` without ``alt`` a placeholder
text and every cell input and output a ``tabindex``. On a report of 0.3 MB that parse and
re-serialisation took about 0.13 s, more than a third of what publishing adds to the notebook
run. A report needs neither rewrite:

- every chart is an ``<img>`` with its own ``alt`` written by the report (``SvgFigure``);
  ``missing_alt`` gives any other image the placeholder nbconvert would give it, with a
  pattern instead of a parser;
- inputs are excluded, and the output areas do not scroll (tables scroll inside their own
  focusable, labelled wrapper: ``formatting.html_table``), so a tab stop on each of the
  dozen output areas is only noise for a keyboard user.

The rest is ``HTMLExporter.from_notebook_node`` as nbconvert 7 writes it: the same filters
registered, then the template exporter's own rendering.
"""

from __future__ import annotations

import re

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

#: What nbconvert writes into an image that has no alternative text.
NO_ALT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)(?=[\s/>])", re.IGNORECASE)


def missing_alt(html: str) -> str:
    """``html`` with ``alt="NO_ALT"`` on every ``<img>`` that has no ``alt``.

    >>> missing_alt('<img src="a.svg"><img alt="x" src="b.svg">')
    '<img alt="No description has been provided for this image" src="a.svg"><img alt="x" src="b.svg">'
    """
    return _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT}"', html)


class ReportExporter(HTMLExporter):
    """``HTMLExporter`` without the BeautifulSoup pass (see the module docstring)."""

    def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[override]
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return missing_alt(html), resources


__all__ = ["NO_ALT", "ReportExporter", "missing_alt"]
