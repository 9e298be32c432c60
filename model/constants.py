"""The paper's network and training as plain facts, one definition each.

TensorFlow-free on purpose: the suite's configuration, the CLI's option parsing and the engines' input
checks import these without loading TensorFlow.
"""

from __future__ import annotations

WEIGHT_KERNELS = ("w_conv1", "w_conv2", "w_fc1", "w_fc2")  # the prunable variables, in the paper's order
LEARNING_RATE = 1e-4  # Adam's, as in the TensorFlow tutorial the paper follows
DEVICES = ("cpu", "gpu")  # where an engine may be asked to run
