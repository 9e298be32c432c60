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
    # model/workloads/: a registered name or package.module:factory; None is the paper's CNN, which cache keys
    # and results rows leave out (so they stay what they were before workloads)
    workload: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    ratio: float
    seed: int
    method: str = DEFAULT_METHOD  # prune/methods/ METHODS; baselines (ratio 0) are shared by every method
    # a workload's named per-layer ratio map (``--ratios han``), None for one ratio for every pruned variable;
    # with a map, ``ratio`` is the share of all the pruned variables' weights it prunes
    policy: str | None = None

    @property
    def id(self) -> str:
        """``ratio=0.9-seed=0`` for the paper's one-shot method (ids and caches from before methods stay
        valid), ``ratio=0.9-seed=0-method=gradual`` for another, ``...-ratios=han`` for a per-layer map."""
        base = f"ratio={self.ratio:g}-seed={self.seed}"
        if self.method != DEFAULT_METHOD:
            base += f"-method={self.method}"
        return base if self.policy is None else f"{base}-ratios={self.policy}"
