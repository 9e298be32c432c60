"""The report: ``report.md`` and its figures, written from a results JSON alone.

``document`` assembles the report from its sections, in reading order: the findings, the summary, each claim
beside its figure and the appendix of every subject (``claim_tables``); the run and the paper's tables
(``paper_tables``); the pruning methods (``methods``); Han et al.'s Table 1 beside a LeNet run (``han``); the
goals (``goals_table``); the storage formats (``storage``); the engines' timings (``timings``). ``figures``
draws them (the only module that needs matplotlib), each series in its fixed style (``styles``), under the
names of ``figure_files``; ``markdown`` is how they all write numbers, units and tables. Values are read
through ``prunebench.results.readers``, shared with the goals and ``prunebench compare``. ``across`` sets
several runs' claims side by side, one column per network (``prunebench report A.json B.json``).

It may import ``results``, ``verdicts``, ``errors`` and the TensorFlow-free ``model.workloads`` (and
matplotlib); never ``suite``, ``cli``, ``compare`` or TensorFlow.
"""
