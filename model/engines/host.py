"""Engines that run the layers before the first Dense (conv, pool, flatten) on TensorFlow, dense, and the Dense
layers on the host CPU with a sparse library, for any workload's layer stack.

Conv kernels stay dense even when pruned. Subclasses say only how to build ``x -> x @ kernel`` from a
kernel; the sparse structure is built at build time, never inside the timed call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from prunebench.model.constants import WORK_NONZEROS
from prunebench.model.engines import tf_graph
from prunebench.model.engines.spec import (
    DEFAULT_PRUNED,
    PAPER_LAYERS,
    checked_fc1,
    checked_pruned,
    checked_weights,
    require_available,
)
from prunebench.model.workloads.layers import RELU, Dense, Layer

MatMul = Callable[[np.ndarray], np.ndarray]


class HostSparseEngine:
    name: str
    sparse = True
    fc1_storage = "csr-int32"  # CSR of the transposed kernel: one row per output unit
    devices = ("cpu",)
    work = WORK_NONZEROS  # the conv stack dense, the pruned fc kernels per stored nonzero
    sparse_kinds = (Dense.__name__,)  # the pruned Dense kernels sparse; conv kernels stay dense on TensorFlow

    def missing_reason(self) -> str | None:
        """Why the library is not usable here (package not installed), or None."""
        return None

    def sparse_times(self, kernel: np.ndarray) -> MatMul:
        """x -> x @ kernel with kernel stored in the library's sparse format (float32 result, writable)."""
        raise NotImplementedError

    def unavailable_reason(self, device: str) -> str | None:
        return "CPU only" if device == "gpu" else self.missing_reason()

    def _times(self, kernel: np.ndarray, sparse: bool) -> MatMul:
        return self.sparse_times(kernel) if sparse else (lambda x: x @ kernel)

    def network(self, weights: Mapping[str, np.ndarray], pruned: Sequence[str] = DEFAULT_PRUNED,
                device: str = "cpu", layers: Sequence[Layer] = PAPER_LAYERS) -> Callable[[np.ndarray], np.ndarray]:
        require_available(self, device)
        weights, sparse_names = checked_weights(weights, layers), checked_pruned(pruned, layers)
        features = tf_graph.conv_features(weights, layers, device)
        dense = [(relu_layer if layer.activation == RELU else linear_layer)(
            self._times(weights[layer.kernel], layer.kernel in sparse_names), weights[layer.bias])
            for layer in layers if isinstance(layer, Dense)]

        def predict(x: np.ndarray) -> np.ndarray:
            x = features(x)
            for layer in dense:
                x = layer(x)
            return x

        return predict

    def fc1(self, w_fc1: np.ndarray, b_fc1: np.ndarray, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        require_available(self, device)
        w_fc1, b_fc1 = checked_fc1(w_fc1, b_fc1)
        return relu_layer(self.sparse_times(w_fc1), b_fc1)


def linear_layer(times_w: MatMul, bias: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """x -> x @ W + b, in place on the product (the logits)."""

    def layer(x: np.ndarray) -> np.ndarray:
        y = times_w(x)
        y += bias
        return y

    return layer


def relu_layer(times_w: MatMul, bias: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """x -> relu(x @ W + b), in place on the product so no extra array is allocated."""

    def layer(x: np.ndarray) -> np.ndarray:
        y = times_w(x)
        y += bias
        return np.maximum(y, 0, out=y)

    return layer
