"""The benchmark run order must not correlate with the ratio, or machine drift would pose as claim (c)."""

from __future__ import annotations

from scipy.stats import spearmanr

from prunebench.results.spec import ModelSpec
from prunebench.suite.config import decorrelated_order


def test_run_order_is_uncorrelated_with_the_ratio_and_deterministic():
    for ratios, seeds in (((0.1, 0.3, 0.5, 0.7, 0.8, 0.9), (0, 1)),
                          ((0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99), (0,))):
        specs = [ModelSpec(ratio, seed) for ratio in ratios for seed in seeds]
        order = decorrelated_order(specs)
        assert sorted(order, key=lambda s: (s.ratio, s.seed)) == specs
        assert abs(spearmanr(range(len(order)), [spec.ratio for spec in order]).statistic) <= 0.1
        assert order == decorrelated_order(specs)


def test_tiny_sweeps_still_get_an_order():
    specs = [ModelSpec(0.5, 0), ModelSpec(0.9, 0)]
    assert sorted(decorrelated_order(specs), key=lambda s: s.ratio) == specs
    assert decorrelated_order([ModelSpec(0.9, 0), ModelSpec(0.9, 1)]) == [ModelSpec(0.9, 0), ModelSpec(0.9, 1)]
