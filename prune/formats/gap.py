"""``gap-uint8``: nonzeros in flat row-major order, each as a uint8 skip from the previous one, then values.

The CSR-free variant of :mod:`prune.formats.csr_rel`: the matrix is one long row, so there is no
indptr, and at high pruning ratios one byte per nonzero beats the bitmask's one bit per element.
Filler entries (value 0) bridge runs of more than 255 zeros.
"""

from __future__ import annotations

import numpy as np

from prunebench.prune.formats.blob import BlobReader, check_weights, entries, header_size, pack
from prunebench.prune.formats.skipcode import filler_count, skip_decode, skip_encode
from prunebench.prune.formats.values import ValueCodedFormat


class FlatGap(ValueCodedFormat):
    layout = "gap-uint8"

    def encode(self, weights: np.ndarray) -> bytes:
        mask, values = entries(check_weights(weights))
        flat = np.flatnonzero(mask)
        _, skips, positions = skip_encode(np.zeros_like(flat), flat, 1)
        stored_values = np.zeros(skips.size, dtype=np.float32)
        stored_values[positions] = values
        return pack(self.name, self._values.dtype, weights.shape, skips.size, skips, self._values.encode(stored_values))

    def decode(self, blob: bytes) -> np.ndarray:
        reader = BlobReader(blob, self.name)
        skips = reader.take(np.uint8, reader.count)
        values = self._values.decode(reader, reader.count)
        reader.finish()
        flat = skip_decode(np.array([0, reader.count]), skips)
        size = reader.shape[0] * reader.shape[1]
        if flat.size and flat.max() >= size:
            raise reader.fail(f"position out of range for shape {reader.shape}")
        out = np.zeros(size, dtype=np.float32)
        out[flat] = values
        return out.reshape(reader.shape)

    def nbytes(self, weights: np.ndarray) -> int:
        flat = np.flatnonzero(check_weights(weights))
        stored = flat.size + filler_count(np.zeros_like(flat), flat)
        return header_size(self.name) + stored * (1 + self._values.dtype.itemsize)
