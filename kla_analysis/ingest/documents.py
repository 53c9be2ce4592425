"""One data dukung document read for ``kla evidence scan``: its type by content, size, hash,
page count and text layer (PDF), encryption or damage, and the document date and decree
number found in its text or metadata, each with where it came from.

Rules (signatures, month names, date and decree patterns) are data:
``kla_analysis/data/evidence_files.yaml`` (:func:`load_rules`). Reading never raises for a
bad file: what went wrong is in the result (``damaged``, ``password``), so one broken PDF
cannot stop a scan of a thousand.

PDF library: **pypdfium2** (Apache-2.0 or BSD-3-Clause; binary wheels of Google's PDFium,
BSD-3-Clause): page count, text of the first and last pages and the metadata in about a
millisecond per ordinary file, 10-25x faster than pypdf (BSD) and 100-200x faster than
pdfminer.six (MIT) on text-heavy pages (measured: docs/evidence-folder.md). PyMuPDF is AGPL and
not an option for this MIT package.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

from ..config import package_file
from ..errors import KlaError
from ..yamlfile import read_yaml

#: Version of what :func:`read_document` records; a cache written by another version is
#: read again.
READER_VERSION = 1
_CHUNK = 1 << 20


def rules_file() -> Path:
    return package_file("evidence_files.yaml")


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    doc = read_yaml(Path(path), "evidence file rules")
    if not isinstance(doc, Mapping):
        raise KlaError(f"{path}: the evidence file rules must be a mapping")
    need = ("upload", "images", "signatures", "zip_members", "zip_mimetypes", "ole2_streams",
            "extensions", "pdf", "months", "date_sources", "metadata_date", "decree_sources",
            "matching", "mapping_files", "skip_names", "rules")
    lack = [k for k in need if k not in doc]
    if lack:
        raise KlaError(f"{path}: missing section(s) {', '.join(lack)} (see the packaged "
                       "kla_analysis/data/evidence_files.yaml)")
    problems: list[str] = []
    up = doc["upload"]
    try:
        max_bytes = int(float(up["max_file_mb"]) * 1024 * 1024)
        if max_bytes <= 0:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        problems.append("upload.max_file_mb must be a positive number of megabytes")
        max_bytes = 0
    sigs = []
    for k, s in enumerate(doc["signatures"], start=1):
        try:
            sigs.append((str(s["type"]), bytes.fromhex(str(s["hex"])), int(s.get("offset", 0)),
                         int(s.get("search_within", 0))))
        except (KeyError, TypeError, ValueError):
            problems.append(f"signatures #{k}: needs type, hex (bytes as hex digits) and "
                            "offset or search_within")
    months = {}
    for m, names in doc["months"].items():
        for n in names:
            months[str(n).lower()] = int(m)
    alternation = "|".join(sorted((re.escape(n) for n in months), key=len, reverse=True))

    def compile_all(section: str, groups: set[str]) -> list[dict]:
        out = []
        for k, s in enumerate(doc[section], start=1):
            try:
                rx = re.compile(str(s["pattern"]).replace("{month}", alternation),
                                re.IGNORECASE | re.DOTALL)
            except (KeyError, re.error) as err:
                problems.append(f"{section} #{k}: pattern is not a valid regular expression "
                                f"({err})")
                continue
            if not groups <= set(rx.groupindex):
                problems.append(f"{section} #{k}: the pattern must capture the groups "
                                f"{', '.join(sorted(groups))}")
                continue
            out.append({**s, "regex": rx})
        return out

    dates = compile_all("date_sources", {"day", "month", "year"})
    decrees = compile_all("decree_sources", {"number"})
    missing_rules = {"unplaced", "damaged", "password_protected", "empty_file", "missing",
                     "duplicate_content", "too_large", "type_refused", "image_not_pdf",
                     "expired", "draft"} - set(doc["rules"])
    if missing_rules:
        problems.append(f"rules: missing {', '.join(sorted(missing_rules))}")
    for name, r in doc["rules"].items():
        if not all(isinstance(r.get(f), str) and r.get(f) for f in
                   ("label_id", "label_en", "hint_id", "hint_en")):
            problems.append(f"rules.{name}: needs label_id, label_en, hint_id and hint_en")
    if problems:
        raise KlaError(f"{path}: " + "; ".join(problems))
    ext = {t: [str(e).lower() for e in v] for t, v in doc["extensions"].items()}
    return {**doc, "max_bytes": max_bytes, "sig": sigs, "month_of": months,
            "dates": dates, "decrees": decrees, "ext_of": ext,
            "allowed_types": {str(t) for t in up["allowed_types"]},
            "allowed_ext": {str(e).lower() for e in up["allowed_extensions"]},
            "image_types": {str(t) for t in doc["images"]},
            "fingerprint": hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]}


def load_rules(path: str | Path | None = None) -> dict:
    """The checked rules (``evidence_files.yaml``; ``KlaError`` naming every problem), with
    compiled patterns and ``fingerprint`` (a hash of the file, part of the scan cache key)."""
    return _load(str(Path(path) if path else rules_file()))


# --- type by content ------------------------------------------------------------------------

def _zip_type(path: Path, rules: dict) -> tuple[str, str]:
    """(type, damage) of a zip archive: xlsx/docx/pptx/ods/... or plain zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if names and names[0] == "mimetype":
                mt = zf.read("mimetype").decode("ascii", "replace").strip()
                if mt in rules["zip_mimetypes"]:
                    return rules["zip_mimetypes"][mt], ""
            for member, kind in rules["zip_members"].items():
                if member in names:
                    bad = zf.testzip() if path.stat().st_size <= 64 * _CHUNK else None
                    return kind, f"damaged zip member {bad}" if bad else ""
            return "zip", ""
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError) as err:
        return "zip", f"not a readable zip archive ({err})"


def _ole2_type(path: Path, rules: dict) -> str:
    # the directory may sit anywhere in the file: search its names (bounded by the size cap)
    with open(path, "rb") as fh:
        data = fh.read(64 * _CHUNK)
    for stream, kind in rules["ole2_streams"].items():
        if stream.encode("utf-16-le") in data:
            return kind
    return "ole2"


def content_type(path: Path, head: bytes, rules: dict) -> tuple[str, str]:
    """``(type, damage)`` from the first bytes (and, for zip and OLE2 containers, their
    members): ``pdf``, ``xlsx``, ``jpeg``, ..., ``unknown``; never from the extension."""
    for kind, magic, offset, within in rules["sig"]:
        hit = magic in head[:within + len(magic)] if within else \
            head[offset:offset + len(magic)] == magic
        if not hit:
            continue
        if kind == "zip":
            return _zip_type(path, rules)
        if kind == "ole2":
            return _ole2_type(path, rules), ""
        return kind, ""
    if head and _looks_like_text(head):
        return "text", ""
    return "unknown", ""


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # a multi-byte character cut at the end is fine
            return False
    return b"\x00" not in head


# --- dates and decree numbers -----------------------------------------------------------------

def _valid_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def find_date(text: str, rules: dict) -> tuple[date | None, str]:
    """The document date in ``text`` and its source (``text_ditetapkan``, ...), trying the
    rules' ``date_sources`` in order; ``(None, "")`` when none matches a real date.

    >>> r = load_rules()
    >>> find_date("Ditetapkan di Banjarbaru pada tanggal 3 Maret 2024", r)
    (datetime.date(2024, 3, 3), 'text_ditetapkan')
    >>> find_date("Banjarbaru, tanggal 17 Agustus 2023", r)
    (datetime.date(2023, 8, 17), 'text_tanggal')
    """
    for src in rules["dates"]:
        for m in src["regex"].finditer(text):
            month = rules["month_of"].get(m.group("month").lower().rstrip("."))
            d = _valid_date(int(m.group("year")), month or 0, int(m.group("day")))
            if d is not None:
                return d, src["source"]
    return None, ""


def find_decree(text: str, rules: dict) -> tuple[str, str]:
    """The decree number in ``text`` and its source, ``("", "")`` if none.

    >>> r = load_rules()
    >>> find_decree("KEPUTUSAN WALI KOTA NOMOR 12 TAHUN 2024 TENTANG", r)
    ('12 Tahun 2024', 'text_nomor_tahun')
    >>> find_decree("Nomor: 188.45/123/KUM/2025", r)
    ('188.45/123/KUM/2025', 'text_nomor_kode')
    """
    for src in rules["decrees"]:
        m = src["regex"].search(text)
        if m:
            values = {k: (v or "").strip(" .,;:") for k, v in m.groupdict().items()}
            return str(src.get("format", "{number}")).format(**values), src["source"]
    return "", ""


_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")


def pdf_date(value: object) -> date | None:
    """A PDF date string (``D:20240303120000+08'00'``) as a date (None if unreadable).

    >>> pdf_date("D:20240303120000+08'00'")
    datetime.date(2024, 3, 3)
    """
    m = _PDF_DATE.match(str(value or "").strip())
    if not m:
        return None
    return _valid_date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))


def _office_created(path: Path) -> date | None:
    """``dcterms:created`` of an OOXML file's ``docProps/core.xml``."""
    try:
        with zipfile.ZipFile(path) as zf:
            root = ET.fromstring(zf.read("docProps/core.xml"))
    except (KeyError, zipfile.BadZipFile, ET.ParseError, OSError, ValueError):
        return None
    for el in root:
        if el.tag.rsplit("}", 1)[-1] == "created" and el.text:
            try:
                return datetime.fromisoformat(el.text.strip().replace("Z", "+00:00")).date()
            except ValueError:
                return None
    return None


def _exif_date(path: Path) -> date | None:
    try:
        from PIL import Image  # pillow comes with matplotlib

        with Image.open(path) as im:
            exif = im.getexif()
            raw = exif.get_ifd(0x8769).get(36867) or exif.get(306)  # DateTimeOriginal, DateTime
    except Exception:  # noqa: BLE001 - any unreadable picture simply has no date
        return None
    m = re.match(r"^(\d{4}):(\d{2}):(\d{2})", str(raw or ""))
    return _valid_date(*map(int, m.groups())) if m else None


# --- PDF ----------------------------------------------------------------------------------------

def _pdf(path: Path, rules: dict) -> dict:
    """Pages, text layer, text of the first/last pages, metadata of a PDF; or its damage."""
    import pypdfium2 as pdfium

    out = {"pages": None, "text_layer": None, "encrypted": False, "password": False,
           "damaged": "", "text": "", "meta_title": "", "meta_date": None}
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 1024))
        tail = fh.read()
        fh.seek(0)
        try:
            doc = pdfium.PdfDocument(fh, autoclose=False)
        except pdfium.PdfiumError as err:
            if getattr(err, "err_code", None) == 4:  # FPDF_ERR_PASSWORD
                out.update(password=True, encrypted=True)
            else:
                out["damaged"] = f"PDFium cannot open it ({err})"
            return out
        try:
            # -1: not encrypted; an owner password alone (printing, copying) opens without one
            out["encrypted"] = pdfium.raw.FPDF_GetSecurityHandlerRevision(doc) != -1
            n = len(doc)
            out["pages"] = n
            if n == 0:
                out["damaged"] = "the PDF has no pages"
                return out
            pcfg = rules["pdf"]
            first = list(range(min(n, int(pcfg["first_pages"]))))
            last = list(range(max(len(first), n - int(pcfg["last_pages"])), n))
            parts = []
            for i in first + last:
                page = doc[i]
                try:
                    tp = page.get_textpage()
                    parts.append(tp.get_text_bounded())
                    tp.close()
                finally:
                    page.close()
            text = "\n".join(parts).replace("\r\n", "\n").replace("\r", "\n")
            out["text_layer"] = sum(c.isalnum() for c in text) >= int(pcfg["min_text_chars"])
            out["text"] = text[:int(pcfg["max_text_chars"])]
            meta = doc.get_metadata_dict()
            out["meta_title"] = str(meta.get("Title") or "").strip()
            out["meta_date"] = pdf_date(meta.get("CreationDate")) or pdf_date(meta.get("ModDate"))
        except pdfium.PdfiumError as err:
            out["damaged"] = f"PDFium cannot read a page ({err})"
        finally:
            doc.close()
    if not out["damaged"] and b"%%EOF" not in tail:
        out["damaged"] = "truncated: the end-of-file marker (%%EOF) is missing"
    return out


# --- one file -------------------------------------------------------------------------------------

def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def read_document(path: Path, rules: dict, sha256: str | None = None) -> dict:
    """What a scan records of one file (never raises for the file's content): ``type``,
    ``size``, ``sha256``, ``pages``, ``text_layer``, ``encrypted``, ``password``,
    ``damaged`` (why, or ""), ``meta_title``, ``doc_date`` (ISO) and ``date_source``,
    ``decree`` and ``decree_source``, ``text`` (the first characters read, for the cache).
    ``sha256``: the content hash when the caller has it already. An ``OSError``
    (permissions, a file removed meanwhile) is the caller's to report."""
    size = path.stat().st_size
    rec = {"type": "empty" if size == 0 else "unknown", "size": size, "sha256": "",
           "pages": None, "text_layer": None, "encrypted": False, "password": False,
           "damaged": "", "meta_title": "", "doc_date": "", "date_source": "", "decree": "",
           "decree_source": "", "text": ""}
    if size == 0:
        return rec
    rec["sha256"] = sha256 or file_hash(path)
    with open(path, "rb") as fh:
        head = fh.read(2048)
    kind, damage = content_type(path, head, rules)
    rec.update(type=kind, damaged=damage)
    meta_date = None
    if kind == "pdf":
        info = _pdf(path, rules)
        meta_date = info.pop("meta_date")
        rec.update(info)
    elif kind == "encrypted_ooxml":
        rec.update(encrypted=True, password=True)
    elif kind in ("xlsx", "docx", "pptx"):
        meta_date = _office_created(path)
    elif kind in rules["image_types"]:
        meta_date = _exif_date(path)
    found, source = find_date(rec["text"], rules) if rec["text"] else (None, "")
    if found is None and meta_date is not None:
        found, source = meta_date, "metadata"
    if found is not None:
        rec.update(doc_date=found.isoformat(), date_source=source)
    if rec["text"]:
        rec["decree"], rec["decree_source"] = find_decree(rec["text"], rules)
    return rec
