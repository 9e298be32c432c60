"""``scipy-csr``: fc kernels as ``scipy.sparse.csr_matrix`` of the transposed kernel (single-threaded).

``(W^T_csr @ x^T)^T`` was chosen over ``x @ W_csr`` after measuring both (see the engines report).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from model.engines.host import HostSparseEngine, MatMul


class ScipyCsrEngine(HostSparseEngine):
    name = "scipy-csr"

    def sparse_times(self, kernel: np.ndarray) -> MatMul:
        transposed = scipy.sparse.csr_matrix(kernel.T)
        return lambda x: (transposed @ x.T).T
