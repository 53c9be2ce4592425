"""``kla build``: validate the raw data (or reuse what ``kla validate`` just validated), then
write every processed table.

Validation runs first and collects all problems; if there is any, :class:`InputProblems` is
raised and nothing is written (the previous processed tables stay as they were). The tables
are written as one atomic group (Parquet + CSV, :func:`kla_analysis.tables.write_tables`): all
go to temp files first and replace the previous ones only when every file was written, so a
full disk or a killed run leaves the previous tables, never a half-written or mixed set. Rows
are in a fixed order, so a rebuild from the same inputs is byte-identical. ``raw/`` is only
read.
"""

from __future__ import annotations

import pandas as pd

from ..atomic import clear_stale_temp
from ..config import ProjectPaths, project_paths
from ..errors import KlaError
from ..tables import TABLES, table_path, write_tables
from . import interim
from .validate import check_data


def build(paths: ProjectPaths | None = None, catalog: pd.DataFrame | None = None,
          notices: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Validate ``paths.raw`` and write all processed tables; returns them by name.

    When ``kla validate`` has just validated exactly these inputs (same raw files, same
    package: :mod:`kla_analysis.interim`), the tables it kept are written instead of
    validating again. Raises :class:`kla_analysis.errors.InputProblems` (and writes nothing)
    on any problem. ``notices`` (a list) receives validation's notices (ignored system
    files, expired documents), also those kept with the validated tables.
    """
    paths = paths or project_paths()
    tables = interim.load(paths, notices) if catalog is None else None
    if tables is None:
        result = check_data(paths, catalog)
        tables = result.tables
        if notices is not None:
            notices.extend(result.notices)
    clear_stale_temp(paths.processed)
    try:
        write_tables({name: tables[name] for name in TABLES}, paths)
    except OSError as err:  # e.g. a full disk: nothing was replaced
        where = f" ({err.filename})" if err.filename else ""
        raise KlaError(f"could not write the processed tables in {paths.processed}: "
                       f"{err.strerror or err}{where}; the previous tables are unchanged. "
                       "Free some space (or fix the folder's permissions) and run "
                       "`kla build` again.") from None
    return tables


def built_files(paths: ProjectPaths | None = None) -> list:
    """The files ``build`` writes (Parquet and CSV per table)."""
    return [table_path(n, paths, s) for n in TABLES for s in (".parquet", ".csv")]
