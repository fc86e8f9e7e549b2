"""Legibility of the book's figures (issue 18, item 5): every text of every figure at least
``MIN_TEXT_PX`` (9) CSS pixels high on screen at the desktop layout (1280 px viewport).

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
    SMALLEST_TEXT_KEY,
    browser_context,
    built_pages,
    chromium_problem,
    docname_to_page,
    executable_docnames,
    figure_texts,
)

from tflmini.plots.style import BOOK_FIGURE_WIDTH, COLUMN_PX, MIN_TEXT_PX, figure_png, legibility_metadata

DESKTOP = {"width": 1280, "height": 900}
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
def desktop(book_html: Path):
    problem = chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    with browser_context(book_html, DESKTOP) as (server, context):
        yield book_html, server, context


@pytest.mark.parametrize("page", PAGES)
def test_figure_text_legible_at_desktop(desktop, page):
    html_dir, server, context = desktop
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
    assert not problems, (f"{page} (content column {column:.0f} px at a {DESKTOP['width']} px viewport): "
                          f"figure text below {MIN_TEXT_PX:g} px on screen; draw the figure narrower "
                          f"(at most {BOOK_FIGURE_WIDTH} in with 'small' text) or its text larger:\n  "
                          + "\n  ".join(problems))
