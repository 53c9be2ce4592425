"""Place names: the default region (``raw/kla.yaml`` or ``raw/city.yaml``), desa/kelurahan and
kecamatan matching, and the kecamatan of each service area (puskesmas).

The gazetteer (``raw/gazetteer/``) lists, per kabupaten/kota, each kecamatan and desa or
kelurahan (``Jenis`` says which) with the spelling variants seen in agency files. A place is
known by its kecamatan and its name: two desa may share a name in different kecamatan, and a
file then tells them apart by its kecamatan column (:func:`resolve_places`). Names are
matched on a key that ignores case,
punctuation, spacing and ``Kel.``/``Kec.`` prefixes, so ``KEL. LANDASAN ULIN TIMUR`` needs no
variant. The key is computed from normalised text (:mod:`kla_analysis.ingest.cleaning`, "Text
rule"): Unicode NFC, so a name typed with combining marks matches its composed spelling,
every kind of space is one space and zero-width characters are removed. Accents count (a
spelling with an accent is a variant to list), and a symbol in a name (an emoji, ``+``, a
private-use character ...) keeps it from matching. A spelling that is neither the name nor a
listed variant is NOT mapped: the validator reports it with the closest known name as a hint,
and the analyst adds the variant (or fixes the file). A name or variant whose key is empty
(only punctuation or a prefix, e.g. ``Kel.``) is never a match.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog import folder_weights, load_weight_set
from ..errors import KlaError
from ..region import LEGACY_FILE, Region, read_region
from .cleaning import as_text, city_key, closest, name_key, on_uniques, squeeze

CITY_FILE = LEGACY_FILE


def check_region(raw_dir: Path) -> tuple[Region, list[dict]]:
    """The folder's settings (:func:`kla_analysis.region.read_region`) with the problems of
    their shape and of their weight set (which must load)."""
    region, problems = read_region(raw_dir)
    if region.file == LEGACY_FILE and region.name is None and not problems:
        problems.append(region.problem(("city",), "", (
            "city.yaml must hold 'city: <Kota/Kabupaten name>' and 'province: <name>' "
            "(or write raw/kla.yaml: region:, type:, province:)")))
    if region.weights is not None:  # the folder's weight set must load
        try:
            load_weight_set(folder_weights(raw_dir))
        except KlaError as err:
            problems.append(region.problem(("weights",), region.weights, f"{err}"))
    return region, problems


def read_city_config(raw_dir: Path) -> tuple[dict | None, list[dict]]:
    """``{"city": ..., "province": ...}`` of the folder's settings (``raw/kla.yaml``'s
    ``region``, or ``raw/city.yaml``'s ``city``; None without a name) and problems."""
    region, problems = check_region(raw_dir)
    if region.name is None or any(p["hint"].startswith("not valid YAML") for p in problems):
        return None, problems
    return {"city": region.name, "province": region.province}, problems


def split_variants(s: pd.Series) -> pd.Series:
    """``"Sei Tiung | Sei. Tiung"`` -> one row per variant (same index, text normalised as
    :func:`~kla_analysis.ingest.cleaning.squeeze` does), blanks dropped."""
    parts = squeeze(s.fillna("").astype("str").str.split(r"[|;]", regex=True).explode())
    return parts[parts.notna() & (parts != "")]


def kelurahan_lookup(gaz: pd.DataFrame) -> pd.DataFrame:
    """``city, key, kecamatan, kelurahan, area_type``: one row per name or variant key of each
    desa/kelurahan (a key may name places in several kecamatan)."""
    cols = ["city", "kecamatan", "kelurahan"]
    base = gaz[cols].assign(area_type=gaz["area_type"] if "area_type" in gaz else pd.NA)
    names = base.assign(name=gaz["kelurahan"])
    if "variants" in gaz:
        var = split_variants(gaz["variants"])
        names = pd.concat([names, base.loc[var.index].assign(name=var.to_numpy())])
    names = names.assign(key=name_key(names["name"]))
    names = names[names["key"].notna() & (names["key"] != "")]  # "Kel." names nothing
    return names[["city", "key", "kecamatan", "kelurahan", "area_type"]].drop_duplicates(
        ["city", "key", "kecamatan", "kelurahan"], ignore_index=True)


def kecamatan_lookup(gaz: pd.DataFrame) -> pd.DataFrame:
    """``city, key, kecamatan``: one row per name or variant key of each kecamatan."""
    base = gaz[["city", "kecamatan"]]
    names = base.assign(name=gaz["kecamatan"])
    if "kecamatan_variants" in gaz:
        var = split_variants(gaz["kecamatan_variants"])
        names = pd.concat([names, base.loc[var.index].assign(name=var.to_numpy())])
    names = names.assign(key=name_key(names["name"]))
    names = names[names["key"].notna() & (names["key"] != "")]
    return names[["city", "key", "kecamatan"]].drop_duplicates(ignore_index=True)


def resolve_names(city: pd.Series, written: pd.Series, lookup: pd.DataFrame,
                  out: list[str]) -> pd.DataFrame:
    """Match written names within their city. Returns ``out`` columns (NA when unknown),
    ``unknown`` (written but not matched) and ``closest`` (hint for unknown names).

    Work is done once per distinct (city, name) pair and spread back with integer codes.
    """
    city_codes, cities = pd.factorize(as_text(city))
    key_codes, names = pd.factorize(name_key(written))
    pair = np.where((city_codes < 0) | (key_codes < 0), -1,
                    city_codes.astype("int64") * (len(names) + 1) + key_codes)
    pair_codes, pair_uniques = pd.factorize(pair)
    if not len(names) or not len(cities):  # nothing written: nothing to match
        empty = pd.DataFrame({c: pd.Series(np.nan, index=written.index, dtype="str")
                              for c in [*out, "closest"]})
        return empty.assign(unknown=written.notna())[[*out, "unknown", "closest"]]
    ok = pair_uniques >= 0
    safe = np.where(ok, pair_uniques, 0)
    pairs = pd.DataFrame({"city": np.asarray(cities, dtype=object)[safe // (len(names) + 1)],
                          "key": np.asarray(names, dtype=object)[safe % (len(names) + 1)]})
    pairs.loc[~ok, ["city", "key"]] = None
    matched = pairs.merge(lookup.drop_duplicates(["city", "key"]), on=["city", "key"],
                          how="left")
    matched["closest"] = pd.Series(pd.NA, index=matched.index, dtype="str")
    unknown_pairs = matched[out[0]].isna() & ok
    if unknown_pairs.any():
        # compare with every known spelling (names and variants), hint the canonical name
        by_city = {c: dict(zip(g["key"], g[out[-1]], strict=True))
                   for c, g in lookup.drop_duplicates(["city", "key"]).groupby("city")}
        for c, vals in matched.loc[unknown_pairs].groupby("city")["key"]:
            by_key = by_city.get(c, {})
            hint = {v: by_key.get(m) for v, m in closest(vals, by_key).items()}
            matched.loc[vals.index, "closest"] = vals.map(hint).astype("str")
    take = np.where(pair_codes < 0, len(matched), pair_codes)
    padded = pd.concat([matched, matched.iloc[:0].reindex([len(matched)])], ignore_index=True)
    res = padded.take(take).set_axis(written.index)
    res["unknown"] = written.notna().to_numpy() & res[out[0]].isna().to_numpy()
    return res[[*out, "unknown", "closest"]]


def resolve_cities(written: pd.Series, known: pd.Series) -> pd.DataFrame:
    """Match written kab/kota names to ``known`` canonical names: ``city``, ``unknown``,
    ``closest`` (computed once per distinct written name)."""
    lookup = dict(zip(city_key(known), known, strict=True))

    def per_name(u: pd.Series) -> pd.DataFrame:
        k = city_key(u)
        city = k.map(lookup).astype("str")
        unknown = u.notna() & city.isna()
        hint = pd.Series(np.nan, index=u.index, dtype="str")
        if unknown.any():
            near = {q: lookup.get(m) for q, m in closest(k[unknown].unique(), lookup).items()}
            hint[unknown] = k[unknown].map(near)
        return pd.DataFrame({"city": city, "unknown": unknown, "closest": hint})

    return on_uniques(written, per_name, categorical=True)


_SEP = "\x1f"  # joins a city and a kecamatan into one scope for ``resolve_names``


def _scoped(city: pd.Series, kecamatan: pd.Series) -> pd.Series:
    c, k = as_text(city), as_text(kecamatan)
    return (c + _SEP + k).where(c.notna() & k.notna())


def resolve_places(city: pd.Series, kecamatan: pd.Series, kelurahan: pd.Series,
                   gaz: pd.DataFrame) -> pd.DataFrame:
    """Match written kecamatan and desa/kelurahan names to the gazetteer ``gaz`` (``city,
    kecamatan, kelurahan`` [+ ``area_type``, ``variants``, ``kecamatan_variants``]).

    A desa/kelurahan is looked up in the row's kecamatan when the row names one (two desa of
    the same name in different kecamatan are two places); without a kecamatan its name must
    be unique in the kabupaten/kota. Returns, indexed like the inputs:

    - ``kecamatan``, ``kelurahan``, ``area_type``: canonical names (NA when not matched);
      ``kecamatan`` is the desa/kelurahan's own kecamatan when one is matched;
    - ``kec_unknown``, ``kec_closest``: a written kecamatan not in the gazetteer, the hint;
    - ``kel_unknown``, ``kel_closest``: a written desa/kelurahan not in the gazetteer;
    - ``kel_ambiguous``: a name of places in several kecamatan, and the row names none;
    - ``mismatch``: the desa/kelurahan is not in the written kecamatan but elsewhere;
    - ``lies_in``: the kecamatan (``; ``-joined) holding a name (for ambiguity/mismatch hints).
    """
    idx = kelurahan.index
    kec = resolve_names(city, kecamatan, kecamatan_lookup(gaz), ["kecamatan"])
    lookup = kelurahan_lookup(gaz)
    # kecamatan per (city, key): one place or several
    n = lookup.groupby(["city", "key"], sort=False)["kelurahan"].transform("size")
    unique = lookup[(n == 1).to_numpy()]
    shared_rows = lookup[(n > 1).to_numpy()]
    shared = shared_rows.groupby(["city", "key"], sort=False)["kecamatan"].agg(
        lambda s: "; ".join(sorted(set(s))))
    cols = ["kecamatan", "area_type", "kelurahan"]  # the last one names the hint
    city_res = resolve_names(city, kelurahan, unique, cols)
    # within the row's kecamatan
    scope_lookup = lookup.assign(city=_scoped(lookup["city"], lookup["kecamatan"]))
    in_kec = resolve_names(_scoped(city, kec["kecamatan"]), kelurahan, scope_lookup, cols)
    written_kel = kelurahan.notna().to_numpy()
    written_kec = kecamatan.notna().to_numpy()
    kec_ok = kec["kecamatan"].notna().to_numpy()
    scoped_ok = in_kec["kelurahan"].notna().to_numpy()
    city_ok = city_res["kelurahan"].notna().to_numpy()
    lies_in = _pair_values(city, kelurahan, dict(zip(shared.index, shared, strict=True)))
    several = lies_in.notna().to_numpy()
    use_scope = written_kel & kec_ok & scoped_ok
    use_city = written_kel & ~use_scope & city_ok
    out = pd.DataFrame(index=idx)
    for c in ("kecamatan", "kelurahan", "area_type"):
        val = pd.Series(pd.NA, index=idx, dtype="str")
        val[use_scope] = as_text(in_kec[c])[use_scope]
        # a unique name elsewhere: taken only when the row's kecamatan does not contradict
        take = use_city & ~(written_kec & kec_ok)
        val[take] = as_text(city_res[c])[take]
        out[c] = val
    no_kel = ~written_kel
    out["kecamatan"] = out["kecamatan"].where(~pd.Series(no_kel, index=idx),
                                              as_text(kec["kecamatan"]))
    out["kec_unknown"] = kec["unknown"].to_numpy(bool)
    out["kec_closest"] = as_text(kec["closest"])
    out["lies_in"] = lies_in.fillna(as_text(city_res["kecamatan"]))
    mismatch = written_kel & kec_ok & ~scoped_ok & (city_ok | several)
    out["mismatch"] = mismatch
    out["kel_ambiguous"] = written_kel & ~written_kec & several
    out["kel_unknown"] = written_kel & ~scoped_ok & ~city_ok & ~several & ~(
        written_kec & ~kec_ok & several)
    out["kel_closest"] = as_text(city_res["closest"]).where(
        city_res["closest"].notna(), as_text(in_kec["closest"]))
    return out


def _pair_values(city: pd.Series, written: pd.Series, values: dict) -> pd.Series:
    """``values[(city, name key)]`` per row (NA where absent), looked up once per distinct
    pair: the few names shared by several places, at national scale without a merge."""
    out = pd.Series(pd.NA, index=written.index, dtype="str")
    if not values or not len(written):
        return out
    city_codes, cities = pd.factorize(as_text(city))
    key_codes, names = pd.factorize(name_key(written))
    if not len(names) or not len(cities):
        return out
    wanted = {k for _, k in values}
    hit = np.flatnonzero(pd.Index(names).isin(wanted))  # only names some place shares
    if not len(hit):
        return out
    rows = np.isin(key_codes, hit) & (city_codes >= 0)
    got = [values.get((cities[c], names[k])) for c, k in zip(city_codes[rows], key_codes[rows],
                                                                strict=True)]
    out[rows] = pd.array(got, dtype="str")
    return out


def service_lookup(gaz_service: pd.DataFrame) -> pd.DataFrame:
    """``city, key, kecamatan, name`` of service areas (puskesmas) from rows ``city,
    service_area, kecamatan`` (canonical kecamatan); one row per distinct pair."""
    base = gaz_service.dropna(subset=["city", "service_area", "kecamatan"])
    out = pd.DataFrame({"city": as_text(base["city"]), "key": name_key(base["service_area"]),
                        "kecamatan": as_text(base["kecamatan"]),
                        "name": as_text(base["service_area"])})
    out = out[out["key"].notna() & (out["key"] != "")]
    return out.drop_duplicates(["city", "key", "kecamatan"], ignore_index=True)
