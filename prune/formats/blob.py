"""The self-describing blob layout shared by every format: a small header, then fixed-size sections.

Header: magic ``PBW1``, the format's tag (length-prefixed ASCII), the value dtype code (``f`` float32,
``e`` float16), rows and cols (uint32) and the number of stored entries (uint64). Everything is
little-endian, so a blob decodes the same on any machine. The reader checks every length, so a
truncated or foreign blob raises a one-line ``DataError`` instead of a NumPy traceback.
"""

from __future__ import annotations

import struct

import numpy as np

from prunebench.errors import DataError, UsageError

MAGIC = b"PBW1"
_DIMS = struct.Struct("<cIIQ")
MAX_DIM = 2**32 - 1


def check_weights(weights: object) -> np.ndarray:
    """Accept only what every format is defined on: a 2-D float32 matrix with dimensions that fit uint32."""
    if not isinstance(weights, np.ndarray) or weights.ndim != 2 or weights.dtype != np.float32:
        desc = f"{type(weights).__name__} {getattr(weights, 'dtype', '')} {getattr(weights, 'shape', '')}"
        raise UsageError(f"weights: expected a 2-D float32 array, got {desc.strip()}")
    if max(weights.shape) > MAX_DIM:
        raise UsageError(f"weights: shape {weights.shape} does not fit in uint32 dimensions")
    return weights


def entries(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask and row-major values of the entries a sparse format stores.

    An entry is an element that compares unequal to zero (as TF's ``tf.where(w != 0)`` sparsification
    does), so -0.0 counts as a zero and decodes as +0.0; NaN and inf are entries and round-trip exactly.
    """
    mask = weights != 0
    return mask, weights[mask]


def header_size(tag: str) -> int:
    return len(MAGIC) + 1 + len(tag) + _DIMS.size


def pack(tag: str, value_dtype: np.dtype, shape: tuple[int, int], count: int, *sections: np.ndarray) -> bytes:
    """Header followed by the raw little-endian bytes of each section, in order."""
    name = tag.encode("ascii")
    dims = _DIMS.pack(np.dtype(value_dtype).char.encode("ascii"), shape[0], shape[1], count)
    return b"".join([MAGIC, bytes([len(name)]), name, dims, *(np.ascontiguousarray(s).tobytes() for s in sections)])


class BlobReader:
    """Parse a header written by :func:`pack` for format ``tag`` and hand out its sections one by one."""

    def __init__(self, blob: bytes, tag: str):
        self._blob = memoryview(blob)
        self._tag = tag
        name = tag.encode("ascii")
        start = len(MAGIC) + 1 + len(name)
        if bytes(self._blob[: start]) != MAGIC + bytes([len(name)]) + name:
            raise DataError(f"{tag} blob: not a {tag} blob (bad magic or format tag)")
        self._offset = start + _DIMS.size
        if len(self._blob) < self._offset:
            raise DataError(f"{tag} blob: truncated header ({len(self._blob)} bytes)")
        code, rows, cols, count = _DIMS.unpack_from(self._blob, start)
        if code not in (b"f", b"e"):
            raise DataError(f"{tag} blob: unknown value dtype code {code!r}")
        self.value_dtype = np.dtype("<f4" if code == b"f" else "<f2")
        self.shape = (rows, cols)
        self.count = count

    def take(self, dtype: str | np.dtype, count: int) -> np.ndarray:
        """The next ``count`` items of ``dtype``; DataError if the blob ends first."""
        dtype = np.dtype(dtype)
        end = self._offset + dtype.itemsize * count
        if count < 0 or end > len(self._blob):
            raise DataError(f"{self._tag} blob: truncated (needs {end} bytes, has {len(self._blob)})")
        section = np.frombuffer(self._blob[self._offset : end], dtype=dtype)
        self._offset = end
        return section

    def finish(self) -> None:
        """Reject trailing bytes: a blob of the right format but wrong length is corrupt."""
        if self._offset != len(self._blob):
            raise DataError(f"{self._tag} blob: {len(self._blob) - self._offset} unexpected trailing bytes")

    def fail(self, what: str) -> DataError:
        return DataError(f"{self._tag} blob: {what}")
