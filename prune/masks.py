"""Magnitude thresholds and masks as pure NumPy: no Keras, no TensorFlow, testable on their own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prunebench.prune.ratio import prune_count


@dataclass(frozen=True)
class MaskReport:
    """One row of the paper's Tables 4-9 for one variable."""

    threshold: float
    total: int
    nonzero: int


def magnitude_order(weights: np.ndarray) -> np.ndarray:
    """Flat indices from smallest to largest |w|; ties keep index order, so the result is deterministic."""
    return np.argsort(np.abs(weights).ravel(), kind="stable")


def magnitude_mask(weights: np.ndarray, ratio: float) -> np.ndarray:
    """Boolean keep-mask that zeros exactly round(ratio * n) weights of smallest magnitude."""
    count = prune_count(weights.size, ratio)
    keep = np.ones(weights.size, dtype=bool)
    keep[magnitude_order(weights)[:count]] = False
    return keep.reshape(weights.shape)


def mask_threshold(weights: np.ndarray, keep: np.ndarray) -> float:
    """The largest pruned magnitude: every |w| below it is zeroed (0.0 when nothing is pruned)."""
    pruned = np.abs(weights[~keep])
    return float(pruned.max()) if pruned.size else 0.0


def apply_mask(weights: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Zero the pruned weights (a copy; +0.0 exactly, never -0.0)."""
    return np.where(keep, weights, np.zeros((), dtype=weights.dtype)).astype(weights.dtype, copy=False)


def mask_report(weights: np.ndarray, keep: np.ndarray) -> MaskReport:
    return MaskReport(
        threshold=mask_threshold(weights, keep),
        total=int(weights.size),
        nonzero=int(np.count_nonzero(apply_mask(weights, keep))),
    )
