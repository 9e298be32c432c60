"""One FC1 kernel of the FC1 benchmarks (bench/test_fc1.py) and what its items share."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Fc1Kernel:
    """One FC1 kernel and what its items share across batch sizes: each engine's built layer (building a
    LiteRT one converts the layer, about half a second) and the bytes its kernel reads (for tflite-sparse, a
    second conversion)."""

    kernel: np.ndarray
    bias: np.ndarray
    calls: dict = field(default_factory=dict)
    kernel_bytes: dict = field(default_factory=dict)

    def call(self, engine_name: str, device: str):
        from prunebench.model.engines import ENGINES

        if (engine_name, device) not in self.calls:
            self.calls[engine_name, device] = ENGINES[engine_name].fc1(self.kernel, self.bias, device)
        return self.calls[engine_name, device]

    def bytes_read(self, engine_name: str, batch: int) -> int:
        from prunebench.model.engines.bandwidth import fc1_activation_bytes_read, fc1_kernel_bytes_read

        if engine_name not in self.kernel_bytes:
            self.kernel_bytes[engine_name] = fc1_kernel_bytes_read(engine_name, self.kernel)
        return self.kernel_bytes[engine_name] + fc1_activation_bytes_read(self.kernel, batch)


def per_ratio(make):
    """``Fc1Kernel(*make(ratio))``, made once per ratio and kept for the session: the items run engine by
    engine over every ratio (``bench.params``), and the races come back to the kernels and layers they built."""
    return functools.cache(lambda ratio: Fc1Kernel(*make(ratio)))
