"""An outside reference for the ``gradual`` method: TF Model Optimization's own ``prune_low_magnitude``.

The same network (tf-keras layers, as tfmot requires), started from the same baseline weights, trained
the same ``retrain_steps`` on the same batches (``training_dataset`` with the same seed, so the same order)
at the same learning rate, with tfmot's ``PolynomialDecay`` set to our schedule's numbers (initial 0,
final ratio, begin 0, the same end step and frequency, power 3) on fc1 and fc2 only. One difference is
left in on purpose: tfmot starts a fresh Adam, where ours carries the baseline's Adam state on (tfmot has
no way to load it into its wrapped variables). Accuracy is then measured on the stripped model.

Optional: needs the ``tfmot`` extra (``tensorflow-model-optimization`` and ``tf-keras``); ``available``
says why not where it is missing. Lives outside prunebench.model and prunebench.prune, so it is not part
of the cache's code hash.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping

import numpy as np

from prunebench.model.constants import FC1_UNITS, LEARNING_RATE

PRUNED_LAYERS = ("fc1", "fc2")  # w_fc1 and w_fc2, the suite's DEFAULT_PRUNED


def unavailable_reason() -> str | None:
    missing = [name for name in ("tensorflow_model_optimization", "tf_keras") if importlib.util.find_spec(name) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed (the optional extra: pip install -e '.[tfmot]'), so the "
                "tfmot reference was not trained")
    return None


def _model(keras_module):
    layers = keras_module.layers
    return keras_module.Sequential([
        keras_module.Input((28, 28, 1)),
        layers.Conv2D(32, 5, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(FC1_UNITS, activation="relu", name="fc1"),
        layers.Dense(10, name="fc2"),
    ])


def train_gradual(data, weights: Mapping[str, np.ndarray], ratio: float, steps: int, batch_size: int, seed: int,
                  end_step: int, frequency: int, power: float) -> dict:
    """Prune fc1 and fc2 to ``ratio`` with tfmot's schedule within ``steps`` steps; the result's dense test
    accuracy (whole test set), the sparsity of each pruned kernel, and the seconds it took."""
    import tensorflow_model_optimization as tfmot
    import tf_keras

    from prunebench.model.data import to_inputs
    from prunebench.model.train import ADAM_EPSILON, training_dataset

    model = _model(tf_keras)
    for layer in ("conv1", "conv2", "fc1", "fc2"):
        model.get_layer(layer).set_weights([weights[f"w_{layer}"], weights[f"b_{layer}"]])
    schedule = tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=ratio, begin_step=0,
                                                    end_step=end_step, power=power, frequency=frequency)

    def wrap(layer):
        if layer.name in PRUNED_LAYERS:
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer

    pruned = tf_keras.models.clone_model(model, clone_function=wrap)
    pruned.compile(optimizer=tf_keras.optimizers.Adam(LEARNING_RATE, epsilon=ADAM_EPSILON),
                   loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = time.perf_counter()
    pruned.fit(training_dataset(data, batch_size, seed), epochs=1, steps_per_epoch=steps, verbose=0,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    seconds = time.perf_counter() - start
    final = tfmot.sparsity.keras.strip_pruning(pruned)
    logits = final.predict(to_inputs(data.test_images), batch_size=1000, verbose=0)
    sparsity = {f"w_{layer}": float(np.mean(final.get_layer(layer).get_weights()[0] == 0)) for layer in PRUNED_LAYERS}
    return {"ratio": ratio, "accuracy": float(np.mean(np.argmax(logits, axis=1) == data.test_labels)),
            "sparsity": sparsity, "steps": steps, "end_step": end_step, "frequency": frequency,
            "seconds": seconds, "tfmot": tfmot.__version__}
