"""Tests of tflmini.real_data_plots (the real-data chapter's computations, figures and slider panel)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tflmini.datasets import (digits_catalogue, digits_pair_training, load_digits_pool,  # noqa: E402
                              ridge_readout, task_relatedness)
from tflmini.experiments import load  # noqa: E402
from tflmini.plotting import plotted_arrays  # noqa: E402
from tflmini.real_data_plots import (WIDTH_COLORS, DigitsExplorer, agreement_summary,  # noqa: E402
                                     benefit_agreement, digits_panel, digits_pixel_mask, effective_dimension,
                                     independent_draw_leaks, input_statistics, leak_check,
                                     plot_benefit_vs_relatedness, plot_digits_catalogue, plot_digits_gamma,
                                     plot_digits_order_parameters, plot_digits_width, plot_source_check,
                                     plot_source_size, pooled_benefit, readout_template, relatedness_sensitivity,
                                     sampled_benefits, source_comparison, theory_vs_sampled)


@pytest.fixture(scope="module")
def explorer():
    return DigitsExplorer()


def test_pixel_mask_matches_pool():
    mask = digits_pixel_mask()
    X, _ = load_digits_pool()
    assert mask.shape == (8, 8)
    assert mask.sum() == X.shape[1] == 61


def test_templates_reproduce_relatedness():
    """The overlap of the templates' predictions on the two pairs' training images is the catalogue's relatedness."""
    mask = digits_pixel_mask().ravel()
    ws = readout_template((3, 8)).ravel()[mask]
    Xs, _ = digits_pair_training((3, 8))
    for row in digits_catalogue():
        wt = readout_template(row["target"]).ravel()[mask]
        R = np.r_[Xs, digits_pair_training(row["target"])[0]]
        fs, ft = R @ ws, R @ wt
        rho = fs @ ft / np.sqrt((fs @ fs) * (ft @ ft))
        assert rho == pytest.approx(row["relatedness"], rel=1e-10)
        assert rho >= 0  # targets are oriented


def test_template_is_ridge_solution():
    Xp, yp = digits_pair_training((2, 8))
    w = readout_template((2, 8), ridge=0.3).ravel()[digits_pixel_mask().ravel()]
    r = 0.3 * np.trace(Xp.T @ Xp) / Xp.shape[1]  # the penalty is relative to the input scale
    np.testing.assert_allclose(Xp.T @ (Xp @ w - yp) + r * w, 0.0, atol=1e-8)
    np.testing.assert_allclose(w, ridge_readout(Xp, yp, 0.3))
    assert task_relatedness(Xp, yp, Xp, yp) == pytest.approx(1.0)


def test_input_statistics_and_leaks():
    st = input_statistics()
    assert st["n0"] == 61 and sum(st["parts"].values()) == st["n_images"] == 1797
    assert 1 < st["n_eff_pair"] < st["n_eff_pool"] < st["n0"]
    assert st["standardised_norm_min"] < 1 < st["standardised_norm_max"]
    assert -1 < st["overlap_mean"] < 1 and st["overlap_abs_mean"] >= abs(st["overlap_mean"])
    leaks = leak_check(seeds=(0, 3), sizes=((30, 10, None),))
    assert leaks["n_tasks"] == 10 and leaks["n_test_rows"] > 0
    assert leaks["source_train_in_target_test"] == leaks["target_train_in_target_test"] == 0
    assert leaks["source_train_in_source_test"] == 0
    shared, n = independent_draw_leaks("close", n_source=160, n_target=20, seed=0)
    assert 0 < shared < n  # independent draws from one pool do share images
    assert independent_draw_leaks("unrelated")[0] == 0  # no digit in common with the source


def test_relatedness_sensitivity_table():
    t = relatedness_sensitivity()
    assert len(t["rows"]) == 6 and all(len(r["values"]) == len(t["columns"]) for r in t["rows"])
    for r, row in zip(t["rows"], digits_catalogue()):
        assert r["values"][0] == pytest.approx(row["relatedness"])  # the first column is the default
    values = np.array([r["values"] for r in t["rows"]])
    assert np.all((values >= 0) & (values <= 1))
    former_34 = t["rows"][-1]
    assert former_34["pair"] == (3, 4) and former_34["values"][-1] < 0.5 < former_34["values"][0]


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


def test_sampled_benefits_are_differences():
    r = load("digits_gamma_sweep")
    for metric in ("mean_error", "single_source_error"):
        b = sampled_benefits(r, "close", metric=metric)
        sim = r.simulation["results"]["close"][metric]["mean"]
        np.testing.assert_allclose(b["simulation"], sim[0] - np.asarray(sim))
        assert b["theory"][0] == 0.0 and np.isnan(b["ratio"][0]) and np.isnan(b["z"][0])
        assert np.all(b["se"][1:] > 0)
        np.testing.assert_allclose(b["ratio"][1:], b["simulation"][1:] / b["theory"][1:])
        np.testing.assert_allclose(b["z"][1:], (b["simulation"][1:] - b["theory"][1:]) / b["se"][1:])
    # at gamma = 0 the target ignores the source: one source or the average, the same error
    th = r.theory["curves"]["close"]["N1=100"]
    assert th["single_source_error"][0] == pytest.approx(th["mean_error"][0], rel=1e-10)


def test_theory_vs_sampled_and_agreement():
    r = load("digits_gamma_sweep")
    d = theory_vs_sampled(r, "close", "Q_st")
    assert d["theory"][0] == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(d["z"], (d["sampled"] - d["theory"]) / d["se"])
    a = agreement_summary(r, ["mean_error", "Q_st"])
    n_gammas, n_targets = len(r.simulation["gammas"]), len(r.simulation["results"])
    assert a["mean_error"]["n"] == n_gammas * n_targets
    assert a["Q_st"]["n"] == (n_gammas - 1) * n_targets  # gamma = 0 left out for Q_st
    assert 0 <= a["mean_error"]["fraction"] <= 1 and a["mean_error"]["within"] <= a["mean_error"]["n"]
    b = benefit_agreement(r, "single_source_error")
    assert b["n"] == (n_gammas - 1) * n_targets and 0 <= b["fraction"] <= 1


def test_source_comparison():
    c = source_comparison(load("digits_gamma_sweep"))
    for k in ("Q_s", "mean_error", "gibbs_error"):
        assert c[k]["theory"] > 0 and c[k]["sampled"] > 0 and c[k]["se"] > 0
        assert c[k]["z"] == pytest.approx((c[k]["sampled"] - c[k]["theory"]) / c[k]["se"])
    assert set(c["alignment"]) >= {"source", "close", "unrelated"}


def test_pooled_benefit():
    runs = [load(n) for n in ("digits_gamma_sweep", "digits_relatedness_sweep", "digits_width_effect",
                              "digits_source_size")]
    pb = pooled_benefit(runs, "close")
    assert len(pb["estimates"]) == 4  # one independent source sample per experiment
    vals = np.array([e[1] for e in pb["estimates"]])
    ses = np.array([e[2] for e in pb["estimates"]])
    assert vals.min() <= pb["pooled"] <= vals.max() and pb["pooled_se"] < ses.min()
    b = sampled_benefits(runs[0], "close")
    assert pb["theory"] == pytest.approx(b["theory"][-1])
    assert pb["estimates"][0][1] == pytest.approx(b["simulation"][-1])
    assert len(pooled_benefit(runs, "related")["estimates"]) == 2
    with pytest.raises(ValueError, match="no sampled benefit"):
        pooled_benefit(runs, "close", n_hidden=7)


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


def test_effective_dimension():
    rng = np.random.default_rng(0)
    assert effective_dimension(rng.standard_normal((20000, 10))) == pytest.approx(10, rel=0.02)
    line = np.outer(rng.standard_normal(500), np.ones(7))
    assert effective_dimension(line) == pytest.approx(1.0)
    X, _ = load_digits_pool()
    assert 1.0 < effective_dimension(X) < X.shape[1]
    with pytest.raises(ValueError):
        effective_dimension(np.ones((5, 3)))
