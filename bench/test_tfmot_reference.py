"""TF Model Optimization's ``prune_low_magnitude`` beside our ``gradual`` method at 90% and 95% (issue 11's
outside reference): same baseline, budget, batches, learning rate and schedule (prunebench.build.tfmot_reference).
Runs when the run has the gradual method at those ratios; skipped with the reason where the optional
``tfmot`` extra is not installed."""

from __future__ import annotations

import pytest

from prunebench.results.spec import ModelSpec

REFERENCE_RATIOS = (0.9, 0.95)
MAX_GAP_POINTS = 0.2  # the goal: gradual within 0.2 accuracy points of tfmot at the same sparsity and budget


@pytest.mark.slow
@pytest.mark.parametrize("ratio", REFERENCE_RATIOS, ids=[f"ratio={r:g}" for r in REFERENCE_RATIOS])
def test_gradual_against_tfmot(ratio, suite, builder, mnist, session_state):
    from prunebench.build.tfmot_reference import train_gradual, unavailable_reason
    from prunebench.prune.methods import METHODS

    if "gradual" not in suite.methods or ratio not in suite.ratios:
        pytest.skip(f"the run has no gradual model at {ratio:g} (--methods gradual, --ratios)")
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    settings, gradual = suite.settings, METHODS["gradual"]
    frequency, end_step = gradual.schedule(settings.retrain_steps)
    ours = builder.get(ModelSpec(ratio, settings.seed, "gradual")).record
    reference = train_gradual(mnist, builder.get(ModelSpec(0.0, settings.seed)).weights, ratio,
                              settings.retrain_steps, settings.batch_size, settings.seed + 1, end_step, frequency,
                              gradual.power)
    reference["gradual_accuracy"] = ours["accuracy"]["dense"]
    session_state.references.setdefault("tfmot-gradual", []).append(reference)
    for name, sparsity in reference["sparsity"].items():  # tfmot rounds its own way; within one weight in 1,000
        assert abs(sparsity - ratio) < 1e-3, (name, sparsity)
    gap = (reference["accuracy"] - ours["accuracy"]["dense"]) * 100
    # Met when set (gaps -0.02 and 0.11 points at 90% and 95%): a gate, so a regression fails instead of xfailing.
    assert gap <= MAX_GAP_POINTS, (f"gradual {ours['accuracy']['dense']:.2%} is {gap:.2f} points below tfmot's "
                                   f"{reference['accuracy']:.2%} at {ratio:g} (goal: within {MAX_GAP_POINTS})")
