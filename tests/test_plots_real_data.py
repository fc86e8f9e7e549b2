"""tflmini.plots.real_data: the real-data chapter's figures; its computations are tested in test_real_data.py, its
slider panel in test_widgets_digits.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tflmini.experiments import load  # noqa: E402
from tflmini.plots import plotted_arrays  # noqa: E402
from tflmini.plots.real_data import (WIDTH_COLORS, plot_benefit_vs_relatedness, plot_digits_catalogue,  # noqa: E402
                                    plot_digits_gamma, plot_digits_order_parameters, plot_digits_source_size,
                                    plot_digits_width, plot_source_check)


def test_figures_have_no_nan_and_readable_labels():
    fig = plt.figure(figsize=(10, 4), layout="constrained")
    rows = plot_digits_catalogue(fig)
    assert len(rows) == 5
    titles = [ax.get_title() for ax in fig.axes]
    assert any("ρ = 0." in t for t in titles) and not any("0.7954" in t for t in titles)
    plt.close(fig)
    sweep = load("digits_gamma_sweep")
    fig, axes = plt.subplots(2, 3, layout="constrained")
    handles, labels = plot_digits_gamma(axes, sweep)
    widths = [f"N1={w}" for w in sweep.parameters["theory"]["widths"]]
    colors = [WIDTH_COLORS[w] for w in widths]
    assert len(set(colors)) == len(colors)  # one colour per width
    assert len(labels) == len(set(labels))  # no repeated legend entries
    assert all(len(lab) < 70 for lab in labels)
    for arr in plotted_arrays(fig):
        assert np.all(np.isfinite(np.asarray(arr, dtype=float)))
    plt.close(fig)
    for draw, result, n in ((plot_digits_order_parameters, sweep, 3),
                            (plot_benefit_vs_relatedness, load("digits_relatedness_sweep"), 2),
                            (plot_digits_width, load("digits_width_effect"), 2),
                            (plot_digits_source_size, load("digits_source_size"), 2),
                            (plot_source_check, load("digits_source_size"), 3)):
        fig, axes = plt.subplots(1, n, layout="constrained")
        draw(axes, result)
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
        texts = [t.get_text() for leg in legends for t in leg.get_texts()]
        assert texts and not any(any(ch.isdigit() for ch in t) and len(t) > 80 for t in texts)
        for arr in plotted_arrays(fig):
            assert np.all(np.isfinite(np.asarray(arr, dtype=float)))
        plt.close(fig)


def test_relatedness_figure_does_not_join_separate_tasks():
    fig, axes = plt.subplots(1, 2)
    plot_benefit_vs_relatedness(axes, load("digits_relatedness_sweep"))
    for ax in axes:
        for line in ax.get_lines():
            if len(line.get_xdata()) > 1 and line.get_linestyle() not in ("None", "none", ""):
                assert np.ptp(np.asarray(line.get_ydata(), dtype=float)) == 0  # only the zero level is a line
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert all("ρ = " in t for t in ticks)
    plt.close(fig)
