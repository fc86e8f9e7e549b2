r"""Adaptive kernel renormalization: a single-unit (cavity) theory in which each hidden unit's first-layer
weights are tilted by the data, beyond the Gaussian equivalence of :mod:`tflmini.renormalization`.

Model and conventions as in :mod:`tflmini.renormalization`:
:math:`f(x) = N_1^{-1/2}\sum_i v_i\,\sigma(w_i\cdot x/\sqrt{N_0})`, priors :math:`w_i\sim\mathcal N(0, I/\lambda_0)`,
:math:`v_i\sim\mathcal N(0, 1/\lambda_1)`, likelihood :math:`\exp(-|y - f|^2/2T)` on the P training points.

Single-unit problem
-------------------
Add one unit :math:`u = v\,\sigma(Xw/\sqrt{N_0})/\sqrt{N_1}` (a P-vector) to a network whose other units give the
training outputs :math:`f_{\rm rest}`, Gaussian with mean :math:`\bar f` and covariance :math:`\Sigma`. Averaging
the likelihood ratio :math:`\exp[u\cdot(y - f_{\rm rest})/T - |u|^2/2T]` over :math:`f_{\rm rest}` gives
:math:`\exp[u\cdot b - \tfrac12 u^\top(I/T - \Sigma/T^2)u]` with :math:`b = (y - \bar f)/T`; for a Gaussian-process
posterior :math:`I/T - \Sigma/T^2 = G = (K_{\rm eff} + TI)^{-1}` and :math:`b = Gy`. The quadratic term
:math:`v^2\sigma^\top G\sigma/2N_1` is replaced by its trace :math:`\tau v^2/2`,
:math:`\tau = \mathrm{tr}(G K)/N_1` with :math:`G = (QK + TI)^{-1}` and K the NNGP kernel (its dependence on the
direction of w is of relative order :math:`1/N_1` in the bulk of the spectrum, and this choice makes the
linear network exact, see below). The unit's measure is then

.. math::

   p(v, w) \propto \exp\Big[-\tfrac{\lambda_1 + \tau}{2}v^2 - \tfrac{\lambda_0}{2}|w|^2
        + \tfrac{v}{\sqrt{N_1}}\, b\cdot\sigma(Xw/\sqrt{N_0})\Big],

closed by :math:`\bar f_\mu = \sqrt{N_1}\,\mathbb E_p[v\,\sigma(h_\mu)]`, :math:`b = (y - \bar f)/T` and
:math:`Q = \mathbb E_p[v^2]`.

Linear activation: given v, w is Gaussian with mean :math:`v\,X^\top b/(\lambda_0\sqrt{N_0N_1})`, so v is
Gaussian with precision :math:`\lambda_1 + \tau - b^\top K b/N_1`; with :math:`b = Gy` this is the saddle-point
equation :math:`1/Q = \lambda_1 + [\mathrm{tr}(GK) - y^\top GKGy]/N_1` of kernel renormalization, and
:math:`\bar f = QKGy`, its mean predictor. For erf, w acquires a v-dependent mean along :math:`X^\top b` (the
teacher direction when :math:`P\gg N_0`) and the expectations are no longer Gaussian.

Computation
-----------
``integrator="importance"`` (default): at each readout value v the expectation over w (N0 dimensions) is
estimated by importance sampling from the Laplace approximation of :math:`p(w\mid v)`, the Gaussian
:math:`\mathcal N(w^*, H^{-1})` at the maximum :math:`w^*` of the unit's log-density (trust-region Newton from
:math:`v\,u`, :math:`u = X^\top(c\circ b)/(\lambda_0\sqrt{N_0N_1})`, :math:`c_\mu = \mathbb E[\sigma'(h_\mu)]`) with
H minus its Hessian there. The standard-normal draws are fixed (``random_state``), antithetic and whitened, so
that their sample mean is 0 and their sample covariance the identity: every linear-Gaussian moment is then exact,
and for a linear unit (whose measure is Gaussian, every weight equal) the theory reproduces
:class:`~tflmini.renormalization.KernelRenormalization` to rounding. The normaliser of the weights estimates
:math:`Z(v) = \mathbb E_{\rm prior}[\exp(\dots)]`. ``integrator="laplace"`` replaces the sampling by the Laplace
approximation itself (:math:`\log Z` from the mode and the Hessian, :math:`\mathbb E[\sigma]` in closed form for the
Gaussian); it drops the variance of the nonlinear part of :math:`\sigma` and is kept for comparison only. The
readout v is integrated by Gauss-Hermite quadrature on the Gaussian of variance Q with :math:`Z(v)` as a
correction factor; for an odd activation the measure is symmetric under :math:`(v, w)\to(-v, -w)`, so only
nodes :math:`v > 0` are evaluated. The closure is solved for (b, log Q) by a Newton-Krylov method on the
residual preconditioned by :math:`(QK + TI)^{-1}`, started from the scalar theory's :math:`b = Gy` and Q.

``integrator="equivalent"``: the same importance sampling, but from the Gaussian-equivalent unit
:math:`\mathcal N(v\,u, I/\lambda_0)`, the unit's measure with :math:`\sigma(h_\mu)` replaced by its linear part
:math:`c_\mu h_\mu` (no mode search). Its log-weight is, up to a constant,
:math:`\ell = (v/\sqrt{N_1})\sum_\nu b_\nu[\sigma(h_\nu) - c_\nu h_\nu]`: the slopes averaged over the prior leave a
remainder of variance :math:`K_{\nu\nu} - c_\nu^2C_{\nu\nu}/\lambda_0` (0.04 for erf at :math:`C_{\nu\nu} = 1`), where
the Laplace proposal's Taylor polynomial at the mode leaves about 0.27, so the weights stay far more even. To first
order in the tilt its two parts are the two parts of the NNGP kernel: the proposal's mean gives the linear part
:math:`c_\mu c_\nu C_{\mu\nu}/\lambda_0`, the weights the rest.

Control variates (``control_variate=True``, default). The tilt moves :math:`\mathbb E[\sigma]` by
:math:`O(1/\sqrt{N_1})` and :math:`\bar f = \sqrt{N_1}\,\mathbb E[v\sigma]` multiplies any error of it by
:math:`\sqrt{N_1}`, so a plain Monte Carlo estimate is not consistent with the limit in which the tilt vanishes. At
each node the self-normalised estimate :math:`\sum_k\bar\omega_k\sigma_k` (weights :math:`\bar\omega_k`, log-weights
:math:`\ell_k`, plain sample mean :math:`\bar\sigma`) is replaced by

.. math::

   \mathbb E_q[\sigma] + \mathrm{Cov}_q(\sigma, \ell)
   + \Big[\sum_k\bar\omega_k\sigma_k - \bar\sigma - \frac1M\sum_k(\ell_k - \bar\ell)(\sigma_k - \bar\sigma)\Big].

The two terms outside the bracket are in closed form (:meth:`_UnitMeasure.gaussian_mean`; for the covariance,
Stein's lemma and a one-dimensional Gauss-Hermite sum, :meth:`_UnitMeasure.remainder_covariance`), and are the
expectations under the proposal q of the two sample terms subtracted inside it (the second to order
:math:`1/M`); the estimate is consistent as the plain one is, with a bias of order :math:`1/M`, and the samples
carry only the part of second and higher order in :math:`\ell`. When the tilt vanishes the estimate becomes the
first-order (kernel-renormalization) value with no sampling noise. ``Cov_q(sigma, ell)`` needs ``ell`` to be the
remainder of :math:`b\cdot\sigma` only, which holds with the trace term; with ``quadratic_term="exact"`` only the
first term is used. ``control_variate=False`` is the plain estimate (used for the cached comparison with the
sampler, ``scripts/adaptive_vs_sampler.py``). Measured in ``scripts/adaptive_limit.py``.

``quadratic_term="exact"`` keeps :math:`v^2\sigma^\top G\sigma/2N_1` with :math:`G = (QK+TI)^{-1}` in the unit's
measure instead of its trace (a linear network then differs from kernel renormalization at order
:math:`1/N_1`).

Status (measured, ``scripts/adaptive_vs_sampler.py``, book chapter 9): where :math:`P/N_0` is large at low
temperature the unit's w integral is dominated by rare weight vectors (the importance weights collapse) and the
closure runs away; the construction does not reach the accuracy goal of issue 21 there. Its own Monte Carlo
error (another ``random_state``) is of the order of a few per cent of the Gibbs error (plain estimate). With the
Gaussian-equivalent proposal and control variates the theory returns kernel renormalization as one unit's tilt
vanishes (data fixed, width growing), but not as :math:`N_0` grows at fixed :math:`P = N_1`
(``scripts/adaptive_limit.py``).

Predictive variance (an approximation, stated): the posterior covariance of f is that of a Gaussian process with
the adapted kernel :math:`K_A(x, x') = \mathbb E_v\big[v^2\,\mathrm{Cov}_{w|v}(\sigma(h(x)), \sigma(h(x')))\big]`,
:math:`\mathrm{var}(x) = K_A(x,x) - k_A(x)^\top(K_A + TI)^{-1}k_A(x)`; for a linear unit
:math:`\mathrm{Cov}_{w|v} = K` for every v and :math:`K_A = QK`, the kernel-renormalization variance. The mean is
the cavity mean :math:`\sqrt{N_1}\,\mathbb E_p[v\sigma(h(x))]`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import NoConvergence, minimize, newton_krylov
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, RegressorMixin

from ._validation import (check_count, check_hidden_units, check_matrix, check_positive, check_random_state,
                          check_same_dim, check_targets)
from .kernels import get_activation, input_overlaps, nngp_kernel
from .renormalization import ConvergenceError, KernelRenormalization, KernelSpectrum, gp_posterior

__all__ = ["AdaptiveKernelRenormalization", "whitened_normal", "remainder_variances"]


def whitened_normal(n_samples, dim, rng):
    r"""``n_samples`` standard-normal draws in ``dim`` dimensions, antithetic (:math:`z` and :math:`-z`) and
    whitened: their sample mean is exactly 0 and their sample second moment :math:`\frac1M\sum z z^\top` exactly
    the identity (``n_samples`` even and at least ``2 * dim``)."""
    half = rng.standard_normal((n_samples // 2, dim))
    Z = np.vstack([half, -half])
    L = np.linalg.cholesky(Z.T @ Z / n_samples)
    return np.linalg.solve(L, Z.T).T


def _gaussian_slope(activation, s):
    r""":math:`c = \mathbb E[\sigma'(h)]` for :math:`h\sim\mathcal N(0, s)` (erf: :math:`2/\sqrt{\pi(1+2s)}`)."""
    if activation.name == "linear":
        return np.ones_like(s)
    if activation.name == "erf":
        return 2.0 / np.sqrt(np.pi * (1.0 + 2.0 * s))
    raise ValueError(f"activation {activation.name!r} is not supported")  # refused earlier, in _checked_params


def remainder_variances(s=1.0):
    r"""Variance of what an erf unit's log-weight keeps of :math:`\sigma(h)`, :math:`h\sim\mathcal N(0, s)`, at zero
    tilt, for the two proposals: the Laplace one subtracts the tangent at the mode, :math:`\sigma'(0)h`; the
    Gaussian-equivalent one the slope averaged over h, :math:`\mathbb E[\sigma'(h)]\,h`. Returns the two variances
    ``(laplace, equivalent)``; the second is the nonlinear part of the NNGP kernel's diagonal."""
    s = check_positive(s, "s")
    t, a = _HERMITE
    h = np.sqrt(s) * t
    sig = get_activation("erf").function(h)
    return (float(a @ (sig - 2.0 / np.sqrt(np.pi) * h) ** 2),
            float(a @ (sig - _erf_gaussian_slope(0.0, s) * h) ** 2))


def _erf_gaussian_slope(m, s):
    r""":math:`\mathbb E[\mathrm{erf}'(h)]` for :math:`h\sim\mathcal N(m, s)`:
    :math:`\frac{2}{\sqrt{\pi(1+2s)}}\,e^{-m^2/(1+2s)}`."""
    return 2.0 / np.sqrt(np.pi * (1.0 + 2.0 * s)) * np.exp(-m * m / (1.0 + 2.0 * s))


# Gauss-Hermite rule for a standard-normal expectation (the inner covariances of the control variate)
_HERMITE = (lambda t, a: (t, a / a.sum()))(*np.polynomial.hermite_e.hermegauss(48))


def _second_derivative(activation, h):
    r""":math:`\sigma''(h)` (erf: :math:`-2h\,\sigma'(h)`; linear: 0)."""
    if activation.name == "erf":
        return -2.0 * h * activation.derivative(h)
    return np.zeros_like(h)


class _UnitMeasure:
    """The single-unit measure on fixed training inputs: importance samples and quadrature nodes."""

    def __init__(self, X, activation, n_hidden, temperature, lambda0, lambda1, n_samples, n_nodes, rng,
                 quadratic="trace", integrator="importance", control_variate=True):
        self.quadratic, self.integrator, self.control_variate = quadratic, integrator, control_variate
        self.prior_chol = np.sqrt(lambda0) * np.eye(X.shape[1])
        self.X, self.act, self.n1, self.T = X, activation, n_hidden, temperature
        self.lam0, self.lam1 = lambda0, lambda1
        P, n0 = X.shape
        self.n0 = n0
        self.Z = whitened_normal(n_samples, n0, rng)
        self.c = _gaussian_slope(activation, input_overlaps(X)[0] / lambda0)
        K = nngp_kernel(X, var1=1.0 / lambda0, activation=activation)
        self.K = K
        spec = KernelSpectrum.from_kernel(K, np.zeros(P))
        self.k_eig, self.U = spec.eigvals, spec.eigvecs
        t, a = np.polynomial.hermite_e.hermegauss(2 * n_nodes)
        keep = t > 0
        self.t, self.a = t[keep], a[keep]

    def direction(self, b):
        r"""Starting point of the mode search per unit of v: :math:`u = X^\top(c\circ b)/(\lambda_0\sqrt{N_0N_1})`
        (the mode for a linear unit without the quadratic term)."""
        return self.X.T @ (self.c * b) / (self.lam0 * np.sqrt(self.n0 * self.n1))

    def tau(self, Q):
        r""":math:`\tau = \mathrm{tr}[(QK + TI)^{-1}K]/N_1`."""
        return float(self.precision(Q) @ self.k_eig / self.n1)

    def precision(self, Q):
        r"""The eigenvalues :math:`g_i = 1/(Qk_i + T)` of :math:`G = (QK + TI)^{-1}` (eigenvectors: those of K)."""
        return 1.0 / (Q * self.k_eig + self.T)

    def mode(self, vk, b, g, w0):
        r"""Maximum of :math:`\ell(w) = -\lambda_0|w|^2/2 + (v/\sqrt{N_1})\,b\cdot\sigma - (v^2/2N_1)\,\sigma^\top G\sigma`,
        :math:`\sigma = \sigma(Xw/\sqrt{N_0})` (trust-region Newton from ``w0``); returns the mode and the Cholesky
        factor of :math:`-\nabla^2\ell` there."""
        X, n0, lam0, U, act = self.X, self.n0, self.lam0, self.U, self.act
        c1 = vk / np.sqrt(self.n1)
        c2 = vk * vk / (2.0 * self.n1) if self.quadratic == "exact" else 0.0  # trace: no w dependence

        def parts(w):
            h = X @ w / np.sqrt(n0)
            s = act.function(h)
            Gs = U @ (g * (U.T @ s))
            return h, s, Gs

        def fun(w):
            _, s, Gs = parts(w)
            return 0.5 * lam0 * w @ w - c1 * b @ s + c2 * s @ Gs

        def grad(w):
            h, _, Gs = parts(w)
            return lam0 * w - X.T @ (act.derivative(h) * (c1 * b - 2.0 * c2 * Gs)) / np.sqrt(n0)

        def hess(w):
            h, _, Gs = parts(w)
            d = act.derivative(h)
            A = (U.T * d) @ X / np.sqrt(n0)  # U^T diag(sigma') X / sqrt(N0)
            return (lam0 * np.eye(n0) - (X.T * (_second_derivative(act, h) * (c1 * b - 2.0 * c2 * Gs))) @ X / n0
                    + 2.0 * c2 * (A.T * g) @ A)

        res = minimize(fun, w0, jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-10, "maxiter": 500})
        try:
            L = np.linalg.cholesky(hess(res.x))
        except np.linalg.LinAlgError:
            L = None
        if L is None or np.linalg.norm(grad(res.x)) > 1e-6 * (1.0 + lam0 * np.linalg.norm(res.x)):
            raise ConvergenceError(f"the single-unit mode at v = {vk:.4g} was not found ({res.message}; gradient "
                                   f"{np.linalg.norm(grad(res.x)):.3g})")
        return res.x, L

    def nodes(self, b, Q, samples=None):
        """Quadrature nodes v_k > 0 with their normalised weights and, per node, the mode of w and the Cholesky
        factor of the Hessian there, the mean of sigma on the training inputs, and (``samples``, or always with
        the importance-sampling integrator) the samples' activations and normalised weights."""
        u = self.direction(b)
        g = self.precision(Q)
        tau = float(g @ self.k_eig / self.n1)
        sampled = self.integrator in ("importance", "equivalent")
        samples = sampled if samples is None else samples or sampled
        v = self.t * np.sqrt(Q)  # the nodes sit on the Gaussian of variance Q; the correction factor is exact
        nd = {"v": v, "sig": [], "omega": [], "modes": [], "chols": [], "mean": [], "ess": [], "tau": tau,
              "ell": [], "b": b}
        log_norm = []
        log_det = lambda L: np.sum(np.log(np.diag(L))) - 0.5 * self.n0 * np.log(self.lam0)  # noqa: E731
        for vk in v:
            if self.integrator == "equivalent":  # proposal N(v u, I/lambda0): the Gaussian-equivalent unit
                w_star, L = vk * u, self.prior_chol
            else:
                w_star, L = self.mode(vk, b, g, vk * u)
            nd["modes"].append(w_star)
            nd["chols"].append(L)
            if samples:
                W = w_star + np.linalg.solve(L.T, self.Z.T).T  # (M, N0) samples of N(w*, H^-1)
                s = self.act.function(self.X @ W.T / np.sqrt(self.n0))
                nd["sig"].append(s)
            if sampled:
                # exact: sigma^T G sigma per sample; trace: its replacement N1 tau, the same for every w
                quad = g @ (self.U.T @ s) ** 2 if self.quadratic == "exact" else self.n1 * tau
                ell = (-0.5 * self.lam0 * np.einsum("mi,mi->m", W, W) + vk * (b @ s) / np.sqrt(self.n1)
                       - vk * vk * quad / (2.0 * self.n1) + 0.5 * np.einsum("mi,mi->m", self.Z, self.Z) - log_det(L))
                log_norm.append(logsumexp(ell) - np.log(ell.size))  # log Z(v)
                om = np.exp(ell - logsumexp(ell))
                nd["ell"].append(ell - ell.mean())
                nd["mean"].append(self.controlled_mean(s, om, nd["ell"][-1], self.X, w_star, L, vk, b))
            else:  # Laplace: Gaussian w around the mode; E[sigma(h)] in closed form
                s_star = self.act.function(self.X @ w_star / np.sqrt(self.n0))
                quad = s_star @ (self.U @ (g * (self.U.T @ s_star))) if self.quadratic == "exact" else self.n1 * tau
                log_norm.append(-0.5 * self.lam0 * w_star @ w_star + vk * b @ s_star / np.sqrt(self.n1)
                                - vk * vk * quad / (2.0 * self.n1) - log_det(L))
                nd["mean"].append(self.gaussian_mean(self.X, w_star, L))
                om = np.full(self.Z.shape[0], 1.0 / self.Z.shape[0])
            nd["omega"].append(om)
            nd["ess"].append(1.0 / np.sum(om**2))
        log_rho = np.log(self.a) - 0.5 * (self.lam1 - 1.0 / Q) * v * v + np.array(log_norm)
        nd["rho"] = np.exp(log_rho - logsumexp(log_rho))
        nd["ess"] = np.array(nd["ess"])
        return nd

    def gaussian_mean(self, X, w_star, L):
        r""":math:`\mathbb E[\sigma(h)]` for :math:`w\sim\mathcal N(w^*, H^{-1})`, :math:`H = LL^\top`: h is Gaussian with
        mean :math:`x\cdot w^*/\sqrt{N_0}` and variance :math:`|L^{-1}x|^2/N_0` (erf:
        :math:`\mathrm{erf}(m/\sqrt{1+2s})`)."""
        m = X @ w_star / np.sqrt(self.n0)
        if self.act.name == "linear":
            return m
        A = np.linalg.solve(L, X.T) / np.sqrt(self.n0)
        return self.act.function(m / np.sqrt(1.0 + 2.0 * np.einsum("ip,ip->p", A, A)))

    def controlled_mean(self, s, om, ell, X, w_star, L, vk, b):
        r""":math:`\mathbb E_{p(w|v)}[\sigma]` on the inputs X from the samples' activations ``s`` (n, M), their
        normalised weights ``om`` and centred log-weights ``ell``, with control variates (module docstring,
        "Control variates"): the Laplace Gaussian's mean in closed form, and for the trace term also the first order
        of the tilt, :math:`\mathrm{Cov}_q(\sigma, \ell)`, by one-dimensional quadratures; the samples then estimate
        only what these two leave out."""
        if not self.control_variate:
            return s @ om
        s_bar = s.mean(axis=1)
        out = s @ om - s_bar + self.gaussian_mean(X, w_star, L)
        if self.quadratic == "trace":
            out += vk / np.sqrt(self.n1) * self.remainder_covariance(X, w_star, L) @ b - (s - s_bar[:, None]) @ ell / ell.size
        return out

    def gaussian_covariance(self, X1, X2, w_star, L, diag=False):
        r""":math:`\mathrm{Cov}_q(\sigma(h(x)), \sigma(h(x')))` for the rows x of X1 and x' of X2 (the diagonal x = x'
        of X1 if ``diag``) under the proposal :math:`w\sim\mathcal N(w^*, H^{-1})`, :math:`H = LL^\top`: a
        Gauss-Hermite sum over :math:`h(x)`, with :math:`\mathbb E[\mathrm{erf}(h(x'))\mid h(x)]` in closed form.
        Returns the covariance and the Gaussian's moments: means and variances of the two sides, cross-covariance S."""
        A = np.linalg.solve(L, X1.T) / np.sqrt(self.n0)
        B = A if diag else np.linalg.solve(L, X2.T) / np.sqrt(self.n0)
        s_row, s_col = np.einsum("ip,ip->p", A, A), np.einsum("ip,ip->p", B, B)
        m_row = X1 @ w_star / np.sqrt(self.n0)
        m_col = m_row if diag else X2 @ w_star / np.sqrt(self.n0)
        if self.act.name == "linear":  # the covariance of the preactivations themselves
            return (s_row, (m_row, s_row, m_row, s_row, s_row)) if diag else (A.T @ B, (m_row, s_row, m_col, s_col, A.T @ B))
        e_row = self.act.function(m_row / np.sqrt(1.0 + 2.0 * s_row))
        t, a = _HERMITE
        sq = np.sqrt(s_row)[:, None]
        outer = self.act.function(m_row[:, None] + sq * t)  # (n1, nq)
        if diag:
            return outer**2 @ a - e_row**2, (m_row, s_row, m_row, s_row, s_row)
        S = A.T @ B
        e_col = self.act.function(m_col / np.sqrt(1.0 + 2.0 * s_col))
        # h(x) = m + sqrt(s) t; h(x') | t has mean m' + S t / sqrt(s) and variance s' - S^2 / s
        cond_var = np.maximum(s_col[None, :] - S**2 / sq**2, 0.0)
        inner = self.act.function((m_col[None, :, None] + (S / sq)[:, :, None] * t)
                                  / np.sqrt(1.0 + 2.0 * cond_var)[:, :, None])
        cov = np.einsum("nj,npj->np", outer * a, inner) - np.outer(e_row, e_col)
        return cov, (m_row, s_row, m_col, s_col, S)

    def remainder_covariance(self, X, w_star, L):
        r""":math:`\mathrm{Cov}_q(\sigma(h(x)), r_\nu)` for the rows x of X and the training points :math:`\nu`, under
        the proposal :math:`w\sim\mathcal N(w^*, H^{-1})`: :math:`r_\nu` is :math:`\sigma(h_\nu)` minus the proposal's
        polynomial (Laplace: the second-order Taylor polynomial at the mode's :math:`h^*_\nu`; Gaussian-equivalent:
        :math:`c_\nu h_\nu`). With the trace term the log-weight is :math:`\ell = (v/\sqrt{N_1})\,b\cdot r` up to
        a constant. By Stein's lemma :math:`\mathrm{Cov}(\sigma(h), h_\nu) = S_{x\nu}\mathbb E[\sigma'(h)]` and
        :math:`\mathrm{Cov}(\sigma(h), (h_\nu - h^*_\nu)^2) = S_{x\nu}^2\mathbb E[\sigma''(h)]`; the covariance of the
        two activations is :meth:`gaussian_covariance`."""
        if self.act.name == "linear":  # sigma is its own Taylor polynomial: r = 0
            return np.zeros((X.shape[0], self.X.shape[0]))
        cov, (m_row, s_row, m_col, _, S) = self.gaussian_covariance(X, self.X, w_star, L)
        d1 = _erf_gaussian_slope(m_row, s_row)  # E[sigma'(h)] on the rows
        d2 = -2.0 * m_row / (1.0 + 2.0 * s_row) * d1  # E[sigma''(h)] = d/dm E[sigma'(h)]
        if self.integrator == "equivalent":  # the proposal's linear part uses the prior's mean slopes c
            slope, curv = self.c, np.zeros_like(m_col)
        else:  # Laplace: the Taylor polynomial at the mode
            slope, curv = self.act.derivative(m_col), _second_derivative(self.act, m_col)
        return cov - S * d1[:, None] * slope[None, :] - 0.5 * S**2 * d2[:, None] * curv[None, :]

    def moments(self, b, Q, samples=None):
        """Training mean fbar (P,) and E[v^2], with the node data."""
        nd = self.nodes(b, Q, samples)
        fbar = sum(rk * vk * m for vk, rk, m in zip(nd["v"], nd["rho"], nd["mean"]))
        return np.sqrt(self.n1) * fbar, float(np.sum(nd["rho"] * nd["v"] ** 2)), nd

    def activations(self, nd, X):
        """sigma of every sample at every node on the inputs X (list over nodes of (n, M) arrays)."""
        out = []
        for w_star, L in zip(nd["modes"], nd["chols"]):
            W = w_star + np.linalg.solve(L.T, self.Z.T).T
            out.append(self.act.function(X @ W.T / np.sqrt(self.n0)))
        return out

    def test_means(self, nd, X, sig=None):
        """E_{w|v_k}[sigma] on the inputs X for every node (list of (n,) arrays); ``sig``: their
        :meth:`activations`, if the caller has them already."""
        if self.integrator in ("importance", "equivalent"):
            sig = self.activations(nd, X) if sig is None else sig
            return [self.controlled_mean(s, om, ell, X, w, L, vk, nd["b"])
                    for s, om, ell, w, L, vk in zip(sig, nd["omega"], nd["ell"], nd["modes"], nd["chols"], nd["v"])]
        return [self.gaussian_mean(X, w, L) for w, L in zip(nd["modes"], nd["chols"])]


def solve_closure(residual, x0, tol, max_iter, what):
    """Solve ``residual(x) = 0`` by Newton-Krylov from ``x0``; a :class:`ConvergenceError` naming ``what`` if the
    solver fails or stops above ``tol``. Returns the solution and its residual."""
    try:
        with np.errstate(invalid="ignore"):  # scipy's step test divides by x_rtol = inf (0/inf... 0/0 at x = 0)
            x = newton_krylov(residual, x0, f_tol=tol, maxiter=max_iter, method="lgmres", verbose=False)
    except NoConvergence:
        raise ConvergenceError(f"{what} not converged after {max_iter} Newton-Krylov iterations "
                               f"(preconditioned residual above tol = {tol:g})") from None
    except (ValueError, FloatingPointError) as exc:
        raise ConvergenceError(f"{what} not converged: the Newton-Krylov solver stopped "
                               f"({type(exc).__name__}: {str(exc)[:200]})") from None
    res = residual(x)
    if not np.all(np.isfinite(res)) or np.max(np.abs(res)) > tol:
        raise ConvergenceError(f"{what} not converged: residual {np.max(np.abs(res)):.3g} > tol {tol:g}")
    return x, res


def _adapted_kernel(unit, nd, X1, sig1, X2=None, sig2=None, diag=False):
    r""":math:`K_A = \sum_k \rho_k v_k^2\,\mathrm{Cov}_k(\sigma_1, \sigma_2)` on the inputs X1 (activations ``sig1``)
    and X2 (``sig2``; default: X1), the diagonal only if ``diag``. Importance-weighted covariances; with control
    variates, the proposal's covariance in closed form plus the difference of the weighted and the plain sample
    covariances."""
    out = None
    for k, (vk, rk, om) in enumerate(zip(nd["v"], nd["rho"], nd["omega"])):
        s1 = sig1[k]
        s2 = s1 if sig2 is None else sig2[k]
        if diag:
            term = (s1 * s1) @ om - (s1 @ om) ** 2
        else:
            term = (s1 * om) @ s2.T - np.outer(s1 @ om, s2 @ om)
        if unit.control_variate and unit.integrator != "laplace":
            M = s1.shape[1]
            m1, m2 = s1.mean(axis=1), s2.mean(axis=1)
            plain = (s1 * s1).mean(axis=1) - m1**2 if diag else s1 @ s2.T / M - np.outer(m1, m2)
            exact = unit.gaussian_covariance(X1, X1 if X2 is None else X2, nd["modes"][k], nd["chols"][k],
                                             diag=diag)[0]
            term = term - plain + exact
        out = rk * vk * vk * term if out is None else out + rk * vk * vk * term
    return out


class AdaptiveKernelRenormalization(RegressorMixin, BaseEstimator):
    r"""Single-unit (cavity) theory of a one-hidden-layer Bayesian network with data-tilted first-layer weights.

    Same API as :class:`~tflmini.renormalization.KernelRenormalization`; equations in the module docstring. For
    a linear activation it equals kernel renormalization (Q, predictive mean and variance) to rounding.

    Parameters
    ----------
    n_hidden : int
        Width :math:`N_1` (finite: at infinite width the tilt vanishes; use ``KernelRenormalization``).
    temperature : float > 0
    lambda0, lambda1 : float > 0
    activation : {"erf", "linear"}
        An odd activation (the measure's symmetry :math:`(v,w)\to(-v,-w)` is used).
    n_samples : int
        Importance samples of w (even, at least 2 N0); fixed draws, so the theory is a deterministic function.
    n_nodes : int
        Gauss-Hermite nodes on :math:`v > 0`.
    random_state : int
        Seed of the importance samples.
    tol : float
        Tolerance on the preconditioned residual of the closure (relative).
    max_iter : int
        Newton iterations.
    quadratic_term : {"trace", "exact"}
        ``"trace"``: the unit's quadratic term :math:`v^2\sigma^\top G\sigma/2N_1` replaced by :math:`\tau v^2/2`
        (exact kernel renormalization for a linear unit); ``"exact"``: kept as it is, with
        :math:`G = (QK + TI)^{-1}` (a linear unit then differs from kernel renormalization at order :math:`1/N_1`).
    integrator : {"importance", "equivalent", "laplace"}
        The w integral: importance sampling from the Laplace Gaussian at the mode, or from the Gaussian-equivalent
        unit :math:`\mathcal N(v\,u, I/\lambda_0)`, or the Laplace approximation alone (module docstring).
    control_variate : bool
        Closed-form control variates for the sampled means (module docstring); False: the plain self-normalised
        estimate.

    Attributes
    ----------
    Q_ : float
        :math:`\mathbb E_p[v^2]`, the posterior mean of :math:`|v|^2/N_1`.
    b_ : array (P,)
        :math:`(y - \bar f)/T` on the training points.
    tau_ : float
    scalar_ : KernelRenormalization
        The scalar theory on the same data (the starting point of the solver).
    solver_info_ : dict
        Iterations, residual, smallest effective sample size of the importance weights.
    """

    def __init__(self, n_hidden, temperature, lambda0=1.0, lambda1=1.0, activation="erf", n_samples=2048,
                 n_nodes=12, random_state=0, tol=1e-9, max_iter=60, quadratic_term="trace",
                 integrator="importance", control_variate=True):
        self.n_hidden = n_hidden
        self.temperature = temperature
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.activation = activation
        self.n_samples = n_samples
        self.n_nodes = n_nodes
        self.random_state = random_state
        self.tol = tol
        self.max_iter = max_iter
        self.quadratic_term = quadratic_term
        self.integrator = integrator
        self.control_variate = control_variate

    def _checked_params(self):
        n1 = check_hidden_units(self.n_hidden)
        if not np.isfinite(n1):
            raise ValueError("n_hidden must be finite for AdaptiveKernelRenormalization (at infinite width the tilt "
                             "vanishes: use KernelRenormalization(numpy.inf, ...))")
        act = get_activation(self.activation)
        if act.name not in ("erf", "linear"):
            raise ValueError(f"activation must be odd, 'erf' or 'linear', got {act.name!r}")
        n_samples = check_count(self.n_samples, "n_samples")
        if n_samples % 2:
            raise ValueError(f"n_samples must be even (antithetic pairs), got {n_samples}")
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, (int, np.integer)):
            raise TypeError(f"random_state must be an int seed, got {type(self.random_state).__name__}")
        if self.quadratic_term not in ("trace", "exact"):
            raise ValueError(f"quadratic_term must be 'trace' or 'exact', got {self.quadratic_term!r}")
        if self.integrator not in ("laplace", "importance", "equivalent"):
            raise ValueError(f"integrator must be 'importance', 'equivalent' or 'laplace', got {self.integrator!r}")
        if not isinstance(self.control_variate, (bool, np.bool_)):
            raise TypeError(f"control_variate must be True or False, got {type(self.control_variate).__name__}")
        return dict(quadratic_term=self.quadratic_term, integrator=self.integrator,
                    control_variate=bool(self.control_variate), n_hidden=n1,
                    temperature=check_positive(self.temperature, "temperature"),
                    lambda0=check_positive(self.lambda0, "lambda0"), lambda1=check_positive(self.lambda1, "lambda1"),
                    activation=act, n_samples=n_samples, n_nodes=check_count(self.n_nodes, "n_nodes"),
                    random_state=int(self.random_state), tol=check_positive(self.tol, "tol"),
                    max_iter=check_count(self.max_iter, "max_iter"))

    def fit(self, X, y):
        """Solve the closure on training data ``X`` (P, N0), ``y`` (P,)."""
        p = self._checked_params()
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        P, n0 = X.shape
        if p["n_samples"] < 2 * n0:
            raise ValueError(f"n_samples must be at least 2 * N0 = {2 * n0} (whitened samples), got {p['n_samples']}")
        T, n1 = p["temperature"], p["n_hidden"]
        scalar = KernelRenormalization(n1, T, p["lambda0"], p["lambda1"], p["activation"]).fit(X, y)
        unit = _UnitMeasure(X, p["activation"], n1, T, p["lambda0"], p["lambda1"], p["n_samples"], p["n_nodes"],
                            check_random_state(p["random_state"]), quadratic=p["quadratic_term"],
                            integrator=p["integrator"], control_variate=p["control_variate"])
        spec = scalar.spectrum_
        y_scale = max(float(np.linalg.norm(y)), 1e-300)

        def residual(x):
            b, logQ = x[:-1], x[-1]
            Q = float(np.exp(logQ))
            fbar, Q_new, _ = unit.moments(b, Q)
            r = spec.solve(Q, T, T * b + fbar - y) / (y_scale / T)
            return np.append(r, np.log(Q_new) - logQ)

        x0 = np.append(spec.solve(scalar.Q_, T, y), np.log(scalar.Q_))
        x, res = solve_closure(residual, x0, p["tol"], p["max_iter"], "adaptive closure")
        b, Q = x[:-1], float(np.exp(x[-1]))
        fbar, Q2, nd = unit.moments(b, Q, samples=True)
        K_A = _adapted_kernel(unit, nd, X, nd["sig"])
        K_A = 0.5 * (K_A + K_A.T)
        self.unit_, self.nodes_, self.b_, self.Q_ = unit, nd, b, Q2
        self.train_mean_ = fbar
        self.adapted_spectrum_ = KernelSpectrum.from_kernel(K_A, y)
        self.scalar_ = scalar
        self.solver_info_ = {"residual": float(np.max(np.abs(res))), "min_ess": float(np.min(nd["ess"])),
                             "weighted_ess": float(nd["rho"] @ nd["ess"]),
                             "n_samples": p["n_samples"], "n_nodes": p["n_nodes"]}
        self.X_train_ = X
        self.n_features_in_ = n0
        self.alpha_ = P / n1
        return self

    def _check_fitted(self):
        if not hasattr(self, "Q_"):
            raise RuntimeError("this AdaptiveKernelRenormalization is not fitted yet: call fit(X, y) first")

    def predict(self, X, return_var=False):
        r"""Cavity mean :math:`\sqrt{N_1}\,\mathbb E_p[v\sigma(h(x))]` (and the adapted-kernel GP variance if
        ``return_var``)."""
        self._check_fitted()
        p = self._checked_params()
        X = check_matrix(X, "X")
        check_same_dim(X, self.n_features_in_)
        nd, unit = self.nodes_, self.unit_
        sig = unit.activations(nd, X) if return_var else None  # shared by the mean and the variance
        means = unit.test_means(nd, X, sig)
        mean = np.sqrt(p["n_hidden"]) * sum(rk * vk * m for vk, rk, m in zip(nd["v"], nd["rho"], means))
        if not return_var:
            return mean
        k_cross = _adapted_kernel(unit, nd, self.X_train_, nd["sig"], X, sig)
        k_diag = _adapted_kernel(unit, nd, X, sig, diag=True)
        _, var = gp_posterior(self.adapted_spectrum_, 1.0, p["temperature"], k_cross, k_diag)
        return mean, var

    # the test errors from predict, as for the scalar theory
    mean_error = KernelRenormalization.mean_error
    gibbs_error = KernelRenormalization.gibbs_error
