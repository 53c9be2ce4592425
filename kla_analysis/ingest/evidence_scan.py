"""``kla evidence scan``: a folder of data dukung documents -> the evidence inventory.

The task force keeps the documents in a shared folder (``Klaster II/7 Perkawinan
Anak/7.1 Data dispensasi.pdf``, ``Indikator 7/...``, or flat ``7.1_sk.pdf``). :func:`scan_folder`
walks it (any depth, links out of the folder refused, system files skipped), places each file
on a catalog evidence item by the codes in its path or by the folder's mapping file
(``data_dukung.yaml`` / ``.csv``), reads each one (:mod:`kla_analysis.ingest.documents`:
type by content, pages, text layer, damage, hash, date and decree number) and lists every
problem with the file's path. Files it cannot place are listed, never guessed.

:func:`inventory_frame` turns a scan into the evidence dataset (one row per catalog item:
status, title, date, OPD, relative file path) and :func:`write_inventory` writes it in the
evidence template's own workbook (``kla template``), to a path outside ``raw/``: the analyst
reviews it and copies it to ``raw/evidence/``, where ``kla validate`` accepts it as it is.

A rescan of an unchanged folder reuses what it read: the cache (JSON, :func:`default_cache`)
is keyed by relative path, size, modification time and content hash, and by the rules file
and reader version. Rules: ``kla_analysis/data/evidence_files.yaml``; validity windows:
``evidence_dates.yaml`` (the same rules ``kla validate`` applies).
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

import pandas as pd

from ..atomic import write_text
from ..catalog import evidence_date_rules, load_evidence_requirements
from ..chars import REFUSED, strip_for_xml
from ..config import ProjectPaths, project_paths
from ..errors import PROBLEM_COLUMNS, KlaError, problems_frame
from ..questions import load_questions
from ..region import load_region
from ..yamlfile import read_yaml
from .documents import READER_VERSION, file_hash, load_rules, read_document
from .guards import system_file_kind

#: One row per file found (``Scan.files``); documented in docs/data-contracts.md.
FILE_COLUMNS = ["path", "indicator", "item", "question", "placed_by", "type", "extension",
                "size", "sha256", "pages", "text_layer", "encrypted", "password", "damaged",
                "doc_date", "date_source", "decree", "decree_source", "title", "draft",
                "status", "flags", "opd"]
#: One row per catalog item (``Scan.items``).
ITEM_COLUMNS = ["cluster", "indicator", "item", "name_id", "name_en", "opd", "status",
                "files", "title", "document_date", "date_source", "decree", "question",
                "flags"]
#: Evidence statuses, best first (the processed table's codes).
STATUS_ORDER = ["ada", "dalam_proses", "kedaluwarsa", "tidak_ada"]
#: How the template writes each status (its drop-down list).
STATUS_WORDS = {"ada": "ada", "dalam_proses": "dalam proses", "kedaluwarsa": "kedaluwarsa",
                "tidak_ada": "tidak ada"}
CACHE_NAME = ".kla-evidence-cache"
_ROMAN = {"i": "I", "ii": "II", "iii": "III", "iv": "IV", "v": "V",
          "1": "I", "2": "II", "3": "III", "4": "IV", "5": "V"}


@dataclass
class Scan:
    """The result of :func:`scan_folder`. ``files``: one row per file (``FILE_COLUMNS``;
    ``item`` empty for files that could not be placed); ``items``: one row per catalog
    evidence item (``ITEM_COLUMNS``; ``files`` a list of relative paths, best first);
    ``questions``: the question catalog; ``problems``: ``PROBLEM_COLUMNS`` (``file`` is the
    path relative to the folder); ``stats``: counts (files, read, reused, skipped)."""

    folder: Path
    year: int
    files: pd.DataFrame
    items: pd.DataFrame
    questions: pd.DataFrame
    problems: pd.DataFrame
    notices: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    city: str | None = None
    #: path as written in the tables -> the file, for names that are not valid UTF-8
    real_paths: dict = field(default_factory=dict)


# --- paths: never into raw/ -------------------------------------------------------------------

def inside_raw(path: Path, paths: ProjectPaths | None = None) -> bool:
    """Whether ``path`` lies in a data folder's ``raw/``: the run's (``paths.raw``) or any
    folder named ``raw`` holding a ``kla.yaml`` or ``city.yaml`` (another data folder's)."""
    p = Path(path).expanduser().resolve()
    if paths is not None:
        raw = paths.raw.resolve()
        if p == raw or raw in p.parents:
            return True
    return any(a.name == "raw" and ((a / "kla.yaml").is_file() or (a / "city.yaml").is_file())
               for a in [p, *p.parents])


def refuse_raw(path: Path, paths: ProjectPaths | None, what: str) -> Path:
    path = Path(path).expanduser().resolve()
    if inside_raw(path, paths):
        raise KlaError(f"{path} is inside a raw data folder, which code never writes: "
                       f"choose another {what} (the analyst reviews the inventory, then copies "
                       "it to raw/evidence/)")
    return path


def default_cache(folder: Path, paths: ProjectPaths | None = None) -> Path:
    """The cache file of a scan of ``folder``: ``.kla-evidence-cache/scan.json`` in the
    folder (hidden: scans skip it), shared by ``kla evidence scan`` and ``pack``; in the
    user's cache folder (``$XDG_CACHE_HOME/kla-analysis/``) when the folder is read-only or
    inside ``raw/``, which code never writes."""
    folder = Path(folder).resolve()
    cache = folder / CACHE_NAME / "scan.json"
    if inside_raw(cache, paths) or not os.access(folder, os.W_OK):
        key = hashlib.sha256(str(folder).encode("utf-8", "surrogateescape")).hexdigest()[:12]
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        cache = home / "kla-analysis" / f"scan-{key}.json"
    return cache


# --- the catalog a scan matches against --------------------------------------------------------

@dataclass(frozen=True)
class Catalog:
    items: pd.DataFrame       # indicator, item, name_id, name_en, opd, cluster
    questions: pd.DataFrame   # indicator, question, evidence (list), max_points, text_id, ...
    cluster_of: dict          # indicator -> cluster code
    item_set: frozenset
    items_of: dict            # indicator -> [items]
    q_items: dict             # (indicator, question) -> [items]
    name_of: dict             # item -> name_id


def load_scan_catalog(opd: Mapping[str, str] | None = None) -> Catalog:
    from ..catalog import load_catalog

    cat = load_catalog()
    ev = load_evidence_requirements(opd=opd)
    cluster_of = dict(zip(cat["indicator"].astype(int), cat["cluster"], strict=True))
    ev = ev.assign(cluster=ev["indicator"].map(cluster_of))
    qs = load_questions().copy()
    qs["evidence"] = qs["evidence"].str.split("; ")
    return Catalog(
        items=ev, questions=qs, cluster_of=cluster_of, item_set=frozenset(ev["item"]),
        items_of={int(i): list(g["item"]) for i, g in ev.groupby("indicator")},
        q_items={(int(r.indicator), int(r.question)): list(r.evidence)
                 for r in qs.itertuples()},
        name_of=dict(zip(ev["item"], ev["name_id"], strict=True)))


# --- codes in a path ------------------------------------------------------------------------------

def _norm(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    return " ".join(t.replace("_", " ").split())


@dataclass
class Codes:
    items: list = field(default_factory=list)           # (item, segment)
    indicators: list = field(default_factory=list)      # strong: (indicator, segment)
    weak: list = field(default_factory=list)            # bare folder numbers
    questions: list = field(default_factory=list)       # (indicator or None, question, segment)
    clusters: list = field(default_factory=list)        # (cluster, segment)
    unknown: list = field(default_factory=list)         # item-like codes not in the catalog


class PathReader:
    """Reads the codes in each segment of a relative path (rules: ``matching`` of
    ``evidence_files.yaml``)."""

    def __init__(self, rules: dict, catalog: Catalog):
        m = rules["matching"]
        self.catalog = catalog
        words = lambda key: "|".join(sorted((re.escape(_norm(w)) for w in m[key]),  # noqa: E731
                                            key=len, reverse=True))
        sep = r"[\s.:#-]*"
        self.item_start = re.compile(r"^\s*0*(\d{1,2})\s*[.,-]\s*0*(\d{1,2})(?![\d])")
        self.item_word = re.compile(rf"(?<![a-z])(?:{words('item_words')}){sep}0*(\d{{1,2}})"
                                    r"\s*[.,-]\s*0*(\d{1,2})(?!\d)")
        self.indicator = re.compile(rf"(?<![a-z])(?:{words('indicator_words')}){sep}0*(\d{{1,2}})"
                                    r"(?:\s*[.,-]\s*0*(\d{1,2}))?(?!\d)")
        self.question = re.compile(rf"(?<![a-z])(?:{words('question_words')}){sep}"
                                   r"(?:0*(\d{1,2})\s*[.,-]\s*)?0*(\d{1,2})(?!\d)")
        self.bare = re.compile(r"^\s*0*(\d{1,2})(?!\d)(?!\s*[.,-]\s*\d)")
        self.cluster = re.compile(rf"(?<![a-z])(?:{words('cluster_words')}){sep}"
                                  r"(iii|ii|iv|v|i|[1-5])(?![a-z0-9])")
        self.blocks = {_norm(k): v for k, v in m["block_names"].items()}
        self.draft = re.compile(rf"(?<![a-z])(?:{words('draft_markers')})(?![a-z])")

    def codes(self, parts: tuple[str, ...]) -> Codes:
        out = Codes()
        last = len(parts) - 1
        for k, raw in enumerate(parts):
            seg = _norm(PurePosixPath(raw).stem if k == last else raw)
            found_item = False
            for rx in (self.item_start, self.item_word):
                for mm in rx.finditer(seg):
                    code = f"{int(mm.group(1))}.{int(mm.group(2))}"
                    if code in self.catalog.item_set:
                        out.items.append((code, raw))
                    else:
                        out.unknown.append((code, raw))
                    found_item = True
            for mm in self.indicator.finditer(seg):
                ind = int(mm.group(1))
                if mm.group(2) is not None and not found_item:
                    code = f"{ind}.{int(mm.group(2))}"
                    (out.items if code in self.catalog.item_set else out.unknown).append(
                        (code, raw))
                out.indicators.append((ind, raw))
            for mm in self.question.finditer(seg):
                ind = int(mm.group(1)) if mm.group(1) else None
                out.questions.append((ind, int(mm.group(2)), raw))
            block = None
            cm = self.cluster.search(seg)
            if cm:
                block = _ROMAN[cm.group(1)]
            else:
                rest = re.sub(r"^[\s\d.,:()-]+", "", seg)  # "1. Kelembagaan" -> "kelembagaan"
                block = next((v for n, v in self.blocks.items()
                              if rest == n or rest.startswith(n + " ")), None)
            if block:
                out.clusters.append((block, raw))
            # a bare number names an indicator only in a folder that is not a block folder
            # ("1. Kelembagaan" numbers the blocks) and holds no stronger code
            if (k < last and not block and not found_item and not self.indicator.search(seg)
                    and not self.question.search(seg)):
                bm = self.bare.match(seg)
                if bm:
                    out.weak.append((int(bm.group(1)), raw))
        return out

    def is_draft(self, parts: tuple[str, ...]) -> bool:
        return any(self.draft.search(_norm(p)) for p in parts)


def place(codes: Codes, catalog: Catalog) -> dict:
    """``indicator, item, question`` of a file from its path's codes, or the reason it
    cannot be placed (``rule``: unplaced / conflicting_codes / unknown_item /
    ambiguous_item, ``value``: what was read)."""
    res = {"indicator": None, "item": None, "question": None, "rule": "", "value": ""}
    items = sorted({i for i, _ in codes.items})
    if len(items) > 1:
        return {**res, "rule": "conflicting_codes", "value": ", ".join(items)}
    strong = {int(i.split(".")[0]) for i in items} | {i for i, _ in codes.indicators} | {
        i for i, _, _ in codes.questions if i is not None}
    if len(strong) > 1:
        return {**res, "rule": "conflicting_codes",
                "value": "indicator " + ", ".join(map(str, sorted(strong)))}
    if not strong:
        weak = {i for i, _ in codes.weak if i in catalog.items_of}
        if len(weak) > 1:
            return {**res, "rule": "conflicting_codes",
                    "value": "indicator " + ", ".join(map(str, sorted(weak)))}
        strong = weak
    if not strong:
        if codes.unknown:
            return {**res, "rule": "unknown_item", "value": codes.unknown[0][0]}
        return {**res, "rule": "unplaced"}
    ind = next(iter(strong))
    if ind not in catalog.items_of:
        return {**res, "rule": "unknown_item", "value": f"indicator {ind}"}
    res["indicator"] = ind
    clusters = {c for c, _ in codes.clusters}
    if clusters and catalog.cluster_of[ind] not in clusters:
        return {**res, "rule": "conflicting_codes", "value": (
            f"{', '.join(sorted(clusters))} vs indicator {ind} "
            f"(klaster {catalog.cluster_of[ind]})")}
    qnums = sorted({q for _, q, _ in codes.questions})
    if len(qnums) > 1:
        return {**res, "rule": "conflicting_codes",
                "value": "question " + ", ".join(map(str, qnums))}
    if qnums:
        if (ind, qnums[0]) not in catalog.q_items:
            return {**res, "rule": "unknown_item", "value": f"question {ind}.{qnums[0]}"}
        res["question"] = qnums[0]
    if items:
        item = items[0]
        if res["question"] and item not in catalog.q_items[(ind, res["question"])]:
            return {**res, "rule": "conflicting_codes",
                    "value": f"{item} is not expected by question {ind}.{res['question']}"}
        return {**res, "item": item}
    if codes.unknown:
        return {**res, "rule": "unknown_item", "value": codes.unknown[0][0]}
    pool = (catalog.q_items[(ind, res["question"])] if res["question"]
            else catalog.items_of[ind])
    if len(pool) == 1:
        return {**res, "item": pool[0]}
    where = f"question {ind}.{res['question']}" if res["question"] else f"indicator {ind}"
    return {**res, "rule": "ambiguous_item", "value": f"{where}: {', '.join(pool)}"}


# --- the mapping file ---------------------------------------------------------------------------

_MAP_ALIASES = {
    "path": ["path", "pola", "berkas", "file", "nama file", "lokasi", "glob", "tautan"],
    "item": ["item", "kode", "kode data dukung", "kode dd", "data dukung"],
    "question": ["question", "pertanyaan", "nomor pertanyaan"],
    "status": ["status"],
    "title": ["title", "judul", "judul dokumen"],
    "opd": ["opd", "opd penanggung jawab", "penanggung jawab"],
}


def _status_code(value: object) -> str | None:
    from .specs import load_specs

    choices = load_specs().datasets["evidence"].fields["status"].choices or {}
    key = " ".join(str(value).lower().replace("_", " ").split())
    for code, words in choices.items():
        if key == code.replace("_", " ") or key in {" ".join(w.lower().split()) for w in words}:
            return code
    return None


def read_mapping(path: Path, folder: Path, catalog: Catalog) -> tuple[list[dict], list[str],
                                                                        list[dict]]:
    """``(entries, ignore globs, problems)`` of a mapping file (YAML or CSV): each entry
    ``pattern, item, question, status, title, opd, line``."""
    rel = _rel_name(path, folder)
    probs: list[dict] = []
    rows: list[tuple[str, dict]] = []
    ignore: list[str] = []
    try:
        if path.suffix.lower() == ".csv":
            text = path.read_bytes().decode("utf-8-sig")
            sample = text[:4096]
            delim = ";" if sample.count(";") > sample.count(",") else ","
            reader = csv.DictReader(io.StringIO(text), delimiter=delim)
            for k, r in enumerate(reader, start=2):
                rows.append((f"row {k}", {_norm(str(a or "")): b for a, b in r.items()}))
        else:
            doc = read_yaml(path, "data dukung mapping file")
            doc = doc or {}
            if not isinstance(doc, Mapping):
                raise KlaError("a mapping file holds `files:` (a list of {path, item}) and "
                               "optionally `ignore:` (a list of globs)")
            files = doc.get("files") or []
            if isinstance(files, Mapping):
                files = [{"path": k, **(v if isinstance(v, Mapping) else {"item": v})}
                         for k, v in files.items()]
            for k, r in enumerate(files, start=1):
                if isinstance(r, Mapping):
                    rows.append((f"files #{k}", {_norm(str(a)): b for a, b in r.items()}))
                else:
                    probs.append(_problem(rel, "mapping_invalid", f"files #{k}", str(r)))
            ignore = [str(g) for g in (doc.get("ignore") or [])]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise KlaError(f"{path}: cannot read the mapping file ({err})") from None
    except KlaError as err:
        raise KlaError(f"{path}: {err}") from None
    entries = []
    for where, r in rows:
        get = {f: next((r[a] for a in al if a in r and str(r[a] or "").strip()), None)
               for f, al in _MAP_ALIASES.items()}
        pattern = str(get["path"] or "").strip().replace("\\", "/")
        item = str(get["item"] or "").strip()
        if re.fullmatch(r"0*\d{1,2}\s*[.,]\s*0*\d{1,2}", item):
            a, b = re.split(r"\s*[.,]\s*", item)
            item = f"{int(a)}.{int(b)}"
        bad = ""
        if not pattern:
            bad = "no path"
        elif pattern.startswith("/") or re.match(r"^[A-Za-z]:", pattern) or ".." in \
                PurePosixPath(pattern).parts:
            bad = f"path {pattern!r} must be relative to the folder, without '..'"
        elif item not in catalog.item_set:
            bad = f"item {item!r} is not a catalog evidence code"
        status = None
        if not bad and get["status"] is not None:
            status = _status_code(get["status"])
            if status is None:
                bad = (f"status {get['status']!r}: write ada, tidak ada, dalam proses or "
                       "kedaluwarsa")
        question = None
        if not bad and get["question"] is not None:
            try:
                question = int(str(get["question"]).strip())
            except ValueError:
                bad = f"question {get['question']!r} is not a number"
            else:
                ind = int(item.split(".")[0])
                if item not in catalog.q_items.get((ind, question), ()):
                    bad = f"question {question} of indicator {ind} does not expect item {item}"
        if bad:
            probs.append(_problem(rel, "mapping_invalid", where, bad))
            continue
        entries.append({"pattern": pattern.rstrip("/"), "folder": pattern.endswith("/"),
                        "item": item, "question": question, "status": status,
                        "title": _clean_text(get["title"]), "opd": _clean_text(get["opd"]),
                        "line": where, "used": False})
    return entries, ignore, probs


def _clean_text(v: object) -> str | None:
    if v is None:
        return None
    t = " ".join(strip_for_xml(str(v)).split())
    return t or None


def mapping_for(rel: str, entries: list[dict]) -> tuple[dict | None, list[dict]]:
    """The mapping entry for ``rel``: an exact path beats a folder, a longer folder beats a
    shorter one, any of them beats a glob; ``(None, [entries])`` when the best ones disagree."""
    ranked = []
    for e in entries:
        p = e["pattern"]
        if rel == p and not e["folder"]:
            ranked.append((3, len(p), e))
        elif rel.startswith(p + "/"):
            ranked.append((2, len(p), e))
        elif any(c in p for c in "*?[") and fnmatch.fnmatchcase(rel, p):
            ranked.append((1, len(p), e))
    if not ranked:
        return None, []
    top = max(r[:2] for r in ranked)
    best = [e for rank, n, e in ranked if (rank, n) == top]
    if len({(e["item"], e["question"], e["status"]) for e in best}) > 1:
        return None, best
    for e in best:
        e["used"] = True
    return best[0], []


# --- walking the folder --------------------------------------------------------------------------

def _rel_name(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` as text. A name that is not valid UTF-8 (bytes from
    another system) is written with ``\\xNN`` for its bad bytes: tables and outputs cannot
    carry it as it is (``Scan.real_paths`` keeps the real path)."""
    try:
        rel = Path(path).relative_to(folder).as_posix()
    except ValueError:
        rel = str(path)
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def _problem(file: str, rule: str, where: str = "", value: object = "",
             rules: dict | None = None, extra: str = "") -> dict:
    r = (rules or load_rules())["rules"].get(rule, {})
    hint = f"{r.get('hint_id', '')} / {r.get('hint_en', '')}" if r else ""
    if extra:
        hint = f"{extra}; {hint}" if hint else extra
    return {"file": file, "sheet": "", "row": None, "column": where, "rule": rule,
            "value": str(value), "hint": hint}


def walk(folder: Path, skip: set[Path], rules: dict) -> tuple[list[tuple[str, Path]],
                                                              list[dict], list[str]]:
    """``([(relative path, real path)], problems, notices)``: every document file under
    ``folder``. Links resolving outside the folder are refused (not read); linked folders are
    not entered; system files, hidden folders and ``skip`` are left out."""
    root = folder.resolve()
    found, probs = [], []
    skipped: dict[str, int] = {}
    names = {str(n).lower() for n in rules["skip_names"]}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            p = here / d
            rel = _rel_name(p, root)
            if p.is_symlink():
                try:
                    real = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    probs.append(_problem(rel + "/", "unreadable", value=_readlink(p),
                                          rules=rules))
                    continue
                if not real.is_relative_to(root):
                    probs.append(_problem(rel + "/", "outside_folder", value=str(real),
                                          rules=rules))
                else:
                    skipped["a linked folder (its files are scanned where they are)"] = \
                        skipped.get("a linked folder (its files are scanned where they are)",
                                    0) + 1
                continue
            if system_file_kind(rel + "/x") or p in skip:
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            p = here / name
            rel = _rel_name(p, root)
            kind = system_file_kind(rel)
            # the walk enters no link, so ``p`` is already a real path
            if kind or name.lower() in names or p in skip or \
                    name.startswith(".tmp-"):
                key = kind or "not a document (skip_names, the mapping file or an output)"
                skipped[key] = skipped.get(key, 0) + 1
                continue
            if p.is_symlink():
                try:
                    real = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    probs.append(_problem(rel, "unreadable", value=_readlink(p), rules=rules))
                    continue
                if not real.is_relative_to(root):
                    probs.append(_problem(rel, "outside_folder", value=str(real), rules=rules))
                    continue
                if not real.is_file():
                    continue
                found.append((rel, real))
            elif p.is_file():
                found.append((rel, p))
    notices = [f"skipped {n} {k}" for k, n in sorted(skipped.items())]
    return found, probs, notices


def _undecodable(rel: str, real: Path) -> bool:
    try:
        os.fsencode(str(real)).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _readlink(p: Path) -> str:
    try:
        return os.readlink(p)
    except OSError:
        return ""


# --- the cache --------------------------------------------------------------------------------

def _cache_key(rules: dict) -> str:
    return f"{READER_VERSION}-{rules['fingerprint']}"


def load_cache(path: Path | None, rules: dict) -> dict:
    if path is None or not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(doc, dict) or doc.get("key") != _cache_key(rules):
        return {}
    files = doc.get("files")
    return files if isinstance(files, dict) else {}


def save_cache(path: Path | None, entries: dict, rules: dict) -> bool:
    if path is None:
        return False
    try:
        write_text(path, json.dumps({"key": _cache_key(rules), "files": entries},
                                    ensure_ascii=True, sort_keys=True))
    except OSError:
        return False
    return True


# --- scanning -----------------------------------------------------------------------------------

Progress = Callable[[int, int, str], None]


def _validity(rules_dates: dict, item: str, year: int) -> date | None:
    """First day an item's document counts as current in evaluation ``year`` (None: never
    kedaluwarsa by date)."""
    if item in rules_dates["no_expiry"]:
        return None
    years = rules_dates["items"].get(item, rules_dates["default_years"])
    return date(year - years, 1, 1)


def _deadline(rules_dates: dict, year: int) -> date:
    month, day = rules_dates["deadline"]
    return date(year, month, day)


def _title_from_name(rel: str, item: str | None) -> str:
    stem = PurePosixPath(rel).stem
    t = re.sub(r"^\s*(?:(?:dd|kode|item)\s*)?0*\d{1,2}\s*[._,-]\s*0*\d{1,2}(?!\d)[\s._-]*", "",
               stem, flags=re.IGNORECASE)
    t = " ".join(t.replace("_", " ").split()).strip(" -.")
    return _clean_text(t) or ""


_JUNK_TITLE = re.compile(r"^(?:microsoft (?:word|excel|powerpoint)\b|untitled|judul|title|"
                         r"document\d*|dokumen\d*|scan|\s*$)", re.IGNORECASE)


def _title(rec: dict, rel: str, fallback: str | None) -> str:
    """The document's title: its PDF metadata title when it is one (not a program's
    placeholder), else its file name without the code; a name of one short word ("sk",
    "data") gives way to ``fallback`` (the item's name)."""
    meta = _clean_text(rec.get("meta_title")) or ""
    if meta and not _JUNK_TITLE.match(meta) and len(meta) >= 4 and \
            meta.lower() != PurePosixPath(rel).stem.lower():
        return meta[:250]
    name = _title_from_name(rel, None)
    if fallback and (len(name.split()) < 2 or len(name) < 8):
        return fallback
    return name[:250]


def scan_folder(folder: str | Path, year: int, *, mapping: str | Path | None = None,
                cache: str | Path | None = None, paths: ProjectPaths | None = None,
                skip: list[str | Path] = (), rules: dict | None = None,
                progress: Progress | None = None, today: date | None = None) -> Scan:
    """Scan ``folder`` for evaluation ``year`` (see the module docstring). ``mapping``: a
    mapping file (default: one of ``mapping_files`` in the folder); ``cache``: the cache file
    (None: no cache); ``paths``: the data folder (its region's name and OPD names);
    ``skip``: outputs to leave out (the inventory, the pack); ``progress(done, total, path)``
    after each file. Raises ``KlaError`` for a folder that does not exist."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise KlaError(f"{folder}: no such folder; give the folder holding the data dukung "
                       "documents (e.g. 'Data Dukung KLA 2026/')")
    folder = folder.resolve()
    paths = paths or project_paths()
    rules = rules or load_rules()
    from .specs import load_specs

    specs = load_specs()
    if not specs.year_min <= int(year) <= specs.year_max:
        raise KlaError(f"year {year} is outside {specs.year_min}-{specs.year_max}")
    dates = evidence_date_rules()
    today = today or date.today()
    region = load_region(paths.raw) if paths.raw.is_dir() else None
    catalog = load_scan_catalog(dict(region.opd) if region is not None else None)
    reader = PathReader(rules, catalog)

    mapping_path = Path(mapping).expanduser().resolve() if mapping else next(
        (folder / n for n in rules["mapping_files"] if (folder / n).is_file()), None)
    if mapping is not None and not mapping_path.is_file():
        raise KlaError(f"{mapping}: no such mapping file")
    entries, ignore, problems = ([], [], [])
    if mapping_path is not None:
        entries, ignore, problems = read_mapping(mapping_path, folder, catalog)
    skip_set = {Path(s).expanduser().resolve() for s in skip}
    if mapping_path is not None:
        skip_set.add(mapping_path)
    if cache is not None:  # the cache, its folder and the inventory record beside it
        c = Path(cache).expanduser().resolve()
        skip_set |= {c, c.with_name(c.stem + "-outputs.json")}
        if c.parent != folder:
            skip_set.add(c.parent)
    found, walk_probs, notices = walk(folder, skip_set, rules)
    problems += walk_probs
    if ignore:
        kept = [(r, p) for r, p in found if not any(fnmatch.fnmatchcase(r, g) or
                                                   r.startswith(g.rstrip("/") + "/")
                                                   for g in ignore)]
        if len(kept) < len(found):
            notices.append(f"skipped {len(found) - len(kept)} file(s) the mapping file "
                           "ignores")
        found = kept

    # names that are not valid UTF-8: the tables hold them with \xNN, the pack links the file
    real_paths = {rel: real for rel, real in found if "\\x" in rel and _undecodable(rel, real)}
    cache_path = Path(cache).expanduser().resolve() if cache is not None else None
    old = load_cache(cache_path, rules)
    new_cache: dict = {}
    rows = []
    stats = {"files": len(found), "read": 0, "reused": 0}
    by_hash = {v.get("sha256"): v for v in old.values() if v.get("sha256")}
    for k, (rel, real) in enumerate(found, start=1):
        try:
            st = real.stat()
            hit = old.get(rel)
            if hit and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns:
                rec = dict(hit["rec"])
                stats["reused"] += 1
            else:
                rec, h = None, None
                # a touched or copied file with content read before: its hash says so
                if st.st_size and by_hash:
                    h = file_hash(real)
                    if h in by_hash:
                        rec = dict(by_hash[h]["rec"], size=st.st_size)
                        stats["reused"] += 1
                if rec is None:
                    rec = read_document(real, rules, sha256=h)
                    stats["read"] += 1
                rec.pop("text", None)
            new_cache[rel] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns,
                              "sha256": rec.get("sha256", ""), "rec": rec}
        except OSError as err:
            problems.append(_problem(rel, "unreadable", value=err.strerror or str(err),
                                     rules=rules))
            continue
        finally:
            if progress is not None:
                progress(k, len(found), rel)
        rows.append(_file_row(rel, rec, reader, catalog, entries, rules, dates, year, today,
                              problems, real_paths))
    if cache_path is not None and new_cache != old:
        if not save_cache(cache_path, new_cache, rules):
            notices.append(f"could not write the scan cache {cache_path}; the next scan "
                           "reads every file again")
    for e in entries:
        if not e["used"]:
            problems.append(_problem(_rel_name(mapping_path, folder), "mapping_unused",
                                     e["line"], e["pattern"], rules))
    files = pd.DataFrame(rows, columns=[*FILE_COLUMNS, "_date_ok"])
    _duplicates(files, problems, rules)
    items = _items(files, catalog, problems, rules)
    files = files.drop(columns="_date_ok")
    city = region.name if region is not None else None
    return Scan(folder=folder, year=int(year), files=files, items=items,
                questions=catalog.questions, problems=problems_frame(problems),
                notices=notices, stats=stats, city=city, real_paths=real_paths)


def _file_row(rel: str, rec: dict, reader: PathReader, catalog: Catalog, entries: list[dict],
              rules: dict, dates: dict, year: int, today: date, problems: list[dict],
              undecodable: frozenset | dict = frozenset()) -> dict:
    parts = tuple(PurePosixPath(rel).parts)
    flags: list[str] = []

    def flag(rule: str, value: object = "", extra: str = "") -> None:
        flags.append(rule)
        problems.append(_problem(rel, rule, value=value, rules=rules, extra=extra))

    if REFUSED.search(rel) or rel in undecodable:
        flag("unsafe_name", rel.encode("unicode_escape", "backslashreplace").decode("ascii"))
    entry, conflict = mapping_for(rel, entries)
    placed = {"indicator": None, "item": None, "question": None}
    placed_by = ""
    if conflict:
        flag("mapping_conflict", "; ".join(f"{e['line']}: {e['item']}" for e in conflict))
    elif entry is not None:
        placed = {"indicator": int(entry["item"].split(".")[0]), "item": entry["item"],
                  "question": entry["question"]}
        placed_by = "mapping"
    else:
        res = place(reader.codes(parts), catalog)
        placed = {k: res[k] for k in ("indicator", "item", "question")}
        if res["rule"]:
            flag(res["rule"], res["value"])
        else:
            placed_by = "path"
    item = placed["item"]
    kind, ext = rec["type"], PurePosixPath(rel).suffix.lower()
    usable = True
    if rec["type"] == "empty":
        flag("empty_file")
        usable = False
    elif rec["password"]:
        flag("password_protected", kind)
        usable = False
    elif rec["damaged"]:
        flag("damaged", rec["damaged"])
        usable = False
    elif kind == "unknown" and ext in rules["allowed_ext"]:
        flag("damaged", f"the content is not a {ext} file")
        usable = False
    # a file that cannot be opened has that one root cause, not a wrong type or name too
    if usable and kind in rules["image_types"]:
        flag("image_not_pdf", kind)
    elif usable and kind not in rules["allowed_types"]:
        flag("type_refused", kind)
    if usable and kind in rules["ext_of"] and ext not in rules["ext_of"][kind]:
        flag("misnamed", f"{ext or '(none)'} holds {kind}")
    elif usable and kind in rules["allowed_types"] and ext not in rules["allowed_ext"]:
        flag("misnamed", f"{ext or '(none)'}")
    if rec["size"] > rules["max_bytes"]:
        flag("too_large", f"{rec['size'] / 1048576:.1f} MB > "
                          f"{rules['max_bytes'] / 1048576:g} MB")
    if kind == "pdf" and rec["text_layer"] is False and usable:
        flag("no_text_layer", f"{rec['pages']} page(s)")
    draft = reader.is_draft(parts)
    doc_date = date.fromisoformat(rec["doc_date"]) if rec["doc_date"] else None
    when_ok = doc_date
    if doc_date is not None and doc_date > min(_deadline(dates, year), today):
        when_ok = None
        if rec["date_source"] != "metadata":  # a file made later says nothing of its date
            flag("after_deadline", f"{doc_date:%Y-%m-%d} ({rec['date_source']})")
    status = None
    if item:
        start = _validity(dates, item, year)
        if not usable:
            status = "tidak_ada"
        elif draft:
            status = "dalam_proses"
            flag("draft", PurePosixPath(rel).name)
        elif when_ok is not None and start is not None and when_ok < start:
            status = "kedaluwarsa"
            flag("expired", f"{when_ok:%Y-%m-%d} < {start:%Y-%m-%d}")
        else:
            status = "ada"
        if entry is not None and entry["status"]:
            status = entry["status"]
    elif draft:
        flags.append("draft")
    opd = entry["opd"] if entry is not None and entry["opd"] else None
    title = (entry["title"] if entry is not None and entry["title"] else None) or \
        _title(rec, rel, catalog.name_of.get(item))
    return {"path": rel, **placed, "placed_by": placed_by, "type": kind, "extension": ext,
            "size": rec["size"], "sha256": rec["sha256"], "pages": rec["pages"],
            "text_layer": rec["text_layer"], "encrypted": rec["encrypted"],
            "password": rec["password"], "damaged": rec["damaged"],
            "doc_date": when_ok.isoformat() if when_ok else (rec["doc_date"] or None),
            "date_source": rec["date_source"] or None, "decree": rec["decree"] or None,
            "decree_source": rec["decree_source"] or None, "title": title, "draft": draft,
            "status": status, "flags": "; ".join(dict.fromkeys(flags)), "opd": opd,
            "_date_ok": when_ok is not None}


def _duplicates(files: pd.DataFrame, problems: list[dict], rules: dict) -> None:
    placed = files[files["item"].notna() & files["sha256"].astype(bool)]
    placed = placed[placed.duplicated("sha256", keep=False)]
    for _, grp in placed.groupby("sha256"):
        if grp["item"].nunique() < 2:
            continue
        for r in grp.itertuples():
            others = [f"{o.path} ({o.item})" for o in grp.itertuples() if o.item != r.item]
            problems.append(_problem(r.path, "duplicate_content", value="; ".join(others),
                                     rules=rules))
            files.loc[r.Index, "flags"] = "; ".join(
                f for f in [files.at[r.Index, "flags"], "duplicate_content"] if f)


def _items(files: pd.DataFrame, catalog: Catalog, problems: list[dict],
           rules: dict) -> pd.DataFrame:
    rank = {s: k for k, s in enumerate(STATUS_ORDER)}
    rows = []
    placed = files[files["item"].notna()].copy()
    placed["_rank"] = placed["status"].map(rank)
    # best first: status, then a usable date, then a text layer, then the path
    placed = placed.sort_values(["_rank", "path"], kind="stable")
    groups = dict(tuple(placed.groupby("item", sort=False)))
    for ev in catalog.items.itertuples():
        grp = groups.get(ev.item)
        if grp is None or grp.empty:
            problems.append(_problem("", "missing", "item", f"{ev.item} {ev.name_id}",
                                     rules))
            rows.append({"cluster": ev.cluster, "indicator": int(ev.indicator),
                         "item": ev.item, "name_id": ev.name_id, "name_en": ev.name_en,
                         "opd": ev.opd, "status": "tidak_ada", "files": [], "title": None,
                         "document_date": None, "date_source": None, "decree": None,
                         "question": None, "flags": "missing"})
            continue
        best = grp.iloc[0]
        qs = {q for q in grp["question"] if pd.notna(q)}
        dated = grp[grp["_date_ok"] & (grp["status"] == best["status"])]
        when = dated.iloc[0] if len(dated) else None
        rows.append({
            "cluster": ev.cluster, "indicator": int(ev.indicator), "item": ev.item,
            "name_id": ev.name_id, "name_en": ev.name_en,
            "opd": best["opd"] if isinstance(best["opd"], str) else ev.opd,
            "status": best["status"], "files": list(grp["path"]),
            "title": best["title"] or ev.name_id,
            "document_date": when["doc_date"] if when is not None else None,
            "date_source": when["date_source"] if when is not None else None,
            "decree": next((d for d in grp["decree"] if isinstance(d, str) and d), None),
            "question": int(next(iter(qs))) if len(qs) == 1 else None,
            "flags": "; ".join(dict.fromkeys(f for fl in grp["flags"] for f in fl.split("; ")
                                             if f))})
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


# --- the inventory ----------------------------------------------------------------------------

def inventory_frame(scan: Scan, link_base: str | Path | None = None) -> pd.DataFrame:
    """The scan as the evidence dataset (``datasets.yaml`` fields): ``city, year, indicator,
    item, question, title, status, opd, document_date, link`` plus the helper
    ``note`` (flags, for the Keterangan column). ``link``: the files' paths relative to
    ``link_base`` (default: the scanned folder), ``'; '``-joined, best first."""
    prefix = ""
    if link_base is not None:
        base = Path(link_base).expanduser().resolve()
        if base != scan.folder and base not in scan.folder.parents:
            raise KlaError(f"--link-base {base} must be the scanned folder or a folder "
                           f"above it ({scan.folder})")
        rel = scan.folder.relative_to(base).as_posix()
        prefix = "" if rel == "." else rel + "/"
    rules = load_rules()["rules"]
    out = []
    for r in scan.items.itertuples():
        has = r.status != "tidak_ada" or bool(r.files)
        notes = [rules[f]["label_id"] for f in (r.flags or "").split("; ") if f in rules]
        if r.files:
            notes.insert(0, f"{len(r.files)} berkas")
        out.append({
            "city": scan.city, "year": scan.year, "indicator": r.indicator, "item": r.item,
            "question": r.question, "title": _clean_text(r.title) if has else None,
            "status": r.status, "opd": r.opd,
            "document_date": r.document_date if has else None,
            "link": _clean_text("; ".join(prefix + f for f in r.files)) if r.files else None,
            "note": "; ".join(dict.fromkeys(notes)) or None})
    return pd.DataFrame(out)


def write_inventory(scan: Scan, out: str | Path, paths: ProjectPaths | None = None,
                    link_base: str | Path | None = None) -> Path:
    """Write the inventory (:func:`inventory_frame`) to ``out`` (``.xlsx``, never under
    ``raw/``), in the workbook ``kla template`` writes for the evidence dataset: its
    headers, drop-downs and instructions, the rows filled in. Atomic."""
    from openpyxl import load_workbook

    from ..atomic import atomic_path
    from .specs import load_specs
    from .validate import read_reference
    from .xlsx_templates import HEADER_ROW, write_template

    paths = paths or project_paths()
    out = refuse_raw(Path(out), paths, "--out file")
    if out.suffix.lower() != ".xlsx":
        raise KlaError(f"--out must name an .xlsx file, got {out}")
    if out.is_dir():
        raise KlaError(f"{out} is a folder; give the inventory's file name")
    city, gaz, problems = read_reference(paths)
    if not problems.empty:
        from ..errors import InputProblems

        raise InputProblems(problems)
    region = load_region(paths.raw)
    inv = inventory_frame(scan, link_base).set_index("item")
    fields = load_specs().datasets["evidence"].fields
    with tempfile.TemporaryDirectory(prefix="kla-inventory-") as tmp:
        blank = write_template("evidence", scan.year, Path(tmp), city, gaz, region=region)
        wb = load_workbook(blank)
    ws = wb["Data"]
    col = {ws.cell(HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1)}
    item_col = col[fields["item"].header]
    ws.cell(2, 1, strip_for_xml(
        f"Dibuat oleh 'kla evidence scan' dari folder {scan.folder.name} "
        f"({date.today():%d/%m/%Y}); periksa lalu salin ke raw/evidence/. "
        "Made by 'kla evidence scan': review it, then copy it to raw/evidence/.", True))
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        item = ws.cell(r, item_col).value
        if item not in inv.index:
            continue
        row = inv.loc[item]
        values = {"title": row["title"], "status": STATUS_WORDS[row["status"]],
                  "opd": row["opd"], "link": row["link"], "question": row["question"],
                  "document_date": date.fromisoformat(row["document_date"])
                  if isinstance(row["document_date"], str) else None}
        for name, v in values.items():
            header = fields[name].header
            if header not in col or v is None or (isinstance(v, float) and pd.isna(v)):
                continue
            cell = ws.cell(r, col[header], strip_for_xml(v, True) if isinstance(v, str)
                           else int(v) if name == "question" else v)
            if name == "document_date":
                cell.number_format = "DD/MM/YYYY"
        if "Keterangan" in col and isinstance(row["note"], str):
            ws.cell(r, col["Keterangan"], strip_for_xml(row["note"], True))
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out


def _inventory_digest(scan: Scan, link_base, paths: ProjectPaths) -> str:
    """What the inventory written from ``scan`` depends on: its rows, the rules, the
    package version, the data folder's settings and gazetteer (the template's lists) and
    the day (written in its second row)."""
    from .. import __version__

    h = hashlib.sha256()
    inv = inventory_frame(scan, link_base)
    h.update(inv.to_json(orient="records", date_format="iso", default_handler=str).encode(
        "utf-8", "surrogateescape"))
    h.update(f"{__version__}|{load_rules()['fingerprint']}|{date.today()}|"
             f"{scan.folder.name}".encode("utf-8", "surrogateescape"))
    raw = paths.raw
    settings = [raw / "kla.yaml", raw / "city.yaml"]
    if (raw / "gazetteer").is_dir():
        settings += sorted((raw / "gazetteer").iterdir())
    for f in settings:
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


def save_inventory(scan: Scan, out: str | Path, paths: ProjectPaths | None = None,
                   link_base: str | Path | None = None,
                   record: str | Path | None = None) -> tuple[Path, bool]:
    """:func:`write_inventory`, skipped when ``record`` (a JSON file beside the scan cache)
    says the same inventory was written to ``out`` and ``out`` is still that file: an
    unchanged rescan then writes nothing. Returns ``(path, written)``."""
    paths = paths or project_paths()
    out = refuse_raw(Path(out), paths, "--out file")
    record = Path(record) if record is not None else None
    digest = _inventory_digest(scan, link_base, paths)
    seen: dict = {}
    if record is not None and record.is_file():
        try:
            seen = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            seen = {}
    mine = seen.get(str(out)) if isinstance(seen, dict) else None
    if isinstance(mine, dict) and mine.get("digest") == digest and out.is_file() and \
            file_hash(out) == mine.get("sha256"):
        return out, False
    written = write_inventory(scan, out, paths, link_base)
    if record is not None:
        seen = seen if isinstance(seen, dict) else {}
        seen[str(out)] = {"digest": digest, "sha256": file_hash(written)}
        try:
            write_text(record, json.dumps(seen, sort_keys=True))
        except OSError:
            pass
    return written, True


def problem_counts(problems: pd.DataFrame) -> dict[str, int]:
    """Problems per rule, most frequent first."""
    return problems["rule"].value_counts().to_dict() if len(problems) else {}


__all__ = ["FILE_COLUMNS", "ITEM_COLUMNS", "PROBLEM_COLUMNS", "Scan", "default_cache",
           "evidence_date_rules", "inside_raw", "inventory_frame", "place", "read_mapping",
           "refuse_raw", "save_inventory", "scan_folder", "write_inventory"]
