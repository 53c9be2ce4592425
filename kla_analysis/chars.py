"""Characters that must not travel from an input cell to an output: one definition for the
readers (which flag them, with file, row and column) and for every writer (HTML, CSV, XLSX,
SVG, terminal), which remove them on their own as a second line of defence.

- control characters: C0 (U+0000-U+001F) except tab, line feed and carriage return, DEL and
  C1 (U+007F-U+009F). XML 1.0 forbids most of them (an XLSX or SVG holding one is
  unreadable) and a terminal runs some as commands;
- bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
  U+061C): they make a name display reversed or out of order ("Trojan Source");
- invisible characters inside names: zero-width space, joiners and the byte-order mark
  (U+200B-U+200D, U+2060, U+FEFF), which make two equal-looking names differ.
"""

from __future__ import annotations

import re

#: C0 controls except tab, line feed and carriage return (what a text file never holds).
C0 = "\x00-\x08\x0b\x0c\x0e-\x1f"
CONTROL = C0 + "\x7f-\x9f"
BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
INVISIBLE = "\u200b-\u200d\u2060\ufeff"

#: What an input cell may not hold (invisible characters are removed, not refused).
REFUSED = re.compile(f"[{CONTROL}{BIDI}]")
#: Any character no output may carry.
UNSAFE = re.compile(f"[{CONTROL}{BIDI}{INVISIBLE}]")
#: Also line breaks: for one-line outputs (sheet names, terminal table cells, SVG labels).
UNSAFE_ONE_LINE = re.compile(f"[{CONTROL}{BIDI}{INVISIBLE}\t\n\r\u2028\u2029]")


def strip_unsafe(text: str, one_line: bool = False) -> str:
    """``text`` without control, bidirectional and invisible characters.

    >>> strip_unsafe("Dinas\\x07 \\u202eKesehatan\\u202c")
    'Dinas Kesehatan'
    """
    return (UNSAFE_ONE_LINE if one_line else UNSAFE).sub("", text)


#: Code points XML 1.0 forbids beyond the control characters: the non-characters U+FFFE and
#: U+FFFF and lone surrogates (which cannot even be encoded as UTF-8). The readers do not
#: flag them (no text file decodes to them); the XML writers (XLSX, SVG) drop them too.
NOT_XML = re.compile("[\ufffe\uffff\ud800-\udfff]")


def strip_for_xml(text: str, one_line: bool = False) -> str:
    """``strip_unsafe(text, one_line)`` without the code points XML 1.0 forbids either
    (``NOT_XML``): text that can go into any XML document (an XLSX cell, an SVG label).

    >>> strip_for_xml("Dinas\\ufffe \\u202eKes\\x00")
    'Dinas Kes'
    """
    return NOT_XML.sub("", strip_unsafe(text, one_line))
