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

#: Modules that compute (theory, sampling, data, cached results, analysis, experiments).
COMPUTATION = ("kernels", "renormalization", "transfer", "transfer_curves", "curves", "results", "accuracy",
               "real_data", "datasets", "tasks", "sampling", "sampling.sampler", "sampling.transfer_sampler",
               "sampling.diagnostics", "sampling.checks",
               "_validation", "_download")
#: Modules that draw or build widgets, and the libraries they use.
PRESENTATION = ("plotting", "transfer_plots", "real_data_plots", "accuracy_plots", "widgets", "transfer_widgets",
                "plots")
LIBRARIES = ("matplotlib", "ipywidgets")


def _module_file(name):
    path = PACKAGE / (name.replace(".", "/") + ".py")
    return path if path.exists() else PACKAGE / name.replace(".", "/") / "__init__.py"


def _computation_files():
    return [_module_file(name) for name in COMPUTATION] + sorted((PACKAGE / "experiments").glob("*.py"))


def test_every_listed_computation_module_exists():
    missing = [name for name in COMPUTATION if not _module_file(name).exists()]
    assert not missing, f"listed computation modules that do not exist: {missing}"


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
    modules = [f"tflmini.{name}" for name in COMPUTATION] + ["tflmini.experiments"]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print('\\n'.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    loaded = [m for m in out if _is_presentation(m)]
    assert not loaded, f"importing the computation modules loaded {loaded}"


def test_the_check_sees_a_plotting_import():
    """The static check is not vacuous: it finds relative, package and function-level imports."""
    src = "from ..transfer_plots import COLORS\nfrom .. import widgets\n\ndef f():\n    import matplotlib.pyplot\n"
    names = _imported_modules(src, ["tflmini", "experiments"])
    found = {n for n in names if _is_presentation(n)}
    assert {"tflmini.transfer_plots", "tflmini.widgets", "matplotlib.pyplot"} <= found
    assert not [n for n in _imported_modules("from ..transfer_curves import gamma_grid\n", ["tflmini", "experiments"])
                if _is_presentation(n)]
