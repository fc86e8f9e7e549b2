r"""The stationary point of the Franz-Parisi action (book chapter 6: Eq. ``ch06-phi``, theorem
``ch06-thm-action``, section "The stationary point is a saddle"): :func:`solve_transfer_saddle` finds
:math:`(Q_t, Q_{tt}, Q_{st})` with :math:`\nabla\phi = 0` (Broyden secant steps, then Newton with the analytic
Hessian), staying in the physical region; :func:`solve_frozen_saddle` solves :math:`\gamma = \infty` in closed
form. Both work in the gap coordinates :math:`\psi = (\Delta, Q_{tt}, Q_{st})`, :math:`\Delta = Q_t - Q_{tt}`
(:func:`tflmini.transfer_action.gap_action`), and return :math:`\psi` with :math:`\theta = (Q_t, Q_{tt}, Q_{st})`
in ``info["theta"]``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from .renormalization import ConvergenceError, KernelSpectrum, solve_kr_saddle
from .transfer_action import GAP, _admissible, _defined, gap_action, order_parameters_of, relative_residual

__all__ = ["solve_transfer_saddle", "solve_frozen_saddle"]

#: relative residual accepted when the solver can no longer reduce the gradient (its rounding floor): the
#: stationarity equations then hold to 8 digits of the terms that cancel in them
FLOOR_TOL = 1e-8


def solve_transfer_saddle(tk, y_t, Q_s, n_hidden, temperature, lambda1, *, start=None, hessian=None, tol=1e-12,
                          max_iter=100, require_admissible=True):
    r"""Find the stationary point of :math:`\phi(Q_t, Q_{tt}, Q_{st})` (book Eq. ``ch06-phi``, theorem
    ``ch06-thm-action``; a saddle, see the book's section "The stationary point is a saddle").

    Broyden's secant method, backtracking to stay where the action is defined (:math:`Q_t > Q_{tt}`,
    :math:`D` positive definite) and to decrease the gradient (each component measured in units of the scale
    of its terms, so that the merit does not depend on the scale of the labels): it starts from a ``hessian``
    of a nearby problem (a warm start, e.g. the previous coupling of a slider) or else from the analytic
    Hessian at the start, and then each step costs one gradient (a Cholesky factorization and two matrix
    products) instead of the five products of an exact Hessian. If that does not converge, Newton's method
    with the analytic Hessian takes over. A cold start uses the single-network saddle of the target data with
    the target kernel, :math:`(Q_t, Q_{tt}, Q_{st}) = (Q^*_{K_{tt}}, 0, 0)`.

    Everything is in the gap coordinates :math:`\psi = (\Delta, Q_{tt}, Q_{st})` (``start``, ``hessian`` and the
    returned point), in which :math:`D = \Delta K_{tt} + Q_{tt}K_d + TI` is formed without cancellation.

    Convergence is relative: every component of :math:`\nabla\phi` must be at most ``tol`` times the sum of
    the absolute values of the terms that cancel in it (:func:`~tflmini.transfer_action.gap_action` with
    ``scale=True``), so that rescaling the labels or the temperature does not change the verdict. When rounding
    stops any further decrease, a point within ``FLOOR_TOL`` (1e-8) relative is accepted (``info["floor"]``).
    The answer must lie in the admissible region :math:`Q_t > Q_{tt} \ge Q_{st}^2/Q_s` (up to 1e-9 Q_t;
    ``require_admissible=False`` returns it anyway, with ``info["admissible"]``).

    Returns ``(psi, info)``; info gives the method, the number of steps, the residual (max-norm of the
    gradient), the relative residual, ``theta`` = (Q_t, Q_tt, Q_st), and the Hessian at the solution in
    :math:`\theta` (``hessian``, with its ``hessian_eigenvalues``: the signature of the saddle; after Broyden steps,
    the secant approximation of it) and in :math:`\psi` (``gap_hessian``, the warm start of a nearby solve).
    Raises :class:`ConvergenceError` on failure.
    """
    if np.isinf(n_hidden):
        psi = np.array([1.0 / lambda1, 0.0, 0.0])
        return psi, {"method": "exact (infinite width)", "iterations": 0, "residual": 0.0, "relative_residual": 0.0,
                     "theta": psi.copy(), "hessian": None, "gap_hessian": None, "hessian_eigenvalues": None,
                     "admissible": True, "floor": False}
    if start is None:
        # cold start: the single-network saddle on the target data with the target kernel K_tt
        Q_t0, _ = solve_kr_saddle(KernelSpectrum.from_kernel(tk.K_tt, y_t), n_hidden, temperature, lambda1)
        start = (Q_t0, 0.0, 0.0)
    psi = np.array(start, dtype=np.float64)
    if not _admissible(psi, Q_s, rtol=1e-9):
        raise ValueError("start (Delta, Q_tt, Q_st) must satisfy Delta = Q_t - Q_tt > 0, Q_t > 0 and "
                         f"Q_tt >= Q_st^2/Q_s, got {psi}")

    def gradient(th, order):
        """(gradient, Hessian or None, scale) where the action is defined, else None."""
        if not _defined(th):
            return None
        try:  # a trial point far out may overflow: it is refused below, so numpy need not warn about it
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                out = gap_action(th, tk, y_t, Q_s, n_hidden, temperature, lambda1, order=order, scale=True)
        except np.linalg.LinAlgError:
            return None
        g, s = out[1], out[-1]
        h = out[2] if order == 2 else None
        ok = np.all(np.isfinite(g)) and np.all(np.isfinite(s)) and (h is None or np.all(np.isfinite(h)))
        return (g, h, s) if ok else None

    def merit(g, s):
        return float(np.linalg.norm(np.divide(g, s, out=np.zeros_like(g), where=s > 0)))

    def done(th, g, s, h, steps, method, floor=False):
        h = gradient(th, 2)[1] if h is None else h
        admissible = _admissible(th, Q_s, rtol=1e-9)
        if require_admissible and not admissible:
            raise ConvergenceError(
                f"transfer saddle: the stationary point found, {th}, lies outside the admissible region "
                f"(Q_tt - Q_st^2/Q_s = {th[1] - th[2] ** 2 / Q_s:.3g} < 0)")
        return th, _info(method + (" (stopped at the rounding floor)" if floor else ""), steps, th, g, s, h,
                         floor=floor, admissible=admissible)

    method = "Broyden (secant) updates from a warm start"
    first = None
    if hessian is None:  # cold start: one exact Hessian, then secant updates (each step costs one gradient)
        first = gradient(psi, 2)
        if first is not None:
            hessian, method = first[1], "Broyden (secant) updates from the exact Hessian at the start"
    if hessian is not None:
        out = first if first is not None else gradient(psi, 1)
        if out is not None:
            th, g, s, H = psi, out[0], out[2], np.array(hessian, dtype=np.float64)
            for it in range(min(30, max_iter)):
                if relative_residual(g, s) <= tol:  # the secant Hessian is kept for the next warm start
                    return done(th, g, s, H, it, method)
                try:
                    step = -np.linalg.solve(H, g)
                except np.linalg.LinAlgError:
                    break
                if not np.all(np.isfinite(step)):
                    break
                t, m0 = 1.0, merit(g, s)
                for _ in range(20):
                    nxt = gradient(th + t * step, 1)
                    if nxt is not None and merit(nxt[0], s) < m0:
                        break
                    t *= 0.5
                else:
                    break
                dth, dg = t * step, nxt[0] - g
                if not dth @ dth > 0:  # the step underflowed: no secant information, leave it to Newton
                    break
                H = H + np.outer(dg - H @ dth, dth) / (dth @ dth)
                th, g, s = th + dth, nxt[0], nxt[2]
    # exact Newton, from the start (whose gradient and Hessian a cold start has already evaluated)
    cur = first if first is not None else gradient(psi, 2)
    if cur is None:
        raise ConvergenceError(f"transfer saddle: the action is not defined at the start {psi}")
    res = rel = np.inf
    for it in range(max_iter + 1):
        g, h, s = cur
        res, rel = float(np.max(np.abs(g))), relative_residual(g, s)
        if rel <= tol:
            return done(psi, g, s, h, it, "Newton with analytic Hessian")
        if it == max_iter:
            break
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = None
        if step is None or not np.all(np.isfinite(step)):
            step = 1e-2 * g
        t, m0 = 1.0, merit(g, s)
        for _ in range(40):  # backtracking on gradients alone; the Hessian only at the accepted point
            cand = psi - t * step
            nxt = gradient(cand, 1)
            if nxt is not None and merit(nxt[0], s) < m0:
                nxt = gradient(cand, 2)
                if nxt is not None:
                    break
            t *= 0.5
        else:
            if rel <= FLOOR_TOL:  # rounding: no step decreases the gradient any more
                return done(psi, g, s, h, it, "Newton with analytic Hessian", floor=True)
            raise ConvergenceError(f"transfer saddle: no Newton step decreases the gradient from {psi} "
                                   f"(residual {res:.3g}, relative {rel:.3g})")
        psi, cur = cand, nxt
    if rel <= FLOOR_TOL:
        return done(psi, g, s, h, max_iter, "Newton with analytic Hessian", floor=True)
    raise ConvergenceError(f"transfer saddle not converged after {max_iter} Newton steps: residual {res:.3g} "
                           f"(relative {rel:.3g}) at {psi}")


def solve_frozen_saddle(tk, y_t, Q_s, n_hidden, temperature, lambda1):
    r"""The stationary point at :math:`\gamma = \infty` (frozen source features), in closed form up to one
    monotone scalar equation; ``tk`` must be the kernels at :math:`\gamma = \infty` (:math:`K_\times = K_{tt} = K`).

    There :math:`D = \Delta K + TI` depends on :math:`\Delta = Q_t - Q_{tt}` alone, and the stationarity
    equations decouple: :math:`\partial_{Q_t}\phi + \partial_{Q_{tt}}\phi = 0` reads
    :math:`1 - \lambda_1\Delta = \frac{1}{N_1}\sum_i\frac{\Delta k_i}{\Delta k_i + T}` (decreasing minus increasing
    in :math:`\Delta`: exactly one root in :math:`(0, 1/\lambda_1)`); then the :math:`Q_{st}` equation is linear in
    :math:`Q_{st}`, :math:`Q_{st}\beta = r^\top D^{-1}y_t/N_1` with
    :math:`\beta = 1/(Q_s\Delta) - (\mathrm{Tr}\,D^{-1}R - r^\top D^{-1}r)/N_1 \ge \lambda_1/Q_s > 0` (because
    :math:`R \preceq K/Q_s`); and the :math:`Q_{tt}` equation is linear in :math:`Q_{tt}` with a positive
    coefficient. The solution therefore always exists, is unique and is admissible (:math:`Q_{tt} - Q_{st}^2/Q_s
    \ge 0`, again because :math:`R \preceq K/Q_s`). Cost: one eigendecomposition of :math:`K`.

    Returns ``(psi, info)`` like :func:`solve_transfer_saddle`: :math:`\Delta` comes from the scalar equation
    to full relative precision, also where :math:`\Delta \ll Q_t` (small temperatures, large labels).
    """
    if np.isinf(n_hidden):
        return solve_transfer_saddle(tk, y_t, Q_s, n_hidden, temperature, lambda1)
    k, U = np.linalg.eigh(0.5 * (tk.K_tt + tk.K_tt.T))
    k = np.clip(k, 0.0, None)
    N1, T = float(n_hidden), float(temperature)

    def h(delta):
        return 1.0 - lambda1 * delta - np.sum(delta * k / (delta * k + T)) / N1

    hi = 1.0 / lambda1
    delta = hi if h(hi) >= 0 else brentq(h, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    if not delta > 0:  # h(0+) = 1 > 0: the root is positive unless it underflows
        raise ConvergenceError(f"gamma = inf: the gap Q_t - Q_tt underflows ({delta:g}) at T = {T:g}")
    s = 1.0 / (delta * k + T)  # eigenvalues of D^{-1}
    Rp = U.T @ tk.R @ U
    rp, yp = U.T @ tk.r, U.T @ y_t
    Rd = np.diag(Rp)
    beta = 1.0 / (Q_s * delta) - (np.sum(s * Rd) - np.sum(s * rp**2)) / N1
    Q_st = np.sum(s * rp * yp) / N1 / beta
    ytp = yp - Q_st * rp
    dk = delta * k * s  # Delta k_i / (Delta k_i + T) in [0, 1)
    num = Q_st**2 / Q_s + delta**2 * (np.sum(s**2 * k * ytp**2) - Q_st**2 * np.sum(s**2 * k * Rd)) / N1
    Q_tt = num / (1.0 - np.sum(dk**2) / N1)
    psi = np.array([delta, Q_tt, Q_st])
    _, g, H, sc = gap_action(psi, tk, y_t, Q_s, n_hidden, T, lambda1, order=2, scale=True)
    return psi, _info("closed form at gamma = inf (one scalar root)", 0, psi, g, sc, H,
                      admissible=_admissible(psi, Q_s, rtol=1e-9))


def _info(method, steps, psi, g, s, h, floor=False, admissible=True):
    """The solver's report at the point ``psi`` with gap gradient ``g``, scales ``s`` and gap Hessian ``h``."""
    h_theta = GAP.T @ h @ GAP
    return {"method": method, "iterations": steps, "residual": float(np.max(np.abs(g))),
            "relative_residual": relative_residual(g, s), "floor": floor, "admissible": admissible,
            "theta": order_parameters_of(psi), "hessian": h_theta, "gap_hessian": h,
            "hessian_eigenvalues": np.linalg.eigvalsh(h_theta).tolist()}
