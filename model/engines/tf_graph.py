"""The network as TensorFlow ops in a ``tf.function``: ``tf-dense``, and ``tf-sparse`` (the paper's way).

Any workload's layer stack (model/workloads/layers.py) runs here, the paper's CNN by default. ``tf-sparse``
stores each pruned Dense kernel transposed as a ``tf.SparseTensor`` (int64 COO indices, as
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
    PAPER_LAYERS,
    checked_fc1,
    checked_pruned,
    checked_weights,
    require_available,
)
from prunebench.model.workloads.layers import RELU, Conv2D, Dense, Flatten, Layer, MaxPool  # noqa: E402

IMAGES = tf.TensorSpec([None, 28, 28, 1], tf.float32)
FEATURES = tf.TensorSpec([None, FC1_INPUTS], tf.float32)
TensorFn = Callable[[tf.Tensor], tf.Tensor]


def tf_device_reason(device: str) -> str | None:
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        return "TensorFlow sees no GPU"
    return None


def tf_device(device: str) -> str:
    return "/GPU:0" if device == "gpu" else "/CPU:0"


def layer_stack(x: tf.Tensor, layers: Sequence[Layer], w: Mapping[str, tf.Tensor],
                times: Mapping[str, TensorFn]) -> tf.Tensor:
    """Run ``layers`` on x: Conv2D (stride 1) + bias, MaxPool, NHWC Flatten, Dense as ``times[kernel]`` + bias,
    each weighted layer followed by its ReLU or nothing."""
    for layer in layers:
        if isinstance(layer, Conv2D):
            x = tf.nn.conv2d(x, w[layer.kernel], strides=1, padding=layer.padding.upper()) + w[layer.bias]
        elif isinstance(layer, MaxPool):
            x = tf.nn.max_pool2d(x, ksize=layer.size, strides=layer.size, padding=layer.padding.upper())
        elif isinstance(layer, Flatten):
            x = tf.reshape(x, [-1, int(np.prod(x.shape[1:]))])
        else:
            x = times[layer.kernel](x) + w[layer.bias]
        if getattr(layer, "activation", None) == RELU:
            x = tf.nn.relu(x)
    return x


def feature_layers(layers: Sequence[Layer]) -> tuple[Layer, ...]:
    """The layers before the first Dense: what the host engines run on TensorFlow."""
    first_dense = next(index for index, layer in enumerate(layers) if isinstance(layer, Dense))
    return tuple(layers[:first_dense])


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


def conv_features(weights: Mapping[str, np.ndarray], layers: Sequence[Layer] = PAPER_LAYERS,
                  device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
    """The layers before the first Dense (conv, pool, flatten), dense, for engines that run the Dense layers
    elsewhere."""
    features = feature_layers(layers)
    with tf.device(tf_device(device)):
        w = {name: tf.constant(weights[name]) for layer in features if isinstance(layer, Conv2D)
             for name in (layer.kernel, layer.bias)}
    return as_numpy(traced(lambda x: layer_stack(x, features, w, {}), IMAGES, device))


class TfEngine:
    """TensorFlow graph engine; ``sparse`` selects SparseTensor fc kernels for the pruned variables."""

    def __init__(self, name: str, sparse: bool):
        self.name = name
        self.sparse = sparse
        self.fc1_storage = "coo-int64" if sparse else "dense"  # what one FC1 call reads, see bandwidth.py
        self.devices = DEVICES
        self.work = WORK_NONZEROS if sparse else WORK_DENSE
        self.sparse_kinds = (Dense.__name__,) if sparse else ()  # conv kernels stay dense: no sparse convolution

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
                         device: str = "cpu", layers: Sequence[Layer] = PAPER_LAYERS,
                         ) -> tf.types.experimental.PolymorphicFunction:
        """The traced network of ``layers`` (also what the TFLite engines convert)."""
        require_available(self, device)
        weights, sparse_names = checked_weights(weights, layers), checked_pruned(pruned, layers)
        with tf.device(tf_device(device)):
            w = {name: tf.constant(value) for name, value in weights.items()}
            times = {layer.kernel: self._times(weights[layer.kernel], self.sparse and layer.kernel in sparse_names)
                     for layer in layers if isinstance(layer, Dense)}
        return traced(lambda x: layer_stack(x, layers, w, times), IMAGES, device)

    def fc1_function(self, w_fc1: np.ndarray, b_fc1: np.ndarray,
                     device: str = "cpu") -> tf.types.experimental.PolymorphicFunction:
        require_available(self, device)
        w_fc1, b_fc1 = checked_fc1(w_fc1, b_fc1)
        with tf.device(tf_device(device)):
            times_w = self._times(w_fc1, self.sparse)
            bias = tf.constant(b_fc1)
        return traced(lambda x: tf.nn.relu(times_w(x) + bias), FEATURES, device)

    def network(self, weights: Mapping[str, np.ndarray], pruned: Sequence[str] = DEFAULT_PRUNED,
                device: str = "cpu", layers: Sequence[Layer] = PAPER_LAYERS) -> Callable[[np.ndarray], np.ndarray]:
        return as_numpy(self.network_function(weights, pruned, device, layers))

    def fc1(self, w_fc1: np.ndarray, b_fc1: np.ndarray, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        return as_numpy(self.fc1_function(w_fc1, b_fc1, device))
