"""Reading the results JSON files compare is given: checked for everything compare reads, their timing
entries by identity, and the raw rounds of each timing (from the results or the pytest-benchmark JSON they name).

A model is keyed by (method, ratio, seed) (``ModelKey``): every model of every pruning method is compared
with its namesake, the baselines (ratio 0, shared by all methods) once. A timing identity (``TimingIdent``) is
a model's key and a timing key, or an FC1 section's scope, ratio and timing key.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, NamedTuple

from prunebench.errors import DataError
from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.results.keys import FC1_SECTIONS, SCOPES, TimingKey, model_label, ratio_key
from prunebench.verdicts.evidence import method_of


class ModelKey(NamedTuple):
    """What makes a model itself across runs: its pruning method (None for a baseline, which every method
    shares, as the results rows record it), ratio and seed."""

    method: str | None
    ratio: float
    seed: int


class TimingIdent(NamedTuple):
    """One timing across runs: a model's (``kind`` "model") or an FC1 section's (``kind`` its scope, with no
    method or seed); ``key`` is a ``TimingKey`` as the results spell it."""

    kind: str
    method: str | None
    ratio: float
    seed: int | None
    key: str


def load_for_compare(path: str | Path) -> dict:
    """A results dict of schema 1 or newer, checked for everything compare reads; DataError otherwise."""
    from prunebench.results.contract import KIND, read_results_json, validate_results

    path = Path(path)
    results = read_results_json(path)
    if not isinstance(results, dict) or results.get("kind") != KIND:
        kind = results.get("kind") if isinstance(results, dict) else type(results).__name__
        raise DataError(f"{path}: not a prunebench results JSON (kind is {kind!r}, expected {KIND!r})")
    version = results.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DataError(f"{path}: schema_version is {version!r}; compare reads schema 1 and newer")
    # Newer schemas add fields (claims' range/effect/margin, timings' samples_s); what compare reads is
    # schema 1's structure, so check that whatever the version says.
    validate_results({**results, "schema_version": 1}, path)
    _check_details(results, path)
    return results


def _check_details(results: dict, path: Path) -> None:
    """What compare reads below the contract's required keys (timing keys and medians, models' and claims'
    methods, FC1 ratios, the claims' names, engines, bandwidth): a bad file fails as one line naming the field,
    not as a KeyError later."""

    def fail(where: str, what: str) -> None:
        raise DataError(f"{path}: {where} {what}")

    def check_timings(where: str, timings: Any) -> None:
        if not isinstance(timings, dict):
            fail(where, "is not an object")
        for key, entry in timings.items():
            try:
                TimingKey.parse(key)
            except ValueError:
                fail(f"{where}[{key!r}]", "is not an <engine>/<device>/<scope>/batch=<n> key")
            if not isinstance(entry, dict) or not is_number(entry.get("median_s")):
                fail(f"{where}[{key!r}]", "lacks a numeric median_s")
            samples = entry.get("samples_s")
            if samples is not None and (not isinstance(samples, list) or not all(map(is_number, samples))):
                fail(f"{where}[{key!r}].samples_s", "is not a list of numbers")

    def check_method(where: str, record: dict) -> None:
        if record.get("method") is not None and not isinstance(record["method"], str):
            fail(f"{where}.method", "is not a string")

    for index, model in enumerate(results["models"]):
        check_timings(f"models[{index}].timings", model["timings"])
        check_method(f"models[{index}]", model)
    for section in FC1_SECTIONS:
        fc1 = results.get(section) or []
        if not isinstance(fc1, list):
            fail(section, "is not a list")
        for index, entry in enumerate(fc1):
            if not isinstance(entry, dict) or not is_number(entry.get("ratio")):
                fail(f"{section}[{index}]", "lacks a numeric ratio")
            check_timings(f"{section}[{index}].timings", entry.get("timings") or {})
    for index, claim in enumerate(results["claims"]):
        if not isinstance(claim, dict) or not all(isinstance(claim.get(key), str)
                                                  for key in ("id", "subject", "verdict")):
            fail(f"claims[{index}]", "lacks a string id, subject or verdict")
        check_method(f"claims[{index}]", claim)
    engines = results.get("engines")  # newer schema: which engines are sparse
    if engines is not None and not (isinstance(engines, dict) and all(
            isinstance(entry, dict) and isinstance(entry.get("sparse"), bool) for entry in engines.values())):
        fail("engines", "is not an object of engines, each with a boolean sparse")
    bandwidth = results.get("bandwidth_bytes_per_s")
    if bandwidth is not None and not is_number(bandwidth):
        fail("bandwidth_bytes_per_s", "is not a number")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def model_key(record: dict) -> ModelKey:
    """The key of a results model row, or of a benchmark record carrying the same ratio, seed and method
    (records from before methods have none: the paper's one-shot)."""
    return ModelKey(method_of(record), ratio_key(record["ratio"]), int(record["seed"]))


def model_order(key: ModelKey) -> tuple:
    """Baselines and the paper's method first, as the results list them; then each other method's models."""
    return key.method not in (None, DEFAULT_METHOD), key.method or "", key.ratio, key.seed


def model_name(key: ModelKey) -> str:
    return model_label(key.method, key.ratio, key.seed)


def models_by_key(results: dict) -> dict[ModelKey, dict]:
    return {model_key(model): model for model in results["models"]}


def timing_entries(results: dict) -> dict[TimingIdent, dict]:
    """Every timing entry by identity: every model's, of every method, and the FC1 sections' (scope "fc1",
    "fc1-neurons" or "fc1-blocks")."""
    entries = {}
    for model in results["models"]:
        for key, entry in model["timings"].items():
            entries[TimingIdent("model", *model_key(model), key)] = entry
    for section, kind in FC1_SECTIONS.items():
        for fc1 in results.get(section) or []:
            for key, entry in (fc1.get("timings") or {}).items():
                entries[TimingIdent(kind, None, ratio_key(fc1["ratio"]), None, key)] = entry
    return entries


def benchmark_json_candidates(results: dict, results_path: Path) -> list[Path]:
    name = results.get("benchmark_json")
    if not isinstance(name, str) or not name:
        return []
    folder = results_path.parent
    candidates = [folder / name, folder / "benchmarks" / name, folder / "benchmarks" / Path(name).name]
    return list(dict.fromkeys(candidates))


def raw_rounds(results: dict, results_path: Path,
               override: Path | None = None) -> tuple[dict[TimingIdent, list[float]], str]:
    """Raw rounds per timing identity and a note on where they came from.

    ``samples_s`` in the results (newer schema) come first; the rest is read from the pytest-benchmark JSON
    the results name (``stats.data``, saved with --benchmark-save-data). A benchmark's rounds are used only
    if their median is the median the results recorded, so a JSON of another run is never mixed in.
    """
    entries = timing_entries(results)
    rounds = {ident: [float(x) for x in entry["samples_s"]] for ident, entry in entries.items()
              if entry.get("samples_s")}
    notes = [f"{len(rounds)} from samples_s"] if rounds else []
    if len(rounds) == len(entries):
        return rounds, "; ".join(notes) or "no timings"
    if override is not None:
        if not override.is_file():
            raise DataError(f"{override}: pytest-benchmark JSON not found")
        candidates = [override]
    else:
        candidates = benchmark_json_candidates(results, results_path)
    path = next((candidate for candidate in candidates if candidate.is_file()), None)
    if path is None:
        tried = ", ".join(str(c) for c in candidates) or "the results name none (benchmark_json is null)"
        notes.append(f"no pytest-benchmark JSON ({tried})")
        return rounds, "; ".join(notes)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        benchmarks = document["benchmarks"]
        if not isinstance(benchmarks, list):
            raise TypeError
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise DataError(f"{path}: not a pytest-benchmark JSON (no 'benchmarks' list)") from None
    found = mismatched = without_data = 0
    for bench in benchmarks:
        ident = _benchmark_ident(bench)
        if ident is None or ident not in entries or ident in rounds:
            continue
        data = (bench.get("stats") or {}).get("data")
        if not data or not all(map(is_number, data)):
            without_data += 1
            continue
        expected = float(entries[ident]["median_s"])
        if abs(statistics.median(data) - expected) > 1e-9 * max(abs(expected), 1e-12):
            mismatched += 1
            continue
        rounds[ident] = [float(x) for x in data]
        found += 1
    notes.append(f"{found} from {path}")
    if without_data:
        notes.append(f"{without_data} saved without rounds (run with --benchmark-save-data)")
    if mismatched:
        notes.append(f"{mismatched} ignored: their median is not the one the results recorded (another run's JSON?)")
    return rounds, "; ".join(notes)


def _benchmark_ident(bench: Any) -> TimingIdent | None:
    """The results identity of one pytest-benchmark entry, from the extra_info and params the suite sets (a
    network record names its model by ratio, seed and, since methods exist, method)."""
    if not isinstance(bench, dict):
        return None
    info, params = bench.get("extra_info") or {}, bench.get("params") or {}
    scope, batch = info.get("scope"), params.get("batch")
    if scope not in SCOPES or batch is None or not is_number(info.get("ratio")):
        return None
    key = str(TimingKey(info.get("engine"), info.get("device"), scope, batch))
    if scope == "network":
        return TimingIdent("model", *model_key(info), key) if is_number(info.get("seed")) else None
    return TimingIdent(scope, None, ratio_key(info["ratio"]), None, key)


def with_embedded_rounds(results: dict, rounds: dict[TimingIdent, list[float]]) -> dict:
    """A copy of ``results`` whose timing entries carry their raw rounds as ``samples_s`` (self-contained)."""
    copy = json.loads(json.dumps(results))
    for ident, entry in timing_entries(copy).items():
        if ident in rounds and not entry.get("samples_s"):
            entry["samples_s"] = rounds[ident]
    if rounds:
        copy["benchmark_json"] = None
    return copy

