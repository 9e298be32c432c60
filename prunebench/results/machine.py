"""The machine class: what time results are compared and judged per (the CPU model and the GPUs)."""

from __future__ import annotations

from typing import NamedTuple


class MachineClass(NamedTuple):
    cpu: str
    gpus: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.cpu} / {', '.join(self.gpus) if self.gpus else 'no GPU'}"  # e.g. ``AMD EPYC / no GPU``


def machine_class(machine: dict | None) -> MachineClass:
    """The class of a results JSON's ``machine`` record (GPUs sorted, so that their order does not matter)."""
    machine = machine or {}
    return MachineClass(str(machine.get("cpu") or "unknown cpu"),
                        tuple(sorted(str(gpu) for gpu in machine.get("gpus") or ())))
