"""The KLA evaluation calendar as data: per round, the dates of its steps and where they
come from (``data/calendar.yaml``; a data folder's ``raw/calendar.yaml`` replaces rounds of
the same year).

Only some dates are published (the 2023 round's, the 2025 round's months). A round without
a calendar of its own is written ``pattern: 2023``: the 2023 round's dates shifted to its
year, every step an ASSUMPTION, and it says so (``Round.basis``, ``Step.status``).

What the to-do of a report is due by (``due``): the end of the self-assessment step of the
round it is for (``next_round``: the first round after a year whose self-assessment has not
closed). Documents may still be added in the 2 x 24-hour window at verification
(``document_window``), but that is a last chance for a few files, not a second deadline.

This module only reads YAML (``yamlfile``) and the package's paths (``config``): every stage
can use it. A bad file is a ``KlaError`` naming the file, the key and the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import package_file
from .errors import KlaError
from .yamlfile import read_yaml

CALENDAR_FILE = "calendar.yaml"
#: The steps of a round, in the order they happen (a round may leave any out but the
#: self-assessment, which the to-do is due by).
STEPS = ("training", "self_assessment", "admin_verification", "results_to_ministry",
         "central_review", "field_verification", "announcement")
DUE_STEP = "self_assessment"
STATUSES = ("sourced", "assumption")
ROUND_KEYS = ("steps", "pattern", "note")
STEP_KEYS = ("start", "end", "status", "source", "note")
WINDOW_KEYS = ("hours", "during", "status", "source", "note")
TOP_KEYS = ("version", "document_window", "rounds")
YEARS = (2000, 2100)


@dataclass(frozen=True)
class Step:
    """One step of a round: ``start``/``end`` (inclusive), ``status`` (sourced or
    assumption), ``source`` (a URL or document) and ``note``."""

    id: str
    start: dt.date
    end: dt.date
    status: str
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Round:
    """One evaluation round, keyed by the year its result is announced."""

    year: int
    steps: Mapping[str, Step]
    #: The file the round was read from (``calendar.yaml`` of the package or ``raw/``).
    file: str = CALENDAR_FILE
    #: The round whose dates were shifted to this one (``pattern:``), or None.
    pattern: int | None = None
    note: str | None = None

    @property
    def deadline(self) -> dt.date:
        """The last day of the self-assessment: what the round's to-do is due by."""
        return self.steps[DUE_STEP].end

    @property
    def status(self) -> str:
        """``sourced`` (every step), ``assumption`` (every step) or ``mixed``."""
        found = {s.status for s in self.steps.values()}
        return found.pop() if len(found) == 1 else "mixed"


@dataclass(frozen=True)
class Window:
    """The window to add missing documents at verification (2 x 24 hours)."""

    hours: int
    during: tuple[str, ...]
    status: str
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Calendar:
    rounds: Mapping[int, Round]
    window: Window | None = None
    #: The files read, package file first.
    files: tuple[str, ...] = field(default_factory=tuple)

    def next_round(self, today: dt.date, after_year: int | None = None) -> Round | None:
        """The first round after ``after_year`` (any round when None) whose self-assessment
        has not closed on ``today`` (its last day still counts); None when the calendar
        holds no such round."""
        for year in sorted(self.rounds):
            r = self.rounds[year]
            if (after_year is None or year > after_year) and r.deadline >= today:
                return r
        return None


@dataclass(frozen=True)
class Due:
    """What a to-do is due by: the round, the self-assessment's last day and its basis, and
    the verification window in which documents may still be added."""

    round: int
    date: dt.date
    #: ``sourced`` or ``assumption``: the status of the self-assessment step's dates.
    status: str
    source: str | None
    #: The round whose dates were shifted to this one (an assumption), or None.
    pattern: int | None
    window_hours: int | None
    #: First and last day of the steps the document window falls in (None without one).
    window_start: dt.date | None
    window_end: dt.date | None
    window_status: str | None

    @property
    def is_assumption(self) -> bool:
        return self.status != "sourced"


# --- reading and checking --------------------------------------------------------------------

def _fail(file: str, key: str, value: object, hint: str) -> KlaError:
    shown = "" if value is None else f" {value!r}"
    return KlaError(f"{file}: {key}:{shown}: {hint}")


def _date(file: str, key: str, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(file, key, value, "not a date; write it as YYYY-MM-DD, e.g. 2027-03-31")


def _text(file: str, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, key, value, "write it as text")
    return " ".join(value.split())


def _mapping(file: str, key: str, value: object, known: tuple[str, ...]) -> Mapping:
    if not isinstance(value, Mapping):
        raise _fail(file, key, value, "must be a mapping of 'key: value' lines; keys: "
                    + ", ".join(known))
    for k in value:
        if k not in known:
            raise _fail(file, f"{key}.{k}" if key else str(k), k,
                        "unknown key; known: " + ", ".join(known))
    return value


def _status(file: str, key: str, value: object) -> str:
    if value not in STATUSES:
        raise _fail(file, key, value, "status is one of: " + ", ".join(STATUSES))
    return str(value)


def _step(file: str, key: str, sid: str, doc: object) -> Step:
    doc = _mapping(file, key, doc, STEP_KEYS)
    for k in ("start", "end", "status"):
        if k not in doc:
            raise _fail(file, f"{key}.{k}", None, "missing; every step has start, end and "
                        "status (sourced or assumption)")
    start = _date(file, f"{key}.start", doc["start"])
    end = _date(file, f"{key}.end", doc["end"])
    if end < start:
        raise _fail(file, f"{key}.end", end.isoformat(),
                    f"ends before it starts ({start.isoformat()})")
    status = _status(file, f"{key}.status", doc["status"])
    source = _text(file, f"{key}.source", doc.get("source"))
    if status == "sourced" and source is None:
        raise _fail(file, f"{key}.source", None, "a sourced step names its source (a URL or "
                    "the circular's number); else write status: assumption and a note")
    return Step(sid, start, end, status, source, _text(file, f"{key}.note", doc.get("note")))


def _year(file: str, key: object) -> int:
    text = str(key).strip()
    if not text.isdigit() or not YEARS[0] <= int(text) <= YEARS[1]:
        raise _fail(file, f"rounds.{key}", key, "a round is keyed by the year its result is "
                    f"announced ({YEARS[0]}-{YEARS[1]}), e.g. 2027")
    return int(text)


def _raw_round(file: str, year: int, doc: object) -> dict:
    """A round as read (steps parsed; a pattern not yet applied)."""
    key = f"rounds.{year}"
    doc = _mapping(file, key, doc, ROUND_KEYS)
    pattern = doc.get("pattern")
    if pattern is not None and (isinstance(pattern, bool) or not isinstance(pattern, int)):
        raise _fail(file, f"{key}.pattern", pattern, "the year of a round whose dates this "
                    "one repeats, e.g. pattern: 2023")
    steps = doc.get("steps") or {}
    steps = _mapping(file, f"{key}.steps", steps, STEPS)
    parsed = {sid: _step(file, f"{key}.steps.{sid}", sid, s) for sid, s in steps.items()}
    if pattern is None and not parsed:
        raise _fail(file, key, None, "give the round's steps (steps: {self_assessment: "
                    "{start: ..., end: ..., status: ...}}) or pattern: <year>")
    return {"file": file, "steps": parsed, "pattern": pattern,
            "note": _text(file, f"{key}.note", doc.get("note"))}


def _shift(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def _apply_pattern(year: int, raw: dict, rounds: dict[int, dict]) -> Round:
    file, pattern, own = raw["file"], raw["pattern"], raw["steps"]
    steps: dict[str, Step] = {}
    if pattern is not None:
        base = rounds.get(pattern)
        if pattern == year or base is None or base["pattern"] is not None:
            raise _fail(file, f"rounds.{year}.pattern", pattern, "must name another round of "
                        "the calendar that has steps of its own, e.g. 2023")
        for sid, s in base["steps"].items():
            steps[sid] = Step(sid, _shift(s.start, year - pattern), _shift(s.end, year - pattern),
                              "assumption", None,
                              f"the {pattern} round's dates shifted to {year} (assumption)")
    steps.update(own)
    ordered = {sid: steps[sid] for sid in STEPS if sid in steps}
    key = f"rounds.{year}.steps"
    if DUE_STEP not in ordered:
        raise _fail(file, key, None, f"every round needs a {DUE_STEP} step: the to-do is due "
                    "at its end")
    previous = None
    for s in ordered.values():
        if previous is not None and s.start < previous.start:
            raise _fail(file, f"{key}.{s.id}.start", s.start.isoformat(),
                        f"starts before {previous.id} ({previous.start.isoformat()}), which "
                        "comes first; steps run in the order " + ", ".join(STEPS))
        previous = s
    if "announcement" in ordered and ordered["announcement"].start.year != year:
        raise _fail(file, f"{key}.announcement.start",
                    ordered["announcement"].start.isoformat(),
                    f"a round is keyed by the year its result is announced: {year}")
    return Round(year, ordered, file, pattern, raw["note"])


def _window(file: str, doc: object) -> Window | None:
    if doc is None:
        return None
    doc = _mapping(file, "document_window", doc, WINDOW_KEYS)
    hours = doc.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0:
        raise _fail(file, "document_window.hours", hours, "a whole number of hours, e.g. 48")
    during = doc.get("during") or []
    if isinstance(during, str):
        during = [during]
    if not isinstance(during, list | tuple) or not during or any(d not in STEPS
                                                                   for d in during):
        raise _fail(file, "document_window.during", during,
                    "a list of steps, e.g. [admin_verification, field_verification]; steps: "
                    + ", ".join(STEPS))
    status = _status(file, "document_window.status", doc.get("status"))
    source = _text(file, "document_window.source", doc.get("source"))
    if status == "sourced" and source is None:
        raise _fail(file, "document_window.source", None, "a sourced window names its source")
    return Window(hours, tuple(during), status, source,
                  _text(file, "document_window.note", doc.get("note")))


def _read(path: Path, label: str) -> dict:
    doc = read_yaml(path, f"evaluation calendar ({label})")
    if doc is None:
        doc = {}
    doc = _mapping(label, "", doc, TOP_KEYS)
    rounds = doc.get("rounds") or {}
    if not isinstance(rounds, Mapping):
        raise _fail(label, "rounds", None, "rounds: maps each announcement year to its "
                    "round, e.g. rounds: {2027: {pattern: 2023}}")
    return {"rounds": {_year(label, k): _raw_round(label, _year(label, k), v)
                       for k, v in rounds.items()},
            "window": doc.get("document_window"), "has_window": "document_window" in doc}


def load_calendar(raw_dir: str | Path | None = None) -> Calendar:
    """The package's calendar, with the rounds (and the document window) of
    ``<raw_dir>/calendar.yaml`` in place of its own when that file exists (only read).
    ``KlaError`` naming the file, the key and the value for anything wrong."""
    files = [(package_file(CALENDAR_FILE), CALENDAR_FILE)]
    if raw_dir is not None and (Path(raw_dir) / CALENDAR_FILE).is_file():
        files.append((Path(raw_dir) / CALENDAR_FILE, f"raw/{CALENDAR_FILE}"))
    rounds: dict[int, dict] = {}
    window, window_file = None, CALENDAR_FILE
    for path, label in files:
        doc = _read(path, label)
        rounds.update(doc["rounds"])
        if doc["has_window"]:
            window, window_file = doc["window"], label
    built = {y: _apply_pattern(y, r, rounds) for y, r in sorted(rounds.items())}
    return Calendar(built, _window(window_file, window), tuple(label for _, label in files))


def next_round(today: dt.date, after_year: int | None = None, *,
               calendar: Calendar | None = None) -> Round | None:
    """``Calendar.next_round`` of ``calendar`` (default: the package's)."""
    return (calendar or load_calendar()).next_round(today, after_year)


def due(rnd: Round, calendar: Calendar) -> Due:
    """What a to-do for ``rnd`` is due by: the end of its self-assessment, with the
    verification steps' days in which documents may still be added (``Due``)."""
    step = rnd.steps[DUE_STEP]
    w = calendar.window
    during = [rnd.steps[s] for s in (w.during if w else ()) if s in rnd.steps]
    return Due(round=rnd.year, date=step.end, status=step.status, source=step.source,
               pattern=rnd.pattern, window_hours=w.hours if w else None,
               window_start=min((s.start for s in during), default=None),
               window_end=max((s.end for s in during), default=None),
               window_status=None if w is None else
               ("sourced" if w.status == "sourced" and rnd.status == "sourced"
                else "assumption"))


def todo_due(year: int, today: dt.date | None = None,
             calendar: Calendar | None = None) -> Due | None:
    """What the to-do of the report for evaluation ``year`` is due by: its own round while
    that round's self-assessment is open, else the next round's (None when the calendar
    holds no round ahead of ``today``, default: today)."""
    calendar = calendar or load_calendar()
    rnd = calendar.next_round(today or dt.date.today(), after_year=int(year) - 1)
    return None if rnd is None else due(rnd, calendar)


def manifest_rounds(calendar: Calendar) -> list[dict]:
    """Every round's deadline as JSON-ready records (``round, due, status, pattern``) for a
    report's manifest, so the index can pick the next deadline on the day it is built."""
    return [{"round": r.year, "due": r.deadline.isoformat(),
             "status": r.steps[DUE_STEP].status, "pattern": r.pattern}
            for _, r in sorted(calendar.rounds.items())]
