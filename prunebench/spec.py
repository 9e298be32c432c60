"""What identifies a model of the suite, TensorFlow-free so the suite's configuration can be built cheaply."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Everything that determines a trained model (and so its cache key)."""

    max_steps: int
    batch_size: int
    retrain_steps: int
    seed: int
    variables: tuple[str, ...]
    deterministic: bool = False


@dataclass(frozen=True)
class ModelSpec:
    ratio: float
    seed: int

    @property
    def id(self) -> str:
        return f"ratio={self.ratio:g}-seed={self.seed}"
