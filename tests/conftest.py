"""Shared fixtures: the Jupyter Book is built once per test session into ``_build/html``.

``book_build`` gives the raw result of the build (return code, log, warnings) without asserting:
``tests/test_book.py::test_book_builds`` is the test that fails on any warning or execution error.
``book_html`` gives the site that this session's build wrote, for the tests of the site (links,
browser): it fails only if the build wrote no site at all, so that a warning on one page does
not hide what the other tests find on every page.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
BUILD_LOG = BUILD_DIR / "build-test.log"
NETGUARD_DIR = Path(__file__).resolve().parent / "netguard"
NETGUARD_LOG = BUILD_DIR / "netguard.log"
VENDOR_MARKER = ROOT / "_vendor" / "static" / "mathjax" / "tex-mml-chtml.js"

# Lines that Sphinx (and its extensions) print for a warning or an error.
WARNING_RE = re.compile(r"\b(WARNING|ERROR|CRITICAL|SEVERE):")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")

# Make the kernelspec of this interpreter's environment win over any user-level "python3"
# kernel, for notebook execution in the book build and in the tests.
_ENV_JUPYTER = Path(sys.prefix) / "share" / "jupyter"
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in [str(_ENV_JUPYTER), os.environ.get("JUPYTER_PATH", "")] if p
)
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NO_COLOR", "1")


def ensure_python3_kernel() -> None:
    """Register this environment's ipykernel as the "python3" kernel (in the venv) if needed."""
    in_venv = sys.prefix != sys.base_prefix
    spec = _ENV_JUPYTER / "kernels" / "python3" / "kernel.json"
    if in_venv and not spec.exists():
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
            check=True,
            capture_output=True,
        )


def ensure_vendor_assets() -> None:
    """The book's html_static_path needs the vendored npm assets; fetch them if absent."""
    if not VENDOR_MARKER.exists():
        subprocess.run(["make", "-C", str(ROOT), "vendor"], check=True)


def jupyter_book_executable() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    if exe.exists():
        return str(exe)
    found = shutil.which("jupyter-book")
    if found is None:
        pytest.fail("jupyter-book is not installed in this environment (run `make test`)")
    return found


@dataclass
class BookBuild:
    returncode: int
    log: str
    html_dir: Path
    started: float = 0.0  # time.time() when the build started

    @property
    def wrote_site(self) -> bool:
        """The build ran to its end (it writes the search index last) and the site has its entry page."""
        index, search = self.html_dir / "index.html", self.html_dir / "searchindex.js"
        return (self.returncode in (0, 1) and index.is_file() and search.is_file()
                and search.stat().st_mtime >= self.started - 1)

    @property
    def warnings(self) -> list[str]:
        return [line for line in ANSI_RE.sub("", self.log).splitlines() if WARNING_RE.search(line)]

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.warnings and (self.html_dir / "index.html").exists()

    def failure_report(self, tail: int = 80) -> str:
        lines = ANSI_RE.sub("", self.log).splitlines()
        parts = [f"jupyter-book exited with {self.returncode}"]
        if self.warnings:
            parts.append("warnings/errors:\n" + "\n".join(self.warnings))
        parts.append(f"last {tail} lines of the log ({BUILD_LOG}):\n" + "\n".join(lines[-tail:]))
        reports = sorted((self.html_dir / "reports").rglob("*.log")) if self.html_dir.exists() else []
        for report in reports:
            parts.append(f"--- execution report {report.relative_to(ROOT)} ---\n{ANSI_RE.sub('', report.read_text())[-4000:]}")
        return "\n\n".join(parts)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "on_demand: runs only when its test id is named on the command line (file::test[id])"
    )


def pytest_collection_modifyitems(config, items) -> None:
    """Deselect ``on_demand`` tests unless named explicitly, e.g. ``tests/test_book.py::test_x[id]``."""
    named = {arg.rsplit("::", 1)[-1] for arg in config.args if "::" in arg}
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("on_demand") and item.name not in named else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def python3_kernel() -> None:
    """Make sure the "python3" kernel runs this environment's interpreter."""
    ensure_python3_kernel()


@pytest.fixture(scope="session")
def book_build() -> BookBuild:
    """Build the book once per session: ``jupyter-book build --all . -W --keep-going``.

    ``--all`` makes Sphinx re-read every page (an incremental build would not repeat the warnings
    of unchanged pages); executed notebooks still come from the jupyter-cache in ``_build``.
    """
    ensure_vendor_assets()
    ensure_python3_kernel()
    BUILD_DIR.mkdir(exist_ok=True)
    # Execution reports (tracebacks of failed pages) of earlier builds would be mistaken for this one's.
    shutil.rmtree(HTML_DIR / "reports", ignore_errors=True)
    cmd = [jupyter_book_executable(), "build", "--all", str(ROOT), "-W", "--keep-going"]
    # Every Python process of the build (and the kernels executing the pages) loads the network guard
    # of tests/netguard: connections off this machine are refused and logged to NETGUARD_LOG.
    NETGUARD_LOG.unlink(missing_ok=True)
    env = dict(os.environ, TFLMINI_NETGUARD_LOG=str(NETGUARD_LOG),
               PYTHONPATH=os.pathsep.join(p for p in [str(NETGUARD_DIR), os.environ.get("PYTHONPATH", "")] if p))
    started = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env)
    log = f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    BUILD_LOG.write_text(log)
    return BookBuild(returncode=proc.returncode, log=log, html_dir=HTML_DIR, started=started)


@pytest.fixture(scope="session")
def book_html(request) -> Path:
    """Path of the site under test: an existing build named by ``TFLMINI_SITE_HTML``
    (:func:`site_utils.prebuilt_site`, e.g. ``TFLMINI_SITE_HTML=/tmp/b/_build/html pytest tests/test_launch.py``
    after ``jupyter-book build . --path-output /tmp/b``), else the site built in this session (``_build/html``).

    Fails the requesting test if the build wrote no site. Warnings (a missing page, a broken
    reference, a cell that failed) fail ``test_book_builds``; the site tests still check the rest.
    """
    from site_utils import prebuilt_site

    site = prebuilt_site()
    if site is not None:
        return site
    book_build = request.getfixturevalue("book_build")
    if not book_build.wrote_site:
        pytest.fail("the book build wrote no site, see test_book_builds:\n" + book_build.failure_report(30),
                    pytrace=False)
    return book_build.html_dir
