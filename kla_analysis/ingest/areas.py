"""Block KD (Penyelenggaraan KLA di kecamatan dan desa/kelurahan): the statistics of
indicators 25 (Kecamatan Layak Anak, KELANA) and 26 (Desa/Kelurahan Layak Anak, DEKELA),
derived from the task force's register of declarations (``raw/area_declarations/``) and the
gazetteer.

Rule (docs/data-contracts.md, "Derived statistics"): per city, year and level (kecamatan,
desa/kelurahan) that the register lists at least once,

    share = 100 x declared areas of that level / areas of that level in the gazetteer

with ``numerator`` (declared) and ``denominator`` (gazetteer: a desa/kelurahan is its
kecamatan and name, so two desa of one name in two kecamatan count twice), unit ``percent``,
at ``area_level`` ``kabupaten_kota`` (the region as a whole, as a statistics row without
kecamatan and desa/kelurahan), ``data_year`` = the register's year. Areas of a listed level that the register
does not list that year count as not declared; a level with no row that year gives no
statistic (no data is not 0 %). Provenance is the level's first row of that city and year in
the register (file, sheet, row).

Plain functions on DataFrames; :mod:`kla_analysis.ingest.validate` calls them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..levels import KECAMATAN, REGION, VILLAGE
from .cleaning import as_text

#: area level in the register -> (statistics measure, gazetteer columns naming one area)
MEASURES = {KECAMATAN: ("kecamatan_layak_anak", ["kecamatan"]),
            VILLAGE: ("desa_kelurahan_layak_anak", ["kecamatan", "kelurahan"])}
#: the columns of a derived statistics row (the processed ``statistics`` table's)
STAT_COLUMNS = ["city", "data_year", "indicator", "measure", "area_level", "kecamatan", "area",
                "value", "numerator", "denominator", "unit",
                "source_file", "source_sheet", "source_row"]


def area_levels(kelurahan: pd.Series) -> pd.Series:
    """``desa_kelurahan`` where a desa/kelurahan is named, else ``kecamatan`` (the row is
    about the kecamatan itself)."""
    return pd.Series(np.where(kelurahan.notna(), VILLAGE, KECAMATAN),
                     index=kelurahan.index, dtype="str")


def gazetteer_counts(gaz: pd.DataFrame) -> pd.DataFrame:
    """Areas per city and level in the gazetteer: ``city, area_level, denominator``."""
    parts = []
    for level, (_, cols) in MEASURES.items():
        g = pd.DataFrame({"city": as_text(gaz["city"]),
                          **{c: as_text(gaz[c]) for c in cols}}).dropna()
        n = g.drop_duplicates().groupby("city").size()
        parts.append(pd.DataFrame({"city": n.index.astype("str"), "area_level": level,
                                   "denominator": n.to_numpy(dtype="float64")}))
    return pd.concat(parts, ignore_index=True)


def declaration_shares(decl: pd.DataFrame, gaz: pd.DataFrame,
                       indicators: dict[str, int | None]) -> pd.DataFrame:
    """The derived statistics rows (:data:`STAT_COLUMNS`) of the register ``decl`` (the
    processed ``area_declarations`` columns with provenance) against the gazetteer ``gaz``.
    ``indicators``: measure -> indicator number (the statistics spec's). Rows whose city,
    year or area is unknown (already reported as problems) are left out."""
    empty = pd.DataFrame({c: pd.Series(dtype="float64" if c in (
        "value", "numerator", "denominator") else "int64" if c in ("data_year", "source_row")
        else "Int64" if c == "indicator" else "str") for c in STAT_COLUMNS})
    if decl.empty or gaz.empty:
        return empty
    d = pd.DataFrame({
        "city": as_text(decl["city"]), "year": pd.to_numeric(decl["year"], errors="coerce"),
        "area_level": as_text(decl["area_level"]), "kecamatan": as_text(decl["kecamatan"]),
        "kelurahan": as_text(decl["kelurahan"]),
        "declared": decl["declared"].astype(object).eq(True),
        "source_file": as_text(decl["source_file"]),
        "source_sheet": as_text(decl["source_sheet"]).fillna(""),
        "source_row": pd.to_numeric(decl["source_row"], errors="coerce")})
    known = d["city"].notna() & d["year"].notna() & d["kecamatan"].notna() & (
        (d["area_level"] == KECAMATAN) | d["kelurahan"].notna())
    d = d[known]
    if d.empty:
        return empty
    d = d.assign(area=(d["kecamatan"] + "\x1f" + d["kelurahan"]).where(
        d["area_level"] == VILLAGE, d["kecamatan"]), year=d["year"].astype("int64"))
    key = ["city", "year", "area_level"]
    # an area counts once (a duplicate row is a problem of its own)
    num = d[d["declared"]].drop_duplicates([*key, "area"]).groupby(key).size().rename(
        "numerator")
    first = d.sort_values(["source_file", "source_row"], kind="stable").drop_duplicates(key)
    out = first[[*key, "source_file", "source_sheet", "source_row"]].join(num, on=key)
    out = out.merge(gazetteer_counts(gaz), on=["city", "area_level"], how="inner")
    out["numerator"] = out["numerator"].fillna(0).astype("float64")
    measure = out["area_level"].map({lvl: m for lvl, (m, _) in MEASURES.items()})
    rows = pd.DataFrame({
        "city": out["city"], "data_year": out["year"].astype("int64"),
        "indicator": measure.map(indicators).astype("float64").astype("Int64"),
        "measure": measure, "area_level": REGION,
        "kecamatan": pd.Series(pd.NA, index=out.index, dtype="str"), "area": out["city"],
        "value": 100 * out["numerator"] / out["denominator"],
        "numerator": out["numerator"], "denominator": out["denominator"], "unit": "percent",
        "source_file": out["source_file"], "source_sheet": out["source_sheet"],
        "source_row": out["source_row"].astype("int64")})
    return rows.astype({c: "str" for c in ("city", "measure", "area_level", "area", "unit",
                                           "source_file", "source_sheet")})[STAT_COLUMNS]


def derived_clash(city: pd.Series, data_year: pd.Series, measure: pd.Series,
                  derived: pd.DataFrame) -> pd.Series:
    """Per statistics row (any area level): the hint when the register gives the same city,
    data year and measure (the register's file, sheet and row named), else NA."""
    hint = pd.Series(pd.NA, index=city.index, dtype="str")
    if derived.empty or not len(city):
        return hint
    where = (derived["source_file"] + np.where(derived["source_sheet"] != "",
                                               ", sheet " + derived["source_sheet"], "")
             + ", row " + derived["source_row"].astype("str"))
    text = ("also derived from the declarations register (" + where + ": "
            + derived["measure"] + " = " + derived["value"].round(2).map("{:g}".format)
            + "%); give it in one place only: remove this row, or the declarations of "
            + derived["city"] + " " + derived["data_year"].astype("str"))
    lookup = dict(zip(zip(derived["city"], derived["data_year"].astype("int64"),
                          derived["measure"], strict=True), text, strict=True))
    year = pd.to_numeric(data_year, errors="coerce")
    keys = pd.DataFrame({"c": as_text(city), "y": year, "m": as_text(measure)})
    ok = keys.notna().all(axis=1) & keys["m"].isin(set(derived["measure"]))
    if ok.any():
        sub = keys[ok]
        hint[ok] = [lookup.get((c, int(y), m), pd.NA)
                    for c, y, m in zip(sub["c"], sub["y"], sub["m"], strict=True)]
    return hint
