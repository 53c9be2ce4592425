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
out_of_range, unknown_city, unknown_kecamatan, unknown_kelurahan, kecamatan_mismatch,
unknown_indicator, unknown_item, item_indicator_mismatch, missing_document, missing_indicator,
unknown_question, unknown_answer, points_mismatch, indicator_and_questions,
above_block_maximum,
unknown_measure, unit_mismatch, numerator_above_denominator, value_mismatch, duplicate_key,
ambiguous_variant, future_date, after_deadline, missing_decree, decree_after_year,
excel_error, wrong_cell_type,
unsafe_character; from the readers: outside_table, control_character; before a file is read (:mod:`kla_analysis.guards`): outside_data_folder,
file_too_large, password_protected, formula_without_value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..catalog import folder_weights, load_bands, load_catalog, load_evidence_requirements
from ..chars import REFUSED
from ..config import ProjectPaths, package_file, project_paths
from ..errors import InputProblems, KlaError, problems_frame
from ..questions import load_question_catalog, on_scale
from ..yamlfile import read_yaml
from . import areas
from . import cleaning as cl
from .gazetteer import (
    kecamatan_lookup,
    kelurahan_lookup,
    read_city_config,
    resolve_cities,
    resolve_names,
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
from .specs import MEASURE_PREFIX, DatasetSpec, Specs, load_specs

PROVENANCE = ["source_file", "source_sheet", "source_row"]
ORDER = ["gazetteer", "area_declarations", "official_results", "self_assessment", "evidence",
         "statistics"]

# Processed columns per table (docs/data-contracts.md), provenance appended.
COLUMNS = {
    "gazetteer": ["city", "kecamatan", "kelurahan"],
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
    "gazetteer": {"city": "str", "kecamatan": "str", "kelurahan": "str", **_P},
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
                            "", f"add a column '{f.header}', or {others} (a row per "
                            "question)"))
            ok = False
        elif f.required or f.default:
            hint = (f"add a column '{f.header}'"
                    + (" or write 'Tahun YYYY' in the title rows" if f.from_title else "")
                    + (" or set it in raw/city.yaml" if f.default else ""))
            ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, f.header, "missing_column",
                            "", hint))
            ok = False
    if spec.name == "statistics" and "measure" not in tbl.headers and not any(
            c.startswith(MEASURE_PREFIX) for c in tbl.headers):
        ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, "Ukuran", "missing_column", "",
                        "no measure recognised: add an 'Ukuran' column (long layout) or "
                        "measure columns known in datasets.yaml (wide layout)"))
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
                            + " (or add it to kla_analysis/data/datasets.yaml)"))
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
            """Blank cells take the default of raw/city.yaml (city, province)."""
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
                f"{f.header} must be filled in, unless the row gives {others} (a row per "
                "question)"))
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
                "indicator: kla_analysis/data/questions.yaml, `kla template`)")))
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
    order = _source_order(raw)
    srt = np.lexsort((order, codes))
    grp = codes[srt]
    start = np.r_[True, grp[1:] != grp[:-1]] if len(grp) else np.zeros(0, dtype=bool)
    first_of = np.zeros(codes.max() + 1 if len(codes) else 0, dtype="int64")
    first_of[grp[start]] = srt[start]
    first = first_of[codes]
    dup = full & (np.arange(len(codes)) != first)
    if not dup.any():
        return
    at = first[dup]
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


def _gazetteer(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    kel = cl.name_key(clean["kelurahan"])
    keyed = pd.DataFrame({"city": clean["city"], "key": kel})
    _duplicates(raw, keyed, ["city", "key"], "kelurahan", ctx)
    # a variant must not name another kelurahan of the same city
    var = split_variants(clean["variants"])
    if len(var):
        vk = pd.DataFrame({"city": clean.loc[var.index, "city"].to_numpy(),
                           "key": cl.name_key(var).to_numpy(),
                           "kelurahan": clean.loc[var.index, "kelurahan"].to_numpy()},
                          index=var.index)
        names = pd.concat([keyed.assign(kelurahan=clean["kelurahan"]), vk])
        owners = names.drop_duplicates().groupby(["city", "key"])["kelurahan"].nunique()
        clash = vk.join(owners.rename("n"), on=["city", "key"])["n"] > 1
        clash = clash.groupby(level=0).any().reindex(clean.index, fill_value=False)
        ctx.add(raw.problems(clash, "variants", "ambiguous_variant",
                             "a variant here also names another kelurahan of this city"))
    return clean


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
                + " (kla_analysis/data/questions.yaml; `kla template` lists them)")
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
        + " points (kla_analysis/data/questions.yaml, an assumption): write that or leave "
        "the cell blank")))
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
            + "; a folder on other weights says so with weights: in raw/city.yaml)")
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


def evidence_date_rules() -> dict:
    """Deadline and validity window of data dukung documents (assumptions, as data)."""
    doc = read_yaml(package_file("evidence_dates.yaml"), "evidence date rules")
    validity = doc["validity"]
    return {"deadline": (int(doc["deadline"]["month"]), int(doc["deadline"]["day"])),
            "default_years": int(validity["default_years"]),
            "no_expiry": {str(i) for i in validity.get("no_expiry") or ()},
            "items": {str(k): int(v) for k, v in (validity.get("items") or {}).items()}}


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
        "year, kla_analysis/data/evidence_dates.yaml): the evaluators cannot have seen it; "
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
                           "counted as kedaluwarsa (kla_analysis/data/evidence_dates.yaml): "
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
    lookup = {cl.choice_key(pd.Series([n])).iloc[0]: m
              for m, ms in measures.items() for n in (m, *ms.names)}

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

    # area: kelurahan (with its kecamatan from the gazetteer), else kecamatan, else the city
    gaz = ctx.gazetteer if ctx.gazetteer is not None else pd.DataFrame(
        columns=["city", "kecamatan", "kelurahan"])
    city = clean["city"]
    kel = resolve_names(city, clean["kelurahan"], kelurahan_lookup(gaz),
                        ["kecamatan", "kelurahan"])
    ctx.add(raw.problems(kel["unknown"], "kelurahan", "unknown_kelurahan", lambda m: (
        "not in the gazetteer for " + _text(city[m]).fillna("?") + "; closest known: "
        + _text(kel.loc[m, "closest"]).fillna("none")
        + " (if it is the same place, add this spelling to its variants in raw/gazetteer/)")))
    kec = resolve_names(city, clean["kecamatan"], kecamatan_lookup(gaz), ["kecamatan"])
    ctx.add(raw.problems(kec["unknown"], "kecamatan", "unknown_kecamatan", lambda m: (
        "not in the gazetteer; closest known: " + _text(kec.loc[m, "closest"]).fillna("none"))))
    kel_kec, kec_kec = _text(kel["kecamatan"]), _text(kec["kecamatan"])
    clash = kel_kec.notna() & kec_kec.notna() & (kel_kec != kec_kec)
    ctx.add(raw.problems(clash, "kecamatan", "kecamatan_mismatch", lambda m: (
        "kelurahan " + _text(kel.loc[m, "kelurahan"]) + " lies in kecamatan " + kel_kec[m])))
    has_kel, has_kec = clean["kelurahan"].notna(), clean["kecamatan"].notna()
    level = pd.Categorical(np.where(has_kel, "kelurahan", np.where(has_kec, "kecamatan",
                                                                   "kota")))
    kecamatan = kel_kec.where(has_kel, kec_kec)
    area = _text(kel["kelurahan"]).where(has_kel, kecamatan.where(has_kec, _text(city)))
    out = clean.assign(measure=measure, indicator=indicator, unit=mu, value=value,
                       area_level=level, kecamatan=kecamatan, area=area)
    _duplicates(raw, out, ["city", "data_year", "measure", "area_level", "area"],
                "value", ctx)
    # rows the agency left blank ("-", "n/a", empty) carry no statistic
    return out[value.notna() | num.notna() | den.notna()]


def _area_declarations(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The register of Kecamatan / Desa-Kelurahan Layak Anak declarations (block KD): areas
    checked against the gazetteer as statistics areas are, one row per city, year and area,
    a decree number for every declared area, decree dates neither in the future nor after
    the row's year. The statistics of indicators 25-26 are derived from the result
    (:mod:`kla_analysis.ingest.areas`)."""
    gaz = ctx.gazetteer if ctx.gazetteer is not None else pd.DataFrame(
        columns=["city", "kecamatan", "kelurahan"])
    city = clean["city"]
    kec = resolve_names(city, clean["kecamatan"], kecamatan_lookup(gaz), ["kecamatan"])
    ctx.add(raw.problems(kec["unknown"], "kecamatan", "unknown_kecamatan", lambda m: (
        "not in the gazetteer for " + _text(city[m]).fillna("?") + "; closest known: "
        + _text(kec.loc[m, "closest"]).fillna("none") + " (if it is the same place, add "
        "this spelling to its Varian Ejaan Kecamatan in raw/gazetteer/)")))
    kel = resolve_names(city, clean["kelurahan"], kelurahan_lookup(gaz),
                        ["kecamatan", "kelurahan"])
    ctx.add(raw.problems(kel["unknown"], "kelurahan", "unknown_kelurahan", lambda m: (
        "not in the gazetteer for " + _text(city[m]).fillna("?") + "; closest known: "
        + _text(kel.loc[m, "closest"]).fillna("none")
        + " (if it is the same place, add this spelling to its variants in raw/gazetteer/)")))
    kel_kec, kec_kec = _text(kel["kecamatan"]), _text(kec["kecamatan"])
    clash = kel_kec.notna() & kec_kec.notna() & (kel_kec != kec_kec)
    ctx.add(raw.problems(clash, "kecamatan", "kecamatan_mismatch", lambda m: (
        "kelurahan " + _text(kel.loc[m, "kelurahan"]) + " lies in kecamatan " + kel_kec[m]
        + ", not in " + kec_kec[m] + " (raw/gazetteer/): correct the "
        + raw.header(m[m].index, "kecamatan") + " or the "
        + raw.header(m[m].index, "kelurahan") + " cell")))
    has_kel = clean["kelurahan"].notna()
    level = areas.area_levels(clean["kelurahan"])
    kelurahan = _text(kel["kelurahan"])
    # one row per city, year and area (a kecamatan row and a kelurahan row are two areas)
    for lvl, area in (("kecamatan", kec_kec), ("kelurahan", kelurahan)):
        mine = (has_kel if lvl == "kelurahan" else ~has_kel).to_numpy()
        keyed = pd.DataFrame({"city": city.where(mine), "year": clean["year"].where(mine),
                              lvl: area.where(mine)}, index=clean.index)
        _duplicates(raw, keyed, ["city", "year", lvl], lvl, ctx)
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
                        patbm=clean["patbm"].map(yes_no))


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
    """The gazetteer must not be empty and must know the city of raw/city.yaml."""
    if ctx.gazetteer.empty:
        if ctx.paths.raw.is_dir():
            ctx.add(problem(spec.folder + "/", rule="no_data", hint="the gazetteer is empty: "
                            "add a file with Kota, Kecamatan, Kelurahan columns"))
        return
    if ctx.city:
        res = resolve_cities(pd.Series([ctx.city["city"]]),
                             ctx.gazetteer["city"].drop_duplicates())
        if res["unknown"].iloc[0]:
            ctx.add(problem("city.yaml", column="city", rule="unknown_city",
                            value=ctx.city["city"], hint="not in the gazetteer; closest "
                            f"known: {res['closest'].iloc[0]}"))
        else:
            ctx.city["city"] = res["city"].iloc[0]


def _folder_weights(paths: ProjectPaths):
    """The folder's weight set, or the default when city.yaml's ``weights`` is unusable
    (``read_city_config`` reports that as a problem, so validation goes on)."""
    try:
        return folder_weights(paths.raw)
    except KlaError:
        return None


def validate_data(paths: ProjectPaths | None = None,
                  catalog: pd.DataFrame | None = None) -> Validation:
    """Read and check every raw file; return processed tables and all problems (one pass)."""
    paths = paths or project_paths()
    specs = load_specs()
    ctx = Context(specs=specs, paths=paths, city=None,
                  # claims are checked on the folder's own scale (weights: in city.yaml)
                  catalog=catalog if catalog is not None
                  else load_catalog(_folder_weights(paths)),
                  evidence_items=load_evidence_requirements(),
                  evidence_dates=evidence_date_rules())
    # option points on the folder's claims scale (kla_analysis/data/questions.yaml)
    ctx.questions, ctx.options = on_scale(*load_question_catalog(), ctx.catalog)
    ctx.city, city_problems = read_city_config(paths.raw)
    ctx.add(city_problems)
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
        if name == "area_declarations":  # indicators 25-26 (block KD)
            derived = areas.declaration_shares(tables[name], ctx.gazetteer, {
                m: ms.indicator for m, ms in specs.datasets["statistics"].measures.items()})
    tables["statistics"] = _with_derived(tables["statistics"], derived)
    problems = _one_per_cell(problems_frame(pd.concat(ctx.problems, ignore_index=True)
                                            if ctx.problems else None))
    if problems.empty:
        tables = {name: _typed(df, DTYPES[name]) for name, df in tables.items()}
    return Validation(tables=tables, problems=problems, files=sorted(ctx.files),
                      notices=ctx.notices)


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
    """Default city (raw/city.yaml), gazetteer (``city, kecamatan, kelurahan``) and the
    problems found in those two alone (used by the template writer)."""
    paths = paths or project_paths()
    specs = load_specs()
    ctx = Context(specs=specs, paths=paths, city=None, catalog=load_catalog(),
                  evidence_items=load_evidence_requirements())
    ctx.city, city_problems = read_city_config(paths.raw)
    ctx.add(city_problems)
    spec = specs.datasets["gazetteer"]
    raw = load_raw(spec, ctx)
    ctx.gazetteer = _gazetteer(raw, parse_fields(raw, spec, ctx), ctx)
    _check_default_city(ctx, spec)
    gaz = _finish("gazetteer", ctx.gazetteer, raw)[COLUMNS["gazetteer"]]
    problems = problems_frame(pd.concat(ctx.problems, ignore_index=True)
                              if ctx.problems else None)
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
