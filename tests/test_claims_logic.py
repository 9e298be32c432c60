"""The claims' rules (prunebench.verdicts.claims) and the judging of a run (prunebench.verdicts.judging) on
constructed data."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from factories import fabricate_results

from prunebench.errors import DataError
from prunebench.results.machine import machine_class
from prunebench.verdicts.claims import CLAIMS, load_expectations
from prunebench.verdicts.evidence import Case, range_of
from prunebench.verdicts.judging import claim_subjects, evaluate_claims, format_claim_failure, spearman
from prunebench.verdicts.paper import ORIGINAL_SIZE_MIB
from prunebench.verdicts.stats import medians_by_ratio, onset

association_verdict = CLAIMS["a"].verdict
threshold_verdict = CLAIMS["d"].verdict

PAPER_RATIOS = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9]
PAPER_SIZES_MIB = [66.5, 51.8, 37.1, 22.3, 14.9, 7.6]
TWELVE_RATIOS = np.repeat(PAPER_RATIOS, 2)


def _verdict(rule, x, y):
    correlation = spearman(x, y)
    return rule(correlation["rho"], correlation["p"], correlation["n"])[0]


def test_association_supported_when_size_falls():
    assert _verdict(association_verdict, PAPER_RATIOS, PAPER_SIZES_MIB) == "supported"


def test_association_refuted_when_size_rises():
    assert _verdict(association_verdict, PAPER_RATIOS, PAPER_SIZES_MIB[::-1]) == "refuted"


def test_association_judges_few_ratios_by_their_medians():
    verdict, basis = association_verdict(*[spearman(PAPER_RATIOS[:4], PAPER_SIZES_MIB[:4])[key]
                                            for key in ("rho", "p", "n")])
    assert verdict == "inconclusive" and "n too small" in basis  # no medians given
    falling = medians_by_ratio([0.95, 0.98, 0.99], [3.0, 2.0, 1.0])
    assert association_verdict(None, None, 3, falling)[0] == "supported"
    flat = medians_by_ratio([0.95, 0.98, 0.99], [2.0, 2.0, 2.0])
    assert association_verdict(None, None, 3, flat)[0] == "refuted"
    mixed = medians_by_ratio([0.95, 0.98, 0.99], [2.0, 1.0, 3.0])
    assert association_verdict(None, None, 3, mixed)[0] == "inconclusive"


def test_constant_measure_refutes_size_falling():
    correlation = spearman(TWELVE_RATIOS, np.ones(12))
    assert correlation["rho"] is None and correlation["ci"] is None
    assert association_verdict(correlation["rho"], correlation["p"], 12)[0] == "refuted"


def test_bootstrap_ci_contains_rho():
    y = TWELVE_RATIOS + np.random.default_rng(3).normal(0, 0.3, size=12)
    correlation = spearman(TWELVE_RATIOS, y)
    low, high = correlation["ci"]
    assert low - 1e-12 <= correlation["rho"] <= high + 1e-12 and low < high


def test_threshold_supported_on_paper_sizes():
    medians = medians_by_ratio(PAPER_RATIOS, PAPER_SIZES_MIB)
    assert threshold_verdict(medians, ORIGINAL_SIZE_MIB)[0] == "supported"
    assert onset(list(medians), [size < ORIGINAL_SIZE_MIB for size in medians.values()]) == 0.5


def test_threshold_refuted_when_every_size_is_below_reference():
    medians = medians_by_ratio(PAPER_RATIOS, [size / 10 for size in PAPER_SIZES_MIB])
    verdict, basis = threshold_verdict(medians, ORIGINAL_SIZE_MIB)
    assert verdict == "refuted" and "already smaller" in basis


def test_threshold_inconclusive_without_ratios_below_half():
    medians = medians_by_ratio(PAPER_RATIOS[2:] * 2, PAPER_SIZES_MIB[2:] * 2)
    assert threshold_verdict(medians, ORIGINAL_SIZE_MIB)[0] == "inconclusive"
    # beyond the paper every ratio is above one half: that side alone is judged
    assert threshold_verdict(medians, ORIGINAL_SIZE_MIB, both_sides=False)[0] == "supported"


def test_medians_by_ratio_takes_median_over_seeds():
    assert medians_by_ratio([0.5, 0.1, 0.5, 0.5], [3.0, 9.0, 1.0, 2.0]) == {0.1: 9.0, 0.5: 2.0}


def test_onset_requires_every_later_ratio():
    assert onset([0.1, 0.3, 0.5, 0.7], [True, False, True, True]) == 0.5
    assert onset([0.1, 0.3, 0.5], [True, True, False]) is None


def test_evaluate_claims_judges_each_range_and_fills_expectations():
    results = fabricate_results()
    expectations = {"claims": {"a:*": {"verdict": "supported", "reason": "sizes fall"},
                               "a:size:csr": {"verdict": "refuted", "reason": "specific entry wins"},
                               "b@beyond:accuracy:dense": {"verdict": "refuted", "reason": "range entry"}}}
    claims = evaluate_claims(results, expectations)
    by_key = {(claim["id"], claim["range"], claim["subject"]): claim for claim in claims}
    assert [(claim["id"], claim["range"], claim["subject"]) for claim in claims] == claim_subjects(results)
    assert {("a", "paper", "size:step_3"), ("a", "beyond", "size:step_3"), ("b", "paper", "accuracy:dense"),
            ("c", "paper", "time:tf-sparse/cpu/network/batch=32")} <= set(by_key)
    assert not any("/fc1/" in subject for _, _, subject in by_key)
    paper_size = by_key[("a", "paper", "size:step_3")]
    assert paper_size["verdict"] == "supported" and paper_size["expected"] == "supported"
    assert 0.0 not in paper_size["x"] and 0.95 not in paper_size["x"] and paper_size["n"] == 12
    assert by_key[("a", "paper", "size:csr")]["reason"] == "specific entry wins"
    assert by_key[("d", "paper", "size:step_3")]["break_even"] == 0.5
    # (b): the fabricated models lose at most 9 of 2,000 images up to 90%, and 200 at 95%
    accuracy = by_key[("b", "paper", "accuracy:dense")]
    assert accuracy["verdict"] == "supported" and accuracy["margin"] == 0.01, accuracy["basis"]
    assert accuracy["expected"] is None
    beyond = by_key[("b", "beyond", "accuracy:dense")]
    assert beyond["verdict"] == "refuted" and beyond["expected"] == "refuted"
    assert beyond["effect"] == pytest.approx(-0.1, abs=0.01)
    # (c): tf-dense is flat, the sparse engines track the kept fraction
    dense = by_key[("c", "paper", "time:tf-dense/cpu/network/batch=32")]
    assert dense["verdict"] == "supported", dense["basis"]
    assert by_key[("c", "paper", "time:tf-sparse/cpu/network/batch=32")]["verdict"] == "refuted"
    assert dense["gated"] and dense["expected"] == "supported" and dense["machine_class"] == "test cpu / no GPU"
    # one ratio beyond the paper (0.95): no trend to judge, and no profile whose ratios were narrowed
    assert {(claim["id"], claim["range"]) for claim in claims if not claim["judged"]} == {("a", "beyond")}
    assert not any(claim["narrowed"] for claim in claims)
    unknown = by_key[("c", "paper", "time:numpy-csr/cpu/network/batch=32")]
    assert not unknown["gated"] and "the results do not record its work" in unknown["not_gated_because"]


def test_each_claim_is_one_object_stating_its_effect_and_margin_in_its_own_unit():
    assert list(CLAIMS) == ["a", "b", "c", "d"] and all(claim.id == key for key, claim in CLAIMS.items())
    assert all(claim.statement and claim.short and claim.rule for claim in CLAIMS.values())
    claims = {(c["id"], c["range"], c["subject"]): c for c in evaluate_claims(fabricate_results(), {})}
    assert all(claim["rule"] == CLAIMS[claim["id"]].rule for claim in claims.values())
    trend = claims[("a", "paper", "size:step_3")]
    assert CLAIMS["a"].effect_text(trend) == f"rho {trend['rho']:.2f}" and CLAIMS["a"].margin_text(trend) == "—"
    assert CLAIMS["d"].effect_text(claims[("d", "paper", "size:step_3")]) == "break-even at 50%"
    accuracy = claims[("b", "paper", "accuracy:dense")]
    assert re.fullmatch(r"[+-]\d\.\d\d pt \[[+-]\d\.\d\d, [+-]\d\.\d\d\] at \d+%", CLAIMS["b"].effect_text(accuracy))
    assert CLAIMS["b"].margin_text(accuracy) == "±1 pt"
    time = claims[("c", "paper", "time:tf-dense/cpu/network/batch=32")]
    assert re.fullmatch(r"\d\.\d{3}x \[\d\.\d{3}, \d\.\d{3}\] at \d+%; rounds' IQR/median 4\.0%",
                        CLAIMS["c"].effect_text(time))
    assert CLAIMS["c"].margin_text(time) == "±10%" and CLAIMS["c"].effect_text({**time, "effect": None}) == "—"


def test_schema_1_results_leave_the_equivalence_claims_inconclusive_with_the_reason():
    results = fabricate_results()
    for model in results["models"]:
        del model["correct"]
        for timing in model["timings"].values():
            del timing["samples_s"]
    by_key = {(c["id"], c["range"], c["subject"]): c for c in evaluate_claims(results, {})}
    accuracy = by_key[("b", "paper", "accuracy:dense")]
    assert accuracy["verdict"] == "inconclusive" and "per-image correctness" in accuracy["basis"]
    timing = by_key[("c", "paper", "time:tf-dense/cpu/network/batch=32")]
    assert timing["verdict"] == "inconclusive" and "raw timing rounds" in timing["basis"]


def test_machine_entries_match_by_pattern_and_override_the_derived_expectation():
    named, other = "time:tf-dense/cpu/network/batch=32", "time:tf-dense/cpu/network/batch=1"
    expectations = {"machines": {"AMD EPYC* / no GPU": {f"c:{named}": {"verdict": "refuted"}},
                                 "*": {f"c:{named}": {"verdict": "inconclusive"}}}}
    results = {**fabricate_results(), "engines": {"tf-dense": {"sparse": False, "work": "dense"}}}

    def expected(claim_id: str, subject: str, machine: str) -> tuple[dict, str | None]:
        case = Case(results, "paper", subject, "oneshot", [0.9], [1.0], None, None)
        return CLAIMS[claim_id].expectation(expectations, case, machine)

    assert expected("c", named, "AMD EPYC 7B13 / no GPU") == ({"verdict": "refuted"}, None)
    # the first pattern that matches applies, in file order; a subject it does not name is derived
    assert expected("c", named, "Intel Xeon / no GPU")[0]["verdict"] == "inconclusive"
    derived, not_gated_because = expected("c", other, "AMD EPYC 7B13 / no GPU")
    assert (derived["verdict"] == "supported" and "multiplies every weight" in derived["reason"]
            and not_gated_because is None)
    assert expected("a", "size:x", "Intel Xeon / no GPU") == ({}, None)
    assert str(machine_class({"cpu": "AMD EPYC", "gpus": ["GPU:0"]})) == "AMD EPYC / GPU:0"
    assert range_of(0.9) == "paper" and range_of(0.95) == "beyond"


def test_format_claim_failure_shows_statistics_and_data():
    claims = evaluate_claims(fabricate_results(), {"claims": {"d:*": {"verdict": "refuted", "reason": "why not"}}})
    message = format_claim_failure(next(c for c in claims if c["id"] == "d" and c["range"] == "paper"))
    assert "expected refuted, measured supported" in message
    assert "rho = " in message and "n = 12" in message and "break-even ratio = 0.5" in message
    assert "\n    0.1\t" in message and message.count("\n") > 12
    accuracy = next(c for c in claims if c["id"] == "b" and c["range"] == "paper")
    assert "margin = 0.01" in format_claim_failure(accuracy) and "ratio 0.9: effect" in format_claim_failure(accuracy)


def test_load_expectations_accepts_valid_and_rejects_bad(tmp_path):
    path = tmp_path / "expectations.json"
    path.write_text(json.dumps({"claims": {"a@beyond:*": {"verdict": "supported", "reason": "r"}},
                                "machines": {"cpu / no GPU": {"c:*": {"verdict": "refuted"}}}}))
    assert load_expectations(path)["claims"]["a@beyond:*"]["verdict"] == "supported"
    for bad, message in [("{", "cannot read"), ('{"claims": {"x:y": {"verdict": "supported"}}}', "is not '<a|b|c|d>"),
                         ('{"claims": {"a:*": {"verdict": "maybe"}}}', "needs a 'verdict'"),
                         ('{"a:*": {"verdict": "supported"}}', "with 'claims' and 'machines'"),
                         ('{"machines": {"m": {"c@later:*": {"verdict": "refuted"}}}}', "is not '<a|b|c|d>"),
                         ('{"claims": {"c:*": {"verdict": "supported"}}}', "derived from the engine's work"),
                         ('{"machines": {"m": {"a:*": {"verdict": "supported"}}}}', "holds nothing else")]:
        path.write_text(bad)
        with pytest.raises(DataError, match=message):
            load_expectations(path)
    with pytest.raises(DataError, match="not found"):
        load_expectations(tmp_path / "absent.json")


def test_shipped_expectations_load():
    from prunebench.results import paths

    for profile in ("quick", "paper", "methods"):
        assert load_expectations(paths.expectations_file(profile))["claims"]


def test_holm_adjustment_controls_the_family_of_subjects():
    from prunebench.verdicts.stats import holm_adjusted

    adjusted = holm_adjusted({"x": 0.01, "y": 0.04, "z": 0.03, "none": None})
    assert adjusted["x"] == pytest.approx(0.03) and adjusted["z"] == pytest.approx(0.06)
    assert adjusted["y"] == pytest.approx(0.06) and adjusted["none"] is None


def test_a_run_off_its_profiles_protocol_is_judged_but_not_gated():
    """The methods profile's expectations describe 2,000 steps after the baseline; a run with
    --retrain-steps 10000 measures another protocol, so its verdicts are reported, not held to them."""
    from factories import fabricate_results

    from prunebench.verdicts.expected import PROTOCOL_NOT_GATED, profile_protocol, protocol_overrides

    quick = profile_protocol("quick")
    assert protocol_overrides({"name": "quick", **quick, "variables": ["w_fc1", "w_fc2"], "ratios": [0.5]}) == []
    assert protocol_overrides({"name": "methods", "retrain_steps": 10_000, "max_steps": 10_000}) == [
        "retrain_steps 10000 (profile: 2000)"]
    assert protocol_overrides({"name": "quick", **quick, "variables": ["w_fc1"]}) == [
        "variables w_fc1 (profile: w_fc1,w_fc2)"]
    # the settings that change a model's weights or accuracy, as compare counts them: the learning rate too
    assert protocol_overrides({"name": "quick", **quick, "learning_rate": 1e-3}) == [
        "learning_rate 0.001 (profile: 0.0001)"]
    # no such profile: nothing to differ from
    assert protocol_overrides({"name": "synthetic", "retrain_steps": 1}) == []

    results = fabricate_results()
    results["profile"] = {**results["profile"], "name": "quick", **quick}
    expectations = {"claims": {"a:*": {"verdict": "supported", "reason": "test"}}}
    assert all(claim["expected"] == "supported" for claim in evaluate_claims(results, expectations)
               if claim["id"] == "a")
    results["profile"]["retrain_steps"] = 10_000
    judged = evaluate_claims(results, expectations)
    assert judged and all(not claim["gated"] and claim["expected"] is None for claim in judged)
    assert judged[0]["not_gated_because"] == PROTOCOL_NOT_GATED + "retrain_steps 10000 (profile: 150)"


def _profile_run(ratios, seeds, name="quick") -> dict:
    """Fabricated results of a run of profile ``name`` (its step settings, so the claims stay gated)."""
    from prunebench.verdicts.expected import profile_protocol

    results = fabricate_results(ratios=(0.0, *ratios), seeds=seeds)
    results["profile"] = {**results["profile"], "name": name, "ratios": list(ratios),
                          **{setting: value for setting, value in profile_protocol(name).items()
                             if setting != "eval_images"}}
    return results


def test_a_narrowed_run_leaves_what_it_cannot_judge_not_judged_with_the_counts():
    """--ratios 0.9 --seeds 1: (a) has no trend to judge and (d) no ratio below 50%; (b) and (c) compare
    one ratio with its baseline, so they are judged."""
    from prunebench.verdicts.judging import claim_outcome, summary_counts

    expectations = {"claims": {claim_id: {"verdict": verdict} for claim_id, verdict in
                               [("a:*", "supported"), ("b:*", "supported"), ("d:*", "refuted")]}}
    claims = evaluate_claims(_profile_run([0.9], (0,)), expectations)
    by_key = {(claim["id"], claim["subject"]): claim for claim in claims}
    trend = by_key[("a", "size:step_3")]
    assert not trend["judged"] and trend["narrowed"] and trend["verdict"] == "inconclusive"
    assert "needs 2 distinct ratios" in trend["not_judged_because"]
    assert "has 1 ratio (0.9) (1 seed, 1 point)" in trend["not_judged_because"]
    assert "the quick profile's: 0.1, 0.3, 0.5, 0.7, 0.8, 0.9" in trend["not_judged_because"]
    assert trend["basis"].startswith("not judged: ") and claim_outcome(trend) == "not judged"
    threshold = by_key[("d", "size:step_3")]
    assert threshold["narrowed"] and "both sides of 0.5" in threshold["not_judged_because"]
    assert by_key[("b", "accuracy:dense")]["judged"] and by_key[("c", "time:tf-dense/cpu/network/batch=32")]["judged"]
    counts = summary_counts(claims)
    assert counts["not judged"] == sum(claim["id"] in "ad" for claim in claims) and counts["failed"] == 0


def test_a_full_profile_run_holds_a_claim_not_judged_to_its_expectation():
    """The methods profile has one ratio in the paper's range by design: (a) there is not judged, and its
    expectations file says so ("inconclusive"); anything else would fail, never skip."""
    from prunebench.results import paths
    from prunebench.verdicts.judging import claim_outcome

    results = _profile_run([0.9, 0.95, 0.98, 0.99], (0,), name="methods")
    del results["profile"]["eval_images"]  # the fabricated 2,000 images are not the profile's 10,000: unstated
    claims = evaluate_claims(results, load_expectations(paths.expectations_file("methods")))
    trend = next(claim for claim in claims if claim["id"] == "a" and claim["range"] == "paper")
    assert not trend["judged"] and not trend["narrowed"] and "the run's" not in trend["not_judged_because"]
    assert trend["expected"] == "inconclusive" and claim_outcome(trend) == "passed"
    assert claim_outcome({**trend, "expected": "supported"}) == "failed"


def test_one_ratio_with_five_seeds_is_not_judged_rather_than_refuted_as_constant():
    claims = evaluate_claims(fabricate_results(ratios=(0.0, 0.9), seeds=(0, 1, 2, 3, 4)), {})
    trend = next(claim for claim in claims if claim["id"] == "a" and claim["subject"] == "size:step_3")
    assert trend["n"] == 5 and not trend["judged"] and "(5 seeds, 5 points)" in trend["not_judged_because"]


def test_missing_baseline_timings_leave_a_time_claim_not_judged_and_gated():
    results = fabricate_results()
    for model in results["models"]:
        if model["ratio"] == 0:
            model["timings"] = {}
    claim = next(claim for claim in evaluate_claims(results, {})
                 if claim["subject"] == "time:tf-dense/cpu/network/batch=32" and claim["range"] == "paper")
    assert not claim["judged"] and not claim["narrowed"] and claim["gated"]
    assert claim["not_judged_because"].startswith("no timing of the unpruned model")


def _time_claim(expected: str, effects: list[float], verdict: str = "inconclusive", **fields) -> dict:
    return {"id": "c", "range": "paper", "subject": "time:tf-dense/cpu/network/batch=1", "method": "oneshot",
            "gated": True, "judged": True, "narrowed": False, "expected": expected, "verdict": verdict,
            "margin": 0.1, "noise": 0.2,
            "per_ratio": [{"ratio": 0.5 + i / 10, "effect": e} for i, e in enumerate(effects)],
            **fields}


def test_an_undecided_time_subject_fails_only_when_it_leans_against_its_expectation():
    from prunebench.verdicts.judging import claim_outcome

    wrong_side = CLAIMS["c"].wrong_side

    assert claim_outcome(_time_claim("supported", [1.02, 1.05])) == "undecided"
    assert (wrong_side(_time_claim("supported", [1.02, 1.15]))
            and claim_outcome(_time_claim("supported", [1.15])) == "failed")
    assert claim_outcome(_time_claim("refuted", [0.98, 0.85])) == "undecided"  # 0.85 is outside [1/1.1, 1.1]
    assert claim_outcome(_time_claim("refuted", [0.98, 0.95])) == "failed"
    assert claim_outcome(_time_claim("refuted", [0.5], verdict="refuted")) == "passed"
    assert claim_outcome(_time_claim("supported", [0.5], verdict="refuted")) == "failed"
    assert claim_outcome(_time_claim("supported", [1.0], gated=False)) == "not gated"
    # a time claim with no data to judge is a failure on a full run, never undecided
    assert claim_outcome(_time_claim("supported", [], judged=False)) == "failed"


def test_summary_counts_every_outcome_and_fails_a_run_with_most_time_subjects_undecided():
    from prunebench.verdicts.judging import (
        MAX_UNDECIDED_SHARE,
        OUTCOMES,
        summary_counts,
        too_noisy,
        undecided_timing_keys,
    )

    size = {"id": "a", "range": "paper", "subject": "size:csr", "method": "oneshot", "gated": True, "judged": True,
            "narrowed": False, "expected": "supported", "verdict": "supported"}
    claims = [size, {**size, "verdict": "refuted"}, {**size, "judged": False, "narrowed": True},
              _time_claim("supported", [1.0], verdict="supported"),
              _time_claim("supported", [1.0], verdict="supported"),
              _time_claim("supported", [1.03], subject="time:tf-sparse/cpu/network/batch=1", noise=0.31),
              _time_claim("supported", [1.0], gated=False)]
    counts = summary_counts(claims)
    assert {outcome: counts[outcome] for outcome in OUTCOMES} == {
        "passed": 3, "failed": 1, "undecided": 1, "not judged": 1, "not gated": 1}
    assert counts["undecided_noise"] == {"(c)@paper time:tf-sparse/cpu/network/batch=1 [oneshot]": 0.31}
    assert counts["too_noisy"] is None and undecided_timing_keys(claims) == ["tf-sparse/cpu/network/batch=1"]
    # two of three gated time subjects undecided is more than MAX_UNDECIDED_SHARE: each fails
    claims[3] = {**claims[3], "verdict": "inconclusive"}
    assert 2 > MAX_UNDECIDED_SHARE * 3 and "2 of 3 gated time subjects undecided" in too_noisy(claims)
    noisy = summary_counts(claims)
    assert noisy["undecided"] == 0 and noisy["failed"] == 3 and len(noisy["undecided_noise"]) == 2


def test_a_missing_claim_fails_naming_it_unless_its_benchmark_was_deselected():
    from prunebench.verdicts.judging import missing_claim

    outcome, text = missing_claim(("a", "paper", "size:step_3", "oneshot"), set())
    assert outcome == "fail" and "claim (a)" in text and "size:step_3" in text and "oneshot" in text
    timed = {"tf-dense/cpu/network/batch=1"}
    assert missing_claim(("c", "paper", "time:tf-dense/cpu/network/batch=1", "oneshot"), timed)[0] == "fail"
    outcome, text = missing_claim(("c", "paper", "time:tf-sparse/cpu/network/batch=1", "oneshot"), timed)
    assert outcome == "skip" and "deselected" in text


def test_the_rank_correlation_p_is_exact_for_few_points():
    """scipy's t approximation reads 0 for a perfect order; the exact p of n points is 2/n! at best."""
    perfect = spearman([0.1, 0.3, 0.5, 0.7, 0.8, 0.9], [6, 5, 4, 3, 2, 1])
    assert perfect["p"] == pytest.approx(2 / 720)
    many = spearman(TWELVE_RATIOS, -np.asarray(TWELVE_RATIOS))  # above the exact limit: the t approximation
    assert many["p"] < 1e-6
