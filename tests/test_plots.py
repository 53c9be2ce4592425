"""Report charts: alt text states the numbers, embeds escaped, colour-blind-safe and greyscale-readable."""

import base64
import re
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from kla_analysis.catalog import load_bands
from kla_analysis.report import plots, svg

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


SVG_NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(fig: plots.SvgFigure) -> ET.Element:
    root = ET.fromstring(fig.svg)  # well-formed XML, or the browser shows a broken image
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (float(root.get("width")), float(root.get("height"))) == (fig.width, fig.height)
    return root


def _rows(fig: plots.SvgFigure) -> list[dict]:
    """One dict per kelurahan row, top to bottom: name, marker shape, colour, value label, x."""
    rows = []
    for g in _svg(fig).iterfind("s:g", SVG_NS):
        texts = [t.text for t in g.iterfind("s:text", SVG_NS)]
        dot = g.find("s:polygon", SVG_NS)
        shape = "D" if dot is not None else "o"
        dot = dot if dot is not None else g.find("s:circle", SVG_NS)
        x = (float(dot.get("cx")) if shape == "o"
             else float(dot.get("points").split()[0].split(",")[0]))
        rows.append({"name": texts[0], "label": texts[1], "marker": shape,
                     "color": dot.get("fill").lower(), "x": x})
    return rows


def _axis(fig: plots.SvgFigure) -> tuple[list[str], list[float]]:
    """Tick labels of the x axis, and the x of the dashed target line(s)."""
    root = _svg(fig)
    ticks = [t.text for t in root.iterfind("s:text", SVG_NS)]
    targets = [float(ln.get("x1")) for ln in root.iterfind("s:line", SVG_NS)
               if ln.get("stroke-dasharray")]
    return ticks, targets


def test_kelurahan_dots_short_of_target_differ_in_shape_and_alt_lists_lowest_first():
    df = pd.DataFrame({"area": ["A", "B", "C", "D"], "value": [99.0, 80.5, 100.0, 90.0]})
    fig = plots.kelurahan_figure(df, "Akta kelahiran", "percent", 100, "higher", 2022, "id")
    rows = _rows(fig)
    # worst first, each dot labelled with its value; short of the target = vermillion diamond
    assert [(r["name"], r["label"], r["marker"]) for r in rows] == [
        ("B", "80,5%", "D"), ("D", "90%", "D"), ("A", "99%", "D"), ("C", "100%", "o")]
    assert {r["color"] for r in rows if r["marker"] == "D"} == {plots.SHORT["color"].lower()}
    assert rows[-1]["color"] == plots.MET["color"].lower()
    assert [r["x"] for r in rows] == sorted(r["x"] for r in rows)  # positions follow values
    assert re.search(r"Terendah: B 80,5%, D 90%, A 99%", fig.alt)
    assert "Tertinggi: C 100%" in fig.alt and fig.alt.startswith("Grafik titik")
    # the axis zooms on the data (a dot plot may), but keeps the target in view, and a
    # percentage axis stops at 100%
    ticks, targets = _axis(fig)
    values = [float(t.rstrip("%").replace(",", ".")) for t in ticks]
    assert values[0] > 60 and max(values) <= 100
    assert len(targets) == 1 and targets[0] == pytest.approx(rows[-1]["x"])  # C sits on it
    # lower-is-better measures: values above the target are the ones short of it
    low = plots.kelurahan_figure(df, "Kasus", "count", 85, "lower", 2022, "id")
    assert [(r["label"], r["marker"]) for r in _rows(low)] == [
        ("100", "D"), ("99", "D"), ("90", "D"), ("80", "o")]
    assert "Terendah: B 80, D 90, A 99" in low.alt and "Tertinggi: C 100" in low.alt
    assert all(float(t).is_integer() for t in _axis(low)[0])  # counts: whole-number ticks
    # without a target no dot claims to meet it, and no target line is drawn
    none = plots.kelurahan_figure(df, "Anggota", "count", None, None, 2022, "id")
    assert {r["color"] for r in _rows(none)} == {plots.NEUTRAL["color"].lower()}
    assert _axis(none)[1] == []


def test_kelurahan_names_are_measured_and_long_ones_cut_so_they_fit_inside_the_image():
    long = "Kel. " + "Panjang " * 12
    fig = plots.kelurahan_figure(pd.DataFrame({"area": [long, "Kel. Dua"], "value": [80, 95]}),
                                 "Akta", "percent", 100, "higher", 2022, "en")
    labels = {t.text: t for t in _svg(fig).iter("{http://www.w3.org/2000/svg}text")}
    cut = next(name for name in labels if name.endswith("\u2026"))
    assert long.startswith(cut[:-1]) and len(cut) < len(long)
    for name in (cut, "Kel. Dua"):
        size, right = float(labels[name].get("font-size")), float(labels[name].get("x"))
        assert size >= 0.8 * (plots.FONT - 1.5) * plots.PT  # still readable
        assert right - svg.text_width(name, size) >= 0  # starts inside the image
        assert right < 0.5 * fig.width  # and leaves the plot at least half of the width


def test_peers_grid_writes_the_predicate_in_each_cell_and_bolds_the_city():
    peers = pd.DataFrame({"city": ["Kota A", "Kota A", "Kab. B"], "year": [2022, 2023, 2023],
                          "predicate": ["Madya", "Nindya", "Pratama"]})
    fig = plots.peers_figure(peers, BANDS, "Kota A", "id")
    root = _svg(fig)
    cells = [(g.find("s:text", SVG_NS), g.find("s:rect", SVG_NS))
             for g in root.iterfind("s:g", SVG_NS)]
    assert sorted(t.text for t, _ in cells) == ["M", "N", "P"]
    assert {t.text: t.get("font-weight") for t, _ in cells} == {"M": "bold", "N": "bold",
                                                               "P": None}
    shade = {t.text: r.get("fill") for t, r in cells}  # darker fill for a higher predicate
    assert shade["P"] == plots.BAND_FILLS[0] and shade["N"] == plots.BAND_FILLS[2]
    labels = {t.text: t.get("font-weight") for t in root.iterfind("s:text", SVG_NS)}
    assert labels["Kota A"] == "bold" and labels["Kab. B"] is None
    assert {"2022", "2023"} <= set(labels)
    assert "Kota A 2023 Nindya" in fig.alt
    assert fig.caption == "P = Pratama, M = Madya, N = Nindya, U = Utama"
    assert plots.predicate_abbreviations(BANDS)["KLA"] == "KLA"
    assert plots.short_city("Kabupaten Hulu Sungai Utara") == "Kab. Hulu Sungai Utara"


def test_to_html_embeds_images_with_escaped_alt_text_and_no_external_source():
    df = pd.DataFrame({"area": [f"Kel. {PLANTED}", "Kel. Dua"], "value": [80.0, 95.0]})
    fig = plots.kelurahan_figure(df, "Akta", "percent", 100, "higher", 2022, "id")
    html = str(fig.to_html())
    assert PLANTED not in html and "&lt;script&gt;" in html
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(src).decode("utf-8") == fig.svg
    # in the SVG too the name is text (parsed back as such), never an element
    assert PLANTED not in fig.svg and _rows(fig)[0]["name"].startswith("Kel. <script>")
    assert not list(_svg(fig).iter("script"))
    alt = re.search(r'alt="([^"]*)"', html).group(1)
    assert "Kel. Dua 95%" in alt
    assert fig._repr_html_() == html
    png = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id")
    src = re.search(r'src="data:image/png;base64,([^"]+)"', str(png.to_html())).group(1)
    assert base64.b64decode(src) == png.png()


def test_png_output_is_deterministic():
    a = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id").png()
    b = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id").png()
    assert a == b


def test_dollar_signs_and_control_characters_in_data_are_plain_text():
    # matplotlib would parse "$...$" as a formula (an unknown TeX command raises); XML 1.0
    # forbids control characters (the browser would drop the whole image)
    name = "Kel. $\\nosuchcommand{$\x01\x1f"
    df = pd.DataFrame({"area": [name, "Kel. 50$ {x}"], "value": [80.0, 95.0]})
    fig = plots.kelurahan_figure(df, "Akta", "percent", 100, "higher", 2022, "id")
    assert [r["name"] for r in _rows(fig)] == ["Kel. $\\nosuchcommand{$", "Kel. 50$ {x}"]
    bands = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nin$\\x{ya", 701, "Madya",
                                     "id")
    assert _png_size(bands)[1] > 0
