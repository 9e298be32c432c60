"""The engine-order gate (bench/test_engine_order.py) judged on round times whose truth is known: it fails where
the target runs slower after one predecessor, and holds through the machine's drift and noise."""

from __future__ import annotations

import numpy as np
import pytest

from bench.test_engine_order import MAX_SLOWDOWN, ROUNDS, order_gate
from prunebench.verdicts.equivalence import slowdown_within_cycles

ORDER = ["tf-dense", "tf-sparse", "tflite-dense", "tflite-sparse", "scipy-csr", "mkl-csr", "numba-csr", "numba-bcsr"]


def _rounds(seed: int, noise: float = 0.08) -> np.ndarray:
    """(cycles, predecessors) target times near 1.4 ms with lognormal noise, and a drift from cycle to cycle
    of +-30%, larger than any predecessor effect checked here."""
    rng = np.random.default_rng(seed)
    drift = 1 + 0.3 * np.sin(np.linspace(0, 3 * np.pi, ROUNDS))[:, None]
    return 1.4e-3 * drift * rng.lognormal(0.0, noise, (ROUNDS, len(ORDER)))


@pytest.mark.parametrize("seed", range(5))
def test_clean_rounds_pass_whatever_the_drift(seed):
    passed, text, slowdowns = order_gate(_rounds(seed), ORDER)
    assert passed, text
    assert all(0.9 < interval.effect < 1.1 for interval in slowdowns.values()), slowdowns


@pytest.mark.parametrize("slowdown", [1.5, 2.3])
def test_a_spinning_predecessor_fails_the_gate(slowdown):
    rounds = _rounds(1)
    rounds[:, ORDER.index("numba-csr")] *= slowdown
    passed, text, slowdowns = order_gate(rounds, ORDER)
    assert not passed and "after numba-csr" in text and f"above {MAX_SLOWDOWN}x" in text
    assert slowdowns["numba-csr"].low > MAX_SLOWDOWN
    assert all(interval.low <= MAX_SLOWDOWN for name, interval in slowdowns.items() if name != "numba-csr")


def test_a_slowdown_the_noise_cannot_resolve_does_not_fail_it():
    rounds = _rounds(2, noise=0.4)
    rounds[:, 0] *= 1.15
    assert order_gate(rounds, ORDER)[0]


def test_each_round_is_compared_within_its_own_cycle():
    """A predecessor whose rounds all fell in slow cycles is not slower than its cycles' other rounds."""
    rounds = np.ones((4, 5))
    rounds[2:] *= 3.0  # the last two cycles ran on a slow machine, every predecessor alike
    rounds[:, 1] *= 1.5
    intervals = slowdown_within_cycles(rounds)
    assert [round(interval.effect, 6) for interval in intervals] == [1.0, 1.5, 1.0, 1.0, 1.0]
    assert intervals[1].low == intervals[1].high == 1.5
    with pytest.raises(ValueError, match="at least 2 cycles"):
        slowdown_within_cycles(np.ones((1, 3)))
