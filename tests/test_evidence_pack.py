"""kla evidence pack: the offline index beside the documents. Escaped (hostile file names),
no script, no network, relative links only, missing items listed and sorted by the points at
stake."""

from __future__ import annotations

import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from evidence_docs import decree_pdf, picture, text_pdf, write
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import PROJ_ROOT
from kla_analysis.errors import KlaError
from kla_analysis.ingest.evidence_scan import scan_folder
from kla_analysis.publish.evidence_pack import href, pack_html, write_pack

YEAR = 2025
runner = CliRunner()
LONG = "7.2 " + "Laporan pencegahan perkawinan anak sangat panjang " * 4 + ".pdf"
HOSTILE = [
    "Klaster II/7 Perkawinan Anak/7.1 <script>alert('x')<script>.pdf",
    "Klaster II/7 Perkawinan Anak/" + LONG,
    "8.1 \"quoted\" & <img src=x onerror=alert(1)>.pdf",
    "8.2 \u202efdp.exe.pdf",
    "9.1 Tom & Jerry's <b>SK</b>.pdf",
    "<iframe>/catatan.pdf",
]


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.hrefs, self.attrs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [k for k, _ in attrs]
        self.hrefs += [v for k, v in attrs if k in ("href", "src")]


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    f = tmp_path_factory.mktemp("pack") / "Data Dukung 2025"
    for rel in HOSTILE:
        write(f, rel, text_pdf([f"Dokumen {rel[:20]}"]))
    write(f, "1.1_perda.pdf", decree_pdf("3", 2023, "2 Januari 2023"))
    write(f, "2.1_sk_konsep.pdf", text_pdf(["KONSEP SK Gugus Tugas 2024 ........"]))
    write(f, "5.1_foto.jpg", picture())
    scan = scan_folder(f, YEAR, today=date(2026, 12, 1))
    page = write_pack(scan)
    return scan, page, page.read_text(encoding="utf-8")


def test_the_page_is_beside_the_documents_and_offline(packed):
    scan, page, html = packed
    assert page == scan.folder / "index.html"
    parser = Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "iframe" not in parser.tags
    assert "img" not in parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")]
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert 'name="viewport"' in html and "@media print" in html
    assert not re.search(r"https?://", html)


def test_every_link_is_relative_and_opens_a_file_of_the_folder(packed):
    scan, page, html = packed
    parser = Tags()
    parser.feed(html)
    assert len(parser.hrefs) >= len(HOSTILE)
    for h in parser.hrefs:
        assert not re.match(r"^[a-z][a-z0-9+.-]*:", h, re.I) and not h.startswith("/"), h
        assert ".." not in h.split("/")
        target = (page.parent / unquote(h)).resolve()
        assert target.is_file() and scan.folder in target.parents


def test_hostile_file_names_arrive_as_text(packed):
    _, _, html = packed
    assert "&lt;script&gt;alert(" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&#34;quoted&#34; &amp;" in html
    assert "Tom &amp; Jerry&#39;s &lt;b&gt;SK&lt;/b&gt;" in html
    assert "\u202e" not in html and "\\u202efdp.exe" in html
    assert LONG[:60] in html


def test_missing_items_are_listed_most_points_first(packed):
    scan, _, html = packed
    todo = html.split('id="kurang"')[1].split('id="rincian"')[0]
    missing = scan.items.loc[scan.items["status"] != "ada", "item"]
    for item in missing:
        assert f">{item} " in todo
    assert ">1.1 " not in todo and ">7.1 " not in todo          # both have a valid file
    assert "dalam proses" in todo                                # 2.1 is a konsep
    first = re.findall(r'<span class="what">([\d.]+) ', todo)
    assert first[:2] == ["1.2", "2.2"] or first[0] == "1.2"     # 40 points at stake, then 2.x
    unplaced = html.split('id="tidak-ditempatkan"')[1].split('id="masalah"')[0]
    assert "catatan.pdf" in unplaced and "&lt;iframe&gt;" in unplaced


def test_blocks_indicators_questions_and_their_files(packed):
    _, _, html = packed
    assert "Klaster II: Lingkungan keluarga dan pengasuhan alternatif" in html
    assert "Pertanyaan 7.1:" in html and "Pertanyaan 1.1:" in html
    detail = html.split('id="indikator-1"')[1].split("</section>")[0]
    assert "1.1_perda.pdf" in detail and "2 Januari 2023" in detail
    assert "ditetapkan" in detail and "Nomor 3 Tahun 2023" in detail
    assert "Masih kurang" in detail                                 # 1.2 has no file


def test_an_estimate_passed_in_orders_the_list(packed):
    scan, page, _ = packed
    html = pack_html(scan, out=page, at_stake={"26.2": 0.9, "7.2": 0.1},
                     stake_label=("peluang", "chance"))
    todo = html.split('id="kurang"')[1].split('id="rincian"')[0]
    assert re.findall(r'<span class="what">([\d.]+) ', todo)[0] == "26.2"
    assert "peluang" in todo


def test_a_file_not_written_by_the_pack_is_never_overwritten(tmp_path):
    f = tmp_path / "docs"
    write(f, "1.1_perda.pdf", decree_pdf("3", 2023, "2 Januari 2023"))
    (f / "index.html").write_text("<p>the city's own page</p>")
    scan = scan_folder(f, YEAR)
    with pytest.raises(KlaError, match="never overwritten"):
        write_pack(scan)
    assert (f / "index.html").read_text() == "<p>the city's own page</p>"
    out = write_pack(scan, tmp_path / "pages" / "pack.html")
    html = out.read_text()
    assert 'href="../docs/1.1_perda.pdf"' in html
    assert write_pack(scan, out) == out     # its own earlier page is replaced


def test_href_encodes_each_segment():
    assert href(Path("/d/a b/c#d?.pdf"), Path("/d")) == "a%20b/c%23d%3F.pdf"
    assert href(Path("/d/x.pdf"), Path("/e")) == "../d/x.pdf"


def test_the_cli_writes_the_pack_and_refuses_raw(tmp_path):
    f = tmp_path / "docs"
    write(f, "1.1_perda.pdf", decree_pdf("3", 2023, "2 Januari 2023"))
    d = tmp_path / "data"
    shutil.copytree(PROJ_ROOT / "data" / "raw", d / "raw")
    stake = tmp_path / "stake.csv"
    stake.write_text("item,points\n7.2,99\n")
    res = runner.invoke(app, ["evidence", "pack", str(f), "--year", "2025", "--data-dir",
                              str(d), "--stake", str(stake)])
    assert res.exit_code == 0, res.output
    assert (f / "index.html").is_file() and "pack:" in res.output
    html = (f / "index.html").read_text()
    assert "Kota Banjarbaru" in html
    res = runner.invoke(app, ["evidence", "pack", str(f), "--year", "2025", "--data-dir",
                              str(d), "--out", str(d / "raw" / "index.html")])
    assert res.exit_code == 1 and "inside a raw data folder" in res.output
    res = runner.invoke(app, ["evidence", "pack", str(tmp_path / "nope"), "--year", "2025",
                              "--data-dir", str(d)])
    assert res.exit_code == 1 and "no such folder" in res.output
