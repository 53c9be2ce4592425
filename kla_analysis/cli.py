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
    help="Analyse the KLA (Kota Layak Anak) evaluation: validate agency data, build tables, "
         "score indicators and render the evaluation-year reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder holding raw/ and processed/ (default: the project's data/, "
                       "or $KLA_DATA_DIR).", file_okay=False)]
ReportsDir = Annotated[Path | None, typer.Option(
    "--reports-dir", help="Folder for rendered reports (default: the project's reports/, "
                          "or $KLA_REPORTS_DIR).", file_okay=False)]


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


def command(*args, **kwargs):
    """Register a command whose user-facing errors end in a message and exit 1."""
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
        return app.command(*args, **kwargs)(wrapper)
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
    """``weights``/``claims`` of a run: ``--weights`` (a what-if) or the folder's set
    (``weights:`` in city.yaml); the claims stay on the folder's scale either way."""
    from .catalog import default_weight_set, folder_weights

    folder = folder_weights(paths.raw) or default_weight_set()
    return {"weights": option or folder, "claims": folder}


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
    """Check every raw data file (types, ranges, kelurahan, indicators, keys...) and list ALL
    problems with file, sheet, row, column, rule, value and hint. Exit 1 if any. Data that
    passes is kept in <data-dir>/interim/, so `kla build` on the same files need not
    validate it again."""
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
                                       "<reports-dir>/templates/<year>).")] = None,
    data_dir: DataDir = None,
    reports_dir: ReportsDir = None,
) -> None:
    """Write one blank Excel template per dataset (drop-down lists for kelurahan, indicators,
    evidence status; instructions in Bahasa Indonesia) to send to the OPD."""
    from .config import project_paths
    from .ingest.xlsx_templates import write_templates

    paths = project_paths(data_dir, reports_dir)
    for p in write_templates(year, out or paths.reports_dir / "templates" / str(year), paths):
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
    reports/index.html. Exits 1 if any report failed; its previous HTML is kept."""
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
                      "a CSV indicator,max_points (default: weights: in raw/city.yaml).")]
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
    _echo([*score_lines(s), f"  maximum points: weight set {w['weight_set']} ({w['label_en']})"])


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
    from .tables import load_processed

    check_lang(lang)
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise KlaError(f"--xlsx must name an .xlsx file, got {xlsx}")
    paths = project_paths(data_dir, reports_dir)
    settings = load_settings(rules_file=rules, actions_file=actions,
                             **_weights(weights, paths))
    tables = load_processed(paths)
    res = plan_year(tables, year, city, target, settings=settings)
    if xlsx is not None:
        write_todo_workbook(res, xlsx, lang, weight_set=settings.weight_set)
    if as_json:
        typer.echo(json.dumps(jsonable({**res, "xlsx": str(xlsx) if xlsx else None}),
                              ensure_ascii=False))
        return
    _echo(plan_lines(res))
    if xlsx is not None:
        typer.echo(f"to-do workbook: {xlsx}")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="kla")


if __name__ == "__main__":
    sys.exit(main())
