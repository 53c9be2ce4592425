"""Documents for the evidence-folder tests, written by the tests themselves (no binary
fixtures): hand-written text PDFs (Helvetica, a real text layer), matplotlib PDFs, image-only
PDFs (Pillow), password-protected PDFs (pypdf's writer), truncated files, pictures and
workbooks. Also used by ``bench/evidence.py`` and the sample folder generator."""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
from pathlib import Path


@functools.lru_cache(maxsize=4)
def _blob(n: int) -> bytes:
    """``n`` bytes that do not compress (a stand-in for scanned pictures)."""
    return hashlib.shake_256(b"kla").digest(n)


def _pdf_string(text: str) -> bytes:
    s = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + s.encode("latin-1", "replace") + b")"


def text_pdf(pages: list[list[str]] | list[str], info: dict[str, str] | None = None,
             padding: int = 0) -> bytes:
    """A PDF with one Helvetica text line per string (``pages``: a list of pages, each a
    list of lines; a plain list of lines is one page). ``info``: document information
    (``Title``, ``CreationDate`` as ``D:YYYYMMDD...``). ``padding``: bytes of an unused
    stream object, to make large files."""
    if pages and isinstance(pages[0], str):
        pages = [pages]  # type: ignore[list-item]
    objs: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                         b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                         b"/Encoding /WinAnsiEncoding >>"]
    kids = []
    for lines in pages:
        page_no = len(objs) + 1
        kids.append(f"{page_no} 0 R".encode())
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
                    b"<< /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_no + 1))
        ops = [b"BT /F1 11 Tf 60 780 Td 14 TL"]
        ops += [_pdf_string(line) + b" Tj T*" for line in lines]
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    if padding:
        blob = _blob(padding)
        objs.append(b"<< /Length %d >>\nstream\n" % len(blob) + blob + b"\nendstream")
    info_ref = b""
    if info:
        objs.append(b"<< " + b" ".join(b"/" + k.encode() + b" " + _pdf_string(v)
                                       for k, v in info.items()) + b" >>")
        info_ref = b" /Info %d 0 R" % len(objs)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for k, o in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % k + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.writelines(b"%010d 00000 n \n" % o for o in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R" % (len(objs) + 1) + info_ref +
              b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def decree_pdf(number: str, year: int, enacted: str, title: str = "GUGUS TUGAS KLA",
               info: dict[str, str] | None = None, padding: int = 0) -> bytes:
    """A two-page decree: "NOMOR <number> TAHUN <year>" on page 1, "Ditetapkan di
    Banjarbaru pada tanggal <enacted>" on page 2."""
    return text_pdf([["KEPUTUSAN WALI KOTA BANJARBARU", f"NOMOR {number} TAHUN {year}",
                      f"TENTANG {title}", "Menimbang: bahwa dalam rangka ..."],
                     ["Ditetapkan di Banjarbaru", f"pada tanggal {enacted}",
                      "WALI KOTA BANJARBARU"]], info=info, padding=padding)


def matplotlib_pdf(lines: list[str]) -> bytes:
    """A one-page PDF written by matplotlib's PDF backend (TrueType text)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8.27, 11.69))
    for k, line in enumerate(lines):
        fig.text(0.08, 0.92 - 0.04 * k, line, fontsize=11)
    buf = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(buf, format="pdf")
    plt.close(fig)
    return buf.getvalue()


def _noise(side: int, seed: int = 0):
    from PIL import Image

    data = bytes((i * 2654435761 + seed) % 256 for i in range(side * side))
    return Image.frombytes("L", (side, side), data)


def image_pdf(pages: int = 1, side: int = 300) -> bytes:
    """A scan: every page a picture, no text layer (Pillow's PDF writer)."""
    imgs = [_noise(side, k).convert("RGB") for k in range(pages)]
    buf = io.BytesIO()
    imgs[0].save(buf, "PDF", save_all=True, append_images=imgs[1:], resolution=100)
    return buf.getvalue()


def picture(kind: str = "JPEG", side: int = 64) -> bytes:
    buf = io.BytesIO()
    _noise(side).convert("RGB").save(buf, kind)
    return buf.getvalue()


def encrypted_pdf(source: bytes, user_password: str = "rahasia") -> bytes:
    """``source`` protected with a password (pypdf's writer, AES-128)."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(source)))
    writer.encrypt(user_password, owner_password="pemilik", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def workbook(rows: list[list] | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for row in rows or [["Kecamatan", "Jumlah"], ["Banjarbaru Utara", 12]]:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def docx() -> bytes:
    """A minimal Word document (zip with word/document.xml)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def write(folder: Path, rel: str, data: bytes) -> Path:
    p = folder / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p
