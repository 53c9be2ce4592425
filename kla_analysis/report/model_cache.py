"""Model results a report reuses from an earlier report of the same data (a disk cache).

Every report of a data folder needs the same model results: each year's score with its
posterior band probabilities (the headline, the trend and the calibration table of every
other year's report), the backtest (each official year predicted without its own result),
and the chance-constrained plan. Fitting them is most of a report's work (about 1.9 s of
a cold report's 2.3 s beyond its floor), and the reports of one folder (every year, both
languages) would otherwise fit them again in each notebook kernel. The numbers of some
sections are kept the same way, because they too are the same in both languages: the first
section, the evidence gaps, the area views, the calibration table and every year's block
totals (``tests/test_model_cache.py`` checks that the Indonesian and the English report
keep identical results).

Each result is kept in ``<data-dir>/interim/model/<fingerprint>/`` under a name built from
the city, the target and what it is. The fingerprint is the SHA-256 of everything a model
result depends on: the processed tables, the folder's own settings files (the top level of
``raw/``: ``kla.yaml``/``city.yaml``, a weight-set CSV, ``sources.csv``, a calendar), the
package version and the package's code and data files. Same fingerprint, same inputs, same
result: a changed table, setting or package release makes a new folder, so a stale result
is never read.

The files are JSON, with tables embedded as Arrow IPC streams (about three times faster to
read back than Parquet for the small tables kept here; never pickle: a data folder may come
from elsewhere, and reading a cache file must not run code). A value that cannot be written
this way is simply not kept (computed every time); a file that cannot be read is ignored and
computed again; a folder that cannot be written costs only the shortcut. Writes are atomic,
so two kernels finishing the same result at once leave one whole file. Deleting
``interim/model/`` is always safe; ``kla build`` does not need it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import __version__
from ..atomic import write_text
from ..catalog import folder_weights
from ..config import PACKAGE_DIR, ProjectPaths, package_files

#: Bigger cache files are not read (a cache file is a few kB to a few MB).
MAX_BYTES = 64 * 1024 * 1024
#: Old fingerprint folders kept besides the current one (others are removed when writing).
KEEP_OLD = 3
SUBDIR = ("interim", "model")


def fingerprint(paths: ProjectPaths) -> str:
    """SHA-256 of the processed tables, the top-level files of ``raw/`` (the folder's
    settings) and the weight-set CSV they name, the package version and the package's code
    and data files. ``KlaError`` when the folder's settings cannot be read (the report
    would stop on them anyway)."""
    h = hashlib.sha256(f"kla-analysis {__version__}\n".encode())
    files = [("processed", p) for p in sorted(paths.processed.glob("*.parquet"))]
    files += [("raw", p) for p in sorted(paths.raw.glob("*")) if p.is_file()]
    weights = folder_weights(paths.raw)  # a weight-set CSV may sit in a subfolder of raw/
    if isinstance(weights, Path):
        files.append(("weights", weights))
    for kind, path in files:
        h.update(f"{kind} {path.name}\n".encode("utf-8", "surrogateescape"))
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
    for path in package_files():
        h.update(f"package {path.relative_to(PACKAGE_DIR).as_posix()}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def folder(paths: ProjectPaths, fp: str) -> Path:
    return paths.data_dir.joinpath(*SUBDIR, fp[:32])


def entry_name(city: str, target: str | None, what: object) -> str:
    """A file name for one result: readable, and a hash so any city name is a safe name."""
    raw = json.dumps([str(city), target, _plain_key(what)], ensure_ascii=False)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{_plain_key(what)}").strip("-")[:40]
    return f"{slug}-{hashlib.sha256(raw.encode()).hexdigest()[:20]}.json"


def _plain_key(what: object) -> str:
    return "-".join(map(str, what)) if isinstance(what, tuple) else str(what)


# --- encoding: JSON with embedded Arrow tables ----------------------------------------------

class Unsupported(TypeError):
    """A value the cache does not know how to write (it is then not kept)."""


def encode(value: object) -> object:
    """``value`` as JSON-able data; ``Unsupported`` for a type it cannot round-trip."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return {"__int__": int(value)}
    if isinstance(value, float | np.floating):
        v = float(value)
        return {"__float__": repr(v)} if not math.isfinite(v) else v
    if isinstance(value, pd.DataFrame):
        if value.attrs:
            raise Unsupported("a table with attrs")
        table = pa.Table.from_pandas(value, preserve_index=True)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        # Arrow reads text back as the string dtype: note the object columns to restore
        objects = [str(c) for c, d in value.dtypes.items() if d == np.dtype(object)]
        return {"__arrow__": base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii"),
                "objects": objects}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise Unsupported(type(value).__name__)


def decode(data: object) -> object:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__int__" in data:
        return int(data["__int__"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__arrow__" in data:
        with pa.ipc.open_stream(base64.b64decode(data["__arrow__"])) as reader:
            df = reader.read_all().to_pandas()
        for col in data.get("objects") or []:
            if col in df:
                df[col] = df[col].astype(object).where(df[col].notna(), None)
        return df
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {decode(k): decode(v) for k, v in data["__dict__"]}
    raise ValueError("unknown cache record")


def same(a: object, b: object) -> bool:
    """True when ``a`` and ``b`` are the same value, tables with the same dtypes and index
    (what the report would read from ``a`` is what it computed in ``b``)."""
    if isinstance(b, pd.DataFrame):
        if not isinstance(a, pd.DataFrame):
            return False
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError:
            return False
        return True
    if isinstance(b, bool | np.bool_):
        return isinstance(a, bool | np.bool_) and bool(a) == bool(b)
    if type(a) is not type(b) and not (_number(a) and _number(b)):
        return False
    if isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in b)
    if isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if _number(b):
        fa, fb = float(a), float(b)
        return (math.isnan(fa) and math.isnan(fb)) or fa == fb
    return a == b


def _number(x: object) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(
        x, bool | np.bool_)


# --- get or compute ------------------------------------------------------------------------

_MISSING = object()


def read(path: Path) -> object:
    """The value kept in ``path``, or ``_MISSING`` when there is none or it is unreadable."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return _MISSING
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("version") != __version__:
            return _MISSING
        return decode(doc["value"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError,
            ImportError, RecursionError):
        return _MISSING
    except Exception:  # noqa: BLE001 - a damaged Arrow blob: recompute, never fail
        return _MISSING


def write(path: Path, value: object) -> bool:
    """Keep ``value`` in ``path`` (atomically); False when it cannot be encoded or written."""
    try:
        text = json.dumps({"version": __version__, "value": encode(value)})
        # kept only if it reads back as the same value: never a silently different result
        if not same(decode(json.loads(text)["value"]), value):
            return False
    except Exception:  # noqa: BLE001 - Unsupported, or a table Arrow cannot hold
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    except OSError:
        return False
    _prune(path.parent)
    return True


def _prune(current: Path) -> None:
    """Remove fingerprint folders beyond the newest ``KEEP_OLD`` besides ``current``."""
    try:
        others = sorted((p for p in current.parent.iterdir() if p.is_dir() and p != current),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in others[KEEP_OLD:]:
        for f in old.glob("*.json"):
            with contextlib.suppress(OSError):
                f.unlink()
        with contextlib.suppress(OSError):
            old.rmdir()


def cached(base: Path | None, name: str, compute: Callable[[], object]) -> object:
    """The result kept under ``base/name``, or ``compute()`` (then kept). ``base`` None:
    always compute (no cache)."""
    if base is None:
        return compute()
    path = base / name
    value = read(path)
    if value is _MISSING:
        value = compute()
        write(path, value)
    return value
