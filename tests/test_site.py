"""The website as readers get it: the built site checked in headless Chromium, and launchable.

Browser checks (Debian's ``/usr/bin/chromium`` driven by Playwright, one browser and one context
for the whole session; the site is served by a local HTTP server on 127.0.0.1 and the browser can
reach no other host):

* ``test_page_in_browser[<page>]``, for every page of the table of contents plus ``index.html``,
  ``genindex.html`` and ``search.html``: no console error, no failed request (HTTP >= 400 or network
  error), no request to another host than 127.0.0.1 (no CDN); every ``.math`` element typeset by
  MathJax (an ``mjx-container``, no ``mjx-merror``) and no raw TeX (``$$``, ``\\(``, ``\\[``,
  ``\\begin{``, ``$..\\cmd..$``) left in the visible text; every image loaded (``naturalWidth > 0``);
  every embedded ipywidgets view rendered (if any); on executable pages, the launch menu with Binder, Colab
  and Thebe ("Live Code") and the notebook download button.
* ``test_every_built_page_is_checked``: pages of the build that are not in the list above (orphans)
  get the same checks.
* ``test_sliders_change_the_figure``: every page with a static slider panel (plain HTML written by
  ``Panel.static_html``: a range input per slider, precomputed frames switched by
  ``_static/tflmini-panels.js``, no widget manager) is found in the build; moving each visible slider
  with the keyboard (no kernel) changes the figure shown next to it, and moving it back restores it.
  The book must have at least one such page.
* Screenshots for review in ``_build/screenshots/``: one chapter (full page) and the first slider page
  (full page, plus its panel before and after moving the slider).

Launchability (no browser):

* ``test_launch_links_point_at_notebooks``: the Binder link opens ``<page>.ipynb`` of this repository
  on the launch branch (``repository.branch``) in JupyterLab, the Colab link the same notebook; the
  notebook (``_build/launch/...``, published on that branch by the deploy workflow) is valid and
  holds the code of the page, behind a Colab-only setup cell; Thebe uses the same repository,
  branch and the page's folder. The download button gives the executed notebook.
  (Binder's environment: tests/test_environment.py.)
* ``test_deploy_workflow``: ``.github/workflows/deploy.yml`` builds the book with ``make book`` and
  publishes ``_build/html`` to GitHub Pages, and the launch notebooks to the launch branch.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from site_utils import (
    IMAGE_DIGESTS_JS,
    ROOT,
    WAIT_MATHJAX_JS,
    SLIDER_INPUT_SELECTOR,
    SLIDER_NAME_SELECTOR,
    SLIDER_SELECTOR,
    SiteServer,
    book_config,
    browser_context,
    built_pages,
    docname_to_page,
    executable_docnames,
    is_local_url,
    load_yaml,
    parse_page,
    source_file,
    stale_pages,
    slider_pages,
    toc_docnames,
)

SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
CHECKED_PAGES = list(
    dict.fromkeys(["index.html", *(docname_to_page(d) for d in toc_docnames()), "genindex.html", "search.html"])
)
EXECUTABLE_PAGES = {docname_to_page(d) for d in executable_docnames()}

PAGE_TIMEOUT_MS = 60_000
RENDER_TIMEOUT_MS = 30_000
SLIDER_TIMEOUT_S = 8.0
QUIET_MS = 500  # the page is settled once no request has been in flight for this long
VIEWPORT = {"width": 1280, "height": 900}

# --- JavaScript evaluated in the page -----------------------------------------------------------


WIDGETS_RENDERED_JS = """() => [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')].every(
    s => s.parentElement && s.parentElement.querySelector('.widget-subarea, .jupyter-widgets'))"""

MATH_JS = r"""() => {
  const skip = 'script, style, pre, code, kbd, samp, textarea, noscript, template, mjx-container, .highlight';
  const patterns = [/\$\$/, /\\\(/, /\\\)/, /\\\[/, /\\\]/, /\\begin\{/, /\$[^$\n]*\\[A-Za-z]+[^$\n]*\$/];
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const text = node.textContent;
    if (patterns.some(p => p.test(text))) raw.push(text.trim().replace(/\s+/g, ' ').slice(0, 120));
  }
  const nodes = [...document.querySelectorAll('.math')];
  return {
    mathjax: !!(window.MathJax && MathJax.version),
    math_nodes: nodes.length,
    containers: document.querySelectorAll('mjx-container').length,
    untypeset: nodes.filter(e => !e.querySelector('mjx-container'))
                    .map(e => e.textContent.trim().replace(/\s+/g, ' ').slice(0, 120)),
    errors: [...document.querySelectorAll('mjx-merror')].map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)),
    raw: raw,
  };
}"""

IMAGES_JS = """async () => {
  const imgs = [...document.images];
  for (const img of imgs) { if (img.loading === 'lazy') img.loading = 'eager'; }
  const settle = img => Promise.race([img.decode().catch(() => null), new Promise(r => setTimeout(r, 10000))]);
  await Promise.all(imgs.map(settle));
  return imgs.map(img => ({src: (img.currentSrc || img.getAttribute('src') || '').slice(0, 160),
                           ok: img.complete && img.naturalWidth > 0}));
}"""

LAUNCH_JS = """(binderhub) => ({
  menu: !!document.querySelector('.dropdown-launch-buttons'),
  binder: [...document.querySelectorAll('a')].some(a => (a.href || '').startsWith(binderhub + '/v2/')),
  colab: [...document.querySelectorAll('a')].some(a => (a.href || '').includes('colab.research.google.com/')),
  thebe_button: !!document.querySelector('.btn-launch-thebe'),
  thebe_js: typeof window.initThebeSBT === 'function',
  download: [...document.querySelectorAll('a.btn-download-notebook-button')].map(a => a.getAttribute('href')),
})"""

# Digests of the images shown (visible) in the output area of a slider: "the figure".
FIGURE_JS = """async (slider) => (""" + IMAGE_DIGESTS_JS + """)(
  slider.closest('.cell_output') || slider.closest('.widget-subarea') || slider.parentElement)"""


# --- the browser session ------------------------------------------------------------------------


@dataclass
class SliderResult:
    index: int
    label: str
    values: list[str] = field(default_factory=list)  # the range input's value: before, moved, back
    figures: list[list[str]] = field(default_factory=list)  # image digests: before, moved, back
    problem: str | None = None


@dataclass
class PageResult:
    page: str
    final_url: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    render_problems: list[str] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    launch: dict = field(default_factory=dict)
    widget_views: int = 0
    sliders: list[SliderResult] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def problems(self, executable: bool) -> list[str]:
        out = [f"console error: {e}" for e in self.console_errors]
        out += [f"failed request: {r}" for r in self.failed_requests]
        out += [f"request to another host (not offline-safe): {r}" for r in self.external_requests]
        out += self.render_problems
        m = self.math
        if m.get("math_nodes") and not m.get("mathjax"):
            out.append(f"{m['math_nodes']} math element(s) but MathJax is not loaded")
        out += [f"math not typeset by MathJax: {t!r}" for t in m.get("untypeset", [])]
        out += [f"MathJax error: {t!r}" for t in m.get("errors", [])]
        out += [f"raw TeX left in the text: {t!r}" for t in m.get("raw", [])]
        out += [f"image did not load: {img['src']}" for img in self.images if not img["ok"]]
        if executable:
            launch = self.launch
            for key, what in (("menu", "launch menu (rocket)"), ("binder", "Binder launch link"),
                              ("colab", "Colab launch link"), ("thebe_button", "Thebe 'Live Code' button"),
                              ("thebe_js", "Thebe script (initThebeSBT)")):
                if not launch.get(key):
                    out.append(f"missing on an executable page: {what}")
            if not any(href and href.endswith(".ipynb") for href in launch.get("download", [])):
                out.append("missing on an executable page: notebook (.ipynb) download button")
        return out


class SiteBrowser:
    """One Chromium, one context; every page is loaded once and all its checks run on that load."""

    def __init__(self, html_dir: Path, server: SiteServer, context, chapter_page: str | None) -> None:
        self.html_dir = html_dir
        self.server = server
        self.context = context
        self.chapter_page = chapter_page
        self.binderhub = str(book_config().get("launch_buttons", {}).get("binderhub_url", "")).rstrip("/")
        self.results: dict[str, PageResult] = {}
        self.slider_screenshot_taken = False

    def visit(self, page_path: str) -> PageResult:
        if page_path not in self.results:
            self.results[page_path] = self._visit(page_path)
        return self.results[page_path]

    def _visit(self, page_path: str) -> PageResult:
        from playwright.sync_api import Error as PlaywrightError

        result = PageResult(page_path)
        start = time.perf_counter()
        page = self.context.new_page()
        # Requests in flight, tracked here: Chromium's own "networkidle" signal does not always come
        # for a page loaded a second time from the memory cache.
        inflight: set = set()
        page.on("request", lambda request: inflight.add(request))
        page.on("requestfinished", lambda request: inflight.discard(request))
        page.on("requestfailed", lambda request: inflight.discard(request))

        def on_console(msg) -> None:
            if msg.type == "error":
                where = msg.location.get("url", "") if msg.location else ""
                result.console_errors.append(f"{msg.text} ({where.replace(self.server.base, '/')})")

        def on_request(request) -> None:
            if not is_local_url(request.url):
                result.external_requests.append(request.url)

        def on_request_failed(request) -> None:
            if is_local_url(request.url):  # external ones are reported as such
                result.failed_requests.append(f"{request.url.replace(self.server.base, '/')}: {request.failure}")

        def on_response(response) -> None:
            if response.status >= 400:
                result.failed_requests.append(f"{response.url.replace(self.server.base, '/')}: HTTP {response.status}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: result.console_errors.append(f"uncaught exception: {exc}"))
        page.on("request", on_request)
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
        try:
            page.goto(self.server.url(page_path), wait_until="load", timeout=PAGE_TIMEOUT_MS)
            refresh = parse_page(self.html_dir / page_path).refresh_target
            if refresh:  # index.html redirects to the root page
                page.wait_for_url(re.compile(re.escape(refresh.split("#")[0]) + r"([#?].*)?$"), timeout=PAGE_TIMEOUT_MS)
                page.wait_for_load_state("load")
            result.final_url = page.url.replace(self.server.base, "/")
            try:
                page.wait_for_function(WIDGETS_RENDERED_JS, timeout=RENDER_TIMEOUT_MS)
            except PlaywrightError:
                result.render_problems.append("embedded ipywidgets were not rendered (widget manager failed?)")
            self._wait_quiet(page, inflight)
            page.evaluate(WAIT_MATHJAX_JS)
            result.math = page.evaluate(MATH_JS)
            result.images = page.evaluate(IMAGES_JS)
            result.launch = page.evaluate(LAUNCH_JS, self.binderhub)
            result.widget_views = page.evaluate(
                "() => document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]').length"
            )
            if page_path == self.chapter_page:
                result.screenshots.append(self._screenshot(page, page_path))
            if page.locator(f"{SLIDER_SELECTOR}:visible").count():
                self._exercise_sliders(page, page_path, result)
            self._wait_quiet(page, inflight)  # requests caused by the checks are recorded too
        except (PlaywrightError, TimeoutError) as exc:
            result.render_problems.append(f"browser error: {exc}".splitlines()[0])
        finally:
            page.close()
        result.seconds = time.perf_counter() - start
        return result

    @staticmethod
    def _wait_quiet(page, inflight: set) -> None:
        deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if inflight:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_MS / 1000:
                return
            page.wait_for_timeout(50)
        pending = ", ".join(sorted(r.url for r in inflight))[:500]
        raise TimeoutError(f"requests still in flight after {PAGE_TIMEOUT_MS / 1000:.0f} s: {pending}")

    def _screenshot(self, page, page_path: str, suffix: str = "", element=None) -> str:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        name = page_path.replace("/", "__").removesuffix(".html") + suffix + ".png"
        path = SCREENSHOT_DIR / name
        if element is not None:
            element.screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=True)
        return str(path.relative_to(ROOT))

    def _figure(self, page, slider) -> list[str]:
        return page.evaluate(FIGURE_JS, slider.element_handle())

    def _wait_figure(self, page, slider, accept) -> list[str]:
        deadline = time.monotonic() + SLIDER_TIMEOUT_S
        figure = self._figure(page, slider)
        while not accept(figure) and time.monotonic() < deadline:
            page.wait_for_timeout(100)
            figure = self._figure(page, slider)
        return figure

    def _exercise_sliders(self, page, page_path: str, result: PageResult) -> None:
        sliders = page.locator(f"{SLIDER_SELECTOR}:visible")  # (a slider in a hidden tab cannot be moved)
        shoot = not self.slider_screenshot_taken
        if shoot:
            result.screenshots.append(self._screenshot(page, page_path))
            self.slider_screenshot_taken = True
        for i in range(sliders.count()):
            slider = sliders.nth(i)
            name = slider.locator(SLIDER_NAME_SELECTOR)
            label = name.first.inner_text() if name.count() else ""
            item = SliderResult(i, label.strip())
            result.sliders.append(item)
            handle = slider.locator(SLIDER_INPUT_SELECTOR).first
            if not handle.count():
                item.problem = "no keyboard-operable handle in the slider"
                continue
            slider.scroll_into_view_if_needed()
            before = self._figure(page, slider)
            value = handle.input_value()
            item.values.append(value)
            item.figures.append(before)
            if not before:
                item.problem = "no figure (visible image) next to the slider"
                continue
            at_max = value == handle.get_attribute("max")
            forward, backward = ("ArrowLeft", "ArrowRight") if at_max else ("ArrowRight", "ArrowLeft")
            output = slider.locator("xpath=ancestor::*[contains(@class,'cell_output')][1]")
            if shoot and output.count():
                result.screenshots.append(self._screenshot(page, page_path, "__slider_before", output.first))
            handle.press(forward)
            moved = self._wait_figure(page, slider, lambda f: f and f != before)
            item.values.append(handle.input_value())
            item.figures.append(moved)
            if shoot and output.count():
                result.screenshots.append(self._screenshot(page, page_path, "__slider_after", output.first))
                shoot = False
            if item.values[1] == item.values[0]:
                item.problem = f"the slider did not move with the {forward} key"
                continue
            if not moved or moved == before:
                item.problem = f"moving the slider ({item.values[0]} -> {item.values[1]}) did not change the figure"
                continue
            handle.press(backward)
            back = self._wait_figure(page, slider, lambda f: f == before)
            item.values.append(handle.input_value())
            item.figures.append(back)
            if back != before:
                item.problem = "moving the slider back did not bring back the first figure"


@pytest.fixture(scope="module")
def site_browser(book_html: Path):
    pages = built_pages(book_html)
    executable = [p for p in CHECKED_PAGES if p in EXECUTABLE_PAGES and p in pages]
    chapter = next((p for p in executable if p != docname_to_page(toc_docnames()[0])), None)
    chapter = chapter or next((p for p in CHECKED_PAGES if p in pages and p.startswith("book/")), None)
    shutil.rmtree(SCREENSHOT_DIR, ignore_errors=True)  # only this session's screenshots
    with browser_context(book_html, VIEWPORT, RENDER_TIMEOUT_MS) as (server, context):
        yield SiteBrowser(book_html, server, context, chapter)


def _report(result: PageResult, problems: list[str]) -> str:
    head = f"{result.page} (shown as {result.final_url}, {result.seconds:.1f} s):"
    return head + "\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", CHECKED_PAGES)
def test_page_in_browser(page: str, book_html: Path, site_browser: SiteBrowser) -> None:
    if not (book_html / page).is_file():
        docname = page.removesuffix(".html")
        missing = "" if page in ("index.html", "genindex.html", "search.html") or source_file(docname) else (
            f" (no source file {docname}.md/.ipynb: the table of contents lists a page that does not exist)")
        pytest.fail(f"{page} was not built{missing}", pytrace=False)
    result = site_browser.visit(page)
    problems = result.problems(executable=page in EXECUTABLE_PAGES)
    assert not problems, _report(result, problems)


def test_every_built_page_is_checked(book_html: Path, site_browser: SiteBrowser) -> None:
    """Pages built but not in the table of contents (orphans) get the same checks."""
    others = [p for p in built_pages(book_html) if p not in CHECKED_PAGES]
    stale = stale_pages(book_html)
    if stale:
        warnings.warn(f"stale pages of earlier builds in {book_html} (not checked): {stale}", stacklevel=1)
    failures = []
    for page in others:
        result = site_browser.visit(page)
        problems = result.problems(executable=False)
        if problems:
            failures.append(_report(result, problems))
    assert not failures, "\n".join(failures)


def test_sliders_change_the_figure(book_html: Path, site_browser: SiteBrowser) -> None:
    """Every page with a static slider panel (plain HTML: a range input per slider, precomputed frames)
    switches its figure in the browser, without a kernel."""
    pages = slider_pages(book_html)
    assert pages, (
        "no page of the built site shows a static slider panel: the book's slider panels must be shown as "
        "static panels (static=True: precomputed frames, written as plain HTML by Panel.static_html)"
    )
    failures = []
    for page in pages:
        result = site_browser.visit(page)
        if not result.sliders:
            failures.append(f"{page}: its HTML has a slider panel, but no slider was shown "
                            f"(render problems: {result.render_problems or 'none'})")
        failures += [
            f"{page}: slider #{s.index} {s.label!r}: {s.problem} (values {s.values}, figures {s.figures})"
            for s in result.sliders
            if s.problem
        ]
    assert not failures, "\n".join(failures)
    shots = [shot for page in pages for shot in site_browser.visit(page).screenshots]
    assert shots, "no screenshot of a slider page was written"
    for shot in shots:
        assert (ROOT / shot).stat().st_size > 1000, f"empty screenshot {shot}"


def test_screenshots_written(site_browser: SiteBrowser) -> None:
    """A chapter's screenshot is written to _build/screenshots/ (the slider page's by the slider test)."""
    page = site_browser.chapter_page
    assert page, "no chapter page to take a screenshot of"
    result = site_browser.visit(page)
    assert result.screenshots, f"no screenshot written for {page}"
    for shot in result.screenshots:
        assert (ROOT / shot).stat().st_size > 1000, f"empty screenshot {shot}"


# --- launchability (no browser) -----------------------------------------------------------------


def _repo_parts() -> tuple[str, str, str]:
    repo = book_config().get("repository", {})
    match = re.match(r"https://github\.com/([^/]+)/([^/]+?)/?$", repo.get("url", ""))
    assert match, f"repository.url in _config.yml is not a GitHub repository: {repo.get('url')!r}"
    return match.group(1), match.group(2), str(repo.get("branch", "main"))


def _notebook_repo_path(docname: str) -> str:
    source = source_file(docname)
    assert source is not None, f"no source file for {docname}"
    return source.relative_to(ROOT).with_suffix(".ipynb").as_posix()


def _code_cells(nb) -> list[str]:
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("docname", executable_docnames())
def test_launch_links_point_at_notebooks(docname: str, book_html: Path) -> None:
    import nbformat

    config = book_config()
    launch = config.get("launch_buttons", {})
    org, repo, branch = _repo_parts()
    ui = {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")]
    nb_path = _notebook_repo_path(docname)
    page = docname_to_page(docname)
    if not (book_html / page).is_file():
        pytest.fail(f"{page} was not built", pytrace=False)
    hrefs = [a.get("href", "") for a in parse_page(book_html / page).anchors]

    binderhub = str(launch.get("binderhub_url", "")).rstrip("/")
    colab = str(launch.get("colab_url", "")).rstrip("/")
    assert binderhub and colab, "launch_buttons.binderhub_url and colab_url must be set in _config.yml"
    binder_links = [h for h in hrefs if h.startswith(binderhub + "/v2/")]
    colab_links = [h for h in hrefs if h.startswith(colab + "/")]
    expected_binder = f"{binderhub}/v2/gh/{org}/{repo}/{branch}?urlpath={ui}/{nb_path}"
    expected_colab = f"{colab}/github/{org}/{repo}/blob/{branch}/{nb_path}"
    assert binder_links == [expected_binder], f"{page}: Binder link {binder_links}, expected {expected_binder}"
    assert colab_links == [expected_colab], f"{page}: Colab link {colab_links}, expected {expected_colab}"

    # Thebe ("Live Code") starts its kernel on Binder from the same branch, in the page's folder.
    html = (book_html / page).read_text(encoding="utf-8")
    thebe = re.search(r'<script type="text/x-thebe-config">(.*?)</script>', html, re.DOTALL)
    assert thebe, f"{page}: no Thebe configuration"
    folder = posixpath.dirname(nb_path) or "."
    for expected in (f'repo: "{org}/{repo}"', f'ref: "{branch}"', f'path: "./{folder}"'):
        assert expected in thebe.group(1), f"{page}: Thebe configuration lacks {expected}:\n{thebe.group(1)}"

    # The notebook these links open: published on the launch branch from _build/launch/.
    launch_nb = book_html.parent / "launch" / nb_path
    assert launch_nb.is_file(), f"{launch_nb} was not written (the tflmini_book extension of _config.yml?)"
    nb = nbformat.read(launch_nb, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name"), f"{launch_nb}: no kernelspec"
    setup, *rest = nb.cells
    assert "colab-setup" in setup.metadata.get("tags", []) and "google.colab" in setup.source
    assert f"github.com/{org}/{repo}" in setup.source and f'"{branch}"' in setup.source
    # Colab has no myst-nb: the setup installs it for a page that glues (Binder: environment.yml).
    if any(re.search(r"^\s*(from|import)\s+myst_nb\b", c.source, re.MULTILINE) for c in rest):
        assert "myst-nb" in setup.source, f"{launch_nb}: the page imports myst_nb, the Colab setup must install it"
    # The download button gives the executed notebook of the page, as built.
    downloads = [a.get("href", "") for a in parse_page(book_html / page).anchors
                 if "btn-download-notebook-button" in a.get("class", "")]
    assert len(downloads) == 1 and downloads[0].endswith(".ipynb"), f"{page}: download buttons {downloads}"
    executed = nbformat.read((book_html / page).parent / downloads[0], as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code") or not _code_cells(executed), (
        f"{page}: the downloadable notebook has no outputs"
    )
    # Both come from the page's source as this build read it (the source may have changed since).
    assert [c.source.strip() for c in rest if c.cell_type == "code"] == _code_cells(executed), (
        f"{launch_nb} does not hold the code of {docname} (as in the executed notebook {downloads[0]})"
    )
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_deploy_workflow() -> None:
    path = ROOT / ".github" / "workflows" / "deploy.yml"
    assert path.is_file(), f"missing {path.relative_to(ROOT)}"
    workflow = load_yaml(path)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "main" in (triggers.get("push", {}) or {}).get("branches", []), "deploy on pushes to main"
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    uses = [str(step.get("uses", "")) for step in steps]
    runs = "\n".join(str(step.get("run", "")) for step in steps)

    def step_using(action: str) -> dict:
        found = [s for s in steps if str(s.get("uses", "")).startswith(action + "@")]
        assert found, f"{path.name}: no step uses {action}"
        return found[0]

    step_using("actions/checkout")
    assert str(step_using("actions/setup-python").get("with", {}).get("python-version")) == "3.11"
    step_using("actions/setup-node")
    assert re.search(r"^\s*make book\b", runs, re.MULTILINE), f"{path.name}: the site must be built with `make book`"
    assert step_using("actions/upload-pages-artifact").get("with", {}).get("path") == "_build/html"
    step_using("actions/deploy-pages")
    perms = {k: v for job in workflow["jobs"].values() for k, v in (job.get("permissions") or {}).items()}
    perms.update(workflow.get("permissions") or {})
    assert perms.get("pages") == "write" and perms.get("id-token") == "write", "deploy-pages needs pages/id-token: write"
    # The launch branch that Binder/Colab links point at gets the notebooks of _build/launch.
    _, _, branch = _repo_parts()
    env = {k: str(v) for scope in [workflow, *workflow["jobs"].values()] for k, v in (scope.get("env") or {}).items()}
    pushes = re.findall(r"git push\b.*", runs)
    assert "_build/launch" in runs and pushes, f"{path.name}: publish _build/launch to the launch branch"
    assert any(branch in p or ("$LAUNCH_BRANCH" in p and env.get("LAUNCH_BRANCH") == branch) for p in pushes), (
        f"{path.name}: the launch notebooks must be pushed to {branch!r} (repository.branch in _config.yml)"
    )
    assert uses.index(next(u for u in uses if u.startswith("actions/upload-pages-artifact@"))) > uses.index(
        next(u for u in uses if u.startswith("actions/setup-node@"))
    )
