"""The equivalence statistics and the interleaved-rounds logic on their own, on data whose truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prunebench.results.keys import TimingKey
from prunebench.suite.rounds import noise, paired_speedup, round_order, rounds_needed, run_round, run_warm_round
from prunebench.verdicts.equivalence import (
    Interval,
    accuracy_difference,
    equivalence_verdict,
    margin_reached,
    time_ratio,
)


def _correct(rng, n, accuracy):
    return rng.random(n) < accuracy


def test_accuracy_difference_is_paired_and_its_interval_covers_the_truth():
    rng = np.random.default_rng(1)
    baseline = _correct(rng, 10_000, 0.99)
    pruned = baseline.copy()
    flip = rng.choice(np.flatnonzero(baseline), 50, replace=False)  # 50 images lost: -0.5 pt exactly
    pruned[flip] = False
    interval = accuracy_difference([(baseline, pruned)])
    assert interval.effect == pytest.approx(-0.005)
    assert interval.low <= -0.005 <= interval.high
    # Paired: only the 50 discordant images vary, so the interval is far narrower than two independent
    # proportions' (+-0.23 pt at 90%).
    assert interval.high - interval.low < 0.003


def test_accuracy_difference_pools_seeds_and_widens_with_seed_to_seed_spread():
    rng = np.random.default_rng(2)
    pairs = []
    for loss in (10, 60):  # two seeds that disagree about the effect
        baseline = _correct(rng, 5_000, 0.98)
        pruned = baseline.copy()
        pruned[rng.choice(np.flatnonzero(baseline), loss, replace=False)] = False
        pairs.append((baseline, pruned))
    pooled = accuracy_difference(pairs)
    assert pooled.effect == pytest.approx(-(10 + 60) / 2 / 5_000)
    single = accuracy_difference(pairs[:1])
    assert pooled.high - pooled.low > single.high - single.low


def test_accuracy_difference_rejects_mismatched_image_sets():
    with pytest.raises(ValueError):
        accuracy_difference([(np.ones(10, bool), np.ones(9, bool))])


def test_time_ratio_recovers_a_known_slowdown_under_shared_drift():
    rng = np.random.default_rng(3)
    drift = np.exp(np.linspace(0, 0.5, 40))  # the machine slows by 65% over the rounds
    reference = 1e-3 * drift * rng.lognormal(0, 0.05, 40)
    pruned = 1.2e-3 * drift * rng.lognormal(0, 0.05, 40)
    interval = time_ratio([(reference, pruned)])
    assert interval.low <= 1.2 <= interval.high
    assert interval.high / interval.low < 1.1  # pairing by round cancels the drift


def test_time_ratio_is_one_for_identical_work():
    rng = np.random.default_rng(4)
    pairs = [(rng.lognormal(0, 0.1, 30), rng.lognormal(0, 0.1, 30)) for _ in range(3)]
    interval = time_ratio(pairs)
    assert interval.low < 1 < interval.high


@pytest.mark.parametrize(("intervals", "expected"), [
    ({0.1: Interval(-0.001, -0.003, 0.001), 0.9: Interval(-0.004, -0.006, -0.002)}, "supported"),
    ({0.1: Interval(-0.001, -0.003, 0.001), 0.9: Interval(-0.02, -0.025, -0.015)}, "refuted"),
    ({0.1: Interval(-0.001, -0.003, 0.001), 0.9: Interval(-0.009, -0.012, -0.006)}, "inconclusive"),
])
def test_equivalence_verdict_on_differences(intervals, expected):
    verdict, basis, reached = equivalence_verdict(intervals, 0.01, log_scale=False)
    assert verdict == expected, basis
    assert reached == pytest.approx(max(max(abs(iv.low), abs(iv.high)) for iv in intervals.values()))


def test_equivalence_verdict_on_ratios_is_symmetric_in_log():
    # 0.92x lies inside [1/1.1, 1.1] = [0.909, 1.1]; 0.90x does not
    inside = {0.5: Interval(0.95, 0.92, 0.98)}
    assert equivalence_verdict(inside, 0.10, log_scale=True)[0] == "supported"
    outside = {0.5: Interval(0.85, 0.80, 0.90)}
    assert equivalence_verdict(outside, 0.10, log_scale=True)[0] == "refuted"
    assert margin_reached(Interval(1, 1 / 1.2, 1.05), 1.0, True) == pytest.approx(0.2)


def test_equivalence_verdict_without_data_is_inconclusive():
    verdict, _, reached = equivalence_verdict({}, 0.01, log_scale=False)
    assert verdict == "inconclusive" and math.isnan(reached)


def test_round_order_is_seeded_and_differs_between_rounds():
    keys = list(range(10))
    assert round_order(keys, 3) == round_order(keys, 3)
    assert sorted(round_order(keys, 3)) == keys
    assert round_order(keys, 3) != round_order(keys, 4)


def test_run_round_times_each_call_once():
    ticks = iter(range(100))
    calls, seen = {}, []
    for key in "abc":
        calls[key] = lambda key=key: seen.append(key)
    samples: dict = {}
    run_round(calls, 0, samples, timer=lambda: next(ticks))
    assert sorted(seen) == ["a", "b", "c"] and all(values == [1] for values in samples.values())


def test_a_warm_round_times_each_call_after_an_untimed_one_and_keeps_the_median():
    clock = {"now": 0.0}
    cost = {"a": [5.0, 1.0, 1.0, 9.0, 1.0, 1.0], "b": [7.0, 2.0, 2.0, 2.0, 2.0, 2.0]}  # first call: cold

    def call(key):
        clock["now"] += cost[key].pop(0)

    samples: dict = {}
    run_warm_round({key: (lambda key=key: call(key)) for key in "ab"}, 0, samples, repeats=5,
                   timer=lambda: clock["now"])
    assert samples == {"a": [1.0], "b": [2.0]}  # the cold call is untimed; one outlier of five moves no median


def test_paired_speedup_cancels_a_slow_stretch_both_sides_meet():
    drift = np.exp(np.linspace(0, 1.0, 41))  # the machine slows 2.7x over the rounds
    subject, reference = 1e-5 * drift, 1e-4 * drift
    median, low, high = paired_speedup(list(subject), list(reference))
    assert median == pytest.approx(10.0) and low == pytest.approx(10.0) and high == pytest.approx(10.0)
    # timed apart, the subject in the fast first half and the reference in the slow second, it reads 1.6x more
    assert float(np.median(reference[20:])) / float(np.median(subject[:21])) > 10.0 * 1.5


def test_rounds_needed_scales_with_spread_and_respects_floor_and_cap():
    rng = np.random.default_rng(5)
    quiet = {"ref": list(rng.lognormal(0, 0.01, 10)), "m": list(rng.lognormal(0, 0.01, 10))}
    noisy = {"ref": list(rng.lognormal(0, 0.3, 10)), "m": list(rng.lognormal(0, 0.3, 10))}
    target = math.log1p(0.1) / 3
    assert rounds_needed(quiet, [("ref", "m")], target, 10, 60) == 10
    assert rounds_needed(noisy, [("ref", "m")], target, 10, 60) == 60


def test_noise_is_iqr_over_median():
    assert noise([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx((4 - 2) / 3)
    assert noise([1.0]) is None


def test_timing_key_round_trips_and_rejects_other_text():
    key = TimingKey("tf-sparse", "cpu", "network", 32)
    assert TimingKey.parse(str(key)) == key
    assert TimingKey.parse("tf-dense/cpu/fc1/batch=all").batch == "all"
    with pytest.raises(ValueError):
        TimingKey.parse("tf-dense/cpu/network/32")
