"""A real, injected regression for checking ``prunebench compare``: ``pytest -p bench.slowdown`` with
``PRUNEBENCH_SLOWDOWN=tf-dense=0.25`` makes every network call of that engine spin for a quarter of its
own duration after it returns, i.e. 25% slower; ``=0`` wraps it the same way with no extra time.

Not loaded by default: it exists so that a detection rate is measured on real runs, not fabricated ones.
"""

from __future__ import annotations

import os
import time

from prunebench.errors import UsageError


def parse(text: str) -> tuple[str, float]:
    name, _, fraction = text.partition("=")
    try:
        value = float(fraction)
    except ValueError:
        raise UsageError(f"PRUNEBENCH_SLOWDOWN={text!r}: expected ENGINE=FRACTION, e.g. tf-dense=0.25") from None
    if value < 0:
        raise UsageError(f"PRUNEBENCH_SLOWDOWN={text!r}: the fraction must not be negative")
    return name, value


def slowed(predict, fraction: float):
    def call(inputs):
        start = time.perf_counter()
        outputs = predict(inputs)
        until = time.perf_counter() + (time.perf_counter() - start) * fraction
        while time.perf_counter() < until:  # spin: sleep() would overshoot sub-millisecond waits
            pass
        return outputs

    return call


def pytest_configure(config):
    text = os.environ.get("PRUNEBENCH_SLOWDOWN")
    if not text:
        return
    from prunebench.model.engines import ENGINES

    name, fraction = parse(text)
    if name not in ENGINES:
        raise UsageError(f"PRUNEBENCH_SLOWDOWN: unknown engine {name!r}")
    engine = ENGINES[name]
    network = engine.network
    engine.network = lambda *args, **kwargs: slowed(network(*args, **kwargs), fraction)
