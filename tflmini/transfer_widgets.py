r"""Slider panels for part II of the book (the Franz-Parisi theory of transfer).

Each panel is one call that returns an ipywidgets container (a :class:`SliderPanel`):

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
milliseconds at the default sizes) and re-render the figure.

Static mode (``static=True`` or ``static={slider: values}``): for a page without a kernel (the book's
website), every combination of the chosen sliders' values is rendered in advance into PNG frames, shown
by an ``ipywidgets.Stack`` of ``Image`` widgets whose ``selected_index`` is ``jslink``-ed to the slider
(nested stacks for two sliders), so the slider changes the figure in the browser without Python.
Extreme values (:math:`\gamma = 0` and :math:`\infty`, :math:`\rho = 0` and 1) never raise: a coupling
whose saddle point is not found is left out of the curve and reported in the figure.
"""

from __future__ import annotations

import io
import itertools
import traceback

import ipywidgets as widgets
import numpy as np

from ._threads import single_thread
from .tasks import Task, TransferTask, make_transfer_task
from .transfer_curves import gamma_grid, matched_prior_along_gamma, optimal_gamma, theory_along_gamma
from .transfer_plots import COLORS, format_gamma_axis, gamma_position, plot_action_slices, plot_gamma_curve

__all__ = ["TransferExplorer", "SliderPanel", "transfer_panel", "saddle_panel", "order_parameter_panel"]

PANEL_GAMMAS = gamma_grid(1e-2, 1e3, per_decade=3)
_Q_LABELS = {"Q_t": "Qₜ", "Q_st": "Qₛₜ", "Q_tt": "Qₜₜ"}


def _fmt(v):
    if isinstance(v, (float, np.floating)) and np.isinf(v):
        return "∞"
    return f"{v:g}" if isinstance(v, (float, int, np.floating, np.integer)) else str(v)


class TransferExplorer:
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
        self.n_features, self.n_test, self.teacher, self.noise, self.seed = n_features, n_test, teacher, noise, seed
        self.model = {"temperature": temperature, "lambda0": lambda0, "lambda1": lambda1, "activation": activation}
        self.gammas = PANEL_GAMMAS if gammas is None else np.asarray(gammas, dtype=np.float64)
        self.max_source, self.max_target, self.metric = int(max_source), int(max_target), metric
        self._tasks, self._curves, self._controls = {}, {}, {}

    def sizes(self, alpha_source, alpha_target, n_hidden):
        """Training-set sizes (P_s, P_t) = round(alpha * N1), clipped to [1, max]."""
        ps = int(np.clip(round(alpha_source * n_hidden), 1, self.max_source))
        pt = int(np.clip(round(alpha_target * n_hidden), 1, self.max_target))
        return ps, pt

    def task(self, rho, n_source, n_target) -> TransferTask:
        """The task at overlap ``rho`` with the first ``n_source`` / ``n_target`` training points."""
        rho = float(rho)
        if rho not in self._tasks:
            self._tasks[rho] = make_transfer_task(self.max_source, self.max_target, self.n_test, self.n_features, rho,
                                                  teacher=self.teacher, noise=self.noise, seed=self.seed)
        full = self._tasks[rho]
        s, t = full.source, full.target
        if not (1 <= n_source <= s.X_train.shape[0] and 1 <= n_target <= t.X_train.shape[0]):
            raise ValueError(f"sizes must be in [1, {self.max_source}] x [1, {self.max_target}], got ({n_source}, {n_target})")
        return TransferTask(Task(s.X_train[:n_source], s.y_train[:n_source], s.X_test, s.y_test, s.w, s.name),
                            Task(t.X_train[:n_target], t.y_train[:n_target], t.X_test, t.y_test, t.w, t.name),
                            full.rho, full.input_shift)

    def curve(self, n_source, n_target, rho, n_hidden):
        """Theory along :attr:`gammas` (dict of :func:`~tflmini.transfer_curves.theory_along_gamma`, with the
        fitted estimators) plus ``control_*`` errors of the matched-prior control. Cached."""
        key = (int(n_source), int(n_target), float(rho), float(n_hidden))
        if key not in self._curves:
            task = self.task(rho, n_source, n_target)
            c = theory_along_gamma(task, n_hidden, self.gammas, estimators=True, **self.model)
            ckey = (int(n_target), float(rho), float(n_hidden))
            if ckey not in self._controls:
                self._controls[ckey] = matched_prior_along_gamma(task, n_hidden, self.gammas, **self.model)
            for k, v in self._controls[ckey].items():
                c["control_" + k] = v
            self._curves[key] = c
        return self._curves[key]

    def estimator(self, n_source, n_target, rho, n_hidden, gamma):
        """The fitted :class:`~tflmini.FranzParisiTransfer` at one coupling of the grid (None if its saddle
        point was not found)."""
        c = self.curve(n_source, n_target, rho, n_hidden)
        return c["estimators"][self.index(gamma)]

    def index(self, gamma):
        """Position of ``gamma`` in :attr:`gammas` (it must be one of them)."""
        g = float(gamma)
        hits = np.flatnonzero((np.isinf(self.gammas) & np.isinf(g)) | np.isclose(self.gammas, g, rtol=1e-9, atol=0))
        if hits.size == 0:
            raise ValueError(f"gamma={gamma} is not on the grid of couplings {self.gammas.tolist()}")
        return int(hits[0])


# -- the panel container ----------------------------------------------------------------------------

class SliderPanel(widgets.VBox):
    """An ipywidgets ``VBox``: sliders above a figure (an ``Image``, or nested ``Stack``-s of frames in
    static mode). Made by the panel functions of this module.

    Slider values may be numbers or names (e.g. a task in a catalogue).

    Attributes: ``sliders`` {name: SelectionSlider}; ``values`` (current value of every parameter);
    ``figure`` (the Matplotlib figure behind the image); ``links`` (static mode: the slider -> stack
    ``jslink``-s); ``last_data`` (the arrays behind the last figure, for checks); ``last_error``
    (traceback of the last failed drawing, else None); ``frames`` (static mode: {tuple of slider values:
    PNG bytes}).
    """

    def setup(self, spec, draw, values, static, figsize, dpi, layout=None):
        """``spec`` {name: (label, slider values)}; ``draw(fig, **values)`` draws one figure and returns the
        arrays it plotted; ``static`` None (live) or {name: values} for one or two sliders; ``layout`` the
        ``subplots_adjust`` margins of a figure whose axes ``draw`` reuses between moves (fast), or None for
        a constrained layout cleared before every drawing."""
        from matplotlib.figure import Figure

        self._spec, self._draw, self._dpi = spec, draw, dpi
        self.values = dict(values)
        self.last_data, self.last_error, self.frames, self.links = None, None, {}, []
        self._png_cache = {}
        # a fixed layout is fastest: constrained layout would cost most of the time of a slider move
        self._fig = Figure(figsize=figsize, dpi=dpi, layout=None if layout else "constrained")
        self._layout = layout
        self.sliders = {}
        if static:
            self._setup_static(static)
        else:
            self._setup_live()
        return self

    def render(self, **values):
        """Draw the figure for ``values`` (parameters not given keep their current values); PNG bytes."""
        vals = {**self.values, **values}
        key = tuple(sorted((k, _cache_key(v)) for k, v in vals.items()))
        if key in self._png_cache:
            self.last_data, self.last_error = self._png_cache[key][1], None
            return self._png_cache[key][0]
        try:
            if not self._layout:
                self._fig.clear()
            with single_thread():
                self.last_data = self._draw(self._fig, **vals)
            if self._layout:
                self._fig.subplots_adjust(**self._layout)
            self.last_error = None
        except Exception:  # a panel must never raise on a slider move: it shows the error instead
            self.last_error = traceback.format_exc()
            self.last_data = None
            self._fig.clear()
            self._fig.text(0.5, 0.5, "could not draw this combination:\n" + self.last_error.strip().splitlines()[-1],
                           ha="center", va="center", wrap=True)
        buf = io.BytesIO()
        self._fig.savefig(buf, format="png", dpi=self._dpi)
        png = buf.getvalue()
        if self.last_error is None:
            if len(self._png_cache) >= 128:  # keep the most recent figures
                self._png_cache.pop(next(iter(self._png_cache)))
            self._png_cache[key] = (png, self.last_data)
        return png

    @property
    def figure(self):
        """The Matplotlib figure of the last drawing."""
        return self._fig

    def update(self, **values):
        """Set parameters (as slider moves would) and redraw; returns the PNG bytes."""
        for k in values:
            if k not in self._spec:
                raise ValueError(f"unknown parameter {k!r}; this panel has {list(self._spec)}")
        self.values.update(values)
        png = self.render()
        if getattr(self, "image", None) is not None:
            self.image.value = png
        return png

    def _slider(self, name, options):
        label = self._spec[name][0]
        value = next((v for v in options if _same(self.values[name], v)), None)
        if value is None:
            raise ValueError(f"{name}={self.values[name]!r} is not among the slider values {list(options)}")
        self.values[name] = value
        return widgets.SelectionSlider(options=[(_fmt(v), v) for v in options], value=value, description=label,
                                       continuous_update=False, style={"description_width": "initial"},
                                       layout=widgets.Layout(width="400px"))

    def _setup_live(self):
        self.image = None
        for name, (_, options) in self._spec.items():
            self.sliders[name] = self._slider(name, options)
        self.image = widgets.Image(format="png", value=self.render())
        for name, s in self.sliders.items():
            s.observe(lambda change, name=name: self.update(**{name: change["new"]}), names="value")
        row = widgets.Layout(flex_flow="row wrap")
        self.children = [widgets.Box(list(self.sliders.values()), layout=row), self.image]

    def _setup_static(self, static):
        names = list(static)
        if not 1 <= len(names) <= 2:
            raise ValueError(f"static mode takes one or two sliders, got {names}")
        for name, vals in static.items():
            if name not in self._spec:
                raise ValueError(f"unknown slider {name!r}; this panel has {list(self._spec)}")
            if not vals:
                raise ValueError(f"no values given for the static slider {name!r}")
            if not any(_same(self.values[name], v) for v in vals):
                self.values[name] = vals[0]
            self.sliders[name] = self._slider(name, vals)
        grids = [list(static[n]) for n in names]
        for combo in itertools.product(*grids):
            self.frames[combo] = self.render(**dict(zip(names, combo)))

        def stack(prefix, level):
            if level == len(names):
                return widgets.Image(value=self.frames[prefix], format="png")
            slider = self.sliders[names[level]]
            s = widgets.Stack([stack(prefix + (v,), level + 1) for v in grids[level]], selected_index=slider.index)
            self.links.append(widgets.jslink((slider, "index"), (s, "selected_index")))
            return s

        self.stack = stack((), 0)
        self.children = [widgets.Box(list(self.sliders.values()), layout=widgets.Layout(flex_flow="row wrap")),
                         self.stack]


def _axes(fig, ncols, **kwargs):
    """The figure's ``ncols`` axes, emptied of their data artists but keeping ticks and labels (re-creating
    axes on every slider move would cost more than the theory). Made afresh if the figure has others."""
    if len(fig.axes) != ncols:
        fig.clear()
        return list(np.atleast_1d(fig.subplots(1, ncols, **kwargs)))
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches]:
            artist.remove()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.set_prop_cycle(None)
    return list(fig.axes)


def _rescale(*axes):
    for ax in axes:
        ax.relim()
        ax.autoscale_view()


def _cache_key(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def _same(a, b):
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return a == b
    return (np.isinf(fa) and np.isinf(fb) and fa == fb) or bool(np.isclose(fa, fb, rtol=1e-9, atol=1e-12))


LAYOUT = {"left": 0.075, "right": 0.985, "bottom": 0.15, "top": 0.87, "wspace": 0.25}


def _make_panel(spec, draw, defaults, static, default_static, figsize, dpi, layout=None):
    if static is True:
        static = default_static
    elif static:
        static = {k: list(v) for k, v in dict(static).items()}
    return SliderPanel().setup(spec, draw, defaults, static or None, figsize, dpi, {**LAYOUT, **(layout or {})})


# -- transfer_panel ---------------------------------------------------------------------------------

ALPHA_TARGETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
ALPHA_SOURCES = (0.25, 0.5, 1.0, 1.5, 2.0)
RHOS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))
WIDTHS = (25, 50, 100, 200)


def transfer_panel(*, alpha_target=0.3, alpha_source=1.0, gamma=1.0, rho=0.9, n_hidden=100, static=None,
                   explorer=None, metric="mean_error", figsize=(10.5, 4.0), dpi=80):
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

    def draw(fig, alpha_target, alpha_source, gamma, rho, n_hidden):
        ps, pt = ex.sizes(alpha_source, alpha_target, n_hidden)
        c = ex.curve(ps, pt, rho, n_hidden)
        lazy = ex.curve(ps, pt, rho, np.inf)
        m = ex.metric
        g = ex.gammas
        i = ex.index(gamma)
        ax, bx = _axes(fig, 2)
        plot_gamma_curve(ax, g, c[m], color=COLORS["transfer"], lw=2, label="transfer (theory)")
        plot_gamma_curve(ax, g, c["control_" + m], color=COLORS["control"], ls="--", label="matched-prior control")
        plot_gamma_curve(ax, g, lazy[m], color=COLORS["lazy"], lw=1, label="lazy limit N₁ → ∞")
        e0 = c[m][0] if np.isfinite(c[m][0]) else np.nan
        if np.isfinite(e0):
            ax.axhline(e0, color=COLORS["scratch"], ls=":", lw=1, label="scratch (γ = 0)")
        g_star, e_star = optimal_gamma(g, c[m])
        if np.isfinite(e_star):
            ax.plot(gamma_position(g_star), e_star, "*", color="k", ms=12, label=f"best γ* = {_fmt(g_star)}")
        if np.isfinite(c[m][i]):
            ax.plot(gamma_position(g[i]), c[m][i], "o", color=COLORS["transfer"], ms=9, mec="k")
        format_gamma_axis(ax, math=False)
        ax.set_ylabel("target test error" + (" (posterior mean)" if m == "mean_error" else " (Gibbs)"))
        ax.legend(fontsize="small", loc="best")
        for k in ("Q_t", "Q_st", "Q_tt"):
            plot_gamma_curve(bx, g, c[k], color=COLORS[k], lw=2, label=_Q_LABELS[k])
            if np.isfinite(c[k][i]):
                bx.plot(gamma_position(g[i]), c[k][i], "o", color=COLORS[k], ms=8, mec="k")
        bx.axhline(0, color="0.85", lw=0.8, zorder=0)
        format_gamma_axis(bx, math=False)
        bx.set_ylabel("order parameter")
        bx.legend(fontsize="small", loc="center left")
        _rescale(ax, bx)
        gain = e0 - c[m][i]
        failed = c["n_failed"] + lazy["n_failed"]
        fig.suptitle(f"Pₛ = {ps}, Pₜ = {pt}, N₁ = {n_hidden}, ρ = {rho:g}, γ = {_fmt(gamma)}:   "
                     f"E = {c[m][i]:.4f}, benefit over scratch {gain:+.4f}"
                     + (f"   ({failed} coupling(s) without a saddle point left out)" if failed else ""),
                     fontsize="medium")
        return {"gammas": g, "transfer": c[m], "control": c["control_" + m], "lazy": lazy[m],
                "order_parameters": {k: c[k] for k in ("Q_t", "Q_st", "Q_tt")}, "n_failed": failed,
                "sizes": (ps, pt)}

    defaults = {"alpha_target": alpha_target, "alpha_source": alpha_source, "gamma": gamma, "rho": rho,
                "n_hidden": n_hidden}
    default_static = {"rho": [0.0, 0.3, 0.6, 0.9, 1.0], "alpha_target": [0.1, 0.3, 1.0]}
    return _make_panel(spec, draw, defaults, static, default_static, figsize, dpi)


# -- saddle_panel -----------------------------------------------------------------------------------

def saddle_panel(*, gamma=1.0, rho=0.9, alpha_target=0.3, n_hidden=100, alpha_source=1.0, static=None,
                 explorer=None, figsize=(10.5, 3.6), dpi=80):
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
        axes = _axes(fig, 3)
        if est is None:
            raise RuntimeError("no stationary point found at this coupling")
        slices = plot_action_slices(axes, est, math=False)
        _rescale(*axes)
        ev = np.linalg.eigvalsh(est.action_hessian()).tolist()
        op = est.order_parameters_
        sig = "Hessian eigenvalues " + ", ".join(f"{e:+.3g}" for e in ev)
        fig.suptitle(f"Pₜ = {pt}, N₁ = {n_hidden}, ρ = {rho:g}, γ = {_fmt(gamma)}:  Qₜ = {op['Q_t']:.3f}, "
                     f"Qₜₜ = {op['Q_tt']:.3f}, Qₛₜ = {op['Q_st']:.3f}.   {sig}", fontsize="medium")
        return {"slices": slices, "order_parameters": dict(op), "hessian_eigenvalues": ev}

    defaults = {"gamma": gamma, "rho": rho, "alpha_target": alpha_target, "n_hidden": n_hidden}
    default_static = {"gamma": [0.1, 1.0, 10.0, 100.0, np.inf]}
    return _make_panel(spec, draw, defaults, static, default_static, figsize, dpi,
                       layout={"left": 0.1, "wspace": 0.35, "bottom": 0.16})


# -- order_parameter_panel ---------------------------------------------------------------------------

LAZY_WIDTHS = (25, 50, 100, 200, 400, 800, 1600, np.inf)


def order_parameter_panel(*, n_hidden=100, rho=0.9, gamma=1.0, n_source=100, n_target=30, static=None,
                          explorer=None, figsize=(10.5, 4.0), dpi=80):
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

    def draw(fig, n_hidden, rho, gamma):
        c = ex.curve(n_source, n_target, rho, n_hidden)
        m = ex.metric
        gain = c["control_" + m] - c[m]
        g, i = ex.gammas, ex.index(gamma)
        ax, bx = _axes(fig, 2)
        for k in ("Q_t", "Q_st", "Q_tt"):
            plot_gamma_curve(ax, g, c[k], color=COLORS[k], lw=2, label=_Q_LABELS[k])
            if np.isfinite(c[k][i]):
                ax.plot(gamma_position(g[i]), c[k][i], "o", color=COLORS[k], ms=8, mec="k")
        ax.axhline(0, color="0.85", lw=0.8, zorder=0)
        ax.set_ylim(-0.05, 1.3)
        format_gamma_axis(ax, math=False)
        ax.set_ylabel("order parameter")
        ax.legend(fontsize="small", loc="upper left", ncols=3)
        plot_gamma_curve(bx, g, gain, color=COLORS["transfer"], lw=2)
        if np.isfinite(gain[i]):
            bx.plot(gamma_position(g[i]), gain[i], "o", color=COLORS["transfer"], ms=8, mec="k")
        bx.axhline(0, color="0.6", lw=0.8, zorder=0)
        bx.set_ylim(*gain_limits(rho, gain))
        format_gamma_axis(bx, math=False)
        bx.set_ylabel("gain over the matched-prior control")
        fig.suptitle(f"Pₛ = {n_source}, Pₜ = {n_target}, N₁ = {_fmt(n_hidden)}, ρ = {rho:g}, γ = {_fmt(gamma)}:  "
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
    return _make_panel(spec, draw, defaults, static, default_static, figsize, dpi)
