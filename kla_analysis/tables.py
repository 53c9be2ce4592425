"""Read and write the processed tables (the Kedro-style catalog of this package).

Table names and file layout live here only: ``<data-dir>/processed/<name>.parquet`` (read by
code) plus ``<name>.csv`` (for spreadsheet users). Writes are atomic.

The CSV copy is made safe to open in a spreadsheet: a text cell that Excel or LibreOffice would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also
after spaces) gets a leading apostrophe, as in the planner's workbook
(:func:`kla_analysis.export.neutralise`). The Parquet keeps the exact text.
"""

from __future__ import annotations

import io

import pandas as pd

from .atomic import atomic_group
from .config import ProjectPaths, project_paths
from .errors import KlaError

TABLES = ("self_assessment", "evidence", "statistics", "official_results", "gazetteer")
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
            buf = io.StringIO()
            spreadsheet_safe(tables[name]).to_csv(buf, index=False, lineterminator="\n")
            tmps[2 * i + 1].write_bytes(buf.getvalue().encode("utf-8"))


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with formula-like text cells prefixed by an apostrophe (vectorised; numbers,
    dates and other text unchanged)."""
    out = df.copy(deep=False)
    for c in df.columns:
        s = df[c]
        if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
            continue
        first = s.str.lstrip(" ").str[:1]
        risky = (first.isin(FORMULA_TRIGGERS) & s.str.strip(" ").ne("")).fillna(False)
        risky = risky.astype(bool).to_numpy()
        if risky.any():
            s = s.copy()
            s[risky] = "'" + s[risky].astype("str")
            out[c] = s
    return out
