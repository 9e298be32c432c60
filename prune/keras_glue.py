"""Keras glue: hold pruned weights at exactly zero while an optimizer trains the rest."""

from __future__ import annotations

import keras
import numpy as np

from prunebench.model.keras_model import variable


class HoldZeros(keras.constraints.Constraint):
    """Re-applies the mask after every optimizer step (Keras runs constraints inside the compiled step).

    Whatever Adam's slots hold for a pruned weight, the weight is set back to +0.0 before the next
    forward pass, so optimizer state can never revive it. Selected with ``where``, never multiplied by
    the mask: a negative weight times 0 is -0.0, whose set sign bit survives into every stored copy and
    costs bytes under a general-purpose compressor.
    """

    def __init__(self, keep: np.ndarray):
        self.keep = keras.ops.convert_to_tensor(np.asarray(keep, dtype=bool))

    def __call__(self, weights):
        return keras.ops.where(self.keep, weights, keras.ops.zeros_like(weights))


def hold_pruned_at_zero(model: keras.Model, masks: dict[str, np.ndarray]) -> None:
    for name, keep in masks.items():
        variable(model, name).constraint = HoldZeros(keep)
