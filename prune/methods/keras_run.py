"""Keras glue of the scheduled methods: one ``fit`` of exactly the budget, the masks changed between steps.

The masks live in non-trainable variables read by a constraint after every optimizer step, so the compiled
(XLA) train step sees each new mask without retracing. A callback applies each pruning event of the plan
before the step it names: it ranks the current weights (``nested_masks``), sets the newly pruned weights and
their Adam slots to +0.0 (selected, never multiplied: no -0.0) and updates the mask variables. Just after
the last event it saves ``step_2_1`` (the model at the target sparsity, before its final retraining), so the
suite's ``before_retrain`` accuracy and ``zeros_held`` check mean for every method what they mean for the
paper's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from prunebench.model.checkpoint import adam_slots, restore_dense, save_dense
from prunebench.model.data import Mnist
from prunebench.model.keras_model import variable
from prunebench.model.train import TrainStats, compile_for_training, seed_everything, train
from prunebench.model.workloads import PAPER_CNN, Workload
from prunebench.prune.masks import MaskReport, mask_report
from prunebench.prune.methods.base import PruneEvent, PruningMethod, layer_plan, nested_masks
from prunebench.prune.ratio import Ratios, ratio_label
from prunebench.results.spec import Settings


class MaskedZeros(keras.constraints.Constraint):
    """Like prune.keras_glue.HoldZeros, but the mask is a variable the callback may change mid-fit."""

    def __init__(self, keep: keras.Variable):
        self.keep = keep

    def __call__(self, weights):
        return keras.ops.where(self.keep > 0.5, weights, keras.ops.zeros_like(weights))


class _Events(keras.callbacks.Callback):
    def __init__(self, events: tuple[PruneEvent, ...], apply: Callable[[PruneEvent, bool], None]):
        super().__init__()
        self.events = {event.step: event for event in events}
        self.last = events[-1].step
        self.apply = apply

    def on_train_batch_begin(self, batch, logs=None):
        event = self.events.get(batch)
        if event is not None:
            self.apply(event, batch == self.last)


def prune_and_retrain_scheduled(data: Mnist, settings: Settings, ratio: Ratios, method: PruningMethod,
                                step_1: Path, step_2_1: Path, step_2_2: Path,
                                on_step: Callable[[int, int], None] | None = None, workload: Workload = PAPER_CNN,
                                ) -> tuple[dict[str, MaskReport], dict[str, np.ndarray], TrainStats, dict]:
    """Step 2 for any method: ``settings.retrain_steps`` training steps in all, pruned by ``method``'s plan
    (``ratio``: one for all the variables, or a ratio per variable), at the workload's retraining rate.

    Returns (reports at the final event, final keep-masks, training stats, a record of the events).
    """
    budget, names = settings.retrain_steps, settings.variables
    events = layer_plan(method, ratio, budget)
    seed_everything(settings.seed + 1, settings.deterministic)
    model = workload.build_model(settings.seed)
    compile_for_training(model, workload.training.retrain_learning_rate)
    restore_dense(model, step_1)
    masks = {name: np.ones(variable(model, name).shape, dtype=bool) for name in names}
    mask_vars = {name: keras.Variable(np.ones(masks[name].shape, np.float32), trainable=False, name=f"keep_{name}")
                 for name in names}
    for name in names:
        variable(model, name).constraint = MaskedZeros(mask_vars[name])
    fields = {"ratio": ratio, "pruned": list(names), "seed": settings.seed, "method": method.name}
    reports: dict[str, MaskReport] = {}
    applied: list[dict] = []

    def apply(event: PruneEvent, last: bool) -> None:
        weights = {name: np.asarray(variable(model, name).numpy()) for name in names}
        new = nested_masks(weights, names, event.sparsity, method.ranking, keep=masks)
        for name in names:
            keep = new[name]
            variable(model, name).assign(np.where(keep, weights[name], np.float32(0.0)))
            for slot in adam_slots(model, name):
                slot.assign(np.where(keep, slot.numpy(), np.float32(0.0)))
            mask_vars[name].assign(keep.astype(np.float32))
            if last:
                reports[name] = mask_report(weights[name], keep)
        masks.update(new)
        applied.append({"step": event.step, "sparsity": event.sparsity,
                        "nonzero": int(sum(np.count_nonzero(keep) for keep in new.values()))})
        if last:
            save_dense(model, step_2_1, **fields)

    stats = train(model, data, budget, settings.batch_size, settings.seed + 1,
                  label=f"step 2: {method.name} {ratio_label(ratio)}", on_step=on_step,
                  callbacks=[_Events(events, apply)])
    save_dense(model, step_2_2, retrain_steps=budget, **fields)
    return reports, masks, stats, {"events": applied, **method.params(budget)}
