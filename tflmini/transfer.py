r"""The Franz-Parisi theory of transfer between two one-hidden-layer networks (proportional limit): the
estimator :class:`FranzParisiTransfer` (fit, predictions, test errors).

Book: chapter 5 (``book/ch05_franz_parisi.md``: the protocol, Eqs. ``ch05-target-posterior`` and
``ch05-weight-stats``) and chapter 6 (``book/ch06_transfer_theory.md``: the action, Eq. ``ch06-phi``; the
predictor, Eqs. ``ch06-mean`` and ``ch06-var``, split by proposition ``ch06-prop-split``; the source
variance, proposition ``ch06-prop-source-variance``; the test errors, Eqs. ``ch06-test-error`` and
``ch06-single-source``).

Protocol (book Eqs. ``ch05-source-posterior`` and ``ch05-target-posterior``). A source network :math:`(W_s, v_s)` is drawn
from its posterior on :math:`(X_s, y_s)`; a target network, given the frozen source, has posterior

.. math::

   p(W_t, v_t\,|\,W_s) \propto \exp\Big[-\tfrac{1}{2T}|y_t - f_t(X_t)|^2 - \tfrac{\lambda_0}{2}|W_t|^2
        - \tfrac{\lambda_1}{2}|v_t|^2 - \tfrac{\gamma}{2}|W_t - W_s|^2\Big].

Observables are averaged over the target posterior, then over the source (quenched). With replicas
(:math:`n\to0`, replica symmetry) and Gaussian equivalence given the readouts, the order parameters
:math:`Q_t = |v_t|^2/N_1`, :math:`Q_{tt} = v_t^a\cdot v_t^b/N_1`, :math:`Q_{st} = v_s\cdot v_t/N_1`
make stationary the action :math:`\phi` (:mod:`tflmini.transfer_action`: weight statistics, kernels, action;
:mod:`tflmini.transfer_saddle`: its stationary point), while :math:`Q_s` is the single-network saddle on the
source data. The public names of those two modules are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone

from ._threads import single_thread
from ._validation import (check_hidden_units, check_matrix, check_nonnegative, check_positive, check_same_dim,
                          check_targets)
from .kernels import get_activation, nngp_diagonal, nngp_kernel
from .renormalization import ConvergenceError, KernelSpectrum, NoStationaryPointError, solve_kr_saddle
from .transfer_action import (GAP, GapFactor, TransferKernels, _admissible, coupled_weight_statistics, gap_action,
                              gap_coordinates, order_parameters_of, transfer_action, transfer_kernels,
                              transfer_overlaps)
from .transfer_saddle import FLOOR_TOL, solve_frozen_saddle, solve_transfer_saddle

__all__ = ["coupled_weight_statistics", "TransferKernels", "transfer_action", "solve_transfer_saddle",
           "FranzParisiTransfer"]


def _null_space_matters(tk, psi, temperature):
    r"""Whether rounding in :math:`D = \Delta K_{tt} + Q_{tt}K_d + TI` reaches :math:`10^{-6}T`: the rounding of
    an eigendecomposition of the kernels, :math:`P\epsilon\,Q_t\|K_{tt}\|`, is then a visible part of D's
    smallest eigenvalues if :math:`K_{tt}` is rank deficient (e.g. a linear kernel of rank N0 < Pt)."""
    Q_t = psi[0] + psi[1]
    return tk.K_tt.shape[0] * np.finfo(float).eps * Q_t * np.abs(tk.K_tt).sum(axis=1).max() > 1e-6 * temperature


def _lagrange_weights(nodes, x):
    """Weights w_i with sum_i w_i f(nodes[i]) the value at ``x`` of the polynomial through the points."""
    nodes = np.asarray(nodes, dtype=np.float64)
    return np.array([np.prod([(x - b) / (a - b) for j, b in enumerate(nodes) if j != i])
                     for i, a in enumerate(nodes)])


@dataclass(frozen=True)
class SourceSolution:
    """The source network's theory, shared by every coupling: inputs, kernel spectrum and Q_s."""

    X: np.ndarray
    y: np.ndarray
    spectrum: KernelSpectrum
    Q_s: float
    info: dict


class FranzParisiTransfer(RegressorMixin, BaseEstimator):
    r"""Franz-Parisi theory of a target network coupled to a source network by :math:`\gamma` (book chapters 5
    and 6: ``fit`` solves the source saddle of part I and the stationary point of Eq. ``ch06-phi``).

    Parameters
    ----------
    n_hidden : int or inf, width :math:`N_1` of both networks (``inf``: lazy limit, no transfer).
    gamma : float >= 0 or inf, coupling :math:`\gamma` (0: training from scratch; inf: frozen source features).
    temperature : float > 0, :math:`T`.
    lambda0, lambda1 : float > 0, prior precisions of first layer and readout.
    activation : {"erf", "linear"}; the theory needs an odd activation.

    Attributes
    ----------
    order_parameters_ : dict with keys ``"Q_s"``, ``"Q_t"``, ``"Q_st"``, ``"Q_tt"``.
    weight_statistics_ : dict ``c_ss, c_st, c_tt, c_x`` (see :func:`coupled_weight_statistics`).
    solver_info_ : dict, how the source and target saddle points were found (the target's ``"hessian"`` is
        the solver's, possibly secant, approximation; :meth:`action_hessian` gives the exact one).
    source_ : SourceSolution, reused by :meth:`with_gamma`.
    """

    def __init__(self, n_hidden, gamma, temperature, lambda0=1.0, lambda1=1.0, activation="erf"):
        self.n_hidden = n_hidden
        self.gamma = gamma
        self.temperature = temperature
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.activation = activation

    def _checked_params(self):
        """The hyperparameters, validated (scikit-learn convention: stored as given, checked in ``fit``)."""
        n_hidden = check_hidden_units(self.n_hidden)
        act = get_activation(self.activation)
        if not act.odd:
            raise ValueError(
                f"activation {act.name!r} is not odd; the Franz-Parisi transfer theory assumes an odd activation "
                "(erf or linear), for which the source-target kernel vanishes at gamma = 0"
            )
        return dict(
            n_hidden=n_hidden,
            gamma=check_nonnegative(self.gamma, "gamma", allow_inf=True),
            temperature=check_positive(self.temperature, "temperature"),
            lambda0=check_positive(self.lambda0, "lambda0"),
            lambda1=check_positive(self.lambda1, "lambda1"),
            activation=act,
        )

    # -- fitting ------------------------------------------------------------------------------------
    @single_thread()  # see tflmini._threads: one BLAS thread, at most a little slower idle, never stalled when busy
    def fit(self, X_source, y_source, X_target, y_target):
        """Solve the source saddle (Q_s) and the target saddle (Q_t, Q_tt, Q_st)."""
        p = self._checked_params()
        Xs = check_matrix(X_source, "X_source")
        ys = check_targets(y_source, Xs.shape[0], "y_source")
        Xt = check_matrix(X_target, "X_target")
        yt = check_targets(y_target, Xt.shape[0], "y_target")
        check_same_dim(Xt, Xs.shape[1], "X_target", "the source inputs (X_source)")
        K_ss = nngp_kernel(Xs, var1=1.0 / p["lambda0"], activation=p["activation"])
        spectrum = KernelSpectrum.from_kernel(K_ss, ys)
        Q_s, info = solve_kr_saddle(spectrum, p["n_hidden"], p["temperature"], p["lambda1"])
        self.source_ = SourceSolution(Xs, ys, spectrum, Q_s, info)
        return self._fit_target(Xt, yt, start=None)

    def _fit_target(self, Xt, yt, start, anchor=None, overlaps=None):
        """Solve the target saddle at ``self.gamma``: directly (from ``start`` = (psi, gap Hessian), a warm start,
        or else the cold start), and if that fails by continuation in :math:`r = \\gamma/(\\lambda_0+\\gamma)`
        from known solutions (``anchor`` = (r, psi), a nearby fit; then gamma = inf, solved in closed form, for
        r >= 1/2, or gamma = 0, the single network, for r < 1/2; then the other one). Points are in the gap
        coordinates psi = (Q_t - Q_tt, Q_tt, Q_st).

        The kernels are used as they are unless the direct solve fails and :math:`K_{tt}` has eigenvalues at its
        rounding level (:meth:`~tflmini.transfer_action.TransferKernels.on_range`): then every further attempt
        works on the range of :math:`K_{tt}`, where the action differs by a constant only (the choice is made
        once per fit).

        At :math:`\\gamma = \\infty` the direct solve is the closed form (:func:`solve_frozen_saddle`, one
        eigendecomposition), with the generic solver as its fallback. ``overlaps``: the input overlaps of an
        earlier fit on the same data (:func:`~tflmini.transfer_action.transfer_overlaps`)."""
        p = self._checked_params()
        src, gamma = self.source_, p["gamma"]
        form = {"on_range": False}
        self._overlaps = transfer_overlaps(src.X, Xt) if overlaps is None else overlaps

        def kernels(g):
            return transfer_kernels(src.X, Xt, src.spectrum, src.Q_s, g, p["temperature"], p["lambda0"], p["activation"],
                                    overlaps=self._overlaps)

        def solved_form(tk):
            """(kernels, labels) the solver works with: the target's, or their restriction to the range of K_tt."""
            reduced = tk.on_range(yt) if form["on_range"] else None
            return (tk, yt) if reduced is None else reduced

        def solve(g, start, hessian=None, **kw):
            tk = kernels(g)
            tk_s, y_s = solved_form(tk)
            psi, info = solve_transfer_saddle(tk_s, y_s, src.Q_s, p["n_hidden"], p["temperature"], p["lambda1"],
                                              start=start, hessian=hessian, **kw)
            return (tk, tk_s, y_s), psi, info

        solve.kernels, solve.solved_form, solve.temperature, solve.Q_s = kernels, solved_form, p["temperature"], src.Q_s
        frozen = np.isinf(gamma)

        try:
            if frozen:
                tks, psi, info = self._frozen_solution(solve, p)
            else:
                tks, psi, info = solve(gamma, None if start is None else start[0], None if start is None else start[1],
                                       max_iter=40)
            if _null_space_matters(tks[0], psi, p["temperature"]) and tks[0].on_range(yt) is not None:
                # converged, but rounding in the null space of K_tt decides D^{-1} there: redo on the range
                form["on_range"] = True
                tks, psi, info = (self._frozen_solution(solve, p) if frozen
                                  else solve(gamma, psi, info["gap_hessian"], max_iter=40))
        except ConvergenceError as first_error:
            errors = [f"direct solve: {first_error}"]
            result = None
            if kernels(gamma).on_range(yt) is not None:  # K_tt is numerically rank deficient: drop its null space
                form["on_range"] = True
                errors[0] += " (on the full kernels; then on the range of K_tt)"
            if start is not None or form["on_range"] or frozen:  # a cold start can work where a warm or closed form fails
                try:
                    result = solve(gamma, None, max_iter=40)
                except ConvergenceError as err:
                    errors.append(f"cold start: {err}")
            if result is None:
                result = self._continuation(solve, p, Xt, yt, anchor, errors)
            tks, psi, info = result
        tk, tk_s, y_s = tks
        Q_t, Q_tt, Q_st = (float(v) for v in order_parameters_of(psi))
        self.order_parameters_ = {"Q_s": float(src.Q_s), "Q_t": Q_t, "Q_st": Q_st, "Q_tt": Q_tt}
        self.weight_statistics_ = tk.stats
        self.solver_info_ = {"source": src.info, "target": dict(info, kernels="on the range of K_tt" if
                                                                 tk_s.basis is not None else "full")}
        self.X_target_, self.y_target_ = Xt, yt
        self.n_features_in_ = Xt.shape[1]
        self._tk, self._solved, self._gap = tk, (tk_s, y_s), np.asarray(psi, dtype=np.float64)
        self._D = GapFactor(psi, tk_s, p["temperature"])  # D^{-1} of the predictor
        self._y_tilde = yt - Q_st * tk.r
        self._e = self._D.solve(self._y_tilde)
        # G_ss^{-1} y_s, paired with source kernel columns k_s only: on the range of K_ss
        self._source_weights = src.spectrum.solve_on_range(src.Q_s, p["temperature"], src.y)
        return self

    def _continuation(self, solve, p, Xt, yt, anchor, errors):
        """Continuation of the stationary point in r = gamma/(lambda0 + gamma) (the weight statistics are
        polynomials in r, so the saddle varies smoothly along it) from known solutions to ``p["gamma"]``, with
        adaptive steps and a secant predictor. Returns (tk, psi, info) or raises: a
        :class:`NoStationaryPointError` if the branch of stationary points leaves the admissible region, turns
        back (a fold) or loses a positive-definite D before the requested coupling, else a
        :class:`ConvergenceError`."""
        src, lam0 = self.source_, p["lambda0"]
        r_target = self._coupling_fraction(p["gamma"])

        def gamma_of(r):
            return np.inf if r >= 1.0 else lam0 * r / (1.0 - r)

        def anchor_at(r):
            return self._frozen_solution(solve, p) if r >= 1.0 else solve(gamma_of(r), None)

        anchors = [] if anchor is None else [("the previous fit", anchor[0], anchor[1], None)]
        ends = [("gamma = inf", 1.0), ("gamma = 0", 0.0)]
        anchors += [(n, r, None, None) for n, r in (ends if r_target >= 0.5 else ends[::-1])]
        verdicts = []
        for name, r0, psi0, info0 in anchors:
            try:
                if psi0 is None:
                    try:
                        tk0, psi0, info0 = anchor_at(r0)
                    except np.linalg.LinAlgError as err:
                        raise ConvergenceError(f"linear algebra failed: {err}") from None
                    if r0 == r_target:
                        return tk0, psi0, dict(info0, method=info0["method"] + ", after the direct solve failed")
            except ConvergenceError as err:
                errors.append(f"anchor {name}: {err}")
                continue
            try:
                tk, psi, info, steps = self._path(solve, src.Q_s, r0, psi0, r_target, gamma_of,
                                                    None if info0 is None else info0.get("gap_hessian"))
            except NoStationaryPointError as err:
                verdicts.append(f"from {name}: {err}")
                continue
            except ConvergenceError as err:
                errors.append(f"continuation from {name}: {err}")
                continue
            return tk, psi, dict(info, method=info["method"] + f", after continuation in r = gamma/(lambda0+gamma) "
                                   f"from {name} ({steps} steps)")
        if verdicts:
            raise NoStationaryPointError(
                f"no stationary point of the transfer action exists in the admissible region at gamma = {p['gamma']:g} "
                f"on the branches reachable from known solutions: {'; '.join(verdicts)}"
                + (f" (other attempts: {'; '.join(errors)})" if errors else ""))
        raise ConvergenceError("transfer saddle not converged: " + "; ".join(errors))

    @staticmethod
    def _frozen_solution(solve, p):
        """The stationary point at gamma = inf in closed form (:func:`solve_frozen_saddle`), polished by the
        generic solver when rounding leaves its relative residual above ``FLOOR_TOL``. Returns (tks, psi, info)
        like ``solve``."""
        tk = solve.kernels(np.inf)
        tk_s, y_s = solve.solved_form(tk)
        Q_s = solve.Q_s
        psi, info = solve_frozen_saddle(tk_s, y_s, Q_s, p["n_hidden"], p["temperature"], p["lambda1"])
        if not info["relative_residual"] <= FLOOR_TOL:  # polish the closed form
            try:
                psi, info = solve_transfer_saddle(tk_s, y_s, Q_s, p["n_hidden"], p["temperature"], p["lambda1"],
                                                  start=psi)
            except ConvergenceError:
                if not info["relative_residual"] <= 1e-6:
                    raise ConvergenceError(
                        f"the closed-form stationary point at gamma = inf, {psi} (Delta, Q_tt, Q_st), has a "
                        f"relative residual {info['relative_residual']:.3g} (rounding in an ill-conditioned "
                        "D)") from None
                info = dict(info, floor=True, method=info["method"] + " (at its rounding floor)")
        if not info["admissible"]:
            raise ConvergenceError(f"the closed-form stationary point at gamma = inf, {psi}, is not admissible")
        return (tk, tk_s, y_s), psi, info

    @staticmethod
    def _path(solve, Q_s, r0, psi0, r1, gamma_of, hessian=None, min_step=1e-9, max_steps=400):
        """Follow the stationary point from (r0, psi0) to r1: adaptive steps in r (doubled after a success,
        divided by 4 after a failure), secant predictor, Broyden/Newton corrector. Returns
        (tk, psi, info, steps)."""
        r, th, prev, step, steps, fail = r0, np.asarray(psi0, dtype=float), None, r1 - r0, 0, None
        for _ in range(max_steps):
            r_new = r1 if abs(r1 - r) <= abs(step) else r + step
            guess = th
            if prev is not None and r != prev[0]:
                cand = th + (th - prev[1]) * (r_new - r) / (r - prev[0])
                if _admissible(cand, Q_s, rtol=1e-9):
                    guess = cand
            try:
                tk, th_new, info = solve(gamma_of(r_new), guess, hessian, max_iter=30, require_admissible=False)
                ok = info["admissible"]
                if not ok:
                    fail = ("boundary", r_new, th_new)
            except ConvergenceError as err:
                ok, fail = False, ("stall", r_new, str(err))
            if ok:
                steps += 1
                prev, r, th, hessian = (r, th), r_new, th_new, info["gap_hessian"]
                if r == r1:
                    return tk, th, info, steps
                step *= 2.0
                continue
            step /= 4.0
            if abs(step) < min_step:
                break
        else:
            raise ConvergenceError(f"continuation from gamma = {gamma_of(r0):g} to {gamma_of(r1):g} took more than "
                                   f"{max_steps} steps (reached gamma = {gamma_of(r):.6g})")
        where = f"gamma = {gamma_of(r):.6g} (r = {r:.9f})"
        delta, Q_tt, Q_st = th
        Q_t = delta + Q_tt
        tk = solve.kernels(gamma_of(r)) if hasattr(solve, "kernels") else None
        temp = solve.temperature
        kappa = (Q_t * np.abs(tk.K_tt).sum(axis=1).max() + temp) / temp if tk is not None else 1.0
        if kappa * np.finfo(float).eps > 1e-4 or r1 >= 1.0:
            # beyond double precision (D = Delta K_tt + Q_tt K_d + T I cannot be inverted to a useful accuracy), or
            # gamma = inf, where a stationary point always exists (solve_frozen_saddle): no verdict on existence
            raise ConvergenceError(
                f"continuation from gamma = {gamma_of(r0):g} stalled at {where}; D has a condition number of about "
                f"{kappa:.2g}{' (beyond double precision)' if kappa * np.finfo(float).eps > 1e-4 else ''} "
                f"(last failure: {fail[2] if fail[0] == 'stall' else 'inadmissible point'})")
        if fail[0] == "boundary":
            m = fail[2][1] - fail[2][2] ** 2 / Q_s
            raise NoStationaryPointError(
                f"continued from gamma = {gamma_of(r0):g}, the branch of stationary points leaves the admissible "
                f"region at {where}: just beyond, it has Q_tt - Q_st^2/Q_s = {m:.3g} < 0 (the replica overlap "
                f"matrix of the readouts would not be positive semidefinite)")
        # diagnose the last point of the branch: a fold (singular Hessian) or a boundary approached
        tk, _, info = solve(gamma_of(r), th, None, max_iter=5, require_admissible=False)
        eig = np.abs(np.asarray(info["hessian_eigenvalues"]))
        m_rel, d_rel = (Q_tt - Q_st**2 / Q_s) / Q_t, delta / Q_t
        if r != r0 and eig.min() <= 1e-10 * eig.max():
            raise NoStationaryPointError(
                f"continued from gamma = {gamma_of(r0):g}, the branch of stationary points turns back (a fold: the "
                f"Hessian of the action becomes singular, |eigenvalues| {eig.min():.3g} vs {eig.max():.3g}) at "
                f"{where}; no stationary point continues it to gamma = {gamma_of(r1):g}")
        if r != r0 and (m_rel <= 1e-6 or d_rel <= 1e-6):
            raise NoStationaryPointError(
                f"continued from gamma = {gamma_of(r0):g}, the branch of stationary points reaches the boundary of "
                f"the admissible region at {where} ((Q_tt - Q_st^2/Q_s)/Q_t = {m_rel:.3g}, (Q_t - Q_tt)/Q_t = "
                f"{d_rel:.3g})")
        raise ConvergenceError(f"continuation from gamma = {gamma_of(r0):g} stalled at {where} with no sign that the "
                               f"stationary point ceases to exist there (last failure: {fail[2]})")

    def with_gamma(self, gamma):
        """Copy constructor: a new estimator with this one's parameters and coupling ``gamma``
        (``clone(self).set_params(gamma=gamma)``), fitted on the same data. It reuses the source solution,
        which does not depend on the coupling, and warm-starts the target saddle from this fit (one
        target-sized solve: the fast path of a slider, run on one BLAS thread, which is faster at these sizes
        and on a busy machine); the result equals a fresh ``fit`` to solver precision."""
        self._check_fitted()
        new = clone(self).set_params(gamma=gamma)
        psi = self._gap
        # along a chain (a slider), the exact Hessian at the extrapolated start: one Hessian evaluation (about two
        # gradients) saves about three Broyden steps, whose rate the Hessian's accuracy sets; for a jump, this fit's
        # secant Hessian (an exact one at a distant start costs more steps than it saves)
        guess = self._predicted_start(psi, float(gamma))
        start = (guess, None if guess is not psi else self.solver_info_["target"]["gap_hessian"])
        if (np.isinf(float(gamma)) != np.isinf(float(self.gamma)) or self.solver_info_["target"]["gap_hessian"] is None
                or self._solved[0].basis is not None):  # a fit on the range of K_tt starts afresh
            start = None
        new.source_ = self.source_
        # a warm start from far away can fail where a cold start succeeds (tried next), and continuation from
        # this fit (the anchor) or from the ends of the coupling range after that
        with single_thread():  # the slider path: one BLAS thread is faster at these sizes (benchmarks/bench_theory.py)
            new._fit_target(self.X_target_, self.y_target_, start=start,
                            anchor=(self._coupling_fraction(float(self.gamma)), psi), overlaps=self._overlaps)
        # the chain of fits that led here, newest first (the nodes of the predictor of the next call)
        new._previous_solutions = ((self._coupling_fraction(float(self.gamma)), psi),) + self._chain()[:1]
        return new

    def _chain(self):
        """(r, psi) of the fits before this one in a chain of :meth:`with_gamma` calls, newest first."""
        return getattr(self, "_previous_solutions", ())

    def _coupling_fraction(self, gamma):
        r""":math:`r = \gamma/(\lambda_0+\gamma)\in[0, 1]`, the variable in which the weight statistics (and
        the saddle point) vary smoothly from scratch to frozen features."""
        return 1.0 if np.isinf(gamma) else gamma / (self.lambda0 + gamma)

    def _predicted_start(self, psi, gamma):
        """Warm start for ``gamma``: the saddle of this fit, moved along the polynomial in r through this fit
        and the previous ones of a chain of :meth:`with_gamma` calls (a slider or a curve; a parabola through
        three fits, else the secant through two), when that is a short extrapolation (at most three times the
        last spacing of the nodes) that stays in the physical region. Only the speed of the solve depends on
        it: the solver's convergence test is the same from any start."""
        if np.isinf(gamma):
            return psi
        r_new = self._coupling_fraction(gamma)
        nodes = [(self._coupling_fraction(float(self.gamma)), np.asarray(psi, dtype=np.float64))]
        for r_prev, psi_prev in self._chain():
            if min(abs(r_prev - r) for r, _ in nodes) < 1e-12:
                break
            nodes.append((r_prev, np.asarray(psi_prev, dtype=np.float64)))
        if len(nodes) < 2 or abs(r_new - nodes[0][0]) > 3.0 * abs(nodes[0][0] - nodes[1][0]):
            return psi
        Q_s = self.order_parameters_["Q_s"]
        for k in range(len(nodes), 1, -1):  # the highest degree whose extrapolation is admissible
            guess = sum(w * p for w, (_, p) in zip(_lagrange_weights([r for r, _ in nodes[:k]], r_new), nodes))
            if _admissible(guess, Q_s):
                return guess
        return psi

    def _check_fitted(self):
        if not hasattr(self, "order_parameters_"):
            raise RuntimeError("this FranzParisiTransfer is not fitted yet: call fit(X_source, y_source, X_target, y_target)")

    # -- kernels ------------------------------------------------------------------------------------
    def source_target_kernel(self, X_source, X_target):
        r"""Renormalized source-target kernel :math:`Q_{st}K_{st}(x_s, x_t)` (the covariance in the first term of
        book Eq. ``ch06-mean``), shape (len(X_source), len(X_target))."""
        self._check_fitted()
        st, act = self.weight_statistics_, self._checked_params()["activation"]
        X_source, X_target = check_matrix(X_source, "X_source"), check_matrix(X_target, "X_target")
        check_same_dim(X_source, self.n_features_in_, "X_source")
        check_same_dim(X_target, self.n_features_in_, "X_target")
        K = nngp_kernel(X_source, X_target, var1=st["c_ss"], var2=st["c_tt"], cov=st["c_st"], activation=act)
        return self.order_parameters_["Q_st"] * K

    # -- predictions --------------------------------------------------------------------------------
    def _test_kernels(self, X):
        r"""Checked test inputs and the kernels of the predictor at them: ``(X, k_s, k_x, d)`` with
        :math:`k_{s*}` (Ps, M), :math:`k^\times_{t*}` (Pt, M) and :math:`d = Q_tk_{t*} - Q_{tt}k^\times_{t*}` (Pt, M)."""
        self._check_fitted()
        p = self._checked_params()
        X = check_matrix(X, "X")
        check_same_dim(X, self.n_features_in_)
        st, act = self.weight_statistics_, p["activation"]
        k_s = nngp_kernel(self.source_.X, X, var1=st["c_ss"], var2=st["c_tt"], cov=st["c_st"], activation=act)
        k_t = nngp_kernel(self.X_target_, X, var1=st["c_tt"], activation=act)
        k_x = k_t.copy() if np.isinf(float(p["gamma"])) else nngp_kernel(
            self.X_target_, X, var1=st["c_tt"], var2=st["c_tt"], cov=st["c_x"], activation=act)
        delta, Q_tt, _ = self._gap
        return X, k_s, k_x, delta * k_t + Q_tt * (k_t - k_x)  # = Q_t k_t - Q_tt k_x

    def predictor_parts(self, X):
        r"""The predictor split by its dependence on :math:`Q_{st}` (book proposition ``ch06-prop-split``).

        With :math:`d = Q_tk_{t*} - Q_{tt}k^\times_{t*}`, :math:`\tilde k_{s*} = k_{s*} - K_{st}D^{-1}d` (the
        source-target kernel at :math:`x` minus what the target training inputs already explain of it) and
        :math:`G = G_{ss}`, exactly

        - mean :math:`= \bar f_0 + Q_{st}\,u`, :math:`\bar f_0 = d^\top D^{-1}y_t`, :math:`u = \tilde k_{s*}^\top G^{-1}y_s`;
        - total variance :math:`= \mathrm{Var}_0 - Q_{st}^2\Xi`, :math:`\Xi = \tilde k_{s*}^\top G^{-1}\tilde k_{s*}`,
          :math:`\mathrm{Var}_0 = Q_tk_{**} - d^\top D^{-1}d - 2Q_{tt}d^\top D^{-1}k^\times_{t*} + Q_{tt}d^\top D^{-1}K_\times D^{-1}d`;
        - source-to-source variance :math:`= V_0 - Q_{st}^2\Xi`,
          :math:`V_0 = Q_{tt}[k^\times_{**} - 2d^\top D^{-1}k^\times_{t*} + d^\top D^{-1}K_\times D^{-1}d]`.

        :math:`\bar f_0`, :math:`\mathrm{Var}_0` and :math:`V_0` do not involve the source labels. Returns a dict of
        arrays over the rows of ``X``: ``m0`` (:math:`\bar f_0`), ``u``, ``var0``, ``sv0`` (:math:`V_0`), ``xi`` (:math:`\Xi`).
        """
        X, k_s, k_x, d = self._test_kernels(X)
        p = self._checked_params()
        st, act, T = self.weight_statistics_, p["activation"], p["temperature"]
        op, src, tk = self.order_parameters_, self.source_, self._tk
        Q_t, Q_tt = op["Q_t"], op["Q_tt"]
        Z = self._D.solve(d)  # D^{-1} d
        k_res = k_s - tk.K_st @ Z  # the residual source-target kernel
        Gi_k = src.spectrum.solve_on_range(src.Q_s, T, k_res)
        c_xx = np.einsum("ij,ij->i", X, X) / X.shape[1]  # C(x, x)
        k_xx = act.kernel(st["c_tt"] * c_xx, st["c_tt"] * c_xx, st["c_x"] * c_xx)  # K_x(x, x)
        zkx = np.einsum("pm,pm->m", Z, k_x)
        zKz = np.einsum("pm,pm->m", Z, tk.K_x @ Z)
        return {
            "m0": Z.T @ self.y_target_,
            "u": k_res.T @ self._source_weights,
            "var0": Q_t * nngp_diagonal(X, var=st["c_tt"], activation=act) - np.einsum("pm,pm->m", d, Z)
            - 2 * Q_tt * zkx + Q_tt * zKz,
            "sv0": Q_tt * (k_xx - 2 * zkx + zKz),
            "xi": np.einsum("pm,pm->m", k_res, Gi_k),
        }

    def predict(self, X, return_var=False):
        r"""Target-network prediction at ``X``: mean over target and source posteriors (book Eq. ``ch06-mean``),
        and the total variance (target posterior plus source-to-source fluctuations, book Eq. ``ch06-var``)
        if ``return_var``.

        mean :math:`= Q_{st}k_{*s}^\top G_{ss}^{-1}y_s + d^\top D^{-1}\tilde y`, :math:`d = Q_tk_{t*} - Q_{tt}k^\times_{t*}`;
        var :math:`= Q_tk_{**} - [a^\top G_{ss}^{-1}a + d^\top D^{-1}d + 2d^\top D^{-1}\tilde c - d^\top D^{-1}BD^{-1}d]`,
        :math:`a = Q_{st}k_{s*}`, :math:`\tilde c = Q_{tt}k^\times_{t*} - Q_{st}^2K_{ts}G_{ss}^{-1}k_{s*}`; computed as
        :math:`\bar f_0 + Q_{st}u` and :math:`\mathrm{Var}_0 - Q_{st}^2\Xi` (:meth:`predictor_parts`).
        """
        self._check_fitted()
        Q_st = self.order_parameters_["Q_st"]
        if not return_var:
            _, k_s, _, d = self._test_kernels(X)
            return Q_st * (k_s.T @ self._source_weights) + d.T @ self._e
        parts = self.predictor_parts(X)
        mean = parts["m0"] + Q_st * parts["u"]
        return mean, np.clip(parts["var0"] - Q_st**2 * parts["xi"], 0.0, None)

    def source_variance(self, X):
        r"""Source-to-source variance of the target's posterior mean, :math:`\mathrm{Var}_s\langle f(x)\rangle_t` per row
        of ``X`` (book proposition ``ch06-prop-source-variance``): the two-replica (:math:`a\ne b`) covariance
        :math:`B_{**} - 2d^\top D^{-1}\tilde c + d^\top D^{-1}BD^{-1}d`, :math:`B_{**} = Q_{tt}k^\times_{**} - Q_{st}^2k_{*s}^\top G_{ss}^{-1}k_{s*}`.
        Zero at :math:`\gamma = 0` and at infinite width (:math:`Q_{tt} = Q_{st} = 0`)."""
        parts = self.predictor_parts(X)
        return np.clip(parts["sv0"] - self.order_parameters_["Q_st"] ** 2 * parts["xi"], 0.0, None)

    def single_source_error(self, X, y):
        r"""Test error of the target trained on ONE pretrained source, averaged over sources:
        :math:`\mathbb E_s\langle(y - \langle f\rangle_t)^2\rangle_{\rm test}` = :meth:`mean_error` + the test average of
        :meth:`source_variance` (book Eq. ``ch06-single-source``)."""
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        return self.transfer_split(X, y)["single_source_error"]

    def transfer_split(self, X, y):
        r"""The three test errors, each split exactly by its dependence on :math:`Q_{st}` (book proposition
        ``ch06-prop-split``): :math:`\epsilon = \epsilon^{(0)} - 2Q_{st}\langle(y - \bar f_0)u\rangle + Q_{st}^2\langle u^2 - \Xi\rangle`
        (without :math:`\Xi` for the mean error).

        Returns a dict with, for ``err`` in ``gibbs_error``, ``mean_error``, ``single_source_error``: ``err``;
        ``err + "_no_source"`` (:math:`\epsilon^{(0)}`: the same :math:`Q_t, Q_{tt}` with :math:`Q_{st} = 0`, which does not use the
        source labels); ``err + "_source_linear"`` and ``err + "_source_quadratic"`` (the two terms carried by
        :math:`Q_{st}K_{st}`); the last three add up to ``err``.
        """
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        parts = self.predictor_parts(X)
        Q_st = self.order_parameters_["Q_st"]
        r0, u, xi = y - parts["m0"], parts["u"], parts["xi"]
        linear = float(-2 * Q_st * np.mean(r0 * u))
        no_source = {"mean_error": float(np.mean(r0**2)),
                     "gibbs_error": float(np.mean(r0**2 + parts["var0"])),
                     "single_source_error": float(np.mean(r0**2 + parts["sv0"]))}
        quadratic = {"mean_error": float(Q_st**2 * np.mean(u**2))}
        quadratic["gibbs_error"] = quadratic["single_source_error"] = float(Q_st**2 * np.mean(u**2 - xi))
        out = {}
        for err in ("gibbs_error", "mean_error", "single_source_error"):
            out[err] = no_source[err] + linear + quadratic[err]
            out[err + "_no_source"] = no_source[err]
            out[err + "_source_linear"] = linear
            out[err + "_source_quadratic"] = quadratic[err]
        return out

    def mean_error(self, X, y):
        r"""Target test error of the averaged predictor, :math:`\langle(y - \bar f)^2\rangle_{\rm test}` (book Eq.
        ``ch06-test-error``, first expression)."""
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        return float(np.mean((y - self.predict(X)) ** 2))

    def gibbs_error(self, X, y):
        r"""Target test error averaged over target and source posteriors: bias :math:`(y - \bar f)^2` plus total
        variance (book Eq. ``ch06-test-error``, second expression)."""
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        mean, var = self.predict(X, return_var=True)
        return float(np.mean((y - mean) ** 2 + var))

    def action_hessian(self):
        r"""The exact (analytic) Hessian of the action :math:`\phi` in :math:`(Q_t, Q_{tt}, Q_{st})` at the
        stationary point, whose eigenvalue signs show the kind of saddle (``solver_info_`` keeps the
        solver's own, possibly secant, approximation)."""
        self._check_fitted()
        p = self._checked_params()
        tk_s, y_s = self._solved
        H = gap_action(self._gap, tk_s, y_s, self.order_parameters_["Q_s"], p["n_hidden"], p["temperature"],
                       p["lambda1"], order=2)[2]
        return GAP.T @ H @ GAP

    def action(self, Q_t=None, Q_tt=None, Q_st=None):
        r"""The action :math:`\phi(Q_t, Q_{tt}, Q_{st})` of book Eq. ``ch06-phi``; arguments left out take their saddle-point values
        (so ``fp.action(Q_t=grid)`` is a slice through the saddle for plotting). Broadcasts over arrays."""
        self._check_fitted()
        p = self._checked_params()
        op = self.order_parameters_
        args = np.broadcast_arrays(*(np.asarray(op[k] if v is None else v, dtype=np.float64)
                                     for k, v in (("Q_t", Q_t), ("Q_tt", Q_tt), ("Q_st", Q_st))))
        out = np.empty(args[0].shape)
        for idx in np.ndindex(out.shape):
            theta = np.array([a[idx] for a in args])
            if not _admissible(gap_coordinates(theta), op["Q_s"]):
                raise ValueError(f"the action needs Q_t > 0, Q_t > Q_tt and Q_tt >= Q_st^2/Q_s, got (Q_t, Q_tt, Q_st) = {tuple(theta)}")
            out[idx] = transfer_action(theta, self._tk, self.y_target_, op["Q_s"], p["n_hidden"], p["temperature"],
                                       p["lambda1"])
        return out if out.ndim else float(out)

    def stationary_points(self, n_starts=16, seed=0, tol=1e-10):
        r"""Multi-start check of uniqueness (book section on the stationary point): solve
        :math:`\nabla\phi = 0` from the fitted point and from ``n_starts`` random starts spread over the physical
        region (:math:`Q_t` within a factor :math:`e` of the solution, :math:`Q_{tt}\in[0, 0.9\,Q_t)`,
        :math:`|Q_{st}| < 0.95\sqrt{Q_sQ_{tt}}`), and return the distinct stationary points found, an array of
        shape (k, 3) with columns :math:`(Q_t, Q_{tt}, Q_{st})` (two points closer than 1e-6 relative are one).
        Starts from which the solver does not converge are skipped."""
        self._check_fitted()
        p = self._checked_params()
        n_starts = int(n_starts)
        if n_starts < 0:
            raise ValueError(f"n_starts must be >= 0, got {n_starts}")
        op = self.order_parameters_
        rng = np.random.default_rng(seed)
        found = [np.array([op["Q_t"], op["Q_tt"], op["Q_st"]])]
        tk_s, y_s = self._solved
        if np.isinf(p["n_hidden"]):
            return np.array(found)
        for _ in range(n_starts):
            q_t = op["Q_t"] * np.exp(rng.uniform(-1.0, 1.0))
            q_tt = q_t * rng.uniform(0.0, 0.9)
            q_st = rng.uniform(-0.95, 0.95) * np.sqrt(op["Q_s"] * q_tt)
            try:
                _, info = solve_transfer_saddle(tk_s, y_s, op["Q_s"], p["n_hidden"], p["temperature"], p["lambda1"],
                                                start=gap_coordinates((q_t, q_tt, q_st)), tol=tol)
                theta = info["theta"]
            except ConvergenceError:
                continue
            if all(np.max(np.abs(theta - f) / np.maximum(np.abs(f), 1e-3)) > 1e-6 for f in found):
                found.append(theta)
        return np.array(found)
