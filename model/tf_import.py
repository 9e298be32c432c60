"""Import TensorFlow without its C++ start-up log on stderr.

``import tensorflow`` makes its C++ libraries write straight to file descriptor 2, whatever
``TF_CPP_MIN_LOG_LEVEL`` says: absl's "WARNING: All log messages before absl::InitializeLog() is called
are written to STDERR", "I0000 ... port.cc] oneDNN custom operations are on ..." and
"cpu_feature_guard.cc ... This TensorFlow binary is optimized ...". A command line that promises one
line on bad input cannot let those through, so ``import_tensorflow`` points fd 2 at ``/dev/null`` for the
duration of the import only, and puts it back after (Python's own errors still reach stderr).

The log stays visible when asked for: ``PRUNEBENCH_TF_LOG=1``, or ``TF_CPP_MIN_LOG_LEVEL=0`` (TensorFlow's
"log everything"; those start-up lines are INFO, which levels 1 to 3 mean to hide). Otherwise
``TF_CPP_MIN_LOG_LEVEL`` defaults to 3 for the rest of the run. Beware that a silenced import also hides
an error TensorFlow's C++ side would print while loading (a Python exception still shows): set
``PRUNEBENCH_TF_LOG=1`` to see everything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from types import ModuleType

LOG_SWITCH = "PRUNEBENCH_TF_LOG"


def tf_log_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the user asked to see TensorFlow's C++ log."""
    if environ.get(LOG_SWITCH, "").strip() not in ("", "0"):
        return True
    return environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() == "0"


def import_tensorflow() -> ModuleType:
    """``import tensorflow``, silencing its C++ start-up log unless the user asked for it (see above)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    if tf_log_wanted():
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        import tensorflow
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
    return tensorflow
