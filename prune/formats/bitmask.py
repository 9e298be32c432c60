"""``bitmask``: one bit per element (``np.packbits``, row-major) then the nonzero values in that order.

Costs rows*cols/8 bytes for positions whatever the pruning ratio, so it wins at moderate sparsity and
gives a general-purpose compressor an easy target (a 90%-zero bit stream) at high sparsity.
"""

from __future__ import annotations

import numpy as np

from prunebench.prune.formats.blob import BlobReader, check_weights, entries, header_size, pack
from prunebench.prune.formats.values import ValueCodedFormat


class Bitmask(ValueCodedFormat):
    layout = "bitmask"

    def encode(self, weights: np.ndarray) -> bytes:
        mask, values = entries(check_weights(weights))
        bits = np.packbits(mask.reshape(-1))
        return pack(self.name, self._values.dtype, weights.shape, values.size, bits, self._values.encode(values))

    def decode(self, blob: bytes) -> np.ndarray:
        reader = BlobReader(blob, self.name)
        size = reader.shape[0] * reader.shape[1]
        mask = np.unpackbits(reader.take(np.uint8, -(-size // 8)), count=size).astype(bool)
        values = self._values.decode(reader, reader.count)
        reader.finish()
        if int(mask.sum()) != reader.count:
            raise reader.fail(f"mask has {int(mask.sum())} set bits but the header says {reader.count} values")
        out = np.zeros(size, dtype=np.float32)
        out[mask] = values
        return out.reshape(reader.shape)

    def nbytes(self, weights: np.ndarray) -> int:
        nnz = int(np.count_nonzero(check_weights(weights)))
        return header_size(self.name) + -(-weights.size // 8) + self._values.nbytes(nnz)
