"""A user's own network for prunebench, written as any Keras user would: a function that returns the model.

    PYTHONPATH=examples pytest bench --workload small_cnn:small_cnn --profile quick --engines tf-dense

prunebench trains it on MNIST (28x28x1 images, 10 classes), prunes it, times it and judges the paper's claims
on it. Its layers must be of the kinds the engines know: Conv2D (square, stride 1), MaxPooling2D, Flatten and
Dense, each with ReLU or no activation. Variables are named after the layers: ``w_hidden`` is the kernel of
the layer named ``hidden`` (``--pruning-variable-names w_hidden,w_logits``); by default every kernel is pruned.
"""

import keras


def small_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 5, activation="relu", name="conv"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu", name="hidden"),
        keras.layers.Dense(10, name="logits"),
    ])
