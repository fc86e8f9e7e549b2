"""Directional kernel renormalization (tflmini.directional): the linear limit, the quadrature against the NNGP kernel,
agreement with the scalar theory at small P/N0, inputs, and the cached comparison with the sampled networks."""

import numpy as np
import pytest
from sklearn.base import clone

from tflmini import KernelRenormalization, make_teacher_task
from tflmini.directional import DirectionalKernelRenormalization, _split, directional_moments, label_direction
from tflmini.kernels import get_activation, nngp_kernel
from tflmini.renormalization import ConvergenceError
from tflmini.results import ResultsError, directional_comparison

TASK = make_teacher_task(60, 150, 30, teacher="erf", seed=1)
X, y, Xt, yt = TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test


def test_a_linear_network_with_the_trace_term_is_kernel_renormalization():
    d = DirectionalKernelRenormalization(80, 0.05, activation="linear", quadratic_term="trace", m_max=12, n_m=97)
    d.fit(X, y)
    kr = KernelRenormalization(80, 0.05, activation="linear").fit(X, y)
    assert d.Q_ == pytest.approx(kr.Q_, rel=1e-10)
    (m1, v1), (m0, v0) = d.predict(Xt, return_var=True), kr.predict(Xt, return_var=True)
    np.testing.assert_allclose(m1, m0, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(v1, v0, rtol=1e-9, atol=1e-12)
    # the exact quadratic term differs from it, at order 1/N1
    de = DirectionalKernelRenormalization(80, 0.05, activation="linear", m_max=12, n_m=97).fit(X, y)
    assert 1e-6 < abs(de.Q_ / kr.Q_ - 1) < 0.05


def test_the_grid_and_quadrature_reproduce_the_nngp_kernel():
    """Under the prior of m, E_m[s_m s_m^T + C_m] is the erf kernel: checks the moments and the folded grid."""
    est = DirectionalKernelRenormalization(80, 0.05)
    p = est.get_params()
    split = _split(X, X, label_direction(X, y), 1.0)
    grid = np.linspace(0, p["m_max"], p["n_m"])
    h = grid[1]
    weights = np.full(grid.size, 2 * h) * np.exp(-grid**2 / 2)
    weights[0] /= 2
    weights[-1] /= 2
    weights /= weights.sum()
    K = sum(w * (np.outer(s, s) + C) for w, (s, _, C) in
            zip(weights, (directional_moments(m, split, get_activation("erf"), p["n_quad"]) for m in grid)))
    np.testing.assert_allclose(K, nngp_kernel(X), atol=1e-6)


def test_erf_agrees_with_the_scalar_theory_at_small_P_over_N0():
    task = make_teacher_task(25, 150, 50, teacher="erf", seed=2)
    args = (task.X_train, task.y_train)
    d = DirectionalKernelRenormalization(100, 0.05).fit(*args)
    kr = KernelRenormalization(100, 0.05).fit(*args)
    assert d.gibbs_error(task.X_test, task.y_test) == pytest.approx(kr.gibbs_error(task.X_test, task.y_test), rel=0.01)
    assert d.Q_ == pytest.approx(kr.Q_, rel=0.01)
    assert d.edge_mass_ < 1e-6 and d.m2_ > 1.0  # a tilt towards the labels' direction, inside the grid


def test_scikit_learn_conventions_and_inputs():
    est = DirectionalKernelRenormalization(80, 0.05, n_m=21)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(RuntimeError, match="not fitted"):
        est.predict(Xt)
    for kw, name in (({"quadratic_term": "full"}, "quadratic_term"), ({"activation": "relu"}, "activation"),
                     ({"n_m": 2}, "n_m"), ({"m_max": 0.0}, "m_max"), ({"n_hidden": np.inf}, "n_hidden"),
                     ({"temperature": -1.0}, "temperature")):
        with pytest.raises(ValueError, match=name):
            clone(est).set_params(**kw).fit(X, y)
    with pytest.raises(ValueError, match="no direction"):
        label_direction(X, np.zeros(len(y)))
    with pytest.raises(ConvergenceError, match="not converged at T"):
        clone(est).set_params(max_iter=1, tol=1e-14).fit(X, y)
    est.fit(X, y)
    with pytest.raises(ValueError):
        est.predict(Xt[:, :5])


def test_the_cached_comparison():
    t = directional_comparison()
    erf = np.array([a == "erf" for a in t["activation"]])
    assert erf.sum() >= 10 and (~erf).sum() >= 4
    # the same data as the sampled runs: the scalar theory there is the cached one (checked by the script); the
    # linear points with the trace term are kernel renormalization
    lin = ~erf & t["converged_trace"]
    np.testing.assert_allclose(t["trace"][lin], t["scalar"][lin], rtol=1e-6)
    assert np.all(np.isfinite(t["sampled"])) and np.all(t["sampled_se"] > 0)


def test_a_missing_comparison_names_its_command(tmp_path):
    with pytest.raises(ResultsError, match="directional_vs_sampler.py"):
        directional_comparison(path=tmp_path / "nothing.json")
