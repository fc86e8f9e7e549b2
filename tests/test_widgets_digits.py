"""tflmini.widgets.digits: the real-data slider panel (theory cached on the digits catalogue, sampled networks
found in the cached experiments, live and static frames)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tflmini.experiments import load  # noqa: E402
from tflmini.widgets.digits import DigitsExplorer, digits_panel  # noqa: E402


@pytest.fixture(scope="module")
def explorer():
    return DigitsExplorer()


def test_explorer_matches_cached_theory(explorer):
    """The panel's tasks and theory are those of the cached experiment."""
    r = load("digits_gamma_sweep")
    for target in ("close", "unrelated"):
        c = explorer.curve(target, 100)
        cached = r.theory["curves"][target]["N1=100"]
        for g in (0.0, 1.0, 10.0, np.inf):
            i, j = explorer.index(g), int(np.flatnonzero((r.theory["gammas"] == g))[0])
            assert c["mean_error"][i] == pytest.approx(cached["mean_error"][j], rel=1e-6)
            assert c["single_source_error"][i] == pytest.approx(cached["single_source_error"][j], rel=1e-6)
            assert c["Q_st"][i] == pytest.approx(cached["Q_st"][j], rel=1e-5, abs=1e-9)
        assert explorer.task(target).rho == pytest.approx(r.theory["curves"][target]["relatedness"])


def test_explorer_finds_sampled_networks(explorer):
    name, gammas, res = explorer.sampled("close", 100)
    assert name == "digits_gamma_sweep"
    assert len(res["mean_error"]["mean"]) == len(gammas)
    assert explorer.sampled("close", 50)[0] == "digits_width_effect"
    assert explorer.sampled("weak", 100)[0] == "digits_relatedness_sweep"
    assert explorer.sampled("weak", 400) is None


def test_panel_live_and_move(explorer):
    p = digits_panel(explorer=explorer)
    assert p.last_error is None and p.image is not None
    first = p.image.value
    p.update(target="weak", gamma=np.inf)
    assert p.last_error is None and p.image.value != first
    d = p.last_data
    for k in ("transfer", "single_source", "control", "lazy"):
        assert np.all(np.isfinite(d[k]))
    with pytest.raises(ValueError):
        p.update(width=3)
    with pytest.raises(ValueError):
        digits_panel(target="nonexistent", explorer=explorer)


def test_panel_static_frames(explorer):
    p = digits_panel(static={"target": ["close", "unrelated"], "gamma": [0.0, np.inf]}, explorer=explorer)
    assert len(p.frames) == 4 and len(set(p.frames.values())) == 4
    assert p.stack.selected_index == p.sliders["target"].index


def test_the_lazy_curve_alone_equals_that_of_the_full_curve():
    """The panel's lazy line comes from a lighter curve (theory only); its errors are those of the full one."""
    ex = DigitsExplorer()
    lazy = ex.lazy_curve("close")
    full = ex.curve("close", np.inf)
    np.testing.assert_allclose(lazy["mean_error"], full["mean_error"], rtol=1e-12)
    assert "matched_mean_error" not in lazy and "single_source_error" not in lazy


def test_panel_keeps_its_lines_and_replaces_the_sampled_points(explorer):
    """A move updates the panel's lines (made once) and replaces the sampled points: shown where cached networks
    exist for the target and width, gone where none do, never piled up."""
    def own_lines(ax):  # the lines of the theory and the markers: not those of the sampled points
        points = {id(a) for c in ax.containers for a in c.get_children()}
        return [line for line in ax.lines if id(line) not in points]

    p = digits_panel(explorer=explorer, target="close", n_hidden=100)
    axes = list(p.figure.axes)
    lines = [own_lines(ax) for ax in axes]
    n_points = [len(ax.containers) for ax in axes]
    assert all(n_points)  # digits_gamma_sweep: close at N1 = 100
    p.update(target="weak", n_hidden=400)  # no cached networks there
    assert p.last_error is None and not any(ax.containers for ax in axes)
    p.update(target="close", n_hidden=100, gamma=np.inf)
    assert [len(ax.containers) for ax in axes] == n_points
    assert list(p.figure.axes) == axes and [own_lines(ax) for ax in axes] == lines
    # the error axes' legend sits below the axes (a figure legend), one per figure, relabelled on each move
    assert len(p.figure.legends) == 1 and axes[0].get_legend() is None
    label = next(t.get_text() for t in p.figure.legends[0].get_texts() if t.get_text().startswith("εₘ theory"))
    assert label == "εₘ theory, N₁ = 100"
