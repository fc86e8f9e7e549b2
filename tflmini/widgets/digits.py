r"""The real-data slider panel (chapter "Transfer on real data"): the digits catalogue, source 3 vs 8.

:class:`DigitsExplorer` holds the Franz-Parisi theory on the catalogue
(:data:`~tflmini.datasets.DIGITS_TARGETS`), with the sizes, seed and model of the cached experiments, so
theory lines and sampled points refer to the same tasks; :func:`digits_panel` draws target test errors and
order parameters against :math:`\gamma`, with sliders for the target task, the coupling and the width.
"""

from __future__ import annotations

import numpy as np

from ..datasets import DIGITS_TARGETS, digits_catalogue, make_digits_transfer_task
from ..transfer_curves import gamma_grid, theory_along_gamma
from ..plots.gamma_axis import GammaCurve, OrderParameterCurves, format_gamma_axis, gamma_position, plot_gamma_points
from ..plots.style import COLORS, format_value
from .explorer import Explorer
from .panel import Panel, rescale, retained, static_grid
from .transfer import LAYOUT

#: the transfer panels' margins, with room at the bottom for the legend of the error axes (three rows)
DIGITS_LAYOUT = {**LAYOUT, "bottom": 0.3, "top": 0.9}

__all__ = ["DigitsExplorer", "digits_panel"]

TARGET_NAMES = tuple(DIGITS_TARGETS)
PANEL_GAMMAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, np.inf)
PANEL_WIDTHS = (25, 50, 100, 200, 400)


class DigitsExplorer(Explorer):
    r"""Cached Franz-Parisi theory on the digits catalogue.

    Tasks are :func:`~tflmini.datasets.make_digits_transfer_task` with the sizes, seed and model of the cached
    experiment ``experiment`` (default ``digits_gamma_sweep``: :math:`P_s, P_t`, test size, seed,
    :math:`T, \lambda_0, \lambda_1`, activation), so the theory curves are those of the cached files.
    :meth:`curve` (target, width) is computed once along :attr:`gammas` with the matched-prior control and the
    single-source error.
    :meth:`sampled` finds cached sampled networks for a (target, width), if any.
    """

    def __init__(self, experiment="digits_gamma_sweep", gammas=None):
        from ..experiments import get_experiment

        p = get_experiment(experiment).parameters()
        self.params = {k: p[k] for k in ("n_source", "n_target", "n_test", "seed", "temperature", "lambda0",
                                         "lambda1", "activation")}
        base = gamma_grid(1e-2, 1e3, per_decade=3) if gammas is None else np.asarray(gammas, dtype=float)
        super().__init__(np.unique(np.r_[base, PANEL_GAMMAS, 0.5]))
        self._sampled = None

    def task(self, target):
        """The :class:`~tflmini.tasks.TransferTask` of a catalogue target name."""
        p = self.params
        return self.cached(("task", target), lambda: make_digits_transfer_task(target, p["n_source"], p["n_target"],
                                                                               p["n_test"], seed=p["seed"]))

    def curve(self, target, n_hidden):
        """Theory along :attr:`gammas` (dict of :func:`~tflmini.transfer_curves.theory_along_gamma`, with the
        matched-prior control, and ``single_source_error``, the error with one pretrained source)."""
        def compute():
            p = self.params
            task = self.task(target)
            c = theory_along_gamma(task, n_hidden, self.gammas, temperature=p["temperature"], lambda0=p["lambda0"],
                                   lambda1=p["lambda1"], activation=p["activation"], matched_prior=True,
                                   estimators=True, metrics=("mean_error",))  # the panel shows no Gibbs error
            tgt = task.target
            c["single_source_error"] = np.array([np.nan if e is None else e.single_source_error(tgt.X_test, tgt.y_test)
                                                 for e in c.pop("estimators")])
            return c

        return self.cached(("curve", target, float(n_hidden)), compute)

    def lazy_curve(self, target):
        r"""The posterior-mean error of the lazy limit :math:`N_1 = \infty` along :attr:`gammas` (the theory alone:
        no control and no single-source error, which the panel does not draw for it). Cached."""
        def compute():
            p = self.params
            return theory_along_gamma(self.task(target), np.inf, self.gammas, temperature=p["temperature"],
                                      lambda0=p["lambda0"], lambda1=p["lambda1"], activation=p["activation"],
                                      metrics=("mean_error",))

        return self.cached(("lazy", target), compute)

    def sampled(self, target, n_hidden):
        """Cached sampled networks for (target, width): ``(experiment name, gammas, {key: {"mean", "se"}})``, or
        None. Looked up in ``digits_gamma_sweep``, ``digits_width_effect``, ``digits_relatedness_sweep`` (in this
        order); experiments whose file is missing or whose task sizes differ from the explorer's are skipped."""
        if self._sampled is None:
            self._sampled = self._load_sampled()
        return self._sampled.get((target, float(n_hidden)))

    def _load_sampled(self):
        from ..experiments import CacheError, load

        found = {}
        for name in ("digits_gamma_sweep", "digits_width_effect", "digits_relatedness_sweep"):
            try:
                r = load(name, on_stale="ignore")
            except CacheError:
                continue
            if r.simulation is None or any(r.parameters[k] != v for k, v in self.params.items()):
                continue
            sim = r.simulation
            g = np.asarray(sim["gammas"], dtype=float)
            if name == "digits_gamma_sweep":
                for t, res in sim["results"].items():
                    found.setdefault((t, float(sim["n_hidden"])), (name, g, res))
            elif name == "digits_width_effect":
                for t, rows in sim["results"].items():
                    for w, res in zip(sim["widths"], rows):
                        found.setdefault((t, float(w)), (name, g, res))
            else:
                for t, res in zip(sim["labels"], sim["results"]):
                    found.setdefault((t, float(sim["n_hidden"])), (name, g, res))
        return found


def digits_panel(*, target="close", gamma=1.0, n_hidden=100, static=None, explorer=None, figsize=(8.5, 4.7),
                 dpi=80):
    r"""Transfer on real data: the digits catalogue (:data:`~tflmini.datasets.DIGITS_TARGETS`), source 3 vs 8.

    Left: target test errors against the coupling :math:`\gamma`: :math:`\epsilon_{\rm m}` (prediction averaged
    over source networks) of the Franz-Parisi theory at width ``n_hidden`` (solid), matched-prior control
    (dashed), lazy limit :math:`N_1=\infty` (grey), scratch (dotted); :math:`\epsilon_{\rm single}` (one pretrained
    source, red); cached sampled networks where they exist for this target and width (points with error bars:
    circles :math:`\epsilon_{\rm m}`, squares :math:`\epsilon_{\rm single}`). Right: the order parameters
    :math:`Q_t, Q_{st}, Q_{tt}` (theory lines, sampled points).
    A marker shows the slider's coupling.

    Sliders: ``target`` (catalogue name), ``gamma``, ``n_hidden``. ``static=True``: frames over target x
    gamma at the given width; or a dict {slider: values} (one or two sliders). Returns a
    :class:`~tflmini.widgets.panel.Panel`.
    """
    ex = explorer or DigitsExplorer()
    rho = {r["name"]: r["relatedness"] for r in digits_catalogue()}
    pairs = {r["name"]: r["target"] for r in digits_catalogue()}
    spec = {"target": ("target task", TARGET_NAMES), "gamma": ("coupling γ", PANEL_GAMMAS),
            "n_hidden": ("width N₁", PANEL_WIDTHS)}

    m, s = "mean_error", "single_source_error"

    def build(fig):
        ax, bx = fig.subplots(1, 2)
        art = {"axes": (ax, bx), "sampled": [],
               m: GammaCurve(ax, color=COLORS["transfer"], lw=2),
               s: GammaCurve(ax, color="C3", lw=1.6),
               "control": GammaCurve(ax, color=COLORS["control"], ls="--", label="matched-prior control"),
               "lazy": GammaCurve(ax, color=COLORS["lazy"], lw=1, label="lazy limit N₁ → ∞"),
               "scratch": ax.axhline(0.0, color=COLORS["scratch"], ls=":", lw=1, label="scratch (γ = 0)")}
        # above the sampled points, which each drawing adds after it
        (art["marker"],) = ax.plot([], [], "o", color=COLORS["transfer"], ms=9, mec="k", zorder=2.5)
        format_gamma_axis(ax, math=False)
        ax.set_ylabel("target test error (MSE)")
        art["order_parameters"] = OrderParameterCurves(bx, marker="D", ms=7, label_suffix=" theory",
                                                       ylabel="order parameter (dimensionless)",
                                                       legend_kw={"fontsize": "small"})
        return art

    def draw(fig, target, gamma, n_hidden):
        c = ex.curve(target, n_hidden)
        lazy = ex.lazy_curve(target)
        g, i = ex.gammas, ex.index(gamma)
        art = retained(fig, build)
        ax, bx = art["axes"]
        for container in art["sampled"]:
            container.remove()
        art["sampled"] = []
        art[m].update(g, c[m]).line.set_label(f"εₘ theory, N₁ = {n_hidden}")
        art[s].update(g, c[s]).line.set_label(f"ε_single theory, N₁ = {n_hidden}")
        art["control"].update(g, c["matched_" + m])
        art["lazy"].update(g, lazy[m])
        art["scratch"].set_ydata([c[m][0], c[m][0]])
        sampled = ex.sampled(target, n_hidden)
        if sampled is not None:
            name, gs, res = sampled
            art["sampled"].append(plot_gamma_points(ax, gs, res[m]["mean"], res[m]["se"], color=COLORS["transfer"],
                                                    mec="k", mew=0.6, label=f"εₘ sampled ({name})"))
            if s in res:
                art["sampled"].append(plot_gamma_points(ax, gs, res[s]["mean"], res[s]["se"], fmt="s", color="C3",
                                                        mec="k", mew=0.6, label=f"ε_single sampled ({name})"))
        shown = np.isfinite(c[m][i])
        art["marker"].set_data(*(([gamma_position(g[i])], [c[m][i]]) if shown else ([], [])))
        # below the axes: inside, no corner stays free of the curves and points for every target
        if art.get("legend") is not None:
            art["legend"].remove()
        art["legend"] = fig.legend(*ax.get_legend_handles_labels(), loc="lower left", bbox_to_anchor=(0.01, 0.0),
                                   ncols=3, fontsize="small", frameon=False, columnspacing=1.5, handlelength=1.8)
        art["order_parameters"].update(g, c, i, sampled=None if sampled is None else sampled[1:])
        rescale(ax, bx)
        a, b = pairs[target]
        fig.suptitle(f"target {target} ({a} vs {b}, ρ = {rho[target]:.2f}), N₁ = {n_hidden}, γ = {format_value(gamma)}:  "
                     f"εₘ = {c[m][i]:.4f} (benefit {c[m][0] - c[m][i]:+.4f}), ε_single = {c[s][i]:.4f} "
                     f"(benefit {c[s][0] - c[s][i]:+.4f})", fontsize="medium")
        return {"gammas": g, "transfer": c[m], "single_source": c[s], "control": c["matched_" + m], "lazy": lazy[m],
                "order_parameters": {k: c[k] for k in ("Q_t", "Q_st", "Q_tt")}, "sampled": sampled is not None}

    defaults = {"target": target, "gamma": gamma, "n_hidden": n_hidden}
    static = static_grid(static, {"target": TARGET_NAMES, "gamma": (0.0, 0.3, 1.0, 3.0, 10.0, np.inf)})
    # fixed margins and axes reused between moves: new axes (their ticks) and a constrained layout cost most of the
    # time of a move that only redraws
    return Panel(draw, spec, defaults, static=static, figsize=figsize, dpi=dpi, layout=DIGITS_LAYOUT)
