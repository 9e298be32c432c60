"""The paper's method: prune once at the ratio, then retrain the whole budget with the zeros held.

``oneshot`` ranks per layer (the paper; its suite path is prunebench.build.pipeline.prune_and_retrain, unchanged);
``oneshot-global`` ranks across the pruned layers together; ``structured`` removes whole fc1 neurons
(structured.py); ``blocks-1x4`` and ``blocks-4x4`` remove blocks of weights (blocks.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from prunebench.prune.methods.base import PruneEvent


@dataclass(frozen=True)
class OneShot:
    name: str = "oneshot"
    ranking: str = "layer"

    def plan(self, ratio: float, budget: int) -> tuple[PruneEvent, ...]:
        return (PruneEvent(0, ratio),)

    def params(self, budget: int) -> dict:
        return {"ranking": self.ranking}
