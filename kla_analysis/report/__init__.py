"""Report stage: the numbers of each section (``sections``), their HTML (``html``), charts
(``plots``, ``svg``), number formatting, strings in Bahasa Indonesia and English (``i18n``),
terminal text (``text``), notebook tables (``display``), analyst views (``explore``,
``distributions``) and the to-do workbook (``export``). It reads the model's results and
the processed tables; it never imports ``ingest`` or ``publish``.

The notebooks call this small surface, re-exported here on purpose (see
``docs/architecture.md``)::

    from kla_analysis import report

    rep = report.load_report(year=2023, lang="id")     # one city and evaluation year
    report.show_title(rep)                             # HTML output in the notebook
    report.show_section(rep, "headline")               # any anchor of report.SECTIONS
    report.indicator_table(rep)                        # the numbers behind a section

Names resolve when first used (PEP 562), so importing ``kla_analysis.report.i18n`` (as the
publishing stage does) does not import pandas' plotting stack with every section.
"""

from __future__ import annotations

import importlib

#: Public name -> module of this package that defines it.
_EXPORTS = {
    **dict.fromkeys(
        ["Report", "load_report", "headline", "index_headline", "cluster_table",
         "indicator_table", "evidence_gaps", "trend_table", "kelurahan_views", "peers_table",
         "plan_result", "calibration_table", "methodology_table", "sources_table",
         "quality_notes", "trend_cluster_table", "weight_set_summary"], "sections"),
    **dict.fromkeys(["SECTIONS", "show_title", "show_section", "show_footer", "full_html"],
                    "html"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # looked up on every access (never cached here): a test that replaces
    # sections.load_report is seen through report.load_report too
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
