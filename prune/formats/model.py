"""Whole-model sizes: the pruned variables in a format, every other variable dense float32.

Other variables (conv kernels, biases) go through the same compressor as the format, so ``+zstd``
rows compare whole compressed models. Each variable is encoded once per format and sizes are summed
over separately encoded variables (one blob per variable, as a checkpoint stores them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from prunebench.errors import UsageError
from prunebench.prune.formats.blob import check_weights
from prunebench.prune.formats.bounds import entropy_bound_bytes
from prunebench.prune.formats.compressed import Compressed
from prunebench.prune.formats.dense import DenseFloat32
from prunebench.prune.formats.registry import FORMATS, SIZE_TABLE_FORMATS


def as_matrix(name: str, weights: np.ndarray) -> np.ndarray:
    """A variable as the 2-D float32 matrix formats take: conv kernels [h, w, in, out] -> [h*w*in, out]."""
    if not isinstance(weights, np.ndarray) or weights.dtype != np.float32:
        raise UsageError(f"variable {name}: expected a float32 array, got {type(weights).__name__}")
    matrix = weights.reshape(-1, weights.shape[-1]) if weights.ndim != 1 else weights.reshape(1, -1)
    return check_weights(matrix)


def companion_format(fmt):
    """How a format stores the variables that are not pruned: dense float32 through the same codec."""
    return Compressed(DenseFloat32(), fmt.codec) if isinstance(fmt, Compressed) else DenseFloat32()


def _split(weights: dict[str, np.ndarray], pruned: Iterable[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    pruned = set(pruned)
    unknown = pruned - weights.keys()
    if unknown:
        raise UsageError(f"pruned variables {sorted(unknown)}: not in the model (has {sorted(weights)})")
    matrices = {name: as_matrix(name, value) for name, value in weights.items()}
    return [m for n, m in matrices.items() if n in pruned], [m for n, m in matrices.items() if n not in pruned]


def _total(fmt, matrices: list[np.ndarray]) -> int:
    return sum(fmt.nbytes(m) for m in matrices)


def model_nbytes(fmt, weights: dict[str, np.ndarray], pruned: list[str]) -> int:
    """Bytes of the whole model with the ``pruned`` variables in ``fmt`` and the rest dense."""
    pruned_matrices, rest = _split(weights, pruned)
    return _total(fmt, pruned_matrices) + _total(companion_format(fmt), rest)


def size_table(weights: dict[str, np.ndarray], pruned: list[str], formats: Iterable[str] | None = None) -> dict:
    """``formats`` and ``entropy_bound`` fields of one model's results entry (docs/CONTRACTS.md).

    ``formats`` (names) defaults to :data:`SIZE_TABLE_FORMATS`. The dense rest of the model is encoded
    once per codec, not once per format, and the encodings run side by side on the machine's cores.
    """
    names = list(SIZE_TABLE_FORMATS if formats is None else formats)
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise UsageError(f"formats {unknown}: unknown (known: {', '.join(FORMATS)})")
    pruned_matrices, rest = _split(weights, pruned)
    formats = [FORMATS[name] for name in names]
    companions = {companion.name: companion for companion in map(companion_format, formats)}
    # Every (format, variable) is encoded on its own thread: zstd and zlib release the GIL, and at level 19
    # compressing is most of a model's measuring time; the sizes do not depend on the order.
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        pruned_bytes = {fmt.name: [pool.submit(fmt.nbytes, m) for m in pruned_matrices] for fmt in formats}
        rest_bytes = {name: [pool.submit(c.nbytes, m) for m in rest] for name, c in companions.items()}
        pruned_bytes = {name: sum(job.result() for job in jobs) for name, jobs in pruned_bytes.items()}
        rest_bytes = {name: sum(job.result() for job in jobs) for name, jobs in rest_bytes.items()}
    table = {fmt.name: {"pruned_bytes": pruned_bytes[fmt.name],
                        "model_bytes": pruned_bytes[fmt.name] + rest_bytes[companion_format(fmt).name]}
             for fmt in formats}
    bound = sum(entropy_bound_bytes(m.size, int(np.count_nonzero(m))) for m in pruned_matrices)
    rest_raw = sum(4 * m.size for m in rest)
    return {"formats": table, "entropy_bound": {"pruned_bytes": bound, "model_bytes": bound + rest_raw}}
