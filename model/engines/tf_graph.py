"""The network as TensorFlow ops in a ``tf.function``: ``tf-dense``, and ``tf-sparse`` (the paper's way).

``tf-sparse`` stores each pruned fc kernel transposed as a ``tf.SparseTensor`` (int64 COO indices, as
``tf.sparse.from_dense`` makes them) and multiplies with ``tf.sparse.sparse_dense_matmul``. Conv kernels
stay dense even when pruned: TensorFlow has no sparse convolution.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable, Mapping, Sequence  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from prunebench.model.constants import DEVICES, FC1_INPUTS, WORK_DENSE, WORK_NONZEROS  # noqa: E402
from prunebench.model.engines.spec import (  # noqa: E402
    DEFAULT_PRUNED,
    checked_fc1,
    checked_pruned,
    checked_weights,
    require_available,
)

IMAGES = tf.TensorSpec([None, 28, 28, 1], tf.float32)
FEATURES = tf.TensorSpec([None, FC1_INPUTS], tf.float32)
TensorFn = Callable[[tf.Tensor], tf.Tensor]


def tf_device_reason(device: str) -> str | None:
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        return "TensorFlow sees no GPU"
    return None


def tf_device(device: str) -> str:
    return "/GPU:0" if device == "gpu" else "/CPU:0"


def conv_stack(x: tf.Tensor, w: Mapping[str, tf.Tensor]) -> tf.Tensor:
    """conv 5x5 SAME + ReLU, max-pool 2x2, twice, then NHWC flatten to [B, 3136]."""
    for layer in ("conv1", "conv2"):
        x = tf.nn.relu(tf.nn.conv2d(x, w[f"w_{layer}"], strides=1, padding="SAME") + w[f"b_{layer}"])
        x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="SAME")
    return tf.reshape(x, [-1, FC1_INPUTS])


def traced(body: TensorFn, spec: tf.TensorSpec, device: str) -> tf.types.experimental.PolymorphicFunction:
    """One trace for every batch size (the signature's batch is None), every op pinned to ``device``."""
    placement = tf_device(device)

    def on_device(x: tf.Tensor) -> tf.Tensor:
        with tf.device(placement):
            return body(x)

    return tf.function(on_device, input_signature=[spec])


def as_numpy(function: TensorFn) -> Callable[[np.ndarray], np.ndarray]:
    """``.numpy()`` waits for the result, so a timed call includes all the work."""
    return lambda x: function(x).numpy()


def conv_features(weights: Mapping[str, np.ndarray], device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
    """The dense conv stack alone, for engines that run the fc layers elsewhere."""
    with tf.device(tf_device(device)):
        w = {name: tf.constant(weights[name]) for name in ("w_conv1", "b_conv1", "w_conv2", "b_conv2")}
    return as_numpy(traced(lambda x: conv_stack(x, w), IMAGES, device))


class TfEngine:
    """TensorFlow graph engine; ``sparse`` selects SparseTensor fc kernels for the pruned variables."""

    def __init__(self, name: str, sparse: bool):
        self.name = name
        self.sparse = sparse
        self.fc1_storage = "coo-int64" if sparse else "dense"  # what one FC1 call reads, see bandwidth.py
        self.devices = DEVICES
        self.work = WORK_NONZEROS if sparse else WORK_DENSE

    def unavailable_reason(self, device: str) -> str | None:
        return tf_device_reason(device)

    def _times(self, kernel: np.ndarray, sparse: bool) -> TensorFn:
        """h -> h @ kernel, with kernel built now (as a constant or SparseTensor) on the current device."""
        if not sparse:
            dense = tf.constant(kernel)
            return lambda h: tf.matmul(h, dense)
        transposed = tf.sparse.from_dense(tf.constant(kernel.T))
        return lambda h: tf.transpose(tf.sparse.sparse_dense_matmul(transposed, h, adjoint_b=True))

    def network_function(self, weights: Mapping[str, np.ndarray], pruned: Sequence[str] = DEFAULT_PRUNED,
                         device: str = "cpu") -> tf.types.experimental.PolymorphicFunction:
        """The traced network (also what the TFLite engines convert)."""
        require_available(self, device)
        weights, sparse_names = checked_weights(weights), checked_pruned(pruned)
        with tf.device(tf_device(device)):
            w = {name: tf.constant(value) for name, value in weights.items()}
            fc1 = self._times(weights["w_fc1"], self.sparse and "w_fc1" in sparse_names)
            fc2 = self._times(weights["w_fc2"], self.sparse and "w_fc2" in sparse_names)

        def body(x: tf.Tensor) -> tf.Tensor:
            hidden = tf.nn.relu(fc1(conv_stack(x, w)) + w["b_fc1"])
            return fc2(hidden) + w["b_fc2"]

        return traced(body, IMAGES, device)

    def fc1_function(self, w_fc1: np.ndarray, b_fc1: np.ndarray,
                     device: str = "cpu") -> tf.types.experimental.PolymorphicFunction:
        require_available(self, device)
        w_fc1, b_fc1 = checked_fc1(w_fc1, b_fc1)
        with tf.device(tf_device(device)):
            times_w = self._times(w_fc1, self.sparse)
            bias = tf.constant(b_fc1)
        return traced(lambda x: tf.nn.relu(times_w(x) + bias), FEATURES, device)

    def network(self, weights: Mapping[str, np.ndarray], pruned: Sequence[str] = DEFAULT_PRUNED,
                device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        return as_numpy(self.network_function(weights, pruned, device))

    def fc1(self, w_fc1: np.ndarray, b_fc1: np.ndarray, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        return as_numpy(self.fc1_function(w_fc1, b_fc1, device))
