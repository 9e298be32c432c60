"""Statistics shared by the verdicts, the comparison and the report: one onset rule, one Holm adjustment,
one median per ratio, one exact small-sample p of a rank correlation."""

from __future__ import annotations

import functools
import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

from prunebench.results.keys import ratio_key

BOOTSTRAP_SEED = 2020  # every bootstrap interval is drawn from this seed, so a verdict is reproducible


def onset(ratios: Iterable[float], holds: Iterable[bool]) -> float | None:
    """Smallest ratio from which ``holds`` is true at every larger measured ratio too (None if never)."""
    start = None
    for ratio, ok in sorted(zip(ratios, holds)):
        if not ok:
            start = None
        elif start is None:
            start = ratio
    return start


def medians_by_ratio(x: Iterable[float], y: Iterable[float]) -> dict[float, float]:
    """Median of y per distinct x (over seeds), keyed and sorted by x."""
    groups: dict[float, list[float]] = {}
    for ratio, value in zip(x, y):
        groups.setdefault(ratio_key(ratio), []).append(float(value))
    return {ratio: statistics.median(groups[ratio]) for ratio in sorted(groups)}


def crossover(ratios: Iterable[float], sparse: Iterable[float | None],
              best_dense: Iterable[float | None]) -> float | None:
    """Smallest ratio from which the sparse time is at most the best dense time at every larger measured
    ratio too (None if never); ratios where either time is missing do not count."""
    measured = [(r, s, d) for r, s, d in zip(ratios, sparse, best_dense, strict=True)
                if s is not None and d is not None]
    return onset([r for r, _, _ in measured], [s <= d for _, s, d in measured])


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni step-down adjusted p values, in the input order; None entries stay None and do not
    count in the family. One claim judged on many subjects (engines x batches) would otherwise be refuted
    by chance in a good share of runs."""
    indexed = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    adjusted: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (len(indexed) - rank) * p))
        adjusted[i] = running
    return adjusted


def holm_adjusted(p_values: dict[Any, float | None]) -> dict[Any, float | None]:
    """``holm`` over a dict's values, keyed as given."""
    return dict(zip(p_values, holm(list(p_values.values()))))


EXACT_P_MAX_POINTS = 9  # 9! = 362,880 orderings: enumerated in well under a second


@functools.cache
def _orderings(n: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n))), dtype=np.int8)


def exact_spearman_p(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Exact two-sided p of Spearman's rho under independence: the share of all n! orderings of ``y`` whose
    |rho| reaches the observed one (ties take mid-ranks). scipy's ``spearmanr`` uses a t approximation that
    reads 0 for a perfect rank order, while the exact p of n points can never fall below 2/n!; None over
    ``EXACT_P_MAX_POINTS`` points, under 2 points, or when either variable is constant."""
    n = len(x)
    if not 2 <= n <= EXACT_P_MAX_POINTS or len(y) != n:
        return None
    rank_x, rank_y = (rankdata(values) - (n + 1) / 2 for values in (x, y))
    scale = math.sqrt(float(rank_x @ rank_x) * float(rank_y @ rank_y))
    if scale == 0:
        return None
    observed = abs(float(rank_x @ rank_y)) / scale
    permuted = np.abs(rank_y[_orderings(n)] @ rank_x) / scale
    return float(np.mean(permuted >= observed - 1e-9))
