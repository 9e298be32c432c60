"""The engines' protocol and the registry ``ENGINES`` the benchmarks iterate over (``prunebench.model.engines``
loads this module on first use of either).

Importing this never fails for a missing optional package or GPU: such an engine stays registered and
says why in ``unavailable_reason``. The package has set the thread-spin limits already (see ``hygiene``).
"""

from __future__ import annotations

from prunebench.model.tf_import import import_tensorflow

import_tensorflow()  # the first import of TensorFlow, here, without its C++ start-up log on stderr

from collections.abc import Callable, Mapping, Sequence  # noqa: E402
from typing import Protocol  # noqa: E402

import numpy as np  # noqa: E402

from prunebench.model.engines.litert import LiteRtEngine, tflite_model_bytes  # noqa: E402, F401  (the package exports it)
from prunebench.model.engines.mkl_csr import MklCsrEngine  # noqa: E402
from prunebench.model.engines.numba_bcsr import NumbaBcsrEngine  # noqa: E402
from prunebench.model.engines.numba_csr import NumbaCsrEngine  # noqa: E402
from prunebench.model.engines.scipy_csr import ScipyCsrEngine  # noqa: E402
from prunebench.model.engines.spec import DEFAULT_PRUNED, PAPER_LAYERS  # noqa: E402
from prunebench.model.engines.tf_graph import TfEngine  # noqa: E402
from prunebench.model.workloads.layers import Layer  # noqa: E402


class InferenceEngine(Protocol):
    name: str  # stable id in benchmark ids and the results JSON
    sparse: bool
    # how w_fc1 is held during a call: "dense", "csr-int32", "coo-int64", "bcsr-1x4", "tflite-sparse" (bandwidth.py)
    fc1_storage: str
    devices: tuple[str, ...]  # where it can run at all (model.constants.DEVICES); a visible GPU is checked at run time
    work: str  # what a call's work depends on: model.constants.WORK_DENSE, WORK_NONZEROS or WORK_CONVERTER
    # which layer kinds run sparse where pruned: () none, ("Dense",) Dense kernels (conv kernels stay dense),
    # ("converter",) whichever kernels LiteRT's converter keeps sparse
    sparse_kinds: tuple[str, ...]

    def unavailable_reason(self, device: str) -> str | None: ...

    def network(self, weights: Mapping[str, np.ndarray], pruned: Sequence[str] = DEFAULT_PRUNED,
                device: str = "cpu", layers: Sequence[Layer] = PAPER_LAYERS) -> Callable[[np.ndarray], np.ndarray]:
        """Predict with any workload's layer stack (model/workloads/layers.py), the paper's CNN by default."""
        ...

    def fc1(self, w_fc1: np.ndarray, b_fc1: np.ndarray, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]: ...


ENGINES: dict[str, InferenceEngine] = {
    engine.name: engine
    for engine in (
        TfEngine("tf-dense", sparse=False),
        TfEngine("tf-sparse", sparse=True),
        LiteRtEngine("tflite-dense", sparse=False),
        LiteRtEngine("tflite-sparse", sparse=True),
        ScipyCsrEngine(),
        MklCsrEngine(),
        NumbaCsrEngine(),
        NumbaBcsrEngine(),
    )
}
