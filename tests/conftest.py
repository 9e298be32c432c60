"""Fixtures for the unit tests: the real MNIST from MNIST_DIR (or ../shared/mnist beside the project)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """MNIST_DIR, which must exist when set (a named folder that is missing is an error, not a skip), else the
    shared copy beside the project, else a skip: a clone without the data set runs the tests that need none."""
    named = os.environ.get("MNIST_DIR", "").strip()
    if named and not Path(named).is_dir():
        pytest.fail(f"MNIST_DIR={named} is not a directory", pytrace=False)
    directory = Path(named or SHARED_MNIST)
    if not directory.is_dir():
        pytest.skip(f"no MNIST: set MNIST_DIR (tried {directory})")
    return directory


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from prunebench.model.data import load_mnist

    return load_mnist(mnist_dir)
