"""Comparing runs: results JSON of two or more runs (base, then new) on compression, claims and time,
with stored baselines per machine class and interleaved A/B runs.

It may import ``results``, ``verdicts`` and ``errors``; never ``suite``, ``cli``, ``report`` or TensorFlow.
"""
