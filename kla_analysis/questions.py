"""The question catalog as data: the evaluation application's questions, their answer options
and the points of each option (``kla_analysis/data/questions.yaml``, format in its header and
in docs/data-contracts.md).

The application is question-based (instrument-2026.md section 2): a task force answers each
question by choosing an option, and the indicator's points are the sum of the chosen options'
points. Option points are written on the weight set ``points_scale`` names (``probable_2023``:
the points the application shows, the scale self-assessment files are written in), and the
question maxima of an indicator add up to its maximum there; a data folder written on another
scale gets them rescaled per indicator (:func:`on_scale`). Only the Kelembagaan question counts and indicator 1's first question
are sourced; everything else is this package's reading, flagged ``wording_assumed`` /
``points_assumed`` per question.

The file is checked when it is read: a broken copy raises :class:`KlaError` naming the file
and every problem found (not only the first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from .catalog import load_catalog, load_evidence_requirements, weight_set_names
from .config import package_file
from .errors import KlaError
from .yamlfile import read_yaml

QUESTION_COLUMNS = ["indicator", "question", "text_id", "text_en", "opd", "evidence",
                    "max_points", "wording_assumed", "points_assumed", "source"]
OPTION_COLUMNS = ["indicator", "question", "option", "label_id", "label_en", "points"]
_FIELDS = ("indicator", "number", "text_id", "text_en", "wording_source", "wording_assumed",
           "points_assumed", "opd", "evidence", "options")
_OPTION_FIELDS = ("code", "label_id", "label_en", "points")
_CODE = re.compile(r"^[a-z0-9_]+$")
_TOLERANCE = 0.005  # points are written with 2 decimals


def questions_file() -> Path:
    """The packaged question catalog."""
    return package_file("questions.yaml")


def option_key(text: object) -> str:
    """How an answer is compared with an option's code and labels here: lower case,
    punctuation and spaces as one space (the validator uses the same reading of text as for
    headers, :func:`kla_analysis.ingest.cleaning.text_key`)."""
    return " ".join(re.sub(r"[\W_]+", " ", str(text).lower()).split())


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _text(v: object) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _points(v: object) -> float | None:
    """A number >= 0 with at most 2 decimals, else None."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        return None
    if not d.is_finite() or d < 0 or d != d.quantize(Decimal("0.01")):
        return None
    return float(v)


def _check_option(opt: object, where: str, problems: list[str]) -> dict | None:
    if not isinstance(opt, Mapping):
        problems.append(f"{where}: an option must be a mapping with "
                        f"{', '.join(_OPTION_FIELDS)}")
        return None
    lack = [f for f in _OPTION_FIELDS if f not in opt]
    if lack:
        problems.append(f"{where}: missing field(s) {', '.join(lack)}")
        return None
    ok = True
    if not isinstance(opt["code"], str) or not _CODE.match(opt["code"]):
        problems.append(f"{where}: code {opt['code']!r} must be lower-case letters, digits "
                        "and _ (quote it if YAML reads it as a number or yes/no)")
        ok = False
    for f in ("label_id", "label_en"):
        if not _text(opt[f]):
            problems.append(f"{where}: {f} must be a non-empty text")
            ok = False
    pts = _points(opt["points"])
    if pts is None:
        problems.append(f"{where}: points {opt['points']!r} must be a number >= 0 with at "
                        "most 2 decimals")
        ok = False
    return {"option": opt["code"], "label_id": opt["label_id"], "label_en": opt["label_en"],
            "points": pts} if ok else None


def _check_question(q: object, pos: int, known: dict, items: dict,
                    problems: list[str]) -> tuple[dict, list[dict]] | None:
    where = f"question #{pos}"
    if not isinstance(q, Mapping):
        problems.append(f"{where}: must be a mapping with {', '.join(_FIELDS)}")
        return None
    if _is_int(q.get("indicator")) and _is_int(q.get("number")):
        where = f"question #{pos} (indicator {q['indicator']}, number {q['number']})"
    lack = [f for f in _FIELDS if f not in q]
    if lack:
        problems.append(f"{where}: missing field(s) {', '.join(lack)}")
        return None
    bad = len(problems)
    ind = q["indicator"]
    if not _is_int(ind) or ind not in known:
        problems.append(f"{where}: indicator {ind!r} is not an indicator of the catalog "
                        f"({min(known)}-{max(known)}, indicators.yaml)")
    if not _is_int(q["number"]) or q["number"] < 1:
        problems.append(f"{where}: number {q['number']!r} must be a whole number >= 1")
    for f in ("text_id", "text_en", "wording_source", "opd"):
        if not _text(q[f]):
            problems.append(f"{where}: {f} must be a non-empty text")
    if _text(q["wording_source"]) and q["wording_source"] != "package" and not re.match(
            r"^https?://\S+$", q["wording_source"]):
        problems.append(f"{where}: wording_source {q['wording_source']!r} must be a URL or "
                        "'package'")
    for f in ("wording_assumed", "points_assumed"):
        if not isinstance(q[f], bool):
            problems.append(f"{where}: {f} must be true or false")
    ev = q["evidence"]
    if not isinstance(ev, list | tuple) or not ev:
        problems.append(f"{where}: evidence must be a list of evidence item codes, e.g. "
                        "['4.1']")
        ev = []
    for code in ev:
        owner = items.get(str(code))
        if owner is None:
            problems.append(f"{where}: evidence item {code!r} is not in the catalog "
                            "(indicators.yaml evidence codes)")
        elif _is_int(ind) and owner != ind:
            problems.append(f"{where}: evidence item {code!r} belongs to indicator {owner}, "
                            f"not {ind}")
    opts = q["options"]
    if not isinstance(opts, list | tuple) or not opts:
        problems.append(f"{where}: options must be a non-empty list")
        opts = []
    rows, seen = [], {}
    for k, opt in enumerate(opts, start=1):
        row = _check_option(opt, f"{where}, option #{k}", problems)
        if row is None:
            continue
        for text in (row["option"], row["label_id"], row["label_en"]):
            key = option_key(text)
            other = seen.setdefault(key, row["option"])
            if other != row["option"]:
                problems.append(f"{where}: {text!r} (option {row['option']}) reads the same "
                                f"as option {other}; an answer could not tell them apart")
        if _is_int(ind) and ind in known and row["points"] > known[ind] + _TOLERANCE:
            problems.append(f"{where}: option {row['option']} has {row['points']:g} points, "
                            f"above the indicator's maximum {known[ind]:g} (points_scale)")
        rows.append(row)
    if len(problems) > bad:
        return None
    question = {"indicator": ind, "question": q["number"], "text_id": q["text_id"],
                "text_en": q["text_en"], "opd": q["opd"],
                "evidence": "; ".join(str(e) for e in ev),
                "max_points": max(r["points"] for r in rows),
                "wording_assumed": q["wording_assumed"], "points_assumed": q["points_assumed"],
                "source": q["wording_source"]}
    return question, [{"indicator": ind, "question": q["number"], **r} for r in rows]


def _check_totals(qs: pd.DataFrame, known: dict, items: dict, problems: list[str]) -> None:
    for ind, grp in qs.groupby("indicator"):
        numbers = grp["question"].tolist()
        dup = sorted({n for n in numbers if numbers.count(n) > 1})
        if dup:
            problems.append(f"indicator {ind}: question number(s) {', '.join(map(str, dup))} "
                            "given more than once")
        elif sorted(numbers) != list(range(1, len(numbers) + 1)):
            problems.append(f"indicator {ind}: questions are numbered "
                            f"{', '.join(map(str, sorted(numbers)))}; number them 1-"
                            f"{len(numbers)} without gaps")
        total = float(grp["max_points"].sum())
        if abs(total - known[ind]) > _TOLERANCE:
            problems.append(f"indicator {ind}: the question maxima add up to {total:g}, not "
                            f"the indicator's maximum {known[ind]:g} on the points_scale "
                            "(put any rounding remainder on the last question)")
        expected = set(grp["evidence"].str.split("; ").explode())
        lack = sorted((i for i, o in items.items() if o == ind and i not in expected),
                      key=lambda c: [int(x) for x in c.split(".")])
        if lack:
            problems.append(f"indicator {ind}: evidence item(s) {', '.join(lack)} expected "
                            "by no question; add them to a question's evidence list")
    missing = sorted(set(known) - set(qs["indicator"]))
    if missing:
        problems.append(f"indicator(s) {', '.join(map(str, missing))} have no question")


def load_question_catalog(path: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(questions, options)``: :func:`load_questions` and :func:`load_options` in one read
    (``path`` defaults to the packaged ``questions.yaml``)."""
    path = Path(path) if path is not None else questions_file()
    doc = read_yaml(path, "question catalog")
    if not isinstance(doc, Mapping) or not isinstance(doc.get("questions"), list | tuple):
        raise KlaError(f"{path}: a question catalog has `points_scale` and a list "
                       "`questions` (see the header of kla_analysis/data/questions.yaml)")
    problems: list[str] = []
    scale = doc.get("points_scale")
    if scale not in weight_set_names():
        problems.append(f"points_scale is {scale!r}: name the packaged weight set the option "
                        f"points are written in ({', '.join(weight_set_names())}; "
                        "weight_sets.yaml)")
        scale = None
    cat = load_catalog(scale)  # its max_points: the indicators' maxima on that scale
    known = dict(zip(cat["indicator"].astype(int), cat["max_points"].astype(float),
                     strict=True))
    ev = load_evidence_requirements()
    items = dict(zip(ev["item"], ev["indicator"].astype(int), strict=True))
    questions, options = [], []
    for pos, q in enumerate(doc["questions"], start=1):
        found = _check_question(q, pos, known, items, problems)
        if found:
            questions.append(found[0])
            options += found[1]
    qs = pd.DataFrame(questions, columns=QUESTION_COLUMNS)
    if not problems:
        _check_totals(qs, known, items, problems)
    if problems:
        raise KlaError(f"{path}: {len(problems)} problem(s) in the question catalog: "
                       + "; ".join(problems))
    qs = qs.astype({"indicator": "int64", "question": "int64", "max_points": "float64",
                    "wording_assumed": bool, "points_assumed": bool})
    qs = qs.sort_values(["indicator", "question"], kind="stable").reset_index(drop=True)
    opts = pd.DataFrame(options, columns=OPTION_COLUMNS).astype(
        {"indicator": "int64", "question": "int64", "points": "float64"})
    opts = opts.sort_values(["indicator", "question"], kind="stable").reset_index(drop=True)
    for df in (qs, opts):
        df.attrs.update(points_scale=scale, file=str(path))
    return qs, opts


def on_scale(questions: pd.DataFrame, options: pd.DataFrame,
             catalog: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Questions and options with their points on the claims scale of ``catalog`` (its
    ``claims_max_points``: the scale a data folder's self-assessment is written in): each
    indicator's points scaled by ``claims_max_points / sum of its question maxima`` (1 when
    the folder uses the catalog's ``points_scale``, the usual case)."""
    total = questions.groupby("indicator")["max_points"].sum()
    want = catalog.set_index("indicator")["claims_max_points"].astype(float)
    factor = (want.reindex(total.index) / total).where(total > 0, 1.0).fillna(1.0)
    if ((factor - 1).abs() < 1e-12).all():
        return questions, options
    q = questions.assign(max_points=questions["max_points"] * questions["indicator"].map(factor))
    o = options.assign(points=options["points"] * options["indicator"].map(factor))
    for df, src in ((q, questions), (o, options)):
        df.attrs.update(src.attrs)
    return q, o


def load_questions(path: str | Path | None = None) -> pd.DataFrame:
    """One row per question: ``indicator, question, text_id, text_en, opd, evidence`` (the
    expected evidence item codes, ``'; '``-joined), ``max_points`` (highest option points, on
    the points_scale), ``wording_assumed, points_assumed, source``. Raises :class:`KlaError`
    naming the file and every problem.

    >>> q = load_questions()
    >>> q.groupby("indicator").size().loc[[1, 2, 3]].tolist()
    [4, 7, 8]
    """
    return load_question_catalog(path)[0]


def load_options(path: str | Path | None = None) -> pd.DataFrame:
    """One row per answer option, in the file's order: ``indicator, question, option`` (its
    code), ``label_id, label_en, points`` (on the points_scale, ``attrs["points_scale"]``)."""
    return load_question_catalog(path)[1]
