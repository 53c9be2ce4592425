"""Report strings in Bahasa Indonesia (default) and English, read from ``data/i18n.yaml``
and the ``data/i18n_<part>.yaml`` files beside it (one per report part, so the strings of
the summary, the to-do list or the methodology live beside each other; a key defined twice
is an error, not a silent override).

``t("section.headline", "en")`` returns one string; placeholders are filled with
``str.format`` (the caller escapes values that come from data). Domain words (klaster,
predikat, data dukung, OPD, kelurahan, penilaian mandiri, Gugus Tugas) stay Indonesian in
both languages and are explained in ``glossary(lang)``. ``lang`` is checked once where a
run starts (``params.check_lang`` in ``load_report``, ``render``, ``build_index``), not here.

A string that counts something may have plural forms: ``en: {one: "{n} action", other:
"{n} actions"}``, chosen by the value of the count placeholder (``n``, or the one the
entry's ``count:`` names). An entry counting two things names both (``count: [n, points]``)
and nests the forms, the first count outermost. The form follows what the report prints:
English takes ``one`` when the count reads exactly ``1`` (``1,5`` and ``1.0`` take ``other``,
as in the CLDR rules); Indonesian nouns do not inflect, so it always takes ``other`` and
usually needs no forms at all.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

from ..config import package_file
from ..params import DEFAULT_LANG
from ..yamlfile import read_yaml

#: Plural categories a string may give (CLDR names); ``other`` is required.
PLURAL_FORMS = ("one", "other")
#: The count placeholder of a plural entry without ``count:``.
DEFAULT_COUNT = "n"


@lru_cache(maxsize=1)
def _doc() -> dict:
    main = package_file("i18n.yaml")
    base = read_yaml(main, "report strings")  # read-only: the merged document is a copy
    doc = {"languages": dict(base["languages"]),
           "strings": dict(base.get("strings") or {}),
           "measures": dict(base.get("measures") or {}),
           "glossary": list(base.get("glossary") or [])}
    for extra in sorted(main.parent.glob("i18n_*.yaml")):
        part = read_yaml(extra, "report strings")
        for section in ("strings", "measures"):
            new = part.get(section) or {}
            twice = sorted(set(new) & set(doc[section]))
            if twice:
                raise ValueError(f"{extra.name}: {section} defined twice: {', '.join(twice)}")
            doc[section].update(new)
        doc["glossary"].extend(part.get("glossary") or [])
    return doc


def keys() -> list[str]:
    """Every string key, in file order."""
    return list(_doc()["strings"])


def plural_form(count: object, lang: str) -> str:
    """The plural category of ``count`` as the report prints it: ``one`` or ``other``.

    >>> plural_form(1, "en"), plural_form("1,5", "en"), plural_form(2, "en"), plural_form(1, "id")
    ('one', 'other', 'other', 'other')
    """
    if lang != "en":
        return "other"
    text = str(count).strip().lstrip("+")
    return "one" if text == "1" else "other"


def count_names(key: str) -> tuple[str, ...]:
    """The count placeholders of ``key`` that choose its plural forms, outermost first."""
    names = _doc()["strings"][key].get("count", DEFAULT_COUNT)
    return (names,) if isinstance(names, str) else tuple(names)


def is_plural(key: str, lang: str) -> bool:
    """Whether the string ``key`` has plural forms in ``lang``."""
    return isinstance(_doc()["strings"][key][lang], Mapping)


def forms(key: str, lang: str) -> list[str]:
    """Every text of ``key`` in ``lang``: the string itself, or each of its plural forms."""
    def leaves(node: object) -> list[str]:
        if isinstance(node, Mapping):
            return [s for v in node.values() for s in leaves(v)]
        return [node]

    return leaves(_doc()["strings"][key][lang])


def _choose(node: object, names: tuple[str, ...], lang: str, values: Mapping) -> str:
    """The form of ``node`` for ``values``; a missing count or form falls back to ``other``."""
    for name in names:
        if not isinstance(node, Mapping):
            break
        form = plural_form(values[name], lang) if name in values else "other"
        node = node.get(form, node["other"])
    return node


def t(key: str, lang: str = DEFAULT_LANG, /, **values: object) -> str:
    """The string ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``; of a
    string with plural forms, the form for the count value.

    Raises KeyError for an unknown key, so a typo fails loudly in tests rather than showing
    an empty heading in a report.
    """
    entry = _doc()["strings"][key]
    text = _choose(entry[lang], count_names(key), lang, values)
    return text.format(**values) if values else text


def placeholders(key: str, lang: str) -> set[str]:
    """Names of the ``{placeholders}`` in a string, over all its forms (used by the tests)."""
    return {f for text in forms(key, lang) for _, f, _, _ in string.Formatter().parse(text)
            if f}


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
