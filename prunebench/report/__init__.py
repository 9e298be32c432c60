"""The report: ``report.md`` and its figures, written from a results JSON alone.

It may import ``results``, ``verdicts`` and ``errors`` (and matplotlib); never ``suite``, ``cli``,
``compare`` or TensorFlow.
"""
