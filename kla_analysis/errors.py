"""User-facing errors. The CLI prints these as plain messages (never a traceback) and exits 1."""

from __future__ import annotations

import pandas as pd

PROBLEM_COLUMNS = ["file", "sheet", "row", "column", "rule", "value", "hint"]


class KlaError(Exception):
    """An error the user can act on; its message is shown as is."""


class InputProblems(KlaError):
    """One or more problems found in input files.

    ``problems`` is a DataFrame with ``PROBLEM_COLUMNS``: the file, the sheet (blank for CSV),
    the row as a spreadsheet user counts it (1 = first line of the file), the column header as
    written in the file, the rule broken, the offending value and a hint for fixing it.
    """

    def __init__(self, problems: pd.DataFrame):
        self.problems = problems_frame(problems)
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found in the input files")


def problems_frame(problems: pd.DataFrame | list[dict] | None = None) -> pd.DataFrame:
    """A problems table with the standard columns, sorted by file, sheet and row."""
    df = pd.DataFrame(problems if problems is not None else [], columns=PROBLEM_COLUMNS,
                      dtype=object)
    text = [c for c in PROBLEM_COLUMNS if c != "row"]
    # Missing text stays blank (not "None"/"nan"); the row number stays a nullable integer.
    df[text] = df[text].astype(object).where(df[text].notna(), "").astype(str)
    df["row"] = pd.to_numeric(df["row"], errors="coerce").astype("Int64")
    return df.sort_values(["file", "sheet", "row", "column"], na_position="first",
                          kind="stable").reset_index(drop=True)
