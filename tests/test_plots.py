"""Report charts (SVG): alt text states the numbers, embeds escaped, colour-blind-safe, greyscale-readable and legible on a phone."""

import base64
import re
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from kla_analysis.catalog import load_bands
from kla_analysis.report import plots, svg

BANDS = load_bands()
PLANTED = "<script>alert(1)</script>"


@pytest.fixture
def clusters():
    return pd.DataFrame({"label": ["Kelembagaan", "Klaster I", "Klaster II"],
                         "claimed": [120.0, 160.0, np.nan], "backed": [80.0, 100.5, np.nan],
                         "max_points": [126.0, 126.0, 168.0]})


SVG_NS = {"s": "http://www.w3.org/2000/svg"}
S = "{http://www.w3.org/2000/svg}"
#: The column a chart gets on a 360 px phone (the page has 16 px padding on each side).
PHONE_COLUMN_PX = 360 - 2 * 16


def _texts(fig: plots.SvgFigure) -> dict[str, ET.Element]:
    return {t.text: t for t in _svg(fig).iter(f"{S}text")}


def test_score_bands_alt_text_names_every_number_and_the_target():
    fig = plots.score_bands_figure(BANDS, 946.45, 655.2, 610.0, 690.0, "Nindya", 701,
                                   "Madya", "id")
    for text in ("946,45", "655,2", "610", "690", "Madya", "Nindya", "701"):
        assert text in fig.alt
    en = plots.score_bands_figure(BANDS, 946.45, 655.2, 610.0, 690.0, "Nindya", 701,
                                  "Madya", "en")
    assert "946.45" in en.alt and "Claimed" in en.alt
    root = _svg(fig)
    assert fig.width == plots.CHART_PX and fig.height > 0
    texts = _texts(fig)
    assert {"946,45", "655,2", "Klaim", "Target Nindya (701)", "Madya"} <= set(texts)
    # claimed: a vermillion triangle; estimate: a blue circle with its range as a bar
    shapes = {p.get("fill").upper() for p in root.iterfind("s:polygon", SVG_NS)}
    assert shapes == {plots.CLAIMED["color"].upper()}
    assert [c.get("fill").upper() for c in root.iterfind("s:circle", SVG_NS)] == [
        plots.BACKED["color"].upper()]
    dashed = [ln for ln in root.iter(f"{S}line") if ln.get("stroke-dasharray")]
    assert len(dashed) == 1  # the target line
    # every band has its own fill and hatch, so they differ in grey print too
    patterns = {p.get("id") for p in root.iter(f"{S}pattern")}
    assert {f"band{i}" for i in range(len(plots.BAND_FILLS))} <= patterns


def test_score_bands_handles_a_missing_estimate():
    fig = plots.score_bands_figure(BANDS, 900, None, None, None, None, None, None, "id")
    assert "–" in fig.alt and fig.height > 0
    root = _svg(fig)
    assert not root.findall("s:circle", SVG_NS) and len(root.findall("s:polygon", SVG_NS)) == 1


def test_clusters_claimed_is_hatched_backed_is_solid_so_grey_print_tells_them_apart(clusters):
    fig = plots.clusters_figure(clusters, "id")
    root = _svg(fig)
    pattern = next(p for p in root.iter(f"{S}pattern") if p.get("id") == "claimed")
    assert pattern.find(f"{S}path") is not None  # hatch lines over the fill
    claimed_fill = pattern.find(f"{S}rect").get("fill")
    rows = [g for g in root.iterfind("s:g", SVG_NS) if g.find("s:rect", SVG_NS) is not None
            and g.get("transform") is None]
    assert len(rows) == len(clusters)
    fills = [[r.get("fill") for r in g.iterfind("s:rect", SVG_NS)] for g in rows]
    assert all(f[:3] == ["none", "url(#claimed)", plots.BACKED["color"]] for f in fills)
    assert claimed_fill.upper() != plots.BACKED["color"].upper()
    assert {claimed_fill.upper(), plots.BACKED["color"].upper()} <= set(plots.OKABE_ITO.values())
    assert "Kelembagaan klaim 120, didukung 80, maksimum 126" in fig.alt
    assert "Klaster II klaim –" in fig.alt  # no data stays "–", not 0
    assert {"Maksimum", "Klaim", "Didukung data dukung (estimasi)"} <= set(_texts(fig))


def test_trend_uses_distinct_markers_and_line_styles():
    trend = pd.DataFrame({"year": [2019, 2022, 2023], "claimed": [np.nan, 979.0, 946.45],
                          "estimate": [np.nan, 640.0, 655.0], "low": [np.nan, 610.0, 620.0],
                          "high": [np.nan, 670.0, 690.0],
                          "official_predicate": ["Pratama", "Madya", None]})
    fig = plots.trend_figure(trend, BANDS, "en")
    root = _svg(fig)
    lines = list(root.iter(f"{S}polyline"))
    assert {ln.get("stroke").upper() for ln in lines} == {plots.CLAIMED["color"].upper(),
                                                          plots.BACKED["color"].upper()}
    dash = {ln.get("stroke").upper(): ln.get("stroke-dasharray") for ln in lines}
    assert dash[plots.CLAIMED["color"].upper()] and not dash[plots.BACKED["color"].upper()]
    # markers: claimed triangles (polygons) and estimate circles, two years each (2019: none)
    top = [el for el in root if el.tag in (f"{S}polygon", f"{S}circle")]
    assert sorted(el.tag.split("}")[1] for el in top) == ["circle", "circle", "polygon",
                                                          "polygon"]
    assert "2022 claimed 979, estimate 640, official predikat Madya" in fig.alt
    assert "2023 claimed 946.45, estimate 655, official predikat not known" in fig.alt
    assert {"2019", "2022", "2023", "Claimed", "Estimate", "Official predikat band"} <= set(
        _texts(fig))


def _svg(fig: plots.SvgFigure) -> ET.Element:
    root = ET.fromstring(fig.svg)  # well-formed XML, or the browser shows a broken image
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (float(root.get("width")), float(root.get("height"))) == (fig.width, fig.height)
    return root


def _rows(fig: plots.SvgFigure) -> list[dict]:
    """One dict per kelurahan row, top to bottom: name, marker shape, colour, value label, x."""
    rows = []
    for g in _svg(fig).iterfind("s:g", SVG_NS):
        if g.get("class"):  # the axis break
            continue
        texts = [t.text for t in g.iterfind("s:text", SVG_NS)]
        dot = g.find("s:polygon", SVG_NS)
        shape = "D" if dot is not None else "o"
        dot = dot if dot is not None else g.find("s:circle", SVG_NS)
        x = (float(dot.get("cx")) if shape == "o"
             else float(dot.get("points").split()[0].split(",")[0]))
        rows.append({"name": texts[0], "label": texts[1], "marker": shape,
                     "color": dot.get("fill").lower(), "x": x})
    return rows


def _break(fig: plots.SvgFigure) -> list[str]:
    """The texts of the axis break ("0" and its note), or [] when the axis is not broken."""
    g = _svg(fig).find("s:g[@class='axis-break']", SVG_NS)
    return [] if g is None else [t.text for t in g.iterfind("s:text", SVG_NS)]


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
    # percentage axis stops at 100%; since it does not start at 0, it is drawn broken: a
    # "0%" tick, the break, and a note saying where the drawn part starts
    ticks, targets = _axis(fig)
    values = [float(t.rstrip("%").replace(",", ".")) for t in ticks]
    assert values[0] > 60 and max(values) <= 100
    assert len(targets) == 1 and targets[0] == pytest.approx(rows[-1]["x"])  # C sits on it
    brk = _break(fig)
    assert brk[0] == "0%" and re.fullmatch(r"Sumbu terpotong: 0 sampai \d+(,\d)?% tidak digambar",
                                           brk[1])
    start = float(brk[1].split(" sampai ")[1].split("%")[0].replace(",", "."))
    assert 60 < start <= min(df["value"])
    # values that come near 0 get an axis from 0, not broken
    near = plots.kelurahan_figure(df.assign(value=[9.0, 4.0, 12.0, 7.5]), "Stunting",
                                  "percent", 14, "lower", 2022, "id")
    assert _break(near) == [] and _axis(near)[0][0] == "0%"
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
        assert size >= plots.TEXT_PX  # cut, never set smaller
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
    bands = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id")
    tag = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="[^"]+" '
                    r'width="(\d+)" height="(\d+)"', str(bands.to_html()))
    assert base64.b64decode(tag.group(1)).decode("utf-8") == bands.svg
    assert (int(tag.group(2)), int(tag.group(3))) == (bands.width, bands.height)


def test_svg_output_is_deterministic():
    a = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id").svg
    b = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nindya", 701, "Madya", "id").svg
    assert a == b


def _all_charts(clusters: pd.DataFrame) -> list[plots.SvgFigure]:
    trend = pd.DataFrame({"year": range(2018, 2026), "claimed": np.linspace(900, 980, 8),
                          "estimate": np.linspace(560, 720, 8), "low": np.linspace(520, 690, 8),
                          "high": np.linspace(600, 760, 8), "official_predicate": ["Madya"] * 8})
    areas = pd.DataFrame({"area": [f"Landasan Ulin Selatan {i}" for i in range(20)],
                          "value": np.linspace(92.5, 99.5, 20)})
    kec = pd.DataFrame({"kecamatan": ["Utara", "Selatan"], "value": [95.0, np.nan],
                        "low": [92.0, 90.0], "high": [97.0, 99.0]})
    peers = pd.DataFrame({"city": ["Kabupaten Hulu Sungai Tengah"] * 8 + ["Kota A"] * 8,
                          "year": list(range(2018, 2026)) * 2, "predicate": ["Madya"] * 16})
    return [plots.score_bands_figure(BANDS, 946.45, 655.2, 610.0, 690.0, "Nindya", 701,
                                     "Madya", "en"),
            plots.clusters_figure(clusters, "en"), plots.trend_figure(trend, BANDS, "en"),
            plots.kelurahan_figure(areas, "Akta", "percent", 100, "higher", 2024, "en"),
            plots.kecamatan_figure(kec, "Akta", "percent", 100, "higher", 2024, lang="en"),
            plots.peers_figure(peers, BANDS, "Kota A", "en")]


def test_every_chart_text_stays_legible_on_a_360_px_phone_and_inside_the_image(clusters):
    """Shown in the 328 px column of a 360 px phone, no chart text is below 11 px (and on
    A4, where a chart prints at 90% of its size, below 8 pt); every text starts and ends
    inside the image."""
    for fig in _all_charts(clusters):
        root = _svg(fig)
        assert fig.width == plots.CHART_PX
        scale = min(1.0, PHONE_COLUMN_PX / fig.width)
        for t in root.iter(f"{S}text"):
            size = float(t.get("font-size"))
            assert size * scale >= 11 and size * 0.9 * 0.75 >= 8, (t.text, size)
            if t.get("transform"):  # turned labels: their width is vertical
                continue
            w = svg.text_width(t.text, size)
            x = float(t.get("x"))
            left = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor")]
            assert -0.5 <= left and left + w <= fig.width + 0.5, (t.text, left, w)


def test_dollar_signs_and_control_characters_in_data_are_plain_text():
    # matplotlib would parse "$...$" as a formula (an unknown TeX command raises); XML 1.0
    # forbids control characters (the browser would drop the whole image)
    name = "Kel. $\\nosuchcommand{$\x01\x1f"
    df = pd.DataFrame({"area": [name, "Kel. 50$ {x}"], "value": [80.0, 95.0]})
    fig = plots.kelurahan_figure(df, "Akta", "percent", 100, "higher", 2022, "id")
    assert [r["name"] for r in _rows(fig)] == ["Kel. $\\nosuchcommand{$", "Kel. 50$ {x}"]
    bands = plots.score_bands_figure(BANDS, 900, 650, 600, 700, "Nin$\\x{ya", 701, "Madya",
                                     "id")
    assert "Nin$\\x{ya" in _texts(bands)["Target Nin$\\x{ya (701)"].text
