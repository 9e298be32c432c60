"""The paper's MNIST CNN: data, Keras model, training, checkpoints and inference engines."""
