"""Priors of the posterior model as data: checked from ``scoring_rules.yaml`` and drawn.

The ``priors`` section gives a distribution to some scoring rules (the others stay at their
headline value) and to two terms that are not rules: ``round_effect`` (points added to the
model score of every city in one evaluation round) and ``noise_sd`` (the standard deviation
of what the rules cannot see in one city and year). The ``posterior`` and ``backtest``
sections hold the machinery's settings (number of draws, seed, minimum effective sample
size, weights of official rows by status, baseline smoothing). Every entry is an
ASSUMPTION with an English ``rationale`` and an Indonesian ``rationale_id``.

Each parameter is drawn from its own random stream (seed, parameter name; round effects:
seed, year), so adding a year or a prior leaves the other draws unchanged.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import KlaError
from .rules import MAX_STRICTNESS, RULE_CHECKS, RULE_CHOICES, _unit, _yaml, rules_path
from .rules import rules_document as _rules_document

#: Parameters of each distribution, with the check of each.
DISTRIBUTIONS = {
    "beta": ("a", "b"),
    "uniform": ("low", "high"),
    "lognormal": ("median", "sigma"),
    "normal": ("mean", "sd"),
    "half_normal": ("scale",),
    "categorical": ("probabilities",),
}
#: Terms of the model that are not scoring rules, and the distributions they may take.
EXTRA = {"round_effect": ("normal", "uniform"),
         "noise_sd": ("half_normal", "uniform", "lognormal")}
#: Support each kind of rule allows: (low, high) for numbers, None for choices.
_SUPPORT = {"unit": (0.0, 1.0), "strictness": (0.0, math.inf)}
SECTIONS = ("priors", "posterior", "backtest")
STATUSES = ("published", "inferred", "unconfirmed")


def _kind(key: str) -> str:
    """``unit``, ``strictness``, ``choice`` or ``other`` (a rule that cannot get a prior)."""
    if key == "statistic.strictness":
        return "strictness"
    if key in RULE_CHOICES:
        return "choice"
    return "unit" if RULE_CHECKS.get(key) is _unit else "other"


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def frozen(spec: Mapping) -> object:
    """A scipy frozen distribution of a continuous prior (``None`` for categorical).

    SciPy is imported here, not with the module: loading the settings (every ``kla``
    command, every report) checks the priors with the closed forms of ``_support`` and
    ``_centres`` and must not pay SciPy's import (about a second)."""
    from scipy import stats

    d = spec["distribution"]
    if d == "beta":
        return stats.beta(spec["a"], spec["b"])
    if d == "uniform":
        return stats.uniform(spec["low"], spec["high"] - spec["low"])
    if d == "lognormal":
        return stats.lognorm(spec["sigma"], scale=spec["median"])
    if d == "normal":
        return stats.norm(spec["mean"], spec["sd"])
    if d == "half_normal":
        return stats.halfnorm(scale=spec["scale"])
    return None


def quantiles(spec: Mapping, qs: Sequence[float]) -> list[float]:
    """Quantiles of a continuous prior from closed forms and ``scipy.special`` (which the
    posterior loads anyway, about 0.1 s), not ``scipy.stats`` (about 0.6 s more): the
    report's methodology section describes every prior and must not pay that import."""
    from scipy import special

    d = spec["distribution"]
    q = np.asarray(qs, dtype=float)
    if d == "beta":
        out = special.betaincinv(spec["a"], spec["b"], q)
    elif d == "uniform":
        out = spec["low"] + q * (spec["high"] - spec["low"])
    elif d == "lognormal":
        out = spec["median"] * np.exp(spec["sigma"] * special.ndtri(q))
    elif d == "normal":
        out = spec["mean"] + spec["sd"] * special.ndtri(q)
    elif d == "half_normal":
        out = spec["scale"] * special.ndtri((1 + q) / 2)
    else:
        raise ValueError(f"no quantiles for a {d!r} prior")
    return [float(v) for v in np.atleast_1d(out)]


def _support(spec: Mapping) -> tuple[float, float]:
    """Lowest and highest value a continuous prior can take (closed form)."""
    d = spec["distribution"]
    return {"beta": (0.0, 1.0), "uniform": (float(spec.get("low", 0)), float(spec.get("high", 0))),
            "lognormal": (0.0, math.inf), "normal": (-math.inf, math.inf),
            "half_normal": (0.0, math.inf)}[d]


def _centres(spec: Mapping) -> list[float]:
    """The median of a continuous prior, and its mode where one exists (closed forms; a
    Beta's median has none, so SciPy is asked only then)."""
    d = spec["distribution"]
    if d == "uniform":
        return [(spec["low"] + spec["high"]) / 2]
    if d == "lognormal":
        return [float(spec["median"])]
    if d == "normal":
        return [float(spec["mean"])]
    if d == "half_normal":
        return [float(spec["scale"]) * 0.6744897501960817]  # Phi^-1(0.75)
    a, b = spec["a"], spec["b"]
    if a == b:
        return [0.5]
    return [(a - 1) / (a + b - 2)] if a > 1 and b > 1 else []  # the mode; median: see below


def _check_spec(key: str, spec: object, rules: Mapping[str, object]) -> list[str]:
    """Problems of one prior entry (empty when it is fine)."""
    if not isinstance(spec, Mapping):
        return [f"prior {key!r} must be a mapping"]
    problems = []
    if "assumption" not in spec or not str(spec.get("rationale") or "").strip() \
            or not str(spec.get("rationale_id") or "").strip():
        problems.append(f"prior {key!r} needs assumption, rationale and rationale_id")
    d = spec.get("distribution")
    if d not in DISTRIBUTIONS:
        return [*problems, f"prior {key!r}: distribution must be one of "
                           f"{', '.join(DISTRIBUTIONS)}"]
    kind = "extra" if key in EXTRA else _kind(key)
    if kind == "other":
        return [*problems, f"prior {key!r}: not a rule that can vary (numbers 0-1, "
                           "statistic.strictness or a choice) nor round_effect / noise_sd"]
    if key in EXTRA and d not in EXTRA[key]:
        return [*problems, f"prior {key!r}: distribution must be one of {', '.join(EXTRA[key])}"]
    if d == "categorical":
        probs = spec.get("probabilities")
        if kind != "choice":
            return [*problems, f"prior {key!r}: a categorical prior needs a choice rule"]
        if not isinstance(probs, Mapping) or not probs or not all(
                _number(p) and p >= 0 for p in probs.values()):
            return [*problems, f"prior {key!r}: probabilities must map choices to numbers >= 0"]
        unknown = [c for c in probs if c not in RULE_CHOICES[key]]
        if unknown:
            problems.append(f"prior {key!r}: unknown choice(s) {', '.join(map(str, unknown))}")
        if abs(sum(probs.values()) - 1) > 1e-6:
            problems.append(f"prior {key!r}: probabilities must add up to 1")
        elif key in rules and max(probs, key=probs.get) != rules[key]:
            problems.append(f"prior {key!r}: its most likely choice must be the headline value "
                            f"{rules[key]!r}")
        return problems
    if kind == "choice":
        return [*problems, f"prior {key!r}: a choice rule needs a categorical prior"]
    params = DISTRIBUTIONS[d]
    if not all(_number(spec.get(p)) for p in params):
        return [*problems, f"prior {key!r}: {d} needs numbers {', '.join(params)}"]
    positive = {"beta": ("a", "b"), "lognormal": ("median", "sigma"), "normal": ("sd",),
                "half_normal": ("scale",)}.get(d, ())
    if any(spec[p] <= 0 for p in positive) or (d == "uniform" and spec["low"] >= spec["high"]):
        return [*problems, f"prior {key!r}: {d} parameters out of range"]
    lo, hi = _support(spec)
    if kind in _SUPPORT:
        slo, shi = _SUPPORT[kind]
        if lo < slo or hi > shi or (kind == "strictness" and lo <= 0 and d != "lognormal"):
            problems.append(f"prior {key!r}: its values must stay within the rule's range")
    if key == "noise_sd" and lo < 0:
        problems.append("prior 'noise_sd': values must not be negative")
    if kind in _SUPPORT and key in rules and not problems:
        v = float(rules[key])
        centres = _centres(spec)
        near = [c for c in centres if abs(c - v) <= 0.01 * max(1.0, abs(v))]
        if not near and d == "beta":  # a Beta's median has no closed form: SciPy, only now
            centres = [*centres, quantiles(spec, [0.5])[0]]
        if min(abs(c - v) for c in centres) > 0.01 * max(1.0, abs(v)):
            problems.append(f"prior {key!r}: its median or mode ({centres[0]:.3g}) must be the "
                            f"headline value {v:g}")
    return problems


def check_priors(priors: object, rules: Mapping[str, object]) -> list[str]:
    """Problems of a ``priors`` section (empty when it is fine)."""
    if not isinstance(priors, Mapping):
        return ["'priors' must be a mapping"]
    problems = [f"prior {k!r} is missing" for k in EXTRA if k not in priors]
    for key, spec in priors.items():
        problems += _check_spec(str(key), spec, rules)
    return problems


def check_posterior(section: object) -> list[str]:
    """Problems of a ``posterior`` section."""
    if not isinstance(section, Mapping):
        return ["'posterior' must be a mapping"]
    p = []
    if not isinstance(section.get("draws"), int) or section["draws"] < 1000:
        p.append("posterior.draws must be a whole number of at least 1000")
    if not isinstance(section.get("seed"), int) or section["seed"] < 0:
        p.append("posterior.seed must be a whole number >= 0")
    if not _number(section.get("min_ess")) or section["min_ess"] <= 0:
        p.append("posterior.min_ess must be a number above 0")
    if not _number(section.get("explain_below")) or not 0 < section["explain_below"] < 1:
        p.append("posterior.explain_below must be a number between 0 and 1")
    if not isinstance(section.get("national_min_scored"), int) or \
            section["national_min_scored"] < 1:
        p.append("posterior.national_min_scored must be a whole number of at least 1")
    w = section.get("status_weights")
    if not isinstance(w, Mapping) or sorted(w) != sorted(STATUSES) or not all(
            _number(v) and 0 <= v <= 1 for v in w.values()):
        p.append(f"posterior.status_weights must give each of {', '.join(STATUSES)} a "
                 "weight between 0 and 1")
    adapt = section.get("adapt")
    if adapt is not None:  # optional: without it the prior draws are used as they are
        if not isinstance(adapt, Mapping) or not isinstance(adapt.get("enabled"), bool) or \
                not all(_number(adapt.get(k)) for k in ("defensive", "t_df", "inflate",
                                                        "min_share")) or \
                not (0 < adapt["defensive"] < 1 and adapt["t_df"] > 0 and adapt["inflate"] > 0
                     and 0 <= adapt["min_share"] < 1):
            p.append("posterior.adapt needs enabled (true/false), defensive (0-1), t_df (> 0), "
                     "inflate (> 0) and min_share (0-1)")
    if not str(section.get("rationale") or "").strip():
        p.append("posterior needs a rationale")
    return p


def check_backtest(section: object) -> list[str]:
    """Problems of a ``backtest`` section."""
    if not isinstance(section, Mapping):
        return ["'backtest' must be a mapping"]
    p = []
    s = section.get("persistence_smoothing")
    if not _number(s) or not 0 < s < 1:
        p.append("backtest.persistence_smoothing must be a number between 0 and 1")
    for k in ("peer_add", "national_add"):
        if not _number(section.get(k)) or section[k] <= 0:
            p.append(f"backtest.{k} must be a number above 0")
    if not str(section.get("rationale") or "").strip():
        p.append("backtest needs a rationale")
    return p


def rules_document(path: str | Path | None = None) -> dict:
    """The checked rules file (``rules.rules_document``) with its ``priors``, ``posterior``
    and ``backtest`` sections checked too (``complete_priors``): what ``load_settings``
    keeps as ``Settings.rules_document``."""
    return complete_priors(_rules_document(path), rules_path(path))


def complete_priors(doc: Mapping, path: Path) -> dict:
    """``doc`` (a rules document) with its ``priors``, ``posterior`` and ``backtest`` sections
    checked; a section the file lacks comes from the packaged rules (listed in
    ``packaged_sections``). ``KlaError`` names the file and every problem."""
    doc = dict(doc)
    missing = [s for s in SECTIONS if s not in doc]
    if missing:
        packaged = rules_path()
        if Path(path).resolve() == packaged.resolve():
            raise KlaError(f"{path}: sections {', '.join(missing)} are required")
        base = _yaml(packaged)
        doc.update({s: base[s] for s in missing})
    doc["packaged_sections"] = missing
    rules = {k: e["value"] for k, e in doc["rules"].items()}
    problems = check_posterior(doc["posterior"]) + check_backtest(doc["backtest"])
    # priors from the packaged file are centred on the packaged headline values: only the
    # file's own priors must match its headline values
    problems += check_priors(doc["priors"], rules if "priors" not in missing else {})
    if problems:
        raise KlaError(f"{path}: " + "; ".join(problems))
    return doc


def prior_specs(doc: Mapping) -> dict[str, dict]:
    """The ``priors`` entries of a checked rules document."""
    return {str(k): dict(v) for k, v in (doc.get("priors") or {}).items()}


def rng_for(seed: int, name: str) -> np.random.Generator:
    """The random stream of one parameter (``name``: a prior key or ``round_effect.<year>``)."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def draw_one(spec: Mapping, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of one prior (object array of choices for a categorical prior)."""
    d = spec["distribution"]
    if d == "categorical":
        choices = list(spec["probabilities"])
        p = np.array([spec["probabilities"][c] for c in choices], dtype=float)
        return np.array(choices, dtype=object)[rng.choice(len(choices), size=n, p=p / p.sum())]
    if d == "beta":
        return rng.beta(spec["a"], spec["b"], n)
    if d == "uniform":
        return rng.uniform(spec["low"], spec["high"], n)
    if d == "lognormal":
        return spec["median"] * np.exp(spec["sigma"] * rng.standard_normal(n))
    if d == "normal":
        return spec["mean"] + spec["sd"] * rng.standard_normal(n)
    return np.abs(spec["scale"] * rng.standard_normal(n))  # half_normal


def draw_rules(specs: Mapping[str, Mapping], n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws of every rule with a prior: ``{key: array (n,)}``; strictness is clipped to
    the rule's range, noise kept positive."""
    out = {}
    for key, spec in specs.items():
        if key in EXTRA:
            continue
        v = draw_one(spec, n, rng_for(seed, key))
        if key == "statistic.strictness":
            v = np.clip(v, 1e-6, MAX_STRICTNESS)
        out[key] = v
    return out


def draw_noise(specs: Mapping[str, Mapping], n: int, seed: int) -> np.ndarray:
    """``n`` draws of the per city-year noise standard deviation (points, > 0)."""
    return np.maximum(draw_one(specs["noise_sd"], n, rng_for(seed, "noise_sd")), 1e-3)


def draw_round_effects(specs: Mapping[str, Mapping], n: int, seed: int,
                       years: Sequence[int]) -> np.ndarray:
    """``(n, len(years))`` round effects in points, one independent stream per year."""
    out = np.empty((n, len(years)))
    for j, y in enumerate(years):
        out[:, j] = draw_one(specs["round_effect"], n, rng_for(seed, f"round_effect.{int(y)}"))
    return out


def varied_rules(doc: Mapping) -> list[str]:
    """Rule keys with a prior (the others keep their headline value), in file order."""
    return [k for k in prior_specs(doc) if k not in EXTRA]

