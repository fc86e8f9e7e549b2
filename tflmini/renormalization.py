r"""Kernel renormalization of a single one-hidden-layer Bayesian network (proportional limit).

Model (book, chapter "Kernel renormalization"):
:math:`f(x) = N_1^{-1/2}\sum_i v_i\,\sigma(w_i\cdot x/\sqrt{N_0})`, posterior
:math:`\propto \exp[-\tfrac{1}{2T}\sum_\mu (y_\mu - f(x_\mu))^2 - \tfrac{\lambda_0}{2}|W|^2 - \tfrac{\lambda_1}{2}|v|^2]`.

In the limit :math:`P, N_1\to\infty` with :math:`\alpha = P/N_1` fixed, the readout order parameter
:math:`Q = |v|^2/N_1` concentrates on the minimum of the effective action

.. math::

   S(Q) = -\tfrac12\left[\log Q - \lambda_1 Q\right]
          + \tfrac{1}{2N_1}\left[\log\det(QK + T\,I) + y^\top (QK + T\,I)^{-1} y\right],

with :math:`K` the NNGP kernel of weight variance :math:`1/\lambda_0` on the training inputs, and the
predictor is Gaussian-process regression with the renormalized kernel :math:`Q^* K` and noise
:math:`T`. One eigendecomposition :math:`K = U\,\mathrm{diag}(k)\,U^\top` makes every evaluation O(P).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from sklearn.base import BaseEstimator, RegressorMixin

from ._threads import single_thread
from ._validation import check_hidden_units, check_matrix, check_positive, check_same_dim, check_targets
from .kernels import get_activation, nngp_diagonal, nngp_kernel

__all__ = [
    "KernelSpectrum",
    "kr_action",
    "kr_saddle_residual",
    "solve_kr_saddle",
    "gp_posterior",
    "KernelRenormalization",
    "ConvergenceError",
    "NoStationaryPointError",
]


class ConvergenceError(RuntimeError):
    """A saddle-point solver did not reach its tolerance; the message gives the residual."""


class NoStationaryPointError(ConvergenceError):
    """No stationary point of the action exists in the admissible region (the message says why): not a failure
    of the solver to converge but a property of the problem, e.g. the branch of stationary points continued
    from a known solution reaches the boundary of the admissible region or turns back (a fold)."""


def rounding_floor(eigvals, size):
    r"""The level below which eigenvalues of a kernel matrix of ``size`` rows are rounding noise:
    :math:`16P\epsilon` times the largest (an eigendecomposition perturbs every eigenvalue by about
    :math:`P\epsilon\|K\|`). Such eigenvalues are treated as exact zeros: kept, a factor :math:`Q/T` that can
    exceed :math:`1/\epsilon` (large labels, small temperatures) would let their sign and size decide the result."""
    return 16 * size * np.finfo(float).eps * max(float(np.max(eigvals)), 0.0)


@dataclass(frozen=True)
class KernelSpectrum:
    r"""Eigendecomposition :math:`K = U\,\mathrm{diag}(k)\,U^\top` and projected labels :math:`\tilde y = U^\top y`.

    Attributes: ``eigvals`` (P,), with eigenvalues at the rounding level (:func:`rounding_floor`, including
    negative ones) set to exactly 0; ``eigvecs`` (P, P); ``y_proj`` (P,).
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    y_proj: np.ndarray

    @classmethod
    def from_kernel(cls, K, y):
        k, U = np.linalg.eigh(0.5 * (K + K.T))
        k = np.where(k > rounding_floor(k, k.size), k, 0.0)
        return cls(k, U, U.T @ y)

    def solve(self, scale, temperature, b):
        r""":math:`(\text{scale}\,K + T I)^{-1} b` for a vector or matrix ``b``."""
        denom = scale * self.eigvals + temperature
        proj = self.eigvecs.T @ b
        proj = proj / (denom if proj.ndim == 1 else denom[:, None])
        return self.eigvecs @ proj

    def solve_on_range(self, scale, temperature, b):
        r""":math:`(\text{scale}\,K + T I)^{-1} b` on the range of K (the eigenvectors of nonzero eigenvalues), for
        vectors b that lie in it, as every kernel column :math:`K(X, x)` does (the joint kernel is positive
        semidefinite): exact for them, and their rounding-level components outside the range, which
        :math:`1/T` would amplify, are dropped. Equal to :meth:`solve` when K has full rank."""
        keep = self.eigvals > 0
        if keep.all():
            return self.solve(scale, temperature, b)
        U = self.eigvecs[:, keep]
        denom = scale * self.eigvals[keep] + temperature
        proj = U.T @ b
        proj = proj / (denom if proj.ndim == 1 else denom[:, None])
        return U @ proj


def kr_action(Q, eigvals, y_proj, n_hidden, temperature, lambda1=1.0):
    r"""Effective action :math:`S(Q)` of one network (per hidden unit), vectorised over ``Q``.

    :math:`S(Q) = -\frac12[\log Q - \lambda_1 Q] + \frac{1}{2N_1}\sum_i\big[\log(Qk_i+T) + \tilde y_i^2/(Qk_i+T)\big]`.
    ``n_hidden = inf`` drops the data term (the infinite-width limit).
    """
    Q = np.asarray(Q, dtype=np.float64)
    prior = -0.5 * (np.log(Q) - lambda1 * Q)
    if np.isinf(n_hidden):
        return prior
    g = Q[..., None] * eigvals + temperature
    data = np.sum(np.log(g) + y_proj**2 / g, axis=-1)
    return prior + data / (2.0 * n_hidden)


def kr_saddle_scale(Q, eigvals, y_proj, n_hidden, temperature, lambda1=1.0):
    r"""Natural scale of :math:`2QS'(Q)`: the sum of the absolute values of its terms,
    :math:`\lambda_1Q + 1 + \frac{1}{N_1}\sum_i\big[\frac{Qk_i}{Qk_i+T} + \frac{\tilde y_i^2Qk_i}{(Qk_i+T)^2}\big]`
    (at least 1). The relative residual :math:`|2QS'(Q)|/\text{scale}` does not change when the labels, the
    temperature or :math:`\lambda_1` are rescaled together."""
    Q = np.asarray(Q, dtype=np.float64)
    out = lambda1 * Q + 1.0
    if np.isinf(n_hidden):
        return out
    qk = Q[..., None] * eigvals
    g = qk + temperature
    return out + np.sum(qk / g + y_proj**2 * qk / g**2, axis=-1) / n_hidden


def kr_saddle_residual(Q, eigvals, y_proj, n_hidden, temperature, lambda1=1.0):
    r"""Scaled gradient :math:`2Q\,S'(Q)`, whose zero is the saddle point:

    :math:`2QS'(Q) = \lambda_1 Q - 1 + \frac{1}{N_1}\sum_i\left[\frac{Qk_i}{Qk_i+T} - \frac{\tilde y_i^2\,Qk_i}{(Qk_i+T)^2}\right]`.
    It is -1 at Q -> 0 and grows like lambda1 Q at large Q, so a root is always bracketed.
    """
    Q = np.asarray(Q, dtype=np.float64)
    out = lambda1 * Q - 1.0
    if np.isinf(n_hidden):
        return out
    qk = Q[..., None] * eigvals
    g = qk + temperature
    return out + np.sum(qk / g - y_proj**2 * qk / g**2, axis=-1) / n_hidden


def solve_kr_saddle(spectrum, n_hidden, temperature, lambda1=1.0, *, rtol=1e-12, n_grid=96, tol=1e-10):
    r"""Minimise :math:`S(Q)`: every sign change of :math:`2QS'(Q)` on a log grid is refined by
    Brent's method (to ``rtol`` in Q) and the root of lowest action is returned.

    The root is accepted when the residual :math:`|2QS'(Q)|` is at most ``tol`` times the scale of its terms
    (:func:`kr_saddle_scale`): a relative test, so that rescaling the labels (Q grows with them) or the
    temperature does not turn a converged root into a failure.

    Returns
    -------
    Q : float
    info : dict with ``method``, ``bracket``, ``n_stationary_points``, ``residual`` (absolute, of
    :math:`2QS'(Q)`) and ``relative_residual``.
    """
    k, yp = spectrum.eigvals, spectrum.y_proj
    if np.isinf(n_hidden):
        return 1.0 / lambda1, {"method": "exact (infinite width: Q = 1/lambda1)", "bracket": None,
                               "n_stationary_points": 1, "residual": 0.0, "relative_residual": 0.0}
    # residual <= -1 + Q (lambda1 + tr K / (N1 T)): negative below q_lo
    q_lo = 0.5 / (lambda1 + np.sum(k) / (n_hidden * temperature))
    # residual >= -1 + lambda1 Q - |y|^2 / (4 T N1): positive above q_hi
    q_hi = 2.0 * (1.0 + np.sum(yp**2) / (4.0 * temperature * n_hidden)) / lambda1
    grid = np.geomspace(q_lo, q_hi, n_grid)
    res = kr_saddle_residual(grid, k, yp, n_hidden, temperature, lambda1)

    def f(q):
        return float(kr_saddle_residual(q, k, yp, n_hidden, temperature, lambda1))

    roots = []
    for i in np.flatnonzero(np.sign(res[:-1]) != np.sign(res[1:])):
        roots.append(brentq(f, grid[i], grid[i + 1], xtol=1e-300, rtol=rtol, maxiter=500))
    if not roots:  # impossible in exact arithmetic: the residual is -1 at q_lo's left and > 0 above q_hi
        raise ConvergenceError(
            f"no sign change of 2QS'(Q) found in [{q_lo:.3g}, {q_hi:.3g}] although one must exist; residuals "
            f"at the ends {res[0]:.3g}, {res[-1]:.3g} (non-finite inputs?)"
        )
    actions = kr_action(np.array(roots), k, yp, n_hidden, temperature, lambda1)
    Q = float(roots[int(np.argmin(actions))])
    residual = abs(f(Q))
    scale = float(kr_saddle_scale(Q, k, yp, n_hidden, temperature, lambda1))
    relative = residual / scale
    if not np.isfinite(Q) or not relative <= tol:
        raise ConvergenceError(f"saddle point of S(Q) not converged: Q={Q}, residual {residual:.3g} "
                               f"({relative:.3g} of the scale {scale:.3g} of its terms, tolerance {tol:g})")
    return Q, {"method": "log-grid bracketing + Brent", "bracket": (float(q_lo), float(q_hi)),
               "n_stationary_points": len(roots), "residual": residual, "relative_residual": relative}


def gp_posterior(spectrum, scale, temperature, k_cross, k_diag):
    r"""GP regression with kernel :math:`\text{scale}\cdot K` and noise :math:`T`.

    mean :math:`= s\,k_x^\top(sK+TI)^{-1}y`, var :math:`= s\,k_{xx} - s^2 k_x^\top (sK+TI)^{-1}k_x`,
    with ``k_cross`` (P, M) the train/test kernel and ``k_diag`` (M,) the test diagonal.
    """
    denom = scale * spectrum.eigvals + temperature
    proj = spectrum.eigvecs.T @ k_cross  # (P, M)
    mean = scale * proj.T @ (spectrum.y_proj / denom)
    var = scale * k_diag - scale**2 * np.einsum("pm,p,pm->m", proj, 1.0 / denom, proj)
    return mean, np.clip(var, 0.0, None)


class KernelRenormalization(RegressorMixin, BaseEstimator):
    r"""Proportional-limit theory of a one-hidden-layer Bayesian network (kernel renormalization).

    Parameters
    ----------
    n_hidden : int or inf
        Width :math:`N_1`. ``numpy.inf`` gives the infinite-width (NNGP) limit, :math:`Q = 1/\lambda_1`.
    temperature : float > 0
        :math:`T`, the variance of the Gaussian likelihood.
    lambda0, lambda1 : float > 0
        Prior precisions of the first-layer weights and of the readout.
    activation : {"erf", "linear", "relu"}

    Attributes
    ----------
    Q_ : float
        Saddle point of :math:`S(Q)`, the posterior mean of :math:`|v|^2/N_1`.
    alpha_ : float
        Load :math:`P/N_1`.
    solver_info_ : dict
        How the saddle point was found (method, bracket, number of stationary points, residual).
    spectrum_ : KernelSpectrum
        Eigendecomposition of the training kernel.
    """

    def __init__(self, n_hidden, temperature, lambda0=1.0, lambda1=1.0, activation="erf"):
        self.n_hidden = n_hidden
        self.temperature = temperature
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.activation = activation

    def _checked_params(self):
        """The hyperparameters, validated (scikit-learn convention: stored as given, checked in ``fit``)."""
        return dict(
            n_hidden=check_hidden_units(self.n_hidden),
            temperature=check_positive(self.temperature, "temperature"),
            lambda0=check_positive(self.lambda0, "lambda0"),
            lambda1=check_positive(self.lambda1, "lambda1"),
            activation=get_activation(self.activation),
        )

    @single_thread()  # see tflmini._threads: one BLAS thread, at most a little slower idle, never stalled when busy
    def fit(self, X, y):
        """Solve the saddle point on training data ``X`` (P, N0), ``y`` (P,)."""
        p = self._checked_params()
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        K = nngp_kernel(X, var1=1.0 / p["lambda0"], activation=p["activation"])
        self.spectrum_ = KernelSpectrum.from_kernel(K, y)
        self.Q_, self.solver_info_ = solve_kr_saddle(self.spectrum_, p["n_hidden"], p["temperature"], p["lambda1"])
        self.X_train_ = X
        self.n_features_in_ = X.shape[1]
        self.alpha_ = X.shape[0] / p["n_hidden"]
        return self

    def _check_fitted(self):
        if not hasattr(self, "Q_"):
            raise RuntimeError("this KernelRenormalization is not fitted yet: call fit(X, y) first")

    def renormalized_kernel(self, X1, X2=None):
        r"""The renormalized kernel :math:`Q^* K(x, x')` of the fitted network."""
        self._check_fitted()
        p = self._checked_params()
        X1 = check_matrix(X1, "X1")
        check_same_dim(X1, self.n_features_in_, "X1")
        if X2 is not None:
            X2 = check_matrix(X2, "X2")
            check_same_dim(X2, self.n_features_in_, "X2")
        return self.Q_ * nngp_kernel(X1, X2, var1=1.0 / p["lambda0"], activation=p["activation"])

    def predict(self, X, return_var=False):
        r"""Posterior mean of :math:`f(x)` (and its posterior variance if ``return_var``)."""
        self._check_fitted()
        p = self._checked_params()
        X = check_matrix(X, "X")
        check_same_dim(X, self.n_features_in_)
        kx = nngp_kernel(self.X_train_, X, var1=1.0 / p["lambda0"], activation=p["activation"])
        kxx = nngp_diagonal(X, var=1.0 / p["lambda0"], activation=p["activation"])
        mean, var = gp_posterior(self.spectrum_, self.Q_, p["temperature"], kx, kxx)
        return (mean, var) if return_var else mean

    def mean_error(self, X, y):
        r"""Test error of the posterior-mean predictor, :math:`\langle (y - \bar f(x))^2\rangle_{\rm test}`."""
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        return float(np.mean((y - self.predict(X)) ** 2))

    def gibbs_error(self, X, y):
        r"""Test error averaged over the posterior: bias :math:`(y-\bar f)^2` plus variance, averaged over test points."""
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        mean, var = self.predict(X, return_var=True)
        return float(np.mean((y - mean) ** 2 + var))

    def action(self, Q):
        r"""Effective action :math:`S(Q)` on the training data (vectorised; for plotting)."""
        self._check_fitted()
        p = self._checked_params()
        try:
            Q = np.asarray(Q, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Q must be a real number or array of them: {exc}") from None
        if not np.all(np.isfinite(Q)):
            raise ValueError("Q must be finite (got NaN or infinite values)")
        if np.any(Q <= 0):
            raise ValueError("Q must be > 0")
        return kr_action(Q, self.spectrum_.eigvals, self.spectrum_.y_proj, p["n_hidden"], p["temperature"], p["lambda1"])
