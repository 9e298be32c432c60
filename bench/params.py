"""The benchmarks' (engine, device) items, taken from the engine registry: each engine on the devices it
runs on (``InferenceEngine.devices``), not every engine on every device.

A device an engine could use but this machine lacks (a GPU that TensorFlow does not see) gets one skipped
item per engine and benchmark, with the reason, instead of one per kernel and batch: the reason is the
same for all of them, and a hundred identical skips hid the ones that say something.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import pytest


def engine_device_params(engines: Mapping[str, object], names: Sequence[str], batches: Sequence,
                         ratios: Sequence[float] | None = None) -> list:
    """``pytest.param``s of (ratio, engine, device, batch), or (engine, device, batch) without ``ratios``, with
    ids such as ``ratio=0.9-tf-dense-batch=1-cpu``; the skipped items (ratio and batch None, ids such as
    ``tf-dense-gpu``) last.

    The items run engine by engine, each engine on each of its devices over every ratio and batch: the
    suite settles the machine only where the engine changes (``bench.timing``), a pause per engine instead
    of one per ratio, and one engine's ratios are timed seconds apart rather than spread over the whole
    benchmark phase, where the machine's drift would follow the ratio."""
    reasons = {(name, device): engines[name].unavailable_reason(device) for name in names
               for device in engines[name].devices}
    axis = [(None, "")] if ratios is None else [(ratio, f"ratio={ratio:g}-") for ratio in ratios]
    lead = (lambda ratio: ()) if ratios is None else (lambda ratio: (ratio,))
    runnable = [pytest.param(*lead(ratio), name, device, batch, id=f"{label}{name}-batch={batch}-{device}")
                for name in names for device in engines[name].devices if reasons[name, device] is None
                for ratio, label in axis for batch in batches]
    skipped = [pytest.param(*lead(None), name, device, None, id=f"{name}-{device}",
                            marks=pytest.mark.skip(reason=f"{name} on {device}: {reason}"))
               for (name, device), reason in reasons.items() if reason is not None]
    return runnable + skipped


def skipped_params(argument_count: int, reason: str) -> list:
    """One skipped item standing for every item of a benchmark that does not apply to the run, with the reason."""
    return [pytest.param(*([None] * argument_count), id="skipped", marks=pytest.mark.skip(reason=reason))]


def benchmarks_off(config) -> str | None:
    """Why no benchmark times anything in this session (so no time claim can be judged), or None."""
    if config.getoption("benchmark_skip", False):
        return "benchmarks were skipped (--benchmark-skip)"
    if config.getoption("benchmark_disable", False) and not config.getoption("benchmark_enable", False):
        return "benchmarks were disabled (--benchmark-disable)"
    if config.getoption("dist", "no") != "no" or os.environ.get("PYTEST_XDIST_WORKER"):
        return "benchmarks were disabled (pytest-benchmark turns them off under pytest-xdist)"
    return None
