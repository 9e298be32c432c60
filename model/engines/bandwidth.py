"""Memory-bandwidth lower bound for FC1: bytes one call must read, and how fast this machine reads memory.

At high sparsity FC1 does little arithmetic, so its time is bounded below by (bytes read) / (read
bandwidth); the suite divides ``fc1_bytes_read`` by ``measure_read_bandwidth`` to show how close each
engine gets to that bound.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from prunebench.errors import UsageError

FLOAT = INT32 = 4
INT64 = 8
UINT16 = 2
MIN_ARRAY_BYTES = 256 * 2**20


def last_level_cache_bytes() -> int:
    """Largest CPU cache Linux reports (0 if it reports none)."""
    sizes = [0]
    for size_file in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = size_file.read_text().strip()
        units = {"K": 2**10, "M": 2**20, "G": 2**30}
        sizes.append(int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text))
    return max(sizes)


def measure_read_bandwidth(repeats: int = 7) -> float:
    """Bytes/s: median of ``repeats`` timed ``np.add.reduce`` passes over an array 8x the last-level cache.

    One thread reads, as in the single-threaded engines; the multi-threaded ones may exceed it a little.
    """
    if repeats < 1:
        raise UsageError(f"repeats: {repeats} must be at least 1")
    nbytes = max(MIN_ARRAY_BYTES, 8 * last_level_cache_bytes())
    array = np.ones(nbytes // FLOAT, dtype=np.float32)
    np.add.reduce(array)  # fault the pages in before timing
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.add.reduce(array)
        seconds.append(time.perf_counter() - start)
    return array.nbytes / float(np.median(seconds))


def fc1_bytes_read(engine_name: str, w_fc1: np.ndarray, batch: int) -> int:
    """Bytes one FC1 call reads: the kernel in the engine's storage format (``fc1_kernel_bytes_read``) plus
    bias, input and output activations (``fc1_activation_bytes_read``)."""
    return fc1_kernel_bytes_read(engine_name, w_fc1) + fc1_activation_bytes_read(w_fc1, batch)


def fc1_activation_bytes_read(w_fc1: np.ndarray, batch: int) -> int:
    """Bytes of bias, input and output activations one FC1 call of ``batch`` rows reads, in float32."""
    if batch < 1:
        raise UsageError(f"batch: {batch} must be at least 1")
    inputs, outputs = _kernel_shape(w_fc1)
    return FLOAT * (outputs + batch * (inputs + outputs))


def fc1_kernel_bytes_read(engine_name: str, w_fc1: np.ndarray) -> int:
    """Bytes of the kernel one FC1 call reads in the engine's storage format, whatever the batch.

    dense: 4 per weight; CSR (int32 indices): 4*nnz values + 4*nnz column indices + 4*(rows+1) row
    pointers, rows = output units (the kernel is stored transposed); COO (int64): 16*nnz indices + 4*nnz;
    block CSR in 1x4 blocks: 16 value bytes and a 2-byte index per stored block, plus int32 row pointers;
    tflite-sparse: see ``litert.fc1_weight_bytes_read`` (it converts the kernel, so it is not free).
    """
    from prunebench.model.engines import ENGINES

    if engine_name not in ENGINES:
        raise UsageError(f"engine: {engine_name!r} is not one of {', '.join(ENGINES)}")
    _, outputs = _kernel_shape(w_fc1)
    nnz = int(np.count_nonzero(w_fc1))
    storage = ENGINES[engine_name].fc1_storage
    if storage == "tflite-sparse":
        from prunebench.model.engines.litert import fc1_weight_bytes_read

        return fc1_weight_bytes_read(w_fc1)
    if storage == "bcsr-1x4":
        from prunebench.model.engines.numba_bcsr import BLOCK_INPUTS, stored_blocks

        return (BLOCK_INPUTS * FLOAT + UINT16) * stored_blocks(w_fc1) + INT32 * (outputs + 1)
    return {
        "dense": FLOAT * w_fc1.size,
        "csr-int32": (FLOAT + INT32) * nnz + INT32 * (outputs + 1),
        "coo-int64": (FLOAT + 2 * INT64) * nnz,
    }[storage]


def _kernel_shape(w_fc1: np.ndarray) -> tuple[int, int]:
    if w_fc1.ndim != 2:
        raise UsageError(f"w_fc1: expected a 2-D kernel, got shape {w_fc1.shape}")
    return w_fc1.shape
