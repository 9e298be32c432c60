"""Coordinate lists: one (row, col) index pair plus one value per nonzero.

Two real layouts differ only in index width and how often they are written:

* ``paper-tf1``: what the paper's TF1 code saved: int32 (row, col) + float32 value per nonzero, and the
  same indices and values a second time, because the TF1 saver's meta graph embeds the variables'
  initial values. 24 bytes per nonzero, hence its break-even at about 50% pruning. Decode reads one copy.
* ``coo-int64``: what a ``tf.SparseTensor`` holds: int64 [nnz, 2] indices, float32 values and an int64
  dense_shape. 20 bytes per nonzero.
"""

from __future__ import annotations

import numpy as np

from prunebench.prune.formats.blob import BlobReader, check_weights, entries, header_size, pack


class CoordinateList:
    """Indices [nnz, 2] of ``index_dtype`` then values, repeated ``copies`` times, plus an optional dense_shape."""

    lossless = True
    stores_values_raw = True

    def __init__(self, name: str, index_dtype: str, copies: int, dense_shape: bool):
        self.name = name
        self._index_dtype = np.dtype(index_dtype)
        self._copies = copies
        self._dense_shape = dense_shape

    def encode(self, weights: np.ndarray) -> bytes:
        mask, values = entries(check_weights(weights))
        indices = np.argwhere(mask).astype(self._index_dtype)
        one_copy = [indices, values.astype("<f4", copy=False)]
        shape = [np.array(weights.shape, dtype="<i8")] if self._dense_shape else []
        return pack(self.name, np.float32, weights.shape, values.size, *(one_copy * self._copies), *shape)

    def decode(self, blob: bytes) -> np.ndarray:
        reader = BlobReader(blob, self.name)
        nnz = reader.count
        indices = reader.take(self._index_dtype, 2 * nnz).reshape(nnz, 2).astype(np.int64)
        values = reader.take("<f4", nnz)
        for _ in range(self._copies - 1):
            reader.take(self._index_dtype, 2 * nnz)
            reader.take("<f4", nnz)
        if self._dense_shape and tuple(reader.take("<i8", 2)) != reader.shape:
            raise reader.fail("dense_shape disagrees with the header")
        reader.finish()
        rows, cols = reader.shape
        if nnz and (indices.min() < 0 or indices[:, 0].max() >= rows or indices[:, 1].max() >= cols):
            raise reader.fail(f"index out of range for shape {reader.shape}")
        out = np.zeros(reader.shape, dtype=np.float32)
        out[indices[:, 0], indices[:, 1]] = values
        return out

    def nbytes(self, weights: np.ndarray) -> int:
        nnz = int(np.count_nonzero(check_weights(weights)))
        per_copy = nnz * (2 * self._index_dtype.itemsize + 4)
        return header_size(self.name) + self._copies * per_copy + (16 if self._dense_shape else 0)


PAPER_TF1 = CoordinateList("paper-tf1", "<i4", copies=2, dense_shape=False)
COO_INT64 = CoordinateList("coo-int64", "<i8", copies=1, dense_shape=True)
