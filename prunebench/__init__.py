"""prunebench: what does pruning really buy? Size, accuracy and prediction time, measured honestly."""

__version__ = "0.1.0"
