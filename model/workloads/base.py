"""The ``Workload`` protocol: what the suite needs of a network to train, prune, store and time it.

TensorFlow-free: Keras is imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from prunebench.model.workloads.layers import Layer

if TYPE_CHECKING:
    import keras

    from prunebench.model.data import Mnist

# Adam's Keras default, for networks with Keras' default initializers (the LeNets, a user's model): the paper
# CNN's 1e-4 suits its truncated-normal start but leaves these far from converged in their budget. After pruning
# they retrain at a tenth of it (Han et al. retrain at a lower rate than they train).
KERAS_LEARNING_RATE = 1e-3
RETRAIN_LEARNING_RATE = KERAS_LEARNING_RATE / 10


@dataclass(frozen=True)
class Training:
    """A workload's own protocol: Adam (what the checkpoints hold, with its two slots) at ``learning_rate`` for
    ``steps`` batches of ``batch_size``, then ``retrain_steps`` at ``retrain_learning_rate`` after pruning (Han
    et al. retrain at a lower rate). The paper profile runs a workload at its own steps and batch; the other
    profiles set them for every workload alike, and the learning rates are always the workload's."""

    steps: int
    batch_size: int
    retrain_steps: int
    learning_rate: float
    retrain_learning_rate: float


@runtime_checkable
class Workload(Protocol):
    name: str  # registry key, and the results rows' "workload" (absent for the paper's CNN)
    input_shape: tuple[int, int, int]  # (H, W, C) of one image
    layers: tuple[Layer, ...]  # the network as the engines run it (layers.py)
    training: Training
    default_pruned: tuple[str, ...]  # the variables pruned unless --pruning-variable-names says otherwise
    # named per-layer ratio maps (``--ratios han``): variable -> ratio pruned
    ratio_presets: Mapping[str, Mapping[str, float]]

    def load_data(self, directory) -> Mnist:
        """Train and test arrays (uint8 images [N, H, W], labels [N])."""
        ...

    def build_model(self, seed: int) -> keras.Model:
        """A fresh Keras model whose layers are ``layers`` (named as they are)."""
        ...
