"""The slider panels of the built website in Chromium (issue 18, items 4 and 6), no kernel:

* A static panel is plain HTML (``Panel.static_html``): a native range input per slider, its read-only readout
  and the default frame as an image, switched by ``_static/tflmini-panels.js``. A page of panels loads no
  widget manager (require.js, embed-amd.js) and no ipywidgets state: the panels appear as soon as the page
  is parsed. Every slider of every panel shows a distinct figure at each of its values, and works with the
  keyboard, the mouse and touch.

* ch07 has a width slider (N1 from 25 to the lazy limit, ``order_parameter_panel``) and a joint
  relatedness x coupling panel (``transfer_panel`` over rho and gamma); ch04 a width slider (the
  renormalization panel at fixed P, labelled by N1). Each switches its figure with the keyboard.
* The readout beside a slider is read-only text that follows the slider: nothing in a panel is editable,
  typing at the readout changes neither the readout nor the figure, and each readout goes with one figure.
* With JavaScript off every static panel shows its default frame as a plain image (``<noscript>``); with
  JavaScript on that image is absent (the reader never sees the frame twice).

Screenshots for review: ``_build/screenshots/width-*.png``. Run against an existing build with
``TFLMINI_SITE_HTML=/tmp/b/_build/html python -m pytest tests/test_site_panels.py``.
(``tests/test_site.py`` clears ``_build/screenshots/`` when its browser starts: run it first.)
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from site_utils import (
    IMAGE_DIGESTS_JS,
    PANEL_SELECTOR,
    READOUT_SELECTOR,
    ROOT,
    SLIDER_INPUT_SELECTOR,
    SLIDER_NAME_SELECTOR,
    SLIDER_SELECTOR,
    parse_page,
    served_chromium,
    slider_pages,
)

SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
RENDER_TIMEOUT_MS = 90_000
CH07 = "book/ch07_when_transfer_helps.html"
CH04 = "book/ch04_kernel_renormalization.html"

# Digests of the images shown (visible) in one output area: "the figure".
FIGURE_JS = """async (scope) => (await (""" + IMAGE_DIGESTS_JS + """)(scope)).join(',')"""


@pytest.fixture(scope="module")
def browser(book_html: Path):
    with served_chromium(book_html) as (server, chromium):
        yield server, chromium


def _open(browser, page_path: str, javascript: bool = True, **options):
    server, chromium = browser
    context = chromium.new_context(viewport=VIEWPORT, service_workers="block", java_script_enabled=javascript,
                                   **options)
    context.set_default_timeout(RENDER_TIMEOUT_MS)
    page = context.new_page()
    page.goto(server.url(page_path), wait_until="load")
    if javascript:
        page.wait_for_selector(SLIDER_SELECTOR, state="visible")
    return context, page


def _names(output) -> list[str]:
    return [t.strip() for t in output.locator(f"{SLIDER_SELECTOR} {SLIDER_NAME_SELECTOR}").all_inner_texts()]


def _panel(page, *labels: str):
    """The output area (.cell_output) of the one panel whose sliders carry exactly these labels."""
    outputs = page.locator(".cell_output").filter(has=page.locator(PANEL_SELECTOR))
    found = []
    for i in range(outputs.count()):
        out = outputs.nth(i)
        names = _names(out)
        if names == list(labels):
            found.append(out)
    assert len(found) == 1, f"expected one panel with sliders {labels}, found {len(found)}"
    return found[0]


def _figure(page, output) -> str:
    return page.evaluate(FIGURE_JS, output.element_handle())


def _readout(output, k: int) -> str:
    readout = output.locator(SLIDER_SELECTOR).nth(k).locator(READOUT_SELECTOR)
    assert readout.count() == 1 and readout.is_visible(), f"slider #{k} has no visible readout"
    return readout.inner_text().strip()


def _input(output, k: int):
    return output.locator(SLIDER_SELECTOR).nth(k).locator(SLIDER_INPUT_SELECTOR).first


def _changed(page, output, before: str) -> str:
    deadline = time.monotonic() + 10
    figure = _figure(page, output)
    while figure == before and time.monotonic() < deadline:
        page.wait_for_timeout(50)
        figure = _figure(page, output)
    return figure


def _step(page, output, k: int, key: str, before: str) -> str:
    _input(output, k).focus()
    page.keyboard.press(key)
    return _changed(page, output, before)


def _sweep(page, output, k: int, n_values: int) -> dict[str, str]:
    """Move slider ``k`` from its start to the right end and back to the left end: {readout: figure}, checking
    that every position shows one figure and one readout, and that they always go together."""
    seen: dict[str, str] = {}
    figure = _figure(page, output)
    assert figure, "no figure shown in the panel"
    seen[_readout(output, k)] = figure
    for key in ["ArrowRight"] * n_values + ["ArrowLeft"] * n_values:
        figure = _step(page, output, k, key, figure)
        readout = _readout(output, k)
        assert seen.setdefault(readout, figure) == figure, f"readout {readout} came with two different figures"
    return seen


def _shot(locator, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(SCREENSHOT_DIR / name))


@pytest.mark.parametrize("page_path, labels, n_values, shot", [
    (CH07, ["width N₁"], 8, "width-ch07-width-panel"),
    (CH07, ["relatedness ρ", "coupling γ"], 5, "width-ch07-rho-gamma-panel"),
    (CH04, ["width N1 (α = 200/N1)"], 8, "width-ch04-width-panel"),
])
def test_width_and_rho_gamma_panels_switch_frames(browser, page_path, labels, n_values, shot):
    context, page = _open(browser, page_path)
    try:
        output = _panel(page, *labels)
        output.scroll_into_view_if_needed()
        _shot(output, shot + ".png")
        for k in range(len(labels)):
            seen = _sweep(page, output, k, n_values)
            assert len(seen) == n_values, f"slider {labels[k]!r}: readouts {sorted(seen)}, expected {n_values} values"
            assert len(set(seen.values())) == n_values, f"slider {labels[k]!r}: the figures do not all differ"
        _step(page, output, 0, "End", _figure(page, output))
        _shot(output, shot + "-last.png")
        if "width" in labels[0]:
            last = _readout(output, 0)
            assert last in ("∞", "6400"), f"the width slider ends at {last}"
    finally:
        context.close()


def test_readout_is_read_only_and_agrees_with_the_figure(browser):
    """The slider's own readout was an editable field whose typed values were ignored (the slider and the
    figure stayed put): now nothing in a panel is editable, and typing there changes nothing."""
    context, page = _open(browser, CH07)
    try:
        output = _panel(page, "width N₁")
        output.scroll_into_view_if_needed()
        editable = "[contenteditable='true'], textarea, input:not([type=range])"
        assert output.locator(editable).count() == 0, "something in the panel can be typed into"
        before_readout, before_figure = _readout(output, 0), _figure(page, output)
        readout = output.locator(READOUT_SELECTOR).first
        readout.click()
        page.keyboard.type("1600")
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
        assert (_readout(output, 0), _figure(page, output)) == (before_readout, before_figure)
        figure = _step(page, output, 0, "ArrowRight", before_figure)
        assert figure != before_figure and _readout(output, 0) != before_readout  # the readout follows the slider
    finally:
        context.close()


def _panels(html_dir: Path, page_path: str) -> int:
    return parse_page(html_dir / page_path).panels


def test_without_javascript_each_panel_shows_its_default_frame(browser, book_html: Path):
    pages = slider_pages(book_html)
    assert CH07 in pages and CH04 in pages
    for page_path in pages:
        views = _panels(book_html, page_path)
        context, page = _open(browser, page_path, javascript=False)
        try:
            images = page.locator("figure.tflmini-panel-noscript img")
            assert images.count() == views, f"{page_path}: {views} panels, {images.count()} images without JavaScript"
            for i in range(images.count()):
                img = images.nth(i)
                img.scroll_into_view_if_needed()
                assert img.is_visible() and img.evaluate("i => i.complete && i.naturalWidth > 0"), \
                    f"{page_path}: the fallback image #{i} is not shown"
            if page_path == CH07:
                width = page.locator("figure.tflmini-panel-noscript").filter(has_text="width N₁")
                assert width.count() == 1
                _shot(width, "width-ch07-nojs-width-panel.png")
        finally:
            context.close()


def test_with_javascript_the_fallback_image_is_not_shown(browser):
    """With JavaScript on, <noscript> content is not part of the page: the reader sees each frame once."""
    context, page = _open(browser, CH07)
    try:
        page.wait_for_timeout(500)
        assert page.locator("figure.tflmini-panel-noscript").count() == 0
        output = _panel(page, "width N₁")
        assert len(_figure(page, output).split(",")) == 1, "the width panel shows more than one image"
        assert page.locator(f"{PANEL_SELECTOR}[hidden]").count() == 0, "a panel stayed hidden"
    finally:
        context.close()


def test_panel_pages_stay_small(book_html: Path):
    """Every frame is a PNG inside the page: the chapters with the most frames stay under a few megabytes."""
    for page_path in (CH07, CH04):
        size = (book_html / page_path).stat().st_size
        assert size < 6_000_000, f"{page_path} is {size / 1e6:.1f} MB"


def test_panel_pages_load_no_widget_manager(book_html: Path):
    """Static panels are plain HTML: their pages carry no ipywidgets view or state and load neither require.js
    nor the HTML manager (which made every panel wait seconds after the page had arrived); each panel holds
    its default frame as an image and its sliders as range inputs."""
    pages = slider_pages(book_html)
    assert CH07 in pages and CH04 in pages, f"pages with slider panels: {pages}"
    for page_path in pages:
        parsed = parse_page(book_html / page_path)
        assert parsed.widget_views == 0 and not parsed.widget_state.strip(), f"{page_path} embeds ipywidgets"
        scripts = [src.split("?")[0] for src in parsed.scripts]
        manager = [src for src in scripts if src.endswith(("embed-amd.js", "require.js"))]
        assert not manager, f"{page_path} loads the widget manager: {manager}"
        assert any(src.endswith("/tflmini-panels.js") for src in scripts), f"{page_path}: no tflmini-panels.js"
        text = (book_html / page_path).read_text(encoding="utf-8")
        assert text.count('class="tflmini-panel-frame" src="data:image/png;base64,') == parsed.panels


def test_every_slider_shows_a_distinct_figure_at_each_value(browser, book_html: Path):
    """Every slider of every static panel of the site, moved from its first to its last value with the
    keyboard, shows a different figure at each value (and its readout changes with it)."""
    settings, failures = 0, []
    for page_path in slider_pages(book_html):
        context, page = _open(browser, page_path)
        try:
            outputs = page.locator(".cell_output").filter(has=page.locator(PANEL_SELECTOR))
            for i in range(outputs.count()):
                output = outputs.nth(i)
                output.scroll_into_view_if_needed()
                for k, name in enumerate(_names(output)):
                    n_values = int(_input(output, k).get_attribute("max")) + 1
                    figure = _step(page, output, k, "Home", _figure(page, output))
                    seen = {_readout(output, k): figure}
                    for _ in range(n_values - 1):
                        figure = _step(page, output, k, "ArrowRight", figure)
                        seen.setdefault(_readout(output, k), figure)
                    settings += n_values
                    if len(seen) != n_values or len(set(seen.values())) != n_values:
                        failures.append(f"{page_path}: panel #{i}, slider {name!r}: {n_values} values, "
                                        f"{len(seen)} readouts, {len(set(seen.values()))} distinct figures")
        finally:
            context.close()
    print(f"{settings} slider settings checked")
    assert settings > 0 and not failures, "\n".join(failures)


def test_mouse_and_touch_move_the_width_slider(browser):
    """A click at the right end of the width slider's track shows the lazy limit; a tap (touch screen) at its
    left end the narrowest network."""
    for options, where, expected in (({}, "right", "∞"), ({"has_touch": True, "is_mobile": True}, "left", "25")):
        context, page = _open(browser, CH07, **options)
        try:
            output = _panel(page, "width N₁")
            output.scroll_into_view_if_needed()
            before = _figure(page, output)
            if _readout(output, 0) == expected:  # start from the other end
                before = _step(page, output, 0, "Home" if where == "right" else "End", before)
            track = _input(output, 0)
            box = track.bounding_box()
            x = box["x"] + (box["width"] - 2 if where == "right" else 2)
            y = box["y"] + box["height"] / 2
            if options:
                page.touchscreen.tap(x, y)
            else:
                page.mouse.click(x, y)
            assert _changed(page, output, before) != before, f"the figure did not change ({where}, {options})"
            assert _readout(output, 0) == expected
        finally:
            context.close()
