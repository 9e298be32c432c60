"""What keeps one engine's work out of the next one's timing: the settle between engines, and LiteRT's converted
FC1 layers kept on disk so a rerun reads them instead of converting again."""

from __future__ import annotations

import threading
import time

import numpy as np

from prunebench.model.engines import ENGINES
from prunebench.model.engines.hygiene import QUIET_SECONDS, SETTLE_SECONDS, settle
from prunebench.model.engines.litert import FC1_CONVERSIONS, ConversionCache, fc1_model_bytes


def _spin(seconds: float) -> threading.Thread:
    """A thread that keeps a core busy for ``seconds``, as an idle thread pool that spins does."""
    def spin():
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            pass

    thread = threading.Thread(target=spin)
    thread.start()
    return thread


def test_settle_waits_while_another_thread_spins():
    spinner = _spin(0.08)
    waited = settle()
    spinner.join()
    assert waited >= 0.06, f"settled after {waited:.3f} s while another thread spun for 0.08 s"


def test_settle_waits_at_most_its_limit():
    spinner = _spin(2 * SETTLE_SECONDS)
    waited = settle()
    spinner.join()
    assert SETTLE_SECONDS <= waited < 2 * SETTLE_SECONDS


def test_settle_returns_once_the_other_threads_are_idle():
    waits = [settle() for _ in range(5)]
    assert min(waits) < SETTLE_SECONDS / 2, f"an idle process settled in {min(waits):.3f} s at best"
    assert min(waits) >= QUIET_SECONDS


def _fc1(units: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal((3136, units)).astype(np.float32)
    kernel[rng.random(kernel.shape) < 0.9] = 0.0
    return kernel, rng.standard_normal(units).astype(np.float32)


def test_a_cached_conversion_is_the_conversion(tmp_path, monkeypatch):
    kernel, bias = _fc1()
    uncached = fc1_model_bytes(kernel, bias, sparse=True)
    monkeypatch.setattr(FC1_CONVERSIONS, "directory", tmp_path)
    assert fc1_model_bytes(kernel, bias, sparse=True) == uncached  # converted, then written
    assert [path.suffix for path in tmp_path.iterdir()] == [".tflite"]
    assert fc1_model_bytes(kernel, bias, sparse=True) == uncached  # read back
    x = np.random.default_rng(1).random((2, 3136), dtype=np.float32)
    np.testing.assert_allclose(ENGINES["tflite-sparse"].fc1(kernel, bias)(x), np.maximum(x @ kernel + bias, 0),
                               atol=1e-4)


def test_the_cache_converts_once_per_key(tmp_path):
    cache = ConversionCache(tmp_path)
    conversions = []

    def convert():
        conversions.append(1)
        return b"model %d" % len(conversions)

    kernel, bias = _fc1()
    assert cache.get(kernel, bias, True, convert) == cache.get(kernel, bias, True, convert) == b"model 1"
    other_kernel, other_bias = _fc1(seed=1)
    variants = [(other_kernel, bias, True), (kernel, other_bias, True), (kernel, bias, False),
                (kernel[:, :8], bias[:8], True)]
    assert [cache.get(*variant, convert) for variant in variants] == [b"model 2", b"model 3", b"model 4", b"model 5"]
    assert len(list(tmp_path.iterdir())) == 5


def test_without_a_directory_every_call_converts():
    conversions = []
    kernel, bias = _fc1()
    for _ in range(2):
        ConversionCache().get(kernel, bias, True, lambda: conversions.append(1) or b"")
    assert len(conversions) == 2
