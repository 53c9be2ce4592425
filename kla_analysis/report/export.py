"""The planner's to-do workbook: one sheet per responsible OPD, ready to send out.

Every text cell that a spreadsheet could read as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return, also after leading spaces) is neutralised with a
leading apostrophe, so no cell can run as a formula whatever the OPD names or document
titles contain. The file is written atomically (``atomic.atomic_path``).

The workbook is also safe on its own whatever the names hold (the validator reports such
characters in the raw files; this is the writer's second line of defence): every cell text and
sheet name is passed through ``chars.strip_for_xml`` (no control character, which would make
the XML unreadable, no bidirectional override or invisible character), cells are cut at
Excel's 32,767 characters, and sheet names follow Excel's rules (``sheet_name``), so Excel
never "repairs" the file.

The sheets hold the same ranked to-do as the report (``todo.build_todo``): the tasks of each
OPD by rank (gain in chance per unit of effort, else points per unit), each with its gain in
chance (a percentage cell), its effort in the folder's unit (the header names it) and the date
it is due as a real Excel date, with the round and whether that date is sourced or assumed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..atomic import atomic_path
from ..chars import strip_for_xml
from ..params import check_lang
from . import i18n
from .todo import Todo, basis_text, build_todo, due_sentences, pct

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limits: characters in a cell, UTF-16 code units in a sheet name; the sheet name
#: Excel reserves (in any case) and the characters a sheet name cannot hold.
MAX_CELL = 32_767
MAX_SHEET_NAME = 31
RESERVED_SHEET_NAMES = ("history",)
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

#: Workbook columns: (plan action column, header id, header en).
COLUMNS = [
    ("indicator", "Indikator", "Indicator"),
    ("indicator_name", "Nama indikator", "Indicator name"),
    ("label", "Tindakan", "Action"),
    ("item", "Item data dukung", "Evidence item"),
    ("item_name", "Nama item", "Item name"),
    ("title", "Judul dokumen", "Document title"),
    ("from_status", "Status sekarang", "Current status"),
    ("measure", "Statistik", "Statistic"),
    ("from_value", "Nilai sekarang", "Current value"),
    ("to_value", "Nilai tujuan", "Target value"),
    ("effort", "Upaya (satuan, asumsi)", "Effort (units, assumption)"),  # named by _headers
    ("points_gained", "Tambahan poin (estimasi)", "Points gained (estimate)"),
]
#: The to-do's columns after ``COLUMNS`` (headers: ``todo.col.<name>`` of the report
#: strings); the effort header above names the unit (``todo.col.effort``).
TODO_COLUMNS = ["rank", "chance_gain", "due", "round", "due_basis"]
#: Excel number formats of the to-do's cells: a share as a percentage, a date as a date.
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
NOTES_SHEET = {"id": "Keterangan", "en": "Notes"}
NOTES = {
    "id": [
        ("Kabupaten/kota", "city"), ("Tahun evaluasi", "year"),
        ("Target predikat", "target_predicate"),
        ("Batas bawah target", "target_entry"), ("Estimasi saat ini", "current_total"),
        ("Predikat yang direncanakan", "planned_predicate"),
        ("Estimasi setelah tindakan", "total_after"), ("Selisih di atas batas", "margin"),
        ("Total upaya (satuan)", "total_effort"), ("Jumlah tindakan", "n_actions"),
    ],
    "en": [
        ("Kab/kota", "city"), ("Evaluation year", "year"), ("Target predicate", "target_predicate"),
        ("Target entry score", "target_entry"), ("Current estimate", "current_total"),
        ("Planned predicate", "planned_predicate"), ("Estimate after the actions", "total_after"),
        ("Margin over the threshold", "margin"), ("Total effort (units)", "total_effort"),
        ("Number of actions", "n_actions"),
    ],
}
DISCLAIMER = {
    "id": ("Ini estimasi berbasis asumsi, bukan hasil evaluasi resmi KemenPPPA. Poin, bobot "
           "dan upaya per tindakan adalah asumsi yang dapat diubah Gugus Tugas "
           "(kla_analysis/data/scoring_rules.yaml, actions.yaml dan weight_sets.yaml)."),
    "en": ("This is an assumption-based estimate, not an official KemenPPPA result. Points, "
           "weights and efforts per action are assumptions the Gugus Tugas can edit "
           "(kla_analysis/data/scoring_rules.yaml, actions.yaml and weight_sets.yaml)."),
}
#: The notes row naming the weight set the points were counted with.
WEIGHTS_LABEL = {"id": "Bobot poin", "en": "Weight set"}
WEIGHTS_STATUS = {"id": {"probable": "kemungkinan, tidak resmi", "assumption": "asumsi"},
                  "en": {"probable": "probable, unofficial", "assumption": "assumption"}}
UNREACHABLE = {
    "id": "Target {target} tidak tercapai dengan tindakan yang tersedia; rencana ini menuju {best}.",
    "en": "Target {target} cannot be reached with the available actions; this plan aims at {best}.",
}


def neutralise(value: object) -> object:
    """``value`` unchanged unless it is text a spreadsheet could run as a formula; such text
    gets a leading apostrophe (``'=SUM(A1)``).

    >>> neutralise("=1+1"), neutralise("  @cmd"), neutralise("Dinkes"), neutralise(-3)
    ("'=1+1", "'  @cmd", 'Dinkes', -3)
    """
    if isinstance(value, str) and value.lstrip(" ")[:1] in FORMULA_TRIGGERS and value.strip(" "):
        return "'" + value
    return value


def _utf16_prefix(text: str, units: int) -> str:
    """The longest prefix of ``text`` of at most ``units`` UTF-16 code units (Excel counts a
    character outside the BMP, e.g. an emoji, as two)."""
    text = text[:units]
    while len(text.encode("utf-16-le")) > 2 * units:
        text = text[:-1]
    return text


def _sheet_key(name: str) -> str:
    """What Excel compares sheet names by (case-insensitive; also compatibility forms, to be
    on the safe side: a needless suffix is harmless, a clash makes Excel repair the file)."""
    return unicodedata.normalize("NFKC", name).casefold()


def sheet_name(name: object, taken: set[str]) -> str:
    """A valid worksheet name for ``name``, unique in ``taken`` (which it is added to).

    Excel's rules: at most 31 characters, none of ``[]:*?/\\`` (each becomes ``-``), not
    starting or ending with an apostrophe, not empty, not ``History`` (reserved, any case),
    unique ignoring case; control, bidirectional and invisible characters are removed and
    whitespace is squeezed. A clash gets a suffix `` (2)``, `` (3)``, ... within 31
    characters. A name with nothing left (``None``, ``"[]"``, only control characters) is
    ``OPD``.

    >>> taken = {"Keterangan"}
    >>> [sheet_name(n, taken) for n in ["Dinas: A/B", "DINAS- a-b", "History", None, "'?'"]]
    ['Dinas- A-B', 'DINAS- a-b (2)', 'History (2)', 'OPD', 'OPD (2)']
    """
    text = strip_for_xml(str(name if name is not None else ""), one_line=True)
    text = " ".join(_SHEET_FORBIDDEN.sub("-", text).split()).strip(" '")
    if not text.strip("- "):
        text = "OPD"
    base = _utf16_prefix(text, MAX_SHEET_NAME).rstrip(" '")
    used = {_sheet_key(t) for t in taken} | set(RESERVED_SHEET_NAMES)
    out, n = base, 2
    while _sheet_key(out) in used:
        suffix = f" ({n})"
        out = _utf16_prefix(base, MAX_SHEET_NAME - len(suffix)).rstrip(" '") + suffix
        n += 1
    taken.add(out)
    return out


def _headers(lang: str, unit: str) -> dict[str, str]:
    heads = {c: (hid if lang == "id" else hen) for c, hid, hen in COLUMNS}
    heads["effort"] = i18n.t("todo.col.effort", lang, unit=unit)
    return {**heads, **{c: i18n.t(f"todo.col.{c}", lang) for c in TODO_COLUMNS}}


def todo_tables(plan: dict, lang: str = "id", todo: Todo | None = None) -> dict[str, pd.DataFrame]:
    """The workbook's OPD sheets as DataFrames (``{sheet name: table}``), OPDs in
    alphabetical order, tasks by rank. ``plan`` is ``plan.plan_year(...)``; ``todo`` its
    to-do (``todo.build_todo``; default: the package's calendar and effort unit, due as of
    today). Columns: ``COLUMNS`` then ``TODO_COLUMNS``; ``due`` holds dates, ``chance_gain``
    shares (blank when the tasks are ranked by points)."""
    todo = todo if todo is not None else build_todo(plan, lang)
    acts = todo.table.copy()
    sfx = "id" if lang == "id" else "en"
    acts["indicator_name"] = acts[f"indicator_name_{sfx}"]
    acts["label"] = acts[f"label_{sfx}"]
    acts["item_name"] = acts[f"item_name_{sfx}"]
    acts["from_status"] = [
        i18n.t(f"evidence_status.{s}", lang) if isinstance(s, str) and s else None
        for s in acts["from_status"]]
    acts["opd"] = acts["opd"].fillna("").astype(str).str.strip()
    acts["points_gained"] = acts["points_gained"].astype(float).round(2)
    acts["chance_gain"] = acts["chance_gain"].astype(float).round(4)
    acts["due_basis"] = basis_text(todo.due, lang) if todo.due is not None else None
    headers = _headers(lang, todo.unit)
    columns = [c for c, _, _ in COLUMNS] + TODO_COLUMNS
    taken: set[str] = {NOTES_SHEET[lang]}
    out = {}
    for opd, grp in acts.groupby("opd", sort=True):
        table = grp.sort_values("rank", kind="stable")[columns]
        out[sheet_name(opd, taken)] = table.rename(columns=headers).reset_index(drop=True)
    return out


def weights_text(weight_set: Mapping, lang: str = "id") -> str:
    """``Bobot 2023 (kemungkinan, tidak resmi) [probable_2023], sumber: https://...``: the
    weight set (``Settings.weight_set``) named as the report's methodology names it."""
    label = str(weight_set.get(f"label_{lang}") or weight_set.get("weight_set") or "")
    status = WEIGHTS_STATUS[lang].get(str(weight_set.get("status", "")),
                                      str(weight_set.get("status", "")))
    if status and status.casefold() not in label.casefold():
        label = f"{label} ({status})"
    name = str(weight_set.get("weight_set") or "")
    text = f"{label} [{name}]" if name and name != label else label
    source = str(weight_set.get("source") or "").strip()
    return f"{text}, {'sumber' if lang == 'id' else 'source'}: {source}" if source else text


def notes_table(plan: dict, lang: str = "id",
                weight_set: Mapping | None = None, todo: Todo | None = None) -> pd.DataFrame:
    """The notes sheet: the plan's headline numbers, the weight set (``weight_set``, i.e.
    ``Settings.weight_set``; else ``plan["weight_set"]`` when the plan carries one), with
    ``todo`` how the tasks are ordered, when they are due and the effort unit, and the
    assumption disclaimer."""
    s = plan["summary"]
    rows = [(label, round(v, 2) if isinstance(v := s.get(key), float) else v)
            for label, key in NOTES[lang]]
    weight_set = weight_set if weight_set is not None else plan.get("weight_set")
    if weight_set:
        rows.append((WEIGHTS_LABEL[lang], weights_text(weight_set, lang)))
    if not s.get("reachable", True):
        rows.append(("", UNREACHABLE[lang].format(target=s["target_predicate"],
                                                  best=s.get("best_reachable_predicate"))))
    if todo is not None:
        rows += _todo_notes(todo, s, lang)
    rows.append(("", DISCLAIMER[lang]))
    return pd.DataFrame(rows, columns=["key", "value"])


def _todo_notes(todo: Todo, summary: Mapping, lang: str) -> list[tuple[str, str]]:
    """Notes rows of the to-do: the order of the tasks (and why points, when so), the due
    date with its basis and the verification window, the effort unit."""
    if todo.basis == "chance":
        cp = todo.chance_plan
        order = i18n.t("todo.notes.order_chance", lang, target=summary.get("target_predicate"),
                       level=f"{100 * cp['chance_target']:.0f}%")
    else:
        cp = todo.chance_plan or {}
        best = cp.get("best_chance")
        level = cp.get("chance_target")
        order = " ".join([i18n.t("todo.notes.order_points", lang) + ".", i18n.t(
            f"todo.reason.{todo.reason}", lang, target=summary.get("target_predicate"),
            level="" if level is None else f"{100 * level:.0f}%",
            best="–" if best is None else f"{100 * best:.0f}%")])
    tasks = todo.table
    rows = [(i18n.t("todo.notes.tasks", lang), i18n.t(
        "todo.notes.tasks_value", lang, n=len(tasks), n_opd=tasks["opd"].nunique(),
        unit=todo.unit, effort=int(tasks["effort"].sum()) if len(tasks) else 0))]
    if todo.basis == "chance":
        rows += [(i18n.t("todo.notes.plan_chance", lang, target=summary.get("target_predicate")),
                  pct(todo.chance_plan["chance"], lang)),
                 ("", i18n.t("todo.notes.headline_rows", lang))]
    return [*rows, (i18n.t("todo.notes.order", lang), order),
            (i18n.t("todo.notes.due", lang), " ".join(due_sentences(todo.due, lang))),
            (i18n.t("todo.notes.unit", lang), todo.unit_note)]


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalar -> Python
    if not isinstance(value, str):
        return value
    text = strip_for_xml(value)
    text = neutralise(text)  # after stripping: "\u202e=cmd" is a formula once stripped
    if len(text) > MAX_CELL // 2 and len(text.encode("utf-16-le")) > 2 * MAX_CELL:
        text = _utf16_prefix(text, MAX_CELL - 1) + "\u2026"  # Excel counts UTF-16 units
    return text


def write_todo_workbook(plan: dict, path: str | Path, lang: str = "id",
                        weight_set: Mapping | None = None, todo: Todo | None = None) -> Path:
    """Write the to-do workbook (``.xlsx``) atomically: one sheet per OPD, then a notes sheet.

    Returns the path. Every text cell is passed through ``neutralise``. The entry point of
    the workbook, so ``lang`` is checked here (``params.check_lang``). ``weight_set``
    (``Settings.weight_set``) is named on the notes sheet (``notes_table``). ``todo`` is the
    plan's to-do (``todo.build_todo`` with the data folder's calendar and effort unit;
    default: the package's calendar and unit).
    """
    lang = check_lang(lang)
    todo = todo if todo is not None else build_todo(plan, lang)
    tables = todo_tables(plan, lang, todo)
    formats = {i18n.t("todo.col.chance_gain", lang): PERCENT_FORMAT,
               i18n.t("todo.col.due", lang): DATE_FORMAT}
    wb = Workbook()
    wb.remove(wb.active)
    for name, table in tables.items():
        ws = wb.create_sheet(name)
        ws.append([_cell(h) for h in table.columns])
        for rec in table.itertuples(index=False):
            ws.append([_cell(v) for v in rec])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, col in enumerate(table.columns, start=1):
            if col in formats:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = formats[col]
        ws.freeze_panes = "A2"
        for i, col in enumerate(table.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in table.iloc[:, i - 1]
                                           if v is not None])
            ws.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 60)
    notes = wb.create_sheet(NOTES_SHEET[lang])
    for rec in notes_table(plan, lang, weight_set, todo).itertuples(index=False):
        notes.append([_cell(v) for v in rec])
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 100
    target = Path(path)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target


def jsonable(obj: object, digits: int = 6) -> object:
    """``obj`` made JSON-safe: NaN/NA -> None, numpy scalars -> Python, floats rounded to
    ``digits``, DataFrames -> lists of records (used by ``kla score/plan --json``)."""
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r, digits) for r in obj.to_dict("records")]
    if isinstance(obj, dict):
        return {str(k): jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v, digits) for v in obj]
    if obj is None or obj is pd.NA or (isinstance(obj, float) and math.isnan(obj)):
        return None
    if hasattr(obj, "item") and not isinstance(obj, str):
        return jsonable(obj.item(), digits)
    if isinstance(obj, float):
        return round(obj, digits)
    return obj
