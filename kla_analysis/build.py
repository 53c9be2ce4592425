"""``kla build``: validate the raw data, then write every processed table.

Validation runs first and collects all problems; if there is any, :class:`InputProblems` is
raised and nothing is written (the previous processed tables stay as they were). Each table
is written atomically (Parquet + CSV, :func:`kla_analysis.tables.write_table`), rows in a fixed
order, so a rebuild from the same inputs is byte-identical. ``raw/`` is only read.
"""

from __future__ import annotations

import pandas as pd

from .atomic import clear_stale_temp
from .config import ProjectPaths, project_paths
from .tables import TABLES, table_path, write_table
from .validate import check_data


def build(paths: ProjectPaths | None = None,
          catalog: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Validate ``paths.raw`` and write all processed tables; returns them by name.

    Raises :class:`kla_analysis.errors.InputProblems` (and writes nothing) on any problem.
    """
    paths = paths or project_paths()
    result = check_data(paths, catalog)
    clear_stale_temp(paths.processed)
    for name in TABLES:
        write_table(result.tables[name], name, paths)
    return result.tables


def built_files(paths: ProjectPaths | None = None) -> list:
    """The files ``build`` writes (Parquet and CSV per table)."""
    return [table_path(n, paths, s) for n in TABLES for s in (".parquet", ".csv")]
