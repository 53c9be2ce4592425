"""The parameters of a report run, checked where they enter (CLI, notebook, runner, index).

A report is one city, one evaluation year and one language. The same rules hold whether
the value comes from the command line, a papermill parameter or a cron job, so they live
here, below every stage: ``report`` and ``publish`` both check with these functions, and
neither needs the other to do it.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import KlaError

#: Evaluation years accepted (the first KLA evaluations were in 2006).
YEAR_MIN, YEAR_MAX = 2006, 2100
#: Report languages, default first.
LANGS = ("id", "en")
DEFAULT_LANG = "id"
#: Mimetype of the headline figures the notebook emits for the index (not shown in HTML).
HEADLINE_MIME = "application/vnd.kla-analysis.headline+json"


def parse_year(year: object) -> int:
    """An evaluation year as int; bools, text and out-of-range numbers are refused.

    >>> parse_year(" 2023 ")
    2023
    """
    if isinstance(year, bool) or not isinstance(year, int):
        if isinstance(year, str) and year.strip().isdigit():
            year = int(year.strip())
        else:
            raise KlaError(f"year must be a whole number such as 2023, got {year!r}")
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise KlaError(f"year {year} is out of range ({YEAR_MIN}-{YEAR_MAX})")
    return year


def check_lang(lang: object) -> str:
    """Return ``lang`` if it is a supported report language, else raise a KlaError."""
    if not isinstance(lang, str) or lang not in LANGS:
        raise KlaError(f"unknown report language {lang!r}; choose one of: {', '.join(LANGS)}")
    return lang


def city_slug(city: str) -> str:
    """Folder name for a city, ASCII only.

    >>> city_slug("Kota Banjarbaru"), city_slug("../../etc/passwd")
    ('kota-banjarbaru', 'etc-passwd')
    """
    ascii_ = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    if not slug:
        raise KlaError(f"city name {city!r} gives an empty folder name")
    return slug
