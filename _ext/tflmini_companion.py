"""Companion notebooks on the website (registered in _config.yml, sphinx.local_extensions).

The chapters promise companion notebooks (``notebooks/<chapter>.ipynb``, same name as the chapter's
source file) that run their slider panels live (where the chapter has panels) and hold self-checking exercises
(``check(<id>, answer)`` of :mod:`tflmini.exercises`). This extension, for every page that has one:

* copies the notebook into the built site (``_build/html/notebooks/<chapter>.ipynb``);
* shows, under the chapter's title, a "Companion notebook" box: what the notebook holds (live panels, the
  number of self-checking exercises, both read from the notebook), the download of that copy, and where
  to find it in the page's Binder session (the launch menu's Binder button opens the launch branch of
  the one repository setting, ``repository.url`` / ``repository.branch``, which holds ``notebooks/``).
  The box has no Binder or Colab link of its own: tests/test_site.py requires the page's launch
  links to be the only ones (one Binder, one Colab link per page, opening the page's notebook).

Nothing is written into the chapters' sources.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes

NOTEBOOK_DIR = "notebooks"  # in the repository and in the built site


def companion_notebooks(srcdir: str | Path) -> dict[str, str]:
    """Chapter file stem -> repository path of its companion notebook (``notebooks/<stem>.ipynb``)."""
    folder = Path(srcdir, NOTEBOOK_DIR)
    return {p.stem: f"{NOTEBOOK_DIR}/{p.name}" for p in sorted(folder.glob("*.ipynb"))} if folder.is_dir() else {}


_CHECK_RE = re.compile(r"""^check\(\s*["']([\w.]+)["']""", re.MULTILINE)


def notebook_contents(path: str | Path) -> dict:
    """What a companion notebook holds: ``panels`` (it builds a ``tflmini.widgets`` panel) and ``exercises``
    (the ids of its self-checking exercises, in order)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    code = ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
    exercises = [i for src in code for i in _CHECK_RE.findall(src)]
    return {"panels": any("tflmini.widgets" in src for src in code), "exercises": list(dict.fromkeys(exercises))}


def _what(contents: dict) -> str:
    n = len(contents["exercises"])
    parts = (["runs this chapter's panels live"] if contents["panels"] else []) + (
        [f"has {n} self-checking exercise{'s' if n != 1 else ''} (your answer is checked at once, the solution is "
         "not shown)"] if n else [])
    return " and ".join(parts) or "goes with this chapter"


def _box(docname: str, repo_path: str, contents: dict) -> str:
    href = posixpath.relpath(repo_path, posixpath.dirname(docname) or ".")
    name = posixpath.basename(repo_path)
    what = _what(contents)
    return (
        '<div class="tflmini-companion admonition tip">\n'
        '<p class="admonition-title">Companion notebook</p>\n'
        f'<p><a class="tflmini-companion-download reference download" href="{html.escape(href)}" download="{html.escape(name)}">'
        f'<code class="docutils literal notranslate"><span class="pre">{html.escape(repo_path)}</span></code></a> '
        f"{html.escape(what)}: download it and open it in Jupyter (in a clone of the repository, "
        f"or with tflmini installed), or open <code class=\"docutils literal notranslate\"><span class=\"pre\">{html.escape(repo_path)}</span></code> "
        "in the file browser of this page's Binder session (rocket menu &gt; Binder).</p>\n"
        "</div>\n"
    )


def _add_box(app, doctree, docname: str) -> None:
    if app.builder.format != "html":
        return
    repo_path = app.env.tflmini_companions.get(Path(docname).name) if hasattr(app.env, "tflmini_companions") else None
    if repo_path is None:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next((i for i, child in enumerate(section.children) if isinstance(child, nodes.title)), -1)
    contents = notebook_contents(Path(app.srcdir, repo_path))
    section.insert(title + 1, nodes.raw("", _box(docname, repo_path, contents), format="html"))


def _find(app) -> None:
    app.env.tflmini_companions = companion_notebooks(app.srcdir)


def _copy(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for repo_path in companion_notebooks(app.srcdir).values():
        target = Path(app.outdir, repo_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(app.srcdir, repo_path), target)


def setup(app):
    app.connect("builder-inited", _find)
    app.connect("doctree-resolved", _add_box)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
