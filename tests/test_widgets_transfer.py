"""Part II slider panels (tflmini.widgets.transfer): every panel at its slider extremes (gamma 0 and inf,
rho 0 and 1, smallest and largest loads and widths) and at random slider combinations, without exceptions and
without NaN in the drawn figure; the static mode is a stack of PNG frames jslinked to its sliders."""

from __future__ import annotations

import itertools

import ipywidgets as widgets
import numpy as np
import pytest
from ipywidgets.widgets.widget_link import Link

from tflmini.plots import plotted_arrays
from tflmini.widgets import transfer as TW

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def explorer():
    # small tasks keep each new theory curve cheap; the cache is shared by every panel of this module
    return TW.TransferExplorer(n_test=100, max_source=200, max_target=100,
                               gammas=np.r_[0.0, np.geomspace(1e-2, 1e3, 6), np.inf])


def _gammas(explorer):
    return [float(g) for g in explorer.gammas]


def _assert_drawn(panel, what):
    assert panel.last_error is None, f"{what}: drawing raised\n{panel.last_error}"
    assert panel.last_data is not None, f"{what}: no data behind the figure"
    arrays = plotted_arrays(panel.figure)
    assert arrays, f"{what}: nothing was drawn"
    for arr in arrays:
        assert np.all(np.isfinite(arr)), f"{what}: a plotted array holds NaN or inf"
    for ax in panel.figure.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), f"{what}: an axis has no label"


def _options(panel, name):
    return [v for _, v in panel.sliders[name].options]


# -- transfer_panel ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def transfer(explorer):
    return TW.transfer_panel(explorer=explorer, n_hidden=50, gamma=1.0)


def test_transfer_panel_live_at_defaults(transfer):
    assert bytes(transfer.image.value).startswith(PNG)
    _assert_drawn(transfer, "defaults")
    assert set(transfer.sliders) == {"alpha_target", "alpha_source", "gamma", "rho", "n_hidden"}


def test_transfer_panel_at_slider_extremes(transfer):
    ends = {name: (_options(transfer, name)[0], _options(transfer, name)[-1]) for name in transfer.sliders}
    assert ends["gamma"] == (0.0, np.inf) and ends["rho"] == (0.0, 1.0)
    # each slider at both ends with the others at their defaults
    defaults = dict(transfer.values)
    for name, (lo, hi) in ends.items():
        for v in (lo, hi):
            transfer.update(**{**defaults, name: v})
            _assert_drawn(transfer, f"{name}={v}")
    # the corners of (gamma, rho) and of (alpha_target, alpha_source) together
    for g, r in itertools.product(ends["gamma"], ends["rho"]):
        transfer.update(**{**defaults, "gamma": g, "rho": r})
        _assert_drawn(transfer, f"gamma={g}, rho={r}")
        e = transfer.last_data["transfer"]
        if g == 0.0:
            assert e[0] == pytest.approx(transfer.last_data["control"][0], rel=1e-9)  # scratch = control at gamma = 0
    for at, as_ in itertools.product(ends["alpha_target"], ends["alpha_source"]):
        transfer.update(**{**defaults, "alpha_target": at, "alpha_source": as_, "gamma": np.inf, "rho": 1.0})
        _assert_drawn(transfer, f"alpha_target={at}, alpha_source={as_}")
    transfer.update(**defaults)


def test_transfer_panel_at_random_values(transfer):
    rng = np.random.default_rng(11)
    defaults = dict(transfer.values)
    for _ in range(4):
        vals = {name: _options(transfer, name)[rng.integers(len(s.options))] for name, s in transfer.sliders.items()}
        vals["n_hidden"] = min(vals["n_hidden"], 100)  # keep the sizes of this test small
        transfer.update(**vals)
        _assert_drawn(transfer, f"random {vals}")
    transfer.update(**defaults)


def test_transfer_panel_lazy_limit_has_no_transfer_beyond_the_prior(transfer):
    transfer.update(rho=0.9, gamma=1.0)
    d = transfer.last_data
    # the N1 = inf curve is the matched-prior control at infinite width: it equals scratch at both ends
    assert d["lazy"][0] == pytest.approx(d["lazy"][-1], rel=1e-9)


def test_transfer_panel_rejects_unknown_parameter(transfer):
    with pytest.raises(ValueError, match="unknown parameter"):
        transfer.update(width=3)


# -- saddle_panel ------------------------------------------------------------------------------------

def test_saddle_panel_at_extremes_and_random_values(explorer):
    panel = TW.saddle_panel(explorer=explorer, n_hidden=50)
    _assert_drawn(panel, "defaults")
    for g, r in itertools.product((0.0, np.inf), (0.0, 1.0)):
        panel.update(gamma=g, rho=r)
        _assert_drawn(panel, f"gamma={g}, rho={r}")
        ev = panel.last_data["hessian_eigenvalues"]
        assert ev is not None and np.all(np.isfinite(ev))
    for at in (_options(panel, "alpha_target")[0], _options(panel, "alpha_target")[-1]):
        panel.update(alpha_target=at, gamma=1.0, rho=0.5)
        _assert_drawn(panel, f"alpha_target={at}")
    rng = np.random.default_rng(5)
    for _ in range(3):
        panel.update(gamma=_gammas(explorer)[rng.integers(len(explorer.gammas))], rho=float(rng.choice(TW.RHOS)),
                     n_hidden=int(rng.choice([25, 50, 100])))
        _assert_drawn(panel, f"random {panel.values}")


def test_saddle_panel_signature(explorer):
    """The stationary point is a maximum along Q_t and Q_st and a minimum along Q_tt (chapter 6)."""
    panel = TW.saddle_panel(explorer=explorer, n_hidden=50, gamma=1.0, rho=0.9)
    slices = panel.last_data["slices"]
    for name, sign in (("Q_t", -1), ("Q_tt", +1), ("Q_st", -1)):
        grid, vals = slices[name]
        phi0 = vals[np.argmin(np.abs(grid - panel.last_data["order_parameters"][name]))]
        assert np.all(sign * (vals - phi0) >= -1e-9), name


# -- order_parameter_panel ---------------------------------------------------------------------------

def test_order_parameter_panel_at_extremes(explorer):
    panel = TW.order_parameter_panel(explorer=explorer, n_source=60, n_target=20)
    _assert_drawn(panel, "defaults")
    for n1, g, r in itertools.product((25, np.inf), (0.0, np.inf), (0.0, 1.0)):
        panel.update(n_hidden=n1, gamma=g, rho=r)
        _assert_drawn(panel, f"N1={n1}, gamma={g}, rho={r}")
    panel.update(n_hidden=np.inf, rho=0.9, gamma=1.0)
    d = panel.last_data
    assert np.allclose(d["order_parameters"]["Q_st"], 0.0) and np.allclose(d["order_parameters"]["Q_tt"], 0.0)
    assert np.allclose(d["gain"], 0.0, atol=1e-12)  # lazy limit: transfer = matched-prior control


# -- static mode -------------------------------------------------------------------------------------

def test_static_transfer_panel_is_linked_stack_of_frames(explorer):
    grid = {"rho": [0.0, 1.0], "gamma": [0.0, np.inf]}
    panel = TW.transfer_panel(explorer=explorer, n_hidden=50, static=grid)
    assert set(panel.frames) == set(itertools.product(*grid.values()))
    assert all(bytes(png).startswith(PNG) for png in panel.frames.values())
    assert len({bytes(p) for p in panel.frames.values()}) == len(panel.frames), "frames must differ"
    outer = panel.stack
    assert isinstance(outer, widgets.Stack) and len(outer.children) == 2
    assert all(isinstance(s, widgets.Stack) for s in outer.children)
    assert all(isinstance(im, widgets.Image) for s in outer.children for im in s.children)
    assert all(isinstance(link, Link) for link in panel.links)
    linked = {(id(l.source[0]), id(l.target[0])) for l in panel.links}
    assert (id(panel.sliders["rho"]), id(outer)) in linked
    assert all((id(panel.sliders["gamma"]), id(s)) in linked for s in outer.children)


def test_static_saddle_and_order_parameter_panels(explorer):
    saddle = TW.saddle_panel(explorer=explorer, n_hidden=50, static={"gamma": [0.0, 1.0, np.inf]})
    assert len(saddle.frames) == 3 and saddle.last_error is None
    lazy = TW.order_parameter_panel(explorer=explorer, n_source=60, n_target=20, static={"n_hidden": [25, np.inf]})
    assert len(lazy.frames) == 2 and lazy.last_error is None


def test_static_mode_rejects_bad_grids(explorer):
    with pytest.raises(ValueError, match="one or two sliders"):
        TW.transfer_panel(explorer=explorer, static={"rho": [0.0], "gamma": [0.0], "n_hidden": [50]})
    with pytest.raises(ValueError, match="unknown slider"):
        TW.transfer_panel(explorer=explorer, static={"width": [50]})


def test_explorer_caches_each_curve_once_and_finds_couplings(explorer):
    c = explorer.curve(30, 10, 0.5, 25)
    assert explorer.curve(30, 10, 0.5, 25) is c
    assert explorer.index(np.inf) == len(explorer.gammas) - 1 and explorer.index(0.0) == 0
    with pytest.raises(ValueError, match="not on the grid"):
        explorer.index(0.123)
    with pytest.raises(ValueError, match="metric"):
        TW.TransferExplorer(metric="accuracy")


def test_one_coupling_is_fitted_alone_unless_its_curve_is_cached():
    """The saddle panel shows one coupling: the explorer fits it alone (no curve along gamma is computed), and
    the result agrees with the estimator of the curve once that is cached."""
    ex = TW.TransferExplorer(n_test=50, max_source=60, max_target=30, gammas=np.r_[0.0, 0.1, 1.0, 10.0, np.inf])
    for g in (1.0, np.inf):
        alone = ex.estimator(40, 20, 0.7, 50, g)
        assert not any(k[0] == "curve" for k in ex._cache), "a whole curve was computed for one coupling"
        assert ex.estimator(40, 20, 0.7, 50, g) is alone  # cached
        on_curve = ex.curve(40, 20, 0.7, 50)["estimators"][ex.index(g)]
        assert ex.estimator(40, 20, 0.7, 50, g) is on_curve
        for k in ("Q_t", "Q_tt", "Q_st"):
            assert alone.order_parameters_[k] == pytest.approx(on_curve.order_parameters_[k], rel=1e-9, abs=1e-12)
        ex._cache.clear()


# -- the panels keep their artists ---------------------------------------------------------------------

def test_panels_update_their_lines_instead_of_drawing_new_ones(explorer):
    """A slider move gives the transfer and order-parameter panels' lines new data: the axes and lines of the
    first drawing stay (no new ticks and lines at every move), and what they show is the new curve."""
    for panel, move in ((TW.transfer_panel(explorer=explorer, n_hidden=50), {"rho": 0.3, "alpha_target": 1.0}),
                        (TW.order_parameter_panel(explorer=explorer, n_source=60, n_target=20), {"rho": 0.3})):
        axes = list(panel.figure.axes)
        lines = [list(ax.lines) for ax in axes]
        panel.update(**move)
        _assert_drawn(panel, f"after {move}")
        assert list(panel.figure.axes) == axes and [list(ax.lines) for ax in axes] == lines
        q_st = next(line for line in axes[0 if "gain" in panel.last_data else 1].lines if line.get_label() == "Qₛₜ")
        inner = np.isfinite(explorer.gammas) & (explorer.gammas > 0)
        np.testing.assert_allclose(q_st.get_ydata(), panel.last_data["order_parameters"]["Q_st"][inner])


def test_a_kept_gamma_curve_draws_what_plot_gamma_curve_draws():
    """GammaCurve.update draws the lines plot_gamma_curve draws (logarithmic part, ticks at 0 and infinity and
    their dotted joins), also when an end or the whole logarithmic part is missing (NaN)."""
    import matplotlib.pyplot as plt

    from tflmini.plots.gamma_axis import GammaCurve, plot_gamma_curve

    gammas = np.r_[0.0, 0.1, 1.0, 10.0, np.inf]
    fig, (ax, bx) = plt.subplots(1, 2)
    kept = GammaCurve(bx, color="C2", lw=2)
    for values in ([1.0, 2.0, 3.0, 4.0, 5.0], [np.nan, 2.0, 3.0, 4.0, 5.0], [1.0, np.nan, np.nan, np.nan, 5.0],
                   [1.0, 2.0, 3.0, 4.0, np.nan]):
        for line in list(ax.lines):
            line.remove()
        plot_gamma_curve(ax, gammas, values, color="C2", lw=2)
        kept.update(gammas, values)
        drawn = sorted((tuple(map(tuple, line.get_xydata())), line.get_linestyle(), line.get_marker())
                       for line in ax.lines if len(line.get_xdata()))
        shown = sorted((tuple(map(tuple, line.get_xydata())), line.get_linestyle(), line.get_marker())
                       for line in bx.lines if len(line.get_xdata()))
        assert shown == drawn, values
    plt.close(fig)


def test_the_lazy_curve_alone_equals_that_of_the_full_curve(explorer):
    """transfer_panel's lazy line comes from the theory alone (no matched-prior control, no estimators): the same
    errors as the full curve at N1 = inf; once that one is cached, it is used."""
    lazy = explorer.lazy_curve(30, 10, 0.5)
    assert "control_" + explorer.metric not in lazy and "estimators" not in lazy
    full = explorer.curve(30, 10, 0.5, np.inf)
    np.testing.assert_allclose(lazy[explorer.metric], full[explorer.metric], rtol=1e-12)
    assert explorer.lazy_curve(40, 10, 0.5) is not full and explorer.curve(40, 10, 0.5, np.inf) is not None
    assert explorer.lazy_curve(40, 10, 0.5) is explorer.curve(40, 10, 0.5, np.inf)
