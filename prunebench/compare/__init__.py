"""Comparing runs: results JSON of two or more runs (base, then new) on compression, claims and time,
with stored baselines per machine class and interleaved A/B runs.

``command`` is the ``prunebench compare`` sub-command and the whole comparison; it reads the files
(``reading``), compares each section by its own rule (``compression``, ``claims``, ``timings``, the last with
the statistics of ``stats``) and renders the result (``render``). ``baselines`` stores and finds baseline
runs; ``interleave`` is ``prunebench interleave``, which makes the A/B runs ``compare --interleaved`` judges.

It may import ``results``, ``verdicts``, ``validators`` and ``errors``; never ``suite``, ``cli``, ``report``
or TensorFlow.
"""
