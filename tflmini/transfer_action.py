r"""The action of the Franz-Parisi transfer theory and its ingredients (book chapters 5 and 6):

- :func:`coupled_weight_statistics`: per-unit weight statistics of the source and the coupled target
  replicas, book Eq. ``ch05-weight-stats``;
- :class:`TransferKernels`, :func:`transfer_kernels`: the four kernels of definition ``ch06-def-kernels`` and
  the matrices :math:`R`, :math:`r` of the blocks of Eq. ``ch06-blocks``;
- :func:`transfer_action`: the action of Eq. ``ch06-phi`` (per hidden unit) with its analytic gradient and
  Hessian: readout entropy (first bracket, Eq. ``ch06-det-q``) plus data part (second bracket, Eqs.
  ``ch06-det-g`` and ``ch06-quadratic``);
- ``_admissible``: the physical region where it is defined, :math:`Q_t > Q_{tt} \ge Q_{st}^2/Q_s`;
- :func:`gap_action`: the same action in the *gap coordinates* :math:`\psi = (\Delta, Q_{tt}, Q_{st})`,
  :math:`\Delta = Q_t - Q_{tt}`, in which the saddle-point solver works (:math:`D = \Delta K_{tt} + Q_{tt}K_d + TI`
  with :math:`K_d = K_{tt} - K_\times \succeq 0`, so :math:`\Delta` keeps its full relative precision when
  :math:`Q_t \gg \Delta`, as at large couplings and small temperatures); :meth:`TransferKernels.on_range`: the
  kernels restricted to the numerical range of :math:`K_{tt}`, where the action differs by a constant only;
  :class:`GapFactor`: :math:`D^{-1}` at a stationary point, in either form.

.. math::

   \phi = \tfrac12\Big[\log(Q_t - Q_{tt}) + \frac{Q_{tt} - Q_{st}^2/Q_s}{Q_t - Q_{tt}} - \lambda_1 Q_t\Big]
        - \tfrac{1}{2N_1}\Big[\log\det D + \mathrm{Tr}\,D^{-1}B + \tilde y^\top D^{-1}\tilde y\Big],

:math:`D = Q_t K_{tt} - Q_{tt}K_\times + TI`, :math:`B = Q_{tt}K_\times - Q_{st}^2 R`,
:math:`R = K_{ts}G_{ss}^{-1}K_{st}`, :math:`\tilde y = y_t - Q_{st}K_{ts}G_{ss}^{-1}y_s`,
:math:`G_{ss} = Q_sK_{ss} + TI`. Its stationary point: :func:`tflmini.transfer_saddle.solve_transfer_saddle`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ._validation import check_nonnegative, check_positive
from .kernels import input_overlaps, kernel_from_overlaps
from .renormalization import rounding_floor

__all__ = ["coupled_weight_statistics", "TransferKernels", "transfer_overlaps", "transfer_kernels", "transfer_action",
           "gap_action", "gap_coordinates", "order_parameters_of", "GapFactor"]


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
    the weight statistics ``stats``, and ``K_d`` :math:`= K_{tt} - K_\times` (the kernel of the fluctuations of
    a target replica around the part it shares with the others; exactly 0 at :math:`\gamma = \infty`).

    ``basis`` is None for kernels on the target inputs; for kernels restricted by :meth:`on_range` it is the
    orthonormal basis :math:`U` (Pt, m) of the numerical range of :math:`K_{tt}`, and every matrix is expressed in
    it (``K_tt`` is then diagonal and ``K_st`` has m columns)."""

    K_tt: np.ndarray
    K_x: np.ndarray
    K_st: np.ndarray
    R: np.ndarray
    r: np.ndarray
    stats: dict
    K_d: np.ndarray
    basis: np.ndarray | None = None

    def on_range(self, y_t, rtol=None):
        r"""The kernels and labels restricted to the numerical range of :math:`K_{tt}`: ``(kernels, y)`` in the
        eigenbasis :math:`U` of the m eigenvalues above ``rtol`` times the largest (default: above
        :func:`~tflmini.renormalization.rounding_floor`), or None when every eigenvalue is above it.

        Why this is exact: :math:`K_\times \preceq K_{tt}` and the columns of :math:`K_{st}` (hence :math:`R` and
        :math:`r`) lie in the range of :math:`K_{tt}` (the joint kernels are positive semidefinite), so on the
        orthogonal complement :math:`D = TI` and :math:`J = TI` do not depend on the order parameters: the action
        differs from the restricted one by a constant. What is dropped is rounding noise of size
        :math:`\epsilon\|K\|`, which would otherwise decide the sign of D once :math:`Q_t\|K\|/T` exceeds
        :math:`1/\epsilon` (e.g. a linear kernel of rank N0 < Pt at labels of 1e4 and T = 1e-6)."""
        if self.basis is not None:
            return None
        k, U = np.linalg.eigh(0.5 * (self.K_tt + self.K_tt.T))
        keep = k > (rounding_floor(k, k.size) if rtol is None else rtol * max(k[-1], 0.0))
        if keep.all():
            return None
        U = U[:, keep]

        def rot(M):
            return 0.5 * ((U.T @ M @ U) + (U.T @ M @ U).T)

        tk = TransferKernels(np.diag(k[keep]), rot(self.K_x), self.K_st @ U, rot(self.R), U.T @ self.r, self.stats,
                             rot(self.K_d), U)
        return tk, U.T @ np.asarray(y_t, dtype=np.float64)


@functools.lru_cache(maxsize=8)
def _strict_lower(P):
    """Indices of the strict lower triangle of a P x P matrix (kept: they cost as much as the copy they index)."""
    return np.tril_indices(P, -1)


def _symmetrize_upper(A):
    """Copy the upper triangle of the square matrix ``A`` onto its lower one, in place (LAPACK and BLAS routines
    of symmetric matrices fill one triangle), and return it in C order: their outputs are in Fortran order, and
    the transpose of a symmetric matrix is the matrix (NumPy's elementwise sums would copy a Fortran array)."""
    lower = _strict_lower(A.shape[0])
    A[lower] = A.T[lower]
    return A if A.flags.c_contiguous else A.T


def transfer_overlaps(X_s, X_t):
    """The input overlaps the kernels of :func:`transfer_kernels` are functions of (target-target and
    source-target, :func:`~tflmini.kernels.input_overlaps`): they do not depend on the coupling, so a chain of
    couplings on the same data computes them once."""
    return {"tt": input_overlaps(X_t), "st": input_overlaps(X_s, X_t)}


def transfer_kernels(X_s, X_t, source_spectrum, Q_s, gamma, temperature, lambda0, activation, overlaps=None):
    """Build :class:`TransferKernels` (book definition ``ch06-def-kernels``, with the weight statistics of
    Eq. ``ch05-weight-stats``; ``R`` and ``r`` enter ``B`` and ``y~`` of Eq. ``ch06-blocks``). Cost: kernels
    plus two Ps x Ps x Pt products. ``overlaps``: :func:`transfer_overlaps` of the same inputs, if known."""
    st = coupled_weight_statistics(gamma, lambda0)
    ov = transfer_overlaps(X_s, X_t) if overlaps is None else overlaps
    K_tt = kernel_from_overlaps(ov["tt"], var1=st["c_tt"], activation=activation)
    # frozen features (gamma = inf): the replicas share their first layer, K_x = K_tt and K_d = 0 exactly
    K_x = K_tt.copy() if np.isinf(gamma) else kernel_from_overlaps(ov["tt"], var1=st["c_tt"], var2=st["c_tt"],
                                                                    cov=st["c_x"], activation=activation)
    K_st = kernel_from_overlaps(ov["st"], var1=st["c_ss"], var2=st["c_tt"], cov=st["c_st"], activation=activation)
    # on the range of K_ss, where the columns of K_st lie (exact; see KernelSpectrum.solve_on_range)
    keep = source_spectrum.eigvals > 0
    U, k = source_spectrum.eigvecs[:, keep], source_spectrum.eigvals[keep]
    proj = U.T @ K_st  # (m, Pt)
    w = 1.0 / (Q_s * k + temperature)
    r = proj.T @ (w * source_spectrum.y_proj[keep])
    # R = proj^T diag(w) proj as a symmetric rank-m update (half the flops of a general product), upper triangle
    R = sla.blas.dsyrk(1.0, proj * np.sqrt(w)[:, None], trans=1, lower=0)
    R = _symmetrize_upper(R)
    return TransferKernels(K_tt, K_x, K_st, R, r, st, K_tt - K_x)


#: psi = GAP @ theta: the gap coordinates (Delta, Q_tt, Q_st) from (Q_t, Q_tt, Q_st)
GAP = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def gap_coordinates(theta):
    r""":math:`\psi = (\Delta, Q_{tt}, Q_{st})` with :math:`\Delta = Q_t - Q_{tt}` (the variance of one replica's
    readout around the part the replicas share), from :math:`\theta = (Q_t, Q_{tt}, Q_{st})`."""
    Q_t, Q_tt, Q_st = np.asarray(theta, dtype=np.float64)
    return np.array([Q_t - Q_tt, Q_tt, Q_st])


def order_parameters_of(psi):
    r""":math:`\theta = (Q_t, Q_{tt}, Q_{st}) = (\Delta + Q_{tt}, Q_{tt}, Q_{st})` from the gap coordinates."""
    delta, Q_tt, Q_st = np.asarray(psi, dtype=np.float64)
    return np.array([delta + Q_tt, Q_tt, Q_st])


def _entropy_terms(psi, Q_s, lambda1):
    r"""Readout entropy :math:`E = \frac12[\log\Delta + m/\Delta - \lambda_1(\Delta + Q_{tt})]` (the first
    bracket of book Eq. ``ch06-phi``, from Eq. ``ch06-det-q``, in the gap coordinates), its gradient, Hessian
    and the magnitudes of the terms of each gradient component; :math:`m = Q_{tt} - Q_{st}^2/Q_s`."""
    d, Q_tt, Q_st = psi
    m = Q_tt - Q_st**2 / Q_s
    val = 0.5 * (np.log(d) + m / d - lambda1 * (d + Q_tt))
    grad = np.array([0.5 * (1 / d - m / d**2 - lambda1), 0.5 * (1 / d - lambda1), -Q_st / (Q_s * d)])
    scale = np.array([0.5 * (1 / d + abs(m) / d**2 + lambda1), 0.5 * (1 / d + lambda1), abs(Q_st) / (Q_s * d)])
    hess = np.array(
        [
            [0.5 * (-1 / d**2 + 2 * m / d**3), -0.5 / d**2, Q_st / (Q_s * d**2)],
            [-0.5 / d**2, 0.0, 0.0],
            [Q_st / (Q_s * d**2), 0.0, -1 / (Q_s * d)],
        ]
    )
    return val, grad, hess, scale


def _abs_kernels(tk):
    """|K_tt|, |K_d|, |R|, computed once per set of kernels (the term magnitudes of :func:`_term_scale`)."""
    cached = tk.__dict__.get("_abs_kernels")
    if cached is None:
        cached = (np.abs(tk.K_tt), np.abs(tk.K_d), np.abs(tk.R))
        object.__setattr__(tk, "_abs_kernels", cached)
    return cached


def _term_scale(S, M, e, tk, Q_st):
    r"""Magnitude of the terms that cancel in each component of the data gradient: every trace and quadratic form
    of it is a sum over matrix elements, :math:`\mathrm{Tr}\,SK = \sum_{ij}S_{ij}K_{ji}`,
    :math:`e^\top Ke = \sum_{ij}e_iK_{ij}e_j`, ... (``M`` = SJS), whose absolute values are summed here. This is
    also the size of the rounding error of the gradient (e.g. when :math:`e = D^{-1}\tilde y` is large along a
    near-null direction of the kernels), so the relative residual |gradient| / scale can reach ~1e-13 at any
    scale of the labels and temperature."""
    aS, aM, ae = np.abs(S), np.abs(M), np.abs(e)
    aKt, aKd, aR = _abs_kernels(tk)
    sk_t = np.vdot(aS, aKt)
    d = 2 * sk_t + np.vdot(aM, aKt) + ae @ (aKt @ ae)
    tt = sk_t + np.vdot(aS, aKd) + np.vdot(aM, aKd) + ae @ (aKd @ ae)
    st = 2 * abs(Q_st) * np.vdot(aS, aR) + 2 * np.abs(tk.r) @ ae
    return np.array([d, tt, st])


def _data_terms(psi, tk, y_t, temperature, order=2):
    r"""Data part (second bracket of book Eq. ``ch06-phi``, from Eqs. ``ch06-det-g`` and ``ch06-quadratic``)
    :math:`\Lambda = \log\det D + \mathrm{Tr}\,D^{-1}J + \tilde y^\top D^{-1}\tilde y` in the gap coordinates
    :math:`\psi = (\Delta, Q_{tt}, Q_{st})`: :math:`D = \Delta K_{tt} + Q_{tt}K_d + TI`,
    :math:`J = D + B = (\Delta + Q_{tt})K_{tt} + TI - Q_{st}^2R` (so :math:`\Lambda` equals the bracket of the
    action up to the constant :math:`P_t`), with gradient, Hessian and the term magnitudes of the gradient.

    With :math:`S = D^{-1}`, :math:`e = S\tilde y`, :math:`A_a = S\,\partial_aD` (:math:`\partial D` = :math:`K_{tt}`,
    :math:`K_d`, 0 and :math:`\partial J` = :math:`K_{tt}`, :math:`K_{tt}`, :math:`-2Q_{st}R` along
    :math:`\Delta, Q_{tt}, Q_{st}`; :math:`\partial_{Q_{st}}\tilde y = -r`):
    :math:`\partial_a\Lambda = \mathrm{Tr}[(S - SJS - ee^\top)\partial_aD] + \mathrm{Tr}\,S\partial_aJ + 2\partial_a\tilde y^\top e`,
    :math:`\partial_a\partial_b\Lambda = -\mathrm{Tr}A_aA_b + 2\mathrm{Tr}A_aSJA_b - \mathrm{Tr}(SJ_bA_a) - \mathrm{Tr}(SJ_aA_b)
    + \mathrm{Tr}\,S\partial_a\partial_bJ + 2e^\top\partial_aD\,S\,\partial_bD\,e - 2\tilde y_b^\top S\partial_aD e
    - 2\tilde y_a^\top S\partial_bDe + 2\tilde y_a^\top S\tilde y_b`.
    """
    delta, Q_tt, Q_st = psi
    P = y_t.shape[0]
    diag = np.diag_indices(P)
    D = delta * tk.K_tt
    D += Q_tt * tk.K_d
    D[diag] += temperature
    # in place (D is ours): the factor overwrites the upper triangle, its inverse the factor; the lower triangle
    # keeps D's, which the symmetrization below replaces
    c, info = sla.lapack.dpotrf(D, lower=False, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError("D is not positive definite")
    logdet = 2.0 * np.sum(np.log(np.diag(c)))
    S, info = sla.lapack.dpotri(c, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError("D is not positive definite")
    S = _symmetrize_upper(S)
    yt = y_t - Q_st * tk.r
    e = S @ yt
    J = (delta + Q_tt) * tk.K_tt
    if Q_st != 0.0:
        J -= Q_st**2 * tk.R
    J[diag] += temperature
    if order < 1:  # the value alone: Tr SJ is an elementwise sum (S and J symmetric), no matrix product
        return logdet + np.vdot(S, J) + yt @ e, None, None, None
    Kt_e, Kd_e = tk.K_tt @ e, tk.K_d @ e
    SJ = S @ J
    M = SJ @ S
    val = logdet + np.trace(SJ) + yt @ e
    # with M = S J S every trace of the gradient is an elementwise sum
    tr_t, tr_d, tr_R = np.vdot(S, tk.K_tt), np.vdot(S, tk.K_d), np.vdot(S, tk.R)
    mk_t, mk_d, eKe_t, eKe_d = np.vdot(M, tk.K_tt), np.vdot(M, tk.K_d), e @ Kt_e, e @ Kd_e
    grad = np.array([2 * tr_t - mk_t - eKe_t, tr_d - mk_d - eKe_d + tr_t, -2 * Q_st * tr_R - 2 * tk.r @ e])
    scale = _term_scale(S, M, e, tk, Q_st)
    if order < 2:
        return val, grad, None, scale

    def tr_prod(X, Y):  # Tr(X Y)
        return np.einsum("ij,ji->", X, Y)

    A_t, A_d, A_R = S @ tk.K_tt, S @ tk.K_d, S @ tk.R
    names = ("d", "tt", "st")
    A = {"d": A_t, "tt": A_d}  # S dD_a (dD_st = 0)
    ASJ = {a: A[a] @ SJ for a in A}
    SJa = {"d": A_t, "tt": A_t, "st": -2 * Q_st * A_R}  # S dJ_a
    u = {"d": Kt_e, "tt": Kd_e}  # dD_a e
    w = {a: S @ v for a, v in u.items()}  # S dD_a e
    hess = np.zeros((3, 3))
    for i, a in enumerate(names):
        for j, b in enumerate(names[i:], start=i):
            h = 0.0
            if a in A and b in A:
                h += -tr_prod(A[a], A[b]) + 2 * tr_prod(ASJ[a], A[b]) + 2 * u[a] @ w[b]
            if a in A:
                h -= tr_prod(SJa[b], A[a])
            if b in A:
                h -= tr_prod(SJa[a], A[b])
            if a == "st" and b == "st":
                h += -2 * np.trace(A_R) + 2 * tk.r @ (S @ tk.r)  # Tr S d2J and 2 r^T S r
            # -2 ytilde_b^T S dD_a e - 2 ytilde_a^T S dD_b e, with ytilde_st = -r
            if b == "st" and a in A:
                h += 2 * tk.r @ w[a]
            if a == "st" and b in A:
                h += 2 * tk.r @ w[b]
            hess[i, j] = hess[j, i] = h
    return val, grad, hess, scale


def gap_action(psi, tk, y_t, Q_s, n_hidden, temperature, lambda1, order=0, scale=False):
    r"""The action :math:`\phi` of book Eq. ``ch06-phi`` (per hidden unit) in the gap coordinates
    :math:`\psi = (\Delta, Q_{tt}, Q_{st})`, :math:`\Delta = Q_t - Q_{tt}`; with ``order`` 1 or 2 also its gradient
    and Hessian in :math:`\psi`, and with ``scale=True`` the natural scale of each gradient component (the sum of
    the absolute values of the terms that cancel in it): the ratio is the relative residual of the stationarity
    equations, invariant under a rescaling of the labels or of the temperature. At ``n_hidden = inf`` only the
    entropic part is left (book corollary ``ch06-cor-lazy``). The saddle-point solver works with this form."""
    psi = np.asarray(psi, dtype=np.float64)
    ev, eg, eh, es = _entropy_terms(psi, Q_s, lambda1)
    if np.isinf(n_hidden):
        out, gs = (ev, eg, eh), es
    else:
        dv, dg, dh, ds = _data_terms(psi, tk, y_t, temperature, order=order)
        c = 1.0 / (2 * n_hidden)
        out = (ev - c * (dv - y_t.shape[0]), None if dg is None else eg - c * dg, None if dh is None else eh - c * dh)
        gs = None if ds is None else es + c * ds
    if order == 0:
        return out[0]
    return out[: order + 1] + ((gs,) if scale else ())


def transfer_action(theta, tk, y_t, Q_s, n_hidden, temperature, lambda1, order=0, scale=False):
    r"""The action :math:`\phi(Q_t, Q_{tt}, Q_{st})` of book Eq. ``ch06-phi`` (per hidden unit); with ``order``
    1 or 2 also its gradient and Hessian in :math:`(Q_t, Q_{tt}, Q_{st})`, returned as a tuple. At
    ``n_hidden = inf`` only the entropic part is left (book corollary ``ch06-cor-lazy``).

    Computed as :func:`gap_action` at :math:`\psi = (Q_t - Q_{tt}, Q_{tt}, Q_{st})` with the chain rule
    (:math:`\partial_{Q_t} = \partial_\Delta`, :math:`\partial_{Q_{tt}}|_{Q_t} = \partial_{Q_{tt}}|_\Delta - \partial_\Delta`).
    With ``scale=True`` (and ``order >= 1``) the tuple ends with the natural scale of each gradient component
    (for :math:`Q_{tt}` the scales of the two gap components add)."""
    out = gap_action(gap_coordinates(theta), tk, y_t, Q_s, n_hidden, temperature, lambda1, order=order,
                     scale=scale)
    if order == 0:
        return out
    res = [out[0], GAP.T @ out[1]]
    if order == 2:
        res.append(GAP.T @ out[2] @ GAP)
    if scale:
        s = out[-1]
        res.append(np.array([s[0], s[0] + s[1], s[2]]))
    return tuple(res)


class GapFactor:
    r""":math:`D = \Delta K_{tt} + Q_{tt}K_d + TI` at ``psi``, factored once; :meth:`solve` applies :math:`D^{-1}` to
    the vectors of the predictor (book Eqs. ``ch06-mean`` and ``ch06-var``).

    For kernels restricted to the range of :math:`K_{tt}` (:meth:`TransferKernels.on_range`, basis U) it applies
    :math:`UD_U^{-1}U^\top`: D maps the range to itself, and every vector the predictor multiplies by
    :math:`D^{-1}` is paired with a kernel column :math:`d = Q_tk_{t*} - Q_{tt}k^\times_{t*}`, which lies in that range
    (the joint kernel of training and test inputs is positive semidefinite); so the result is exact, and the
    rounding-level components outside the range, which :math:`1/T` would amplify, are dropped."""

    def __init__(self, psi, tk, temperature):
        delta, Q_tt, _ = np.asarray(psi, dtype=np.float64)
        D = delta * tk.K_tt + Q_tt * tk.K_d
        D[np.diag_indices_from(D)] += temperature
        self.chol = sla.cho_factor(D)
        self.basis = tk.basis

    def solve(self, b):
        b = np.asarray(b, dtype=np.float64)
        if self.basis is None:
            return sla.cho_solve(self.chol, b)
        return self.basis @ sla.cho_solve(self.chol, self.basis.T @ b)


def relative_residual(grad, scale):
    """``max_i |grad_i| / scale_i`` (a component whose terms all vanish counts as 0)."""
    grad, scale = np.abs(np.asarray(grad, dtype=np.float64)), np.asarray(scale, dtype=np.float64)
    ratio = np.divide(grad, scale, out=np.where(grad > 0, np.inf, 0.0), where=scale > 0)
    return float(np.max(ratio))


def _admissible(psi, Q_s=np.inf, rtol=1e-12):
    """Physical region, in the gap coordinates psi = (Delta, Q_tt, Q_st): Delta = Q_t - Q_tt > 0 (readout
    fluctuations), Q_t > 0 and Q_tt >= Q_st^2/Q_s (Cauchy-Schwarz), the latter up to ``rtol * Q_t``."""
    delta, Q_tt, Q_st = psi
    Q_t = delta + Q_tt
    return bool(Q_t > 0 and delta > 0 and Q_tt - Q_st**2 / Q_s >= -rtol * Q_t)


def _defined(psi):
    """Where the action is defined (besides D positive definite), in the gap coordinates: Delta > 0 and
    Q_t = Delta + Q_tt > 0. Wider than the admissible region: the solver may step across Q_tt = Q_st^2/Q_s
    (e.g. from the cold start, which lies on it), but its answer must be admissible."""
    delta, Q_tt, _ = psi
    return bool(np.all(np.isfinite(psi)) and delta > 0 and delta + Q_tt > 0)
