"""Validated tables kept between ``kla validate`` and ``kla build`` (the interim layer).

The documented way to add data is ``kla validate`` until it passes, then ``kla build``; and
``kla build`` never writes unvalidated data, so it used to validate everything again (about
25 s for a national folder). A ``kla validate`` that finds no problem now keeps the tables it
validated in ``<data-dir>/interim/`` with the fingerprint of its inputs: the SHA-256 of every
file under ``raw/`` (path and content) and of the package's code and data files (dataset
specs, catalog, cleaning rules). ``kla build`` whose inputs have the same fingerprint writes
those tables instead of validating again; a changed, added or removed raw file, or another
version of the package, makes it validate from scratch. The tables are the ones validation
returned, so the processed files are byte-identical either way (``tests/test_interim.py``).

The folder is a cache: deleting it is always safe, and failing to write it only costs the
next build its shortcut.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import pandas as pd

from .. import __version__
from ..atomic import atomic_group, clear_stale_temp
from ..config import PACKAGE_DIR, ProjectPaths, package_files
from ..tables import TABLES
from .guards import max_file_bytes
from .validate import DTYPES

FINGERPRINT = "fingerprint.json"


def _digest(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()


def fingerprint(paths: ProjectPaths) -> str:
    """SHA-256 of everything validation depends on: raw files, the package's own files and
    the file size limit (``KLA_MAX_FILE_MB`` can change it for one run)."""
    limit = max_file_bytes()
    h = hashlib.sha256(f"kla-analysis {__version__} limit {limit}\n".encode())
    for path in sorted(paths.raw.rglob("*")):
        rel = path.relative_to(paths.raw).as_posix()
        if path.is_symlink():  # where it points decides what (and whether) it is read
            h.update(f"link {rel} -> {path.readlink()}\n".encode())
        elif path.is_file():
            stat = path.stat()
            h.update(f"file {rel} {stat.st_size}\n".encode())
            # a file over the size limit is refused, never read: its size is enough
            h.update(_digest(path) if stat.st_size <= limit else str(stat.st_mtime_ns).encode())
    for path in package_files():
        h.update(f"package {path.relative_to(PACKAGE_DIR).as_posix()}\n".encode())
        h.update(_digest(path))
    return h.hexdigest()


def save(paths: ProjectPaths, tables: dict[str, pd.DataFrame], fingerprint: str,
         notices: list[str] | None = None) -> bool:
    """Keep ``tables`` (what validation returned for inputs with ``fingerprint``) and its
    ``notices`` (``kla build`` repeats them when it uses the kept tables).

    The old fingerprint is removed first and the new one is written last, so tables and
    fingerprint never disagree after a crash. Returns False if the folder cannot be
    written (a cache only: nothing else depends on it)."""
    folder = paths.interim
    names = [name for name in tables if name in TABLES]  # validation's order, kept
    targets = [folder / f"{name}.parquet" for name in names] + [folder / FINGERPRINT]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        clear_stale_temp(folder)
        with contextlib.suppress(FileNotFoundError):
            (folder / FINGERPRINT).unlink()
        with atomic_group(targets) as tmps:
            for name, tmp in zip(names, tmps[:-1], strict=True):
                tables[name].to_parquet(tmp, index=False)
            tmps[-1].write_text(json.dumps({"fingerprint": fingerprint, "tables": names,
                                            "notices": list(notices or [])},
                                           indent=1) + "\n", encoding="utf-8")
    except OSError:
        return False
    return True


def _contract_types(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Cast back to the contract where Parquet gave another dtype (e.g. text read back as
    a different string type)."""
    cast = {c: t for c, t in DTYPES[name].items() if str(df[c].dtype) != t}
    return df.astype(cast) if cast else df


def load(paths: ProjectPaths, notices: list[str] | None = None
         ) -> dict[str, pd.DataFrame] | None:
    """The kept tables if they were validated from exactly the current inputs, else None;
    ``notices`` (a list) receives the notices validation gave for them.

    The inputs are hashed only when a kept set exists (a plain ``kla build`` pays nothing)."""
    folder = paths.interim
    try:
        doc = json.loads((folder / FINGERPRINT).read_text(encoding="utf-8"))
        names = doc.get("tables")
        if sorted(names) != sorted(TABLES) or doc.get("fingerprint") != fingerprint(paths):
            return None
        tables = {name: _contract_types(name, pd.read_parquet(folder / f"{name}.parquet"))
                  for name in names}
        if notices is not None:
            notices.extend(str(n) for n in doc.get("notices") or [])
        return tables
    except (OSError, ValueError, TypeError, KeyError, AttributeError):  # absent or damaged
        return None
