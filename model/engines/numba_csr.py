"""``numba-csr``: fc kernels as CSR of the transposed kernel (a row per output unit, int32 indices, float32
values) multiplied by numba-compiled loops, on all cores for large products and on one core for small ones.

Batch 1: each output row is a dot product over its nonzeros with eight partial sums (summation order differs
from a plain loop by float32 rounding only; ``fastmath`` stays off: with it LLVM emits AVX-512 gathers, which
are slower). Batch > 1: x is transposed once to [inputs, B] so each nonzero does a B-wide contiguous
multiply-add that LLVM vectorizes, four nonzeros per pass over row r of y^T; the result is y^T's F-ordered
transpose view (writing y[:, r] strided is slower). Indices are read as uint32 (same bytes) so indexing needs
no negative-index fix-up, which otherwise keeps LLVM from pipelining the loads.

Threads: waking a second thread costs more than it saves on a small product, and more still when the other
core is busy; numba's OpenMP layer (``hygiene`` puts it first and makes idle threads sleep) wakes its pool
faster than the workqueue layer. So kernels with fewer than ``PARALLEL_MIN_NONZEROS`` nonzeros run on one
thread, larger ones on ``cpu_threads()``. Both kernels compile when the first engine is built, never inside
a timed call. The measurements behind each choice: docs/engines.md.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable

import numpy as np
import scipy.sparse

from prunebench.model.engines.host import HostSparseEngine, MatMul
from prunebench.model.engines.hygiene import cpu_threads
from prunebench.model.engines.spec import checked_fc1, require_available

try:
    import numba
    from numba import prange
except ImportError as error:  # registered anyway; missing_reason says why
    numba, prange, IMPORT_ERROR = None, range, error
else:
    IMPORT_ERROR = None

PARALLEL_MIN_NONZEROS = 128_000  # below, one thread beats two (between the break-evens of batch 1 and 32)
ZERO = np.float32(0)


def rows_dot(indptr, indices, data, x, bias, relu, out):
    """out[r] = (relu of) bias[r] + sum over row r's nonzeros k of data[k] * x[indices[k]]."""
    for r in prange(out.size):
        k, stop = indptr[r], indptr[r + 1]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = ZERO
        while k + 8 <= stop:
            a0 += data[k] * x[indices[k]]
            a1 += data[k + 1] * x[indices[k + 1]]
            a2 += data[k + 2] * x[indices[k + 2]]
            a3 += data[k + 3] * x[indices[k + 3]]
            a4 += data[k + 4] * x[indices[k + 4]]
            a5 += data[k + 5] * x[indices[k + 5]]
            a6 += data[k + 6] * x[indices[k + 6]]
            a7 += data[k + 7] * x[indices[k + 7]]
            k += 8
        while k < stop:
            a0 += data[k] * x[indices[k]]
            k += 1
        total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + bias[r]
        out[r] = max(total, ZERO) if relu else total


def rows_batch(indptr, indices, data, xt, bias, relu, yt):
    """yt[r, :] = (relu of) bias[r] + sum over row r's nonzeros k of data[k] * xt[indices[k], :]."""
    batch = xt.shape[1]
    for r in prange(yt.shape[0]):
        for b in range(batch):
            yt[r, b] = bias[r]
        k, stop = indptr[r], indptr[r + 1]
        while k + 4 <= stop:
            v0, v1, v2, v3 = data[k], data[k + 1], data[k + 2], data[k + 3]
            j0, j1, j2, j3 = indices[k], indices[k + 1], indices[k + 2], indices[k + 3]
            for b in range(batch):
                yt[r, b] += (v0 * xt[j0, b] + v1 * xt[j1, b]) + (v2 * xt[j2, b] + v3 * xt[j3, b])
            k += 4
        while k < stop:
            v0, j0 = data[k], indices[k]
            for b in range(batch):
                yt[r, b] += v0 * xt[j0, b]
            k += 1
        if relu:
            for b in range(batch):
                yt[r, b] = max(yt[r, b], ZERO)


@functools.cache
def kernels():
    """The two kernels, compiled once per process, at the first build.

    Not ``cache=True``: the batch-1 kernel loaded from numba's on-disk cache ran slower than the same kernel
    compiled in the process, in every run. Tried and not faster: the same loops compiled without ``parallel``
    and run on row blocks from a prange over threads; rows padded with zeros to a multiple of 8 so no row
    needs a tail loop (docs/engines.md).
    """
    jit = numba.njit(parallel=True, fastmath=False, cache=False)
    return jit(rows_dot), jit(rows_batch)


def csr_layer(kernel: np.ndarray, bias: np.ndarray | None, relu: bool) -> Callable[[np.ndarray], np.ndarray]:
    """x [B, inputs] -> (relu of) x @ kernel + bias as float32 [B, outputs], compiled and warmed up here."""
    transposed = scipy.sparse.csr_matrix(kernel.T)
    indptr = transposed.indptr.astype(np.int32)
    indices = transposed.indices.astype(np.int32).view(np.uint32)  # int32 storage, read unsigned
    data = transposed.data.astype(np.float32)
    return compiled_layer(kernels(), (indptr, indices, data), kernel.shape, bias, relu, data.size)


def compiled_layer(pair: tuple, structure: tuple, shape: tuple[int, int], bias: np.ndarray | None, relu: bool,
                   stored: int, padding: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a (batch-1, batched) kernel pair over a sparse ``structure`` of a Keras kernel of ``shape``
    [inputs, outputs] with ``stored`` values: x [B, inputs] -> float32 [B, outputs]. ``padding`` zero
    inputs are appended to x for kernels stored in whole blocks. Both paths are compiled and run once here,
    so no timed call includes JIT compilation."""
    inputs, outputs = shape
    bias = np.zeros(outputs, np.float32) if bias is None else np.ascontiguousarray(bias, np.float32)
    dot, batched = pair
    threads = cpu_threads() if stored >= PARALLEL_MIN_NONZEROS else 1

    def layer(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if padding:
            x = np.pad(x, ((0, 0), (0, padding)))
        numba.set_num_threads(threads)  # per calling thread, so set on every call (it is cheap)
        if x.shape[0] == 1:
            y = np.empty((1, outputs), np.float32)
            dot(*structure, np.ascontiguousarray(x[0]), bias, relu, y[0])
            return y
        yt = np.empty((outputs, x.shape[0]), np.float32)
        batched(*structure, np.ascontiguousarray(x.T), bias, relu, yt)
        return yt.T  # F-ordered [B, outputs] view: a C copy would be timed too, and the next layer wants x.T anyway

    for batch in (1, 2):
        layer(np.zeros((batch, inputs), np.float32))
    return layer


class NumbaCsrEngine(HostSparseEngine):
    name = "numba-csr"

    def missing_reason(self) -> str | None:
        if importlib.util.find_spec("numba") is None:
            return "package numba not installed"
        if IMPORT_ERROR is not None:
            return f"numba not loadable: {str(IMPORT_ERROR).splitlines()[0]}"
        return None

    def sparse_times(self, kernel: np.ndarray) -> MatMul:
        return csr_layer(kernel, None, relu=False)

    def fc1(self, w_fc1: np.ndarray, b_fc1: np.ndarray, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        """Bias and relu fused into the kernel (the base class adds them with numpy after the product)."""
        require_available(self, device)
        return csr_layer(*checked_fc1(w_fc1, b_fc1), relu=True)
