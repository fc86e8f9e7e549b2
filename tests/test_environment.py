"""environment.yml is what Binder (repo2docker) needs to run every page and notebook.

* it declares the same runtime dependencies as pyproject.toml, with the same lower bounds, plus
  only what Binder itself needs (python, pip, jupyterlab), and installs tflmini (``pip: -e .``);
* ``test_environment_covers_notebook_imports``: every module imported by the book pages, the
  companion notebooks (``notebooks/``) and the tflmini package is provided by it.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from site_utils import executable_docnames, is_executable, source_file

ROOT = Path(__file__).resolve().parents[1]
# Present in environment.yml for Binder only, not runtime dependencies of the package: the
# interpreter, pip (for `pip install -e .`), JupyterLab (with ipykernel), and myst-nb, whose
# `glue` the book pages call (it runs in a plain kernel too).
ENV_ONLY = {"python", "pip", "jupyterlab", "myst-nb"}

_REQ_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:;.*)?$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(spec: str) -> tuple[str, str]:
    """'numpy >=1.24' -> ('numpy', '>=1.24'); conda's single '=' pin is kept as written."""
    match = _REQ_RE.match(spec)
    assert match, f"cannot parse dependency {spec!r}"
    return _normalize(match.group(1)), match.group(2).replace(" ", "")


def pyproject_dependencies() -> dict[str, str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return dict(_split(dep) for dep in project["dependencies"])


def environment() -> dict:
    with open(ROOT / "environment.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def conda_dependencies() -> dict[str, str]:
    deps = [d for d in environment()["dependencies"] if isinstance(d, str)]
    return dict(_split(dep) for dep in deps)


def pip_section() -> list[str]:
    sections = [d["pip"] for d in environment()["dependencies"] if isinstance(d, dict) and "pip" in d]
    return [item for section in sections for item in section]


def test_every_runtime_dependency_is_in_environment():
    missing = set(pyproject_dependencies()) - set(conda_dependencies())
    assert not missing, f"runtime dependencies missing from environment.yml: {sorted(missing)}"


def test_environment_has_no_extra_dependencies():
    extra = set(conda_dependencies()) - set(pyproject_dependencies()) - ENV_ONLY
    assert not extra, f"environment.yml lists packages that pyproject.toml does not: {sorted(extra)}"


def test_lower_bounds_agree():
    conda = conda_dependencies()
    differ = {
        name: (spec, conda[name])
        for name, spec in pyproject_dependencies().items()
        if name in conda and spec != conda[name]
    }
    assert not differ, f"version constraints differ (pyproject, environment.yml): {differ}"


def test_environment_installs_the_package_and_a_supported_python():
    env = environment()
    assert "conda-forge" in env["channels"]
    assert "-e ." in pip_section(), "environment.yml must `pip install -e .` the package"
    python = conda_dependencies().get("python", "")
    version = re.search(r"(\d+)\.(\d+)", python)
    assert version, "environment.yml must pin a python version"
    with open(ROOT / "pyproject.toml", "rb") as f:
        requires = tomllib.load(f)["project"]["requires-python"]
    minimum = re.search(r">=\s*(\d+)\.(\d+)", requires)
    assert minimum and tuple(map(int, version.groups())) >= tuple(map(int, minimum.groups()))


# Import names that differ from the conda package providing them (or come with another package).
IMPORT_PROVIDERS = {
    "sklearn": "scikit-learn",
    "mpl_toolkits": "matplotlib",
    "PIL": "matplotlib",  # pillow, a dependency of matplotlib
    "IPython": "ipywidgets",  # ipython, a dependency of ipywidgets (and of jupyterlab's kernel)
    "ipykernel": "jupyterlab",
    "matplotlib_inline": "jupyterlab",  # the inline backend, a dependency of ipykernel
    "traitlets": "ipywidgets",
    "threadpoolctl": "scikit-learn",  # a dependency of scikit-learn (tflmini imports it directly)
}


def _imports(code: str) -> set[str]:
    """Top-level modules imported by ``code``; imports guarded by ``except ImportError`` are optional."""
    tree = ast.parse(code)
    optional: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            caught = " ".join(ast.unparse(h.type) for h in node.handlers if h.type is not None)
            if "ImportError" in caught or "ModuleNotFoundError" in caught:
                for stmt in node.body:
                    optional.update(id(n) for n in ast.walk(stmt))
    found = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _notebook_files() -> list[Path]:
    files = [source_file(d) for d in executable_docnames()]
    folder = ROOT / "notebooks"
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if ".ipynb_checkpoints" in path.parts or not path.is_file():
                continue
            if path.suffix == ".ipynb" or (path.suffix in (".md", ".py") and is_executable(path)):
                files.append(path)
            elif path.suffix == ".py" and re.match(r"\A(#!.*\n)?# ---\s*\n", path.read_text(encoding="utf-8")):
                files.append(path)
    return [f for f in files if f is not None]


def test_environment_covers_notebook_imports() -> None:
    import jupytext
    from IPython.core.inputtransformer2 import TransformerManager

    env = environment()
    conda = {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0].strip().lower().replace("_", "-")
             for d in env.get("dependencies", []) if isinstance(d, str)}
    pip = [p for d in env.get("dependencies", []) if isinstance(d, dict) for p in d.get("pip", [])]
    assert "-e ." in pip, "environment.yml must install tflmini itself (pip: -e .)"
    provided = conda | {"tflmini"}

    def covered(module: str) -> bool:
        if module in sys.stdlib_module_names or module == "__future__":
            return True
        name = IMPORT_PROVIDERS.get(module, module).lower().replace("_", "-")
        return name in provided

    transformer = TransformerManager()
    missing: dict[str, set[str]] = {}
    for path in _notebook_files():
        for cell in jupytext.read(path).cells:
            if cell.cell_type != "code":
                continue
            code = transformer.transform_cell(cell.source)
            try:
                modules = _imports(code)
            except SyntaxError as exc:
                pytest.fail(f"{path.relative_to(ROOT)}: cannot parse a code cell: {exc}")
            for module in modules:
                if not covered(module):
                    missing.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "tflmini").rglob("*.py")):
        for module in _imports(path.read_text(encoding="utf-8")):
            if not covered(module):
                missing.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    assert not missing, (
        "modules imported by the notebooks/package but not provided by environment.yml (Binder): "
        + "; ".join(f"{m} (in {', '.join(sorted(f))})" for m, f in sorted(missing.items()))
    )
