"""The scale benchmark's reference: the same parse-and-aggregate work written as DuckDB SQL.

Over the same raw files the generator wrote (``bench/generate.py``), DuckDB reads every
statistics CSV (skipping the title rows, notes and ``JUMLAH`` rows of each known layout),
turns text numbers into numbers (``1.234``, ``85,5%``, ``-``/``n/a`` as missing), matches
kab/kota and kelurahan spellings through a join with the gazetteer's names and variants
(case, punctuation and ``Kel.``/``Desa`` prefixes ignored), unpivots the wide tables into the
processed statistics table, and then scores every city-year as ``kla_analysis.model.bulk`` does:
headline statistic per indicator (kota value, else kelurahan numerators/denominators summed),
evidence completeness from the best status of each required item, claimed points, backed
points under every setting of the sensitivity grid (a cross join), headline total and range.

What the SQL does NOT do, and ``kla validate`` does: find headers by their names (the SQL
knows each layout), check types/ranges/keys/references and report every problem with its
file, row and column, or keep provenance. So the comparison is generous to DuckDB.

Excel files: DuckDB's ``excel`` extension is downloaded on first use, which this offline
machine cannot do; the generator therefore writes the national statistics as CSV, and the
few workbooks (self-assessment and evidence, one per year; Excel statistics at province
scale) are read with python-calamine into DuckDB relations, counted in the timing.

    .venv/bin/python bench/duckdb_baseline.py DATA_DIR [--threads N]    # prints JSON
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

from kla_analysis.catalog import load_evidence_requirements
from kla_analysis.model.estimate import sensitivity_settings
from kla_analysis.model.settings import load_settings

MACROS = r"""
CREATE MACRO num_comma(t) AS TRY_CAST(replace(replace(replace(replace(trim(t), '%', ''),
    ' ', ''), '.', ''), ',', '.') AS DOUBLE);
CREATE MACRO num_point(t) AS TRY_CAST(replace(replace(trim(t), '%', ''), ' ', '') AS DOUBLE);
CREATE MACRO basic_key(t) AS trim(regexp_replace(lower(t), '[^0-9a-z]+', ' ', 'g'));
CREATE MACRO name_key(t) AS trim(regexp_replace(basic_key(t),
    '^(kelurahan|kel|desa|ds|kecamatan|kec)\b ?', ''));
CREATE MACRO city_key(t) AS regexp_replace(basic_key(t), '^kab\b', 'kabupaten');
CREATE MACRO year_of(t) AS TRY_CAST(regexp_extract(t, '((19|20)\d\d)', 1) AS INTEGER);
"""

# (file glob, read_csv options, SELECT producing city_w, kec_w, kel_w, data_year, measure,
#  v, n, d, dec, unit; WHERE keeping data rows). {src} is the read_csv call.
WIDE_DINKES = [("facility_births", "% Persalinan di Faskes", "Persalinan di Faskes",
                "Sasaran Persalinan"),
               ("stunting_prevalence", "% Stunting", "Balita Stunting", "Balita Diukur"),
               ("exclusive_breastfeeding", "% ASI Eksklusif", "ASI Eksklusif", "Bayi 0-6 Bulan"),
               ("immunisation_complete", "% IDL", "Imunisasi Dasar Lengkap", "Sasaran Imunisasi")]
LONG_MEASURES = {"jumlah penduduk": "population", "akses air minum layak": "safe_water_access",
                 "cakupan forum anak kelurahan": "child_forum_coverage",
                 "cakupan layanan konsultasi keluarga": "family_counselling_coverage",
                 "puskesmas ramah anak": "child_friendly_puskesmas",
                 "sekolah ramah anak": "child_friendly_schools",
                 "kasus kekerasan yang ditangani": "violence_cases_served",
                 "permohonan dispensasi kawin": "marriage_dispensations"}
UNITS = {"persen": "percent", "%": "percent", "percent": "percent", "jiwa": "count",
         "orang": "count", "permohonan": "count", "kasus": "count", "anak": "count",
         "jumlah": "count", "count": "count"}
STATUS = {"ada": "ada", "tidak ada": "tidak_ada", "belum ada": "tidak_ada",
          "dalam proses": "dalam_proses", "proses": "dalam_proses",
          "kedaluwarsa": "kedaluwarsa", "kadaluarsa": "kedaluwarsa", "kadaluwarsa": "kedaluwarsa"}


def csv(glob: str, **opts) -> str:
    # notes under a table have fewer columns: skipped as malformed lines (keeps the parallel
    # reader, which null_padding would turn off)
    base = {"all_varchar": True, "ignore_errors": True, "filename": True, "header": True}
    base.update(opts)

    def lit(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):  # column names
            return "[" + ", ".join(f"'{c}'" for c in v) + "]"
        return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"
    return f"read_csv('{glob}', " + ", ".join(f"{k}={lit(v)}" for k, v in base.items()) + ")"


class Transcoder:
    """Windows-1252 files copied as UTF-8 into a RAM folder (``/dev/shm``) for DuckDB, whose
    ``encodings`` extension (needed for Windows-1252) is a download this machine cannot
    make. The copy is part of DuckDB's measured time."""

    def __init__(self) -> None:
        import tempfile

        base = "/dev/shm" if Path("/dev/shm").is_dir() else None
        self.dir = Path(tempfile.mkdtemp(prefix="kla-duckdb-", dir=base))

    def glob(self, folder: Path, pattern: str) -> str:
        out = self.dir / folder.name / pattern.split("*")[0].rstrip("_")
        out.mkdir(parents=True, exist_ok=True)
        for p in folder.glob(pattern):
            (out / p.name).write_bytes(p.read_bytes().decode("cp1252").encode("utf-8"))
        return f"{out}/{pattern}"

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def excel_frame(path: Path, header_first: str = "No", years_from_name: bool = True,
                names: list[str] | None = None) -> pd.DataFrame:
    """Every sheet of a workbook as text cells under its header row (the first row whose
    first cell is ``header_first``), with ``filename`` and ``sheet`` columns."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    parts = []
    for sheet in wb.sheet_names:
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        at = next(i for i, r in enumerate(rows) if str(r[0]).strip() == header_first)
        width = len(rows[at])
        header = names or [str(h) for h in rows[at]]
        body = [[None if c == "" else (f"{c:g}" if isinstance(c, float) else str(c))
                 for c in r[:width]] for r in rows[at + 1:]]
        df = pd.DataFrame(body, columns=header[:width], dtype=object)
        parts.append(df.assign(filename=str(path), sheet=sheet))
    return pd.concat(parts, ignore_index=True)


def statistics_sql(raw: Path, con: duckdb.DuckDBPyConnection, tc: Transcoder) -> str:
    """One SELECT of every statistic cell (text) with its measure, from every layout."""
    st = raw / "statistics"
    sel = []
    con.execute(f"""CREATE TEMP TABLE dinkes AS SELECT * FROM
        {csv(tc.glob(st, "dinkes_kia_*.csv"), skip=3, delim=";")}""")
    dinkes = "dinkes"
    for measure, v, n, d in WIDE_DINKES:
        sel.append(f"""SELECT "Kabupaten/Kota" AS city_w, Kecamatan AS kec_w, Kelurahan AS kel_w,
            year_of(regexp_extract(filename, '_(\\d{{4}})\\.csv$', 1)) AS data_year,
            '{measure}' AS measure, "{v}" AS v, "{n}" AS n, "{d}" AS d, ',' AS dec,
            'percent' AS unit FROM {dinkes}
            WHERE Kelurahan IS NOT NULL AND upper(trim(Kelurahan)) <> 'JUMLAH'""")
    con.execute(f"""CREATE TEMP TABLE disdik AS SELECT * FROM
        {csv(f"{st}/disdik_partisipasi_*.csv", delim=",")}""")
    disdik = "disdik"
    for measure, col in (("school_participation", "APS 16-18 (%)"),
                         ("paud_participation", "APK PAUD (%)")):
        sel.append(f"""SELECT "Kabupaten/Kota", Kecamatan, Kelurahan, year_of("Tahun Data"),
            '{measure}', "{col}", NULL, NULL, '.', 'percent' FROM {disdik}
            WHERE Kelurahan IS NOT NULL""")
    akta_cols = ["no", "city", "kec", "kel", "kids", "have", "pct"]
    if list(st.glob("disdukcapil_akta_kelahiran_*.csv")):
        akta = csv(tc.glob(st, "disdukcapil_akta_kelahiran_*.csv"), skip=6, header=False,
                   delim=";", names=akta_cols)
        sel.append(f"""SELECT city, kec, kel, year_of(regexp_extract(filename, '_(\\d{{4}})\\.csv$', 1)),
            'birth_certificate_coverage', pct, have, kids, ',', 'percent' FROM {akta}
            WHERE kel IS NOT NULL AND upper(trim(kel)) <> 'JUMLAH'""")
    xl = list(st.glob("disdukcapil_akta_kelahiran_*.xlsx"))
    if xl:
        frame = pd.concat([excel_frame(p, names=akta_cols) for p in xl], ignore_index=True)
        con.register("akta_xlsx", frame)
        sel.append("""SELECT city, kec, kel, year_of(sheet), 'birth_certificate_coverage', pct,
            have, kids, '.', 'percent' FROM akta_xlsx
            WHERE kel IS NOT NULL AND upper(trim(kel)) <> 'JUMLAH' AND NOT starts_with(kids, '(')
              AND kids IS NOT NULL""")
    forum_csv = list(st.glob("dp3a_forum_anak_*.csv"))
    if forum_csv:
        src = csv(tc.glob(st, "dp3a_forum_anak_*.csv"), skip=3, delim=";")
    else:
        frame = pd.concat([excel_frame(p) for p in st.glob("dp3a_forum_anak_*.xlsx")],
                          ignore_index=True)
        con.register("forum_xlsx", frame)
        src = "forum_xlsx"
    sel.append(f"""SELECT "Kabupaten/Kota", Kecamatan, Kelurahan, year_of(Tahun),
        'child_forum_members', "Jumlah Anggota Forum Anak", NULL, NULL, ',', 'count'
        FROM {src} WHERE Kelurahan IS NOT NULL""")
    long = csv(tc.glob(st, "capaian_wilayah_*.csv"), skip=3, delim=";")
    measures = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in LONG_MEASURES.items())
    units = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in UNITS.items())
    sel.append(f"""SELECT "Kabupaten/Kota", Kecamatan, Kelurahan, year_of("Tahun Data"),
        CASE basic_key(Ukuran) {measures} END, Nilai, Pembilang, Penyebut, ',',
        CASE lower(trim(Satuan)) {units} END FROM {long} WHERE Ukuran IS NOT NULL""")
    return "\nUNION ALL\n".join(sel)


def run(data_dir: Path, threads: int | None = None) -> dict:
    raw = data_dir / "raw"
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    t0 = time.perf_counter()
    tc = Transcoder()
    try:
        return _run(con, raw, tc, t0)
    finally:
        tc.close()


def _run(con: duckdb.DuckDBPyConnection, raw: Path, tc: Transcoder, t0: float) -> dict:
    con.execute(MACROS)
    gaz = csv(f"{raw}/gazetteer/*.csv", delim=",")
    con.execute(f"""CREATE TABLE gaz AS SELECT Kota AS city, Kecamatan AS kecamatan,
        Kelurahan AS kelurahan, "Varian Ejaan" AS variants FROM {gaz}""")
    con.execute("""CREATE TABLE kel_lookup AS SELECT DISTINCT ON (ck, kk) city_key(city) AS ck,
        name_key(name) AS kk, city, kecamatan, kelurahan FROM (
          SELECT city, kecamatan, kelurahan, kelurahan AS name FROM gaz
          UNION ALL SELECT city, kecamatan, kelurahan, trim(unnest(string_split(variants, '|')))
          FROM gaz WHERE coalesce(variants, '') <> '') WHERE name <> ''""")
    con.execute("CREATE TABLE city_lookup AS SELECT DISTINCT city_key(city) AS ck, city FROM gaz")
    t_gaz = time.perf_counter()
    # names are matched once per distinct spelling (as a careful analyst would write it)
    con.execute(f"""CREATE TEMP TABLE raw AS {statistics_sql(raw, con, tc)}""")
    con.execute("""CREATE TEMP TABLE places AS
        WITH written AS (SELECT DISTINCT city_w, kel_w FROM raw)
        SELECT w.city_w, w.kel_w, c.city, l.kecamatan, l.kelurahan
        FROM written w JOIN city_lookup c ON c.ck = city_key(w.city_w)
        LEFT JOIN kel_lookup l ON l.ck = c.ck AND l.kk = name_key(w.kel_w)""")
    con.execute("""CREATE TABLE stats AS
        WITH parsed AS (SELECT *,
                   CASE WHEN dec = ',' THEN num_comma(v) ELSE num_point(v) END AS vv,
                   CASE WHEN dec = ',' THEN num_comma(n) ELSE num_point(n) END AS nn,
                   CASE WHEN dec = ',' THEN num_comma(d) ELSE num_point(d) END AS dd FROM raw)
        SELECT w.city, p.data_year, p.measure,
               CASE WHEN p.kel_w IS NULL OR trim(p.kel_w) = '' THEN 'kota' ELSE 'kelurahan' END
                 AS area_level,
               w.kecamatan, coalesce(w.kelurahan, w.city) AS area,
               coalesce(p.vv, CASE WHEN p.unit = 'percent' AND p.dd > 0
                                   THEN 100 * p.nn / p.dd END) AS value,
               p.nn AS numerator, p.dd AS denominator, p.unit
        FROM parsed p JOIN places w ON w.city_w = p.city_w
          AND w.kel_w IS NOT DISTINCT FROM p.kel_w
        WHERE p.vv IS NOT NULL OR p.nn IS NOT NULL OR p.dd IS NOT NULL""")
    t_stats = time.perf_counter()
    n_stats, unmatched = con.execute("""SELECT count(*), count(*) FILTER (WHERE area IS NULL)
        FROM stats""").fetchall()[0]

    # self-assessment and evidence: one workbook (or CSV) per year
    sa_parts, ev_parts = [], []
    for p in sorted((raw / "self_assessment").glob("*.xlsx")):
        sa_parts.append(excel_frame(p).assign(year=p.stem[-4:]))
    for p in sorted((raw / "evidence").glob("*.xlsx")):
        ev_parts.append(excel_frame(p).assign(year=p.stem[-4:]))
    con.register("sa_xlsx", pd.concat(sa_parts, ignore_index=True) if sa_parts else
                 pd.DataFrame(columns=["Kabupaten/Kota", "Indikator", "Nilai Penilaian Mandiri",
                                       "year"]))
    con.register("ev_xlsx", pd.concat(ev_parts, ignore_index=True) if ev_parts else
                 pd.DataFrame(columns=["Kabupaten/Kota", "Kode Data Dukung", "Status", "year"]))
    sa_sel = ["""SELECT "Kabupaten/Kota" AS city_w, year_of(year) AS year,
                 TRY_CAST(regexp_extract("Indikator", '(\\d+)', 1) AS INT) AS indicator,
                 CASE WHEN contains("Nilai Penilaian Mandiri", ',')
                      THEN num_comma("Nilai Penilaian Mandiri")
                      ELSE num_point("Nilai Penilaian Mandiri") END AS points
              FROM sa_xlsx WHERE "Kabupaten/Kota" IS NOT NULL"""]
    if list((raw / "self_assessment").glob("*.csv")):
        src = csv(tc.glob(raw / "self_assessment", "*.csv"), skip=3, delim=";")
        sa_sel.append(f"""SELECT "Kabupaten/Kota", year_of(regexp_extract(filename,
            '_(\\d{{4}})\\.csv$', 1)), TRY_CAST(regexp_extract("Indikator", '(\\d+)', 1) AS INT),
            num_comma("Nilai Penilaian Mandiri") FROM {src} WHERE "Kabupaten/Kota" IS NOT NULL""")
    ev_sel = ["""SELECT "Kabupaten/Kota" AS city_w, year_of(year) AS year,
                 "Kode Data Dukung" AS item, Status AS status FROM ev_xlsx
              WHERE "Kabupaten/Kota" IS NOT NULL"""]
    if list((raw / "evidence").glob("*.csv")):
        src = csv(f"{raw}/evidence/*.csv", delim=",")
        ev_sel.append(f"""SELECT "Kabupaten/Kota", year_of(Tahun), "Kode Data Dukung", Status
            FROM {src} WHERE "Kabupaten/Kota" IS NOT NULL""")
    status = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in STATUS.items())
    con.execute(f"""CREATE TABLE sa AS SELECT c.city, s.year, s.indicator, s.points
        FROM ({" UNION ALL ".join(sa_sel)}) s JOIN city_lookup c ON c.ck = city_key(s.city_w)
        WHERE s.points IS NOT NULL""")
    con.execute(f"""CREATE TABLE ev AS SELECT c.city, e.year, trim(e.item) AS item,
        CASE regexp_replace(lower(trim(e.status)), '[\\s_-]+', ' ', 'g') {status} END AS status
        FROM ({" UNION ALL ".join(ev_sel)}) e JOIN city_lookup c ON c.ck = city_key(e.city_w)""")
    t_sa = time.perf_counter()

    # scoring: the estimate's inputs per city-year-indicator, then every sensitivity setting
    config = load_settings()
    rules = config.rules
    cat = config.catalog[["indicator", "max_points", "measure", "unit", "direction", "target",
                          "reference"]]
    cat = cat.astype({"target": float, "reference": float, "measure": object, "unit": object,
                      "direction": object})
    req = load_evidence_requirements()[["indicator", "item"]]
    settings = sensitivity_settings(config.grid, rules)
    full = pd.DataFrame([{**rules, **rec} for rec in settings.drop(columns="is_headline")
                         .to_dict("records")])
    grid = pd.DataFrame({
        "setting": range(len(full)), "is_headline": settings["is_headline"].to_numpy(),
        **{f"w_{s}": full[f"evidence_weight.{s}"].astype(float)
           for s in ("ada", "dalam_proses", "kedaluwarsa", "tidak_ada", "missing")},
        "ws": full["statistic.weight"].astype(float),
        "k": full["statistic.strictness"].astype(float),
        "zero_missing": full["statistic.missing"] == "zero",
        "basis_max": full["points.basis"] == "max"})
    precedence = {s: i for i, s in enumerate(rules["evidence.status_precedence"])}
    con.register("cat", cat)
    con.register("req", req)
    con.register("grid", grid)
    con.register("prec", pd.DataFrame({"status": list(precedence),
                                       "rnk": list(precedence.values())}))
    offset = int(rules["statistic.data_year_offset"])
    con.execute(f"""CREATE TABLE inputs AS
      WITH cy AS (SELECT DISTINCT city, year FROM sa),
      base AS (SELECT cy.city, cy.year, cat.* FROM cy CROSS JOIN cat),
      best AS (SELECT ev.city, ev.year, ev.item, arg_min(ev.status, prec.rnk) AS status
               FROM ev JOIN prec USING (status) GROUP BY ALL),
      items AS (SELECT cy.city, cy.year, req.indicator, coalesce(best.status, 'missing') AS status
                FROM cy CROSS JOIN req LEFT JOIN best ON best.city = cy.city
                  AND best.year = cy.year AND best.item = req.item),
      counts AS (SELECT city, year, indicator, count(*) AS n_required,
                 count(*) FILTER (WHERE status = 'ada') AS n_ada,
                 count(*) FILTER (WHERE status = 'dalam_proses') AS n_dalam_proses,
                 count(*) FILTER (WHERE status = 'kedaluwarsa') AS n_kedaluwarsa,
                 count(*) FILTER (WHERE status = 'tidak_ada') AS n_tidak_ada,
                 count(*) FILTER (WHERE status = 'missing') AS n_missing
                 FROM items GROUP BY ALL),
      evrows AS (SELECT ev.city, ev.year, TRY_CAST(split_part(ev.item, '.', 1) AS INT)
                   AS indicator, count(*) AS evidence_rows FROM ev GROUP BY ALL),
      head AS (SELECT s.city, s.data_year, c.indicator, c.unit,
                 first(s.value) FILTER (WHERE s.area_level = 'kota' AND s.value IS NOT NULL)
                   AS kota_value,
                 count(*) FILTER (WHERE s.area_level = 'kelurahan') AS n_kel,
                 bool_and(s.numerator IS NOT NULL AND s.denominator IS NOT NULL)
                   FILTER (WHERE s.area_level = 'kelurahan') AS kel_complete,
                 bool_and(s.value IS NOT NULL) FILTER (WHERE s.area_level = 'kelurahan')
                   AS kel_values,
                 sum(s.numerator) FILTER (WHERE s.area_level = 'kelurahan') AS num,
                 sum(s.denominator) FILTER (WHERE s.area_level = 'kelurahan') AS den,
                 sum(s.value) FILTER (WHERE s.area_level = 'kelurahan') AS val
               FROM stats s JOIN cat c ON c.measure = s.measure GROUP BY ALL),
      stat AS (SELECT city, data_year, indicator, coalesce(kota_value,
                 CASE WHEN unit = 'percent' AND kel_complete AND den > 0 THEN 100 * num / den
                      WHEN unit <> 'percent' AND kel_values THEN val END) AS statistic_value
               FROM head)
      SELECT b.city, b.year, b.indicator, b.max_points, b.measure IS NOT NULL AS has_measure,
             b.target, b.reference, b.direction, coalesce(p.points, 0) AS claimed,
             p.points IS NOT NULL AS has_claim, coalesce(k.n_required, 0) AS n_required,
             coalesce(k.n_ada, 0) AS n_ada, coalesce(k.n_dalam_proses, 0) AS n_dalam_proses,
             coalesce(k.n_kedaluwarsa, 0) AS n_kedaluwarsa,
             coalesce(k.n_tidak_ada, 0) AS n_tidak_ada, coalesce(k.n_missing, 0) AS n_missing,
             coalesce(r.evidence_rows, 0) AS evidence_rows, st.statistic_value
      FROM base b
      LEFT JOIN sa p ON p.city = b.city AND p.year = b.year AND p.indicator = b.indicator
      LEFT JOIN counts k ON k.city = b.city AND k.year = b.year AND k.indicator = b.indicator
      LEFT JOIN evrows r ON r.city = b.city AND r.year = b.year AND r.indicator = b.indicator
      LEFT JOIN stat st ON st.city = b.city AND st.data_year = b.year - {offset}
        AND st.indicator = b.indicator""")
    con.execute("""CREATE TABLE scores AS
      WITH s AS (
        SELECT i.city, i.year, g.setting, g.is_headline, i.claimed, i.evidence_rows,
          CASE WHEN i.n_required > 0 THEN (g.w_ada * i.n_ada + g.w_dalam_proses * i.n_dalam_proses
               + g.w_kedaluwarsa * i.n_kedaluwarsa + g.w_tidak_ada * i.n_tidak_ada
               + g.w_missing * i.n_missing) / i.n_required ELSE 0 END AS comp,
          pow(CASE WHEN NOT i.has_measure OR i.statistic_value IS NULL OR i.target IS NULL
                   THEN NULL
               WHEN i.direction = 'higher' THEN CASE WHEN i.statistic_value >= i.target THEN 1.0
                 WHEN i.target > 0 THEN greatest(i.statistic_value / i.target, 0) ELSE 1.0 END
               ELSE CASE WHEN i.statistic_value <= i.target THEN 1.0
                 WHEN i.reference IS NOT NULL THEN greatest(least((i.reference - i.statistic_value)
                   / (i.reference - i.target), 1), 0)
                 WHEN i.statistic_value > 0 THEN least(i.target / i.statistic_value, 1)
                 ELSE 1.0 END END, g.k) AS ach,
          g.ws, g.zero_missing, g.basis_max, i.has_measure, i.max_points
        FROM inputs i CROSS JOIN grid g),
      b AS (SELECT city, year, setting, is_headline, claimed, evidence_rows,
              CASE WHEN ach IS NOT NULL THEN (1 - ws) * comp + ws * ach
                   WHEN has_measure AND zero_missing THEN (1 - ws) * comp ELSE comp END AS backing,
              basis_max, max_points FROM s),
      t AS (SELECT city, year, setting, is_headline, sum(claimed) AS claimed_total,
              sum(evidence_rows) AS evidence_rows,
              sum(CASE WHEN basis_max THEN least(claimed, max_points * backing)
                       ELSE claimed * backing END) AS backed FROM b GROUP BY ALL)
      SELECT city, year, any_value(claimed_total) AS claimed_total,
             CASE WHEN any_value(evidence_rows) > 0 THEN
               any_value(backed) FILTER (WHERE is_headline) END AS estimated_total,
             CASE WHEN any_value(evidence_rows) > 0 THEN min(backed) END AS estimated_total_min,
             CASE WHEN any_value(evidence_rows) > 0 THEN max(backed) END AS estimated_total_max
      FROM t GROUP BY ALL""")
    t_score = time.perf_counter()
    n_scores, total, lo, hi = con.execute("""SELECT count(*), sum(estimated_total),
        sum(estimated_total_min), sum(estimated_total_max) FROM scores""").fetchall()[0]
    return {"threads": con.execute("SELECT current_setting('threads')").fetchall()[0][0],
            "seconds": round(t_score - t0, 3), "gazetteer_s": round(t_gaz - t0, 3),
            "statistics_s": round(t_stats - t_gaz, 3), "sa_evidence_s": round(t_sa - t_stats, 3),
            "score_s": round(t_score - t_sa, 3), "statistic_rows": n_stats,
            "unmatched_kelurahan": unmatched, "city_years": n_scores,
            "sum_estimated_total": total, "sum_estimated_min": lo, "sum_estimated_max": hi}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: one per core)")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.data_dir, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
