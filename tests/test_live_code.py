"""Live Code (launch menu > Live Code, Thebe) never hangs, and runs cells on a local Jupyter server.

* ``test_thebe_served_with_the_site``: every page loads thebe from the site (``_static/thebe``,
  vendored by ``make vendor``), never from a CDN, and has the Live Code helper (tflmini-live.js);
* ``test_live_code_without_a_kernel``: offline, on a site served without a Jupyter server, clicking
  Live Code shows within a few seconds what to do instead (make live, Binder/Colab, the download),
  and no request leaves 127.0.0.1 (screenshot ``_build/screenshots/live-code-no-kernel.png``);
* ``test_live_code_runs_on_a_local_server``: with the site and Jupyter server of ``make live``
  (``_ext/tflmini_live.py``), Live Code connects, a code cell runs, its output appears, and the
  kernel works in the page's folder as the build did (screenshot ``live-code-local-kernel.png``);
* ``test_make_live_target``: ``make live`` runs that server.

Set ``TFLMINI_SITE_HTML`` to check a site built elsewhere (``book_html`` in tests/conftest.py).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from pathlib import Path

import pytest
from site_utils import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SiteServer,
    built_pages,
    chromium_problem,
    docname_to_page,
    executable_docnames,
    is_local_url,
)

SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
MESSAGE_WITHIN_S = 5.0  # the message must show this fast without a kernel
KERNEL_WITHIN_MS = 60_000  # local server: kernel ready and the cell's output shown
THEBE_URL_RE = re.compile(r'const THEBE_JS_URL = "([^"]*)"')
STATE_JS = "() => document.documentElement.getAttribute('data-tflmini-live')"

sys.path.insert(0, str(ROOT / "_ext"))


@pytest.fixture(scope="module")
def site(book_html) -> Path:
    return book_html


def smallest_executable_page(site: Path) -> str:
    """The executable page with the fewest code cells (quickest for thebe to take over)."""
    pages = [docname_to_page(d) for d in executable_docnames() if (site / docname_to_page(d)).is_file()]
    assert pages, "no executable page was built"
    cells = {p: (site / p).read_text(encoding="utf-8").count('class="cell docutils container"') for p in pages}
    return min((p for p in pages if cells[p]), key=lambda p: cells[p])


def open_live_code(page) -> float:
    """Click rocket menu > Live Code; returns the time of the click (perf_counter)."""
    page.locator(".dropdown-launch-buttons button").first.click()
    start = time.perf_counter()
    page.locator(".btn-launch-thebe").first.click()
    return start


def _browser(pw):
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def _need_chromium() -> None:
    problem = chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


def test_thebe_served_with_the_site(site: Path) -> None:
    problems = []
    for page in built_pages(site):
        html = (site / page).read_text(encoding="utf-8")
        urls = THEBE_URL_RE.findall(html)
        if not urls:
            continue
        for url in urls:
            target = (site / page).parent / url
            if "://" in url or url.startswith("//"):
                problems.append(f"{page}: thebe from another host: {url}")
            elif not target.resolve().is_file() or target.resolve().parent != (site / "_static" / "thebe").resolve():
                problems.append(f"{page}: THEBE_JS_URL {url} is not the site's _static/thebe/index.js")
        if "tflmini-live.js" not in html:
            problems.append(f"{page}: no tflmini-live.js (Live Code would hang without a kernel)")
    assert not problems, "\n".join(problems)
    assert (site / "_static" / "thebe" / "thebe.css").is_file()
    assert (site / "tflmini-live.json").read_text().strip() == "{}", "the site's default: no local server"


def test_live_code_without_a_kernel(site: Path) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    page_path = smallest_executable_page(site)
    external: list[str] = []
    with SiteServer(site) as server, sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block").new_page()
            page.on("request", lambda r: None if is_local_url(r.url) else external.append(r.url))
            page.goto(server.url(page_path), wait_until="load")
            start = open_live_code(page)
            help_box = page.locator(".tflmini-live-help")
            help_box.wait_for(state="visible", timeout=MESSAGE_WITHIN_S * 1000)
            elapsed = time.perf_counter() - start
            text = help_box.inner_text()
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOT_DIR / "live-code-no-kernel.png"
            help_box.scroll_into_view_if_needed()
            page.screenshot(path=str(shot))
            page.wait_for_timeout(1000)  # nothing else is attempted behind the reader's back
            state = page.evaluate(STATE_JS)
        finally:
            browser.close()
    print(f"Live Code message after {elapsed:.2f} s on {page_path}")
    assert elapsed < MESSAGE_WITHIN_S
    assert state == "help"
    for expected in ("no Jupyter server reachable", "make live", "Binder", "Colab", "notebook"):
        assert expected in text, f"the message lacks {expected!r}:\n{text}"
    assert not external, f"requests to other hosts: {external}"
    assert shot.stat().st_size > 1000


def test_live_code_runs_on_a_local_server(site: Path) -> None:
    _need_chromium()
    if importlib.util.find_spec("jupyter_server") is None:
        pytest.fail("jupyter_server is missing (requirements/test.txt; run `make test`)", pytrace=False)
    from playwright.sync_api import sync_playwright
    from tflmini_live import LiveSite

    page_path = smallest_executable_page(site)
    external: list[str] = []
    errors: list[str] = []
    log_path = ROOT / "_build" / "live-code-jupyter.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    code = 'import os\nprint("live", 6 * 7, os.path.basename(os.getcwd()))'
    with open(log_path, "w") as log, LiveSite(site, ROOT, log=log) as live, sync_playwright() as pw:
        live.wait_ready(timeout=KERNEL_WITHIN_MS / 1000)
        browser = _browser(pw)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block").new_page()
            page.on("request", lambda r: None if is_local_url(r.url) else external.append(r.url))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live.base + page_path, wait_until="load")
            open_live_code(page)
            page.wait_for_function(f"() => ['ready', 'help'].includes(({STATE_JS})())", timeout=KERNEL_WITHIN_MS)
            state = page.evaluate(STATE_JS)
            help_text = page.locator(".tflmini-live-help").inner_text() if state == "help" else ""
            assert state == "ready", f"no kernel from the local server: {help_text} (see {log_path})"
            cell = page.locator(".thebe-cell").first
            cell.locator(".CodeMirror").wait_for(timeout=KERNEL_WITHIN_MS)
            cell.evaluate("(c, code) => c.querySelector('.CodeMirror').CodeMirror.setValue(code)", code)
            cell.locator(".thebe-run-button").click()
            # sphinx-thebe's code cell (div.cell): thebe's editor, then the output area.
            container = cell.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' cell ')][1]")
            page.wait_for_function(
                "(el) => /live 42 /.test(el.innerText)", arg=container.element_handle(), timeout=KERNEL_WITHIN_MS)
            output = container.inner_text()
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            cell.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOT_DIR / "live-code-local-kernel.png"))
        finally:
            browser.close()
    folder = Path(page_path).parent.name
    assert f"live 42 {folder}" in output, f"the cell's output: {output!r} (expected 'live 42 {folder}')"
    assert not external, f"requests to other hosts: {external}"
    assert not errors, f"page errors: {errors}"


def test_make_live_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(r"^live:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert rule, "Makefile: no `live` target"
    assert "_ext/tflmini_live.py" in rule.group(1), "make live must run _ext/tflmini_live.py"
    assert re.search(r"^THEBE_VERSION :=", makefile, re.MULTILINE) and "sha512sum --check" in makefile
