"""Training as the TensorFlow tutorial the paper follows: Adam at its learning rate (model/constants.py), fixed steps
at a batch size."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from prunebench.model.constants import LEARNING_RATE
from prunebench.model.data import Mnist

ADAM_EPSILON = 1e-8  # tf.train.AdamOptimizer's default, which the paper's TF1 code used


@dataclass(frozen=True)
class TrainStats:
    steps: int
    seconds: float
    final_loss: float

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else float("nan")


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Python, NumPy and TensorFlow seeds; optionally TensorFlow's op determinism (bit-identical weights)."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def training_dataset(data: Mnist, batch_size: int, seed: int) -> tf.data.Dataset:
    """Shuffled, repeated batches of the training set, seeded so a run is reproducible.

    Shuffles indices, not images, and scales each batch in the pipeline: setting up a run then costs
    milliseconds instead of copying and buffering 188 MB of float images.
    """
    images = tf.constant(data.train_images)
    labels = tf.constant(data.train_labels.astype(np.int32))

    def batch_of(indices):
        scaled = tf.cast(tf.gather(images, indices), tf.float32) / 255.0
        return scaled[..., tf.newaxis], tf.gather(labels, indices)

    # No autotuning: when ``fit`` ends, tearing down the iterator waits for tf.data's autotuning thread,
    # which made every other short ``fit`` call seconds longer (docs/engines.md, "Training"). Steps per
    # second within a call are the same without the tuner, and so are the batches and their order.
    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        tf.data.Dataset.range(len(data.train_labels))
        .shuffle(len(data.train_labels), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .map(batch_of, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(options)
    )


def compile_for_training(model: keras.Model, learning_rate: float = LEARNING_RATE) -> None:
    """Adam at ``learning_rate`` (the paper's by default; a workload's own: model/workloads/base.py Training)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, epsilon=ADAM_EPSILON),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile="auto",  # Keras' default: XLA where it can, twice the steps/s of plain graph mode here
    )
    model.optimizer.build(model.trainable_variables)


class _Progress(keras.callbacks.Callback):
    """A tqdm bar over training steps; silent when stderr is not a terminal (CI logs stay readable)."""

    def __init__(self, steps: int, label: str):
        super().__init__()
        self.bar = tqdm(total=steps, desc=label, unit="step", disable=None, file=sys.stderr, leave=False)

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)
        if logs and batch % 50 == 0:
            self.bar.set_postfix(loss=f"{float(logs['loss']):.4f}")

    def on_train_end(self, logs=None):
        self.bar.close()


class _StepReport(keras.callbacks.Callback):
    """Calls ``on_step(done, total)`` after every optimizer step (the suite's build progress line)."""

    def __init__(self, steps: int, on_step: Callable[[int, int], None]):
        super().__init__()
        self.steps, self.on_step = steps, on_step

    def on_train_batch_end(self, batch, logs=None):
        self.on_step(batch + 1, self.steps)


def train(model: keras.Model, data: Mnist, steps: int, batch_size: int, seed: int, label: str = "train",
          on_step: Callable[[int, int], None] | None = None,
          callbacks: list[keras.callbacks.Callback] | None = None) -> TrainStats:
    """Run exactly ``steps`` optimizer steps on a compiled model (its optimizer state carries on).

    ``on_step(done, total)``, if given, is called after each step; ``callbacks`` go to ``fit`` first (the
    pruning methods' mask updates, prune/methods/keras_run.py).
    """
    dataset = training_dataset(data, batch_size, seed)
    callbacks = list(callbacks or [])
    if sys.stderr.isatty():
        callbacks.append(_Progress(steps, label))
    if on_step is not None:
        callbacks.append(_StepReport(steps, on_step))
    start = time.perf_counter()
    history = model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=callbacks,
                        shuffle=False)  # the dataset shuffles itself, seeded
    seconds = time.perf_counter() - start
    return TrainStats(steps=steps, seconds=seconds, final_loss=float(history.history["loss"][-1]))
