r"""The action of the Franz-Parisi transfer theory and its ingredients (book chapters 5 and 6):

- :func:`coupled_weight_statistics`: per-unit weight statistics of the source and the coupled target
  replicas, book Eq. ``ch05-weight-stats``;
- :class:`TransferKernels`, :func:`transfer_kernels`: the four kernels of definition ``ch06-def-kernels`` and
  the matrices :math:`R`, :math:`r` of the blocks of Eq. ``ch06-blocks``;
- :func:`transfer_action`: the action of Eq. ``ch06-phi`` (per hidden unit) with its analytic gradient and
  Hessian: readout entropy (first bracket, Eq. ``ch06-det-q``) plus data part (second bracket, Eqs.
  ``ch06-det-g`` and ``ch06-quadratic``);
- ``_admissible``: the physical region where it is defined, :math:`Q_t > Q_{tt} \ge Q_{st}^2/Q_s`.

.. math::

   \phi = \tfrac12\Big[\log(Q_t - Q_{tt}) + \frac{Q_{tt} - Q_{st}^2/Q_s}{Q_t - Q_{tt}} - \lambda_1 Q_t\Big]
        - \tfrac{1}{2N_1}\Big[\log\det D + \mathrm{Tr}\,D^{-1}B + \tilde y^\top D^{-1}\tilde y\Big],

:math:`D = Q_t K_{tt} - Q_{tt}K_\times + TI`, :math:`B = Q_{tt}K_\times - Q_{st}^2 R`,
:math:`R = K_{ts}G_{ss}^{-1}K_{st}`, :math:`\tilde y = y_t - Q_{st}K_{ts}G_{ss}^{-1}y_s`,
:math:`G_{ss} = Q_sK_{ss} + TI`. Its stationary point: :func:`tflmini.transfer_saddle.solve_transfer_saddle`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ._validation import check_nonnegative, check_positive
from .kernels import nngp_kernel

__all__ = ["coupled_weight_statistics", "TransferKernels", "transfer_kernels", "transfer_action"]


def coupled_weight_statistics(gamma, lambda0=1.0):
    r"""Per-unit first-layer weight statistics of the source and the coupled target replicas (book Eq.
    ``ch05-weight-stats``, from the conditional prior of Eq. ``ch05-conditional-prior``).

    With :math:`w_s\sim\mathcal N(0, 1/\lambda_0)` and :math:`w_t\,|\,w_s\sim
    \mathcal N(\gamma w_s/(\lambda_0+\gamma),\ 1/(\lambda_0+\gamma))` (independently per replica):

    - ``c_ss`` :math:`= 1/\lambda_0`,
    - ``c_st`` :math:`= \gamma/(\lambda_0(\lambda_0+\gamma))`,
    - ``c_tt`` :math:`= \gamma^2/(\lambda_0(\lambda_0+\gamma)^2) + 1/(\lambda_0+\gamma)`,
    - ``c_x`` :math:`= \gamma^2/(\lambda_0(\lambda_0+\gamma)^2)` (two target replicas).

    ``gamma = inf`` gives the exact limit ``c_st = c_tt = c_x = 1/lambda0`` (frozen features).
    """
    gamma = check_nonnegative(gamma, "gamma", allow_inf=True)
    lambda0 = check_positive(lambda0, "lambda0")
    c_ss = 1.0 / lambda0
    if np.isinf(gamma):
        return {"c_ss": c_ss, "c_st": c_ss, "c_tt": c_ss, "c_x": c_ss}
    r = gamma / (lambda0 + gamma)  # regression coefficient of w_t on w_s
    c_x = r * r / lambda0
    return {"c_ss": c_ss, "c_st": r / lambda0, "c_tt": c_x + 1.0 / (lambda0 + gamma), "c_x": c_x}


@dataclass(frozen=True)
class TransferKernels:
    r"""Target-side matrices at one coupling (book: the four kernels of definition ``ch06-def-kernels``
    and the blocks of Eq. ``ch06-blocks``): ``K_tt``, ``K_x`` (Pt, Pt), ``K_st`` (Ps, Pt),
    ``R`` :math:`= K_{ts}G_{ss}^{-1}K_{st}` (Pt, Pt), ``r`` :math:`= K_{ts}G_{ss}^{-1}y_s` (Pt,),
    and the weight statistics ``stats``."""

    K_tt: np.ndarray
    K_x: np.ndarray
    K_st: np.ndarray
    R: np.ndarray
    r: np.ndarray
    stats: dict


def transfer_kernels(X_s, X_t, source_spectrum, Q_s, gamma, temperature, lambda0, activation):
    """Build :class:`TransferKernels` (book definition ``ch06-def-kernels``, with the weight statistics of
    Eq. ``ch05-weight-stats``; ``R`` and ``r`` enter ``B`` and ``y~`` of Eq. ``ch06-blocks``). Cost: kernels
    plus two Ps x Ps x Pt products."""
    st = coupled_weight_statistics(gamma, lambda0)
    K_tt = nngp_kernel(X_t, var1=st["c_tt"], activation=activation)
    K_x = nngp_kernel(X_t, var1=st["c_tt"], var2=st["c_tt"], cov=st["c_x"], activation=activation)
    K_st = nngp_kernel(X_s, X_t, var1=st["c_ss"], var2=st["c_tt"], cov=st["c_st"], activation=activation)
    U, k = source_spectrum.eigvecs, source_spectrum.eigvals
    proj = U.T @ K_st  # (Ps, Pt)
    w = 1.0 / (Q_s * k + temperature)
    R = proj.T @ (proj * w[:, None])
    r = proj.T @ (w * source_spectrum.y_proj)
    return TransferKernels(K_tt, K_x, K_st, 0.5 * (R + R.T), r, st)


def _entropy_terms(theta, Q_s, lambda1):
    r"""Readout entropy :math:`E = \frac12[\log\Delta + m/\Delta - \lambda_1 Q_t]` (the first bracket of book Eq.
    ``ch06-phi``, from Eq. ``ch06-det-q``), its gradient and Hessian,
    :math:`\Delta = Q_t - Q_{tt}`, :math:`m = Q_{tt} - Q_{st}^2/Q_s`."""
    Q_t, Q_tt, Q_st = theta
    d = Q_t - Q_tt
    m = Q_tt - Q_st**2 / Q_s
    val = 0.5 * (np.log(d) + m / d - lambda1 * Q_t)
    grad = np.array([0.5 * (1 / d - m / d**2 - lambda1), m / (2 * d**2), -Q_st / (Q_s * d)])
    # magnitudes of the terms that make up each gradient component (see :func:`transfer_action`, ``scale``)
    scale = np.array([0.5 * (1 / d + abs(m) / d**2 + lambda1), abs(m) / (2 * d**2), abs(Q_st) / (Q_s * d)])
    hess = np.array(
        [
            [0.5 * (-1 / d**2 + 2 * m / d**3), -m / d**3, Q_st / (Q_s * d**2)],
            [-m / d**3, 0.5 * (1 / d**2 + 2 * m / d**3), -Q_st / (Q_s * d**2)],
            [Q_st / (Q_s * d**2), -Q_st / (Q_s * d**2), -1 / (Q_s * d)],
        ]
    )
    return val, grad, hess, scale


def _term_scale(S, M, e, tk, Q_st, SJ=None, A_t=None, A_x=None):
    r"""Magnitude of the terms that cancel in each component of the data gradient: every trace and quadratic form
    of it is a sum over matrix elements, :math:`\mathrm{Tr}\,SK = \sum_{ij}S_{ij}K_{ji}`,
    :math:`e^\top Ke = \sum_{ij}e_iK_{ij}e_j`, ..., whose absolute values are summed here (``M`` = SJS, or
    else ``SJ`` with ``A_t`` = S K_tt and ``A_x`` = S K_x: :math:`\mathrm{Tr}\,SJA = \sum_{ij}(SJ)_{ij}A_{ji}`). This is also the size of the rounding error of the gradient (e.g.
    when :math:`e = D^{-1}\tilde y` is large along a near-null direction of the kernels), so the relative residual
    |gradient| / scale can reach ~1e-13 at any scale of the labels and temperature."""
    aS, ae = np.abs(S), np.abs(e)
    cached = tk.__dict__.get("_abs_kernels")
    if cached is None:  # |K_tt|, |K_x|, |R| once per set of kernels
        cached = (np.abs(tk.K_tt), np.abs(tk.K_x), np.abs(tk.R))
        object.__setattr__(tk, "_abs_kernels", cached)
    aKt, aKx, aR = cached
    if M is not None:
        aM = np.abs(M)
        sj_t, sj_x = np.vdot(aM, aKt), np.vdot(aM, aKx)
    else:
        aSJ = np.abs(SJ)
        sj_t, sj_x = np.vdot(aSJ, np.abs(A_t).T), np.vdot(aSJ, np.abs(A_x).T)
    t = 2 * np.vdot(aS, aKt) + sj_t + ae @ (aKt @ ae)
    x = np.vdot(aS, aKx) + sj_x + ae @ (aKx @ ae)
    st = 2 * abs(Q_st) * np.vdot(aS, aR) + 2 * np.abs(tk.r) @ ae
    return np.array([t, x, st])


def _data_terms(theta, tk, y_t, temperature, order=2):
    r"""Data part (second bracket of book Eq. ``ch06-phi``, from Eqs. ``ch06-det-g`` and ``ch06-quadratic``)
    :math:`\Lambda = \log\det D + \mathrm{Tr}\,D^{-1}J + \tilde y^\top D^{-1}\tilde y`
    (:math:`J = D + B = Q_tK_{tt} + TI - Q_{st}^2R`, so :math:`\Lambda` equals the bracket of the
    action up to the constant :math:`P_t`), with gradient and Hessian in (Q_t, Q_tt, Q_st).

    Derivatives with :math:`S = D^{-1}`, :math:`e = S\tilde y`, :math:`A_a = S\,\partial_aD`:
    :math:`\partial_a\Lambda = \mathrm{Tr}[(S - SJS - ee^\top)\partial_aD] + \mathrm{Tr}\,S\partial_aJ + 2\partial_a\tilde y^\top e`,
    :math:`\partial_a\partial_b\Lambda = -\mathrm{Tr}A_aA_b + 2\mathrm{Tr}A_aSJA_b - \mathrm{Tr}(SJ_bA_a) - \mathrm{Tr}(SJ_aA_b)
    + \mathrm{Tr}\,S\partial_a\partial_bJ + 2e^\top\partial_aD\,S\,\partial_bD\,e - 2\tilde y_b^\top S\partial_aD e
    - 2\tilde y_a^\top S\partial_bDe + 2\tilde y_a^\top S\tilde y_b`.
    """
    Q_t, Q_tt, Q_st = theta
    P = y_t.shape[0]
    D = Q_t * tk.K_tt - Q_tt * tk.K_x
    D[np.diag_indices(P)] += temperature
    c, info = sla.lapack.dpotrf(D, lower=False, clean=True)
    if info != 0:
        raise np.linalg.LinAlgError("D is not positive definite")
    logdet = 2.0 * np.sum(np.log(np.diag(c)))
    S, info = sla.lapack.dpotri(c, lower=False)
    S = np.triu(S) + np.triu(S, 1).T
    yt = y_t - Q_st * tk.r
    e = S @ yt
    Kt_e, Kx_e = tk.K_tt @ e, tk.K_x @ e

    def tr_prod(X, Y):  # Tr(X Y)
        return np.einsum("ij,ji->", X, Y)

    if order < 2:
        # gradient only: with M = S J S every trace is an elementwise sum (two matrix products in all)
        J = Q_t * tk.K_tt - Q_st**2 * tk.R
        J[np.diag_indices(P)] += temperature
        SJ = S @ J
        M = SJ @ S
        val = logdet + np.trace(SJ) + yt @ e
        tr_t, tr_x, tr_R = np.vdot(S, tk.K_tt), np.vdot(S, tk.K_x), np.vdot(S, tk.R)
        sj_t, sj_x, eKe_t, eKe_x, re = np.vdot(M, tk.K_tt), np.vdot(M, tk.K_x), e @ Kt_e, e @ Kx_e, tk.r @ e
        grad = np.array([2 * tr_t - sj_t - eKe_t, -(tr_x - sj_x - eKe_x), -2 * Q_st * tr_R - 2 * re])
        scale = _term_scale(S, M, e, tk, Q_st)
        return val, grad, None, scale
    A_t = S @ tk.K_tt
    A_x = S @ tk.K_x
    A_R = S @ tk.R
    SJ = Q_t * A_t + temperature * S - Q_st**2 * A_R
    val = logdet + np.trace(SJ) + yt @ e
    # Tr(Omega dD) with Omega = S - SJS - ee^T
    om_t = np.trace(A_t) - tr_prod(SJ, A_t) - e @ Kt_e
    om_x = np.trace(A_x) - tr_prod(SJ, A_x) - e @ Kx_e
    tr_AR = np.trace(A_R)
    tr_t, tr_x, sj_t, sj_x = np.trace(A_t), np.trace(A_x), tr_prod(SJ, A_t), tr_prod(SJ, A_x)
    re = tk.r @ e
    grad = np.array([om_t + tr_t, -om_x, -2 * Q_st * tr_AR - 2 * re])
    scale = _term_scale(S, None, e, tk, Q_st, SJ, A_t, A_x)
    # dD_a: t -> K_tt, tt -> -K_x, st -> 0;  J_a: t -> K_tt, tt -> 0, st -> -2 Q_st R;  ytilde_a: st -> -r
    A = {"t": A_t, "tt": -A_x}
    ASJ = {"t": A_t @ SJ, "tt": -(A_x @ SJ)}
    SJa = {"t": A_t, "tt": None, "st": -2 * Q_st * A_R}
    u = {"t": Kt_e, "tt": -Kx_e}  # dD_a e
    w = {k: S @ v for k, v in u.items()}  # S dD_a e
    Sr = S @ tk.r
    names = ("t", "tt", "st")
    hess = np.zeros((3, 3))
    for i, a in enumerate(names):
        for j, b in enumerate(names[i:], start=i):
            h = 0.0
            if a in A and b in A:
                h += -tr_prod(A[a], A[b]) + 2 * tr_prod(ASJ[a], A[b]) + 2 * u[a] @ w[b]
            if a in A and SJa[b] is not None:
                h -= tr_prod(SJa[b], A[a])
            if b in A and SJa[a] is not None:
                h -= tr_prod(SJa[a], A[b])
            if a == "st" and b == "st":
                h += -2 * tr_AR + 2 * tk.r @ Sr  # Tr S d2J and 2 r^T S r
            # -2 ytilde_b^T S dD_a e - 2 ytilde_a^T S dD_b e, with ytilde_st = -r
            if b == "st" and a in A:
                h += 2 * tk.r @ w[a]
            if a == "st" and b in A:
                h += 2 * tk.r @ w[b]
            hess[i, j] = hess[j, i] = h
    return val, grad, hess, scale


def transfer_action(theta, tk, y_t, Q_s, n_hidden, temperature, lambda1, order=0, scale=False):
    r"""The action :math:`\phi(Q_t, Q_{tt}, Q_{st})` of book Eq. ``ch06-phi`` (per hidden unit); with ``order``
    1 or 2 also its gradient and Hessian, returned as a tuple. At ``n_hidden = inf`` only the entropic part
    is left (book corollary ``ch06-cor-lazy``).

    With ``scale=True`` (and ``order >= 1``) the tuple ends with the natural scale of each gradient component:
    the sum of the absolute values of the terms (entropic and data) that cancel at the stationary point. The
    ratio ``|gradient| / scale`` is the relative residual of the stationarity equations, invariant under a
    rescaling of the labels or of the temperature; it is what the saddle-point solver drives to zero."""
    theta = np.asarray(theta, dtype=np.float64)
    ev, eg, eh, es = _entropy_terms(theta, Q_s, lambda1)
    if np.isinf(n_hidden):
        out = (ev, eg, eh)
        gs = es
    else:
        dv, dg, dh, ds = _data_terms(theta, tk, y_t, temperature, order=order)
        c = 1.0 / (2 * n_hidden)
        out = (ev - c * (dv - y_t.shape[0]), eg - c * dg, None if dh is None else eh - c * dh)
        gs = es + c * ds
    if order == 0:
        return out[0]
    return out[: order + 1] + ((gs,) if scale else ())


def relative_residual(grad, scale):
    """``max_i |grad_i| / scale_i`` (a component whose terms all vanish counts as 0)."""
    grad, scale = np.abs(np.asarray(grad, dtype=np.float64)), np.asarray(scale, dtype=np.float64)
    ratio = np.divide(grad, scale, out=np.where(grad > 0, np.inf, 0.0), where=scale > 0)
    return float(np.max(ratio))


def _admissible(theta, Q_s=np.inf, rtol=1e-12):
    """Physical region: Q_t > Q_tt (readout fluctuations) and Q_tt >= Q_st^2/Q_s (Cauchy-Schwarz), the
    latter up to ``rtol * Q_t``."""
    Q_t, Q_tt, Q_st = theta
    return bool(Q_t > 0 and Q_t - Q_tt > 0 and Q_tt - Q_st**2 / Q_s >= -rtol * Q_t)


def _defined(theta):
    """Where the action is defined (besides D positive definite): Q_t > 0 and Q_t > Q_tt. Wider than the
    admissible region: the solver may step across Q_tt = Q_st^2/Q_s (e.g. from the cold start, which lies on
    it), but its answer must be admissible."""
    Q_t, Q_tt, _ = theta
    return bool(np.all(np.isfinite(theta)) and Q_t > 0 and Q_t - Q_tt > 0)
