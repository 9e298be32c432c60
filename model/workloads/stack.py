"""``StackWorkload``: a workload given as a layer stack on MNIST, its Keras model built from the stack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from prunebench.model.data import IMAGE_SHAPE, load_mnist
from prunebench.model.workloads.base import Training
from prunebench.model.workloads.layers import Layer, check_stack, kernel_names, weight_shapes

MNIST_INPUT = (*IMAGE_SHAPE, 1)


@dataclass(frozen=True)
class StackWorkload:
    name: str
    layers: tuple[Layer, ...]
    training: Training
    default_pruned: tuple[str, ...] = ()  # empty: every kernel (Han et al. prune conv layers too)
    ratio_presets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    input_shape: tuple[int, int, int] = MNIST_INPUT
    # builds the Keras model (default: model.keras_model.build_stack); the paper's CNN keeps its own
    model_factory: Callable | None = field(default=None, compare=False)

    def __post_init__(self):
        check_stack(self.layers)
        weight_shapes(self.layers, self.input_shape)  # an impossible stack fails here, at registration
        if not self.default_pruned:
            object.__setattr__(self, "default_pruned", kernel_names(self.layers))

    def load_data(self, directory):
        return load_mnist(directory)

    def build_model(self, seed: int):
        if self.model_factory is not None:
            return self.model_factory(seed)
        from prunebench.model.keras_model import build_stack

        return build_stack(self.layers, self.input_shape, self.name.replace("-", "_"))
