"""environment.yml (Binder) and pyproject.toml declare the same runtime dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Present in environment.yml for Binder only, not runtime dependencies of the package.
ENV_ONLY = {"python", "pip", "jupyterlab"}

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
