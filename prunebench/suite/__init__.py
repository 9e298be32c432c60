"""The pytest side: the suite's configuration, its options (declared once for pytest and the CLI), the
interleaved timing rounds and what a session writes when it ends (results, claims, report).

It may import every other part of prunebench except ``cli``; the root ``conftest.py`` and ``bench/``
connect it to pytest.
"""
