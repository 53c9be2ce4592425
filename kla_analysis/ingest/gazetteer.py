"""Place names: the default city (``raw/city.yaml``) and kelurahan / kecamatan matching.

The gazetteer (``raw/gazetteer/``) lists, per city, each kecamatan and kelurahan with the
spelling variants seen in agency files. Names are matched on a key that ignores case,
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
import yaml

from ..catalog import folder_weights, load_weight_set
from ..errors import KlaError
from ..yamlfile import loads
from .cleaning import as_text, city_key, closest, name_key, normalise_text, on_uniques, squeeze

CITY_FILE = "city.yaml"


def read_city_config(raw_dir: Path) -> tuple[dict | None, list[dict]]:
    """``{"city": ..., "province": ...}`` from ``raw/city.yaml`` (None if absent) and problems."""
    path = raw_dir / CITY_FILE
    if not path.exists():
        return None, []

    def bad(hint: str) -> tuple[None, list[dict]]:
        return None, [{"file": CITY_FILE, "sheet": "", "row": None, "column": "",
                       "rule": "invalid_config", "value": "", "hint": hint}]
    try:
        doc = loads(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        return bad(f"not valid YAML: {err}")
    if not isinstance(doc, dict) or not normalise_text(str(doc.get("city") or "")):
        return bad("city.yaml must hold 'city: <Kota/Kabupaten name>' and 'province: <name>'")
    problems = []
    if doc.get("weights") is not None:  # the folder's weight set must load
        try:
            load_weight_set(folder_weights(raw_dir))
        except KlaError as err:
            problems.append({"file": CITY_FILE, "sheet": "", "row": None, "column": "weights",
                             "rule": "invalid_config", "value": str(doc.get("weights")),
                             "hint": f"{err}"})
    return {"city": normalise_text(str(doc["city"])),
            "province": normalise_text(str(doc.get("province") or "")) or None}, problems


def split_variants(s: pd.Series) -> pd.Series:
    """``"Sei Tiung | Sei. Tiung"`` -> one row per variant (same index, text normalised as
    :func:`~kla_analysis.ingest.cleaning.squeeze` does), blanks dropped."""
    parts = squeeze(s.fillna("").astype("str").str.split(r"[|;]", regex=True).explode())
    return parts[parts.notna() & (parts != "")]


def kelurahan_lookup(gaz: pd.DataFrame) -> pd.DataFrame:
    """``city, key, kecamatan, kelurahan``: one row per name or variant key of each kelurahan."""
    base = gaz[["city", "kecamatan", "kelurahan"]]
    names = base.assign(name=gaz["kelurahan"])
    if "variants" in gaz:
        var = split_variants(gaz["variants"])
        names = pd.concat([names, base.loc[var.index].assign(name=var.to_numpy())])
    names = names.assign(key=name_key(names["name"]))
    names = names[names["key"].notna() & (names["key"] != "")]  # "Kel." names nothing
    return names[["city", "key", "kecamatan", "kelurahan"]].drop_duplicates(ignore_index=True)


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
