"""The paper's step_3 file, reproduced: what its TF1 code stored for a sparsified model.

For each pruned variable, int32 (row, col) indices and float32 values of every nonzero, held in TF1
variables whose initial values are graph constants, so the saver's ``.meta`` graph embeds them a
second time (about 24 bytes per nonzero on disk). Unpruned variables (conv kernels, biases) are plain
variables, stored once. That layout is why the paper saw compression only from a 50% ratio.

Reading goes through ``tf.train.load_checkpoint`` on the ``.index``/``.data`` bundle only; the
``.meta`` graph is never imported or run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from prunebench.errors import DataError
from prunebench.model.checkpoint import PREFIX, SPARSE_TF1, load_dense, read_manifest, read_tensors, write_manifest
from prunebench.model.cnn import PAPER_NAMES
from prunebench.results import atomic


def to_coordinates(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int32 (row, col) of each nonzero of the 2-D view, and its float32 value, in row-major order."""
    matrix = weights.reshape(-1, weights.shape[-1])
    rows, cols = np.nonzero(matrix)
    return np.stack([rows, cols], axis=1).astype(np.int32), matrix[rows, cols].astype(np.float32)


def from_coordinates(indices: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    matrix = np.zeros((int(np.prod(shape[:-1])), shape[-1]), dtype=np.float32)
    matrix[indices[:, 0], indices[:, 1]] = values
    return matrix.reshape(shape)


def save_sparse(weights: dict[str, np.ndarray], pruned: tuple[str, ...], directory: str | Path, **fields) -> None:
    """Write the paper-compatible sparse model: TF1 graph + Saver, whole or not at all (every variable of
    ``weights``, in its order)."""
    graph = tf.Graph()
    with graph.as_default():
        dense_inputs = {}
        for name in weights:
            if name in pruned:
                indices, values = to_coordinates(weights[name])
                tf.compat.v1.Variable(tf.constant(indices), name=f"{name}/indices")
                tf.compat.v1.Variable(tf.constant(values), name=f"{name}/values")
                tf.compat.v1.Variable(tf.constant(np.array(weights[name].shape, np.int64)), name=f"{name}/shape")
            else:
                feed = tf.compat.v1.placeholder(tf.float32, weights[name].shape)
                dense_inputs[feed] = weights[name]
                tf.compat.v1.Variable(feed, name=name)
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session, atomic.atomic_dir(directory) as tmp:
            session.run(tf.compat.v1.global_variables_initializer(), feed_dict=dense_inputs)
            saver.save(session, str(tmp / PREFIX), write_state=False)
            write_manifest(tmp, SPARSE_TF1, pruned=list(pruned), **fields)


def load_sparse(directory: str | Path, names: Sequence[str] = PAPER_NAMES) -> tuple[dict[str, np.ndarray], dict]:
    """(dense weights rebuilt from the sparse file, manifest) of a step_3 directory; ``names``: the workload's
    variables."""
    manifest = read_manifest(directory, SPARSE_TF1)
    tensors = read_tensors(directory)
    weights = {}
    for name in names:
        try:
            if name in manifest["pruned"]:
                shape = tuple(int(d) for d in tensors[f"{name}/shape"])
                weights[name] = from_coordinates(tensors[f"{name}/indices"], tensors[f"{name}/values"], shape)
            else:
                weights[name] = tensors[name]
        except (KeyError, IndexError, ValueError) as error:
            raise DataError(f"sparse model {directory} is inconsistent at variable {name}: {error}") from None
    return weights, manifest


def sparsify(step_2_2: str | Path, step_3: str | Path, pruned: tuple[str, ...],
             names: Sequence[str] = PAPER_NAMES) -> dict[str, np.ndarray]:
    """Step 3 of the paper: read the retrained dense checkpoint and store its pruned variables sparse."""
    weights, _, manifest = load_dense(step_2_2, names)
    save_sparse(weights, pruned, step_3, source=str(step_2_2), ratio=manifest.get("ratio"))
    return weights
