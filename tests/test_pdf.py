"""The printable book (``make pdf``): Jupyter Book's LaTeX builder, xelatex from Debian's TeX packages.

The PDF is built once per module (``jupyter-book build --all . --builder pdflatex -W --keep-going`` into
``_build/latex``, under the network guard of tests/netguard), or taken from an earlier build named by
``TFLMINI_BOOK_PDF`` (e.g. ``TFLMINI_BOOK_PDF=/tmp/b/_build/latex/tflmini.pdf pytest tests/test_pdf.py``
after ``jupyter-book build . --builder pdflatex --path-output /tmp/b``). TeX is installed by ``make tex``
(``make test`` and ``make pdf`` run it): without xelatex and latexmk the build tests fail, naming it.

Checked: the build is clean (no Sphinx warning, no LaTeX reference left unresolved, no missing glyph);
the PDF has every part, chapter and appendix title of _toc.yml, no "??", images, and every slider
panel shows its default frame (the widget itself cannot be printed).
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
import yaml
from conftest import ANSI_RE, BUILD_DIR, NETGUARD_DIR, ROOT, WARNING_RE, ensure_python3_kernel, \
    ensure_vendor_assets, jupyter_book_executable

PDF_ENV = "TFLMINI_BOOK_PDF"
PDF_NAME = "tflmini.pdf"  # latex.latex_documents.targetname in _config.yml, as .pdf
PDF_LOG = BUILD_DIR / "pdf-test.log"
PDF_NETGUARD_LOG = BUILD_DIR / "netguard-pdf.log"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# What LaTeX writes into its log for a reference it could not resolve, or a glyph that no font had.
LATEX_PROBLEM_RE = re.compile(r"(Reference `.*' on page .* undefined|There were undefined references"
                              r"|Missing character: There is no .*)")


@dataclass
class PdfBuild:
    pdf: Path
    returncode: int = 0
    log: str = ""  # jupyter-book's output; empty for a PDF named by TFLMINI_BOOK_PDF

    @property
    def latex_dir(self) -> Path:
        return self.pdf.parent

    @property
    def doctree_dir(self) -> Path:
        return self.latex_dir.parent / ".doctrees"

    @property
    def warnings(self) -> list[str]:
        return [line for line in ANSI_RE.sub("", self.log).splitlines() if WARNING_RE.search(line)]

    @cached_property
    def pages_text(self) -> list[str]:
        from pypdf import PdfReader

        return [page.extract_text() or "" for page in PdfReader(self.pdf).pages]

    @cached_property
    def text(self) -> str:
        """The PDF's text with every run of white space made one space (titles may wrap)."""
        return re.sub(r"\s+", " ", "\n".join(self.pages_text))


def _build_pdf() -> PdfBuild:
    missing = [exe for exe in ("xelatex", "latexmk") if shutil.which(exe) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: the PDF needs Debian's TeX packages; run `make tex` "
                    "(as root: it installs them with apt-get)", pytrace=False)
    ensure_vendor_assets()
    ensure_python3_kernel()
    BUILD_DIR.mkdir(exist_ok=True)
    cmd = [jupyter_book_executable(), "build", "--all", str(ROOT), "--builder", "pdflatex", "-W", "--keep-going"]
    PDF_NETGUARD_LOG.unlink(missing_ok=True)
    env = dict(os.environ, TFLMINI_NETGUARD_LOG=str(PDF_NETGUARD_LOG),
               PYTHONPATH=os.pathsep.join(p for p in [str(NETGUARD_DIR), os.environ.get("PYTHONPATH", "")] if p))
    pdf = BUILD_DIR / "latex" / PDF_NAME
    pdf.unlink(missing_ok=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env)
    log = f"$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    PDF_LOG.write_text(log)
    return PdfBuild(pdf=pdf, returncode=proc.returncode, log=log)


@pytest.fixture(scope="module")
def book_pdf() -> PdfBuild:
    value = os.environ.get(PDF_ENV, "").strip()
    if value:
        path = Path(value).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{PDF_ENV}={value}: no such PDF")
        return PdfBuild(pdf=path)
    return _build_pdf()


@pytest.fixture(scope="module")
def pdf(book_pdf: PdfBuild) -> PdfBuild:
    """The PDF, for the tests of its content: fails them if the build wrote none."""
    if not book_pdf.pdf.is_file():
        tail = "\n".join(ANSI_RE.sub("", book_pdf.log).splitlines()[-40:])
        pytest.fail(f"the PDF build wrote no {book_pdf.pdf} (exit {book_pdf.returncode}):\n{tail}", pytrace=False)
    return book_pdf


def toc_titles() -> list[tuple[str, str]]:
    """(where, title) of every part caption and every page of _toc.yml (a page's title is its first
    level-1 heading), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = []
    for part in toc["parts"]:
        found.append(("part caption", part["caption"]))
        for chapter in part["chapters"]:
            source = ROOT / f"{chapter['file']}.md"
            heading = re.search(r"^# (.+)$", source.read_text(encoding="utf-8"), re.MULTILINE)
            assert heading, f"{source.name} has no level-1 heading"
            found.append((chapter["file"], heading.group(1).strip()))
    return found


def test_pdf_builds_cleanly(book_pdf: PdfBuild) -> None:
    """The LaTeX build succeeds with no Sphinx warning, and LaTeX resolved every reference and found a
    glyph for every character (its log says so only as warnings, which latexmk does not fail on)."""
    assert book_pdf.returncode == 0 and not book_pdf.warnings, (
        f"jupyter-book exited with {book_pdf.returncode}; warnings: {book_pdf.warnings}; see {PDF_LOG}")
    assert book_pdf.pdf.is_file() and book_pdf.pdf.stat().st_size > 0
    latex_log = book_pdf.pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    problems = sorted(set(LATEX_PROBLEM_RE.findall(latex_log)))
    assert not problems, "LaTeX log problems:\n" + "\n".join(problems)


def test_pdf_build_opens_no_network_connection(book_pdf: PdfBuild) -> None:
    if not book_pdf.log:
        pytest.skip(f"{PDF_ENV} names a PDF built elsewhere")
    lines = PDF_NETGUARD_LOG.read_text(encoding="utf-8").splitlines() if PDF_NETGUARD_LOG.is_file() else []
    assert any(line.startswith("active") for line in lines), "the network guard was not loaded by the build"
    blocked = [line for line in lines if line.startswith("blocked")]
    assert not blocked, "the PDF build tried to reach the network:\n" + "\n".join(blocked)


def test_pdf_has_every_part_chapter_and_appendix(pdf: PdfBuild) -> None:
    missing = [f"{where}: {title}" for where, title in toc_titles() if title not in pdf.text]
    assert not missing, "titles of _toc.yml not in the PDF:\n" + "\n".join(missing)


def _pages_with(pdf: PdfBuild, mark: str) -> list[int]:
    return [n for n, text in enumerate(pdf.pages_text, 1) if mark in text]


def test_pdf_has_no_unresolved_reference(pdf: PdfBuild) -> None:
    """No "??": LaTeX resolved every reference (equations, figures, theorems, exercises of other chapters)."""
    assert not _pages_with(pdf, "??"), f"'??' on pages {_pages_with(pdf, '??')}"


def test_pdf_prints_no_widget_repr(pdf: PdfBuild) -> None:
    """A slider panel's widget output is left out of the PDF, not printed as its text repr."""
    assert not _pages_with(pdf, "Panel(children"), f"a widget's text repr on pages {_pages_with(pdf, 'Panel(children')}"


def test_pdf_prints_every_html_output(pdf: PdfBuild) -> None:
    """An output that is HTML only (an IPython.display.HTML object: the performance appendix's tables and
    paragraphs) prints as paragraphs and tables, not as its text repr."""
    mark = "IPython.core.display.HTML object"
    assert not _pages_with(pdf, mark), f"{mark!r} on pages {_pages_with(pdf, mark)}"
    tex = pdf.pdf.with_suffix(".tex").read_text(encoding="utf-8")
    appendix = tex[tex.index(r"\label{\detokenize{book/appendix_performance::doc}}"):]
    assert appendix.count(r"\begin{tabulary}") + appendix.count(r"\begin{tabular}") >= 5


def _panel_cells(doctree_dir: Path):
    """(page, cell outputs) of every code cell of the LaTeX build's doctrees that shows a widget."""
    from docutils import nodes

    for path in sorted(doctree_dir.rglob("*.doctree")):
        with open(path, "rb") as f:
            doctree = pickle.load(f)
        for cell in doctree.findall(lambda n: isinstance(n, nodes.container) and "cell_output" in n["classes"]):
            raws = [n for n in cell.findall(nodes.raw) if WIDGET_VIEW in n.astext()]
            if raws:
                yield path.relative_to(doctree_dir).with_suffix("").as_posix(), cell


def test_every_slider_panel_prints_its_default_frame(pdf: PdfBuild) -> None:
    """Every cell output that shows a widget (a slider panel) also has an image, the panel's default frame
    (a palette PNG, as the static frames are stored), and that image is in the LaTeX source of the PDF."""
    from docutils import nodes
    from PIL import Image

    tex = pdf.pdf.with_suffix(".tex").read_text(encoding="utf-8")
    cells = list(_panel_cells(pdf.doctree_dir))
    assert len(cells) >= 6, f"expected the book's slider panels in {pdf.doctree_dir}, found {len(cells)}"
    for page, cell in cells:
        images = list(cell.findall(nodes.image))
        assert len(images) == 1, (f"{page}: a panel output with {len(images)} images (none: was the page's "
                                  "output cached before panels printed a PNG? remove _build/.jupyter_cache)")
        name = Path(images[0]["uri"]).name
        # Sphinx writes \sphinxincludegraphics{{<stem>}.png}
        assert f"{{{Path(name).stem}}}{Path(name).suffix}" in tex, f"{page}: the frame {name} is not in the PDF's LaTeX"
        with Image.open(pdf.latex_dir / name) as frame:
            assert frame.mode == "P", f"{page}: {name} is not a panel frame (mode {frame.mode})"


def test_pdf_has_figures(pdf: PdfBuild) -> None:
    """The book's figures and panel frames are images in the PDF (at least one per panel, plus figures)."""
    from pypdf import PdfReader

    images = sum(len(page.images) for page in PdfReader(pdf.pdf).pages)
    panels = len(list(_panel_cells(pdf.doctree_dir)))
    assert images > panels >= 6, f"{images} images in the PDF for {panels} panels"


def _first_choice(bundle: dict, priority: list[str]) -> str | None:
    return next((mime for mime in priority if mime in bundle), None)


def test_panel_prints_its_default_frame_and_the_website_keeps_the_widget(monkeypatch) -> None:
    """A static panel's two outputs, formatted by IPython and chosen by myst-nb with the book's
    ``nb_mime_priority_overrides``: the LaTeX build takes the widget view (which it leaves out) and the
    default frame as a PNG; the website keeps the widget view and the noscript HTML."""
    import IPython.display
    from IPython.core.interactiveshell import InteractiveShell
    from myst_nb.core.render import get_mime_priority
    from test_widgets_panel import CONTROLS, line

    from tflmini.widgets.panel import Panel

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    overrides = [tuple(o) for o in config["sphinx"]["config"].get("nb_mime_priority_overrides", [])]
    panel = Panel(line, CONTROLS, {"a": 2.0, "b": 5.0}, static={"a": [1.0, 2.0], "b": [5.0]}, figsize=(3, 2))
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    panel._ipython_display_()
    formatter = InteractiveShell.instance().display_formatter
    bundles = [obj if raw else formatter.format(obj)[0] for obj, raw in shown]
    assert len(bundles) == 2
    widget, fallback = bundles
    assert fallback["image/png"] == panel.frame() and fallback["text/html"] == panel.noscript_html()
    latex, html = get_mime_priority("latex", overrides), get_mime_priority("html", overrides)
    assert [_first_choice(b, latex) for b in bundles] == [WIDGET_VIEW, "image/png"]
    assert [_first_choice(b, html) for b in bundles] == [WIDGET_VIEW, "text/html"]
    # an HTML-only output: LaTeX takes its HTML (see test_html_outputs_become_paragraphs_and_tables)
    html_only = formatter.format(IPython.display.HTML("<p>x</p>"))[0]
    assert _first_choice(html_only, latex) == _first_choice(html_only, html) == "text/html"


def test_html_outputs_become_paragraphs_and_tables() -> None:
    """_ext/tflmini_latex.py: the HTML of a code cell's output, for the PDF, as docutils nodes; markup it
    does not know is an error (reported as a build warning), never dropped."""
    import sys

    from docutils import nodes

    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        from tflmini_latex import html_to_nodes
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    (para,) = html_to_nodes("<p>At <i>P</i><sub>s</sub> = 8, <b>met</b> by <code>eigh</code>.</p>")
    assert isinstance(para, nodes.paragraph) and para.astext() == "At Ps = 8, met by eigh."
    assert [type(n) for n in para.children] == [nodes.Text, nodes.emphasis, nodes.subscript, nodes.Text,
                                                nodes.strong, nodes.Text, nodes.literal, nodes.Text]
    (table,) = html_to_nodes('<table class="table"><caption>Times</caption><thead><tr><th>P</th><th>fit</th>'
                             "</tr></thead><tbody><tr><td>100</td><td>2 ms</td></tr><tr><td>200</td></tr>"
                             "</tbody></table>")
    assert isinstance(table, nodes.table) and table[0].astext() == "Times"
    rows = [[entry.astext() for entry in row] for row in table.findall(nodes.row)]
    assert rows == [["P", "fit"], ["100", "2 ms"], ["200", ""]]
    assert [type(n) for n in html_to_nodes("<i>Not measured.</i><p>x</p>")] == [nodes.paragraph, nodes.paragraph]
    for bad in ("<div>x</div>", "<p>a <a href='x'>link</a></p>", "<table><tr><td>1</td></tr></table>"):
        with pytest.raises(ValueError):
            html_to_nodes(bad)
