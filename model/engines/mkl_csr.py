"""``mkl-csr``: fc kernels as a CSR matrix of the transposed kernel multiplied by Intel MKL's sparse BLAS
(pip ``sparse-dot-mkl``, which needs pip ``mkl``), on all cores.

The pip ``mkl`` wheel puts ``libmkl_rt.so.N`` in the environment's ``lib/`` folder, which the dynamic
loader does not search, so ``import sparse_dot_mkl`` alone fails after a plain ``pip install``. Before that
import the engine points ``$MKL_RT`` (which sparse-dot-mkl honours) at the wheel's runtime library, found
through the files the ``mkl`` distribution recorded, else in ``sys.prefix/lib``. A ``$MKL_RT`` the user set
is left alone.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import scipy.sparse

from prunebench.model.engines.host import HostSparseEngine, MatMul
from prunebench.model.engines.hygiene import cpu_threads


def _is_mkl_rt(name: str) -> bool:
    """libmkl_rt.so, libmkl_rt.so.3 (Linux), libmkl_rt.2.dylib (macOS), mkl_rt.2.dll (Windows)."""
    return (name.startswith("libmkl_rt.so") or (name.startswith("libmkl_rt.") and name.endswith(".dylib"))
            or (name.startswith("mkl_rt") and name.endswith(".dll")))


def pip_mkl_runtime() -> Path | None:
    """The MKL single dynamic library installed by the pip ``mkl`` distribution, or None."""
    candidates: list[Path] = []
    try:
        files = importlib.metadata.files("mkl") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    candidates += [Path(file.locate()) for file in files if _is_mkl_rt(Path(str(file)).name)]
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        for folder in (Path(prefix) / "lib", Path(prefix) / "Library" / "bin"):
            if folder.is_dir():
                candidates += sorted(path for path in folder.iterdir() if _is_mkl_rt(path.name))
    return next((path.resolve() for path in candidates if path.is_file()), None)  # the wheel's record first


def point_to_pip_mkl() -> None:
    """Set ``$MKL_RT`` to the pip wheel's runtime unless the user chose one."""
    if os.environ.get("MKL_RT"):
        return
    runtime = pip_mkl_runtime()
    if runtime is not None:
        os.environ["MKL_RT"] = str(runtime)


class MklCsrEngine(HostSparseEngine):
    name = "mkl-csr"

    def missing_reason(self) -> str | None:
        if importlib.util.find_spec("sparse_dot_mkl") is None:
            return "package sparse-dot-mkl not installed"
        point_to_pip_mkl()
        try:
            import sparse_dot_mkl  # noqa: F401  (loading it finds the MKL library)
        except (ImportError, OSError) as error:
            return f"MKL not loadable: {str(error).splitlines()[0]}"
        return None

    def sparse_times(self, kernel: np.ndarray) -> MatMul:
        point_to_pip_mkl()
        import sparse_dot_mkl

        sparse_dot_mkl.mkl_set_num_threads(cpu_threads())
        transposed = scipy.sparse.csr_matrix(kernel.T)
        return lambda x: sparse_dot_mkl.dot_product_mkl(transposed, np.ascontiguousarray(x.T), dense=True).T
