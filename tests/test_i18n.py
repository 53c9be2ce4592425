"""Report strings: both languages complete, placeholders consistent, glossary present."""

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
