"""Tests of tflmini.real_data_plots (the real-data chapter's figures and slider panel); its computations are
tested in test_real_data.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tflmini.experiments import load  # noqa: E402
from tflmini.plotting import plotted_arrays  # noqa: E402
from tflmini.real_data_plots import (WIDTH_COLORS, DigitsExplorer, digits_panel,  # noqa: E402
                                     plot_benefit_vs_relatedness, plot_digits_catalogue, plot_digits_gamma,
                                     plot_digits_order_parameters, plot_digits_width, plot_source_check,
                                     plot_source_size)


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
                            (plot_source_size, load("digits_source_size"), 2),
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
