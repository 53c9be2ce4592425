"""The KLA domain model as data: indicator catalog, blocks, weight sets, evidence items, bands.

Everything here is read from YAML files shipped in ``kla_analysis/data/``; nothing is an
``if`` chain. Loaders return fresh DataFrames, so callers may modify them freely.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .config import package_file
from .errors import KlaError
from .yamlfile import read_yaml


def _catalog_doc() -> dict:
    return read_yaml(package_file("indicators.yaml"), "indicator catalog")


def load_clusters() -> pd.DataFrame:
    """Clusters in report order: ``cluster``, ``name_id``, ``name_en``, ``order``."""
    df = pd.DataFrame(_catalog_doc()["clusters"]).rename(columns={"code": "cluster"})
    df["order"] = range(len(df))
    return df


def _weights_doc() -> dict:
    return read_yaml(package_file("weight_sets.yaml"), "weight sets")


def weight_set_names() -> list[str]:
    """Names of the packaged weight sets (``weight_sets.yaml``), the default first."""
    doc = _weights_doc()
    return sorted(doc["sets"], key=lambda n: n != doc["default"])


def _indicator_rows() -> pd.DataFrame:
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
            "measure": stat.get("measure"),
            "measure_id": stat.get("description_id"),
            "measure_en": stat.get("description_en"),
            "unit": stat.get("unit"),
            "direction": stat.get("direction"),
            "target": stat.get("target"),
            # lower-is-better statistic: the level earning no credit (a target of 0 alone
            # gives no credit for a reduction); an assumption with its rationale in the YAML
            "reference": stat.get("reference"),
            "reference_rationale": stat.get("reference_rationale"),
            "reference_rationale_id": stat.get("reference_rationale_id"),
            "n_evidence_items": len(ind["evidence"]),
            "source": ind["source"],
        })
    return pd.DataFrame(rows)


def _split(total: float, n: int, whole: bool) -> list[float]:
    """``total`` split over ``n`` parts, rounded (whole points or 0.01) so they sum exactly:
    whole points give the remainder one point each to the first parts; hundredths put it on
    the last part."""
    if whole:
        base, extra = divmod(int(round(total)), n)
        return [float(base + (i < extra)) for i in range(n)]
    share = [round(total / n, 2)] * n
    share[-1] = round(total - sum(share[:-1]), 2)
    return share


def _packaged_weights(name: str, indicators: pd.DataFrame) -> pd.DataFrame:
    spec = _weights_doc()["sets"][name]
    inds = indicators[["indicator", "cluster"]]
    if spec.get("split") == "equal":
        pts = _split(1000, len(inds), whole=True)
        return pd.DataFrame({"indicator": inds["indicator"], "max_points": pts,
                             "max_points_assumed": True})
    given = {int(k): float(v) for k, v in (spec.get("indicators") or {}).items()}
    rows = []
    for block, members in inds.groupby("cluster", sort=False)["indicator"]:
        if block not in spec["blocks"]:
            raise KlaError(f"weight set {name!r} gives no maximum for block {block}")
        free = [i for i in members if i not in given]
        left = float(spec["blocks"][block]) - sum(given.get(i, 0.0) for i in members)
        shares = dict(zip(free, _split(left, len(free), whole=False), strict=True)) if free else {}
        rows += [{"indicator": i, "max_points": given.get(i, shares.get(i)),
                  "max_points_assumed": i not in given} for i in members]
    return pd.DataFrame(rows)


def _user_weights(weights: str | Path | pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """A weights table from the user, checked: every catalog indicator once, points >= 0,
    total 1000. Problems name the file and the row as a spreadsheet user counts it."""
    where = "weights table" if isinstance(weights, pd.DataFrame) else str(weights)
    if isinstance(weights, pd.DataFrame):
        w = weights.copy()
    else:
        try:
            w = pd.read_csv(weights, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise KlaError(f"{where}: cannot read the weights CSV ({exc}); give a CSV with "
                           "columns indicator,max_points") from None
    w.columns = [str(c).strip().lower() for c in w.columns]
    lack = [c for c in ("indicator", "max_points") if c not in w]
    if lack:
        raise KlaError(f"{where}: missing column(s) {', '.join(lack)}; a weights CSV has "
                       "columns indicator,max_points[,max_points_assumed]")
    problems = []
    ind = pd.to_numeric(w["indicator"], errors="coerce")
    pts = pd.to_numeric(w["max_points"].astype(str).str.replace(",", ".", regex=False)
                        if w["max_points"].dtype == object else w["max_points"], errors="coerce")
    known = set(indicators["indicator"])
    for pos in range(len(w)):
        row = pos + 2  # header is row 1
        if pd.isna(ind.iloc[pos]) or int(ind.iloc[pos]) not in known:
            problems.append(f"row {row}, column indicator: {w['indicator'].iloc[pos]!r} is not "
                            f"an indicator of the catalog ({min(known)}-{max(known)})")
        if pd.isna(pts.iloc[pos]) or pts.iloc[pos] < 0:
            problems.append(f"row {row}, column max_points: {w['max_points'].iloc[pos]!r} is "
                            "not a number >= 0")
    dup = ind[ind.duplicated() & ind.notna()]
    problems += [f"indicator {int(i)} is listed more than once" for i in dup.unique()]
    missing = sorted(known - set(ind.dropna().astype(int)))
    if missing:
        problems.append(f"indicator(s) {', '.join(map(str, missing))} missing: give every "
                        "indicator of the catalog a row")
    if not problems and abs(float(pts.sum()) - 1000) > 1e-6:
        problems.append(f"max_points add up to {float(pts.sum()):g}, not 1000")
    if problems:
        raise KlaError(f"{where}: " + "; ".join(problems))
    assumed = (w["max_points_assumed"].astype(str).str.strip().str.lower()
               .isin(["true", "1", "ya", "yes"]) if "max_points_assumed" in w
               else pd.Series(True, index=w.index))
    return pd.DataFrame({"indicator": ind.astype(int), "max_points": pts.astype(float),
                         "max_points_assumed": assumed.astype(bool)})


def load_weight_set(weights: str | Path | pd.DataFrame | None = None,
                    indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """Maximum points per indicator of a weight set: ``indicator, max_points,
    max_points_assumed``; ``attrs`` hold ``weight_set`` (name), ``status`` (probable /
    assumption), ``label_id/en``, ``source`` and ``provenance_id/en``.

    ``weights``: a packaged set's name (default ``weight_sets.yaml``'s ``default``), a CSV
    path or a DataFrame. Raises ``KlaError`` naming the file and every problem.

    >>> w = load_weight_set()
    >>> w.attrs["weight_set"], float(w["max_points"].sum()), w.loc[0, "max_points"]
    ('probable_2023', 1000.0, np.float64(96.0))
    """
    doc = _weights_doc()
    indicators = indicators if indicators is not None else _indicator_rows()
    weights = doc["default"] if weights is None else weights
    if isinstance(weights, str) and weights in doc["sets"]:
        out = _packaged_weights(weights, indicators)
        spec = doc["sets"][weights]
        out.attrs.update(weight_set=weights, status=spec["status"], label_id=spec["label_id"],
                         label_en=spec["label_en"], source=spec.get("source") or "",
                         provenance_id=spec["provenance_id"], provenance_en=spec["provenance_en"])
        return out
    if isinstance(weights, str) and not weights.lower().endswith(".csv") \
            and not Path(weights).exists():
        raise KlaError(f"unknown weight set {weights!r}; known: {', '.join(weight_set_names())}"
                       ", or give the path of a CSV (indicator,max_points)")
    out = _user_weights(weights, indicators)
    name = "user" if isinstance(weights, pd.DataFrame) else Path(weights).name
    out.attrs.update(
        weight_set=name, status="assumption", label_id=f"Bobot pengguna ({name})",
        label_en=f"User weights ({name})", source="" if isinstance(weights, pd.DataFrame)
        else str(weights),
        provenance_id="Tabel bobot yang diberikan pengguna; dianggap asumsi kecuali tabel "
                      "menyatakan lain.",
        provenance_en="A weights table given by the user; treated as an assumption unless the "
                      "table says otherwise.")
    return out


def _references(cat: pd.DataFrame) -> pd.Series:
    """The catalog's statistic references as floats (NaN: none); ``KlaError`` for one that is
    not a number above the target of a lower-is-better statistic."""
    ref = pd.to_numeric(cat["reference"], errors="coerce").astype(float)
    target = pd.to_numeric(cat["target"], errors="coerce").astype(float)
    bad = (cat["reference"].notna() & ref.isna()) | (ref.notna() & (
        (cat["direction"] != "lower") | target.isna() | ~(ref > target)))
    if bad.any():
        raise KlaError("indicators.yaml: a statistic 'reference' must be a number above the "
                       "target of a lower-is-better statistic; indicator(s) "
                       + ", ".join(map(str, cat.loc[bad, "indicator"])))
    return ref


def default_weight_set() -> str:
    """Name of the packaged default weight set (``weight_sets.yaml``'s ``default``)."""
    return str(_weights_doc()["default"])


def load_catalog(weights: str | Path | pd.DataFrame | None = None,
                 claims: str | Path | pd.DataFrame | None = None,
                 opd: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per indicator with block (``cluster``), names, OPD, statistic and points.

    ``max_points`` (and ``max_points_assumed``) come from the weight set ``weights``
    (:func:`load_weight_set`; default ``probable_2023``). ``claims_max_points`` is the
    maximum on the scale the self-assessment points are written in: the weight set
    ``claims`` (the data folder's own, ``folder_weights``; default: the same as
    ``weights``). A claim counts as the same share of its maximum under any active set, so
    a what-if with other weights moves only the points. ``attrs`` carry the active set's
    name, status, label and provenance, and ``claims_scale`` (``attrs`` do not survive
    merges: read them with :func:`weight_set_info` from the catalog itself). ``opd``: the
    region's office per catalog OPD role (``opd:`` of ``raw/kla.yaml``, :func:`opd_names`).
    """
    cat = _indicator_rows()
    active = load_weight_set(weights, cat)
    scale = active if claims is None else load_weight_set(claims, cat)
    cat = cat.merge(active, on="indicator", how="left").merge(
        scale[["indicator", "max_points"]].rename(columns={"max_points": "claims_max_points"}),
        on="indicator", how="left")
    cat["target"] = cat["target"].astype("Float64")
    cat["reference"] = _references(cat)
    order = load_clusters().set_index("cluster")["order"]
    cat["cluster_order"] = cat["cluster"].map(order).astype(int)
    cat = cat.sort_values("indicator").reset_index(drop=True)
    cat = opd_names(cat, opd)
    cat.attrs.update(active.attrs, claims_scale=scale.attrs["weight_set"])
    return cat


#: The data folder's settings files (``raw/kla.yaml``, or ``raw/city.yaml`` as before); their
#: ``weights`` key names the folder's weight set (``kla_analysis.region``).
FOLDER_SETTINGS = "kla.yaml"


def folder_weights(raw_dir: str | Path) -> str | Path | None:
    """The weight set a data folder asks for: ``weights:`` in ``raw/kla.yaml`` (or
    ``raw/city.yaml``), a packaged set's name (``equal``) or a CSV path relative to ``raw/``;
    None when not set (the packaged default). A command's ``--weights`` option overrides it.

    Raises ``KlaError`` when the file cannot be read or the value is neither (``kla validate``
    lists the same problem with the file and a hint).
    """
    from .region import read_region

    region, problems = read_region(raw_dir)
    if region.file is None:
        return None
    unreadable = [p for p in problems if p["hint"].startswith("not valid YAML")]
    if unreadable:
        raise KlaError(f"{Path(raw_dir) / region.file}: cannot be read ({unreadable[0]['hint']})"
                       "; run `kla validate` to see what to fix") from None
    value = region.weights
    if value is None:
        return None
    if value in _weights_doc()["sets"]:
        return value
    csv = Path(raw_dir) / value
    if csv.suffix.lower() != ".csv" or not csv.is_file():
        raise KlaError(f"{Path(raw_dir) / region.file}: weights: {value!r} is neither a weight "
                       f"set ({', '.join(weight_set_names())}) nor a CSV file next to "
                       f"{region.file}; fix the weights line of raw/{region.file}")
    return csv


def opd_names(catalog: pd.DataFrame, opd: Mapping[str, str] | None) -> pd.DataFrame:
    """``catalog`` (or any table with an ``opd`` column of catalog roles) with each role
    replaced by the region's office (``opd`` of ``raw/kla.yaml``); unchanged without one."""
    if not opd or "opd" not in catalog:
        return catalog
    from .region import map_opd

    out = catalog.copy()
    out["opd"] = out["opd"].map(lambda v: map_opd(v, opd))
    return out


def weight_set_info(catalog: pd.DataFrame) -> dict:
    """The weight set a catalog was loaded with: name, status, labels, source, provenance."""
    keys = ("weight_set", "status", "label_id", "label_en", "source", "provenance_id",
            "provenance_en", "claims_scale")
    return {k: catalog.attrs.get(k, "") for k in keys}


#: Bounds of an evidence item's optional ``weight`` in ``indicators.yaml`` (default 1).
EVIDENCE_WEIGHT_RANGE = (1, 20)


def evidence_weight(value: object, indicator: object, item: object) -> int:
    """An evidence item's ``weight`` (how many ordinary items it counts as), checked: absent
    means 1; else a whole number in ``EVIDENCE_WEIGHT_RANGE``. ``KlaError`` names the file,
    the indicator, the item and the value."""
    if value is None:
        return 1
    lo, hi = EVIDENCE_WEIGHT_RANGE
    # bool is an int in Python: `weight: yes` must not pass as 1
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise KlaError(f"{package_file('indicators.yaml')}: indicator {indicator}, evidence "
                       f"item {item}: weight {value!r} is not a whole number from {lo} to "
                       f"{hi}; write e.g. `weight: 3` (an item counting as 3 ordinary items) "
                       "or leave it out (1)")
    return value


def load_evidence_requirements(opd: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Typical supporting-evidence (data dukung) items: ``indicator, item, name_id, name_en,
    opd, weight`` (the indicator's lead OPD; ``opd`` maps roles to the region's offices;
    ``weight``: how many ordinary items the item counts as in its indicator's completeness,
    an assumption, 1 unless the catalog says otherwise, see :func:`evidence_weight`)."""
    rows = [
        {"indicator": int(ind["number"]), "item": ev["code"], "name_id": ev["name_id"],
         "name_en": ev["name_en"], "opd": ind["opd"][0],
         "weight": evidence_weight(ev.get("weight"), ind["number"], ev["code"])}
        for ind in _catalog_doc()["indicators"]
        for ev in ind["evidence"]
    ]
    out = pd.DataFrame(rows)
    out["weight"] = out["weight"].astype(int)
    return opd_names(out, opd)


def evidence_date_rules() -> dict:
    """Deadline and validity windows of data dukung documents (``evidence_dates.yaml``;
    assumptions, as data): ``deadline`` (month, day), ``default_years``, ``no_expiry``
    (item codes), ``items`` (code -> years). Read by the validator and the evidence scan."""
    doc = read_yaml(package_file("evidence_dates.yaml"), "evidence date rules")
    validity = doc["validity"]
    return {"deadline": (int(doc["deadline"]["month"]), int(doc["deadline"]["day"])),
            "default_years": int(validity["default_years"]),
            "no_expiry": {str(i) for i in validity.get("no_expiry") or ()},
            "items": {str(k): int(v) for k, v in (validity.get("items") or {}).items()}}


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


def load_national_predicates(bands: pd.DataFrame) -> dict:
    """Published national counts per predikat (``national_predicates.yaml``):
    ``{"total_regions": 514, "rounds": {2019: {"Belum berpredikat": 267, "Pratama": 135, ...},
    ...}, "sources": {2019: [...]}}``; every band of ``bands`` and the region count below the
    lowest band (``bands.attrs['below_lowest']``) appear, lowest first. ``KlaError`` when a
    count is unknown, negative or the counts do not add up to the recipients."""
    path = package_file("national_predicates.yaml")
    doc = read_yaml(path, "national predicate counts")
    total = doc.get("total_regions")
    below = bands.attrs.get("below_lowest", "Belum berpredikat")
    names = list(bands["predicate"])
    rounds, sources, problems = {}, {}, []
    if not isinstance(total, int) or total <= 0:
        problems.append("total_regions must be a positive whole number")
    for year, r in (doc.get("rounds") or {}).items():
        counts = (r or {}).get("counts") or {}
        unknown = sorted(set(counts) - set(names))
        bad = [k for k, v in counts.items() if not isinstance(v, int) or v < 0]
        recipients = r.get("recipients")
        if unknown or bad or sum(counts.values()) != recipients or (
                isinstance(total, int) and recipients > total):
            problems.append(f"round {year}: counts must be whole numbers of known predicates "
                            f"adding up to recipients (unknown {unknown}, bad {bad})")
            continue
        rounds[int(year)] = {below: total - int(r["recipients"]),
                             **{n: int(counts.get(n, 0)) for n in names}}
        sources[int(year)] = list(r.get("sources") or [])
    if problems:
        raise KlaError(f"{path}: " + "; ".join(problems))
    return {"total_regions": total, "rounds": rounds, "sources": sources}


def predicate_names(bands: pd.DataFrame | None = None) -> list[str]:
    """Predicate names from lowest to highest."""
    return list((bands if bands is not None else load_bands())["predicate"])
