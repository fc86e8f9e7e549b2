"""Tests of tflmini.real_data_plots (the real-data chapter's computations, figures and slider panel)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tflmini.datasets import class_pair, digits_catalogue, load_digits_pool, task_relatedness  # noqa: E402
from tflmini.experiments import load  # noqa: E402
from tflmini.plotting import plotted_arrays  # noqa: E402
from tflmini.real_data_plots import (DigitsExplorer, digits_panel, digits_pixel_mask,  # noqa: E402
                                     effective_dimension, plot_benefit_vs_relatedness, plot_digits_catalogue,
                                     plot_source_size, readout_template, sampled_benefits)


@pytest.fixture(scope="module")
def explorer():
    return DigitsExplorer()


def test_pixel_mask_matches_pool():
    mask = digits_pixel_mask()
    X, _ = load_digits_pool()
    assert mask.shape == (8, 8)
    assert mask.sum() == X.shape[1] == 61


def test_templates_reproduce_relatedness():
    """The overlap of the templates' predictions on the pool is the catalogue's relatedness."""
    X, _ = load_digits_pool()
    mask = digits_pixel_mask().ravel()
    ws = readout_template((3, 8)).ravel()[mask]
    for row in digits_catalogue():
        wt = readout_template(row["target"]).ravel()[mask]
        fs, ft = X @ ws, X @ wt
        rho = fs @ ft / np.sqrt((fs @ fs) * (ft @ ft))
        assert rho == pytest.approx(row["relatedness"], rel=1e-10)
        assert rho >= 0  # targets are oriented


def test_template_is_ridge_solution():
    X, y = load_digits_pool()
    Xp, yp = class_pair(X, y, (2, 8))
    w = readout_template((2, 8), ridge=3.0).ravel()[digits_pixel_mask().ravel()]
    np.testing.assert_allclose(Xp.T @ (Xp @ w - yp) + 3.0 * w, 0.0, atol=1e-8)
    assert task_relatedness(Xp, yp, Xp, yp, X) == pytest.approx(1.0)


def test_explorer_matches_cached_theory(explorer):
    """The panel's tasks and theory are those of the cached experiment."""
    r = load("digits_gamma_sweep")
    for target in ("close", "unrelated"):
        c = explorer.curve(target, 100)
        cached = r.theory["curves"][target]["N1=100"]
        for g in (0.0, 1.0, 10.0, np.inf):
            i, j = explorer.index(g), int(np.flatnonzero((r.theory["gammas"] == g))[0])
            assert c["mean_error"][i] == pytest.approx(cached["mean_error"][j], rel=1e-6)
            assert c["Q_st"][i] == pytest.approx(cached["Q_st"][j], rel=1e-5, abs=1e-9)
        assert explorer.task(target).rho == pytest.approx(r.theory["curves"][target]["relatedness"])


def test_explorer_finds_sampled_networks(explorer):
    name, gammas, res = explorer.sampled("close", 100)
    assert name == "digits_gamma_sweep"
    assert len(res["mean_error"]["mean"]) == len(gammas)
    assert explorer.sampled("close", 50)[0] == "digits_width_effect"
    assert explorer.sampled("weak", 100)[0] == "digits_relatedness_sweep"
    assert explorer.sampled("weak", 400) is None


def test_sampled_benefits_are_differences():
    r = load("digits_gamma_sweep")
    b = sampled_benefits(r, "close")
    sim = r.simulation["results"]["close"]["mean_error"]["mean"]
    np.testing.assert_allclose(b["simulation"], sim[0] - np.asarray(sim))
    assert b["theory"][0] == 0.0 and np.isnan(b["ratio"][0])
    assert np.all(b["se"][1:] > 0)
    np.testing.assert_allclose(b["ratio"][1:], b["simulation"][1:] / b["theory"][1:])


def test_panel_live_and_move(explorer):
    p = digits_panel(explorer=explorer)
    assert p.last_error is None and p.image is not None
    first = p.image.value
    p.update(target="weak", gamma=np.inf)
    assert p.last_error is None and p.image.value != first
    d = p.last_data
    for k in ("transfer", "control", "lazy"):
        assert np.all(np.isfinite(d[k]))
    with pytest.raises(ValueError):
        p.update(width=3)
    with pytest.raises(ValueError):
        digits_panel(target="nonexistent", explorer=explorer)


def test_panel_static_frames(explorer):
    p = digits_panel(static={"target": ["close", "unrelated"], "gamma": [0.0, np.inf]}, explorer=explorer)
    assert len(p.frames) == 4 and len(set(p.frames.values())) == 4
    assert p.stack.selected_index == p.sliders["target"].index


def test_figures_have_no_nan():
    fig = plt.figure(figsize=(10, 4))
    rows = plot_digits_catalogue(fig)
    assert len(rows) == 5
    plt.close(fig)
    fig, (ax, bx) = plt.subplots(1, 2)
    plot_benefit_vs_relatedness(ax, load("digits_relatedness_sweep"))
    plot_source_size(bx, load("digits_source_size"))
    for arr in plotted_arrays(fig):
        assert np.all(np.isfinite(np.asarray(arr, dtype=float)))
    plt.close(fig)


def test_effective_dimension():
    rng = np.random.default_rng(0)
    assert effective_dimension(rng.standard_normal((20000, 10))) == pytest.approx(10, rel=0.02)
    line = np.outer(rng.standard_normal(500), np.ones(7))
    assert effective_dimension(line) == pytest.approx(1.0)
    X, _ = load_digits_pool()
    assert 1.0 < effective_dimension(X) < X.shape[1]
    with pytest.raises(ValueError):
        effective_dimension(np.ones((5, 3)))
