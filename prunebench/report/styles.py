"""One colour and marker per engine, storage format and pruning method, fixed by the registries' order, so a
colour names the same thing in every figure and every report, and one legend can serve several panels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prunebench.prune.formats.registry import FORMATS, SIZE_TABLE_FORMATS
from prunebench.prune.methods import METHODS
from prunebench.results.readers import EARLIER_ENGINES

# Ten saturated colours (matplotlib's tab10), then ten of other hues or darkness (black, navy, maroon, teal,
# gold, ...) drawn with dashed lines: twenty series tell apart by colour, and by marker and line besides.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#000000", "#000080", "#800000", "#008080", "#e6ab02", "#66a61e", "#e7298a", "#fa8072",
           "#4682b4", "#6b4226")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">")  # 11, prime to 20: no pair repeats early
FIRST_SET = 10  # the first colours draw solid lines, the rest dashed

# The size series the report draws besides the formats: the paper's checkpoint, LiteRT's files, the bound.
CHECKPOINT = "step_3 checkpoint"
TFLITE_FILES = ("tflite-dense file", "tflite-sparse file")
ENTROPY_BOUND = "entropy bound"


@dataclass(frozen=True)
class Style:
    colour: str
    marker: str
    linestyle: str

    def line(self) -> dict:
        """Keyword arguments of ``Axes.plot`` and ``Axes.errorbar``."""
        return {"color": self.colour, "marker": self.marker, "linestyle": self.linestyle}


def nth_style(index: int) -> Style:
    return Style(COLOURS[index % len(COLOURS)], MARKERS[index % len(MARKERS)],
                 "-" if index % len(COLOURS) < FIRST_SET else "--")


def registry_order(names: Sequence[str], styles: dict[str, Style]) -> list[str]:
    """``names`` in the order their styles were given (the registry's), unknown names last by spelling."""
    known = list(styles)
    return sorted(names, key=lambda name: (known.index(name) if name in styles else len(known), name))


def styles_in_order(names: Sequence[str]) -> dict[str, Style]:
    return {name: nth_style(index) for index, name in enumerate(dict.fromkeys(names))}


# Engines in the registry's order (EARLIER_ENGINES holds it without importing TensorFlow); sizes with the
# default size table's formats first, so the series a run usually draws take the twenty distinct styles.
ENGINE_STYLES = styles_in_order(list(EARLIER_ENGINES))
SIZE_STYLES = styles_in_order([CHECKPOINT, *SIZE_TABLE_FORMATS, *TFLITE_FILES, ENTROPY_BOUND, *FORMATS])
METHOD_STYLES = styles_in_order(list(METHODS))


def style_of(name: str, styles: dict[str, Style]) -> Style:
    """The fixed style of ``name``; a name no registry knows (results from another version) takes one after
    the known ones, from its spelling, so it too draws alike in every figure."""
    if name in styles:
        return styles[name]
    return nth_style(len(styles) + sum(map(ord, name)) % len(COLOURS))
