"""Judging: the paper's claims as objects with their rules, the equivalence tests and statistics they use,
the paper's own facts, the expected verdicts (``expectations/``) and the goals.

Verdicts are computed from a results JSON alone. This package may import ``results``, ``errors`` and the
TensorFlow-free registries of ``prunebench.prune`` and ``prunebench.model.constants``; never ``suite``,
``cli`` or TensorFlow.
"""
