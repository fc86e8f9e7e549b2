"""tflmini.transfer_curves: the coupling grid, the theory along the coupling, the matched-prior control, the
best coupling, the predictor split and the gain over the control (computation only, no figures)."""

from __future__ import annotations

import numpy as np
import pytest

import tflmini.transfer_curves as tc
from tflmini import KernelRenormalization
from transfer_fakes import curve, task  # noqa: F401 (pytest fixtures)
from transfer_fakes import fake_decomposition as _fake_decomposition


def test_gamma_grid_ends_and_density():
    g = tc.gamma_grid(1e-2, 1e2, per_decade=2)
    assert g[0] == 0.0 and np.isinf(g[-1])
    assert np.allclose(g[1:-1], np.geomspace(1e-2, 1e2, 9))
    assert tc.gamma_grid(1e-2, 1e2, zero=False, infinity=False)[0] == pytest.approx(1e-2)
    with pytest.raises(ValueError):
        tc.gamma_grid(1.0, 0.5)


def test_theory_along_gamma_keeps_the_given_order(curve):
    assert list(curve["gammas"][:2]) == [np.inf, 0.0]
    assert curve["n_failed"] == 0
    assert curve["Q_st"][1] == pytest.approx(0.0, abs=1e-10) and curve["Q_tt"][1] == pytest.approx(0.0, abs=1e-10)
    for k in ("mean_error", "gibbs_error", "Q_s", "Q_t", "Q_st", "Q_tt", "matched_mean_error"):
        assert np.all(np.isfinite(curve[k])), k
    assert np.all(curve["gibbs_error"] >= curve["mean_error"])  # Gibbs error = mean error + variance


def test_matched_prior_control_is_scratch_at_both_ends(task, curve):
    # gamma = 0 and gamma = inf: c_tt = 1/lambda0, so the control is the network trained from scratch
    scratch = KernelRenormalization(40, 0.05).fit(task.target.X_train, task.target.y_train)
    e = float(np.mean((task.target.y_test - scratch.predict(task.target.X_test)) ** 2))
    for i in (0, 1):
        assert curve["matched_mean_error"][i] == pytest.approx(e, rel=1e-8)
    assert curve["mean_error"][1] == pytest.approx(e, rel=1e-8)  # transfer at gamma = 0 is scratch too
    # in between the prior variance is smaller: a different network
    assert curve["matched_mean_error"][2] != pytest.approx(e, rel=1e-6)


def test_lazy_limit_equals_the_matched_prior_control(task):
    c = tc.theory_along_gamma(task, np.inf, [0.0, 0.5, 1.0, 5.0, np.inf], temperature=0.05, matched_prior=True)
    assert np.allclose(c["mean_error"], c["matched_mean_error"], rtol=1e-9, atol=1e-12)
    assert np.allclose(c["Q_st"], 0.0) and np.allclose(c["Q_tt"], 0.0)


def test_optimal_gamma():
    # neighbours at gamma = 0 and inf have no logarithm: the grid point is kept
    assert tc.optimal_gamma([0.0, 1.0, np.inf], [0.3, 0.1, 0.2]) == (1.0, 0.1)
    assert tc.optimal_gamma([0.0, np.inf], [np.nan, 0.2]) == (np.inf, 0.2)
    g, e = tc.optimal_gamma([0.0, 1.0], [np.nan, np.nan])
    assert np.isnan(g) and np.isnan(e)
    with pytest.raises(ValueError, match="gammas and errors"):
        tc.optimal_gamma([0.0, 1.0], [0.1])


def test_optimal_gamma_recovers_the_minimum_of_a_parabola_in_log_gamma():
    gammas = np.r_[0.0, np.geomspace(0.01, 100.0, 9), np.inf]
    g_true, e_true = 0.37, 0.2
    errors = e_true + 0.05 * np.log(np.where(np.isfinite(gammas) & (gammas > 0), gammas, 1.0) / g_true) ** 2
    errors[0], errors[-1] = 0.5, 0.6  # the ends are not on the parabola
    g, e = tc.optimal_gamma(gammas, errors)
    assert g == pytest.approx(g_true, rel=1e-9) and e == pytest.approx(e_true, rel=1e-9)
    assert g not in gammas  # between grid points
    # a NaN neighbour: no refinement, the grid point is kept
    i = int(np.argmin(errors))
    holed = errors.copy()
    holed[i + 1] = np.nan
    assert tc.optimal_gamma(gammas, holed) == (gammas[i], errors[i])


def test_optimal_gamma_does_not_refine_the_ends():
    gammas = np.geomspace(0.1, 10.0, 5)
    rising = 0.1 + np.log(gammas) ** 2 + np.log(gammas)  # minimum of the parabola below the grid
    assert tc.optimal_gamma(gammas, np.r_[0.0, 1.0, 2.0, 3.0, 4.0]) == (0.1, 0.0)
    assert tc.optimal_gamma(gammas, np.r_[4.0, 3.0, 2.0, 1.0, 0.5]) == (10.0, 0.5)
    assert tc.optimal_gamma(np.r_[0.0, gammas], np.r_[0.05, rising]) == (0.0, 0.05)
    assert tc.optimal_gamma(np.r_[gammas, np.inf], np.r_[rising + 1.0, 0.05]) == (np.inf, 0.05)


def test_predictor_terms_add_up(task, curve):
    est = curve["estimators"][2]  # gamma = 1
    terms = tc.predictor_terms(est, task.target.X_test)
    assert np.allclose(terms["source"] + terms["residual"], est.predict(task.target.X_test), atol=1e-12)
    assert np.max(np.abs(terms["source"])) > 0
    at_zero = tc.predictor_terms(curve["estimators"][1], task.target.X_test)  # gamma = 0: nothing from the source
    assert np.allclose(at_zero["source"], 0.0, atol=1e-10)


def test_decomposition_gain_adds_up_and_vanishes_without_overlap():
    res = _fake_decomposition()
    for rel in ("0", "0.9"):
        for metric in ("mean_error", "gibbs_error", "single_source_error"):
            d = tc.decomposition_gain(res, rel, metric)
            th = d["theory"]
            assert np.allclose(th["carried"] + th["rest"], th["gain"])
            assert np.all(th["carried"][th["Q_st"] == 0] == 0)
            s = d["sampled"]
            assert s["gain"].shape == s["gain_se"].shape == (5,)
            assert np.allclose(s["gain_se"], np.hypot(2e-3, 2e-3))
    # the single-source control is the control's mean error (no source, no source variance)
    d = tc.decomposition_gain(res, 0.9, "single_source_error")
    c = res.theory["curves"]["0.9"]
    assert np.allclose(d["theory"]["gain"], c["control_mean_error"] - c["single_source_error"])


def test_frozen_transfer_curve_matches_the_estimators():
    from tflmini import FranzParisiTransfer, KernelRenormalization, make_transfer_task
    from tflmini.transfer_curves import frozen_transfer_curve

    small = make_transfer_task(60, 24, 50, 12, 0.8, teacher="erf", seed=4)
    S, T = small.source, small.target
    sizes = np.array([8, 24])
    c = frozen_transfer_curve(small, sizes, 30, 0.05)
    for i, P in enumerate(sizes):
        kr = KernelRenormalization(30, 0.05).fit(T.X_train[:P], T.y_train[:P])
        fp = FranzParisiTransfer(30, np.inf, 0.05).fit(S.X_train, S.y_train, T.X_train[:P], T.y_train[:P])
        assert c["scratch_mean_error"][i] == pytest.approx(kr.mean_error(T.X_test, T.y_test), rel=1e-9)
        assert c["frozen_mean_error"][i] == pytest.approx(fp.mean_error(T.X_test, T.y_test), rel=1e-9)
        assert c["frozen_single_source_error"][i] == pytest.approx(fp.single_source_error(T.X_test, T.y_test), rel=1e-9)
        assert c["frozen_single_source_error"][i] >= c["frozen_mean_error"][i]
