"""The layers of the tree, checked from the source: what each part may import.

``results`` is the base every part reads; ``verdicts``, ``compare`` and ``report`` judge and show results
from the JSON alone, so they import neither the pytest side (``suite``), the command line nor TensorFlow,
and ``prunebench report``/``compare`` stay fast and run where TensorFlow is not installed. ``model/`` and
``prune/`` are the design's own top-level parts: they import nothing of prunebench above the results
layer. Every import statement counts, those inside functions included.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {"prunebench": ROOT / "prunebench", "prunebench.model": ROOT / "model",
                "prunebench.prune": ROOT / "prune"}
TENSORFLOW = ("tensorflow", "keras", "tf_keras", "tensorflow_model_optimization")
JUDGING = ("prunebench.verdicts", "prunebench.compare", "prunebench.report")


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            if package == "prunebench" and parts[0] in ("model", "prune"):
                continue
            found[name] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """Every module an import statement of the file names (``from a import b`` counts ``a`` and ``a.b``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1],
                                 *filter(None, [base])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def violations(importer_prefixes: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for name, path in modules().items():
        if not within(name, importer_prefixes):
            continue
        for imported in sorted(imports_of(name, path)):
            if within(imported, forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {imported}")
    return found


def test_judging_imports_no_pytest_side_command_line_or_tensorflow():
    forbidden = ("prunebench.suite", "prunebench.cli", "prunebench.build", "prunebench.model.engines", *TENSORFLOW)
    assert violations(JUDGING, forbidden) == []


def test_results_layer_imports_only_what_is_below_it():
    above = ("prunebench.build", "prunebench.suite", "prunebench.verdicts", "prunebench.compare",
             "prunebench.report", "prunebench.cli", "prunebench.model.engines", *TENSORFLOW)
    assert violations(("prunebench.results",), above) == []


@pytest.mark.parametrize("part", ["prunebench.model", "prunebench.prune"])
def test_model_and_prune_import_nothing_above_results(part):
    above = ("prunebench.build", "prunebench.suite", "prunebench.verdicts", "prunebench.compare",
             "prunebench.report", "prunebench.cli")
    assert violations((part,), above) == []


def test_build_imports_nothing_that_judges_or_drives_it():
    assert violations(("prunebench.build",), (*JUDGING, "prunebench.suite", "prunebench.cli")) == []


def test_the_judging_parts_load_without_tensorflow():
    """Importing every module of verdicts, compare and report leaves TensorFlow unloaded."""
    names = sorted(name for name in modules() if within(name, JUDGING))
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {TENSORFLOW!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_rules_see_the_tree():
    """A guard for the guard: the walk finds each part, and an import that exists is seen as one."""
    found = modules()
    for part in ("prunebench.results.contract", "prunebench.verdicts.claims", "prunebench.compare.stats",
                 "prunebench.model.constants", "prunebench.prune.masks", "prunebench.build.pipeline"):
        assert part in found
    assert violations(("prunebench.build",), ("prunebench.model", "tensorflow")) != []
    assert violations(("prunebench.suite",), ("prunebench.verdicts",)) != []
