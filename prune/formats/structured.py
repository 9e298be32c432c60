"""Formats whose positions are coded by structure, not per element: what block and neuron pruning buy in bytes.

``bitmask-1x4``: one bit per block of four consecutive rows of one column of the Keras kernel [inputs,
outputs] (one output by four inputs, the blocks of prune/methods/blocks.py and LiteRT's 1x4), then the
four values of every block with a nonzero, zeros inside it included. A kernel pruned in such blocks pays
a quarter of ``bitmask``'s position bits; an unstructured one pays for the zeros its blocks carry.

``dense-trimmed``: one bit per row and per column saying whether it holds a nonzero, then the dense
submatrix of those rows and columns. A neuron-pruned kernel (whole ``w_fc1`` columns, ``w_fc2`` rows) is
stored as the narrower dense matrix it is; an unstructured one costs its dense size plus the two bitmaps.

Both store raw float32 values, but their positions follow the pruning's structure, so the entropy bound
of a random mask (bounds.py) is no floor for them: ``stores_values_raw`` is False.
"""

from __future__ import annotations

import numpy as np

from prunebench.prune.formats.blob import BlobReader, check_weights, header_size, pack
from prunebench.prune.formats.values import ValueCodedFormat
from prunebench.prune.methods.blocks import LITERT_BLOCK_INPUTS, input_blocks


class BlockBitmask(ValueCodedFormat):
    layout = "bitmask-1x4"

    def __init__(self, values):
        super().__init__(values)
        self.stores_values_raw = False  # positions by block: see the module docstring

    def encode(self, weights: np.ndarray) -> bytes:
        blocks = input_blocks(check_weights(weights), LITERT_BLOCK_INPUTS)
        kept = (blocks != 0).any(axis=2)
        values = blocks[kept].reshape(-1)
        return pack(self.name, self._values.dtype, weights.shape, values.size, np.packbits(kept.reshape(-1)),
                    self._values.encode(values))

    def decode(self, blob: bytes) -> np.ndarray:
        reader = BlobReader(blob, self.name)
        rows, columns = reader.shape
        grid = (columns, -(-rows // LITERT_BLOCK_INPUTS))  # [outputs, input blocks], as input_blocks lays them out
        kept = np.unpackbits(reader.take(np.uint8, -(-grid[0] * grid[1] // 8)), count=grid[0] * grid[1])
        kept = kept.astype(bool).reshape(grid)
        values = self._values.decode(reader, reader.count)
        reader.finish()
        if LITERT_BLOCK_INPUTS * int(kept.sum()) != reader.count:
            raise reader.fail(f"{int(kept.sum())} blocks marked but the header says {reader.count} values")
        blocks = np.zeros((*grid, LITERT_BLOCK_INPUTS), np.float32)
        blocks[kept] = values.reshape(-1, LITERT_BLOCK_INPUTS)
        return np.ascontiguousarray(blocks.reshape(columns, grid[1] * LITERT_BLOCK_INPUTS)[:, :rows].T)

    def nbytes(self, weights: np.ndarray) -> int:
        blocks = input_blocks(check_weights(weights), LITERT_BLOCK_INPUTS)
        kept = int((blocks != 0).any(axis=2).sum())
        return (header_size(self.name) + -(-blocks.shape[0] * blocks.shape[1] // 8)
                + self._values.nbytes(LITERT_BLOCK_INPUTS * kept))


class DenseTrimmed(ValueCodedFormat):
    layout = "dense-trimmed"

    def __init__(self, values):
        super().__init__(values)
        self.stores_values_raw = False  # positions by row and column: see the module docstring

    @staticmethod
    def _lines(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nonzero = weights != 0
        return nonzero.any(axis=1), nonzero.any(axis=0)

    def encode(self, weights: np.ndarray) -> bytes:
        rows, columns = self._lines(check_weights(weights))
        values = weights[np.ix_(rows, columns)].reshape(-1)
        return pack(self.name, self._values.dtype, weights.shape, values.size, np.packbits(rows),
                    np.packbits(columns), self._values.encode(values))

    def decode(self, blob: bytes) -> np.ndarray:
        reader = BlobReader(blob, self.name)
        height, width = reader.shape
        rows = np.unpackbits(reader.take(np.uint8, -(-height // 8)), count=height).astype(bool)
        columns = np.unpackbits(reader.take(np.uint8, -(-width // 8)), count=width).astype(bool)
        values = self._values.decode(reader, reader.count)
        reader.finish()
        if int(rows.sum()) * int(columns.sum()) != reader.count:
            raise reader.fail(f"{int(rows.sum())} x {int(columns.sum())} rows and columns marked but the header "
                              f"says {reader.count} values")
        out = np.zeros((height, width), np.float32)
        out[np.ix_(rows, columns)] = values.reshape(int(rows.sum()), int(columns.sum()))
        return out

    def nbytes(self, weights: np.ndarray) -> int:
        rows, columns = self._lines(check_weights(weights))
        return (header_size(self.name) + -(-rows.size // 8) + -(-columns.size // 8)
                + self._values.nbytes(int(rows.sum()) * int(columns.sum())))
