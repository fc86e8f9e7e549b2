"""Plotting helpers: theory lines and simulation points drop non-finite values, figures are labelled,
and the NaN detector used by the widget tests does detect NaN."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tflmini import make_teacher_task, plotting  # noqa: E402
from tflmini.curves import TheoryOnData  # noqa: E402
from tflmini.results import load_input_dimension, load_validation, validation_series  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_theory_and_simulation_drop_non_finite(ax):
    line = plotting.plot_theory(ax, [1, 2, 3, 4], [1.0, np.nan, 3.0, np.inf], label="t")
    assert line.get_xydata().tolist() == [[1, 1], [3, 3]]
    bars = plotting.plot_simulation(ax, [1, 2, 3], [1.0, np.nan, 2.0], [0.1, 0.1, np.nan], label="s")
    assert np.asarray(bars.lines[0].get_xydata()).tolist() == [[1, 1], [3, 2]]
    for arr in plotting.plotted_arrays(ax.figure):
        assert np.all(np.isfinite(arr))


def test_nan_detector_detects_nan(ax):
    ax.plot([0, 1], [0, np.nan])
    assert any(not np.all(np.isfinite(a)) for a in plotting.plotted_arrays(ax.figure))


def test_width_colors_are_stable():
    assert plotting.width_color(200) == plotting.width_color(200.0)
    assert plotting.width_color(100) != plotting.width_color(800)
    assert plotting.width_color(np.inf) == plotting.NNGP_STYLE["color"]


def test_chapter_figures_are_labelled():
    data = load_validation()
    series = validation_series(data)
    task = make_teacher_task(40, 50, 10, teacher="erf", seed=0)
    theory = TheoryOnData(task.X_train, task.y_train, task.X_test, task.y_test)
    fig, axes = plt.subplots(2, 3)
    plotting.plot_validation(axes[0, 0], series, "gibbs_error", ylabel="Gibbs error")
    plotting.plot_validation_gap(axes[0, 1], series, "Q")
    plotting.plot_kernel_profiles(axes[0, 2], 2.0)
    q = plotting.plot_action_landscape(axes[1, 0], theory, 40, 0.05)
    assert q == pytest.approx(theory.saddle(40, 0.05))
    axes[1, 0].set_xlabel("Q")
    axes[1, 0].set_ylabel("S")
    plotting.plot_input_dimension(axes[1, 1:], load_input_dimension())
    for a in axes.flat:
        assert a.get_xlabel() and a.get_ylabel()
        for arr in plotting.plotted_arrays(fig):
            assert np.all(np.isfinite(arr))
    assert axes[0, 0].get_legend() is not None
    plt.close(fig)


def test_figure_png(ax):
    ax.plot([0, 1], [1, 0])
    assert plotting.figure_png(ax.figure).startswith(b"\x89PNG")
