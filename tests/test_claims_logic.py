"""Verdict rules of prunebench.claims on constructed data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from prunebench.claims import (
    absence_verdict, association_verdict, claim_subjects, evaluate_claims, format_claim_failure,
    load_expectations, medians_by_ratio, onset, spearman, threshold_verdict,
)
from prunebench.errors import DataError
from prunebench.paper import ORIGINAL_SIZE_MIB
from test_results import fabricate_results

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


def test_any_claim_inconclusive_with_four_points():
    verdict, basis = association_verdict(*[spearman(PAPER_RATIOS[:4], PAPER_SIZES_MIB[:4])[key]
                                            for key in ("rho", "p", "n")])
    assert verdict == "inconclusive" and "n too small" in basis
    assert _verdict(absence_verdict, PAPER_RATIOS[:4], PAPER_SIZES_MIB[:4]) == "inconclusive"


def test_absence_supported_for_unrelated_accuracy_with_twelve_points():
    accuracy = np.random.default_rng(1).normal(0.99, 0.001, size=12)
    correlation = spearman(TWELVE_RATIOS, accuracy)
    assert correlation["p"] >= 0.05  # the premise of this case
    assert absence_verdict(correlation["rho"], correlation["p"], 12)[0] == "supported"


def test_absence_refuted_for_monotone_accuracy_with_twelve_points():
    accuracy = 0.99 - 0.01 * TWELVE_RATIOS + np.linspace(0, 1e-4, 12)
    assert _verdict(absence_verdict, TWELVE_RATIOS, accuracy) == "refuted"


def test_absence_inconclusive_below_ten_points_even_without_correlation():
    verdict, basis = absence_verdict(0.1, 0.8, 6)
    assert verdict == "inconclusive" and "too small to exclude" in basis


def test_constant_measure_does_not_move_with_the_ratio():
    """A dense format's size never changes: that refutes (a) and, with enough points, supports (b)/(c)."""
    correlation = spearman(TWELVE_RATIOS, np.ones(12))
    assert correlation["rho"] is None and correlation["ci"] is None
    assert association_verdict(correlation["rho"], correlation["p"], 12)[0] == "refuted"
    assert absence_verdict(correlation["rho"], correlation["p"], 12)[0] == "supported"
    assert absence_verdict(correlation["rho"], correlation["p"], 6)[0] == "inconclusive"


def test_bootstrap_ci_contains_rho():
    y = TWELVE_RATIOS + np.random.default_rng(3).normal(0, 0.3, size=12)
    correlation = spearman(TWELVE_RATIOS, y)
    low, high = correlation["ci"]
    assert low - 1e-12 <= correlation["rho"] <= high + 1e-12 and low < high


def test_threshold_supported_on_paper_sizes():
    medians = medians_by_ratio(PAPER_RATIOS, PAPER_SIZES_MIB)
    assert threshold_verdict(medians, ORIGINAL_SIZE_MIB, 6)[0] == "supported"
    assert onset(list(medians), [size < ORIGINAL_SIZE_MIB for size in medians.values()]) == 0.5


def test_threshold_refuted_when_every_size_is_below_reference():
    medians = medians_by_ratio(PAPER_RATIOS, [size / 10 for size in PAPER_SIZES_MIB])
    verdict, basis = threshold_verdict(medians, ORIGINAL_SIZE_MIB, 6)
    assert verdict == "refuted" and "already smaller" in basis


def test_threshold_inconclusive_without_ratios_below_half():
    medians = medians_by_ratio(PAPER_RATIOS[2:] * 2, PAPER_SIZES_MIB[2:] * 2)
    assert threshold_verdict(medians, ORIGINAL_SIZE_MIB, 8)[0] == "inconclusive"


def test_medians_by_ratio_takes_median_over_seeds():
    assert medians_by_ratio([0.5, 0.1, 0.5, 0.5], [3.0, 9.0, 1.0, 2.0]) == {0.1: 9.0, 0.5: 2.0}


def test_onset_requires_every_later_ratio():
    assert onset([0.1, 0.3, 0.5, 0.7], [True, False, True, True]) == 0.5
    assert onset([0.1, 0.3, 0.5], [True, True, False]) is None


def test_evaluate_claims_covers_subjects_and_fills_expectations():
    results = fabricate_results()
    expectations = {"a:*": {"verdict": "supported", "reason": "sizes fall"},
                    "a:size:csr": {"verdict": "refuted", "reason": "specific entry wins"}}
    claims = evaluate_claims(results, expectations)
    by_key = {f"{claim['id']}:{claim['subject']}": claim for claim in claims}
    assert [(claim["id"], claim["subject"]) for claim in claims] == claim_subjects(results)
    assert {"a:size:step_3", "d:size:step_3", "a:size:csr", "b:accuracy:dense",
            "c:time:tf-sparse/cpu/network/batch=32"} <= set(by_key)
    assert not any(key.startswith("c:time:") and "/fc1/" in key for key in by_key)
    assert by_key["a:size:step_3"]["verdict"] == "supported"
    assert by_key["a:size:step_3"]["expected"] == "supported"
    assert by_key["a:size:csr"]["reason"] == "specific entry wins"
    assert by_key["b:accuracy:dense"]["expected"] is None
    assert by_key["d:size:step_3"]["verdict"] == "supported"
    assert by_key["d:size:step_3"]["break_even"] == 0.5
    assert 0.0 not in by_key["a:size:step_3"]["x"]  # the baseline is not a point
    assert by_key["a:size:step_3"]["n"] == 14


def test_format_claim_failure_shows_statistics_and_data():
    claim = evaluate_claims(fabricate_results(), {"d:*": {"verdict": "refuted", "reason": "why not"}})
    message = format_claim_failure(next(c for c in claim if c["id"] == "d"))
    assert "expected refuted, measured supported" in message
    assert "rho = " in message and "n = 14" in message and "break-even ratio = 0.5" in message
    assert "\n    0.1\t" in message and message.count("\n") > 14


def test_load_expectations_accepts_valid_and_rejects_bad(tmp_path):
    path = tmp_path / "expectations.json"
    path.write_text(json.dumps({"a:*": {"verdict": "supported", "reason": "r"}}))
    assert load_expectations(path)["a:*"]["verdict"] == "supported"
    for bad, message in [("{", "cannot read"), ('{"x:y": {"verdict": "supported"}}', "is not '<a|b|c|d>"),
                         ('{"a:*": {"verdict": "maybe"}}', "needs a 'verdict'")]:
        path.write_text(bad)
        with pytest.raises(DataError, match=message):
            load_expectations(path)
    with pytest.raises(DataError, match="not found"):
        load_expectations(tmp_path / "absent.json")


def test_holm_adjustment_controls_the_family_of_subjects():
    from prunebench.claims import holm_adjusted

    adjusted = holm_adjusted({"x": 0.01, "y": 0.04, "z": 0.03, "none": None})
    assert adjusted["x"] == pytest.approx(0.03) and adjusted["z"] == pytest.approx(0.06)
    assert adjusted["y"] == pytest.approx(0.06) and adjusted["none"] is None
