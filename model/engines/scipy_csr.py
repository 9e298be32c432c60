"""``scipy-csr``: fc kernels as ``scipy.sparse.csr_matrix`` of the transposed kernel (single-threaded).

Neither ``x @ W_csr`` nor ``(W^T_csr @ x^T)^T`` is the faster FC1 at every ratio and batch (docs/engines.md);
the transposed form keeps one CSR layout (a row per output unit) for all host engines, so
``bandwidth.fc1_bytes_read`` counts the same structure for each.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from prunebench.model.engines.host import HostSparseEngine, MatMul


class ScipyCsrEngine(HostSparseEngine):
    name = "scipy-csr"

    def sparse_times(self, kernel: np.ndarray) -> MatMul:
        transposed = scipy.sparse.csr_matrix(kernel.T)
        return lambda x: (transposed @ x.T).T
