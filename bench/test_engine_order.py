"""Does the engine that ran just before change a timing? It should not, once spinning is bounded.

One target engine's FC1 (batch 32, 90% sparse random kernel) is timed right after an engine's FC1, with
``hygiene.settle`` in between as the suite does. Idle thread pools that kept spinning would take the second
core and make the target 1.5-2.3x slower after some predecessors. The predecessors take turns round by
round: timed one block after another, the machine's drift between blocks would pose as a predecessor
effect (docs/engines.md, "Thread hygiene").
"""

from __future__ import annotations

import os
from itertools import cycle

import numpy as np
import pytest

from prunebench.model.engines import ENGINES
from prunebench.model.engines.hygiene import SETTLE_SECONDS, settle

SPARSITY, BATCH = 0.9, 32
ROUNDS = 20  # per predecessor; each round sleeps SETTLE_SECONDS, most of this test's time
# First available: a multi-threaded sparse engine, the kind a stolen core slows most.
TARGET = next(name for name in ("mkl-csr", "scipy-csr") if ENGINES[name].unavailable_reason("cpu") is None)
# Spinning threads made the next engine at least 1.5x slower (docs/engines.md, "Thread hygiene"); the
# limit sits between that and the noise.
MAX_SPREAD = 1.35
PREDECESSORS = list(ENGINES)


@pytest.fixture(scope="module")
def fc1_calls():
    """Built FC1 of every available engine (building includes TFLite conversion, so do it once)."""
    rng = np.random.default_rng(0)
    w_fc1 = (rng.standard_normal((3136, 1024)) * 0.03).astype(np.float32)
    w_fc1[rng.random(w_fc1.shape) < SPARSITY] = 0.0
    b_fc1 = np.full(1024, 0.1, np.float32)
    x = rng.random((BATCH, 3136), dtype=np.float32)
    calls = {name: ENGINES[name].fc1(w_fc1, b_fc1) for name in ENGINES
             if ENGINES[name].unavailable_reason("cpu") is None}
    return calls, x, int(np.count_nonzero(w_fc1))


@pytest.mark.benchmark
def test_target_fc1_after_each_engine_in_turn(benchmark, fc1_calls):
    calls, x, nnz = fc1_calls
    order = [name for name in PREDECESSORS if name in calls]
    turns, sequence = cycle(order), []

    def run_next_predecessor_then_settle():
        sequence.append(next(turns))
        calls[sequence[-1]](x)
        settle()

    benchmark.extra_info.update(target=TARGET, predecessors=",".join(order), sparsity=SPARSITY, batch=BATCH,
                                nnz=nnz, settle_s=SETTLE_SECONDS)
    benchmark.pedantic(calls[TARGET], args=(x,), setup=run_next_predecessor_then_settle,
                       rounds=ROUNDS * len(order), warmup_rounds=0, iterations=1)
    if benchmark.disabled or os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.skip("benchmarks disabled (--benchmark-disable or xdist): no timings to compare")
    times: dict[str, list[float]] = {}
    for predecessor, seconds in zip(sequence, benchmark.stats.stats.data):
        times.setdefault(predecessor, []).append(seconds)
    medians = {name: float(np.median(values)) for name, values in times.items()}
    benchmark.extra_info.update({f"median_after_{name}": value for name, value in medians.items()})
    spread = max(medians.values()) / min(medians.values())
    slowest = max(medians, key=medians.get)
    assert spread <= MAX_SPREAD, (f"{TARGET} fc1 is {spread:.2f}x slower after {slowest} than after the fastest; "
                                  "medians (ms): " + ", ".join(f"{k} {v * 1e3:.3f}" for k, v in medians.items()))
