"""How a mask-based format writes its nonzero values: float32 or float16, plain or byte-shuffled."""

from __future__ import annotations

import numpy as np

from prunebench.prune.formats.blob import BlobReader
from prunebench.prune.formats.shuffle import byte_shuffle, byte_unshuffle


class ValueCoding:
    """Values as ``dtype`` (``<f4`` lossless, ``<f2`` lossy), optionally split into byte planes."""

    def __init__(self, dtype: str, shuffle: bool):
        self.dtype = np.dtype(dtype)
        self.shuffle = shuffle

    @property
    def lossless(self) -> bool:
        return self.dtype == np.dtype("<f4")

    @property
    def plain_float32(self) -> bool:
        """Values written as unmodified float32, the assumption behind the entropy bound's 32 bits per value."""
        return self.lossless and not self.shuffle

    def format_name(self, layout: str) -> str:
        """``layout`` plus ``-f16`` for float16 values and ``+shuffle`` for byte planes."""
        return layout + ("" if self.lossless else "-f16") + ("+shuffle" if self.shuffle else "")

    def encode(self, values: np.ndarray) -> np.ndarray:
        narrowed = values.astype(self.dtype)
        # a tiny negative value can round to -0.0 in float16: store +0.0, as for every other zero
        narrowed = np.where(narrowed == 0, np.zeros((), self.dtype), narrowed)
        return byte_shuffle(narrowed) if self.shuffle else narrowed

    def decode(self, reader: BlobReader, count: int) -> np.ndarray:
        """Read ``count`` values from ``reader`` and return them as float32."""
        if reader.value_dtype != self.dtype:
            raise reader.fail(f"value dtype {reader.value_dtype} where {self.dtype} was expected")
        if self.shuffle:
            values = byte_unshuffle(reader.take(np.uint8, count * self.dtype.itemsize), self.dtype)
        else:
            values = reader.take(self.dtype, count)
        return values.astype(np.float32)

    def nbytes(self, count: int) -> int:
        return count * self.dtype.itemsize


class ValueCodedFormat:
    """Base for layouts whose values go through a :class:`ValueCoding`; the coding decides name and flags."""

    layout: str

    def __init__(self, values: ValueCoding):
        self._values = values
        self.name = values.format_name(self.layout)
        self.lossless = values.lossless
        self.stores_values_raw = values.plain_float32
