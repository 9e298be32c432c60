"""End of a suite run: assemble the results JSON, judge the claims, write report and figures.

Under pytest-xdist each worker writes its part to ``results/workers/``; the controller merges the parts of
this session into one results JSON (timings are absent there: benchmarks run serially, see docs/cluster.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.report.document import write_report
from prunebench.results import paths
from prunebench.results.contract import RESULTS_FILE, SCHEMA_VERSION, load_results, merge_results, save_results
from prunebench.results.keys import FC1_SECTIONS
from prunebench.suite.config import machine_record, now_iso
from prunebench.verdicts.judging import with_claims


def assemble(state) -> dict:
    """The results dict of this process's measurements (docs/CONTRACTS.md)."""
    models = []
    for model in sorted(state.builder.loaded(),
                        key=lambda m: (m.spec.ratio, m.spec.method != DEFAULT_METHOD, m.spec.method, m.spec.seed)):
        row = {**model.record, "timings": dict(state.timings.get(model.spec, {}))}
        models.append(row)
    results = {
        "schema_version": SCHEMA_VERSION, "kind": "prunebench-results", "created": now_iso(),
        "profile": state.config.profile_record(), "machine": machine_record(), "models": models,
        **fc1_sections(state),
        "fc1_races": [state.fc1_races[key] for key in sorted(state.fc1_races)],
        "references": {name: sorted(rows, key=lambda row: row["ratio"]) for name, rows in state.references.items()},
        "margins": state.config.margins(),
        "engines": registry_engine_facts(),
        "claims": [], "phases": dict(state.clock.seconds), "bandwidth_bytes_per_s": state.bandwidth,
        "benchmark_json": _beside_results(state.benchmark_json),
    }
    return with_claims(results)


def fc1_sections(state) -> dict[str, list[dict]]:
    """The FC1 sections of the results (``FC1_SECTIONS``) from this process's FC1 timings so far."""
    return {section: [{"ratio": ratio, **entry} for ratio, entry in sorted(getattr(state, section).items())]
            for section in FC1_SECTIONS}


def _beside_results(path: Path | None) -> str | None:
    """pytest-benchmark's JSON relative to the results folder when it lies inside it, else absolute."""
    if path is None:
        return None
    return str(path.relative_to(paths.results_dir())) if path.is_relative_to(paths.results_dir()) else str(path)


def registry_engine_facts() -> dict:
    """What the engine registry says of each engine, so a report never guesses it from a name."""
    from prunebench.model.engines import ENGINES

    return {name: {"sparse": engine.sparse, "work": engine.work} for name, engine in ENGINES.items()}


def publish(results: dict) -> list[Path]:
    out = paths.results_dir()
    save_results(results, out / RESULTS_FILE)
    return [out / RESULTS_FILE, *write_report(results, out)]


def finish_session(config, state) -> list[Path]:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    parts_dir = paths.results_dir() / "workers"
    if worker:
        if state.builder is not None and state.builder.loaded():
            save_results(assemble(state), parts_dir / f"{worker}.json")
        return []
    if getattr(config.option, "numprocesses", None):  # xdist controller: merge this session's parts
        parts = [load_results(path) for path in sorted(parts_dir.glob("*.json"))
                 if path.stat().st_mtime >= state.started]
        return publish(with_claims(merge_results(parts))) if parts else []
    if state.builder is None or not state.builder.loaded():
        return []
    return publish(assemble(state))
