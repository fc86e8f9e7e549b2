"""The mean-field saddle over the units' empirical measure (tflmini.mean_field): stationarity, limits, the measured
gap to the sampled linear networks, inputs, and the cached comparison."""

import numpy as np
import pytest
from sklearn.base import clone

from tflmini import KernelRenormalization, make_teacher_task
from tflmini.mean_field import MeanFieldLinearNetwork, mean_field_objective
from tflmini.renormalization import ConvergenceError
from tflmini.results import ResultsError, mean_field_comparison

TASK = make_teacher_task(40, 200, 20, teacher="erf", seed=3)
X, y, Xt, yt = TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test


def test_the_fit_is_a_stationary_point_of_the_objective():
    """Directional derivatives of the variational objective vanish at the fitted weight covariance, and not at a
    perturbed one (so the check can fail)."""
    est = MeanFieldLinearNetwork(30, 0.05).fit(X, y)
    S = est.weight_covariance_
    rng = np.random.default_rng(0)
    h = 1e-5

    def slope(S0, E):
        return (mean_field_objective(S0 + h * E, X, y, 30, 0.05) - mean_field_objective(S0 - h * E, X, y, 30, 0.05)) / (2 * h)

    scale = abs(mean_field_objective(S, X, y, 30, 0.05))
    for _ in range(4):
        E = rng.standard_normal(S.shape)
        E = (E + E.T) / 2
        assert abs(slope(S, E)) < 1e-6 * scale
    E = np.eye(S.shape[0])
    assert abs(slope(1.05 * S, E)) > 1e-3 * scale


def test_infinite_width_is_the_untilted_prior():
    est = MeanFieldLinearNetwork(np.inf, 0.05, lambda0=2.0).fit(X, y)
    np.testing.assert_array_equal(est.weight_covariance_, np.eye(X.shape[1]) / 2.0)
    kr = KernelRenormalization(np.inf, 0.05, lambda0=2.0, activation="linear").fit(X, y)
    m, v = est.predict(Xt, return_var=True)
    m0, v0 = kr.predict(Xt, return_var=True)
    np.testing.assert_allclose(m, m0, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(v, v0, rtol=1e-9, atol=1e-12)


def test_the_tilt_fades_with_the_width():
    """The weight covariance approaches the prior like 1/N1 (the tilt's exponent carries 1/N1)."""
    dev = [np.max(np.abs(MeanFieldLinearNetwork(n1, 0.05).fit(X, y).weight_covariance_ - np.eye(X.shape[1])))
           for n1 in (25, 100, 400)]
    assert dev[0] > dev[1] > dev[2] > 0
    assert dev[1] / dev[2] == pytest.approx(4.0, rel=0.1)


def test_it_misses_the_renormalization_that_kernel_renormalization_gets():
    """The measured negative result of the book, on data of its own: at P/N1 = 1/4 the mean-field Gibbs error stays
    at the infinite-width network's, while kernel renormalization (exact for linear networks) is well below it."""
    task = make_teacher_task(25, 200, 50, teacher="erf", seed=4)  # P/N1 = 1/4, P/N0 = 1/2
    args = (task.X_train, task.y_train)
    mf = MeanFieldLinearNetwork(100, 0.05).fit(*args).gibbs_error(task.X_test, task.y_test)
    inf = KernelRenormalization(np.inf, 0.05, activation="linear").fit(*args).gibbs_error(task.X_test, task.y_test)
    kr = KernelRenormalization(100, 0.05, activation="linear").fit(*args).gibbs_error(task.X_test, task.y_test)
    assert abs(mf - inf) < 0.01 * inf
    assert kr < 0.97 * inf


def test_scikit_learn_conventions_and_inputs():
    est = MeanFieldLinearNetwork(30, 0.05, damping=0.3)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(RuntimeError, match="not fitted"):
        est.predict(Xt)
    with pytest.raises(ValueError, match="damping"):
        MeanFieldLinearNetwork(30, 0.05, damping=1.5).fit(X, y)
    with pytest.raises(ValueError, match="temperature"):
        MeanFieldLinearNetwork(30, -1.0).fit(X, y)
    with pytest.raises(ValueError, match="n_hidden"):
        MeanFieldLinearNetwork(0, 0.05).fit(X, y)
    with pytest.raises(ValueError, match="X"):
        est.fit(X[:, :, None], y)
    est.fit(X, y)
    with pytest.raises(ValueError):
        est.predict(Xt[:, :5])
    with pytest.raises(ConvergenceError, match="not converged"):
        MeanFieldLinearNetwork(30, 0.05, max_iter=2, tol=1e-15).fit(X, y)
    # a narrow network: the labels' tilt exceeds the prior's precision along the teacher direction
    with pytest.raises(ConvergenceError, match="not normalisable"):
        MeanFieldLinearNetwork(5, 0.05).fit(X, y)


def test_the_cached_comparison():
    t = mean_field_comparison()
    assert t["P"].size >= 6 and np.all(t["n_features"] == 50)
    # the same data as the sampled runs: kernel renormalization agrees with them there (linear networks)
    assert np.all(np.abs(t["scalar"] - t["sampled"]) <= 3 * t["sampled_se"] + 2e-3 * t["sampled"])
    small = t["alpha"] <= 0.25
    assert np.all(t["mean_field"][small] > t["sampled"][small] + 10 * t["sampled_se"][small])


def test_a_missing_comparison_names_its_command(tmp_path):
    with pytest.raises(ResultsError, match="mean_field_linear.py"):
        mean_field_comparison(path=tmp_path / "nothing.json")
