"""Fixtures for the unit tests: the real MNIST from MNIST_DIR (or ../shared/mnist beside the project), and a
benchmark command that writes made-up results."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from factories import WRITER, fabricate_results, with_claims, with_samples

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


@pytest.fixture
def writer(tmp_path):
    """A benchmark command that writes made-up results (``command(side, slowed, factor)``), and the file
    where each run appends its side, to see the order the runs were made in."""
    template = tmp_path / "template.json"
    template.write_text(json.dumps(with_samples(with_claims(fabricate_results()), np.random.default_rng(0))))
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    order = tmp_path / "order.txt"

    def command(side: str, slowed: str = "none", factor: float = 1.0) -> str:
        return f"{sys.executable} {script} {template} {side} {slowed} {factor} {order}"

    return command, order
