"""Raw dataset specifications, read from ``kla_analysis/data/datasets.yaml``.

A spec says which folder under ``raw/`` holds a dataset, which headers agencies write for each
field (aliases), field types, required fields, keys, ranges and allowed values. The readers
match headers through :func:`header_targets`; the validator and the template writer read the
same specs, so adding an alias in the YAML is all it takes to accept a new header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

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


def _measures(d: dict, headline: dict[str, int]) -> dict[str, MeasureSpec]:
    out = {}
    for name, m in (d or {}).items():
        ind = m.get("indicator", headline.get(name))
        if name in headline and ind != headline[name]:
            raise ValueError(f"datasets.yaml: measure {name} is the catalog headline of indicator "
                             f"{headline[name]}, not {ind}")
        out[name] = MeasureSpec(
            name=name, unit=m["unit"], indicator=None if ind is None else int(ind),
            **{k: tuple(str(x) for x in m.get(k, ())) for k in
               ("names", "headers", "value", "numerator", "denominator")})
    return out


@lru_cache(maxsize=1)
def load_specs() -> Specs:
    """All dataset specs (cached; treat as read-only)."""
    doc = read_yaml(package_file("datasets.yaml"), "dataset specs")
    cat = load_catalog()
    headline = {m: int(i) for m, i in zip(cat["measure"], cat["indicator"], strict=True)
                if isinstance(m, str)}
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


_TARGETS: dict[int, dict[str, str]] = {}


def header_targets(spec: DatasetSpec) -> dict[str, str]:
    """Normalised header -> field name (``_ignore`` for known columns to skip, ``m:<measure>:
    <role>`` for wide statistics columns). Raises if one header would mean two things."""
    if id(spec) in _TARGETS:
        return _TARGETS[id(spec)]
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
    _TARGETS[id(spec)] = targets  # specs are loaded once (cached) and never change
    return targets
