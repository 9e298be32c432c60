"""Pruning methods (prune/methods/): the schedule, ladder and mask maths on their own, no TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from prunebench.errors import UsageError
from prunebench.prune.masks import magnitude_mask
from prunebench.prune.methods import METHODS, PruneEvent, check_plan, check_variables, nested_masks, parse_methods
from prunebench.prune.methods.gradual import Gradual, polynomial_sparsity, should_prune
from prunebench.prune.methods.iterative import Iterative, ratio_ladder
from prunebench.prune.methods.structured import neuron_keep, neuron_norms, removed_neurons, shrink
from prunebench.prune.ratio import prune_count
from prunebench.results.spec import ModelSpec

# Computed by tensorflow-model-optimization 0.8.1's own PolynomialDecay (pruning_schedule.py, float32):
# (initial, final, begin_step, end_step, power, frequency) -> [(step, should prune, sparsity)].
TFMOT_POLYNOMIAL_DECAY = {
    (0.0, 0.9, 0, 1500, 3, 100): [(0, True, 0.0), (1, False, 0.001798868179321289), (100, True, 0.1682666540145874),
                                  (750, False, 0.7874999642372131), (1499, False, 0.8999999761581421),
                                  (1500, True, 0.8999999761581421), (1600, False, 0.8999999761581421)],
    (0.0, 0.99, 0, 21, 3, 3): [(0, True, 0.0), (1, False, 0.13480079174041748), (3, True, 0.3665597438812256),
                               (10, False, 0.847716212272644), (20, False, 0.9898931384086609),
                               (21, True, 0.9900000095367432), (24, False, 0.9900000095367432)],
    (0.5, 0.8, 100, 1100, 3, 100): [(90, False, 0.5), (100, True, 0.5), (101, False, 0.500899076461792),
                                    (200, True, 0.5813000202178955), (600, True, 0.762499988079071),
                                    (1099, False, 0.800000011920929), (1100, True, 0.800000011920929),
                                    (1200, False, 0.800000011920929)],
    (0.2, 0.95, 50, 450, 2, 25): [(40, False, 0.19999998807907104), (50, True, 0.19999998807907104),
                                  (51, False, 0.2037453055381775), (75, True, 0.29082030057907104),
                                  (250, True, 0.762499988079071), (449, False, 0.9499952793121338),
                                  (450, True, 0.949999988079071), (475, False, 0.949999988079071)],
}


@pytest.mark.parametrize("case", list(TFMOT_POLYNOMIAL_DECAY))
def test_polynomial_schedule_matches_tfmot(case):
    initial, final, begin, end, power, frequency = case
    for step, prunes, sparsity in TFMOT_POLYNOMIAL_DECAY[case]:
        assert should_prune(step, begin, end, frequency) == prunes, step
        assert polynomial_sparsity(step, initial, final, begin, end, power) == pytest.approx(sparsity, abs=1e-6)


@pytest.mark.parametrize("budget", [30, 60, 150, 2000, 2001])
@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9, 0.95, 0.99])
def test_every_plan_is_valid_and_ends_at_the_target(budget, ratio):
    for method in METHODS.values():
        events = method.plan(ratio, budget)
        check_plan(events, ratio, budget)
        assert events[-1].sparsity == ratio and events[-1].step < budget, method.name


def test_gradual_plan_uses_tfmot_defaults_within_the_budget():
    gradual = Gradual()
    events = gradual.plan(0.9, 2000)
    assert [event.step for event in events] == list(range(100, 1501, 100))  # every 100 steps to 75% of it
    assert events[0].sparsity == pytest.approx(0.9 * (1 - (1 - 100 / 1500) ** 3))
    assert gradual.params(2000) == {"ranking": "layer", "power": 3, "frequency": 100, "begin_step": 0,
                                    "end_step": 1500, "initial_sparsity": 0.0}
    small = gradual.params(30)
    assert (small["frequency"], small["end_step"]) == (3, 21)  # ten intervals at least: a smaller frequency


def test_iterative_ladder_keeps_the_same_share_each_round():
    ladder = ratio_ladder(0.99, 4)
    densities = 1 - np.array(ladder)
    assert ladder[-1] == 0.99
    np.testing.assert_allclose(densities[1:] / densities[:-1], 0.1 ** 0.5)
    assert ratio_ladder(0.9, 1) == (0.9,)
    events = Iterative().plan(0.9, 2000)
    assert [event.step for event in events] == [0, 500, 1000, 1500]  # equal shares of the one budget
    assert [event.sparsity for event in events] == list(ratio_ladder(0.9, 4))
    assert Iterative().params(3) == {"ranking": "layer", "rounds": 3}


def test_bad_plans_are_refused():
    with pytest.raises(ValueError):
        check_plan((PruneEvent(0, 0.5), PruneEvent(0, 0.9)), 0.9, 10)
    with pytest.raises(ValueError):
        check_plan((PruneEvent(0, 0.9), PruneEvent(5, 0.5)), 0.5, 10)
    with pytest.raises(ValueError):
        check_plan((PruneEvent(10, 0.9),), 0.9, 10)
    with pytest.raises(ValueError):
        check_plan((PruneEvent(0, 0.8),), 0.9, 10)


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=(40, 30)).astype(np.float32), "b": (3 * rng.normal(size=(30, 7))).astype(np.float32)}


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_layer_masks_equal_the_papers(ratio):
    weights = _weights()
    masks = nested_masks(weights, ("a", "b"), ratio, "layer")
    for name, w in weights.items():
        np.testing.assert_array_equal(masks[name], magnitude_mask(w, ratio))


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9, 0.99])
def test_global_masks_prune_the_smallest_across_layers(ratio):
    weights = _weights()
    masks = nested_masks(weights, ("a", "b"), ratio, "global")
    total = sum(w.size for w in weights.values())
    assert sum(int((~m).sum()) for m in masks.values()) == prune_count(total, ratio)  # exact over both layers
    kept = np.concatenate([np.abs(weights[n][masks[n]]) for n in weights])
    cut = np.concatenate([np.abs(weights[n][~masks[n]]) for n in weights])
    assert cut.max() <= kept.min()  # one threshold for both
    # the larger-scaled layer keeps a larger share: global ranking is not per-layer ranking
    assert (~masks["b"]).mean() < (~masks["a"]).mean()


@pytest.mark.parametrize("ranking", ["layer", "global"])
def test_masks_stay_nested_up_the_ladder(ranking):
    weights = _weights(1)
    keep = None
    rng = np.random.default_rng(2)
    for sparsity in ratio_ladder(0.95, 5):
        masks = nested_masks(weights, ("a", "b"), sparsity, ranking, keep=keep)
        if keep is not None:
            for name in weights:
                assert not np.any(masks[name] & ~keep[name]), "a pruned weight came back"
        keep = masks
        # training moves the survivors (pruned ones stay +0.0), possibly below old thresholds
        weights = {n: np.where(keep[n], w + rng.normal(scale=0.5, size=w.shape).astype(np.float32), np.float32(0))
                   for n, w in weights.items()}
    counts = {n: int((~keep[n]).sum()) for n in weights}
    if ranking == "layer":
        assert counts == {n: prune_count(w.size, 0.95) for n, w in weights.items()}
    else:
        assert sum(counts.values()) == prune_count(sum(w.size for w in weights.values()), 0.95)


def test_parse_methods():
    assert parse_methods("oneshot, gradual") == ("oneshot", "gradual")
    for bad in ("", "oneshot,nope", "gradual,gradual"):
        with pytest.raises(UsageError):
            parse_methods(bad)


# ---- the methods axis in the suite, claims, results and report (fabricated results, no training) ---------

def _two_methods():
    import copy

    from factories import fabricate_results

    results = fabricate_results()
    gradual = []
    for model in results["models"]:
        if model["ratio"] > 0:
            model.update(method="oneshot", train_steps_after_baseline=10)
            twin = copy.deepcopy(model)
            twin.update(method="gradual", schedule={"events": [{"step": 3}], "frequency": 3, "power": 3})
            twin["accuracy"]["dense"] = min(1.0, model["accuracy"]["dense"] + 0.005)
            twin["sizes"]["step_3"] += 1  # any difference shows which method a claim was judged on
            gradual.append(twin)
    results["models"] += gradual
    return results


def test_model_ids_stay_for_oneshot_and_name_any_other_method():
    from prunebench.results.spec import ModelSpec

    assert ModelSpec(0.9, 0).id == "ratio=0.9-seed=0" == ModelSpec(0.9, 0, "oneshot").id
    assert ModelSpec(0.9, 0, "gradual").id == "ratio=0.9-seed=0-method=gradual"


def test_suite_config_runs_every_method_at_every_ratio_and_seed():
    from prunebench.results.profiles import PROFILES
    from prunebench.suite.config import SuiteConfig
    from prunebench.suite.options import SUITE_OPTIONS

    def config(**given):
        defaults = {option.dest: option.default for option in SUITE_OPTIONS}
        return SuiteConfig.from_options(lambda dest: {**defaults, **given}[dest], lambda: ("tf-dense", "tf-sparse"))

    quick = config()
    assert quick.methods == ("oneshot",) and "methods" not in quick.profile_record()  # quick unchanged
    assert all(spec.method == "oneshot" for spec in quick.model_specs())
    both = config(methods=("oneshot", "gradual"))
    specs = both.model_specs()
    assert [spec for spec in specs if spec.ratio == 0] == [ModelSpec(0.0, 0)]  # one baseline, shared
    assert sorted((s.method, s.ratio, s.seed) for s in specs if s.ratio > 0) == sorted(
        (m, r, 0) for m in ("oneshot", "gradual") for r in PROFILES["quick"]["ratios"])
    two_seeds = config(methods=("oneshot", "gradual"), seeds=2).model_specs()
    assert [spec for spec in two_seeds if spec.ratio == 0] == [ModelSpec(0.0, 0), ModelSpec(0.0, 1)]
    methods = config(profile="methods")
    assert methods.methods == tuple(METHODS) and methods.settings.retrain_steps == 2_000
    assert config(profile="paper").methods == ("oneshot",)


def test_claims_are_judged_per_method_and_oneshot_alone_is_unchanged():
    from factories import fabricate_results

    from prunebench.verdicts.judging import evaluate_claims

    expectations = {"claims": {"b:*": {"verdict": "supported", "reason": "any"},
                               "b/gradual:*": {"verdict": "refuted", "reason": "gradual's own"}}}
    alone = evaluate_claims(fabricate_results(), expectations)
    both = evaluate_claims(_two_methods(), expectations)
    oneshot = [claim for claim in both if claim["method"] == "oneshot"]
    gradual = [claim for claim in both if claim["method"] == "gradual"]
    assert len(oneshot) == len(gradual) == len(alone)
    for mine, before in zip(oneshot, alone):  # the same verdicts and data as with no other method present
        assert {k: v for k, v in mine.items()} == {**before, "method": "oneshot"}
    step_3 = next(c for c in gradual if c["id"] == "a" and c["subject"] == "size:step_3" and c["range"] == "paper")
    assert step_3["y"] == [y + 1 for y in next(c for c in oneshot if c["id"] == "a" and c["subject"] ==
                                               "size:step_3" and c["range"] == "paper")["y"]]
    assert {c["expected"] for c in gradual if c["id"] == "b"} == {"refuted"}
    assert {c["expected"] for c in oneshot if c["id"] == "b"} == {"supported"}


def test_merge_keeps_each_methods_models_apart():
    from prunebench.results.contract import merge_results

    results = _two_methods()
    merged = merge_results([results])
    assert len(merged["models"]) == len(results["models"])


def test_report_draws_the_frontier_per_method(tmp_path):
    from factories import fabricate_results

    from prunebench.report.document import write_report
    from prunebench.report.figure_files import FIGURES, METHODS_FIGURE
    from prunebench.verdicts.judging import evaluate_claims

    results = _two_methods()
    results["claims"] = evaluate_claims(results, {})
    paths = write_report(results, tmp_path)
    assert paths[-1] == tmp_path / "figures" / METHODS_FIGURE and paths[-1].read_bytes().startswith(b"\x89PNG")
    text = (tmp_path / "report.md").read_text()
    assert "## Pruning methods: accuracy against sparsity" in text and "| ratio | oneshot | gradual |" in text
    assert "| gradual | 10 | 1 | frequency 3, power 3 |" in text
    assert "| method | claim | range |" in text  # the conclusions name each claim's method
    assert "tfmot" not in text  # no reference trained: no column
    ratio = next(model["ratio"] for model in results["models"] if model["ratio"] > 0)
    results["references"] = {"tfmot-gradual": [{"ratio": ratio, "accuracy": 0.97654}]}
    write_report(results, tmp_path / "with-tfmot")
    text_tfmot = (tmp_path / "with-tfmot" / "report.md").read_text()
    assert "| ratio | oneshot | gradual | tfmot (gradual's reference) |" in text_tfmot and "| 97.65% |" in text_tfmot
    # the paper's tables show the one-shot models only
    alone = fabricate_results()
    alone["claims"] = evaluate_claims(alone, {})
    assert write_report(alone, tmp_path / "alone")[1:] == [tmp_path / "alone" / "figures" / n for n in FIGURES]
    table_9 = text.split("### Table 9")[1].split("###")[0]
    assert table_9 == (tmp_path / "alone" / "report.md").read_text().split("### Table 9")[1].split("###")[0]


# ---- structured: whole fc1 neurons ----------------------------------------------------------------------

def _fc_weights(seed=0, units=64):
    rng = np.random.default_rng(seed)
    return {"w_fc1": (rng.normal(size=(50, units)) * rng.uniform(0.1, 2.0, units)).astype(np.float32),
            "b_fc1": rng.normal(size=units).astype(np.float32),
            "w_fc2": rng.normal(size=(units, 10)).astype(np.float32),
            "b_fc2": rng.normal(size=10).astype(np.float32)}


def _fc_logits(weights, x):
    return np.maximum(x @ weights["w_fc1"] + weights["b_fc1"], 0.0) @ weights["w_fc2"] + weights["b_fc2"]


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9, 0.99])
def test_neuron_masks_remove_whole_neurons_with_the_smallest_norms(ratio):
    weights = _fc_weights()
    masks = nested_masks(weights, ("w_fc1", "w_fc2"), ratio, "neuron")
    kept = neuron_keep(weights["w_fc1"], ratio)
    assert int((~kept).sum()) == prune_count(64, ratio)
    np.testing.assert_array_equal(masks["w_fc1"], np.broadcast_to(kept, (50, 64)))  # whole columns
    np.testing.assert_array_equal(masks["w_fc2"], np.broadcast_to(kept[:, None], (64, 10)))  # whole rows
    norms = neuron_norms(weights["w_fc1"])
    assert norms[~kept].max() <= norms[kept].min()
    assert METHODS["structured"].plan(ratio, 100) == (PruneEvent(0, ratio),)


def test_removed_neurons_stay_removed_and_other_variables_are_refused():
    weights = _fc_weights(1)
    first = nested_masks(weights, ("w_fc1", "w_fc2"), 0.5, "neuron")
    # training moves the survivors; a removed neuron's large bias does not bring it back
    moved = {name: np.where(first[name], w * 0.01, np.float32(0)) if name in first else w
             for name, w in weights.items()}
    second = nested_masks(moved, ("w_fc1", "w_fc2"), 0.75, "neuron", keep=first)
    assert not np.any(second["w_fc1"] & ~first["w_fc1"]) and int((~second["w_fc1"][0]).sum()) == 48
    with pytest.raises(ValueError, match="exactly w_fc1, w_fc2"):
        nested_masks(weights, ("w_fc1",), 0.5, "neuron")
    with pytest.raises(UsageError, match="prunes whole fc1 neurons"):
        check_variables(("oneshot", "structured"), ("w_conv1", "w_fc1", "w_fc2"))
    check_variables(("oneshot", "gradual"), ("w_conv1",))  # the others take any variables


def test_shrink_gives_the_same_logits_from_a_narrower_layer():
    weights = _fc_weights(2)
    masks = nested_masks(weights, ("w_fc1", "w_fc2"), 0.9, "neuron")
    masked = {name: np.where(masks[name], w, np.float32(0)) if name in masks else w for name, w in weights.items()}
    narrow = shrink(masked)
    kept = prune_count(64, 0.9)
    assert narrow["w_fc1"].shape == (50, 64 - kept) and narrow["b_fc1"].shape == (64 - kept,)
    assert narrow["w_fc2"].shape == (64 - kept, 10) and narrow["b_fc2"] is masked["b_fc2"]
    x = np.random.default_rng(3).normal(size=(5, 50)).astype(np.float32)
    np.testing.assert_allclose(_fc_logits(narrow, x), _fc_logits(masked, x), rtol=1e-5, atol=1e-5)
    # a zero w_fc1 column whose w_fc2 row is not zero still adds relu(bias) x row: it stays
    masked["w_fc2"][np.flatnonzero(~masks["w_fc2"][:, 0])[0]] = 1.0
    assert shrink(masked)["w_fc1"].shape[1] == 64 - kept + 1
    # nothing removed: the same shapes; everything removed: one neuron stays so the layer has a shape
    assert shrink(weights)["w_fc1"].shape == (50, 64)
    empty = {**weights, "w_fc1": np.zeros_like(weights["w_fc1"]), "w_fc2": np.zeros_like(weights["w_fc2"])}
    assert shrink(empty)["w_fc1"].shape == (50, 1) and not removed_neurons(weights).any()


def test_every_profile_says_how_many_rounds_to_time():
    """The methods profile once had FC1 rounds but no network rounds: its timing phase would have failed."""
    from bench.timing import FC1_ROUNDS, NETWORK_BUDGET_S, NETWORK_ROUNDS
    from prunebench.results.profiles import PROFILES

    for name, profile in PROFILES.items():
        assert set(profile["batches"]) <= set(FC1_ROUNDS[name]), name
        assert set(profile["network_batches"]) <= set(NETWORK_ROUNDS[name]) and NETWORK_BUDGET_S[name] > 0, name


def test_the_tfmot_reference_says_why_it_cannot_run(monkeypatch):
    import importlib.util

    from prunebench.build import tfmot_reference

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "tf_keras" else real(name))
    reason = tfmot_reference.unavailable_reason()
    assert "tf_keras not installed" in reason and "pip install -e '.[tfmot]'" in reason
