"""The panel engine (tflmini.widgets.panel): live redraws with selection and logarithmic sliders, static
frames in nested Stacks jslinked to their sliders and as plain HTML for the website, the three layouts, errors shown instead of raised, and
the one ``static`` convention shared by every panel function."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
from ipywidgets.widgets.widget_link import Link

from tflmini.widgets.panel import LogRange, Panel, reuse_axes, static_grid

PNG = b"\x89PNG\r\n\x1a\n"


def line(fig, a, b=1.0):
    ax = fig.subplots()
    ax.plot([0.0, 1.0], [0.0, a * b])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return {"a": a, "b": b}


CONTROLS = {"a": ("slope a", (1.0, 2.0, 3.0)), "b": ("factor b", LogRange(0.1, 10.0))}


def test_live_panel_draws_and_follows_its_sliders():
    panel = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, figsize=(3, 2))
    assert isinstance(panel.sliders["a"], widgets.SelectionSlider)
    assert isinstance(panel.sliders["b"], widgets.FloatLogSlider)
    assert all(s in panel.children[0].children for s in panel.sliders.values())
    assert bytes(panel.image.value).startswith(PNG) and panel.last_data == {"a": 2.0, "b": 1.0}
    n = len(panel.render_seconds)
    panel.sliders["a"].value = 3.0  # a user's move: exactly one redraw
    assert len(panel.render_seconds) == n + 1 and panel.last_data["a"] == 3.0
    assert panel.update(a=1.0, b=5.0) is panel  # several parameters, one redraw, the sliders follow
    png = panel.png
    assert len(panel.render_seconds) == n + 2
    assert panel.sliders["a"].value == 1.0 and panel.sliders["b"].value == pytest.approx(5.0)
    assert bytes(panel.image.value) == png and panel.values == {"a": 1.0, "b": 5.0}


def test_values_snap_to_the_slider():
    panel = Panel(line, CONTROLS, {"a": 2.2, "b": 1e3}, figsize=(3, 2))
    assert panel.values == {"a": 2.0, "b": 10.0}  # nearest option; clipped to the logarithmic range
    panel.update(a=np.inf)
    assert panel.values["a"] == 3.0


def test_revisits_are_served_from_the_cache():
    panel = Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, figsize=(3, 2))
    first = panel.update(a=2.0).png
    n = len(panel.render_seconds)
    panel.update(a=1.0)  # the initial drawing, also cached
    assert panel.update(a=2.0).png == first and len(panel.render_seconds) == n
    panel.update(a=3.0)
    assert len(panel.render_seconds) == n + 1


def test_a_failing_drawing_is_shown_not_raised():
    def draw(fig, a):
        if a > 2:
            raise RuntimeError("no saddle point")
        return line(fig, a)

    panel = Panel(draw, {"a": ("a", (1.0, 3.0))}, {"a": 1.0}, figsize=(3, 2))
    png = panel.update(a=3.0).png
    assert "no saddle point" in panel.last_error and panel.last_data is None and png.startswith(PNG)
    assert any("no saddle point" in t.get_text() for t in panel.figure.texts)
    panel.update(a=1.0)
    assert panel.last_error is None


def test_unknown_parameters_and_values_are_refused():
    panel = Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, figsize=(3, 2))
    with pytest.raises(ValueError, match="unknown parameter"):
        panel.update(c=1.0)
    names = {"task": ("task", ("close", "weak"))}
    with pytest.raises(ValueError, match="not among the slider values"):
        Panel(lambda fig, task: line(fig, 1.0), names, {"task": "far"}, figsize=(3, 2))
    with pytest.raises(ValueError, match="no initial value"):
        Panel(line, CONTROLS, {"a": 1.0}, figsize=(3, 2))
    with pytest.raises(ValueError, match="layout"):
        Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, figsize=(3, 2), layout="tight")
    with pytest.raises(ValueError, match="0 < lo < hi"):
        LogRange(1.0, 0.1)


def test_static_panel_with_two_sliders_is_nested_linked_stacks():
    panel = Panel(line, CONTROLS, {"a": 3.0, "b": 1.0}, static={"a": [1.0, 2.0, 3.0], "b": [0.5, 5.0]},
                  figsize=(3, 2))
    assert panel.image is None and panel.grid == {"a": (1.0, 2.0, 3.0), "b": (0.5, 5.0)}
    assert set(panel.frames) == {(a, b) for a in (1.0, 2.0, 3.0) for b in (0.5, 5.0)}
    assert len({bytes(p) for p in panel.frames.values()}) == 6, "every frame differs"
    assert all(isinstance(s, widgets.SelectionSlider) and s.continuous_update for s in panel.sliders.values())
    outer = panel.stack  # the first slider outermost, one inner Stack per value
    assert isinstance(outer, widgets.Stack) and len(outer.children) == 3
    ends = {(id(link.source[0]), link.source[1], id(link.target[0]), link.target[1]) for link in panel.links}
    assert all(isinstance(link, Link) and link._model_name == "LinkModel" for link in panel.links)
    assert (id(panel.sliders["a"]), "index", id(outer), "selected_index") in ends
    for i, inner in enumerate(outer.children):
        assert (id(panel.sliders["b"]), "index", id(inner), "selected_index") in ends
        for j, image in enumerate(inner.children):
            assert bytes(image.value) == panel.frame(a=panel.grid["a"][i], b=panel.grid["b"][j])
    assert len(panel.links) == 1 + 3
    assert outer.selected_index == panel.sliders["a"].index == 2  # starts at the initial value


def test_static_panel_with_one_slider():
    panel = Panel(line, CONTROLS, {"a": 1.0, "b": 2.0}, static={"b": [0.5, 2.0, 8.0]}, figsize=(3, 2))
    assert list(panel.sliders) == ["b"] and len(panel.stack.children) == 3
    assert all(isinstance(c, widgets.Image) for c in panel.stack.children)
    assert panel.stack.selected_index == panel.sliders["b"].index == 1
    assert [(link.source, link.target) for link in panel.links] == [((panel.sliders["b"], "index"),
                                                                      (panel.stack, "selected_index"))]


def test_static_mode_rejects_bad_grids():
    with pytest.raises(ValueError, match="one or two sliders"):
        Panel(line, {**CONTROLS, "c": ("c", (1.0,))}, {"a": 1.0, "b": 1.0, "c": 1.0},
              static={"a": [1.0], "b": [1.0], "c": [1.0]}, figsize=(3, 2))
    with pytest.raises(ValueError, match="unknown slider"):
        Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, static={"width": [1]}, figsize=(3, 2))
    with pytest.raises(ValueError, match="no values"):
        Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, static={"a": []}, figsize=(3, 2))
    with pytest.raises(ValueError, match="must lie in"):
        Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, static={"b": [0.01, 1.0]}, figsize=(3, 2))
    with pytest.raises(ValueError, match="must lie in"):
        Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, static={"b": [np.nan]}, figsize=(3, 2))
    with pytest.raises(ValueError, match="print alike"):
        Panel(line, CONTROLS, {"a": 1.0, "b": 1.0}, static={"b": [1.0, 1.0000001]}, figsize=(3, 2))


@pytest.mark.parametrize("layout", ["frozen", "constrained", {"left": 0.2, "bottom": 0.2}])
def test_every_layout_draws_the_same_data(layout):
    def draw(fig, a):
        if isinstance(layout, dict):
            (ax,) = reuse_axes(fig, 1)
            ax.plot([0.0, 1.0], [0.0, a])
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            return {"a": a}
        return line(fig, a)

    panel = Panel(draw, {"a": ("a", (1.0, 2.0))}, {"a": 1.0}, figsize=(3, 2), layout=layout)
    first = panel.figure.axes[0].get_position().bounds
    panel.update(a=2.0)
    assert len(panel.figure.axes) == 1 and panel.figure.axes[0].lines[0].get_ydata()[1] == 2.0
    if layout != "constrained":
        assert panel.figure.axes[0].get_position().bounds == pytest.approx(first)  # the axes do not jump


def test_static_grid_is_the_one_static_convention():
    default = {"a": (1.0, 2.0)}
    assert static_grid(None, default) is None and static_grid(False, default) is None
    assert static_grid(True, default) == default
    assert static_grid({"b": [1, 2]}, default) == {"b": (1, 2)}
    with pytest.raises(TypeError, match="static"):
        static_grid("yes", default)


# -- the read-only readout and the no-JavaScript fallback (issue 18) ----------------------------------

def test_selection_slider_readout_is_a_read_only_label_linked_to_the_slider():
    """The slider's own readout (an editable field whose typed values a SelectionSlider ignores) is off; a Stack of
    Labels, one per value, shows the value, switched by a browser-side link to the slider's index."""
    panel = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, static={"a": [1.0, 2.0, 3.0]}, figsize=(3, 2))
    slider = panel.sliders["a"]
    assert slider.readout is False
    readout, link = panel.readouts["a"]
    assert isinstance(readout, widgets.Stack) and all(isinstance(c, widgets.Label) for c in readout.children)
    assert [c.value for c in readout.children] == [label for label, _ in slider.options]
    assert readout.selected_index == slider.index == 1
    assert isinstance(link, Link) and link.source == (slider, "index") and link.target == (readout, "selected_index")
    box = panel.children[0].children
    assert box.index(readout) == box.index(slider) + 1  # beside its slider
    assert link not in panel.links  # panel.links: the frame switching only
    live = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, figsize=(3, 2))
    assert live.sliders["a"].readout is False and "a" in live.readouts
    assert "b" not in live.readouts  # a logarithmic slider's readout is a working field in live mode


def test_slider_values_can_be_written_by_the_control():
    controls = {"a": ("width", (1.0, 2.0, 4.0), lambda a: f"{8 / a:g}"), "b": CONTROLS["b"]}
    panel = Panel(line, controls, {"a": 2.0, "b": 1.0}, static={"a": [4.0, 2.0, 1.0]}, figsize=(3, 2))
    assert [label for label, _ in panel.sliders["a"].options] == ["2", "4", "8"]
    assert [c.value for c in panel.readouts["a"][0].children] == ["2", "4", "8"]


def test_static_panel_shows_its_default_frame_without_javascript(monkeypatch):
    """With JavaScript off a widget view never renders: a static panel's display adds its default frame as a
    plain image in <noscript> (a second output: myst-nb renders only the widget view of a widget's output)."""
    import base64
    import re

    import IPython.display

    panel = Panel(line, CONTROLS, {"a": 2.0, "b": 5.0}, static={"a": [1.0, 2.0, 3.0], "b": [0.5, 5.0]},
                  figsize=(3, 2))
    fallback = panel.noscript_html()
    assert fallback.startswith("<noscript>") and fallback.endswith("</noscript>")
    src = re.search(r'<img src="data:image/png;base64,([^"]+)"', fallback).group(1)
    assert base64.b64decode(src) == panel.frame(a=2.0, b=5.0) == panel.frame()
    assert "slope a = 2" in fallback and "factor b = 5" in fallback
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    panel._ipython_display_()
    (bundle, kw), (extra, _) = shown
    assert kw == {"raw": True} and "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id
    assert isinstance(extra, IPython.display.HTML) and extra.data == fallback
    live = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, figsize=(3, 2))
    assert live.noscript_html() is None
    shown.clear()
    live._ipython_display_()
    assert len(shown) == 1  # a live panel needs a kernel anyway: the widget only


def test_static_panel_is_also_plain_html_for_the_website():
    """A static panel's first output carries, beside the widget view (Jupyter, Binder, Colab), the panel as
    plain HTML (the website: no widget manager): every frame in slider order, the default one as the image,
    a range input per slider at its default index with the value texts, a read-only readout, hidden until an
    inline script shows it (with JavaScript off only the <noscript> fallback is seen)."""
    import base64
    import html
    import json
    import re

    controls = {"a": ("slope <a>", (1.0, 2.0, 3.0)), "b": CONTROLS["b"]}
    panel = Panel(line, controls, {"a": 2.0, "b": 5.0}, static={"a": [1.0, 2.0, 3.0], "b": [0.5, 5.0]},
                  figsize=(3, 2))
    page = panel.static_html()
    bundle = panel._repr_mimebundle_()
    assert bundle["text/html"] == page and "application/vnd.jupyter.widget-view+json" in bundle
    assert page.startswith('<div class="tflmini-panel" hidden>')
    assert page.endswith("(document.currentScript.previousElementSibling);</script>")
    assert "panel.hidden = false" in page.rsplit("<script>", 1)[1]
    data = json.loads(re.search(r'<script type="application/json" class="tflmini-panel-frames">(.*?)</script>',
                                page).group(1))
    assert data["shape"] == [3, 2]
    combos = [(a, b) for a in (1.0, 2.0, 3.0) for b in (0.5, 5.0)]  # first slider outermost
    assert [base64.b64decode(f.split(",", 1)[1]) for f in data["frames"]] == [panel.frame(a=a, b=b) for a, b in combos]
    default = re.search(r'<img class="tflmini-panel-frame" src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(default) == panel.frame()
    inputs = re.findall(r'<input type="range" min="0" max="(\d+)" step="1" value="(\d+)" aria-valuetext="([^"]*)" '
                        r'data-labels="([^"]*)">', page)
    assert [(m, v, t) for m, v, t, _ in inputs] == [("2", "1", "2"), ("1", "1", "5")]
    assert [json.loads(html.unescape(labels)) for *_, labels in inputs] == [["1", "2", "3"], ["0.5", "5"]]
    assert re.findall(r'<output class="tflmini-readout"[^>]*>([^<]*)</output>', page) == ["2", "5"]
    assert "slope &lt;a&gt;" in page and "slope <a>" not in page  # labels are escaped
    live = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, figsize=(3, 2))
    assert live.static_html() is None and "text/html" not in live._repr_mimebundle_()


def test_renormalization_panel_has_a_width_slider():
    """Chapter 4's width view: frames at widths N1 (alpha = P/N1 at fixed P), the slider labelled by N1."""
    from tflmini.widgets import renormalization_panel

    panel = renormalization_panel(n_train=40, validation=None, static={"n_hidden": [20, 40, 80]}, dpi=40)
    assert panel.grid == {"alpha": (2.0, 1.0, 0.5)}
    slider = panel.sliders["alpha"]
    assert "N1" in slider.description and [label for label, _ in slider.options] == ["20", "40", "80"]
    assert slider.label == "40" and panel.last_error is None  # the initial width P/alpha with alpha = 1
    assert len({bytes(f) for f in panel.frames.values()}) == 3
    panel.render(alpha=0.5)
    assert panel.last_data["n_hidden"] == pytest.approx(80)
    with pytest.raises(ValueError, match="not both"):
        renormalization_panel(n_train=40, validation=None, static={"n_hidden": [20], "alpha": [1.0]})


# -- the book's static frames are legible at the width the page shows them ------------------------------

CONTENT_COLUMN_PX = 688  # the slider panels' width in the desktop layout (1280 px viewport)


@pytest.mark.parametrize("make", [
    lambda W: W.posterior_panel(static={"lambda1": [1.0]}),
    lambda W: W.nngp_panel(static={"temperature": [0.05]}, n_max=120, n_test=100),
    lambda W: W.renormalization_panel(static={"alpha": [1.0]}),
    lambda W: W.transfer_panel(static={"rho": [0.9]}),
    lambda W: W.saddle_panel(static={"gamma": [1.0]}),
    lambda W: W.order_parameter_panel(static={"n_hidden": [100]}),
    lambda W: W.digits_panel(static={"gamma": [1.0]}),
], ids=["posterior", "nngp", "renormalization", "transfer", "saddle", "order_parameter", "digits"])
def test_static_frames_fit_the_column_with_text_of_at_least_9_px(make):
    """A frame no wider than the content column is shown at its natural size, so its text is as large on
    screen as in the PNG: the smallest text must be at least 9 px (tests/test_figure_legibility.py holds
    the cell figures to the same rule)."""
    from tflmini import widgets as W
    from tflmini.plots.style import MIN_TEXT_PX, smallest_text_pt

    panel = make(W)
    width, _ = panel.figure.canvas.get_width_height(physical=True)
    assert width <= CONTENT_COLUMN_PX, f"frame {width} px wide, the column shows {CONTENT_COLUMN_PX} px"
    text_px = smallest_text_pt(panel.figure) * panel.figure.dpi / 72
    assert text_px >= MIN_TEXT_PX, f"smallest text {text_px:.2f} px on screen"


def test_static_frames_are_compact_palette_pngs_and_live_images_stay_rgb():
    """Pages embed static frames by the dozen: they use a 256-colour palette (the page loads faster); a live
    panel's image, sent once per move, keeps full colour."""
    import io

    from PIL import Image

    static = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, static={"a": [2.0]}, figsize=(3, 2))
    frame = Image.open(io.BytesIO(static.frame(a=2.0)))
    assert frame.mode == "P" and len(frame.getcolors(256)) <= 256
    live = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, figsize=(3, 2))
    full = Image.open(io.BytesIO(live.png))
    assert full.mode == "RGB" and full.size == frame.size
    # the same picture: every pixel within a few levels except on antialiased edges
    diff = np.abs(np.asarray(full, float) - np.asarray(frame.convert("RGB"), float)).max(axis=2)
    assert np.mean(diff <= 8) > 0.99


def test_reused_axes_forget_the_error_bars_of_the_previous_drawing():
    """reuse_axes empties axes for the next slider value: error bars too (a container the legend would list)."""
    import matplotlib.pyplot as plt

    fig = plt.figure()
    (ax,) = reuse_axes(fig, 1)
    ax.errorbar([0, 1], [1, 2], yerr=[0.1, 0.1], label="old points")
    (ax,) = reuse_axes(fig, 1)
    assert not ax.containers and not ax.lines and not ax.collections
    ax.plot([0, 1], [2, 3], label="new curve")
    assert [t.get_text() for t in ax.legend().get_texts()] == ["new curve"]
    plt.close(fig)


# -- a kept figure: artists made once, updated at every move ---------------------------------------------

def test_a_retained_figure_keeps_its_artists_and_is_rebuilt_after_an_error():
    """``retain=True`` with :func:`retained`: the axes and lines of the first drawing are updated by the next ones
    (not made anew), the frozen layout stays; after a failed drawing (a message on a cleared figure) they are built
    again."""
    from tflmini.widgets.panel import retained

    builds = []

    def build(fig):
        builds.append(1)
        ax = fig.subplots()
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return {"line": ax.plot([], [])[0]}

    def draw(fig, a):
        if a == 3.0:
            raise RuntimeError("no saddle point")
        art = retained(fig, build)
        art["line"].set_data([0.0, 1.0], [0.0, a])
        return {"a": a}

    panel = Panel(draw, {"a": ("a", (1.0, 2.0, 3.0))}, {"a": 1.0}, figsize=(3, 2), retain=True)
    ax, line = panel.figure.axes[0], panel.figure.axes[0].lines[0]
    position = ax.get_position().bounds
    panel.update(a=2.0)
    assert panel.figure.axes == [ax] and list(ax.lines) == [line] and list(line.get_ydata()) == [0.0, 2.0]
    assert ax.get_position().bounds == pytest.approx(position) and len(builds) == 1
    panel.update(a=3.0)
    assert panel.last_error is not None and not panel.figure.axes
    panel.update(a=1.0)  # revisit: from the cache, no drawing
    panel._png_cache.clear()
    panel.update(a=2.0)
    assert panel.last_error is None and len(builds) == 2 and len(panel.figure.axes) == 1
    assert list(panel.figure.axes[0].lines[0].get_ydata()) == [0.0, 2.0]
    assert panel.figure.axes[0].get_position().bounds == pytest.approx(position)


# -- the panels' canvas: cached text, the pixels of Agg ----------------------------------------------------

def test_the_panel_canvas_draws_the_pixels_of_agg():
    """Text drawn from the caches (string layouts, glyph bitmaps reused at whole-pixel shifts) is pixel for pixel
    the text Agg draws: plain, rotated, unicode, mathematical (with a fraction bar) and unantialiased text, the
    same strings at whole- and fractional-pixel offsets."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.transforms import IdentityTransform

    from tflmini.widgets import canvas

    def figure(canvas_class):
        fig = Figure(figsize=(4, 3), dpi=80)
        canvas_class(fig)
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], label=r"$\frac{Q_{st}}{2}$ theory")
        ax.set_xlabel("coupling γ (10⁻²…∞)")
        ax.set_ylabel("order parameter Qₜₜ")  # rotated
        ax.legend()
        for k in range(6):  # whole-pixel steps (the same bitmaps, moved) and fractional ones
            fig.text(10.3 + k, 20.7 + 3 * k, "αₜ = Pₜ/N₁", transform=IdentityTransform())
            fig.text(150.0 + 0.37 * k, 60.0 + 0.21 * k, "gain +0.0123", transform=IdentityTransform(), rotation=30)
        fig.text(0.5, 0.9, "no antialiasing", antialiased=False)
        return fig

    assert canvas.SUPPORTED  # the Matplotlib of requirements/book.txt
    canvas.clear_text_caches()
    fast, agg = figure(canvas.PanelCanvas), figure(FigureCanvasAgg)
    agg.canvas.draw()
    reference = np.asarray(agg.canvas.buffer_rgba()).copy()
    for _ in range(2):  # the first drawing fills the caches, the second draws from them only
        fast.canvas.draw()
        np.testing.assert_array_equal(np.asarray(fast.canvas.buffer_rgba()), reference)
        glyphs = len(canvas._GLYPHS)
    assert type(fast.canvas.get_renderer()).__name__ == "_CachedTextRenderer"
    assert glyphs and len(canvas._LAYOUTS)
    fast.canvas.draw()
    assert len(canvas._GLYPHS) == glyphs  # nothing new to render


def test_live_images_are_fast_pngs_of_the_same_pixels():
    """A live image is compressed at zlib's fastest level (it is made at every move), static frames harder."""
    import io

    from PIL import Image

    live = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, figsize=(3, 2))
    pixels = np.asarray(Image.open(io.BytesIO(live.png)).convert("RGB"))
    drawn = np.asarray(live.figure.canvas.buffer_rgba())[..., :3]
    np.testing.assert_array_equal(pixels, drawn)

    def zlib_level(png):  # the FLEVEL bits of the zlib header of the first IDAT chunk
        at = png.index(b"IDAT") + 4
        return png[at + 1] >> 6

    assert zlib_level(live.png) == 0  # fastest
    static = Panel(line, CONTROLS, {"a": 2.0, "b": 1.0}, static={"a": [2.0]}, figsize=(3, 2))
    assert zlib_level(static.frame(a=2.0)) == 2  # default
