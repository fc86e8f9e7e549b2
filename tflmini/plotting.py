r"""Plotting helpers shared by the book's part I, its companion notebooks and the slider panels.

Conventions, the same in every figure:

* theory is drawn as lines (:func:`plot_theory`), simulations as points with error bars of one
  standard error (:func:`plot_simulation`), in the same colour when they describe the same system;
* a width :math:`N_1` always has the same colour (:func:`width_color`); the infinite-width (NNGP)
  limit is a dashed grey line (:data:`NNGP_STYLE`);
* every axis is labelled, with the symbol of the book's notation table.

The figure functions below take a Matplotlib ``Axes`` and the numbers to draw (computed by
:mod:`tflmini.curves`, loaded by :mod:`tflmini.results`, or sampled by
:class:`~tflmini.BayesianNetworkSampler`), so chapters stay thin: compute, then call one function.
None of them samples networks.
"""

from __future__ import annotations

import io

import numpy as np

from .kernels import get_activation

__all__ = [
    "THEORY_STYLE",
    "SIMULATION_STYLE",
    "NNGP_STYLE",
    "ERROR_COLORS",
    "ACTIVATION_COLORS",
    "width_color",
    "plot_theory",
    "plot_simulation",
    "label_axes",
    "figure_png",
    "plotted_arrays",
    "plot_chain_traces",
    "plot_readout_posterior",
    "plot_kernel_profiles",
    "plot_learning_curves",
    "plot_action_landscape",
    "plot_alpha_curves",
    "plot_validation",
    "plot_validation_gap",
    "plot_input_dimension",
]

THEORY_STYLE = {"lw": 1.8, "solid_capstyle": "round"}
SIMULATION_STYLE = {"marker": "o", "markersize": 5, "capsize": 3, "elinewidth": 1.2, "linestyle": "none"}
NNGP_STYLE = {"color": "0.45", "ls": "--", "lw": 1.4}
#: Colours of the two test errors (chapter 2): the Gibbs error and the posterior-mean error.
ERROR_COLORS = {"gibbs_error": "C3", "mean_error": "C0", "train_error": "C2", "Q": "C4"}
ACTIVATION_COLORS = {"linear": "0.3", "erf": "C0", "relu": "C1"}


def width_color(n_hidden, lo=25.0, hi=3200.0, cmap="viridis"):
    r"""The colour of width :math:`N_1` (the same in every figure): a point of ``cmap`` placed by
    :math:`\log N_1` between ``lo`` and ``hi``; infinite width is grey."""
    import matplotlib

    if np.isinf(n_hidden):
        return NNGP_STYLE["color"]
    t = (np.log(float(n_hidden)) - np.log(lo)) / (np.log(hi) - np.log(lo))
    return matplotlib.colormaps[cmap](0.05 + 0.85 * float(np.clip(t, 0.0, 1.0)))


def _finite(*arrays):
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    ok = np.ones(np.broadcast(*arrays).shape, dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a)
    return [np.broadcast_to(a, ok.shape)[ok] for a in arrays]


def plot_theory(ax, x, y, **kwargs):
    """A theory curve: a line (points with a non-finite coordinate are dropped)."""
    x, y = _finite(x, y)
    style = {**THEORY_STYLE, **kwargs}
    (line,) = ax.plot(x, y, **style)
    return line


def plot_simulation(ax, x, mean, se, **kwargs):
    """Simulation results: points with error bars of one standard error (non-finite points dropped;
    a non-finite standard error is drawn as no bar)."""
    x, mean, se = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(x, mean, se))
    ok = np.isfinite(x) & np.isfinite(mean)
    se = np.where(np.isfinite(se), se, 0.0)
    style = {**SIMULATION_STYLE, **kwargs}
    return ax.errorbar(x[ok], mean[ok], yerr=se[ok], **style)


def label_axes(ax, xlabel, ylabel, *, title=None, legend=True, legend_kw=None):
    """Axis labels (required), an optional title, and a legend if any artist has a label."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize="medium")
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(**{"fontsize": "small", "frameon": False, **(legend_kw or {})})
    return ax


def figure_png(fig, dpi=90):
    """The figure as PNG bytes (for image widgets and precomputed slider frames)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.08)
    return buf.getvalue()


def plotted_arrays(fig):
    """Every array of numbers drawn in ``fig``: line data, scatter/error-bar offsets and segments.
    Tests use it to check that a figure holds no NaN."""
    from matplotlib.collections import Collection

    out = []
    for ax in fig.axes:
        for line in ax.get_lines():
            out.append(np.asarray(line.get_xydata(), dtype=float))
        for coll in ax.collections:
            if isinstance(coll, Collection):
                out.append(np.asarray(coll.get_offsets(), dtype=float).reshape(-1))
                if hasattr(coll, "get_segments"):
                    out.extend(np.asarray(s, dtype=float) for s in coll.get_segments())
                elif hasattr(coll, "get_paths"):
                    out.extend(np.asarray(p.vertices, dtype=float) for p in coll.get_paths())
    return out


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

def plot_kernel_profiles(ax, variance, activations=("linear", "erf", "relu"), n_points=201, normalized=True):
    r"""The NNGP kernel between two inputs of norm :math:`|x|^2 = N_0` as a function of their overlap
    :math:`\rho = x\cdot x'/N_0`, for first-layer weights of variance ``variance``; with ``normalized``
    divided by :math:`K(x, x)` (the correlation of the two hidden-unit outputs)."""
    rho = np.linspace(-1.0, 1.0, n_points)
    for name in activations:
        act = get_activation(name)
        k = act.kernel(np.full_like(rho, variance), np.full_like(rho, variance), variance * rho)
        if normalized:
            k = k / act.kernel(variance, variance, variance)
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
    from .results import relative_gap

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
    from .results import relative_gap

    a = data["arrays"]
    x = a["P_over_N0"]
    ax = axes[0]
    for key, color, label in (("gibbs_error", ERROR_COLORS["gibbs_error"], "Gibbs error"),
                              ("Q", ERROR_COLORS["Q"], r"$Q$")):
        gap, se = relative_gap(a, key)
        plot_simulation(ax, x, 100 * gap, 100 * se, color=color, label=label)
        ax.plot(x, 100 * gap, color=color, lw=0.8, alpha=0.6)
    ax.axhline(0.0, color="k", lw=1.2, label="theory")
    ax.set_xscale("log")
    label_axes(ax, r"examples per input dimension $P/N_0$", "sampled − theory (% of theory)")
    ax = axes[1]
    ratio = a["teacher_alignment"] / a["prior_alignment"]
    ax.plot(x, ratio, "s-", color="C2", lw=1.0, markersize=6, label="sampled networks")
    ax.axhline(1.0, color="k", lw=1.2, label="prior (and theory)")
    ax.set_xscale("log")
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
