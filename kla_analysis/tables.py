"""Read and write the processed tables (the Kedro-style catalog of this package).

Table names and file layout live here only: ``<data-dir>/processed/<name>.parquet`` (read by
code) plus ``<name>.csv`` (for spreadsheet users). Writes are atomic.

The CSV copy is made safe to open in a spreadsheet: a text cell that Excel or LibreOffice would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also
after spaces) gets a leading apostrophe, as in the planner's workbook
(:func:`kla_analysis.export.neutralise`). The CSV also carries no control, bidirectional or
invisible character (:mod:`kla_analysis.chars`): they are removed from its text cells, before
the formula check (so ``"\u202e=cmd"`` is written ``'=cmd``). The validator already reports such
characters in the raw files, so normally there are none to remove: this is the writer's own
second line of defence.

The Parquet keeps the exact text: it is what the code reads back, and the values in it are the
validated ones (the validator's problems name any unsafe character with its file, row and
column); every writer that shows them (HTML, SVG, XLSX, terminal) removes them on its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .atomic import atomic_group
from .chars import UNSAFE
from .config import ProjectPaths, project_paths
from .errors import KlaError

TABLES = ("self_assessment", "evidence", "statistics", "official_results", "gazetteer",
          "area_declarations", "self_assessment_answers")
# Same as kla_analysis.export.FORMULA_TRIGGERS (not imported: export loads openpyxl).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def table_path(name: str, paths: ProjectPaths | None = None, suffix: str = ".parquet"):
    paths = paths or project_paths()
    return paths.processed / f"{name}{suffix}"


def load_table(name: str, paths: ProjectPaths | None = None) -> pd.DataFrame:
    """One processed table; a clear error if it has not been built yet."""
    path = table_path(name, paths)
    if not path.exists():
        raise KlaError(f"processed table {name!r} not found at {path}; run `kla build` first")
    return pd.read_parquet(path)


def load_processed(paths: ProjectPaths | None = None) -> dict[str, pd.DataFrame]:
    """All processed tables by name."""
    return {name: load_table(name, paths) for name in TABLES}


def write_table(df: pd.DataFrame, name: str, paths: ProjectPaths | None = None) -> None:
    """Write ``name`` as Parquet and CSV, atomically (byte-identical for equal input)."""
    write_tables({name: df}, paths)


def write_tables(tables: dict[str, pd.DataFrame], paths: ProjectPaths | None = None) -> None:
    """Write several tables (Parquet + CSV each) as one group: every file is written to a temp
    file first and the targets are replaced only when all were written, so a full disk or a
    kill while writing leaves all previous tables as they were (:func:`atomic_group`)."""
    names = list(tables)
    targets = [table_path(n, paths, s) for n in names for s in (".parquet", ".csv")]
    with atomic_group(targets) as tmps:
        for i, name in enumerate(names):
            tables[name].to_parquet(tmps[2 * i], index=False)
            with open(tmps[2 * i + 1], "wb") as fh:
                for part in csv_chunks(spreadsheet_safe(tables[name])):
                    fh.write(part)


_QUOTED = r'[,"\n]'  # what pandas' CSV writer quotes (QUOTE_MINIMAL, "\n" line ends)


def _csv_fields(col: pd.Series, end: str) -> tuple[np.ndarray, pa.Array] | None:
    """A column as (codes, field texts) where ``texts[codes]`` is what ``DataFrame.to_csv``
    writes for each cell (``end`` appended; missing -> ``end``): every distinct value is
    formatted once. None for a dtype this does not cover."""
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        codes, uniques = col.cat.codes.to_numpy(), pd.Series(
            np.asarray(col.cat.categories, dtype=object), dtype=object)
        dt = uniques.dtype
    elif pd.api.types.is_float_dtype(dt) and not isinstance(dt, pd.api.extensions.ExtensionDtype):
        values = col.to_numpy(dtype="float64")
        missing = np.isnan(values)  # by bit pattern: -0.0 is written "-0.0", not "0.0"
        codes, bits = pd.factorize(np.where(missing, 0, values.view(np.int64)))
        codes = np.where(missing, -1, codes)
        uniques = pd.Series(np.asarray(bits, dtype=np.int64).view(np.float64))
    else:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        uniques = pd.Series(uniques)
    if pd.api.types.is_float_dtype(dt) and not isinstance(dt, pd.api.extensions.ExtensionDtype):
        text = pd.Series(uniques.to_numpy(dtype="float64").astype(str), dtype=object)
    elif pd.api.types.is_integer_dtype(dt) or pd.api.types.is_bool_dtype(dt):
        text = uniques.astype(str)
    elif pd.api.types.is_datetime64_dtype(dt):  # pandas drops 00:00:00 when every value has it
        dates_only = bool((uniques == uniques.dt.normalize()).all())
        text = uniques.dt.strftime("%Y-%m-%d" if dates_only else "%Y-%m-%d %H:%M:%S")
    elif pd.api.types.is_object_dtype(dt) or isinstance(dt, pd.StringDtype):
        text = uniques.astype(str)
        quote = text.str.contains(_QUOTED, regex=True).to_numpy(dtype=bool)
        text = text.where(~quote, '"' + text.str.replace('"', '""', regex=False) + '"')
    else:
        return None
    texts = pa.array([t + end for t in text.to_numpy(dtype=object)] + [end],
                     type=pa.large_string())
    return np.where(codes < 0, len(uniques), codes).astype(np.int32), texts


def csv_chunks(df: pd.DataFrame, rows: int = 500_000) -> Iterator[bytes | pa.Buffer]:
    """The bytes of ``df.to_csv(index=False, lineterminator="\\n")`` in chunks, built with
    Arrow string kernels: a few seconds instead of minutes for millions of rows, and no
    whole-file string in memory. Byte-identical to pandas (tests compare them); frames it
    does not cover (one column, unusual dtypes) go through pandas."""
    last = len(df.columns) - 1
    fields = [_csv_fields(df[c], "\n" if i == last else "") for i, c in enumerate(df.columns)]
    if last < 1 or any(f is None for f in fields):
        buf = io.StringIO()
        df.to_csv(buf, index=False, lineterminator="\n")
        yield buf.getvalue().encode("utf-8")
        return
    header = pd.Series([str(c) for c in df.columns], dtype=object)
    quote = header.str.contains(_QUOTED, regex=True)
    header = header.where(~quote, '"' + header.str.replace('"', '""', regex=False) + '"')
    yield (",".join(header) + "\n").encode("utf-8")
    for start in range(0, len(df), rows):
        cols = [pc.take(texts, pa.array(codes[start:start + rows])) for codes, texts in fields]
        lines = pc.binary_join_element_wise(*cols, pa.scalar(",", pa.large_string()))
        ends = np.frombuffer(lines.buffers()[1], dtype=np.int64)  # large_string offsets
        first, stop = ends[lines.offset], ends[lines.offset + len(lines)]
        yield lines.buffers()[2][int(first):int(stop)]  # the rows, back to back


def _safe_text(s: pd.Series) -> pd.Series | None:
    """A text column without unsafe characters and with formula-like cells prefixed by an
    apostrophe, or None when no cell needs a change (non-text cells are left as they are)."""
    changed = False
    try:
        s.str  # noqa: B018 -- an object column of numbers only has no .str
    except AttributeError:
        return None
    unsafe = s.str.contains(UNSAFE.pattern, regex=True).fillna(False).astype(bool).to_numpy()
    if unsafe.any():
        s = s.copy()
        s[unsafe] = s[unsafe].str.replace(UNSAFE.pattern, "", regex=True)
        changed = True
    first = s.str.lstrip(" ").str[:1]
    risky = (first.isin(FORMULA_TRIGGERS) & s.str.strip(" ").ne("")).fillna(False)
    risky = risky.astype(bool).to_numpy()
    if risky.any():
        s = s.copy() if not changed else s
        s[risky] = "'" + s[risky].astype("str")
        changed = True
    return s if changed else None


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with unsafe characters (:data:`kla_analysis.chars.UNSAFE`) removed from its text
    cells, then formula-like text cells prefixed by an apostrophe (vectorised; numbers, dates
    and other text unchanged; categorical text columns are fixed once per category)."""
    out = df.copy(deep=False)
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = pd.Series(np.asarray(s.cat.categories, dtype=object), dtype=object)
            safe = _safe_text(cats) if len(cats) else None
            if safe is None:
                continue
            if safe.is_unique:
                out[c] = s.cat.rename_categories(safe.tolist())
            else:  # two categories became equal: plain text
                codes = s.cat.codes.to_numpy()
                values = np.append(safe.to_numpy(dtype=object), np.nan)[codes]
                out[c] = pd.Series(values, index=s.index, dtype=object)
            continue
        if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
            continue
        safe = _safe_text(s)
        if safe is not None:
            out[c] = safe
    return out
