"""Local Sphinx extension of the tflmini book (registered in _config.yml, sphinx.local_extensions).

1. Binder and Colab launch links that open a real notebook, also for MyST Markdown pages.
2. No duplicated inline scripts (a Sphinx 7.4 bug that breaks every page, see below).
3. ipywidgets' HTML manager with MathJax 3 (see below).
4. The notebook download of a page holds its outputs also when they come from the jupyter-cache
   (``_executed_download``).
5. Static slider panels as plain HTML, with no widget manager (``_panels_as_html``,
   ``_drop_unused_widget_scripts``, ``book/_static/tflmini-panels.js``).

1. Launch notebooks
-------------------
sphinx-book-theme points the Binder and Colab buttons of a page at its source file in the
repository. For a MyST Markdown page (``book/x.md``) that is a ``.md`` file, which Colab cannot
open at all and which JupyterLab on Binder opens as plain text (jupyter-book issue #752).

This extension, for every executable page (MyST notebook or ``.ipynb``):

* writes a launch notebook ``_build/launch/<repo path of the page>.ipynb``: the page as a notebook
  (jupytext), without outputs, behind one setup cell that only acts on Google Colab (clone the
  repository, install tflmini, and myst-nb if the page imports it, work from the page's folder so
  that relative paths and cached data resolve as in the book);
* rewrites the page's Binder and Colab links to ``<repo path>.ipynb`` on the branch of
  ``repository.branch`` (``_config.yml``).

The deploy workflow (``.github/workflows/deploy.yml``) publishes that branch: the commit being
deployed plus the files of ``_build/launch``. Binder and Colab therefore open the notebook version
of exactly the pages that are on the website.

2. Duplicated inline scripts
----------------------------
Sphinx 7.4 adds an inline script (``app.add_js_file(None, body=...)``) registered after the builder
was initialised twice to every page: once as filename ``None``, once as ``''`` when it re-reads the
registry in ``prepare_writing``. sphinx-thebe's ``const THEBE_JS_URL = ...`` then throws
"Identifier 'THEBE_JS_URL' has already been declared" on every page (seen by tests/test_site.py).
``_dedupe_scripts`` keeps the first of such equal scripts.

3. ipywidgets and MathJax 3
---------------------------
The ipywidgets HTML manager (embed-amd.js, @jupyter-widgets/html-manager 1.x) typesets widget
descriptions with the MathJax 2 API, ``MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])``. The
book serves MathJax 3, which has no ``Hub``: every widget with a description (a labelled slider)
threw "Cannot read properties of undefined (reading 'Queue')" on the static pages. ``MATHJAX2_SHIM``
gives MathJax 3 that one call, mapped to ``MathJax.typesetPromise([element])``, after turning the
``$...$`` / ``$$...$$`` delimiters of widget descriptions (as in Jupyter) into ``\\(...\\)`` /
``\\[...\\]``, the only ones the book's MathJax configuration knows.

5. Static slider panels without a widget manager
------------------------------------------------
A static panel (``tflmini.widgets.panel.Panel``) displays both an ipywidgets view and, as ``text/html``,
the same panel as plain HTML (a native range input per slider, the default frame as an image, all frames
inline). Jupyter, Binder and Colab show the widget; the website ranks ``text/html`` first and shows the
HTML panel, which ``tflmini-panels.js`` (book/_static) brings to life. A page left without any widget view
then no longer loads require.js, the HTML manager and the embedded widget state: the panels appear as soon
as the page is parsed instead of seconds later (benchmarks/bench_first_widget.py).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from pathlib import Path

LAUNCH_DIR_NAME = "launch"  # next to the html output: _build/launch

SETUP_SOURCE = '''\
# Setup for Google Colab only (does nothing on Binder or in a local clone of the repository):
# fetch the tflmini repository (code and cached results), install it, and work from this
# page's folder, as the book does.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    _repo = "/content/{repo}"
    if not os.path.isdir(_repo):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", "{branch}",
                        "{repo_url}", _repo], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", _repo{extra}], check=True)
    sys.path.insert(0, _repo)
    os.chdir(os.path.join(_repo, "{folder}"))
    from google.colab import output

    output.enable_custom_widget_manager()  # ipywidgets 8 sliders
'''

# Modules that pages may import beyond tflmini's dependencies, and the package that Colab lacks
# (Binder gets them from environment.yml).
COLAB_EXTRAS = {"myst_nb": "myst-nb>=1.0"}

# Runs at DOMContentLoaded: after the deferred MathJax script, before the widgets are rendered.
MATHJAX2_SHIM = r"""document.addEventListener('DOMContentLoaded', function () {
  var mj = window.MathJax;
  if (!mj || !mj.version || mj.version.charAt(0) !== '3' || mj.Hub) { return; }
  mj.Hub = {Queue: function () {
    for (var i = 0; i < arguments.length; i++) {
      var job = arguments[i];
      if (Array.isArray(job) && job[0] === 'Typeset' && job[2]) {
        (function (element) {
          var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT), node;
          while ((node = walker.nextNode())) {
            node.textContent = node.textContent
              .replace(/\$\$([^$]+)\$\$/g, '\\[$1\\]').replace(/\$([^$]+)\$/g, '\\($1\\)');
          }
          // Chained on startup.promise, as MathJax 3 recommends for typesetting calls.
          mj.startup.promise = mj.startup.promise.then(function () { return mj.typesetPromise([element]); })
            .catch(function (err) { console.warn('MathJax typeset of a widget failed', err); });
        })(job[2]);
      }
    }
  }};
});"""


def _repo_parts(url: str) -> tuple[str, str] | None:
    match = re.match(r"https?://github\.com/([^/]+)/([^/#?]+?)(?:\.git)?/?$", url or "")
    return (match.group(1), match.group(2)) if match else None


def _repo_path(app, docname: str) -> str:
    """Path of the page's notebook inside the repository, e.g. ``book/intro.ipynb``."""
    source = Path(app.env.doc2path(docname))
    rel = source.relative_to(Path(app.srcdir)).with_suffix(".ipynb").as_posix()
    prefix = app.config.html_theme_options.get("path_to_docs", "") or ""
    return posixpath.normpath(posixpath.join(prefix.strip("/") or ".", rel))


def _write_launch_notebook(app, docname: str, repo_path: str, repo: str, repo_url: str, branch: str) -> None:
    import jupytext
    import nbformat

    source = Path(app.env.doc2path(docname))
    nb = jupytext.read(source)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    folder = posixpath.dirname(repo_path) or "."
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    extra = "".join(f", {package!r}" for module, package in COLAB_EXTRAS.items()
                    if re.search(rf"^\s*(from|import)\s+{module}\b", code, re.MULTILINE))
    setup = nbformat.v4.new_code_cell(
        SETUP_SOURCE.format(repo=repo, branch=branch, repo_url=repo_url, folder=folder, extra=extra))
    setup.metadata["tags"] = ["colab-setup"]
    nb.cells.insert(0, setup)
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding an unchanged page changes nothing
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        cell.id = f"c{i:03d}-{digest}"
    # Drop jupytext's pairing information: the launch notebook stands alone.
    nb.metadata.pop("jupytext", None)
    target = Path(app.outdir).parent / LAUNCH_DIR_NAME / repo_path
    target.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb, version=4)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def _rewrite_launch_links(app, pagename, templatename, context, doctree) -> None:
    groups = [b for b in context.get("header_buttons", []) if b.get("label") == "launch-buttons"]
    if not groups:
        return  # not an executable page, or no launch buttons configured
    options = app.config.html_theme_options
    parts = _repo_parts(options.get("repository_url", ""))
    if parts is None:
        return
    org, repo = parts
    branch = options.get("repository_branch") or "main"
    repo_path = _repo_path(app, pagename)
    launch = options.get("launch_buttons", {})
    ui = {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")]
    binderhub = launch.get("binderhub_url", "").strip("/")
    colab = launch.get("colab_url", "").strip("/")
    for group in groups:
        for button in group.get("buttons", []):
            if button.get("text") == "Binder" and binderhub:
                button["url"] = f"{binderhub}/v2/gh/{org}/{repo}/{branch}?urlpath={ui}/{repo_path}"
            elif button.get("text") == "Colab" and colab:
                button["url"] = f"{colab}/github/{org}/{repo}/blob/{branch}/{repo_path}"
    _write_launch_notebook(app, pagename, repo_path, repo, f"https://github.com/{org}/{repo}", branch)


def _executed_download(app, pagename, templatename, context, doctree) -> None:
    """Give the page's notebook download its outputs when they come from the jupyter-cache.

    sphinx-book-theme offers ``_sources/<page>.ipynb``, a copy of the notebook that myst-nb writes
    to ``_build/jupyter_execute``. With ``execute_notebooks: cache``, myst-nb writes the notebook it
    read, not the one merged with the cached outputs: a page reused from the cache (every page of a
    rebuild) would be downloaded without outputs. Merge them from the cache, as myst-nb does for the
    page itself.
    """
    source = context.get("ipynb_source")
    if not source:
        return
    import nbformat

    path = Path(app.outdir, "_sources", source)
    if not path.is_file():
        return
    nb = nbformat.read(path, as_version=4)
    if any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"):
        return  # executed in this build
    cache_path = app.env.mystnb_config.execution_cache_path or Path(app.outdir).parent / ".jupyter_cache"
    if not Path(cache_path).is_dir():
        return
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(str(cache_path)).merge_match_into_notebook(nb)
    except KeyError:
        return  # not cached (e.g. its execution failed: the build reports it)
    path.write_text(nbformat.writes(merged), encoding="utf-8")


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", script) or "", getattr(script, "priority", None),
            tuple(sorted((str(k), str(v)) for k, v in attributes.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
PANEL_JS = "tflmini-panels.js"  # book/_static: the static slider panels without a widget manager


def _panels_as_html(app, config) -> None:
    """Rank ``text/html`` above the widget view for the HTML builders: a static panel's first output carries
    both (``Panel._repr_mimebundle_``), and the website shows the plain HTML one (Jupyter keeps the widget)."""
    overrides = list(config.nb_mime_priority_overrides or [])
    for builder in ("html", "dirhtml", "singlehtml"):
        overrides.append((builder, "text/html", 5))
    config.nb_mime_priority_overrides = overrides


def _drop_unused_widget_scripts(app, pagename, templatename, context, doctree) -> None:
    """A page whose widgets are all shown as plain HTML (static panels) loses the ipywidgets state and the
    widget manager myst-nb adds for any executed notebook that created widgets: with them, every slider
    panel waited for require.js, the HTML manager and the whole widget state (every frame, a second time)
    before it appeared."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list) or WIDGET_VIEW_MIME in (context.get("body") or ""):
        return
    manager = {posixpath.basename(str(path)) for path in (app.config.nb_ipywidgets_js or {})}

    def widget_script(script) -> bool:
        attributes = getattr(script, "attributes", {}) or {}
        name = posixpath.basename(str(getattr(script, "filename", script) or ""))
        return attributes.get("type") == WIDGET_STATE_MIME or (bool(name) and name in manager)

    scripts[:] = [s for s in scripts if not widget_script(s)]


def setup(app):
    app.connect("config-inited", _panels_as_html)
    app.connect("html-page-context", _drop_unused_widget_scripts, priority=940)
    # A plain (blocking) script in the head, a few hundred bytes: defined before any panel is parsed, so that
    # each panel's inline script sets it up at once (async, it sometimes ran seconds after the panel showed).
    app.add_js_file(PANEL_JS)
    # After sphinx-book-theme's add_launch_buttons (priority 501).
    app.connect("html-page-context", _rewrite_launch_links, priority=900)
    app.connect("html-page-context", _dedupe_scripts, priority=950)
    app.connect("html-page-context", _executed_download, priority=960)
    app.add_js_file(None, body=MATHJAX2_SHIM, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
