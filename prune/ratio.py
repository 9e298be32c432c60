"""How much to prune: validating a ratio, per-layer ratio maps, and turning a ratio into an exact count of weights."""

from __future__ import annotations

import math
from collections.abc import Mapping

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


# A pruning policy's ratios: one ratio for every pruned variable, or a ratio per variable (Han et al.'s
# per-layer shares, ``--ratios han``).
Ratios = float | Mapping[str, float]


def ratio_of(ratios: Ratios, name: str) -> float:
    """The ratio ``ratios`` prunes variable ``name`` at; a variable a map does not name is a UsageError."""
    if not isinstance(ratios, Mapping):
        return ratios
    if name not in ratios:
        raise UsageError(f"the per-layer ratios name {', '.join(ratios)}, not {name!r}")
    return ratios[name]


def overall_ratio(ratios: Ratios, totals: Mapping[str, int]) -> float:
    """The share of all the weights of the variables ``totals`` (name -> weight count) that ``ratios`` prunes,
    counted as the masks count (``prune_count``)."""
    pruned = sum(prune_count(total, ratio_of(ratios, name)) for name, total in totals.items())
    return pruned / sum(totals.values())


def ratio_label(ratios: Ratios) -> str:
    """For progress lines: ``90%``, or ``w_fc1 92%, w_fc2 91%``."""
    if isinstance(ratios, Mapping):
        return ", ".join(f"{name} {ratio:.0%}" for name, ratio in ratios.items())
    return f"{ratios:.0%}"
