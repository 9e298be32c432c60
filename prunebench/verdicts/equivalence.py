"""Equivalence tests for the paper's absence claims: "X does not change with the pruning ratio" becomes
"at every ratio, X differs from the unpruned model by less than a stated margin".

Each ratio gets an effect and a two-sided 90% interval; an interval inside the margin is the two one-sided
tests (TOST) at 5% each. The intervals come from a two-stage percentile bootstrap: seeds are resampled
first, then, within each drawn seed, the units that were paired (test images for accuracy, interleaved
timing rounds for time). With one seed only the second stage varies. Everything here is pure NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prunebench.verdicts.stats import BOOTSTRAP_SEED

CONFIDENCE = 0.90  # a 90% two-sided interval inside +-margin is TOST at 5% per side
RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    effect: float
    low: float
    high: float

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def _percentile_interval(draws: np.ndarray, effect: float, confidence: float) -> Interval:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(float(effect), float(low), float(high))


def accuracy_difference(pairs: Sequence[tuple[np.ndarray, np.ndarray]], confidence: float = CONFIDENCE,
                        resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Interval:
    """Accuracy of the pruned model minus the baseline's, paired on the same test images.

    ``pairs`` holds one (baseline_correct, pruned_correct) pair of boolean vectors per seed. The effect is
    the mean over seeds of the per-seed differences. Per image the paired difference is -1, 0 or +1, so a
    bootstrap resample of a seed's images is a multinomial draw of those three counts.
    """
    if not pairs:
        raise ValueError("no (baseline, pruned) pairs")
    probabilities = []
    for baseline, pruned in pairs:
        baseline, pruned = np.asarray(baseline, bool), np.asarray(pruned, bool)
        if baseline.shape != pruned.shape or baseline.size == 0:
            raise ValueError("baseline and pruned correctness must cover the same, non-empty image set")
        difference = pruned.astype(np.int8) - baseline.astype(np.int8)
        probabilities.append([np.mean(difference == -1), np.mean(difference == 0), np.mean(difference == 1)])
    probabilities = np.asarray(probabilities)
    sizes = np.array([len(baseline) for baseline, _ in pairs])
    effect = float(np.mean(probabilities[:, 2] - probabilities[:, 0]))
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, len(pairs), size=(resamples, len(pairs)))
    counts = rng.multinomial(sizes[seeds], probabilities[seeds])  # (resamples, seeds, 3)
    draws = ((counts[..., 2] - counts[..., 0]) / sizes[seeds]).mean(axis=1)
    return _percentile_interval(draws, effect, confidence)


def time_ratio(pairs: Sequence[tuple[np.ndarray, np.ndarray]], confidence: float = CONFIDENCE,
               resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Interval:
    """Median time of the pruned model over the reference's, per seed, pooled as a geometric mean.

    ``pairs`` holds one (reference_rounds, pruned_rounds) pair of per-round times per seed. Rounds of equal
    count are taken as paired (the suite interleaves them: round k of both was timed in the same sweep),
    so a resample draws the same rounds for both and slow stretches of the machine cancel; otherwise the
    two are resampled on their own.
    """
    if not pairs:
        raise ValueError("no (reference, pruned) pairs")
    rng = np.random.default_rng(seed)
    logs, draws = [], []
    for reference, pruned in pairs:
        reference, pruned = np.asarray(reference, float), np.asarray(pruned, float)
        if reference.size == 0 or pruned.size == 0:
            raise ValueError("a timing without rounds")
        logs.append(math.log(np.median(pruned) / np.median(reference)))
        ref_index = rng.integers(0, reference.size, size=(resamples, reference.size))
        pruned_index = ref_index if pruned.size == reference.size else \
            rng.integers(0, pruned.size, size=(resamples, pruned.size))
        draws.append(np.log(np.median(pruned[pruned_index], axis=1) / np.median(reference[ref_index], axis=1)))
    draws = np.asarray(draws)  # (seeds, resamples)
    seeds = rng.integers(0, len(pairs), size=(resamples, len(pairs)))
    pooled = np.exp(draws[seeds, np.arange(resamples)[:, None]].mean(axis=1))
    return _percentile_interval(pooled, math.exp(float(np.mean(logs))), confidence)


def slowdown_within_cycles(rounds: np.ndarray, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                           seed: int = BOOTSTRAP_SEED) -> list[Interval]:
    """Per column of ``rounds`` (cycles x conditions, each cycle one time under every condition in turn): how
    much slower that condition's rounds ran than the rest of their own cycle. Each round is divided by the
    median of its cycle's other rounds, so the machine's drift from cycle to cycle cancels; the effect is the
    median of those ratios over the cycles, with its bootstrap interval (cycles resampled)."""
    rounds = np.asarray(rounds, float)
    cycles, conditions = rounds.shape
    if cycles < 2 or conditions < 2:
        raise ValueError(f"need at least 2 cycles of 2 conditions, got {cycles} x {conditions}")
    ratios = np.column_stack([rounds[:, j] / np.median(np.delete(rounds, j, axis=1), axis=1)
                              for j in range(conditions)])
    draws = np.median(ratios[np.random.default_rng(seed).integers(0, cycles, size=(resamples, cycles))], axis=1)
    return [_percentile_interval(draws[:, j], float(np.median(ratios[:, j])), confidence) for j in range(conditions)]


def margin_reached(interval: Interval, center: float, log_scale: bool) -> float:
    """The smallest margin whose band around ``center`` holds the interval: ``max |bound - center|``, or
    for ratios ``exp(max |log bound|) - 1``."""
    if log_scale:
        return math.exp(max(abs(math.log(interval.low)), abs(math.log(interval.high)))) - 1
    return max(abs(interval.low - center), abs(interval.high - center))


def equivalence_verdict(intervals: dict[float, Interval], margin: float, log_scale: bool) -> tuple[str, str, float]:
    """(verdict, basis, smallest margin the data supports) over the ratios of one subject.

    The band is ``[-margin, +margin]`` around 0, or ``[1/(1+margin), 1+margin]`` around 1 for ratios.
    supported iff every ratio's interval lies inside the band; refuted iff some ratio's interval lies
    wholly outside it; inconclusive otherwise.
    """
    if not intervals:
        return "inconclusive", "no ratio measured", math.nan
    center = 1.0 if log_scale else 0.0
    low_bound, high_bound = ((1 / (1 + margin), 1 + margin) if log_scale else (-margin, margin))
    reached = max(margin_reached(interval, center, log_scale) for interval in intervals.values())
    outside = [ratio for ratio, iv in intervals.items() if iv.low > high_bound or iv.high < low_bound]
    inside = all(low_bound < iv.low and iv.high < high_bound for iv in intervals.values())
    show = (lambda v: f"{v:.3f}x") if log_scale else (lambda v: f"{v * 100:+.2f} pt")
    if outside:
        worst = max(outside, key=lambda r: margin_reached(intervals[r], center, log_scale))
        iv = intervals[worst]
        return ("refuted", f"at ratio {worst:g} the change {show(iv.effect)} (90% CI {show(iv.low)} to "
                f"{show(iv.high)}) lies wholly outside the margin", reached)
    if inside:
        return ("supported", f"every ratio's 90% CI lies within the margin (widest reach "
                f"{_margin_text(reached, log_scale)})", reached)
    straddling = [ratio for ratio, iv in intervals.items() if not (low_bound < iv.low and iv.high < high_bound)]
    return ("inconclusive", f"the 90% CI at ratio(s) {', '.join(f'{r:g}' for r in straddling)} crosses the "
            f"margin; the data support a margin of {_margin_text(reached, log_scale)}", reached)


def _margin_text(margin: float, log_scale: bool) -> str:
    return f"{margin * 100:.1f}%" if log_scale else f"{margin * 100:.2f} pt"
