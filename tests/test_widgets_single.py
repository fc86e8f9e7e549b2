"""Part I slider panels (tflmini.widgets.single): every panel at its slider extremes and at random slider
values (no exception, nothing non-finite drawn, a PNG shown, fast redraws), and each panel's static frames
(the engine itself is tested in test_widgets_panel.py)."""

from __future__ import annotations

import itertools

import ipywidgets as widgets
import numpy as np
from ipywidgets.widgets.widget_link import Link
import pytest

from tflmini.plots import plotted_arrays
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
    arrays = plotted_arrays(panel.figure)
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
    assert isinstance(panel, W.Panel) and panel.image is not None
    assert panel.sliders and all(s in panel.children[0].children for s in panel.sliders.values())
    _assert_drawn(panel, f"{name} at its defaults")


def test_live_panel_at_slider_extremes(live_panel):
    """Every corner of the slider box: all sliders at their minimum or maximum."""
    name, panel = live_panel
    ranges = {k: _slider_range(s) for k, s in panel.sliders.items()}
    for corner in itertools.product(*ranges.values()):
        values = dict(zip(ranges, corner))
        panel.update(**values)
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
        panel.update(**values)
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
        panel.update(**{k: float(lo * (hi / lo) ** t) for k, (lo, hi) in ranges.items()})
    median = float(np.median(panel.render_seconds[1:]))
    assert median < 1.0, f"{name}: median redraw {median:.2f} s"


def test_update_rejects_unknown_slider():
    panel = W.posterior_panel()
    with pytest.raises(ValueError, match="unknown parameter"):
        panel.update(alpha=1.0)


# -- static mode: precomputed frames linked to the sliders ----------------------------------------------

STATIC_PANELS = {
    "posterior_panel": lambda: W.posterior_panel(static={"temperature": [0.001, 0.05, 1.0], "lambda1": [0.1, 10.0]}),
    "nngp_panel": lambda: W.nngp_panel(static={"lambda0": [0.01, 100.0], "temperature": [0.001, 1.0]}, n_max=120,
                                       n_test=100),
    "renormalization_panel": lambda: W.renormalization_panel(static={"alpha": [0.02, 1.0, 5.0],
                                                                     "temperature": [0.001, 0.05, 1.0]}),
}


def _link_ends(link):
    return link.source, link.target


@pytest.fixture(scope="module", params=sorted(STATIC_PANELS))
def static_panel(request):
    return request.param, STATIC_PANELS[request.param]()


def test_static_panel_is_a_stack_of_images_linked_to_the_sliders(static_panel):
    name, panel = static_panel
    assert isinstance(panel, W.Panel) and panel.image is None
    outer_name, inner_name = list(panel.grid)
    outer = panel.stack
    assert isinstance(outer, widgets.Stack) and len(outer.children) == len(panel.grid[outer_name])
    assert all(isinstance(slider, widgets.SelectionSlider) for slider in panel.sliders.values())
    assert all(isinstance(link, Link) and link._model_name == "LinkModel" for link in panel.links)
    ends = [_link_ends(link) for link in panel.links]
    assert ((panel.sliders[outer_name], "index"), (outer, "selected_index")) in ends
    for inner in outer.children:
        assert ((panel.sliders[inner_name], "index"), (inner, "selected_index")) in ends
        assert all(isinstance(image, widgets.Image) and bytes(image.value).startswith(PNG) for image in inner.children)
    assert panel.last_error is None


def test_static_frames_differ_along_each_slider(static_panel):
    name, panel = static_panel
    outer_name, inner_name = list(panel.grid)
    a, b = panel.grid[outer_name], panel.grid[inner_name]
    assert panel.frame(**{outer_name: a[0], inner_name: b[0]}) != panel.frame(**{outer_name: a[-1], inner_name: b[0]})
    assert panel.frame(**{outer_name: a[0], inner_name: b[0]}) != panel.frame(**{outer_name: a[0], inner_name: b[-1]})


def test_static_values_must_lie_on_the_live_range():
    with pytest.raises(ValueError, match="must lie in"):
        W.renormalization_panel(static={"alpha": [0.001, 1.0]}, validation=None)


def test_renormalization_panel_shows_the_cached_simulations():
    """At the validation run's temperature the sampled networks are drawn (error bars), elsewhere not."""
    panel = W.renormalization_panel(alpha=1.0)
    n_errorbars = sum(len(ax.containers) for ax in panel.figure.axes)
    assert n_errorbars > 0
    panel.update(temperature=0.5)
    assert sum(len(ax.containers) for ax in panel.figure.axes) == 0


def test_renormalization_panel_updates_its_lines_instead_of_drawing_new_ones():
    """A slider move gives the panel's lines new data (the axes, their ticks and the lines are made once); the
    limits follow the data: the action's axis its new range of Q, the error axis from 0 to the new errors."""
    panel = W.renormalization_panel(alpha=1.0, temperature=0.2)  # away from the sampled networks' temperature
    axes = list(panel.figure.axes)
    lines = [list(ax.lines) for ax in axes]
    q_before = axes[0].lines[0].get_xdata().copy()
    panel.update(temperature=0.5, lambda1=3.0, alpha=0.1)
    _assert_drawn(panel, "renormalization_panel after a move")
    assert list(panel.figure.axes) == axes and [list(ax.lines) for ax in axes] == lines
    q_after = axes[0].lines[0].get_xdata()
    assert not np.allclose(q_after, q_before)
    assert axes[0].get_xlim()[0] <= q_after.min() and axes[0].get_xlim()[1] >= q_after.max()
    errors = np.concatenate([line.get_ydata() for line in axes[2].lines if line.get_label().endswith("theory")])
    assert axes[2].get_ylim()[0] == 0.0 and axes[2].get_ylim()[1] >= np.nanmax(errors)
    assert axes[1].get_title() == "P = 200, T = 0.5" and "Q^* =" in axes[0].get_legend().get_texts()[2].get_text()


def test_nngp_panel_updates_its_lines_instead_of_drawing_new_ones():
    """The kernel profiles and learning curves are the panel's first lines, given the new values at every move."""
    from tflmini.plots import kernel_profiles

    panel = W.nngp_panel(n_max=200, n_test=200)
    axes = list(panel.figure.axes)
    lines = [list(ax.lines) for ax in axes]
    panel.update(lambda0=0.05, temperature=0.5)
    _assert_drawn(panel, "nngp_panel after a move")
    assert list(panel.figure.axes) == axes and [list(ax.lines) for ax in axes] == lines
    erf = next(line for line in axes[0].lines if line.get_label() == "erf")
    np.testing.assert_allclose(erf.get_ydata(), kernel_profiles(1 / 0.05)[1]["erf"])
    gibbs = next(line for line in axes[1].lines if line.get_label() == "Gibbs error")
    np.testing.assert_allclose(gibbs.get_ydata(), panel.last_data["gibbs_error"])
    assert axes[1].get_title() == "λ0 = 0.05, T = 0.5"
