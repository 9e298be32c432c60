"""The paper's three steps, shared by the ``prunebench train`` command and the benchmark suite's fixtures.

Step 1 trains the baseline into ``step_1``; step 2 prunes it into ``step_2_1`` and retrains it with the
pruned weights held at zero into ``step_2_2``; step 3 stores the pruned variables sparse in ``step_3``.
Each step reads only the previous step's directory, so any subset can run on its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from prunebench.errors import DataError
from prunebench.model.checkpoint import adam_slots, directory_bytes, restore_dense, save_dense
from prunebench.model.data import Mnist
from prunebench.model.keras_model import get_weights, set_weights
from prunebench.model.train import TrainStats, compile_for_training, seed_everything, train
from prunebench.model.workloads import PAPER_CNN, Workload, variable_names
from prunebench.prune.api import prune_weights
from prunebench.prune.keras_glue import hold_pruned_at_zero
from prunebench.prune.masks import MaskReport
from prunebench.prune.paper_format import sparsify
from prunebench.prune.ratio import Ratios, ratio_label
from prunebench.results import atomic
from prunebench.results.spec import Settings

STEP_DIRS = ("step_1", "step_2_1", "step_2_2", "step_3")


@dataclass(frozen=True)
class PruneOutcome:
    reports: dict[str, MaskReport]
    masks: dict[str, np.ndarray]
    retrain: TrainStats
    schedule: dict | None = None  # the method's pruning events and parameters (None: the paper's one-shot)


def train_baseline(data: Mnist, settings: Settings, step_1: Path,
                   on_step: Callable[[int, int], None] | None = None, workload: Workload = PAPER_CNN) -> TrainStats:
    """Step 1: train the workload's network (the paper's CNN) from scratch and save weights plus Adam state
    (``on_step``: see ``train``)."""
    seed_everything(settings.seed, settings.deterministic)
    model = workload.build_model(settings.seed)
    compile_for_training(model, workload.training.learning_rate)
    stats = train(model, data, settings.max_steps, settings.batch_size, settings.seed, label="step 1: train",
                  on_step=on_step)
    save_dense(model, step_1, seed=settings.seed, steps=settings.max_steps, batch_size=settings.batch_size,
               steps_per_second=stats.steps_per_second)
    return stats


def prune_and_retrain(data: Mnist, settings: Settings, ratio: Ratios, step_1: Path, step_2_1: Path,
                      step_2_2: Path, variables_dir: Path | None = None,
                      on_step: Callable[[int, int], None] | None = None, workload: Workload = PAPER_CNN,
                      ) -> PruneOutcome:
    """Step 2: magnitude-prune the named variables (at one ratio, or a ratio each), then retrain with the zeros
    held at the workload's retraining rate (``on_step``: see ``train``)."""
    seed_everything(settings.seed + 1, settings.deterministic)
    model = workload.build_model(settings.seed)
    compile_for_training(model, workload.training.retrain_learning_rate)
    restore_dense(model, step_1)
    pruned, masks, reports = prune_weights(get_weights(model), settings.variables, ratio)
    set_weights(model, pruned)
    for name, keep in masks.items():  # a pruned weight starts retraining with no momentum either
        for slot in adam_slots(model, name):
            slot.assign(np.where(keep, slot.numpy(), np.float32(0.0)))  # +0.0, not -0.0 (no product)
    fields = {"ratio": ratio, "pruned": list(settings.variables), "seed": settings.seed}
    save_dense(model, step_2_1, **fields)
    hold_pruned_at_zero(model, masks)
    stats = train(model, data, settings.retrain_steps, settings.batch_size, settings.seed + 1,
                  label=f"step 2: retrain {ratio_label(ratio)}", on_step=on_step)
    save_dense(model, step_2_2, retrain_steps=settings.retrain_steps, **fields)
    if variables_dir is not None:
        dump_variables(get_weights(model), reports, Path(variables_dir))
    return PruneOutcome(reports=reports, masks=masks, retrain=stats)


def prune_with_method(data: Mnist, settings: Settings, ratio: Ratios, method: str, step_1: Path, step_2_1: Path,
                      step_2_2: Path, on_step: Callable[[int, int], None] | None = None,
                      workload: Workload = PAPER_CNN) -> PruneOutcome:
    """Step 2 by any registered method (prune/methods/), each with the same ``retrain_steps`` budget.

    ``oneshot`` is ``prune_and_retrain`` itself, unchanged; the others run their schedule in one ``fit``.
    """
    from prunebench.prune.methods import DEFAULT_METHOD, METHODS

    if method == DEFAULT_METHOD:
        return prune_and_retrain(data, settings, ratio, step_1, step_2_1, step_2_2, on_step=on_step, workload=workload)
    from prunebench.prune.methods.keras_run import prune_and_retrain_scheduled

    reports, masks, stats, schedule = prune_and_retrain_scheduled(data, settings, ratio, METHODS[method], step_1,
                                                                  step_2_1, step_2_2, on_step=on_step,
                                                                  workload=workload)
    return PruneOutcome(reports=reports, masks=masks, retrain=stats, schedule=schedule)


def sparsify_step(step_2_2: Path, step_3: Path, variables: tuple[str, ...],
                  workload: Workload = PAPER_CNN) -> dict[str, np.ndarray]:
    """Step 3: the paper-compatible sparse file (see ``prune.paper_format``)."""
    return sparsify(step_2_2, step_3, variables, variable_names(workload.layers))


def dump_variables(weights: dict[str, np.ndarray], reports: dict[str, MaskReport], directory: Path) -> None:
    """``--variables-dir``: each pruned variable as ``.npy`` (np.load, no pickle) and a readable table."""
    lines = [f"{'variable':10} {'threshold':>14} {'total':>10} {'nonzero':>10}  shape"]
    for name, report in reports.items():
        with atomic.atomic_path(directory / f"{name}.npy") as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, weights[name], allow_pickle=False)
        lines.append(f"{name:10} {report.threshold:14.9f} {report.total:10d} {report.nonzero:10d}  "
                     f"{'x'.join(map(str, weights[name].shape))}")
    atomic.write_text(directory / "pruning.txt", "\n".join(lines) + "\n")


def _require(directory: Path, step: int, producer: str) -> None:
    if not (directory / "manifest.json").is_file():
        raise DataError(f"step {step} needs {directory}, which is missing or incomplete: run {producer} first")


def run_steps(steps: list[int], data: Mnist | None, settings: Settings, ratio: float, train_dir: Path,
              variables_dir: Path | None) -> dict:
    """What ``prunebench train -1 -2 -3`` does: the chosen steps in order, then ``summary.json``.

    The summary keeps what earlier runs recorded (e.g. the pruning table of a ``-2`` run survives a later
    ``-3``) and always lists the current size in bytes of every step directory present.
    """
    dirs = {name: Path(train_dir) / name for name in STEP_DIRS}
    summary_path = Path(train_dir) / "summary.json"
    summary = _read_summary(summary_path)
    if 1 in steps:
        stats = train_baseline(data, settings, dirs["step_1"])
        summary["train"] = {"steps": stats.steps, "seconds": stats.seconds, "final_loss": stats.final_loss}
    if 2 in steps:
        _require(dirs["step_1"], 2, "-1")
        outcome = prune_and_retrain(data, settings, ratio, dirs["step_1"], dirs["step_2_1"], dirs["step_2_2"],
                                    variables_dir)
        summary["ratio"] = ratio
        summary["variables"] = {name: asdict(report) for name, report in outcome.reports.items()}
        summary["retrain"] = {"steps": outcome.retrain.steps, "seconds": outcome.retrain.seconds}
    if 3 in steps:
        _require(dirs["step_2_2"], 3, "-2")
        sparsify_step(dirs["step_2_2"], dirs["step_3"], settings.variables)
    summary["sizes"] = {name: directory_bytes(path) for name, path in dirs.items() if path.is_dir()}
    atomic.write_text(summary_path, json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


def _read_summary(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not a readable summary ({error}); remove it to start afresh") from None
    if not isinstance(summary, dict):
        raise DataError(f"{path}: not a prunebench summary (expected a JSON object)")
    return summary
