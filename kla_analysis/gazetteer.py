"""Place names: the default city (``raw/city.yaml``) and kelurahan / kecamatan matching.

The gazetteer (``raw/gazetteer/``) lists, per city, each kecamatan and kelurahan with the
spelling variants seen in agency files. Names are matched on a key that ignores case,
punctuation, spacing and ``Kel.``/``Kec.`` prefixes, so ``KEL. LANDASAN ULIN TIMUR`` needs no
variant. A spelling that is neither the name nor a listed variant is NOT mapped: the validator
reports it with the closest known name as a hint, and the analyst adds the variant (or fixes
the file).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from .cleaning import city_key, closest, name_key

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
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        return bad(f"not valid YAML: {err}")
    if not isinstance(doc, dict) or not str(doc.get("city") or "").strip():
        return bad("city.yaml must hold 'city: <Kota/Kabupaten name>' and 'province: <name>'")
    return {"city": " ".join(str(doc["city"]).split()),
            "province": " ".join(str(doc.get("province") or "").split()) or None}, []


def split_variants(s: pd.Series) -> pd.Series:
    """``"Sei Tiung | Sei. Tiung"`` -> one row per variant (same index), blanks dropped."""
    parts = s.fillna("").astype("str").str.split(r"[|;]", regex=True).explode().str.strip()
    return parts[parts != ""]


def kelurahan_lookup(gaz: pd.DataFrame) -> pd.DataFrame:
    """``city, key, kecamatan, kelurahan``: one row per name or variant key of each kelurahan."""
    base = gaz[["city", "kecamatan", "kelurahan"]]
    names = base.assign(name=gaz["kelurahan"])
    if "variants" in gaz:
        var = split_variants(gaz["variants"])
        names = pd.concat([names, base.loc[var.index].assign(name=var.to_numpy())])
    names = names.assign(key=name_key(names["name"]))
    return names[["city", "key", "kecamatan", "kelurahan"]].drop_duplicates(ignore_index=True)


def kecamatan_lookup(gaz: pd.DataFrame) -> pd.DataFrame:
    """``city, key, kecamatan``: one row per name or variant key of each kecamatan."""
    base = gaz[["city", "kecamatan"]]
    names = base.assign(name=gaz["kecamatan"])
    if "kecamatan_variants" in gaz:
        var = split_variants(gaz["kecamatan_variants"])
        names = pd.concat([names, base.loc[var.index].assign(name=var.to_numpy())])
    names = names.assign(key=name_key(names["name"]))
    return names[["city", "key", "kecamatan"]].drop_duplicates(ignore_index=True)


def resolve_names(city: pd.Series, written: pd.Series, lookup: pd.DataFrame,
                  out: list[str]) -> pd.DataFrame:
    """Match written names within their city. Returns ``out`` columns (NA when unknown),
    ``unknown`` (written but not matched) and ``closest`` (hint for unknown names)."""
    keys = pd.DataFrame({"city": city.astype("str"), "key": name_key(written)},
                        index=written.index)
    pairs = keys.drop_duplicates().dropna()
    matched = pairs.merge(lookup.drop_duplicates(["city", "key"]), on=["city", "key"],
                          how="left")
    res = keys.reset_index().merge(matched, on=["city", "key"], how="left")
    res = res.set_index(res.columns[0]).rename_axis(written.index.name)
    unknown = written.notna() & res[out[0]].isna()
    res["unknown"] = unknown
    res["closest"] = pd.Series(pd.NA, index=res.index, dtype="str")
    if unknown.any():
        # compare with every known spelling (names and variants), hint the canonical name
        by_city = {c: dict(zip(g["key"], g[out[-1]], strict=True))
                   for c, g in lookup.drop_duplicates(["city", "key"]).groupby("city")}
        rows = []
        for c, vals in keys[unknown].drop_duplicates().groupby("city")["key"]:
            by_key = by_city.get(c, {})
            rows += [(c, v, by_key.get(m)) for v, m in closest(vals, by_key).items()]
        hints = pd.DataFrame(rows, columns=["city", "key", "closest"])
        near = keys[unknown].reset_index().merge(hints, on=["city", "key"], how="left")
        res.loc[unknown, "closest"] = near["closest"].to_numpy()
    return res[[*out, "unknown", "closest"]]


def resolve_cities(written: pd.Series, known: pd.Series) -> pd.DataFrame:
    """Match written kab/kota names to ``known`` canonical names: ``city``, ``unknown``,
    ``closest``."""
    lookup = dict(zip(city_key(known), known, strict=True))
    keys = city_key(written)
    city = keys.map(lookup).astype("str")
    unknown = written.notna() & city.isna()
    hint = pd.Series(pd.NA, index=written.index, dtype="str")
    if unknown.any():
        near = {k: lookup.get(m) for k, m in closest(keys[unknown].unique(), lookup).items()}
        hint[unknown] = keys[unknown].map(near)
    return pd.DataFrame({"city": city, "unknown": unknown, "closest": hint})
