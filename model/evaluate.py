"""Accuracy and prediction time of a network over (part of) the MNIST test set."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from prunebench.model.data import Mnist, to_inputs


@dataclass(frozen=True)
class Evaluation:
    network: str
    images: int
    batches: int
    batch_size: int
    accuracy: float
    prediction_seconds: float  # total over all batches, warm-up excluded
    median_batch_seconds: float
    model_bytes: int

    def as_dict(self) -> dict:
        return asdict(self)


def predict_batches(predict: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, batch_size: int,
                    ) -> tuple[np.ndarray, list[float]]:
    """Logits for every input and the wall time of each batch; one untimed warm-up batch runs first
    so that tracing and conversion are never counted as prediction time."""
    predict(inputs[:batch_size])
    outputs, seconds = [], []
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start:start + batch_size]
        began = time.perf_counter()
        outputs.append(predict(batch))
        seconds.append(time.perf_counter() - began)
    return np.concatenate(outputs), seconds


def evaluate(predict: Callable[[np.ndarray], np.ndarray], data: Mnist, batch_size: int, max_steps: int,
             network: str, model_bytes: int) -> Evaluation:
    """``max_steps`` batches of the test set (0: all of it), as the paper's eval scripts did."""
    count = len(data.test_labels) if max_steps == 0 else min(len(data.test_labels), max_steps * batch_size)
    inputs = to_inputs(data.test_images[:count])
    logits, seconds = predict_batches(predict, inputs, batch_size)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == data.test_labels[:count]))
    return Evaluation(network=network, images=count, batches=len(seconds), batch_size=batch_size,
                      accuracy=accuracy, prediction_seconds=float(sum(seconds)),
                      median_batch_seconds=float(np.median(seconds)), model_bytes=model_bytes)
