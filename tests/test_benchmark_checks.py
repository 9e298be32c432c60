"""The benchmarks check what they time and are parametrized over what exists (bench/outputs.py, bench/params.py,
bench/timing.py): a wrong engine fails its benchmark with one clear line, an engine gets items only on the
devices it runs on, and a missing GPU is one skip per engine and benchmark."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from factories import MACHINERY_ONLY

from bench import timing
from bench.outputs import FC1_REFERENCE, TOLERANCE, ReferenceOutputs, check_outputs, fc1_reference
from bench.params import engine_device_params
from bench.timing import time_call, time_interleaved, time_more_rounds

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fc1_layer():
    """A 90%-sparse FC1 of the real shape and a batch of 7 inputs."""
    rng = np.random.default_rng(0)
    kernel = (rng.standard_normal((3136, 1024)) * 0.03).astype(np.float32)
    kernel[rng.random(kernel.shape) < 0.9] = 0.0
    return kernel, np.full(1024, 0.1, np.float32), rng.random((7, 3136), dtype=np.float32)


def off_by(predict, amount: float):
    """``predict`` with every output moved by ``amount``: an engine that computes the wrong thing."""
    return lambda x: predict(x) + np.float32(amount)


def disabled_benchmark():
    """pytest-benchmark's fixture as under --benchmark-disable: pedantic calls the target once."""
    return SimpleNamespace(disabled=True, extra_info={}, pedantic=lambda target, args=(), **_: target(*args))


def test_a_real_engine_passes_the_check_and_the_same_engine_off_by_a_little_fails_it(fc1_layer):
    from prunebench.model.engines import ENGINES

    kernel, bias, x = fc1_layer
    expected = fc1_reference(kernel, bias, x)
    predict = ENGINES["scipy-csr"].fc1(kernel, bias)
    check_outputs(predict(x), expected, "scipy-csr on cpu, fc1 at ratio 0.9, batch=7", FC1_REFERENCE)
    with pytest.raises(AssertionError) as failure:
        check_outputs(off_by(predict, 3 * TOLERANCE)(x), expected, "scipy-csr on cpu, fc1 at ratio 0.9, batch=7",
                      FC1_REFERENCE)
    message = str(failure.value)
    assert "\n" not in message.strip()
    assert message.startswith("scipy-csr on cpu, fc1 at ratio 0.9, batch=7: outputs differ from the reference "
                              f"({FC1_REFERENCE}) by up to 0.0003")
    assert "tolerance 0.0001" in message


@pytest.mark.parametrize("actual, words", [(np.full((2, 3), np.nan), "by up to nan"),
                                           (np.zeros((3, 2)), "shape (3, 2), the reference")],
                         ids=["nan", "shape"])
def test_nan_or_a_wrong_shape_fails(actual, words):
    with pytest.raises(AssertionError, match=words.replace("(", r"\(").replace(")", r"\)")):
        check_outputs(actual, np.zeros((2, 3)), "e on cpu", "ref")


def test_the_tolerance_grows_with_large_outputs():
    expected = np.full((1, 2), 100.0)
    check_outputs(expected + 5e-4, expected, "e on cpu", "ref")  # 1e-5 of 100 is 1e-3
    with pytest.raises(AssertionError, match="tolerance 0.001"):
        check_outputs(expected + 2e-3, expected, "e on cpu", "ref")


def test_time_call_checks_the_engine_on_the_timed_inputs_and_times_only_a_correct_one(fc1_layer):
    from prunebench.model.engines import ENGINES

    kernel, bias, x = fc1_layer
    check = functools.partial(check_outputs, expected=fc1_reference(kernel, bias, x), subject="numba-csr on cpu",
                              reference=FC1_REFERENCE)
    predict, benchmark = ENGINES["numba-csr"].fc1(kernel, bias), disabled_benchmark()
    assert time_call(benchmark, predict, x, 1, "quick", {"engine": "numba-csr"}, check) is None
    assert benchmark.extra_info == {"engine": "numba-csr"}  # it went on to time the call
    benchmark = disabled_benchmark()
    with pytest.raises(AssertionError, match="numba-csr on cpu: outputs differ"):
        time_call(benchmark, off_by(predict, 1e-3), x, 1, "quick", {"engine": "numba-csr"}, check)
    assert benchmark.extra_info == {}  # failed before timing


def test_time_interleaved_checks_each_calls_warm_up_output():
    checked = []

    def check(key, output):
        checked.append(key)
        check_outputs(output, np.zeros(2), f"model {key}", "zeros")

    calls = {"right": lambda: np.zeros(2), "wrong": lambda: np.ones(2)}
    with pytest.raises(AssertionError, match="model wrong: outputs differ from the reference"):
        time_interleaved(disabled_benchmark(), calls, [], (1, 1), 0.1, {"engine": "fake"}, check=check)
    assert checked == ["right", "wrong"]


def test_references_are_computed_once_per_key_and_the_oldest_dropped_past_the_byte_limit(monkeypatch):
    monkeypatch.setattr(timing, "_previous_engine", ["tf-dense"])
    computed = []
    references = ReferenceOutputs(max_bytes=2 * 8 * 100)

    def compute(key):
        computed.append(key)
        return np.zeros(100)

    for key in ("a", "b", "a", "c", "a"):
        references.get(key, functools.partial(compute, key))
    assert computed == ["a", "b", "c"]  # "b" was dropped for "c"; "a", used last, was kept
    assert references.get("b", functools.partial(compute, "b")).shape == (100,) and computed[-1] == "b"
    assert timing._previous_engine == ["reference"]  # so the next engine timed settles first


def test_more_rounds_continue_the_round_index_within_the_budget(monkeypatch):
    monkeypatch.setattr(timing, "_previous_engine", [])
    seen = []
    monkeypatch.setattr(timing, "run_round", lambda calls, index, samples: (
        seen.append(index), [samples[key].append(0.01) for key in calls]))
    samples = {"a": [0.01] * 5, "b": [0.01] * 5}
    calls = {"a": lambda: None, "b": lambda: None}
    ran = time_more_rounds(calls, samples, budget_s=0.2, engine="fake")
    assert ran == len(seen) >= 1 and seen == list(range(5, 5 + ran))
    assert len(samples["a"]) == len(samples["b"]) == 5 + ran
    assert time_more_rounds(calls, samples, budget_s=0.0, engine="fake") == 0


class FakeEngine:
    def __init__(self, devices, reasons=None):
        self.devices, self.reasons = devices, reasons or {}

    def unavailable_reason(self, device):
        return self.reasons.get(device)


@pytest.mark.parametrize("gpu_reason", [None, "TensorFlow sees no GPU"], ids=["gpu-visible", "no-gpu"])
def test_items_only_on_the_devices_an_engine_runs_on_and_one_skip_per_missing_device(gpu_reason):
    engines = {"tf-like": FakeEngine(("cpu", "gpu"), {"gpu": gpu_reason}), "cpu-only": FakeEngine(("cpu",))}
    params = engine_device_params(engines, list(engines), (1, 32), ratios=(0.5, 0.9))
    runnable = [param.id for param in params if not param.marks]
    skipped = [(param.id, param.values, param.marks[0].kwargs["reason"]) for param in params if param.marks]
    # engine by engine (then device), each over every ratio and batch, as the items run: the machine settles
    # only where the engine changes
    assert runnable[:5] == ["ratio=0.5-tf-like-batch=1-cpu", "ratio=0.5-tf-like-batch=32-cpu",
                            "ratio=0.9-tf-like-batch=1-cpu", "ratio=0.9-tf-like-batch=32-cpu",
                            "ratio=0.5-cpu-only-batch=1-cpu" if gpu_reason else "ratio=0.5-tf-like-batch=1-gpu"]
    engine_order = [id_.split("-batch")[0].split("-", 1)[1] for id_ in runnable]
    assert engine_order == sorted(engine_order, key=["tf-like", "cpu-only"].index)
    assert not any("cpu-only" in id_ and id_.endswith("gpu") for id_ in runnable)
    if gpu_reason:  # every ratio and batch on the CPU, and one skipped item for the GPU
        assert len(runnable) == 2 * 2 * 2 and not any(id_.endswith("gpu") for id_ in runnable)
        assert skipped == [("tf-like-gpu", (None, "tf-like", "gpu", None), "tf-like on gpu: TensorFlow sees no GPU")]
    else:  # the whole cross product on the GPU too
        assert len(runnable) == 2 * 2 * 3 and "ratio=0.9-tf-like-batch=32-gpu" in runnable and skipped == []
    without_ratio = engine_device_params(engines, ["tf-like"], (1,))
    assert without_ratio[0].values == ("tf-like", "cpu", 1) and without_ratio[1].values[:2] == ("tf-like", "gpu")


BROKEN_ENGINES = '''
"""Loaded with -p: scipy-csr's FC1 and tf-sparse's network, each off by 1e-3, as a buggy engine would be."""
import numpy as np

from prunebench.model.engines import ENGINES


def off(build):
    def built(*args, **kwargs):
        predict = build(*args, **kwargs)
        return lambda x: predict(x) + np.float32(1e-3)
    return built


for name, method in (("scipy-csr", "fc1"), ("tf-sparse", "network")):
    setattr(ENGINES[name], method, off(getattr(ENGINES[name], method)))
'''


@pytest.mark.slow
def test_a_broken_engine_fails_its_benchmarks_and_a_correct_one_passes(tmp_path, mnist_dir):
    """The benchmark suite itself (tiny models in a cache of its own), with two engines broken by a plugin."""
    (tmp_path / "broken_engines.py").write_text(textwrap.dedent(BROKEN_ENGINES))
    items = ["bench/test_fc1.py::test_fc1[ratio=0.9-scipy-csr-batch=1-cpu]",
             "bench/test_fc1.py::test_fc1[ratio=0.9-tf-dense-batch=1-cpu]",
             "bench/test_inference.py::test_network[tf-sparse-batch=1-cpu]"]
    argv = [sys.executable, "-m", "pytest", *items, "-p", "broken_engines", "--profile", "quick", "--max-steps", "20",
            "--retrain-steps", "5", "--ratios", "0.9", "--seeds", "1", "--benchmark-disable", "-p", "no:cacheprovider",
            "-q", *MACHINERY_ONLY, "--data-dir", str(mnist_dir), "--results-dir", str(tmp_path / "results")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
           "PRUNEBENCH_CACHE": str(tmp_path / "cache")}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert done.returncode == 1 and "2 failed, 1 passed" in out, out[-3000:]
    assert (f"AssertionError: scipy-csr on cpu, fc1 at ratio 0.9, batch=1: outputs differ from the reference "
            f"({FC1_REFERENCE}) by up to 0.001") in out, out[-3000:]
    assert "AssertionError: tf-sparse on cpu, model ratio=0-seed=0, batch=1: outputs differ from the reference " \
           "(tf-dense on cpu) by up to 0.001" in out, out[-3000:]
