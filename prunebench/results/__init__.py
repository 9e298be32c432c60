"""The results layer: the JSON contract every run writes and every reader reads.

Here live the results file's schema, loading, validation and merging (``contract``), the one spelling of
timing keys (``keys``), a model's identity (``spec``), the readers of a results dict that verdicts,
compare and report share (``readers``), the machine class (``machine``), the profiles' protocol settings
(``profiles``), where artifacts go (``paths``) and writing files atomically (``atomic``). It may import
``prunebench.errors`` and the TensorFlow-free registries of ``prunebench.prune``; nothing else of
prunebench imports below it.
"""
