r"""Slider panels for part II of the book (the Franz-Parisi theory of transfer).

Each panel is one call that returns a :class:`~tflmini.widgets.panel.Panel`:

- :func:`transfer_panel` -- target test error against the coupling :math:`\gamma`, with the
  matched-prior control, the scratch network and the lazy (infinite-width) limit; order parameters
  against :math:`\gamma`. Sliders: ``alpha_target`` :math:`=P_t/N_1`, ``alpha_source``
  :math:`=P_s/N_1`, ``gamma``, ``rho`` (teacher overlap) and ``n_hidden`` (:math:`N_1`).
- :func:`saddle_panel` -- slices of the action :math:`\phi(Q_t, Q_{tt}, Q_{st})` through its stationary
  point: a maximum along :math:`Q_t` and :math:`Q_{st}`, a minimum along :math:`Q_{tt}`. Sliders:
  ``gamma``, ``rho``, ``alpha_target``, ``n_hidden``.
- :func:`order_parameter_panel` -- order parameters and the two terms of the target predictor against
  :math:`\gamma` at fixed sample sizes, as the width grows to the lazy limit. Sliders: ``n_hidden``
  (up to :math:`\infty`), ``rho``, ``gamma``.

Speed: every theory curve is cached (:class:`TransferExplorer`), the couplings of a curve are solved with
:meth:`~tflmini.FranzParisiTransfer.with_gamma` (warm starts reusing the source solution), and BLAS runs
single-threaded. Moving ``gamma`` only moves a marker; other sliders compute one new curve (tens of
milliseconds at the default sizes) and re-render the figure. The transfer and order-parameter panels make their
axes and lines once and give them new data at every move (:class:`~tflmini.plots.gamma_axis.GammaCurve`,
:func:`~tflmini.widgets.panel.retained`); the lazy limit of :func:`transfer_panel` is the theory alone
(:meth:`TransferExplorer.lazy_curve`).

``static=True`` (each panel's default grid) or ``static={slider: values}`` (one or two sliders) precomputes
the frames for a page without a kernel (:mod:`tflmini.widgets.panel`). Extreme values (:math:`\gamma = 0` and :math:`\infty`, :math:`\rho = 0` and 1) never raise: a coupling
whose saddle point is not found is left out of the curve and reported in the figure.
"""

from __future__ import annotations

import numpy as np

from .._threads import single_thread
from ..renormalization import ConvergenceError
from ..tasks import Task, TransferTask, make_transfer_task
from ..transfer import FranzParisiTransfer
from ..transfer_curves import gamma_grid, matched_prior_along_gamma, optimal_gamma, theory_along_gamma
from ..plots.gamma_axis import GammaCurve, OrderParameterCurves, format_gamma_axis, gamma_position
from ..plots.style import COLORS, Q_LABELS, format_value
from ..plots.transfer import plot_action_slices
from .explorer import Explorer
from .panel import Panel, rescale, retained, reuse_axes, static_grid

__all__ = ["TransferExplorer", "transfer_panel", "saddle_panel", "order_parameter_panel"]

PANEL_GAMMAS = gamma_grid(1e-2, 1e3, per_decade=3)
# a fixed layout is fastest: a constrained layout would cost most of the time of a slider move
LAYOUT = {"left": 0.095, "right": 0.985, "bottom": 0.15, "top": 0.87, "wspace": 0.3}


def _panel(controls, draw, values, static, default_static, figsize, dpi, layout=None):
    return Panel(draw, controls, values, static=static_grid(static, default_static), figsize=figsize, dpi=dpi,
                 layout={**LAYOUT, **(layout or {})})


class TransferExplorer(Explorer):
    r"""Cached Franz-Parisi theory on one family of synthetic transfer tasks.

    The tasks are :func:`~tflmini.make_transfer_task` with inputs in ``n_features`` dimensions, labelled by
    ``teacher`` (overlap :math:`\rho` between source and target teachers), drawn once per :math:`\rho` at
    the largest sizes ``max_source`` and ``max_target``; smaller training sets are their first points
    (nested), and the source task does not depend on :math:`\rho`. Curves along the couplings ``gammas`` are
    cached per (P_s, P_t, rho, N1), the matched-prior control per (P_t, rho, N1).
    """

    def __init__(self, *, n_features=50, n_test=300, teacher="erf", noise=0.0, seed=7, temperature=0.05,
                 lambda0=1.0, lambda1=1.0, activation="erf", gammas=None, max_source=400, max_target=200,
                 metric="mean_error"):
        if metric not in ("mean_error", "gibbs_error"):
            raise ValueError(f"metric must be 'mean_error' or 'gibbs_error', got {metric!r}")
        super().__init__(PANEL_GAMMAS if gammas is None else gammas)
        self.n_features, self.n_test, self.teacher, self.noise, self.seed = n_features, n_test, teacher, noise, seed
        self.model = {"temperature": temperature, "lambda0": lambda0, "lambda1": lambda1, "activation": activation}
        self.max_source, self.max_target, self.metric = int(max_source), int(max_target), metric

    def sizes(self, alpha_source, alpha_target, n_hidden):
        """Training-set sizes (P_s, P_t) = round(alpha * N1), clipped to [1, max]."""
        ps = int(np.clip(round(alpha_source * n_hidden), 1, self.max_source))
        pt = int(np.clip(round(alpha_target * n_hidden), 1, self.max_target))
        return ps, pt

    def task(self, rho, n_source, n_target) -> TransferTask:
        """The task at overlap ``rho`` with the first ``n_source`` / ``n_target`` training points."""
        full = self.cached(("task", float(rho)), lambda: make_transfer_task(
            self.max_source, self.max_target, self.n_test, self.n_features, float(rho), teacher=self.teacher,
            noise=self.noise, seed=self.seed))
        s, t = full.source, full.target
        if not (1 <= n_source <= s.X_train.shape[0] and 1 <= n_target <= t.X_train.shape[0]):
            raise ValueError(f"sizes must be in [1, {self.max_source}] x [1, {self.max_target}], got ({n_source}, {n_target})")
        return TransferTask(Task(s.X_train[:n_source], s.y_train[:n_source], s.X_test, s.y_test, s.w, s.name),
                            Task(t.X_train[:n_target], t.y_train[:n_target], t.X_test, t.y_test, t.w, t.name),
                            full.rho, full.input_shift)

    def curve(self, n_source, n_target, rho, n_hidden):
        """Theory along :attr:`gammas` (dict of :func:`~tflmini.transfer_curves.theory_along_gamma`, with the
        fitted estimators; the error of :attr:`metric` only) plus ``control_*`` errors of the matched-prior
        control. Cached."""
        def compute():
            task = self.task(rho, n_source, n_target)
            # the errors of the explorer's metric only (the Gibbs error needs the posterior variance)
            c = theory_along_gamma(task, n_hidden, self.gammas, estimators=True, metrics=(self.metric,), **self.model)
            control = self.cached(("control", int(n_target), float(rho), float(n_hidden)),
                                  lambda: matched_prior_along_gamma(task, n_hidden, self.gammas,
                                                                    metrics=(self.metric,), **self.model))
            c.update({"control_" + k: v for k, v in control.items()})
            return c

        return self.cached(("curve", int(n_source), int(n_target), float(rho), float(n_hidden)), compute)

    def lazy_curve(self, n_source, n_target, rho):
        r"""The error of :attr:`metric` in the lazy limit :math:`N_1 = \infty` along :attr:`gammas`, with the order
        parameters and ``n_failed``: the theory alone, without the matched-prior control and the estimators that
        :meth:`curve` adds (the full curve at :math:`N_1 = \infty` if it is cached already). Cached."""
        full = ("curve", int(n_source), int(n_target), float(rho), np.inf)
        if full in self._cache:
            return self._cache[full]
        return self.cached(("lazy", int(n_source), int(n_target), float(rho)), lambda: theory_along_gamma(
            self.task(rho, n_source, n_target), np.inf, self.gammas, metrics=(self.metric,), **self.model))

    def estimator(self, n_source, n_target, rho, n_hidden, gamma):
        """The fitted :class:`~tflmini.FranzParisiTransfer` at one coupling of the grid (None if its saddle
        point was not found): from the curve through it if that is cached, else fitted alone (a panel that
        shows one coupling need not solve the whole curve; the two agree to solver precision). Cached."""
        i = self.index(gamma)
        key = (int(n_source), int(n_target), float(rho), float(n_hidden))
        if ("curve",) + key in self._cache:
            return self.curve(*key)["estimators"][i]

        def fit():
            task = self.task(rho, n_source, n_target)
            S, T = task.source, task.target
            try:
                with single_thread():
                    return FranzParisiTransfer(n_hidden, float(self.gammas[i]), **self.model).fit(
                        S.X_train, S.y_train, T.X_train, T.y_train)
            except ConvergenceError:
                return None

        return self.cached(("fit",) + key + (i,), fit)


# -- transfer_panel ---------------------------------------------------------------------------------

ALPHA_TARGETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
ALPHA_SOURCES = (0.25, 0.5, 1.0, 1.5, 2.0)
RHOS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))
WIDTHS = (25, 50, 100, 200)


def transfer_panel(*, alpha_target=0.3, alpha_source=1.0, gamma=1.0, rho=0.9, n_hidden=100, static=None,
                   explorer=None, metric="mean_error", figsize=(8.5, 3.8), dpi=80):
    r"""When does transfer help? Target test error against the coupling :math:`\gamma`.

    Left: the Franz-Parisi theory (solid), the matched-prior control (dashed: a network trained on the
    target alone with prior variance :math:`c_{tt}(\gamma)`), the network trained from scratch (dotted,
    :math:`\gamma=0`), and the lazy limit :math:`N_1\to\infty` at the same sample sizes (grey); a marker at
    the slider's :math:`\gamma` and a star at the best coupling. Right: :math:`Q_t, Q_{st}, Q_{tt}` against
    :math:`\gamma`.

    Sliders: ``alpha_target`` (:math:`P_t/N_1`), ``alpha_source`` (:math:`P_s/N_1`), ``gamma``, ``rho``,
    ``n_hidden``; keyword arguments give their initial values (each must be one of the slider's values).
    ``static``: ``True`` for precomputed frames over ``rho`` x ``alpha_target``, or a dict {slider: values}
    (one or two sliders). ``explorer``: a :class:`TransferExplorer` (the task family and its cache).
    """
    ex = explorer or TransferExplorer(metric=metric)
    spec = {"alpha_target": ("αₜ = Pₜ/N₁", ALPHA_TARGETS), "alpha_source": ("αₛ = Pₛ/N₁", ALPHA_SOURCES),
            "gamma": ("coupling γ", tuple(ex.gammas)), "rho": ("relatedness ρ", RHOS), "n_hidden": ("width N₁", WIDTHS)}

    m = ex.metric

    def build(fig):
        ax, bx = fig.subplots(1, 2)
        art = {"axes": (ax, bx),
               "transfer": GammaCurve(ax, color=COLORS["transfer"], lw=2, label="transfer (theory)"),
               "control": GammaCurve(ax, color=COLORS["control"], ls="--", label="matched-prior control"),
               "lazy": GammaCurve(ax, color=COLORS["lazy"], lw=1, label="lazy limit N₁ → ∞"),
               "scratch": ax.axhline(0.0, color=COLORS["scratch"], ls=":", lw=1)}
        (art["best"],) = ax.plot([], [], "*", color="k", ms=12)
        (art["marker"],) = ax.plot([], [], "o", color=COLORS["transfer"], ms=9, mec="k")
        format_gamma_axis(ax, math=False)
        ax.set_ylabel("target test error" + (" (posterior mean)" if m == "mean_error" else " (Gibbs)"))
        art["order_parameters"] = OrderParameterCurves(bx)
        return art

    def draw(fig, alpha_target, alpha_source, gamma, rho, n_hidden):
        ps, pt = ex.sizes(alpha_source, alpha_target, n_hidden)
        c = ex.curve(ps, pt, rho, n_hidden)
        lazy = ex.lazy_curve(ps, pt, rho)
        g = ex.gammas
        i = ex.index(gamma)
        art = retained(fig, build)
        ax, bx = art["axes"]
        art["transfer"].update(g, c[m])
        art["control"].update(g, c["control_" + m])
        art["lazy"].update(g, lazy[m])
        e0 = c[m][0] if np.isfinite(c[m][0]) else np.nan
        art["scratch"].set_data(*(([0, 1], [e0, e0]) if np.isfinite(e0) else ([], [])))
        art["scratch"].set_label("scratch (γ = 0)" if np.isfinite(e0) else "_scratch")
        g_star, e_star = optimal_gamma(g, c[m])
        shown = np.isfinite(e_star)
        art["best"].set_data(*(([gamma_position(g_star)], [e_star]) if shown else ([], [])))
        art["best"].set_label("best γ* = " + ("∞" if np.isinf(g_star) else f"{g_star:.3g}") if shown else "_best")
        shown = np.isfinite(c[m][i])
        art["marker"].set_data(*(([gamma_position(g[i])], [c[m][i]]) if shown else ([], [])))
        ax.legend(fontsize="small", loc="best")
        art["order_parameters"].update(g, c, i)
        rescale(ax, bx)
        gain = e0 - c[m][i]
        failed = c["n_failed"] + lazy["n_failed"]
        fig.suptitle(f"Pₛ = {ps}, Pₜ = {pt}, N₁ = {n_hidden}, ρ = {rho:g}, γ = {format_value(gamma)}:   "
                     f"E = {c[m][i]:.4f}, benefit over scratch {gain:+.4f}"
                     + (f"   ({failed} coupling(s) without a saddle point left out)" if failed else ""),
                     fontsize="medium")
        return {"gammas": g, "transfer": c[m], "control": c["control_" + m], "lazy": lazy[m],
                "order_parameters": {k: c[k] for k in ("Q_t", "Q_st", "Q_tt")}, "n_failed": failed,
                "sizes": (ps, pt)}

    defaults = {"alpha_target": alpha_target, "alpha_source": alpha_source, "gamma": gamma, "rho": rho,
                "n_hidden": n_hidden}
    default_static = {"rho": [0.0, 0.3, 0.6, 0.9, 1.0], "alpha_target": [0.1, 0.3, 1.0]}
    return _panel(spec, draw, defaults, static, default_static, figsize, dpi)


# -- saddle_panel -----------------------------------------------------------------------------------

def saddle_panel(*, gamma=1.0, rho=0.9, alpha_target=0.3, n_hidden=100, alpha_source=1.0, static=None,
                 explorer=None, figsize=(8.5, 3.3), dpi=80):
    r"""The action :math:`\phi(Q_t, Q_{tt}, Q_{st})` along each order parameter through its stationary point.

    The stationary point is a maximum along :math:`Q_t` and :math:`Q_{st}` and a minimum along
    :math:`Q_{tt}` (the title gives the eigenvalues of the Hessian found by the solver). Sliders:
    ``gamma``, ``rho``, ``alpha_target``, ``n_hidden`` (``alpha_source`` is fixed by the argument).
    ``static=True``: precomputed frames over ``gamma``.
    """
    ex = explorer or TransferExplorer()
    spec = {"gamma": ("coupling γ", tuple(ex.gammas)), "rho": ("relatedness ρ", RHOS),
            "alpha_target": ("αₜ = Pₜ/N₁", ALPHA_TARGETS), "n_hidden": ("width N₁", WIDTHS)}

    def draw(fig, gamma, rho, alpha_target, n_hidden):
        ps, pt = ex.sizes(alpha_source, alpha_target, n_hidden)
        est = ex.estimator(ps, pt, rho, n_hidden, gamma)
        axes = reuse_axes(fig, 3)
        if est is None:
            raise RuntimeError("no stationary point found at this coupling")
        slices = plot_action_slices(axes, est, math=False)
        rescale(*axes)
        ev = np.linalg.eigvalsh(est.action_hessian()).tolist()
        op = est.order_parameters_
        sig = "Hessian eigenvalues " + ", ".join(f"{e:+.3g}" for e in ev)
        fig.suptitle(f"Pₜ = {pt}, N₁ = {n_hidden}, ρ = {rho:g}, γ = {format_value(gamma)}:  Qₜ = {op['Q_t']:.3f}, "
                     f"Qₜₜ = {op['Q_tt']:.3f}, Qₛₜ = {op['Q_st']:.3f}.   {sig}", fontsize="medium")
        return {"slices": slices, "order_parameters": dict(op), "hessian_eigenvalues": ev}

    defaults = {"gamma": gamma, "rho": rho, "alpha_target": alpha_target, "n_hidden": n_hidden}
    default_static = {"gamma": [0.1, 1.0, 10.0, 100.0, np.inf]}
    return _panel(spec, draw, defaults, static, default_static, figsize, dpi, layout={"left": 0.125, "wspace": 0.6, "bottom": 0.17})


# -- order_parameter_panel ---------------------------------------------------------------------------

LAZY_WIDTHS = (25, 50, 100, 200, 400, 800, 1600, np.inf)


def order_parameter_panel(*, n_hidden=100, rho=0.9, gamma=1.0, n_source=100, n_target=30, static=None,
                          explorer=None, figsize=(8.5, 3.8), dpi=80):
    r"""Towards the lazy limit at fixed sample sizes (``n_source``, ``n_target``).

    Left: :math:`Q_t, Q_{st}, Q_{tt}` against :math:`\gamma`; :math:`Q_{st}` and :math:`Q_{tt}` shrink as
    :math:`N_1` grows and vanish at :math:`N_1=\infty`. Right: the gain of transfer over the matched-prior
    control, :math:`E_{\rm control}(\gamma) - E(\gamma)` (test error of the posterior-mean predictor), which
    vanishes identically at :math:`N_1=\infty`. Sliders: ``n_hidden`` (:math:`\infty` included), ``rho``,
    ``gamma``. ``static=True``: frames over ``n_hidden``.
    """
    ex = explorer or TransferExplorer()
    spec = {"n_hidden": ("width N₁", LAZY_WIDTHS), "rho": ("relatedness ρ", RHOS),
            "gamma": ("coupling γ", tuple(ex.gammas))}

    def build(fig):
        ax, bx = fig.subplots(1, 2)
        art = {"axes": (ax, bx), "curves": {}, "markers": {}}
        for k in ("Q_t", "Q_st", "Q_tt"):
            art["curves"][k] = GammaCurve(ax, color=COLORS[k], lw=2, label=Q_LABELS[k])
            (art["markers"][k],) = ax.plot([], [], "o", color=COLORS[k], ms=8, mec="k")
        ax.axhline(0, color="0.85", lw=0.8, zorder=0)
        ax.set_ylim(-0.05, 1.3)
        format_gamma_axis(ax, math=False)
        ax.set_ylabel("order parameter")
        ax.legend(fontsize="small", loc="upper left", ncols=3)
        art["gain"] = GammaCurve(bx, color=COLORS["transfer"], lw=2)
        (art["gain_marker"],) = bx.plot([], [], "o", color=COLORS["transfer"], ms=8, mec="k")
        bx.axhline(0, color="0.6", lw=0.8, zorder=0)
        format_gamma_axis(bx, math=False)
        bx.set_ylabel("gain over the matched-prior control")
        return art

    def draw(fig, n_hidden, rho, gamma):
        c = ex.curve(n_source, n_target, rho, n_hidden)
        m = ex.metric
        gain = c["control_" + m] - c[m]
        g, i = ex.gammas, ex.index(gamma)
        art = retained(fig, build)
        ax, bx = art["axes"]
        for k in ("Q_t", "Q_st", "Q_tt"):
            art["curves"][k].update(g, c[k])
            shown = np.isfinite(c[k][i])
            art["markers"][k].set_data(*(([gamma_position(g[i])], [c[k][i]]) if shown else ([], [])))
        art["gain"].update(g, gain)
        shown = np.isfinite(gain[i])
        art["gain_marker"].set_data(*(([gamma_position(g[i])], [gain[i]]) if shown else ([], [])))
        bx.set_ylim(*gain_limits(rho, gain))
        fig.suptitle(f"Pₛ = {n_source}, Pₜ = {n_target}, N₁ = {format_value(n_hidden)}, ρ = {rho:g}, γ = {format_value(gamma)}:  "
                     f"Qₛₜ = {c['Q_st'][i]:.3f}, Qₜₜ = {c['Q_tt'][i]:.3f}, gain {gain[i]:+.4f}", fontsize="medium")
        return {"gammas": g, "order_parameters": {k: c[k] for k in ("Q_t", "Q_st", "Q_tt")}, "gain": gain,
                "n_failed": c["n_failed"]}

    def gain_limits(rho, gain):
        # one scale for all widths at a given rho (that of the narrowest network), so the gain visibly shrinks
        ref = ex.curve(n_source, n_target, rho, LAZY_WIDTHS[0])
        top = np.nanmax(np.abs(np.r_[ref["control_" + ex.metric] - ref[ex.metric], gain, 1e-4]))
        return -0.15 * top, 1.15 * top

    defaults = {"n_hidden": n_hidden, "rho": rho, "gamma": gamma}
    default_static = {"n_hidden": list(LAZY_WIDTHS)}
    return _panel(spec, draw, defaults, static, default_static, figsize, dpi)
