"""Report strings: both languages complete, placeholders consistent, glossary present."""

import re
import string
from collections.abc import Mapping

import pytest

from kla_analysis import params
from kla_analysis.errors import KlaError
from kla_analysis.report import i18n


def test_every_key_has_both_languages_with_the_same_placeholders():
    for key in i18n.keys():
        assert i18n.t(key, "id").strip(), f"{key} is empty in id"
        assert i18n.t(key, "en").strip(), f"{key} is empty in en"
        assert i18n.placeholders(key, "id") == i18n.placeholders(key, "en"), key


def test_strings_hold_no_html():
    # Strings are escaped as text in the report; markup inside them would show as "<b>".
    for key in i18n.keys():
        for lang in params.LANGS:
            assert "<" not in i18n.t(key, lang) and ">" not in i18n.t(key, lang), (key, lang)


def test_placeholders_are_filled_and_default_is_indonesian():
    assert i18n.t("report.title", city="Kota X", year=2023) == "Laporan Evaluasi KLA Kota X 2023"
    assert i18n.t("report.title", "en", city="Kota X", year=2023).startswith("KLA evaluation")


def test_unknown_key_and_language_fail_loudly():
    with pytest.raises(KeyError):
        i18n.t("section.no_such_heading", "id")
    with pytest.raises(KeyError):  # a leaf: no friendly message, but never a blank string
        i18n.t("report.title", "fr", city="x", year=1)
    with pytest.raises(KlaError):
        params.check_lang(None)


def test_every_entry_point_checks_the_language_once(tmp_path):
    """``load_report``, ``prepare_job`` (and so ``render``) and ``build_index`` refuse an
    unknown language with a message naming it, before any work is done."""
    from kla_analysis.publish.index import build_index
    from kla_analysis.publish.runner import prepare_job
    from kla_analysis.report.sections import load_report

    for call in (lambda: load_report(2023, lang="fr", data_dir=str(tmp_path)),
                 lambda: prepare_job(2023, "fr"),
                 lambda: build_index(tmp_path / "reports", lang="fr")):
        with pytest.raises(KlaError, match="unknown report language 'fr'"):
            call()
    assert not (tmp_path / "reports").exists()


def test_section_headings_are_numbered_one_to_ten_in_both_languages():
    for lang in params.LANGS:
        numbers = [i18n.t(k, lang).split(".")[0] for k in i18n.keys() if k.startswith("section.")]
        assert numbers == [str(n) for n in range(1, 11)]


def test_glossary_explains_the_domain_words_in_both_languages():
    for lang in params.LANGS:
        g = i18n.glossary(lang)
        assert list(g.columns) == ["term", "meaning"]
        terms = " ".join(g["term"]).casefold()
        for word in ("klaster", "predikat", "data dukung", "opd", "kelurahan",
                     "penilaian mandiri", "gugus tugas"):
            assert word in terms, (lang, word)
        assert g["meaning"].str.len().gt(10).all()
    assert (i18n.glossary("id")["meaning"] != i18n.glossary("en")["meaning"]).all()


def test_measure_labels_known_and_unknown():
    assert i18n.measure_label("immunisation_complete", "id").startswith("Persentase bayi")
    assert i18n.measure_label("immunisation_complete", "en").startswith("Share of infants")
    assert i18n.measure_label("new_agency_count", "id") == "New agency count"


# --- plural forms ---------------------------------------------------------------------------

#: English nouns a count placeholder may stand before; "1 <noun>" must never print.
PLURAL_NOUNS = ("actions", "items", "indicators", "years", "rows", "blocks", "files", "points",
                "combinations", "draws", "settings", "steps", "cases")


def _depth(node) -> int:
    return 1 + max(_depth(v) for v in node.values()) if isinstance(node, Mapping) else 0


def test_plural_entries_are_well_formed():
    """Every plural string: CLDR form names with ``other`` at each level, at most one level
    per count placeholder, the ``other`` form holding every placeholder and the counts."""
    plural = [(k, lang) for k in i18n.keys() for lang in params.LANGS if i18n.is_plural(k, lang)]
    assert plural, "no string has plural forms"
    for key, lang in plural:
        entry = i18n._doc()["strings"][key][lang]

        levels = [entry]
        while levels:
            node = levels.pop()
            if isinstance(node, Mapping):
                assert set(node) <= set(i18n.PLURAL_FORMS) and "other" in node, (key, lang)
                levels += list(node.values())
        assert 1 <= _depth(entry) <= len(i18n.count_names(key)), key
        # a "one" form may leave the count out ("The indicator losing the most points")
        other = i18n.t(key, lang)
        names = {f for _, f, _, _ in string.Formatter().parse(other) if f}
        assert i18n.placeholders(key, lang) == names, (key, lang)
        assert set(i18n.count_names(key)) <= names, (key, lang)


def test_plural_chooser_follows_the_printed_count():
    assert i18n.plural_form(1, "en") == "one"
    assert i18n.plural_form("1", "en") == "one" and i18n.plural_form("+1", "en") == "one"
    for other in (0, 2, 11, 1.5, "1,5", "1.0", "21"):
        assert i18n.plural_form(other, "en") == "other", other
    assert {i18n.plural_form(n, "id") for n in (0, 1, 2)} == {"other"}  # no inflection


def test_t_picks_the_form_for_each_count():
    one = i18n.t("plan.opd_heading", "en", opd="Dinkes", n=1, gain="1")
    many = i18n.t("plan.opd_heading", "en", opd="Dinkes", n=3, gain="2,5")
    assert "1 action," in one and "+1 point" in one and one.endswith("point")
    assert "3 actions," in many and many.endswith("points")
    assert i18n.t("quality.illustrative", "en", n=1).startswith("1 source file holds")
    assert i18n.t("quality.illustrative", "en", n=2).startswith("2 source files hold")
    # Indonesian does not inflect: the same noun for one and many
    assert "1 tindakan" in i18n.t("plan.opd_heading", "id", opd="X", n=1, gain="1")
    # without the count, the "other" form (so headings and tests can read the string)
    assert i18n.t("quality.illustrative", "en").startswith("{n} source files")


#: The string files this check covers (each i18n_<part>.yaml joins once its part is fixed).
CHECKED_FILES = ("i18n.yaml", "i18n_methodology.yaml")


def _keys_of(files) -> list[str]:
    from kla_analysis.config import package_file
    from kla_analysis.yamlfile import read_yaml

    return [k for f in files for k in read_yaml(package_file(f), "report strings")["strings"]]


@pytest.mark.parametrize("lang", params.LANGS)
def test_no_string_prints_one_with_a_plural_noun(lang):
    """Every string with every placeholder filled with 1: never "1 actions", "1 data dukung
    items" and the like (the plural forms exist for this)."""
    noun = re.compile(r"\b1 (?:[\w-]+ ){0,2}(" + "|".join(PLURAL_NOUNS) + r")\b")
    for key in _keys_of(CHECKED_FILES):
        text = i18n.t(key, lang, **{p: 1 for p in i18n.placeholders(key, lang)})
        assert not noun.search(text), (key, text)
