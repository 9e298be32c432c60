"""Structured pruning: whole fc1 neurons, so the pruned network is a smaller dense one (pure NumPy).

A neuron is a column of ``w_fc1``, its ``b_fc1`` entry and its row of ``w_fc2``. The ``round(ratio * 1024)``
neurons whose incoming weights (the ``w_fc1`` column) have the smallest L2 norm lose their column and their
``w_fc2`` row at once: the norm ranking of Li et al. (2017, "Pruning Filters for Efficient ConvNets")
applied to a dense layer. The method ``structured`` is the one-shot schedule (oneshot.py) with this
ranking (``ranking="neuron"``), so that against ``oneshot`` only the structure differs. ``b_fc1`` trains on:
a removed neuron reaches the logits only through its zero ``w_fc2`` row.

Unstructured sparsity buys speed only where dense is slow; a narrower dense layer is faster on every
engine. ``shrink`` drops the removed neurons, giving a (3136 x k, k, k x 10) network that every dense
engine runs as it is, with the same logits (the dropped terms are products with zero).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from prunebench.prune.ratio import prune_count

NEURON_VARIABLES = ("w_fc1", "w_fc2")  # what a neuron's removal zeros (with b_fc1's entry, which may train on)


def neuron_norms(w_fc1: np.ndarray) -> np.ndarray:
    """L2 norm of each fc1 neuron's incoming weights (the columns of ``w_fc1``), in float64."""
    return np.linalg.norm(np.asarray(w_fc1, dtype=np.float64), axis=0)


def neuron_keep(w_fc1: np.ndarray, sparsity: float, kept: np.ndarray | None = None) -> np.ndarray:
    """Boolean keep-vector over the fc1 neurons: ``round(sparsity * units)`` removed, smallest norms first.
    Neurons already removed (``kept`` False) rank below every other, so they stay removed; ties break by
    index."""
    scores = neuron_norms(w_fc1)
    if kept is not None:
        scores = np.where(kept, scores, -1.0)
    keep = np.ones(scores.size, dtype=bool)
    keep[np.argsort(scores, kind="stable")[:prune_count(scores.size, sparsity)]] = False
    return keep


def neuron_masks(weights: Mapping[str, np.ndarray], names: tuple[str, ...], sparsity: float,
                 keep: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Keep-masks of ``w_fc1`` (columns) and ``w_fc2`` (rows) for the neurons ``neuron_keep`` keeps."""
    if tuple(sorted(names)) != NEURON_VARIABLES:
        raise ValueError(f"neuron pruning prunes exactly {', '.join(NEURON_VARIABLES)}, not {', '.join(names)}")
    kept = None if keep is None else np.asarray(keep["w_fc1"]).any(axis=0)
    neurons = neuron_keep(weights["w_fc1"], sparsity, kept)
    return {"w_fc1": np.broadcast_to(neurons[None, :], np.shape(weights["w_fc1"])).copy(),
            "w_fc2": np.broadcast_to(neurons[:, None], np.shape(weights["w_fc2"])).copy()}


def removed_neurons(weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """The fc1 neurons with an all-zero ``w_fc1`` column and an all-zero ``w_fc2`` row: they add nothing."""
    return ~np.asarray(weights["w_fc1"]).any(axis=0) & ~np.asarray(weights["w_fc2"]).any(axis=1)


def shrink(weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same network without its removed fc1 neurons: ``w_fc1`` (3136, k), ``b_fc1`` (k,), ``w_fc2``
    (k, 10); the other variables as they are. At least one neuron stays, so the layer keeps a shape."""
    kept = ~removed_neurons(weights)
    if not kept.any():
        kept[0] = True
    narrowed = dict(weights)
    narrowed["w_fc1"] = np.ascontiguousarray(weights["w_fc1"][:, kept])
    narrowed["b_fc1"] = np.ascontiguousarray(weights["b_fc1"][kept])
    narrowed["w_fc2"] = np.ascontiguousarray(weights["w_fc2"][kept, :])
    return narrowed

