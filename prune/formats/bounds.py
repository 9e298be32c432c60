"""What no position coding can beat, and where a format starts paying off. Pure functions."""

from __future__ import annotations

import math

from prunebench.errors import UsageError


def binary_entropy(p: float) -> float:
    """H2(p) in bits, with H2(0) = H2(1) = 0."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def entropy_bound_bits(n: int, nnz: int) -> float:
    """n*H2(nnz/n) + 32*nnz: the entropy of a random mask with nnz of n set, plus raw float32 values.

    A lossless format that keeps values as plain float32 cannot be smaller on average; one that compresses
    the values themselves can be, which is why formats declare ``stores_values_raw``.
    """
    if n < 0 or not 0 <= nnz <= n:
        raise UsageError(f"entropy bound: need 0 <= nnz <= n, got n={n}, nnz={nnz}")
    return n * binary_entropy(nnz / n) + 32.0 * nnz if n else 0.0


def entropy_bound_bytes(n: int, nnz: int) -> int:
    return math.ceil(entropy_bound_bits(n, nnz) / 8)


def break_even_ratio(sizes_by_ratio: dict[float, int], reference_bytes: int) -> float | None:
    """Smallest measured pruning ratio from which on (it and every larger measured ratio) size < reference.

    A format that dips below the reference once and rises above it again has not broken even there.
    """
    break_even = None
    for ratio in sorted(sizes_by_ratio, reverse=True):
        if sizes_by_ratio[ratio] >= reference_bytes:
            break
        break_even = ratio
    return break_even
