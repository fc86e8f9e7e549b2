r"""Exact computations with finite networks, used by part I of the book to check the theory.

Readout given the first layer
    Given the first-layer weights :math:`W`, the readout :math:`v` of
    :math:`f(x) = N_1^{-1/2}\sum_i v_i\,\sigma(w_i\cdot x/\sqrt{N_0})` has a Gaussian posterior
    (book, chapter "Bayesian networks as statistical mechanics"). :func:`readout_posterior` returns its
    exact averages (what the sampler records, "Rao-Blackwellized") and :func:`readout_draws` exact
    draws of :math:`|v|^2/N_1` and of the outputs, through :class:`~tflmini.sampling.sampler.CollapsedPosterior`.

Kernels over the prior
    :func:`prior_kernel_estimate` estimates :math:`K(x,x') = \mathbb E[\sigma(h)\sigma(h')]` by drawing
    hidden units from the prior (no posterior sampling: a few milliseconds), with a standard error, to
    compare with the closed forms of :mod:`tflmini.kernels`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_count, check_matrix, check_positive, check_random_state, check_targets
from ..kernels import get_activation
from .sampler import CollapsedPosterior

__all__ = ["readout_posterior", "readout_draws", "prior_kernel_estimate"]


def _posterior(X, y, W, temperature, lambda1, lambda0, activation):
    X = check_matrix(X, "X")
    y = check_targets(y, X.shape[0], "y")
    W = np.asarray(W, dtype=np.float64)
    if W.ndim == 2:
        W = W[None]
    if W.ndim != 3 or W.shape[2] != X.shape[1]:
        raise ValueError(f"W must have shape (N1, N0) or (n_chains, N1, N0) with N0 = {X.shape[1]}, got {W.shape}")
    post = CollapsedPosterior(X, y, W.shape[1], check_positive(temperature, "temperature"),
                              check_positive(lambda1, "lambda1"), get_activation(activation).name,
                              check_positive(lambda0, "lambda0"))
    _, _, state = post.likelihood(W, need_grad=False)
    return post, W, state


def readout_posterior(X, y, W, *, temperature, lambda1=1.0, lambda0=1.0, activation="erf", X_test=None,
                      y_test=None):
    r"""Exact averages over :math:`v\,|\,W` for one or several first layers ``W`` ((N1, N0) or (C, N1, N0)).

    Returns a dict of arrays over the C first layers: ``Q`` (:math:`\mathbb E[|v|^2\,|\,W]/N_1`),
    ``train_error``, and with test inputs ``test_mean`` and ``test_var`` ((C, M)), with test labels
    ``test_error`` (the Gibbs error given W).
    """
    post, W, state = _posterior(X, y, W, temperature, lambda1, lambda0, activation)
    if X_test is not None:
        X_test = check_matrix(X_test, "X_test")
        if y_test is not None:
            y_test = check_targets(y_test, X_test.shape[0], "y_test")
    obs = post.observables(W, state, X_test, y_test)
    obs.pop("v_mean", None)
    return obs


def readout_draws(X, y, W, *, temperature, n_draws, lambda1=1.0, lambda0=1.0, activation="erf", X_test=None,
                  seed=None):
    r"""Exact draws :math:`v\sim p(v\,|\,W)` for one or several first layers ``W``.

    Returns ``Q`` of shape (n_draws, C), the values :math:`|v|^2/N_1` of the draws, and with ``X_test``
    ``outputs`` of shape (n_draws, C, M), the network outputs :math:`f(x)` of the draws.
    """
    n_draws = check_count(n_draws, "n_draws")
    post, W, state = _posterior(X, y, W, temperature, lambda1, lambda0, activation)
    rng = check_random_state(seed)
    feats = None
    if X_test is not None:
        feats = post.features(W, check_matrix(X_test, "X_test")) * np.sqrt(post.lambda1)  # sigma(h)/sqrt(N1)
    Q, outputs = [], []
    for _ in range(n_draws):
        v = post.sample_readout(W, state, rng)  # (C, N1)
        Q.append(np.einsum("ci,ci->c", v, v) / post.n_hidden)
        if feats is not None:
            outputs.append(np.einsum("cmi,ci->cm", feats, v))
    out = {"Q": np.array(Q)}
    if feats is not None:
        out["outputs"] = np.array(outputs)
    return out


def prior_kernel_estimate(X1, X2=None, *, var1=1.0, var2=None, cov=None, activation="erf", n_units=20000,
                          seed=None):
    r"""Monte Carlo estimate of the kernel :math:`\mathbb E[\sigma(h(x))\,\sigma(h'(x'))]` over ``n_units``
    hidden units drawn from the prior, for every pair of rows of ``X1`` (P1, N0) and ``X2`` (P2, N0).

    The weight vectors acting on ``X1`` and ``X2`` have per-component variances ``var1``, ``var2`` and
    covariance ``cov`` (defaults as in :func:`tflmini.nngp_kernel`: one network). Returns
    ``(mean, se)``, two (P1, P2) arrays: the average over units and its standard error.
    """
    X1 = check_matrix(X1, "X1")
    X2 = X1 if X2 is None else check_matrix(X2, "X2")
    if X2.shape[1] != X1.shape[1]:
        raise ValueError("X1 and X2 must have the same number of columns N0")
    var1 = check_positive(var1, "var1")
    var2 = var1 if var2 is None else check_positive(var2, "var2")
    cov = var1 if cov is None else float(cov)
    if cov * cov > var1 * var2 * (1 + 1e-12):
        raise ValueError("cov**2 must not exceed var1*var2")
    n_units = check_count(n_units, "n_units")
    act = get_activation(activation)
    rng = check_random_state(seed)
    n0 = X1.shape[1]
    # w1 = sqrt(var1) z1;  w2 = (cov/var1) w1 + sqrt(var2 - cov^2/var1) z2  (per component)
    z1 = rng.standard_normal((n_units, n0))
    z2 = rng.standard_normal((n_units, n0))
    w1 = np.sqrt(var1) * z1
    w2 = (cov / var1) * w1 + np.sqrt(max(var2 - cov * cov / var1, 0.0)) * z2
    s1 = act.function(X1 @ w1.T / np.sqrt(n0))  # (P1, n_units)
    s2 = act.function(X2 @ w2.T / np.sqrt(n0))  # (P2, n_units)
    mean = s1 @ s2.T / n_units
    second = (s1**2) @ (s2**2).T / n_units
    se = np.sqrt(np.clip(second - mean**2, 0.0, None) / max(n_units - 1, 1))
    return mean, se
