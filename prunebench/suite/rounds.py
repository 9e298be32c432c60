"""Interleaved timing rounds and how many of them a verdict needs (pure; the benchmarks drive it).

Each round times every model once, in an order shuffled anew per round, so a slow stretch of the machine
(another process, heat, a frequency change) falls on all ratios alike instead of on whichever model was
being timed, and round k of two models is a fair pair. How many rounds: a pilot of ``floor`` rounds gives
each (reference, model) pair's interval width; the count that brings every half-width to the target by
the 1/sqrt(n) law is run, between ``floor`` and ``cap``. The count depends only on the spread, never on
the effect, so choosing it does not bias the verdict.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np

from prunebench.verdicts.equivalence import time_ratio

PILOT_RESAMPLES = 400
# the shuffled order of each timing round (and the timing-key order in the suite) is drawn from this seed
ORDER_SEED = 2020


def round_order(keys: Sequence[Hashable], round_index: int, seed: int = ORDER_SEED) -> list[Hashable]:
    """The models of one round in a seeded order of their own."""
    order = list(keys)
    random.Random(seed * 100_003 + round_index).shuffle(order)
    return order


def run_round(calls: Mapping[Hashable, Callable[[], object]], round_index: int, samples: dict[Hashable, list[float]],
              timer: Callable[[], float] = time.perf_counter) -> None:
    """Time each call once, in this round's order, appending seconds to ``samples[key]``."""
    for key in round_order(list(calls), round_index):
        start = timer()
        calls[key]()
        samples.setdefault(key, []).append(timer() - start)


WARM_REPEATS = 5  # timed calls per side in a warm round


def run_warm_round(calls: Mapping[Hashable, Callable[[], object]], round_index: int,
                   samples: dict[Hashable, list[float]], repeats: int = WARM_REPEATS,
                   timer: Callable[[], float] = time.perf_counter) -> None:
    """Like ``run_round``, but each call is timed warm: one untimed call, then the median of ``repeats`` timed
    ones. Calls that evict each other's data from the caches (a dense FC1 reads 12.8 MB) would otherwise each
    be timed cold, a condition neither meets when run alone, as a benchmark times it."""
    for key in round_order(list(calls), round_index):
        call = calls[key]
        call()
        times = []
        for _ in range(repeats):
            start = timer()
            call()
            times.append(timer() - start)
        samples.setdefault(key, []).append(float(np.median(times)))


def rounds_needed(samples: Mapping[Hashable, Sequence[float]], pairs: Iterable[tuple[Hashable, Hashable]],
                  target_log_halfwidth: float, floor: int, cap: int) -> int:
    """Rounds that bring the widest pair's 90% half-width (of log time ratio) to the target."""
    widest = 0.0
    for reference, model in pairs:
        interval = time_ratio([(np.asarray(samples[reference]), np.asarray(samples[model]))],
                              resamples=PILOT_RESAMPLES)
        widest = max(widest, (math.log(interval.high) - math.log(interval.low)) / 2)
    pilot = min(len(values) for values in samples.values())
    needed = math.ceil(pilot * (widest / target_log_halfwidth) ** 2) if widest > 0 else pilot
    return max(floor, min(cap, needed))


def noise(samples: Sequence[float]) -> float | None:
    """Spread of one benchmark's rounds: interquartile range over median (None under two rounds)."""
    if len(samples) < 2:
        return None
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return float((q3 - q1) / median) if median > 0 else None


def paired_speedup(subject_s: Sequence[float], reference_s: Sequence[float]) -> tuple[float, float, float]:
    """How many times faster the subject ran than the reference, judged round by round: the median of the
    per-round ratios reference/subject and their quartiles. Both calls of a round met the same machine state,
    so a slow stretch cancels in the ratio instead of landing on one side as in a ratio of two medians."""
    ratios = np.asarray(reference_s, dtype=float) / np.asarray(subject_s, dtype=float)
    q1, median, q3 = np.percentile(ratios, [25, 50, 75])
    return float(median), float(q1), float(q3)
