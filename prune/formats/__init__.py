"""Storage formats for pruned weight matrices behind one protocol, plus size bounds and whole-model sizes."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from prunebench.prune.formats.bounds import binary_entropy, break_even_ratio, entropy_bound_bits, entropy_bound_bytes
from prunebench.prune.formats.model import model_nbytes, size_table
from prunebench.prune.formats.registry import FORMATS, SIZE_TABLE_FORMATS


class StorageFormat(Protocol):
    """One way to store a 2-D float32 matrix with many exact zeros.

    Lossless formats decode bit-exactly, except that a sparse format stores only elements ``!= 0``, so
    -0.0 comes back as +0.0 (the same value; ``dense-float32`` keeps it). Blobs are self-describing
    and a truncated or foreign blob raises ``DataError``.
    """

    name: str  # stable id used in results JSON and test ids
    lossless: bool
    stores_values_raw: bool  # values written as plain float32: the entropy bound is a floor for it

    def encode(self, weights: np.ndarray) -> bytes: ...

    def decode(self, blob: bytes) -> np.ndarray: ...

    def nbytes(self, weights: np.ndarray) -> int: ...  # == len(encode(weights)), maybe cheaper


__all__ = [
    "FORMATS", "SIZE_TABLE_FORMATS", "StorageFormat", "binary_entropy", "break_even_ratio",
    "entropy_bound_bits", "entropy_bound_bytes", "model_nbytes", "size_table",
]
