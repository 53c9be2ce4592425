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
unknown_measure, unit_mismatch, numerator_above_denominator, value_mismatch, duplicate_key,
ambiguous_variant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import cleaning as cl
from .catalog import load_bands, load_catalog, load_evidence_requirements
from .config import ProjectPaths, project_paths
from .errors import InputProblems, problems_frame
from .gazetteer import (
    kecamatan_lookup,
    kelurahan_lookup,
    read_city_config,
    resolve_cities,
    resolve_names,
    split_variants,
)
from .readers import Table, list_files, problem, read_tables
from .specs import MEASURE_PREFIX, DatasetSpec, Specs, load_specs

PROVENANCE = ["source_file", "source_sheet", "source_row"]
ORDER = ["gazetteer", "official_results", "self_assessment", "evidence", "statistics"]

# Processed columns per table (docs/data-contracts.md), provenance appended.
COLUMNS = {
    "gazetteer": ["city", "kecamatan", "kelurahan"],
    "official_results": ["city", "province", "year", "predicate", "score", "status",
                         "source_url"],
    "self_assessment": ["city", "year", "indicator", "points_claimed"],
    "evidence": ["city", "year", "indicator", "item", "title", "status", "opd",
                 "document_date", "link"],
    "statistics": ["city", "data_year", "indicator", "measure", "area_level", "kecamatan",
                   "area", "value", "numerator", "denominator", "unit"],
}
# Column types of the processed tables (applied when the data passed validation).
_P = {"source_file": "str", "source_sheet": "str", "source_row": "int64"}
DTYPES = {
    "gazetteer": {"city": "str", "kecamatan": "str", "kelurahan": "str", **_P},
    "official_results": {"city": "str", "province": "str", "year": "int64", "predicate": "str",
                         "score": "float64", "status": "str", "source_url": "str", **_P},
    "self_assessment": {"city": "str", "year": "int64", "indicator": "int64",
                        "points_claimed": "float64", **_P},
    "evidence": {"city": "str", "year": "int64", "indicator": "int64", "item": "str",
                 "title": "str", "status": "str", "opd": "str",
                 "document_date": "datetime64[s]", "link": "str", **_P},
    "statistics": {"city": "str", "data_year": "int64", "indicator": "Int64", "measure": "str",
                   "area_level": "str", "kecamatan": "str", "area": "str", "value": "float64",
                   "numerator": "float64", "denominator": "float64", "unit": "str", **_P},
}
SORT_KEYS = {
    "gazetteer": ["city", "kecamatan", "kelurahan"],
    "official_results": ["city", "year"],
    "self_assessment": ["city", "year", "indicator"],
    "evidence": ["city", "year", "indicator", "item"],
    "statistics": ["city", "data_year", "measure", "area_level", "kecamatan", "area"],
}


@dataclass
class Validation:
    """Processed tables (only meaningful when ``problems`` is empty) and all problems."""

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame
    files: list[str] = field(default_factory=list)

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

    def add(self, rows: pd.DataFrame | dict | list | None) -> None:
        if rows is None:
            return
        if isinstance(rows, dict):
            rows = [rows]
        if len(rows):
            self.problems.append(pd.DataFrame(rows))


@dataclass
class Raw:
    """A dataset's raw cells: one column per field plus provenance, ``_seg`` (which segment,
    i.e. which table and, for wide statistics, which measure) and ``_dec`` (decimal mark)."""

    cells: pd.DataFrame
    headers: list[dict]  # per segment: field -> header as written

    def header(self, index: pd.Index, name: str) -> pd.Series:
        names = pd.Series([h.get(name, "") for h in self.headers], dtype="str")
        return names.take(self.cells.loc[index, "_seg"].to_numpy()).set_axis(index)

    def problems(self, mask: pd.Series, name: str, rule: str, hint: str | pd.Series,
                 value: pd.Series | None = None) -> pd.DataFrame | None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return None
        sel = self.cells.loc[mask]
        if value is None:
            value = cl.display(sel[name]) if name in sel else ""
        out = pd.DataFrame({
            "file": sel["source_file"], "sheet": sel["source_sheet"], "row": sel["source_row"],
            "column": self.header(sel.index, name), "rule": rule,
            "value": value if np.isscalar(value) else value[mask],
            "hint": hint if np.isscalar(hint) else hint[mask].fillna("")})
        return out


# ---------------------------------------------------------------- loading raw tables


def _segments(tbl: Table, spec: DatasetSpec) -> list[tuple[pd.DataFrame, dict]]:
    """Wide statistics tables become one segment per measure; other tables are one segment."""
    wide = sorted({c.split(":")[1] for c in tbl.data.columns if c.startswith(MEASURE_PREFIX)})
    plain = [c for c in tbl.data.columns if not c.startswith(MEASURE_PREFIX)]
    if not wide:
        return [(tbl.data, dict(tbl.headers))]
    out = []
    if "measure" in tbl.data:
        out.append((tbl.data[plain], {k: tbl.headers[k] for k in plain}))
    for m in wide:
        seg = tbl.data[plain].copy()
        heads = {k: tbl.headers[k] for k in plain}
        for role in ("value", "numerator", "denominator"):
            col = f"{MEASURE_PREFIX}{m}:{role}"
            if col in tbl.data:
                seg[role] = tbl.data[col]
                heads[role] = tbl.headers[col]
        seg["measure"] = m
        heads["measure"] = heads.get("value") or heads.get("numerator") or m
        out.append((seg, heads))
    return out


def _check_columns(tbl: Table, spec: DatasetSpec, ctx: Context) -> bool:
    """Required columns present (year from the title, city from city.yaml allowed)."""
    ok = True
    for f in spec.fields.values():
        if f.name in tbl.headers:
            continue
        if f.from_title:
            year = cl.parse_title_year(tbl.title)
            if year is not None:
                tbl.data[f.name] = year
                tbl.headers[f.name] = f"(judul: Tahun {year})"
                continue
        if f.default and ctx.city and ctx.city.get(f.default):
            continue
        if f.required or f.default:
            hint = (f"add a column '{f.header}'"
                    + (" or write 'Tahun YYYY' in the title rows" if f.from_title else "")
                    + (" or set it in raw/city.yaml" if f.default else ""))
            ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, f.header, "missing_column",
                            "", hint))
            ok = False
    if spec.name == "statistics" and "measure" not in tbl.headers and not any(
            c.startswith(MEASURE_PREFIX) for c in tbl.data.columns):
        ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, "Ukuran", "missing_column", "",
                        "no measure recognised: add an 'Ukuran' column (long layout) or "
                        "measure columns known in datasets.yaml (wide layout)"))
        ok = False
    if ok and tbl.data.empty:
        ctx.add(problem(tbl.file, tbl.sheet, tbl.header_row, "", "no_data", "",
                        "the table has a header but no data rows"))
        ok = False
    return ok


def load_raw(spec: DatasetSpec, ctx: Context) -> Raw:
    """Read every file of a dataset's folder into one :class:`Raw` (problems go to ``ctx``)."""
    raw_dir = ctx.paths.raw
    files, other = list_files(raw_dir / spec.folder)
    for p in other:
        ctx.add(problem(p.relative_to(raw_dir).as_posix(), rule="unsupported_file",
                        value=p.suffix, hint="only .csv, .xlsx, .xlsm, .xls and .ods files are "
                        "read; move other files out of raw/" + spec.folder))
    frames, headers = [], []
    for path in files:
        ctx.files.append(path.relative_to(raw_dir).as_posix())
        tables = read_tables(path, raw_dir, spec, ctx.specs)
        if isinstance(tables, dict):
            ctx.add(tables)
            continue
        for tbl in tables:
            ctx.add(tbl.problems)
            if not _check_columns(tbl, spec, ctx):
                continue
            for seg, heads in _segments(tbl, spec):
                frames.append(seg.assign(source_file=tbl.file, source_sheet=tbl.sheet,
                                         source_row=seg.index.to_numpy(), _seg=len(headers),
                                         _dec=tbl.decimal).reset_index(drop=True))
                headers.append(heads)
    cols = [*spec.fields, *PROVENANCE, "_seg", "_dec"]
    if frames:
        cells = pd.concat(frames, ignore_index=True)
    else:
        cells = pd.DataFrame(columns=cols)
    for c in cols:
        if c not in cells:
            cells[c] = pd.Series(np.nan, index=cells.index, dtype=object)
    return Raw(cells[cols], headers)


# ---------------------------------------------------------------- parsing fields


def _hint_allowed(values) -> str:
    return "allowed: " + ", ".join(values)


def parse_fields(raw: Raw, spec: DatasetSpec, ctx: Context) -> pd.DataFrame:
    """Parse every field by type; returns typed columns, problems go to ``ctx``."""
    cells, sp = raw.cells, ctx.specs
    marks = sp.missing_markers
    out = pd.DataFrame(index=cells.index)
    for f in spec.fields.values():
        s = cells[f.name]
        missing = cl.missing_mask(s, marks)
        if f.default and ctx.city and ctx.city.get(f.default):
            s = s.where(~missing, ctx.city[f.default])
            missing = pd.Series(False, index=s.index)
        if f.required:
            ctx.add(raw.problems(missing, f.name, "missing_value",
                                 f"{f.header} must be filled in"))
        t = f.type
        if t in ("text", "kecamatan", "kelurahan", "measure"):
            out[f.name] = cl.clean_text(s, marks)
        elif t == "url":
            val = cl.clean_text(s, marks)
            bad = val.notna() & ~val.str.match(r"^https?://\S+$").fillna(False).astype(bool)
            ctx.add(raw.problems(bad, f.name, "not_a_url", "give the full address, "
                                 "starting with http:// or https://"))
            out[f.name] = val
        elif t == "city":
            val = cl.clean_text(s, marks)
            known = ctx.gazetteer["city"].drop_duplicates() if ctx.gazetteer is not None \
                else pd.Series(dtype="str")
            res = resolve_cities(val, known)
            hint = ("not in the gazetteer (raw/gazetteer/); closest known: "
                    + res["closest"].fillna("none"))
            ctx.add(raw.problems(res["unknown"], f.name, "unknown_city", hint))
            out[f.name] = res["city"]
        elif t == "city_name":
            val = cl.clean_text(s, marks)
            known = ctx.gazetteer["city"].drop_duplicates() if ctx.gazetteer is not None \
                else pd.Series(dtype="str")
            res = resolve_cities(val, known)
            expanded = val.str.replace(r"^(?i:kab)\b\.?\s*", "Kabupaten ", regex=True)
            out[f.name] = res["city"].fillna(expanded)
        elif t == "year":
            res = cl.parse_years(s, marks)
            ctx.add(raw.problems(res["bad"], f.name, "not_a_year",
                                 "write the year as four digits, e.g. 2023 or Tahun 2023"))
            outside = (res["value"] < sp.year_min) | (res["value"] > sp.year_max)
            ctx.add(raw.problems(outside, f.name, "year_out_of_range",
                                 f"years must lie in {sp.year_min}-{sp.year_max}"))
            out[f.name] = res["value"]
        elif t == "indicator":
            res = cl.parse_indicators(s, marks)
            known = set(ctx.catalog["indicator"])
            unknown = res["bad"] | (res["value"].notna() & ~res["value"].isin(known))
            ctx.add(raw.problems(unknown, f.name, "unknown_indicator",
                                 f"indicators are numbered {min(known)}-{max(known)}"))
            out[f.name] = res["value"].where(~unknown)
        elif t == "item":
            res = cl.parse_item_codes(s, marks)
            ctx.add(raw.problems(res["bad"], f.name, "unknown_item",
                                 "write the evidence code as indicator.item, e.g. 4.1"))
            out[f.name] = res["value"]
        elif t in ("number", "count"):
            out[f.name] = _parse_numbers(raw, f.name, t == "count", ctx)
        elif t == "choice":
            choices = f.choices or {}
            if f.choices_from == "predicates":
                choices = {p: (p,) for p in load_bands()["predicate"]}
            res = cl.parse_choices(s, choices, marks)
            ctx.add(raw.problems(res["bad"], f.name, "not_allowed",
                                 _hint_allowed(v for vs in choices.values() for v in vs[:1])))
            out[f.name] = res["value"]
        elif t == "date":
            res = cl.parse_dates(s, marks)
            ctx.add(raw.problems(res["bad"], f.name, "not_a_date",
                                 "write the date as DD/MM/YYYY or YYYY-MM-DD"))
            out[f.name] = res["value"]
        else:  # pragma: no cover - guarded by the spec tests
            raise ValueError(f"unknown field type {t!r} in datasets.yaml")
        if f.min is not None or f.max is not None:
            _check_range(raw, out, f.name, f.min, f.max, ctx)
    return out


def _parse_numbers(raw: Raw, name: str, count: bool, ctx: Context) -> pd.Series:
    cells = raw.cells
    value = pd.Series(np.nan, index=cells.index, dtype="float64")
    bad = pd.Series(False, index=cells.index)
    for dec, idx in cells.groupby("_dec", sort=True).groups.items():
        res = cl.parse_numbers(cells.loc[idx, name], str(dec), count, ctx.specs.missing_markers)
        value[idx], bad[idx] = res["value"], res["bad"]
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


def _duplicates(raw: Raw, clean: pd.DataFrame, key: list[str], column: str,
                ctx: Context) -> None:
    """Rows repeating an earlier row's key; the hint points at the first one."""
    full = clean[key].notna().all(axis=1)
    dup = clean[key].duplicated(keep="first") & full
    if not dup.any():
        return
    where = (raw.cells["source_file"].astype(str) + " row "
             + raw.cells["source_row"].astype(str))
    first = where.where(~clean[key].duplicated(keep="first"))
    first = first.groupby([clean[k] for k in key], dropna=False).transform("first")
    ctx.add(raw.problems(dup, column, "duplicate_key",
                         "same " + ", ".join(key) + " as " + first.fillna("")))


def _finish(name: str, clean: pd.DataFrame, raw: Raw) -> pd.DataFrame:
    out = clean.assign(source_file=raw.cells["source_file"].astype("str"),
                       source_sheet=raw.cells["source_sheet"].fillna("").astype("str"),
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


def _self_assessment(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    cat = ctx.catalog.set_index("indicator")
    maxp = clean["indicator"].map(cat["max_points"]).astype("float64")
    over = clean["points_claimed"] > maxp
    hint = ("indicator " + clean["indicator"].astype("str") + " allows 0-"
            + maxp.map("{:g}".format, na_action="ignore").astype("str")
            + " points (catalog maximum" + np.where(
                clean["indicator"].map(cat["max_points_assumed"]).fillna(False).astype(bool),
                ", an assumption)", ")"))
    ctx.add(raw.problems(over, "points_claimed", "out_of_range", pd.Series(hint, clean.index)))
    _duplicates(raw, clean, ["city", "year", "indicator"], "indicator", ctx)
    # every indicator must be scored once per city and year
    have = clean.dropna(subset=["city", "year", "indicator"])
    if len(have):
        first = have.groupby(["city", "year"]).head(1)
        got = have.groupby(["city", "year"])["indicator"].agg(set)
        for (city, year), inds in got.items():
            lack = sorted(set(ctx.catalog["indicator"]) - inds)
            if lack:
                row = first[(first["city"] == city) & (first["year"] == year)].index[0]
                ctx.add(problem(raw.cells.at[row, "source_file"], raw.cells.at[row, "source_sheet"],
                                None, raw.headers[raw.cells.at[row, "_seg"]].get("indicator", ""),
                                "missing_indicator", ", ".join(map(str, lack)),
                                f"{city} {year}: every indicator needs a row (0 if not met)"))
    return clean.assign(points_claimed=clean["points_claimed"].astype("float64"))


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
    ctx.add(raw.problems(no_doc, "status", "missing_document",
                         "status 'ada' needs the document title or its link / file name"))
    clean = clean.assign(indicator=given.fillna(owner).astype("Int64"))
    _duplicates(raw, clean, ["city", "year", "item"], "item", ctx)
    return clean


def _statistics(raw: Raw, clean: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    spec = ctx.specs.datasets["statistics"]
    measures = spec.measures
    # measure: code or one of its names (long layout), fixed per column group (wide layout)
    lookup = {cl.choice_key(pd.Series([n])).iloc[0]: m
              for m, ms in measures.items() for n in (m, *ms.names)}
    mkey = cl.on_uniques(clean["measure"], lambda u: cl.choice_key(u).to_frame()).iloc[:, 0]
    measure = mkey.map(lookup).astype("str")
    unknown = clean["measure"].notna() & measure.isna()
    if unknown.any():
        near = cl.closest(mkey[unknown].unique(), lookup)
        hint = "closest known: " + mkey[unknown].map(
            {k: lookup.get(v) for k, v in near.items()}).fillna("none").astype("str")
        ctx.add(raw.problems(unknown, "measure", "unknown_measure",
                             hint.reindex(clean.index).fillna("")))
    mu = measure.map({m: ms.unit for m, ms in measures.items()}).astype("str")
    wrong_unit = clean["unit"].notna() & mu.notna() & (clean["unit"] != mu)
    ctx.add(raw.problems(wrong_unit, "unit", "unit_mismatch", "this measure is a " + mu.fillna("")))
    indicator = measure.map({m: ms.indicator for m, ms in measures.items()}).astype("Int64")

    value, num, den = clean["value"], clean["numerator"], clean["denominator"]
    pct = mu == "percent"
    computed = (100 * num / den).where(pct & den.gt(0))
    value = value.fillna(computed)
    above = num.notna() & den.notna() & (num > den)
    ctx.add(raw.problems(pct & ~above & ((value < 0) | (value > 100)), "value", "out_of_range",
                         "a percentage lies between 0 and 100"))
    ctx.add(raw.problems((mu == "count") & (value < 0), "value", "out_of_range",
                         "a count cannot be negative"))
    ctx.add(raw.problems((mu == "count") & value.notna() & (value != value.round()), "value",
                         "not_an_integer", "a count must be a whole number"))
    ctx.add(raw.problems(above, "numerator", "numerator_above_denominator",
                         "the numerator (" + raw.header(clean.index, "numerator")
                         + ") cannot exceed the denominator ("
                         + raw.header(clean.index, "denominator") + ")"))
    off = ((clean["value"] - computed).abs() > ctx.specs.percent_tolerance) & (
        clean["value"] >= 0) & (clean["value"] <= 100)
    ctx.add(raw.problems(off & ~above, "value", "value_mismatch",
                         "differs from 100 x numerator / denominator = "
                         + computed.round(2).astype("str")))

    # area: kelurahan (with its kecamatan from the gazetteer), else kecamatan, else the city
    gaz = ctx.gazetteer if ctx.gazetteer is not None else pd.DataFrame(
        columns=["city", "kecamatan", "kelurahan"])
    kel = resolve_names(clean["city"], clean["kelurahan"], kelurahan_lookup(gaz),
                        ["kecamatan", "kelurahan"])
    ctx.add(raw.problems(kel["unknown"], "kelurahan", "unknown_kelurahan",
                         "not in the gazetteer for " + clean["city"].fillna("?") + "; closest "
                         "known: " + kel["closest"].fillna("none") + " (if it is the same place,"
                         " add this spelling to its variants in raw/gazetteer/)"))
    kec = resolve_names(clean["city"], clean["kecamatan"], kecamatan_lookup(gaz), ["kecamatan"])
    ctx.add(raw.problems(kec["unknown"], "kecamatan", "unknown_kecamatan",
                         "not in the gazetteer; closest known: " + kec["closest"].fillna("none")))
    clash = kel["kecamatan"].notna() & kec["kecamatan"].notna() & (
        kel["kecamatan"] != kec["kecamatan"])
    ctx.add(raw.problems(clash, "kecamatan", "kecamatan_mismatch",
                         "kelurahan " + kel["kelurahan"].fillna("") + " lies in kecamatan "
                         + kel["kecamatan"].fillna("")))
    has_kel, has_kec = clean["kelurahan"].notna(), clean["kecamatan"].notna()
    level = pd.Series(np.where(has_kel, "kelurahan", np.where(has_kec, "kecamatan", "kota")),
                      index=clean.index, dtype="str")
    kecamatan = kel["kecamatan"].where(has_kel, kec["kecamatan"])
    area = kel["kelurahan"].where(has_kel, kecamatan.where(has_kec, clean["city"]))
    out = clean.assign(measure=measure, indicator=indicator, unit=mu, value=value,
                       area_level=level, kecamatan=kecamatan.astype("str"),
                       area=area.astype("str"))
    _duplicates(raw, out, ["city", "data_year", "measure", "area_level", "area"],
                "value", ctx)
    # rows the agency left blank ("-", "n/a", empty) carry no statistic
    return out[value.notna() | num.notna() | den.notna()]


FINISH: dict[str, Callable] = {
    "gazetteer": _gazetteer, "official_results": _official,
    "self_assessment": _self_assessment, "evidence": _evidence, "statistics": _statistics,
}


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


def validate_data(paths: ProjectPaths | None = None,
                  catalog: pd.DataFrame | None = None) -> Validation:
    """Read and check every raw file; return processed tables and all problems (one pass)."""
    paths = paths or project_paths()
    specs = load_specs()
    ctx = Context(specs=specs, paths=paths, city=None,
                  catalog=catalog if catalog is not None else load_catalog(),
                  evidence_items=load_evidence_requirements())
    ctx.city, city_problems = read_city_config(paths.raw)
    ctx.add(city_problems)
    if not paths.raw.is_dir():
        ctx.add(problem(str(paths.raw), rule="unreadable_file",
                        hint="the raw data folder does not exist; see data/raw/README.md"))
    tables = {}
    for name in ORDER:
        spec = specs.datasets[name]
        raw = load_raw(spec, ctx)
        if raw.cells.empty:  # nothing delivered for this dataset: an empty table
            done = pd.DataFrame({c: pd.Series(dtype=DTYPES[name].get(c, "str"))
                                 for c in [*COLUMNS[name], "variants", "kecamatan_variants"]})
        else:
            done = FINISH[name](raw, parse_fields(raw, spec, ctx), ctx)
        tables[name] = _finish(name, done, raw)
        if name == "gazetteer":
            ctx.gazetteer = done
            _check_default_city(ctx, spec)
    problems = problems_frame(pd.concat(ctx.problems, ignore_index=True)
                              if ctx.problems else None)
    if problems.empty:
        tables = {name: df.astype(DTYPES[name]) for name, df in tables.items()}
    return Validation(tables=tables, problems=problems, files=sorted(ctx.files))


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
