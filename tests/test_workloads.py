"""Workloads: the registry, the layer stacks, per-layer ratio maps, every engine on the LeNets, and a user's
own model, with its mistakes refused in one line."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from prunebench.errors import UsageError
from prunebench.model.constants import weight_shapes as paper_shapes
from prunebench.model.workloads import (
    DEFAULT_WORKLOAD,
    HAN,
    PAPER_CNN,
    WORKLOADS,
    get_workload,
    prunable,
    shapes,
    variable_names,
)
from prunebench.model.workloads.layers import Conv2D, Dense, Flatten, MaxPool
from prunebench.model.workloads.layers import weight_shapes as stack_shapes
from prunebench.model.workloads.lenet import HAN_TABLE
from prunebench.prune.api import prune_weights
from prunebench.prune.methods import METHODS, layer_plan, nested_masks
from prunebench.prune.ratio import overall_ratio, prune_count, ratio_of
from prunebench.results.keys import TimingKey
from prunebench.results.spec import ModelSpec
from prunebench.suite.options import SUITE_OPTIONS, ratio_list

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "small_cnn.py"  # the documented user workload

# Han et al. (2015), Table 1: the networks' sizes, "267K" and "431K" weights
HAN_PARAMETERS = {"lenet-300-100": 266_610, "lenet-5": 431_080}


def parameter_count(workload) -> int:
    return sum(math.prod(shape) for shape in shapes(workload).values())


def test_the_paper_cnn_is_the_default_and_its_stack_gives_the_papers_shapes():
    from prunebench.model.cnn import PAPER_NAMES, PARAMETER_COUNT

    assert DEFAULT_WORKLOAD == PAPER_CNN.name and WORKLOADS[DEFAULT_WORKLOAD] is PAPER_CNN
    assert shapes(PAPER_CNN) == paper_shapes()
    assert parameter_count(PAPER_CNN) == PARAMETER_COUNT
    assert variable_names(PAPER_CNN.layers) == PAPER_NAMES == tuple(paper_shapes())
    assert PAPER_CNN.default_pruned == ("w_fc1", "w_fc2")


@pytest.mark.parametrize("name", sorted(HAN_PARAMETERS))
def test_the_lenets_have_han_et_als_sizes_and_per_layer_shares(name):
    workload = WORKLOADS[name]
    assert parameter_count(workload) == HAN_PARAMETERS[name]
    assert workload.default_pruned == prunable(workload)  # every kernel, conv layers included
    assert {variable: round(1 - ratio, 6) for variable, ratio in workload.ratio_presets[HAN].items()} \
        == dict(HAN_TABLE[name].kept)
    totals = {variable: math.prod(shape) for variable, shape in shapes(workload).items()
              if variable in workload.default_pruned}
    kept = 1 - overall_ratio(workload.ratio_presets[HAN], totals)
    assert kept == pytest.approx(HAN_TABLE[name].weights_kept, abs=0.005)  # their "12x"


@pytest.mark.parametrize(("layers", "message"), [
    ((Flatten(), Dense("fc", 10), Conv2D("conv", 4, 3)), "after Flatten"),
    ((Dense("fc", 10),), "before Flatten"),
    ((Conv2D("conv", 4, 3), Flatten()), "end with a Dense"),
    ((MaxPool(64), Flatten(), Dense("fc", 10)), "to nothing"),
])
def test_impossible_stacks_are_refused(layers, message):
    with pytest.raises(UsageError, match=message):
        stack_shapes(layers, (28, 28, 1))


@pytest.mark.parametrize("name", sorted(HAN_PARAMETERS))
def test_a_lenets_keras_model_is_its_stack(name):
    from prunebench.model.keras_model import describe, get_weights

    workload = WORKLOADS[name]
    model = workload.build_model(0)
    assert describe(model) == workload.layers
    assert {variable: value.shape for variable, value in get_weights(model).items()} == shapes(workload)
    assert tuple(get_weights(model)) == variable_names(workload.layers)


def test_per_layer_ratios_prune_each_variable_at_its_own_ratio():
    rng = np.random.default_rng(0)
    workload = WORKLOADS["lenet-5"]
    weights = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes(workload).items()}
    ratios = workload.ratio_presets[HAN]
    pruned, masks, reports = prune_weights(weights, workload.default_pruned, ratios)
    for name, ratio in ratios.items():
        assert reports[name].nonzero == weights[name].size - prune_count(weights[name].size, ratio)
        assert np.array_equal(masks[name], nested_masks(weights, workload.default_pruned, ratios, "layer")[name])
    assert np.array_equal(pruned["b_fc1"], weights["b_fc1"])
    with pytest.raises(UsageError, match="not 'w_fc3'"):
        ratio_of(ratios, "w_fc3")
    with pytest.raises(ValueError, match="one ratio"):
        nested_masks(weights, workload.default_pruned, ratios, "global")


def test_a_per_layer_plan_follows_each_layers_own_ladder():
    ratios = {"w_a": 0.92, "w_b": 0.5}
    events = layer_plan(METHODS["iterative"], ratios, 100)
    assert [event.step for event in events] == [0, 25, 50, 75]
    for name, ratio in ratios.items():
        assert [event.sparsity[name] for event in events] == \
            [event.sparsity for event in METHODS["iterative"].plan(ratio, 100)]
    gradual = layer_plan(METHODS["gradual"], ratios, 1000)
    assert gradual[-1].sparsity == ratios and all(0 < event.sparsity["w_a"] for event in gradual)
    with pytest.raises(UsageError, match="per-layer"):
        layer_plan(METHODS["oneshot-global"], ratios, 100)


def test_ratio_options_take_ratios_and_named_maps():
    assert ratio_list("0.5,han") == (0.5, "han")
    for text, message in (("han,han", "twice"), ("1.5", "outside"), ("0.5,-", "not a number")):
        with pytest.raises(UsageError, match=message):
            ratio_list(text)


def suite_config(**options):
    from prunebench.suite.config import SuiteConfig

    values = {option.dest: option.default for option in SUITE_OPTIONS} | options
    return SuiteConfig.from_options(values.get, lambda: ("tf-dense", "tf-sparse"))


def test_the_paper_cnns_runs_record_no_workload():
    suite = suite_config(ratios=(0.9,), seeds=1)
    assert suite.settings.workload is None and "workload" not in suite.profile_record()
    assert [spec.id for spec in suite.model_specs()] == ["ratio=0-seed=0", "ratio=0.9-seed=0"]


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_the_paper_profile_runs_each_workload_at_its_own_protocol(name):
    training, paper = WORKLOADS[name].training, suite_config(profile="paper", workload=name).settings
    assert (paper.max_steps, paper.batch_size, paper.retrain_steps) == (training.steps, training.batch_size,
                                                                         training.retrain_steps)
    quick, paper_cnn_quick = suite_config(workload=name).settings, suite_config().settings
    assert (quick.max_steps, quick.batch_size) == (paper_cnn_quick.max_steps, paper_cnn_quick.batch_size)


def test_a_lenet_run_prunes_every_kernel_and_han_et_als_map_beside_the_ratios():
    suite = suite_config(workload="lenet-300-100", ratios=(0.5, "han"), seeds=1)
    assert suite.settings.workload == "lenet-300-100"
    assert suite.settings.variables == ("w_fc1", "w_fc2", "w_fc3")
    record = suite.profile_record()
    assert record["workload"] == "lenet-300-100" and record["policies"] == {HAN: {"w_fc1": 0.92, "w_fc2": 0.91,
                                                                                  "w_fc3": 0.74}}
    specs = suite.model_specs()
    han = next(spec for spec in specs if spec.policy == HAN)
    assert han.id == f"ratio={han.ratio:g}-seed=0-ratios=han" and 0.91 < han.ratio < 0.92
    assert ModelSpec(0.5, 0) in specs


@pytest.mark.parametrize(("options", "message"), [
    ({"workload": "nope"}, "unknown workload 'nope'"),
    ({"workload": "lenet-5", "pruning_variable_names": "w_fc3"}, "unknown pruning variable 'w_fc3'"),
    ({"workload": "lenet-5", "ratios": ("han",), "pruning_variable_names": "w_fc1"}, "the map names"),
    ({"ratios": ("han",)}, "has no per-layer ratio map 'han'"),
    ({"workload": "lenet-5", "ratios": ("han",), "methods": ("oneshot-global",)}, "not per layer"),
    ({"workload": "lenet-5", "methods": ("structured",), "pruning_variable_names": "w_fc1,w_fc2"}, "fc1 neurons"),
])
def test_bad_workload_options_are_one_line(options, message):
    with pytest.raises(UsageError, match=message) as error:
        suite_config(**options)
    assert "\n" not in str(error.value)


# The bad factories a user might write; the good one is the documented example (examples/small_cnn.py), copied
# beside them so both load from a directory outside the project.
USER_MODULE = """
    import keras


    def with_dropout():
        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dropout(0.5),
                                 keras.layers.Dense(10, name="logits")])


    def not_a_model():
        return "a model"


    def needs_an_argument(width):
        return None


    def raises():
        raise RuntimeError("no GPU here")

    NUMBER = 3
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "user_workloads.py").write_text(textwrap.dedent(USER_MODULE))
    shutil.copy(EXAMPLE, tmp_path / "small_cnn.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "user_workloads"
    for name in ("user_workloads", "small_cnn"):
        sys.modules.pop(name, None)


def test_a_users_keras_model_becomes_a_workload(user_module):
    workload = get_workload("small_cnn:small_cnn")
    assert workload.layers == (Conv2D("conv", 16, 5, padding="valid"), MaxPool(2), Flatten(), Dense("hidden", 128),
                               Dense("logits", 10, activation=None))
    assert workload.default_pruned == ("w_conv", "w_hidden", "w_logits")
    suite = suite_config(workload="small_cnn:small_cnn", pruning_variable_names="w_hidden,w_logits",
                         ratios=(0.9,), seeds=1)
    assert suite.settings.workload == "small_cnn:small_cnn"


@pytest.mark.parametrize(("factory", "message"), [
    ("no_such_module:make", "cannot import no_such_module"),
    ("{module}:missing", "has no missing"),
    ("{module}:NUMBER", "is a int, not a factory"),
    ("{module}:not_a_model", "returned a str, not a keras.Model or a Workload"),
    ("{module}:needs_an_argument", "without arguments"),
    ("{module}:raises", "raised RuntimeError: no GPU here"),
    ("{module}:with_dropout", "is a Dropout; the engines know"),
    ("{module}:", "expected package.module:factory"),
])
def test_a_bad_user_workload_is_one_line(user_module, factory, message):
    with pytest.raises(UsageError, match=message) as error:
        get_workload(factory.format(module=user_module))
    assert "\n" not in str(error.value)


def test_a_variable_not_in_the_users_model_is_one_line(user_module):
    with pytest.raises(UsageError, match="unknown pruning variable 'w_fc1': choose from w_conv, w_hidden, w_logits"):
        suite_config(workload="small_cnn:small_cnn", pruning_variable_names="w_fc1")


@pytest.mark.parametrize("name", sorted(HAN_PARAMETERS))
def test_every_engine_runs_a_lenet_as_keras_does(name):
    """Every engine available here gives the Keras model's logits for a LeNet pruned at Han et al.'s ratios
    (the sparse ones with every kernel stored sparse where they can), and says which layers it runs sparse."""
    from prunebench.model.data import IMAGE_SHAPE
    from prunebench.model.engines import ENGINES
    from prunebench.model.keras_model import get_weights, set_weights

    workload = WORKLOADS[name]
    model = workload.build_model(0)
    weights = prune_weights(get_weights(model), workload.default_pruned, workload.ratio_presets[HAN])[0]
    set_weights(model, weights)
    images = np.random.default_rng(1).random((5, *IMAGE_SHAPE, 1), dtype=np.float32)
    expected = np.asarray(model(images))
    for engine in ENGINES.values():
        if engine.unavailable_reason("cpu") is not None:
            continue
        assert set(engine.sparse_kinds) <= {"Dense", "converter"}
        for batch in (images[:1], images):
            logits = engine.network(weights, workload.default_pruned, "cpu", workload.layers)(batch)
            np.testing.assert_allclose(logits, expected[:len(batch)], atol=2e-4, err_msg=engine.name)


def test_formats_size_every_pruned_variable_of_a_lenet():
    from prunebench.prune.formats import size_table

    workload = WORKLOADS["lenet-5"]
    rng = np.random.default_rng(2)
    weights = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes(workload).items()}
    pruned = prune_weights(weights, workload.default_pruned, workload.ratio_presets[HAN])[0]
    table = size_table(pruned, list(workload.default_pruned), formats=["dense-float32", "csr-int32"])
    dense_bytes = 4 * parameter_count(workload)
    headers = table["formats"]["dense-float32"]["model_bytes"] - dense_bytes  # each blob describes itself
    assert 0 < headers <= 64 * len(weights)
    assert table["formats"]["csr-int32"]["model_bytes"] < dense_bytes / 4
    assert 0 < table["entropy_bound"]["model_bytes"] < table["formats"]["csr-int32"]["model_bytes"]


@pytest.mark.slow
def test_a_users_workload_runs_through_the_suite(tmp_path, mnist_dir):
    """The documented example, copied to a folder outside the project, through the suite: built, timed on
    tf-dense, its claims judged (and reported, not gated: it is not the profile's network)."""
    shutil.copy(EXAMPLE, tmp_path / "small_cnn.py")
    argv = [sys.executable, "-m", "pytest", "bench/test_models.py", "bench/test_inference.py", "bench/test_claims.py",
            "--workload", "small_cnn:small_cnn", "--profile", "quick", "--retrain-steps", "30", "--ratios", "0.5,0.9",
            "--seeds", "1", "--engines", "tf-dense", "-p", "no:cacheprovider", "-q", "--data-dir", str(mnist_dir),
            "--results-dir", str(tmp_path / "results")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
           "PRUNEBENCH_CACHE": str(tmp_path / "cache")}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["profile"]["workload"] == "small_cnn:small_cnn"
    assert [model["workload"] for model in results["models"]] == ["small_cnn:small_cnn"] * 3
    timed = str(TimingKey("tf-dense", "cpu", "network", 1))
    assert all(timed in model["timings"] for model in results["models"]), [model["timings"] for model in
                                                                             results["models"]]
    judged = [claim for claim in results["claims"] if claim["judged"]]
    assert judged and not any(claim["gated"] for claim in results["claims"])
    assert all("workload small_cnn:small_cnn" in claim["not_gated_because"] for claim in results["claims"])


def test_the_goals_are_the_paper_cnns():
    from prunebench.verdicts.goals import GOALS, Needs

    assert Needs().missing({"ratios": [0.9]}) == []
    assert Needs().missing({"ratios": [0.9], "workload": "lenet-5"}) == ["workload is lenet-5, the goals are the "
                                                                          "paper CNN's"]
    assert all(goal.needs.missing({"ratios": [0.9], "workload": "lenet-5"}) for goal in GOALS)


def test_editing_a_users_module_changes_its_cache_key(user_module, tmp_path):
    """The module's source is in the key: another initializer or layer is a new entry, not a stale one."""
    from prunebench.model.workloads.user import source_digest

    before = source_digest("small_cnn:small_cnn")
    path = tmp_path / "small_cnn.py"
    path.write_text(path.read_text().replace("Dense(128", "Dense(64"))
    assert before is not None and source_digest("small_cnn:small_cnn") != before
    assert source_digest("no_such_module:make") is None
