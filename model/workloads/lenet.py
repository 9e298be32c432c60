"""Han et al. (2015, "Learning both Weights and Connections for Efficient Neural Networks"), Table 1: LeNet-300-100
and Caffe's LeNet-5 on MNIST, with the share of each layer's weights their pruning kept.

LeNet-5 follows Caffe's ``lenet_train_test.prototxt``: valid 5x5 convolutions with no activation, 2x2 max
pooling, ReLU on the 500-unit layer only. Both networks train with Adam at its Keras default rate and retrain
at a tenth of it (base.py); every kernel is pruned by default, conv layers included, as in Han et al. Each
``Training`` is the protocol that reached Han et al.'s errors at their per-layer ratios with the ``gradual``
method within 15 minutes on 2 cores (docs/workloads.md, "What was measured"): the paper profile runs it
(``--profile paper --ratios han --methods gradual``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prunebench.model.data import NUM_CLASSES
from prunebench.model.workloads.base import KERAS_LEARNING_RATE, RETRAIN_LEARNING_RATE, Training
from prunebench.model.workloads.layers import Conv2D, Dense, Flatten, MaxPool
from prunebench.model.workloads.stack import StackWorkload

HAN = "han"  # the preset's name: ``--ratios han``


@dataclass(frozen=True)
class HanRow:
    """One network's row of Han et al.'s Table 1, with its per-layer shares (their Tables 2 and 3)."""

    error_before: float  # top-1 test error of the reference network, %
    error_after: float  # after pruning and retraining, %
    kept: Mapping[str, float]  # share of each layer's weights kept, by the suite's variable name
    weights_kept: float  # share of all the network's weights kept
    compression: float  # their "compression rate": weights before over weights after
    parameters: int  # the reference network's parameters, as they print them (in thousands: 267K)


LENET_300_100_NAME, LENET_5_NAME = "lenet-300-100", "lenet-5"
HAN_TABLE = {
    LENET_300_100_NAME: HanRow(1.64, 1.59, {"w_fc1": 0.08, "w_fc2": 0.09, "w_fc3": 0.26}, 0.08, 12, 267_000),
    LENET_5_NAME: HanRow(0.80, 0.77, {"w_conv1": 0.66, "w_conv2": 0.12, "w_fc1": 0.08, "w_fc2": 0.19}, 0.08, 12,
                         431_000),
}


def kept_to_ratios(kept: dict[str, float]) -> dict[str, float]:
    """Han et al. publish the share of weights kept per layer; the suite prunes the rest."""
    return {name: round(1.0 - share, 6) for name, share in kept.items()}


BATCH_SIZE = 64  # Caffe's LeNet solver's

LENET_300_100 = StackWorkload(
    name=LENET_300_100_NAME,
    layers=(Flatten(), Dense("fc1", 300), Dense("fc2", 100), Dense("fc3", NUM_CLASSES, activation=None)),
    # a cheap network: a long gradual retraining closes the gap its constant-rate baseline leaves
    training=Training(steps=20_000, batch_size=BATCH_SIZE, retrain_steps=48_000, learning_rate=KERAS_LEARNING_RATE,
                      retrain_learning_rate=RETRAIN_LEARNING_RATE),
    ratio_presets={HAN: kept_to_ratios(HAN_TABLE[LENET_300_100_NAME].kept)},
)

LENET_5 = StackWorkload(
    name=LENET_5_NAME,
    layers=(Conv2D("conv1", 20, 5, padding="valid", activation=None), MaxPool(2),
            Conv2D("conv2", 50, 5, padding="valid", activation=None), MaxPool(2), Flatten(),
            Dense("fc1", 500), Dense("fc2", NUM_CLASSES, activation=None)),
    # Caffe's 10,000 training iterations; the convolutions make a step several times a LeNet-300-100 step
    training=Training(steps=10_000, batch_size=BATCH_SIZE, retrain_steps=30_000, learning_rate=KERAS_LEARNING_RATE,
                      retrain_learning_rate=RETRAIN_LEARNING_RATE),
    ratio_presets={HAN: kept_to_ratios(HAN_TABLE[LENET_5_NAME].kept)},
)
