"""What identifies a model of the suite, TensorFlow-free so the suite's configuration can be built cheaply."""

from __future__ import annotations

from dataclasses import dataclass

from prunebench.prune.methods import DEFAULT_METHOD


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
    method: str = DEFAULT_METHOD  # prune/methods/ METHODS; baselines (ratio 0) are shared by every method

    @property
    def id(self) -> str:
        """``ratio=0.9-seed=0`` for the paper's one-shot method (ids and caches from before methods stay
        valid), ``ratio=0.9-seed=0-method=gradual`` for another."""
        base = f"ratio={self.ratio:g}-seed={self.seed}"
        return base if self.method == DEFAULT_METHOD else f"{base}-method={self.method}"
