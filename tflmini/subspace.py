r"""A single-unit theory exact along one data-driven direction (issue 21, second construction; experimental).

Same model and cavity argument as :mod:`tflmini.adaptive` (trace form of the quadratic term, field
:math:`b = (y - \bar f)/T`). There the unit's whole first layer w is integrated by importance sampling, which
fails where :math:`P \gg N_0`. Here w is split as :math:`w = m\,e + w_\perp`: the overlap m with one unit direction
e is treated exactly (a quadrature over m, the readout v in closed form), and the :math:`N_0 - 1` orthogonal
components only through the first two cumulants of the tilt they carry (their Gaussian-equivalent part).

The direction. The theory may not use the teacher. At zero overlap the tilt of one unit grows fastest along
:math:`X^\top(c\circ b)`, :math:`c_\mu = \mathbb E[\sigma'(h_\mu)]` (for :math:`m` small the unit's log-weight
is :math:`(v/\sqrt{N_1})\,m\,e\cdot X^\top(c\circ b)/\sqrt{N_0}` to first order), so e is that vector normalised,
recomputed from b at every step of the closure.

Single-unit measure. With :math:`u_\mu = x_\mu\cdot e/\sqrt{N_0}`, the pre-activation is
:math:`h_\mu = m u_\mu + h^\perp_\mu`, :math:`h^\perp` Gaussian with covariance
:math:`S^\perp_{\mu\nu} = (x_\mu\cdot x_\nu/N_0 - u_\mu u_\nu)/\lambda_0`. Averaging the tilt
:math:`\exp[v\,b\cdot\sigma(h)/\sqrt{N_1}]` over :math:`w_\perp` to second order in its cumulants gives

.. math::

   p(v, m) \propto \exp\Big[-\frac{\lambda_0 m^2}{2} - \frac{\lambda_1 + \tau}{2}v^2
      + \frac{v}{\sqrt{N_1}}\,b\cdot\mu(m) + \frac{v^2}{2N_1}\,b^\top\Sigma(m)\,b\Big],

:math:`\mu_\mu(m) = \mathbb E_\perp[\sigma(h_\mu)] = \mathrm{erf}(m u_\mu/\sqrt{1 + 2S^\perp_{\mu\mu}})` and
:math:`\Sigma(m) = \mathrm{Cov}_\perp(\sigma, \sigma)`, :math:`\tau = \mathrm{tr}[(QK + TI)^{-1}K]/N_1`. Given m the
readout is Gaussian, precision :math:`a(m) = \lambda_1 + \tau - b^\top\Sigma(m)b/N_1` and mean
:math:`b\cdot\mu(m)/(\sqrt{N_1}a(m))`; given (v, m) the activations have mean
:math:`\mu(m) + (v/\sqrt{N_1})\Sigma(m)b`. The closure is :math:`\bar f = \sqrt{N_1}\,\mathbb E[v\sigma]
= \mathbb E_m\big[\sqrt{N_1}\,\mathbb E[v\mid m]\,\mu(m) + \mathbb E[v^2\mid m]\,\Sigma(m)b\big]`,
:math:`b = (y - \bar f)/T`, :math:`Q = \mathbb E[v^2]`. If :math:`a(m) \le 0` for some m the measure is not
normalisable and the fit raises :class:`~tflmini.renormalization.ConvergenceError`.

Computation (erf). :math:`\Sigma(m)` off the diagonal by Mehler's expansion,
:math:`\sum_{k\ge1}\frac{(S^\perp_{\mu\nu})^k}{k!}\,\mathbb E[\sigma^{(k)}(h_\mu)]\,\mathbb E[\sigma^{(k)}(h_\nu)]`
with :math:`\mathbb E[\mathrm{erf}^{(k)}(h)] = (1+2s)^{-k/2}\mathrm{erf}^{(k)}(a/\sqrt{1+2s})` for
:math:`h\sim\mathcal N(a, s)` (``n_mehler`` terms), on the diagonal by Gauss-Hermite quadrature; m on a uniform grid
of ``n_overlap`` points on :math:`[0, m_{\max}]` (the measure is even in m for an odd activation),
:math:`m_{\max} = \max(6, 1.5\sqrt{N_0/\lambda_0})`; the closure by Newton-Krylov from the scalar theory.

Limits. When the tilt vanishes (:math:`b/\sqrt{N_1}\to 0`) m keeps its prior and the two cumulants give the NNGP
kernel: the theory returns kernel renormalization (tested at large width). For a linear unit the second-order
cumulant expansion is exact and the measure is that of :mod:`tflmini.adaptive`, hence kernel renormalization; only
erf is implemented here. Only the mean predictor is provided (no predictive variance, so no Gibbs error).
"""

from __future__ import annotations

from math import factorial

import numpy as np
from numpy.polynomial.hermite import hermval
from scipy.special import erf
from sklearn.base import BaseEstimator, RegressorMixin

from ._validation import check_count, check_hidden_units, check_matrix, check_positive, check_same_dim, check_targets
from .adaptive import solve_closure
from .kernels import nngp_kernel
from .renormalization import ConvergenceError, KernelRenormalization

__all__ = ["SubspaceKernelRenormalization", "erf_gaussian_derivatives"]

_T, _A = np.polynomial.hermite_e.hermegauss(64)
_A = _A / _A.sum()


def erf_gaussian_derivatives(a, s, n):
    r""":math:`\mathbb E[\mathrm{erf}^{(k)}(h)]` for :math:`h\sim\mathcal N(a, s)`, k = 1..n (list of arrays):
    :math:`(1+2s)^{-k/2}\,\frac{2}{\sqrt\pi}(-1)^{k-1}H_{k-1}(z)e^{-z^2}`, :math:`z = a/\sqrt{1+2s}` (physicists'
    Hermite polynomials)."""
    z = a / np.sqrt(1.0 + 2.0 * s)
    out = []
    for k in range(1, n + 1):
        coef = np.zeros(k)
        coef[-1] = 1.0
        out.append((1.0 + 2.0 * s) ** (-k / 2) * 2.0 / np.sqrt(np.pi) * (-1) ** (k - 1) * hermval(z, coef)
                   * np.exp(-z * z))
    return out


def _mehler_product(S, d_row, d_col, vec):
    r""":math:`\sum_k \frac{1}{k!}\,d^{\rm row}_k\circ\big(S^{\circ k}(d^{\rm col}_k\circ \mathrm{vec})\big)` (Hadamard powers
    of S): the Mehler series of a covariance matrix applied to ``vec``."""
    out = np.zeros(S.shape[0])
    Sk = np.ones_like(S)
    for k, (dr, dc) in enumerate(zip(d_row, d_col), start=1):
        Sk = Sk * S
        out += dr * (Sk @ (dc * vec)) / factorial(k)
    return out


class SubspaceKernelRenormalization(RegressorMixin, BaseEstimator):
    r"""Single-unit theory exact in the overlap with one data-driven direction (module docstring). Erf only.

    Parameters
    ----------
    n_hidden : int (finite)
    temperature, lambda0, lambda1 : float > 0
    n_overlap : int
        Grid points of the overlap m on :math:`[0, m_{\max}]`.
    n_mehler : int
        Terms of the Mehler series of the orthogonal covariance.
    tol : float
    max_iter : int

    Attributes
    ----------
    Q_ : float
    b_ : array (P,)
    direction_ : array (N0,), the unit direction e at the solution.
    overlap_rms_ : float, :math:`\sqrt{\mathbb E[m^2]}` (1/sqrt(lambda0) under the prior).
    scalar_ : KernelRenormalization on the same data.
    """

    def __init__(self, n_hidden, temperature, lambda0=1.0, lambda1=1.0, n_overlap=61, n_mehler=12, tol=1e-8,
                 max_iter=40):
        self.n_hidden = n_hidden
        self.temperature = temperature
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.n_overlap = n_overlap
        self.n_mehler = n_mehler
        self.tol = tol
        self.max_iter = max_iter

    def _params(self):
        n1 = check_hidden_units(self.n_hidden)
        if not np.isfinite(n1):
            raise ValueError("n_hidden must be finite for SubspaceKernelRenormalization (at infinite width use "
                             "KernelRenormalization(numpy.inf, ...))")
        return dict(n1=n1, T=check_positive(self.temperature, "temperature"),
                    lam0=check_positive(self.lambda0, "lambda0"), lam1=check_positive(self.lambda1, "lambda1"),
                    n_m=check_count(self.n_overlap, "n_overlap"), n_k=check_count(self.n_mehler, "n_mehler"),
                    tol=check_positive(self.tol, "tol"), max_iter=check_count(self.max_iter, "max_iter"))

    def _geometry(self, b, X2=None):
        """Direction e, projections u of the training (and X2) inputs, orthogonal covariances."""
        X, n0, lam0 = self.X_train_, self.n_features_in_, self.p_["lam0"]
        e = X.T @ (self.c_ * b)
        e = e / np.linalg.norm(e)
        u = X @ e / np.sqrt(n0)
        S = (self.C_ - np.outer(u, u)) / lam0
        if X2 is None:
            return e, u, S, None
        u2 = X2 @ e / np.sqrt(n0)
        S2 = (X2 @ X.T / n0 - np.outer(u2, u)) / lam0
        s2 = (np.einsum("ij,ij->i", X2, X2) / n0 - u2**2) / lam0
        return e, u, S, (u2, S2, s2)

    def _moments(self, b, Q, X2=None):
        p = self.p_
        n1 = p["n1"]
        e, u, S, test = self._geometry(b, X2)
        s = np.diag(S).copy()
        S_off = S - np.diag(s)
        tau = float(np.sum(self.k_eig_ / (Q * self.k_eig_ + p["T"])) / n1)
        m_max = max(6.0, 1.5 * np.sqrt(self.n_features_in_ / p["lam0"]))
        grid = np.linspace(0.0, m_max, p["n_m"])
        log_w = np.log(np.r_[0.5, np.ones(p["n_m"] - 2), 0.5])  # trapezoid on m >= 0 (the measure is even in m)
        parts = []
        for k, m in enumerate(grid):
            mu = erf(m * u / np.sqrt(1.0 + 2.0 * s))
            d = erf_gaussian_derivatives(m * u, s, p["n_k"])
            diag_var = erf(m * u[:, None] + np.sqrt(s)[:, None] * _T) ** 2 @ _A - mu**2
            Sb = diag_var * b + _mehler_product(S_off, d, d, b)
            a = p["lam1"] + tau - b @ Sb / n1
            if a <= 0:
                raise ConvergenceError(f"subspace measure not normalisable: readout precision {a:.3g} <= 0 at "
                                       f"overlap m = {m:.3g}")
            ev = (b @ mu / np.sqrt(n1)) / a
            log_w[k] += -0.5 * p["lam0"] * m * m + 0.5 * a * ev * ev - 0.5 * np.log(a)
            parts.append((m, mu, d, Sb, ev, ev * ev + 1.0 / a))
        rho = np.exp(log_w - log_w.max())
        rho /= rho.sum()
        fbar = sum(r * (np.sqrt(n1) * ev * mu + ev2 * Sb) for r, (_, mu, _, Sb, ev, ev2) in zip(rho, parts))
        Q_new = float(sum(r * part[5] for r, part in zip(rho, parts)))
        out = {"fbar": fbar, "Q": Q_new, "direction": e,
               "overlap_rms": float(np.sqrt(rho @ grid**2))}
        if test is not None:
            u2, S2, s2 = test
            out["test_mean"] = sum(
                r * (np.sqrt(n1) * ev * erf(m * u2 / np.sqrt(1.0 + 2.0 * s2))
                     + ev2 * _mehler_product(S2, erf_gaussian_derivatives(m * u2, s2, p["n_k"]), d, b))
                for r, (m, _, d, _, ev, ev2) in zip(rho, parts))
        return out

    def fit(self, X, y):
        """Solve the closure on training data ``X`` (P, N0), ``y`` (P,)."""
        p = self._params()
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        P, n0 = X.shape
        self.p_, self.X_train_, self.n_features_in_ = p, X, n0
        self.C_ = X @ X.T / n0
        self.c_ = 2.0 / np.sqrt(np.pi * (1.0 + 2.0 * np.diag(self.C_) / p["lam0"]))
        self.k_eig_ = np.linalg.eigvalsh(nngp_kernel(X, var1=1.0 / p["lam0"]))
        scalar = KernelRenormalization(p["n1"], p["T"], p["lam0"], p["lam1"], "erf").fit(X, y)
        spec, T = scalar.spectrum_, p["T"]
        y_scale = max(float(np.linalg.norm(y)), 1e-300)

        def residual(x):
            mo = self._moments(x[:-1], float(np.exp(x[-1])))
            return np.append(spec.solve(float(np.exp(x[-1])), T, T * x[:-1] + mo["fbar"] - y) / (y_scale / T),
                             np.log(mo["Q"]) - x[-1])

        x0 = np.append(spec.solve(scalar.Q_, T, y), np.log(scalar.Q_))
        x, _ = solve_closure(residual, x0, p["tol"], p["max_iter"], "subspace closure")
        self.b_ = x[:-1]
        mo = self._moments(self.b_, float(np.exp(x[-1])))
        self.Q_, self.direction_, self.overlap_rms_ = mo["Q"], mo["direction"], mo["overlap_rms"]
        self.train_mean_ = mo["fbar"]
        self.scalar_ = scalar
        return self

    def predict(self, X):
        r"""Cavity mean :math:`\sqrt{N_1}\,\mathbb E[v\sigma(h(x))]` on the rows of X, taken as new inputs (a row equal
        to a training input would need the exact diagonal covariance, which only the training mean ``train_mean_``
        uses)."""
        if not hasattr(self, "Q_"):
            raise RuntimeError("this SubspaceKernelRenormalization is not fitted yet: call fit(X, y) first")
        X = check_matrix(X, "X")
        check_same_dim(X, self.n_features_in_)
        return self._moments(self.b_, self.Q_, X)["test_mean"]

    mean_error = KernelRenormalization.mean_error
