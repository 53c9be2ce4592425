"""Number formats per language and escaping of data-derived strings in HTML fragments."""

import math
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from kla_analysis.report import formatting as f


@pytest.mark.parametrize(("value", "lang", "decimals", "expected"), [
    (1234.5, "id", 1, "1.234,5"), (1234.5, "en", 1, "1,234.5"),
    (1234567.891, "id", 2, "1.234.567,89"), (0, "id", 1, "0,0"), (-3.25, "en", 2, "−3.25"),
    (-0.04, "id", 1, "0,0"), (999.96, "id", 1, "1.000,0"),
])
def test_fmt_number(value, lang, decimals, expected):
    assert f.fmt_number(value, lang, decimals) == expected


def test_points_trim_trailing_zeros_and_missing_is_a_dash_not_zero():
    assert f.fmt_points(946.45, "id") == "946,45"
    assert f.fmt_points(979.0, "id") == "979"
    assert f.fmt_points(652.5, "en") == "652.5"
    for missing in (None, math.nan, pd.NA):
        assert f.fmt_points(missing, "id") == f.MISSING
        assert f.fmt_percent(missing, "en") == f.MISSING
    assert f.fmt_points(0, "id") == "0"


def test_percent_signed_range_and_values_in_units():
    assert f.fmt_percent(85.5, "id") == "85,5%"
    assert f.fmt_percent(85.5, "en") == "85.5%"
    assert f.fmt_signed(12.5, "id") == "+12,5"
    assert f.fmt_signed(-3, "id") == "−3"
    assert f.fmt_signed(0, "en") == "0"
    assert f.fmt_range(610, 690.5, "id") == "610–690,5"
    assert f.fmt_value(1234, "count", "id") == "1.234"
    assert f.fmt_value(97.26, "percent", "en") == "97.3%"


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_id_and_en_formats_are_mirror_images(x):
    id_, en = f.fmt_number(x, "id", 2), f.fmt_number(x, "en", 2)
    assert id_.translate(str.maketrans({".": ",", ",": "."})) == en
    # the English form parses back to the rounded value
    assert float(en.replace(",", "").replace("−", "-")) == pytest.approx(round(x, 2), abs=0.006)


def test_predicate_label_names_the_state_below_the_lowest_band():
    assert f.predicate_label("Madya", "id") == "Madya"
    assert f.predicate_label(None, "id") == "Belum berpredikat"
    assert f.predicate_label(None, "en") == "No predikat"


def test_html_table_escapes_headers_and_cells_but_keeps_markup():
    df = pd.DataFrame({"<b>col</b>": ["<script>alert(1)</script>", None],
                       "n": f.markup_column(["1.234", Markup("<em>ok</em>")])})
    html = f.html_table(df, numeric=["n"], cell_classes={"n": ["met", None]},
                        caption="a & b")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;col&lt;/b&gt;" in html
    assert "<em>ok</em>" in html
    # every cell names its column (the phone's card layout shows it); the first column
    # names the row (its title on a phone)
    assert f'<td data-label="&lt;b&gt;col&lt;/b&gt;" class="key">{f.MISSING}</td>' in html
    assert '<td data-label="n" class="num met">1.234</td>' in html
    assert "<caption>a &amp; b</caption>" in html
    # a scrolling wrapper is a named, keyboard-focusable region
    assert html.startswith('<div class="table-wrap" role="region" tabindex="0" '
                           'aria-label="a &amp; b">')


def test_html_table_without_a_caption_is_a_group_named_by_its_columns():
    html = f.html_table(pd.DataFrame({"Kota": ["A"], "Tahun": ["2023"]}))
    assert html.startswith('<div class="table-wrap" role="group" tabindex="0" '
                           'aria-label="Kota, Tahun">')
    named = f.html_table(pd.DataFrame({"Kota": ["A"]}), label="Peers <b>")
    assert 'role="region"' in named and 'aria-label="Peers &lt;b&gt;"' in named


@pytest.mark.parametrize("columns, numeric, keys", [
    (["No", "Indikator", "Status", "Klaim", "Klaster"], ["No", "Klaim"],
     ["No", "Indikator", "Status"]),
    (["Kecamatan", "Kelurahan", "Nilai", "n", "N"], ["Nilai", "n", "N"],
     ["Kecamatan", "Kelurahan"]),
    (["Tahun", "Klaim", "Estimasi", "Predikat"], ["Tahun", "Klaim", "Estimasi"], ["Tahun"]),
    (["Kota", "Tahun", "Predikat", "Sumber"], [], ["Kota"]),
    (["Klaster", "Klaim", "Maksimum"], ["Klaim", "Maksimum"], ["Klaster"]),
])
def test_key_columns_are_the_first_and_the_text_columns_naming_the_row(columns, numeric, keys):
    assert f.key_columns(columns, numeric) == keys
    df = pd.DataFrame({c: ["1"] for c in columns})
    html = str(f.html_table(df, numeric=numeric))
    marked = re.findall(r'<td data-label="([^"]+)" class="key[ "]', html)
    assert marked == keys


def test_markup_stored_as_plain_text_is_escaped():
    # pandas 3 stores a column of strings as str dtype, which drops the Markup type: such
    # values are escaped (safe default), so HTML must be put in a markup_column.
    df = pd.DataFrame({"a": [Markup("<em>x</em>")]})
    assert "&lt;em&gt;" in f.html_table(df)


def test_html_table_refuses_unsafe_class_names_and_wrong_lengths():
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(ValueError, match="CSS class"):
        f.html_table(df, cell_classes={"a": ['x" onclick="evil']})
    with pytest.raises(ValueError, match="rows"):
        f.html_table(df, cell_classes={"a": ["met", "met"]})


def test_esc_and_badge():
    assert f.esc(None) == ""
    assert f.esc("a<b") == "a&lt;b"
    assert f.badge("<x>", "met") == '<span class="badge met">&lt;x&gt;</span>'
