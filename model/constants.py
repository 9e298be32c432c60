"""The paper's network and training as plain facts, one definition each.

TensorFlow-free on purpose: the suite's configuration, the CLI's option parsing and the engines' input
checks import these without loading TensorFlow.
"""

from __future__ import annotations

WEIGHT_KERNELS = ("w_conv1", "w_conv2", "w_fc1", "w_fc2")  # the prunable variables, in the paper's order
FC1_INPUTS = 3136  # 7 x 7 x 64 features after the second pool
FC1_UNITS = 1024  # the paper's fc1 width; a neuron-pruned network stores fewer (prune/methods/structured.py)
MNIST_TEST_IMAGES = 10_000  # the size of MNIST's test set
PAPER_TRAIN_STEPS = 10_000  # the paper's training steps (train -1), as in the TensorFlow tutorial
LEARNING_RATE = 1e-4  # Adam's, as in the TensorFlow tutorial the paper follows
DEVICES = ("cpu", "gpu")  # where an engine may be asked to run
# What an engine's work per call depends on (``InferenceEngine.work``); claim (c)'s expected verdict
# follows from it (prunebench/verdicts/expected.py, docs/verdicts.md).
WORK_DENSE = "dense"  # every weight is multiplied, zero or not: the same work at every ratio
WORK_NONZEROS = "nonzeros"  # the pruned kernels cost per stored nonzero, the rest per dense weight
WORK_CONVERTER = "converter"  # a converter decides per kernel whether to keep it sparse (LiteRT)
WORKS = (WORK_DENSE, WORK_NONZEROS, WORK_CONVERTER)


def weight_shapes(units: int = FC1_UNITS) -> dict[str, tuple[int, ...]]:
    """The eight variables' shapes with ``units`` fc1 neurons (the paper's 1024, or fewer once whole
    neurons were pruned and removed: prune/methods/structured.py)."""
    return {
        "w_conv1": (5, 5, 1, 32),
        "b_conv1": (32,),
        "w_conv2": (5, 5, 32, 64),
        "b_conv2": (64,),
        "w_fc1": (FC1_INPUTS, units),
        "b_fc1": (units,),
        "w_fc2": (units, 10),
        "b_fc2": (10,),
    }
