"""Honest backtest of the posterior model against three simple forecasts.

For each official year of a city with a self-assessment (and an evidence inventory), the
model predicts that year WITHOUT its own official result (leave-one-year-out: the row is
left out of the likelihood, ``posterior.fit(..., exclude=...)``), and so do three baselines:

* **persistence**: the last earlier official predikat again, smoothed (rules
  ``backtest.persistence_smoothing``: 1 - s on that band, s shared by the others) so a
  change does not score minus infinity; without an earlier result, the national base rates;
* **peers**: the transition rates P(band | previous band) of the other kab/kota of the same
  province in ``official_results`` (consecutive official results of each), add-one smoothed
  (``backtest.peer_add``); without an earlier result of the city, the peers' band shares;
* **national**: the national shares of each predikat in that year (published counts,
  ``national_predicates.yaml``; the nearest year with counts when that year has none),
  with ``backtest.national_add`` added to each count (no region ever got KLA).

Each forecast is scored with the ranked probability score (RPS: the squared distance
between the forecast's and the outcome's cumulative distributions over the ordered bands,
divided by the number of bands - 1; 0 is perfect, lower is better) and the log score (minus
the natural log of the probability given to the official band; lower is better). Summary
means weight the years by their status weight (published 1, inferred 0.5, unconfirmed
0.25). The model may be called calibrated only where it beats the best baseline on both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import KlaError
from .estimate import Tables, resolve_city
from .posterior import Posterior, fit, predict, reweigh
from .settings import Settings

METHODS = ("model", "persistence", "peers", "national")
BASELINES = METHODS[1:]
LABELS = {"model": "model (leave-one-year-out)", "persistence": "persistence (last predikat)",
          "peers": "province peers' transitions", "national": "national base rates"}


def rps(probs: np.ndarray, observed: int) -> float:
    """Ranked probability score of a forecast over ordered bands (0 best, 1 worst)."""
    p = np.asarray(probs, dtype=float)
    f = np.cumsum(p)[:-1]
    o = (np.arange(len(p) - 1) >= observed).astype(float)
    return float(np.square(f - o).sum() / (len(p) - 1))


def log_score(probs: np.ndarray, observed: int) -> float:
    """Minus the natural log of the probability of the observed band (lower is better)."""
    p = float(np.asarray(probs, dtype=float)[observed])
    return math.inf if p <= 0 else -math.log(p)


def persistence(previous: int | None, k: int, smoothing: float) -> np.ndarray | None:
    """The previous band again with probability 1 - smoothing (None: no earlier result)."""
    if previous is None:
        return None
    out = np.full(k, smoothing / (k - 1))
    out[previous] = 1 - smoothing
    return out


def transitions(official: pd.DataFrame, k: int, add: float) -> tuple[np.ndarray, np.ndarray]:
    """(P(band | previous band) as a k x k matrix, band shares) from the consecutive
    official results of each city in ``official`` (columns ``ck, year, band``), each with
    ``add`` added to every count."""
    counts = np.zeros((k, k))
    for _, g in official.sort_values(["ck", "year"]).groupby("ck", sort=False):
        b = g["band"].to_numpy(int)
        np.add.at(counts, (b[:-1], b[1:]), 1)
    shares = np.bincount(official["band"].to_numpy(int), minlength=k).astype(float) + add
    counts += add
    return counts / counts.sum(axis=1, keepdims=True), shares / shares.sum()


def national_rates(national: Mapping, year: int, bands: list[str],
                   add: float) -> tuple[np.ndarray, int]:
    """National band shares of ``year`` (or the nearest year with counts; the earlier one on
    a tie) with ``add`` added to each count, and the year used."""
    rounds = national.get("rounds") or {}
    if not rounds:
        raise KlaError("no national counts per predikat (national_predicates.yaml)")
    used = min(rounds, key=lambda y: (abs(int(y) - int(year)), int(y)))
    c = np.array([rounds[used][b] for b in bands], dtype=float) + add
    return c / c.sum(), int(used)


BACKTEST_COLUMNS = ["city", "year", "official_predicate", "official_status", "weight",
                    "previous_predicate", "national_year", "model_enough", "model_ess",
                    *[f"p_official_{m}" for m in METHODS], *[f"rps_{m}" for m in METHODS],
                    *[f"log_{m}" for m in METHODS]]


def backtest(tables: Tables, settings: Settings, city: str | None = None, *,
             post: Posterior | None = None) -> pd.DataFrame:
    """One row per official year (of ``city``, or of every city with a self-assessment)
    that the model can score: ``BACKTEST_COLUMNS``. ``p_official_<method>`` is the
    probability each forecast gave the official band; the model's columns are NaN where
    its leave-one-year-out fit has too few effective draws (``model_enough`` False).
    ``post``: the full fit when the caller has it (default: ``posterior.fit``)."""
    cfg = settings.rules_document["backtest"]
    post = post if post is not None else fit(tables, settings)
    core = post.core
    off = core.official
    names = list(core.bands)
    k = len(names)
    if city is not None:
        keys = {" ".join(resolve_city(tables, city).split()).casefold()}
    else:
        keys = set(core.city_years["ck"])
    rows = []
    for j in core.used_rows:
        r = off.iloc[int(j)]
        if r["ck"] not in keys:
            continue
        year, band = int(r["year"]), int(r["band"])
        mine = off[off["ck"] == r["ck"]]
        earlier = mine[mine["year"] < year].sort_values("year")
        prev = None if earlier.empty else int(earlier["band"].iloc[-1])
        province = r["province"]
        others = off[off["ck"] != r["ck"]]
        if province is not None and not pd.isna(province):
            others = others[others["province"] == province]
        trans, shares = transitions(others, k, float(cfg["peer_add"]))
        nat, nat_year = national_rates(settings.national or {}, year, names,
                                       float(cfg["national_add"]))
        loo = reweigh(post, [*post.exclude, (r["city"], year)])
        pred = predict(loo, str(r["city"]), year)
        model = (np.array([pred["band_probabilities"][b] for b in names])
                 if pred["enough"] and pred["band_probabilities"] else None)
        forecasts = {"model": model,
                     "persistence": (persistence(prev, k, float(cfg["persistence_smoothing"]))
                                     if prev is not None else nat),
                     "peers": trans[prev] if prev is not None else shares,
                     "national": nat}
        row = {"city": str(r["city"]), "year": year, "official_predicate": r["predicate"],
               "official_status": r["status"], "weight": float(r["weight"]),
               "previous_predicate": None if prev is None else names[prev],
               "national_year": nat_year, "model_enough": bool(pred["enough"]),
               "model_ess": float(loo.ess)}
        for m, f in forecasts.items():
            row[f"p_official_{m}"] = math.nan if f is None else float(f[band])
            row[f"rps_{m}"] = math.nan if f is None else rps(f, band)
            row[f"log_{m}"] = math.nan if f is None else log_score(f, band)
        rows.append(row)
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def backtest_summary(bt: pd.DataFrame) -> dict:
    """Weighted mean RPS and log score per method over the years every method forecast:
    ``{"n_years", "rps": {method: mean}, "log": {...}, "best_baseline", "model_beats_best",
    "calibrated", "verdict"}``. ``calibrated`` is True only when the model has a lower
    mean RPS and a lower mean log score than every baseline."""
    ok = bt[bt["model_enough"].astype(bool)] if len(bt) else bt
    out: dict = {"n_years": int(len(ok)), "n_years_withheld": int(len(bt) - len(ok)),
                 "rps": {}, "log": {}, "best_baseline": None, "model_beats_best": False,
                 "calibrated": False}
    if ok.empty:
        out["verdict"] = ("No official year could be predicted out of sample with enough "
                          "effective draws: the model cannot be judged against the baselines.")
        return out
    w = ok["weight"].to_numpy(float)
    for m in METHODS:
        out["rps"][m] = float(np.average(ok[f"rps_{m}"], weights=w))
        out["log"][m] = float(np.average(ok[f"log_{m}"], weights=w))
    best = min(BASELINES, key=lambda m: (out["rps"][m], out["log"][m]))
    beats = all(out["rps"]["model"] < out["rps"][m] and out["log"]["model"] < out["log"][m]
                for m in BASELINES)
    out.update(best_baseline=best, model_beats_best=beats, calibrated=beats)
    n = out["n_years"]
    small = f" (a small record: {n} official year{'s' if n != 1 else ''})" if n < 10 else ""
    if beats:
        out["verdict"] = (f"The model beats every baseline on both scores over {n} official "
                          f"years: on this record it is calibrated{small}.")
    else:
        out["verdict"] = (f"The model does not beat the best baseline, {LABELS[best]} (mean "
                          f"RPS {out['rps'][best]:.3f} against the model's "
                          f"{out['rps']['model']:.3f}; log score {out['log'][best]:.2f} "
                          f"against {out['log']['model']:.2f}): the baseline is at least as "
                          f"good; read the model's probabilities beside it, not as "
                          f"better{small}.")
    return out


def backtest_lines(bt: pd.DataFrame, summary: Mapping) -> list[str]:
    """The backtest in plain words (``kla calibrate``)."""
    lines = ["Backtest: each official year predicted WITHOUT its own official result "
             "(leave-one-year-out), against three simple forecasts.",
             "Probability given to the official predikat (higher is better):"]
    head = f"  {'year':<6}{'official':<24}" + "".join(f"{m:>13}" for m in METHODS)
    if bt.empty:
        return [*lines, "  no official year the model can score (a year needs a "
                        "self-assessment and an evidence inventory)"]

    def cell(v: float, fmt: str) -> str:
        return f"{'withheld' if pd.isna(v) else format(v, fmt):>13}"

    lines.append(head)
    for r in bt.to_dict("records"):
        who = f"{r['official_predicate']} ({r['official_status']})"
        lines.append(f"  {r['year']:<6}{who:<24}"
                     + "".join(cell(r[f"p_official_{m}"], ".0%") for m in METHODS))
    for label, key, fmt in (("Ranked probability score (0 best)", "rps", ".3f"),
                            ("Log score (lower is better)", "log", ".2f")):
        lines.append(f"{label}:")
        lines.append(head)
        for r in bt.to_dict("records"):
            lines.append(f"  {r['year']:<6}{r['official_predicate']:<24}"
                         + "".join(cell(r[f"{key}_{m}"], fmt) for m in METHODS))
        if summary.get(key):
            lines.append(f"  {'mean':<30}" + "".join(
                cell(summary[key][m], fmt) for m in METHODS) + "  (weighted by status)")
    if len(bt["city"].unique()) > 1:
        lines.insert(1, f"Cities: {', '.join(sorted(bt['city'].unique()))}")
    lines.append(summary["verdict"])
    lines.append("Baselines: persistence = the last earlier official predikat again (smoothed); "
                 "peers = transition rates of the other kab/kota of the province; national = "
                 "the published national shares of that year (or the nearest year).")
    return lines
