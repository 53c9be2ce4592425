"""The data folder's own settings: ``raw/kla.yaml`` (``raw/city.yaml`` keeps working).

Everything that differs from one kabupaten or kota to the next lives in the data folder, never
in the package: the region's name, type and province, the weight set its self-assessment is
written on, the headers and measure names its offices write (extending the package's
``datasets.yaml``), its OPD names for the catalog's roles, the word for its smallest areas,
which kecamatan each puskesmas (or other service area) belongs to, and the count that weights
percentages given per area without their counts. The format (docs/data-contracts.md)::

    region: Kabupaten Banjar        # as in the gazetteer (city: is read too)
    type: kabupaten                 # kabupaten | kota (default: from the name)
    province: Kalimantan Selatan
    weights: probable_2023          # a packaged weight set or a CSV next to kla.yaml
    aliases:                        # headers, per dataset and field (ignore: columns to skip)
      statistics:
        kelurahan: [Nama Desa/Kel]
        ignore: [Kode Desa]
    measures:                       # more names/headers per measure (new ones need a unit)
      child_forum_coverage:
        names: [Cakupan forum anak desa binaan]
    opd:                            # the catalog's OPD role -> this region's office
      DP3APMP2KB: DP3AP2KB Kabupaten Banjar
    area_word: desa                 # what the smallest areas are called in reports
    service_areas:                  # puskesmas (or other service area) -> its kecamatan
      Puskesmas Martapura 1: Martapura
    area_weights:                   # percentages per area without counts, weighted by
      default: child_population     # this count measure of the same areas and data year
    effort_unit:                    # the unit the task force counts actions' efforts in
      id: hari kerja                # (one text serves both languages)
      en: person-days

``read_region`` returns the settings and, as rows of the problems table (rule
``invalid_config``, the file's line in ``row``), everything wrong with the file's shape; the
validator checks the names in it (datasets, fields, measures, OPD roles, kecamatan) against
the package and the gazetteer. This module only reads YAML: it imports nothing but the root
helpers, so every stage can use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .yamlfile import loads

SETTINGS_FILE = "kla.yaml"
#: The settings file of earlier versions (region name, province, weights): still read.
LEGACY_FILE = "city.yaml"
REGION_TYPES = ("kabupaten", "kota")
#: Words for the smallest areas a region may choose (``area_word``).
AREA_WORDS = ("desa", "kelurahan", "desa/kelurahan")
#: Measure keys under ``measures:`` (``unit`` and ``indicator`` only for a new measure).
MEASURE_KEYS = ("names", "headers", "value", "numerator", "denominator", "unit", "indicator")
#: The keys of the settings file, with what each holds (for the hint of an unknown key).
KEYS = {
    "region": "the kabupaten or kota, as in the gazetteer (also: city)",
    "city": "the kabupaten or kota (the name city.yaml used; region: is the same)",
    "type": "kabupaten or kota",
    "province": "the province",
    "weights": "a packaged weight set (probable_2023, equal) or a CSV next to the file",
    "aliases": "headers per dataset and field: aliases: {statistics: {kelurahan: [...]}}",
    "measures": "more names or headers per measure: measures: {<measure>: {names: [...]}}",
    "opd": "the catalog's OPD roles mapped to this region's offices: opd: {Dinkes: ...}",
    "area_word": "desa, kelurahan or desa/kelurahan",
    "service_areas": "puskesmas (or other service area) -> kecamatan",
    "area_weights": "measure (or default) -> the count measure weighting its area figures",
    "effort_unit": "the unit of the actions' efforts, e.g. effort_unit: {id: hari kerja, "
                   "en: person-days}",
}
#: The languages ``effort_unit`` names its unit in.
EFFORT_UNIT_LANGS = ("id", "en")


@dataclass(frozen=True)
class Region:
    """The settings of one data folder (all optional; see the module docstring)."""

    #: The file they were read from (``kla.yaml``, ``city.yaml``) or None.
    file: str | None = None
    name: str | None = None
    #: ``kabupaten``, ``kota`` or None (not known: neutral wording).
    type: str | None = None
    province: str | None = None
    weights: str | None = None
    #: dataset -> field (or ``ignore``) -> extra headers
    aliases: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    #: measure -> key of :data:`MEASURE_KEYS` -> extra texts (``unit``/``indicator``: a value)
    measures: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    #: catalog OPD role -> this region's office name
    opd: Mapping[str, str] = field(default_factory=dict)
    area_word: str | None = None
    #: service area (puskesmas) as written -> kecamatan as written
    service_areas: Mapping[str, str] = field(default_factory=dict)
    #: measure (or ``default``) -> count measure used as weight
    area_weights: Mapping[str, str] = field(default_factory=dict)
    #: language (``id``, ``en``) -> the unit the task force counts efforts in; empty when
    #: the folder sets none (reports then say the unit is the package's assumption)
    effort_unit: Mapping[str, str] = field(default_factory=dict)
    #: line of each key path in the file (``("opd", "Dinkes")`` -> 12), for problem rows
    lines: Mapping[tuple, int] = field(default_factory=dict, repr=False)

    def line(self, *path: object) -> int | None:
        """The file's line of a key path (its nearest known parent), or None."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def problem(self, path: tuple, value: object, hint: str) -> dict:
        """An ``invalid_config`` problem row about the key ``path`` of the settings file."""
        return {"file": self.file or SETTINGS_FILE, "sheet": "", "row": self.line(*path),
                "column": ".".join(str(p) for p in path), "rule": "invalid_config",
                "value": "" if value is None else str(value), "hint": hint}

    @property
    def village_word(self) -> str:
        """The word for the smallest areas: ``area_word``, else ``kelurahan`` in a kota
        and ``desa/kelurahan`` otherwise (a kabupaten has desa and kelurahan)."""
        if self.area_word:
            return self.area_word
        return "kelurahan" if self.type == "kota" else "desa/kelurahan"


def region_type(name: object) -> str | None:
    """``kabupaten`` or ``kota`` from a region's name (``Kab.`` reads as Kabupaten).

    >>> region_type("Kabupaten Banjar"), region_type("Kab. Tapin"), region_type("Kota Banjarbaru")
    ('kabupaten', 'kabupaten', 'kota')
    >>> region_type("Banjar") is None
    True
    """
    text = unicodedata.normalize("NFC", str(name or "")).strip().casefold()
    if re.match(r"^kab(upaten)?\b", text):
        return "kabupaten"
    if re.match(r"^kota\b", text):
        return "kota"
    return None


def _lines(text: str) -> dict[tuple, int]:
    """1-based line of every mapping key of a (small, already checked) YAML text."""
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}
    out: dict[tuple, int] = {}
    stack = [((), node)]
    while stack:
        path, n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = (*path, k.value)
                out.setdefault(key, k.start_mark.line + 1)
                stack.append((key, v))
    return out


def _text(value: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _strings(value: object) -> tuple[str, ...] | None:
    """A list of non-blank texts (one text is a list of one); None when it is not that.
    A bare ``yes``/``no``/number is refused: YAML reads it as a boolean or number."""
    items = value if isinstance(value, list | tuple) else [value]
    if not all(isinstance(v, str) and _text(v) for v in items):
        return None
    return tuple(_text(v) for v in items)


def read_region(raw_dir: str | Path) -> tuple[Region, list[dict]]:
    """The folder's settings (``raw/kla.yaml``, else ``raw/city.yaml``; empty ``Region()``
    when neither exists) and the problems of its shape (``invalid_config`` rows, the file's
    line in ``row``). Never raises on a bad file: validation lists the problems."""
    raw = Path(raw_dir)
    new, old = raw / SETTINGS_FILE, raw / LEGACY_FILE
    path = new if new.is_file() else old if old.is_file() else None
    if path is None:
        return Region(), []
    base = Region(file=path.name)
    problems: list[dict] = []
    if path is new and old.is_file():
        problems.append(base.problem((), LEGACY_FILE, (
            f"raw/ holds both {SETTINGS_FILE} and {LEGACY_FILE}; only {SETTINGS_FILE} is read: "
            f"move what {LEGACY_FILE} says into {SETTINGS_FILE} and delete {LEGACY_FILE}")))
    try:
        text = path.read_text(encoding="utf-8-sig")
        doc = loads(text)
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as err:
        return base, [*problems, base.problem((), "", f"not valid YAML: {err}; fix "
                                              f"raw/{path.name}")]
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        return base, [*problems, base.problem((), "", (
            f"raw/{path.name} must be a list of 'key: value' lines, e.g. 'region: Kabupaten "
            "Banjar' and 'province: Kalimantan Selatan'"))]
    lines = _lines(text)
    reg = Region(file=path.name, lines=lines)

    def bad(p: tuple, value: object, hint: str) -> None:
        problems.append(reg.problem(p, value, f"{hint} (raw/{path.name})"))

    for key in doc:
        if key not in KEYS:
            bad((key,), key, f"unknown setting {key!r}; known: " + "; ".join(
                f"{k}: {v}" for k, v in KEYS.items()))
    if "region" in doc and "city" in doc and _text(doc["region"]) != _text(doc["city"]):
        bad(("city",), doc["city"], "region: and city: name different regions; keep region:")
    name = doc.get("region", doc.get("city"))
    name = _text(name) if isinstance(name, str) and _text(name) else None
    if name is None and ("region" in doc or "city" in doc):
        bad(("region" if "region" in doc else "city",), doc.get("region", doc.get("city")),
            "write the kabupaten or kota as text, e.g. 'region: Kabupaten Banjar'")
    kind = doc.get("type")
    if kind is not None:
        kind = _text(kind).casefold() if isinstance(kind, str) else kind
        if kind not in REGION_TYPES:
            bad(("type",), doc.get("type"), "type is kabupaten or kota")
            kind = None
        elif name and region_type(name) not in (None, kind):
            bad(("type",), doc.get("type"), f"{name} reads as a {region_type(name)}, not a "
                f"{kind}: correct the type or the name")
    kind = kind or region_type(name)
    province = doc.get("province")
    if province is not None and not (isinstance(province, str) and _text(province)):
        bad(("province",), province, "write the province as text")
        province = None
    weights = doc.get("weights")
    if weights is not None and not isinstance(weights, str):
        bad(("weights",), weights, "weights is a weight set's name or a CSV file name")
        weights = None

    aliases: dict[str, dict[str, tuple[str, ...]]] = {}
    given = doc.get("aliases") or {}
    if not isinstance(given, Mapping):
        bad(("aliases",), "", "aliases: lists headers per dataset and field, e.g. "
            "aliases: {statistics: {kelurahan: [Nama Desa]}}")
        given = {}
    for ds, fields in given.items():
        if not isinstance(fields, Mapping):
            bad(("aliases", ds), "", f"under aliases.{ds}, list headers per field, e.g. "
                f"{ds}: {{kelurahan: [Nama Desa]}}")
            continue
        for fname, heads in fields.items():
            texts = _strings(heads)
            if texts is None:
                bad(("aliases", ds, fname), heads, "a header or a list of headers, as text "
                    "(quote a header such as 'No' or '2023')")
                continue
            aliases.setdefault(str(ds), {})[str(fname)] = texts

    measures: dict[str, dict[str, object]] = {}
    given = doc.get("measures") or {}
    if not isinstance(given, Mapping):
        bad(("measures",), "", "measures: lists names per measure, e.g. measures: "
            "{child_forum_coverage: {names: [Cakupan forum anak desa]}}")
        given = {}
    for m, spec in given.items():
        if not isinstance(spec, Mapping):
            bad(("measures", m), "", f"under measures.{m}, give names:, headers:, value:, "
                "numerator: or denominator: lists")
            continue
        out: dict[str, object] = {}
        for k, v in spec.items():
            if k not in MEASURE_KEYS:
                bad(("measures", m, k), k, "known keys: " + ", ".join(MEASURE_KEYS))
            elif k == "unit":
                if v not in ("percent", "count"):
                    bad(("measures", m, k), v, "unit is percent or count")
                else:
                    out[k] = v
            elif k == "indicator":
                if not isinstance(v, int) or isinstance(v, bool):
                    bad(("measures", m, k), v, "indicator is an indicator number, e.g. 6")
                else:
                    out[k] = v
            elif (texts := _strings(v)) is None:
                bad(("measures", m, k), v, "a text or a list of texts")
            else:
                out[k] = texts
        measures[str(m)] = out

    opd: dict[str, str] = {}
    given = doc.get("opd") or {}
    if not isinstance(given, Mapping):
        bad(("opd",), "", "opd: maps the catalog's OPD roles to this region's offices, e.g. "
            "opd: {Dinas PUPR: Dinas PUPRP}")
        given = {}
    for role, office in given.items():
        if not (isinstance(office, str) and _text(office)):
            bad(("opd", role), office, "write the office's name as text")
        else:
            opd[_text(role)] = _text(office)

    word = doc.get("area_word")
    if word is not None:
        word = _text(word).casefold() if isinstance(word, str) else word
        if word not in AREA_WORDS:
            bad(("area_word",), doc.get("area_word"), "area_word is one of: "
                + ", ".join(AREA_WORDS))
            word = None

    service: dict[str, str] = {}
    given = doc.get("service_areas") or {}
    if not isinstance(given, Mapping):
        bad(("service_areas",), "", "service_areas: maps each puskesmas to its kecamatan, e.g. "
            "service_areas: {Puskesmas Martapura 1: Martapura}")
        given = {}
    for unit, kec in given.items():
        if not (isinstance(kec, str) and _text(kec)):
            bad(("service_areas", unit), kec, "write the kecamatan as text")
        else:
            service[_text(unit)] = _text(kec)

    weights_by: dict[str, str] = {}
    given = doc.get("area_weights") or {}
    if not isinstance(given, Mapping):
        bad(("area_weights",), "", "area_weights: maps a measure (or default) to the count "
            "measure that weights it, e.g. area_weights: {default: child_population}")
        given = {}
    for m, w in given.items():
        if not (isinstance(w, str) and _text(w)):
            bad(("area_weights", m), w, "write the weighting measure's code, e.g. "
                "child_population")
        else:
            weights_by[str(m)] = _text(w)

    effort_unit = _effort_unit(doc, bad)

    return Region(file=path.name, name=name, type=kind,
                  province=_text(province) if province else None,
                  weights=weights.strip() if isinstance(weights, str) and weights.strip()
                  else None, aliases=aliases, measures=measures, opd=opd, area_word=word,
                  service_areas=service, area_weights=weights_by, effort_unit=effort_unit,
                  lines=lines), problems


def _effort_unit(doc: Mapping, bad) -> dict[str, str]:
    """``effort_unit:`` as ``{id: ..., en: ...}`` (one text: the same in both languages);
    empty when absent or wrong (``bad`` records the problem)."""
    given = doc.get("effort_unit")
    if given is None:
        return {}
    if isinstance(given, str) and _text(given):
        return dict.fromkeys(EFFORT_UNIT_LANGS, _text(given))
    hint = ("effort_unit names the unit the efforts are counted in, as text or per "
            "language, e.g. effort_unit: {id: hari kerja, en: person-days}")
    if not isinstance(given, Mapping):
        bad(("effort_unit",), given, hint)
        return {}
    out: dict[str, str] = {}
    for lang, text in given.items():
        if lang not in EFFORT_UNIT_LANGS:
            bad(("effort_unit", lang), lang, "known languages: " + ", ".join(EFFORT_UNIT_LANGS))
        elif not (isinstance(text, str) and _text(text)):
            bad(("effort_unit", lang), text, hint)
        else:
            out[lang] = _text(text)
    if len(out) < len([lang for lang in given if lang in EFFORT_UNIT_LANGS]):
        return {}  # a language's unit is wrong: neither is used, so both stay alike
    missing = [lang for lang in EFFORT_UNIT_LANGS if lang not in given]  # bad ones: above
    if out and missing:
        bad(("effort_unit",), "", f"give the unit in {' and '.join(missing)} too ({hint})")
        return {}
    return out


def load_region(raw_dir: str | Path) -> Region:
    """:func:`read_region` without its problems (``kla validate`` lists them)."""
    return read_region(raw_dir)[0]


def map_opd(names: object, opd: Mapping[str, str]) -> object:
    """An OPD text of the catalog (``"Bagian Hukum; DP3APMP2KB"``) with each role replaced by
    the region's office (``opd``); roles without one stay as they are.

    >>> map_opd("Bagian Hukum; DP3APMP2KB", {"DP3APMP2KB": "DP3AP2KB"})
    'Bagian Hukum; DP3AP2KB'
    """
    if not opd or not isinstance(names, str):
        return names
    return "; ".join(opd.get(p.strip(), p.strip()) for p in names.split(";"))
