"""Legibility of the book's figures (issue 18, item 5): every text of every figure at least
``MIN_TEXT_PX`` (9) CSS pixels high on screen at the desktop layout (1280 px viewport) and on a phone
(390 px viewport).

On a phone the content column is about 350 px: a figure scaled down to it would carry 5 px text. Below a
breakpoint (book/_static/tflmini.css) figures are shown at the width they get on a desktop (at most
``COLUMN_PX``, never wider than drawn) inside a box that scrolls sideways; the slider panels' frames at their
natural size. The phone tests check the same text size as on the desktop, that every such box fits the
screen, and that each panel frame is shown at its natural size (its text is held to 9 px there by
tests/test_widgets_panel.py).

A figure is drawn ``drawn_px`` wide (its PNG) and shown ``shown_px`` wide (the browser scales it down to the
content column); a text of ``s`` PNG pixels is then ``s * shown_px / drawn_px`` pixels high on screen. The
smallest text of a figure cannot be read from the PNG: each page's setup cell runs
``tflmini.plots.style.use_book_style()``, which records it (font size in points * dpi / 72) in a text chunk of
every figure's PNG (``tflmini:smallest-text-px``). The test reads it from the built site's ``_images/`` and
measures ``shown_px`` in Chromium. A Matplotlib figure without that record (a page whose setup cell does not
run ``use_book_style``) fails too.

Run it on an existing build: ``TFLMINI_SITE_HTML=/tmp/b/_build/html pytest tests/test_figure_legibility.py``.
The slider panels' frames (``tflmini/widgets``) are encoded without the record and are not checked here.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from site_utils import (
    ROOT,
    SMALLEST_TEXT_KEY,
    built_pages,
    chromium_problem,
    docname_to_page,
    executable_docnames,
    figure_texts,
    served_chromium,
    slider_pages,
)

from tflmini.plots.style import BOOK_FIGURE_WIDTH, COLUMN_PX, MIN_TEXT_PX, figure_png, legibility_metadata

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
PAGES = [docname_to_page(d) for d in executable_docnames()]


# --- the record in the PNG (no build needed) ----------------------------------------------------


def test_metadata_records_the_smallest_text():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from PIL import Image

    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.subplots()
    ax.plot([1, 2], [3, 4], label="a line")
    ax.legend(fontsize=7.5)
    ax.set_xlabel("x", fontsize=12)
    meta = legibility_metadata(fig)
    assert float(meta["tflmini:smallest-text-pt"]) == pytest.approx(7.5)
    assert float(meta[SMALLEST_TEXT_KEY]) == pytest.approx(7.5 * 100 / 72, rel=1e-3)
    with Image.open(io.BytesIO(figure_png(fig, dpi=80))) as im:  # the dpi of the PNG, not of the figure
        assert float(im.text[SMALLEST_TEXT_KEY]) == pytest.approx(7.5 * 80 / 72, rel=1e-3)


def test_book_figure_width_keeps_small_text_legible():
    """A figure BOOK_FIGURE_WIDTH inches wide with "small" text (8.33 pt at the default 10 pt) shown in the
    content column keeps that text at MIN_TEXT_PX or more (whatever its dpi)."""
    assert 8.33 / 72 * COLUMN_PX / BOOK_FIGURE_WIDTH >= MIN_TEXT_PX


# --- the built site -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(book_html: Path):
    problem = chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    with served_chromium(book_html) as (server, chromium):
        yield book_html, server, chromium


def _context(browser, viewport: dict, **options):
    html_dir, server, chromium = browser
    context = chromium.new_context(viewport=viewport, service_workers="block", **options)
    context.set_default_timeout(30_000)
    return html_dir, server, context


@pytest.fixture(scope="module")
def desktop(browser):
    html_dir, server, context = _context(browser, DESKTOP)
    yield html_dir, server, context
    context.close()


@pytest.fixture(scope="module")
def phone(browser):
    html_dir, server, context = _context(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    yield html_dir, server, context
    context.close()


def _check_texts(browser_setup, page, viewport):
    html_dir, server, context = browser_setup
    if page not in built_pages(html_dir):
        pytest.fail(f"{page} is not in the build", pytrace=False)
    column, figures = figure_texts(context, server, html_dir, page)
    problems = []
    for f in figures:
        where = f"{f.src} ({f.drawn_px} px drawn, {f.shown_px:.0f} px shown)"
        if f.smallest_png_px is None:
            if "Matplotlib" in f.metadata.get("Software", ""):
                problems.append(f"{where}: no {SMALLEST_TEXT_KEY} record (does the setup cell run use_book_style()?)")
            continue
        if f.shown_px <= 0:
            problems.append(f"{where}: not shown")
        elif f.smallest_screen_px < MIN_TEXT_PX:
            problems.append(f"{where}: smallest text {f.smallest_png_px:.1f} px in the PNG, "
                            f"{f.smallest_screen_px:.1f} px on screen (< {MIN_TEXT_PX:g})")
    assert not problems, (f"{page} (content column {column:.0f} px at a {viewport['width']} px viewport): "
                          f"figure text below {MIN_TEXT_PX:g} px on screen; draw the figure narrower "
                          f"(at most {BOOK_FIGURE_WIDTH} in with 'small' text) or its text larger:\n  "
                          + "\n  ".join(problems))


@pytest.mark.parametrize("page", PAGES)
def test_figure_text_legible_at_desktop(desktop, page):
    _check_texts(desktop, page, DESKTOP)


@pytest.mark.parametrize("page", PAGES)
def test_figure_text_legible_on_a_phone(phone, page):
    """At 390 px a figure scaled to the column had text of about 5 px: it is shown at its desktop width."""
    _check_texts(phone, page, PHONE)


# Every figure's image (book figures of _images/, panel frames) on a phone: its width shown and drawn, and the
# box that holds it (the nearest ancestor that may scroll sideways, else its parent) against the screen.
_PHONE_FIGURES_JS = """async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const imgs = [...document.querySelectorAll('img')].filter(
      i => (i.getAttribute('src') || '').includes('_images/') || i.classList.contains('tflmini-panel-frame'));
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const box = img => {
    for (let el = img.parentElement; el && el !== document.body; el = el.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) { return el; }
    }
    return img.parentElement;
  };
  return imgs.filter(i => i.getClientRects().length > 0).map(img => {
    const b = box(img), r = b.getBoundingClientRect();
    return {src: (img.getAttribute('src') || '').slice(0, 60), panel: img.classList.contains('tflmini-panel-frame'),
            shown: img.getBoundingClientRect().width, natural: img.naturalWidth,
            box_left: r.left, box_right: r.right, scrolls: b.scrollWidth > b.clientWidth + 1,
            box_scrollable: ['auto', 'scroll'].includes(getComputedStyle(b).overflowX)};
  });
}"""


@pytest.mark.parametrize("page", PAGES)
def test_phone_figures_scroll_inside_the_screen(phone, page):
    """On a phone a figure wider than the screen scrolls sideways inside its own box, which fits the screen;
    a panel frame is shown at its natural size."""
    html_dir, server, context = phone
    if page not in built_pages(html_dir):
        pytest.fail(f"{page} is not in the build", pytrace=False)
    tab = context.new_page()
    try:
        tab.goto(server.url(page), wait_until="load")
        if page in slider_pages(html_dir):
            tab.wait_for_selector(".tflmini-panel-frame", state="visible")
        figures = tab.evaluate(_PHONE_FIGURES_JS)
        if page == "book/ch07_when_transfer_helps.html":
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT_DIR / "phone-ch07.png"))
            width_panel = tab.locator(".cell_output").filter(has=tab.locator(".tflmini-panel")).filter(
                has_text="width N₁")
            if width_panel.count():
                width_panel.first.scroll_into_view_if_needed()
                tab.screenshot(path=str(SCREENSHOT_DIR / "phone-ch07-width-panel.png"))
            figure = tab.locator("figure").filter(has=tab.locator('img[src*="_images/"]'))
            if figure.count():
                figure.first.scroll_into_view_if_needed()
                tab.screenshot(path=str(SCREENSHOT_DIR / "phone-ch07-figure.png"))
    finally:
        tab.close()
    problems = []
    for f in figures:
        where = f"{f['src']}... ({f['natural']} px drawn, {f['shown']:.0f} px shown)"
        if f["panel"] and f["shown"] < f["natural"] - 0.5:
            problems.append(f"{where}: a panel frame scaled down")
        if f["box_left"] < -0.5 or f["box_right"] > PHONE["width"] + 0.5:
            problems.append(f"{where}: its box [{f['box_left']:.0f}, {f['box_right']:.0f}] leaves the screen")
        if f["shown"] > f["box_right"] - f["box_left"] + 0.5 and not f["box_scrollable"]:
            problems.append(f"{where}: wider than its box, which does not scroll")
    assert not problems, f"{page} at {PHONE['width']} px:\n  " + "\n  ".join(problems)
