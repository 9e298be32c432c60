"""The report: ``report.md`` and its figures, written from a results JSON alone.

``document`` assembles the report from its sections, in reading order: the claims' summary and conclusions
(``claim_tables``), the run and the paper's tables (``paper_tables``), the pruning methods (``methods``), the
goals (``goals_table``), the storage formats (``storage``), the engines' timings (``timings``) and the figures
(``figures``, the only module that needs matplotlib); ``markdown`` is how they all write numbers and tables.
Values are read through ``prunebench.results.readers``, shared with the goals and ``prunebench compare``.

It may import ``results``, ``verdicts`` and ``errors`` (and matplotlib); never ``suite``, ``cli``,
``compare`` or TensorFlow.
"""
