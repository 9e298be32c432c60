"""Checkpoint directories: dense ones (weights plus Adam's two slots, as the paper's TF1 checkpoints held)
and a manifest that says what kind a directory is, so a wrong one is refused with a clear message.

Files are TensorFlow's checkpoint bundle (``.index`` + ``.data``), written by ``SaveV2`` under the paper's
TF1 names (``w_fc1``, ``w_fc1/Adam``, ``w_fc1/Adam_1``, ``beta1_power``, ...; any workload's variables are named
so, model/keras_model.py) and read with
``tf.train.load_checkpoint``: reading never runs code or a graph from the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from prunebench.errors import DataError
from prunebench.model.cnn import PAPER_NAMES
from prunebench.model.keras_model import get_weights, set_weights, variable, variable_map
from prunebench.results import atomic

MANIFEST = "manifest.json"
PREFIX = "model.ckpt"
DENSE = "dense-checkpoint"
SPARSE_TF1 = "sparse-tf1"
KIND_HINT = {DENSE: "a dense checkpoint (step_1 or step_2_2)", SPARSE_TF1: "a sparse model (step_3)"}


def directory_bytes(directory: Path) -> int:
    """Size on disk of a step directory, as the paper measured it: the sum of its checkpoint files.

    prunebench's own ``manifest.json`` is not counted: the paper's directories had none, and it records a
    measured training speed whose digits vary from run to run, which made two builds of the same model
    differ by a byte.
    """
    return sum(path.stat().st_size for path in Path(directory).rglob("*") if path.is_file() and path.name != MANIFEST)


def write_manifest(directory: Path, kind: str, **fields) -> None:
    atomic.write_text(directory / MANIFEST, json.dumps({"kind": kind, **fields}, indent=1, sort_keys=True))


def read_manifest(directory: str | Path, expected_kind: str) -> dict:
    """The manifest of a checkpoint directory, refusing missing, empty, corrupt or wrong-kind ones."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"checkpoint directory {directory} does not exist or is not a directory")
    path = directory / MANIFEST
    if not path.is_file():
        raise DataError(f"checkpoint directory {directory} holds no prunebench checkpoint ({MANIFEST} missing)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: unreadable manifest ({error})") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind != expected_kind:
        found = KIND_HINT.get(kind, f"of unknown kind {kind!r}")
        raise DataError(f"checkpoint directory {directory} is {found}; this needs {KIND_HINT[expected_kind]}")
    return manifest


def read_tensors(directory: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of a checkpoint bundle, by name; a truncated or corrupt bundle is a DataError."""
    prefix = str(Path(directory) / PREFIX)
    try:
        reader = tf.train.load_checkpoint(prefix)
        return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    except (tf.errors.OpError, ValueError, IndexError) as error:  # a short .data file raises IndexError
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"checkpoint {prefix} is unreadable (truncated or corrupt?): {first_line}") from None


def write_tensors(directory: Path, tensors: dict[str, np.ndarray]) -> None:
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=str(directory / PREFIX),
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[tensors[name] for name in names],
    )


def adam_slots(model: keras.Model, name: str) -> tuple[keras.Variable, keras.Variable]:
    optimizer = model.optimizer
    index = optimizer._get_variable_index(variable(model, name))
    return optimizer._momentums[index], optimizer._velocities[index]


def save_dense(model: keras.Model, directory: str | Path, **manifest_fields) -> None:
    """Weights, Adam's first and second moments and the step count, written whole or not at all."""
    optimizer = model.optimizer
    step = int(optimizer.iterations.numpy())
    tensors: dict[str, np.ndarray] = dict(get_weights(model))
    for name in variable_map(model):
        momentum, velocity = adam_slots(model, name)
        tensors[f"{name}/Adam"] = momentum.numpy()
        tensors[f"{name}/Adam_1"] = velocity.numpy()
    tensors["beta1_power"] = np.float32(optimizer.beta_1**step)
    tensors["beta2_power"] = np.float32(optimizer.beta_2**step)
    tensors["global_step"] = np.int64(step)
    with atomic.atomic_dir(directory) as tmp:
        write_tensors(tmp, tensors)
        write_manifest(tmp, DENSE, step=step, **manifest_fields)


def load_dense(directory: str | Path, names: Sequence[str] = PAPER_NAMES,
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict]:
    """(weights, all tensors, manifest) of a dense checkpoint directory; ``names``: the workload's variables
    (model.workloads.variable_names), in its order."""
    manifest = read_manifest(directory, DENSE)
    tensors = read_tensors(directory)
    missing = [name for name in names if name not in tensors]
    if missing:
        raise DataError(f"checkpoint {directory} lacks variable {missing[0]}")
    return {name: tensors[name] for name in names}, tensors, manifest


def restore_dense(model: keras.Model, directory: str | Path) -> dict:
    """Load weights and Adam state into a compiled model, so training continues where it stopped."""
    weights, tensors, manifest = load_dense(directory, tuple(variable_map(model)))
    set_weights(model, weights)
    for name in variable_map(model):
        momentum, velocity = adam_slots(model, name)
        momentum.assign(tensors[f"{name}/Adam"])
        velocity.assign(tensors[f"{name}/Adam_1"])
    model.optimizer.iterations.assign(int(tensors["global_step"]))
    return manifest
