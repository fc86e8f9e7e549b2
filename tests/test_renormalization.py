"""Single-network kernel renormalization: saddle point, limits, predictor, inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tflmini import KernelRenormalization, make_teacher_task, nngp_kernel
from tflmini.renormalization import ConvergenceError, KernelSpectrum, kr_action, solve_kr_saddle

TASK = make_teacher_task(80, 200, 10, teacher="erf", seed=3)


def gp_regression(K_train, K_cross, k_diag, y, temperature):
    """Plain GP regression by a linear solve (reference implementation)."""
    G = K_train + temperature * np.eye(len(y))
    mean = K_cross.T @ np.linalg.solve(G, y)
    var = k_diag - np.sum(K_cross * np.linalg.solve(G, K_cross), axis=0)
    return mean, var


@pytest.mark.parametrize("activation", ["erf", "linear", "relu"])
def test_saddle_is_the_minimum_of_the_action(activation):
    kr = KernelRenormalization(50, 0.1, lambda0=1.3, lambda1=0.8, activation=activation).fit(TASK.X_train, TASK.y_train)
    grid = np.linspace(0.2 * kr.Q_, 3 * kr.Q_, 2001)
    S = kr.action(grid)
    assert abs(grid[np.argmin(S)] - kr.Q_) < 2 * (grid[1] - grid[0])
    assert kr.solver_info_["residual"] < 1e-10
    # stationarity by finite differences
    h = 1e-6 * kr.Q_
    assert abs(kr.action(kr.Q_ + h) - kr.action(kr.Q_ - h)) / (2 * h) < 1e-6


def test_infinite_width_is_nngp_gp_regression():
    """n_hidden -> inf: Q -> 1/lambda1 and the predictor becomes GP regression with kernel K/lambda1."""
    lam0, lam1, T = 1.5, 2.0, 0.07
    K = nngp_kernel(TASK.X_train, var1=1 / lam0)
    Kc = nngp_kernel(TASK.X_train, TASK.X_test, var1=1 / lam0)
    kd = np.diag(nngp_kernel(TASK.X_test, var1=1 / lam0))
    mean_ref, var_ref = gp_regression(K / lam1, Kc / lam1, kd / lam1, TASK.y_train, T)
    exact = KernelRenormalization(np.inf, T, lam0, lam1).fit(TASK.X_train, TASK.y_train)
    assert exact.Q_ == 1 / lam1
    mean, var = exact.predict(TASK.X_test, return_var=True)
    np.testing.assert_allclose(mean, mean_ref, atol=1e-9)
    np.testing.assert_allclose(var, var_ref, atol=1e-9)
    # the finite-width theory converges to it like 1/N1
    gaps = []
    for n1 in (1e3, 1e4, 1e5, 1e6):
        kr = KernelRenormalization(n1, T, lam0, lam1).fit(TASK.X_train, TASK.y_train)
        gaps.append(abs(kr.Q_ - 1 / lam1))
    gaps = np.array(gaps)
    np.testing.assert_allclose(gaps[1:] / gaps[:-1], 0.1, rtol=0.05)
    assert gaps[-1] < 1e-5


def test_predictor_is_gp_with_renormalized_kernel():
    kr = KernelRenormalization(40, 0.05).fit(TASK.X_train, TASK.y_train)
    K = kr.renormalized_kernel(TASK.X_train)
    Kc = kr.renormalized_kernel(TASK.X_train, TASK.X_test)
    kd = np.diag(kr.renormalized_kernel(TASK.X_test))
    mean_ref, var_ref = gp_regression(K, Kc, kd, TASK.y_train, 0.05)
    mean, var = kr.predict(TASK.X_test, return_var=True)
    np.testing.assert_allclose(mean, mean_ref, atol=1e-9)
    np.testing.assert_allclose(var, var_ref, atol=1e-9)
    gibbs, mean_err = kr.gibbs_error(TASK.X_test, TASK.y_test), kr.mean_error(TASK.X_test, TASK.y_test)
    assert gibbs == pytest.approx(mean_err + var.mean())
    assert gibbs > mean_err > 0


def test_saddle_equation_by_hand():
    """2Q S'(Q) = lambda1 Q - 1 + (1/N1) sum [Q k/(Q k + T) - y~^2 Q k/(Q k + T)^2] = 0."""
    kr = KernelRenormalization(30, 0.2, lambda1=1.7).fit(TASK.X_train, TASK.y_train)
    k, yp, Q = kr.spectrum_.eigvals, kr.spectrum_.y_proj, kr.Q_
    g = Q * k + 0.2
    assert 1.7 * Q - 1 + np.sum(Q * k / g - yp**2 * Q * k / g**2) / 30 == pytest.approx(0, abs=1e-10)


def test_labels_drive_q_up_and_small_width_amplifies():
    """Larger labels need a larger readout norm; the effect is 1/N1."""
    q = [KernelRenormalization(n1, 0.05).fit(TASK.X_train, s * TASK.y_train).Q_ for n1 in (20, 200) for s in (0.5, 3.0)]
    assert q[1] > q[0] and q[3] > q[2]
    assert abs(q[1] - q[0]) > abs(q[3] - q[2])


def test_linear_network_zero_temperature_limit_interpolates():
    kr = KernelRenormalization(100, 1e-8, activation="linear").fit(TASK.X_train[:8], TASK.y_train[:8])
    np.testing.assert_allclose(kr.predict(TASK.X_train[:8]), TASK.y_train[:8], atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_permuting_training_points_changes_nothing(seed):
    perm = np.random.default_rng(seed).permutation(len(TASK.y_train))
    a = KernelRenormalization(60, 0.05).fit(TASK.X_train, TASK.y_train)
    b = KernelRenormalization(60, 0.05).fit(TASK.X_train[perm], TASK.y_train[perm])
    assert a.Q_ == pytest.approx(b.Q_, rel=1e-10)
    np.testing.assert_allclose(a.predict(TASK.X_test[:20]), b.predict(TASK.X_test[:20]), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(c=st.floats(0.2, 5.0), n1=st.sampled_from([7, 60, np.inf]))
def test_label_rescaling_symmetry(c, n1):
    """y -> c y, T -> c^2 T, lambda1 -> lambda1/c^2 maps the posterior onto itself with v -> c v:
    Q -> c^2 Q, predictions -> c x predictions, errors -> c^2 x errors (at any width)."""
    a = KernelRenormalization(n1, 0.1, lambda1=1.3).fit(TASK.X_train, TASK.y_train)
    b = KernelRenormalization(n1, 0.1 * c**2, lambda1=1.3 / c**2).fit(TASK.X_train, c * TASK.y_train)
    assert b.Q_ == pytest.approx(c**2 * a.Q_, rel=1e-8)
    np.testing.assert_allclose(b.predict(TASK.X_test[:10]), c * a.predict(TASK.X_test[:10]), rtol=1e-7, atol=1e-10)
    assert b.gibbs_error(TASK.X_test, c * TASK.y_test) == pytest.approx(c**2 * a.gibbs_error(TASK.X_test, TASK.y_test), rel=1e-7)


def test_solver_reports_every_stationary_point_and_picks_the_minimum():
    spec = KernelRenormalization(25, 0.01).fit(TASK.X_train, 4 * TASK.y_train).spectrum_
    Q, info = solve_kr_saddle(spec, 25, 0.01, 1.0)
    grid = np.geomspace(*info["bracket"], 4000)
    S = kr_action(grid, spec.eigvals, spec.y_proj, 25, 0.01)
    assert kr_action(Q, spec.eigvals, spec.y_proj, 25, 0.01) <= S.min() + 1e-9
    assert info["n_stationary_points"] >= 1


def test_kernel_spectrum_solve():
    K = nngp_kernel(TASK.X_train)
    spec = KernelSpectrum.from_kernel(K, TASK.y_train)
    b = np.random.default_rng(0).standard_normal((80, 3))
    np.testing.assert_allclose(spec.solve(0.7, 0.1, b), np.linalg.solve(0.7 * K + 0.1 * np.eye(80), b), atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"n_hidden": 0}, ValueError, "n_hidden"),
        ({"n_hidden": -5}, ValueError, "n_hidden"),
        ({"temperature": 0.0}, ValueError, "temperature"),
        ({"temperature": -1.0}, ValueError, "temperature"),
        ({"lambda0": 0.0}, ValueError, "lambda0"),
        ({"lambda1": -2.0}, ValueError, "lambda1"),
        ({"activation": "sigmoid"}, ValueError, "unknown activation"),
        ({"temperature": "hot"}, TypeError, "temperature"),
    ],
)
def test_bad_hyperparameters(kwargs, exc, match):
    args = {"n_hidden": 10, "temperature": 0.1, **kwargs}
    kr = KernelRenormalization(**args)  # stored as given (scikit-learn), checked in fit
    with pytest.raises(exc, match=match):
        kr.fit(TASK.X_train, TASK.y_train)


def test_bad_data():
    kr = KernelRenormalization(10, 0.1)
    with pytest.raises(ValueError, match="y has 79 labels"):
        kr.fit(TASK.X_train, TASK.y_train[:-1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        kr.fit(TASK.X_train[:, 0], TASK.y_train)
    with pytest.raises(ValueError, match="y must be 1-D"):
        kr.fit(TASK.X_train, np.ones((80, 2)))
    Xn = TASK.X_train.copy()
    Xn[3, 3] = np.inf
    with pytest.raises(ValueError, match="X contains NaN or infinite"):
        kr.fit(Xn, TASK.y_train)
    with pytest.raises(ValueError, match="at least 1 point"):
        kr.fit(TASK.X_train[:0], TASK.y_train[:0])
    with pytest.raises(RuntimeError, match="not fitted"):
        kr.predict(TASK.X_test)
    kr.fit(TASK.X_train, TASK.y_train)
    with pytest.raises(ValueError, match="input dimension 9"):
        kr.predict(TASK.X_test[:, :9])
    with pytest.raises(ValueError, match="Q must be > 0"):
        kr.action([-1.0, 1.0])


def test_single_point_and_duplicates_and_float32():
    kr = KernelRenormalization(5, 0.1).fit(TASK.X_train[:1], TASK.y_train[:1])
    assert np.isfinite(kr.Q_)
    Xd = np.vstack([TASK.X_train[:10], TASK.X_train[:10]])
    yd = np.concatenate([TASK.y_train[:10], TASK.y_train[:10]])
    kr = KernelRenormalization(20, 1e-6).fit(Xd, yd)
    assert np.all(np.isfinite(kr.predict(TASK.X_test)))
    a = KernelRenormalization(20, 0.1).fit(TASK.X_train.astype(np.float32), TASK.y_train.astype(np.float32))
    b = KernelRenormalization(20, 0.1).fit(TASK.X_train, TASK.y_train)
    assert a.Q_ == pytest.approx(b.Q_, rel=1e-5)


def test_convergence_error_is_a_runtime_error():
    assert issubclass(ConvergenceError, RuntimeError)


def test_scikit_learn_conventions_clone_and_params():
    from sklearn.base import clone

    kr = KernelRenormalization(30, 0.05, lambda0=1.2).fit(TASK.X_train, TASK.y_train)
    copy = clone(kr)
    assert copy.get_params() == kr.get_params() and not hasattr(copy, "Q_")
    other = clone(kr).set_params(n_hidden=np.inf).fit(TASK.X_train, TASK.y_train)
    assert other.Q_ == 1.0 and kr.n_hidden == 30
