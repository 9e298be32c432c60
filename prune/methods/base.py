"""The protocol every pruning method follows, and the mask maths they share (pure NumPy, TensorFlow-free).

A method is split like TF Model Optimization's sparsity API:
- *policy*: which variables (``Settings.variables``, prune/policy.py) and how weights are ranked: by
  magnitude per layer (the paper), globally across the pruned layers, as whole fc1 neurons by the norm
  of their incoming weights (structured.py), or in small blocks by their mean magnitude (blocks.py);
- *schedule*: ``plan(ratio, budget)``, the pruning events, each (step, sparsity): after ``step`` optimizer
  steps of the retraining budget the masks are recomputed at ``sparsity``;
- *mask application*: ``nested_masks`` below (a weight once pruned stays pruned);
- *Keras glue*: prune/methods/keras_run.py holds the zeros during training and applies the events.

Fair budgets: every method trains exactly ``budget`` steps (the profile's ``retrain_steps``) after the
baseline; the schedule only decides when, within that budget, the masks change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from prunebench.prune.methods.blocks import BLOCK_RANKINGS, block_masks, ranking_block
from prunebench.prune.ratio import prune_count

RANKINGS = ("layer", "global", "neuron", *BLOCK_RANKINGS)


@dataclass(frozen=True)
class PruneEvent:
    """Recompute the masks at ``sparsity`` after ``step`` optimizer steps of the retraining budget."""

    step: int
    sparsity: float


@runtime_checkable
class PruningMethod(Protocol):
    name: str
    ranking: str  # "layer" (per variable, the paper), "global" (across the pruned variables), "neuron" or a block
    # ranking such as "block1x4" (blocks.py)

    def plan(self, ratio: float, budget: int) -> tuple[PruneEvent, ...]:
        """The pruning events within ``budget`` training steps: steps strictly increasing in [0, budget),
        sparsities non-decreasing, the last one exactly ``ratio``."""
        ...

    def params(self, budget: int) -> dict:
        """What determines the schedule besides ratio and budget (cache key and results row)."""
        ...


def nested_masks(weights: Mapping[str, np.ndarray], names: tuple[str, ...], sparsity: float, ranking: str,
                 keep: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Keep-masks that prune the smallest magnitudes at ``sparsity``, nested in ``keep``.

    ``layer``: round(sparsity * n) weights of each variable (the paper's count, prune/ratio.py);
    ``global``: round(sparsity * N) of all N weights of the named variables together, ranked on one scale.
    Weights already pruned (``keep`` False) rank below every other, so they stay pruned whenever the count
    does not fall. Ties break by index (stable sort), so with no ``keep`` and ``layer`` ranking the masks
    equal ``prune.masks.magnitude_mask``'s.
    """
    if ranking not in RANKINGS:
        raise ValueError(f"ranking {ranking!r}: choose from {', '.join(RANKINGS)}")
    if ranking == "neuron":
        from prunebench.prune.methods.structured import neuron_masks

        return neuron_masks(weights, names, sparsity, keep)
    if ranking in BLOCK_RANKINGS:
        return block_masks(weights, names, sparsity, ranking_block(ranking), keep)
    scores = {}
    for name in names:
        magnitude = np.abs(weights[name]).ravel().astype(np.float64)
        if keep is not None:
            magnitude = np.where(np.asarray(keep[name]).ravel(), magnitude, -1.0)
        scores[name] = magnitude
    if ranking == "layer":
        return {name: _keep_all_but_smallest(scores[name], prune_count(scores[name].size, sparsity))
                .reshape(weights[name].shape) for name in names}
    flat = np.concatenate([scores[name] for name in names])
    kept = _keep_all_but_smallest(flat, prune_count(flat.size, sparsity))
    masks, start = {}, 0
    for name in names:
        size = scores[name].size
        masks[name] = kept[start:start + size].reshape(weights[name].shape)
        start += size
    return masks


def _keep_all_but_smallest(scores: np.ndarray, count: int) -> np.ndarray:
    keep = np.ones(scores.size, dtype=bool)
    keep[np.argsort(scores, kind="stable")[:count]] = False
    return keep


def check_plan(events: tuple[PruneEvent, ...], ratio: float, budget: int) -> None:
    """Raise ValueError unless ``events`` is a valid plan for ``ratio`` within ``budget`` (see the protocol)."""
    if not events:
        raise ValueError("a plan needs at least one pruning event")
    steps = [event.step for event in events]
    if steps != sorted(set(steps)) or steps[0] < 0 or steps[-1] >= budget:
        raise ValueError(f"event steps {steps} must strictly increase within [0, {budget})")
    sparsities = [event.sparsity for event in events]
    if any(later < earlier for earlier, later in zip(sparsities, sparsities[1:])):
        raise ValueError(f"sparsities {sparsities} must not fall")
    if sparsities[-1] != ratio:
        raise ValueError(f"the last event prunes at {sparsities[-1]}, not the target {ratio}")
