"""Narrow relative indices (the Deep Compression layout), as pure NumPy functions.

Each stored entry keeps only ``skip``: how many columns lie between it and the previous entry of its
row (the row start counts as column -1). A skip must fit in a uint8; a longer run of zeros gets
*filler* entries (skip 255, value 0) that each advance 256 columns. Fillers cost real bytes, so they
are counted, not hidden.
"""

from __future__ import annotations

import numpy as np

SKIP_LIMIT = 256  # columns one uint8 skip can advance (0..255 skipped, plus the entry itself)


def _skips(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Zeros skipped before each entry; ``rows``/``cols`` are in row-major order."""
    previous = np.empty_like(cols)
    previous[1:] = cols[:-1]
    row_start = np.ones(cols.size, dtype=bool)
    row_start[1:] = rows[1:] != rows[:-1]
    previous[row_start] = -1
    return cols - previous - 1


def filler_count(rows: np.ndarray, cols: np.ndarray) -> int:
    """Filler entries the uint8 skip code needs for these entries."""
    return int((_skips(rows, cols) // SKIP_LIMIT).sum())


def skip_encode(rows: np.ndarray, cols: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encode row-major entries as (indptr int64 [n_rows+1], skips uint8 [entries], positions of the real entries).

    ``positions`` says where each input entry landed among the stored entries (fillers fill the rest).
    """
    rows = np.asarray(rows, dtype=np.int64)
    skips = _skips(rows, np.asarray(cols, dtype=np.int64))
    per_entry = skips // SKIP_LIMIT + 1
    positions = np.cumsum(per_entry) - 1
    stored = np.full(int(per_entry.sum()), SKIP_LIMIT - 1, dtype=np.uint8)
    stored[positions] = skips % SKIP_LIMIT
    return row_pointers(rows, n_rows, per_entry), stored, positions


def skip_decode(indptr: np.ndarray, skips: np.ndarray) -> np.ndarray:
    """Column of every stored entry (fillers included); the caller checks them against its shape."""
    indptr = np.asarray(indptr, dtype=np.int64)
    columns_advanced = np.cumsum(np.asarray(skips, dtype=np.int64) + 1)
    before_row = np.concatenate([[0], columns_advanced])[indptr[:-1]]
    return columns_advanced - before_row[row_of_entries(indptr)] - 1


def row_pointers(rows: np.ndarray, n_rows: int, per_entry: np.ndarray | None = None) -> np.ndarray:
    """CSR indptr int64 [n_rows+1] for sorted ``rows``, each entry taking ``per_entry`` stored slots (default 1)."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, weights=per_entry, minlength=n_rows).astype(np.int64), out=indptr[1:])
    return indptr


def row_of_entries(indptr: np.ndarray) -> np.ndarray:
    """The row each stored entry belongs to."""
    return np.repeat(np.arange(indptr.size - 1), np.diff(indptr))


def valid_indptr(indptr: np.ndarray, entries: int) -> bool:
    """True if ``indptr`` starts at 0, never decreases and ends at ``entries``."""
    return bool(indptr[0] == 0 and indptr[-1] == entries and np.all(np.diff(indptr) >= 0))
