"""Build (or reuse from the cache) the suite's models and measure everything about them but time.

Timing belongs to the benchmarks; here go sizes, nonzero counts, accuracies and the dense/sparse
agreement, all as plain Python numbers in one results row per model (see docs/CONTRACTS.md).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from prunebench.build.cache import ModelStore, code_version
from prunebench.build.pipeline import Settings, prune_with_method, sparsify_step, train_baseline
from prunebench.build.progress import NoProgress
from prunebench.build.shared_cache import open_cache
from prunebench.model.checkpoint import directory_bytes, load_dense
from prunebench.model.data import Mnist, to_inputs
from prunebench.model.engines import ENGINES, tflite_model_bytes
from prunebench.model.engines.spec import PAPER_LAYERS
from prunebench.model.workloads import DEFAULT_WORKLOAD, Workload, get_workload, variable_names
from prunebench.model.workloads.layers import Layer
from prunebench.model.workloads.user import is_reference, source_digest
from prunebench.prune.formats import FORMATS, SIZE_TABLE_FORMATS, size_table
from prunebench.prune.formats.compressed import Compressed
from prunebench.prune.methods import DEFAULT_METHOD, METHODS
from prunebench.prune.paper_format import load_sparse
from prunebench.results import atomic
from prunebench.results.contract import encode_correct
from prunebench.results.spec import ModelSpec

MEASUREMENTS = "measurements.json"
EVAL_BATCH = 1000


@dataclass
class SuiteModel:
    spec: ModelSpec
    weights: dict[str, np.ndarray]
    pruned: tuple[str, ...]
    record: dict  # one row of results["models"]
    directory: Path


@dataclass
class PhaseClock:
    """Wall time this run spent per phase (a warm cache spends ~0 on training)."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("training", "retraining", "sparsifying", "measuring", "benchmarking"), 0.0))

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start


def logits(engine: str, weights: dict, pruned: tuple[str, ...], images: np.ndarray,
           layers: tuple[Layer, ...] = PAPER_LAYERS) -> np.ndarray:
    predict = ENGINES[engine].network(weights, pruned, layers=layers)
    return np.concatenate([predict(images[i:i + EVAL_BATCH]) for i in range(0, len(images), EVAL_BATCH)])


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores, axis=1) == labels))


class ModelBuilder:
    """Session-wide access to baseline and pruned models, each built once and cached on disk."""

    def __init__(self, data: Mnist, settings: Settings, cache: ModelStore, clock: PhaseClock, eval_images: int,
                 progress=None, formats: tuple[str, ...] = SIZE_TABLE_FORMATS):
        self.data, self.settings, self.cache, self.clock = data, settings, cache, clock
        self.eval_images = eval_images
        self.formats = tuple(formats)  # the size table's storage formats (a profile's ``formats``)
        self.images = to_inputs(data.test_images[:eval_images])
        self.labels = data.test_labels[:eval_images]
        self._models: dict[ModelSpec, SuiteModel] = {}
        self._code = code_version()
        self.progress = progress or NoProgress()  # a prunebench.build.progress.BuildProgress (conftest.py sets one)
        self.workload: Workload = get_workload(settings.workload or DEFAULT_WORKLOAD)
        self.layers = self.workload.layers
        self.names = variable_names(self.layers)  # every variable, in the checkpoints' order
        self._workload_key = self._workload_fields()  # once: a user's module is hashed as the session found it

    def get(self, spec: ModelSpec) -> SuiteModel:
        if spec not in self._models:
            if spec.ratio != 0:
                self.get(ModelSpec(0.0, spec.seed))  # its baseline first, reported as a model of its own
            self.progress.model_started(spec)
            self._models[spec] = self._baseline(spec.seed) if spec.ratio == 0 else self._pruned(spec)
            self.progress.model_finished()
        return self._models[spec]

    @contextmanager
    def _phase(self, name: str):
        """A build phase: timed by the clock, announced to the progress display."""
        self.progress.phase(name)
        with self.clock.phase(name):
            yield

    def loaded(self) -> list[SuiteModel]:
        return list(self._models.values())

    def _seed_settings(self, seed: int) -> Settings:
        return Settings(**{**self.settings.__dict__, "seed": seed})

    def _baseline_fields(self, seed: int) -> dict:
        s = self.settings
        return {"kind": "baseline", "data": self.data.checksum, "max_steps": s.max_steps,
                "batch_size": s.batch_size, "seed": seed, "deterministic": s.deterministic,
                "eval_images": self.eval_images,
                **({} if self.formats == SIZE_TABLE_FORMATS else {"formats": list(self.formats)}),
                "code": self._code, "tensorflow": tf.__version__, **self._workload_key}

    def _workload_fields(self) -> dict:
        """What identifies another workload than the paper's CNN (whose keys name none, as before workloads):
        its name, its layer stack, its learning rates and, for a user's, its module's source."""
        if self.settings.workload is None:
            return {}
        training = self.workload.training
        source = {"source": source_digest(self.settings.workload)} if is_reference(self.settings.workload) else {}
        return {"workload": self.settings.workload, "layers": [repr(layer) for layer in self.layers],
                "learning_rates": [training.learning_rate, training.retrain_learning_rate], **source}

    def _label(self, label: str) -> str:
        return label if self.settings.workload is None else f"{self.workload.name.replace(':', '.')}-{label}"

    def _baseline(self, seed: int) -> SuiteModel:
        spec = ModelSpec(0.0, seed)

        def build(tmp: Path) -> None:
            with self._phase("training"):
                train_baseline(self.data, self._seed_settings(seed), tmp / "step_1", on_step=self.progress.step,
                               workload=self.workload)
            with self._phase("measuring"):
                weights = load_dense(tmp / "step_1", self.names)[0]
                row = self._row(spec, weights, weights, None)
                row["sizes"]["step_1"] = directory_bytes(tmp / "step_1")
                atomic.write_text(tmp / MEASUREMENTS, json.dumps(row, indent=1, sort_keys=True))

        directory = self.cache.get_or_build(self._label(f"baseline-seed{seed}"), self._baseline_fields(seed), build)
        weights = load_dense(directory / "step_1", self.names)[0]
        return SuiteModel(spec, weights, (), _read_row(directory), directory)

    def _pruned(self, spec: ModelSpec) -> SuiteModel:
        baseline = self.get(ModelSpec(0.0, spec.seed))
        s = self.settings
        fields = {**self._baseline_fields(spec.seed), "kind": "pruned", "ratio": spec.ratio,
                  "retrain_steps": s.retrain_steps, "variables": list(s.variables)}
        label = f"ratio{spec.ratio:g}-seed{spec.seed}"
        if spec.method != DEFAULT_METHOD:  # one-shot keeps the keys it had before methods: its caches stay valid
            fields.update(method=spec.method, method_params=METHODS[spec.method].params(s.retrain_steps))
            label += f"-{spec.method}"
        ratios = spec.ratio if spec.policy is None else dict(self.workload.ratio_presets[spec.policy])
        if spec.policy is not None:  # a per-layer map: its ratios decide the model, the overall one follows
            fields.update(ratios=ratios)
            label += f"-{spec.policy}"

        def build(tmp: Path) -> None:
            with self._phase("retraining"):
                outcome = prune_with_method(self.data, self._seed_settings(spec.seed), ratios, spec.method,
                                            baseline.directory / "step_1", tmp / "step_2_1", tmp / "step_2_2",
                                            on_step=self.progress.step, workload=self.workload)
            with self._phase("sparsifying"):
                sparsify_step(tmp / "step_2_2", tmp / "step_3", s.variables, self.workload)
            with self._phase("measuring"):
                before = load_dense(tmp / "step_2_1", self.names)[0]
                dense = load_dense(tmp / "step_2_2", self.names)[0]
                sparse = load_sparse(tmp / "step_3", self.names)[0]
                row = self._row(spec, dense, sparse, before)
                row["variables"] = {name: {"threshold": r.threshold, "total": r.total, "nonzero": r.nonzero}
                                    for name, r in outcome.reports.items()}
                row["zeros_held"] = all(np.array_equal(before[n] == 0, dense[n] == 0) for n in s.variables)
                if outcome.schedule is not None:
                    row["schedule"] = outcome.schedule
                row["sizes"].update(step_1=baseline.record["sizes"]["step_1"],
                                    step_2_2=directory_bytes(tmp / "step_2_2"),
                                    step_3=directory_bytes(tmp / "step_3"))
                atomic.write_text(tmp / MEASUREMENTS, json.dumps(row, indent=1, sort_keys=True))

        directory = self.cache.get_or_build(self._label(label), fields, build)
        # fair budgets: every method trains exactly retrain_steps after the baseline (prune/methods/base.py)
        record = {**_read_row(directory), "method": spec.method, "train_steps_after_baseline": s.retrain_steps}
        if spec.policy is not None:
            record.update(policy=spec.policy, ratios=ratios)
        return SuiteModel(spec, load_sparse(directory / "step_3", self.names)[0], s.variables, record, directory)

    def _row(self, spec: ModelSpec, dense: dict, sparse: dict, before: dict | None) -> dict:
        """Everything measured about one model except time."""
        names = self.settings.variables
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The size table (zstd and zlib, which release the GIL) is encoded while TensorFlow computes the
            # logits: tf-sparse's matmul keeps one core busy, the table's longest encoding the other.
            sizes = pool.submit(size_table, dense, list(names), self.formats)
            row = self._unsized_row(spec, dense, sparse, before)
            row.update(sizes.result())
        return row

    def _unsized_row(self, spec: ModelSpec, dense: dict, sparse: dict, before: dict | None) -> dict:
        """``_row`` without the size table."""
        names = self.settings.variables
        dense_logits = logits("tf-dense", dense, (), self.images, self.layers)
        row = {
            "ratio": spec.ratio, "seed": spec.seed,
            **({} if self.settings.workload is None else {"workload": self.settings.workload}),
            "variables": {n: {"threshold": 0.0, "total": int(dense[n].size),
                              "nonzero": int(np.count_nonzero(dense[n]))} for n in names},
            "nonzero": int(sum(np.count_nonzero(dense[n]) for n in names)),
            "accuracy": {"dense": accuracy(dense_logits, self.labels), "sparse": None, "before_retrain": None,
                         "float16": self._float16_accuracy(dense)},
            # which evaluation images the dense model gets right: claim (b) pairs them with the baseline's
            "correct": {"dense": encode_correct(np.argmax(dense_logits, axis=1) == self.labels)},
            "sizes": {"step_1": None, "step_2_2": None, "step_3": None,
                      "weights_dense": int(sum(w.nbytes for w in dense.values())),
                      "weights_sparse": int(sum(12 * np.count_nonzero(dense[n]) if n in names else dense[n].nbytes
                                                for n in dense)),
                      # the deployment files: LiteRT flatbuffers, plain and with the sparsity-aware conversion
                      "tflite_dense": len(tflite_model_bytes(dense, names, sparse=False, layers=self.layers)),
                      "tflite_sparse": len(tflite_model_bytes(dense, names, sparse=True, layers=self.layers))},
            "timings": {},
        }
        if before is not None:
            sparse_logits = logits("tf-sparse", sparse, names, self.images, self.layers)
            row["accuracy"]["sparse"] = accuracy(sparse_logits, self.labels)
            row["accuracy"]["before_retrain"] = accuracy(logits("tf-dense", before, (), self.images, self.layers),
                                                         self.labels)
            row["agreement"] = {
                "same_class": bool(np.array_equal(dense_logits.argmax(1), sparse_logits.argmax(1))),
                "max_logit_difference": float(np.max(np.abs(dense_logits - sparse_logits))),
            }
        return row

    def _float16_accuracy(self, weights: dict) -> float | None:
        """Accuracy with the pruned variables stored in the lossy float16 format (decoded back)."""
        lossy = next((f for f in FORMATS.values() if not f.lossless), None)
        if lossy is None:
            return None
        if isinstance(lossy, Compressed):  # its codec is lossless: the layout alone decides the values
            lossy = lossy.inner
        decoded = {n: lossy.decode(lossy.encode(w.reshape(-1, w.shape[-1]))).reshape(w.shape)
                   if n in self.settings.variables else w for n, w in weights.items()}
        return accuracy(logits("tf-dense", decoded, (), self.images, self.layers), self.labels)


def _read_row(directory: Path) -> dict:
    return json.loads((directory / MEASUREMENTS).read_text())


def make_builder(data: Mnist, settings: Settings, eval_images: int, cache_root: str | None = None, *,
                 shared: bool = False, mode: str | None = None, clock: PhaseClock | None = None,
                 progress=None, formats: tuple[str, ...] = SIZE_TABLE_FORMATS) -> ModelBuilder:
    """The builder of a pytest session, of ``prunebench build`` and of a Ray task, over the cache that
    ``open_cache(cache_root, shared, mode)`` opens: one place decides which store a build runs against."""
    return ModelBuilder(data, settings, open_cache(cache_root, shared=shared, mode=mode), clock or PhaseClock(),
                        eval_images, progress=progress, formats=formats)
