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

from prunebench.errors import UsageError
from prunebench.prune.methods.blocks import BLOCK_RANKINGS, block_masks, ranking_block
from prunebench.prune.ratio import Ratios, prune_count, ratio_of

RANKINGS = ("layer", "global", "neuron", *BLOCK_RANKINGS)


@dataclass(frozen=True)
class PruneEvent:
    """Recompute the masks at ``sparsity`` (one for all, or per variable) after ``step`` optimizer steps of the
    retraining budget."""

    step: int
    sparsity: Ratios


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


def nested_masks(weights: Mapping[str, np.ndarray], names: tuple[str, ...], sparsity: Ratios, ranking: str,
                 keep: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Keep-masks that prune the smallest magnitudes at ``sparsity``, nested in ``keep``.

    ``layer``: round(sparsity * n) weights of each variable (the paper's count, prune/ratio.py), at the
    variable's own ratio when ``sparsity`` maps variables to ratios (the other rankings take one ratio);
    ``global``: round(sparsity * N) of all N weights of the named variables together, ranked on one scale.
    Weights already pruned (``keep`` False) rank below every other, so they stay pruned whenever the count
    does not fall. Ties break by index (stable sort), so with no ``keep`` and ``layer`` ranking the masks
    equal ``prune.masks.magnitude_mask``'s.
    """
    if ranking not in RANKINGS:
        raise ValueError(f"ranking {ranking!r}: choose from {', '.join(RANKINGS)}")
    if isinstance(sparsity, Mapping) and ranking != "layer":
        raise ValueError(f"ranking {ranking!r} takes one ratio, not a ratio per variable")
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
        return {name: _keep_all_but_smallest(scores[name], prune_count(scores[name].size, ratio_of(sparsity, name)))
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


def layer_plan(method: PruningMethod, ratios: Ratios, budget: int) -> tuple[PruneEvent, ...]:
    """``method``'s checked plan for ``ratios``. For a ratio per variable each variable follows the method's plan
    at its own ratio (so an iterative ladder keeps the same share of each layer per round); the plans are merged
    by step, each event holding every variable's sparsity at that step. Only per-layer ranking can do that."""
    if not isinstance(ratios, Mapping):
        events = method.plan(ratios, budget)
        check_plan(events, ratios, budget)
        return events
    if method.ranking != "layer":
        raise UsageError(f"method {method.name!r} ranks by {method.ranking}: it takes one ratio, not per-layer ones")
    plans = {}
    for name, ratio in ratios.items():
        plans[name] = method.plan(ratio, budget)
        check_plan(plans[name], ratio, budget)
    current = dict.fromkeys(ratios, 0.0)
    merged = []
    for step in sorted({event.step for events in plans.values() for event in events}):
        for name, events in plans.items():
            current[name] = next((event.sparsity for event in events if event.step == step), current[name])
        merged.append(PruneEvent(step, dict(current)))
    return tuple(merged)
