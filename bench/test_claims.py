"""The paper's four claims, judged on everything this run measured (these tests run last).

Each (claim, range, subject, method) verdict is held to its expectation: for (a), (b), (d) the one recorded in
``prunebench/verdicts/expectations/<profile>.json``, for (c) the one that follows from the engine's work
(prunebench/verdicts/expected.py) unless the file's ``machines`` overrides it for this machine class. Each
claim ends as one of ``prunebench.verdicts.judging.OUTCOMES`` (docs/verdicts.md):

- passed, or failed: the verdict equals, or differs from, the expected one. A claim the run should have
  judged but did not (absent from the results) fails, naming what is missing.
- not judged: a skip "not judged: ..." with the counts, only where a run narrowed to fewer ratios than its
  profile's cannot meet the rule's need ((a) with one ratio, say). On a full profile run a claim not judged
  is held to its expectation like any other.
- not gated: a skip saying why no expectation applies (a converter's engine, a run off its profile's protocol).
- undecided: a gated time verdict still inconclusive after retiming. Rule: each such subject's timing key
  gets more interleaved rounds (``bench.retiming``) and the claims are judged again. One still inconclusive fails if
  its point estimates lean against the expectation (``TimeUnchanged.wrong_side``); otherwise it is skipped with its
  noise and interval, unless more than ``MAX_UNDECIDED_SHARE`` of the gated time subjects are undecided: then each
  fails, the run too noisy to gate.

Time claims are items only for devices an engine runs on here; an engine that cannot run on one of its devices
(no GPU visible, a package missing) gets one skip item with the reason. When benchmarks are off
(``--benchmark-disable``, ``--benchmark-skip``, xdist), one skip item stands for every time claim.
"""

from __future__ import annotations

import pytest

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.results.keys import TimingKey
from prunebench.verdicts.evidence import range_of
from prunebench.verdicts.judging import (
    claim_outcome,
    format_claim_failure,
    missing_claim,
    too_noisy,
)


def engine_devices(name: str, engine) -> tuple[list[str], str | None]:
    """The devices of ``engine.devices`` it runs on here, and why not on the others (None: all of them)."""
    reasons = {device: engine.unavailable_reason(device) for device in engine.devices}
    unavailable = [f"{name} on {device}: {reason}" for device, reason in reasons.items() if reason]
    return [device for device, reason in reasons.items() if reason is None], "; ".join(unavailable) or None


def _skip_item(key: tuple, item_id: str, reason: str):
    return pytest.param(key, id=item_id, marks=pytest.mark.skip(reason=reason))


def pytest_generate_tests(metafunc):
    if "claim_key" not in metafunc.fixturenames:
        return
    from bench.params import benchmarks_off
    from bench.session import suite_config
    from prunebench.model.engines import ENGINES

    suite = suite_config(metafunc.config)
    ranges = sorted({range_of(ratio) for ratio in suite.ratios}, reverse=True)  # paper first
    sizes = [f"size:{name}" for name in ("step_3", *suite.formats)]  # the formats this run's size table measures
    subjects = [(claim, subject) for subject in sizes for claim in ("a", "d")]
    subjects += [("b", "accuracy:dense")]
    skipped = []
    off = benchmarks_off(metafunc.config)
    if off:
        skipped.append(_skip_item(("c", "all", "time:*", "all"), "c-time-claims",
                                  f"time claims not judged: {off}, so nothing was timed"))
    for engine in () if off else suite.network_engines:
        devices, unavailable = engine_devices(engine, ENGINES[engine])
        subjects += [("c", f"time:{TimingKey(engine, device, 'network', batch)}") for device in devices
                     for batch in suite.network_batches]
        if unavailable:
            skipped.append(_skip_item(("c", "all", f"time:{engine}", "all"), f"c-{engine}-unavailable",
                                      f"no time claims: {unavailable}"))
    keys = [(claim, name, subject, method) for method in suite.methods for claim, subject in subjects
            for name in ranges]
    metafunc.parametrize("claim_key", [
        pytest.param(key, id=f"{key[0]}@{key[1]}-{key[2]}" + ("" if key[3] == DEFAULT_METHOD else f"-method={key[3]}"))
        for key in keys] + skipped)


@pytest.fixture(scope="session")
def judged_claims(run_results):
    """Every claim of the run by (claim, range, subject, method), judged after the undecided gated time
    subjects were retimed (``bench.retiming``)."""
    return {(claim["id"], claim["range"], claim["subject"], claim["method"]): claim for claim in run_results["claims"]}


@pytest.fixture(scope="session")
def too_noisy_run(judged_claims) -> str | None:
    return too_noisy(judged_claims.values())


def selected_network_keys(items) -> set[str]:
    """Timing keys of the network benchmarks selected in this session (bench/test_inference.py's
    ``test_network`` and its parameters): a time claim can only be judged where its benchmark ran."""
    return {str(TimingKey(item.callspec.params["network_engine"], item.callspec.params["device"], "network",
                          item.callspec.params["network_batch"]))
            for item in items if getattr(item, "originalname", None) == "test_network"}


def _missing(claim_key: tuple, items) -> None:
    outcome, text = missing_claim(claim_key, selected_network_keys(items))
    if outcome == "skip":
        pytest.skip(text)
    pytest.fail(text, pytrace=False)


def _interval_text(claim: dict) -> str:
    low, high = claim["interval"]
    noise = "" if claim.get("noise") is None else f", rounds' IQR/median {claim['noise'] * 100:.1f}%"
    return f"{claim['effect']:.3f}x [90% CI {low:.3f}, {high:.3f}] at ratio {claim['effect_ratio']:g}{noise}"


@pytest.mark.claims
def test_claim(claim_key, judged_claims, too_noisy_run, request):
    claim = judged_claims.get(claim_key)
    if claim is None:
        _missing(claim_key, request.session.items)
    outcome = claim_outcome(claim)
    if outcome == "not judged":
        pytest.skip(f"not judged: {claim['not_judged_because']}")
    if outcome == "not gated":
        pytest.skip(f"not gated: {claim['not_gated_because']}; measured {claim['verdict']}: {claim['basis']}")
    if outcome == "undecided":
        undecided = f"undecided after retiming, expected {claim['expected']}: {_interval_text(claim)}; {claim['basis']}"
        if too_noisy_run:
            pytest.fail(f"{too_noisy_run}; this one {undecided}", pytrace=False)
        pytest.skip(undecided)
    assert claim["expected"] is not None, f"no expectation recorded for {claim_key}; add it with its reason"
    leaning = ("still inconclusive after retiming, with point estimates leaning against the expectation\n"
               if claim["verdict"] == "inconclusive" and claim["judged"] else "")
    assert claim["verdict"] == claim["expected"], leaning + format_claim_failure(claim)
