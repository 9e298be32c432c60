"""How the report writes numbers and tables: one placeholder for a missing value, one table syntax, one unit
scale each, so every section reads alike. No matplotlib here: the session's terminal summary uses it too."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from prunebench.results.keys import TimingKey
from prunebench.results.readers import Getter
from prunebench.verdicts.paper import MIB

MISSING = "—"
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


def significant(value: float | None, digits: int = 3) -> str:
    """``digits`` significant digits in fixed notation with thousands separators (7,720 rather than
    7.72e+03): a reader compares magnitudes at a glance, which an exponent hides."""
    if value is None:
        return MISSING
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def count_text(value: float | None) -> str:
    """A count of weights or bytes, with thousands separators."""
    return MISSING if value is None else f"{value:,.0f}"


def mib_text(size_bytes: float | None) -> str:
    """Bytes as MiB, the report's one unit of size: 2 decimals, 3 below 1 MiB, where the sizes of the most
    pruned models would otherwise read alike."""
    if size_bytes is None:
        return MISSING
    value = size_bytes / MIB
    return f"{value:,.{2 if value >= 1 else 3}f}"


def ms_text(seconds: float | None) -> str:
    """Seconds as ms, the report's one unit of time, to 3 significant digits."""
    return significant(ms(seconds))


def accuracy_text(accuracy: float | None) -> str:
    """An accuracy (a share of the test images) as a percentage with 2 decimals: 0.01 point is one image
    in 10,000."""
    return MISSING if accuracy is None else f"{accuracy * 100:.2f}%"


def p_text(p: float | None) -> str:
    """A p value to 2 significant digits, never ``0``: an exact p has a floor above zero, and a computed one
    below 0.001 reads as that bound."""
    if p is None:
        return MISSING
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def p_clause(p: float | None) -> str:
    """``p = 0.033`` or ``p < 0.001``, as a sentence states a p value."""
    text = p_text(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def with_spread(models: list[dict], get: Getter, text: Callable[[Any], str]) -> str:
    """Median over seeds as ``text`` writes it, with the [min–max] range when the seeds differ."""
    values = [value for value in map(get, models) if value is not None]
    if not values:
        return MISSING
    written = text(statistics.median(values))
    if len(values) > 1 and min(values) != max(values):
        written += f" [{text(min(values))}–{text(max(values))}]"
    return written


SCOPE_TITLES = {"network": "whole network", "fc1": "FC1 alone", "fc1-neurons": "FC1 without whole neurons",
                "fc1-blocks": "FC1 pruned in 1x4 blocks"}
SIZE_TITLES = {"step_3": "step_3 checkpoint (the paper's file)"}


def timing_title(key: str) -> str:
    """A timing key in words: ``tf-sparse/cpu/network/batch=32`` → ``tf-sparse, whole network, batch 32, CPU``."""
    engine, device, scope, batch = parse_timing_key(key)
    return f"{engine}, {SCOPE_TITLES.get(scope, scope)}, batch {batch}, {device.upper()}"


def subject_title(subject: str) -> str:
    """A claim's subject in words, with its unit, instead of its key in the results."""
    kind, _, name = subject.partition(":")
    if kind == "time":
        return f"time (ms), {timing_title(name)}"
    if kind == "size":
        return f"size (MiB), {SIZE_TITLES.get(name, name + ' format')}"
    return f"{kind} (%), {name} network" if kind == "accuracy" else subject


def parse_timing_key(key: str) -> tuple[str, str, str, str]:
    """``<engine>/<device>/<scope>/batch=<n>`` → (engine, device, scope, batch as text): the report groups,
    sorts and prints batch sizes as text, so ``all`` sits beside the numbers."""
    parsed = TimingKey.parse(key)
    return parsed.engine, parsed.device, parsed.scope, str(parsed.batch)
