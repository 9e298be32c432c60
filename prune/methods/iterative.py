"""Han et al. (2015): rounds of prune-then-retrain up a ratio ladder to the target, sharing one budget.

The ladder keeps the same fraction of the remaining weights each round (density (1 - ratio)^(k / rounds)),
as Han et al.'s repeated halving does: 90% in four rounds is 43.8%, 68.4%, 82.2%, 90%. Round k starts at
step k * budget // rounds from the previous round's retrained weights; the last round gets the remainder.
"""

from __future__ import annotations

from dataclasses import dataclass

from prunebench.prune.methods.base import PruneEvent

DEFAULT_ROUNDS = 4


def ratio_ladder(ratio: float, rounds: int) -> tuple[float, ...]:
    """Ratios of each round, ending exactly at ``ratio``; each keeps the same share of what is left."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    density = 1.0 - ratio
    return tuple(1.0 - density ** (k / rounds) for k in range(1, rounds)) + (ratio,)


@dataclass(frozen=True)
class Iterative:
    name: str = "iterative"
    ranking: str = "layer"
    rounds: int = DEFAULT_ROUNDS

    def effective_rounds(self, budget: int) -> int:
        return max(1, min(self.rounds, budget))  # at least one training step per round

    def plan(self, ratio: float, budget: int) -> tuple[PruneEvent, ...]:
        rounds = self.effective_rounds(budget)
        return tuple(PruneEvent(k * budget // rounds, sparsity)
                     for k, sparsity in enumerate(ratio_ladder(ratio, rounds)))

    def params(self, budget: int) -> dict:
        return {"ranking": self.ranking, "rounds": self.effective_rounds(budget)}
