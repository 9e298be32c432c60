"""The paper's four claims, judged on everything this run measured (these tests run last).

Each (claim, subject) verdict must equal the one recorded in ``bench/expectations/<profile>.json``; the
paper's verdict is the starting expectation, and a change is recorded there with its reason.
"""

from __future__ import annotations

import pytest

from prunebench.claims import format_claim_failure


def pytest_generate_tests(metafunc):
    if "claim_key" not in metafunc.fixturenames:
        return
    from bench.session import suite_config
    from prunebench.prune.formats import FORMATS
    from prunebench.suite import DEVICES

    suite = suite_config(metafunc.config)
    subjects = [("a", "size:step_3"), ("d", "size:step_3")]
    subjects += [(claim, f"size:{name}") for name in FORMATS for claim in ("a", "d")]
    subjects += [("b", "accuracy:dense")]
    subjects += [("c", f"time:{engine}/{device}/network/batch={batch}") for engine in suite.network_engines
                 for device in DEVICES for batch in suite.batches]
    metafunc.parametrize("claim_key", subjects, ids=[f"{claim}-{subject}" for claim, subject in subjects])


@pytest.fixture(scope="session")
def judged_claims(all_models, session_state):
    from prunebench.suite_results import assemble

    return {(claim["id"], claim["subject"]): claim for claim in assemble(session_state)["claims"]}


@pytest.mark.claims
def test_claim(claim_key, judged_claims):
    claim = judged_claims.get(claim_key)
    if claim is None:
        pytest.skip(f"no data for {claim_key[1]} in this run (timings need the benchmarks, run serially; "
                    "GPU subjects need a GPU)")
    assert claim["expected"] is not None, f"no expectation recorded for {claim_key}; add it with its reason"
    assert claim["verdict"] == claim["expected"], format_claim_failure(claim)
