"""Shared by the benchmark files: pytest-benchmark timings of one call (FC1) and interleaved timings of
every model of the sweep (the network, whose rounds feed the time verdicts)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping

import numpy as np

from prunebench.suite.rounds import noise, rounds_needed, run_round, run_warm_round

# FC1 rounds per profile and batch size, fewer where a call takes longer. One warm-up round first, so tracing,
# conversion and cache warm-up are never timed.
FC1_ROUNDS = {"quick": {1: 20, 32: 10}, "paper": {1: 100, 32: 30}}
FC1_ROUNDS["methods"] = FC1_ROUNDS["paper"]
# Interleaved network rounds per profile and batch size: (floor, cap). The pilot runs the floor; the
# rest is chosen from its spread (prunebench.suite.rounds), within the cap and a time budget per benchmark: a
# round costs 5 ms for one engine and 2 s for another, so a cap in rounds alone either starves the cheap,
# noisy ones (tflite-sparse at batch 1: IQR/median 25%, undecided at 200 rounds) or overspends on the rest.
NETWORK_ROUNDS = {"quick": {1: (10, 1000), 32: (5, 200)}, "paper": {1: (15, 2000), 32: (10, 400)}}
NETWORK_BUDGET_S = {"quick": 8.0, "paper": 40.0}
NETWORK_ROUNDS["methods"], NETWORK_BUDGET_S["methods"] = NETWORK_ROUNDS["paper"], NETWORK_BUDGET_S["paper"]
# A speedup goal's race (bench/test_fc1.py): after a pilot of RACE_PILOT_ROUNDS, as many warm rounds
# (prunebench.suite.rounds.run_warm_round) as these seconds buy. A machine's state changes over seconds (a
# neighbour's memory traffic slows the dense call, which reads 12.8 MB, far more than a sparse one reading a
# hundredth of that); a race spread over seconds meets several states, and each round's ratio is taken within one.
RACE_PILOT_ROUNDS = 20
RACE_BUDGET_S = {"quick": 1.0, "paper": 4.0}
RACE_BUDGET_S["methods"] = RACE_BUDGET_S["paper"]
_previous_engine: list[str] = []  # the engine timed last in this process


def ran_outside_timing(name: str) -> None:
    """Record that ``name`` ran last in this process though it is not timed (a benchmark's reference), so
    the next engine timed settles first."""
    _previous_engine[:] = [name]


def _settle_after_another_engine(engine: str) -> None:
    from prunebench.model.engines.hygiene import settle

    if _previous_engine and _previous_engine[-1] != engine:
        settle()  # let the previous engine's thread pool go quiet before another engine is timed
    _previous_engine[:] = [engine]


def timing_entry(samples: list[float]) -> dict:
    """One timing of the results JSON: median, rounds, spread and the raw rounds (seconds)."""
    return {"median_s": float(np.median(samples)), "rounds": len(samples), "noise": noise(samples),
            "samples_s": [float(value) for value in samples]}


def time_call(benchmark, predict: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, batch,
              profile: str, extra_info: dict, check: Callable[[np.ndarray], None]) -> dict | None:
    """Time ``predict(inputs)`` with pytest-benchmark after ``check`` passed on the outputs of one untimed call
    (a wrong engine is not timed at all); its timing entry, or None when benchmarks are off."""
    _settle_after_another_engine(extra_info["engine"])
    check(predict(inputs))
    benchmark.extra_info.update(extra_info)
    benchmark.pedantic(predict, args=(inputs,), rounds=FC1_ROUNDS[profile][batch], warmup_rounds=1, iterations=1)
    if benchmark.disabled or benchmark.stats is None:
        return None
    return timing_entry(list(benchmark.stats.stats.data))


def time_interleaved(benchmark, calls: Mapping[Hashable, Callable[[], object]],
                     pairs: list[tuple[Hashable, Hashable]], rounds: tuple[int, int], margin: float,
                     extra_info: dict, budget_s: float | None = None,
                     check: Callable[[Hashable, object], None] | None = None) -> dict[Hashable, list[float]] | None:
    """Time every call round-robin (prunebench.suite.rounds) and return each one's per-round seconds.

    After one untimed warm-up call each (its output given to ``check(key, output)``: a wrong engine is not
    timed at all), the pilot runs ``floor`` rounds; the rounds still needed (within the cap and what
    ``budget_s`` seconds buy at the pilot's round time) for a 90% half-width of a third of the margin on
    every (reference, model) pair then run under pytest-benchmark (at least one), whose entry is the time of
    one round over all models. None when benchmarks are disabled (each call then runs once).
    """
    _settle_after_another_engine(extra_info["engine"])
    for key, call in calls.items():
        output = call()
        if check is not None:
            check(key, output)
    if benchmark.disabled:
        return None
    floor, cap = rounds
    samples: dict[Hashable, list[float]] = {}
    for index in range(floor):
        run_round(calls, index, samples)
    if budget_s is not None:  # the pilot's round time bounds how many rounds the budget buys
        round_s = sum(float(np.median(values)) for values in samples.values())
        cap = max(floor + 1, min(cap, int(budget_s / round_s)))
    total = rounds_needed(samples, pairs, math.log1p(margin) / 3, floor + 1, cap)
    counter = iter(range(floor, total))

    def one_round() -> None:
        run_round(calls, next(counter), samples)

    benchmark.extra_info.update({**extra_info, "models": len(calls), "pilot_rounds": floor, "rounds": total,
                                 "order": "round-robin, shuffled per round"})
    benchmark.pedantic(one_round, rounds=total - floor, warmup_rounds=0, iterations=1)
    return samples


def time_race(benchmark, calls: Mapping[Hashable, Callable[[], object]], budget_s: float, extra_info: dict,
              check: Callable[[Hashable, object], None]) -> dict[Hashable, list[float]] | None:
    """Time the calls side by side in warm rounds (``run_warm_round``) for about ``budget_s`` seconds and return
    each one's per-round seconds; the rounds after the pilot run under pytest-benchmark, whose entry is the time
    of one round. As ``time_interleaved``: settled, each output checked first; None when benchmarks are off."""
    _settle_after_another_engine(extra_info["engine"])
    for key, call in calls.items():
        check(key, call())
    if benchmark.disabled:
        return None
    samples: dict[Hashable, list[float]] = {}
    started = time.perf_counter()
    for index in range(RACE_PILOT_ROUNDS):
        run_warm_round(calls, index, samples)
    round_s = (time.perf_counter() - started) / RACE_PILOT_ROUNDS
    total = max(RACE_PILOT_ROUNDS + 1, int(budget_s / round_s))
    counter = iter(range(RACE_PILOT_ROUNDS, total))

    def one_round() -> None:
        run_warm_round(calls, next(counter), samples)

    benchmark.extra_info.update({**extra_info, "pilot_rounds": RACE_PILOT_ROUNDS, "rounds": total,
                                 "order": "round-robin, shuffled per round, each side warm"})
    benchmark.pedantic(one_round, rounds=total - RACE_PILOT_ROUNDS, warmup_rounds=0, iterations=1)
    return samples


def time_more_rounds(calls: Mapping[Hashable, Callable[[], object]], samples: dict[Hashable, list[float]],
                     budget_s: float, engine: str) -> int:
    """More interleaved rounds of ``calls`` after those in ``samples``, continuing their round index, as many
    as fit in ``budget_s`` seconds at the pace of the rounds so far; returns how many ran.

    The calls ran long ago (other engines and benchmarks since): settled and warmed up once each, untimed,
    within the budget, before the first round.
    """
    deadline = time.perf_counter() + budget_s
    _settle_after_another_engine(engine)
    for call in calls.values():
        call()
    round_s = sum(float(np.median(values)) for values in samples.values())
    start = index = min(len(values) for values in samples.values())
    while time.perf_counter() + round_s <= deadline:
        run_round(calls, index, samples)
        index += 1
    return index - start
