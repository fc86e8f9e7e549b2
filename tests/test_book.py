"""The Jupyter Book builds without warnings, and every page and notebook executes.

(a) ``test_book_builds``: ``jupyter-book build --all . -W --keep-going`` into ``_build/html``
    (once per session, see ``conftest.book_build``; later tests reuse ``_build/html``).
(b) ``test_notebook_executes``: one test per executable book page (MyST/jupytext ``.md``,
    ``.ipynb``) and per companion notebook in ``notebooks/``, run top to bottom with
    ``jupytext.read`` + ``nbclient.NotebookClient`` on the ``python3`` kernel of this environment.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def collect_notebooks() -> list[Path]:
    """Executable book pages and companion notebooks. A jupytext pair (x.md + x.ipynb) runs once,
    from its text file."""
    found: dict[Path, Path] = {}
    for folder, patterns in ((ROOT / "book", ("*.md", "*.ipynb")), (ROOT / "notebooks", ("*.md", "*.py", "*.ipynb"))):
        if not folder.is_dir():
            continue
        for pattern in patterns:
            for path in sorted(folder.rglob(pattern)):
                if _skip(path):
                    continue
                if path.suffix == ".ipynb" or _has_notebook_header(path):
                    key = path.with_suffix("")
                    if key not in found or found[key].suffix == ".ipynb":
                        found[key] = path
    return sorted(found.values())


NOTEBOOKS = collect_notebooks()


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


def test_bibliography_resolves(book_html: Path) -> None:
    """Citations in the introduction link to entries of the references page."""
    intro = (book_html / "book" / "intro.html").read_text(encoding="utf-8")
    refs = (book_html / "book" / "bibliography.html").read_text(encoding="utf-8")
    assert 'href="bibliography.html#' in intro
    assert "Ingrosso" in refs and "Franz" in refs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
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
        pytest.fail(f"{path.relative_to(ROOT)} failed to execute:\n{exc}", pytrace=False)
