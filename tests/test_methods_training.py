"""Every pruning method trained for real on MNIST with tiny step counts: the target sparsity is met exactly,
pruned weights are +0.0 and stay so, and every method trains the same number of steps after the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from prunebench.build.pipeline import prune_with_method, train_baseline
from prunebench.model.checkpoint import load_dense
from prunebench.prune.methods import METHODS
from prunebench.prune.methods.blocks import pruned_weight_count, ranking_block
from prunebench.prune.methods.structured import removed_neurons
from prunebench.prune.ratio import prune_count
from prunebench.results.spec import Settings

STEPS, RETRAIN, RATIO = 60, 30, 0.9
NAMES = ("w_fc1", "w_fc2")


@pytest.fixture(scope="module")
def settings():
    return Settings(max_steps=STEPS, batch_size=32, retrain_steps=RETRAIN, seed=0, variables=NAMES)


@pytest.fixture(scope="module")
def step_1(tmp_path_factory, mnist, settings):
    directory = tmp_path_factory.mktemp("baseline") / "step_1"
    train_baseline(mnist, settings, directory)
    return directory


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, mnist, settings, step_1):
    """Each method's step 2 from the same baseline."""
    runs = {}
    for name in METHODS:
        root = tmp_path_factory.mktemp(name)
        steps_seen = []
        outcome = prune_with_method(mnist, settings, RATIO, name, step_1, root / "step_2_1", root / "step_2_2",
                                    on_step=lambda done, total, seen=steps_seen: seen.append((done, total)))
        runs[name] = (outcome, root, steps_seen)
    return runs


@pytest.mark.parametrize("method", list(METHODS))
def test_target_sparsity_is_met_exactly(outcomes, method):
    outcome, root, _ = outcomes[method]
    after = load_dense(root / "step_2_2")[0]
    zeros = {name: int(np.sum(after[name] == 0)) for name in NAMES}
    if METHODS[method].ranking == "layer":
        assert zeros == {name: prune_count(after[name].size, RATIO) for name in NAMES}
    elif METHODS[method].ranking == "neuron":  # whole neurons: a w_fc1 column and a w_fc2 row each
        neurons = prune_count(after["w_fc1"].shape[1], RATIO)
        assert zeros == {"w_fc1": neurons * after["w_fc1"].shape[0], "w_fc2": neurons * after["w_fc2"].shape[1]}
        assert int(removed_neurons(after).sum()) == neurons
    elif block := ranking_block(METHODS[method].ranking):  # whole blocks of each kernel
        assert zeros == {name: pruned_weight_count(after[name].shape, block, RATIO) for name in NAMES}
        for name in NAMES:  # each 1 x 4 block (one output, four consecutive inputs) is pruned whole or not at all
            blocks = (after[name] == 0).T.reshape(after[name].shape[1], -1, 4)
            assert (blocks.all(axis=2) | ~blocks.any(axis=2)).all()
    else:  # global: exact over the pruned variables together
        assert sum(zeros.values()) == prune_count(sum(after[name].size for name in NAMES), RATIO)
        assert 0 < zeros["w_fc2"] < after["w_fc2"].size
    assert {name: report.nonzero for name, report in outcome.reports.items()} == \
        {name: after[name].size - zeros[name] for name in NAMES}


@pytest.mark.parametrize("method", list(METHODS))
def test_pruned_weights_are_positive_zeros_held_to_the_end(outcomes, method):
    outcome, root, _ = outcomes[method]
    before = load_dense(root / "step_2_1")[0]  # just after the last pruning event
    after, tensors, _ = load_dense(root / "step_2_2")
    for name in NAMES:
        pruned = ~outcome.masks[name]
        np.testing.assert_array_equal(before[name] == 0, pruned)
        np.testing.assert_array_equal(after[name] == 0, pruned)
        # The weights are held at +0.0; Adam's slots keep following the gradients of pruned entries during
        # retraining (the paper's method resets only the weights), so they are not checked here.
        for stored in (before[name], after[name]):
            assert not np.any(np.signbit(stored[pruned])), f"{name}: a pruned entry is -0.0"
        assert not np.array_equal(before[name], after[name]), "the kept weights trained after the last event"


def test_every_method_trains_the_same_budget(outcomes):
    for method, (outcome, root, steps_seen) in outcomes.items():
        manifest = load_dense(root / "step_2_2")[2]
        assert outcome.retrain.steps == RETRAIN, method
        assert manifest["step"] == STEPS + RETRAIN, f"{method}: optimizer steps after the baseline"
        assert steps_seen[-1] == (RETRAIN, RETRAIN) and len(steps_seen) == RETRAIN, method


def test_schedules_are_recorded(outcomes):
    assert outcomes["oneshot"][0].schedule is None  # the paper's path, unchanged
    gradual = outcomes["gradual"][0].schedule
    assert gradual["frequency"] == 3 and gradual["end_step"] == 21 and gradual["power"] == 3
    assert [event["step"] for event in gradual["events"]] == [3, 6, 9, 12, 15, 18, 21]
    nonzero = [event["nonzero"] for event in gradual["events"]]
    assert nonzero == sorted(nonzero, reverse=True)
    iterative = outcomes["iterative"][0].schedule
    assert [event["step"] for event in iterative["events"]] == [0, 7, 15, 22]
