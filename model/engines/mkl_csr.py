"""``mkl-csr``: fc kernels as a CSR matrix of the transposed kernel multiplied by Intel MKL's sparse BLAS
(pip ``sparse-dot-mkl``, which needs pip ``mkl``), on all cores.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import scipy.sparse

from prunebench.model.engines.host import HostSparseEngine, MatMul
from prunebench.model.engines.hygiene import cpu_threads


class MklCsrEngine(HostSparseEngine):
    name = "mkl-csr"

    def missing_reason(self) -> str | None:
        if importlib.util.find_spec("sparse_dot_mkl") is None:
            return "package sparse-dot-mkl not installed"
        try:
            import sparse_dot_mkl  # noqa: F401  (loading it finds the MKL library)
        except (ImportError, OSError) as error:
            return f"MKL not loadable: {str(error).splitlines()[0]}"
        return None

    def sparse_times(self, kernel: np.ndarray) -> MatMul:
        import sparse_dot_mkl

        sparse_dot_mkl.mkl_set_num_threads(cpu_threads())
        transposed = scipy.sparse.csr_matrix(kernel.T)
        return lambda x: sparse_dot_mkl.dot_product_mkl(transposed, np.ascontiguousarray(x.T), dense=True).T
