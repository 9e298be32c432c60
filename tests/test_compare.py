"""``prunebench compare``: statistics on their own, then the command on fabricated and on the real paper results."""

from __future__ import annotations

import copy
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from factories import fabricate_results, with_claims, with_samples

from prunebench.cli import main
from prunebench.compare import stats
from prunebench.compare.baselines import class_slug
from prunebench.compare.reading import raw_rounds, timing_entries
from prunebench.results.keys import TimingKey
from prunebench.verdicts.stats import crossover, holm

PAPER_RUN = Path(__file__).resolve().parent / "data" / "schema1-paper-run"
DOCS = Path(__file__).resolve().parents[1] / "docs"


# ---- the statistics -----------------------------------------------------------------------------------

def test_holm_matches_the_step_down_definition():
    adjusted = holm([0.01, 0.04, 0.03, None])
    assert adjusted[3] is None
    assert adjusted[0] == pytest.approx(0.03)   # 3 * 0.01
    assert adjusted[2] == pytest.approx(0.06)   # max(0.03, 2 * 0.03)
    assert adjusted[1] == pytest.approx(0.06)   # max(0.06, 1 * 0.04)
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []


def test_mann_whitney_and_attainable_p():
    assert stats.mann_whitney_p([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]) == 1.0
    assert stats.mann_whitney_p([1.0], [2.0, 3.0]) is None
    assert stats.mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    assert stats.min_attainable_p(3, 3) == pytest.approx(0.1)
    assert stats.min_attainable_p(2, 2) == pytest.approx(1 / 3)
    assert stats.min_attainable_p(600, 600) == 0.0  # the binomial is far beyond a float: no OverflowError
    assert stats.min_attainable_p(20, 20) < 1e-10


def test_time_verdict_needs_both_gates():
    assert stats.time_verdict(1.25, 1e-6) == "slower"
    assert stats.time_verdict(0.8, 1e-6) == "faster"
    assert stats.time_verdict(1.05, 1e-12) == "unchanged"      # significant but below the factor
    assert stats.time_verdict(2.0, 0.02) == "unchanged"        # large but not significant
    assert stats.time_verdict(2.0, None) == "unchanged"
    assert stats.time_verdict(1.25, 1e-6, factor=1.3) == "unchanged"


def test_crossover_and_accuracy_images():
    ratios = [0.1, 0.5, 0.9, 0.95]
    assert crossover(ratios, [5, 3, 1, 0.5], [2, 2, 2, 2]) == 0.9
    assert crossover(ratios, [1, 3, 1, 0.5], [2, 2, 2, 2]) == 0.9     # must hold at every larger ratio too
    assert crossover(ratios, [5, 5, 5, 5], [2, 2, 2, 2]) is None
    assert crossover(ratios, [None, 1, 1, 1], [2, 2, 2, 2]) == 0.5
    assert stats.accuracy_images(0.9883, 0.9881, 10_000) == 2
    assert stats.accuracy_images(0.9883, 0.9883, 10_000) == 0


def _rounds(rng, n: int, slowdown: float) -> tuple[list[float], list[float]]:
    """Realistic timing noise: lognormal, ~10% spread, around 2 ms."""
    base = 2e-3 * rng.lognormal(0.0, 0.1, n)
    new = 2e-3 * (1 + slowdown) * rng.lognormal(0.0, 0.1, n)
    return list(base), list(new)


@pytest.mark.parametrize("n", [20, 50, 100])
def test_a_25_percent_slowdown_is_flagged_and_none_is_not(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        base, new = _rounds(rng, n, 0.25)
        assert stats.time_verdict(stats.median_ratio(base, new), stats.mann_whitney_p(base, new)) == "slower"
        base, new = _rounds(rng, n, 0.0)
        assert stats.time_verdict(stats.median_ratio(base, new), stats.mann_whitney_p(base, new)) == "unchanged"


def _family_runs(rng, runs: int, benchmarks: int, spread: float, shift: float = 0.0) -> tuple[list, list]:
    """Log medians of one family in ``runs`` baseline runs and a new one: a common level per benchmark, a
    shift per run shared by the family (sd ``spread``), 1% noise per benchmark; the new run moved by ``shift``."""
    level = rng.normal(-7.0, 1.0, benchmarks)

    def run(moved: float) -> list[float]:
        return list(level + rng.normal(0.0, spread) + moved + rng.normal(0.0, 0.01, benchmarks))

    return [run(0.0) for _ in range(runs)], run(shift)


def test_between_run_test_is_calibrated_and_finds_a_shift_of_the_whole_family():
    rng = np.random.default_rng(7)
    # No change: the new run is one more draw of the run shift, so p < 0.05 about 5% of the time however
    # large the run shifts are (here 15%, a tf-dense batch-1 family on a shared VM).
    pvalues = [stats.between_run_test(*_family_runs(rng, 5, 14, 0.15))["p"] for _ in range(2000)]
    assert 0.035 < np.mean(np.array(pvalues) < 0.05) < 0.065
    # A 25% slowdown against 3% run shifts, 8 baseline runs: found nearly every time (power about 99%)
    tests = [stats.between_run_test(*_family_runs(rng, 8, 14, 0.03, np.log(1.25))) for _ in range(200)]
    assert {test["df"] for test in tests} == {7}
    assert sum(stats.time_verdict(np.exp(test["d"]), test["p"]) == "slower" for test in tests) >= 194


def test_between_run_test_edges_and_detectable_factor():
    assert stats.between_run_test([[0.0, 1.0]], [0.0, 1.0]) is None  # one baseline run: no spread to judge against
    assert stats.between_run_test([[0.0], [0.0]], []) is None
    assert stats.between_run_test([[0.0, 1.0], [0.0, 1.0]], [0.0, 1.0])["p"] == 1.0
    assert stats.between_run_test([[0.0, 1.0], [0.0, 1.0]], [0.1, 1.1])["p"] == 0.0
    # more baseline runs see smaller changes; never below the factor
    factors = [stats.detectable_factor(0.04 * np.sqrt(1 + 1 / runs), runs - 1, 18) for runs in (2, 3, 5, 10, 30)]
    assert factors == sorted(factors, reverse=True) and factors[-1] >= 1.10 and factors[0] > 2
    assert stats.detectable_factor(0.0, 4, 18) == pytest.approx(1.10)
    # the factor is exp(t quantile x standard error): 1 family, 7 df, alpha 0.01 -> t 3.4995
    assert stats.detectable_factor(0.1, 7, 1) == pytest.approx(np.exp(3.4995 * 0.1), rel=1e-4)


def _interleaved_runs(rng, pairs: int, benchmarks: int, episode: float, spread: float,
                      shift: float = 0.0) -> tuple[list, list]:
    """Log medians of one family in ``pairs`` base and new runs made back to back: each pair shares an
    episode shift (sd ``episode``), each run has its own shift (sd ``spread``), 1% noise per benchmark;
    the new runs moved by ``shift``."""
    level = rng.normal(-7.0, 1.0, benchmarks)
    base, new = [], []
    for _ in range(pairs):
        now = rng.normal(0.0, episode)
        base.append(list(level + now + rng.normal(0.0, spread) + rng.normal(0.0, 0.01, benchmarks)))
        new.append(list(level + now + rng.normal(0.0, spread) + shift + rng.normal(0.0, 0.01, benchmarks)))
    return base, new


def test_paired_runs_test_cancels_episodes_that_mislead_stored_baselines():
    rng = np.random.default_rng(11)
    # Episodes of 15% shared within a pair, 6% per run (the measured spread of a pair's shift is about 9%):
    # calibrated, p < 0.05 about 5% of the time.
    pvalues = [stats.paired_runs_test(*_interleaved_runs(rng, 8, 14, 0.15, 0.06))["p"] for _ in range(2000)]
    assert 0.035 < np.mean(np.array(pvalues) < 0.05) < 0.065
    # A 25% slowdown, 8 pairs: found nearly every time at alpha 0.01
    tests = [stats.paired_runs_test(*_interleaved_runs(rng, 8, 14, 0.15, 0.06, np.log(1.25))) for _ in range(200)]
    assert {test["df"] for test in tests} == {7}
    assert sum(stats.time_verdict(np.exp(test["d"]), test["p"]) == "slower" for test in tests) >= 190
    # The same unchanged runs judged against stored baselines instead: the new run's episode is not the
    # baselines', and the between-run test, which assumes one shared distribution, sees no difference as
    # long as episodes are independent draws; with the baselines all in one episode it calls changes.
    stuck = []
    for _ in range(200):
        base, new = _interleaved_runs(rng, 6, 14, 0.15, 0.06)
        one_episode = [list(np.array(base[0]) + rng.normal(0.0, 0.03)) for _ in range(5)]
        stuck.append(stats.between_run_test(one_episode, new[-1])["p"] < 0.01)
    assert np.mean(stuck) > 0.3


def test_paired_runs_test_edges():
    assert stats.paired_runs_test([[0.0, 1.0]], [[0.0, 1.0]]) is None  # one pair: no spread of the shift
    assert stats.paired_runs_test([[0.0], [0.0]], [[0.0]]) is None  # unpaired
    assert stats.paired_runs_test([[0.0], [0.0]], [[], []]) is None
    unchanged = stats.paired_runs_test([[0.0, 1.0], [0.5, 1.5]], [[0.0, 1.0], [0.5, 1.5]])
    assert unchanged["p"] == 1.0 and unchanged["d"] == 0.0
    moved = stats.paired_runs_test([[0.0, 1.0], [0.5, 1.5]], [[0.25, 1.25], [0.75, 1.75]])
    assert moved["p"] == 0.0 and moved["d"] == 0.25
    test = stats.paired_runs_test([[0.0], [0.0], [0.0]], [[0.1], [0.2], [0.3]])
    assert test["d"] == pytest.approx(0.2) and test["s"] == pytest.approx(0.1)
    assert test["scale"] == pytest.approx(0.1 / np.sqrt(3)) and test["df"] == 2
    assert test["t"] == pytest.approx(0.2 / (0.1 / np.sqrt(3)))


# ---- fabricated results through the command line ---------------------------------------------------------

def _sampled_runs(fabricated: dict, seed: int, unchanged: int, slowdown: dict[str, float] | None = None) -> list[dict]:
    """``unchanged`` copies of ``fabricated`` with raw rounds, then one slowed by ``slowdown`` if given: the runs
    of one machine, drawn from one random stream seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    runs = [with_samples(copy.deepcopy(fabricated), rng) for _ in range(unchanged)]
    return runs + ([with_samples(copy.deepcopy(fabricated), rng, slowdown)] if slowdown else [])


def _pair(tmp_path, base: dict, new: dict) -> tuple[str, str]:
    return _runs(tmp_path, base, new)


def _runs(tmp_path, *runs: dict) -> tuple[str, ...]:
    """Each results dict written as <name>/results.json (baselines b0, b1, ..., then base and new)."""
    names = [f"b{index}" for index in range(len(runs) - 2)] + ["base", "new"]
    paths = []
    for results, name in zip(runs, names, strict=True):
        (tmp_path / name).mkdir(exist_ok=True)
        paths.append(tmp_path / name / "results.json")
        paths[-1].write_text(json.dumps(results))
    return tuple(map(str, paths))


def _failing(text: str, category: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(category + ":")]


@pytest.fixture
def fabricated():
    return with_claims(fabricate_results())


def test_identical_results_pass(tmp_path, fabricated, capsys):
    assert main(["compare", *_pair(tmp_path, fabricated, fabricated)]) == 0
    out = capsys.readouterr().out
    assert "no change" in out and "no verdict changed" in out and "PASSED" in out


def test_one_byte_format_size_change_fails_with_one_line(tmp_path, fabricated, capsys):
    new = copy.deepcopy(fabricated)
    model = next(m for m in new["models"] if m["ratio"] == 0.9 and m["seed"] == 0)
    before = model["formats"]["bitmask"]["model_bytes"]
    model["formats"]["bitmask"]["model_bytes"] += 1
    assert main(["compare", *_pair(tmp_path, fabricated, new)]) == 1
    captured = capsys.readouterr()
    assert _failing(captured.out, "compression") == [
        f"compression: ratio=0.9 seed=0 formats.bitmask.model_bytes {before} -> {before + 1}"]
    assert "1 failing items (compression 1, claims 0)" in captured.err
    assert "Traceback" not in captured.err
    # json goes to stdout; the failing line then goes to stderr, once
    assert main(["compare", *_pair(tmp_path, fabricated, new), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert len(_failing(captured.err, "compression")) == 1
    assert json.loads(captured.out)["exit_status"] == 1


def test_changed_nonzero_count_fails(tmp_path, fabricated, capsys):
    new = copy.deepcopy(fabricated)
    new["models"][3]["variables"]["w_fc1"]["nonzero"] -= 1
    new["models"][3]["nonzero"] -= 1
    assert main(["compare", *_pair(tmp_path, fabricated, new)]) == 1
    lines = _failing(capsys.readouterr().out, "compression")
    assert len(lines) == 2
    assert any(".w_fc1.nonzero" in line for line in lines) and any(" nonzero " in line for line in lines)


def test_flipped_verdict_fails_and_names_the_claim(tmp_path, fabricated, capsys):
    new = copy.deepcopy(fabricated)
    new["claims"][1].update(verdict="refuted", rho=0.8, ci=[0.5, 0.95])
    assert main(["compare", *_pair(tmp_path, fabricated, new)]) == 1
    lines = _failing(capsys.readouterr().out, "claims")
    assert lines == ["claims: (c) time:tf-dense/cpu/network/batch=32 supported -> refuted "
                     "(effect 0.1 [-0.4, 0.6] -> 0.8 [0.5, 0.95])"]
    # --fail-on chooses: the same change passes when only compression gates
    assert main(["compare", *_pair(tmp_path, fabricated, new), "--fail-on", "compression"]) == 0


def test_claims_match_by_range_in_a_newer_schema(tmp_path, fabricated, capsys):
    base = copy.deepcopy(fabricated)
    base["schema_version"] = 2
    base["claims"] = [dict(claim, range=r) for claim in base["claims"] for r in ("paper", "beyond")]
    base["claims"][3].update(effect=1.02, interval=[0.97, 1.06], margin=0.1)  # an equivalence claim (c)
    new = copy.deepcopy(base)
    new["claims"][3].update(verdict="refuted", effect=1.3, interval=[1.2, 1.4])  # claim c, range beyond
    assert main(["compare", *_pair(tmp_path, base, new)]) == 1
    assert _failing(capsys.readouterr().out, "claims") == [
        "claims: (c) time:tf-dense/cpu/network/batch=32 [beyond] supported -> refuted "
        "(effect 1.02 [0.97, 1.06] margin 0.1 -> 1.3 [1.2, 1.4] margin 0.1)"]


def test_accuracy_tolerance_is_in_images_and_needs_the_same_settings(tmp_path, fabricated, capsys):
    new = copy.deepcopy(fabricated)
    new["models"][2]["accuracy"]["dense"] += 1 / fabricated["profile"].get("eval_images", 10_000)  # one image
    assert main(["compare", *_pair(tmp_path, fabricated, new)]) == 1
    assert "(1 images)" in _failing(capsys.readouterr().out, "compression")[0]
    assert main(["compare", *_pair(tmp_path, fabricated, new), "--accuracy-tolerance", "1"]) == 0
    capsys.readouterr()
    other = copy.deepcopy(new)
    other["profile"]["max_steps"] = 200
    other["models"][2]["formats"]["csr"]["model_bytes"] += 5  # weights differ legitimately
    assert main(["compare", *_pair(tmp_path, fabricated, other)]) == 0
    out = capsys.readouterr().out
    assert "accuracies not compared: the profiles differ (max_steps 100 vs 200)" in out
    assert "thresholds, sizes and formats not compared" in out


def test_injected_slowdown_is_flagged_per_family_against_several_baseline_runs(tmp_path, fabricated, capsys):
    *baselines, same, slow = _sampled_runs(fabricated, 1, 7, {"tf-sparse": 0.25})
    assert main(["compare", *_runs(tmp_path, *baselines, same), "--fail-on", "time", "--format", "json"]) == 0
    timings = json.loads(capsys.readouterr().out)["timings"]
    assert timings["baseline_runs"] == 6 and len(timings["families"]) == 6
    assert timings["family_counts"]["unchanged"] == 6
    assert timings["counts"]["unchanged"] == len(timings["benchmarks"]) > 50

    assert main(["compare", *_runs(tmp_path, *baselines, slow), "--fail-on", "time", "--format", "json"]) == 1
    captured = capsys.readouterr()
    timings = json.loads(captured.out)["timings"]
    slower = {family["family"] for family in timings["families"] if family["verdict"] == "slower"}
    assert slower == {family["family"] for family in timings["families"] if family["family"].startswith("tf-sparse/")}
    assert all(family["verdict"] == "unchanged" for family in timings["families"] if family["family"] not in slower)
    assert {row["benchmark"] for row in timings["benchmarks"] if row["verdict"] == "slower"} == {
        row["benchmark"] for row in timings["benchmarks"] if row["family"] in slower}
    failing = _failing(captured.err, "time")
    assert len(failing) == len(slower) == 2  # tf-sparse's network timings at batch 1 and 32
    assert all(" slower x1.2" in line and "against 6 baseline runs" in line and "p_adj" in line for line in failing)
    # time does not fail by default
    assert main(["compare", *_runs(tmp_path, *baselines, slow)]) == 0


def test_a_run_noisier_than_every_baseline_is_not_judged(tmp_path, fabricated, capsys):
    *baselines, slow = _sampled_runs(fabricated, 4, 4, {"tf-sparse": 0.5})
    for index, results in enumerate(baselines):
        results["noise"] = {"machine": 0.04 + 0.01 * index}
    slow["noise"] = {"machine": 0.071}
    assert main(["compare", *_runs(tmp_path, *baselines, slow), "--fail-on", "time"]) == 0
    out = capsys.readouterr().out
    assert "machine noise (IQR/median 0.071) exceeds every baseline run's (at most 0.070)" in out
    slow["noise"] = {"machine": 0.07}  # as noisy as the noisiest baseline: judged
    assert main(["compare", *_runs(tmp_path, *baselines, slow), "--fail-on", "time"]) == 1
    assert "time: tf-sparse/cpu/network/batch=32 slower x1.4" in capsys.readouterr().out


def _interleaved_files(tmp_path, fabricated, rng, pairs: int, slowdown: dict[str, float] | None = None) -> list[str]:
    """``pairs`` (base, new) results made back to back: each pair shares an episode shift of 15% per
    family, each run has 3% of its own; the new runs slowed by ``slowdown``."""
    paths = []
    for pair in range(pairs):
        episode = {engine: float(rng.lognormal(0.0, 0.15))
                   for engine in ("tf-dense", "tf-sparse", "tflite-dense", "scipy-csr")}
        for side, slow in (("base", None), ("new", slowdown)):
            results = with_samples(copy.deepcopy(fabricated), rng, slow, run_shift=0.03)
            for entry in [timing for model in results["models"] for timing in model["timings"].items()] + [
                    timing for fc1 in results["fc1"] for timing in fc1["timings"].items()]:
                key, timing = entry
                factor = episode.get(TimingKey.parse(key).engine, 1.0)
                timing.update(samples_s=[x * factor for x in timing["samples_s"]], median_s=timing["median_s"] * factor)
            (tmp_path / f"{side}{pair}").mkdir(exist_ok=True)
            paths.append(str(tmp_path / f"{side}{pair}" / "results.json"))
            Path(paths[-1]).write_text(json.dumps(results))
    return paths


def test_interleaved_pairs_flag_an_injected_slowdown_and_nothing_else(tmp_path, fabricated, capsys):
    rng = np.random.default_rng(5)
    (tmp_path / "same").mkdir()
    same = _interleaved_files(tmp_path / "same", fabricated, rng, 8)
    assert main(["compare", "--interleaved", *same, "--fail-on", "time", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    timings = report["timings"]
    assert timings["interleaved_pairs"] == 8 and len(report["interleaved"]) == 7 and timings["noisy_run"] is None
    assert timings["family_counts"]["unchanged"] == len(timings["families"]) == 6
    assert {family["df"] for family in timings["families"]} == {7}

    (tmp_path / "slow").mkdir()
    slow = _interleaved_files(tmp_path / "slow", fabricated, rng, 8, {"tf-sparse": 0.25})
    assert main(["compare", "--interleaved", *slow, "--fail-on", "time"]) == 1
    captured = capsys.readouterr()
    failing = _failing(captured.out, "time")
    assert len(failing) == 2 and all(line.startswith("time: tf-sparse/") and "against 8 interleaved pairs" in line
                                     for line in failing)
    assert "over 8 interleaved pairs of runs" in captured.out and "paired t over the pairs with 7 df" in captured.out
    # the last pair is the one compared in full: compression and claims unchanged
    assert "Compression" in captured.out and "no change" in captured.out


def test_interleaved_needs_pairs_of_one_machine_class(tmp_path, fabricated, capsys):
    rng = np.random.default_rng(6)
    paths = _interleaved_files(tmp_path, fabricated, rng, 2)
    assert main(["compare", "--interleaved", *paths[:3]]) == 2
    assert "an even number of at least 4 results files, got 3" in capsys.readouterr().err
    assert main(["compare", "--interleaved", "--against", "latest", paths[0]]) == 2
    assert "not with --against or --save" in capsys.readouterr().err
    other = json.loads(Path(paths[1]).read_text())
    other["machine"]["cpu"] = "Intel Xeon"
    Path(paths[1]).write_text(json.dumps(other))
    assert main(["compare", "--interleaved", *paths]) == 2
    err = capsys.readouterr().err
    assert "interleaved runs are made on one machine" in err and paths[1] in err and len(err.strip().splitlines()) == 1


def test_one_baseline_run_judges_no_time(tmp_path, fabricated, capsys):
    base, slow = _sampled_runs(fabricated, 2, 1, {"tf-sparse": 1.0})
    assert main(["compare", *_pair(tmp_path, base, slow), "--fail-on", "time"]) == 0
    out = capsys.readouterr().out
    assert "Time not judged: one baseline run cannot tell a change of the code from a shift of the run" in out
    assert "PASSED" in out


def test_medians_alone_are_judged_between_runs(tmp_path, fabricated, capsys):
    """Schema 1 keeps no raw rounds: the between-run test needs only the medians; the within-run p is n/a."""
    *runs, slow = _sampled_runs(fabricated, 3, 5)
    for model in slow["models"]:
        for timing in model["timings"].values():
            timing["median_s"] *= 3
    for results in [*runs, slow]:
        for entry in results["models"] + results["fc1"]:
            for timing in entry["timings"].values():
                timing.pop("samples_s", None)
    assert main(["compare", *_runs(tmp_path, *runs, slow), "--fail-on", "time", "--format", "json"]) == 1
    timings = json.loads(capsys.readouterr().out)["timings"]
    assert {family["verdict"] for family in timings["families"] if "/network/" in family["family"]} == {"slower"}
    assert {family["verdict"] for family in timings["families"] if "/fc1/" in family["family"]} == {"unchanged"}
    assert all(row["p"] is None and "no within-run p" in row["note"] for row in timings["benchmarks"])


# ---- every model of every pruning method -----------------------------------------------------------------

def _model_of(results: dict, method: str | None, ratio: float, seed: int) -> dict:
    return next(model for model in results["models"]
                if model.get("method") == method and model["ratio"] == ratio and model["seed"] == seed)


def test_a_changed_model_of_another_method_fails_and_is_named(tmp_path, capsys):
    base = fabricate_results(methods=("gradual", "structured"))
    new = copy.deepcopy(base)
    gradual = _model_of(new, "gradual", 0.9, 1)
    gradual["nonzero"] -= 1
    structured = _model_of(new, "structured", 0.95, 0)
    structured["sizes"]["step_3"] += 1
    assert main(["compare", *_pair(tmp_path, base, new)]) == 1
    out = capsys.readouterr().out
    assert _failing(out, "compression") == [
        f"compression: ratio=0.9 seed=1 method=gradual nonzero {gradual['nonzero'] + 1} -> {gradual['nonzero']}",
        f"compression: ratio=0.95 seed=0 method=structured sizes.step_3 {structured['sizes']['step_3'] - 1} -> "
        f"{structured['sizes']['step_3']}"]
    assert "of 44 models (3 pruning methods: oneshot, gradual, structured) compared" in out

    assert main(["compare", *_pair(tmp_path, base, new), "--format", "markdown"]) == 1
    assert "| gradual | 0.9 | 1 | nonzero |" in capsys.readouterr().out
    assert main(["compare", *_pair(tmp_path, base, new), "--format", "json"]) == 1
    compression = json.loads(capsys.readouterr().out)["compression"]
    assert [item["method"] for item in compression["changes"]] == ["gradual", "structured"]
    assert compression["models"] == 44 and compression["left_out"] == {"base": [], "new": []}


def test_a_model_only_in_one_run_is_named_as_left_out(tmp_path, capsys):
    base = fabricate_results(methods=("gradual",))
    new = copy.deepcopy(base)
    base["models"].remove(_model_of(base, "gradual", 0.95, 1))
    new["models"].remove(_model_of(new, "oneshot", 0.1, 0))
    assert main(["compare", *_pair(tmp_path, base, new), "--format", "json"]) == 0
    compression = json.loads(capsys.readouterr().out)["compression"]
    assert compression["left_out"] == {"base": ["ratio=0.1 seed=0"], "new": ["ratio=0.95 seed=1 method=gradual"]}
    assert compression["models"] == len(base["models"]) - 1
    assert main(["compare", *_pair(tmp_path, base, new)]) == 0
    out = capsys.readouterr().out
    assert "models only in base, not compared: ratio=0.1 seed=0" in out
    assert "models only in new, not compared: ratio=0.95 seed=1 method=gradual" in out


def test_results_from_before_methods_are_the_paper_method(tmp_path, capsys):
    """A run that recorded no method (written before methods existed) against one recording ``oneshot``."""
    before_methods = fabricate_results()
    recorded = copy.deepcopy(before_methods)
    for model in recorded["models"]:
        if model["ratio"] > 0:
            model["method"] = "oneshot"
    assert main(["compare", *_pair(tmp_path, before_methods, recorded), "--format", "json"]) == 0
    compression = json.loads(capsys.readouterr().out)["compression"]
    assert compression["models"] == len(before_methods["models"]) and compression["left_out"]["base"] == []


def test_claims_are_matched_per_method(tmp_path, capsys):
    base = with_claims(fabricate_results(methods=("gradual",)))
    base["claims"] = [dict(claim, method=method) for method in ("oneshot", "gradual") for claim in base["claims"]]
    base["claims"][0]["verdict"] = "refuted"  # the one-shot's (a) differs from the gradual's in both runs
    new = copy.deepcopy(base)
    new["claims"][2]["verdict"] = "refuted"  # the gradual's (a)
    assert main(["compare", *_pair(tmp_path, base, new)]) == 1
    out = capsys.readouterr().out
    assert "4 claims matched by id, subject, range and method" in out
    assert _failing(out, "claims") == [
        "claims: (a) size:step_3 method=gradual supported -> refuted (effect -0.99 [-1, -0.95] -> -0.99 [-1, -0.95])"]


def test_raw_rounds_are_read_for_every_model_of_every_method(tmp_path):
    """Per-model network records of a pytest-benchmark JSON: the one-shot's without a method (as before
    methods), the others' with theirs, a baseline's with one too (baselines are shared whatever it says)."""
    results = fabricate_results(methods=("gradual",))
    results["fc1"] = []
    benchmarks = []
    for model in results["models"]:
        method = {None: "oneshot", "oneshot": None}.get(model.get("method"), model.get("method"))
        for key, timing in model["timings"].items():
            parsed = TimingKey.parse(key)
            info = {"scope": "network", "engine": parsed.engine, "device": parsed.device, "ratio": model["ratio"],
                    "seed": model["seed"], **({"method": method} if method else {})}
            benchmarks.append({"extra_info": info, "params": {"batch": parsed.batch},
                               "stats": {"data": timing.pop("samples_s")}})
    (tmp_path / "benchmarks.json").write_text(json.dumps({"benchmarks": benchmarks}))
    results["benchmark_json"] = "benchmarks.json"
    rounds, note = raw_rounds(results, tmp_path / "results.json")
    assert set(rounds) == set(timing_entries(results)) and len(rounds) == len(benchmarks)
    assert note == f"{len(benchmarks)} from {tmp_path / 'benchmarks.json'}"


# ---- bad input ------------------------------------------------------------------------------------------

def _bad_inputs(tmp_path):
    good = fabricate_results(timings=False)
    cases = {"missing": (None, "results file not found"),
             "not json": ("{oops", "not valid JSON"),
             "kind": (json.dumps({**good, "kind": "other"}), "not a prunebench results JSON"),
             "schema": (json.dumps({**good, "schema_version": 0}), "schema_version is 0"),
             "sizes": (json.dumps({**good, "models": [{k: v for k, v in good["models"][0].items() if k != "sizes"}]}),
                       "lacks required key 'sizes'"),
             "timing": (json.dumps({**good, "models": [dict(good["models"][0], timings={"a/b/network/batch=1": {}})]}),
                        "lacks a numeric median_s"),
             "key": (json.dumps({**good, "models": [dict(good["models"][0], timings={"a/b/network/1": {}})]}),
                     "is not an <engine>/<device>/<scope>/batch=<n> key"),
             "engines": (json.dumps({**good, "engines": {"tf-dense": {"sparse": "no"}}}),
                         "engines is not an object of engines, each with a boolean sparse"),
             "method": (json.dumps({**good, "models": [dict(good["models"][1], method=["gradual"])]}),
                        "models[0].method is not a string")}
    return cases


@pytest.mark.parametrize("case", ["missing", "not json", "kind", "schema", "sizes", "timing", "key", "engines",
                                  "method"])
def test_bad_input_is_one_line_and_non_zero(tmp_path, capsys, case):
    text, expected = _bad_inputs(tmp_path)[case]
    good = tmp_path / "good.json"
    good.write_text(json.dumps(fabricate_results(timings=False)))
    bad = tmp_path / "bad.json"
    if text is not None:
        bad.write_text(text)
    assert main(["compare", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and str(bad) in err and "Traceback" not in err


def test_wrong_number_of_files_is_a_usage_error(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(fabricate_results(timings=False)))
    assert main(["compare", str(good)]) == 2
    assert "expected BASE... NEW" in capsys.readouterr().err


# ---- baselines ------------------------------------------------------------------------------------------

def test_save_then_against_latest(tmp_path, fabricated, capsys, monkeypatch):
    monkeypatch.delenv("PRUNEBENCH_BASELINES", raising=False)
    results = tmp_path / "results" / "results.json"
    results.parent.mkdir()
    results.write_text(json.dumps(with_samples(copy.deepcopy(fabricated), np.random.default_rng(5))))
    assert main(["compare", "--against", "latest", str(results)]) == 2
    assert "no baseline under" in capsys.readouterr().err
    assert main(["compare", "--against", "latest", "--allow-missing-baseline", str(results)]) == 0
    assert main(["compare", "--save", "first", str(results)]) == 0
    assert main(["compare", "--save", "second", str(results)]) == 0
    folder = results.parent / "baselines" / class_slug(fabricated)
    assert class_slug(fabricated) == "test-cpu__no-gpu"
    assert sorted(path.name for path in folder.iterdir()) == ["0001_first.json", "0002_second.json"]
    capsys.readouterr()
    assert main(["compare", "--against", "latest", str(results)]) == 0
    captured = capsys.readouterr()
    assert "0002_second.json" in captured.err and "PASSED" in captured.out
    assert main(["compare", "--against", "1", str(results)]) == 0
    # PRUNEBENCH_BASELINES moves the store; another class falls back to comparing across machines
    monkeypatch.setenv("PRUNEBENCH_BASELINES", str(tmp_path / "store"))
    assert main(["compare", "--save", "x", str(results)]) == 0
    assert (tmp_path / "store" / "test-cpu__no-gpu" / "0001_x.json").is_file()
    other = json.loads(results.read_text())
    other["machine"]["cpu"] = "Intel Xeon"
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(other))
    capsys.readouterr()
    assert main(["compare", "--against", "latest", str(other_path)]) == 0
    captured = capsys.readouterr()
    assert "no baseline of machine class intel-xeon__no-gpu" in captured.err
    assert "Absolute times were not compared" in captured.out


def test_saved_baseline_embeds_raw_rounds_from_the_benchmark_json(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PRUNEBENCH_BASELINES", raising=False)
    results = _paper_copy(tmp_path, with_benchmarks=True)
    assert main(["compare", "--save", "paper", str(results)]) == 0
    assert "336 from" in capsys.readouterr().out
    saved = json.loads(next((results.parent / "baselines").glob("*/0001_paper.json")).read_text())
    assert saved["benchmark_json"] is None
    assert len(saved["models"][0]["timings"]["tf-dense/cpu/network/batch=1"]["samples_s"]) == 100


# ---- the real paper run -----------------------------------------------------------------------------------

def _paper_copy(tmp_path, with_benchmarks: bool = False, name: str = "paper") -> Path:
    """The schema-1 paper run's results.json in a folder laid out as a run writes it (benchmarks/ beside it)."""
    folder = tmp_path / name
    folder.mkdir()
    results = json.loads((PAPER_RUN / "results.json").read_text())
    if with_benchmarks:
        target = folder / results["benchmark_json"]
        target.parent.mkdir(parents=True)
        shutil.copy(PAPER_RUN / "benchmark.json", target)
    path = folder / "results.json"
    path.write_text(json.dumps(results))
    return path


def test_paper_results_against_themselves_show_no_change(capsys):
    path = str(PAPER_RUN / "results.json")
    started = time.perf_counter()
    assert main(["compare", path, path]) == 0
    assert time.perf_counter() - started < 10
    out = capsys.readouterr().out
    assert "446 measures of 10 models compared" in out and "48 claims matched" in out
    assert "against 1 baseline run." in out and "Time not judged" in out


def test_paper_results_with_raw_rounds_judge_every_benchmark_unchanged(tmp_path, capsys):
    path = str(_paper_copy(tmp_path, with_benchmarks=True))
    assert main(["compare", path, path, path, "--fail-on", "compression,claims,time", "--format", "json"]) == 0
    timings = json.loads(capsys.readouterr().out)["timings"]
    assert timings["counts"] == {"slower": 0, "faster": 0, "unchanged": 336, "not judged": 0}
    assert timings["baseline_runs"] == 2 and all(row["p"] == 1.0 for row in timings["families"])
    assert sum("cannot reach" in row.get("note", "") for row in timings["benchmarks"]) == 112  # batch=all, 3 rounds
    # --base-benchmarks names the committed file directly
    committed = str(PAPER_RUN / "results.json")
    assert main(["compare", committed, committed, "--base-benchmarks", str(PAPER_RUN / "benchmark.json"),
                 "--new-benchmarks", str(PAPER_RUN / "benchmark.json"), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["timings"]["benchmarks"]
    assert sum(row["p"] is not None for row in rows) == 336


def test_schema_1_against_2_names_the_per_image_record_once(capsys):
    """The committed schema-1 run against the schema-2 one: per-image correctness exists on one side only."""
    newer = DOCS / "paper-run-2026-11-28" / "results.json"
    assert main(["compare", str(PAPER_RUN / "results.json"), str(newer)]) == 1
    out = capsys.readouterr().out
    assert "compression: ratio=0.99 seed=0 correct.dense absent -> recorded" in out and "-1 -> -1" not in out


def test_paper_results_against_a_mutated_size(tmp_path, capsys):
    path = _paper_copy(tmp_path)
    results = json.loads(path.read_text())
    model = next(m for m in results["models"] if m["ratio"] == 0.5)
    model["sizes"]["step_3"] += 1
    mutated = tmp_path / "mutated.json"
    mutated.write_text(json.dumps(results))
    assert main(["compare", str(path), str(mutated), "--format", "markdown"]) == 1
    captured = capsys.readouterr()
    assert _failing(captured.err, "compression") == [
        f"compression: ratio=0.5 seed=0 sizes.step_3 {model['sizes']['step_3'] - 1} -> {model['sizes']['step_3']}"]
    assert "### Compression" in captured.out and "| 0.5 | 0 | sizes.step_3 |" in captured.out


def test_paper_results_across_machines_compare_only_what_carries_over(tmp_path, capsys):
    path = _paper_copy(tmp_path, with_benchmarks=True)
    results = json.loads(path.read_text())
    results["machine"]["cpu"] = "Intel Xeon"
    for entry in results["models"] + results["fc1"]:
        for timing in entry["timings"].values():
            timing["median_s"] *= 2
    intel = tmp_path / "intel.json"
    intel.write_text(json.dumps(results))
    assert main(["compare", str(path), str(intel), "--fail-on", "compression,claims,time"]) == 0
    out = capsys.readouterr().out
    assert "Absolute times were not compared" in out
    assert "Speedup over tf-dense" in out and "288 engine timings relative to tf-dense" in out
    assert "none moved beyond x1.10" in out
    assert "FC1 crossover" in out and "cpu     32     mkl-csr        0.9    0.9" in out
    assert "median change x2.000" in out  # time x bandwidth: the slower machine, relative to its own bandwidth
    assert " slower " not in out and " faster " not in out and "Mann-Whitney" not in out

    output = tmp_path / "out" / "compare.json"
    assert main(["compare", str(path), str(intel), "--format", "json", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["timings"] is None and report["absolute_times_compared"] is False
    assert all(row["change"] == pytest.approx(1.0) for row in report["speedups"]["rows"])
    assert all(not row["changed"] for row in report["crossovers"]) and len(report["crossovers"]) == 15
    assert not list(output.parent.glob("*.tmp-*"))


def test_benchmark_json_of_another_run_is_not_mixed_in(tmp_path, capsys):
    path = _paper_copy(tmp_path, with_benchmarks=True)
    benchmarks = path.parent / json.loads(path.read_text())["benchmark_json"]
    document = json.loads(benchmarks.read_text())
    for bench in document["benchmarks"]:
        bench["stats"]["data"] = [x * 1.01 for x in bench["stats"]["data"]]
    benchmarks.write_text(json.dumps(document))
    assert main(["compare", str(path), str(path)]) == 0
    out = capsys.readouterr().out
    assert "336 ignored: their median is not the one the results recorded" in out
    assert main(["compare", str(path), str(path), "--format", "json"]) == 0
    assert all(row["p"] is None for row in json.loads(capsys.readouterr().out)["timings"]["benchmarks"])


def test_bad_options_are_one_line(tmp_path, fabricated, capsys):
    base, new = _pair(tmp_path, fabricated, fabricated)
    assert main(["compare", "--save", "a/b", base]) == 2
    assert "a baseline name is letters" in capsys.readouterr().err
    assert main(["compare", base, new, "--output", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    for option, value, message in (("--fail-on", "speed", "unknown speed; choose from compression,claims,time or none"),
                                    ("--factor", "0.5", "0.5 must be a finite number >= 1"),
                                    ("--factor", "inf", "inf must be a finite number >= 1"),
                                    ("--alpha", "x", "'x' is not a number"), ("--alpha", "1", "1 must be in (0, 1)"),
                                    ("--history", "0", "0 must be >= 1"),
                                    ("--accuracy-tolerance", "two", "'two' is not a whole number of images")):
        with pytest.raises(SystemExit) as stop:
            main(["compare", base, new, option, value])
        assert stop.value.code == 2 and f"argument {option}: {message}\n" in capsys.readouterr().err


def test_per_image_correctness_of_a_newer_schema_is_compared(tmp_path, fabricated, capsys):
    import base64

    base = copy.deepcopy(fabricated)
    bits = bytearray(8)
    bits[0] = 0b11110000
    base["models"][1]["correct"] = {"dense": base64.b64encode(bytes(bits)).decode()}
    new = copy.deepcopy(base)
    bits[0] = 0b11101000   # same accuracy, two images swapped right and wrong
    new["models"][1]["correct"] = {"dense": base64.b64encode(bytes(bits)).decode()}
    assert main(["compare", *_pair(tmp_path, base, new)]) == 1
    ratio, seed = base["models"][1]["ratio"], base["models"][1]["seed"]
    assert _failing(capsys.readouterr().out, "compression") == [
        f"compression: ratio={ratio:g} seed={seed} correct.dense 4 -> 4 (2 images)"]
    assert main(["compare", *_pair(tmp_path, base, new), "--accuracy-tolerance", "2"]) == 0


def test_a_repeated_noisy_baseline_compares_without_overflow(capsys):
    """Two baselines, one of them the new run itself, and an old run whose times differ by up to x1.9:
    the detectable slowdown is beyond any float (it read as an OverflowError once); shown as '>x1000'."""
    later = str(DOCS / "paper-run-2026-11-28" / "results.json")
    assert main(["compare", str(PAPER_RUN / "results.json"), later, later]) == 0
    assert ">x1000" in capsys.readouterr().out
    assert main(["compare", str(PAPER_RUN / "results.json"), later, later, "--format", "json"]) == 0
    json.loads(capsys.readouterr().out)
