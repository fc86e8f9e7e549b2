r"""The stationary point of the Franz-Parisi action (book chapter 6: Eq. ``ch06-phi``, theorem
``ch06-thm-action``, section "The stationary point is a saddle"): :func:`solve_transfer_saddle` finds
:math:`(Q_t, Q_{tt}, Q_{st})` with :math:`\nabla\phi = 0` (Broyden secant steps, then Newton with the analytic
Hessian), staying in the physical region. The action is :func:`tflmini.transfer_action.transfer_action`.
"""

from __future__ import annotations

import numpy as np

from .renormalization import ConvergenceError, KernelSpectrum, solve_kr_saddle
from .transfer_action import _admissible, transfer_action

__all__ = ["solve_transfer_saddle"]


def solve_transfer_saddle(tk, y_t, Q_s, n_hidden, temperature, lambda1, *, start=None, hessian=None, tol=1e-10,
                          max_iter=100):
    r"""Find the stationary point of :math:`\phi(Q_t, Q_{tt}, Q_{st})` (book Eq. ``ch06-phi``, theorem
    ``ch06-thm-action``; a saddle, see the book's section "The stationary point is a saddle").

    Broyden's secant method, backtracking to stay in the physical region
    (:math:`Q_t > Q_{tt} \ge Q_{st}^2/Q_s`, :math:`D` positive definite) and to decrease
    :math:`|\nabla\phi|`: it starts from a ``hessian`` of a nearby problem (a warm start, e.g. the
    previous coupling of a slider) or else from the analytic Hessian at the start, and then each step
    costs one gradient (a Cholesky factorization and two matrix products) instead of the five products
    of an exact Hessian. If that does not converge, Newton's method with the analytic Hessian takes over. A cold start uses the single-network saddle of
    the target data with the target kernel, :math:`(Q_t, Q_{tt}, Q_{st}) = (Q^*_{K_{tt}}, 0, 0)`.

    Returns ``(theta, info)`` with theta = (Q_t, Q_tt, Q_st); info gives the method, the number of
    steps, the residual (max-norm of the gradient) and the Hessian at the solution with its
    eigenvalues (the signature of the saddle; after Broyden steps, the secant approximation of it).
    Raises :class:`ConvergenceError` on failure.
    """
    if np.isinf(n_hidden):
        return np.array([1.0 / lambda1, 0.0, 0.0]), {"method": "exact (infinite width)", "iterations": 0,
                                                    "residual": 0.0, "hessian": None, "hessian_eigenvalues": None}
    if start is None:
        # cold start: the single-network saddle on the target data with the target kernel K_tt
        Q_t0, _ = solve_kr_saddle(KernelSpectrum.from_kernel(tk.K_tt, y_t), n_hidden, temperature, lambda1)
        start = (Q_t0, 0.0, 0.0)
    theta = np.array(start, dtype=np.float64)
    if not _admissible(theta, Q_s):
        raise ValueError(f"start must satisfy Q_t > 0, Q_t > Q_tt and Q_tt >= Q_st^2/Q_s, got {theta}")

    def gradient(th, order):
        if not _admissible(th, Q_s):
            return None
        try:
            out = transfer_action(th, tk, y_t, Q_s, n_hidden, temperature, lambda1, order=order)
        except np.linalg.LinAlgError:
            return None
        return out[1:] if all(np.all(np.isfinite(x)) for x in out[1:]) else None

    def done(th, g, h, steps, method):
        h = gradient(th, 2)[1] if h is None else h
        return th, {"method": method, "iterations": steps, "residual": float(np.max(np.abs(g))),
                    "hessian": h, "hessian_eigenvalues": np.linalg.eigvalsh(h).tolist()}

    method = "Broyden (secant) updates from a warm start"
    first = None
    if hessian is None:  # cold start: one exact Hessian, then secant updates (each step costs one gradient)
        first = gradient(theta, 2)
        if first is not None:
            hessian, method = first[1], "Broyden (secant) updates from the exact Hessian at the start"
    if hessian is not None:
        out = first if first is not None else gradient(theta, 1)
        if out is not None:
            th, g, H = theta, out[0], np.array(hessian, dtype=np.float64)
            for it in range(min(30, max_iter)):
                if np.max(np.abs(g)) < tol:  # the secant Hessian is kept for the next warm start
                    return done(th, g, H, it, method)
                try:
                    step = -np.linalg.solve(H, g)
                except np.linalg.LinAlgError:
                    break
                t = 1.0
                for _ in range(20):
                    nxt = gradient(th + t * step, 1)
                    if nxt is not None and np.linalg.norm(nxt[0]) < np.linalg.norm(g):
                        break
                    t *= 0.5
                else:
                    break
                dth, dg = t * step, nxt[0] - g
                H = H + np.outer(dg - H @ dth, dth) / (dth @ dth)
                th, g = th + dth, nxt[0]
    # exact Newton, from the start (whose gradient and Hessian a cold start has already evaluated)
    cur = first if first is not None else gradient(theta, 2)
    if cur is None:
        raise ConvergenceError(f"transfer saddle: the action is not defined at the start {theta}")
    for it in range(max_iter + 1):
        g, h = cur
        res = float(np.max(np.abs(g)))
        norm = float(np.linalg.norm(g))
        if res < tol:
            return done(theta, g, h, it, "Newton with analytic Hessian")
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = 1e-2 * g
        t = 1.0
        for _ in range(50):
            cand = theta - t * step
            nxt = gradient(cand, 2)
            if nxt is not None and np.linalg.norm(nxt[0]) < norm:
                break
            t *= 0.5
        else:
            raise ConvergenceError(f"transfer saddle: no admissible Newton step from {theta} (residual {res:.3g})")
        theta, cur = cand, nxt
    raise ConvergenceError(f"transfer saddle not converged after {max_iter} Newton steps: residual {res:.3g} at {theta}")
