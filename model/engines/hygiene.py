"""Keep one engine's idle threads from slowing the engine timed after it.

After a call, several thread pools keep spinning on the cores for a while (OpenBLAS longest, libgomp in
torch and Intel OpenMP in MKL shorter) and take the second core from whatever runs next, which then looks
much slower (docs/engines.md). The spin limits are read when a library loads, so ``bound_spinning`` must run
before numpy, torch or MKL are imported (``model.engines`` calls it on import; call it earlier, first
thing in conftest.py or the CLI, to cover numpy's OpenBLAS too). ``settle`` covers what is left: it waits
until the process's other threads stop using CPU, so a library whose spinning the limits miss (loaded too
early, or a limit the user set higher) still goes quiet before the next engine is timed.
"""

from __future__ import annotations

import os
import sys
import time

SPIN_LIMITS = {
    "OPENBLAS_THREAD_TIMEOUT": "4",  # idle OpenBLAS workers sleep after 2**4 cycles instead of 2**28
    "GOMP_SPINCOUNT": "0",  # libgomp (torch): sleep at a barrier at once
    "OMP_WAIT_POLICY": "PASSIVE",  # any OpenMP runtime: waiting threads sleep
    "KMP_BLOCKTIME": "0",  # Intel OpenMP (MKL): no busy wait after a parallel region
    "MKL_DYNAMIC": "FALSE",  # MKL: use the thread count it is given, not fewer when busy
    "NUMBA_THREADING_LAYER_PRIORITY": "omp workqueue tbb",  # numba: OpenMP (as above) wakes its pool fastest
}
# Library module -> the variables it reads when it loads.
READ_AT_LOAD = {
    "numpy": ("OPENBLAS_THREAD_TIMEOUT",),
    "torch": ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"),
    "sparse_dot_mkl": ("KMP_BLOCKTIME", "OMP_WAIT_POLICY", "MKL_DYNAMIC"),
    "numba": ("NUMBA_THREADING_LAYER_PRIORITY", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"),
}
SETTLE_SECONDS = 0.15  # longest wait: longer than the longest spin seen without the limits (OpenBLAS's)
QUIET_SECONDS = 0.005  # a window in which the other threads used less than QUIET_SHARE of one core: settled
QUIET_SHARE = 0.1


def bound_spinning() -> tuple[str, ...]:
    """Set the spin limits (values the user already set win); return the loaded libraries they come too late for."""
    for variable, value in SPIN_LIMITS.items():
        os.environ.setdefault(variable, value)
    return tuple(module for module in READ_AT_LOAD if module in sys.modules)


def cpu_threads() -> int:
    """Cores this process may use; every multi-threaded engine gets this many so they compare like for like."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def other_threads_cpu_seconds() -> float:
    """CPU time used so far by every thread of this process but the calling one."""
    return time.process_time() - time.thread_time()


def settle(seconds: float = SETTLE_SECONDS) -> float:
    """Sleep between two engines until the previous one's threads are idle (a ``QUIET_SECONDS`` window in
    which the process's other threads used under ``QUIET_SHARE`` of a core), at most ``seconds``; return the
    seconds waited. With the spin limits set, the pools measured idle within a millisecond of a call
    (docs/engines.md); a pool still spinning uses a whole core and keeps this waiting."""
    started = time.perf_counter()
    deadline = started + seconds
    while (now := time.perf_counter()) < deadline:
        used = other_threads_cpu_seconds()
        time.sleep(min(QUIET_SECONDS, deadline - now))
        if other_threads_cpu_seconds() - used < QUIET_SHARE * (time.perf_counter() - now):
            break
    return time.perf_counter() - started
