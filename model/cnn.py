"""The paper's CNN (the TensorFlow "Deep MNIST" tutorial) as Keras 3 layers, addressable by the paper's names."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from prunebench.model.constants import FC1_UNITS  # noqa: E402
from prunebench.model.workloads import PAPER_CNN, variable_names  # noqa: E402

# The paper's names, in the paper's and the checkpoint's order: w_<layer>, b_<layer> (model/keras_model.py).
PAPER_NAMES = variable_names(PAPER_CNN.layers)
PARAMETER_COUNT = 3_274_634


def build_cnn(seed: int = 0) -> keras.Model:
    """conv5x5x32 SAME ReLU, pool 2x2, conv5x5x64, pool 2x2, fc 3136->1024 ReLU, fc 1024->10 (logits)."""
    init = keras.initializers.TruncatedNormal(stddev=0.1, seed=seed)  # the tutorial's weight_variable
    bias = keras.initializers.Constant(0.1)  # the tutorial's bias_variable
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 5, padding="same", activation="relu", name="conv1",
                          kernel_initializer=init, bias_initializer=bias),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2",
                          kernel_initializer=init, bias_initializer=bias),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(FC1_UNITS, activation="relu", name="fc1", kernel_initializer=init, bias_initializer=bias),
            layers.Dense(10, name="fc2", kernel_initializer=init, bias_initializer=bias),
        ],
        name="paper_cnn",
    )

