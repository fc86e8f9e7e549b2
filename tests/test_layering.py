"""The package is layered: computation never imports a plotting or widgets module (nor Matplotlib or ipywidgets).

Checked twice: statically (every ``import`` statement of a computation module, including those inside
functions, parsed with :mod:`ast`) and dynamically (importing every computation module in a fresh interpreter
loads no plotting or widgets module)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tflmini"

#: Modules (and packages) that draw or build widgets, and the libraries they use. Every other module of the
#: package computes (theory, sampling, data, cached results, analysis, experiments), so a new module is
#: checked without being listed.
PRESENTATION = ("plots", "widgets", "plotting")
LIBRARIES = ("matplotlib", "ipywidgets")


def _module_name(path):
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _computation_files():
    return [path for path in sorted(PACKAGE.rglob("*.py"))
            if "__pycache__" not in path.parts and _module_name(path).split(".")[0] not in PRESENTATION
            and _module_name(path) not in ("", "experiments.__main__")]


COMPUTATION = tuple(_module_name(path) for path in _computation_files())


def test_the_computation_modules_are_found():
    """The walk finds the core of every layer (a broken walk would check nothing)."""
    assert {"kernels", "renormalization", "transfer", "transfer_curves", "sampling.sampler", "results", "accuracy",
            "datasets", "experiments._base"} <= set(COMPUTATION)
    assert not [m for m in COMPUTATION if m.split(".")[0] in PRESENTATION]


def _imported_modules(source, package):
    """Absolute names of every module imported anywhere in ``source``, the code of a module of ``package``
    (e.g. ``["tflmini", "experiments"]``; relative imports resolved)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.append(module)
            names += [f"{module}.{a.name}" for a in node.names]  # ``from . import plotting``
    return names


def _is_presentation(name):
    parts = name.split(".")
    if parts[0] in LIBRARIES:
        return True
    return parts[0] == "tflmini" and len(parts) > 1 and parts[1] in PRESENTATION


@pytest.mark.parametrize("path", _computation_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_computation_module_imports_no_plotting_or_widgets(path):
    package = list(path.relative_to(PACKAGE.parent).parts[:-1])
    bad = [n for n in _imported_modules(path.read_text(encoding="utf-8"), package) if _is_presentation(n)]
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {bad}"


def test_importing_computation_loads_no_plotting_or_widgets():
    modules = ["tflmini"] + [f"tflmini.{name}" for name in COMPUTATION]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print('\\n'.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    loaded = [m for m in out if _is_presentation(m)]
    assert not loaded, f"importing the computation modules loaded {loaded}"


def test_the_check_sees_a_plotting_import():
    """The static check is not vacuous: it finds relative, package and function-level imports."""
    src = "from ..plots.style import COLORS\nfrom .. import widgets\n\ndef f():\n    import matplotlib.pyplot\n"
    names = _imported_modules(src, ["tflmini", "experiments"])
    found = {n for n in names if _is_presentation(n)}
    assert {"tflmini.plots.style", "tflmini.widgets", "matplotlib.pyplot"} <= found
    assert not [n for n in _imported_modules("from ..transfer_curves import gamma_grid\n", ["tflmini", "experiments"])
                if _is_presentation(n)]
