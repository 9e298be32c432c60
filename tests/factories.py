"""Made-up inputs shared by the unit tests: schema-valid results with paper-like sizes and clearly
synthetic timings, claims and raw rounds added to them, and a script that writes such results as a
benchmark command would (for ``prunebench interleave`` and the CI recipe)."""

from __future__ import annotations

import numpy as np

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.results.contract import SCHEMA_VERSION, encode_correct
from prunebench.results.keys import TimingKey
from prunebench.verdicts.paper import FC_TOTALS, MIB, ORIGINAL_SIZE_MIB, PAPER_RATIOS

# Suite runs that check machinery (caching, builds, checks), not sizes, prune w_fc2 only and measure one raw format:
# measuring a model whose 3.2M-weight w_fc1 is pruned, or compressing that layer at zstd level 19 as the dense rest
# of the model, would take most of their time.
MACHINERY_ONLY = ("--pruning-variable-names", "w_fc2", "--formats", "bitmask")
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
                      rng_seed=0, methods=()) -> dict:
    """A schema-valid results dict with paper-like sizes and made-up (clearly synthetic) timings.

    ``methods``: pruning methods besides the paper's one-shot; each adds its own pruned model of every ratio
    above 0 and seed (the baselines are shared), and then every pruned model records its method, as the suite
    writes them. Each method's sizes differ a little, so models mixed up across methods would show.
    """
    rng = np.random.default_rng(rng_seed)
    models = [_model(ratio, seed, rng, timings) for ratio in ratios for seed in seeds]
    if methods:
        for model in models:
            if model["ratio"] > 0:
                model["method"] = DEFAULT_METHOD
        for index, method in enumerate(methods, 1):
            for ratio in (ratio for ratio in ratios if ratio > 0):
                for seed in seeds:
                    model = {**_model(ratio, seed, rng, timings), "method": method}
                    model["sizes"]["weights_sparse"] += index
                    models.append(model)
    return {
        "schema_version": SCHEMA_VERSION, "kind": "prunebench-results", "created": "2025-01-01T00:00:00+00:00",
        "profile": {"name": "synthetic", "max_steps": 100, "batch_size": 32, "retrain_steps": 10,
                    "ratios": list(ratios), "seeds": list(seeds), "variables": ["w_fc1", "w_fc2"],
                    "learning_rate": 1e-4, "eval_images": EVAL_IMAGES},
        "machine": {"tensorflow": "2.21.0", "python": "3.11", "cpu": "test cpu", "threads": 2, "gpus": []},
        "models": models,
        "claims": [], "margins": {"accuracy": 0.01, "time": 0.10},
        "engines": {"tf-dense": {"sparse": False}, "tf-sparse": {"sparse": True}, "numpy-csr": {"sparse": True}},
        "phases": {"training": 1.0, "retraining": 2.0, "sparsifying": 0.5, "benchmarking": 3.0},
        "fc1": [{"ratio": ratio, "timings": _timings("fc1", 1 - ratio, rng), "fc1_bytes": {}}
                for ratio in ratios] if timings else [],
        "bandwidth_bytes_per_s": 1e10 if timings else None,
        "benchmark_json": None,
    }


def with_claims(results: dict) -> dict:
    results["claims"] = [
        {"id": "a", "subject": "size:step_3", "statement": "s", "rule": "r", "rho": -0.99, "p": 1e-9, "n": 14,
         "ci": [-1.0, -0.95], "verdict": "supported", "expected": "supported", "reason": None, "x": [], "y": []},
        {"id": "c", "subject": "time:tf-dense/cpu/network/batch=32", "statement": "s", "rule": "r", "rho": 0.1,
         "p": 0.7, "n": 14, "ci": [-0.4, 0.6], "verdict": "supported", "expected": "supported", "reason": None,
         "x": [], "y": []},
    ]
    return results


def with_samples(results: dict, rng, slowdown: dict[str, float] | None = None, run_shift: float = 0.02) -> dict:
    """Raw rounds (newer schema's samples_s) for every timing, each family (timing key) moved by a random
    run shift of sd ``run_shift`` as whole runs move on a shared machine; ``slowdown`` by engine multiplies them."""
    slowdown = slowdown or {}
    entries = [entry for model in results["models"] for entry in model["timings"].items()]
    entries += [entry for fc1 in results["fc1"] for entry in fc1["timings"].items()]
    shifts = {key: rng.lognormal(0.0, run_shift) for key in sorted({key for key, _ in entries})}
    for key, timing in entries:
        n = int(rng.integers(20, 101))
        samples = (timing["median_s"] * (1 + slowdown.get(TimingKey.parse(key).engine, 0.0)) * shifts[key]
                   * rng.lognormal(0.0, 0.1, n))
        timing.update(samples_s=[float(x) for x in samples], median_s=float(np.median(samples)), rounds=n)
    return results


WRITER = """
import json, os, random, sys
from pathlib import Path
template, side, slowed, factor, order = sys.argv[1:6]
results = json.loads(Path(template).read_text())
out = Path(os.environ["PRUNEBENCH_RESULTS"])
with open(order, "a") as stream:
    stream.write(side + "\\n")
# an episode shared by the two runs of a pair (the pair's number seeds it), 1% of each run's own
episode = random.Random(out.name[-2:]).lognormvariate(0.0, 0.2)
rng = random.Random(out.name)
for model in results["models"]:
    for key, timing in model["timings"].items():
        scale = episode * rng.lognormvariate(0.0, 0.01) * (float(factor) if key.startswith(slowed + "/") else 1.0)
        timing["median_s"] *= scale
        timing["samples_s"] = [x * scale for x in timing["samples_s"]]
out.mkdir(parents=True)
(out / "results.json").write_text(json.dumps(results))
"""
