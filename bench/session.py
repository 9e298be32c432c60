"""The suite's per-session state, kept on pytest's config (one per process; xdist workers each have one).

Lives in a module of its own, not in conftest.py, so test modules can import it: ``import conftest`` would
find whichever conftest.py is first on sys.path (tests/ has one too).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from prunebench.errors import PrunebenchError


@dataclass
class SessionState:
    """What the suite gathers during one pytest session (per xdist worker)."""

    started: float = field(default_factory=time.time)
    config: object = None  # SuiteConfig, made on first use (it imports TensorFlow)
    builder: object = None  # ModelBuilder
    clock: object = None  # PhaseClock
    timings: dict = field(default_factory=dict)  # ModelSpec -> {timing key: {"median_s", "rounds"}}
    # str(TimingKey(engine, device, "network", batch)) -> retime(budget_s: float) -> None: more interleaved
    # rounds of that network benchmark's calls within budget_s seconds, then its timings updated (test_network)
    retimers: dict = field(default_factory=dict)
    # a network benchmark's node id -> its timing key: pytest-benchmark's JSON gets a record per model of it
    # (conftest.py's pytest_benchmark_update_json, prunebench.suite.benchmark_records)
    network_sweeps: dict = field(default_factory=dict)
    results: dict | None = None  # this run's results, claims judged (conftest.py's run_results)
    # one field per results section of FC1 timings (prunebench.results.keys.FC1_SECTIONS)
    fc1: dict = field(default_factory=dict)  # ratio -> {"timings": {...}, "fc1_bytes": {...}}
    fc1_neurons: dict = field(default_factory=dict)  # ratio -> {"units": k, "timings": {...}}
    fc1_blocks: dict = field(default_factory=dict)  # ratio -> {"nonzero": n, "timings": {...}, "fc1_bytes": {...}}
    # (scope, batch, ratio) -> a speedup goal's race, its two engines interleaved (bench/test_fc1.py)
    fc1_races: dict = field(default_factory=dict)
    references: dict = field(default_factory=dict)  # outside references, e.g. "tfmot-gradual" -> [row]
    bandwidth: float | None = None
    benchmark_json: Path | None = None
    written: list = field(default_factory=list)


STATE = pytest.StashKey[SessionState]()


def state_of(config) -> SessionState:
    return config.stash.setdefault(STATE, SessionState())


def suite_config(config):
    """The SuiteConfig of this session; a bad option value ends the run with one line (exit 4)."""
    state = state_of(config)
    if state.config is None:
        from prunebench.suite.config import SuiteConfig

        try:
            state.config = SuiteConfig.from_options(config.getoption, _registered_engines)
        except PrunebenchError as error:
            raise pytest.UsageError(str(error)) from None
    return state.config


def _registered_engines() -> tuple[str, ...]:
    from prunebench.model.engines import ENGINES

    return tuple(ENGINES)
