"""Tests of tflmini.real_data (the real-data chapter's computations: inputs, split, relatedness, theory against
sampled networks)."""

from __future__ import annotations

import numpy as np
import pytest

from tflmini.datasets import (digits_catalogue, digits_pair_training, load_digits_pool, ridge_readout,
                              task_relatedness)
from tflmini.experiments import load
from tflmini.real_data import (agreement_summary, benefit_agreement, digits_pixel_mask, effective_dimension,
                               independent_draw_leaks, input_statistics, leak_check, pooled_benefit, readout_template,
                               relatedness_sensitivity, sampled_benefits, source_comparison, theory_vs_sampled)


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


def test_effective_dimension():
    rng = np.random.default_rng(0)
    assert effective_dimension(rng.standard_normal((20000, 10))) == pytest.approx(10, rel=0.02)
    line = np.outer(rng.standard_normal(500), np.ones(7))
    assert effective_dimension(line) == pytest.approx(1.0)
    X, _ = load_digits_pool()
    assert 1.0 < effective_dimension(X) < X.shape[1]
    with pytest.raises(ValueError):
        effective_dimension(np.ones((5, 3)))
