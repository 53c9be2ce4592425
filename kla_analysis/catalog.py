"""The KLA domain model as data: indicator catalog, clusters, evidence items, predicate bands.

Everything here is read from YAML files shipped in ``kla_analysis/data/``; nothing is an
``if`` chain. Loaders return fresh DataFrames, so callers may modify them freely.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import package_file
from .yamlfile import read_yaml


def _catalog_doc() -> dict:
    return read_yaml(package_file("indicators.yaml"), "indicator catalog")


def load_clusters() -> pd.DataFrame:
    """Clusters in report order: ``cluster``, ``name_id``, ``name_en``, ``order``."""
    df = pd.DataFrame(_catalog_doc()["clusters"]).rename(columns={"code": "cluster"})
    df["order"] = range(len(df))
    return df


def load_catalog(weights: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per indicator (1-24) with cluster, names, OPD, statistic and maximum points.

    ``weights`` optionally replaces the default maximum points: a CSV path or a DataFrame
    with columns ``indicator, max_points`` (all 24 rows). Replaced weights stay flagged as
    assumptions unless the table has a ``max_points_assumed`` column saying otherwise.
    """
    rows = []
    for ind in _catalog_doc()["indicators"]:
        stat = ind.get("statistic") or {}
        rows.append({
            "indicator": int(ind["number"]),
            "cluster": ind["cluster"],
            "cluster_assumed": bool(ind["cluster_assumed"]),
            "name_id": ind["name_id"],
            "name_en": ind["name_en"],
            "opd": "; ".join(ind["opd"]),
            "max_points": float(ind["max_points"]),
            "max_points_assumed": bool(ind["max_points_assumed"]),
            "measure": stat.get("measure"),
            "measure_id": stat.get("description_id"),
            "measure_en": stat.get("description_en"),
            "unit": stat.get("unit"),
            "direction": stat.get("direction"),
            "target": stat.get("target"),
            "n_evidence_items": len(ind["evidence"]),
            "source": ind["source"],
        })
    cat = pd.DataFrame(rows)
    cat["target"] = cat["target"].astype("Float64")
    if weights is not None:
        cat = apply_weights(cat, weights)
    order = load_clusters().set_index("cluster")["order"]
    cat["cluster_order"] = cat["cluster"].map(order).astype(int)
    return cat.sort_values("indicator").reset_index(drop=True)


def apply_weights(catalog: pd.DataFrame, weights: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Replace ``max_points`` from a weights table (``indicator, max_points``)."""
    w = pd.read_csv(weights) if not isinstance(weights, pd.DataFrame) else weights.copy()
    missing = set(catalog["indicator"]) - set(w["indicator"].astype(int))
    if missing:
        raise ValueError(f"weights table lacks indicators {sorted(missing)}; give all 24")
    w = w.assign(indicator=w["indicator"].astype(int)).set_index("indicator")
    out = catalog.copy()
    out["max_points"] = out["indicator"].map(w["max_points"]).astype(float)
    if "max_points_assumed" in w:
        out["max_points_assumed"] = out["indicator"].map(w["max_points_assumed"]).astype(bool)
    return out


def load_evidence_requirements() -> pd.DataFrame:
    """Typical supporting-evidence (data dukung) items: ``indicator, item, name_id, name_en``."""
    rows = [
        {"indicator": int(ind["number"]), "item": ev["code"], "name_id": ev["name_id"],
         "name_en": ev["name_en"], "opd": ind["opd"][0]}
        for ind in _catalog_doc()["indicators"]
        for ev in ind["evidence"]
    ]
    return pd.DataFrame(rows)


def _bands_doc() -> dict:
    return read_yaml(package_file("predicates.yaml"), "predicate bands")


def band_set_names() -> list[str]:
    return list(_bands_doc()["band_sets"])


def load_bands(name: str | None = None) -> pd.DataFrame:
    """Predicate bands of a named set (default from the YAML), lowest first.

    Columns: ``predicate, lower, lower_inclusive, entry, upper, published, rank``.
    """
    doc = _bands_doc()
    name = name or doc["default"]
    if name not in doc["band_sets"]:
        raise ValueError(f"unknown band set {name!r}; known: {', '.join(doc['band_sets'])}")
    df = pd.DataFrame(doc["band_sets"][name]["bands"]).rename(columns={"name": "predicate"})
    df = df.sort_values("lower").reset_index(drop=True)
    df["upper"] = df["lower"].shift(-1).fillna(doc["scale"]["max"])
    df["rank"] = range(1, len(df) + 1)
    df.attrs.update(band_set=name, scale_min=doc["scale"]["min"], scale_max=doc["scale"]["max"],
                    below_lowest=doc["below_lowest"], source=doc["band_sets"][name]["source"])
    return df


def predicate_names(bands: pd.DataFrame | None = None) -> list[str]:
    """Predicate names from lowest to highest."""
    return list((bands if bands is not None else load_bands())["predicate"])
