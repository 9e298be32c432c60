"""The default margins of the paper's equivalence claims: what change counts as none."""

from __future__ import annotations

DEFAULT_ACCURACY_MARGIN = 0.01  # claim (b): an accuracy change of at most 1 point counts as none
DEFAULT_TIME_MARGIN = 0.10  # claim (c): a prediction-time change of at most 10% counts as none
