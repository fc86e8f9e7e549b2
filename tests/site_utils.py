"""Helpers for the tests of the built website (tests/test_site.py, tests/test_links.py).

* the table of contents (``_toc.yml``) and the source file / executability of each page;
* the pages of the built site and a small HTML parser (ids, links and resources, launch buttons);
* the classification of URLs (local file + fragment, or external);
* a local HTTP server on 127.0.0.1 for the built site;
* the system Chromium that the browser tests drive through Playwright.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import posixpath
import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]

# --- the browser --------------------------------------------------------------------------------

CHROMIUM = Path(os.environ.get("TFLMINI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Only the local server is reachable: a request to any other host fails at once (the tests
    # also record it as a failure), online or offline alike.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def chromium_problem() -> str | None:
    """None if the browser tests can run, else what is missing and how to install it."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return (
                "the `playwright` Python package is missing from this environment; run `make test` "
                "(it installs requirements/test.txt into .venv)."
            )
        return None
    return (
        f"{CHROMIUM} is missing: the browser tests need Debian's chromium (driven by Playwright "
        "with executable_path, no browser download).\n"
        "Install it with `make browser` as root, or: apt-get update && apt-get install -y chromium\n"
        "(set TFLMINI_CHROMIUM=/path/to/chromium to use another binary; do not run "
        "`playwright install`)."
    )


# --- an existing build -------------------------------------------------------------------------

SITE_ENV = "TFLMINI_SITE_HTML"


def prebuilt_site() -> Path | None:
    """The built site named by ``TFLMINI_SITE_HTML`` (e.g. ``/tmp/build/_build/html`` of
    ``jupyter-book build . --path-output /tmp/build``), for running the site tests on an existing build
    instead of building the book in the session; None if the variable is unset or empty.
    """
    value = os.environ.get(SITE_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not (path / "index.html").is_file() or not (path / "searchindex.js").is_file():
        raise FileNotFoundError(f"{SITE_ENV}={value}: no built site there (index.html and searchindex.js)")
    return path


@contextlib.contextmanager
def served_chromium(html_dir: Path):
    """Serve ``html_dir`` on 127.0.0.1 and yield ``(server, browser)``: the system Chromium (CHROMIUM,
    CHROMIUM_ARGS: no host but 127.0.0.1 is reachable) driven by Playwright. Fails the calling test (never
    skips: CI and developers must see it) if Chromium or Playwright is missing."""
    problem = chromium_problem()
    if problem:
        import pytest

        pytest.fail(problem, pytrace=False)
    from playwright.sync_api import sync_playwright

    with SiteServer(html_dir) as server, sync_playwright() as pw:
        # Playwright gives the browser a fresh temporary profile (--user-data-dir) on each launch.
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield server, browser
        finally:
            browser.close()


@contextlib.contextmanager
def browser_context(html_dir: Path, viewport: dict, timeout_ms: int = 30_000):
    """Serve ``html_dir`` on 127.0.0.1 and yield ``(server, context)``: a Playwright browser context of
    :func:`served_chromium`'s browser, service workers blocked."""
    with served_chromium(html_dir) as (server, browser):
        context = browser.new_context(viewport=viewport, service_workers="block")
        context.set_default_timeout(timeout_ms)
        try:
            yield server, context
        finally:
            context.close()


# --- table of contents and sources --------------------------------------------------------------

SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")
_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def load_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def book_config() -> dict:
    return load_yaml(ROOT / "_config.yml")


def _strip_suffix(name: str) -> str:
    for suffix in SOURCE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def toc_docnames(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Docnames of the pages in the table of contents, in reading order (root first)."""
    toc = load_yaml(toc_path)
    names: list[str] = []

    def add(name: str) -> None:
        name = _strip_suffix(str(name).strip("/"))
        if name not in names:
            names.append(name)

    def walk(entries) -> None:
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            if "file" in entry:
                add(entry["file"])
            if "glob" in entry:
                for path in sorted(ROOT.glob(str(entry["glob"]))):
                    if path.suffix in SOURCE_SUFFIXES:
                        add(path.relative_to(ROOT).as_posix())
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    if "root" in toc:
        add(toc["root"])
    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key))
    return names


def toc_mentions(prefix: str) -> bool:
    """True if a page of the table of contents starts with ``prefix`` (e.g. ``book/ch04``)."""
    return any(name.startswith(prefix) for name in toc_docnames())


def source_file(docname: str) -> Path | None:
    for suffix in SOURCE_SUFFIXES:
        path = ROOT / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def is_executable(path: Path | None) -> bool:
    """An ``.ipynb`` notebook, or a text file with a jupytext/kernelspec header (MyST notebook)."""
    if path is None:
        return False
    if path.suffix == ".ipynb":
        return True
    match = _FRONT_MATTER_RE.match(path.read_text(encoding="utf-8"))
    return bool(match) and bool(re.search(r"^\W*(jupytext|kernelspec):", match.group(1), re.MULTILINE))


def executable_docnames() -> list[str]:
    return [name for name in toc_docnames() if is_executable(source_file(name))]


# --- the built site -----------------------------------------------------------------------------

# Folders of the build that are not pages: assets, downloadable sources, execution reports.
NON_PAGE_DIRS = {"_static", "_sources", "_images", "_downloads", "reports", "@jupyter-widgets", "_vendor"}


# Pages that Sphinx / Jupyter Book write besides the documents (index.html: redirect to the root;
# genindex, search, and the domain indices such as sphinx-proof's ``prf-prf.html``). They all sit at
# the top of the site; the documents of this book live in folders (book/...).
SPECIAL_PAGES = ("index.html", "genindex.html", "search.html", "py-modindex.html")


def is_special_page(page: str) -> bool:
    return page in SPECIAL_PAGES or ("/" not in page and bool(re.fullmatch(r"[a-z]+-[a-z]+\.html", page)))


def current_docnames(html_dir: Path) -> set[str] | None:
    """Docnames of the last build, from its search index (None if there is no search index)."""
    index = html_dir / "searchindex.js"
    if not index.is_file():
        return None
    match = re.search(r'"docnames"\s*:\s*(\[[^\]]*\])', index.read_text(encoding="utf-8"))
    return set(json.loads(match.group(1))) if match else None


def html_files(html_dir: Path) -> list[str]:
    """Every HTML file of the build that is a page (not an asset), relative to ``html_dir``."""
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        rel = path.relative_to(html_dir)
        if not NON_PAGE_DIRS.intersection(rel.parts[:-1]):
            pages.append(rel.as_posix())
    return pages


def built_pages(html_dir: Path) -> list[str]:
    """The pages of the last build (posix paths relative to ``html_dir``).

    Sphinx never deletes the output of a page that left the table of contents; such stale files
    (see ``stale_pages``) are not part of the site that would be deployed from a fresh build.
    """
    docnames = current_docnames(html_dir)
    pages = html_files(html_dir)
    if docnames is None:
        return pages
    return [p for p in pages if is_special_page(p) or p.removesuffix(".html") in docnames]


def stale_pages(html_dir: Path) -> list[str]:
    current = set(built_pages(html_dir))
    return [p for p in html_files(html_dir) if p not in current]


def slider_pages(html_dir: Path) -> list[str]:
    """Pages of the build that show static slider panels (``tflmini.widgets.panel.Panel.static_html``: plain
    HTML, a range input per slider, switched by ``_static/tflmini-panels.js``)."""
    return [p for p in built_pages(html_dir) if parse_page(html_dir / p).panel_sliders]


# The static panel as the website shows it (Panel.static_html): one element per slider holding its name, its
# range input and its read-only readout, inside the panel; the panel's figure.
PANEL_SELECTOR = ".tflmini-panel"
SLIDER_SELECTOR = ".tflmini-slider"
SLIDER_NAME_SELECTOR = ".tflmini-slider-name"
SLIDER_INPUT_SELECTOR = "input[type=range]"
READOUT_SELECTOR = ".tflmini-readout"


def docname_to_page(docname: str) -> str:
    return f"{docname}.html"


# Attributes that reference another document or a resource.
_LINK_ATTRS = {
    ("a", "href"), ("area", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
    ("iframe", "src"), ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
    ("object", "data"),
}
# Resources the browser loads by itself (as opposed to links the reader may follow).
_RESOURCE_ATTRS = {("img", "src"), ("script", "src"), ("iframe", "src"), ("source", "src"),
                   ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}
_LOADED_LINK_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest", "shortcut"}


@dataclass
class Ref:
    tag: str
    attr: str
    url: str
    resource: bool  # loaded by the browser with the page (script, img, stylesheet...)
    line: int


@dataclass
class ParsedPage:
    ids: set[str] = field(default_factory=set)
    refs: list[Ref] = field(default_factory=list)
    anchors: list[dict] = field(default_factory=list)  # attributes of every <a>
    buttons: list[dict] = field(default_factory=list)  # attributes of every <button>
    unresolved_xrefs: list[str] = field(default_factory=list)
    refresh_target: str | None = None  # <meta http-equiv="refresh" content="0; url=...">
    widget_views: int = 0  # embedded ipywidgets views (script type=...widget-view+json)
    widget_state: str = ""  # the page's embedded ipywidgets state (JSON text), if any
    panels: int = 0  # static slider panels (div.tflmini-panel)
    panel_sliders: int = 0  # their range inputs
    scripts: list[str] = field(default_factory=list)  # src of every <script src=...>


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self._in_a = 0
        self._in_widget_state = False
        self._panel_depth = 0  # > 0 inside a div.tflmini-panel (counts its open divs)
        self._xref_depth = 0  # > 0 inside an unresolved cross-reference (its text is collected)
        self._xref_text = ""

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {k: (v if v is not None else "") for k, v in attrs_list}
        line = self.getpos()[0]
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.page.ids.add(attrs[key])
        for (t, a) in _LINK_ATTRS:
            if tag == t and attrs.get(a):
                resource = (t, a) in _RESOURCE_ATTRS or (
                    t == "link" and bool(_LOADED_LINK_RELS.intersection(attrs.get("rel", "").lower().split()))
                )
                self.page.refs.append(Ref(tag, a, attrs[a].strip(), resource, line))
        if tag == "a":
            self._in_a += 1
            self.page.anchors.append(attrs)
        elif tag == "button":
            self.page.buttons.append(attrs)
        elif tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            match = re.search(r"url\s*=\s*['\"]?([^'\"]+)", attrs.get("content", ""), re.IGNORECASE)
            if match:
                self.page.refresh_target = match.group(1).strip()
                self.page.refs.append(Ref(tag, "content", self.page.refresh_target, False, line))
        elif tag == "script" and attrs.get("type") == "application/vnd.jupyter.widget-view+json":
            self.page.widget_views += 1
        elif tag == "input" and attrs.get("type") == "range" and self._panel_depth:
            self.page.panel_sliders += 1
        elif tag == "script" and attrs.get("type") == "application/vnd.jupyter.widget-state+json":
            self._in_widget_state = True
        if tag == "script" and attrs.get("src"):
            self.page.scripts.append(attrs["src"])
        classes = attrs.get("class", "").split()
        if tag == "div" and "tflmini-panel" in classes:
            self.page.panels += 1
            self._panel_depth = 1
        elif tag == "div" and self._panel_depth:
            self._panel_depth += 1
        # Sphinx renders a cross-reference it could not resolve without its <a>: a span or code of
        # class "xref <domain> <domain>-<role>" (std-ref, std-doc, prf-ref, py-func...).
        if self._xref_depth:
            self._xref_depth += 1
        elif "xref" in classes and not self._in_a:
            self.page.unresolved_xrefs.append(f"line {line}: <{tag} class=\"{attrs['class']}\">")
            self._xref_depth, self._xref_text = 1, ""

    def handle_startendtag(self, tag: str, attrs_list) -> None:
        self.handle_starttag(tag, attrs_list)
        if tag == "a":
            self._in_a = max(0, self._in_a - 1)

    def handle_data(self, data: str) -> None:
        if self._in_widget_state:
            self.page.widget_state += data
        if self._xref_depth:
            self._xref_text += data

    def handle_endtag(self, tag: str) -> None:
        if self._xref_depth:
            self._xref_depth -= 1
            if not self._xref_depth:
                self.page.unresolved_xrefs[-1] += f" {' '.join(self._xref_text.split())[:80]!r}"
        if tag == "a":
            self._in_a = max(0, self._in_a - 1)
        elif tag == "script":
            self._in_widget_state = False
        elif tag == "div" and self._panel_depth:
            self._panel_depth -= 1


@functools.lru_cache(maxsize=None)
def _parse_cached(path: str, mtime_ns: int, size: int) -> ParsedPage:
    parser = _PageParser()
    parser.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser.page


def parse_page(path: Path) -> ParsedPage:
    stat = path.stat()
    return _parse_cached(str(path), stat.st_mtime_ns, stat.st_size)


# --- URLs ---------------------------------------------------------------------------------------

_NOT_CHECKED_SCHEMES = {"javascript", "data", "blob", "about"}


@dataclass
class Target:
    kind: str  # "local" | "external" | "ignored"
    path: str | None = None  # local: file relative to the site root (posix); None if outside
    fragment: str = ""


def classify(page: str, url: str) -> Target:
    """Resolve ``url`` found on ``page`` (relative to the site root) to a local file or external."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _NOT_CHECKED_SCHEMES:
        return Target("ignored")
    if scheme or parts.netloc or url.startswith("//"):
        return Target("external")
    fragment = unquote(parts.fragment)
    if not parts.path:
        return Target("local", page, fragment)
    if parts.path.startswith("/"):
        joined = parts.path.lstrip("/")
    else:
        joined = posixpath.join(posixpath.dirname(page), unquote(parts.path))
    norm = posixpath.normpath(joined)
    if norm.startswith("..") or norm.startswith("/"):
        return Target("local", None, fragment)
    if parts.path.endswith("/") or norm == ".":
        norm = posixpath.join(norm, "index.html") if norm != "." else "index.html"
    return Target("local", norm, fragment)


def is_local_url(url: str) -> bool:
    """True for URLs the browser may load in the tests: the local server, data: and blob: URLs."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname == "127.0.0.1"


# --- the local web server -----------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        # Browsers ask for /favicon.ico by themselves (not the page): answer "no content" rather
        # than a 404 that Chromium would log as a console error of the page.
        if self.path.split("?")[0] == "/favicon.ico" and not Path(self.directory, "favicon.ico").exists():
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


class SiteServer:
    """Serve ``directory`` on http://127.0.0.1:<free port>/ from a thread (context manager)."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="site-server", daemon=True)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, page: str) -> str:
        return self.base + page


# --- legibility of the figures (tests/test_figure_legibility.py) --------------------------------

#: The PNG text chunk in which ``tflmini.plots.style.use_book_style`` records a figure's smallest text (PNG px).
SMALLEST_TEXT_KEY = "tflmini:smallest-text-px"

_FIGURE_WIDTHS_JS = """async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });  // hidden outputs, dropdowns
  const imgs = [...document.querySelectorAll('img')].filter(i => (i.getAttribute('src') || '').includes('_images/'));
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  return {column: article.getBoundingClientRect().width,
          images: imgs.map(i => ({src: i.getAttribute('src'), width: i.getBoundingClientRect().width,
                                  natural: i.naturalWidth}))};
}"""


@dataclass
class FigureText:
    """One figure of a page as shown: its PNG, the width it is drawn at and shown at, and its smallest text."""

    page: str
    src: str
    drawn_px: int  # width of the PNG
    shown_px: float  # width of the <img> on screen (CSS px)
    smallest_png_px: float | None  # the smallest text in PNG pixels (None: not recorded)
    metadata: dict = field(default_factory=dict)

    @property
    def scale(self) -> float:
        return self.shown_px / self.drawn_px if self.drawn_px else 0.0

    @property
    def smallest_screen_px(self) -> float | None:
        """The smallest text of the figure in CSS px on screen: text px in the PNG * shown / drawn width."""
        return None if self.smallest_png_px is None else self.smallest_png_px * self.scale


def figure_texts(context, server: SiteServer, html_dir: Path, page: str) -> tuple[float, list[FigureText]]:
    """(width of the content column, the cell-output figures of ``page``) as Chromium shows them in ``context``:
    for every ``<img>`` of ``_images/``, the PNG's width and recorded smallest text (PNG metadata) and the
    width of the image on screen (dropdowns and hidden outputs opened)."""
    from PIL import Image

    tab = context.new_page()
    try:
        tab.goto(server.url(page), wait_until="load")
        found = tab.evaluate(_FIGURE_WIDTHS_JS)
    finally:
        tab.close()
    out = []
    for item in found["images"]:
        target = classify(page, item["src"])
        if target.kind != "local" or target.path is None or not target.path.endswith(".png"):
            continue
        with Image.open(html_dir / target.path) as im:
            meta, drawn = dict(getattr(im, "text", {}) or {}), im.size[0]
        small = meta.get(SMALLEST_TEXT_KEY)
        out.append(FigureText(page, target.path, drawn, float(item["width"]), float(small) if small else None, meta))
    return float(found["column"]), out


# Digests (first 8 bytes of SHA-256, hex) of the images shown (visible) inside one element ``scope``: "the
# figure" a reader sees there. Used by the slider tests of test_site.py and test_site_panels.py.
IMAGE_DIGESTS_JS = """async (scope) => {
  const shown = [...scope.querySelectorAll('img')].filter(
      img => img.getClientRects().length > 0 && img.complete && img.naturalWidth > 0);
  const digests = [];
  for (const img of shown) {
    const buf = await (await fetch(img.currentSrc || img.src)).arrayBuffer();
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
    digests.push([...hash.slice(0, 8)].map(b => b.toString(16).padStart(2, '0')).join(''));
  }
  return digests;
}"""


# MathJax's typesetting (of the page, then of widget descriptions) is chained on startup.promise.
WAIT_MATHJAX_JS = """async () => {
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) { return false; }
  let promise;
  do { promise = MathJax.startup.promise; await promise; } while (promise !== MathJax.startup.promise);
  return true;
}"""
