"""Text is normalised before it is matched (kla_analysis.ingest.cleaning's module docstring):
NFC, every kind of space trimmed and collapsed, zero-width characters removed, and a symbol
(emoji, maths or currency sign, private-use or unassigned code point) keeps a name, header
or label from matching instead of being dropped silently.

Each end-to-end case is a minimal raw folder (the bad-input corpus' valid ``base/`` with one
file replaced, as tests/test_bad_inputs.py places its cases) run through ``validate_data``.
"""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kla_analysis.config import ProjectPaths
from kla_analysis.ingest import cleaning as cl
from kla_analysis.ingest.gazetteer import kelurahan_lookup, resolve_names
from kla_analysis.ingest.specs import DatasetSpec, FieldSpec, header_key, header_targets
from kla_analysis.ingest.validate import validate_data

BASE = Path(__file__).parent / "fixtures" / "bad_inputs" / "base"
MARKS = ["", "-", "n/a", "na"]


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


# Gazetteer of Kota Contoh with composed (NFC) spellings among the listed variants.
GAZETTEER = (
    "Kota,Kecamatan,Kelurahan,Varian Ejaan,Varian Kecamatan\n"
    "Kota Contoh,Utara,Sukamaju,Suka Maju,\n"
    "Kota Contoh,Utara,Sukarame,,\n"
    f"Kota Contoh,Selatan,Mekarsari,Mekar Sari | {nfc('Mekàrsari')},{nfc('Selatàn')}\n")
LONG_HEADER = "Kecamatan;Kelurahan;Tahun Data;Ukuran;Pembilang;Penyebut;Nilai;Satuan\n"
MEASURE = "Cakupan akta kelahiran anak"


def raw_folder(tmp_path: Path, statistics: str, gazetteer: str = GAZETTEER) -> ProjectPaths:
    """base/ with the gazetteer and the statistics file replaced (UTF-8, as given)."""
    shutil.copytree(BASE, tmp_path / "data")
    paths = ProjectPaths(tmp_path / "data", tmp_path / "reports")
    (paths.raw / "gazetteer" / "wilayah.csv").write_text(gazetteer, encoding="utf-8")
    (paths.raw / "statistics" / "statistik.csv").write_text(statistics, encoding="utf-8")
    return paths


def problems(paths: ProjectPaths) -> list[tuple]:
    res = validate_data(paths)
    return [(p["row"], p["column"], p["rule"]) for p in res.problems.to_dict("records")]


# ---------------------------------------------------------------- decomposed (NFD) names


def test_nfd_place_names_match_their_listed_nfc_variants(tmp_path):
    stats = (LONG_HEADER
             + f"Utara;Sukamaju;2022;{MEASURE};900;1.000;90,0;persen\n"
             + f"{nfd('Selatàn')};{nfd('Mekàrsari')};2022;{MEASURE};700;800;87,5;persen\n")
    assert nfd("Mekàrsari") != nfc("Mekàrsari")  # the fixture really holds two encodings
    paths = raw_folder(tmp_path, stats)
    res = validate_data(paths)
    assert res.ok, res.problems.to_dict("records")
    st = res.tables["statistics"]
    assert sorted(st["area"]) == ["Mekarsari", "Sukamaju"]
    assert st.set_index("area").loc["Mekarsari", "kecamatan"] == "Selatan"


def test_nfd_wide_layout_name_matches_its_nfc_variant(tmp_path):
    """Two measures per row: the row is checked once per measure, and a refused name was
    listed once per measure (twice here)."""
    stats = ("Kecamatan;Kelurahan;Tahun Data;APK PAUD;APS 16-18\n"
             "Utara;Sukamaju;2022;90;80\n"
             f"Selatan;{nfd('Mekàrsari')};2022;70;60\n")
    paths = raw_folder(tmp_path, stats)
    assert problems(paths) == []


@pytest.mark.parametrize("form", [nfc, nfd], ids=["nfc", "nfd"])
def test_an_unlisted_accented_name_is_one_unknown_kelurahan_in_either_form(tmp_path, form):
    """Accents count (a spelling with an accent is a variant to list), whatever the encoding:
    the decomposed spelling used to match "Sukamaju" silently (its accent became a space)."""
    stats = LONG_HEADER + f"Utara;{form('Sukamajù')};2022;{MEASURE};900;1.000;90,0;persen\n"
    paths = raw_folder(tmp_path, stats)
    res = validate_data(paths)
    got = res.problems.to_dict("records")
    assert [(p["row"], p["column"], p["rule"]) for p in got] == [
        (2, "Kelurahan", "unknown_kelurahan")], got
    assert "closest known: Sukamaju" in got[0]["hint"]


def test_an_unknown_name_in_a_wide_table_is_listed_once(tmp_path):
    stats = ("Kecamatan;Kelurahan;Tahun Data;APK PAUD;APS 16-18\n"
             f"Utara;{nfd('Sukamajù')};2022;90;80\n")
    paths = raw_folder(tmp_path, stats)
    assert problems(paths) == [(2, "Kelurahan", "unknown_kelurahan")]


def test_nfd_gazetteer_names_are_stored_composed(tmp_path):
    gaz = GAZETTEER.replace("Mekarsari,Mekar Sari", nfd("Mekàrsari") + ",Mekar Sari")
    stats = LONG_HEADER + f"Selatan;{nfc('Mekàrsari')};2022;{MEASURE};700;800;87,5;persen\n"
    res = validate_data(raw_folder(tmp_path, stats, gaz))
    assert res.ok, res.problems.to_dict("records")
    assert nfc("Mekàrsari") in set(res.tables["gazetteer"]["kelurahan"])
    assert list(res.tables["statistics"]["area"]) == [nfc("Mekàrsari")]


# ---------------------------------------------------------------- symbols in names


def test_an_emoji_after_a_name_is_not_a_silent_match(tmp_path):
    stats = (LONG_HEADER
             + f"Utara;Sukamaju 🙂;2022;{MEASURE};900;1.000;90,0;persen\n"
             + f"Utara 🙂;Sukarame;2022;{MEASURE};850;1.000;85,0;persen\n")
    res = validate_data(raw_folder(tmp_path, stats))
    got = res.problems.to_dict("records")
    assert [(p["row"], p["column"], p["rule"], p["value"]) for p in got] == [
        (2, "Kelurahan", "unknown_kelurahan", "Sukamaju 🙂"),
        (3, "Kecamatan", "unknown_kecamatan", "Utara 🙂")], got
    assert "closest known: Sukamaju" in got[0]["hint"]
    assert "closest known: Utara" in got[1]["hint"]


@pytest.mark.parametrize("symbol", [
    "🙂",        # So, emoji
    "\u2122",   # So, trade mark sign
    "^",        # Sk
    "\u02c6",   # Sk, modifier circumflex
    "+",        # Sm
    "\u2264",   # Sm, less-than or equal
    "$",        # Sc
    "\ue000",   # Co, private use
    "\U000e0001",  # Cf, language tag
    "\u0378",   # Cn, unassigned
])
def test_symbols_keep_a_name_from_matching(symbol):
    plain = cl.name_key(pd.Series(["Guntung Manggis"])).iloc[0]
    for written in (f"Guntung Manggis {symbol}", f"Guntung{symbol}Manggis", f"{symbol}Guntung "
                    "Manggis"):
        assert cl.name_key(pd.Series([written])).iloc[0] != plain, (written, symbol)
    assert header_key(f"Kelurahan {symbol}") != header_key("Kelurahan")


@pytest.mark.parametrize("written", [
    "Guntung Manggis.", "Guntung-Manggis", "Guntung, Manggis", "Guntung/Manggis",
    "(Guntung) Manggis", "Guntung & Manggis", "Guntung Manggis*",
])
def test_punctuation_names_use_still_separates_words(written):
    key = cl.name_key(pd.Series([written, "Guntung Manggis"]))
    assert key.iloc[0].replace(" & ", " ") == key.iloc[1]


def test_apostrophes_of_every_kind_are_one_punctuation_mark():
    names = ["Ma'ruf", "Ma\u2019ruf", "Ma\u2018ruf", "Ma`ruf", "Ma\u00b4ruf", "Ma\u02bcruf"]
    assert set(cl.name_key(pd.Series(names))) == {"ma ruf"}


def test_letters_of_any_script_are_name_characters():
    """Non-Latin names no longer collapse to an empty key (that matched every other one)."""
    keys = cl.name_key(pd.Series(["كمڤوڠ", "ꦱꦸꦏ", "Dalàm", "Dalam"]))
    assert keys.iloc[0] == "كمڤوڠ" and keys.iloc[1] == "ꦱꦸꦏ"
    assert keys.iloc[2] == "dalàm" and keys.iloc[2] != keys.iloc[3]


def test_resolve_names_unknown_with_symbol_hints_the_plain_name():
    gaz = pd.DataFrame({"city": ["Kota Contoh"] * 2, "kecamatan": ["Utara"] * 2,
                        "kelurahan": ["Guntung Manggis", "Sukamaju"]})
    res = resolve_names(pd.Series(["Kota Contoh"] * 3),
                        pd.Series(["Guntung Manggis 🙂", nfd("Guntung Manggis"), "Sukamaju"]),
                        kelurahan_lookup(gaz), ["kecamatan", "kelurahan"])
    assert list(res["unknown"]) == [True, False, False]
    assert res["closest"].iloc[0] == "Guntung Manggis"


@pytest.mark.parametrize("column, cell, rule", [
    ("Kelurahan", "Sukamaju\u202e", "unsafe_character"),
    ("Kelurahan", "Suka\u2066maju", "unsafe_character"),
    ("Kelurahan", "Suka\x07maju", "control_character"),
    ("Tahun Data", "2022\u202e", "unsafe_character"),
])
def test_a_control_or_bidi_character_is_one_problem_not_also_an_unknown_name(
        tmp_path, column, cell, rule):
    """The validator reports these characters per cell (naming the code point); matching
    does not add a second problem (unknown_kelurahan, not_a_year) for the same cause."""
    cells = {"Kelurahan": "Sukamaju", "Tahun Data": "2022"} | {column: cell}
    stats = (LONG_HEADER + f"Utara;{cells['Kelurahan']};{cells['Tahun Data']};{MEASURE};900;"
             "1.000;90,0;persen\n")
    assert [p[1:] for p in problems(raw_folder(tmp_path, stats))] == [(column, rule)]


# ---------------------------------------------------------------- spaces and invisible chars


SPACES = ["\xa0", "\u202f", "\u2007", "\u3000", "\u2002", "\t", "\n", "\r\n"]
INVISIBLE = ["\u200b", "\u2060", "\ufeff", "\u200d"]


@pytest.mark.parametrize("space", SPACES)
def test_every_space_is_a_space_in_text_and_keys(space):
    s = pd.Series([f"{space}Dinas{space}{space}Kesehatan{space}"])
    assert cl.squeeze(s).iloc[0] == "Dinas Kesehatan"
    assert cl.clean_text(s).iloc[0] == "Dinas Kesehatan"
    assert header_key(f"Tahun{space}Data{space}") == "tahun data"
    assert cl.choice_key(pd.Series([f"tidak{space}ada"])).iloc[0] == "tidak ada"


@pytest.mark.parametrize("mark", INVISIBLE)
def test_zero_width_characters_are_removed_before_matching(mark):
    assert cl.squeeze(pd.Series([f"{mark}Suka{mark}rame{mark}"])).iloc[0] == "Sukarame"
    assert header_key(f"{mark}Kelu{mark}rahan{mark}") == "kelurahan"
    assert cl.name_key(pd.Series([f"Suka{mark}rame"])).iloc[0] == "sukarame"


def test_nfd_header_is_recognised():
    spec = DatasetSpec(name="t", folder="t", title_id="t", key=("wilayah",), fields={
        "wilayah": FieldSpec("wilayah", (nfc("Wilàyah Kelurahan"),), "text"),
        "nilai": FieldSpec("nilai", ("Nilai",), "number")})
    targets = header_targets(spec)
    assert targets.get(header_key(nfd("WILÀYAH  KELURAHAN"))) == "wilayah"
    assert header_key(nfd("Wilàyah")) == header_key(nfc("Wilàyah")) == nfc("wilàyah")
    got = cl.keys(pd.Series([nfd("Wilàyah\u00a0Kelurahan"), nfc("wilàyah kelurahan")]))
    assert got.iloc[0] == got.iloc[1] == header_key(nfc("Wilàyah Kelurahan"))


def test_vectorised_keys_equal_header_key_for_every_printable_ascii_and_more():
    """``keys`` takes a vectorised path for plain ASCII text and a per-value one otherwise;
    both give ``header_key``'s result."""
    texts = [f"a{chr(c)}b" for c in range(32, 127)] + [f"{chr(c)}" for c in range(32, 127)]
    texts += ["Nilai (%)", "APK PAUD (%)", "% Akta", "Kel. Sei~Tiung", "x\x07y", "x\x1fy",
              nfd("Wilàyah"), "a\u2013b", "Tahun\u00a0Data", "é+ü", "İstanbul", "Straße 🙂"]
    s = pd.Series(texts, dtype="str")
    assert list(cl.keys(s)) == [header_key(t) for t in texts]
    assert list(cl.keys(s.astype(object))) == [header_key(t) for t in texts]


# ---------------------------------------------------------------- values written as text


@pytest.mark.parametrize("text, decimal, count, expected", [
    ("1\u00a0234,5", ",", False, 1234.5),  # NBSP groups thousands like a space
    ("1 234,5", ",", False, 1234.5),
    ("1\u2007234,5", ",", False, 1234.5),  # figure space
    ("1\u3000234", ",", True, 1234.0),     # ideographic space
    ("1.234,5\u200b", ",", False, 1234.5),  # zero-width space after
    ("\ufeff85,5\u00a0%", ",", False, 85.5),
    ("\u206090", ",", False, 90.0),
])
def test_numbers_with_any_space(text, decimal, count, expected):
    res = cl.parse_numbers(pd.Series([text], dtype="str"), decimal, count, MARKS)
    assert res["value"].iloc[0] == pytest.approx(expected) and not res["bad"].iloc[0]


@pytest.mark.parametrize("text", ["n/a\u200b", "\u3000-\u3000", "\ufeff", "N/A\u2007",
                                  "\u00a0", "\u200b\u2060"])
def test_missing_markers_with_any_space(text):
    res = cl.parse_numbers(pd.Series([text], dtype="str"), ",", False, MARKS)
    assert np.isnan(res["value"].iloc[0]) and not res["bad"].iloc[0]
    assert cl.missing_mask(pd.Series([text], dtype="str"), MARKS).iloc[0]


def test_years_indicators_items_dates_and_choices_with_any_space():
    years = cl.parse_years(pd.Series(["2023\u200b", "Tahun\u30002022", "\ufeff2021"]))
    assert list(years["value"]) == [2023, 2022, 2021] and not years["bad"].any()
    ind = cl.parse_indicators(pd.Series(["4\u200b", "Indikator\u20075", "Ind.\u30006"]))
    assert list(ind["value"]) == [4, 5, 6] and not ind["bad"].any()
    items = cl.parse_item_codes(pd.Series(["4.1\ufeff", "\u200b10.2", "Kode\u20073.1"]))
    assert list(items["value"]) == ["4.1", "10.2", "3.1"] and not items["bad"].any()
    dates = cl.parse_dates(pd.Series(["12\u00a0Maret\u20072023", "2023-03-01\u200b"]))
    assert [str(d)[:10] for d in dates["value"]] == ["2023-03-12", "2023-03-01"]
    choices = {"ada": ["ada"], "tidak_ada": ["tidak ada"]}
    res = cl.parse_choices(pd.Series(["Ada\u200b", "tidak\u3000ada", "\u2060tidak_ada"]),
                           choices)
    assert list(res["value"]) == ["ada", "tidak_ada", "tidak_ada"] and not res["bad"].any()
    assert cl.parse_title_year("REKAP\u2007TAHUN\u200b 2023") == 2023


def test_choices_and_measures_in_nfd_match_their_nfc_spelling():
    res = cl.parse_choices(pd.Series([nfd("Sudàh"), nfc("SUDÀH")]),
                           {"sudah": [nfc("sudàh")]})
    assert list(res["value"]) == ["sudah", "sudah"]


def test_headers_and_cells_with_odd_spaces_end_to_end(tmp_path):
    stats = ("\ufeffKecamatan;Kelu\u200brahan;Tahun\u00a0Data;Ukuran\u202f;Pembilang;"
             "Penyebut\u3000;Nilai\u2060;Satuan\n"
             f"Utara\u00a0;Suka\u200brame;2022\u200b;{MEASURE}\u2007;850;1\u2007000;"
             "85,0\u200b;persen\u3000\n"
             f"Selatan;\u2060Mekar\u202fSari;\ufeff2022;{nfd(MEASURE)};700;800;-\u200b;"
             "persen\n")
    res = validate_data(raw_folder(tmp_path, stats))
    assert res.ok, res.problems.to_dict("records")
    st = res.tables["statistics"].set_index("area")
    assert st.loc["Sukarame", ["value", "denominator"]].tolist() == [85.0, 1000.0]
    assert st.loc["Mekarsari", "value"] == pytest.approx(87.5)  # "-": computed from counts
    assert set(st["data_year"]) == {2022}
