"""The Jupyter Book builds without warnings, its pages are executed by the build, and the companion
notebooks execute.

(a) ``test_book_builds``: ``jupyter-book build --all . -W --keep-going`` into ``_build/html``
    (once per session, see ``conftest.book_build``; later tests reuse ``_build/html``).
(b) ``test_page_executed_by_build``: the book pages are executed by that build, not a second time
    here. ``execute_notebooks: cache`` runs every executable page (or reuses the jupyter-cache entry
    of an earlier successful run of the same code, in ``_build/.jupyter_cache``; a fresh checkout, as
    in CI, executes everything) and ``allow_errors: false`` turns a failing cell into a warning,
    which ``-W`` makes fatal. One test per page names the page whose execution failed.
    ``test_failing_cell_fails_the_build`` checks that chain on a two-page book in a temporary
    folder, built with this repository's ``_config.yml`` and ``-W``.
(c) ``test_notebook_executes``: one test per companion notebook in ``notebooks/`` (``.ipynb`` or a
    jupytext ``.md``/``.py``), run top to bottom with ``jupytext.read`` + ``nbclient.NotebookClient``
    on the ``python3`` kernel of this environment. The same test exists for every book page, marked
    ``on_demand``: it runs only when named explicitly (quick check of one page while writing it),
    ``tests/test_book.py::test_notebook_executes[book/<page>.md]``. ``test_companion_notebook_has_no_outputs``: they
    are stored without outputs. The exercises of a companion notebook ship unanswered: every check cell
    (``check(<id>, answer)``, :mod:`tflmini.exercises`) must run and report "not answered yet".
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ANSI_RE, NETGUARD_LOG, WARNING_RE, ensure_vendor_assets, jupyter_book_executable
from site_utils import executable_docnames, source_file

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT = 600  # seconds per cell, as `execute.timeout` in _config.yml

_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_PY_HEADER_RE = re.compile(r"\A(?:#!.*\n)?# ---\s*\n((?:#.*\n)*?)# ---\s*\n")


def _has_notebook_header(path: Path) -> bool:
    """True for a text file that jupytext reads as a notebook (a jupytext/kernelspec header)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        match = _FRONT_MATTER_RE.match(text)
    elif path.suffix == ".py":
        match = _PY_HEADER_RE.match(text)
    else:
        return False
    return bool(match) and bool(re.search(r"^\W*(jupytext|kernelspec):", match.group(1), re.MULTILINE))


def _skip(path: Path) -> bool:
    return any(part.startswith(".") or part in {"_build", "__pycache__"} for part in path.relative_to(ROOT).parts)


def collect_notebooks(folder: Path = ROOT / "notebooks") -> list[Path]:
    """Companion notebooks. A jupytext pair (x.md + x.ipynb) runs once, from its text file."""
    found: dict[Path, Path] = {}
    if folder.is_dir():
        for pattern in ("*.md", "*.py", "*.ipynb"):
            for path in sorted(folder.rglob(pattern)):
                if _skip(path):
                    continue
                if path.suffix == ".ipynb" or _has_notebook_header(path):
                    key = path.with_suffix("")
                    if key not in found or found[key].suffix == ".ipynb":
                        found[key] = path
    return sorted(found.values())


NOTEBOOKS = collect_notebooks()
_CHECK_CALL_RE = re.compile(r"^check\(", re.MULTILINE)  # a self-checking exercise (tflmini.exercises.check)
BOOK_PAGES = executable_docnames()  # executable pages of the table of contents that exist
# A book page can still be executed on its own, on demand (not in the default run: the build does it):
#   pytest "tests/test_book.py::test_notebook_executes[book/ch05_franz_parisi.md]"
ON_DEMAND = [source_file(d) for d in BOOK_PAGES]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --- (a) the build ------------------------------------------------------------------------------


def test_book_builds(book_build) -> None:
    """The whole book builds with -W (warnings are errors) and reports no warning."""
    assert book_build.ok, book_build.failure_report()
    html = book_build.html_dir
    for page in ("index.html", "book/intro.html", "book/bibliography.html"):
        assert (html / page).is_file(), f"missing {page} in {html}"
    # MathJax is served from the site itself, not from a CDN.
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-mml-chtml.js" in intro
    assert "cdn.jsdelivr.net/npm/mathjax" not in intro


def test_build_opens_no_network_connection(book_build) -> None:
    """The build (Sphinx and every kernel executing a page) ran under tests/netguard and tried to reach
    nothing beyond this machine."""
    assert NETGUARD_LOG.is_file(), "the network guard was not loaded by the build"
    lines = NETGUARD_LOG.read_text(encoding="utf-8").splitlines()
    active = [line for line in lines if line.startswith("active")]
    blocked = [line for line in lines if line.startswith("blocked")]
    # jupyter-book itself, plus one kernel per page executed in this build (none if all were cached)
    assert active, "the guard was loaded by no process of the build"
    assert not blocked, "the book build tried to reach the network:\n" + "\n".join(blocked)


def test_bibliography_resolves(book_html: Path) -> None:
    """Citations in the introduction link to entries of the references page."""
    intro = (book_html / "book" / "intro.html").read_text(encoding="utf-8")
    refs = (book_html / "book" / "bibliography.html").read_text(encoding="utf-8")
    assert 'href="bibliography.html#' in intro
    assert "Ingrosso" in refs and "Franz" in refs


# --- (b) book pages: executed by the build ------------------------------------------------------


def test_build_executes_pages_and_fails_on_errors() -> None:
    """The configuration that makes the build the test of the pages: execute, never allow errors."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute", {})
    assert execute.get("execute_notebooks") in ("cache", "force", "auto"), (
        "execute.execute_notebooks must execute the pages (cache, force or auto)"
    )
    assert execute.get("allow_errors") is False, "execute.allow_errors must be false (a failing cell fails the build)"
    exclude = execute.get("exclude_patterns") or []
    assert not exclude, f"execute.exclude_patterns skips the execution of pages: {exclude}"


@pytest.mark.parametrize("docname", BOOK_PAGES)
def test_page_executed_by_build(docname: str, book_build) -> None:
    path = source_file(docname)
    log = ANSI_RE.sub("", book_build.log)
    mine = [line for line in log.splitlines() if line.startswith(f"{path}:")]
    failed = [line for line in mine if WARNING_RE.search(line) and "xecut" in line]
    report = book_build.html_dir / "reports" / f"{docname}.err.log"
    if failed or report.is_file():
        traceback = ANSI_RE.sub("", report.read_text(encoding="utf-8"))[-4000:] if report.is_file() else ""
        pytest.fail(f"{_rel(path)} failed to execute in the book build:\n" + "\n".join(failed)
                    + (f"\n--- {report.relative_to(ROOT)} ---\n{traceback}" if traceback else ""), pytrace=False)
    ran = [line for line in mine if re.search(r": (Executed notebook in|Using cached notebook:)", line)]
    assert ran, f"the book build did not execute {_rel(path)} (nor reuse a cached execution): see {book_build.log[:200]}"


def test_failing_cell_fails_the_build(tmp_path: Path, python3_kernel: None) -> None:
    """A page with a failing cell fails a -W build with this repository's configuration, naming the page."""
    ensure_vendor_assets()
    book = tmp_path / "book-src"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    for shared in ("_ext", "_vendor"):  # local extension, vendored MathJax / widget assets
        (book / shared).symlink_to(ROOT / shared, target_is_directory=True)
    shutil.copy(ROOT / "book" / "references.bib", book / "book" / "references.bib")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/good\nchapters:\n  - file: book/bad\n")
    header = ("---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
              "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n")
    (book / "book" / "good.md").write_text(header + "# Good\n\n```{code-cell} ipython3\nprint(6 * 7)\n```\n")
    (book / "book" / "bad.md").write_text(
        header + "# Bad\n\n```{code-cell} ipython3\nraise RuntimeError('deliberate failure')\n```\n")
    cmd = [jupyter_book_executable(), "build", "--all", str(book), "-W", "--keep-going"]
    proc = subprocess.run(cmd, cwd=book, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    log = ANSI_RE.sub("", proc.stdout + proc.stderr)
    assert proc.returncode != 0, f"a failing cell did not fail the build:\n{log[-3000:]}"
    failures = [line for line in log.splitlines() if "Executing notebook failed" in line]
    assert failures and all(str(book / "book" / "bad.md") in line for line in failures), log[-3000:]
    report = book / "_build" / "html" / "reports" / "book" / "bad.err.log"
    assert "deliberate failure" in report.read_text(encoding="utf-8")
    assert f"{book / 'book' / 'good.md'}: Executed notebook" in log, log[-3000:]


# --- (c) companion notebooks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [*NOTEBOOKS, *(pytest.param(p, marks=pytest.mark.on_demand) for p in ON_DEMAND)],
    ids=[_rel(p) for p in [*NOTEBOOKS, *ON_DEMAND]],
)
def test_notebook_executes(path: Path, python3_kernel: None) -> None:
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(path)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{_rel(path)} failed to execute:\n{exc}", pytrace=False)
    # The self-checking exercises ship unanswered: each check cell runs and says so (it does not raise).
    for cell in nb.cells:
        if cell.cell_type == "code" and _CHECK_CALL_RE.search(cell.source):
            shown = " ".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", "")) for o in cell.outputs)
            assert "not answered yet" in shown, f"{_rel(path)}: the check cell {cell.source!r} showed {shown!r}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.suffix == ".ipynb"],
                         ids=[_rel(p) for p in NOTEBOOKS if p.suffix == ".ipynb"])
def test_companion_notebook_has_no_outputs(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    with_outputs = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.get("outputs")]
    assert not with_outputs, f"{_rel(path)} is stored with outputs (code cells {with_outputs}): clear them"
