"""Raw dataset specifications, read from ``kla_analysis/data/datasets.yaml``.

A spec says which folder under ``raw/`` holds a dataset, which headers agencies write for each
field (aliases), field types, required fields, keys, ranges and allowed values. The readers
match headers through :func:`header_targets`; the validator and the template writer read the
same specs, so adding an alias in the YAML is all it takes to accept a new header.

A data folder extends them without touching the package: :func:`region_specs` adds the
headers and measure names of its ``raw/kla.yaml`` (``aliases:``, ``measures:``) to the
packaged ones and reports, as ``invalid_config`` problems, names that are no dataset, field
or measure and headers that would mean two things. A measure name or header holding the word
``kelurahan`` is also read with ``desa``, ``desa/kelurahan`` and ``kelurahan/desa`` in its
place (:func:`village_variants`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pandas as pd

from ..catalog import load_catalog
from ..config import package_file
from ..yamlfile import read_yaml
from .cleaning import text_key

IGNORE = "_ignore"
MEASURE_PREFIX = "m:"


_key = lru_cache(maxsize=65536)(text_key)


def header_key(text: object) -> str:
    """Normalised header text (:func:`kla_analysis.ingest.cleaning.text_key`): NFC, zero-width
    characters removed, lower case, ``%`` as ``persen``, spaces and punctuation as one space;
    a symbol (emoji, ``+``, ...) is kept, so ``Nilai 🙂`` is not ``Nilai``."""
    return _key(str(text))


@dataclass(frozen=True)
class FieldSpec:
    name: str
    aliases: tuple[str, ...]
    type: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: dict[str, tuple[str, ...]] | None = None
    choices_from: str | None = None
    from_title: bool = False
    default: str | None = None
    label: bool = False
    #: required, except in rows (and tables) that give one of these other fields
    required_unless: tuple[str, ...] = ()
    #: the column must exist in a table that has this other field's column (cells may be
    #: blank)
    required_with: str | None = None

    @property
    def header(self) -> str:
        """The header the templates write (first alias)."""
        return self.aliases[0]


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    unit: str
    indicator: int | None
    names: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    value: tuple[str, ...] = ()
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    folder: str
    title_id: str
    key: tuple[str, ...]
    fields: dict[str, FieldSpec]
    ignore: tuple[str, ...] = ()
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    measures: dict[str, MeasureSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class Specs:
    datasets: dict[str, DatasetSpec]
    missing_markers: tuple[str, ...]
    note_prefixes: tuple[str, ...]
    total_labels: tuple[str, ...]
    year_min: int
    year_max: int
    percent_tolerance: float


def _text(x: object) -> str:
    if not isinstance(x, str):  # YAML reads a bare No / Yes as a boolean
        raise ValueError(f"datasets.yaml: header {x!r} must be quoted text")
    return x


def _field(name: str, d: dict) -> FieldSpec:
    choices = d.get("choices")
    return FieldSpec(
        name=name, aliases=tuple(_text(a) for a in d["aliases"]), type=d["type"],
        required=bool(d.get("required", False)), min=d.get("min"), max=d.get("max"),
        choices={k: tuple(str(x) for x in v) for k, v in choices.items()} if choices else None,
        choices_from=d.get("choices_from"), from_title=bool(d.get("from_title", False)),
        default=d.get("default"), label=bool(d.get("label", False)),
        required_unless=tuple(d.get("required_unless") or ()),
        required_with=d.get("required_with"))


_KELURAHAN = re.compile(r"(?<![/\w])kelurahan(?![/\w])", re.IGNORECASE)
_ROLES = ("names", "headers", "value", "numerator", "denominator")


def village_variants(texts: tuple[str, ...]) -> tuple[str, ...]:
    """``texts`` plus, for each text naming ``kelurahan`` (a word on its own), the same text
    with ``desa``, ``desa/kelurahan`` and ``kelurahan/desa`` instead (a kabupaten's desa are
    what a kota's kelurahan are here).

    >>> village_variants(("Cakupan forum anak kelurahan",))[1:3]
    ('Cakupan forum anak desa', 'Cakupan forum anak desa/kelurahan')
    """
    out = list(texts)
    for t in texts:
        if _KELURAHAN.search(t):
            for word in ("desa", "desa/kelurahan", "kelurahan/desa"):
                out.append(_KELURAHAN.sub(word, t))
    return tuple(dict.fromkeys(out))


def _measure(name: str, m: Mapping, headline: dict[str, int]) -> MeasureSpec:
    ind = m.get("indicator", headline.get(name))
    if name in headline and ind != headline[name]:
        raise ValueError(f"datasets.yaml: measure {name} is the catalog headline of indicator "
                         f"{headline[name]}, not {ind}")
    return MeasureSpec(
        name=name, unit=m["unit"], indicator=None if ind is None else int(ind),
        **{k: village_variants(tuple(str(x) for x in m.get(k, ()))) for k in _ROLES})


def _measures(d: dict, headline: dict[str, int]) -> dict[str, MeasureSpec]:
    return {name: _measure(name, m, headline) for name, m in (d or {}).items()}


def _headline() -> dict[str, int]:
    cat = load_catalog()
    return {m: int(i) for m, i in zip(cat["measure"], cat["indicator"], strict=True)
            if isinstance(m, str)}


@lru_cache(maxsize=1)
def load_specs() -> Specs:
    """All dataset specs (cached; treat as read-only)."""
    doc = read_yaml(package_file("datasets.yaml"), "dataset specs")
    headline = _headline()
    datasets = {}
    for name, d in doc["datasets"].items():
        datasets[name] = DatasetSpec(
            name=name, folder=d["folder"], title_id=d.get("title_id", name),
            key=tuple(d["key"]), fields={f: _field(f, fd) for f, fd in d["fields"].items()},
            ignore=tuple(_text(x) for x in d.get("ignore", ())),
            roles={r: tuple(str(x) for x in v) for r, v in (d.get("roles") or {}).items()},
            measures=_measures(d.get("measures"), headline))
        for f in datasets[name].fields.values():
            for other in (*f.required_unless, *([f.required_with] if f.required_with else [])):
                if other not in datasets[name].fields:
                    raise ValueError(f"datasets.yaml ({name}): {f.name} refers to {other!r} "
                                     "(required_unless / required_with), which is not a field")
        header_targets(datasets[name])  # fail early on ambiguous aliases
    return Specs(datasets=datasets,
                 missing_markers=tuple(str(x).lower() for x in doc["missing_markers"]),
                 note_prefixes=tuple(str(x).lower() for x in doc["note_prefixes"]),
                 total_labels=tuple(header_key(x) for x in doc["total_labels"]),
                 year_min=int(doc["years"]["min"]), year_max=int(doc["years"]["max"]),
                 percent_tolerance=float(doc["percent_tolerance"]))


def measure_target(measure: str, role: str) -> str:
    return f"{MEASURE_PREFIX}{measure}:{role}"


#: id(spec) -> (spec, its targets): the spec is kept, so an id is never reused for another
_TARGETS: dict[int, tuple[DatasetSpec, dict[str, str]]] = {}


def header_targets(spec: DatasetSpec) -> dict[str, str]:
    """Normalised header -> field name (``_ignore`` for known columns to skip, ``m:<measure>:
    <role>`` for wide statistics columns). Raises if one header would mean two things."""
    cached = _TARGETS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    targets: dict[str, str] = {}

    def add(alias: str, target: str) -> None:
        k = header_key(alias)
        if targets.get(k, target) != target:
            raise ValueError(f"datasets.yaml ({spec.name}): header {alias!r} maps to both "
                             f"{targets[k]} and {target}")
        targets[k] = target

    for f in spec.fields.values():
        for a in f.aliases:
            add(a, f.name)
    for a in spec.ignore:
        add(a, IGNORE)
    for m in spec.measures.values():
        for role in ("value", "numerator", "denominator"):
            for a in getattr(m, role):
                add(a, measure_target(m.name, role))
            for h in m.headers:
                for r in spec.roles.get(role, ()):
                    add(f"{h} {r}", measure_target(m.name, role))
                    add(f"{r} {h}", measure_target(m.name, role))
    if len(_TARGETS) > 64:  # folder specs (region_specs) come and go
        _TARGETS.clear()
    _TARGETS[id(spec)] = (spec, targets)  # specs never change once built
    return targets


def _describe(target: str) -> str:
    if target == IGNORE:
        return "a column to skip"
    if target.startswith(MEASURE_PREFIX):
        _, m, role = target.split(":")
        return f"the {role} of measure {m}"
    return f"field {target}"


def region_specs(region) -> tuple[Specs, list[dict]]:
    """The packaged specs extended by a data folder's settings (``kla_analysis.region.Region``):
    ``aliases: {<dataset>: {<field>: [...], ignore: [...]}}`` and ``measures: {<measure>:
    {names/headers/value/numerator/denominator: [...]}}`` (a new measure also gives ``unit``
    and, optionally, ``indicator``). Returns the specs and the ``invalid_config`` problems of
    names the package does not know and of headers that would mean two things (those are
    left out, so validation goes on)."""
    specs = load_specs()
    if not region.aliases and not region.measures:
        return specs, []
    problems: list[dict] = []
    datasets = dict(specs.datasets)
    where = f"raw/{region.file}"
    for ds, fields in region.aliases.items():
        if ds not in datasets:
            problems.append(region.problem(("aliases", ds), ds, (
                f"not a dataset; aliases go under one of: {', '.join(datasets)} ({where})")))
            continue
        spec = datasets[ds]
        new_fields = dict(spec.fields)
        ignore = list(spec.ignore)
        for fname, heads in fields.items():
            if fname == "ignore":
                ignore += list(heads)
            elif fname not in new_fields:
                problems.append(region.problem(("aliases", ds, fname), fname, (
                    f"not a field of {ds}; its fields: {', '.join(spec.fields)} (or ignore: "
                    f"for columns to skip) ({where})")))
            else:
                f = new_fields[fname]
                new_fields[fname] = replace(f, aliases=tuple(dict.fromkeys(
                    (*f.aliases, *heads))))
        datasets[ds] = replace(spec, fields=new_fields, ignore=tuple(dict.fromkeys(ignore)))
    if region.measures:
        stats = datasets["statistics"]
        measures = dict(stats.measures)
        headline = _headline()
        for m, extra in region.measures.items():
            texts = {k: v for k, v in extra.items() if k in _ROLES}
            if m in measures:
                old = measures[m]
                if "unit" in extra and extra["unit"] != old.unit:
                    problems.append(region.problem(("measures", m, "unit"), extra["unit"], (
                        f"measure {m} is a {old.unit} in the package; leave out unit: "
                        f"({where})")))
                measures[m] = replace(old, **{k: tuple(dict.fromkeys(
                    (*getattr(old, k), *village_variants(v)))) for k, v in texts.items()})
            elif "unit" not in extra:
                from .cleaning import closest

                near = closest([m], list(measures)).get(m)
                problems.append(region.problem(("measures", m), m, (
                    f"not a measure of the package (closest: {near or 'none'}); a new measure "
                    f"needs unit: percent or count ({where})")))
            else:
                measures[m] = _measure(m, {**texts, "unit": extra["unit"],
                                           **({"indicator": extra["indicator"]}
                                              if "indicator" in extra else {})}, headline)
        # a measure name (Ukuran) may name one measure only: the folder's that clash go
        from .cleaning import choice_key, choice_lookup

        def key(t: str) -> str:
            return choice_key(pd.Series([t])).iloc[0]

        owner = choice_lookup((m, n) for m, ms in stats.measures.items()
                              for n in (m, *ms.names))
        for m in region.measures:
            if m not in measures:
                continue
            keep = []
            for n in measures[m].names:
                k = key(n)
                if owner.get(k, m) != m:
                    problems.append(region.problem(("measures", m, "names"), n, (
                        f"{n!r} already names measure {owner[k]}; give {m} another name "
                        f"({where})")))
                    continue
                owner[k] = m
                keep.append(n)
            measures[m] = replace(measures[m], names=tuple(keep))
        datasets["statistics"] = replace(stats, measures=measures)
    # a header may mean one thing only: drop the folder's aliases that clash (a problem each)
    for ds, spec in list(datasets.items()):
        if spec is specs.datasets[ds]:
            continue
        base = header_targets(specs.datasets[ds])
        seen = dict(base)
        fields = dict(spec.fields)
        for fname, f in spec.fields.items():
            keep = []
            for a in f.aliases:
                k = header_key(a)
                if seen.get(k, fname) != fname:
                    problems.append(region.problem(("aliases", ds, fname), a, (
                        f"header {a!r} already means {_describe(seen[k])} of {ds}; give "
                        f"{fname} another header ({where})")))
                    continue
                seen[k] = fname
                keep.append(a)
            fields[fname] = replace(f, aliases=tuple(keep))
        spec = replace(spec, fields=fields)
        ignore = []
        for a in spec.ignore:
            k = header_key(a)
            if seen.get(k, IGNORE) != IGNORE:
                problems.append(region.problem(("aliases", ds, "ignore"), a, (
                    f"header {a!r} means {_describe(seen[k])} of {ds}; it cannot be skipped "
                    f"({where})")))
                continue
            seen[k] = IGNORE
            ignore.append(a)
        spec = replace(spec, ignore=tuple(ignore))
        measures = dict(spec.measures)
        for m, ms in spec.measures.items():
            changes = {}
            for role in ("value", "numerator", "denominator"):
                keep = []
                for a in getattr(ms, role):
                    k = header_key(a)
                    target = measure_target(m, role)
                    if seen.get(k, target) != target:
                        problems.append(region.problem(("measures", m, role), a, (
                            f"header {a!r} already means {_describe(seen[k])}; give measure "
                            f"{m} another header ({where})")))
                        continue
                    seen[k] = target
                    keep.append(a)
                changes[role] = tuple(keep)
            measures[m] = replace(ms, **changes)
        spec = replace(spec, measures=measures)
        try:
            header_targets(spec)
        except ValueError as err:  # a combined header (headers x roles) clashing
            problems.append(region.problem(("measures",), "", f"{err} ({where})"))
            spec = specs.datasets[ds]
        datasets[ds] = spec
    return replace(specs, datasets=datasets), problems
