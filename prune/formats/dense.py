"""``dense-float32``: every element as float32, the unpruned baseline a sparse format has to beat."""

from __future__ import annotations

import numpy as np

from prunebench.prune.formats.blob import BlobReader, check_weights, header_size, pack


class DenseFloat32:
    """All rows*cols values; bit-exact including -0.0 and NaN payloads."""

    name = "dense-float32"
    lossless = True
    stores_values_raw = True

    def encode(self, weights: np.ndarray) -> bytes:
        weights = check_weights(weights)
        return pack(self.name, np.float32, weights.shape, weights.size, weights.astype("<f4", copy=False))

    def decode(self, blob: bytes) -> np.ndarray:
        reader = BlobReader(blob, self.name)
        rows, cols = reader.shape
        values = reader.take("<f4", rows * cols)
        reader.finish()
        return values.astype(np.float32).reshape(rows, cols)

    def nbytes(self, weights: np.ndarray) -> int:
        return header_size(self.name) + 4 * check_weights(weights).size
