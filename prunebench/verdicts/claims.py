"""Verdicts on the paper's four claims, computed from a results dict by rules fixed before measuring.

Ranges. Every claim is judged twice, as separate subjects: over the paper's six ratios (10-90%, "the
paper's claim") and over the ratios the suite adds beyond them ("beyond the paper"), when it measured any.

Data. Every (ratio, seed) model with ratio > 0 is one point (x = ratio, y = the measure); the unpruned
model of the same seed is the reference. Subjects: ``size:step_3`` (sizes.step_3),
``size:<format>`` (formats[format].model_bytes), ``accuracy:dense`` and ``time:<timing key>`` for every
timing key of scope ``network``.

(a) size falls as the ratio rises. Spearman's rho and its two-sided p (scipy.stats.spearmanr), p
    Holm-Bonferroni adjusted over the subjects of the claim and range, alpha = 0.05: supported iff p < alpha
    and rho < 0; refuted iff p < alpha and rho > 0, or the size is constant; else inconclusive. With fewer
    than 5 points (a range of 3 ratios, say) sizes, which are deterministic, are judged by their per-ratio
    medians instead: supported iff they strictly fall, refuted iff they never fall from one ratio to the next.
(b) accuracy and (c) time do not change with the ratio: equivalence tests (prunebench.verdicts.equivalence) with a
    margin stated before measuring (results["margins"]; docs/verdicts.md says why the defaults).
    (b) per ratio: accuracy minus the baseline's on the same test images, pooled over seeds; margin in
        accuracy (0.01 = 1 percentage point).
    (c) per ratio: median time over the unpruned model's (per round, the geometric mean over the seeds'
        baselines) on the same engine, batch and device, from interleaved rounds, pooled over seeds;
        margin relative (0.10: within [1/1.1, 1.1]).
    Each ratio gets a 90% bootstrap interval. supported iff every ratio's interval lies inside the margin
    (intersection-union: each TOST at 5%); refuted iff some ratio's interval lies wholly outside it (5% per
    ratio, no multiplicity correction); else inconclusive, stating the margin the data reach and what would
    decide it. Spearman rho, p and its CI stay beside them as descriptive columns: the paper spoke of
    correlation.
(d) compression takes effect only from 50%: per-ratio medians over seeds against the baseline's median
    step_1 size (the paper's optimizer-laden checkpoint): supported iff every ratio < 0.5 has size >=
    reference and every ratio >= 0.5 has size < reference; refuted otherwise. Over the paper's range a
    ratio on each side of 0.5 is needed (else not judged); beyond it, every ratio is above 0.5 and only
    that side is judged. ``break_even`` is the smallest ratio from which every median is below reference.

Needs. Each rule needs some data to judge at all: (a) two distinct ratios in the range (the rho test with
5 points, else per-ratio medians, both need a change of ratio), (d) over the paper's range a ratio on each
side of 0.5 and the baseline's step_1 size, (b) and (c) a pruned ratio measured with its seed's baseline.
A claim whose need is unmet is ``judged: False`` (verdict inconclusive, ``not_judged_because`` with the
counts); ``narrowed`` when only the run's ratios, narrowed from its profile's, left the need unmet.

Gating. Sizes, counts and accuracies do not depend on the machine, so (a), (b), (d) are compared with the
expectations file on any machine. (c)'s expectation follows from the engine's work (registry
``ENGINES[name].work``, prunebench.verdicts.expected_time), on any machine and profile; an entry of the
expectations file's ``machines`` whose pattern matches this machine class overrides it. Where neither gives
an expectation the verdict is reported, not gated (``gated``, ``not_gated_because``). Every claim carries
``basis``: the one-line reason for its verdict. ``claim_outcome`` and ``summary_counts`` say what the
suite makes of each claim: passed, failed, undecided (a gated time verdict too noisy to decide), not judged
or not gated.

Methods. Results with several pruning methods (prune/methods/, ``--methods``) are judged per method: each
method's pruned models against the shared baselines, every claim carrying its ``method``. Expectation keys
may name one (``b@beyond/gradual:accuracy:dense``); a key without a method holds for every method.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import warnings
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from prunebench.errors import DataError
from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.prune.policy import DEFAULT_PRUNED
from prunebench.results.keys import TimingKey, ratio_key
from prunebench.results.machine import machine_class
from prunebench.results.profiles import PROFILES
from prunebench.verdicts.equivalence import Interval, accuracy_difference, equivalence_verdict, time_ratio
from prunebench.verdicts.expected_time import derived_time_expectation, machine_table
from prunebench.verdicts.margins import DEFAULT_ACCURACY_MARGIN, DEFAULT_TIME_MARGIN
from prunebench.verdicts.paper import CLAIM_STATEMENTS, PAPER_RATIOS
from prunebench.verdicts.stats import BOOTSTRAP_SEED, holm_adjusted, onset

ALPHA = 0.05
MIN_POINTS = 5
BOOTSTRAP_RESAMPLES = 1999
THRESHOLD_RATIO = 0.5
VERDICTS = ("supported", "refuted", "inconclusive")
RANGES = ("paper", "beyond")
RANGE_TITLES = {"paper": "the paper's ratios (10-90%)", "beyond": "beyond the paper"}
MACHINE_GATED = ("c",)  # claims whose verdict depends on the machine

RULES = {
    "a": f"Holm-adjusted Spearman p; supported iff p < {ALPHA} and rho < 0, refuted iff p < {ALPHA} and rho > 0 "
         f"or the size is constant, else inconclusive; under {MIN_POINTS} points: per-ratio medians strictly "
         "falling (supported) or never falling (refuted)",
    "b": "equivalence: per ratio, accuracy minus the baseline's on the same images (pooled over seeds), 90% "
         "bootstrap CI; supported iff every CI lies within +-margin, refuted iff one lies wholly outside",
    "c": "equivalence: per ratio, median time over the unpruned model's (same engine, batch, device; "
         "interleaved rounds, pooled over seeds), 90% bootstrap CI; supported iff every CI lies within [1/(1+m), 1+m], "
         "refuted iff one lies wholly outside",
    "d": f"per-ratio medians over seeds vs the baseline's median step_1 size: supported iff every ratio < "
         f"{THRESHOLD_RATIO} is >= it and every ratio >= {THRESHOLD_RATIO} is below it, refuted otherwise; "
         f"over the paper's range not judged without ratios on both sides of {THRESHOLD_RATIO}",
}


def range_of(ratio: float) -> str:
    return "paper" if ratio_key(ratio) in PAPER_RATIOS else "beyond"


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


def association_verdict(rho: float | None, p: float | None, n: int,
                        medians: dict[float, float] | None = None) -> tuple[str, str]:
    """Claim (a): verdict and basis for 'size falls as the ratio rises'."""
    if n < MIN_POINTS:
        if medians is None or len(medians) < 2:
            return "inconclusive", f"n too small ({n} < {MIN_POINTS}) and fewer than two ratios"
        sizes = list(medians.values())
        steps = [later - earlier for earlier, later in zip(sizes, sizes[1:])]
        if all(step < 0 for step in steps):
            return "supported", f"per-ratio sizes strictly fall over {len(sizes)} ratios (n = {n} < {MIN_POINTS}: no rho test)"
        if all(step >= 0 for step in steps):
            return "refuted", f"per-ratio sizes never fall over {len(sizes)} ratios"
        return "inconclusive", f"per-ratio sizes fall and rise over {len(sizes)} ratios (n = {n} < {MIN_POINTS})"
    if rho is None or p is None:
        return "refuted", "the measure does not change with the ratio at all (constant data)"
    if p >= ALPHA:
        return "inconclusive", f"no significant correlation (p = {p:.3g} >= {ALPHA})"
    if rho < 0:
        return "supported", f"significant negative correlation (rho = {rho:.3f}, p = {p:.3g})"
    return "refuted", f"significant correlation of the wrong sign (rho = {rho:.3f}, p = {p:.3g})"


def medians_by_ratio(x: Iterable[float], y: Iterable[float]) -> dict[float, float]:
    """Median of y per distinct x (over seeds), keyed and sorted by x."""
    groups: dict[float, list[float]] = {}
    for ratio, value in zip(x, y):
        groups.setdefault(ratio_key(ratio), []).append(float(value))
    return {ratio: statistics.median(groups[ratio]) for ratio in sorted(groups)}


def threshold_verdict(medians: dict[float, float], reference: float | None, both_sides: bool = True) -> tuple[str, str]:
    """Claim (d): verdict and basis for 'compression only from 50%' on per-ratio median sizes."""
    if not medians:
        return "inconclusive", "no ratio measured"
    if reference is None:
        return "inconclusive", "no baseline step_1 size to compare against"
    below = {ratio: size for ratio, size in medians.items() if ratio < THRESHOLD_RATIO}
    above = {ratio: size for ratio, size in medians.items() if ratio >= THRESHOLD_RATIO}
    if both_sides and (not below or not above):
        return "inconclusive", f"no ratio measured on one side of {THRESHOLD_RATIO}"
    early = [ratio for ratio, size in below.items() if size < reference]
    late = [ratio for ratio, size in above.items() if size >= reference]
    if early:
        return "refuted", f"already smaller than the reference {reference:g} at ratio(s) {early}"
    if late:
        return "refuted", f"not smaller than the reference {reference:g} at ratio(s) {late}"
    if not below:
        return "supported", f"smaller than the reference {reference:g} at every ratio measured (all >= {THRESHOLD_RATIO})"
    return "supported", f"not smaller below {THRESHOLD_RATIO}, smaller from {THRESHOLD_RATIO} on"


def _ratios_text(ratios: list[float]) -> str:
    listed = f" ({', '.join(f'{ratio:g}' for ratio in ratios)})" if ratios else ""
    return f"{len(ratios)} ratio{'' if len(ratios) == 1 else 's'}{listed}"


def unmet_need(claim_id: str, ratio_range: str, ratios: Iterable[float]) -> str | None:
    """What claim ``claim_id``'s rule needs of the ratios measured in one range that ``ratios`` lack; None
    when they are enough. A rule asked to judge less would return a verdict the data cannot carry: (a)
    with one ratio and 5 seeds has constant x and would read "refuted". (b) and (c) also need a baseline
    of each pruned model's seed, which ``accuracy_intervals`` and ``time_intervals`` report."""
    distinct = sorted({ratio_key(ratio) for ratio in ratios})
    if claim_id == "a" and len(distinct) < 2:
        return (f"(a) needs 2 distinct ratios in the range (a trend: the rho test on {MIN_POINTS} or more "
                f"points, else per-ratio medians over 2 or more ratios); has {_ratios_text(distinct)}")
    below = any(ratio < THRESHOLD_RATIO for ratio in distinct)
    if claim_id == "d" and ratio_range == "paper" and not (below and any(r >= THRESHOLD_RATIO for r in distinct)):
        return f"(d) over the paper's range needs ratios on both sides of {THRESHOLD_RATIO}; has {_ratios_text(distinct)}"
    if not distinct:
        return f"({claim_id}) needs a pruned ratio in the range; has none"
    return None


def narrowed_ratios(profile: dict) -> str | None:
    """How a run's ratios differ from those of its named profile (``--ratios``); None when they do not or
    the profile is not one of ``PROFILES``. A claim such a run cannot judge is the run's choice, not a fault."""
    own = PROFILES.get(profile.get("name"))
    ratios = sorted({ratio_key(ratio) for ratio in profile.get("ratios", ())})
    if own is None or ratios == sorted({ratio_key(ratio) for ratio in own["ratios"]}):
        return None
    return f"ratios {', '.join(f'{r:g}' for r in ratios)} (the {profile['name']} profile's: " \
           f"{', '.join(f'{r:g}' for r in own['ratios'])})"


def _size_measure(fmt: str) -> Callable[[dict], float | None]:
    if fmt == "step_3":
        return lambda model: model["sizes"].get("step_3")
    return lambda model: model["formats"].get(fmt, {}).get("model_bytes")


def _subjects(results: dict) -> dict[str, Callable[[dict], float | None]]:
    """Every subject measured in ``results`` and how to read its y from a model."""
    models = results["models"]
    formats = sorted({fmt for model in models for fmt in model["formats"]} - {"step_3"})
    timing_keys = sorted({key for model in models for key in model["timings"]
                          if TimingKey.parse(key).scope == "network"})
    subjects = {f"size:{fmt}": _size_measure(fmt) for fmt in ["step_3", *formats]}
    subjects["accuracy:dense"] = lambda model: model["accuracy"].get("dense")
    for key in timing_keys:
        subjects[f"time:{key}"] = lambda model, key=key: model["timings"].get(key, {}).get("median_s")
    return subjects


def claim_subjects(results: dict) -> list[tuple[str, str, str]]:
    """(claim id, range, subject) triples evaluated for ``results``, in report order; a range is judged
    only where the results hold pruned models in it."""
    ranges = [name for name in RANGES if any(model["ratio"] > 0 and range_of(model["ratio"]) == name
                                             for model in results["models"])]
    triples = []
    for subject in _subjects(results):
        kind = subject.split(":")[0]
        ids = {"size": ("a", "d"), "accuracy": ("b",), "time": ("c",)}[kind]
        triples.extend((claim_id, name, subject) for claim_id in ids for name in ranges)
    return sorted(triples, key=lambda triple: (triple[0], RANGES.index(triple[1])))


def points(results: dict, subject: str, ratio_range: str | None = None) -> tuple[list[float], list[float]]:
    """(x, y) of every pruned model (in ``ratio_range``, if given) that measured ``subject``, ordered by
    ratio then seed."""
    measure = _subjects(results)[subject]
    pairs = sorted((float(model["ratio"]), int(model["seed"]), measure(model)) for model in results["models"]
                   if model["ratio"] > 0 and measure(model) is not None
                   and (ratio_range is None or range_of(model["ratio"]) == ratio_range))
    return [ratio for ratio, _, _ in pairs], [float(value) for _, _, value in pairs]


def baseline_step_1(results: dict) -> float | None:
    """Median over seeds of the baseline's step_1 checkpoint size, the paper's 'original model'."""
    sizes = [model["sizes"].get("step_1") for model in results["models"] if model["ratio"] == 0]
    sizes = [size for size in sizes if size is not None]
    return float(statistics.median(sizes)) if sizes else None


# ---- equivalence subjects (b), (c) ---------------------------------------------------------------------

def margins_of(results: dict) -> dict[str, float]:
    """The margins the run stated (older results: the defaults)."""
    margins = results.get("margins") or {}
    return {"accuracy": float(margins.get("accuracy", DEFAULT_ACCURACY_MARGIN)),
            "time": float(margins.get("time", DEFAULT_TIME_MARGIN))}


def _pruned_by_ratio(results: dict, ratio_range: str) -> dict[float, list[dict]]:
    groups: dict[float, list[dict]] = {}
    for model in results["models"]:
        if model["ratio"] > 0 and range_of(model["ratio"]) == ratio_range:
            groups.setdefault(ratio_key(model["ratio"]), []).append(model)
    return dict(sorted(groups.items()))


def _baselines(results: dict) -> dict[int, dict]:
    return {int(model["seed"]): model for model in results["models"] if model["ratio"] == 0}


def accuracy_intervals(results: dict, ratio_range: str) -> tuple[dict[float, Interval], str | None]:
    """Per ratio, the paired accuracy difference from the baseline of each seed; or a reason it cannot be."""
    from prunebench.results.contract import decode_correct

    baselines, images = _baselines(results), int(results["profile"].get("eval_images") or 0)
    intervals = {}
    for ratio, models in _pruned_by_ratio(results, ratio_range).items():
        pairs = []
        for model in models:
            baseline = baselines.get(int(model["seed"]))
            if baseline is None:
                continue
            texts = (baseline.get("correct", {}).get("dense"), model.get("correct", {}).get("dense"))
            if None in texts or not images:
                return {}, "these results lack per-image correctness (schema 1); rerun the suite to judge (b)"
            pairs.append(tuple(decode_correct(text, images) for text in texts))
        if pairs:
            intervals[ratio] = accuracy_difference(pairs)
    return intervals, None if intervals else "no pruned model with a baseline of its seed"


def reference_rounds(results: dict, key: str) -> np.ndarray | None:
    """The unpruned model's time per round on one timing key, over every seed's baseline.

    Its time does not depend on the seed in expectation, but each built instance runs a few percent
    faster or slower than another (seen here: 816 and 879 us for two tf-dense baselines at batch 1). One
    baseline as the reference would pass its own quirk on to every ratio of its seed; the geometric mean
    over the baselines of round k (the rounds are interleaved, so they are simultaneous) averages it out.
    None when a baseline lacks raw rounds.
    """
    timings = [model["timings"][key] for model in _baselines(results).values() if key in model["timings"]]
    if not timings or any("samples_s" not in timing for timing in timings):
        return None
    rounds = [np.asarray(timing["samples_s"], float) for timing in timings]
    if len({len(values) for values in rounds}) == 1:
        return np.exp(np.mean(np.log(rounds), axis=0))
    return np.concatenate(rounds)  # not simultaneous: pooled, and resampled on its own


def time_intervals(results: dict, ratio_range: str, key: str) -> tuple[dict[float, Interval], str | None]:
    """Per ratio, the time ratio of each seed's pruned model to the unpruned model (``reference_rounds``)
    on the same timing key; or why not."""
    if any("samples_s" not in model["timings"][key] for model in results["models"] if key in model["timings"]):
        return {}, "these results lack raw timing rounds (schema 1); rerun the suite to judge (c)"
    reference = reference_rounds(results, key)
    if reference is None:
        return {}, "no timing of the unpruned model on this key"
    intervals = {}
    for ratio, models in _pruned_by_ratio(results, ratio_range).items():
        pairs = [(reference, np.asarray(model["timings"][key]["samples_s"], float))
                 for model in models if key in model["timings"]]
        if pairs:
            intervals[ratio] = time_ratio(pairs)
    return intervals, None if intervals else "no timing of a pruned model"


def _subject_noise(results: dict, key: str) -> float | None:
    values = [model["timings"][key].get("noise") for model in results["models"] if key in model["timings"]]
    values = [value for value in values if value is not None]
    return float(statistics.median(values)) if values else None


def machine_noise(results: dict) -> float | None:
    """The run's noise figure: median over every network timing of its IQR/median."""
    values = [timing.get("noise") for model in results["models"] for key, timing in model["timings"].items()
              if TimingKey.parse(key).scope == "network" and timing.get("noise") is not None]
    return float(statistics.median(values)) if values else None


def _what_would_decide(claim_id: str, reached: float, margin: float, results: dict, key: str | None) -> str:
    """How much more data would bring the widest interval inside the margin, by the 1/sqrt(n) law."""
    if not math.isfinite(reached) or reached <= 0:
        return ""
    factor = (reached / margin) ** 2
    if claim_id == "b":
        seeds = len(results["profile"].get("seeds") or [0])
        return f"; about {math.ceil(seeds * factor)} seeds (now {seeds}) would narrow it enough, if the effect is smaller"
    rounds = min(timing["rounds"] for model in results["models"] for k, timing in model["timings"].items() if k == key)
    return f"; about {math.ceil(rounds * factor)} interleaved rounds (now {rounds}) would, if the effect is smaller"


def equivalence_claim(claim_id: str, ratio_range: str, subject: str, results: dict) -> dict[str, Any]:
    """Verdict, basis, effect and intervals of one (b) or (c) subject over one range; ``not_judged_because``
    when no pruned model has its baseline's measure to compare with."""
    margins = margins_of(results)
    if claim_id == "b":
        margin, log_scale = margins["accuracy"], False
        intervals, missing = accuracy_intervals(results, ratio_range)
        key = None
    else:
        margin, log_scale = margins["time"], True
        key = subject.removeprefix("time:")
        intervals, missing = time_intervals(results, ratio_range, key)
    fields: dict[str, Any] = {"margin": margin, "scale": "ratio" if log_scale else "difference",
                              "per_ratio": [{"ratio": ratio, "effect": iv.effect, "low": iv.low, "high": iv.high}
                                            for ratio, iv in intervals.items()]}
    if key is not None:
        fields["noise"] = _subject_noise(results, key)
    if missing:
        return {**fields, "verdict": "inconclusive", "basis": missing, "effect": None, "interval": None,
                "margin_reached": None, "not_judged_because": missing}
    verdict, basis, reached = equivalence_verdict(intervals, margin, log_scale)
    center = 1.0 if log_scale else 0.0
    # The effect shown for the subject: the ratio whose interval reaches furthest from no change.
    worst = max(intervals, key=lambda ratio: max(abs(intervals[ratio].low - center), abs(intervals[ratio].high - center)))
    if verdict == "inconclusive":
        basis += _what_would_decide(claim_id, reached, margin, results, key)
        if key is not None and fields["noise"] is not None:
            basis += f" (noise decided it: rounds spread {fields['noise'] * 100:.0f}% IQR/median)"
    return {**fields, "verdict": verdict, "basis": basis, "effect": intervals[worst].effect,
            "effect_ratio": worst, "interval": intervals[worst].as_list(), "margin_reached": reached,
            "not_judged_because": None}


# ---- expectations --------------------------------------------------------------------------------------

EXPECTATION_KEY = re.compile(r"^[abcd](@(paper|beyond))?(/[a-z0-9-]+)?:.+$")


def _lookup(table: dict, claim_id: str, ratio_range: str, subject: str,
            method: str = DEFAULT_METHOD) -> dict | None:
    """The most specific entry: a method's own (``b@beyond/gradual:accuracy:dense``) before any method's."""
    for tail in (f"/{method}", ""):
        for key in (f"{claim_id}@{ratio_range}{tail}:{subject}", f"{claim_id}{tail}:{subject}",
                    f"{claim_id}@{ratio_range}{tail}:*", f"{claim_id}{tail}:*"):
            if key in table:
                return table[key]
    return None


# Settings that change what a model measures; the expectations describe each profile with its own values.
PROTOCOL_SETTINGS = ("max_steps", "batch_size", "retrain_steps", "eval_images")
PROTOCOL_NOT_GATED = "settings differ from those the profile's expectations describe: "


def protocol_overrides(profile: dict) -> list[str]:
    """How a run's settings differ from its named profile's (e.g. ``--retrain-steps 10000`` on the methods
    profile): such a run measures another protocol, so the profile's expected verdicts do not apply to it.
    Ratios, seeds and methods may differ (expectations are per range and method)."""
    own = PROFILES.get(profile.get("name"))
    if own is None:
        return []
    found = [f"{name} {profile[name]} (profile: {own[name]})" for name in PROTOCOL_SETTINGS
             if name in profile and name in own and profile[name] != own[name]]
    if "variables" in profile and tuple(profile["variables"]) != DEFAULT_PRUNED:
        found.append(f"variables {','.join(profile['variables'])} (profile: {','.join(DEFAULT_PRUNED)})")
    return found


def expectation_for(expectations: dict, claim_id: str, ratio_range: str, subject: str, machine: str,
                    method: str = DEFAULT_METHOD,
                    derive: Callable[[], tuple[dict, str | None]] | None = None) -> tuple[dict, str | None]:
    """(expected entry, why it is not gated; None when gated). (a), (b), (d): the ``claims`` table, on any
    machine. (c): the entry of the first ``machines`` pattern matching this machine class, if it has one
    for the subject; else ``derive()`` (from the engine's work: expectation_rules)."""
    if claim_id not in MACHINE_GATED:
        return _lookup(expectations.get("claims", {}), claim_id, ratio_range, subject, method) or {}, None
    table = machine_table(expectations.get("machines", {}), machine) or {}
    entry = _lookup(table, claim_id, ratio_range, subject, method)
    if entry is not None:
        return entry, None
    return derive() if derive is not None else ({}, f"no time expectation for machine class {machine!r}")


def method_of(model: dict) -> str | None:
    """A pruned model's method (results from before methods: the paper's one-shot); None for a baseline."""
    return None if model["ratio"] == 0 else model.get("method") or DEFAULT_METHOD


def methods_in(results: dict) -> list[str]:
    """The pruning methods of the results' pruned models, the paper's first (none pruned: just the paper's)."""
    found = {method_of(model) for model in results["models"]} - {None}
    return sorted(found, key=lambda name: (name != DEFAULT_METHOD, name)) or [DEFAULT_METHOD]


def for_method(results: dict, method: str) -> dict:
    """The results restricted to one method's pruned models and the baselines they share."""
    return {**results, "models": [model for model in results["models"] if method_of(model) in (None, method)]}


def evaluate_claims(results: dict, expectations: dict) -> list[dict]:
    """The ``claims`` entries of the results schema, one per (method, claim id, range, subject): each method
    is judged on its own pruned models against the shared baselines, the paper's method first."""
    return [claim for method in methods_in(results)
            for claim in _evaluate_method(for_method(results, method), expectations, method)]


def _evaluate_method(results: dict, expectations: dict, method: str) -> list[dict]:
    """The claims of one method's results (``for_method``)."""
    triples = claim_subjects(results)
    data = {triple: points(results, triple[2], triple[1]) for triple in triples}
    correlations = {triple: spearman(*data[triple]) for triple in triples}
    adjusted: dict[tuple[str, str, str], float | None] = {}
    for family in {(claim_id, name) for claim_id, name, _ in triples}:
        adjusted.update(holm_adjusted({triple: correlations[triple]["p"] for triple in triples
                                       if triple[:2] == family}))
    machine = str(machine_class(results["machine"]))
    overrides = protocol_overrides(results["profile"])
    claims = []
    for triple in triples:
        claim_id, ratio_range, subject = triple
        x, y = data[triple]
        extra = {"p_holm": adjusted[triple], **_verdict_fields(triple, results, x, y, correlations[triple]["rho"],
                                                               adjusted[triple])}
        extra.update(_judged_fields(triple, results, x, extra.pop("not_judged_because")))
        if not extra["judged"]:
            extra.update(verdict="inconclusive", basis=f"not judged: {extra['not_judged_because']}")
        derive = partial(derived_time_expectation, subject, method, max(x, default=0.0),
                         results["profile"].get("variables", DEFAULT_PRUNED), margins_of(results)["time"],
                         results.get("engines"))
        expected, not_gated_because = expectation_for(expectations, claim_id, ratio_range, subject, machine,
                                                      method, derive)
        if overrides:
            expected, not_gated_because = {}, PROTOCOL_NOT_GATED + ", ".join(overrides)
        claims.append({"id": claim_id, "range": ratio_range, "subject": subject, "method": method,
                       "statement": CLAIM_STATEMENTS[claim_id], "rule": RULES[claim_id], **correlations[triple],
                       "expected": expected.get("verdict"), "reason": expected.get("reason"),
                       "gated": not_gated_because is None, "not_gated_because": not_gated_because,
                       "machine_class": machine, "x": x, "y": y, **extra})
    return claims


def _verdict_fields(triple: tuple[str, str, str], results: dict, x: list[float], y: list[float],
                    rho: float | None, p_holm: float | None) -> dict[str, Any]:
    """Verdict, basis and the claim's own statistics; ``not_judged_because`` where its rule's need is unmet
    (then no verdict is computed: it would claim more than the data carry)."""
    claim_id, ratio_range, subject = triple
    need = unmet_need(claim_id, ratio_range, x)
    if claim_id in ("b", "c"):
        fields = equivalence_claim(claim_id, ratio_range, subject, results)
        return {**fields, "not_judged_because": need or fields["not_judged_because"]}
    if claim_id == "a":
        if need:
            return {"not_judged_because": need}
        verdict, basis = association_verdict(rho, p_holm, len(x), medians_by_ratio(x, y))
        return {"verdict": verdict, "basis": basis, "not_judged_because": None}
    reference = baseline_step_1(results)
    medians = medians_by_ratio(x, y)
    fields = {"reference": reference, "break_even": None if reference is None else
              onset(list(medians), [size < reference for size in medians.values()])}
    need = need or (None if reference is not None else "(d) needs the baseline's step_1 size; there is none")
    if need:
        return {**fields, "not_judged_because": need}
    verdict, basis = threshold_verdict(medians, reference, both_sides=ratio_range == "paper")
    return {**fields, "verdict": verdict, "basis": basis, "not_judged_because": None}


def _judged_fields(triple: tuple[str, str, str], results: dict, x: list[float], need: str | None) -> dict[str, Any]:
    """``judged``, ``not_judged_because`` with the counts the run had, and ``narrowed``: whether only the
    run's ratios, narrowed from its profile's, leave the need unmet (the run's choice, not a fault)."""
    if need is None:
        return {"judged": True, "not_judged_because": None, "narrowed": False}
    claim_id, ratio_range, _ = triple
    seeds = len(results["profile"].get("seeds") or ())
    need += f" ({seeds} seed{'' if seeds == 1 else 's'}, {len(x)} point{'' if len(x) == 1 else 's'})"
    design = [ratio for ratio in results["profile"].get("ratios", ()) if range_of(ratio) == ratio_range]
    narrowed = narrowed_ratios(results["profile"]) if unmet_need(claim_id, ratio_range, design) else None
    return {"judged": False, "not_judged_because": need + (f"; the run's {narrowed}" if narrowed else ""),
            "narrowed": narrowed is not None}


# ---- outcomes: what the suite makes of a judged claim --------------------------------------------------

OUTCOMES = ("passed", "failed", "undecided", "not judged", "not gated")
# More than this share of the gated time subjects undecided fails the run: a run that cannot decide most
# of what it gates has not tested the claim, however little each undecided subject contradicts.
MAX_UNDECIDED_SHARE = 0.5


def timing_key_of(claim: dict) -> str:
    """The timing key of a time claim (``time:<key>``), as the suite's retimers are keyed."""
    return claim["subject"].removeprefix("time:")


def wrong_side(claim: dict) -> bool:
    """Whether an inconclusive gated time verdict leans against its expectation: a point estimate outside
    the margin where "supported" is expected, or every one inside it where "refuted" is."""
    inside = [1 / (1 + claim["margin"]) < row["effect"] < 1 + claim["margin"] for row in claim["per_ratio"]]
    return not all(inside) if claim["expected"] == "supported" else all(inside)


def claim_outcome(claim: dict) -> str:
    """One of ``OUTCOMES`` for one claim, before the run-wide limit on undecided ones (``too_noisy``).

    not judged: a run narrowed to fewer ratios than its profile's left the rule's need unmet (a full
    profile run never gets here: there a claim not judged is held to its expectation like any other).
    undecided: a gated time verdict, judged but inconclusive, whose point estimates do not lean against
    the expectation (``wrong_side``): noise decided it, which contradicts nothing."""
    if not claim.get("judged", True) and claim.get("narrowed"):
        return "not judged"
    if not claim["gated"]:
        return "not gated"
    if claim["expected"] is not None and claim["verdict"] == claim["expected"]:
        return "passed"
    undecided = (claim["id"] in MACHINE_GATED and claim.get("judged", True) and claim["expected"] is not None
                 and claim["verdict"] == "inconclusive" and not wrong_side(claim))
    return "undecided" if undecided else "failed"


def too_noisy(claims: Iterable[dict]) -> str | None:
    """Why the run's undecided time subjects fail it (more than ``MAX_UNDECIDED_SHARE`` of the gated,
    judged time subjects), or None."""
    outcomes = [claim_outcome(claim) for claim in claims if claim["id"] in MACHINE_GATED and claim["gated"]
                and claim.get("judged", True)]
    undecided = outcomes.count("undecided")
    if undecided <= MAX_UNDECIDED_SHARE * len(outcomes):
        return None
    return (f"{undecided} of {len(outcomes)} gated time subjects undecided, more than "
            f"{MAX_UNDECIDED_SHARE:.0%}: the run was too noisy to gate (c)")


def undecided_timing_keys(claims: Iterable[dict]) -> list[str]:
    """Timing keys of the undecided time subjects, once each (both ranges and every method share one), in
    claim order: what more interleaved rounds could decide."""
    return list(dict.fromkeys(timing_key_of(claim) for claim in claims if claim_outcome(claim) == "undecided"))


def missing_claim(claim_key: tuple[str, str, str, str], timed_keys: set[str]) -> tuple[str, str]:
    """What a claim the suite expected but the results lack means: ("skip", why) for a time claim whose
    network benchmark was not run in this session (deselected), else ("fail", what is missing)."""
    claim_id, ratio_range, subject, method = claim_key
    if subject.startswith("time:") and subject.removeprefix("time:") not in timed_keys:
        return "skip", f"{subject}: its network benchmark was deselected in this run, so nothing was timed"
    return "fail", (f"claim ({claim_id}) over {RANGE_TITLES[ratio_range]} on {subject}, method {method}, is missing "
                    "from the results: the run measured no such subject or no pruned model in the range")


def summary_counts(claims: list[dict]) -> dict[str, Any]:
    """Per outcome the number of claims, as the suite's claim tests end: undecided ones count as failed
    when the run is ``too_noisy``. ``undecided_noise`` maps each undecided subject to its rounds'
    IQR/median; ``too_noisy`` says why the run failed on them, or is None."""
    noisy = too_noisy(claims)
    counts: dict[str, Any] = dict.fromkeys(OUTCOMES, 0)
    undecided = {}
    for claim in claims:
        outcome = claim_outcome(claim)
        if outcome == "undecided":
            undecided[f"({claim['id']})@{claim['range']} {claim['subject']} [{claim['method']}]"] = claim.get("noise")
        counts["failed" if outcome == "undecided" and noisy else outcome] += 1
    return {**counts, "undecided_noise": undecided, "too_noisy": noisy}


def load_expectations(path: str | os.PathLike) -> dict[str, Any]:
    """The checked-in expected verdicts: ``{"claims": {key: entry}, "machines": {pattern: {key: entry}}}``
    with keys ``<id>[@<paper|beyond>]:<subject or *>`` and entries ``{"verdict": ..., "reason": ...}``.
    Time claims (c) have their expectation derived (expectation_rules), so they appear only under
    ``machines``, and only they do: one place for each expected verdict."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: expectations file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: cannot read expectations as JSON ({error})") from None
    if not isinstance(data, dict) or set(data) - {"claims", "machines", "notes"}:
        raise DataError(f"{path}: expectations must be a JSON object with 'claims' and 'machines'")
    tables = [("claims", data.get("claims", {}))]
    machines = data.get("machines", {})
    if not isinstance(machines, dict):
        raise DataError(f"{path}: 'machines' must map a machine class pattern to its expectations")
    tables += [(f"machines[{name!r}]", table) for name, table in machines.items()]
    for where, table in tables:
        if not isinstance(table, dict):
            raise DataError(f"{path}: {where} must be an object keyed '<id>[@range]:<subject>'")
        for key, entry in table.items():
            if not EXPECTATION_KEY.match(key):
                raise DataError(f"{path}: {where} key {key!r} is not "
                                "'<a|b|c|d>[@paper|@beyond][/method]:<subject or *>'")
            if (key[0] in MACHINE_GATED) != (where != "claims"):
                raise DataError(f"{path}: {where} key {key!r}: time claims ({', '.join(MACHINE_GATED)}) are "
                                "derived from the engine's work and overridden only under 'machines', which "
                                "holds nothing else")
            if not isinstance(entry, dict) or entry.get("verdict") not in VERDICTS:
                raise DataError(f"{path}: {where} {key!r} needs a 'verdict' among {', '.join(VERDICTS)}")
            if not isinstance(entry.get("reason", ""), str):
                raise DataError(f"{path}: {where} {key!r} has a 'reason' that is not a string")
    return data


def _number(value: float | None) -> str:
    return "None" if value is None else f"{value:.4g}"


def format_claim_failure(claim: dict) -> str:
    """Multi-line account of a claim whose verdict differs from the expected one (an assertion message)."""
    ci = "None" if claim["ci"] is None else f"[{claim['ci'][0]:.3f}, {claim['ci'][1]:.3f}]"
    lines = [
        f"claim ({claim['id']}) over {RANGE_TITLES[claim['range']]} on {claim['subject']}: expected "
        f"{claim['expected']}, measured {claim['verdict']} (machine class {claim['machine_class']})",
        f"  statement: {claim['statement']}",
        f"  rule: {claim['rule']}",
        f"  basis: {claim.get('basis')}",
        f"  expected because: {claim['reason']}",
        f"  rho = {_number(claim['rho'])}, p = {_number(claim['p'])} (Holm-adjusted {_number(claim.get('p_holm'))}), "
        f"n = {claim['n']}, 95% CI of rho = {ci}",
    ]
    if "margin" in claim:
        lines.append(f"  margin = {claim['margin']:g}, reached = {_number(claim.get('margin_reached'))}")
        lines.extend(f"    ratio {row['ratio']:g}: effect {row['effect']:.5g}, 90% CI [{row['low']:.5g}, {row['high']:.5g}]"
                     for row in claim["per_ratio"])
    if "break_even" in claim:
        lines.append(f"  reference = {_number(claim['reference'])}, break-even ratio = {claim['break_even']}")
    lines.append("  data (ratio, value):")
    lines.extend(f"    {x:g}\t{y:.6g}" for x, y in zip(claim["x"], claim["y"]))
    return "\n".join(lines)
