"""Checks on a raw file before anything reads it: where it really is, its size, and whether an
Excel workbook can be read faithfully.

``file_problems(path, raw_dir)`` returns problem rows (the validator's ``file, sheet, row,
column, rule, value, hint`` dicts); a file with any is not read at all. Rules:

* ``outside_data_folder`` -- the file is a symbolic link (or sits in a linked folder) that
  resolves outside ``raw/``; :func:`link_problems` also names linked folders pointing outside
  (the listing does not enter them) and broken links, which would otherwise go unnoticed. Data must be copied into the data folder, so that what was
  validated is what the reports show and nothing else on the machine can be pulled in.
* ``file_too_large`` -- larger than ``max_file_mb`` (``data/input_limits.yaml``, or the
  ``KLA_MAX_FILE_MB`` environment variable). Checked with ``stat`` only: the file is never
  read, so a huge or endless file cannot exhaust memory.
* ``password_protected`` -- an Excel file encrypted with a password (an OLE2 compound file
  holding an ``EncryptedPackage`` stream instead of a zip).
* ``formula_without_value`` -- an ``.xlsx``/``.xlsm`` cell holding a formula whose result
  was never saved (files written by scripts such as openpyxl; Excel and LibreOffice always
  save the results). Readers see such a cell as empty, so data would be lost silently;
  instead each cell is named (sheet, row, column letter, formula). Formulas WITH a saved
  result are read as that result, which is what the agency saw when it saved the file.
  Hidden sheets are not checked (they are not read either).

System files that operating systems and office programs drop into folders (``Thumbs.db``,
``desktop.ini``, ``.DS_Store``, ``._*``, ``~$*`` Excel owner files, ``.~lock.*#`` LibreOffice
lock files, anything under ``__MACOSX/`` or a hidden folder) are not data:
:func:`system_file_kind` names them so the listing can skip them with a one-line notice.
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

from ..config import env_positive, package_file
from ..yamlfile import read_yaml

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Directory-entry name of the encrypted payload of a password-protected OOXML file (UTF-16).
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
ZIP_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
# Any element named f (a cell formula), with or without a namespace prefix.
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


# Exact names (compared in lower case: Windows names ignore case) -> what the file is.
SYSTEM_FILES = {
    "thumbs.db": "a Windows thumbnail cache",
    "ehthumbs.db": "a Windows thumbnail cache",
    "ehthumbs_vista.db": "a Windows thumbnail cache",
    "desktop.ini": "a Windows folder-settings file",
    ".ds_store": "a macOS folder-settings file",
    ".localized": "a macOS folder-settings file",
    "icon\r": "a macOS folder icon",
}
# Folders whose whole content is system data (zip archives made on a Mac, version control).
SYSTEM_FOLDERS = {"__macosx"}


def system_file_kind(rel: str | Path) -> str | None:
    """What kind of system (not data) file ``rel`` is -- a path relative to the data folder
    -- or None when it may hold data.

    >>> system_file_kind("statistics/Thumbs.db")
    'a Windows thumbnail cache'
    >>> system_file_kind("statistics/~$dinkes.xlsx")
    'an Excel owner file (left while the workbook is open in Excel)'
    >>> system_file_kind("statistics/dinkes.xlsx") is None
    True
    """
    parts = Path(rel).parts
    name = parts[-1] if parts else ""
    low = name.lower()
    if low in SYSTEM_FILES:
        return SYSTEM_FILES[low]
    if name.startswith("~$"):
        return "an Excel owner file (left while the workbook is open in Excel)"
    if name.startswith(".~lock.") and name.endswith("#"):
        return "a LibreOffice lock file (left while the file is open in LibreOffice)"
    if name.startswith("._"):
        return "a macOS resource-fork file"
    if any(p.lower() in SYSTEM_FOLDERS for p in parts[:-1]):
        return "a macOS archive folder entry (__MACOSX)"
    if any(p.startswith(".") for p in parts[:-1]):
        return "a file in a hidden folder"
    if name.startswith("."):
        return "a hidden file"
    if name.endswith("~") or (len(name) > 1 and name.startswith("#") and name.endswith("#")):
        return "an editor's backup or autosave file"
    return None


@lru_cache(maxsize=1)
def load_limits() -> dict:
    return read_yaml(package_file("input_limits.yaml"), "input limits")


def max_file_bytes() -> int:
    """The size limit of one raw file in bytes (``KLA_MAX_FILE_MB`` beats the YAML)."""
    mb = env_positive("KLA_MAX_FILE_MB", float, None, "a number of megabytes")
    if mb is None:
        mb = float(load_limits()["max_file_mb"])
    return int(mb * 1024 * 1024)


def _problem(file: str, rule: str, hint: str, value: object = "", sheet: str = "",
             row: int | None = None, column: str = "") -> dict:
    return {"file": file, "sheet": sheet, "row": row, "column": column, "rule": rule,
            "value": str(value), "hint": hint}


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MB"


def file_problems(path: Path, raw_dir: Path) -> list[dict]:
    """Problems that stop ``path`` (a file under ``raw_dir``) from being read; [] if none."""
    path, raw_dir = Path(path), Path(raw_dir)
    rel = path.relative_to(raw_dir).as_posix() if path.is_relative_to(raw_dir) else str(path)
    try:
        real, root = path.resolve(), raw_dir.resolve()
    except (OSError, RuntimeError) as err:  # a link loop
        return [_problem(rel, "unreadable_file", f"cannot follow the link: {err}")]
    if not real.is_relative_to(root):
        return [_problem(rel, "outside_data_folder", value=str(real), hint=(
            f"this is a link to a file outside the data folder {root}; copy the file into "
            "raw/ instead of linking to it"))]
    try:
        size = path.stat().st_size
    except OSError as err:
        return [_problem(rel, "unreadable_file", f"cannot open the file: {err.strerror}")]
    limit = max_file_bytes()
    if size > limit:
        return [_problem(rel, "file_too_large", value=_mb(size), hint=(
            f"raw files are limited to {_mb(limit)}; split it into smaller files (e.g. one "
            "per kab/kota or per year), or raise max_file_mb in "
            "kla_analysis/data/input_limits.yaml (or KLA_MAX_FILE_MB for one run)"))]
    suffix = path.suffix.lower()
    if suffix not in EXCEL_SUFFIXES or size == 0:
        return []
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == OLE2_MAGIC:
        return _ole2_problems(path, rel, suffix)
    if head[:4] == ZIP_MAGIC and suffix in ZIP_EXCEL_SUFFIXES:
        return formula_problems(path, rel)
    return []


def link_problems(folder: Path, raw_dir: Path) -> list[dict]:
    """Links under ``folder`` that the file listing skips: a linked folder resolving outside
    ``raw_dir`` (its files would silently be missing) and a broken link (``[]`` if none).
    Linked files that work are checked by :func:`file_problems` when they are read."""
    folder, raw_dir = Path(folder), Path(raw_dir)
    out = []
    if not folder.is_dir():
        return out
    root = raw_dir.resolve()
    for dirpath, dirnames, filenames in os.walk(folder):  # does not enter linked folders
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            # system files are not data (an editor's lock file ".#x.csv" is a broken link)
            if system_file_kind(p.relative_to(folder)) or not p.is_symlink():
                continue
            rel = p.relative_to(raw_dir).as_posix()
            try:
                real = p.resolve(strict=True)
            except (OSError, RuntimeError):
                out.append(_problem(rel, "unreadable_file", value=os.readlink(p), hint=(
                    "a broken link: the file or folder it points to does not exist; copy the "
                    "data into raw/ instead")))
                continue
            if real.is_dir() and not real.is_relative_to(root):
                out.append(_problem(rel + "/", "outside_data_folder", value=str(real), hint=(
                    f"this is a link to a folder outside the data folder {root}; its files are "
                    "not read: copy them into raw/ instead of linking to them")))
    return out


def _ole2_problems(path: Path, rel: str, suffix: str) -> list[dict]:
    """An OLE2 compound file: a password-protected workbook, or an old .xls named .xlsx."""
    if ENCRYPTED_STREAM in path.read_bytes():  # within the size limit, checked above
        return [_problem(rel, "password_protected", hint=(
            "the workbook is protected with a password, so it cannot be read; open it in "
            "Excel, remove the password (File > Info > Protect Workbook > Encrypt with "
            "Password, clear the box) and save it, or export the sheet as CSV"))]
    if suffix in ZIP_EXCEL_SUFFIXES:
        return [_problem(rel, "unreadable_file", value=suffix, hint=(
            f"this is an old Excel 97-2003 workbook saved with a {suffix} name; rename it to "
            ".xls or save it again as .xlsx"))]
    return []


def local_name(tag: str) -> str:
    """An XML tag or attribute name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def visible_sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name (``xl/worksheets/sheet1.xml``) -> sheet name, for the visible
    sheets of an .xlsx/.xlsm (from ``xl/workbook.xml`` and its relationships)."""
    try:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for el in wb.iter():
        if local_name(el.tag) != "sheet" or el.get("state") in ("hidden", "veryHidden"):
            continue
        rid = next((v for k, v in el.attrib.items() if local_name(k) == "id"), None)
        target = targets.get(rid)
        if not target:
            continue
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        out[posixpath.normpath(part)] = el.get("name", "")
    return out


def part_matches(zf: zipfile.ZipFile, part: str, pattern: re.Pattern,
                 chunk: int = 1 << 20) -> bool:
    """Whether the bytes of a zip part (a sheet's XML) match ``pattern`` anywhere: a fast
    streamed byte scan, no XML parsing (the last 64 bytes of a chunk are searched again with
    the next, so a match across chunks is found)."""
    tail = b""
    with zf.open(part) as fh:
        while block := fh.read(chunk):
            if pattern.search(tail + block):
                return True
            tail = block[-64:]
    return False


def _has_formula(zf: zipfile.ZipFile, part: str) -> bool:
    """Whether the part's XML holds any formula element."""
    return part_matches(zf, part, _FORMULA_TAG)


def _cells_without_value(zf: zipfile.ZipFile, part: str):
    """(cell reference, formula) of every formula cell without a saved result."""
    with zf.open(part) as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            tag = local_name(el.tag)
            if tag == "c":
                f = v = None
                for child in el:
                    name = local_name(child.tag)
                    f = child if name == "f" else f
                    v = child if name == "v" else v
                # t="str" with an empty <v/> is a formula whose result is the empty text
                if f is not None and (v is None or not v.text) and el.get("t") != "str":
                    yield el.get("r", ""), f.text
                el.clear()
            elif tag == "row":
                el.clear()


def formula_problems(path: Path, rel: str) -> list[dict]:
    """One problem per formula cell without a saved result (visible sheets of an .xlsx)."""
    cap = int(load_limits()["max_formula_cells_listed"])
    found: list[tuple[str, str, str | None]] = []
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            for part, sheet in visible_sheet_parts(zf).items():
                if part in names and _has_formula(zf, part):
                    found += [(sheet, ref, f) for ref, f in _cells_without_value(zf, part)]
    except (zipfile.BadZipFile, ET.ParseError, OSError, EOFError, KeyError):
        return []  # not a readable workbook: the reader reports it
    out = []
    for sheet, ref, formula in found[:cap]:
        m = _CELL_REF.match(ref)
        col, row = (m.group(1), int(m.group(2))) if m else ("", None)
        out.append(_problem(rel, "formula_without_value", sheet=sheet, row=row, column=col,
                            value="=" + formula if formula else "(shared formula)", hint=(
            f"cell {ref} holds a formula whose result was never saved (the file was made by "
            "a program that does not calculate), so its value is unknown; open the file in "
            "Excel or LibreOffice and save it again, or type the value")))
    if len(found) > cap:
        out.append(_problem(rel, "formula_without_value", sheet=found[cap][0],
                            value=f"{len(found) - cap} more cells", hint=(
            f"only the first {cap} such cells are listed; saving the file again from Excel or "
            "LibreOffice stores every result")))
    return out
