"""The instructor edition holds the problem-set solutions and rubrics; the public build holds none of them.

Both editions are built here from the real configuration (``_config.yml``, and for the instructor edition the
files that ``_ext/tflmini_instructor.py`` derives from it, as ``make book-instructor`` does), with a table of
contents cut down to the course page and the problem sets so that the test takes a couple of minutes: the
mechanism (which pages each edition reads) is the same as for the whole book.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, ensure_python3_kernel, ensure_vendor_assets, jupyter_book_executable

SOLUTIONS = sorted((ROOT / "book" / "problems" / "solutions").glob("set*.md"))
# Text that only the solution pages contain: their titles, the rubric tables and a phrase of the reference
# solution of every set.
SECRETS = ("solutions to problem set", "what earns them", "closest interpolator", "first-order formula gets the shift",
           "eliminating the source entry", "grade the reasoning")


def _instructor_module():
    spec = importlib.util.spec_from_file_location("tflmini_instructor", ROOT / "_ext" / "tflmini_instructor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _site_text(html_dir: Path) -> str:
    """Every text file of a built site (pages, sources, search index, scripts) in one string, lower case."""
    parts = []
    for path in html_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".txt", ".md", ".json", ".ipynb"):
            if "_static" in path.parts and path.name != "searchindex.js":
                continue
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts).lower()


def _build(config: Path, toc: Path, out: Path) -> Path:
    proc = subprocess.run([jupyter_book_executable(), "build", str(ROOT), "--config", str(config), "--toc", str(toc),
                           "--path-output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    html = out / "_build" / "html"
    assert proc.returncode == 0 and (html / "index.html").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return html


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    ensure_python3_kernel()
    ensure_vendor_assets()
    tmp = tmp_path_factory.mktemp("editions")
    problem_pages = sorted(p.stem for p in (ROOT / "book" / "problems").glob("set*.md"))
    toc = {"format": "jb-book", "root": "book/course",
           "parts": [{"caption": "For instructors", "chapters": [{"file": f"book/problems/{p}"} for p in problem_pages]}]}
    public_toc = tmp / "public_toc.yml"
    public_toc.write_text(yaml.safe_dump(toc))
    config, instructor_toc = _instructor_module().write_instructor_files(
        tmp / "instructor", toc_file=public_toc, cache_path=tmp / "cache")
    public = _build(ROOT / "_config.yml", public_toc, tmp / "public")
    instructor = _build(config, instructor_toc, tmp / "instructor")
    return public, instructor


def test_instructor_toc_puts_each_solution_after_its_problem_set():
    module = _instructor_module()
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    extended = module.instructor_toc(toc)
    files = [c["file"] for part in extended["parts"] for c in part["chapters"]]
    assert len(SOLUTIONS) >= 4
    for solution in SOLUTIONS:
        name = f"book/problems/solutions/{solution.stem}"
        assert files[files.index(name) - 1] == f"book/problems/{solution.stem}"
    public_files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert not any("solutions" in f for f in public_files)
    with pytest.raises(TypeError, match="toc"):
        module.instructor_toc(["not", "a", "toc"])


def test_public_edition_has_problems_but_no_solutions(editions):
    public, _ = editions
    for n in range(1, len(SOLUTIONS) + 1):
        assert (public / "book" / "problems" / f"set{n}.html").exists()
    assert not list(public.rglob("*solutions*"))
    text = _site_text(public)
    assert "problem 2.1: the saddle point for a flat spectrum" in text
    leaked = [s for s in SECRETS if s.lower() in text]
    assert not leaked, f"solution text in the public build: {leaked}"
    index = (public / "searchindex.js").read_text().lower()
    assert "problems/solutions" not in index and "solutions to problem set" not in index


def test_instructor_edition_has_solutions_with_computed_numbers(editions):
    _, instructor = editions
    text = _site_text(instructor)
    missing = [s for s in SECRETS if s.lower() not in text]
    assert not missing, f"missing from the instructor build: {missing}"
    index = (instructor / "searchindex.js").read_text().lower()
    assert "problems/solutions/set1" in index and "solutions to problem set 1" in index
    for solution in SOLUTIONS:
        page = (instructor / "book" / "problems" / "solutions" / f"{solution.stem}.html").read_text()
        assert "Traceback" not in page
    # numbers in the text come from the executed cells (myst-nb glue), with their error bars
    set4 = re.sub(r"<[^>]+>", "", (instructor / "book" / "problems" / "solutions" / "set4.html").read_text())
    assert re.search(r"predicts a benefit of\s*[+-]\d\.\d{4}", set4)
    assert re.search(r"sampler gives\s*[+-]\d\.\d{4}\s*±\s*\d\.\d{4}", set4)
