"""Synthetic, schema-valid raw data folders for the scale benchmarks (not shipped, not real).

Writes ``<out>/raw/`` in the layout of ``data/raw/`` and in the same messy formats agencies
use: ``;`` Windows-1252 CSV with title rows, decimal commas, ``1.234`` thousands and ``85,5%``;
``,`` UTF-8-BOM CSV; a long layout (``Ukuran``/``Nilai``/``Satuan``); Excel with title rows,
a merged two-row header, a ``(1) (2) ...`` numbering row, a kecamatan merged down its
kelurahan rows, ``JUMLAH`` rows and notes below; years as ``Tahun 2023`` or only in the title;
missing markers (``-``, ``n/a``, blank); kab/kota as ``KAB. BANJAR``; kelurahan in CAPITALS,
with ``Kel.``/``Desa`` prefixes and listed spelling variants (``Sei.`` for ``Sungai``).

Scales (``SCALES``): ``tiny`` (2 kab/kota, 1 year: the generator test), ``province``
(the 13 kab/kota of South Kalimantan, ~2,000 kelurahan, 6 years) and ``national`` (514 kab/kota
in 38 provinces, ~84,000 kelurahan/desa, 6 years, ~5 million statistic rows). The 13 South
Kalimantan names are real; every other name (provinces, other kab/kota, kecamatan, kelurahan)
and EVERY value is synthetic (fixed seed), and the files say so in their title rows and in
``raw/sources.csv``. At national scale the statistics are CSV files (big exports are CSV in
practice, and DuckDB can read them without its network-installed Excel extension); the
self-assessment and evidence stay Excel workbooks (one per year, all kab/kota).

A folder is generated once per (scale, seed, generator version) under ``bench/out/`` and
reused by later runs; it is written to a temporary folder and renamed when complete.

    .venv/bin/python bench/generate.py province          # prints the folder
    .venv/bin/python bench/generate.py national --force
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell

from kla_analysis.catalog import load_catalog, load_evidence_requirements

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
SYNTH = "data sintetis untuk benchmark (bukan data resmi)"
SOURCE_URL = "https://example.org/kla-sintetis"


@dataclass(frozen=True)
class Scale:
    name: str
    n_cities: int
    n_provinces: int
    eval_years: tuple[int, ...]
    kel_range: tuple[int, int]     # kelurahan per kab/kota (uniform, inclusive-exclusive)
    kel_per_kec: float             # mean kelurahan per kecamatan
    excel_statistics: bool         # birth certificates and child forum as Excel workbooks


EVAL_YEARS = (2018, 2019, 2021, 2022, 2023, 2025)
SCALES = {
    "tiny": Scale("tiny", 2, 1, (2023,), (8, 12), 4.0, True),
    "province": Scale("province", 13, 1, EVAL_YEARS, (60, 250), 12.0, True),
    "national": Scale("national", 514, 38, EVAL_YEARS, (60, 267), 11.5, False),
}

KALSEL = "Kalimantan Selatan"
KALSEL_CITIES = [
    "Kota Banjarbaru", "Kota Banjarmasin", "Kabupaten Balangan", "Kabupaten Banjar",
    "Kabupaten Barito Kuala", "Kabupaten Hulu Sungai Selatan", "Kabupaten Hulu Sungai Tengah",
    "Kabupaten Hulu Sungai Utara", "Kabupaten Kotabaru", "Kabupaten Tabalong",
    "Kabupaten Tanah Bumbu", "Kabupaten Tanah Laut", "Kabupaten Tapin",
]
# Name parts (common in Indonesian place names); abbreviations agencies write for them.
FIRST = ["Sungai", "Guntung", "Landasan", "Tanjung", "Kuala", "Pulau", "Batu", "Bukit",
         "Teluk", "Muara", "Padang", "Karang", "Lok", "Banua", "Simpang", "Tambak", "Rantau",
         "Air", "Kampung", "Pasar", "Tebing", "Handil", "Anjir", "Danau", "Gunung", "Tanah",
         "Loktabat", "Mekar", "Sumber", "Sido", "Harapan", "Jaya", "Mulia", "Sari", "Suka",
         "Cempaka", "Kemuning", "Palam", "Bangkal", "Mentaos", "Komet", "Liang", "Tiwingan",
         "Awang", "Sei", "Benua", "Pematang", "Alalak", "Kelayan", "Pekapuran", "Belitung",
         "Pelambuan", "Basirih", "Mantuil", "Tatah", "Pemurus", "Kebun", "Sambang", "Telaga"]
FIRST.remove("Sei")  # "Sei" is the abbreviation of "Sungai": never a name of its own
SECOND = ["Ulin", "Payung", "Manggis", "Paikat", "Tiung", "Besar", "Kecil", "Baru", "Lama",
          "Raya", "Indah", "Makmur", "Sejahtera", "Damai", "Permai", "Asri", "Rejo", "Mulyo",
          "Agung", "Intan", "Emas", "Perak", "Kelapa", "Pinang", "Rambai", "Jingah", "Miai",
          "Andai", "Lulut", "Bilu", "Keramat", "Pangeran", "Kuin", "Antasan", "Tabuk", "Halong",
          "Amandit", "Martapura", "Riam", "Kanan", "Kiri", "Hanyar", "Purun", "Lurus", "Panjang",
          "Rumbia", "Seberang", "Putih", "Hitam", "Merah", "Hijau", "Batang", "Kapuk", "Nipah"]
THIRD = ["", "", "", "Utara", "Selatan", "Timur", "Barat", "Tengah", "Hulu", "Hilir", "Dalam",
         "Luar", "Satu", "Dua"]
ABBREV = {"Sungai": "Sei.", "Guntung": "Gt.", "Landasan": "Lds.", "Tanjung": "Tj.",
          "Kampung": "Kp.", "Pulau": "P.", "Gunung": "Gn.", "Muara": "Ma."}
SHORT_DIR = {"Utara": "Utr.", "Selatan": "Sel.", "Timur": "Tim.", "Barat": "Brt."}


def synthetic_note(text: str) -> str:
    return f"{text} – {SYNTH}"


# ---------------------------------------------------------------- places


def _unique_names(rng: np.random.Generator, n: int, taken: set[str],
                  third: bool = True) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        k = max(2 * (n - len(out)), 16)
        a = rng.choice(FIRST, k)
        b = rng.choice(SECOND, k)
        c = rng.choice(THIRD, k) if third else np.full(k, "")
        for x, y, z in zip(a, b, c, strict=True):
            name = f"{x} {y} {z}".strip()
            key = name.lower()
            if key not in taken:
                taken.add(key)
                out.append(name)
                if len(out) == n:
                    break
    return out


def _variant(name: str) -> str:
    """A spelling variant agencies write: abbreviated first word or direction, else none."""
    words = name.split()
    if words[0] in ABBREV:
        return " ".join([ABBREV[words[0]], *words[1:]])
    if words[-1] in SHORT_DIR:
        return " ".join([*words[:-1], SHORT_DIR[words[-1]]])
    if "ngg" in name:
        return name.replace("ngg", "ng", 1)  # Manggis -> Mangis
    return ""


def make_places(scale: Scale, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cities`` (province, city, slug) and the gazetteer (city, kecamatan, kelurahan,
    variants, code)."""
    provinces = [KALSEL] + [f"Provinsi Sintetis {i:02d}" for i in range(1, scale.n_provinces)]
    names = list(KALSEL_CITIES[: scale.n_cities])
    taken = {n.lower() for n in names}
    while len(names) < scale.n_cities:
        base = _unique_names(rng, 1, taken, third=False)[0]
        names.append(("Kota " if rng.random() < 0.18 else "Kabupaten ") + base)
    prov = [KALSEL] * min(13, scale.n_cities)
    rest = scale.n_cities - len(prov)
    if rest:
        prov += [provinces[1 + i % (len(provinces) - 1)] for i in range(rest)]
    cities = pd.DataFrame({"province": prov, "city": names})
    cities["slug"] = cities["city"].str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True)
    rows = []
    for ci, city in enumerate(cities["city"]):
        n_kel = int(rng.integers(*scale.kel_range))
        n_kec = max(1, round(n_kel / scale.kel_per_kec))
        kecs = _unique_names(rng, n_kec, set(), third=False)
        kels = _unique_names(rng, n_kel, set())
        which = np.sort(np.r_[np.arange(n_kec), rng.integers(0, n_kec, n_kel - n_kec)])
        seen = {k.lower() for k in kels}
        for j, (kec_i, kel) in enumerate(zip(which, kels, strict=True)):
            var = _variant(kel)
            if var and var.lower() in seen:  # must not name another kelurahan
                var = ""
            seen.add(var.lower())
            rows.append((city, kecs[kec_i], kel, var, f"63.{ci + 1:03d}.{kec_i + 1:02d}.{j + 1:04d}"))
    gaz = pd.DataFrame(rows, columns=["city", "kecamatan", "kelurahan", "variants", "code"])
    return cities, gaz


# ---------------------------------------------------------------- writing files


def _csv_text(title: list[str], frame: pd.DataFrame, notes: list[str], sep: str,
              header_rows: list[list[str]] | None = None) -> str:
    body = frame.to_csv(sep=sep, index=False, header=header_rows is None, lineterminator="\n")
    head = "".join(sep.join(r) + "\n" for r in header_rows) if header_rows else ""
    top = "".join(t + "\n" for t in title) + ("\n" if title else "")
    return top + head + body + ("\n" + "".join(n + "\n" for n in notes) if notes else "")


def write_csv(path: Path, title: list[str], frame: pd.DataFrame, notes: list[str],
              sep: str = ";", encoding: str = "cp1252",
              header_rows: list[list[str]] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_csv_text(title, frame, notes, sep, header_rows).encode(encoding))


def write_xlsx(path: Path, sheets: list[dict]) -> None:
    """Sheets: ``name, title, header (list of rows), rows (DataFrame), notes, merges
    (list of 'A1:B2'), merge_down (column letter: merge equal runs of this column)``.

    Small sheets get merges (normal mode); big ones are streamed (write-only mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    big = sum(len(s["rows"]) for s in sheets) > 5000
    wb = openpyxl.Workbook(write_only=big)
    if not big:
        wb.remove(wb.active)
    for s in sheets:
        ws = wb.create_sheet(s["name"])
        for t in s.get("title", []):
            ws.append([t])
        if s.get("title"):
            ws.append([])
        for r in s["header"]:
            ws.append(r)
        first_data = len(s.get("title", [])) + (1 if s.get("title") else 0) + len(s["header"]) + 1
        for rec in s["rows"].itertuples(index=False):  # generator side: not timed
            ws.append([None if (isinstance(v, float) and np.isnan(v)) else v for v in rec])
        if s.get("notes"):
            ws.append([])
            for n in s["notes"]:
                ws.append([WriteOnlyCell(ws, n)] if big else [n])
        if not big:
            for m in s.get("merges", []):
                ws.merge_cells(m)
            col = s.get("merge_down")
            if col is not None:
                vals = list(s["rows"].iloc[:, openpyxl.utils.column_index_from_string(col) - 1])
                start = 0
                for i in range(1, len(vals) + 1):
                    if i == len(vals) or vals[i] != vals[start]:
                        if i - start > 1 and vals[start] not in (None, ""):
                            ws.merge_cells(f"{col}{first_data + start}:{col}{first_data + i - 1}")
                        start = i
    wb.save(path)


# ---------------------------------------------------------------- messy text


def idn_count(v: np.ndarray) -> pd.Series:
    """Whole numbers with ``.`` thousands (``1.234``)."""
    v = np.asarray(v, dtype="int64")
    s = pd.Series(v).astype(str)
    big = v >= 1000
    s[big] = (pd.Series(v[big] // 1000).astype(str) + "."
              + pd.Series(v[big] % 1000).astype(str).str.zfill(3)).to_numpy()
    return s


def idn_decimal(p: np.ndarray, rng: np.random.Generator, percent_sign: float = 0.0) -> pd.Series:
    """One-decimal numbers with a decimal comma (``85,5``), some with ``%``."""
    s = pd.Series(np.round(np.asarray(p, dtype=float), 1)).map("{:.1f}".format)
    s = s.str.replace(".", ",", regex=False)
    if percent_sign:
        s = s + np.where(rng.random(len(s)) < percent_sign, "%", "")
    return s


def blank_some(frame: pd.DataFrame, cols: list[str], rng: np.random.Generator,
               share: float = 0.01) -> None:
    """A few rows say "no data" for a group of columns, as agencies write it."""
    hit = rng.random(len(frame)) < share
    marks = rng.choice(["n/a", "-", ""], hit.sum())
    for c in cols:
        frame.loc[hit, c] = marks


def written_city(city: pd.Series, rng: np.random.Generator) -> pd.Series:
    """Kab/kota as agencies write it: canonical, CAPITALS or ``Kab.`` abbreviation."""
    r = rng.random(len(city))
    out = city.copy()
    out[r < 0.15] = city[r < 0.15].str.upper()
    abbr = (r >= 0.15) & (r < 0.3)
    out[abbr] = city[abbr].str.replace(r"^Kabupaten ", "Kab. ", regex=True)
    return out


def written_kelurahan(kel: pd.Series, var: pd.Series, rng: np.random.Generator) -> pd.Series:
    r = rng.random(len(kel))
    out = kel.copy()
    up = r < 0.12
    out[up] = kel[up].str.upper()
    pre = (r >= 0.12) & (r < 0.2)
    out[pre] = "Kel. " + kel[pre]
    desa = (r >= 0.2) & (r < 0.24)
    out[desa] = "Desa " + kel[desa]
    use_var = (r >= 0.24) & (r < 0.4) & (var != "")
    out[use_var] = var[use_var]
    return out


def written_kecamatan(kec: pd.Series, rng: np.random.Generator) -> pd.Series:
    r = rng.random(len(kec))
    out = kec.copy()
    out[r < 0.1] = "Kec. " + kec[r < 0.1]
    out[(r >= 0.1) & (r < 0.15)] = kec[(r >= 0.1) & (r < 0.15)].str.upper()
    return out


def with_totals(frame: pd.DataFrame, by: str, label_col: str, sum_cols: list[str]) -> pd.DataFrame:
    """A ``JUMLAH`` row after each group (the agency's own total; the readers drop it)."""
    parts = []
    for _, g in frame.groupby(by, sort=False):
        tot = {c: "" for c in frame.columns}
        tot[label_col] = "JUMLAH"
        for c in sum_cols:
            tot[c] = str(int(pd.to_numeric(g[c].str.replace(".", "", regex=False),
                                           errors="coerce").fillna(0).sum()))
        parts += [g, pd.DataFrame([tot])]
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- datasets


def _rate(rng, n, lo, hi):
    return rng.uniform(lo, hi, n)


def area_years(gaz: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Every kelurahan x data year (kelurahan order kept, years innermost)."""
    n = len(gaz)
    out = gaz.loc[gaz.index.repeat(len(years))].reset_index(drop=True)
    out["data_year"] = np.tile(years, n)
    return out


def write_statistics(raw: Path, scale: Scale, cities: pd.DataFrame, gaz: pd.DataFrame,
                     rng: np.random.Generator, sources: list[tuple]) -> int:
    """Per province: Dinkes (one ';' CSV per year, year only in the title), Disdik (',' BOM
    CSV, all years), Disdukcapil birth certificates (Excel sheets per year with a merged
    two-row header, or ';' CSV per year with a two-row header), DP3A child forum (Excel or
    CSV), and a long-layout file with kelurahan and kab/kota measures. Returns the number of
    statistic rows (area x measure x data year) the build should produce."""
    data_years = [y - 1 for y in scale.eval_years]
    n_rows = 0
    gaz = gaz.merge(cities[["city", "province"]], on="city")
    for prov, g in gaz.groupby("province", sort=False):
        pslug = re.sub(r"[^a-z0-9]+", "_", prov.lower())
        g = g.reset_index(drop=True)
        base = area_years(g, data_years)
        m = len(base)
        size = np.exp(rng.normal(0, 0.35, len(g)))  # kelurahan size factor
        size = np.repeat(size, len(data_years))
        city_w = written_city(base["city"], rng)
        kec_w = written_kecamatan(base["kecamatan"], rng)
        kel_w = written_kelurahan(base["kelurahan"], base["variants"], rng)

        # Dinkes: 4 measures with target, count and percentage
        specs = [("Sasaran Persalinan", "Persalinan di Faskes", "% Persalinan di Faskes", 180, .85, .995),
                 ("Balita Diukur", "Balita Stunting", "% Stunting", 800, .06, .3),
                 ("Bayi 0-6 Bulan", "ASI Eksklusif", "% ASI Eksklusif", 90, .45, .95),
                 ("Sasaran Imunisasi", "Imunisasi Dasar Lengkap", "% IDL", 180, .75, .99)]
        d = pd.DataFrame({"No": "", "Kabupaten/Kota": city_w, "Kecamatan": kec_w,
                          "Kelurahan": kel_w})
        for den_h, num_h, pct_h, mean, lo, hi in specs:
            den = np.maximum(1, np.round(mean * size * rng.uniform(.8, 1.2, m))).astype("int64")
            num = np.floor(den * _rate(rng, m, lo, hi)).astype("int64")
            d[den_h] = idn_count(den)
            d[num_h] = idn_count(num)
            d[pct_h] = idn_decimal(100 * num / den, rng, percent_sign=0.3)
            blank_some(d, [den_h, num_h, pct_h], rng)
        d["Keterangan"] = "sintetis"
        for y in data_years:
            part = d[(base["data_year"] == y).to_numpy()].copy()
            part["No"] = np.arange(1, len(part) + 1).astype(str)
            part = with_totals(part, base.loc[part.index, "city"], "Kelurahan",
                               [s[0] for s in specs])
            name = f"statistics/dinkes_kia_{pslug}_{y}.csv"
            write_csv(raw / name, [f"DATA KESEHATAN IBU DAN ANAK PER KELURAHAN – {prov.upper()} "
                                   f"TAHUN {y}", "Dinas Kesehatan – " + SYNTH],
                      part, ["Sumber: Dinas Kesehatan (e-PPGBM, laporan KIA) – " + SYNTH],
                      sep=";", encoding="cp1252")
            sources.append((name, "statistics", "Dinkes"))
        n_rows += 4 * m

        # Disdik: ',' UTF-8 BOM, Tahun Data column, decimal point
        e = pd.DataFrame({"Kabupaten/Kota": base["city"], "Kecamatan": base["kecamatan"],
                          "Kelurahan": kel_w, "Tahun Data": base["data_year"].astype(str),
                          "APS 16-18 (%)": pd.Series(np.round(_rate(rng, m, 55, 99.5), 1))
                          .map("{:.1f}".format),
                          "APK PAUD (%)": pd.Series(np.round(_rate(rng, m, 30, 95), 1))
                          .map("{:.1f}".format),
                          "Keterangan": "sintetis"})
        blank_some(e, ["APS 16-18 (%)"], rng, 0.005)
        name = f"statistics/disdik_partisipasi_{pslug}.csv"
        write_csv(raw / name, [], e, [], sep=",", encoding="utf-8-sig")
        sources.append((name, "statistics", "Disdik"))
        n_rows += 2 * m

        # Disdukcapil: birth certificates, merged two-row header, numbering row, per year
        kids = np.round(900 * size * rng.uniform(.9, 1.1, m)).astype("int64")
        have = np.floor(kids * _rate(rng, m, .8, 1.0)).astype("int64")
        a = pd.DataFrame({"No": "", "Kabupaten/Kota": city_w, "Kecamatan": base["kecamatan"],
                          "Kelurahan": kel_w.str.upper(), "Jumlah Anak 0-17 Tahun": idn_count(kids),
                          "Jumlah": idn_count(have),
                          "%": idn_decimal(100 * have / kids, rng)})
        top = ["No", "Kabupaten/Kota", "Kecamatan", "Kelurahan", "Jumlah Anak 0-17 Tahun",
               "Memiliki Akta Kelahiran", ""]
        bottom = ["", "", "", "", "", "Jumlah", "%"]
        numbering = [f"({i})" for i in range(1, 8)]
        def title(y: int, prov: str = prov) -> list[str]:
            return [f"REKAPITULASI KEPEMILIKAN AKTA KELAHIRAN ANAK 0-17 TAHUN – {prov.upper()} "
                    f"TAHUN {y}", "Disdukcapil – " + SYNTH]
        notes = ["Keterangan: % = Jumlah memiliki akta / Jumlah anak 0-17 tahun",
                 "Sumber: SIAK Disdukcapil – " + SYNTH]
        if scale.excel_statistics:
            sheets = []
            for y in data_years:
                part = a[(base["data_year"] == y).to_numpy()].copy()
                part["No"] = list(range(1, len(part) + 1))
                for c in ("Jumlah Anak 0-17 Tahun", "Jumlah"):  # Excel numbers
                    part[c] = part[c].str.replace(".", "", regex=False).astype("int64")
                part["%"] = part["%"].str.replace(",", ".", regex=False).astype(float)
                part = with_totals(part.astype({"Jumlah Anak 0-17 Tahun": str, "Jumlah": str}),
                                   base.loc[part.index, "city"], "Kelurahan",
                                   ["Jumlah Anak 0-17 Tahun", "Jumlah"])
                for c in ("Jumlah Anak 0-17 Tahun", "Jumlah"):
                    part[c] = pd.to_numeric(part[c])
                sheets.append({"name": str(y), "title": title(y), "header": [top, bottom, numbering],
                               "rows": part, "notes": notes, "merges": ["A4:A5", "F4:G4"],
                               "merge_down": "C"})
            name = f"statistics/disdukcapil_akta_kelahiran_{pslug}.xlsx"
            write_xlsx(raw / name, sheets)
            sources.append((name, "statistics", "Disdukcapil"))
        else:
            for y in data_years:
                part = a[(base["data_year"] == y).to_numpy()].copy()
                part["No"] = np.arange(1, len(part) + 1).astype(str)
                name = f"statistics/disdukcapil_akta_kelahiran_{pslug}_{y}.csv"
                write_csv(raw / name, title(y), part, notes, sep=";", encoding="cp1252",
                          header_rows=[top, bottom, numbering])
                sources.append((name, "statistics", "Disdukcapil"))
        n_rows += m

        # DP3A: child forum members (count), "Kel." prefix, Tahun column as "Tahun 2023"
        f = pd.DataFrame({"No": np.arange(1, m + 1), "Kabupaten/Kota": city_w,
                          "Kecamatan": base["kecamatan"],
                          "Kelurahan": "Kel. " + base["kelurahan"],
                          "Tahun": "Tahun " + base["data_year"].astype(str),
                          "Jumlah Anggota Forum Anak": rng.integers(5, 60, m)})
        if scale.excel_statistics:
            name = f"statistics/dp3a_forum_anak_{pslug}.xlsx"
            write_xlsx(raw / name, [{"name": "Forum Anak", "title": [
                f"JUMLAH ANGGOTA FORUM ANAK KELURAHAN – {prov.upper()}", SYNTH],
                "header": [list(f.columns)], "rows": f,
                "notes": ["Catatan: anggota aktif per 31 Desember – " + SYNTH]}])
        else:
            name = f"statistics/dp3a_forum_anak_{pslug}.csv"
            f["Jumlah Anggota Forum Anak"] = f["Jumlah Anggota Forum Anak"].astype(str)
            write_csv(raw / name, [f"JUMLAH ANGGOTA FORUM ANAK KELURAHAN – {prov.upper()}", SYNTH],
                      f, ["Catatan: anggota aktif per 31 Desember – " + SYNTH], sep=";")
        sources.append((name, "statistics", "DP3A"))
        n_rows += m

        # Long layout: two kelurahan measures + kab/kota measures, Indonesian measure names
        pop = np.round(4200 * size * rng.uniform(.95, 1.05, m)).astype("int64")
        water = np.round(_rate(rng, m, 60, 99.9), 1)
        kel_long = pd.DataFrame({
            "Kabupaten/Kota": np.repeat(city_w.to_numpy(), 2),
            "Tahun Data": np.repeat(base["data_year"].astype(str).to_numpy(), 2),
            "Kecamatan": np.repeat(base["kecamatan"].to_numpy(), 2),
            "Kelurahan": np.repeat(kel_w.to_numpy(), 2),
            "Ukuran": np.tile(["Jumlah penduduk", "Akses air minum layak"], m),
            "Nilai": np.ravel(np.column_stack([idn_count(pop).to_numpy(),
                                               idn_decimal(water, rng, 0.5).to_numpy()])),
            "Pembilang": "", "Penyebut": "",
            "Satuan": np.tile(["jiwa", "persen"], m)})
        city_measures = [("Cakupan forum anak kelurahan", "persen", 40, 100),
                         ("Cakupan layanan konsultasi keluarga", "persen", 30, 100),
                         ("Puskesmas ramah anak", "persen", 20, 100),
                         ("Sekolah ramah anak", "persen", 10, 90),
                         ("Kasus kekerasan yang ditangani", "persen", 70, 100),
                         ("Permohonan dispensasi kawin", "permohonan", 0, 150)]
        pc = cities[cities["province"] == prov]
        cy = pd.DataFrame([(c, y, *mm) for c in pc["city"] for y in data_years
                           for mm in city_measures],
                          columns=["city", "year", "measure", "unit", "lo", "hi"])
        v = rng.uniform(cy["lo"], cy["hi"])
        is_count = (cy["unit"] != "persen").to_numpy()
        val = idn_decimal(v, rng, 0.3)
        val[is_count] = pd.Series(np.round(v[is_count]).astype("int64")).astype(str).to_numpy()
        city_long = pd.DataFrame({"Kabupaten/Kota": cy["city"], "Tahun Data": cy["year"].astype(str),
                                  "Kecamatan": "", "Kelurahan": "", "Ukuran": cy["measure"],
                                  "Nilai": val, "Pembilang": "", "Penyebut": "",
                                  "Satuan": cy["unit"]})
        long = pd.concat([city_long, kel_long], ignore_index=True)
        name = f"statistics/capaian_wilayah_{pslug}.csv"
        write_csv(raw / name, [f"CAPAIAN INDIKATOR PER WILAYAH – {prov.upper()}", SYNTH], long,
                  ["Sumber: rekap Gugus Tugas KLA – " + SYNTH], sep=";", encoding="cp1252")
        sources.append((name, "statistics", "Bappeda"))
        n_rows += 2 * m + len(city_long)
    return n_rows


def write_gazetteer(raw: Path, cities: pd.DataFrame, gaz: pd.DataFrame,
                    sources: list[tuple]) -> None:
    gaz = gaz.merge(cities[["city", "province"]], on="city")
    for prov, g in gaz.groupby("province", sort=False):
        pslug = re.sub(r"[^a-z0-9]+", "_", prov.lower())
        frame = pd.DataFrame({"Kode Wilayah": g["code"], "Kota": g["city"],
                              "Kecamatan": g["kecamatan"], "Kelurahan": g["kelurahan"],
                              "Varian Ejaan": g["variants"], "Keterangan": "sintetis"})
        name = f"gazetteer/{pslug}.csv"
        write_csv(raw / name, [], frame, [], sep=",", encoding="utf-8")
        sources.append((name, "gazetteer", "Bappeda"))


def write_official(raw: Path, scale: Scale, cities: pd.DataFrame, rng: np.random.Generator,
                   sources: list[tuple]) -> None:
    preds = ["Pratama", "Madya", "Nindya", "Utama"]
    rows = []
    for c, p in zip(cities["city"], cities["province"], strict=True):
        level = int(rng.integers(0, 3))
        for y in scale.eval_years:
            level = min(3, level + int(rng.random() < 0.3))
            city = c.replace("Kabupaten ", "Kab. ") if rng.random() < 0.2 else c
            rows.append((city, p, str(y), preds[level], "",
                         "published" if rng.random() < 0.9 else "inferred",
                         f"{SOURCE_URL}/hasil/{y}", "sintetis"))
    frame = pd.DataFrame(rows, columns=["Kabupaten/Kota", "Provinsi", "Tahun", "Predikat",
                                        "Nilai", "Status", "Sumber", "Keterangan"])
    name = "official/hasil_evaluasi_kla.csv"
    write_csv(raw / name, [], frame, [], sep=",", encoding="utf-8")
    sources.append((name, "official_results", "Gugus Tugas KLA"))


def write_self_assessment(raw: Path, scale: Scale, cities: pd.DataFrame,
                          rng: np.random.Generator, sources: list[tuple]) -> None:
    cat = load_catalog()
    n_ind = len(cat)
    for y in scale.eval_years:
        nc = len(cities)
        share = np.clip(rng.normal(0.9, 0.08, (nc, n_ind)), 0, 1)
        pts = np.floor(share * cat["max_points"].to_numpy()[None, :] * 4) / 4
        frame = pd.DataFrame({
            "No": np.tile(np.arange(1, n_ind + 1), nc),
            "Kabupaten/Kota": np.repeat(cities["city"].to_numpy(), n_ind),
            "Indikator": np.tile(cat["indicator"].to_numpy(), nc),
            "Uraian Indikator": np.tile(cat["name_id"].to_numpy(), nc),
            "Nilai Penilaian Mandiri": pts.ravel(),
            "Keterangan": "sintetis"})
        if y == 2022:  # a ';' CSV with decimal commas and "Indikator 4"
            frame["Indikator"] = "Indikator " + frame["Indikator"].astype(str)
            frame["Nilai Penilaian Mandiri"] = frame["Nilai Penilaian Mandiri"].map(
                "{:g}".format).str.replace(".", ",", regex=False)
            name = f"self_assessment/penilaian_mandiri_{y}.csv"
            write_csv(raw / name, [f"Rekap Penilaian Mandiri Evaluasi KLA Tahun {y}", SYNTH],
                      frame.astype(str), ["Sumber: aplikasi evaluasi KLA – " + SYNTH], sep=";")
        else:
            if y == 2023:  # points typed as text with a decimal comma
                txt = frame["Nilai Penilaian Mandiri"].map("{:g}".format).str.replace(
                    ".", ",", regex=False)
                frame["Nilai Penilaian Mandiri"] = frame["Nilai Penilaian Mandiri"].astype(object)
                some = rng.random(len(frame)) < 0.2
                frame.loc[some, "Nilai Penilaian Mandiri"] = txt[some]
            name = f"self_assessment/penilaian_mandiri_{y}.xlsx"
            write_xlsx(raw / name, [{
                "name": "Rekap", "title": [f"REKAP PENILAIAN MANDIRI EVALUASI KLA TAHUN {y}", SYNTH],
                "header": [list(frame.columns)], "rows": frame,
                "notes": ["Catatan: nilai per indikator dari aplikasi evaluasi – " + SYNTH]}])
        sources.append((name, "self_assessment", "DP3A"))


STATUS_TEXT = {"ada": ["ADA", "Ada", "ada"], "tidak_ada": ["tidak ada", "Belum Ada", "TIDAK ADA"],
               "dalam_proses": ["dalam  proses", "Dalam Proses"],
               "kedaluwarsa": ["Kadaluarsa", "kedaluwarsa"]}


def write_evidence(raw: Path, scale: Scale, cities: pd.DataFrame, rng: np.random.Generator,
                   sources: list[tuple]) -> None:
    req = load_evidence_requirements()
    n_items = len(req)
    nc = len(cities)
    for y in scale.eval_years:
        status = rng.choice(["ada", "tidak_ada", "dalam_proses", "kedaluwarsa"],
                            nc * n_items, p=[0.6, 0.2, 0.12, 0.08])
        text = np.empty(len(status), dtype=object)
        for s, variants in STATUS_TEXT.items():
            hit = status == s
            text[hit] = rng.choice(variants, hit.sum())
        item = np.tile(req["item"].to_numpy(), nc)
        city = np.repeat(cities["city"].to_numpy(), n_items)
        slug = np.repeat(cities["slug"].to_numpy(), n_items)
        days = rng.integers(0, 700, len(status))
        dates = pd.Timestamp(f"{y - 2}-01-01") + pd.to_timedelta(days, unit="D")
        title = pd.Series(np.tile(req["name_id"].to_numpy(), nc)) + " " + pd.Series(city) + \
            f" Tahun {y - 1}"
        link = pd.Series([f"data_dukung/{y}/"] * len(item)) + pd.Series(slug) + "/" + \
            pd.Series(item) + ".pdf"
        frame = pd.DataFrame({
            "No": np.arange(1, len(item) + 1), "Kabupaten/Kota": city,
            "Indikator": np.tile(req["indicator"].to_numpy(), nc), "Kode Data Dukung": item,
            "Uraian Data Dukung": np.tile(req["name_id"].to_numpy(), nc), "Judul Dokumen": title,
            "Status": text, "OPD Penanggung Jawab": np.tile(req["opd"].to_numpy(), nc),
            "Tanggal Dokumen": dates.to_pydatetime(), "Tautan / Nama File": link,
            "Keterangan": "sintetis"})
        if y == 2022:  # UTF-8 BOM CSV, "Tahun 2022" column, DD/MM/YYYY dates
            frame.insert(1, "Tahun", f"Tahun {y}")
            frame["Tanggal Dokumen"] = dates.strftime("%d/%m/%Y")
            name = f"evidence/data_dukung_{y}.csv"
            write_csv(raw / name, [], frame.astype(str), [], sep=",", encoding="utf-8-sig")
        else:
            name = f"evidence/data_dukung_{y}.xlsx"
            write_xlsx(raw / name, [{
                "name": "Inventaris", "title": [f"INVENTARIS DATA DUKUNG EVALUASI KLA TAHUN {y}",
                                                SYNTH],
                "header": [list(frame.columns)], "rows": frame,
                "notes": ["Keterangan: status per tanggal rekap – " + SYNTH]}])
        sources.append((name, "evidence", "Gugus Tugas KLA"))


def write_sources(raw: Path, sources: list[tuple], seed: int) -> None:
    frame = pd.DataFrame(sources, columns=["file", "dataset", "delivered_by"])
    frame["status"] = "illustrative"
    frame["source_url"] = ""
    frame["notes"] = f"synthetic benchmark data made by bench/generate.py (seed {seed}); not real"
    frame.to_csv(raw / "sources.csv", index=False)


# ---------------------------------------------------------------- entry points


def generator_version() -> str:
    """Hash of this file: a changed generator makes a new folder."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]


def generate_into(data_dir: Path, scale: Scale | str, seed: int = 7) -> dict:
    """Write ``data_dir/raw/`` for ``scale``; returns a summary (counts)."""
    scale = SCALES[scale] if isinstance(scale, str) else scale
    rng = np.random.default_rng(seed)
    raw = data_dir / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    cities, gaz = make_places(scale, rng)
    sources: list[tuple] = []
    write_gazetteer(raw, cities, gaz, sources)
    write_official(raw, scale, cities, rng, sources)
    # the catalog-sized datasets draw from their own streams, so the statistics (and their
    # messy spellings) do not change when the catalog gains indicators or items
    sa_rng, ev_rng = (np.random.default_rng([seed, k]) for k in (1, 2))
    write_self_assessment(raw, scale, cities, sa_rng, sources)
    write_evidence(raw, scale, cities, ev_rng, sources)
    n_stats = write_statistics(raw, scale, cities, gaz, rng, sources)
    first = cities.iloc[0]
    (raw / "city.yaml").write_text(f"# default kab/kota (synthetic benchmark data)\n"
                                   f"city: {first['city']}\nprovince: {first['province']}\n",
                                   encoding="utf-8")
    write_sources(raw, sources, seed)
    files = [p for p in raw.rglob("*") if p.is_file()]
    return {"scale": scale.name, "seed": seed, "cities": len(cities),
            "kecamatan": int(gaz[["city", "kecamatan"]].drop_duplicates().shape[0]),
            "kelurahan": len(gaz), "years": len(scale.eval_years),
            "statistic_rows_max": n_stats, "files": len(files),
            "bytes": sum(p.stat().st_size for p in files)}


def dataset(scale: str, seed: int = 7, force: bool = False, out_dir: Path = OUT_DIR) -> Path:
    """The data folder of ``scale`` (generated once, then reused); returns its path."""
    target = out_dir / f"{scale}-seed{seed}-{generator_version()}"
    stamp = target / "generated.txt"
    if stamp.is_file() and not force:
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{scale}-", dir=out_dir))
    try:
        info = generate_into(tmp, scale, seed)
        (tmp / "generated.txt").write_text(
            "".join(f"{k}: {v}\n" for k, v in info.items())
            + f"generated_at: {dt.datetime.now().isoformat(timespec='seconds')}\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scale", choices=sorted(SCALES))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = ap.parse_args(argv)
    path = dataset(args.scale, args.seed, args.force)
    print(path)
    print((path / "generated.txt").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
