"""``numba-bcsr``: fc kernels as block CSR of the transposed kernel in 1x4 blocks (one output unit by four
consecutive inputs, TFLite's float block shape: prune/methods/blocks.py), multiplied by numba-compiled loops.

A block stores its four values contiguously and one uint16 block-column index (the fc kernels have at most
3136 / 4 input blocks; a last partial block is padded with zeros), so a call reads 4.5 bytes per stored
value instead of CSR's 8, and each index load serves four multiply-adds on consecutive inputs. Any kernel
can be stored so: a block with at least one nonzero is kept whole, zeros included. Block-pruned kernels
(``blocks-1x4``, ``blocks-4x4``) store no zeros; unstructured ones store about 4x(1 - (1 - density)^4) /
density values per nonzero, so the engine is slow on them, and is timed on them like every engine. Threads
follow numba-csr's rule (numba_csr.py) on the stored values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from prunebench.errors import DataError
from prunebench.model.engines.host import MatMul
from prunebench.model.engines.numba_csr import ZERO, NumbaCsrEngine, compiled_layer, numba, prange
from prunebench.model.engines.spec import checked_fc1, require_available
from prunebench.prune.methods.blocks import LITERT_BLOCK_INPUTS, input_blocks

BLOCK_INPUTS = LITERT_BLOCK_INPUTS  # a stored block: one output unit by this many consecutive inputs


def blocks_dot(indptr, block_columns, values, x, bias, relu, out):
    """out[r] = (relu of) bias[r] + sum over row r's blocks k of values[k] . x[4 block_columns[k] : +4]."""
    for r in prange(out.size):
        a0 = a1 = a2 = a3 = ZERO
        for k in range(indptr[r], indptr[r + 1]):
            j = np.int64(block_columns[k]) * 4
            a0 += values[k, 0] * x[j]
            a1 += values[k, 1] * x[j + 1]
            a2 += values[k, 2] * x[j + 2]
            a3 += values[k, 3] * x[j + 3]
        total = (a0 + a1) + (a2 + a3) + bias[r]
        out[r] = max(total, ZERO) if relu else total


def blocks_batch(indptr, block_columns, values, xt, bias, relu, yt):
    """yt[r, :] = (relu of) bias[r] + sum over row r's blocks k of values[k] . xt[4 block_columns[k] : +4, :]."""
    batch = xt.shape[1]
    for r in prange(yt.shape[0]):
        for b in range(batch):
            yt[r, b] = bias[r]
        for k in range(indptr[r], indptr[r + 1]):
            j = np.int64(block_columns[k]) * 4
            v0, v1, v2, v3 = values[k, 0], values[k, 1], values[k, 2], values[k, 3]
            for b in range(batch):
                yt[r, b] += (v0 * xt[j, b] + v1 * xt[j + 1, b]) + (v2 * xt[j + 2, b] + v3 * xt[j + 3, b])
        if relu:
            for b in range(batch):
                yt[r, b] = max(yt[r, b], ZERO)


@functools.cache
def kernels():
    """The two kernels, compiled once per process at the first build (not ``cache=True``: see numba_csr)."""
    jit = numba.njit(parallel=True, fastmath=False, cache=False)
    return jit(blocks_dot), jit(blocks_batch)


def padded_inputs(inputs: int) -> int:
    """Inputs rounded up to whole blocks: a last partial block is padded with zero weights (and zero inputs)."""
    return -(-inputs // BLOCK_INPUTS) * BLOCK_INPUTS


def to_blocks(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block CSR of ``kernel.T`` [outputs, inputs] in 1 x ``BLOCK_INPUTS`` blocks: (row pointers int32,
    block columns uint16, values float32 [blocks, 4]). Blocks of zeros are not stored."""
    if padded_inputs(kernel.shape[0]) // BLOCK_INPUTS > np.iinfo(np.uint16).max + 1:
        raise DataError(f"numba-bcsr: a kernel with {kernel.shape[0]} inputs has more input blocks than a "
                        "uint16 index can name")
    blocks = input_blocks(kernel, BLOCK_INPUTS)
    stored = blocks.any(axis=2)
    indptr = np.zeros(kernel.shape[1] + 1, np.int32)
    np.cumsum(stored.sum(axis=1), out=indptr[1:])
    rows, columns = np.nonzero(stored)  # row-major order: each row's blocks by column
    return indptr, columns.astype(np.uint16), np.ascontiguousarray(blocks[rows, columns])


def stored_blocks(kernel: np.ndarray) -> int:
    """How many 1 x 4 blocks ``to_blocks`` stores for ``kernel`` (for the bytes a call reads)."""
    return int(input_blocks(kernel, BLOCK_INPUTS).any(axis=2).sum())


def bcsr_layer(kernel: np.ndarray, bias: np.ndarray | None, relu: bool) -> Callable[[np.ndarray], np.ndarray]:
    """x [B, inputs] -> (relu of) x @ kernel + bias as float32 [B, outputs], compiled and warmed up here."""
    structure = to_blocks(kernel)
    return compiled_layer(kernels(), structure, kernel.shape, bias, relu, structure[2].size,
                          padding=padded_inputs(kernel.shape[0]) - kernel.shape[0])


class NumbaBcsrEngine(NumbaCsrEngine):
    name = "numba-bcsr"
    fc1_storage = "bcsr-1x4"

    def sparse_times(self, kernel: np.ndarray) -> MatMul:
        return bcsr_layer(kernel, None, relu=False)

    def fc1(self, w_fc1: np.ndarray, b_fc1: np.ndarray, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        """Bias and relu fused into the kernel, as numba-csr's."""
        require_available(self, device)
        return bcsr_layer(*checked_fc1(w_fc1, b_fc1), relu=True)
