"""Validate every raw file in one pass and turn the raw datasets into processed tables.

``validate_data(paths)`` reads ``raw/`` (gazetteer first: other datasets are checked against
it), parses every field with the vectorised functions of :mod:`kla_analysis.cleaning`, checks
types, ranges, allowed values, references (kelurahan, indicator, evidence item, measure) and
keys, and returns the processed tables together with ALL problems found, as rows of
:func:`kla_analysis.errors.problems_frame` (file, sheet, row, column, rule, value, hint).
Unreadable files give the same kind of row. Nothing is written here (see ``build``).

Rules (``rule`` column): unreadable_file, empty_file, unsupported_file, no_header, no_data,
unknown_column, duplicate_column, missing_column, invalid_config, missing_value, not_a_number,
not_an_integer, not_a_year, year_out_of_range, not_a_date, not_a_url, not_allowed,
out_of_range, unknown_city, unknown_kecamatan, unknown_kelurahan (a desa too),
ambiguous_kelurahan, kecamatan_mismatch, area_type_mismatch, unknown_service_area,
incomplete_service_areas, service_area_without_counts,
unknown_indicator, unknown_item, item_indicator_mismatch, missing_document, missing_indicator,
unknown_question, unknown_answer, points_mismatch, indicator_and_questions,
above_block_maximum,
unknown_measure, unit_mismatch, numerator_above_denominator, value_mismatch, duplicate_key,
ambiguous_variant, future_date, after_deadline, missing_decree, decree_after_year,
excel_error, wrong_cell_type,
unsafe_character; from the readers: outside_table, control_character; before a file is read (:mod:`kla_analysis.guards`): outside_data_folder,
file_too_large, password_protected, formula_without_value.

The folder's settings (``raw/kla.yaml``, :mod:`kla_analysis.region`) extend the packaged
headers and measures and give the region's name, OPD names and service areas; every hint
names the user's file or that settings file, never the installed package. Problems are
returned root causes first (:func:`_root_causes`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..catalog import (
    evidence_date_rules,
    folder_weights,
    load_bands,
    load_catalog,
    load_evidence_requirements,
)
from ..chars import REFUSED
from ..config import ProjectPaths, project_paths
from ..errors import InputProblems, KlaError, problems_frame
from ..levels import KECAMATAN, REGION, VILLAGE
from ..questions import load_question_catalog, on_scale
from ..region import Region
from . import areas
from . import cleaning as cl
from .gazetteer import (
    check_region,
    kecamatan_lookup,
    resolve_cities,
    resolve_names,
    resolve_places,
    service_lookup,
    split_variants,
)
from .guards import file_problems, link_problems
from .readers import (
    VAL,
    Table,
    cell_ref,
    ignored_notice,
    is_excel_error,
    list_files,
    problem,
    read_tables,
    tidy_rows,
)
from .specs import MEASURE_PREFIX, DatasetSpec, Specs, header_key, region_specs

PROVENANCE = ["source_file", "source_sheet", "source_row"]
ORDER = ["gazetteer", "area_declarations", "official_results", "self_assessment", "evidence",
         "statistics"]

# Processed columns per table (docs/data-contracts.md), provenance appended.
COLUMNS = {
    "gazetteer": ["city", "kecamatan", "kelurahan", "area_type"],
    "area_declarations": ["city", "year", "area_level", "kecamatan", "kelurahan", "declared",
                          "decree", "decree_date", "patbm"],
    "official_results": ["city", "province", "year", "predicate", "score", "status",
                         "source_url"],
    "self_assessment": ["city", "year", "indicator", "points_claimed", "questions_answered",
                        "questions_total"],
    "self_assessment_answers": ["city", "year", "indicator", "question", "answer", "points"],
    "evidence": ["city", "year", "indicator", "item", "title", "status", "opd",
                 "document_date", "link", "question"],
    "statistics": ["city", "data_year", "indicator", "measure", "area_level", "kecamatan",
                   "area", "value", "numerator", "denominator", "unit"],
}
# Column types of the processed tables (applied when the data passed validation).
_P = {"source_file": "str", "source_sheet": "str", "source_row": "int64"}
DTYPES = {
    "gazetteer": {"city": "str", "kecamatan": "str", "kelurahan": "str", "area_type": "str",
                  **_P},
    "area_declarations": {"city": "str", "year": "int64", "area_level": "str", "kecamatan": "str",
                          "kelurahan": "str", "declared": "bool", "decree": "str",
                          "decree_date": "datetime64[ms]", "patbm": "boolean", **_P},
    "official_results": {"city": "str", "province": "str", "year": "int64", "predicate": "str",
                         "score": "float64", "status": "str", "source_url": "str", **_P},
    "self_assessment": {"city": "str", "year": "int64", "indicator": "int64",
                        "points_claimed": "float64", "questions_answered": "Int64",
                        "questions_total": "Int64", **_P},
    "self_assessment_answers": {"city": "str", "year": "int64", "indicator": "int64",
                                "question": "int64", "answer": "str", "points": "float64",
                                **_P},
    "evidence": {"city": "str", "year": "int64", "indicator": "int64", "item": "str",
                 "title": "str", "status": "str", "opd": "str",
                 "document_date": "datetime64[ms]", "link": "str", "question": "Int64",
                 **_P},
    "statistics": {"city": "str", "data_year": "int64", "indicator": "Int64", "measure": "str",
                   "area_level": "str", "kecamatan": "str", "area": "str", "value": "float64",
                   "numerator": "float64", "denominator": "float64", "unit": "str", **_P},
}
SORT_KEYS = {
    "gazetteer": ["city", "kecamatan", "kelurahan"],
    "area_declarations": ["city", "year", "kecamatan", "kelurahan"],
    "official_results": ["city", "year"],
    "self_assessment": ["city", "year", "indicator"],
    "self_assessment_answers": ["city", "year", "indicator", "question"],
    "evidence": ["city", "year", "indicator", "item"],
    "statistics": ["city", "data_year", "measure", "area_level", "kecamatan", "area"],
}
#: Processed tables a dataset gives besides its own: table -> the dataset (its raw rows give
#: the provenance). Question-level self-assessment rows give the answers per question.
EXTRA_TABLES = {"self_assessment_answers": "self_assessment"}


@dataclass
class Validation:
    """Processed tables (only meaningful when ``problems`` is empty) and all problems."""

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame
    files: list[str] = field(default_factory=list)
    #: One-line notices that are not problems (ignored system files, expired documents).
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problems.empty


@dataclass
class Context:
    specs: Specs
    paths: ProjectPaths
    city: dict | None
    catalog: pd.DataFrame
    evidence_items: pd.DataFrame
    gazetteer: pd.DataFrame | None = None
    problems: list = field(default_factory=list)
    files: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    #: The dates rules of data dukung documents (``evidence_date_rules``), loaded with the
    #: other configuration where validation starts.
    evidence_dates: dict | None = None
    #: The day validation runs (documents dated after it are in the future).
    today: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.today().normalize())
    #: The question catalog (``kla_analysis.questions``): questions and their options.
    questions: pd.DataFrame | None = None
    options: pd.DataFrame | None = None
    #: Tables a dataset gives besides its own (``self_assessment_answers``), indexed like
    #: that dataset's raw rows (for provenance); see ``EXTRA_TABLES``.
    extra: dict = field(default_factory=dict)
    #: The folder's settings (``raw/kla.yaml`` or ``raw/city.yaml``).
    region: Region = field(default_factory=Region)
    #: Service areas (puskesmas) and their kecamatan: ``city, key, kecamatan`` plus
    #: provenance of where the mapping was given (``_gazetteer``, ``_service_areas``).
    service: pd.DataFrame | None = None

    @property
    def settings_file(self) -> str:
        """The folder's settings file as hints name it (``raw/kla.yaml`` unless the folder
        keeps ``raw/city.yaml``)."""
        return f"raw/{self.region.file or 'kla.yaml'}"

    def add(self, rows: pd.DataFrame | dict | list | None) -> None:
        if rows is None:
            return
        if isinstance(rows, dict):
            rows = [rows]
        if len(rows):
            self.problems.append(pd.DataFrame(rows))


@dataclass
class Raw:
    """A dataset's raw cells: per field a categorical column with the text cells and, when
    Excel gave numbers or dates, a ``<field>#v`` column with those (NA elsewhere); plus
    provenance (``source_file``, ``source_sheet``, ``source_row``), ``_t`` (table number),
    ``_seg`` (table and, for wide statistics, measure: indexes ``headers``) and ``_dec``
    (decimal mark). Text as categoricals keeps millions of cells small and lets every parser
    run once per distinct value."""

    cells: pd.DataFrame
    headers: list[dict]  # per segment: field -> header as written
    #: per segment: field -> 0-based sheet column (for cell references such as ``H6``)
    positions: list[dict] = field(default_factory=list)
    #: per field: rows already reported for a cause found first (an Excel error, a TRUE
    #: cell); later checks of the same cells stay quiet, so one cause gives one problem
    reported: dict = field(default_factory=dict)

    def other(self, name: str) -> pd.Series | None:
        col = name + VAL
        return self.cells[col].dropna() if col in self.cells else None

    def parse(self, name: str, fn: Callable[[pd.Series], pd.DataFrame],
              prep: Callable[[pd.Series], pd.Series] | None = None) -> pd.DataFrame:
        """``fn`` applied once per distinct text cell (after ``prep``, e.g. a default for
        blanks) and, separately, to the few non-text cells. Text results are categoricals."""
        res = cl.on_uniques(self.cells[name], (lambda u: fn(prep(u))) if prep else fn,
                            categorical=True)
        other = self.other(name)
        if other is not None and len(other):
            part = fn(other.astype(object))
            for c in res.columns:
                col = res[c]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    new = pd.Index(part[c].dropna().unique()).difference(col.cat.categories)
                    col = col.cat.add_categories(new) if len(new) else col
                    col = col.copy()
                    col[part.index] = part[c].to_numpy()
                else:
                    col = col.copy()
                    col[part.index] = part[c].to_numpy()
                res[c] = col
        return res

    def shown(self, index: pd.Index, name: str) -> pd.Series:
        """Cells as the user sees them (for the ``value`` column of problems)."""
        if name not in self.cells:
            return pd.Series("", index=index, dtype="str")
        text = self.cells.loc[index, name].astype("str")
        if name + VAL in self.cells:
            text = text.fillna(cl.display(self.cells.loc[index, name + VAL].astype(object)))
        return text.fillna("").astype("str")

    def cell_refs(self, index: pd.Index, name: str) -> pd.Series:
        """References (``H6``) of the cells of field ``name`` in rows ``index``."""
        seg = self.cells.loc[index, "_seg"].to_numpy()
        rows = self.cells.loc[index, "source_row"].to_numpy()
        return pd.Series([cell_ref(int(r), self.positions[s][name])
                          if s < len(self.positions) and name in self.positions[s] else ""
                          for s, r in zip(seg, rows, strict=True)], index=index, dtype="str")

    def header(self, index: pd.Index, name: str) -> pd.Series:
        names = pd.Series([h.get(name, "") for h in self.headers], dtype="str")
        return names.take(self.cells.loc[index, "_seg"].to_numpy()).set_axis(index)

    def problems(self, mask: pd.Series, name: str, rule: str,
                 hint: str | pd.Series | Callable[[pd.Series], pd.Series],
                 value: pd.Series | None = None) -> pd.DataFrame | None:
        mask = mask.fillna(False).astype(bool)
        if not mask.index.equals(self.cells.index):  # checks on a subset of the rows
            mask = mask.reindex(self.cells.index, fill_value=False)
            if isinstance(hint, pd.Series):
                hint = hint.reindex(mask.index)
            if isinstance(value, pd.Series):
                value = value.reindex(mask.index)
        if name in self.reported:
            mask &= ~self.reported[name].reindex(mask.index, fill_value=False)
        if not mask.any():
            return None
        sel = self.cells.loc[mask, ["source_file", "source_sheet", "source_row"]]
        if value is None:
            value = self.shown(sel.index, name)
        if callable(hint):  # computed for the failing rows only
            hint = hint(mask).reindex(mask.index)
        out = pd.DataFrame({
            "file": sel["source_file"], "sheet": sel["source_sheet"], "row": sel["source_row"],
            "column": self.header(sel.index, name), "rule": rule,
            "value": value if np.isscalar(value) else value[mask],
            "hint": hint if np.isscalar(hint) else hint[mask].fillna("")})
        return out


# ---------------------------------------------------------------- loading raw tables


def _check_columns(tbl: Table, spec: DatasetSpec, ctx: Context) -> bool:
    """Required columns present (year from the title, city from city.yaml allowed)."""
    ok = True
    for f in spec.fields.values():
        if f.name in tbl.headers:
            continue
        if f.from_title:
            year = cl.parse_title_year(tbl.title)
            if year is not None:
                tbl.constants[f.name] = str(year)
                tbl.headers[f.name] = f"(judul: Tahun {year})"
                continue
        if f.default and ctx.city and ctx.city.get(f.default):
            continue
        if f.required_with and f.required_with in tbl.headers:
            other = spec.fields[f.required_with]
            ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, f.header, "missing_column",
                            "", f"a table with '{other.header}' needs a column '{f.header}' "
                            "(a blank cell there: not answered yet)"))
            ok = False
            continue
        if any(o in tbl.headers for o in f.required_unless):
            continue  # e.g. question-level rows give their points through the answers
        if f.required_unless:
            others = " or ".join(f"'{spec.fields[o].header}'" for o in f.required_unless)
            ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, f.header, "missing_column",
                            "", f"add a column '{f.header}', or {others}"
                            + (" (a row per question)" if spec.name == "self_assessment"
                               else "")))
            ok = False
        elif f.required or f.default:
            what = {"city": "region", "province": "province"}.get(f.default or "", "")
            hint = (f"add a column '{f.header}'"
                    + (" or write 'Tahun YYYY' in the title rows" if f.from_title else "")
                    + (f" or set {what}: in {ctx.settings_file}" if f.default else ""))
            ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, f.header, "missing_column",
                            "", hint))
            ok = False
    if spec.name == "statistics" and "measure" not in tbl.headers and not any(
            c.startswith(MEASURE_PREFIX) for c in tbl.headers):
        ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, "Ukuran", "missing_column", "",
                        "no measure recognised: add an 'Ukuran' column (long layout, measure "
                        "codes as in `kla template`) or name the measure columns as the "
                        "package does (e.g. 'Balita Stunting', '% Akta Kelahiran'); another "
                        f"header of a measure goes under measures: in {ctx.settings_file}"))
        ok = False
    return ok


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames whose columns differ; categorical columns get the union of their
    categories first (else pandas would fall back to slow, large object columns)."""
    names = list(dict.fromkeys(c for f in frames for c in f.columns))
    for c in names:
        cats = [f[c].cat.categories for f in frames
                if c in f and isinstance(f[c].dtype, pd.CategoricalDtype)]
        if not cats:
            continue
        union = pd.Index(pd.unique(np.concatenate([np.asarray(x, dtype=object) for x in cats])),
                         dtype="str")
        dtype = pd.CategoricalDtype(union)
        frames = [f.assign(**{c: f[c].astype(dtype) if c in f else pd.Categorical.from_codes(
            np.full(len(f), -1), dtype=dtype)}) for f in frames]
    return pd.concat(frames, ignore_index=True)


def _stack(tables: list[Table]) -> pd.DataFrame:
    """All table bodies in one frame with ``_t`` (table number) and ``source_row``.

    Tables sharing a layout are stacked first (pandas' fast path), then the few layouts;
    rows are therefore grouped by layout, not in file order (nothing depends on that order:
    outputs are sorted and duplicates point at the earliest file and row).
    """
    layouts: dict[tuple, list[int]] = {}
    for i, t in enumerate(tables):
        layouts.setdefault(tuple(t.data.columns), []).append(i)
    parts = []
    for idx in layouts.values():
        part = pd.concat([tables[i].data for i in idx], ignore_index=True)
        part["_t"] = np.repeat(np.asarray(idx), [len(tables[i].data) for i in idx])
        part["source_row"] = np.concatenate([tables[i].data.index.to_numpy(dtype="int64")
                                             for i in idx])
        parts.append(part)
    for t in tables:
        t.data = t.data.iloc[:0]  # the bodies now live in the stacked frame
    return pd.concat(parts, ignore_index=True)


def _segments(cells: pd.DataFrame, tables: list[Table], spec: DatasetSpec) -> tuple[
        pd.DataFrame, list[dict]]:
    """Rows with one measure each: wide statistics tables become one segment per measure.

    ``_seg`` numbers (table, measure) pairs; the returned list gives each segment's headers.
    """
    plain = [c for c in cells.columns if not c.startswith(MEASURE_PREFIX)]
    if spec.name != "statistics":
        heads = [dict(t.headers) for t in tables]
        return cells[plain].assign(_seg=cells["_t"]), heads, [dict(t.positions)
                                                             for t in tables]
    parts, heads, places = [], [], []
    long_t = [i for i, t in enumerate(tables) if "measure" in t.headers]
    if long_t:
        part = cells.loc[cells["_t"].isin(long_t), plain]
        seg = {t: len(heads) + k for k, t in enumerate(long_t)}
        heads += [dict(tables[t].headers) for t in long_t]
        places += [dict(tables[t].positions) for t in long_t]
        parts.append(part.assign(_seg=part["_t"].map(seg)))
    wide = sorted({c.split(":")[1] for c in cells.columns if c.startswith(MEASURE_PREFIX)})
    base = [c for c in plain if c.split("#")[0] not in ("value", "numerator", "denominator",
                                                         "measure")]
    for m in wide:
        cols = [c for c in cells.columns if c.startswith(f"{MEASURE_PREFIX}{m}:")]
        has = [i for i, t in enumerate(tables) if any(h.startswith(f"{MEASURE_PREFIX}{m}:")
                                                      for h in t.headers)]
        rows = cells.loc[cells["_t"].isin(has)]
        part = rows[base]
        for c in cols:
            part[c.split(":")[2]] = rows[c]  # value / numerator / denominator (+ #v)
        part["measure"] = pd.Categorical.from_codes(np.zeros(len(part), dtype=int), [m])
        seg = {}
        for t in has:
            h = {k: v for k, v in tables[t].headers.items() if not k.startswith(MEASURE_PREFIX)}
            pos = {k: v for k, v in tables[t].positions.items()
                   if not k.startswith(MEASURE_PREFIX)}
            for role in ("value", "numerator", "denominator"):
                if f"{MEASURE_PREFIX}{m}:{role}" in tables[t].headers:
                    h[role] = tables[t].headers[f"{MEASURE_PREFIX}{m}:{role}"]
                    pos[role] = tables[t].positions.get(f"{MEASURE_PREFIX}{m}:{role}")
            h["measure"] = h.get("value") or h.get("numerator") or m
            pos["measure"] = pos.get("value", pos.get("numerator"))
            seg[t] = len(heads)
            heads.append(h)
            places.append({k: v for k, v in pos.items() if v is not None})
        parts.append(part.assign(_seg=part["_t"].map(seg)))
    return (_concat(parts) if parts else cells[plain].assign(_seg=cells["_t"])), heads, places


def load_raw(spec: DatasetSpec, ctx: Context) -> Raw:
    """Read every file of a dataset's folder into one :class:`Raw` (problems go to ``ctx``)."""
    raw_dir = ctx.paths.raw
    listing = list_files(raw_dir / spec.folder)
    files, other = listing
    ctx.notices += [ignored_notice(p, raw_dir) for p in listing.ignored]
    ctx.add(link_problems(raw_dir / spec.folder, raw_dir))
    for p in other:
        ctx.add(problem(p.relative_to(raw_dir).as_posix(), rule="unsupported_file",
                        value=p.suffix, hint="only .csv, .xlsx, .xlsm, .xls and .ods files are "
                        "read; move other files out of raw/" + spec.folder))
    tables: list[Table] = []
    for path in files:
        ctx.files.append(path.relative_to(raw_dir).as_posix())
        refused = file_problems(path, raw_dir)  # link outside raw/, too large, unreadable
        if refused:
            ctx.add(refused)
            continue
        found = read_tables(path, raw_dir, spec, ctx.specs)
        if isinstance(found, dict):
            ctx.add(found)
            continue
        for tbl in found:
            ctx.add(tbl.problems)
            if _check_columns(tbl, spec, ctx):
                tables.append(tbl)
    names = [*spec.fields, "_t", "source_row"]
    if tables:
        cells = _stack(tables)
    else:
        cells = pd.DataFrame({c: pd.Series(dtype="str") for c in spec.fields}
                             | {"_t": pd.Series(dtype="int64"),
                                "source_row": pd.Series(dtype="int64")})
    labels = sorted({c for t in tables for c in t.labels})
    keep, has_data = tidy_rows(cells, labels, ctx.specs)
    for (t, col), flag in has_data.stack().items():
        if flag and col in tables[t].headers:
            tbl = tables[t]
            ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, tbl.headers[col],
                            "unknown_column", tbl.headers[col],
                            "this header is not known for " + spec.name + "; rename it to one "
                            "of: " + ", ".join(f.header for f in spec.fields.values())
                            + "; or, if it is one of these under another name, add it under "
                            f"aliases: {spec.name}: <field>: in {ctx.settings_file} (under "
                            "ignore: to skip the column)"))
    for t in sorted(set(range(len(tables))) - set(cells.loc[keep, "_t"].unique())):
        tbl = tables[t]
        ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, "", "no_data", "",
                        "the table has a header but no data rows"))
    cells = cells[[c for c in cells.columns if not c.startswith("_") or c in names]]
    for c in spec.fields:
        if c not in cells:
            cells[c] = pd.Series(np.nan, index=cells.index, dtype="str")
        given = {i: t.constants[c] for i, t in enumerate(tables) if c in t.constants}
        if given:  # e.g. the year written in the title rows
            cells[c] = cells["_t"].map(given).astype("str").fillna(cells[c])
    # text repeats a lot (names, years, codes): categoricals keep millions of rows small and
    # let every parser run once per distinct value; rows are filtered once that is done
    cells = cells.astype({c: "category" for c in cells.columns
                          if isinstance(cells[c].dtype, pd.StringDtype)})[keep]
    for c in cells.columns:
        if isinstance(cells[c].dtype, pd.CategoricalDtype):
            cells[c] = _drop_unused_categories(cells[c])
    cells, heads, places = _segments(cells, tables, spec)
    for c in spec.fields:
        if c not in cells:
            cells[c] = pd.Series(np.nan, index=cells.index, dtype="str")
    codes = cells["_t"].to_numpy(dtype="int64")
    for c, values in (("source_file", [t.file for t in tables]),
                      ("source_sheet", [t.sheet for t in tables]),
                      ("_dec", [t.decimal for t in tables])):
        cats = pd.Categorical(values)
        cells[c] = pd.Categorical.from_codes(cats.codes[codes], cats.categories) if len(
            values) else pd.Categorical([], categories=[])
    return Raw(cells.reset_index(drop=True), heads, places)


def _drop_unused_categories(s: pd.Series) -> pd.Series:
    """``s.cat.remove_unused_categories()`` (same result) by counting codes instead of
    sorting them: a second instead of seconds for millions of rows."""
    codes = s.cat.codes.to_numpy()
    used = np.bincount(codes[codes >= 0], minlength=len(s.cat.categories)) > 0
    if used.all():
        return s
    new = np.where(codes >= 0, (np.cumsum(used) - 1)[codes], -1)
    cats = pd.Categorical.from_codes(new, s.cat.categories[used], ordered=s.cat.ordered)
    return pd.Series(cats, index=s.index, name=s.name)


# ---------------------------------------------------------------- parsing fields


def _hint_allowed(values) -> str:
    return "allowed: " + ", ".join(values)


def parse_fields(raw: Raw, spec: DatasetSpec, ctx: Context) -> pd.DataFrame:
    """Parse every field by type; returns typed columns, problems go to ``ctx``."""
    cells, sp = raw.cells, ctx.specs
    marks = sp.missing_markers
    out = pd.DataFrame(index=cells.index)
    for f in spec.fields.values():
        default = ctx.city.get(f.default) if f.default and ctx.city else None

        def prep(x: pd.Series, default=default) -> pd.Series:
            """Blank cells take the folder's default (raw/kla.yaml: region, province)."""
            if default is None:
                return x
            return x.astype("str").where(~cl.missing_mask(x, marks), default)

        def parse(fn, name=f.name, prep=prep):
            return raw.parse(name, fn, prep)

        _check_characters(raw, f.name, ctx)
        _check_cell_types(raw, f.name, f.type, ctx)
        missing = parse(lambda x: cl.missing_mask(x, marks).to_frame("m"))["m"].astype(bool)
        if f.required:
            ctx.add(raw.problems(missing, f.name, "missing_value",
                                 f"{f.header} must be filled in"))
        elif f.required_unless:
            lack = missing.copy()
            for o in f.required_unless:
                lack &= ~_has_value(raw, o, ctx)
            others = " or ".join(spec.fields[o].header for o in f.required_unless)
            found = raw.problems(lack, f.name, "missing_value", (
                f"{f.header} must be filled in, unless the row gives {others}"
                + (" (a row per question)" if spec.name == "self_assessment" else "")))
            if found is not None:  # the file may have no column for it at all
                found["column"] = found["column"].where(found["column"] != "", f.header)
            ctx.add(found)
        t = f.type

        if t in ("text", "kecamatan", "kelurahan", "measure"):
            out[f.name] = parse(lambda x: cl.clean_text(x, marks).to_frame("v"))["v"]
        elif t == "url":
            val = parse(lambda x: cl.clean_text(x, marks).to_frame("v"))["v"]
            ok = val.astype("str").str.match(r"^https?://\S+$").fillna(False).astype(bool)
            bad = val.notna() & ~ok
            ctx.add(raw.problems(bad, f.name, "not_a_url", "give the full address, "
                                 "starting with http:// or https://"))
            out[f.name] = val
        elif t == "city":
            val = parse(lambda x: cl.clean_text(x, marks).to_frame("v"))["v"]
            known = ctx.gazetteer["city"].drop_duplicates() if ctx.gazetteer is not None \
                else pd.Series(dtype="str")
            res = resolve_cities(val, known)
            ctx.add(raw.problems(res["unknown"], f.name, "unknown_city", lambda m, r=res: (
                "not in the gazetteer (raw/gazetteer/); closest known: "
                + r.loc[m, "closest"].astype("str").fillna("none"))))
            out[f.name] = res["city"]
        elif t == "city_name":
            val = parse(lambda x: cl.clean_text(x, marks).to_frame("v"))["v"]
            known = ctx.gazetteer["city"].drop_duplicates() if ctx.gazetteer is not None \
                else pd.Series(dtype="str")
            res = resolve_cities(val, known)
            expanded = val.astype("str").str.replace(r"^(?i:kab)\b\.?\s*", "Kabupaten ",
                                                     regex=True)
            out[f.name] = res["city"].astype("str").fillna(expanded)
        elif t == "year":
            res = parse(lambda x: cl.parse_years(x, marks))
            ctx.add(raw.problems(res["bad"], f.name, "not_a_year",
                                 "write the year as four digits, e.g. 2023 or Tahun 2023"))
            outside = (res["value"] < sp.year_min) | (res["value"] > sp.year_max)
            ctx.add(raw.problems(outside, f.name, "year_out_of_range",
                                 f"years must lie in {sp.year_min}-{sp.year_max}"))
            out[f.name] = res["value"]
        elif t == "indicator":
            res = parse(lambda x: cl.parse_indicators(x, marks))
            known = set(ctx.catalog["indicator"])
            unknown = res["bad"] | (res["value"].notna() & ~res["value"].isin(known))
            ctx.add(raw.problems(unknown, f.name, "unknown_indicator",
                                 f"indicators are numbered {min(known)}-{max(known)}"))
            out[f.name] = res["value"].where(~unknown)
        elif t == "item":
            res = parse(lambda x: cl.parse_item_codes(x, marks))
            ctx.add(raw.problems(res["bad"], f.name, "unknown_item",
                                 "write the evidence code as indicator.item, e.g. 4.1"))
            out[f.name] = res["value"]
        elif t == "question":  # checked against the row's indicator by the dataset
            res = parse(lambda x: cl.parse_question_numbers(x, marks))
            ctx.add(raw.problems(res["bad"], f.name, "unknown_question", (
                "write the question number as a whole number, e.g. 3 (the questions of each "
                "indicator: `kla template` lists them)")))
            out[f.name] = res["value"]
        elif t in ("number", "count"):
            out[f.name] = _parse_numbers(raw, f.name, t == "count", ctx)
        elif t == "choice":
            choices = f.choices or {}
            if f.choices_from == "predicates":
                choices = {p: (p,) for p in load_bands()["predicate"]}
            res = parse(lambda x, ch=choices: cl.parse_choices(x, ch, marks))
            ctx.add(raw.problems(res["bad"], f.name, "not_allowed",
                                 _hint_allowed(v for vs in choices.values() for v in vs[:1])))
            out[f.name] = res["value"]
        elif t == "date":
            res = parse(lambda x: cl.parse_dates(x, marks))
            ctx.add(raw.problems(res["bad"], f.name, "not_a_date",
                                 "write the date as DD/MM/YYYY or YYYY-MM-DD"))
            out[f.name] = res["value"]
        else:  # pragma: no cover - guarded by the spec tests
            raise ValueError(f"unknown field type {t!r} in datasets.yaml")
        if f.min is not None or f.max is not None:
            _check_range(raw, out, f.name, f.min, f.max, ctx)
    if spec.name != "statistics":  # small tables: plain text columns are simpler downstream
        cat = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)]
        out = out.astype(dict.fromkeys(cat, "str"))
    return out


#: Field types whose cells must hold a value of their own kind: an Excel error, a TRUE/FALSE,
#: a time or a duration cell has no reading there. Free text shows such a cell as text.
_TYPED = {"number", "count", "year", "indicator", "item", "date", "choice", "url", "city",
          "city_name", "kecamatan", "kelurahan", "measure", "question"}


def _has_value(raw: Raw, name: str, ctx: Context) -> pd.Series:
    """Rows whose cell of field ``name`` holds a value (not blank, not a missing marker); a
    cell already reported (an Excel error, a TRUE cell) counts as given: its cause is
    reported once."""
    if name not in raw.cells:
        return pd.Series(False, index=raw.cells.index)
    marks = ctx.specs.missing_markers
    m = raw.parse(name, lambda x: cl.missing_mask(x, marks).to_frame("m"))["m"]
    out = ~m.astype(bool)
    if name in raw.reported:
        out |= raw.reported[name].reindex(out.index, fill_value=False)
    return out


def _cell_kind(v: object) -> str | None:
    """What makes a non-text Excel cell unusable: ``"boolean"``, ``"time"``, ``"duration"``."""
    if isinstance(v, bool | np.bool_):
        return "boolean"
    if isinstance(v, dt.timedelta | pd.Timedelta):
        return "duration"
    if isinstance(v, dt.time):
        return "time"
    return None


def _excel_errors(u: pd.Series) -> pd.DataFrame:
    """Per distinct cell text: is it an Excel error literal? (a cheap '#' test first)"""
    s = u.astype("str")
    hit = s.str.contains("#", regex=False).fillna(False).to_numpy(bool)
    out = np.zeros(len(u), dtype=bool)
    if hit.any():
        out[hit] = [is_excel_error(v) for v in s[hit]]
    return pd.DataFrame({"e": out}, index=u.index)


def _check_cell_types(raw: Raw, name: str, kind: str, ctx: Context) -> None:
    """Every cell type has a meaning in every field: an Excel error value (``#DIV/0!``,
    ``#N/A``...) is a problem in any field; a TRUE/FALSE, time or duration cell is one in a
    field that expects a number, year, date, code, choice or name. Each names its cell
    (``H6``), and the cell then counts as reported: no second problem for it."""
    if name not in raw.cells:
        return
    text = raw.cells[name]
    errors = cl.on_uniques(text, _excel_errors)["e"].astype(bool)
    other = raw.other(name)
    odd = pd.Series(False, index=raw.cells.index)
    what = pd.Series("", index=raw.cells.index, dtype=object)
    # only object cells can be booleans, times or durations (numbers and dates are typed)
    if other is not None and len(other) and kind in _TYPED and other.dtype == object:
        kinds = other.map(_cell_kind)
        hit = kinds.dropna()
        odd[hit.index] = True
        what[hit.index] = hit
    if not (errors.any() or odd.any()):
        return
    def hint(text: Callable[[pd.Index], pd.Series]) -> Callable[[pd.Series], pd.Series]:
        # computed for the failing rows only: a cell reference is built row by row
        def of(mask: pd.Series) -> pd.Series:
            rows = mask.index[mask]
            return "cell " + raw.cell_refs(rows, name) + text(rows)
        return of

    if errors.any():
        ctx.add(raw.problems(errors, name, "excel_error", hint(lambda rows: (
            " holds the Excel error " + raw.shown(rows, name).str.strip()
            + ": the formula behind it failed; fix the formula or type the value"))))
    if odd.any():
        label = {"boolean": "a TRUE/FALSE value", "time": "a time of day",
                 "duration": "a duration"}
        ctx.add(raw.problems(odd, name, "wrong_cell_type", hint(lambda rows: (
            " holds " + what[rows].map(label).fillna("")
            + f", not a {kind.replace('_', ' ')}; type the value itself (format the cell "
            "as Number or Text in Excel)"))))
    bad = errors | odd
    raw.reported[name] = bad | raw.reported.get(name, pd.Series(False, index=bad.index))
    # the cells hold no usable value: parsers see them as empty (and stay quiet, above)
    raw.cells.loc[bad, name] = pd.NA
    if other is not None and name + VAL in raw.cells:
        raw.cells.loc[bad, name + VAL] = pd.NA


_UNSAFE_IN = REFUSED
_NAMES = {"\u202a": "left-to-right embedding", "\u202b": "right-to-left embedding",
          "\u202c": "pop directional formatting", "\u202d": "left-to-right override",
          "\u202e": "right-to-left override", "\u2066": "left-to-right isolate",
          "\u2067": "right-to-left isolate", "\u2068": "first strong isolate",
          "\u2069": "pop directional isolate", "\u200e": "left-to-right mark",
          "\u200f": "right-to-left mark", "\u061c": "Arabic letter mark"}


def _unsafe_found(u: pd.Series) -> pd.DataFrame:
    """Per distinct cell text: the first control or bidirectional character, as
    ``U+XXXX (name)``, else NA (one vectorised search, then the few hits one by one)."""
    s = u.astype("str")
    hit = s.str.contains(_UNSAFE_IN.pattern, regex=True).fillna(False).to_numpy(bool)
    out = np.full(len(u), pd.NA, dtype=object)
    for i in np.flatnonzero(hit):
        c = _UNSAFE_IN.search(s.iloc[i]).group()
        out[i] = f"U+{ord(c):04X} ({_NAMES.get(c, 'control character')})"
    return pd.DataFrame({"c": out}, index=u.index)


def _check_characters(raw: Raw, name: str, ctx: Context) -> None:
    """Control and bidirectional characters in a text cell are a problem: a control byte
    makes an XLSX or SVG unreadable and a right-to-left override shows a name reversed in
    the report, the CSV and a sheet name. Reported with file, row and column, never passed
    on (the writers strip them too, as a second line)."""
    if name not in raw.cells:
        return
    found = cl.on_uniques(raw.cells[name], _unsafe_found)["c"]
    bad = found.notna()
    if bad.any():
        rows = bad.index[bad]  # the value as shown, the character escaped: failing rows only
        shown = raw.shown(rows, name).str.replace(
            _UNSAFE_IN, lambda m: f"\\u{ord(m.group()):04x}", regex=True)
        ctx.add(raw.problems(bad, name, "unsafe_character", (
            "the cell holds the invisible character " + found.astype("str")
            + "; delete it (retype the text, or paste it as plain text)"),
            value=shown.reindex(bad.index)))


def _parse_numbers(raw: Raw, name: str, count: bool, ctx: Context) -> pd.Series:
    cells = raw.cells
    value = pd.Series(np.nan, index=cells.index, dtype="float64")
    bad = pd.Series(False, index=cells.index)
    marks = ctx.specs.missing_markers
    for dec in cells["_dec"].unique():
        sub = Raw(cells[cells["_dec"] == dec], raw.headers)
        res = sub.parse(name, lambda x, d=str(dec): cl.parse_numbers(x, d, count, marks))
        value[res.index], bad[res.index] = res["value"], res["bad"].astype(bool)
    ctx.add(raw.problems(bad, name, "not_a_number",
                         "write a number such as 1234 or 85,5 (no letters)"))
    if count:
        frac = value.notna() & (value != value.round())
        ctx.add(raw.problems(frac, name, "not_an_integer", "a count must be a whole number"))
        _check_range(raw, value.to_frame(name), name, 0, None, ctx)
    return value


def _check_range(raw: Raw, values: pd.DataFrame, name: str, lo, hi, ctx: Context,
                 hint: str | pd.Series | None = None) -> None:
    """Range check through pandera (lazy: every failing cell is collected)."""
    if not values[name].notna().any():
        return
    checks = []
    if lo is not None:
        checks.append(pa.Check(lambda s, lo=lo: s >= lo, name="out_of_range"))
    if hi is not None:
        checks.append(pa.Check(lambda s, hi=hi: s <= hi, name="out_of_range"))
    schema = pa.DataFrameSchema({name: pa.Column(checks=checks, nullable=True)})
    try:
        schema.validate(values[[name]], lazy=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        idx = pd.Index(fc.loc[fc["check"] == "out_of_range", "index"].dropna().unique())
        mask = pd.Series(False, index=values.index)
        mask[idx.astype(values.index.dtype)] = True
        if hint is None:
            hint = ("must be " + (f"at least {lo:g}" if lo is not None else "")
                    + (" and " if lo is not None and hi is not None else "")
                    + (f"at most {hi:g}" if hi is not None else ""))
        ctx.add(raw.problems(mask, name, "out_of_range", hint))


def _source_order(raw: Raw) -> np.ndarray:
    """Rank of each row in file order (table number, then spreadsheet row)."""
    return (raw.cells["_t"].to_numpy(dtype="int64") * (1 << 32)
            + raw.cells["source_row"].to_numpy(dtype="int64"))


def _duplicates(raw: Raw, clean: pd.DataFrame, key: list[str], column: str,
                ctx: Context) -> None:
    """Rows repeating another row's key; the earliest (file order, then row) is kept and the
    hint of the others points at it."""
    codes = np.zeros(len(clean), dtype="int64")
    full = np.ones(len(clean), dtype=bool)
    for k in key:  # one integer per key combination
        c, u = pd.factorize(clean[k], use_na_sentinel=True)
        full &= c >= 0
        codes = codes * (len(u) + 1) + (c + 1)
        codes = pd.factorize(codes)[0].astype("int64")  # keep the numbers small
    pos = raw.cells.index.get_indexer(clean.index)  # clean may hold a subset of the rows
    order = _source_order(raw)[pos]
    srt = np.lexsort((order, codes))
    grp = codes[srt]
    start = np.r_[True, grp[1:] != grp[:-1]] if len(grp) else np.zeros(0, dtype=bool)
    first_of = np.zeros(codes.max() + 1 if len(codes) else 0, dtype="int64")
    first_of[grp[start]] = srt[start]
    first = first_of[codes]
    dup = full & (np.arange(len(codes)) != first)
    if not dup.any():
        return
    at = pos[first[dup]]
    cells = raw.cells
    where = pd.Series(cl.as_text(cells["source_file"]).to_numpy()[at], dtype="str") + \
        " row " + pd.Series(cells["source_row"].to_numpy()[at]).astype("str")
    hint = pd.Series("", index=clean.index, dtype="str")
    hint[dup] = ("same " + ", ".join(key) + " as " + where).to_numpy()
    ctx.add(raw.problems(pd.Series(dup, index=clean.index), column, "duplicate_key", hint))


def _finish(name: str, clean: pd.DataFrame, raw: Raw) -> pd.DataFrame:
    out = clean.assign(source_file=cl.as_text(raw.cells["source_file"]),
                       source_sheet=cl.as_text(raw.cells["source_sheet"]).fillna(""),
                       source_row=raw.cells["source_row"].astype("int64"))
    out = out[[*COLUMNS[name], *PROVENANCE]]
    return out.sort_values([*SORT_KEYS[name], *PROVENANCE], kind="stable",
                           na_position="first").reset_index(drop=True)


# ---------------------------------------------------------------- datasets


#: Headers of the name column that say what its places are (when no ``Jenis`` column does).
_TYPE_BY_HEADER = {"desa": "desa", "nama desa": "desa", "kelurahan": "kelurahan",
                   "nama kelurahan": "kelurahan"}


def _gazetteer(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Places (one row per desa/kelurahan, keyed by kabupaten/kota, kecamatan and name: two
    desa may share a name in different kecamatan) and, in ``ctx.service``, the kecamatan of
    every service area (puskesmas) the gazetteer names."""
    place = clean["kelurahan"].notna()
    keyed = pd.DataFrame({"city": clean["city"],
                          "kecamatan": cl.name_key(clean["kecamatan"]).where(place),
                          "kelurahan": cl.name_key(clean["kelurahan"]).where(place)})
    _duplicates(raw, keyed, ["city", "kecamatan", "kelurahan"], "kelurahan", ctx)
    # a variant must not name another desa/kelurahan of the same kecamatan
    var = split_variants(clean["variants"].where(place))
    if len(var):
        vk = pd.DataFrame({"city": clean.loc[var.index, "city"].to_numpy(),
                           "kecamatan": keyed.loc[var.index, "kecamatan"].to_numpy(),
                           "key": cl.name_key(var).to_numpy(),
                           "name": clean.loc[var.index, "kelurahan"].to_numpy()},
                          index=var.index)
        names = pd.concat([keyed.rename(columns={"kelurahan": "key"}).assign(
            name=clean["kelurahan"])[place], vk])
        owners = names.drop_duplicates().groupby(["city", "kecamatan", "key"])["name"].nunique()
        clash = vk.join(owners.rename("n"), on=["city", "kecamatan", "key"])["n"] > 1
        clash = clash.groupby(level=0).any().reindex(clean.index, fill_value=False)
        ctx.add(raw.problems(clash, "variants", "ambiguous_variant",
                             "a variant here also names another desa/kelurahan of this "
                             "kecamatan"))
    # desa or kelurahan: the Jenis column, else the name column's header (Desa, Kelurahan)
    by_header = raw.header(clean.index, "kelurahan").map(
        lambda h: _TYPE_BY_HEADER.get(header_key(h)) if h else None)
    area_type = cl.as_text(clean["area_type"]).fillna(by_header.astype("str"))
    # service areas: rows naming a puskesmas give its kecamatan (with or without a desa)
    svc = clean["service_area"].notna() & clean["kecamatan"].notna()
    if svc.any():
        rows = pd.DataFrame({"city": clean["city"], "service_area": clean["service_area"],
                             "kecamatan": clean["kecamatan"]})[svc]
        found = service_lookup(rows).assign(source="raw/gazetteer/")
        ctx.service = found if ctx.service is None else pd.concat([ctx.service, found])
    return clean.assign(area_type=area_type)[place]


def _service_areas(ctx: Context) -> None:
    """The ``service_areas:`` of the folder's settings (puskesmas -> kecamatan), checked
    against the gazetteer and added to ``ctx.service``."""
    given = ctx.region.service_areas
    if not given or ctx.gazetteer is None:
        return
    cities = ctx.gazetteer["city"].dropna().unique()
    city = ctx.city["city"] if ctx.city else (cities[0] if len(cities) == 1 else None)
    if city is None:
        ctx.add(ctx.region.problem(("service_areas",), "", (
            f"service_areas: needs the folder's region (region: in {ctx.settings_file})")))
        return
    names = pd.Series(list(given.values()), index=list(given))
    res = resolve_names(pd.Series(city, index=names.index), names, kecamatan_lookup(
        ctx.gazetteer), ["kecamatan"])
    for unit, kec in names.items():
        if res.at[unit, "unknown"]:
            ctx.add(ctx.region.problem(("service_areas", unit), kec, (
                f"kecamatan {kec!r} is not in the gazetteer of {city} (raw/gazetteer/); "
                f"closest known: {res.at[unit, 'closest'] or 'none'}; fix service_areas: in "
                f"{ctx.settings_file}")))
    ok = ~res["unknown"].astype(bool)
    rows = pd.DataFrame({"city": city, "service_area": names.index[ok.to_numpy()],
                         "kecamatan": cl.as_text(res.loc[ok, "kecamatan"]).to_numpy()})
    found = service_lookup(rows).assign(source=ctx.settings_file)
    ctx.service = found if ctx.service is None else pd.concat([ctx.service, found])


def _official(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    _duplicates(raw, clean, ["city", "year"], "year", ctx)
    return clean


def _question_index(ind: pd.Series, qn: pd.Series) -> pd.MultiIndex:
    """(indicator, question) pairs, NA as -1, for look-ups in the question catalog."""
    return pd.MultiIndex.from_arrays([pd.array(ind, dtype="Int64").fillna(-1).to_numpy("int64"),
                                      pd.array(qn, dtype="Int64").fillna(-1).to_numpy("int64")])


def _known_questions(ind: pd.Series, qn: pd.Series, ctx: Context) -> pd.Series:
    qs = ctx.questions
    found = _question_index(ind, qn).isin(_question_index(qs["indicator"], qs["question"]))
    return pd.Series(found, index=ind.index)


def _question_hint(ind: pd.Series, ctx: Context) -> Callable[[pd.Series], pd.Series]:
    """Hint for a question number the row's indicator does not have (failing rows only)."""
    count = ctx.questions.groupby("indicator").size()

    def hint(mask: pd.Series) -> pd.Series:
        i = ind[mask]
        return ("indicator " + i.astype("str") + " has questions 1-"
                + i.map(count).astype("Int64").astype("str")
                + " (`kla template` lists them)")
    return hint


def _option_lists(ctx: Context) -> pd.Series:
    """Per (indicator, question): its options as a hint reads them."""
    o = ctx.options
    shown = o["label_id"] + " (" + o["option"] + ")"
    return shown.groupby([o["indicator"], o["question"]], sort=False).agg(", ".join)


def _question_rows(raw: Raw, clean: pd.DataFrame, asked: pd.Series,
                   ctx: Context) -> pd.DataFrame:
    """Question-level rows checked against the question catalog; returns the answers
    (``self_assessment_answers`` without provenance), indexed like the raw rows."""
    ind, qn = clean["indicator"].astype("Int64"), clean["question"].astype("Int64")
    pts = clean["points_claimed"].astype("float64")
    rows = asked & ind.notna() & qn.notna()
    known = _known_questions(ind, qn, ctx)
    ctx.add(raw.problems(rows & ~known, "question", "unknown_question",
                         _question_hint(ind, ctx)))
    ok = rows & known
    # an answer is an option's code or label (case, spaces and punctuation free)
    o = ctx.options
    keyed = pd.concat([pd.DataFrame({"indicator": o["indicator"], "question": o["question"],
                                     "key": cl.keys(o[c]), "option": o["option"]})
                       for c in ("option", "label_id", "label_en")])
    lookup = keyed.drop_duplicates(["indicator", "question", "key"]).set_index(
        ["indicator", "question", "key"])["option"]
    answer = clean["answer"].astype("str")
    answered = ok & answer.notna()
    ind_i = ind.fillna(-1).astype("int64").to_numpy()
    qn_i = qn.fillna(-1).astype("int64").to_numpy()
    akey = cl.keys(answer.fillna("")).to_numpy(dtype=object)
    code = pd.Series(lookup.reindex(pd.MultiIndex.from_arrays([ind_i, qn_i, akey]))
                     .to_numpy(dtype=object), index=clean.index, dtype="str").where(answered)
    options = _option_lists(ctx)
    pair = pd.Series(list(zip(ind_i, qn_i, strict=True)), index=clean.index)
    ctx.add(raw.problems(answered & code.isna(), "answer", "unknown_answer", lambda m: (
        "not an option of question " + ind[m].astype("str") + "." + qn[m].astype("str")
        + "; choose one of: " + pair[m].map(options).astype("str")
        + " (or leave it blank: not answered)")))
    value = o.set_index(["indicator", "question", "option"])["points"]
    option_pts = pd.Series(value.reindex(pd.MultiIndex.from_arrays([
        ind_i, qn_i, code.fillna("").to_numpy(dtype=object)])).to_numpy(dtype="float64"),
        index=clean.index).where(code.notna())
    off = code.notna() & pts.notna() & ((pts - option_pts).abs() > 0.005)
    ctx.add(raw.problems(off, "points_claimed", "points_mismatch", lambda m: (
        "the answer " + code[m] + " of question " + ind[m].astype("str") + "."
        + qn[m].astype("str") + " is worth " + option_pts[m].round(2).map("{:g}".format)
        + " points (an assumption of this package; `kla template` lists every option's "
        "points): write that or leave the cell blank")))
    lonely = ok & ~_has_value(raw, "answer", ctx) & pts.notna()
    ctx.add(raw.problems(lonely, "answer", "missing_value", lambda m: (
        "the points are filled in but the answer is blank: choose one of "
        + pair[m].map(options).astype("str") + ", or clear the points")))
    _duplicates(raw, clean.assign(indicator=ind.where(ok), question=qn.where(ok)),
                ["city", "year", "indicator", "question"], "question", ctx)
    return pd.DataFrame({"city": clean["city"], "year": clean["year"], "indicator": ind,
                         "question": qn, "answer": code, "points": option_pts},
                        index=clean.index)[ok]


def _both_levels(raw: Raw, clean: pd.DataFrame, asked: pd.Series, ctx: Context) -> None:
    """An indicator given as one row with its points and also question by question (same
    city and year): the indicator-level row is reported, pointing at the question rows."""
    keys = ["city", "year", "indicator"]
    full = clean[keys].notna().all(axis=1)
    if not (full & asked).any() or not (full & ~asked).any():
        return
    order = pd.Series(_source_order(raw), index=raw.cells.index)
    qrows = clean.loc[full & asked, keys]
    qrows = qrows.loc[order[qrows.index].sort_values(kind="stable").index]
    first = qrows.groupby(keys, sort=False).head(1)
    first = first.assign(_at=first.index)
    level = clean.loc[full & ~asked, keys]
    both = level.reset_index(names="_row").merge(first, on=keys)
    if both.empty:
        return
    mask = pd.Series(False, index=clean.index)
    mask[both["_row"].to_numpy()] = True
    at = both["_at"].to_numpy()
    where = (cl.as_text(raw.cells["source_file"]).to_numpy()[at].astype(str) + " row "
             + raw.cells["source_row"].to_numpy()[at].astype(str))
    hint = pd.Series("", index=clean.index, dtype="str")
    hint[both["_row"].to_numpy()] = (
        both["city"].astype("str") + " " + both["year"].astype("str") + ": indicator "
        + both["indicator"].astype("str") + " is also given question by question (from "
        + where + "); keep either this row (points per indicator) or the question rows"
    ).to_numpy()
    ctx.add(raw.problems(mask, "indicator", "indicator_and_questions", hint))


def _indicator_totals(raw: Raw, answers: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Question rows summed per indicator: ``points_claimed`` (the answered options' points),
    ``questions_answered``, ``questions_total`` (the catalog's questions of the indicator),
    indexed by the indicator's first question row (its provenance)."""
    keys = ["city", "year", "indicator"]
    order = pd.Series(_source_order(raw), index=raw.cells.index)
    srt = answers.loc[order[answers.index].sort_values(kind="stable").index]
    first = srt.groupby(keys, sort=False).head(1)[keys]
    sums = srt.groupby(keys, sort=False).agg(points_claimed=("points", "sum"),
                                             questions_answered=("answer", "count"))
    out = first.join(sums, on=keys)
    total = ctx.questions.groupby("indicator").size()
    # a sum of 2-decimal points, without the float noise of adding them (19.17 + 19.16)
    return out.assign(points_claimed=out["points_claimed"].round(6),
                      questions_answered=out["questions_answered"].astype("Int64"),
                      questions_total=out["indicator"].map(total).astype("Int64"))


def _block_maximum(raw: Raw, sa: pd.DataFrame, ctx: Context) -> None:
    """A city/year's claims in one block (catalog ``cluster``) above the block's maximum on
    the claims scale: one problem at the block's first row."""
    cat = ctx.catalog.set_index("indicator")
    block = sa["indicator"].map(cat["cluster"]).astype("str")
    limit = ctx.catalog.groupby("cluster")["claims_max_points"].sum()
    df = sa.assign(_b=block, _o=_source_order(raw)[sa.index.to_numpy()]).dropna(
        subset=["city", "year", "_b", "points_claimed"])
    # an indicator given twice is reported already (duplicate_key, indicator_and_questions):
    # its first row counts here
    df = df.sort_values("_o", kind="stable").drop_duplicates(["city", "year", "indicator"])
    if df.empty:
        return
    sums = df.groupby(["city", "year", "_b"])["points_claimed"].sum()
    over = sums[sums > sums.index.get_level_values("_b").map(limit).to_numpy() + 0.005]
    if over.empty:
        return
    from ..catalog import load_clusters  # only when a block is over its maximum

    names = load_clusters().set_index("cluster")["name_id"]
    scale = ctx.catalog.attrs.get("claims_scale") or "claims scale"
    spec = ctx.specs.datasets["self_assessment"].fields["points_claimed"]
    for (city, year, b), total in over.items():
        grp = df[(df["city"] == city) & (df["year"] == year) & (df["_b"] == b)]
        row = grp["_o"].idxmin()
        members = ", ".join(map(str, sorted(grp["indicator"].astype(int))))
        column = raw.headers[raw.cells.at[row, "_seg"]].get("points_claimed") or spec.header
        ctx.add(problem(
            raw.cells.at[row, "source_file"], raw.cells.at[row, "source_sheet"],
            int(raw.cells.at[row, "source_row"]), column, "above_block_maximum",
            f"{total:g}",
            f"{city} {year}: the claims of block {b} ({names.get(b, b)}; indicators "
            f"{members}) add up to {total:g}, above the block's maximum {limit[b]:g} "
            f"({scale}; the block maxima are what the source shows, the split over "
            "indicators an assumption): lower the points of its indicators"))


def _self_assessment(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Indicator-level rows (points per indicator) and question-level rows (one per
    question: its answer, optionally its points), summed to one row per indicator; the
    answers go to ``ctx.extra["self_assessment_answers"]``."""
    cat = ctx.catalog.set_index("indicator")
    # a row naming a question or giving an answer is question-level; any other row gives
    # the indicator's points
    numbered = _has_value(raw, "question", ctx)
    asked = numbered | _has_value(raw, "answer", ctx)
    level = ~asked
    # claims are written on the application's scale (the folder's claims scale)
    maxp = clean["indicator"].map(cat["claims_max_points"]).astype("float64")
    over = level & (clean["points_claimed"] > maxp)
    hint = ("indicator " + clean["indicator"].astype("str") + " allows 0-"
            + maxp.map("{:g}".format, na_action="ignore").astype("str")
            + f" points (maximum of weight set {ctx.catalog.attrs.get('claims_scale', '')}"
            + np.where(
                clean["indicator"].map(cat["max_points_assumed"]).astype("boolean")
                .fillna(False).to_numpy(bool),
                ", an assumption", "")
            + f"; a folder on other weights says so with weights: in {ctx.settings_file})")
    ctx.add(raw.problems(over, "points_claimed", "out_of_range", pd.Series(hint, clean.index)))
    question = ctx.specs.datasets["self_assessment"].fields["question"]
    found = raw.problems(asked & ~numbered, "question", "missing_value", (
        f"an answer is given: write the number of the question it answers ({question.header})"
        ", or clear the answer for a row with the indicator's points"))
    if found is not None:
        found["column"] = found["column"].where(found["column"] != "", question.header)
    ctx.add(found)
    _duplicates(raw, clean.assign(indicator=clean["indicator"].where(level)),
                ["city", "year", "indicator"], "indicator", ctx)
    answers = _question_rows(raw, clean, asked, ctx)
    _both_levels(raw, clean, asked, ctx)
    # every indicator must be scored once per city and year (either level)
    have = clean.dropna(subset=["city", "year", "indicator"])
    if len(have):
        order = pd.Series(_source_order(raw), index=raw.cells.index)
        first = have.loc[order[have.index].sort_values(kind="stable").index].groupby(
            ["city", "year"]).head(1)
        got = have.groupby(["city", "year"])["indicator"].agg(set)
        for (city, year), inds in got.items():
            lack = sorted(set(ctx.catalog["indicator"]) - inds)
            if lack:
                row = first[(first["city"] == city) & (first["year"] == year)].index[0]
                ctx.add(problem(raw.cells.at[row, "source_file"], raw.cells.at[row, "source_sheet"],
                                None, raw.headers[raw.cells.at[row, "_seg"]].get("indicator", ""),
                                "missing_indicator", ", ".join(map(str, lack)),
                                f"{city} {year}: every indicator needs a row (0 if not met), "
                                "or its question rows"))
    ctx.extra["self_assessment_answers"] = answers
    cols = ["city", "year", "indicator", "points_claimed"]
    out = pd.concat([
        clean.loc[level, cols].assign(questions_answered=pd.NA, questions_total=pd.NA),
        _indicator_totals(raw, answers, ctx)])
    out = out.assign(points_claimed=out["points_claimed"].astype("float64"),
                     questions_answered=out["questions_answered"].astype("Int64"),
                     questions_total=out["questions_total"].astype("Int64"))
    _block_maximum(raw, out, ctx)
    return out


def _evidence(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    req = ctx.evidence_items.set_index("item")
    owner = clean["item"].map(req["indicator"]).astype("Int64")
    unknown = clean["item"].notna() & owner.isna()
    prefix = clean["item"].str.extract(r"^(\d+)\.")[0].astype("Int64")
    known_by = ctx.evidence_items.groupby("indicator")["item"].agg(", ".join)
    hint = ("not in the catalog's evidence list; items of indicator " + prefix.astype("str")
            + ": " + prefix.map(known_by).fillna("none").astype("str"))
    ctx.add(raw.problems(unknown, "item", "unknown_item", hint))
    given = clean["indicator"].astype("Int64")
    mismatch = given.notna() & owner.notna() & (given != owner)
    ctx.add(raw.problems(mismatch, "indicator", "item_indicator_mismatch",
                         "item " + clean["item"].fillna("") + " belongs to indicator "
                         + owner.astype("str").fillna("")))
    no_doc = (clean["status"] == "ada") & clean["title"].isna() & clean["link"].isna()
    for cause in ("title", "link"):  # an error cell there is already reported: root cause
        if cause in raw.reported:
            no_doc &= ~raw.reported[cause].reindex(no_doc.index, fill_value=False)
    ctx.add(raw.problems(no_doc, "status", "missing_document",
                         "status 'ada' needs the document title or its link / file name"))
    clean = clean.assign(indicator=given.fillna(owner).astype("Int64"))
    # the question a document backs, if named: one of its indicator's questions
    qn = clean["question"].astype("Int64")
    wrong = qn.notna() & clean["indicator"].notna() & ~_known_questions(
        clean["indicator"], qn, ctx)
    if wrong.any():
        qs = ctx.questions.assign(item=ctx.questions["evidence"].str.split("; ")).explode("item")
        asks = qs.groupby("item")["question"].agg(lambda s: ", ".join(map(str, s)))
        base = _question_hint(clean["indicator"], ctx)
        ctx.add(raw.problems(wrong, "question", "unknown_question", lambda m: (
            base(m) + "; item " + clean.loc[m, "item"].astype("str") + " is expected by "
            "question " + clean.loc[m, "item"].map(asks).astype("str").fillna("none"))))
    clean = clean.assign(question=qn)
    clean = _evidence_dates(raw, clean, ctx)
    _duplicates(raw, clean, ["city", "year", "item"], "item", ctx)
    return clean


def _evidence_dates(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Document dates against the evaluation round: in the future or after the round's
    deadline is a problem; before the item's validity window the item counts as
    ``kedaluwarsa`` (``data/evidence_dates.yaml``), listed as a notice."""
    rules = ctx.evidence_dates
    when = pd.to_datetime(clean["document_date"])
    year = pd.to_numeric(clean["year"], errors="coerce")
    dated = when.notna() & year.notna()
    if not dated.any():
        return clean
    future = dated & (when > ctx.today)
    ctx.add(raw.problems(future, "document_date", "future_date",
                         f"the document is dated after today ({ctx.today:%Y-%m-%d}); "
                         "write the date it was signed or published"))
    month, day = rules["deadline"]
    deadline = pd.to_datetime(pd.DataFrame({"year": year.fillna(2000).astype(int),
                                            "month": month, "day": day}))
    late = dated & ~future & (when > deadline)
    ctx.add(raw.problems(late, "document_date", "after_deadline", (
        f"dated after the round's deadline ({day} {_MONTHS[month - 1]} of the evaluation "
        "year, an assumption of this package): the evaluators cannot have seen it; "
        "check the date or the evaluation year (Tahun) of the row")))
    items = clean["item"].astype("str")
    years = items.map(rules["items"]).fillna(rules["default_years"])
    start = pd.to_datetime(pd.DataFrame({"year": (year.fillna(2000) - years).astype(int),
                                         "month": 1, "day": 1}))
    current = clean["status"].isin(["ada", "dalam_proses"])
    expired = (dated & current & (when < start) & ~items.isin(rules["no_expiry"])
               ).fillna(False).astype(bool)
    if expired.any():
        rows = clean[expired]
        shown = [f"{i} ({d:%Y-%m-%d}, {int(y)})" for i, d, y in zip(
            rows["item"], when[expired], year[expired], strict=True)]
        more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        ctx.notices.append(f"{len(shown)} data dukung dated before its validity window "
                           "counted as kedaluwarsa (validity windows: assumptions of this "
                           "package): "
                           + ", ".join(shown[:5]) + more)
        clean = clean.assign(status=clean["status"].where(~expired, "kedaluwarsa"))
    return clean


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]


_text = cl.as_text


def _statistics(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Measures, units, percentages and areas; text columns arrive as categoricals (millions
    of rows at national scale), so comparisons go through ``str`` and hints are computed for
    failing rows only."""
    spec = ctx.specs.datasets["statistics"]
    measures = spec.measures
    # measure: code or one of its names (long layout), fixed per column group (wide layout)
    lookup = cl.choice_lookup((m, n) for m, ms in measures.items() for n in (m, *ms.names))

    def to_measure(u: pd.Series) -> pd.DataFrame:
        k = cl.choice_key(u.astype("str"))
        m = k.map(lookup).astype("str")
        near = pd.Series(np.nan, index=u.index, dtype="str")
        bad = u.notna() & m.isna()
        if bad.any():
            hint = {q: lookup.get(x) for q, x in cl.closest(k[bad].unique(), lookup).items()}
            near[bad] = k[bad].map(hint)
        return pd.DataFrame({"measure": m, "unknown": bad, "closest": near})

    res = cl.on_uniques(clean["measure"], to_measure, categorical=True)
    measure = res["measure"]
    ctx.add(raw.problems(res["unknown"], "measure", "unknown_measure", lambda m: (
        "closest known: " + _text(res.loc[m, "closest"]).fillna("none"))))
    mu = _text(measure.map({m: ms.unit for m, ms in measures.items()}))
    unit = _text(clean["unit"])
    wrong_unit = unit.notna() & mu.notna() & (unit != mu)
    ctx.add(raw.problems(wrong_unit, "unit", "unit_mismatch",
                         lambda m: "this measure is a " + mu[m]))
    indicator = measure.map({m: ms.indicator for m, ms in measures.items()}).astype(
        "float64").astype("Int64")

    value, num, den = clean["value"], clean["numerator"], clean["denominator"]
    pct = (mu == "percent").fillna(False).astype(bool)
    count = (mu == "count").fillna(False).astype(bool)
    computed = (100 * num / den).where(pct & den.gt(0))
    value = value.fillna(computed)
    above = num.notna() & den.notna() & (num > den)
    # only percentages as written: one computed from bad counts repeats the counts' problem
    ctx.add(raw.problems(pct & ~above & clean["value"].notna() & ((value < 0) | (value > 100)),
                         "value", "out_of_range", lambda m: (
                             "a percentage lies between 0 and 100; this cell reads as "
                             + value[m].map("{:g}".format))))
    ctx.add(raw.problems(count & (value < 0), "value", "out_of_range",
                         "a count cannot be negative"))
    ctx.add(raw.problems(count & value.notna() & (value != value.round()), "value",
                         "not_an_integer", "a count must be a whole number"))
    ctx.add(raw.problems(above, "numerator", "numerator_above_denominator", lambda m: (
        "the numerator (" + raw.header(m[m].index, "numerator")
        + ") cannot exceed the denominator (" + raw.header(m[m].index, "denominator") + ")")))
    off = ((clean["value"] - computed).abs() > ctx.specs.percent_tolerance) & (
        clean["value"] >= 0) & (clean["value"] <= 100)
    ctx.add(raw.problems(off & ~above, "value", "value_mismatch", lambda m: (
        "differs from 100 x numerator / denominator = " + computed[m].round(2).astype("str"))))

    # area: desa/kelurahan (with its kecamatan from the gazetteer), else kecamatan, else a
    # service area (puskesmas: its kecamatan), else the kabupaten/kota
    city = clean["city"]
    place = _places(raw, clean, ctx)
    has_kel, has_kec = clean["kelurahan"].notna(), clean["kecamatan"].notna()
    level = np.where(has_kel, VILLAGE, np.where(has_kec, KECAMATAN, REGION)).astype(object)
    kecamatan = _text(place["kecamatan"])
    area = _text(place["kelurahan"]).where(has_kel, kecamatan.where(has_kec, _text(city)))
    out = clean.assign(measure=measure, indicator=indicator, unit=mu, value=value,
                       kecamatan=kecamatan, area=area)
    out, level = _service_rows(raw, out, level, ctx)
    out = out.assign(area_level=pd.Categorical(level))
    _duplicates(raw, out, ["city", "data_year", "measure", "area_level", "kecamatan", "area"],
                "value", ctx)
    # rows the agency left blank ("-", "n/a", empty) carry no statistic
    keep = out["value"].notna() | out["numerator"].notna() | out["denominator"].notna()
    return out[keep].drop(columns=["service_area", "area_type"], errors="ignore")


def _places(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Kecamatan and desa/kelurahan of statistics or declarations rows matched to the
    gazetteer (:func:`kla_analysis.ingest.gazetteer.resolve_places`), every mismatch a
    problem: unknown names, a name of several desa without the kecamatan that tells them
    apart, a desa outside the written kecamatan, a ``Jenis`` the gazetteer contradicts."""
    gaz = ctx.gazetteer if ctx.gazetteer is not None else pd.DataFrame(
        columns=["city", "kecamatan", "kelurahan", "area_type"])
    city = clean["city"]
    res = resolve_places(city, clean["kecamatan"], clean["kelurahan"], gaz)
    ctx.add(raw.problems(pd.Series(res["kec_unknown"], index=clean.index), "kecamatan",
                         "unknown_kecamatan", lambda m: (
        "not in the gazetteer for " + _text(city[m]).fillna("?") + "; closest known: "
        + _text(res.loc[m, "kec_closest"]).fillna("none") + " (if it is the same place, add "
        "this spelling to its Varian Ejaan Kecamatan in raw/gazetteer/)")))
    ctx.add(raw.problems(pd.Series(res["kel_unknown"], index=clean.index), "kelurahan",
                         "unknown_kelurahan", lambda m: (
        "not in the gazetteer for " + _text(city[m]).fillna("?") + " (no desa/kelurahan of "
        "this name); closest known: " + _text(res.loc[m, "kel_closest"]).fillna("none")
        + " (if it is the same place, add this spelling to its variants in raw/gazetteer/)")))
    ctx.add(raw.problems(pd.Series(res["kel_ambiguous"], index=clean.index), "kelurahan",
                         "ambiguous_kelurahan", lambda m: (
        "there is a desa/kelurahan of this name in kecamatan " + _text(res.loc[m, "lies_in"])
        + " (raw/gazetteer/): add a Kecamatan column, or fill its cell, to say which")))
    ctx.add(raw.problems(pd.Series(res["mismatch"], index=clean.index), "kecamatan",
                         "kecamatan_mismatch", lambda m: (
        "desa/kelurahan " + _text(clean.loc[m, "kelurahan"]) + " lies in kecamatan "
        + _text(res.loc[m, "lies_in"]) + ", not in " + _text(clean.loc[m, "kecamatan"])
        + " (raw/gazetteer/): correct the " + raw.header(m[m].index, "kecamatan")
        + " or the " + raw.header(m[m].index, "kelurahan") + " cell")))
    given = _text(clean["area_type"]) if "area_type" in clean else pd.Series(
        pd.NA, index=clean.index, dtype="str")
    known = _text(res["area_type"])
    wrong = given.notna() & ((clean["kelurahan"].notna() & (given == KECAMATAN))
                             | (clean["kelurahan"].isna() & given.isin(["desa", "kelurahan"]))
                             | (known.notna() & given.isin(["desa", "kelurahan"])
                                & (given != known)))
    ctx.add(raw.problems(wrong.fillna(False), "area_type", "area_type_mismatch", lambda m: (
        "the row says " + given[m] + " but it names "
        + np.where(clean.loc[m, "kelurahan"].notna(), "the " + known[m].fillna("desa/kelurahan")
                   + " " + _text(res.loc[m, "kelurahan"]).fillna(
                       _text(clean.loc[m, "kelurahan"])), "a kecamatan only")
        + " (raw/gazetteer/): correct the cell or the place")))
    return res


def _service_rows(raw: Raw, out: pd.DataFrame, level: np.ndarray,
                  ctx: Context) -> tuple[pd.DataFrame, np.ndarray]:
    """Figures per puskesmas (or other service area) combined into their kecamatan.

    A row naming a service area but no desa/kelurahan belongs to the kecamatan the row names,
    else to the one the gazetteer (its Puskesmas column) or ``service_areas:`` of the folder's
    settings give; a service area of no known kecamatan, or of several, is a problem (never
    the kabupaten/kota figure). The rows of one kecamatan, measure and data year become one
    kecamatan row: counts add up; percentages are 100 x sum(numerator) / sum(denominator),
    which needs the counts of every row (one row that is the kecamatan's only service area
    is taken as it is). A kecamatan with a service area missing from the rows is a problem.
    The combined row keeps the first row's index (its provenance)."""
    if "service_area" not in out or not out["service_area"].notna().any():
        return out, level
    svc_col = raw.header(out.index, "service_area") != ""
    named = out["service_area"].notna()
    no_place = out["kelurahan"].isna() & out["kecamatan"].isna()
    # a table of service areas: every row names one (a kabupaten/kota figure goes elsewhere)
    blank = svc_col & ~named & out["kelurahan"].isna() & (level == REGION)
    header = raw.header(out.index, "service_area")
    ctx.add(raw.problems(blank, "service_area", "missing_value", lambda m: (
        "this table gives figures per " + header[m] + ": write the " + header[m]
        + " of the row (a kabupaten/kota figure goes in a table without a "
        + header[m] + " column)")))
    rows = named & out["kelurahan"].isna()
    if not rows.any():
        return out[~blank.to_numpy()], level[~blank.to_numpy()]
    service = ctx.service if ctx.service is not None else pd.DataFrame(
        columns=["city", "key", "kecamatan", "name", "source"])
    key = cl.name_key(out["service_area"])
    pairs = pd.DataFrame({"city": _text(out["city"]), "key": key}, index=out.index)
    owners = service.drop_duplicates(["city", "key", "kecamatan"]).groupby(
        ["city", "key"])["kecamatan"].agg(lambda s: "; ".join(sorted(set(s))))
    mapped = pairs.join(owners.rename("owners"), on=["city", "key"])["owners"].astype("str")
    several = mapped.str.contains("; ", regex=False).fillna(False)
    written = _text(out["kecamatan"])
    unknown = rows & no_place & mapped.isna()
    where = (f"a Puskesmas column in raw/gazetteer/ (the kecamatan of each puskesmas) or "
             f"service_areas: in {ctx.settings_file}")
    ctx.add(raw.problems(unknown, "service_area", "unknown_service_area", (
        "the kecamatan of this service area is not known, so its figure cannot be combined "
        f"(it is never read as the kabupaten/kota figure): add {where}, or a Kecamatan "
        "column")))
    spans = rows & no_place & several
    ctx.add(raw.problems(spans, "service_area", "unknown_service_area", lambda m: (
        "this service area serves kecamatan " + mapped[m] + ": its figure cannot be split "
        "between them; give the figure per kecamatan or per desa/kelurahan")))
    clash = rows & written.notna() & mapped.notna() & ~several & (mapped != written)
    ctx.add(raw.problems(clash, "kecamatan", "kecamatan_mismatch", lambda m: (
        "service area " + _text(out.loc[m, "service_area"]) + " belongs to kecamatan "
        + mapped[m] + " (" + where + "), not to " + written[m])))
    kec = written.where(written.notna(), mapped.where(~several))
    ok = rows & kec.notna() & ~clash
    drop = (rows & ~ok) | blank  # reported: not carried over
    grp = out[ok].assign(_kec=kec[ok], _key=key[ok], _o=_source_order(raw)[
        out.index[ok].to_numpy()])
    gkeys = ["city", "data_year", "measure", "_kec"]
    grp = grp.dropna(subset=["city", "data_year", "measure"]).sort_values("_o", kind="stable")
    value, num, den = out["value"].copy(), out["numerator"].copy(), out["denominator"].copy()
    level = level.copy()
    combined = pd.Series(False, index=out.index)
    served = service.drop_duplicates(["city", "key", "kecamatan"]).groupby(
        ["city", "kecamatan"])["key"].agg(set)
    names = dict(zip(service["key"], service["name"], strict=True))
    notes: dict[str, set] = {}
    for (c, y, m, k), g in grp.groupby(gkeys, sort=False, observed=True):
        first = g.index[0]
        pct = str(g["unit"].iloc[0]) == "percent"
        all_known = served.get((str(c), k))
        missing = sorted((all_known or set()) - set(g["_key"]))
        if missing:
            ctx.add(problem(raw.cells.at[first, "source_file"], raw.cells.at[first,
                            "source_sheet"], int(raw.cells.at[first, "source_row"]),
                            raw.header(pd.Index([first]), "service_area").iloc[0],
                            "incomplete_service_areas", str(g["service_area"].iloc[0]),
                            f"kecamatan {k} is served by " + ", ".join(sorted(
                                names.get(x, x) for x in all_known)) + f"; this table gives "
                            f"{m} {y} for " + ", ".join(sorted(set(_text(g['service_area']))))
                            + " only: add the missing rows, or give the kecamatan's own "
                            "figure"))
            drop[g.index] = True
            continue
        if pct and len(g) > 1 and (g["numerator"].isna().any() or g["denominator"].isna().any()):
            lack = g.index[(g["numerator"].isna() | g["denominator"].isna()).to_numpy()]
            ctx.add(raw.problems(pd.Series(out.index.isin(lack), index=out.index), "value",
                                 "service_area_without_counts", (
                f"kecamatan {k} has several service areas: their percentages can be combined "
                "only with their counts; give the numerator and denominator (e.g. 'Balita "
                "Stunting' and 'Balita Diukur') of every row")))
            drop[g.index] = True
            continue
        if pct and len(g) > 1:
            n, d = float(g["numerator"].sum()), float(g["denominator"].sum())
            num[first], den[first] = n, d
            value[first] = 100 * n / d if d > 0 else np.nan
        elif not pct:
            v = g["value"]
            value[first] = float(v.sum()) if v.notna().all() else np.nan
            if v.isna().any():
                ctx.add(raw.problems(pd.Series(out.index.isin(g.index[v.isna().to_numpy()]),
                                               index=out.index), "value", "missing_value", (
                    f"a count of kecamatan {k} is the sum of its service areas: every row "
                    "needs its value")))
                drop[g.index] = True
                continue
        level[out.index.get_loc(first)] = KECAMATAN
        combined[first] = True
        drop[g.index[1:]] = True
        notes.setdefault(str(raw.cells.at[first, "source_file"]), set()).add(k)
    for f, kecs in sorted(notes.items()):
        ctx.notices.append(f"{f}: figures per service area (puskesmas) combined into "
                           f"{len(kecs)} kecamatan ({', '.join(sorted(kecs)[:5])}"
                           + (" ..." if len(kecs) > 5 else "") + ")")
    out = out.assign(value=value, numerator=num, denominator=den,
                     kecamatan=_text(out["kecamatan"]).where(~combined, kec),
                     area=_text(out["area"]).where(~combined, kec))
    keep = ~drop.to_numpy()
    return out[keep], level[keep]


def _area_declarations(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The register of Kecamatan / Desa-Kelurahan Layak Anak declarations (block KD): areas
    checked against the gazetteer as statistics areas are, one row per city, year and area,
    a decree number for every declared area, decree dates neither in the future nor after
    the row's year. The statistics of indicators 25-26 are derived from the result
    (:mod:`kla_analysis.ingest.areas`)."""
    city = clean["city"]
    place = _places(raw, clean, ctx)
    kec_kec = _text(place["kecamatan"])
    has_kel = clean["kelurahan"].notna()
    level = areas.area_levels(clean["kelurahan"])
    kelurahan = _text(place["kelurahan"])
    # one row per city, year and area (a kecamatan row and a desa/kelurahan row are two
    # areas; two desa of one name in two kecamatan too)
    for lvl in ("kecamatan", "kelurahan"):
        mine = (has_kel if lvl == "kelurahan" else ~has_kel).to_numpy()
        keyed = pd.DataFrame({"city": city.where(mine), "year": clean["year"].where(mine),
                              "kecamatan": kec_kec.where(mine),
                              "kelurahan": kelurahan.where(mine)}, index=clean.index)
        _duplicates(raw, keyed, ["city", "year", "kecamatan", "kelurahan"] if lvl == "kelurahan"
                    else ["city", "year", "kecamatan"], lvl, ctx)
    # a declaration counts only with its decree (the SK is what evaluators verify)
    no_sk = (clean["declared"] == "ya").fillna(False) & clean["decree"].isna()
    if "decree" in raw.reported:  # an error cell there is already reported: root cause
        no_sk &= ~raw.reported["decree"].reindex(no_sk.index, fill_value=False)
    has_col = raw.header(clean.index, "decree") != ""
    ctx.add(raw.problems(no_sk & has_col, "decree", "missing_decree", (
        "the area is declared layak anak: write the number of its decree (SK), or set the "
        "status to 'tidak' if no decree was signed")))
    ctx.add(raw.problems(no_sk & ~has_col, "declared", "missing_decree", (
        "a declared area needs the number of its decree (SK): add a column 'Nomor SK', or "
        "set the status to 'tidak' if no decree was signed")))
    when = pd.to_datetime(clean["decree_date"])
    year = pd.to_numeric(clean["year"], errors="coerce")
    future = (when > ctx.today).fillna(False)
    ctx.add(raw.problems(future, "decree_date", "future_date", (
        f"the decree is dated after today ({ctx.today:%Y-%m-%d}); write the date it was "
        "signed")))
    late = (~future & when.notna() & year.notna() & (when.dt.year > year)).fillna(False)
    ctx.add(raw.problems(late, "decree_date", "decree_after_year", lambda m: (
        "the decree is dated in " + when[m].dt.year.astype("str") + ", after the year of the "
        "row (" + raw.header(m[m].index, "year") + ": " + year[m].astype("int64").astype("str")
        + "): an area counts as declared in a year only with a decree of that year or "
        "earlier; check the date or the year")))
    yes_no = {"ya": True, "tidak": False}
    return clean.assign(area_level=level, kecamatan=kec_kec, kelurahan=kelurahan,
                        declared=clean["declared"].map(yes_no),
                        patbm=clean["patbm"].map(yes_no)).drop(columns=["area_type"],
                                                               errors="ignore")


def _derived_clashes(raw: Raw, clean: pd.DataFrame, derived: pd.DataFrame,
                     ctx: Context) -> None:
    """A statistics row giving a city, data year and measure the declarations register
    gives too (indicators 25-26) is a ``duplicate_key`` problem naming both files."""
    if derived.empty or clean.empty:
        return
    hint = areas.derived_clash(clean["city"], clean["data_year"], clean["measure"], derived)
    mask = hint.notna().reindex(raw.cells.index, fill_value=False)
    ctx.add(raw.problems(mask, "measure", "duplicate_key",
                         hint.reindex(raw.cells.index).fillna("")))


def _with_derived(stats: pd.DataFrame, derived: pd.DataFrame) -> pd.DataFrame:
    """The statistics table with the derived rows of block KD, sorted as ``_finish`` sorts."""
    if derived.empty:
        return stats
    # text columns as the statistics table has them (categorical or not): ``_concat`` unions
    # the categories of categorical columns only
    cat = [c for c in derived.columns if isinstance(stats[c].dtype, pd.CategoricalDtype)]
    both = _concat([stats, derived.astype(dict.fromkeys(cat, "category"))])
    return both.sort_values([*SORT_KEYS["statistics"], *PROVENANCE], kind="stable",
                            na_position="first").reset_index(drop=True)


#: The count measure weighting area percentages without counts, unless the folder's
#: settings say another (``area_weights:``).
DEFAULT_AREA_WEIGHT = "child_population"


def _area_percentages(stats: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Region figures of percentages given only per area, without their counts.

    For each kabupaten/kota, data year and percentage measure with no region row and rows of
    one area level (kecamatan, else desa/kelurahan) of which some lack the numerator or the
    denominator (so the estimate cannot add them up): the region figure is the average of
    the area percentages weighted by a count measure of the same areas and data year
    (``area_weights:`` of the folder's settings; default ``child_population``), when every
    such area has a weight above 0; else a notice names the file and says why there is no
    region figure. Either way nothing happens silently. Returns the derived region rows
    (:data:`kla_analysis.ingest.areas.STAT_COLUMNS`; provenance: the first area row)."""
    empty = pd.DataFrame(columns=areas.STAT_COLUMNS)
    if stats.empty:
        return empty
    st = pd.DataFrame({c: cl.as_text(stats[c]) if c in ("city", "measure", "area_level",
                                                        "kecamatan", "area", "unit",
                                                        "source_file", "source_sheet")
                       else stats[c] for c in areas.STAT_COLUMNS})
    st = st.dropna(subset=["city", "data_year", "measure", "area_level"])
    key = ["city", "data_year", "measure"]
    pct = st[(st["unit"] == "percent") & st["area_level"].isin([KECAMATAN, VILLAGE])]
    if pct.empty:
        return empty
    # groups without a region row, at their coarsest area level, some row lacking a count:
    # found with group-bys, so only those (few) groups are looked at one by one
    regions = st.loc[st["area_level"] == REGION, key].drop_duplicates().assign(_r=True)
    pct = pct.merge(regions, on=key, how="left")
    pct = pct[pct["_r"].isna()]
    coarse = pct.assign(_k=pct["area_level"] == KECAMATAN).groupby(key)["_k"].transform("any")
    pct = pct[(pct["area_level"] == KECAMATAN) == coarse]
    lacking = (pct["numerator"].isna() | pct["denominator"].isna()).groupby(
        [pct[k] for k in key]).transform("any")
    pct = pct[lacking]
    if pct.empty:
        return empty
    wanted = set(ctx.region.area_weights.values()) | {DEFAULT_AREA_WEIGHT}
    weights = {k: g.drop_duplicates(["kecamatan", "area"]) for k, g in st[
        st["measure"].isin(wanted)].groupby(["city", "data_year", "measure", "area_level"])}
    rows, word = [], ctx.region.area_word
    missing: dict[tuple, list[int]] = {}  # (files, label, areas, weight, region) -> years
    for (c, y, m), g in pct.groupby(key, sort=True):
        lvl = str(g["area_level"].iloc[0])
        wm = ctx.region.area_weights.get(m, ctx.region.area_weights.get(
            "default", DEFAULT_AREA_WEIGHT))
        w = weights.get((c, y, wm, lvl))
        ind = g["indicator"].dropna()
        label = f"{m}" + (f" (indicator {int(ind.iloc[0])})" if len(ind) else "")
        where = ", ".join(sorted(set(g["source_file"])))
        areas_word = "kecamatan" if lvl == KECAMATAN else word or (
            "kelurahan" if _region_word(ctx, c) == "kota" else "desa/kelurahan")
        usable = False
        if w is not None:  # a weight for every area, above 0
            g = g.sort_values(["source_file", "source_row"], kind="stable")
            weight = g[["kecamatan", "area"]].merge(w[["kecamatan", "area", "value"]],
                                                    on=["kecamatan", "area"],
                                                    how="left")["value"]
            usable = weight.notna().all() and (weight.to_numpy(dtype=float) > 0).all()
        if not usable:
            missing.setdefault((where, label, c, areas_word, wm, _region_word(ctx, c)),
                               []).append(int(y))
            continue
        v = g["value"].to_numpy(dtype=float)
        wt = weight.to_numpy(dtype=float)
        total = float((v * wt).sum() / wt.sum())
        n_all = _area_count(ctx, c, lvl)
        first = g.iloc[0]
        rows.append({"city": c, "data_year": int(y), "indicator": first["indicator"],
                     "measure": m, "area_level": REGION, "kecamatan": pd.NA, "area": c,
                     "value": total, "numerator": np.nan, "denominator": np.nan,
                     "unit": "percent", "source_file": first["source_file"],
                     "source_sheet": first["source_sheet"] or "",
                     "source_row": int(first["source_row"])})
        ctx.notices.append(
            f"{where}: {label}, {c}, data year {int(y)}: {len(g)}"
            + (f" of {n_all}" if n_all else "") + f" {areas_word} give percentages without "
            f"their counts; the {_region_word(ctx, c)} figure {total:.2f}% is their average "
            f"weighted by {wm} of the same {areas_word} (an estimate; give the counts for the "
            "exact figure)")
    for (where, label, c, areas_word, wm, region), years in missing.items():
        ctx.notices.append(
            f"{where}: {label}, {c}, data year{'s' if len(years) > 1 else ''} "
            f"{', '.join(map(str, years))}: the {areas_word} "
            "figures are percentages without their numerator and denominator, so no "
            f"{region} figure can be built from them and the indicator has no statistic "
            f"for {'that year' if len(years) == 1 else 'those years'}; give the counts, a "
            f"row for the {region} as a whole, or {wm} per {areas_word} to weight them "
            f"(another weight: area_weights: in {ctx.settings_file})")
    if not rows:
        return empty
    out = pd.DataFrame(rows)
    return out.astype({"city": "str", "measure": "str", "area_level": "str", "area": "str",
                       "unit": "str", "source_file": "str", "source_sheet": "str",
                       "data_year": "int64", "source_row": "int64",
                       "indicator": "Int64"})[areas.STAT_COLUMNS]


def _region_word(ctx: Context, city: str) -> str:
    """``kabupaten`` or ``kota`` for a region's name, else ``kabupaten/kota``."""
    from ..region import region_type

    return region_type(city) or "kabupaten/kota"


def _area_count(ctx: Context, city: str, level: str) -> int | None:
    gaz = ctx.gazetteer
    if gaz is None or gaz.empty:
        return None
    g = gaz[cl.as_text(gaz["city"]) == city]
    cols = ["kecamatan"] if level == KECAMATAN else ["kecamatan", "kelurahan"]
    return int(g[cols].drop_duplicates().shape[0]) or None


FINISH: dict[str, Callable] = {
    "area_declarations": _area_declarations,
    "gazetteer": _gazetteer, "official_results": _official,
    "self_assessment": _self_assessment, "evidence": _evidence, "statistics": _statistics,
}


def _typed(df: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Columns cast to the contract types (categoricals expanded to text quickly)."""
    out = {}
    for c, dtype in dtypes.items():
        s = df[c]
        out[c] = cl.as_text(s) if dtype == "str" else s.astype(dtype)
    return pd.DataFrame(out, index=df.index)


def _check_default_city(ctx: Context, spec: DatasetSpec) -> None:
    """The gazetteer must not be empty and must know the region of the folder's settings."""
    if ctx.gazetteer.empty:
        if ctx.paths.raw.is_dir():
            ctx.add(problem(spec.folder + "/", rule="no_data", hint="the gazetteer is empty: "
                            "add a file with Kabupaten/Kota, Kecamatan, Desa/Kelurahan "
                            "columns"))
        return
    if ctx.city:
        res = resolve_cities(pd.Series([ctx.city["city"]]),
                             ctx.gazetteer["city"].drop_duplicates())
        if res["unknown"].iloc[0]:
            key = "region" if ctx.region.file == "kla.yaml" and "region" in {
                k[0] for k in ctx.region.lines} else "city"
            ctx.add(problem(ctx.region.file or "kla.yaml", row=ctx.region.line(key),
                            column=key, rule="unknown_city", value=ctx.city["city"],
                            hint="not in the gazetteer (raw/gazetteer/); closest known: "
                            f"{res['closest'].iloc[0]}; correct {key}: in "
                            f"{ctx.settings_file} or the gazetteer"))
        else:
            ctx.city["city"] = res["city"].iloc[0]


def _check_region_names(ctx: Context) -> None:
    """The names the folder's settings use that the package defines: OPD roles and the
    measures of ``area_weights``."""
    reg = ctx.region
    if reg.opd:
        roles = {r.strip() for v in ctx.catalog["opd"].dropna() for r in str(v).split(";")}
        roles |= {r.strip() for v in ctx.questions["opd"].dropna() for r in str(v).split(";")}
        roles.discard("")
        for role in reg.opd:
            if role not in roles:
                near = cl.closest([role], roles).get(role)
                ctx.add(reg.problem(("opd", role), role, (
                    f"not an OPD role of the catalog (closest: {near or 'none'}); the roles: "
                    + ", ".join(sorted(roles)) + f" (`kla catalog` lists them); fix opd: in "
                    f"{ctx.settings_file}")))
    measures = ctx.specs.datasets["statistics"].measures
    for m, w in reg.area_weights.items():
        if m != "default" and m not in measures:
            ctx.add(reg.problem(("area_weights", m), m, (
                f"not a measure (or default); measures: {', '.join(sorted(measures))}")))
        if w not in measures or measures[w].unit != "count":
            counts = sorted(k for k, v in measures.items() if v.unit == "count")
            ctx.add(reg.problem(("area_weights", m), w, (
                f"the weight must be a count measure, e.g. {', '.join(counts[:6])}")))


def _folder_weights(paths: ProjectPaths):
    """The folder's weight set, or the default when the settings' ``weights`` is unusable
    (``check_region`` reports that as a problem, so validation goes on)."""
    try:
        return folder_weights(paths.raw)
    except KlaError:
        return None


def _region(paths: ProjectPaths) -> tuple[Region, dict | None, list[dict]]:
    """The folder's settings, its default region (``{"city", "province"}`` or None) and the
    problems of the settings file."""
    region, problems = check_region(paths.raw)
    city = None
    if region.name is not None and not any(p["hint"].startswith("not valid YAML")
                                           for p in problems):
        city = {"city": region.name, "province": region.province}
    return region, city, problems


def validate_data(paths: ProjectPaths | None = None,
                  catalog: pd.DataFrame | None = None) -> Validation:
    """Read and check every raw file; return processed tables and all problems (one pass)."""
    paths = paths or project_paths()
    region, city, region_problems = _region(paths)
    specs, spec_problems = region_specs(region)  # the folder's own headers and measures
    ctx = Context(specs=specs, paths=paths, city=city, region=region,
                  # claims are checked on the folder's own scale (weights: in kla.yaml)
                  catalog=catalog if catalog is not None
                  else load_catalog(_folder_weights(paths)),
                  evidence_items=load_evidence_requirements(),
                  evidence_dates=evidence_date_rules())
    # option points on the folder's claims scale
    ctx.questions, ctx.options = on_scale(*load_question_catalog(), ctx.catalog)
    ctx.add(region_problems)
    ctx.add(spec_problems)
    _check_region_names(ctx)
    if not paths.raw.is_dir():
        ctx.add(problem(str(paths.raw), rule="unreadable_file",
                        hint="the raw data folder does not exist; see data/raw/README.md"))
    tables = {}
    derived = pd.DataFrame(columns=areas.STAT_COLUMNS)  # from the declarations, below
    for name in ORDER:
        spec = specs.datasets[name]
        raw = load_raw(spec, ctx)
        if raw.cells.empty:  # nothing delivered for this dataset: an empty table
            done = pd.DataFrame({c: pd.Series(dtype=DTYPES[name].get(c, "str"))
                                 for c in [*COLUMNS[name], "variants", "kecamatan_variants"]})
        else:
            done = FINISH[name](raw, parse_fields(raw, spec, ctx), ctx)
            if name == "statistics":  # a statistic the declarations give too
                _derived_clashes(raw, done, derived, ctx)
        tables[name] = _finish(name, done, raw)
        for extra in (e for e, of in EXTRA_TABLES.items() if of == name):
            rows = ctx.extra.pop(extra, None)  # none (e.g. no question-level file): empty
            tables[extra] = (_finish(extra, rows, raw) if rows is not None and len(rows)
                             else pd.DataFrame({c: pd.Series(dtype=DTYPES[extra][c])
                                                for c in [*COLUMNS[extra], *PROVENANCE]}))
        if name == "gazetteer":
            ctx.gazetteer = done
            _check_default_city(ctx, spec)
            _service_areas(ctx)
        if name == "area_declarations":  # indicators 25-26 (block KD)
            derived = areas.declaration_shares(tables[name], ctx.gazetteer, {
                m: ms.indicator for m, ms in specs.datasets["statistics"].measures.items()})
    tables["statistics"] = _with_derived(tables["statistics"], derived)
    tables["statistics"] = _with_derived(tables["statistics"],
                                         _area_percentages(tables["statistics"], ctx))
    problems = _root_causes(_one_per_cell(problems_frame(
        pd.concat(ctx.problems, ignore_index=True) if ctx.problems else None)))
    if problems.empty:
        tables = {name: _typed(df, DTYPES[name]) for name, df in tables.items()}
    return Validation(tables=tables, problems=problems, files=sorted(ctx.files),
                      notices=ctx.notices)


#: Problems that stop a whole file, table or column from being read: listed first, since
#: fixing them often clears the problems listed after them.
ROOT_RULES = ("invalid_config", "outside_data_folder", "unreadable_file", "file_too_large",
              "password_protected", "unsupported_file", "empty_file", "no_header",
              "unknown_column", "duplicate_column", "missing_column")
#: Problems an unknown column may cause in its own table (a place, year or key it held is
#: missing): not listed while the table has an unknown column, but counted in its hint.
FOLLOW_ON = ("duplicate_key", "missing_value", "missing_indicator", "missing_document",
             "missing_decree", "ambiguous_kelurahan", "area_type_mismatch",
             "unknown_service_area",
             "incomplete_service_areas", "service_area_without_counts", "no_data")


def _root_causes(problems: pd.DataFrame) -> pd.DataFrame:
    """Root causes first: the problems of :data:`ROOT_RULES` lead (in that order, then file
    order), and in a table (file and sheet) with an unknown column the problems it may cause
    (:data:`FOLLOW_ON`: duplicate keys of rows whose place was in that column, values
    missing...) are not listed; the unknown column's hint says how many were held back."""
    if problems.empty:
        return problems
    unknown = problems[problems["rule"] == "unknown_column"]
    if len(unknown):
        table = list(zip(problems["file"], problems["sheet"], strict=True))
        with_unknown = set(zip(unknown["file"], unknown["sheet"], strict=True))
        held = pd.Series([t in with_unknown for t in table], index=problems.index) & \
            problems["rule"].isin(FOLLOW_ON)
        if held.any():
            counts = problems[held].groupby(["file", "sheet"])["rule"].agg(
                lambda r: ", ".join(f"{n} {k}" for k, n in r.value_counts().items()))
            first = unknown.drop_duplicates(["file", "sheet"]).index
            for i in first:
                key = (problems.at[i, "file"], problems.at[i, "sheet"])
                if key in counts.index:
                    problems.at[i, "hint"] = (
                        f"{problems.at[i, 'hint']}. Not listed until the column is known: "
                        f"{counts[key]} in this table, which may come from it; run `kla "
                        "validate` again after fixing it")
            problems = problems[~held]
    rank = problems["rule"].map({r: i for i, r in enumerate(ROOT_RULES)}).fillna(
        len(ROOT_RULES))
    order = np.lexsort((np.arange(len(problems)), rank.to_numpy()))
    return problems.iloc[order].reset_index(drop=True)


def _one_per_cell(problems: pd.DataFrame) -> pd.DataFrame:
    """One problem per cause and cell: exact repeats go, and a control character found by
    the CSV reader (``control_character``, raw bytes) and again in the parsed cell
    (``unsafe_character``) is one problem (the reader's is kept)."""
    key = ["file", "sheet", "row", "column"]
    # a wide statistics table repeats each row once per measure: a bad shared cell (area,
    # year) would otherwise be listed once per measure
    problems = problems.drop_duplicates([*key, "rule", "value"]).reset_index(drop=True)
    seen = problems.loc[problems["rule"] == "control_character", key]
    if seen.empty:
        return problems
    twice = problems[key].apply(tuple, axis=1).isin(set(seen.apply(tuple, axis=1)))
    return problems[~(twice & (problems["rule"] == "unsafe_character"))].reset_index(drop=True)


def read_reference(paths: ProjectPaths | None = None) -> tuple[dict | None, pd.DataFrame,
                                                             pd.DataFrame]:
    """Default region (raw/kla.yaml or raw/city.yaml), gazetteer (``city, kecamatan,
    kelurahan, area_type``) and the problems found in those two alone (used by the template
    writer)."""
    paths = paths or project_paths()
    region, city, region_problems = _region(paths)
    specs, spec_problems = region_specs(region)
    ctx = Context(specs=specs, paths=paths, city=city, region=region, catalog=load_catalog(),
                  evidence_items=load_evidence_requirements())
    ctx.add(region_problems)
    ctx.add([p for p in spec_problems if ".gazetteer" in f".{p['column']}"])
    spec = specs.datasets["gazetteer"]
    raw = load_raw(spec, ctx)
    ctx.gazetteer = _gazetteer(raw, parse_fields(raw, spec, ctx), ctx)
    _check_default_city(ctx, spec)
    gaz = _finish("gazetteer", ctx.gazetteer, raw)[COLUMNS["gazetteer"]]
    problems = _root_causes(problems_frame(pd.concat(ctx.problems, ignore_index=True)
                                           if ctx.problems else None))
    return ctx.city, gaz, problems


def check_data(paths: ProjectPaths | None = None,
               catalog: pd.DataFrame | None = None) -> Validation:
    """:func:`validate_data`, raising :class:`InputProblems` when anything is wrong."""
    result = validate_data(paths, catalog)
    if not result.ok:
        raise problems_error(result.problems)
    return result


def problems_error(problems: pd.DataFrame) -> InputProblems:
    """The exception for a problems table (``row`` passed as object: ``problems_frame`` is
    applied again inside ``InputProblems`` and cannot re-read a nullable-integer column)."""
    return InputProblems(problems.astype({"row": object}))
