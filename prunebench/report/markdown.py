"""How the report writes numbers and tables: one placeholder for a missing value, one table syntax, one unit
scale each, so every section reads alike. No matplotlib here: the session's terminal summary uses it too."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from prunebench.results.keys import TimingKey
from prunebench.results.readers import Getter
from prunebench.verdicts.paper import MIB

MISSING = "—"
IMAGE_ONLY = "(table image only)"
NO_TIMINGS = "No timings in these results (benchmarks disabled or skipped)."


def cell(value: float | None, spec: str = ".4g") -> str:
    return MISSING if value is None else format(value, spec)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def identity(value: Any) -> Any:
    return value


def mib(value: float | None) -> float | None:
    return None if value is None else value / MIB


def ms(value: float | None) -> float | None:
    return None if value is None else value * 1e3


def with_spread(models: list[dict], get: Getter, spec: str, scale: Callable = identity) -> str:
    """Median over seeds, with the [min–max] range when the seeds differ."""
    values = [scale(value) for value in map(get, models) if value is not None]
    if not values:
        return MISSING
    text = format(statistics.median(values), spec)
    if len(values) > 1 and min(values) != max(values):
        text += f" [{min(values):{spec}}–{max(values):{spec}}]"
    return text


def parse_timing_key(key: str) -> tuple[str, str, str, str]:
    """``<engine>/<device>/<scope>/batch=<n>`` → (engine, device, scope, batch as text): the report groups,
    sorts and prints batch sizes as text, so ``all`` sits beside the numbers."""
    parsed = TimingKey.parse(key)
    return parsed.engine, parsed.device, parsed.scope, str(parsed.batch)
