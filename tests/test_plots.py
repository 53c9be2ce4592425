"""Report charts: alt text states the numbers, embeds escaped, colour-blind-safe and greyscale-readable."""

import base64
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from kla_analysis import plots
from kla_analysis.catalog import load_bands

BANDS = load_bands()
PLANTED = "<script>alert(1)</script>"


@pytest.fixture
def clusters():
    return pd.DataFrame({"label": ["Kelembagaan", "Klaster I", "Klaster II"],
                         "claimed": [120.0, 160.0, np.nan], "backed": [80.0, 100.5, np.nan],
                         "max_points": [126.0, 126.0, 168.0]})


def _png_size(fig: plots.ReportFigure) -> tuple[int, int]:
    png = fig.png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_score_bands_alt_text_names_every_number_and_the_target():
    fig = plots.score_bands_figure(BANDS, 946.45, 655.2, 610.0, 690.0, "Nindya", 701,
                                   "Madya", "id")
    for text in ("946,45", "655,2", "610", "690", "Madya", "Nindya", "701"):
        assert text in fig.alt
    en = plots.score_bands_figure(BANDS, 946.45, 655.2, 610.0, 690.0, "Nindya", 701,
                                  "Madya", "en")
    assert "946.45" in en.alt and "Claimed" in en.alt
    w, h = _png_size(fig)
    assert w == plots.WIDTH_IN * plots.DPI and h > 0


def test_score_bands_handles_a_missing_estimate():
    fig = plots.score_bands_figure(BANDS, 900, None, None, None, None, None, None, "id")
    assert "–" in fig.alt and _png_size(fig)[1] > 0


def test_clusters_claimed_is_hatched_backed_is_solid_so_grey_print_tells_them_apart(clusters):
    fig = plots.clusters_figure(clusters, "id")
    ax = fig.fig.axes[0]
    by_label = {}
    for container in ax.containers:
        by_label[container.get_label()] = container.patches
    claimed, backed = by_label["Klaim"], by_label["Didukung data dukung (estimasi)"]
    assert all(p.get_hatch() for p in claimed)
    assert not any(p.get_hatch() for p in backed)
    assert to_hex(claimed[0].get_facecolor()) != to_hex(backed[0].get_facecolor())
    assert {to_hex(claimed[0].get_facecolor()).upper(), to_hex(backed[0].get_facecolor()).upper()} \
        <= set(plots.OKABE_ITO.values())
    assert "Kelembagaan klaim 120, didukung 80, maksimum 126" in fig.alt
    assert "Klaster II klaim –" in fig.alt  # no data stays "–", not 0


def test_trend_uses_distinct_markers_and_line_styles():
    trend = pd.DataFrame({"year": [2019, 2022, 2023], "claimed": [np.nan, 979.0, 946.45],
                          "estimate": [np.nan, 640.0, 655.0], "low": [np.nan, 610.0, 620.0],
                          "high": [np.nan, 670.0, 690.0],
                          "official_predicate": ["Pratama", "Madya", None]})
    fig = plots.trend_figure(trend, BANDS, "en")
    lines = [ln for ln in fig.fig.axes[0].get_lines() if ln.get_label() in ("Claimed", "Estimate")]
    assert len({ln.get_marker() for ln in lines}) == 2
    assert len({str(ln.get_linestyle()) for ln in lines}) == 2
    assert "2022 claimed 979, estimate 640, official predikat Madya" in fig.alt
    assert "2023 claimed 946.45, estimate 655, official predikat not known" in fig.alt


def _dots(fig) -> dict[str, list[float]]:
    """x values of the kelurahan dots by marker."""
    out: dict[str, list[float]] = {}
    for line in fig.fig.axes[0].get_lines():
        if line.get_marker() not in ("None", None, ""):
            out.setdefault(line.get_marker(), []).extend(float(x) for x in line.get_xdata())
    return {k: sorted(v) for k, v in out.items()}


def test_kelurahan_dots_short_of_target_differ_in_shape_and_alt_lists_lowest_first():
    df = pd.DataFrame({"area": ["A", "B", "C", "D"], "value": [99.0, 80.5, 100.0, 90.0]})
    fig = plots.kelurahan_figure(df, "Akta kelahiran", "percent", 100, "higher", 2022, "id")
    assert _dots(fig) == {plots.SHORT["marker"]: [80.5, 90.0, 99.0],
                          plots.MET["marker"]: [100.0]}
    assert re.search(r"Terendah: B 80,5%, D 90%, A 99%", fig.alt)
    assert "Tertinggi: C 100%" in fig.alt
    # the axis zooms on the data (a dot plot may), but keeps the target in view
    left, right = fig.fig.axes[0].get_xlim()
    assert 60 < left < 80.5 and right > 100
    # lower-is-better measures: values above the target are the ones short of it
    low = plots.kelurahan_figure(df, "Kasus", "count", 85, "lower", 2022, "id")
    assert _dots(low)[plots.SHORT["marker"]] == [90.0, 99.0, 100.0]
    assert "Terendah: B 80, D 90, A 99" in low.alt and "Tertinggi: C 100" in low.alt
    # without a target no dot claims to meet it
    none = plots.kelurahan_figure(df, "Anggota", "count", None, None, 2022, "id")
    colours = {to_hex(ln.get_color()) for ln in none.fig.axes[0].get_lines()
               if ln.get_marker() not in ("None", None, "") and len(ln.get_xdata())}
    assert colours == {plots.NEUTRAL["color"]}


def test_peers_grid_writes_the_predicate_in_each_cell_and_bolds_the_city():
    peers = pd.DataFrame({"city": ["Kota A", "Kota A", "Kab. B"], "year": [2022, 2023, 2023],
                          "predicate": ["Madya", "Nindya", "Pratama"]})
    fig = plots.peers_figure(peers, BANDS, "Kota A", "id")
    texts = [t for t in fig.fig.axes[0].texts]
    assert sorted(t.get_text() for t in texts) == ["M", "N", "P"]
    assert all(t.get_fontweight() == "bold" for t in texts if t.get_text() != "P")
    assert "Kota A 2023 Nindya" in fig.alt
    assert fig.caption == "P = Pratama, M = Madya, N = Nindya, U = Utama"
    assert plots.predicate_abbreviations(BANDS)["KLA"] == "KLA"
    assert plots.short_city("Kabupaten Hulu Sungai Utara") == "Kab. Hulu Sungai Utara"


def test_to_html_embeds_png_with_escaped_alt_text_and_no_external_source():
    df = pd.DataFrame({"area": [f"Kel. {PLANTED}", "Kel. Dua"], "value": [80.0, 95.0]})
    fig = plots.kelurahan_figure(df, "Akta", "percent", 100, "higher", 2022, "id")
    html = str(fig.to_html())
    assert PLANTED not in html and "&lt;script&gt;" in html
    src = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(src) == fig.png()
    alt = re.search(r'alt="([^"]*)"', html).group(1)
    assert "Kel. Dua 95%" in alt
    assert fig._repr_html_() == html


def test_png_output_is_deterministic():
    a = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id").png()
    b = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id").png()
    assert a == b


def test_dollar_signs_in_data_are_text_not_formulas():
    # an unknown TeX command would make matplotlib's mathtext raise while drawing
    name = r"Kel. $\nosuchcommand{$"
    df = pd.DataFrame({"area": [name, "Kel. 50$ {x}"], "value": [80.0, 95.0]})
    fig = plots.kelurahan_figure(df, "Akta", "percent", 100, "higher", 2022, "id")
    assert _png_size(fig)[1] > 0
    assert name in [t.get_text() for t in fig.fig.axes[0].get_yticklabels()]
