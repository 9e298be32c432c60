"""How much to prune: validating a ratio and turning it into an exact count of weights."""

from __future__ import annotations

import math

from prunebench.errors import UsageError


def parse_ratio(text: str | float) -> float:
    """A pruning ratio in [0, 1); anything else is a usage error naming the value."""
    try:
        ratio = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"pruning ratio {text!r} is not a number") from None
    if not (0.0 <= ratio < 1.0) or math.isnan(ratio):
        raise UsageError(f"pruning ratio {text!r} is outside [0, 1)")
    return ratio


def prune_count(total: int, ratio: float) -> int:
    """round(ratio * total), halves rounded up (not Python's banker's rounding), so counts are predictable.

    The paper's Tables 4-9 zero one weight more than this (e.g. 2,890,137 kept of 3,211,264 at 10%,
    where round(0.1 * n) zeros leave 2,890,138): its threshold comparison included the cut-off weight.
    """
    return int(math.floor(ratio * total + 0.5))
