"""The MNIST IDX loader: the real files load correctly, and every kind of defect is a one-line DataError."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from prunebench.errors import DataError, UsageError
from prunebench.model import data
from prunebench.model.data import Mnist, find_idx_file, load_mnist, read_idx, resolve_data_dir, to_inputs
from prunebench.results import atomic

STEMS = (data.TRAIN_IMAGES, data.TRAIN_LABELS, data.TEST_IMAGES, data.TEST_LABELS)


def _real_mnist_dir() -> Path:
    configured = os.environ.get("MNIST_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[1].parent / "shared" / "mnist"


@pytest.fixture(scope="module")
def real_dir() -> Path:
    directory = _real_mnist_dir()
    if not all((directory / f"{stem}.gz").is_file() for stem in STEMS):
        pytest.skip(f"real MNIST .gz files not found in {directory} (set MNIST_DIR)")
    return directory


@pytest.fixture(scope="module")
def real_mnist(real_dir: Path) -> Mnist:
    return load_mnist(real_dir)


def write_idx(path: Path, payload: bytes, dims: tuple[int, ...], *, magic: int | None = None, gz: bool = False) -> Path:
    """Write an IDX file: big-endian magic (default: uint8 with len(dims) dimensions), dims, then payload."""
    magic = (data.UBYTE_TYPE_CODE << 8 | len(dims)) if magic is None else magic
    raw = struct.pack(f">I{len(dims)}I", magic, *dims) + payload
    atomic.write_bytes(path, gzip.compress(raw) if gz else raw)
    return path


def write_split(directory: Path, prefix: str, labels: list[int], n_images: int, *, gz: bool = True) -> None:
    """One split (train or t10k): ``n_images`` random 28x28 images and the given labels."""
    suffix = ".gz" if gz else ""
    pixels = np.random.default_rng(len(labels)).integers(0, 256, (n_images, 28, 28), dtype=np.uint8)
    write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", pixels.tobytes(), pixels.shape, gz=gz)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", bytes(labels), (len(labels),), gz=gz)


def write_tiny_mnist(directory: Path, *, train_labels=(0, 1, 9), test_labels=(5, 3), gz: bool = True) -> Path:
    write_split(directory, "train", list(train_labels), 3, gz=gz)
    write_split(directory, "t10k", list(test_labels), 2, gz=gz)
    return directory


def assert_one_line_error(excinfo: pytest.ExceptionInfo, *names: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message, message
    for name in names:
        assert name in message, f"{name!r} not named in {message!r}"


# --- the real files -------------------------------------------------------------------------------------


def test_real_files_match_published_sha256(real_dir: Path) -> None:
    sums = dict(line.split()[::-1] for line in (real_dir / "SHA256SUMS").read_text().splitlines() if line.strip())
    for stem in STEMS:
        name = f"{stem}.gz"
        assert hashlib.sha256((real_dir / name).read_bytes()).hexdigest() == sums[name], name


def test_real_mnist_shapes_dtypes_and_labels(real_mnist: Mnist, real_dir: Path) -> None:
    assert real_mnist.train_images.shape == (60000, 28, 28)
    assert real_mnist.train_labels.shape == (60000,)
    assert real_mnist.test_images.shape == (10000, 28, 28)
    assert real_mnist.test_labels.shape == (10000,)
    for array in (real_mnist.train_images, real_mnist.train_labels, real_mnist.test_images, real_mnist.test_labels):
        assert array.dtype == np.uint8
        assert not array.flags.writeable
    for labels in (real_mnist.train_labels, real_mnist.test_labels):
        assert set(np.unique(labels).tolist()) == set(range(10))
    assert real_mnist.train_images.max() == 255 and real_mnist.train_images.min() == 0
    assert real_mnist.source == str(real_dir)
    assert len(real_mnist.checksum) == 64


def test_raw_and_gz_copies_load_identically(real_mnist: Mnist, real_dir: Path, tmp_path: Path) -> None:
    for stem in STEMS:
        with gzip.open(real_dir / f"{stem}.gz", "rb") as source, atomic.atomic_path(tmp_path / stem) as tmp:
            with open(tmp, "wb") as target:
                shutil.copyfileobj(source, target)
    raw = load_mnist(tmp_path)
    for field in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(raw, field), getattr(real_mnist, field))
    assert raw.checksum == real_mnist.checksum


# --- tiny files: what loads ----------------------------------------------------------------------------


def test_tiny_gz_round_trip(tmp_path: Path) -> None:
    pixels = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    path = write_idx(tmp_path / "x-images-idx3-ubyte.gz", pixels.tobytes(), pixels.shape, gz=True)
    np.testing.assert_array_equal(read_idx(path), pixels)


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    misnamed_gz = write_idx(tmp_path / "labels-raw-looking", bytes([1, 2, 3]), (3,), gz=True)
    misnamed_raw = write_idx(tmp_path / "labels.gz", bytes([4, 5]), (2,), gz=False)
    assert read_idx(misnamed_gz).tolist() == [1, 2, 3]
    assert read_idx(misnamed_raw).tolist() == [4, 5]


def test_checksum_depends_on_content_only(tmp_path: Path) -> None:
    first = load_mnist(write_tiny_mnist(tmp_path / "gz", gz=True))
    same_raw = load_mnist(write_tiny_mnist(tmp_path / "raw", gz=False))
    other = load_mnist(write_tiny_mnist(tmp_path / "other", test_labels=(5, 4)))
    assert first.checksum == same_raw.checksum
    assert first.checksum != other.checksum
    assert first.train_labels.tolist() == [0, 1, 9]


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "train-images.idx3-ubyte"])
def test_find_idx_file_accepts_name_variants(tmp_path: Path, name: str) -> None:
    atomic.write_bytes(tmp_path / name, b"x")
    assert find_idx_file(tmp_path, data.TRAIN_IMAGES) == tmp_path / name


def test_to_inputs_scales_and_adds_channel() -> None:
    images = np.array([[[0, 255] * 14] * 28], dtype=np.uint8)
    inputs = to_inputs(images)
    assert inputs.dtype == np.float32 and inputs.shape == (1, 28, 28, 1)
    assert inputs[0, 0, 0, 0] == 0.0 and inputs[0, 0, 1, 0] == 1.0


def test_to_inputs_rejects_wrong_shape() -> None:
    with pytest.raises(DataError, match=r"\(3, 28\)"):
        to_inputs(np.zeros((3, 28), dtype=np.uint8))


# --- tiny files: every defect ---------------------------------------------------------------------------

GOOD_LABELS = bytes([1, 2, 3])


@pytest.mark.parametrize(
    ("payload", "dims", "magic", "gz", "expected"),
    [
        (GOOD_LABELS, (3,), 0x12345678, False, "bad magic number 0x12345678"),
        (GOOD_LABELS, (3,), 0x00000901, True, "type code 0x09"),
        (GOOD_LABELS, (3, 1), None, False, "2 dimensions"),
        (bytes(3 * 27 * 28), (3, 27, 28), None, True, "27x28, expected 28x28"),
        (GOOD_LABELS[:2], (3,), None, True, "truncated: header says 3 items, file holds 2"),
        (bytes(2 * 784 + 5), (3, 28, 28), None, False, "truncated: header says 3 items, file holds 2"),
        (GOOD_LABELS + b"\0\0", (3,), None, True, "2 trailing bytes"),
        (b"", (), 0x00000801, False, "truncated IDX header"),
    ],
    ids=["magic", "type-code", "ndim", "image-size", "truncated", "truncated-images", "trailing", "short-header"],
)
def test_read_idx_rejects_defect(tmp_path: Path, payload, dims, magic, gz, expected) -> None:
    path = write_idx(tmp_path / "bad-idx1-ubyte", payload, dims, magic=magic, gz=gz)
    with pytest.raises(DataError, match=expected) as excinfo:
        read_idx(path)
    assert_one_line_error(excinfo, path.name)


def test_read_idx_rejects_images_where_labels_expected(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte", bytes(784), (1, 28, 28))
    with pytest.raises(DataError, match="3 dimensions, expected 1 \\(labels\\)") as excinfo:
        read_idx(path, "labels")
    assert_one_line_error(excinfo, path.name)


@pytest.mark.parametrize("content", [b"", b"\x1f\x8b", b"\0\0\x08"], ids=["empty", "gzip-magic-only", "3-bytes"])
def test_read_idx_rejects_empty_or_tiny_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "train-labels-idx1-ubyte"
    atomic.write_bytes(path, content)
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    assert_one_line_error(excinfo, path.name)


def test_read_idx_rejects_corrupted_gzip(tmp_path: Path) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", pixels.tobytes(), pixels.shape, gz=True)
    content = bytearray(path.read_bytes())
    middle = len(content) // 2
    content[middle : middle + 16] = bytes(b ^ 0xFF for b in content[middle : middle + 16])
    atomic.write_bytes(path, bytes(content))
    with pytest.raises(DataError, match="corrupt gzip data") as excinfo:
        read_idx(path)
    assert_one_line_error(excinfo, path.name)


def test_read_idx_rejects_cut_off_gzip(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", bytes(1000), (1000,), gz=True)
    atomic.write_bytes(path, path.read_bytes()[:-12])
    with pytest.raises(DataError, match="corrupt gzip data") as excinfo:
        read_idx(path)
    assert_one_line_error(excinfo, path.name)


def test_load_mnist_rejects_more_labels_than_images(tmp_path: Path) -> None:
    write_tiny_mnist(tmp_path)
    write_split(tmp_path, "t10k", [1, 2, 3], 2)
    with pytest.raises(DataError, match="3 labels .* 2 images") as excinfo:
        load_mnist(tmp_path)
    assert_one_line_error(excinfo, "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def test_load_mnist_rejects_label_outside_0_to_9(tmp_path: Path) -> None:
    write_tiny_mnist(tmp_path, train_labels=(0, 10, 200))
    with pytest.raises(DataError, match="label 10 at index 1") as excinfo:
        load_mnist(tmp_path)
    assert_one_line_error(excinfo, "train-labels-idx1-ubyte.gz")


def test_load_mnist_rejects_labels_file_holding_images(tmp_path: Path) -> None:
    write_tiny_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", bytes(3 * 784), (3, 28, 28), gz=True)
    with pytest.raises(DataError, match="expected 1 \\(labels\\)") as excinfo:
        load_mnist(tmp_path)
    assert_one_line_error(excinfo, "train-labels-idx1-ubyte.gz")


def test_load_mnist_rejects_missing_file(tmp_path: Path) -> None:
    write_tiny_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="missing MNIST file") as excinfo:
        load_mnist(tmp_path)
    assert_one_line_error(excinfo, str(tmp_path), "t10k-images-idx3-ubyte")


def test_load_mnist_rejects_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match="does not exist") as excinfo:
        load_mnist(missing)
    assert_one_line_error(excinfo, str(missing))


def test_load_mnist_rejects_file_instead_of_directory(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "mnist.tar"
    atomic.write_bytes(not_a_dir, b"x")
    with pytest.raises(DataError, match="not a directory") as excinfo:
        load_mnist(not_a_dir)
    assert_one_line_error(excinfo, str(not_a_dir))


# --- no directory: the Keras fallback and how the directory is chosen -----------------------------------


def test_load_mnist_none_uses_keras_download(monkeypatch: pytest.MonkeyPatch) -> None:
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(1)
    train = (rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.array([0, 1, 2, 9], dtype=np.uint8))
    test = (rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), np.array([3, 4], dtype=np.uint8))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: (train, test))
    mnist = load_mnist(None)
    assert mnist.source == data.KERAS_SOURCE
    np.testing.assert_array_equal(mnist.train_images, train[0])
    np.testing.assert_array_equal(mnist.test_labels, test[1])
    assert len(mnist.checksum) == 64


def test_load_mnist_none_reports_failed_download(monkeypatch: pytest.MonkeyPatch) -> None:
    keras = pytest.importorskip("keras")

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...\n<urlopen error>")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataError, match="no MNIST data directory was given.*--data-dir.*MNIST_DIR") as excinfo:
        load_mnist(None)
    assert_one_line_error(excinfo, "URL fetch failure")


def test_resolve_data_dir_prefers_option_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "option") == tmp_path / "option"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("MNIST_DIR")
    assert resolve_data_dir(None) is None


def test_resolve_data_dir_rejects_empty_option() -> None:
    with pytest.raises(UsageError, match="--data-dir"):
        resolve_data_dir("  ")
