"""Any format's blob run through a general-purpose compressor: ``<inner>+zstd`` or ``<inner>+gzip``.

Written once as a wrapper so every layout gets the same treatment. The compressed frame needs no
extra header: zstd and zlib frames identify themselves and the inner blob carries its own header.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import numpy as np
import zstandard

from prunebench.errors import DataError

ZSTD_LEVEL = 19  # zstd's highest regular level: the best size a stock compressor gives
GZIP_LEVEL = 9


def _decompress_one_frame(codec_name: str, decompressor, data: bytes, error: type[Exception]) -> bytes:
    """Exactly one complete frame: truncation and trailing bytes both mean a corrupt blob."""
    try:
        out = decompressor.decompress(data)
    except error as reason:
        raise DataError(f"{codec_name} frame: cannot decompress ({reason})") from None
    if not decompressor.eof:
        raise DataError(f"{codec_name} frame: truncated")
    if decompressor.unused_data:
        raise DataError(f"{codec_name} frame: {len(decompressor.unused_data)} unexpected trailing bytes")
    return out


class Codec(Protocol):
    name: str

    def compress(self, data: bytes) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


class Zstd:
    """zstandard; the level is part of the name unless it is the default 19."""

    def __init__(self, level: int = ZSTD_LEVEL):
        self.level = level
        self.name = "zstd" if level == ZSTD_LEVEL else f"zstd-{level}"

    def compress(self, data: bytes) -> bytes:
        return zstandard.ZstdCompressor(level=self.level).compress(data)

    def decompress(self, data: bytes) -> bytes:
        return _decompress_one_frame(self.name, zstandard.ZstdDecompressor().decompressobj(), data, zstandard.ZstdError)


class Gzip:
    """DEFLATE in a zlib frame (what gzip stores, minus its 18-byte file header), level 9."""

    name = "gzip"

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, GZIP_LEVEL)

    def decompress(self, data: bytes) -> bytes:
        return _decompress_one_frame(self.name, zlib.decompressobj(), data, zlib.error)


class Compressed:
    """``inner`` then ``codec``. Values are no longer plain float32, so ``stores_values_raw`` is False."""

    stores_values_raw = False

    def __init__(self, inner, codec: Codec):
        self.inner = inner
        self.codec = codec
        self.name = f"{inner.name}+{codec.name}"
        self.lossless = inner.lossless

    def encode(self, weights: np.ndarray) -> bytes:
        return self.codec.compress(self.inner.encode(weights))

    def decode(self, blob: bytes) -> np.ndarray:
        return self.inner.decode(self.codec.decompress(blob))

    def nbytes(self, weights: np.ndarray) -> int:
        return len(self.encode(weights))
