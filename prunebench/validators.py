"""The number arguments of every command line and of the suite's options, checked by one parser factory, and
their lists of registry names (methods, formats), checked by one parser.

A bad value is a ``UsageError`` naming it; ``argparse_type`` turns that into argparse's own one-line error, so
the CLI, the pytest options and ``prunebench compare`` report a bad number alike. The messages differ in
wording between the commands (tests and users read them), so each validator states its own; the parsing and
the range check are written once, in ``number``. TensorFlow-free and importing only ``prunebench.errors``, so
that every layer can use it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Collection
from typing import Any

from prunebench.errors import UsageError


def argparse_type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """Turn our UsageError into argparse's type error, so argparse prints one line and exits 2."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except UsageError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = name
    return convert


def registry_names(text: str, known: Collection[str], noun: str, kind: str) -> tuple[str, ...]:
    """A comma list of names a registry knows (``--methods``, ``--formats``), in the order given: not empty,
    none unknown, none twice. ``noun`` names one item of the list, ``kind`` what the registry holds."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    choices = ", ".join(known)
    if not names:
        raise UsageError(f"{noun} list is empty: choose from {choices}")
    for name in names:
        if name not in known:
            raise UsageError(f"unknown {kind} {name!r}: choose from {choices}")
    if len(set(names)) != len(names):
        raise UsageError(f"{noun} list {text!r} names a {noun} twice")
    return names


def number(kind: type[int] | type[float], accept: Callable[[Any], bool], out_of_range: str, *, what: str = "",
           unit: str = "") -> Callable[[str], Any]:
    """A parser of one ``kind`` (int: a whole number, or float) that ``accept`` takes (NaN never is).

    ``what`` names the value in the messages ("margin 'x' is not a number"); ``unit`` follows the kind ("'x' is
    not a whole number of runs"). ``out_of_range`` is the message for a number ``accept`` refuses, formatted with
    ``subject`` (``what`` and the quoted text) and ``text`` (the text as given).
    """
    noun = ("whole number" if kind is int else "number") + (f" of {unit}" if unit else "")

    def parse(text: str) -> Any:
        subject = f"{what} {text!r}" if what else repr(text)
        try:
            value = kind(text)
        except ValueError:
            raise UsageError(f"{subject} is not a {noun}") from None
        if not accept(value):
            raise UsageError(out_of_range.format(subject=subject, text=text))
        return value

    return parse


def count(minimum: int, what: str = "value") -> Callable[[str], int]:
    """A whole number of at least ``minimum``: the suite's steps, seeds and batch sizes."""
    return number(int, lambda value: value >= minimum, f"{{subject}} must be at least {minimum}", what=what)


def whole_number(unit: str, minimum: int) -> Callable[[str], int]:
    """A whole number of ``unit`` of at least ``minimum``: compare's runs, images and pairs."""
    return number(int, lambda value: value >= minimum, f"{{text}} must be >= {minimum}", unit=unit)


positive_int = count(1)
non_negative_int = count(0)
_steps = count(0, "step count")


def steps_or_all(text: str) -> int:
    """Evaluation steps: 0 (or 'none'/'all') means the whole test set."""
    return 0 if text.strip().lower() in ("none", "all") else _steps(text)


positive_float = number(float, lambda value: value > 0, "{subject} must be above 0")
# An equivalence margin, a fraction of the baseline's value.
margin = number(float, lambda value: 0 < value < 1,
                "{subject} must lie between 0 and 1 (a fraction, e.g. 0.01)", what="margin")
# compare's minimum median ratio of a time change, and its significance level.
min_factor = number(float, lambda value: 1 <= value < math.inf, "{text} must be a finite number >= 1")
significance_level = number(float, lambda value: 0 < value < 1, "{text} must be in (0, 1)")
