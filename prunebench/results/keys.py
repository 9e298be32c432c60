"""The one spelling of a timing key, ``<engine>/<device>/<scope>/batch=<n>``, used by the results JSON,
the benchmarks, the claims and the report; and of a model's label in compare's output and in pytest-benchmark's
per-model records."""

from __future__ import annotations

from dataclasses import dataclass

from prunebench.prune.methods import DEFAULT_METHOD


def ratio_key(ratio: float) -> float:
    """Ratios as dict keys: rounded so that 0.7 read from JSON and 0.7 computed compare equal."""
    return round(float(ratio), 6)

def model_label(method: str | None, ratio: float, seed: int) -> str:
    """``ratio=0.9 seed=0``, with `` method=<name>`` unless a baseline (every method shares it) or the paper's
    one-shot, so a one-shot run reads as it did before pruning methods existed."""
    name = f"ratio={ratio:g} seed={seed}"
    return name if ratio == 0 or method in (None, DEFAULT_METHOD) else f"{name} method={method}"


SCOPES = ("network", "fc1", "fc1-neurons", "fc1-blocks")  # fc1-neurons: FC1 with whole neurons removed
# (narrower, dense); fc1-blocks: FC1 pruned in 1x4 blocks (prune/methods/blocks.py)
# Results sections of FC1 timings (also the suite's session-state fields) and the scope of their keys.
FC1_SECTIONS = {"fc1": "fc1", "fc1_neurons": "fc1-neurons", "fc1_blocks": "fc1-blocks"}


@dataclass(frozen=True)
class TimingKey:
    engine: str
    device: str
    scope: str  # one of SCOPES
    batch: int | str  # a batch size, or "all" for the whole evaluation set

    def __str__(self) -> str:
        return f"{self.engine}/{self.device}/{self.scope}/batch={self.batch}"

    @classmethod
    def parse(cls, text: str) -> TimingKey:
        """The key spelled by ``str(key)``; ValueError for anything else."""
        parts = text.split("/")
        if len(parts) != 4 or not parts[3].startswith("batch=") or parts[2] not in SCOPES:
            raise ValueError(f"not a timing key: {text!r} (expected <engine>/<device>/<scope>/batch=<n>)")
        engine, device, scope, batch = parts
        batch = batch.removeprefix("batch=")
        return cls(engine, device, scope, int(batch) if batch.isdigit() else batch)
