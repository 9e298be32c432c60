"""Compressed sparse rows: int32 indptr [rows+1], one column index and one float32 value per stored entry.

* ``csr-int32``: absolute int32 column indices, the layout sparse matmul kernels read; 8 B per nonzero.
* ``csr-rel-uint8``: uint8 skips from the previous entry of the row, the Deep Compression layout
  (Han et al., 2015) without its quantisation; 5 B per stored entry, where gaps wider than 255 zeros
  add zero-valued filler entries (:mod:`prune.formats.skipcode`) that :meth:`Csr.fillers` counts.
"""

from __future__ import annotations

import numpy as np

from prunebench.prune.formats.blob import BlobReader, check_weights, entries, header_size, pack
from prunebench.prune.formats.skipcode import (
    filler_count,
    row_of_entries,
    row_pointers,
    skip_decode,
    skip_encode,
    valid_indptr,
)


class Csr:
    lossless = True
    stores_values_raw = True

    def __init__(self, name: str, relative: bool):
        self.name = name
        self._relative = relative
        self._column_dtype = np.dtype(np.uint8 if relative else "<i4")

    def encode(self, weights: np.ndarray) -> bytes:
        mask, values = entries(check_weights(weights))
        rows, cols = np.nonzero(mask)
        if self._relative:
            indptr, cols, positions = skip_encode(rows, cols, weights.shape[0])
            values, nonzero_values = np.zeros(cols.size, dtype=np.float32), values
            values[positions] = nonzero_values
        else:
            indptr = row_pointers(rows, weights.shape[0])
        sections = indptr.astype("<i4"), cols.astype(self._column_dtype), values
        return pack(self.name, np.float32, weights.shape, values.size, *sections)

    def decode(self, blob: bytes) -> np.ndarray:
        reader = BlobReader(blob, self.name)
        n_rows, n_cols = reader.shape
        indptr = reader.take("<i4", n_rows + 1).astype(np.int64)
        cols = reader.take(self._column_dtype, reader.count).astype(np.int64)
        values = reader.take("<f4", reader.count)
        reader.finish()
        if not valid_indptr(indptr, reader.count):
            raise reader.fail("indptr is not a non-decreasing sequence from 0 to the entry count")
        if self._relative:
            cols = skip_decode(indptr, cols)
        if cols.size and (cols.min() < 0 or cols.max() >= n_cols):
            raise reader.fail(f"column index out of range for {n_cols} columns")
        out = np.zeros(reader.shape, dtype=np.float32)
        out[row_of_entries(indptr), cols] = values
        return out

    def fillers(self, weights: np.ndarray) -> int:
        """Zero-valued entries stored only because a gap exceeds what a column index can express."""
        return filler_count(*np.nonzero(check_weights(weights))) if self._relative else 0

    def nbytes(self, weights: np.ndarray) -> int:
        stored = int(np.count_nonzero(check_weights(weights))) + self.fillers(weights)
        return header_size(self.name) + 4 * (weights.shape[0] + 1) + (self._column_dtype.itemsize + 4) * stored


CSR_INT32 = Csr("csr-int32", relative=False)
CSR_REL_UINT8 = Csr("csr-rel-uint8", relative=True)
