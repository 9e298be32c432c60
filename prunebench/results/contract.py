"""Read, write and merge the results JSON (schema in docs/CONTRACTS.md).

Reading validates the structure up front so that a stale or foreign file fails with one line naming the
file, instead of a KeyError deep inside the report.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from prunebench.errors import DataError
from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.results import atomic
from prunebench.results.keys import ratio_key

SCHEMA_VERSION = 2
# Schema 1 (before per-image correctness and raw timing rounds) is still read: its sizes, counts and
# correlations are judged as before; the verdicts that need what it lacks say so (prunebench.verdicts.claims).
READABLE_SCHEMAS = (1, 2)
KIND = "prunebench-results"

REQUIRED_TOP = {"schema_version": int, "kind": str, "created": str, "profile": dict, "machine": dict,
                "models": list, "claims": list, "phases": dict}
REQUIRED_PROFILE = {"name": str, "ratios": list, "seeds": list, "variables": list}
REQUIRED_MODEL = {"ratio": (int, float), "seed": int, "variables": dict, "nonzero": int, "accuracy": dict,
                  "sizes": dict, "formats": dict, "timings": dict}
# Profile fields that may legitimately differ between the workers of one split sweep.
SPLIT_PROFILE_KEYS = ("ratios", "seeds")


def _check_keys(where: str, obj: Any, required: dict[str, type | tuple[type, ...]], path: Path) -> None:
    if not isinstance(obj, dict):
        raise DataError(f"{path}: {where} is {type(obj).__name__}, expected an object")
    for key, kind in required.items():
        if key not in obj:
            raise DataError(f"{path}: {where} lacks required key {key!r}")
        if not isinstance(obj[key], kind) or isinstance(obj[key], bool):
            raise DataError(f"{path}: {where}[{key!r}] is {type(obj[key]).__name__}, not the expected type")


def validate_results(results: Any, path: str | os.PathLike = "<results>") -> dict:
    """Raise DataError naming ``path`` unless ``results`` has this schema's kind, version and keys."""
    path = Path(path)
    if not isinstance(results, dict):
        raise DataError(f"{path}: top level is {type(results).__name__}, expected an object")
    if results.get("kind") != KIND:
        raise DataError(f"{path}: kind is {results.get('kind')!r}, expected {KIND!r}")
    if results.get("schema_version") not in READABLE_SCHEMAS:
        raise DataError(f"{path}: schema_version is {results.get('schema_version')!r}, this code reads "
                        f"{' and '.join(map(str, READABLE_SCHEMAS))}")
    _check_keys("results", results, REQUIRED_TOP, path)
    _check_keys("profile", results["profile"], REQUIRED_PROFILE, path)
    for index, model in enumerate(results["models"]):
        _check_keys(f"models[{index}]", model, REQUIRED_MODEL, path)
    return results


RESULTS_FILE = "results.json"  # a run's results in its folder


def results_file(path: str | os.PathLike) -> Path:
    """The results file a user named: the file itself, or ``results.json`` in a run's folder (the folder
    itself where it holds none)."""
    path = Path(path)
    return path / RESULTS_FILE if path.is_dir() and (path / RESULTS_FILE).is_file() else path


def load_results(path: str | os.PathLike) -> dict:
    """The validated results dict stored at ``path``."""
    return validate_results(read_results_json(path), path)


def read_results_json(path: str | os.PathLike) -> Any:
    """The parsed JSON at ``path`` (a results file, or a run's folder holding ``results.json``), not yet
    validated; DataError (one line naming the file) otherwise."""
    path = results_file(path)
    if path.is_dir():
        raise DataError(f"{path}: a folder without {RESULTS_FILE} (give a results JSON or a run's folder)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: results file not found (run the suite first)") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a results JSON file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read results file ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None


def encode_correct(correct: np.ndarray) -> str:
    """Per-image correctness (booleans) as base64 of the packed bits: 10,000 images in 1,668 characters."""
    return base64.b64encode(np.packbits(np.asarray(correct, dtype=bool)).tobytes()).decode("ascii")


def decode_correct(text: str, images: int) -> np.ndarray:
    """The boolean vector ``encode_correct`` stored, for ``images`` images."""
    return np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8))[:images].astype(bool)


def _plain(value: Any) -> Any:
    """JSON fallback: numpy scalars and arrays become plain Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"results contain a {type(value).__name__}, which JSON cannot store")


def save_results(results: dict, path: str | os.PathLike) -> None:
    """Write ``results`` atomically as sorted, indented JSON of plain Python values."""
    atomic.write_text(path, json.dumps(results, sort_keys=True, indent=1, default=_plain) + "\n")


def _model_key(model: dict) -> tuple:
    """(ratio, seed), and the pruning method unless it is the paper's one-shot (prune/methods/)."""
    key = (ratio_key(model["ratio"]), int(model["seed"]))
    method = model.get("method") or DEFAULT_METHOD
    return key if model["ratio"] == 0 or method == DEFAULT_METHOD else (*key, method)


def _same(values: Iterable[Any]) -> bool:
    values = list(values)
    return all(value == values[0] for value in values[1:])


def merge_results(parts: list[dict]) -> dict:
    """One results dict from the parts of a sweep split across workers.

    Parts must share kind, schema, machine and profile (apart from ratios and seeds): timings from other
    machines or training settings are not comparable, so mixing them is refused. Identical duplicates of a
    (ratio, seed) model are kept once; differing ones are refused. Phase times are summed (work done),
    claims are emptied because they must be recomputed on the merged models.
    """
    if not parts:
        raise DataError("merge_results: no results to merge")
    for index, part in enumerate(parts):
        validate_results(part, f"<part {index}>")

    def fixed_profile(part: dict) -> dict:
        return {key: value for key, value in part["profile"].items() if key not in SPLIT_PROFILE_KEYS}

    if not _same(part["schema_version"] for part in parts):
        raise DataError("merge_results: the parts have different schema versions")
    if not _same(part.get("margins") for part in parts):
        raise DataError("merge_results: the parts judged claims with different margins")
    if not _same(fixed_profile(part) for part in parts):
        raise DataError("merge_results: the parts were run with different profiles (beyond ratios/seeds)")
    if not _same(part["machine"] for part in parts):
        raise DataError("merge_results: the parts were measured on different machines; timings not comparable")

    models: dict[tuple[float, int], dict] = {}
    for part in parts:
        for model in part["models"]:
            key = _model_key(model)
            if key in models and models[key] != model:
                raise DataError(f"merge_results: conflicting results for ratio {key[0]} seed {key[1]}")
            models[key] = model

    bandwidths = [part.get("bandwidth_bytes_per_s") for part in parts if part.get("bandwidth_bytes_per_s")]
    benchmark_jsons = {part.get("benchmark_json") for part in parts}
    merged = dict(parts[0])
    merged.update(
        created=max(part["created"] for part in parts),
        profile={**parts[0]["profile"],
                 **{key: sorted({value for part in parts for value in part["profile"][key]})
                    for key in SPLIT_PROFILE_KEYS}},
        models=[models[key] for key in sorted(models)],
        claims=[],
        phases={phase: sum(part["phases"].get(phase, 0.0) for part in parts)
                for phase in sorted({phase for part in parts for phase in part["phases"]})},
        # The best bandwidth any worker measured is the tightest honest lower bound on time.
        bandwidth_bytes_per_s=max(bandwidths) if bandwidths else None,
        # One pytest-benchmark file per worker cannot be named by one path; keep it only if shared.
        benchmark_json=benchmark_jsons.pop() if len(benchmark_jsons) == 1 else None,
    )
    return merged
