"""Results JSON: validation of bad files, numpy-safe saving, merging split sweeps.

``fabricate_results`` is also used by test_claims_logic.py and test_report.py.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from prunebench.errors import DataError
from prunebench.results.contract import SCHEMA_VERSION, encode_correct, load_results, merge_results, save_results
from prunebench.verdicts.paper import FC_TOTALS, MIB, ORIGINAL_SIZE_MIB, PAPER_RATIOS

ENGINES = ("tf-dense", "tf-sparse", "numpy-csr")
EVAL_IMAGES = 2_000
ROUNDS = 20


def _correct(ratio: float, seed: int) -> str:
    """Per-image correctness: the baseline right on 99%; pruned models lose a few images up to 90%
    (under the 1-point margin) and 2 points at 95%."""
    correct = np.random.default_rng(seed).random(EVAL_IMAGES) < 0.99
    lost = 200 if ratio > 0.9 else round(ratio * 10)
    correct[np.flatnonzero(correct)[:lost]] = False
    return encode_correct(correct)


def _model(ratio: float, seed: int, rng: np.random.Generator, timings: bool) -> dict:
    kept = 1.0 - ratio
    paper = PAPER_RATIOS.get(ratio)
    step_3 = (paper.size_mib if paper else 75.0 * kept) * MIB * (1 + 0.01 * seed)
    model = {
        "ratio": ratio, "seed": seed,
        "variables": {name: {"threshold": 0.16 * ratio, "total": total, "nonzero": round(kept * total)}
                      for name, total in FC_TOTALS.items()},
        "nonzero": sum(round(kept * total) for total in FC_TOTALS.values()),
        "accuracy": {"dense": 0.99 + 0.001 * rng.standard_normal(), "sparse": 0.99, "before_retrain": 0.98,
                     "float16": 0.99},
        "correct": {"dense": _correct(ratio, seed)},
        "sizes": {"step_1": int(ORIGINAL_SIZE_MIB * MIB) if ratio == 0 else None, "step_2_2": None,
                  "step_3": None if ratio == 0 else int(step_3),
                  "weights_dense": 13_098_536, "weights_sparse": int(13_098_536 * 2 * kept)},
        "formats": {"csr": {"pruned_bytes": int(26e6 * kept) + 4000, "model_bytes": int(26e6 * kept) + 250_000},
                    "bitmask": {"pruned_bytes": int(13e6 * kept) + 400_000,
                                "model_bytes": int(13e6 * kept) + 650_000}},
        "entropy_bound": {"pruned_bytes": int(10e6 * kept) + 1000, "model_bytes": int(10e6 * kept) + 240_000},
        "timings": {},
    }
    if timings:
        model["timings"] = _timings("network", kept, rng)
    return model


def _timings(scope: str, kept: float, rng: np.random.Generator) -> dict:
    """Made-up rounds: dense engines flat, sparse ones proportional to the kept fraction, 3% noise."""
    timings = {}
    for engine in ENGINES:
        samples = 1e-3 * (1.0 if engine == "tf-dense" else 3.0 * kept + 0.05) * rng.lognormal(0, 0.03, ROUNDS)
        timings[f"{engine}/cpu/{scope}/batch=32"] = {"median_s": float(np.median(samples)), "rounds": ROUNDS,
                                                     "noise": 0.04, "samples_s": samples.tolist()}
    return timings


def fabricate_results(ratios=(0.0, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95), seeds=(0, 1), timings=True,
                      rng_seed=0) -> dict:
    """A schema-valid results dict with paper-like sizes and made-up (clearly synthetic) timings."""
    rng = np.random.default_rng(rng_seed)
    return {
        "schema_version": SCHEMA_VERSION, "kind": "prunebench-results", "created": "2025-01-01T00:00:00+00:00",
        "profile": {"name": "synthetic", "max_steps": 100, "batch_size": 32, "retrain_steps": 10,
                    "ratios": list(ratios), "seeds": list(seeds), "variables": ["w_fc1", "w_fc2"],
                    "learning_rate": 1e-4, "eval_images": EVAL_IMAGES},
        "machine": {"tensorflow": "2.21.0", "python": "3.11", "cpu": "test cpu", "threads": 2, "gpus": []},
        "models": [_model(ratio, seed, rng, timings) for ratio in ratios for seed in seeds],
        "claims": [], "margins": {"accuracy": 0.01, "time": 0.10},
        "engines": {"tf-dense": {"sparse": False}, "tf-sparse": {"sparse": True}, "numpy-csr": {"sparse": True}},
        "phases": {"training": 1.0, "retraining": 2.0, "sparsifying": 0.5, "benchmarking": 3.0},
        "fc1": [{"ratio": ratio, "timings": _timings("fc1", 1 - ratio, rng), "fc1_bytes": {}}
                for ratio in ratios] if timings else [],
        "bandwidth_bytes_per_s": 1e10 if timings else None,
        "benchmark_json": None,
    }


def _write(tmp_path, text: str):
    path = tmp_path / "results.json"
    path.write_text(text)
    return path


def test_save_then_load_round_trips_numpy_scalars(tmp_path):
    results = fabricate_results()
    results["models"][0]["accuracy"]["dense"] = np.float32(0.5)
    results["models"][0]["nonzero"] = np.int64(7)
    path = tmp_path / "out" / "results.json"
    save_results(results, path)
    loaded = load_results(path)
    assert loaded["models"][0]["accuracy"]["dense"] == 0.5
    assert type(loaded["models"][0]["nonzero"]) is int
    assert path.read_text().startswith('{\n "bandwidth_bytes_per_s"')  # sorted keys, indent 1


def _bad_results_cases():
    def set_kind(results):
        results["kind"] = "something-else"

    def set_version(results):
        results["schema_version"] = SCHEMA_VERSION + 1

    def drop_models(results):
        del results["models"]

    def drop_model_sizes(results):
        del results["models"][1]["sizes"]

    def drop_profile_ratios(results):
        del results["profile"]["ratios"]

    return {
        "kind": (set_kind, "kind is 'something-else'"),
        "version": (set_version, f"schema_version is {SCHEMA_VERSION + 1}"),
        "models": (drop_models, "lacks required key 'models'"),
        "model": (drop_model_sizes, "models[1] lacks required key 'sizes'"),
        "profile": (drop_profile_ratios, "profile lacks required key 'ratios'"),
    }


@pytest.mark.parametrize("case", sorted(_bad_results_cases()))
def test_load_rejects_bad_content_with_one_line_naming_file(tmp_path, case):
    spoil, expected = _bad_results_cases()[case]
    results = fabricate_results(timings=False)
    spoil(results)
    path = _write(tmp_path, json.dumps(results))
    with pytest.raises(DataError) as error:
        load_results(path)
    message = str(error.value)
    assert str(path) in message and expected in message and "\n" not in message


@pytest.mark.parametrize("text, expected", [("{not json", "not valid JSON"), ("[1, 2]", "top level is list")])
def test_load_rejects_unparsable_or_non_object(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=expected):
        load_results(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(DataError, match="results file not found"):
        load_results(tmp_path / "absent.json")


def test_merge_disjoint_seeds_and_dedupes_identical_models():
    whole = fabricate_results(seeds=(0, 1), timings=False)
    first, second = copy.deepcopy(whole), copy.deepcopy(whole)
    first["models"] = [model for model in whole["models"] if model["seed"] == 0]
    first["profile"]["seeds"] = [0]
    second["models"] = [model for model in whole["models"] if model["seed"] == 1] + first["models"][:2]
    second["profile"]["seeds"] = [1]
    merged = merge_results([first, second])
    assert sorted((m["ratio"], m["seed"]) for m in merged["models"]) == \
        sorted((m["ratio"], m["seed"]) for m in whole["models"])
    assert merged["profile"]["seeds"] == [0, 1]
    assert merged["phases"]["training"] == 2 * whole["phases"]["training"]
    assert merged["claims"] == []


def test_merge_refuses_conflicting_profile():
    first, second = fabricate_results(timings=False), fabricate_results(timings=False)
    second["profile"]["max_steps"] += 1
    with pytest.raises(DataError, match="different profiles"):
        merge_results([first, second])


def test_merge_refuses_conflicting_duplicate_model():
    first, second = fabricate_results(timings=False), fabricate_results(timings=False)
    second["models"][3]["accuracy"]["dense"] = 0.1
    with pytest.raises(DataError, match="conflicting results for ratio"):
        merge_results([first, second])
