"""tflmini.plots.gamma_axis, .transfer and .transfer_maps: the part II figures (no NaN drawn, labelled axes).
The curves they draw are tested in test_transfer_curves.py, the cached-result readers in test_results.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tflmini.transfer_curves as tc  # noqa: E402
import tflmini.plots as tp  # noqa: E402
from tflmini import make_transfer_task  # noqa: E402
from tflmini.experiments import CacheError, load  # noqa: E402
from transfer_fakes import curve, task  # noqa: F401 E402 (pytest fixtures)
from transfer_fakes import fake_decomposition as _fake_decomposition  # noqa: E402


def _finite_figure(fig):
    arrays = tp.plotted_arrays(fig)
    assert arrays
    for arr in arrays:
        assert np.all(np.isfinite(arr)), "a plotted array holds NaN or inf"


def test_gamma_position_puts_the_ends_outside_the_log_axis():
    x = tp.gamma_position([0.0, 1e-2, 1.0, 1e3, np.inf, 1e6])
    assert x[0] == pytest.approx(-3.0) and x[-2] == pytest.approx(4.0)
    assert list(x[1:4]) == pytest.approx([-2.0, 0.0, 3.0])
    assert x[-1] == pytest.approx(3.0)  # clipped to g_max


def test_plot_action_slices_labels_and_signature(curve):
    fig, axes = plt.subplots(1, 3)
    out = tp.plot_action_slices(axes, curve["estimators"][2])
    _finite_figure(fig)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert set(out) == {"Q_t", "Q_tt", "Q_st"}
    plt.close(fig)


def test_prior_figures_draw_finite_values():
    fig, (ax, bx) = plt.subplots(1, 2)
    tp.plot_coupled_prior(ax, gammas=(0.0, 1.0, np.inf))
    tp.plot_weight_statistics(bx)
    _finite_figure(fig)
    plt.close(fig)


def _cached(name):
    try:
        return load(name)
    except CacheError as exc:  # the cached experiments are part of the repository; say which one is missing
        pytest.fail(f"cached experiment {name} is not readable: {exc}")


def test_plot_source_size_matches_the_cached_theory():
    res = _cached("source_size")
    fig, ax = plt.subplots()
    out = tp.plot_source_size(ax, res)
    _finite_figure(fig)
    th = res.theory
    for k, nt in enumerate(th["n_targets"]):
        assert np.allclose(out[int(nt)], np.asarray(th["E_zero"])[k] - np.asarray(th["E_inf"])[k])
    # the sampled target sizes are drawn as error bars
    assert len(ax.containers) == len(res.simulation["n_targets"])
    assert ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="not among"):
        tp.plot_source_size(ax, res, n_targets=[7])
    plt.close(fig)


def test_cached_experiment_figures_draw_finite_values():
    fig, axes = plt.subplots(1, 2)
    tp.plot_width_effect(axes, _cached("width_effect"))
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 3)
    tp.plot_alpha_rho_maps(axes, _cached("map_alpha_rho"))
    plt.close(fig)
    fig, axes = plt.subplots(1, 3)
    tp.plot_gamma_rho_maps(axes, _cached("map_gamma_rho"), _cached("relatedness_sweep"))
    plt.close(fig)


# -- transfer against the control, the split and the single-source error (book chapter 7) ----------------------

def test_decomposition_figures_draw_finite_values_with_labels():
    res = _fake_decomposition()
    fig, ax = plt.subplots()
    out = tp.plot_gain_vs_overlap(ax, res)
    assert set(out) == {"0", "0.5", "0.9"}
    assert "Q_{st}" in ax.get_xlabel() and "control" in ax.get_ylabel()
    assert len(ax.get_legend().get_texts()) == 6
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(2, 3)
    tp.plot_single_source(axes, res)
    assert all(a.get_ylabel() for a in axes.ravel()) and all(a.get_xlabel() for a in axes[-1])
    assert any("single" in t.get_text() for t in axes[0, 0].get_legend().get_texts())
    assert any("Gibbs" in t.get_text() for t in axes[1, 0].get_legend().get_texts())
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)  # one row of errors, two relatedness values, no control
    tp.plot_single_source(axes, res, relations=(0, 0.9), rows=(("single_source_error",),), control=False)
    assert [a.get_title() for a in axes] == [r"$\rho = 0$", r"$\rho = 0.9$"]
    assert all("control" not in t.get_text() for t in axes[0].get_legend().get_texts())
    plt.close(fig)


def test_plot_transfer_control_adds_the_sampled_points(task):
    res = _fake_decomposition()
    gammas = np.array([0.0, 1.0, np.inf])
    runs = {0.0: tc.theory_along_gamma(make_transfer_task(60, 20, 80, 20, 0.0, teacher="erf", seed=2), 40, gammas,
                                       temperature=0.05, matched_prior=True),
            0.9: tc.theory_along_gamma(task, 40, gammas, temperature=0.05, matched_prior=True)}
    fig, axes = plt.subplots(1, 2)
    tp.plot_transfer_control(axes, runs, gammas, res)
    for ax in axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "transfer, sampled" in labels and "control, sampled" in labels
        assert ax.get_ylabel() and ax.get_xlabel()
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    tp.plot_transfer_control(axes, runs, gammas)  # theory only
    assert all("sampled" not in t.get_text() for t in axes[0].get_legend().get_texts())
    plt.close(fig)
