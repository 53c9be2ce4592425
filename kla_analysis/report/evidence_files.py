"""Which file backs each data dukung item: the hook for the report's data dukung section and
the per-OPD to-do list (``evidence_files_for``), and the points at stake per item that
``kla evidence pack`` sorts by (``points_at_stake``).

Both are plain functions on DataFrames. They read either a scan of the document folder
(``kla evidence scan``: ``kla_analysis.ingest.evidence_scan.Scan``, or its ``files`` /
``items`` tables) or the evidence inventory itself (the processed ``evidence`` table, or a
raw inventory read as that dataset), whose ``link`` column names the files (``'; '``-joined).
The column contract is in docs/data-contracts.md ("The evidence folder scan").
"""

from __future__ import annotations

import pandas as pd

FILES_COLUMNS = ["item", "file", "status"]


def _split_links(links: pd.Series) -> pd.Series:
    return links.map(lambda v: [p.strip() for p in str(v).split(";") if p.strip()]
                     if isinstance(v, str) and v.strip() else [])


def evidence_files_for(inventory_or_scan, year: int) -> pd.DataFrame:
    """One row per evidence item and file of evaluation ``year``: ``item`` (catalog code),
    ``file`` (the file's path relative to the scanned folder or the inventory's link; NA
    when the item has none) and ``status`` (ada / tidak_ada / dalam_proses / kedaluwarsa:
    the file's own status in a scan, the item's in an inventory). Items with several files
    have several rows, the best file first; an item with none has one row with ``file`` NA.

    ``inventory_or_scan`` is any of:

    - a scan (an object with ``year``, ``items`` and ``files``, as ``scan_folder`` returns):
      every catalog item, its files with their status (a damaged file is ``tidak_ada``, a
      draft ``dalam_proses``); a scan of another year gives an empty table;
    - a scan's ``files`` table (``path, item, status``): the placed files only;
    - an inventory (``item``, ``status``, ``link`` and ``year`` columns: the processed
      ``evidence`` table or ``inventory_frame``): rows of ``year``, links split at ``;``.

    >>> inv = pd.DataFrame({"year": [2025, 2025], "item": ["1.1", "7.2"],
    ...                     "status": ["ada", "tidak_ada"], "link": ["a/1.1.pdf; b.pdf", None]})
    >>> evidence_files_for(inv, 2025)
      item       file     status
    0  1.1  a/1.1.pdf        ada
    1  1.1      b.pdf        ada
    2  7.2        NaN  tidak_ada
    """
    src = inventory_or_scan
    if hasattr(src, "items") and hasattr(src, "files") and not isinstance(src, pd.DataFrame):
        if int(getattr(src, "year", year)) != int(year):
            return pd.DataFrame(columns=FILES_COLUMNS)
        files = src.files[src.files["item"].notna()]
        status_of = dict(zip(files["path"], files["status"], strict=True))
        rows = []
        for r in src.items.itertuples():
            paths = list(r.files) if isinstance(r.files, list | tuple) else []
            rows += [{"item": r.item, "file": p, "status": status_of.get(p, r.status)}
                     for p in paths] or [{"item": r.item, "file": pd.NA, "status": r.status}]
        return pd.DataFrame(rows, columns=FILES_COLUMNS)
    df = pd.DataFrame(src)
    if "path" in df and "link" not in df:  # a scan's files table
        placed = df[df["item"].notna()]
        return pd.DataFrame({"item": placed["item"], "file": placed["path"],
                             "status": placed["status"]}).reset_index(drop=True)
    lack = [c for c in ("item", "status", "link") if c not in df]
    if lack:
        raise ValueError(f"evidence_files_for: the table lacks column(s) {', '.join(lack)}; "
                         "give a scan, its files table or the evidence inventory")
    if "year" in df:
        df = df[pd.to_numeric(df["year"], errors="coerce") == int(year)]
    out = df[["item", "status"]].assign(file=_split_links(df["link"]).map(
        lambda xs: xs or [pd.NA])).explode("file")
    return out[FILES_COLUMNS].reset_index(drop=True)


def item_points(questions: pd.DataFrame) -> pd.Series:
    """The points each item carries: every question's ``max_points`` split equally over the
    items it expects (``evidence``: a list or ``'; '``-joined codes), summed per item."""
    ev = questions["evidence"].map(lambda v: v if isinstance(v, list | tuple)
                                   else [p.strip() for p in str(v).split(";") if p.strip()])
    share = questions["max_points"].astype(float) / ev.map(len).clip(lower=1)
    per = pd.DataFrame({"item": ev, "points": share}).explode("item")
    return per.groupby("item")["points"].sum()


def points_at_stake(items: pd.DataFrame, questions: pd.DataFrame,
                    at_stake: pd.DataFrame | pd.Series | dict | None = None) -> pd.Series:
    """Points at stake per item code (a Series indexed by item).

    Default: each question's maximum points (``questions.max_points``, on the catalog's
    scale; all assumptions, ``questions.yaml``) split equally over the items it expects,
    summed per item -- together the indicator's maximum; an item already ``ada`` in
    ``items`` has nothing at stake (0). ``at_stake`` overrides it: a Series or dict item ->
    value, or a table with ``item`` and ``points`` (or ``chance``) columns, e.g. the chance
    of the target predikat that a missing item costs, from the posterior.
    """
    if at_stake is not None:
        if isinstance(at_stake, pd.DataFrame):
            col = "points" if "points" in at_stake else "chance"
            given = at_stake.set_index("item")[col]
        else:
            given = pd.Series(at_stake)
        given = pd.to_numeric(given, errors="coerce")
        return given.reindex(items["item"]).fillna(0.0).astype(float)
    pts = item_points(questions).reindex(items["item"]).fillna(0.0)
    done = (items.set_index("item")["status"] == "ada").reindex(pts.index).fillna(False)
    return pts.where(~done.astype(bool), 0.0).astype(float)


__all__ = ["FILES_COLUMNS", "evidence_files_for", "item_points", "points_at_stake"]
