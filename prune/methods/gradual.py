"""Zhu & Gupta (2017): sparsity rises along a cubic curve, the masks recomputed every ``frequency`` steps.

``polynomial_sparsity`` is TF Model Optimization's ``PolynomialDecay`` (pruning_schedule.py):

    p = clip((step - begin_step) / (end_step - begin_step), 0, 1)
    sparsity = final + (initial - final) * (1 - p) ** power

pruning at the steps where ``begin_step <= step <= end_step`` and ``(step - begin_step) % frequency == 0``
(``should_prune``). tfmot's defaults: power 3, frequency 100. Within our budget of B retraining steps,
pruning begins at step 0 from ``initial`` 0 and ends at ``end_step``, the largest multiple of the frequency
not above ``end_fraction * B`` (0.75: the last quarter recovers at the final sparsity), so the final
sparsity is reached exactly. A budget too small for ten pruning intervals gets a smaller frequency,
``max(1, B // 10)``, and records it (``params``). ``gradual`` ranks per layer as tfmot does;
``gradual-global`` ranks the pruned layers together, so each layer's share follows its weights' scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from prunebench.prune.methods.base import PruneEvent

TFMOT_POWER = 3
TFMOT_FREQUENCY = 100
END_FRACTION = 0.75
MIN_INTERVALS = 10


def polynomial_sparsity(step: int, initial: float, final: float, begin_step: int, end_step: int,
                        power: float = TFMOT_POWER) -> float:
    """tfmot's PolynomialDecay sparsity at ``step`` (float64 here; tfmot computes in float32)."""
    if end_step <= begin_step:
        raise ValueError("end_step must be after begin_step")
    p = min(1.0, max(0.0, (step - begin_step) / (end_step - begin_step)))
    return final + (initial - final) * (1.0 - p) ** power


def should_prune(step: int, begin_step: int, end_step: int, frequency: int) -> bool:
    """tfmot's ``_should_prune_in_step`` (for end_step >= 0)."""
    return begin_step <= step <= end_step and (step - begin_step) % frequency == 0


@dataclass(frozen=True)
class Gradual:
    name: str = "gradual"
    ranking: str = "layer"
    power: float = TFMOT_POWER
    frequency: int = TFMOT_FREQUENCY
    initial: float = 0.0
    end_fraction: float = END_FRACTION

    def schedule(self, budget: int) -> tuple[int, int]:
        """(frequency, end_step) used within ``budget`` steps."""
        frequency = max(1, min(self.frequency, budget // MIN_INTERVALS))
        end_step = max(frequency, int(self.end_fraction * budget) // frequency * frequency)
        if end_step >= budget:
            raise ValueError(f"a budget of {budget} steps is too small for gradual pruning")
        return frequency, end_step

    def plan(self, ratio: float, budget: int) -> tuple[PruneEvent, ...]:
        frequency, end_step = self.schedule(budget)
        events = []
        for step in range(0, end_step + 1):
            if not should_prune(step, 0, end_step, frequency):
                continue
            sparsity = ratio if step == end_step else polynomial_sparsity(step, self.initial, ratio, 0, end_step,
                                                                           self.power)
            if sparsity > 0:  # tfmot ignores a sparsity of 0 (nothing to prune)
                events.append(PruneEvent(step, min(sparsity, ratio)))
        return tuple(events)

    def params(self, budget: int) -> dict:
        frequency, end_step = self.schedule(budget)
        return {"ranking": self.ranking, "power": self.power, "frequency": frequency, "begin_step": 0,
                "end_step": end_step, "initial_sparsity": self.initial}
