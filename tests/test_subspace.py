"""The single-unit theory exact along one data-driven direction (tflmini.subspace): its kernel-renormalization
limit, the Mehler series, a non-normalisable measure, named bad inputs."""

import numpy as np
import pytest
from scipy.special import erf

from tflmini import KernelRenormalization, make_teacher_task
from tflmini.renormalization import ConvergenceError
from tflmini.subspace import SubspaceKernelRenormalization, _mehler_product, erf_gaussian_derivatives

TASK = make_teacher_task(40, 50, 50, teacher="erf", seed=3)


def test_mehler_series_is_the_gaussian_covariance():
    """Off-diagonal covariance of erf(a_mu + h_mu) for correlated Gaussian h, by Mehler's series, against a
    Gauss-Hermite sum over h_mu with E[erf(h_nu) | h_mu] in closed form."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((6, 30))
    S = Z @ Z.T / 30
    s = np.diag(S).copy()
    a = rng.normal(scale=0.8, size=6)
    vec = rng.normal(size=6)
    d = erf_gaussian_derivatives(a, s, 14)
    got = _mehler_product(S - np.diag(s), d, d, vec)
    t, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    cov = np.zeros((6, 6))
    for i in range(6):
        mean_j = a[None, :] + (S[i] / np.sqrt(s[i]))[None, :] * t[:, None]
        var_j = np.maximum(s - S[i] ** 2 / s[i], 0.0)
        cov[i] = (erf(a[i] + np.sqrt(s[i]) * t) * w) @ erf(mean_j / np.sqrt(1 + 2 * var_j)) \
            - erf(a[i] / np.sqrt(1 + 2 * s[i])) * erf(a / np.sqrt(1 + 2 * s))
    np.fill_diagonal(cov, 0.0)
    np.testing.assert_allclose(got, cov @ vec, atol=1e-8)


def test_reduces_to_kernel_renormalization_as_the_tilt_vanishes():
    """At fixed data the overlap keeps its prior and the theory returns kernel renormalization as the width
    grows (difference of order 1/N1)."""
    gaps = []
    for n1 in (100, 10000):
        sub = SubspaceKernelRenormalization(n1, 0.05).fit(TASK.X_train, TASK.y_train)
        kr = KernelRenormalization(n1, 0.05).fit(TASK.X_train, TASK.y_train)
        gaps.append((np.linalg.norm(sub.predict(TASK.X_test) - kr.predict(TASK.X_test))
                     / np.linalg.norm(kr.predict(TASK.X_test)), abs(sub.Q_ / kr.Q_ - 1), sub.overlap_rms_))
    assert gaps[1][0] < 3e-2 * gaps[0][0] and gaps[1][0] < 1e-4
    assert gaps[1][1] < 1e-6
    assert gaps[0][2] > 1.05 and gaps[1][2] == pytest.approx(1.0, abs=2e-3)  # prior: E[m^2] = 1/lambda0
    assert sub.mean_error(TASK.X_test, TASK.y_test) == pytest.approx(kr.mean_error(TASK.X_test, TASK.y_test),
                                                                     rel=1e-3)


def test_non_normalisable_measure_raises():
    task = make_teacher_task(160, 10, 20, teacher="erf", seed=1)
    with pytest.raises(ConvergenceError, match="not normalisable"):
        SubspaceKernelRenormalization(40, 0.05).fit(task.X_train, task.y_train)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(n_hidden=np.inf), ValueError, "n_hidden"), (dict(temperature=0.0), ValueError, "temperature"),
    (dict(lambda0=-1.0), ValueError, "lambda0"), (dict(n_overlap=0), ValueError, "n_overlap"),
    (dict(n_mehler=1.5), TypeError, "n_mehler"), (dict(tol=-1.0), ValueError, "tol"),
])
def test_bad_parameters_are_named(kwargs, error, name):
    params = dict(n_hidden=20, temperature=0.1)
    params.update(kwargs)
    with pytest.raises(error, match=name):
        SubspaceKernelRenormalization(**params).fit(TASK.X_train, TASK.y_train)


def test_predict_before_fit_and_bad_data():
    with pytest.raises(RuntimeError, match="not fitted"):
        SubspaceKernelRenormalization(20, 0.1).predict(TASK.X_test)
    est = SubspaceKernelRenormalization(200, 0.1).fit(TASK.X_train, TASK.y_train)
    with pytest.raises(ValueError, match="X"):
        est.predict(TASK.X_test[:, :5])
    with pytest.raises(ValueError, match="y"):
        SubspaceKernelRenormalization(20, 0.1).fit(TASK.X_train, TASK.y_train[:-1])
