"""The ``kla`` command line. Each command is a thin wrapper over library functions, so cron,
notebooks and tests call the same code (sqlite-utils style).

Errors the user can fix (``KlaError``) are printed as plain messages with exit code 1;
anything unexpected prints one line (set ``KLA_DEBUG=1`` for the traceback) and exits 2.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .chars import BIDI, CONTROL, INVISIBLE
from .errors import InputProblems, KlaError

app = typer.Typer(
    name="kla",
    help="Analyse the KLA (Kabupaten/Kota Layak Anak) evaluation of a kabupaten or kota: "
         "validate agency data, build tables, score indicators and render the "
         "evaluation-year reports. The data folder's raw/kla.yaml holds everything "
         "region-specific (name, type, headers, OPD names).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder holding raw/ and processed/ (default: the project's data/, "
                       "or $KLA_DATA_DIR).", file_okay=False)]
ReportsDir = Annotated[Path | None, typer.Option(
    "--reports-dir", help="Folder for rendered reports and templates, one region per "
                          "folder (default: $KLA_REPORTS_DIR, else <data-dir>/reports/; the "
                          "project's reports/ for the project's data/).", file_okay=False)]


#: What a terminal must not be sent from data: control characters (escape sequences, also a
#: carriage return, which lets a line overwrite itself), bidirectional and invisible characters
#: (a right-to-left override displays the rest of a line reversed) and lone surrogates (which
#: cannot be encoded). Tab and line feed are kept.
_NOT_SHOWN = re.compile(f"[{CONTROL}{BIDI}{INVISIBLE}\r\ud800-\udfff]")


def visible(text: str) -> str:
    """``text`` with each character a terminal must not get shown as an escape: ``\\x1b``,
    ``\\u202e``.

    >>> print(visible("Dinas\\x1b[2J \\u202eKes"))
    Dinas\\x1b[2J \\u202eKes
    """
    return _NOT_SHOWN.sub(lambda m: f"\\x{o:02x}" if (o := ord(m.group())) < 0x100
                          else f"\\u{o:04x}", text)


def print_problems(problems, limit: int | None = 200) -> None:
    """Print a problems table (file, sheet, row, column, rule, value, hint) to stderr.

    At most ``limit`` rows are shown (None: all); a last line says how many were left out.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def plain(v: object) -> Text:
        # cells come from data: never rich markup ("[/b]" would crash the table), and
        # control characters (terminal escapes), bidirectional and invisible ones are shown
        # as \xNN / \uNNNN, not sent to the terminal (see `visible`)
        return Text(visible(str(v)))

    console = Console(stderr=True, width=max(160, Console(stderr=True).width))
    table = Table(show_lines=False)
    for col in problems.columns:
        table.add_column(col, overflow="fold")
    shown = problems if limit is None else problems.head(limit)
    for rec in shown.astype(object).fillna("").itertuples(index=False):
        table.add_row(*(plain(v) for v in rec))
    console.print(table)
    if len(shown) < len(problems):
        console.print(f"... and {len(problems) - len(shown)} more problems "
                      "(`kla validate --problems-csv FILE` writes them all)")


def report_error(err: Exception) -> None:
    if isinstance(err, InputProblems):
        print_problems(err.problems)
    typer.echo(visible(f"Error: {err}"), err=True)


def command(*args, group: typer.Typer | None = None, **kwargs):
    """Register a command (on ``group``, default the ``kla`` app) whose user-facing errors
    end in a message and exit 1."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            try:
                return fn(*a, **k)
            except KlaError as err:
                report_error(err)
                raise typer.Exit(1) from None
            except (typer.Exit, typer.Abort, KeyboardInterrupt):
                raise
            except BrokenPipeError:
                # `kla ... | head` closed the pipe: not an error worth a message.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(0) from None
            except Exception as err:  # noqa: BLE001 - last-resort guard, see module docstring
                if os.environ.get("KLA_DEBUG"):
                    raise
                typer.echo(f"Internal error: {type(err).__name__}: {err} "
                           "(set KLA_DEBUG=1 to see the traceback)", err=True)
                raise typer.Exit(2) from None
        return (group or app).command(*args, **kwargs)(wrapper)
    return decorate


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kla-analysis {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Analyse the KLA evaluation (see `kla COMMAND --help`)."""


def _weights(option: str | None, paths) -> dict:
    """``weights``/``claims``/``opd`` of a run: ``--weights`` (a what-if) or the folder's
    set (``weights:`` in raw/kla.yaml or raw/city.yaml); the claims stay on the folder's
    scale either way; ``opd``: the folder's office names for the catalog's OPD roles."""
    from .catalog import default_weight_set, folder_weights
    from .region import load_region

    folder = folder_weights(paths.raw) or default_weight_set()
    return {"weights": option or folder, "claims": folder,
            "opd": dict(load_region(paths.raw).opd)}


@command("catalog")
def catalog_cmd(
    lang: Annotated[str, typer.Option(help="Language of the names: id or en.")] = "id",
    weights: WeightsOpt = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """List the blocks and indicators with responsible OPD and maximum points, and the weight
    set they come from."""
    from .catalog import load_catalog, load_clusters
    from .config import project_paths
    from .params import check_lang
    from .report.text import catalog_lines

    lang = check_lang(lang)
    cat = load_catalog(**_weights(weights, project_paths(data_dir, reports_dir)))
    _echo(catalog_lines(cat, load_clusters(), lang))


@command("predicate")
def predicate_cmd(
    score: Annotated[float, typer.Argument(help="Total score on the 0-1000 scale.")],
    bands: Annotated[str | None, typer.Option(help="Band set name (default: kemenpppa).")] = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Show the predicate a total score falls in and the points to the next one."""
    from .catalog import load_bands
    from .report.text import predicate_lines

    try:
        _echo(predicate_lines(score, load_bands(bands)))
    except ValueError as err:  # a score off the scale, or an unknown band set name
        raise KlaError(str(err)) from None


def _notices(notices: list[str]) -> None:
    """Validation's notices (not problems), one line each, on stderr."""
    for line in notices:
        typer.echo(visible(f"note: {line}"), err=True)


def _echo(lines: list[str]) -> None:
    for line in lines:  # the lines hold names from the data (city, OPDs, documents)
        typer.echo(visible(line))


@command("validate")
def validate_cmd(
    problems_csv: Annotated[Path | None, typer.Option(
        "--problems-csv", dir_okay=False,
        help="Also write every problem to this CSV file.")] = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Check every raw data file (types, ranges, kecamatan and desa/kelurahan, indicators,
    keys...) and raw/kla.yaml, and list ALL problems with file, sheet, row, column, rule,
    value and hint, root causes first. Exit 1 if any. Data that passes is kept in
    <data-dir>/interim/, so `kla build` on the same files need not validate it again."""
    import time

    from .config import project_paths
    from .ingest import interim
    from .ingest.validate import problems_error, validate_data

    paths = project_paths(data_dir, reports_dir)
    start = time.perf_counter()
    inputs = interim.fingerprint(paths)  # before reading: a file edited meanwhile is stale
    result = validate_data(paths)
    if problems_csv is not None:
        from .atomic import write_text
        from .tables import spreadsheet_safe

        # opened in a spreadsheet: a raw value such as =HYPERLINK(...) must stay text
        write_text(problems_csv, spreadsheet_safe(result.problems).to_csv(
            index=False, lineterminator="\n"))
    _notices(result.notices)
    if not result.ok:
        raise problems_error(result.problems)
    rows = ", ".join(f"{n} {len(t)}" for n, t in result.tables.items())
    typer.echo(f"OK: {len(result.files)} files under {paths.raw} passed validation "
               f"({rows} rows) in {time.perf_counter() - start:.1f} s")
    # only a shortcut for `kla build`, with the notices it repeats
    if not interim.save(paths, result.tables, inputs, result.notices):
        typer.echo(f"note: could not keep the validated tables in {paths.interim}; "
                   "`kla build` will validate again", err=True)


@command("build")
def build_cmd(
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Validate the raw data, then write the processed tables (Parquet + CSV) to
    <data-dir>/processed/. Nothing is written if any problem is found."""
    import time

    from .config import project_paths
    from .ingest.build import build

    paths = project_paths(data_dir, reports_dir)
    start = time.perf_counter()
    notices: list[str] = []
    try:
        tables = build(paths, notices=notices)
    finally:
        _notices(notices)
    for name, df in tables.items():
        typer.echo(f"{name:<17} {len(df):>8} rows -> {paths.processed / name}.parquet / .csv")
    typer.echo(f"built in {time.perf_counter() - start:.1f} s")


@command("template")
def template_cmd(
    year: Annotated[int, typer.Option("--year", help="Evaluation year the agencies report "
                                                     "for, e.g. 2026.")],
    out: Annotated[Path | None, typer.Option(
        "--out", file_okay=False, help="Folder for the templates (default: "
                                       "<reports-dir>/<region>/templates/<year>).")] = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Write one blank Excel template per dataset (drop-down lists for kecamatan and
    desa/kelurahan, indicators, evidence status; the folder's OPD names; instructions in
    Bahasa Indonesia) to send to the OPD."""
    from .config import project_paths
    from .ingest.xlsx_templates import write_templates

    paths = project_paths(data_dir, reports_dir)
    for p in write_templates(year, out, paths):
        typer.echo(str(p))


@command("report")
def report_cmd(
    year: Annotated[int | None, typer.Option(
        "--year", help="Evaluation year to render, e.g. 2023 (always re-rendered).")] = None,
    all_years: Annotated[bool, typer.Option(
        "--all", help="Render every evaluation year with a self-assessment.")] = False,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", help="Report language id or en; repeat for both. Default: id with --year, "
                       "id and en with --all.")] = None,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", min=1, help="Reports rendered in parallel (default: one per core).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="With --all, also render years whose inputs did not change.")] = False,
    city: Annotated[str | None, typer.Option(
        help="Kab/kota as written in the data (default: the only one).")] = None,
    target: Annotated[str | None, typer.Option(
        help="Target predikat (default: one above the latest official one).")] = None,
    timeout: Annotated[int | None, typer.Option(
        "--timeout", min=1, help="Seconds one notebook cell may run before the report "
                                 "fails (default 300, or $KLA_CELL_TIMEOUT).")] = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Render evaluation-year HTML reports (offline, phone- and A4-friendly) and rebuild
    <reports-dir>/index.html. Exits 1 if any report failed; its previous HTML is kept. A
    reports folder holds one region's reports (another region's run is refused)."""
    from .config import project_paths
    from .publish.batch import report_command

    code = report_command(year, all_years, lang, jobs, force, city, target, timeout,
                          project_paths(data_dir, reports_dir))
    raise typer.Exit(code)


@command("screenshots")
def screenshots_cmd(
    year: Annotated[int | None, typer.Option(
        "--year", help="Evaluation year of the report (default: the newest rendered).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Report language: id or en.")] = "id",
    out: Annotated[Path | None, typer.Option(
        "--out", file_okay=False, help="Folder for the PNGs (default: <reports>/screenshots).")
    ] = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Save desktop and phone screenshots of a rendered report (report-desktop.png,
    report-phone.png) with headless Chromium. Without Chromium it says why and exits 0."""
    from .config import project_paths
    from .publish.screenshots import take_screenshots

    shots = take_screenshots(project_paths(data_dir, reports_dir), year=year, lang=lang,
                             out_dir=out)
    if shots.skipped:
        typer.echo(f"Screenshots skipped: {shots.skipped}")
        return
    for path in shots.files:
        typer.echo(f"screenshot: {path}")


Year = Annotated[int, typer.Option("--year", help="Evaluation year, e.g. 2023.")]
City = Annotated[str | None, typer.Option(
    "--city", help="Kab/kota as written in the data (default: the only one).")]
Target = Annotated[str | None, typer.Option(
    "--target", help="Target predikat, e.g. Nindya (default: one above the latest official).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
WeightsOpt = Annotated[str | None, typer.Option(
    "--weights", help="Weight set: probable_2023 (default, probable but unofficial), equal, or "
                      "a CSV indicator,max_points (default: weights: in raw/kla.yaml).")]
RulesFile = Annotated[Path | None, typer.Option(
    "--rules", dir_okay=False, help="Scoring rules YAML (default: the packaged "
                                    "scoring_rules.yaml; every rule is an assumption).")]


@command("score")
def score_cmd(
    year: Year,
    city: City = None,
    target: Target = None,
    as_json: AsJson = False,
    rules: RulesFile = None,
    weights: WeightsOpt = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Claimed total, evidence-backed ESTIMATE (with its range over the rule settings) and
    predicates of one evaluation year, with the points to the next and target predikat."""
    import json

    from .config import project_paths
    from .model.calibration import score_year
    from .model.settings import load_settings
    from .report.export import jsonable
    from .report.text import score_lines
    from .tables import load_processed

    paths = project_paths(data_dir, reports_dir)
    settings = load_settings(rules_file=rules, **_weights(weights, paths))
    tables = load_processed(paths)
    s = score_year(tables, year, city, target, settings=settings)
    if as_json:
        typer.echo(json.dumps(jsonable(s), ensure_ascii=False))
        return
    w = settings.weight_set
    from .model.posterior import chance_lines

    _echo([*score_lines(s), *chance_lines(s),
           f"  maximum points: weight set {w['weight_set']} ({w['label_en']})"])


@command("calibrate")
def calibrate_cmd(
    city: City = None,
    as_json: AsJson = False,
    rules: RulesFile = None,
    weights: WeightsOpt = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Backtest the posterior model: each official year predicted without its own result
    (leave-one-year-out), scored (ranked probability score, log score) against persistence,
    province peers' transitions and national base rates; says whether the model beats the
    best baseline."""
    import json

    from .config import project_paths
    from .model.backtest import backtest, backtest_lines, backtest_summary
    from .model.settings import load_settings
    from .report.export import jsonable
    from .tables import load_processed

    paths = project_paths(data_dir, reports_dir)
    settings = load_settings(rules_file=rules, **_weights(weights, paths))
    tables = load_processed(paths)
    bt = backtest(tables, settings, city)
    summary = backtest_summary(bt)
    if as_json:
        typer.echo(json.dumps(jsonable({"backtest": bt, "summary": summary}),
                              ensure_ascii=False))
        return
    _echo(backtest_lines(bt, summary))


@command("plan")
def plan_cmd(
    year: Year,
    city: City = None,
    target: Target = None,
    xlsx: Annotated[Path | None, typer.Option(
        "--xlsx", dir_okay=False, help="Also write the to-do workbook (.xlsx, one sheet per "
                                       "OPD) to this path.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Workbook language: id or en.")] = "id",
    as_json: AsJson = False,
    chance: Annotated[float | None, typer.Option(
        "--chance", min=0.01, max=1.0,
        help="Also plan for this chance (0-1) of reaching the target over the posterior's "
             "scenarios, with the effort-chance frontier (default 0.8 when the posterior "
             "model is available).")] = None,
    rules: RulesFile = None,
    actions: Annotated[Path | None, typer.Option(
        "--actions", dir_okay=False, help="Actions YAML with efforts and limits (default: the "
                                          "packaged actions.yaml; all assumptions).")] = None,
    weights: WeightsOpt = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Cheapest set of actions (least total effort) that lifts the year's evidence-backed
    estimate to the target predikat's entry score; optionally a to-do workbook per OPD."""
    import json

    from .config import project_paths
    from .model.plan import plan_year
    from .model.settings import load_settings
    from .params import check_lang
    from .report.export import jsonable, write_todo_workbook
    from .report.text import plan_lines
    from .report.todo import build_todo, todo_json, todo_lines
    from .tables import load_processed

    check_lang(lang)
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise KlaError(f"--xlsx must name an .xlsx file, got {xlsx}")
    paths = project_paths(data_dir, reports_dir)
    settings = load_settings(rules_file=rules, actions_file=actions,
                             **_weights(weights, paths))
    tables = load_processed(paths)
    from .model import chance_plan as cp

    if chance is None and cp.posterior_available():
        chance = cp.DEFAULT_CHANCE
    res = plan_year(tables, year, city, target, settings=settings, chance=chance)
    if chance is None:
        typer.echo("note: the posterior model is not available, so this is the plan for the "
                   "headline rules only, without a chance of reaching the target", err=True)
    # the ranked to-do: due date from the folder's calendar, efforts in its effort_unit
    todo = build_todo(res, lang, raw_dir=paths.raw)
    if xlsx is not None:
        write_todo_workbook(res, xlsx, lang, weight_set=settings.weight_set, todo=todo)
    if as_json:
        typer.echo(json.dumps(jsonable({**res, "todo": todo_json(todo),
                                        "xlsx": str(xlsx) if xlsx else None}),
                              ensure_ascii=False))
        return
    _echo(plan_lines(res))
    if "chance_plan" in res:
        _echo(cp.chance_lines(res["chance_plan"], res["summary"]["target_predicate"]))
    _echo(todo_lines(todo if lang == "en" else build_todo(res, "en", raw_dir=paths.raw)))
    if xlsx is not None:
        typer.echo(f"to-do workbook: {xlsx}")


evidence_app = typer.Typer(
    name="evidence", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="The folder of data dukung documents: `scan` writes the evidence inventory from it, "
         "`pack` an offline index of it for the 2 x 24-hour verification window.")
app.add_typer(evidence_app, name="evidence")

EvidenceFolder = Annotated[Path, typer.Argument(
    help="Folder holding the data dukung documents (any depth: 'Klaster II/7 Perkawinan "
         "Anak/7.1 ....pdf', 'Indikator 7/...', or flat '7.1_sk.pdf').", show_default=False)]
EvidenceYear = Annotated[int, typer.Option("--year", help="Evaluation year the documents are "
                                                          "for, e.g. 2026.")]
MappingOpt = Annotated[Path | None, typer.Option(
    "--mapping", dir_okay=False, help="Mapping file (CSV or YAML: path or glob -> item code; "
                                      "default: data_dukung.yaml/.csv in the folder).")]
CacheOpt = Annotated[Path | None, typer.Option(
    "--cache", dir_okay=False, help="Scan cache file (default: .kla-evidence-cache/ in the "
                                    "folder, or the user's cache folder if it is read-only).")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Read every file again and "
                                                             "keep no cache.")]


def _evidence_scan(folder: Path, year: int, mapping, cache_path, paths, skip):
    """Scan ``folder`` with a progress bar on a terminal, plain log lines otherwise
    (``cache_path`` None: no cache)."""
    import time

    from .ingest.evidence_scan import scan_folder

    start = time.perf_counter()
    state = {"last": 0.0}

    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn(), transient=True)
        task = None

        def progress(done: int, total: int, rel: str) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task("scan", total=total)
            bar.update(task, completed=done)

        with bar:
            scan = scan_folder(folder, year, mapping=mapping, cache=cache_path, paths=paths,
                               skip=skip, progress=progress)
    else:
        def progress(done: int, total: int, rel: str) -> None:
            now = time.perf_counter()
            if done == total or now - state["last"] >= 10:
                state["last"] = now
                typer.echo(f"scan: {done}/{total} files ({now - start:.0f} s)", err=True)

        scan = scan_folder(folder, year, mapping=mapping, cache=cache_path, paths=paths,
                           skip=skip, progress=progress)
    _notices(scan.notices)
    st = scan.stats
    typer.echo(f"scanned {st['files']} files in {time.perf_counter() - start:.1f} s "
               f"({st['read']} read, {st['reused']} reused from the cache)")
    return scan


def _evidence_summary(scan) -> None:
    placed = int(scan.files["item"].notna().sum())
    counts = scan.items["status"].value_counts()
    typer.echo(f"files: {placed} placed on an item, {len(scan.files) - placed} not placed")
    typer.echo("items: " + ", ".join(f"{k.replace('_', ' ')} {int(counts.get(k, 0))}"
                                     for k in ("ada", "dalam_proses", "kedaluwarsa",
                                               "tidak_ada")))
    probs = scan.problems[scan.problems["rule"] != "missing"]
    if len(probs):
        print_problems(probs[["file", "rule", "value", "hint"]])
    rules = scan.problems["rule"].value_counts()
    if len(rules):
        typer.echo("problems: " + ", ".join(f"{r} {n}" for r, n in rules.items())
                   + (" (missing: items without a file, listed in the inventory)"
                      if "missing" in rules else ""))


@command("scan", group=evidence_app)
def evidence_scan_cmd(
    folder: EvidenceFolder,
    year: EvidenceYear,
    out: Annotated[Path | None, typer.Option(
        "--out", dir_okay=False, help="Inventory to write (.xlsx, the evidence template's "
                                      "format; never inside raw/). Default: <reports-dir>/"
                                      "<region>/evidence/data_dukung_<year>.xlsx.")] = None,
    mapping: MappingOpt = None,
    link_base: Annotated[Path | None, typer.Option(
        "--link-base", file_okay=False, help="Write the file paths relative to this folder "
                                             "(the scanned folder or one above it).")] = None,
    problems_csv: Annotated[Path | None, typer.Option(
        "--problems-csv", dir_okay=False, help="Also write every problem to this CSV.")] = None,
    files_csv: Annotated[Path | None, typer.Option(
        "--files-csv", dir_okay=False, help="Also write one row per file (type, pages, text "
                                            "layer, hash, date, decree...) to this CSV.")] = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Read a folder of data dukung documents: match each file to an evidence item by the code
    in its path (or the mapping file), check it (type by content, size limit, pages, text
    layer, password, damage, duplicates, date against the validity window, drafts) and write
    the evidence inventory (status, title, date, OPD, file path) for `kla validate`, to a path
    outside raw/. Files that cannot be placed are listed, never guessed."""
    from .atomic import write_text
    from .config import claim_reports_dir, project_paths
    from .ingest.evidence_scan import default_cache, refuse_raw, save_inventory
    from .params import city_slug
    from .region import load_region
    from .tables import spreadsheet_safe

    paths = project_paths(data_dir, reports_dir)
    if not folder.is_dir():
        raise KlaError(f"{folder}: no such folder; give the folder holding the data dukung "
                       "documents")
    if out is None:
        name = load_region(paths.raw).name if paths.raw.is_dir() else None
        out = paths.reports_dir / (city_slug(name) if name else "") / "evidence" / \
            f"data_dukung_{year}.xlsx"
        if name:
            claim_reports_dir(paths.reports_dir, name)
    out = refuse_raw(out, paths, "--out file")
    extra = [refuse_raw(p, paths, "CSV file") for p in (problems_csv, files_csv) if p]
    cache_path = None if no_cache else (cache or default_cache(folder, paths))
    scan = _evidence_scan(folder, year, mapping, cache_path, paths, [out, *extra])
    _evidence_summary(scan)
    written, new = save_inventory(scan, out, paths, link_base, record=(
        cache_path.with_name(cache_path.stem + "-outputs.json") if cache_path else None))
    if problems_csv is not None:
        write_text(problems_csv, spreadsheet_safe(scan.problems).to_csv(
            index=False, lineterminator="\n"))
    if files_csv is not None:
        write_text(files_csv, spreadsheet_safe(scan.files).to_csv(index=False,
                                                                  lineterminator="\n"))
    typer.echo(visible(f"inventory: {written}{'' if new else ' (unchanged)'} (review it, "
                       f"then copy it to {paths.raw / 'evidence'}/)"))


@command("pack", group=evidence_app)
def evidence_pack_cmd(
    folder: EvidenceFolder,
    year: EvidenceYear,
    out: Annotated[Path | None, typer.Option(
        "--out", dir_okay=False, help="Page to write (default: FOLDER/index.html; an existing "
                                      "file not written by this command is never "
                                      "replaced).")] = None,
    mapping: MappingOpt = None,
    stake: Annotated[Path | None, typer.Option(
        "--stake", dir_okay=False, help="CSV item,points (or item,chance) of the value at "
                                        "stake per item (default: the catalog's points of "
                                        "every item not 'ada').")] = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Write an offline HTML index beside the documents: klaster -> indicator -> question,
    each with its required items, the files (relative links), status, size and date, and what
    is still missing, most points at stake first. No scripts, no network; phone and print."""
    import pandas as pd

    from .config import project_paths
    from .ingest.evidence_scan import default_cache, refuse_raw
    from .publish.evidence_pack import write_pack

    paths = project_paths(data_dir, reports_dir)
    if not folder.is_dir():
        raise KlaError(f"{folder}: no such folder; give the folder holding the data dukung "
                       "documents")
    target = refuse_raw(out if out is not None else folder / "index.html", paths, "--out page")
    at_stake, label = None, ("poin", "points")
    if stake is not None:
        try:
            at_stake = pd.read_csv(stake, dtype={"item": str})
        except (OSError, ValueError, UnicodeDecodeError) as err:
            raise KlaError(f"{stake}: cannot read the CSV ({err})") from None
        if "item" not in at_stake or not ({"points", "chance"} & set(at_stake)):
            raise KlaError(f"{stake}: needs the columns item and points (or chance)")
        if "points" not in at_stake:
            label = ("peluang", "chance")
    cache_path = None if no_cache else (cache or default_cache(folder, paths))
    scan = _evidence_scan(folder, year, mapping, cache_path, paths, [target])
    _evidence_summary(scan)
    page = write_pack(scan, target, at_stake=at_stake, stake_label=label,
                      refuse=lambda p: refuse_raw(p, paths, "--out page"))
    typer.echo(visible(f"pack: {page}"))


def main() -> None:
    """Console-script entry point."""
    app(prog_name="kla")


if __name__ == "__main__":
    sys.exit(main())
