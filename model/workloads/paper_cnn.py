"""The paper's CNN as the first workload, every number taken from model/constants.py and the paper profile.

Its name, ``paper-cnn``, is the default workload: results rows and cache keys leave it out, so every
existing run and cache entry stays what it was.
"""

from __future__ import annotations

from prunebench.model.constants import FC1_UNITS, LEARNING_RATE, weight_shapes
from prunebench.model.data import NUM_CLASSES
from prunebench.model.workloads.base import Training
from prunebench.model.workloads.layers import Conv2D, Dense, Flatten, MaxPool
from prunebench.model.workloads.stack import StackWorkload
from prunebench.prune.policy import DEFAULT_PRUNED
from prunebench.results.profiles import PAPER_WORKLOAD, PROFILES

POOL = 2  # 28 -> 14 -> 7: FC1_INPUTS = 7 x 7 x 64
# SAME, as the engines always pooled (the same values as Keras' VALID on these even sizes): LiteRT's flatbuffer
# omits SAME, its default, so the .tflite sizes of every existing run stay byte for byte what they were.
PAPER_POOL = MaxPool(POOL, padding="same")
_SHAPES = weight_shapes()


def _conv(name: str) -> Conv2D:
    height, _, _, filters = _SHAPES[f"w_{name}"]
    return Conv2D(name, filters, height, padding="same")


def _build_cnn(seed: int):
    from prunebench.model.cnn import build_cnn

    return build_cnn(seed)


_PAPER = PROFILES["paper"]
PAPER_CNN = StackWorkload(
    name=PAPER_WORKLOAD,
    layers=(_conv("conv1"), PAPER_POOL, _conv("conv2"), PAPER_POOL, Flatten(),
            Dense("fc1", FC1_UNITS), Dense("fc2", NUM_CLASSES, activation=None)),
    training=Training(steps=_PAPER["max_steps"], batch_size=_PAPER["batch_size"],
                      retrain_steps=_PAPER["retrain_steps"], learning_rate=LEARNING_RATE,
                      retrain_learning_rate=LEARNING_RATE),
    default_pruned=DEFAULT_PRUNED,
    model_factory=_build_cnn,
)
