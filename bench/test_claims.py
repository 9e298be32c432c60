"""The paper's four claims, judged on everything this run measured (these tests run last).

Each (claim, range, subject) verdict must equal the one recorded in ``prunebench/expectations/<profile>.json``;
the paper's verdict is the starting expectation, and a change is recorded there with its reason. Time
verdicts depend on the machine and are compared only where this machine class has expectations.
"""

from __future__ import annotations

import pytest

from prunebench.claims import MACHINE_GATED, format_claim_failure, range_of
from prunebench.keys import TimingKey


def pytest_generate_tests(metafunc):
    if "claim_key" not in metafunc.fixturenames:
        return
    from bench.session import suite_config
    from prunebench.model.constants import DEVICES
    from prunebench.prune.formats import SIZE_TABLE_FORMATS

    suite = suite_config(metafunc.config)
    ranges = sorted({range_of(ratio) for ratio in suite.ratios}, reverse=True)  # paper first
    sizes = [f"size:{name}" for name in ("step_3", *SIZE_TABLE_FORMATS)]
    subjects = [(claim, subject) for subject in sizes for claim in ("a", "d")]
    subjects += [("b", "accuracy:dense")]
    subjects += [("c", f"time:{TimingKey(engine, device, 'network', batch)}") for engine in suite.network_engines
                 for device in DEVICES for batch in suite.network_batches]
    keys = [(claim, name, subject, method) for method in suite.methods for claim, subject in subjects
            for name in ranges]
    metafunc.parametrize("claim_key", keys, ids=[f"{claim}@{name}-{subject}" + ("" if method == "oneshot" else
                                                                                 f"-method={method}")
                                                 for claim, name, subject, method in keys])


@pytest.fixture(scope="session")
def judged_claims(all_models, session_state):
    from prunebench.suite_results import assemble

    return {(claim["id"], claim["range"], claim["subject"], claim["method"]): claim
            for claim in assemble(session_state)["claims"]}


@pytest.mark.claims
def test_claim(claim_key, judged_claims):
    claim = judged_claims.get(claim_key)
    if claim is None:
        subject = claim_key[2]
        if subject.startswith("time:") and TimingKey.parse(subject.removeprefix("time:")).device == "gpu":
            pytest.skip(f"{subject}: TensorFlow sees no GPU, so nothing was timed there")
        pytest.skip(f"no timings for {subject} in this run (benchmarks disabled, deselected or run under xdist)")
    if not claim["gated"]:
        pytest.skip(f"not gated: {claim['not_gated_because']}; measured "
                    f"{claim['verdict']}: {claim['basis']}")
    assert claim["expected"] is not None, f"no expectation recorded for {claim_key}; add it with its reason"
    if claim["id"] in MACHINE_GATED and claim["verdict"] == "inconclusive" != claim["expected"]:
        # A timing run too noisy to decide contradicts nothing: said, with its noise, but not a failure.
        # Seen: a CI run sharing the 2 cores with a second suite ran at 33% IQR/median instead of 5%.
        pytest.skip(f"undecided on this run, expected {claim['expected']}: {claim['basis']}")
    assert claim["verdict"] == claim["expected"], format_claim_failure(claim)
