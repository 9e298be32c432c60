"""Public API: prune a weights dict by magnitude and report what was cut."""

from __future__ import annotations

import numpy as np

from prunebench.prune.masks import MaskReport, apply_mask, magnitude_mask, mask_report
from prunebench.prune.ratio import Ratios, ratio_of


def prune_weights(
    weights: dict[str, np.ndarray], names: tuple[str, ...], ratio: Ratios
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, MaskReport]]:
    """Zero round(ratio * n) smallest-magnitude weights of each named variable (``ratio``: one for all, or a
    ratio per variable).

    Returns the pruned weights (all variables), the keep-masks and one report row per pruned variable.
    """
    masks = {name: magnitude_mask(weights[name], ratio_of(ratio, name)) for name in names}
    pruned = {name: apply_mask(w, masks[name]) if name in masks else w for name, w in weights.items()}
    reports = {name: mask_report(weights[name], masks[name]) for name in names}
    return pruned, masks, reports
