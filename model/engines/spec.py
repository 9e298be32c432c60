"""What every engine checks at build time, so bad weights fail with one line instead of deep in a kernel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from prunebench.errors import DataError, UsageError
from prunebench.model.constants import DEVICES, FC1_INPUTS, FC1_UNITS, weight_shapes
from prunebench.model.workloads import PAPER_CNN
from prunebench.model.workloads.layers import Layer, kernel_names
from prunebench.model.workloads.layers import weight_shapes as stack_shapes
from prunebench.model.workloads.stack import MNIST_INPUT
from prunebench.prune.policy import DEFAULT_PRUNED  # noqa: F401  (the engines' default, re-exported)

WEIGHT_SHAPES = weight_shapes()
PAPER_LAYERS = PAPER_CNN.layers  # the engines' default network


def fc1_units(w_fc1: np.ndarray | None) -> int:
    """The fc1 width the weights declare: w_fc1's columns when it is a (3136, k) kernel with 1 <= k <= 1024,
    else the paper's 1024 (so that a wrong shape is reported against the paper's)."""
    shape = np.shape(w_fc1) if w_fc1 is not None else ()
    if len(shape) == 2 and shape[0] == FC1_INPUTS and 1 <= shape[1] <= FC1_UNITS:
        return int(shape[1])
    return FC1_UNITS


def checked_weights(weights: Mapping[str, np.ndarray], layers: Sequence[Layer] = PAPER_LAYERS) -> dict[str, np.ndarray]:
    """Return the network's weights as C-contiguous float32 arrays of the shapes its layer stack gives (the
    paper's CNN: the contract's eight, fc1 as wide as ``w_fc1`` says, up to 1024)."""
    checked = {}
    shapes = weight_shapes(fc1_units(weights.get("w_fc1"))) if tuple(layers) == PAPER_LAYERS \
        else stack_shapes(layers, MNIST_INPUT)
    for name, shape in shapes.items():
        if name not in weights:
            raise DataError(f"weights: variable {name!r} is missing")
        checked[name] = checked_array(name, weights[name], shape)
    return checked


def checked_array(name: str, value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(value)
    if array.shape != shape:
        raise DataError(f"weights: {name} has shape {array.shape}, expected {shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise DataError(f"weights: {name} has dtype {array.dtype}, expected float32")
    if not np.all(np.isfinite(array)):
        raise DataError(f"weights: {name} contains NaN or infinity")
    return np.ascontiguousarray(array, dtype=np.float32)


def checked_fc1(w_fc1: np.ndarray, b_fc1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shapes = weight_shapes(fc1_units(w_fc1))
    return checked_array("w_fc1", w_fc1, shapes["w_fc1"]), checked_array("b_fc1", b_fc1, shapes["b_fc1"])


def checked_pruned(pruned: Sequence[str], layers: Sequence[Layer] = PAPER_LAYERS) -> frozenset[str]:
    """Only kernels can be stored sparse; biases and unknown names are a user error."""
    if isinstance(pruned, str):
        raise UsageError(f"pruned: expected a list of variable names, got the string {pruned!r}")
    kernels = kernel_names(layers)
    unknown = sorted(set(pruned) - set(kernels))
    if unknown:
        raise UsageError(f"pruned: {', '.join(unknown)} not among the prunable kernels {', '.join(kernels)}")
    return frozenset(pruned)


def checked_device(device: str) -> str:
    if device not in DEVICES:
        raise UsageError(f"device: {device!r} is not one of {', '.join(DEVICES)}")
    return device


def require_available(engine, device: str) -> None:
    """Building an engine that cannot run here is a usage error that names the reason."""
    reason = engine.unavailable_reason(checked_device(device))
    if reason is not None:
        raise UsageError(f"engine {engine.name} on {device}: {reason}")
