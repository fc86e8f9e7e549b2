"""Slider panels: every panel at its slider extremes and at random slider values (no exception, nothing
non-finite drawn, a PNG shown, fast redraws), and the static mode's frames linked to their sliders."""

from __future__ import annotations

import itertools

import ipywidgets as widgets
import numpy as np
from ipywidgets.widgets.widget_link import Link
import pytest

from tflmini import plotting
from tflmini import widgets as W

PNG = b"\x89PNG\r\n\x1a\n"

LIVE_PANELS = {
    "posterior_panel": lambda: W.posterior_panel(),
    "nngp_panel": lambda: W.nngp_panel(n_max=200, n_test=200),
    "renormalization_panel": lambda: W.renormalization_panel(),
    "renormalization_panel_no_data": lambda: W.renormalization_panel(validation=None, n_train=80, activation="linear"),
}


def _slider_range(slider):
    if isinstance(slider, widgets.FloatLogSlider):
        return slider.base**slider.min, slider.base**slider.max
    return slider.min, slider.max


def _assert_drawn(panel, what):
    assert panel.last_error is None, f"{what}: drawing raised\n{panel.last_error}"
    arrays = plotting.plotted_arrays(panel.figure)
    assert arrays, f"{what}: nothing was drawn"
    for arr in arrays:
        assert np.all(np.isfinite(arr)), f"{what}: a plotted array holds NaN or inf"
    assert bytes(panel.image.value).startswith(PNG), f"{what}: the image is not a PNG"
    for ax in panel.figure.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), f"{what}: an axis has no label"


@pytest.fixture(scope="module", params=sorted(LIVE_PANELS))
def live_panel(request):
    return request.param, LIVE_PANELS[request.param]()


def test_live_panel_at_defaults(live_panel):
    name, panel = live_panel
    assert isinstance(panel, W.LivePanel)
    assert panel.sliders and all(s in panel.children[0].children for s in panel.sliders.values())
    _assert_drawn(panel, f"{name} at its defaults")


def test_live_panel_at_slider_extremes(live_panel):
    """Every corner of the slider box: all sliders at their minimum or maximum."""
    name, panel = live_panel
    ranges = {k: _slider_range(s) for k, s in panel.sliders.items()}
    for corner in itertools.product(*ranges.values()):
        values = dict(zip(ranges, corner))
        panel.set(**values)
        for k, v in values.items():
            assert panel.sliders[k].value == pytest.approx(v, rel=1e-9)
        _assert_drawn(panel, f"{name} at {values}")


def test_live_panel_at_random_values(live_panel):
    name, panel = live_panel
    rng = np.random.default_rng(0)
    ranges = {k: _slider_range(s) for k, s in panel.sliders.items()}
    before = bytes(panel.image.value)
    changed = False
    for _ in range(5):
        values = {k: float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) for k, (lo, hi) in ranges.items()}
        panel.set(**values)
        _assert_drawn(panel, f"{name} at {values}")
        changed |= bytes(panel.image.value) != before
    assert changed, f"{name}: moving the sliders never changed the figure"


def test_one_slider_move_redraws(live_panel):
    """Moving a slider (as a user does, through its value) triggers exactly one redraw."""
    name, panel = live_panel
    slider = next(iter(panel.sliders.values()))
    lo, hi = _slider_range(slider)
    n = len(panel.render_seconds)
    slider.value = float(np.sqrt(lo * hi))
    assert len(panel.render_seconds) == n + 1
    _assert_drawn(panel, f"{name} after one slider move")


def test_live_redraw_is_fast(live_panel):
    """Redraws are well under a second (the median over the moves made so far, first drawing excluded)."""
    name, panel = live_panel
    ranges = {k: _slider_range(s) for k, s in panel.sliders.items()}
    for t in np.linspace(0.2, 0.8, 4):
        panel.set(**{k: float(lo * (hi / lo) ** t) for k, (lo, hi) in ranges.items()})
    median = float(np.median(panel.render_seconds[1:]))
    assert median < 1.0, f"{name}: median redraw {median:.2f} s"


def test_set_rejects_unknown_slider():
    panel = W.posterior_panel()
    with pytest.raises(ValueError, match="unknown slider"):
        panel.set(alpha=1.0)


# -- static mode: precomputed frames linked to the sliders ----------------------------------------------

STATIC_PANELS = {
    "posterior_panel": lambda: W.posterior_panel(static=True, temperatures=[0.001, 0.05, 1.0], lambda1s=[0.1, 10.0]),
    "nngp_panel": lambda: W.nngp_panel(static=True, n_max=120, n_test=100, lambda0s=[0.01, 100.0],
                                       temperatures=[0.001, 1.0]),
    "renormalization_panel": lambda: W.renormalization_panel(static=True, alphas=[0.02, 1.0, 5.0],
                                                             temperatures=[0.001, 0.05, 1.0]),
}


def _link_ends(link):
    return link.source, link.target


@pytest.fixture(scope="module", params=sorted(STATIC_PANELS))
def static_panel(request):
    return request.param, STATIC_PANELS[request.param]()


def test_static_panel_is_a_stack_of_images_linked_to_the_sliders(static_panel):
    name, panel = static_panel
    assert isinstance(panel, W.FramesPanel)
    names = list(panel.grid)
    assert len(names) == 2
    inner_name, outer_name = names
    outer = panel.stack
    assert isinstance(outer, widgets.Stack)
    assert len(outer.children) == len(panel.grid[outer_name])
    for slider in panel.sliders.values():
        assert isinstance(slider, widgets.SelectionSlider)
    assert all(isinstance(link, Link) and link._model_name == "LinkModel" for link in panel.links)
    ends = [_link_ends(link) for link in panel.links]
    # the outer stack follows the second slider, every inner stack the first one
    assert ((panel.sliders[outer_name], "index"), (outer, "selected_index")) in ends
    for inner in outer.children:
        assert isinstance(inner, widgets.Stack)
        assert ((panel.sliders[inner_name], "index"), (inner, "selected_index")) in ends
        assert len(inner.children) == len(panel.grid[inner_name])
        for image in inner.children:
            assert isinstance(image, widgets.Image) and bytes(image.value).startswith(PNG)
        assert inner.selected_index == panel.sliders[inner_name].index
    assert outer.selected_index == panel.sliders[outer_name].index
    assert len(panel.links) == len(outer.children) + 1


def test_static_frames_differ_along_each_slider(static_panel):
    name, panel = static_panel
    inner_name, outer_name = list(panel.grid)
    a, b = panel.grid[inner_name], panel.grid[outer_name]
    assert panel.frame(**{inner_name: a[0], outer_name: b[0]}) != panel.frame(**{inner_name: a[-1], outer_name: b[0]})
    assert panel.frame(**{inner_name: a[0], outer_name: b[0]}) != panel.frame(**{inner_name: a[0], outer_name: b[-1]})
    # the frame a slider position shows is the one drawn for that value
    j = panel.sliders[outer_name].index
    i = panel.sliders[inner_name].index
    assert bytes(panel.stack.children[j].children[i].value) == panel.frame(**{inner_name: a[i], outer_name: b[j]})


def test_frames_panel_with_one_slider():
    def draw(fig, x):
        ax = fig.subplots()
        ax.plot([0, 1], [0, x])
        ax.set_xlabel("x")
        ax.set_ylabel("y")

    panel = W.frames_panel(draw, {"x": [1.0, 2.0, 3.0]}, initial={"x": 3.0})
    assert isinstance(panel.stack, widgets.Stack) and len(panel.stack.children) == 3
    assert all(isinstance(c, widgets.Image) for c in panel.stack.children)
    slider = panel.sliders["x"]
    assert slider.index == 2 == panel.stack.selected_index
    assert [_link_ends(link) for link in panel.links] == [((slider, "index"), (panel.stack, "selected_index"))]
    assert len(set(panel.frames.values())) == 3


def test_frames_panel_rejects_bad_grids():
    def draw(fig, **values):
        fig.subplots()

    with pytest.raises(ValueError, match="one or two sliders"):
        W.frames_panel(draw, {"a": [1], "b": [1], "c": [1]})
    with pytest.raises(ValueError, match="print alike"):
        W.frames_panel(draw, {"a": [1.0, 1.00001]})
    with pytest.raises(ValueError, match="finite"):
        W.frames_panel(draw, {"a": [1.0, np.nan]})
    with pytest.raises(ValueError, match="alphas"):
        W.renormalization_panel(static=True, alphas=[0.001, 1.0], validation=None)


def test_renormalization_panel_shows_the_cached_simulations():
    """At the validation run's temperature the sampled networks are drawn (error bars), elsewhere not."""
    panel = W.renormalization_panel(alpha=1.0)
    n_errorbars = sum(len(ax.containers) for ax in panel.figure.axes)
    assert n_errorbars > 0
    panel.set(temperature=0.5)
    assert sum(len(ax.containers) for ax in panel.figure.axes) == 0
