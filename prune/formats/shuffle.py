"""The Blosc byte-shuffle filter as two pure functions.

Writing byte 0 of every value, then byte 1, and so on, puts the low-entropy sign/exponent bytes of
float weights next to each other, where a general-purpose compressor finds the repetition that
interleaved bytes hide.
"""

from __future__ import annotations

import numpy as np


def byte_shuffle(values: np.ndarray) -> np.ndarray:
    """uint8 [itemsize * n]: the byte planes of ``values`` one after another."""
    values = np.ascontiguousarray(values)
    return values.view(np.uint8).reshape(values.size, values.itemsize).T.reshape(-1)


def byte_unshuffle(planes: np.ndarray, dtype: str | np.dtype) -> np.ndarray:
    """Inverse of :func:`byte_shuffle` for values of ``dtype``."""
    dtype = np.dtype(dtype)
    planes = np.asarray(planes, dtype=np.uint8)
    return np.ascontiguousarray(planes.reshape(dtype.itemsize, -1).T).view(dtype).reshape(-1)
