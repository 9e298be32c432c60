"""The statistics of ``prunebench compare``: pure functions of numbers, no files, tested on their own.

Time verdict (same machine class). Two runs' raw rounds of one benchmark are compared with a two-sided
Mann-Whitney U test (``scipy.stats.mannwhitneyu``: no normality assumed, robust to the long right tail of
timings) and with the ratio of their medians (new / base). A benchmark is ``slower`` only if the (Holm-
adjusted) p < alpha AND the ratio > factor, ``faster`` only if p < alpha AND the ratio < 1 / factor,
otherwise ``unchanged``. The two gates answer different questions: p says the difference is not noise of
the rounds within a run; the factor (asv's default 1.10) says it is large enough to matter, and it also
absorbs what the test cannot see: drift between two runs (frequency scaling, a noisy neighbour), which
makes rounds within a run correlated, so that with many rounds even a 2% shift gets a tiny p.

Holm. A gate judges hundreds of benchmarks at once (336 in the paper run). At a raw alpha of 0.01 about
three would be flagged on p alone in a run with no change; Holm's step-down adjustment keeps the chance
of any false flag at alpha over the whole comparison (the same choice the claims make), at little cost in
power: with 20 rounds a side a 25% shift gives p around 1e-8, far below 0.01 / 336.

Rounds too few. With n and m rounds the smallest two-sided p the exact test can reach is 2 / C(n+m, n):
0.1 for 3 against 3 (the paper's ``batch=all``), 0.33 for 2 against 2 (quick). Such benchmarks can never
be judged at alpha = 0.01; ``min_attainable_p`` lets the report say so instead of calling them unchanged.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

FACTOR = 1.10
ALPHA = 0.01
VERDICTS = ("faster", "slower", "unchanged")


def median_ratio(base: Sequence[float], new: Sequence[float]) -> float:
    """median(new) / median(base): above 1 means the new run is slower."""
    return statistics.median(new) / statistics.median(base)


def mann_whitney_p(base: Sequence[float], new: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U p of the two samples; None with fewer than 2 rounds on a side."""
    if len(base) < 2 or len(new) < 2:
        return None
    from scipy.stats import mannwhitneyu

    if len(set(base)) == 1 and set(base) == set(new):
        return 1.0  # identical constants: scipy's asymptotic formula divides by a zero variance
    return float(mannwhitneyu(list(base), list(new), alternative="two-sided", method="auto").pvalue)


def min_attainable_p(n: int, m: int) -> float:
    """Smallest two-sided p of an exact Mann-Whitney test with n and m rounds (all of one above the other)."""
    return min(1.0, 2.0 / math.comb(n + m, n))


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni step-down adjusted p values, in the input order; None entries stay None and do not
    count in the family."""
    indexed = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def time_verdict(ratio: float, p: float | None, *, factor: float = FACTOR, alpha: float = ALPHA) -> str:
    """``slower`` / ``faster`` when p < alpha and the median ratio is beyond ``factor``; else ``unchanged``."""
    if p is None or p >= alpha:
        return "unchanged"
    if ratio > factor:
        return "slower"
    if ratio < 1.0 / factor:
        return "faster"
    return "unchanged"


def beyond_factor(change: float | None, factor: float = FACTOR) -> bool:
    """A relative quantity (speedup, time x bandwidth) moved by more than ``factor`` either way."""
    return change is not None and change > 0 and (change > factor or change < 1.0 / factor)


def accuracy_images(base: float, new: float, images: int) -> int:
    """How many test images the accuracy difference amounts to (accuracies are correct / images)."""
    return round(abs(new - base) * images)


def crossover(ratios: Iterable[float], sparse: Iterable[float | None], best_dense: Iterable[float | None]) -> float | None:
    """Smallest ratio from which the sparse time is <= the best dense time at every larger measured ratio
    too (the report's definition); None if never."""
    measured = [(r, s, d) for r, s, d in zip(ratios, sparse, best_dense, strict=True) if s is not None and d is not None]
    start = None
    for ratio, s, d in sorted(measured):
        if s > d:
            start = None
        elif start is None:
            start = ratio
    return start
