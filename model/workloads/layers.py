"""A workload's network as a stack of the layer kinds the engines know: Conv2D, MaxPool, Flatten, Dense.

TensorFlow-free: the suite's configuration and the engines' checks read a stack without loading Keras.
Variables take readable names from their layer, ``w_<layer>`` for the kernel and ``b_<layer>`` for the bias,
which gives the paper's CNN its TF1 names (``w_conv1`` ... ``b_fc2``) and every other network names of the
same kind (``w_fc3`` for LeNet-300-100's last layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prunebench.errors import UsageError

RELU = "relu"
ACTIVATIONS = (RELU, None)  # what follows a Conv2D or Dense: ReLU, or nothing (logits, Caffe's LeNet-5 convs)
PADDINGS = ("same", "valid")


class Weighted:
    """A layer with a kernel and a bias, named after the layer (the module docstring)."""

    name: str

    @property
    def kernel(self) -> str:
        return f"w_{self.name}"

    @property
    def bias(self) -> str:
        return f"b_{self.name}"


@dataclass(frozen=True)
class Conv2D(Weighted):
    """A square convolution with stride 1 and a bias, followed by ``activation``."""

    name: str
    filters: int
    size: int
    padding: str = "same"
    activation: str | None = RELU


@dataclass(frozen=True)
class MaxPool:
    """Square max pooling with the stride equal to the window."""

    size: int = 2
    padding: str = "valid"


@dataclass(frozen=True)
class Flatten:
    """[B, H, W, C] -> [B, H * W * C] in NHWC order."""


@dataclass(frozen=True)
class Dense(Weighted):
    """x @ kernel + bias, followed by ``activation``."""

    name: str
    units: int
    activation: str | None = RELU


Layer = Conv2D | MaxPool | Flatten | Dense


def weighted(layers: Sequence[Layer]) -> list[Conv2D | Dense]:
    return [layer for layer in layers if isinstance(layer, Weighted)]


def kernel_names(layers: Sequence[Layer]) -> tuple[str, ...]:
    """The prunable variables: every kernel, in the stack's order."""
    return tuple(layer.kernel for layer in weighted(layers))


def variable_names(layers: Sequence[Layer]) -> tuple[str, ...]:
    """Every variable, kernel then bias per layer, in the stack's order (the checkpoints' order)."""
    return tuple(name for layer in weighted(layers) for name in (layer.kernel, layer.bias))


def _pooled(size: int, window: int, padding: str) -> int:
    return -(-size // window) if padding == "same" else size // window


def weight_shapes(layers: Sequence[Layer], input_shape: tuple[int, int, int]) -> dict[str, tuple[int, ...]]:
    """Each variable's shape, walking the stack from ``input_shape`` (H, W, C); an impossible stack (a Conv2D
    after Flatten, a Dense before it on images, a window larger than its input) is a UsageError."""
    height, width, channels = input_shape
    features = None  # set once flattened
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in layers:
        if isinstance(layer, Conv2D):
            if features is not None:
                raise UsageError(f"layer {layer.name}: a Conv2D after Flatten")
            shapes[layer.kernel] = (layer.size, layer.size, channels, layer.filters)
            shapes[layer.bias] = (layer.filters,)
            if layer.padding == "valid":
                height, width = height - layer.size + 1, width - layer.size + 1
            channels = layer.filters
        elif isinstance(layer, MaxPool):
            if features is not None:
                raise UsageError("a MaxPool after Flatten")
            height, width = _pooled(height, layer.size, layer.padding), _pooled(width, layer.size, layer.padding)
        elif isinstance(layer, Flatten):
            features = height * width * channels
        elif isinstance(layer, Dense):
            if features is None:
                raise UsageError(f"layer {layer.name}: a Dense before Flatten")
            shapes[layer.kernel] = (features, layer.units)
            shapes[layer.bias] = (layer.units,)
            features = layer.units
        if min(height, width) < 1:
            raise UsageError(f"the stack shrinks the {input_shape[0]}x{input_shape[1]} input to nothing")
    if not layers or not isinstance(layers[-1], Dense):
        raise UsageError("a stack must end with a Dense layer (the logits)")
    return shapes


def check_stack(layers: Sequence[Layer]) -> None:
    """Names unique, activations and paddings known: what the engines and checkpoints rely on."""
    names = [layer.name for layer in weighted(layers)]
    if len(set(names)) != len(names):
        raise UsageError(f"layer names {names} repeat a name")
    for layer in layers:
        if getattr(layer, "activation", None) not in ACTIVATIONS:
            raise UsageError(f"layer {layer.name}: activation {layer.activation!r} is not one of relu or none")
        if getattr(layer, "padding", "same") not in PADDINGS:
            raise UsageError(f"a {type(layer).__name__} with padding {layer.padding!r}: choose same or valid")

