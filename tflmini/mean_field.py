r"""The mean-field theory of the hidden units' empirical measure, solved for a linear network (book chapter 9,
section "A single-unit theory beyond Gaussian equivalence"): the plainest form of a self-consistent, data-tilted
kernel, and the measurement of why the adaptive theory (:mod:`tflmini.adaptive`) does not use it.

Model and conventions as in :mod:`tflmini.renormalization`. Given the first layer W, the readout integrates
exactly: :math:`y\,|\,W \sim \mathcal N(0, K_W + TI)` with
:math:`K_W = \frac{1}{\lambda_1N_1}\sum_i\sigma(Xw_i/\sqrt{N_0})\,\sigma(Xw_i/\sqrt{N_0})^\top`, a function of the
empirical measure :math:`\mu = N_1^{-1}\sum_i\delta_{w_i}` alone. Giving :math:`\mu` the probability
:math:`\exp[-N_1\mathrm{KL}(\mu\,\|\,\pi)]` of independent prior draws (Sanov's theorem: exact as :math:`N_1\to\infty`
at fixed :math:`N_0` and P) leaves the variational problem

.. math::

   \max_\mu\; -N_1\,\mathrm{KL}(\mu\,\|\,\pi) - \tfrac12\log\det(K_\mu + TI)
   - \tfrac12\,y^\top(K_\mu + TI)^{-1}y,\qquad K_\mu = \mathbb E_\mu[\sigma\sigma^\top]/\lambda_1,

stationary at :math:`\mu(w)\propto\pi(w)\exp[\sigma^\top(aa^\top - G)\sigma/(2\lambda_1N_1)]`,
:math:`G = (K_\mu + TI)^{-1}`, :math:`a = Gy`: every unit's weights tilted by the labels through the kernel
itself. For a linear unit, :math:`\sigma = Xw/\sqrt{N_0}`, the tilt is quadratic in w and :math:`\mu = \mathcal N(0, S)`:

.. math::

   S^{-1} = \lambda_0 I + \frac{X^\top(G - aa^\top)X}{\lambda_1N_1N_0},\qquad K_\mu = \frac{XSX^\top}{\lambda_1N_0},

solved here by damped fixed-point iteration. The predictor is the Gaussian process with kernel :math:`K_\mu`.
With :math:`S = I/\lambda_0` (no tilt) it is the infinite-width network; kernel renormalization instead
rescales the prior kernel by one scalar. Measured against the sampled linear networks
(``scripts/mean_field_linear.py``), this saddle is not exact where kernel renormalization is: the probability
of the empirical measure of :math:`N_1` units in :math:`N_0` dimensions is not :math:`\exp(-N_1\mathrm{KL})` when
:math:`N_0` is comparable to :math:`N_1`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ._validation import check_count, check_hidden_units, check_matrix, check_positive, check_same_dim, check_targets
from .renormalization import ConvergenceError, KernelRenormalization

__all__ = ["MeanFieldLinearNetwork", "mean_field_objective"]


def mean_field_objective(S, X, y, n_hidden, temperature, lambda0=1.0, lambda1=1.0):
    r"""The variational objective of the module docstring on Gaussian measures :math:`\mu = \mathcal N(0, S)` of a
    linear unit: :math:`-N_1\mathrm{KL} - \frac12\log\det(K_S + TI) - \frac12 y^\top(K_S+TI)^{-1}y` with
    :math:`\mathrm{KL} = \frac12[\lambda_0\mathrm{Tr}\,S - N_0 - \log\det(\lambda_0S)]` and
    :math:`K_S = XSX^\top/(\lambda_1N_0)`. Its stationary point is :class:`MeanFieldLinearNetwork`'s S."""
    S = np.asarray(S, dtype=np.float64)
    n0 = X.shape[1]
    _, logdet_s = np.linalg.slogdet(lambda0 * S)
    kl = 0.5 * (lambda0 * np.trace(S) - n0 - logdet_s)
    C = X @ S @ X.T / (lambda1 * n0) + temperature * np.eye(X.shape[0])
    _, logdet_c = np.linalg.slogdet(C)
    return float(-n_hidden * kl - 0.5 * logdet_c - 0.5 * y @ np.linalg.solve(C, y))


class MeanFieldLinearNetwork(RegressorMixin, BaseEstimator):
    r"""The mean-field (Sanov) saddle over the units' empirical measure for a linear one-hidden-layer network
    (module docstring): the weight covariance :math:`S` of the tilted unit measure, solved self-consistently, and
    the Gaussian-process predictor with kernel :math:`XSX^\top/(\lambda_1N_0)`.

    Parameters: ``n_hidden`` (:math:`N_1`, int or inf: inf gives the untilted prior, the infinite-width network),
    ``temperature``, ``lambda0``, ``lambda1``, ``damping`` (in (0, 1]: the share of the new S taken at each
    iteration), ``tol`` (largest change of S relative to its largest entry), ``max_iter``.

    Fitted attributes: ``weight_covariance_`` (S, (N0, N0)), ``n_iter_``, ``n_features_in_``. Raises
    :class:`~tflmini.renormalization.ConvergenceError` if the iteration does not converge or leaves the region
    where the tilted measure is normalisable (:math:`S^{-1}` positive definite).
    """

    def __init__(self, n_hidden, temperature, lambda0=1.0, lambda1=1.0, damping=0.5, tol=1e-12, max_iter=5000):
        self.n_hidden = n_hidden
        self.temperature = temperature
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.damping = damping
        self.tol = tol
        self.max_iter = max_iter

    def _checked_params(self):
        damping = check_positive(self.damping, "damping")
        if damping > 1:
            raise ValueError(f"damping must be in (0, 1], got {damping}")
        return {"n_hidden": check_hidden_units(self.n_hidden), "temperature": check_positive(self.temperature, "temperature"),
                "lambda0": check_positive(self.lambda0, "lambda0"), "lambda1": check_positive(self.lambda1, "lambda1"),
                "damping": damping, "tol": check_positive(self.tol, "tol"), "max_iter": check_count(self.max_iter, "max_iter")}

    def fit(self, X, y):
        """Solve :math:`S^{-1} = \\lambda_0 I + X^\\top(G - aa^\\top)X/(\\lambda_1N_1N_0)` (module docstring)."""
        p = self._checked_params()
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        P, n0 = X.shape
        S = np.eye(n0) / p["lambda0"]
        it = 0
        if np.isfinite(p["n_hidden"]):
            scale = p["lambda1"] * p["n_hidden"] * n0
            for it in range(1, p["max_iter"] + 1):
                C = X @ S @ X.T / (p["lambda1"] * n0)
                C[np.diag_indices(P)] += p["temperature"]
                G = np.linalg.inv(C)
                a = G @ y
                M = p["lambda0"] * np.eye(n0) + X.T @ (G - np.outer(a, a)) @ X / scale
                M = 0.5 * (M + M.T)
                try:
                    L = np.linalg.cholesky(M)
                except np.linalg.LinAlgError:
                    raise ConvergenceError(
                        f"mean-field saddle: the tilted unit measure is not normalisable at iteration {it} (the "
                        "precision lambda0 I + X^T (G - a a^T) X / (lambda1 N1 N0) is not positive definite)") from None
                Li = np.linalg.inv(L)
                S_new = (1 - p["damping"]) * S + p["damping"] * (Li.T @ Li)
                change = np.max(np.abs(S_new - S)) / np.max(np.abs(S_new))
                S = S_new
                if change <= p["tol"]:
                    break
            else:
                raise ConvergenceError(f"mean-field saddle not converged after {p['max_iter']} iterations "
                                       f"(last relative change of S {change:.3g})")
        self.weight_covariance_, self.n_iter_, self.n_features_in_ = S, it, n0
        self.X_train_, self.y_train_ = X, y
        C = X @ S @ X.T / (p["lambda1"] * n0)
        C[np.diag_indices(P)] += p["temperature"]
        self._chol = np.linalg.cholesky(C)
        return self

    def _check_fitted(self):
        if not hasattr(self, "weight_covariance_"):
            raise RuntimeError("this MeanFieldLinearNetwork is not fitted yet: call fit(X, y)")

    def predict(self, X, return_var=False):
        r"""Posterior mean :math:`k^\top(K_\mu + TI)^{-1}y` (and with ``return_var`` the variance
        :math:`k(x,x) - k^\top(K_\mu+TI)^{-1}k`) of the Gaussian process with kernel :math:`XSX^\top/(\lambda_1N_0)`."""
        self._check_fitted()
        X = check_matrix(X, "X")
        check_same_dim(X, self.n_features_in_)
        n0, lam1 = self.n_features_in_, check_positive(self.lambda1, "lambda1")
        SX = self.weight_covariance_ @ X.T
        k = self.X_train_ @ SX / (lam1 * n0)  # (P, M)
        w = np.linalg.solve(self._chol, k)  # L^{-1} k
        z = np.linalg.solve(self._chol, self.y_train_)
        mean = w.T @ z
        if not return_var:
            return mean
        var = np.einsum("ij,ji->i", X, SX) / (lam1 * n0) - np.einsum("pm,pm->m", w, w)
        return mean, np.clip(var, 0.0, None)

    # the test errors of a Gaussian predictor (mean and variance from predict), as for kernel renormalization
    mean_error = KernelRenormalization.mean_error
    gibbs_error = KernelRenormalization.gibbs_error
