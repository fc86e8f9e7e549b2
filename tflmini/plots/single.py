r"""Figures of the book's part I (one network): chapters 2 to 4 and the single-network validation.

Chain traces and the readout posterior (chapter 2), NNGP kernel profiles and learning curves (chapter 3),
the effective action, curves against the load and theory against the sampler (chapter 4), the input
dimension and ReLU checks. The functions take a Matplotlib ``Axes`` and the numbers to draw (computed by
:mod:`tflmini.curves`, loaded by :mod:`tflmini.results`, or sampled by :class:`~tflmini.BayesianNetworkSampler`);
none of them samples networks. The style is :mod:`tflmini.plots.style`.
"""

from __future__ import annotations

import numpy as np

from ..kernels import get_activation
from .style import ACTIVATION_COLORS, ERROR_COLORS, label_axes, plot_simulation, plot_theory, width_color

__all__ = [
    "plot_chain_traces",
    "plot_readout_posterior",
    "kernel_profiles",
    "plot_kernel_profiles",
    "plot_learning_curves",
    "plot_action_landscape",
    "plot_alpha_curves",
    "plot_validation",
    "plot_validation_gap",
    "plot_input_dimension",
    "plot_relu_validation",
]


# -- chapter 2: the Bayesian network and its sampler -----------------------------------------------

def plot_chain_traces(ax, trace, *, ylabel, reference=None, reference_label=None):
    r"""Traces of a sampler observable, one line per chain (``trace`` of shape (n_samples, n_chains)),
    with an optional horizontal reference value."""
    trace = np.asarray(trace, dtype=float)
    it = np.arange(trace.shape[0])
    for c in range(trace.shape[1]):
        ax.plot(it, trace[:, c], lw=0.9, alpha=0.85, color=f"C{c}", label=f"chain {c + 1}")
    if reference is not None:
        ax.axhline(reference, color="k", lw=1.2, ls="--", label=reference_label)
    label_axes(ax, "iteration after warm-up", ylabel, legend_kw={"ncol": 2})
    return ax


def plot_readout_posterior(ax, x_grid, mean, std, draws, x_train, y_train, teacher):
    r"""The posterior of the network output along a line of inputs: the mean, a band of two posterior
    standard deviations, a few posterior draws, the training points and the teacher."""
    ax.fill_between(x_grid, mean - 2 * std, mean + 2 * std, color="C0", alpha=0.18, lw=0,
                    label=r"posterior mean $\pm 2$ s.d.")
    for i, d in enumerate(draws):
        ax.plot(x_grid, d, color="C0", lw=0.7, alpha=0.6, label="posterior draws" if i == 0 else None)
    ax.plot(x_grid, teacher, color="k", lw=1.2, ls="--", label="teacher")
    plot_theory(ax, x_grid, mean, color="C0", label="posterior mean")
    ax.plot(x_train, y_train, "o", color="C3", markersize=6, zorder=5, label="training points")
    return ax


# -- chapter 3: the infinite-width limit -----------------------------------------------------------

def kernel_profiles(variance, activations=("linear", "erf", "relu"), n_points=201, normalized=True):
    r"""What :func:`plot_kernel_profiles` draws: the overlaps :math:`\rho` (``n_points`` from -1 to 1) and
    {activation: the kernel at each overlap} (divided by :math:`K(x, x)` with ``normalized``)."""
    rho = np.linspace(-1.0, 1.0, n_points)
    out = {}
    for name in activations:
        act = get_activation(name)
        k = act.kernel(np.full_like(rho, variance), np.full_like(rho, variance), variance * rho)
        out[name] = k / act.kernel(variance, variance, variance) if normalized else k
    return rho, out


def plot_kernel_profiles(ax, variance, activations=("linear", "erf", "relu"), n_points=201, normalized=True):
    r"""The NNGP kernel between two inputs of norm :math:`|x|^2 = N_0` as a function of their overlap
    :math:`\rho = x\cdot x'/N_0`, for first-layer weights of variance ``variance``; with ``normalized``
    divided by :math:`K(x, x)` (the correlation of the two hidden-unit outputs)."""
    rho, profiles = kernel_profiles(variance, activations, n_points, normalized)
    for name, k in profiles.items():
        plot_theory(ax, rho, k, color=ACTIVATION_COLORS.get(name), label=name)
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ylabel = r"kernel correlation $K(x,x')/K(x,x)$" if normalized else r"kernel $K(x,x')$"
    label_axes(ax, r"input overlap $\rho = x\cdot x'/N_0$", ylabel)
    return ax


def plot_learning_curves(ax, P, curves, *, logy=True):
    r"""Test errors against the number of training points :math:`P`: ``curves`` maps a label to
    ``(values, style dict)``."""
    for label, (values, style) in curves.items():
        plot_theory(ax, P, values, label=label, **style)
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    label_axes(ax, r"training points $P$", "test error")
    return ax


# -- chapter 4: kernel renormalization -------------------------------------------------------------

def plot_action_landscape(ax, theory, n_hidden, temperature, lambda1=1.0, *, q_range=(0.2, 2.5), n_points=300,
                          color=None, label=None, mark=True):
    r"""The effective action :math:`S(Q) - S(Q^*)` of ``theory`` (a :class:`~tflmini.curves.TheoryOnData`)
    on a grid of :math:`Q` (``q_range`` in units of :math:`1/\lambda_1`), with its minimum marked.
    Returns :math:`Q^*`."""
    q = np.linspace(q_range[0], q_range[1], n_points) / lambda1
    Q_star = theory.saddle(n_hidden, temperature, lambda1)
    s = theory.action(q, n_hidden, temperature, lambda1) - theory.action(Q_star, n_hidden, temperature, lambda1)
    line = plot_theory(ax, q, s, color=color, label=label)
    if mark:
        ax.plot([Q_star], [0.0], "o", color=line.get_color(), markersize=6, zorder=4)
    return Q_star


def plot_alpha_curves(ax, alpha, values, *, sim=None, color="C0", label=None, sim_label=None, marker="o"):
    r"""A theory curve against the load :math:`\alpha` (log axis) and, optionally, simulation points
    ``sim = (alpha, mean, se)`` in the same colour."""
    plot_theory(ax, alpha, values, color=color, label=label)
    if sim is not None and len(sim[0]):
        plot_simulation(ax, *sim, color=color, label=sim_label, marker=marker)
    ax.set_xscale("log")
    return ax


def plot_validation(ax, series, key, *, ylabel, logy=False, marker="o", label_fmt=r"$N_1={n}$", theory=True):
    r"""Theory against the sampler for each width in ``series`` (:func:`tflmini.results.validation_series`):
    the theory values of the rows (same data sets as the simulations), joined by lines, and the sampled
    values as points with error bars, one colour per width."""
    for n, s in series.items():
        color = width_color(n)
        if theory:
            plot_theory(ax, s["alpha"], s["theory"][key], color=color, alpha=0.9)
        plot_simulation(ax, s["alpha"], *s["sampler"][key], color=color, marker=marker,
                        label=label_fmt.format(n=int(n)))
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    label_axes(ax, r"load $\alpha = P/N_1$", ylabel)
    return ax


def plot_validation_gap(ax, series, key, *, x="alpha", marker="o", label_fmt=r"$N_1={n}$", fill=True, offset=0.0):
    r"""Relative deviation (in %) of the sampled value from the theory, :math:`100\,(s-t)/t`, with error
    bars, for each width in ``series``; zero (the theory) is a black line. ``x`` is ``"alpha"`` or
    ``"P"``; ``offset`` shifts the points sideways (multiplicatively) to keep overlapping bars apart."""
    from ..results import relative_gap

    for n, s in series.items():
        gap, se = relative_gap(s, key)
        color = width_color(n)
        plot_simulation(ax, s[x] * (1.0 + offset), 100 * gap, 100 * se, color=color, marker=marker,
                        label=label_fmt.format(n=int(n)), markerfacecolor=color if fill else "white")
    ax.axhline(0.0, color="k", lw=1.2, label="theory")
    ax.set_xscale("log")
    xlabel = r"load $\alpha = P/N_1$" if x == "alpha" else r"training points $P$"
    label_axes(ax, xlabel, "sampled − theory (% of theory)")
    return ax


def plot_input_dimension(axes, data):
    r"""Two panels from :func:`tflmini.results.load_input_dimension`: the relative deviation of the sampled
    Gibbs error and :math:`Q` from the theory against :math:`P/N_0` (left), and the teacher alignment of
    the sampled first-layer weights divided by its prior value :math:`1/N_0` (right)."""
    from ..results import relative_gap

    a = data["arrays"]
    x = a["P_over_N0"]
    ax = axes[0]
    for key, color, label in (("gibbs_error", ERROR_COLORS["gibbs_error"], "Gibbs error"),
                              ("Q", ERROR_COLORS["Q"], r"$Q$")):
        gap, se = relative_gap(a, key)
        plot_simulation(ax, x, 100 * gap, 100 * se, color=color, label=label)
        ax.plot(x, 100 * gap, color=color, lw=0.8, alpha=0.6)
    ax.axhline(0.0, color="k", lw=1.2, label="theory")
    ticks = np.unique(x)
    for a_ in axes[:2]:  # the measured P/N0 as plain numbers (log minor-tick labels crowd a narrow panel)
        a_.set_xscale("log")
        a_.set_xticks(ticks, [f"{v:g}" for v in ticks])
        a_.minorticks_off()
    label_axes(ax, r"examples per input dimension $P/N_0$", "sampled − theory (% of theory)")
    ax = axes[1]
    ratio = a["teacher_alignment"] / a["prior_alignment"]
    ax.plot(x, ratio, "s-", color="C2", lw=1.0, markersize=6, label="sampled networks")
    ax.axhline(1.0, color="k", lw=1.2, label="prior (and theory)")
    label_axes(ax, r"examples per input dimension $P/N_0$", r"teacher alignment $\times N_0$")
    return axes


def plot_relu_validation(ax, series):
    r"""Relative deviation (in %) of sampled ReLU networks from the theory against the width at fixed
    :math:`P/N_1` and :math:`P/N_0`, one series per label offset (:func:`tflmini.results.relu_series`: mean over
    data sets and its standard error), with a dashed :math:`1/N_1` guide through the first point of each series."""
    markers = ("o", "s", "^", "D")
    for i, (offset, s) in enumerate(series.items()):
        color = f"C{i}"
        plot_simulation(ax, s["n_hidden"], 100 * s["gap"], 100 * s["gap_se"], color=color, marker=markers[i % 4],
                        label=f"labels with offset {offset:g}")
        ax.plot(s["n_hidden"], 100 * s["gap"][0] * s["n_hidden"][0] / s["n_hidden"], color=color, lw=0.8, ls="--")
    ax.axhline(0.0, color="k", lw=1.2, label="theory")
    ax.set_xscale("log")
    label_axes(ax, r"width $N_1 = P = N_0$", "sampled − theory (% of theory)")
    return ax
