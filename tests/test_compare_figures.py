"""scripts/compare_figures.py, the before/after check of a refactoring: equal pixels compare equal whatever
their PNG encoding, one changed pixel in a cell image or a slider frame is found."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

spec = importlib.util.spec_from_file_location("compare_figures",
                                              Path(__file__).resolve().parents[1] / "scripts" / "compare_figures.py")
compare_figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_figures)


def _png(pixels, mode="RGB", level=6):
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, format="png", compress_level=level)
    return buf.getvalue()


def _site(root, cell_png, frame_png):
    (root / "_images").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "_images" / "fig.png").write_bytes(cell_png)
    state = {"state": {"m1": {"model_name": "ImageModel", "buffers": [
        {"path": ["value"], "encoding": "base64", "data": base64.b64encode(frame_png).decode()}]}}}
    (root / "book" / "page.html").write_text(
        '<img alt="" src="../_images/fig.png" />'
        f'<script type="application/vnd.jupyter.widget-state+json">{json.dumps(state)}</script>')
    return root


def test_same_pixels_in_another_encoding_compare_equal(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    a = _site(tmp_path / "a", _png(pixels), _png(pixels[::-1]))
    b = _site(tmp_path / "b", _png(pixels, "RGBA", 1), _png(pixels[::-1], "RGBA", 9))
    rows = compare_figures.compare(a, b)
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [("cells", 1, 1, 0), ("frames", 1, 1, 0)]
    assert compare_figures.main([str(a), str(b)]) == 0


def test_one_changed_pixel_is_found(tmp_path):
    pixels = np.zeros((20, 30, 3), dtype=np.uint8)
    changed = pixels.copy()
    changed[3, 4, 1] = 1
    a = _site(tmp_path / "a", _png(pixels), _png(pixels))
    b = _site(tmp_path / "b", _png(pixels), _png(changed))
    rows = {r[1]: r[4] for r in compare_figures.compare(a, b)}
    assert rows == {"cells": 0, "frames": 2}
    assert compare_figures.main([str(a), str(b)]) == 1


def test_frames_of_the_plain_html_panels_are_read(tmp_path):
    """A static panel's web view (Panel.static_html) carries its frames as data URIs in a JSON script: each is
    counted, and a widget-state build of the same pixels compares equal to it."""
    from tflmini.widgets.panel import Panel

    def draw(fig, a):
        fig.add_subplot().plot([0, 1], [0, a])

    panel = Panel(draw, {"a": ("a", (1.0, 2.0, 3.0))}, {"a": 1.0}, static={"a": [1.0, 2.0, 3.0]}, figsize=(3, 2))
    root = tmp_path / "html"
    (root / "book").mkdir(parents=True)
    (root / "book" / "page.html").write_text(panel.static_html())
    figures = compare_figures.page_figures(root / "book" / "page.html")
    assert sum(figures["frames"].values()) == 3 and len(figures["frames"]) == 3
    old = tmp_path / "old"
    (old / "book").mkdir(parents=True)
    models = {f"m{i}": {"model_name": "ImageModel", "buffers": [
        {"path": ["value"], "encoding": "base64", "data": base64.b64encode(panel.frame(a=a)).decode()}]}
        for i, a in enumerate((1.0, 2.0, 3.0))}
    state = {"state": models}
    (old / "book" / "page.html").write_text(
        f'<script type="application/vnd.jupyter.widget-state+json">{json.dumps(state)}</script>')
    assert compare_figures.page_figures(old / "book" / "page.html")["frames"] == figures["frames"]
