"""Fixtures for the unit tests: the real MNIST from MNIST_DIR (or ../shared/mnist beside the project)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    directory = Path(os.environ.get("MNIST_DIR") or SHARED_MNIST)
    if not directory.is_dir():
        pytest.skip(f"no MNIST: set MNIST_DIR (tried {directory})")
    return directory


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from prunebench.model.data import load_mnist

    return load_mnist(mnist_dir)
