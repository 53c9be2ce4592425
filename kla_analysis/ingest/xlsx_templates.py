"""``kla template``: blank Excel templates the task force sends to the OPD for a new year.

One workbook per dataset: a ``Data`` sheet whose headers are exactly the ones the readers
expect (first alias in ``datasets.yaml``), drop-down lists (Excel data validation) for
kelurahan, kecamatan, indicator numbers, evidence codes and status, measures and units, a
``Petunjuk`` sheet with instructions in Bahasa Indonesia, and a hidden ``Daftar`` sheet holding
the lists (hidden sheets are not read back). A file filled in the template passes
``kla validate`` without any cleaning.

The self-assessment has two templates: one row per indicator (its points), and one row per
question of ``kla_analysis/data/questions.yaml`` (``self_assessment_questions``: the question's
wording in a locked helper column, a drop-down of its options for the answer, the points
optional). Both are read from ``raw/self_assessment/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..atomic import atomic_path
from ..catalog import folder_weights, load_bands, load_catalog, load_evidence_requirements
from ..config import ProjectPaths, claim_reports_dir, package_file, project_paths
from ..errors import InputProblems, KlaError
from ..params import city_slug
from ..questions import load_options, load_questions
from ..region import Region, load_region
from ..yamlfile import read_yaml
from .specs import load_specs
from .validate import read_reference

HEADER_ROW = 3  # row 1: title, row 2: a one-line reminder, row 3: headers
BLANK_ROWS = 500  # rows covered by drop-downs in the open-ended templates


@dataclass(frozen=True)
class Column:
    field: str  # dataset field, or "" for a helper column the readers ignore
    header: str = ""  # only for helper columns
    width: int = 16
    note: str = ""  # one line for the instructions sheet


FILES = {
    "self_assessment": "penilaian_mandiri",
    "self_assessment_questions": "penilaian_mandiri_pertanyaan",
    "evidence": "data_dukung",
    "statistics": "statistik_opd",
    "official_results": "hasil_evaluasi_resmi",
    "area_declarations": "penetapan_wilayah_layak_anak",
}

#: Templates that write another template's dataset (default: the template's own name).
DATASET = {"self_assessment_questions": "self_assessment"}
#: Title rows of templates whose title is not their dataset's ``title_id``.
TITLES = {"self_assessment_questions": "Penilaian mandiri (jawaban per pertanyaan)"}
#: Helper columns written read-only (the sheet is protected, every other cell stays editable).
LOCKED = {"self_assessment_questions": ("Uraian Pertanyaan",)}


def template_dataset(template: str) -> str:
    """The dataset (``datasets.yaml``) a template's file is read as."""
    return DATASET.get(template, template)


LAYOUT = {
    "self_assessment_questions": [
        Column("city", width=18, note="nama kabupaten/kota (sudah terisi)"),
        Column("year", width=10, note="tahun evaluasi (tahun pengumuman hasil), sudah terisi"),
        Column("indicator", width=10, note="nomor indikator (sudah terisi)"),
        Column("question", width=11, note="nomor pertanyaan dalam indikator (sudah terisi)"),
        Column("", "Uraian Pertanyaan", 70, "bunyi pertanyaan, hanya untuk dibaca (terkunci)"),
        Column("answer", width=36, note="pilih jawaban dari daftar pertanyaan itu; kosongkan "
                                         "bila belum dijawab"),
        Column("points_claimed", width=14, note="boleh kosong (dihitung dari jawaban); bila "
                                                 "diisi harus sama dengan nilai jawaban"),
        Column("", "Keterangan", 30, "catatan bebas (tidak dibaca)"),
    ],
    "self_assessment": [
        Column("city", width=18, note="nama kabupaten/kota (sudah terisi)"),
        Column("year", width=10, note="tahun evaluasi (tahun pengumuman hasil), sudah terisi"),
        Column("indicator", width=10, note="nomor indikator 1-24 (sudah terisi)"),
        Column("", "Uraian Indikator", 60, "nama indikator, hanya untuk dibaca"),
        Column("points_claimed", width=14, note="nilai penilaian mandiri; angka 0 sampai nilai "
                                                 "maksimal indikator"),
        Column("", "Keterangan", 30, "catatan bebas (tidak dibaca)"),
    ],
    "evidence": [
        Column("city", width=18, note="nama kabupaten/kota (sudah terisi)"),
        Column("year", width=10, note="tahun evaluasi, sudah terisi"),
        Column("indicator", width=10, note="nomor indikator (sudah terisi)"),
        Column("item", width=10, note="kode data dukung, mis. 4.1 (sudah terisi)"),
        Column("", "Uraian Data Dukung", 45, "nama data dukung, hanya untuk dibaca"),
        Column("title", width=40, note="judul dokumen; wajib bila status 'ada'"),
        Column("status", width=14, note="pilih: ada / tidak ada / dalam proses / kedaluwarsa"),
        Column("opd", width=18, note="OPD penanggung jawab"),
        Column("document_date", width=14, note="tanggal dokumen (sel tanggal Excel atau "
                                                "DD/MM/YYYY)"),
        Column("link", width=35, note="tautan atau nama file dokumen"),
        Column("", "Keterangan", 30, "catatan bebas (tidak dibaca)"),
    ],
    "statistics": [
        Column("city", width=18, note="nama kabupaten/kota"),
        Column("data_year", width=10, note="tahun data (biasanya tahun evaluasi - 1)"),
        Column("kecamatan", width=20, note="pilih dari daftar; kosongkan untuk angka tingkat "
                                            "kabupaten/kota"),
        Column("kelurahan", width=22, note="desa/kelurahan, pilih dari daftar; kosongkan untuk "
                                            "angka tingkat kecamatan atau kabupaten/kota"),
        Column("measure", width=28, note="kode ukuran, pilih dari daftar (lihat di bawah)"),
        Column("value", width=10, note="nilai: persen 0-100 atau jumlah; boleh kosong bila "
                                        "pembilang dan penyebut diisi"),
        Column("numerator", width=11, note="pembilang (bilangan bulat), untuk persentase"),
        Column("denominator", width=11, note="penyebut (bilangan bulat), untuk persentase"),
        Column("unit", width=10, note="pilih: persen atau jumlah"),
        Column("", "Keterangan", 30, "catatan bebas (tidak dibaca)"),
    ],
    "official_results": [
        Column("city", width=28, note="nama kabupaten/kota, mis. {region}"),
        Column("province", width=20, note="provinsi"),
        Column("year", width=10, note="tahun evaluasi (tahun pengumuman)"),
        Column("predicate", width=12, note="pilih predikat"),
        Column("score", width=10, note="nilai akhir bila dipublikasikan (0-1000), boleh kosong"),
        Column("status", width=14, note="published / inferred / unconfirmed"),
        Column("source_url", width=50, note="alamat sumber (https://...), wajib"),
        Column("", "Keterangan", 30, "catatan bebas (tidak dibaca)"),
    ],
    "area_declarations": [
        Column("city", width=18, note="nama kabupaten/kota (sudah terisi)"),
        Column("year", width=10, note="tahun keadaan penetapan = tahun data (tahun evaluasi - "
                                       "1), sudah terisi"),
        Column("kecamatan", width=20, note="kecamatan (sudah terisi, pilih dari daftar)"),
        Column("kelurahan", width=22, note="desa/kelurahan; kosong = baris tentang kecamatan "
                                            "itu sendiri (Kecamatan Layak Anak)"),
        Column("declared", width=14, note="pilih: ya (sudah ditetapkan layak anak dengan SK) / "
                                           "tidak"),
        Column("decree", width=26, note="nomor SK penetapan, mis. 188.45/123/KUM/2025; wajib "
                                         "bila 'ya'"),
        Column("decree_date", width=14, note="tanggal SK (sel tanggal Excel atau DD/MM/YYYY), "
                                              "paling lambat tahun baris ini"),
        Column("patbm", width=12, note="desa/kelurahan: PATBM sudah terintegrasi? pilih ya / "
                                        "tidak; boleh kosong"),
        Column("", "Keterangan", 30, "catatan bebas (tidak dibaca)"),
    ],
}

COMMON_STEPS = [
    "Isi lembar 'Data' mulai baris 4. Jangan mengubah judul kolom di baris 3, jangan menyisipkan "
    "kolom, dan jangan menggabungkan (merge) sel.",
    "Gunakan daftar pilihan (drop-down) yang tersedia; nilai lain akan ditolak saat validasi.",
    "Angka: ketik sebagai angka Excel (mis. 85,5 atau 85.5 sesuai pengaturan Excel Anda). "
    "Jangan menulis satuan atau teks di sel angka. Persentase ditulis 0-100 (85,5 bukan 0,855).",
    "Data yang tidak tersedia: kosongkan selnya atau tulis '-'. Jangan menulis 0 bila datanya "
    "tidak ada.",
    "Simpan sebagai .xlsx dan kirim ke sekretariat Gugus Tugas KLA. Analis menaruh file di folder "
    "data/raw/ lalu menjalankan 'kla validate'; setiap masalah dilaporkan dengan nama file, baris,"
    " dan kolom.",
]


def _reference(paths: ProjectPaths) -> tuple[dict | None, pd.DataFrame]:
    """Default city and the gazetteer of ``paths.raw`` (must be valid)."""
    city, gaz, problems = read_reference(paths)
    if not problems.empty:
        raise InputProblems(problems)
    return city, gaz


def _lists(dataset: str, city: dict | None, gaz: pd.DataFrame) -> dict[str, list]:
    cat = load_catalog()
    if city:
        gaz = gaz[gaz["city"] == city["city"]]
    specs = load_specs().datasets
    return {
        "kelurahan": sorted(gaz["kelurahan"].unique()),
        "kecamatan": sorted(gaz["kecamatan"].unique()),
        "indicator": [int(i) for i in cat["indicator"]],
        "item": list(load_evidence_requirements()["item"]),
        "measure": sorted(specs["statistics"].measures),
        "predicate": list(load_bands()["predicate"]),
        "city": sorted(gaz["city"].unique()),
        "status": {"evidence": ["ada", "tidak ada", "dalam proses", "kedaluwarsa"],
                   "official_results": ["published", "inferred", "unconfirmed"]}.get(dataset, []),
        "unit": ["persen", "jumlah"],
        "ya_tidak": ["ya", "tidak"],
    }


def _rows(dataset: str, year: int, city: dict | None,
          region: Region | None = None) -> list[dict]:
    """Prefilled rows: the indicators, the questions, or the catalog's evidence items (with
    the region's own OPD names, ``opd:`` of its settings)."""
    name = city["city"] if city else None
    opd = dict(region.opd) if region is not None else None
    if dataset == "self_assessment_questions":
        return [{"city": name, "year": year, "indicator": int(r.indicator),
                 "question": int(r.question), "Uraian Pertanyaan": r.text_id}
                for r in load_questions().itertuples()]
    if dataset == "self_assessment":
        return [{"city": name, "year": year, "indicator": int(r.indicator),
                 "Uraian Indikator": r.name_id} for r in load_catalog().itertuples()]
    if dataset == "evidence":
        return [{"city": name, "year": year, "indicator": int(r.indicator), "item": r.item,
                 "Uraian Data Dukung": r.name_id, "opd": r.opd}
                for r in load_evidence_requirements(opd=opd).itertuples()]
    return []


def _area_rows(year: int, city: dict | None, gaz: pd.DataFrame) -> list[dict]:
    """Prefilled rows of the declarations register: each kecamatan of the gazetteer, then
    its desa/kelurahan, in the data year of evaluation ``year`` (the packaged rule
    ``statistic.data_year_offset``, ``scoring_rules.yaml``)."""
    if city:
        gaz = gaz[gaz["city"] == city["city"]]
    rules = read_yaml(package_file("scoring_rules.yaml"), "scoring rules")["rules"]
    data_year = year - int(rules["statistic.data_year_offset"]["value"])
    rows = []
    for (town, kec), part in gaz.groupby(["city", "kecamatan"], sort=True):
        base = {"city": town, "year": data_year, "kecamatan": kec}
        rows += [base] + [{**base, "kelurahan": k} for k in sorted(part["kelurahan"].unique())]
    return rows


def _validation(ws, lists_ws, col: int, values: list, key: str, last_row: int,
                lists_col: dict, first_row: int = HEADER_ROW + 1) -> None:
    letter = get_column_letter(col)
    if key not in lists_col:
        lists_col[key] = len(lists_col) + 1
        lc = lists_col[key]
        lists_ws.cell(1, lc, f"daftar {key}")
        for k, v in enumerate(values, start=2):
            lists_ws.cell(k, lc, v)
    lc = get_column_letter(lists_col[key])
    dv = DataValidation(type="list", formula1=f"=Daftar!${lc}$2:${lc}${len(values) + 1}",
                        allow_blank=True, showErrorMessage=True, errorTitle="Nilai tidak dikenal",
                        error="Pilih salah satu nilai dari daftar.")
    dv.add(f"{letter}{first_row}:{letter}{last_row}")
    ws.add_data_validation(dv)


def _answer_lists(ws, lists_ws, col: int, rows: list[dict], lists_col: dict) -> None:
    """One drop-down per question row: the labels of that question's options."""
    opts = load_options()
    labels = opts.groupby(["indicator", "question"], sort=False)["label_id"].agg(list)
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        key = f"jawaban {row['indicator']}.{row['question']}"
        _validation(ws, lists_ws, col, labels[(row["indicator"], row["question"])], key, r,
                    lists_col, first_row=r)


def _lock(ws, cols: list[Column], headers: list[str], locked: tuple[str, ...],
          last_row: int) -> None:
    """Protect the sheet (no password) with only the ``locked`` helper columns read-only."""
    if not locked:
        return
    free = Protection(locked=False)
    for c, h in enumerate(headers, start=1):
        if h in locked:
            continue
        for r in range(HEADER_ROW + 1, last_row + 1):
            ws.cell(r, c).protection = free
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # widths may still change
    ws.protection.autoFilter = False


def _number_validation(ws, col: int, last_row: int, whole: bool, lo: float, hi: float | None,
                       message: str) -> None:
    letter = get_column_letter(col)
    kwargs = {"operator": "between", "formula1": str(lo), "formula2": str(hi)} if hi is not None \
        else {"operator": "greaterThanOrEqual", "formula1": str(lo)}
    dv = DataValidation(type="whole" if whole else "decimal", allow_blank=True,
                        showErrorMessage=True, errorTitle="Angka tidak valid", error=message,
                        **kwargs)
    dv.add(f"{letter}{HEADER_ROW + 1}:{letter}{last_row}")
    ws.add_data_validation(dv)


def _instructions(wb, dataset: str, year: int, city: dict | None, cols: list[Column],
                  headers: list[str], catalog: pd.DataFrame) -> None:
    spec = load_specs().datasets[template_dataset(dataset)]
    ws = wb.create_sheet("Petunjuk")
    title = TITLES.get(dataset, spec.title_id)
    lines = [(f"PETUNJUK PENGISIAN: {title.upper()} - TAHUN {year}", True),
             (f"Kabupaten/Kota: {city['city'] if city else '-'}", False), ("", False),
             ("Langkah:", True)]
    lines += [(f"{k}. {s}", False) for k, s in enumerate(COMMON_STEPS, start=1)]
    lines += [("", False), ("Kolom pada lembar 'Data':", True)]
    given = {c.field for c in cols if c.field}

    def required(name: str) -> bool:  # required_unless: required where none of those is a column
        f = spec.fields[name]
        return f.required or bool(f.required_unless and not given & set(f.required_unless))

    example = city["city"] if city else "Kabupaten Banjar atau Kota Banjarbaru"
    lines += [(f"- {h}: {c.note.replace('{region}', example)}"
               + (" (wajib)" if c.field and required(c.field) else ""),
               False) for c, h in zip(cols, headers, strict=True)]
    if dataset == "statistics":
        cat = load_catalog().set_index("indicator")
        lines += [("", False), ("Kode ukuran (kolom Ukuran):", True)]
        for m, ms in sorted(spec.measures.items()):
            desc = ms.names[0] if ms.names else m
            ind = f", indikator {ms.indicator}" if ms.indicator else ""
            head = ""
            if ms.indicator and cat.loc[ms.indicator, "measure"] == m:
                head = f" - ukuran utama: {cat.loc[ms.indicator, 'measure_id']}"
            lines.append((f"- {m}: {desc} ({'persen' if ms.unit == 'percent' else 'jumlah'}"
                          f"{ind}){head}", False))
        lines += [("", False), ("Angka per puskesmas:", True)]
        lines += [(t, False) for t in (
            "- Tambahkan kolom 'Puskesmas' dan isi nama puskesmas pada setiap baris; angka "
            "puskesmas dijumlahkan ke kecamatannya (persentase: isi juga pembilang dan "
            "penyebut). Kecamatan setiap puskesmas ditulis di kolom Puskesmas daftar wilayah "
            "(raw/gazetteer/) atau di service_areas: raw/kla.yaml.",
            "- Angka puskesmas tidak pernah dibaca sebagai angka kabupaten/kota.")]
    if dataset == "self_assessment":
        info = catalog.attrs
        status = "kemungkinan, tidak resmi" if info.get("status") == "probable" else "asumsi"
        lines += [("", False), (f"Nilai maksimal per indikator ({info.get('label_id', '')}: "
                                f"{status}, bukan angka resmi):", True)]
        lines += [(f"- Indikator {r.indicator}: {r.claims_max_points:g}", False)
                  for r in catalog.itertuples()]
    if dataset == "self_assessment_questions":
        lines += [("", False), ("Jawaban per pertanyaan:", True)]
        lines += [(t, False) for t in (
            "- Satu baris per pertanyaan (sudah terisi). Pilih jawaban dari daftar di kolom "
            "Jawaban; kosongkan bila belum dijawab (dihitung 0 poin dan belum lengkap).",
            "- Nilai indikator = jumlah nilai jawaban pertanyaannya. Kolom Nilai boleh kosong; "
            "bila diisi, harus sama dengan nilai jawaban (lihat daftar di bawah).",
            "- Jangan mengisi indikator yang sama juga di template nilai per indikator untuk "
            "tahun yang sama.",
            "- Bunyi pertanyaan dan nilai jawaban: kla_analysis/data/questions.yaml. Hanya "
            "jumlah pertanyaan Kelembagaan dan pertanyaan pertama indikator 1 bersumber; bunyi "
            "lainnya dan semua nilai adalah asumsi paket ini, bukan angka resmi.")]
        lines += [("", False), ("Nilai jawaban per pertanyaan (asumsi):", True)]
        opts = load_options()
        for (ind, q), grp in opts.groupby(["indicator", "question"], sort=False):
            lines.append((f"- {ind}.{q}: " + "; ".join(
                f"{o.label_id} = {o.points:g}" for o in grp.itertuples()), False))
    if dataset == "area_declarations":
        lines += [("", False), ("Cara menghitung indikator 25 dan 26:", True)]
        kel = spec.fields["kelurahan"].header
        lines += [(t, False) for t in (
            f"- Satu baris per wilayah dan tahun. Baris dengan kolom {kel} kosong adalah "
            "kecamatan itu sendiri (Kecamatan Layak Anak, indikator 25); baris yang mengisi "
            f"kolom {kel} adalah Desa/Kelurahan Layak Anak (indikator 26).",
            "- Persentase = wilayah yang ditetapkan ('ya') / seluruh wilayah di daftar "
            "kecamatan dan desa/kelurahan (raw/gazetteer/) x 100. Wilayah yang tidak "
            "dicantumkan dihitung belum ditetapkan; bila pada suatu tahun tidak ada satu pun "
            "baris kecamatan (atau desa/kelurahan), persentasenya tidak dihitung (tidak ada "
            "data).",
            "- Wilayah yang ditetapkan wajib memiliki Nomor SK. Tanggal SK tidak boleh setelah "
            "tahun baris tersebut.",
            "- Jangan mengisi angka yang sama lagi di file statistik OPD: persentase ini "
            "dihitung dari lembar ini.")]
    for r, (text, bold) in enumerate(lines, start=1):
        ws.cell(r, 1, text).font = Font(bold=bold)
    ws.column_dimensions["A"].width = 120


def write_template(dataset: str, year: int, out_dir: Path, city: dict | None,
                   gaz: pd.DataFrame, catalog: pd.DataFrame | None = None,
                   region: Region | None = None) -> Path:
    """Write the template of one dataset (``FILES``); returns its path. ``catalog`` gives
    the maximum points (the data folder's weight set; default: the packaged one);
    ``region``: the folder's settings (its OPD names)."""
    catalog = catalog if catalog is not None else load_catalog()
    spec = load_specs().datasets[template_dataset(dataset)]
    cols = LAYOUT[dataset]
    headers = [spec.fields[c.field].header if c.field else c.header for c in cols]
    lists = _lists(dataset, city, gaz)
    rows = (_area_rows(year, city, gaz) if dataset == "area_declarations"
            else _rows(dataset, year, city, region))
    last = HEADER_ROW + max(len(rows), BLANK_ROWS)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    title = TITLES.get(dataset, spec.title_id)
    ws.cell(1, 1, f"{title.upper()} - TAHUN {year}").font = Font(bold=True, size=13)
    ws.cell(2, 1, "Isi mulai baris 4; jangan ubah judul kolom. Petunjuk: lembar 'Petunjuk'.")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c, (col, h) in enumerate(zip(cols, headers, strict=True), start=1):
        cell = ws.cell(HEADER_ROW, c, h)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = col.width
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        for c, col in enumerate(cols, start=1):
            v = row.get(col.field or col.header)
            if v is not None:
                ws.cell(r, c, v)
    lists_ws = wb.create_sheet("Daftar")
    lists_ws.sheet_state = "hidden"
    lists_col: dict[str, int] = {}
    catalog_max = float(catalog["claims_max_points"].max())
    for c, col in enumerate(cols, start=1):
        f = spec.fields.get(col.field)
        if f is None:
            continue
        key = {"kelurahan": "kelurahan", "kecamatan": "kecamatan", "indicator": "indicator",
               "item": "item", "measure": "measure", "city": "city"}.get(f.type)
        if f.name in ("status", "unit", "predicate"):
            key = f.name
        if f.name in ("declared", "patbm"):
            key = "ya_tidak"
        if f.name == "answer":
            _answer_lists(ws, lists_ws, c, rows, lists_col)
        elif key and lists.get(key) and not (f.type == "city_name"):
            _validation(ws, lists_ws, c, lists[key], key, last, lists_col)
        elif f.type == "year":
            specs = load_specs()
            _number_validation(ws, c, last, True, specs.year_min, specs.year_max,
                               "Tahun ditulis empat angka, mis. 2025.")
        elif f.type == "count":
            _number_validation(ws, c, last, True, 0, None, "Bilangan bulat 0 atau lebih.")
        elif f.name == "points_claimed":
            _number_validation(ws, c, last, False, 0, catalog_max,
                               f"Nilai antara 0 dan {catalog_max:g}.")
        elif f.type == "number":
            _number_validation(ws, c, last, False, f.min or 0, f.max, "Angka 0 atau lebih.")
    _lock(ws, cols, headers, LOCKED.get(dataset, ()), HEADER_ROW + len(rows))
    _instructions(wb, dataset, year, city, cols, headers, catalog)
    wb.move_sheet("Petunjuk", offset=-1)
    wb.active = wb.sheetnames.index("Data")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"template_{FILES[dataset]}_{year}.xlsx"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def write_templates(year: int, out_dir: str | Path | None = None,
                    paths: ProjectPaths | None = None) -> list[Path]:
    """Write every dataset's template for evaluation ``year`` into ``out_dir``.

    ``out_dir`` defaults to ``<reports-dir>/<region>/templates/<year>`` (the region of the
    folder's settings or its gazetteer's only kabupaten/kota); it must not be inside
    ``raw/``. Written into the reports folder, the templates claim it for the region
    (``config.claim_reports_dir``: another region's folder is refused). Desa/kelurahan
    lists come from the gazetteer of ``paths``' raw folder; OPD names and headers from the
    folder's settings.
    """
    paths = paths or project_paths()
    specs = load_specs()
    if not specs.year_min <= year <= specs.year_max:
        raise KlaError(f"year {year} is outside {specs.year_min}-{specs.year_max}")
    city, gaz = _reference(paths)
    cities = sorted(gaz["city"].dropna().unique())
    name = city["city"] if city else (cities[0] if len(cities) == 1 else None)
    if out_dir:
        out = Path(out_dir)
    else:
        out = paths.reports_dir / (city_slug(name) if name else "") / "templates" / str(year)
    out = out.expanduser().resolve()
    if out == paths.raw or paths.raw in out.parents:
        raise KlaError(f"{out} is inside the raw data folder, which code never writes; "
                       "choose another --out folder")
    claim = name and (out == paths.reports_dir or paths.reports_dir in out.parents)
    if claim:  # another region's reports folder is refused before anything is written
        claim_reports_dir(paths.reports_dir, name, write=False)
    region = load_region(paths.raw)
    catalog = load_catalog(folder_weights(paths.raw), opd=dict(region.opd))
    written = [write_template(n, year, out, city, gaz, catalog, region) for n in FILES]
    if claim:
        claim_reports_dir(paths.reports_dir, name)
    return written
