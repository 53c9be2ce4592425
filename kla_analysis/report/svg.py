"""Small SVG writer for the report's charts (bands, klaster, trend, kelurahan, peers).

A dot plot of twenty kelurahan is a few dozen lines, dots and labels: written as SVG text it
takes about a millisecond, where a matplotlib figure takes about 0.1 s (artists, tick
machinery, text layout, rasterising and PNG encoding). The image is also sharp at any zoom
on a phone and a few kB in size.

Every text goes through ``text_node`` (escaped; control characters, which XML forbids,
bidirectional and invisible characters, which would show a name reversed or make two names
look alike, removed: ``chars.strip_for_xml``), so names from the data stay plain text; so do
attribute values (``attrs``). Sizes are CSS pixels of the image's own coordinate system,
which the report shows at about its own size on a phone and on paper (``plots.CHART_PX``).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from markupsafe import escape

from ..chars import strip_for_xml

#: The font the text is measured with, then asked for first (matplotlib ships it, so the
#: charts look alike on a machine that has it); other sans fonts are narrower, so labels
#: measured this way never run into each other.
FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"


def num(x: float) -> str:
    """A coordinate with at most two decimals (stable, short output)."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def text_node(value: object) -> str:
    """Escaped text content for an SVG element."""
    return str(escape(strip_for_xml(str(value))))


@lru_cache(maxsize=1)
def _font():
    from matplotlib import font_manager

    return font_manager.get_font(font_manager.findfont(
        font_manager.FontProperties(family="DejaVu Sans")))


@lru_cache(maxsize=4096)
def _width_100(value: str) -> float:
    font = _font()
    font.set_size(100, 72)  # 100 px, large enough that hinting does not skew the advance
    font.set_text(value, 0.0)
    return font.get_width_height()[0] / 64


def text_width(value: str, size: float) -> float:
    """Width in px of ``value`` at font size ``size`` px, as DejaVu Sans sets it."""
    return _width_100(strip_for_xml(value)) * size / 100


@lru_cache(maxsize=1024)
def _advance_100(char: str) -> float:
    from matplotlib.ft2font import LoadFlags

    font = _font()
    font.set_size(100, 72)
    return font.load_char(ord(char), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536


def advance_width(value: str, size: float) -> float:
    """Width in px of ``value`` at ``size`` px as the sum of DejaVu Sans' advances of its
    characters: a few microseconds where laying out the string (``text_width``) takes a
    quarter of a millisecond, for the many distinct value labels of a chart. It is at most
    about 0.5 px narrower than ``text_width`` at 12 px (measured over 1,600 value labels),
    so a box padded by 2 px still covers the text."""
    return sum(_advance_100(c) for c in strip_for_xml(value)) * size / 100


def fit_text(value: str, size: float, width: float) -> str:
    """``value``, shortened with an ellipsis if it is wider than ``width`` px."""
    if text_width(value, size) <= width:
        return value
    for end in range(len(value) - 1, 0, -1):
        short = value[:end].rstrip() + "\u2026"
        if text_width(short, size) <= width:
            return short
    return "\u2026"


def attrs(**kw: object) -> str:
    """``key="value"`` pairs (``_`` in names becomes ``-``; None values are left out)."""
    return " ".join(f'{k.rstrip("_").replace("_", "-")}="{text_node(v)}"'
                    for k, v in kw.items() if v is not None)


def text(x: float, y: float, value: object, size: float, anchor: str = "start",
         **kw: object) -> str:
    """A line of text whose vertical middle sits at ``y``."""
    return (f'<text {attrs(x=num(x), y=num(y), font_size=num(size), text_anchor=anchor, **kw)}'
            f' dy="0.35em">{text_node(value)}</text>')


def boxed_text(x: float, y: float, value: object, size: float) -> str:
    """``text`` (anchored at its start) on a white box, legible where it crosses a line."""
    w = advance_width(str(value), size)  # the box has 2 px to spare on each side
    return rect(x - 2, y - 0.6 * size, w + 4, 1.2 * size, "#ffffff") + text(x, y, value, size)


def rect(x: float, y: float, width: float, height: float, fill: str,
         stroke: str | None = None, stroke_width: float | None = None) -> str:
    a = attrs(x=num(x), y=num(y), width=num(width), height=num(height), fill=fill,
              stroke=stroke, stroke_width=None if stroke_width is None else num(stroke_width))
    return f"<rect {a}/>"


def line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1,
         **kw: object) -> str:
    a = attrs(x1=num(x1), y1=num(y1), x2=num(x2), y2=num(y2), stroke=stroke,
              stroke_width=num(width), **kw)
    return f"<line {a}/>"


def polyline(points: list[tuple[float, float]], stroke: str, width: float = 1,
             **kw: object) -> str:
    pts = " ".join(f"{num(px)},{num(py)}" for px, py in points)
    a = attrs(points=pts, fill="none", stroke=stroke, stroke_width=num(width), **kw)
    return f"<polyline {a}/>"


def marker(shape: str, x: float, y: float, size: float, fill: str) -> str:
    """A dot: ``o`` circle, ``D`` diamond or ``v`` downward triangle, ``size`` px across,
    black edge."""
    edge = {"stroke": "#000000", "stroke_width": "0.8"}
    r = size / 2
    corners = {"D": ((x, y - r), (x + r, y), (x, y + r), (x - r, y)),
               "v": ((x - r, y - 0.8 * r), (x + r, y - 0.8 * r), (x, y + r))}
    if shape in corners:
        pts = " ".join(f"{num(px)},{num(py)}" for px, py in corners[shape])
        return f'<polygon {attrs(points=pts, fill=fill, **edge)}/>'
    return f'<circle {attrs(cx=num(x), cy=num(y), r=num(size / 2 * 0.9), fill=fill, **edge)}/>'


#: Hatch line paths in a 6 px tile, by matplotlib's hatch names (the charts used them).
_HATCH = {"//": "M-1,7 L7,-1 M-1,1 L1,-1 M5,7 L7,5", "////": "M-1,4 L4,-1 M-1,7 L7,-1 M2,7 L7,2",
          "\\\\": "M-1,-1 L7,7 M5,-1 L7,1 M-1,5 L1,7", "xx": "M-1,7 L7,-1 M-1,-1 L7,7",
          "..": ""}


def hatch(pattern_id: str, fill: str, kind: str, stroke: str = "#9a9a9a",
          width: float = 0.8) -> str:
    """A ``<pattern>`` (for ``<defs>``): ``fill`` with hatch lines (``//``, ``////``,
    ``\\\\``, ``xx``) or dots (``..``), so areas differ without colour too."""
    tile = rect(0, 0, 6, 6, fill)
    if kind == "..":
        tile += f'<circle {attrs(cx="3", cy="3", r="0.9", fill=stroke)}/>'
    elif kind:
        tile += f'<path {attrs(d=_HATCH[kind], stroke=stroke, stroke_width=num(width))}/>'
    return (f'<pattern {attrs(id=pattern_id, width="6", height="6", patternUnits="userSpaceOnUse")}>'
            f"{tile}</pattern>")


def defs(items: list[str]) -> str:
    return f"<defs>{''.join(items)}</defs>" if items else ""


def document(width: int, height: int, body: list[str], title: str = "") -> str:
    """A standalone SVG image of ``width`` x ``height`` px holding ``body`` (whole pixels:
    the image's intrinsic size is then exactly that of the ``<img>`` box)."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" '
            f'height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}" '
            f'font-family="{FONT_FAMILY}">')
    title_el = f"<title>{text_node(title)}</title>" if title else ""
    background = f'<rect width="{num(width)}" height="{num(height)}" fill="#ffffff"/>'
    return "".join([head, title_el, background, *body, "</svg>"])


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
