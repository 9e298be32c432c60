"""Verdicts on the paper's four claims, computed from a results dict by rules fixed before measuring.

Data. Every (ratio, seed) model with ratio > 0 is one point (x = ratio, y = the measure); the unpruned
baseline is shown in tables and figures but is not a point of the correlation. Subjects:
``size:step_3`` (sizes.step_3), ``size:<format>`` (formats[format].model_bytes), ``accuracy:dense`` and
``time:<timing key>`` for every timing key of scope ``network``.

Statistic. Spearman's rho and its two-sided p (scipy.stats.spearmanr), with a paired percentile bootstrap
95% CI for rho (1999 resamples, fixed seed). Degenerate data (constant x or y, n < 3) gives rho None.
A measure that stays constant over the ratios (e.g. a dense format's size) refutes (a) and, with
n >= 10, supports (b)/(c): it plainly does not move with the ratio.

Rules, alpha = 0.05; any claim with n < 5 points is inconclusive ("n too small"). The p compared with
alpha is Holm-Bonferroni adjusted over the subjects of the same claim (``p_holm``; the raw p is ``p``), so
each claim's family-wise chance of a false verdict stays at alpha however many engines are timed.
(a) size subjects, association expected negative (size falls as ratio rises): supported iff p < alpha and
    rho < 0; refuted iff p < alpha and rho > 0; otherwise inconclusive.
(b) accuracy:dense and (c) time subjects, absence of correlation: refuted iff p < alpha; supported iff
    p >= alpha and n >= 10 (at n = 10 a two-sided 5% Spearman test detects |rho| >= 0.65, so a strong
    correlation would have been seen); otherwise inconclusive.
(d) size subjects against the reference = median over seeds of the baseline's sizes.step_1 (the paper's
    optimizer-laden checkpoint). With per-ratio medians over seeds: supported iff every ratio < 0.5 has
    size >= reference and every ratio >= 0.5 has size < reference; refuted otherwise; inconclusive if no
    ratio was measured on one side of 0.5. rho and p are those of (a) on the same subject; the claim also
    records ``reference`` and ``break_even`` (smallest ratio from which every median is below reference).
Every claim carries ``basis``: the one-line reason for its verdict.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from scipy import stats

from prunebench.errors import DataError
from prunebench.paper import CLAIM_STATEMENTS

ALPHA = 0.05
MIN_POINTS = 5
MIN_POINTS_FOR_ABSENCE = 10
BOOTSTRAP_RESAMPLES = 1999
BOOTSTRAP_SEED = 2020
THRESHOLD_RATIO = 0.5
VERDICTS = ("supported", "refuted", "inconclusive")

RULES = {
    "a": f"Holm-adjusted p; n >= {MIN_POINTS}; supported iff p < {ALPHA} and rho < 0, refuted iff p < {ALPHA} and rho > 0 "
         "or the size is constant, else inconclusive",
    "b": f"Holm-adjusted p; n >= {MIN_POINTS}; refuted iff p < {ALPHA}; supported iff (p >= {ALPHA} or the measure is constant) "
         f"and n >= {MIN_POINTS_FOR_ABSENCE}; else inconclusive",
    "d": f"n >= {MIN_POINTS}; per-ratio medians over seeds vs the baseline's median step_1 size: supported iff "
         f"every ratio < {THRESHOLD_RATIO} is >= it and every ratio >= {THRESHOLD_RATIO} is below it; refuted "
         f"otherwise; inconclusive without ratios on both sides of {THRESHOLD_RATIO}",
}
RULES["c"] = RULES["b"]


def spearman(x: Iterable[float], y: Iterable[float]) -> dict[str, Any]:
    """Spearman rho, two-sided p and bootstrap 95% CI of rho; all None when the data cannot rank."""
    x, y = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"rho": None, "p": None, "n": n, "ci": None}
    result = stats.spearmanr(x, y)
    with warnings.catch_warnings():
        # Perfectly monotone data resamples to a constant rho; the percentile interval is then [rho, rho].
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        interval = stats.bootstrap((x, y), _rank_correlation, paired=True, vectorized=True, method="percentile",
                                   n_resamples=BOOTSTRAP_RESAMPLES, random_state=BOOTSTRAP_SEED).confidence_interval
    ci = [float(interval.low), float(interval.high)]
    return {"rho": float(result.statistic), "p": float(result.pvalue), "n": n,
            "ci": None if any(np.isnan(ci)) else ci}


def _rank_correlation(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman rho along ``axis`` (Pearson of mid-ranks), vectorized for the bootstrap; NaN if constant."""
    rank_x = stats.rankdata(x, axis=axis)
    rank_y = stats.rankdata(y, axis=axis)
    rank_x = rank_x - rank_x.mean(axis=axis, keepdims=True)
    rank_y = rank_y - rank_y.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank_x * rank_y).sum(axis=axis) / np.sqrt((rank_x**2).sum(axis=axis) * (rank_y**2).sum(axis=axis))


def association_verdict(rho: float | None, p: float | None, n: int) -> tuple[str, str]:
    """Claim (a): verdict and basis for 'size falls as the ratio rises'."""
    if n < MIN_POINTS:
        return "inconclusive", f"n too small ({n} < {MIN_POINTS})"
    if rho is None or p is None:
        return "refuted", "the measure does not change with the ratio at all (constant data)"
    if p >= ALPHA:
        return "inconclusive", f"no significant correlation (p = {p:.3g} >= {ALPHA})"
    if rho < 0:
        return "supported", f"significant negative correlation (rho = {rho:.3f}, p = {p:.3g})"
    return "refuted", f"significant correlation of the wrong sign (rho = {rho:.3f}, p = {p:.3g})"


def absence_verdict(rho: float | None, p: float | None, n: int) -> tuple[str, str]:
    """Claims (b), (c): verdict and basis for 'no correlation with the ratio'."""
    if n < MIN_POINTS:
        return "inconclusive", f"n too small ({n} < {MIN_POINTS})"
    if rho is None or p is None:
        if n < MIN_POINTS_FOR_ABSENCE:
            return "inconclusive", f"constant data, but n too small ({n} < {MIN_POINTS_FOR_ABSENCE})"
        return "supported", f"the measure does not change with the ratio at all (constant data, n = {n})"
    if p < ALPHA:
        return "refuted", f"significant correlation (rho = {rho:.3f}, p = {p:.3g} < {ALPHA})"
    if n < MIN_POINTS_FOR_ABSENCE:
        return "inconclusive", (f"no significant correlation, but n too small to exclude a strong one "
                                f"({n} < {MIN_POINTS_FOR_ABSENCE})")
    return "supported", f"no significant correlation (p = {p:.3g} >= {ALPHA}) with n = {n}"


def medians_by_ratio(x: Iterable[float], y: Iterable[float]) -> dict[float, float]:
    """Median of y per distinct x (over seeds), keyed and sorted by x."""
    groups: dict[float, list[float]] = {}
    for ratio, value in zip(x, y):
        groups.setdefault(round(float(ratio), 6), []).append(float(value))
    return {ratio: statistics.median(groups[ratio]) for ratio in sorted(groups)}


def onset(ratios: list[float], holds: list[bool]) -> float | None:
    """Smallest ratio from which ``holds`` is true at every larger measured ratio too (None if never)."""
    start = None
    for ratio, ok in sorted(zip(ratios, holds)):
        if not ok:
            start = None
        elif start is None:
            start = ratio
    return start


def threshold_verdict(medians: dict[float, float], reference: float | None, n: int) -> tuple[str, str]:
    """Claim (d): verdict and basis for 'compression only from 50%' on per-ratio median sizes."""
    if n < MIN_POINTS:
        return "inconclusive", f"n too small ({n} < {MIN_POINTS})"
    if reference is None:
        return "inconclusive", "no baseline step_1 size to compare against"
    below = {ratio: size for ratio, size in medians.items() if ratio < THRESHOLD_RATIO}
    above = {ratio: size for ratio, size in medians.items() if ratio >= THRESHOLD_RATIO}
    if not below or not above:
        return "inconclusive", f"no ratio measured on one side of {THRESHOLD_RATIO}"
    early = [ratio for ratio, size in below.items() if size < reference]
    late = [ratio for ratio, size in above.items() if size >= reference]
    if early:
        return "refuted", f"already smaller than the reference {reference:g} at ratio(s) {early}"
    if late:
        return "refuted", f"not smaller than the reference {reference:g} at ratio(s) {late}"
    return "supported", f"not smaller below {THRESHOLD_RATIO}, smaller from {THRESHOLD_RATIO} on"


def _size_measure(fmt: str) -> Callable[[dict], float | None]:
    if fmt == "step_3":
        return lambda model: model["sizes"].get("step_3")
    return lambda model: model["formats"].get(fmt, {}).get("model_bytes")


def _subjects(results: dict) -> dict[str, Callable[[dict], float | None]]:
    """Every subject measured in ``results`` and how to read its y from a model."""
    models = results["models"]
    formats = sorted({fmt for model in models for fmt in model["formats"]} - {"step_3"})
    timing_keys = sorted({key for model in models for key in model["timings"] if key.split("/")[2:3] == ["network"]})
    subjects = {f"size:{fmt}": _size_measure(fmt) for fmt in ["step_3", *formats]}
    subjects["accuracy:dense"] = lambda model: model["accuracy"].get("dense")
    for key in timing_keys:
        subjects[f"time:{key}"] = lambda model, key=key: model["timings"].get(key, {}).get("median_s")
    return subjects


def claim_subjects(results: dict) -> list[tuple[str, str]]:
    """(claim id, subject) pairs evaluated for ``results``, in report order."""
    pairs = []
    for subject in _subjects(results):
        kind = subject.split(":")[0]
        ids = {"size": ("a", "d"), "accuracy": ("b",), "time": ("c",)}[kind]
        pairs.extend((claim_id, subject) for claim_id in ids)
    return sorted(pairs, key=lambda pair: pair[0])


def points(results: dict, subject: str) -> tuple[list[float], list[float]]:
    """(x, y) of every pruned model that measured ``subject``, ordered by ratio then seed."""
    measure = _subjects(results)[subject]
    pairs = sorted((float(model["ratio"]), int(model["seed"]), measure(model)) for model in results["models"]
                   if model["ratio"] > 0 and measure(model) is not None)
    return [ratio for ratio, _, _ in pairs], [float(value) for _, _, value in pairs]


def baseline_step_1(results: dict) -> float | None:
    """Median over seeds of the baseline's step_1 checkpoint size, the paper's 'original model'."""
    sizes = [model["sizes"].get("step_1") for model in results["models"] if model["ratio"] == 0]
    sizes = [size for size in sizes if size is not None]
    return float(statistics.median(sizes)) if sizes else None


def _expectation(expectations: dict, claim_id: str, subject: str) -> dict:
    return expectations.get(f"{claim_id}:{subject}") or expectations.get(f"{claim_id}:*") or {}


def holm_adjusted(p_values: dict[str, float | None]) -> dict[str, float | None]:
    """Holm-Bonferroni adjusted p-values: one claim judged on many subjects (engines x batches) would
    otherwise be refuted by chance in a good share of runs (seen here: 2 of 3 quick runs at alpha 0.05)."""
    ranked = sorted((p, key) for key, p in p_values.items() if p is not None)
    adjusted: dict[str, float | None] = dict.fromkeys(p_values)
    running = 0.0
    for rank, (p, key) in enumerate(ranked):
        running = max(running, min(1.0, (len(ranked) - rank) * p))
        adjusted[key] = running
    return adjusted


def evaluate_claims(results: dict, expectations: dict) -> list[dict]:
    """The ``claims`` entries of the results schema, one per (claim id, subject)."""
    pairs = claim_subjects(results)
    data = {pair: points(results, pair[1]) for pair in pairs}
    correlations = {pair: spearman(*data[pair]) for pair in pairs}
    adjusted = {}
    for claim_id in {claim_id for claim_id, _ in pairs}:
        adjusted.update({(claim_id, subject): p for subject, p in holm_adjusted(
            {subject: correlations[(cid, subject)]["p"] for cid, subject in pairs if cid == claim_id}).items()})
    claims = []
    for claim_id, subject in pairs:
        x, y = data[(claim_id, subject)]
        correlation = correlations[(claim_id, subject)]
        n, rho, p = correlation["n"], correlation["rho"], adjusted[(claim_id, subject)]
        extra: dict[str, Any] = {"p_holm": p}
        if claim_id == "a":
            verdict, basis = association_verdict(rho, p, n)
        elif claim_id == "d":
            reference = baseline_step_1(results)
            medians = medians_by_ratio(x, y)
            verdict, basis = threshold_verdict(medians, reference, n)
            extra = {"reference": reference,
                     "break_even": None if reference is None else
                     onset(list(medians), [size < reference for size in medians.values()])}
        else:
            verdict, basis = absence_verdict(rho, p, n)
        expected = _expectation(expectations, claim_id, subject)
        claims.append({"id": claim_id, "subject": subject, "statement": CLAIM_STATEMENTS[claim_id],
                       "rule": RULES[claim_id], **correlation, "verdict": verdict, "basis": basis,
                       "expected": expected.get("verdict"), "reason": expected.get("reason"),
                       "x": x, "y": y, **extra})
    return claims


EXPECTATION_KEY = re.compile(r"^[abcd]:.+$")


def load_expectations(path: str | os.PathLike) -> dict[str, dict]:
    """The checked-in expected verdicts: ``{"<id>:<subject or *>": {"verdict": ..., "reason": ...}}``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: expectations file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: cannot read expectations as JSON ({error})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expectations must be a JSON object keyed '<id>:<subject>'")
    for key, entry in data.items():
        if not EXPECTATION_KEY.match(key):
            raise DataError(f"{path}: key {key!r} is not '<a|b|c|d>:<subject or *>'")
        if not isinstance(entry, dict) or entry.get("verdict") not in VERDICTS:
            raise DataError(f"{path}: {key!r} needs a 'verdict' among {', '.join(VERDICTS)}")
        if not isinstance(entry.get("reason", ""), str):
            raise DataError(f"{path}: {key!r} has a 'reason' that is not a string")
    return data


def _number(value: float | None) -> str:
    return "None" if value is None else f"{value:.4g}"


def format_claim_failure(claim: dict) -> str:
    """Multi-line account of a claim whose verdict differs from the expected one (an assertion message)."""
    ci = "None" if claim["ci"] is None else f"[{claim['ci'][0]:.3f}, {claim['ci'][1]:.3f}]"
    lines = [
        f"claim ({claim['id']}) on {claim['subject']}: expected {claim['expected']}, measured {claim['verdict']}",
        f"  statement: {claim['statement']}",
        f"  rule: {claim['rule']}",
        f"  rho = {_number(claim['rho'])}, p = {_number(claim['p'])} (Holm-adjusted {_number(claim.get('p_holm'))}), "
        f"n = {claim['n']}, 95% CI = {ci}",
        f"  basis: {claim.get('basis')}",
        f"  expected because: {claim['reason']}",
    ]
    if "break_even" in claim:
        lines.append(f"  reference = {_number(claim['reference'])}, break-even ratio = {claim['break_even']}")
    lines.append("  data (ratio, value):")
    lines.extend(f"    {x:g}\t{y:.6g}" for x, y in zip(claim["x"], claim["y"]))
    return "\n".join(lines)
