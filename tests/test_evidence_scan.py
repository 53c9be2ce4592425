"""kla evidence scan: a folder of data dukung documents -> placed files, problems and the
evidence inventory, which `kla validate` accepts as it is. Every document is written by the
test (tests/evidence_docs.py)."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from evidence_docs import (
    decree_pdf,
    docx,
    encrypted_pdf,
    image_pdf,
    matplotlib_pdf,
    picture,
    text_pdf,
    workbook,
    write,
)
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import PROJ_ROOT, project_paths
from kla_analysis.errors import KlaError
from kla_analysis.ingest import documents, evidence_scan
from kla_analysis.ingest.documents import content_type, load_rules, read_document
from kla_analysis.ingest.evidence_scan import (
    inventory_frame,
    scan_folder,
    write_inventory,
)
from kla_analysis.ingest.validate import validate_data
from kla_analysis.report.evidence_files import evidence_files_for

YEAR = 2025
TODAY = date(2026, 12, 1)
runner = CliRunner()


def data_folder(tmp: Path) -> Path:
    """A data folder: the bundled raw/ copied, without its evidence inventories."""
    d = tmp / "data"
    shutil.copytree(PROJ_ROOT / "data" / "raw", d / "raw")
    for f in (d / "raw" / "evidence").iterdir():
        f.unlink()
    return d


def layouts(folder: Path) -> None:
    write(folder, "Klaster II/7 Perkawinan Anak/7.1 Data dispensasi kawin.pdf",
          decree_pdf("12", 2024, "3 Maret 2024"))
    write(folder, "Indikator 8/8.2 Laporan konseling.pdf", text_pdf(["Laporan"] * 5))
    write(folder, "9.1_daftar_lksa.pdf", text_pdf(["Daftar LKSA terakreditasi"]))
    write(folder, "09.02 data anak.pdf", text_pdf(["Data anak dalam pengasuhan"]))
    write(folder, "Indikator 12/laporan persalinan.pdf", text_pdf(["Persalinan di faskes"]))
    write(folder, "1. Kelembagaan/01 Perda KLA/Pertanyaan 3/APBD 2024.pdf",
          text_pdf(["Anggaran KLA dalam APBD tahun 2024"]))
    write(folder, "2. Kelembagaan/2 Penguatan Kelembagaan/notulen SK DD 2.4.pdf",
          text_pdf(["Notulen rapat Gugus Tugas"]))
    write(folder, "Klaster III/Ind. 13/13.1/e-PPGBM/rekap.pdf", text_pdf(["Rekap e-PPGBM"]))


def test_files_are_placed_by_the_codes_in_their_path(tmp_path):
    layouts(tmp_path / "docs")
    s = scan_folder(tmp_path / "docs", YEAR, today=TODAY)
    got = dict(zip(s.files["path"], s.files["item"], strict=True))
    assert got == {
        "Klaster II/7 Perkawinan Anak/7.1 Data dispensasi kawin.pdf": "7.1",
        "Indikator 8/8.2 Laporan konseling.pdf": "8.2",
        "9.1_daftar_lksa.pdf": "9.1",
        "09.02 data anak.pdf": "9.2",
        "Indikator 12/laporan persalinan.pdf": "12.1",  # the indicator's only item
        "1. Kelembagaan/01 Perda KLA/Pertanyaan 3/APBD 2024.pdf": "1.2",  # question 1.3
        "2. Kelembagaan/2 Penguatan Kelembagaan/notulen SK DD 2.4.pdf": "2.4",
        "Klaster III/Ind. 13/13.1/e-PPGBM/rekap.pdf": "13.1",
    }
    q = s.files.set_index("path")["question"]
    assert q["1. Kelembagaan/01 Perda KLA/Pertanyaan 3/APBD 2024.pdf"] == 3
    assert set(s.files["placed_by"]) == {"path"}
    items = s.items.set_index("item")
    assert items.loc["7.1", "status"] == "ada" and items.loc["7.2", "status"] == "tidak_ada"
    assert items.loc["7.1", "files"] == ["Klaster II/7 Perkawinan Anak/7.1 Data dispensasi kawin.pdf"]


def test_files_it_cannot_place_are_listed_never_guessed(tmp_path):
    f = tmp_path / "docs"
    write(f, "catatan rapat.pdf", text_pdf(["rapat"]))                       # no code at all
    write(f, "Indikator 7/8.1 salah folder.pdf", text_pdf(["x"]))           # folder vs name
    write(f, "7.9_tidak_ada.pdf", text_pdf(["x"]))                          # not an item
    write(f, "Indikator 7/foto.pdf", text_pdf(["x"]))                       # 7.1 or 7.2?
    write(f, "Klaster I/7.1 data.pdf", text_pdf(["x"]))                     # 7 is klaster II
    s = scan_folder(f, YEAR, today=TODAY)
    assert s.files["item"].isna().all()
    assert "unplaced" in rules_of(s, "catatan rapat.pdf")
    assert "conflicting_codes" in rules_of(s, "Indikator 7/8.1 salah folder.pdf")
    assert "unknown_item" in rules_of(s, "7.9_tidak_ada.pdf")
    assert "ambiguous_item" in rules_of(s, "Indikator 7/foto.pdf")
    assert "conflicting_codes" in rules_of(s, "Klaster I/7.1 data.pdf")
    ambiguous = s.problems[s.problems["rule"] == "ambiguous_item"]
    assert ambiguous["value"].iloc[0] == "indicator 7: 7.1, 7.2"
    assert (s.items["status"] == "tidak_ada").all()


def test_the_mapping_file_places_files_by_path_folder_and_glob(tmp_path):
    f = tmp_path / "docs"
    write(f, "Dinas Kesehatan/SK Posyandu.pdf", text_pdf(["SK"]))
    write(f, "Dinas Kesehatan/Foto/a.pdf", text_pdf(["foto a"]))
    write(f, "Dinas Kesehatan/Foto/b.pdf", text_pdf(["foto b"]))
    write(f, "Forum Anak/musrenbang-1.pdf", text_pdf(["Musrenbang"]))
    write(f, "arsip/lama.pdf", text_pdf(["lama"]))
    write(f, "README.md", b"# folder data dukung\n")
    (f / "data_dukung.yaml").write_text(
        "files:\n"
        "  - {path: 'Dinas Kesehatan/SK Posyandu.pdf', item: '15.1', opd: 'Dinas Kesehatan',"
        " title: 'SK Puskesmas Ramah Anak'}\n"
        "  - {path: 'Dinas Kesehatan/Foto/', item: '14.2', status: dalam proses}\n"
        "  - {path: 'Forum Anak/musrenbang-*.pdf', item: '6.3'}\n"
        "  - {path: 'tidak/ada/*.pdf', item: '6.1'}\n"
        "  - {path: '../luar.pdf', item: '6.1'}\n"
        "  - {path: 'x.pdf', item: '99.1'}\n"
        "ignore: ['arsip/*']\n", encoding="utf-8")
    s = scan_folder(f, YEAR, today=TODAY)
    files = s.files.set_index("path")
    assert files.loc["Dinas Kesehatan/SK Posyandu.pdf", "item"] == "15.1"
    assert files.loc["Dinas Kesehatan/Foto/a.pdf", "item"] == "14.2"
    assert files.loc["Forum Anak/musrenbang-1.pdf", "item"] == "6.3"
    assert set(files["placed_by"]) == {"mapping"}
    assert "arsip/lama.pdf" not in files.index and "README.md" not in files.index
    items = s.items.set_index("item")
    assert items.loc["14.2", "status"] == "dalam_proses"      # the task force's own status
    assert items.loc["15.1", "opd"] == "Dinas Kesehatan"
    assert items.loc["15.1", "title"] == "SK Puskesmas Ramah Anak"
    p = s.problems
    assert set(p.loc[p["rule"] == "mapping_unused", "value"]) == {"tidak/ada/*.pdf"}
    bad = p.loc[p["rule"] == "mapping_invalid", "value"].tolist()
    assert any("'..'" in h for h in bad) and any("99.1" in h for h in bad)


def test_a_csv_mapping_file_and_a_conflict_between_two_lines(tmp_path):
    f = tmp_path / "docs"
    write(f, "foto/a.pdf", text_pdf(["a"]))
    write(f, "foto/b.pdf", text_pdf(["b"]))
    mapping = tmp_path / "peta.csv"
    mapping.write_text("Path;Kode Data Dukung;Status\nfoto/a.pdf;6.1;ada\n"
                       "foto/*.pdf;6.2;\nfoto/*.pdf;6.3;\n", encoding="utf-8")
    s = scan_folder(f, YEAR, mapping=mapping, today=TODAY)
    files = s.files.set_index("path")
    assert files.loc["foto/a.pdf", "item"] == "6.1"            # exact path beats the globs
    assert pd.isna(files.loc["foto/b.pdf", "item"])            # two globs disagree
    assert "mapping_conflict" in rules_of(s, "foto/b.pdf")


@pytest.fixture(scope="module")
def flagged(tmp_path_factory):
    f = tmp_path_factory.mktemp("flags") / "docs"
    good = decree_pdf("12", 2024, "3 Maret 2024")
    write(f, "1.2_anggaran.pdf", good)
    write(f, "2.1_sk_rusak.pdf", good[: len(good) // 2])
    write(f, "2.2_rad_terkunci.pdf", encrypted_pdf(good))
    write(f, "2.3_profil_kosong.pdf", b"")
    write(f, "3.1_daftar.pdf", text_pdf(["Daftar lembaga masyarakat 2024"]))
    write(f, "3.2_salinan.pdf", (f / "3.1_daftar.pdf").read_bytes())       # same content
    write(f, "4.1_data_besar.pdf", text_pdf(["Data akta"], padding=2_200_000))
    write(f, "4.2_bukti.docx", docx())
    write(f, "5.1_foto.jpg", picture("JPEG"))
    write(f, "5.2_foto.pdf", picture("PNG"))                            # a picture named .pdf
    write(f, "6.1_tabel.pdf", workbook())                               # a workbook named .pdf
    write(f, "6.2_data.xlsx", workbook())
    write(f, "8.1_sk_puspaga.pdf", decree_pdf("7", 2019, "1 Juli 2019"))  # before 2022
    write(f, "1.1_perda_2015.pdf", decree_pdf("3", 2015, "2 Januari 2015"))  # never expires
    write(f, "9.1_konsep_daftar.pdf", text_pdf(["Daftar LKSA 2024"]))
    write(f, "10.1_scan.pdf", image_pdf(2))
    write(f, "11.1_daftar.pdf", decree_pdf("9", 2025, "1 Juli 2025"))     # after 31 May 2025
    return scan_folder(f, YEAR, today=TODAY), f


def rules_of(scan, path: str) -> set[str]:
    return set(scan.problems.loc[scan.problems["file"] == path, "rule"])


@pytest.mark.parametrize("path, rule", [
    ("2.1_sk_rusak.pdf", "damaged"),
    ("2.2_rad_terkunci.pdf", "password_protected"),
    ("2.3_profil_kosong.pdf", "empty_file"),
    ("3.1_daftar.pdf", "duplicate_content"),
    ("3.2_salinan.pdf", "duplicate_content"),
    ("4.1_data_besar.pdf", "too_large"),
    ("4.2_bukti.docx", "type_refused"),
    ("5.1_foto.jpg", "image_not_pdf"),
    ("5.2_foto.pdf", "image_not_pdf"),
    ("5.2_foto.pdf", "misnamed"),
    ("6.1_tabel.pdf", "misnamed"),
    ("8.1_sk_puspaga.pdf", "expired"),
    ("9.1_konsep_daftar.pdf", "draft"),
    ("10.1_scan.pdf", "no_text_layer"),
    ("11.1_daftar.pdf", "after_deadline"),
])
def test_each_flag_is_a_problem_with_the_files_path(flagged, path, rule):
    scan, _ = flagged
    assert rule in rules_of(scan, path)
    row = scan.problems[(scan.problems["file"] == path) & (scan.problems["rule"] == rule)]
    assert " / " in row["hint"].iloc[0]  # Bahasa Indonesia / English


def test_flags_set_the_items_status(flagged):
    scan, _ = flagged
    st = scan.items.set_index("item")["status"]
    assert st["1.2"] == "ada"
    assert st[["2.1", "2.2", "2.3"]].eq("tidak_ada").all()      # unusable files
    assert st["8.1"] == "kedaluwarsa" and st["1.1"] == "ada"    # 1.1: no expiry
    assert st["9.1"] == "dalam_proses"
    assert st["7.1"] == "tidak_ada"
    missing = scan.problems[scan.problems["rule"] == "missing"]
    codes = {v.split(" ")[0] for v in missing["value"]}
    assert "7.1" in codes and "1.2" not in codes and "2.1" not in codes
    assert set(rules_of(scan, "1.2_anggaran.pdf")) == set()
    # a date after the deadline is not written to the inventory
    assert pd.isna(scan.items.set_index("item").loc["11.1", "document_date"])


def test_type_is_read_from_the_content_not_the_extension(flagged):
    scan, _ = flagged
    t = scan.files.set_index("path")["type"]
    assert t["5.2_foto.pdf"] == "png" and t["6.1_tabel.pdf"] == "xlsx"
    assert t["6.2_data.xlsx"] == "xlsx" and t["4.2_bukti.docx"] == "docx"
    assert t["5.1_foto.jpg"] == "jpeg" and t["1.2_anggaran.pdf"] == "pdf"
    rules = load_rules()
    assert content_type(Path("x.xlsx"), b"%PDF-1.7\n...", rules) == ("pdf", "")
    assert content_type(Path("x.pdf"), b"\x89PNG\r\n\x1a\nxxxx", rules) == ("png", "")
    assert content_type(Path("x.pdf"), b"hello world", rules) == ("text", "")


def test_pages_text_layer_hash_and_encryption(flagged):
    scan, folder = flagged
    f = scan.files.set_index("path")
    assert f.loc["1.2_anggaran.pdf", "pages"] == 2 and f.loc["1.2_anggaran.pdf", "text_layer"]
    assert f.loc["10.1_scan.pdf", "pages"] == 2 and f.loc["10.1_scan.pdf", "text_layer"] is False
    assert f.loc["2.2_rad_terkunci.pdf", "encrypted"] and f.loc["2.2_rad_terkunci.pdf", "password"]
    assert "truncated" in f.loc["2.1_sk_rusak.pdf", "damaged"] or \
        "cannot open" in f.loc["2.1_sk_rusak.pdf", "damaged"]
    import hashlib

    assert f.loc["1.2_anggaran.pdf", "sha256"] == hashlib.sha256(
        (folder / "1.2_anggaran.pdf").read_bytes()).hexdigest()


def test_an_owner_password_alone_is_encrypted_but_readable(tmp_path):
    import io

    import pypdf

    w = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(decree_pdf("1", 2024,
                                                                          "2 Mei 2024"))))
    w.encrypt("", owner_password="pemilik", algorithm="RC4-128")
    p = write(tmp_path, "x.pdf", b"")
    with open(p, "wb") as fh:
        w.write(fh)
    rec = read_document(p, load_rules())
    assert rec["encrypted"] and not rec["password"] and rec["pages"] == 2
    assert rec["decree"] == "1 Tahun 2024"


def test_dates_and_decree_numbers_with_where_they_came_from(tmp_path):
    rules = load_rules()
    cases = {
        "enacted.pdf": decree_pdf("12", 2024, "3 Maret 2024"),
        "dated.pdf": matplotlib_pdf(["Data dispensasi kawin",
                                     "Banjarbaru, tanggal 17 Agustus 2023",
                                     "Nomor: 188.45/123/KUM/2023"]),
        "meta.pdf": text_pdf(["Laporan tanpa tanggal di teksnya"],
                             info={"CreationDate": "D:20240215093000+08'00'"}),
        "none.pdf": text_pdf(["Laporan tanpa tanggal di teksnya"]),
    }
    got = {}
    for name, data in cases.items():
        got[name] = read_document(write(tmp_path, name, data), rules)
    assert (got["enacted.pdf"]["doc_date"], got["enacted.pdf"]["date_source"]) == (
        "2024-03-03", "text_ditetapkan")
    assert (got["enacted.pdf"]["decree"], got["enacted.pdf"]["decree_source"]) == (
        "12 Tahun 2024", "text_nomor_tahun")
    assert (got["dated.pdf"]["doc_date"], got["dated.pdf"]["date_source"]) == (
        "2023-08-17", "text_tanggal")
    assert (got["dated.pdf"]["decree"], got["dated.pdf"]["decree_source"]) == (
        "188.45/123/KUM/2023", "text_nomor_kode")
    assert (got["meta.pdf"]["doc_date"], got["meta.pdf"]["date_source"]) == (
        "2024-02-15", "metadata")
    assert got["none.pdf"]["doc_date"] == "" and got["none.pdf"]["decree"] == ""


@pytest.mark.parametrize("text, expected", [
    ("ditetapkan di Banjarbaru pada tanggal 1 Pebruari 2024", date(2024, 2, 1)),
    ("DITETAPKAN DI BANJARBARU\nPADA TANGGAL 30 NOPEMBER 2023", date(2023, 11, 30)),
    ("tanggal 5 Agt. 2022", date(2022, 8, 5)),
    ("tanggal 31 Februari 2024", None),   # not a date
])
def test_indonesian_month_names(text, expected):
    assert documents.find_date(text, load_rules())[0] == expected


def test_the_inventory_validates_as_it_is_in_raw_evidence(flagged, tmp_path):
    scan, _ = flagged
    d = data_folder(tmp_path)
    out = write_inventory(scan, tmp_path / "out" / "inventaris.xlsx", project_paths(d))
    ws = openpyxl.load_workbook(out)["Data"]
    headers = [c.value for c in ws[3]]
    assert headers[:10] == ["Kabupaten/Kota", "Tahun Evaluasi", "Nomor Indikator",
                            "Kode Data Dukung", "Uraian Data Dukung", "Judul Dokumen", "Status",
                            "OPD Penanggung Jawab", "Tanggal Dokumen", "Tautan / Nama File"]
    shutil.copy(out, d / "raw" / "evidence" / f"data_dukung_{YEAR}.xlsx")
    result = validate_data(project_paths(d))
    assert result.ok, result.problems.to_string()
    ev = result.tables["evidence"]
    ev = ev[ev["year"] == YEAR].set_index("item")
    inv = inventory_frame(scan).set_index("item")
    assert ev["status"].to_dict() == inv["status"].to_dict()
    assert ev.loc["1.2", "link"] == "1.2_anggaran.pdf"
    assert str(ev.loc["1.2", "document_date"])[:10] == "2024-03-03"
    assert ev.loc["8.1", "status"] == "kedaluwarsa"


def test_kla_validate_accepts_the_written_inventory(tmp_path):
    layouts(tmp_path / "docs")
    write(tmp_path / "docs", "Klaster II/7 Perkawinan Anak/7.2 <b>&'\u202e\"konsep.pdf",
          text_pdf(["x"]))
    d = data_folder(tmp_path)
    out = tmp_path / "inventaris.xlsx"
    res = runner.invoke(app, ["evidence", "scan", str(tmp_path / "docs"), "--year", str(YEAR),
                              "--out", str(out), "--data-dir", str(d), "--link-base",
                              str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "inventory:" in res.output and "unsafe_name" in res.output
    shutil.copy(out, d / "raw" / "evidence" / f"data_dukung_{YEAR}.xlsx")
    res = runner.invoke(app, ["validate", "--data-dir", str(d)])
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(out)["Data"]
    links = {r[3]: r[9] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert links["7.1"] == "docs/Klaster II/7 Perkawinan Anak/7.1 Data dispensasi kawin.pdf"
    assert "\u202e" not in links["7.2"] and links["7.2"].startswith("docs/Klaster II/")


def test_a_rescan_of_an_unchanged_folder_reuses_what_it_read(tmp_path, monkeypatch):
    layouts(tmp_path / "docs")
    reads = []
    real = evidence_scan.read_document
    monkeypatch.setattr(evidence_scan, "read_document",
                        lambda p, r, sha256=None: reads.append(p) or real(p, r, sha256))
    cache = tmp_path / "cache" / "scan.json"
    first = scan_folder(tmp_path / "docs", YEAR, cache=cache, today=TODAY)
    assert len(reads) == 8 and first.stats["read"] == 8
    reads.clear()
    again = scan_folder(tmp_path / "docs", YEAR, cache=cache, today=TODAY)
    assert reads == [] and again.stats["reused"] == 8
    pd.testing.assert_frame_equal(first.files, again.files)
    # touched (new mtime, same content): the hash says it was read before
    p = tmp_path / "docs" / "9.1_daftar_lksa.pdf"
    os.utime(p, (1_700_000_000, 1_700_000_000))
    scan_folder(tmp_path / "docs", YEAR, cache=cache, today=TODAY)
    assert reads == []
    # changed content is read again
    p.write_bytes(text_pdf(["Daftar LKSA terakreditasi", "ditetapkan pada tanggal 2 Mei 2024"]))
    s = scan_folder(tmp_path / "docs", YEAR, cache=cache, today=TODAY)
    assert reads == [p]
    assert s.files.set_index("path").loc["9.1_daftar_lksa.pdf", "doc_date"] == "2024-05-02"
    # without a cache everything is read
    reads.clear()
    scan_folder(tmp_path / "docs", YEAR, cache=None, today=TODAY)
    assert len(reads) == 8


def test_nothing_outside_the_folder_is_read(tmp_path, monkeypatch):
    f = tmp_path / "docs"
    write(f, "7.1_data.pdf", text_pdf(["data"]))
    secret = write(tmp_path / "outside", "rahasia.pdf", text_pdf(["rahasia"]))
    (f / "7.2_link.pdf").symlink_to(secret)
    (f / "Indikator 8").symlink_to(tmp_path / "outside", target_is_directory=True)
    (f / "8.1_broken.pdf").symlink_to(tmp_path / "nowhere.pdf")
    write(f, ".hidden/2.1_sk.pdf", text_pdf(["x"]))
    write(f, "Thumbs.db", b"x")
    reads = []
    real = evidence_scan.read_document
    monkeypatch.setattr(evidence_scan, "read_document",
                        lambda p, r, sha256=None: reads.append(p) or real(p, r, sha256))
    s = scan_folder(f, YEAR, today=TODAY)
    assert reads == [(f / "7.1_data.pdf").resolve()]
    assert rules_of(s, "7.2_link.pdf") == {"outside_folder"}
    assert rules_of(s, "Indikator 8/") == {"outside_folder"}
    assert rules_of(s, "8.1_broken.pdf") == {"unreadable"}
    assert list(s.files["path"]) == ["7.1_data.pdf"]


def test_evidence_files_for_a_scan_and_an_inventory(flagged):
    scan, _ = flagged
    got = evidence_files_for(scan, YEAR)
    assert list(got.columns) == ["item", "file", "status"]
    one = got[got["item"] == "8.1"]
    assert one[["file", "status"]].values.tolist() == [["8.1_sk_puspaga.pdf", "kedaluwarsa"]]
    assert got.loc[got["item"] == "7.1", "file"].isna().all()
    assert set(got["item"]) == set(scan.items["item"])
    assert evidence_files_for(scan, YEAR + 1).empty
    inv = evidence_files_for(inventory_frame(scan), YEAR)
    assert inv[inv["item"] == "1.2"]["file"].tolist() == ["1.2_anggaran.pdf"]
    files_only = evidence_files_for(scan.files, YEAR)
    assert "2.1_sk_rusak.pdf" in set(files_only["file"])


def test_the_output_never_goes_into_raw(tmp_path):
    layouts(tmp_path / "docs")
    d = data_folder(tmp_path)
    scan = scan_folder(tmp_path / "docs", YEAR, paths=project_paths(d), today=TODAY)
    with pytest.raises(KlaError, match="inside a raw data folder"):
        write_inventory(scan, d / "raw" / "evidence" / "x.xlsx", project_paths(d))
    other = tmp_path / "other" / "raw"
    other.mkdir(parents=True)
    (other / "kla.yaml").write_text("region: Kota Lain\n")
    with pytest.raises(KlaError, match="inside a raw data folder"):
        write_inventory(scan, other / "evidence" / "x.xlsx", project_paths(d))
    with pytest.raises(KlaError, match=r"\.xlsx"):
        write_inventory(scan, tmp_path / "x.csv", project_paths(d))


def test_the_cli_exits_1_with_clear_messages(tmp_path):
    d = data_folder(tmp_path)
    res = runner.invoke(app, ["evidence", "scan", str(tmp_path / "nope"), "--year", "2025",
                              "--data-dir", str(d)])
    assert res.exit_code == 1 and "no such folder" in res.output
    layouts(tmp_path / "docs")
    res = runner.invoke(app, ["evidence", "scan", str(tmp_path / "docs"), "--year", "2025",
                              "--out", str(d / "raw" / "evidence" / "inv.xlsx"),
                              "--data-dir", str(d)])
    assert res.exit_code == 1 and "inside a raw data folder" in res.output
    assert not (d / "raw" / "evidence" / "inv.xlsx").exists()
    res = runner.invoke(app, ["evidence", "scan", str(tmp_path / "docs"), "--year", "1900",
                              "--out", str(tmp_path / "i.xlsx"), "--data-dir", str(d)])
    assert res.exit_code == 1 and "outside" in res.output
    res = runner.invoke(app, ["evidence", "scan", str(tmp_path / "docs"), "--year", "2025",
                              "--mapping", str(tmp_path / "none.yaml"),
                              "--out", str(tmp_path / "i.xlsx"), "--data-dir", str(d)])
    assert res.exit_code == 1 and "no such mapping file" in res.output
    assert "Traceback" not in res.output


def test_plain_progress_lines_when_not_a_terminal(tmp_path):
    layouts(tmp_path / "docs")
    d = data_folder(tmp_path)
    res = runner.invoke(app, ["evidence", "scan", str(tmp_path / "docs"), "--year", "2025",
                              "--out", str(tmp_path / "i.xlsx"), "--data-dir", str(d),
                              "--files-csv", str(tmp_path / "files.csv")])
    assert res.exit_code == 0, res.output
    assert "scan: 8/8 files" in res.output
    files = pd.read_csv(tmp_path / "files.csv")
    assert len(files) == 8 and {"sha256", "pages", "text_layer"} <= set(files.columns)


SAMPLE = PROJ_ROOT / "data" / "data_dukung" / str(YEAR)


def test_the_bundled_sample_folder_reproduces_the_bundled_inventory(tmp_path):
    """data/data_dukung/2025/ (illustrative PDFs) scanned gives the bundled 2025 inventory:
    statuses, titles, dates, OPD and links."""
    scan = scan_folder(SAMPLE, YEAR, today=TODAY)
    assert scan.files["item"].notna().all() and set(scan.files["placed_by"]) <= {"path",
                                                                                   "mapping"}
    got = inventory_frame(scan, link_base=PROJ_ROOT / "data").set_index("item")
    want = validate_data(project_paths()).tables["evidence"]
    want = want[want["year"] == YEAR].set_index("item")
    assert got["status"].to_dict() == want["status"].to_dict()
    assert got["opd"].to_dict() == want["opd"].to_dict()
    has = want["link"].notna()
    assert got.loc[has.index[has], "link"].to_dict() == want.loc[has, "link"].to_dict()
    assert got.loc[has.index[has], "title"].to_dict() == want.loc[has, "title"].to_dict()
    dates = pd.to_datetime(got.loc[has.index[has], "document_date"]).dt.date
    assert dates.to_dict() == want.loc[has, "document_date"].dt.date.to_dict()
    assert got.loc[~has, "link"].isna().all()


def test_the_bundled_sample_folder_is_what_its_generator_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_sample_documents", PROJ_ROOT / "tests" / "fixtures" / "pipeline" /
        "make_sample_documents.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(tmp_path / "new")
    new = {p.name: p.read_bytes() for p in (tmp_path / "new").iterdir()}
    old = {p.name: p.read_bytes() for p in SAMPLE.iterdir() if not p.name.startswith(".")}
    assert new.keys() == old.keys()
    assert [n for n in new if new[n] != old[n]] == []


def test_the_scan_and_the_validator_share_one_reading_of_the_date_rules():
    from kla_analysis import catalog
    from kla_analysis.ingest import validate

    assert evidence_scan.evidence_date_rules is catalog.evidence_date_rules
    assert validate.evidence_date_rules is catalog.evidence_date_rules


def test_an_unchanged_inventory_is_not_written_again(tmp_path):
    from kla_analysis.ingest.evidence_scan import save_inventory

    layouts(tmp_path / "docs")
    d = data_folder(tmp_path)
    paths = project_paths(d)
    scan = scan_folder(tmp_path / "docs", YEAR, paths=paths, today=TODAY)
    out, record = tmp_path / "out" / "inv.xlsx", tmp_path / "out" / "record.json"
    assert save_inventory(scan, out, paths, record=record) == (out, True)
    assert save_inventory(scan, out, paths, record=record) == (out, False)
    out.unlink()
    assert save_inventory(scan, out, paths, record=record) == (out, True)
    write(tmp_path / "docs", "7.2_perwal.pdf", text_pdf(["Perwal pencegahan perkawinan"]))
    again = scan_folder(tmp_path / "docs", YEAR, paths=paths, today=TODAY)
    assert save_inventory(again, out, paths, record=record) == (out, True)


def test_hostile_pdf_metadata_never_reaches_the_inventory_as_markup_or_control(tmp_path):
    f = tmp_path / "docs"
    write(f, "7.1_data.pdf", text_pdf(["Data dispensasi kawin 2024"], info={
        "Title": "<script>alert(1)</script> \x1b[2J Data \u202eKawin"}))
    d = data_folder(tmp_path)
    scan = scan_folder(f, YEAR, paths=project_paths(d), today=TODAY)
    title = scan.items.set_index("item").loc["7.1", "title"]
    assert "\x1b" not in title and "\u202e" not in title
    out = write_inventory(scan, tmp_path / "inv.xlsx", project_paths(d))
    shutil.copy(out, d / "raw" / "evidence" / "data_dukung_2025.xlsx")
    assert validate_data(project_paths(d)).ok


def test_a_file_that_cannot_be_opened_has_one_root_cause(tmp_path):
    f = tmp_path / "docs"
    book = workbook()
    write(f, "4.1_data_terpotong.xlsx", book[: len(book) // 2])
    write(f, "4.2_bukan_pdf.pdf", bytes(range(256)) * 4)
    s = scan_folder(f, YEAR, today=TODAY)
    assert rules_of(s, "4.1_data_terpotong.xlsx") == {"damaged"}
    assert rules_of(s, "4.2_bukan_pdf.pdf") == {"damaged"}
    assert (s.items.set_index("item").loc[["4.1", "4.2"], "status"] == "tidak_ada").all()


def test_names_that_are_not_utf8_or_hold_escapes_are_flagged_and_still_linked(tmp_path):
    from kla_analysis.publish.evidence_pack import write_pack

    f = tmp_path / "docs"
    f.mkdir()
    with open(os.fsencode(f) + b"/7.1 data \xff\xfe.pdf", "wb") as fh:
        fh.write(text_pdf(["Data dispensasi kawin 2024"]))
    write(f, "8.1 \x1b[31mmerah.pdf", text_pdf(["SK PUSPAGA 2024"]))
    d = data_folder(tmp_path)
    scan = scan_folder(f, YEAR, paths=project_paths(d), today=TODAY)
    assert set(scan.files["item"]) == {"7.1", "8.1"}
    assert rules_of(scan, "7.1 data \\xff\\xfe.pdf") == {"unsafe_name"}
    assert "unsafe_name" in rules_of(scan, "8.1 \x1b[31mmerah.pdf")
    page = write_pack(scan)
    html = page.read_text(encoding="utf-8")
    assert 'href="7.1%20data%20%FF%FE.pdf"' in html and "\x1b" not in html
    out = write_inventory(scan, tmp_path / "inv.xlsx", project_paths(d))
    shutil.copy(out, d / "raw" / "evidence" / "data_dukung_2025.xlsx")
    assert validate_data(project_paths(d)).ok
