"""NNGP kernels: closed forms against Monte Carlo, symmetry, positive semi-definiteness, inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tflmini import ACTIVATIONS, get_activation, nngp_diagonal, nngp_kernel
from tflmini.kernels import input_overlaps

RNG = np.random.default_rng(0)
X1 = RNG.standard_normal((4, 6))
X2 = RNG.standard_normal((3, 6))
WEIGHT_STATS = [(1.0, None, None), (0.7, 1.3, 0.5), (2.0, 0.5, -0.9), (1.0, 1.0, 0.0)]


def monte_carlo_kernel(X1, X2, var1, var2, cov, activation, n=400_000, seed=1):
    """E[sigma(w1.x/sqrt(N0)) sigma(w2.x'/sqrt(N0))] over correlated Gaussian weight vectors."""
    rng = np.random.default_rng(seed)
    var2 = var1 if var2 is None else var2
    cov = var1 if cov is None else cov
    n0 = X1.shape[1]
    chol = np.linalg.cholesky(np.array([[var1, cov], [cov, var2]]) + 1e-15 * np.eye(2))
    z = rng.standard_normal((n, 2, n0))
    w = np.einsum("ab,nbi->nai", chol, z)
    sig = ACTIVATIONS[activation].function
    a = sig(w[:, 0] @ X1.T / np.sqrt(n0))  # (n, P1)
    b = sig(w[:, 1] @ X2.T / np.sqrt(n0))
    prod = a[:, :, None] * b[:, None, :]
    return prod.mean(axis=0), prod.std(axis=0) / np.sqrt(n)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("stats", WEIGHT_STATS)
def test_closed_form_matches_monte_carlo(activation, stats):
    var1, var2, cov = stats
    K = nngp_kernel(X1, X2, var1=var1, var2=var2, cov=cov, activation=activation)
    mc, se = monte_carlo_kernel(X1, X2, var1, var2, cov, activation)
    z = (K - mc) / np.maximum(se, 1e-12)
    assert np.max(np.abs(z)) < 4.5, f"max |z| = {np.max(np.abs(z)):.2f}"


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_diagonal_matches_full_kernel(activation):
    K = nngp_kernel(X1, var1=0.8, activation=activation)
    np.testing.assert_allclose(nngp_diagonal(X1, var=0.8, activation=activation), np.diag(K), rtol=1e-12)


def test_linear_kernel_is_scaled_overlap():
    K = nngp_kernel(X1, X2, var1=2.0, var2=0.5, cov=0.3, activation="linear")
    np.testing.assert_allclose(K, 0.3 * X1 @ X2.T / X1.shape[1])


def test_odd_activation_kernel_vanishes_for_independent_weights():
    for act in ("erf", "linear"):
        assert np.all(nngp_kernel(X1, X2, var1=1.0, var2=2.0, cov=0.0, activation=act) == 0)


def test_swapping_sides_transposes():
    K12 = nngp_kernel(X1, X2, var1=0.7, var2=1.3, cov=0.5)
    K21 = nngp_kernel(X2, X1, var1=1.3, var2=0.7, cov=0.5)
    np.testing.assert_allclose(K12, K21.T, rtol=1e-13)


matrices = st.integers(2, 12).flatmap(
    lambda p: st.integers(1, 8).flatmap(
        lambda n0: st.lists(st.floats(-3, 3, allow_nan=False), min_size=p * n0, max_size=p * n0).map(
            lambda v: np.array(v).reshape(p, n0))))


@settings(max_examples=60, deadline=None)
@given(X=matrices, var=st.floats(0.05, 5.0), activation=st.sampled_from(sorted(ACTIVATIONS)))
def test_kernel_symmetric_and_psd(X, var, activation):
    K = nngp_kernel(X, var1=var, activation=activation)
    np.testing.assert_allclose(K, K.T, atol=1e-12)
    assert np.linalg.eigvalsh(K).min() > -1e-9 * max(1.0, np.abs(K).max())


@settings(max_examples=40, deadline=None)
@given(X=matrices, c1=st.floats(0.1, 3), c2=st.floats(0.1, 3), rho=st.floats(-1, 1))
def test_joint_kernel_of_two_networks_is_psd(X, c1, c2, rho):
    """The (2P x 2P) kernel of outputs of two correlated networks is a covariance: PSD."""
    cov = rho * np.sqrt(c1 * c2)
    K11 = nngp_kernel(X, var1=c1)
    K22 = nngp_kernel(X, var1=c2)
    K12 = nngp_kernel(X, X, var1=c1, var2=c2, cov=cov)
    joint = np.block([[K11, K12], [K12.T, K22]])
    assert np.linalg.eigvalsh(joint).min() > -1e-9


def test_input_overlaps():
    c11, c22, c12 = input_overlaps(X1, X2)
    np.testing.assert_allclose(c12, X1 @ X2.T / 6)
    np.testing.assert_allclose(c11, np.sum(X1**2, axis=1) / 6)
    np.testing.assert_allclose(c22, np.sum(X2**2, axis=1) / 6)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"activation": "tanh"}, ValueError, "unknown activation"),
        ({"activation": 3}, TypeError, "activation"),
        ({"var1": -1.0}, ValueError, "var1"),
        ({"var1": 1.0, "var2": 2.0}, ValueError, "cov"),
        ({"var1": 1.0, "var2": 1.0, "cov": 2.0}, ValueError, "cov"),
        ({"var1": float("nan")}, ValueError, "var1"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        nngp_kernel(X1, X2, **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="X2 has input dimension"):
        nngp_kernel(X1, RNG.standard_normal((3, 5)))
    with pytest.raises(ValueError, match="X1 must be 2-D"):
        nngp_kernel(X1[0])
    bad = X1.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        nngp_kernel(bad)
    assert get_activation("erf") is ACTIVATIONS["erf"]
