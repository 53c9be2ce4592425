"""Report strings in Bahasa Indonesia (default) and English, read from ``data/i18n.yaml``
and the ``data/i18n_<part>.yaml`` files beside it (one per report part, so the strings of
the summary, the to-do list or the methodology live beside each other; a key defined twice
is an error, not a silent override).

``t("section.headline", "en")`` returns one string; placeholders are filled with
``str.format`` (the caller escapes values that come from data). Domain words (klaster,
predikat, data dukung, OPD, kelurahan, penilaian mandiri, Gugus Tugas) stay Indonesian in
both languages and are explained in ``glossary(lang)``. ``lang`` is checked once where a
run starts (``params.check_lang`` in ``load_report``, ``render``, ``build_index``), not here.
"""

from __future__ import annotations

import string
from functools import lru_cache

import pandas as pd

from ..config import package_file
from ..params import DEFAULT_LANG
from ..yamlfile import read_yaml


@lru_cache(maxsize=1)
def _doc() -> dict:
    main = package_file("i18n.yaml")
    doc = read_yaml(main, "report strings")
    for extra in sorted(main.parent.glob("i18n_*.yaml")):
        part = read_yaml(extra, "report strings")
        for section in ("strings", "measures"):
            new = part.get(section) or {}
            twice = sorted(set(new) & set(doc.get(section) or {}))
            if twice:
                raise ValueError(f"{extra.name}: {section} defined twice: {', '.join(twice)}")
            doc.setdefault(section, {}).update(new)
        doc.setdefault("glossary", []).extend(part.get("glossary") or [])
    return doc


def keys() -> list[str]:
    """Every string key, in file order."""
    return list(_doc()["strings"])


def t(key: str, lang: str = DEFAULT_LANG, /, **values: object) -> str:
    """The string ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``.

    Raises KeyError for an unknown key, so a typo fails loudly in tests rather than showing
    an empty heading in a report.
    """
    entry = _doc()["strings"][key]
    text = entry[lang]
    return text.format(**values) if values else text


def placeholders(key: str, lang: str) -> set[str]:
    """Names of the ``{placeholders}`` in a string (used by the tests)."""
    return {f for _, f, _, _ in string.Formatter().parse(_doc()["strings"][key][lang]) if f}


def glossary(lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """Domain words with their meaning: columns ``term, meaning``."""
    return pd.DataFrame([{"term": g["term"], "meaning": g[lang]} for g in _doc()["glossary"]])


def measure_label(measure: str, lang: str = DEFAULT_LANG) -> str:
    """Label of an agency statistic outside the catalog's headline measures.

    Unknown codes are shown readable (``child_forum_members`` -> ``Child forum members``).
    """
    entry = (_doc().get("measures") or {}).get(measure)
    if entry:
        return entry[lang]
    return str(measure).replace("_", " ").strip().capitalize()


def language_name(lang: str) -> str:
    return _doc()["languages"][lang]
