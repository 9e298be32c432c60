"""Any workload's Keras model: built from a layer stack, described as one, and its variables by readable name.

A variable is named after its layer (``w_<layer>`` kernel, ``b_<layer>`` bias, model/workloads/layers.py), so
the same three functions address the paper's CNN by its TF1 names and a user's model by its own layer names.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Sequence  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

from prunebench.errors import UsageError  # noqa: E402
from prunebench.model.workloads.layers import Conv2D, Dense, Flatten, Layer, MaxPool, check_stack  # noqa: E402

ATTRIBUTES = {"w": "kernel", "b": "bias"}


def variable_map(model: keras.Model) -> dict[str, tuple[str, str]]:
    """name -> (Keras layer, attribute) of every layer with a kernel and a bias, kernel first, in layer order."""
    return {f"{prefix}_{layer.name}": (layer.name, attribute) for layer in model.layers
            if getattr(layer, "kernel", None) is not None and getattr(layer, "bias", None) is not None
            for prefix, attribute in ATTRIBUTES.items()}


def variable(model: keras.Model, name: str) -> keras.Variable:
    layers = variable_map(model)
    if name not in layers:
        raise UsageError(f"variable {name!r} is not in model {model.name} (it has {', '.join(layers)})")
    layer, attribute = layers[name]
    return getattr(model.get_layer(layer), attribute)


def get_weights(model: keras.Model) -> dict[str, np.ndarray]:
    return {name: np.asarray(variable(model, name).numpy(), dtype=np.float32) for name in variable_map(model)}


def set_weights(model: keras.Model, weights: dict[str, np.ndarray]) -> None:
    for name in variable_map(model):
        variable(model, name).assign(weights[name])


def build_stack(layers: Sequence[Layer], input_shape: tuple[int, int, int], name: str) -> keras.Model:
    """A Sequential of ``layers`` with Keras' default initializers (Glorot uniform kernels, zero biases), drawn
    from the global seed (``model.train.seed_everything``)."""
    check_stack(layers)
    keras_layers = []
    for layer in layers:
        if isinstance(layer, Conv2D):
            keras_layers.append(keras.layers.Conv2D(layer.filters, layer.size, padding=layer.padding,
                                                    activation=layer.activation, name=layer.name))
        elif isinstance(layer, MaxPool):
            keras_layers.append(keras.layers.MaxPooling2D(layer.size, padding=layer.padding))
        elif isinstance(layer, Flatten):
            keras_layers.append(keras.layers.Flatten())
        else:
            keras_layers.append(keras.layers.Dense(layer.units, activation=layer.activation, name=layer.name))
    return keras.Sequential([keras.Input(input_shape), *keras_layers], name=name)


def describe(model: keras.Model) -> tuple[Layer, ...]:
    """The layer stack of a Keras model, for the engines; a layer of another kind, an unsupported option
    (strides, dilation, an activation other than ReLU) or a model that is not a plain stack is a UsageError
    naming it."""
    if not isinstance(model, keras.Sequential):
        raise UsageError(f"model {model.name}: the engines run a keras.Sequential stack, not a {type(model).__name__}")
    stack: list[Layer] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.Conv2D) and kind == "Conv2D":
            if tuple(layer.strides) != (1, 1) or tuple(layer.dilation_rate) != (1, 1) \
                    or layer.kernel_size[0] != layer.kernel_size[1] or not layer.use_bias:
                raise UsageError(f"layer {layer.name}: only square, stride-1, undilated Conv2D with a bias is known")
            stack.append(Conv2D(layer.name, layer.filters, layer.kernel_size[0], layer.padding,
                                _activation(layer)))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            if tuple(layer.strides) != tuple(layer.pool_size) or layer.pool_size[0] != layer.pool_size[1]:
                raise UsageError(f"layer {layer.name}: only square MaxPooling2D with stride equal to the window "
                                 "is known")
            stack.append(MaxPool(layer.pool_size[0], layer.padding))
        elif isinstance(layer, keras.layers.Flatten):
            stack.append(Flatten())
        elif isinstance(layer, keras.layers.Dense) and kind == "Dense":
            if not layer.use_bias:
                raise UsageError(f"layer {layer.name}: a Dense without a bias is not known to the engines")
            stack.append(Dense(layer.name, layer.units, _activation(layer)))
        else:
            raise UsageError(f"layer {layer.name} is a {kind}; the engines know Conv2D, MaxPooling2D, Flatten "
                             "and Dense")
    check_stack(stack)
    return tuple(stack)


def _activation(layer) -> str | None:
    name = keras.activations.serialize(layer.activation)
    name = name if isinstance(name, str) else name.get("config", {}).get("name", str(name))
    if name == "linear":
        return None
    if name != "relu":
        raise UsageError(f"layer {layer.name}: activation {name!r}; the engines know relu and none")
    return "relu"
