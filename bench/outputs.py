"""Each benchmark checks what it timed: the engine's outputs on exactly the timed inputs against a reference
on the same weights, outside the timed region. A wrong engine would otherwise be timed, reported and even
win, since nothing else in a benchmark looks at what a call computed.

References are computed once per (model, inputs) and shared by every engine and device timed on them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping

import numpy as np

from bench.timing import ran_outside_timing
from prunebench.model.workloads import PAPER_CNN
from prunebench.model.workloads.layers import Layer

# As between engines in tests/test_engines.py and the suite's sparse/dense agreement (test_models): float32
# sums of 3136 terms in another order differ by ~1e-6 per unit of output, a wrong kernel, layout or bias by
# far more. Seen on the quick profile's models: up to 2.3e-5 (TFLite, logits up to 17). Larger outputs (longer
# training, all 10,000 test images) round larger: the tolerance grows with the largest reference output.
TOLERANCE = 1e-4
RELATIVE_TOLERANCE = 1e-5  # of the largest absolute reference output, where that gives more than TOLERANCE
NETWORK_REFERENCE = "tf-dense on cpu"
FC1_REFERENCE = "relu(x @ w + b) in float64"
# Reference outputs kept: FC1 on the whole test set is 82 MB per kernel (float64), and the items run kernel by
# kernel.
MAX_REFERENCE_BYTES = 256 * 2**20


class ReferenceOutputs:
    """Reference outputs by key (model, inputs), the most recently used up to ``max_bytes``."""

    def __init__(self, max_bytes: int = MAX_REFERENCE_BYTES):
        self.max_bytes = max_bytes
        self._outputs: OrderedDict[Hashable, np.ndarray] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The outputs under ``key``, computed now on first use."""
        if key not in self._outputs:
            self._outputs[key] = np.asarray(compute())
            ran_outside_timing("reference")  # its threads may still spin: the next engine timed settles first
            while len(self._outputs) > 1 and sum(value.nbytes for value in self._outputs.values()) > self.max_bytes:
                self._outputs.popitem(last=False)
        self._outputs.move_to_end(key)
        return self._outputs[key]


def network_reference(weights: Mapping[str, np.ndarray], inputs: np.ndarray,
                      layers: tuple[Layer, ...] = PAPER_CNN.layers) -> np.ndarray:
    """Logits of tf-dense on the CPU: ``weights`` as an engine runs them (``inference_weights``), of the
    workload's ``layers``."""
    from prunebench.model.engines import ENGINES

    return ENGINES["tf-dense"].network(weights, (), "cpu", layers)(inputs)


def fc1_reference(kernel: np.ndarray, bias: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """FC1 computed independently of every engine, in float64."""
    return np.maximum(inputs.astype(np.float64) @ kernel.astype(np.float64) + bias, 0.0)


def check_outputs(actual, expected: np.ndarray, subject: str, reference: str) -> None:
    """Fail with one line naming ``subject`` (engine, device, model, batch), the largest absolute difference
    from the reference and the tolerance; NaN counts as a difference."""
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, (f"{subject}: outputs of shape {actual.shape}, the reference "
                                            f"({reference}) has {expected.shape}")
    tolerance = max(TOLERANCE, RELATIVE_TOLERANCE * float(np.max(np.abs(expected), initial=0.0)))
    difference = float(np.max(np.abs(actual.astype(np.float64) - expected), initial=0.0))
    assert difference <= tolerance, (f"{subject}: outputs differ from the reference ({reference}) by up to "
                                     f"{difference:.3g} (max abs difference), more than the tolerance {tolerance:.3g}")
