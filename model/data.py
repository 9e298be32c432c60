"""Load MNIST from the four IDX files (gzipped or raw), or from Keras' download when no directory is given.

Every defect in a file becomes a one-line ``DataError`` naming the file, because a corrupt or
mismatched download should stop a multi-hour run at the start with a message, not a traceback.
Keras is imported only in the fallback so that importing this module stays cheap.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from prunebench.errors import DataError, UsageError

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
UBYTE_TYPE_CODE = 0x08
IDX_NDIM = {"labels": 1, "images": 3}

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

KERAS_SOURCE = "keras download"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, eq=False)
class Mnist:
    """The four MNIST arrays (read-only), where they came from, and a content hash usable as a cache key."""

    train_images: np.ndarray = field(repr=False)
    train_labels: np.ndarray = field(repr=False)
    test_images: np.ndarray = field(repr=False)
    test_labels: np.ndarray = field(repr=False)
    source: str
    checksum: str


def read_idx(path: str | os.PathLike, kind: str | None = None) -> np.ndarray:
    """Parse one uint8 IDX file; ``kind`` ("images"/"labels") additionally requires that dimension count."""
    path = Path(path)
    data = _decoded_bytes(path)
    dims, offset = _parse_header(path.name, data, kind)
    expected_items = dims[0]
    item_bytes = int(np.prod(dims[1:], dtype=np.int64))
    payload_bytes = len(data) - offset
    if payload_bytes < expected_items * item_bytes:
        held = payload_bytes // item_bytes if item_bytes else 0
        raise DataError(f"{path.name}: truncated: header says {expected_items} items, file holds {held}")
    if payload_bytes > expected_items * item_bytes:
        extra = payload_bytes - expected_items * item_bytes
        raise DataError(
            f"{path.name}: {extra} trailing bytes after the {expected_items} items the header announces"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def _decoded_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic (names can lie)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {_one_line(exc)}") from None
    if not data:
        raise DataError(f"{path.name}: empty file")
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        raise DataError(f"{path.name}: corrupt gzip data: {_one_line(exc)}") from None


def _parse_header(name: str, data: bytes, kind: str | None) -> tuple[tuple[int, ...], int]:
    """Validate the IDX header; return the dimensions and the offset where the payload starts."""
    if len(data) < 4:
        raise DataError(f"{name}: {len(data)} bytes is too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic >> 16:
        raise DataError(f"{name}: bad magic number 0x{magic:08x}, not an IDX file")
    type_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if type_code != UBYTE_TYPE_CODE:
        raise DataError(f"{name}: IDX type code 0x{type_code:02x}, expected 0x08 (unsigned byte)")
    allowed = {IDX_NDIM[kind]} if kind else set(IDX_NDIM.values())
    if ndim not in allowed:
        expected = " or ".join(f"{n} ({k})" for k, n in IDX_NDIM.items() if n in allowed)
        raise DataError(f"{name}: IDX header has {ndim} dimensions, expected {expected}")
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DataError(f"{name}: truncated IDX header ({len(data)} of {offset} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if ndim == IDX_NDIM["images"] and dims[1:] != IMAGE_SHAPE:
        raise DataError(f"{name}: images are {dims[1]}x{dims[2]}, expected 28x28")
    return dims, offset


def find_idx_file(directory: str | os.PathLike, stem: str) -> Path:
    """Locate ``stem`` in ``directory`` as raw, ``.gz``, or the dotted variant (``train-images.idx3-ubyte``)."""
    directory = Path(directory)
    dotted = stem.replace("-idx", ".idx", 1)
    for name in dict.fromkeys((stem, stem + ".gz", dotted, dotted + ".gz")):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise DataError(f"{directory}: missing MNIST file {stem} (or {stem}.gz)")


def load_mnist(directory: str | os.PathLike | None) -> Mnist:
    """Load the four IDX files from ``directory``; ``None`` falls back to Keras' download and cache."""
    if directory is None:
        return _load_from_keras()
    directory = Path(directory)
    if not directory.exists():
        raise DataError(f"{directory}: MNIST data directory does not exist")
    if not directory.is_dir():
        raise DataError(f"{directory}: MNIST data path is not a directory")
    paths = {stem: find_idx_file(directory, stem) for stem in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)}
    arrays = {stem: read_idx(path, "images" if "images" in stem else "labels") for stem, path in paths.items()}
    for images, labels in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        _check_split(arrays[images], arrays[labels], paths[images].name, paths[labels].name)
    return _mnist(arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS], arrays[TEST_IMAGES], arrays[TEST_LABELS], str(directory))


def _load_from_keras() -> Mnist:
    """Keras' own download (cached under ~/.keras/datasets); any failure there means we are offline or blocked."""
    try:
        import keras

        (train_images, train_labels), (test_images, test_labels) = keras.datasets.mnist.load_data()
    except Exception as exc:  # get_file raises bare Exception, URLError, OSError, ... depending on the failure
        raise DataError(
            f"no MNIST data directory was given and the Keras download failed ({_one_line(exc)}); "
            "pass --data-dir or set MNIST_DIR to a directory holding the four IDX files"
        ) from None
    for split, images, labels in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise DataError(f"{KERAS_SOURCE}: {split} images are {images.dtype} {images.shape}, "
                            "expected uint8 [N,28,28]")
        _check_split(images, labels, f"{KERAS_SOURCE} {split} images", f"{KERAS_SOURCE} {split} labels")
    return _mnist(train_images, train_labels.astype(np.uint8), test_images, test_labels.astype(np.uint8), KERAS_SOURCE)


def _check_split(images: np.ndarray, labels: np.ndarray, images_name: str, labels_name: str) -> None:
    """One label per image, each a digit: a mismatch means files from different sets or a bad download."""
    if len(images) != len(labels):
        raise DataError(f"{labels_name} holds {len(labels)} labels but {images_name} holds {len(images)} images")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"{labels_name}: labels have shape {labels.shape}, expected [N]")
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        raise DataError(f"{labels_name}: label {labels[bad[0]]} at index {bad[0]} is outside 0-9")


def _mnist(train_images, train_labels, test_images, test_labels, source: str) -> Mnist:
    """Freeze the arrays (read-only) and hash them so equal data gives an equal cache key whatever its packaging."""
    arrays = (train_images, train_labels, test_images, test_labels)
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array, dtype=np.uint8)
        digest.update(repr(array.shape).encode())
        digest.update(array.tobytes())
    for array in arrays:
        array.flags.writeable = False
    return Mnist(*arrays, source=source, checksum=digest.hexdigest())


def resolve_data_dir(option_value: str | os.PathLike | None) -> Path | None:
    """The ``--data-dir`` value, else ``MNIST_DIR``, else None (meaning: use the Keras download)."""
    if option_value is not None:
        if not str(option_value).strip():
            raise UsageError("--data-dir: empty path")
        return Path(option_value)
    env_value = os.environ.get("MNIST_DIR", "").strip()
    return Path(env_value) if env_value else None


def to_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 [N,28,28] → float32 [N,28,28,1] in [0,1], the network's input layout (see CONTRACTS.md)."""
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"images have shape {images.shape}, expected [N,28,28]")
    inputs = images.astype(np.float32)
    inputs /= 255.0
    return inputs[..., np.newaxis]


def _one_line(exc: BaseException) -> str:
    """An exception's text squeezed onto one line, so every DataError stays a single line."""
    return " ".join(str(exc).split()) or type(exc).__name__
