"""Shared by the benchmark files: run one pytest-benchmark timing and file its median for the results."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

# Rounds per profile and batch size: many for tiny calls, few where one call takes seconds. One warm-up
# round first, so tracing, conversion and cache warm-up are never timed.
ROUNDS = {"quick": {1: 20, 32: 10, "all": 2}, "paper": {1: 100, 32: 30, "all": 3}}
_previous_engine: list[str] = []  # the engine timed last in this process


def batch_inputs(images: np.ndarray, batch) -> np.ndarray:
    return images if batch == "all" else images[:batch]


def skip_unavailable(engine, name: str, device: str) -> None:
    reason = engine.unavailable_reason(device)
    if reason:
        pytest.skip(f"{name} on {device}: {reason}")


def time_call(benchmark, predict: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, batch,
              profile: str, extra_info: dict) -> dict | None:
    """Time ``predict(inputs)``; returns ``{"median_s", "rounds"}`` or None when benchmarks are disabled."""
    from prunebench.model.engines.hygiene import settle

    if _previous_engine and _previous_engine[-1] != extra_info["engine"]:
        settle()  # let the previous engine's thread pool go quiet before another engine is timed
    _previous_engine[:] = [extra_info["engine"]]
    benchmark.extra_info.update(extra_info)
    benchmark.pedantic(predict, args=(inputs,), rounds=ROUNDS[profile][batch], warmup_rounds=1, iterations=1)
    if benchmark.disabled or benchmark.stats is None:
        return None
    stats = benchmark.stats.stats
    return {"median_s": float(stats.median), "rounds": int(stats.rounds)}


def timing_key(engine: str, device: str, scope: str, batch) -> str:
    return f"{engine}/{device}/{scope}/batch={batch}"
