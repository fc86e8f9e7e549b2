r"""Figures of the real-data chapter of the book (scikit-learn digits, source 3 vs 8).

The chapter stays thin: every figure it shows is one call here; the numbers it quotes come from
:mod:`tflmini.real_data` (inputs, split, relatedness, theory against sampled networks). Nothing here samples
networks; sampled networks come from the cached experiments ``digits_gamma_sweep``,
``digits_relatedness_sweep``, ``digits_width_effect`` and ``digits_source_size``
(:func:`tflmini.experiments.load`). The slider panel is :mod:`tflmini.widgets.digits`.

Errors are named as in the book: :math:`\epsilon_{\rm m}` (``mean_error``, the prediction averaged over source
networks), :math:`\epsilon_{\rm single}` (``single_source_error``, the target built on ONE pretrained source)
and :math:`\epsilon_{\rm G}` (``gibbs_error``).

Inputs and relatedness
    :func:`plot_digits_catalogue` (class means and ridge readout templates).

The source network
    :func:`plot_source_check` (:math:`Q_s`, the source's errors and the alignment of its first-layer weights
    against the source size).

Theory against sampled targets
    :func:`plot_digits_gamma`, :func:`plot_digits_order_parameters`, :func:`plot_benefit_vs_relatedness`,
    :func:`plot_digits_width`, :func:`plot_digits_source_size`.
"""

from __future__ import annotations

import numpy as np

from ..datasets import DIGITS_SOURCE, digits_catalogue, load_digits_pool
from ..real_data import digits_pixel_mask, input_dimension, readout_template, training_index
from ..transfer_curves import gamma_index
from .gamma_axis import format_gamma_axis, plot_gamma_curve, plot_gamma_points
from .style import COLORS, Q_LABELS, format_value

__all__ = [
    "WIDTH_COLORS",
    "TARGET_COLORS",
    "ERROR_NAMES",
    "ERROR_LABELS",
    "plot_digits_catalogue",
    "plot_source_check",
    "plot_digits_gamma",
    "plot_digits_order_parameters",
    "plot_benefit_vs_relatedness",
    "plot_digits_width",
    "plot_digits_source_size",
]

#: One colour per width in every figure of the chapter.
WIDTH_COLORS = {"N1=25": "#8c564b", "N1=50": "#2ca02c", "N1=100": "#1f77b4", "N1=200": "#9467bd",
                "N1=400": "#e377c2", "N1=inf": "0.45"}
#: One colour per catalogue target.
TARGET_COLORS = {"close": "#1f77b4", "related": "#2ca02c", "intermediate": "#9467bd", "weak": "#ff7f0e",
                 "unrelated": "#d62728"}
#: Plain-text names of the errors (legends, titles).
ERROR_NAMES = {"mean_error": "εₘ", "single_source_error": "ε_single", "gibbs_error": "ε_G"}
ERROR_LABELS = {"mean_error": r"$\epsilon_{\rm m}$ (averaged over sources)",
                "single_source_error": r"$\epsilon_{\rm single}$ (one pretrained source)",
                "gibbs_error": r"$\epsilon_{\rm G}$ (Gibbs)"}


def _width_label(w):
    w = str(w)
    return "N₁ = ∞" if w.endswith("inf") else f"N₁ = {w.replace('N1=', '')}"


# -- inputs and relatedness --------------------------------------------------------------------------

def plot_digits_catalogue(fig, *, source=DIGITS_SOURCE):
    r"""Top row: the mean training image of every digit of the catalogue (normalised inputs). Bottom row: the
    ridge readout template (:func:`~tflmini.real_data.readout_template`) of the source task and of each catalogue target,
    oriented so that its overlap with the source is positive, titled with the relatedness :math:`\rho`.
    Returns the catalogue rows (:func:`~tflmini.datasets.digits_catalogue`)."""
    rows = digits_catalogue(source=source)
    X, y = load_digits_pool()
    train = training_index()
    X, y = X[train], y[train]
    mask = digits_pixel_mask().ravel()
    digits = sorted({int(d) for r in rows for d in r["target"]} | {int(d) for d in source})
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.3])
    axes = np.atleast_1d(top.subplots(1, len(digits)))
    means = []
    for d in digits:
        img = np.zeros(64)
        img[mask] = X[y == d].mean(axis=0)
        means.append(img.reshape(8, 8))
    vm = max(float(np.max(np.abs(m))) for m in means)
    im = None
    for ax, d, img in zip(axes, digits, means):
        im = ax.imshow(img, cmap="PuOr_r", vmin=-vm, vmax=vm)
        ax.set_title(f"digit {d}", fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    top.colorbar(im, ax=list(axes), shrink=0.8, label="mean input (dimensionless)")
    top.suptitle("class means of the normalised training images", fontsize="medium")
    pairs = [("source", tuple(source), 1.0)] + [(r["name"], r["target"], r["relatedness"]) for r in rows]
    axes = np.atleast_1d(bottom.subplots(1, len(pairs)))
    templates = [readout_template(p) for _, p, _ in pairs]
    vmax = max(float(np.max(np.abs(t))) for t in templates)
    im = None
    for ax, (name, pair, rho), t in zip(axes, pairs, templates):
        im = ax.imshow(t, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        title = f"{name}: {pair[0]} vs {pair[1]}" + ("" if name == "source" else f"\nρ = {rho:.2f}")
        ax.set_title(title, fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    bottom.colorbar(im, ax=list(axes), shrink=0.8, label="readout weight (dimensionless)")
    bottom.suptitle("ridge readout templates (red: votes for the first digit of the pair)", fontsize="medium")
    return rows


# -- the source network --------------------------------------------------------------------------------

def plot_source_check(axes, result):
    r"""The source network against its theory as the source size grows (``result``: the cached
    ``digits_source_size``), on a horizontal axis :math:`P_s/N_0`. Left: :math:`Q_s`. Middle: the source's test
    errors :math:`\epsilon_{\rm m}` and :math:`\epsilon_{\rm G}` (test images of its two digits). Right: the
    squared cosine between the sampled first-layer weights and the ridge template of the source (and of the
    target), in units of its prior value :math:`1/N_0`; the theory keeps the prior value 1. Lines: kernel
    renormalization; points: sampled networks (mean ± standard error). Returns the axes."""
    th, sim = result.theory, result.simulation
    n0 = input_dimension()
    x_th = np.asarray(th["n_sources"], dtype=float) / n0
    x_sim = np.asarray(sim["n_sources"], dtype=float) / n0
    src = th["source"]
    rep = sim["source"]
    ax, bx, cx = axes
    ax.plot(x_th, src["Q_s"], "-", color=COLORS["Q_s"], lw=1.8, label="theory")
    ax.errorbar(x_sim, [r["Q_s"]["mean"] for r in rep], yerr=[r["Q_s"]["se"] for r in rep], fmt="o",
                color=COLORS["Q_s"], mec="k", mew=0.6, capsize=3, label=f"sampled, N₁ = {sim['n_hidden']}")
    ax.set_ylabel("source readout norm Qₛ (dimensionless)")
    for key, color, marker in (("mean_error", "C0", "o"), ("gibbs_error", "C2", "s")):
        bx.plot(x_th, src[key], "-", color=color, lw=1.8, label=f"{ERROR_NAMES[key]}, theory")
        bx.errorbar(x_sim, [r[key]["mean"] for r in rep], yerr=[r[key]["se"] for r in rep], fmt=marker,
                    color=color, mec="k", mew=0.6, capsize=3, label=f"{ERROR_NAMES[key]}, sampled")
    bx.set_ylabel("source test error (MSE)")
    bx.set_ylim(bottom=0)
    names = list(rep[0]["alignment"])
    offsets = np.linspace(-0.04, 0.04, len(names)) if len(names) > 1 else [0.0]
    for k, name in enumerate(names):
        color = COLORS["Q_s"] if name == "source" else TARGET_COLORS.get(name, f"C{k}")
        label = "source template" if name == "source" else f"{name} target template"
        cx.errorbar(x_sim + offsets[k], [r["alignment"][name]["mean"] for r in rep],
                    yerr=[r["alignment"][name]["se"] for r in rep], fmt="o-", color=color, mec="k", mew=0.6,
                    capsize=3, label=label)
    cx.axhline(1.0, color="0.4", ls="--", lw=1, label="prior value, and theory")
    cx.set_ylabel("N₀ × squared cosine, weights vs template")
    for a in axes:
        a.set_xlabel("source examples per\ninput dimension Pₛ/N₀")
        a.legend(fontsize="small")
    return axes


# -- theory against sampled networks -------------------------------------------------------------------

def plot_digits_gamma(axes, result, relations=None, *, widths=None, legend=True):
    r"""Target test errors against the coupling for the targets ``relations`` of a cached digits gamma sweep
    (``axes``: 2 rows, one column per target). Top row: :math:`\epsilon_{\rm m}`: theory at every width of the
    cache (one colour per width, :data:`WIDTH_COLORS`), matched-prior control at the sampled width (dashed),
    sampled networks (points). Bottom row: :math:`\epsilon_{\rm single}`, the error with one pretrained source:
    theory at the sampled width and sampled networks. Returns the legend handles and labels."""
    th, sim, p = result.theory, result.simulation, result.parameters
    relations = list(p["targets"]) if relations is None else list(relations)
    axes = np.asarray(axes, dtype=object).reshape(2, -1)
    n1 = f"N1={p['n_hidden']}"
    widths = [f"N1={w}" for w in p["theory"]["widths"]] if widths is None else list(widths)
    handles = {}
    for j, rel in enumerate(relations):
        c = th["curves"][rel]
        ax, bx = axes[0, j], axes[1, j]
        for w in widths:
            color = WIDTH_COLORS.get(w, "k")
            ls = ":" if w.endswith("inf") else "-"
            line = plot_gamma_curve(ax, th["gammas"], c[w]["mean_error"], color=color, ls=ls,
                                    lw=2.2 if w == n1 else 1.4)
            handles[f"theory εₘ, {_width_label(w)}"] = line
        line = plot_gamma_curve(ax, th["gammas"], c[n1]["matched_mean_error"], color=COLORS["control"], ls="--",
                                lw=1.4)
        handles[f"matched-prior control, {_width_label(n1)}"] = line
        r = sim["results"][rel]
        pts = plot_gamma_points(ax, sim["gammas"], r["mean_error"]["mean"], r["mean_error"]["se"],
                                color=WIDTH_COLORS.get(n1, "k"), mec="k", mew=0.6, zorder=5)
        handles[f"sampled εₘ, {_width_label(n1)}"] = pts
        line = plot_gamma_curve(bx, th["gammas"], c[n1]["single_source_error"], color=WIDTH_COLORS.get(n1, "k"),
                                lw=2.2)
        handles[f"theory ε_single, {_width_label(n1)} (bottom row)"] = line
        ref = plot_gamma_curve(bx, th["gammas"], c[n1]["mean_error"], color="0.6", lw=1.0)
        handles[f"theory εₘ, {_width_label(n1)} (bottom row, for reference)"] = ref
        if "single_source_error" in r:
            pts = plot_gamma_points(bx, sim["gammas"], r["single_source_error"]["mean"],
                                    r["single_source_error"]["se"], fmt="s", color=WIDTH_COLORS.get(n1, "k"), mec="k",
                                    mew=0.6, zorder=5)
            handles[f"sampled ε_single, {_width_label(n1)} (bottom row)"] = pts
        rho = c["relatedness"]
        ax.set_title(f"{rel}: ρ = {rho:.2f}", fontsize="medium")
        format_gamma_axis(ax, math=False, label="")
        format_gamma_axis(bx, math=False)
        for a in (ax, bx):
            a.axhline(c[n1]["mean_error"][0], color=COLORS["scratch"], ls=":", lw=0.8, zorder=0)
    axes[0, 0].set_ylabel("εₘ: target test MSE,\nprediction averaged over sources")
    axes[1, 0].set_ylabel("ε_single: target test MSE,\none pretrained source")
    labels = list(handles)
    if legend:
        fig = axes[0, 0].figure
        fig.legend([handles[k] for k in labels], labels, loc="outside lower center", ncols=2, fontsize="small")
    return [handles[k] for k in labels], labels


def plot_digits_order_parameters(axes, result, relations=None):
    r"""Order parameters against the coupling for the targets ``relations`` (default: all) of a cached digits
    gamma sweep, one panel per order parameter (:math:`Q_t`, :math:`Q_{st}`, :math:`Q_{tt}`), one colour per target
    (:data:`TARGET_COLORS`): theory at the sampled width (lines), sampled networks (points); one legend below
    the panels (the figure needs a constrained layout). Returns the axes."""
    th, sim, p = result.theory, result.simulation, result.parameters
    n1 = f"N1={p['n_hidden']}"
    relations = list(p["targets"]) if relations is None else list(relations)
    for ax, key in zip(np.ravel(axes), ("Q_t", "Q_st", "Q_tt")):
        name = Q_LABELS[key]
        for rel in relations:
            color = TARGET_COLORS.get(rel, "k")
            c = th["curves"][rel]
            plot_gamma_curve(ax, th["gammas"], c[n1][key], color=color, lw=1.8,
                             label=f"{rel} (ρ = {c['relatedness']:.2f}), theory")
            r = sim["results"][rel][key]
            plot_gamma_points(ax, sim["gammas"], r["mean"], r["se"], color=color, mec="k", mew=0.6, zorder=5,
                              label=f"{rel}, sampled")
        if key != "Q_t":
            ax.axhline(0, color="0.85", lw=0.8, zorder=0)
        format_gamma_axis(ax, math=False)
        ax.set_ylabel(f"{name} (dimensionless)")
        ax.set_title(name, fontsize="medium")
    handles, labels = np.ravel(axes)[0].get_legend_handles_labels()
    np.ravel(axes)[0].figure.legend(handles, labels, loc="outside lower center", ncols=len(relations),
                                    fontsize="small")
    return axes


def plot_benefit_vs_relatedness(axes, result, metrics=("mean_error", "single_source_error")):
    r"""The benefit :math:`\epsilon(0) - \epsilon(\gamma)` across the digits catalogue (``result``: the cached
    ``digits_relatedness_sweep``), one panel per error in ``metrics``. The targets are separate tasks, so
    nothing joins them: they sit at positions ordered by their relatedness :math:`\rho` (tick labels: name and
    :math:`\rho`); at each sampled coupling, the theory at the sampled width (open diamond) and the sampled
    networks (filled point, ± one standard error, the errors at 0 and :math:`\gamma` added in quadrature),
    side by side. Returns the axes."""
    th, sim = result.theory, result.simulation
    width = f"N1={result.parameters['n_hidden']}"
    rho = np.asarray(th["relatedness"], dtype=float)
    order = np.argsort(-rho)
    labels = list(th["labels"])
    g_th = np.asarray(th["gammas"], dtype=float)
    g_sim = np.asarray(sim["gammas"], dtype=float)
    i0 = int(np.flatnonzero(g_sim == 0)[0])
    shown = [k for k, g in enumerate(g_sim) if g != 0]
    colors = {k: c for k, c in zip(shown, ("#1f77b4", "#d62728", "#2ca02c"))}
    for ax, metric in zip(np.ravel(axes), metrics):
        E = np.asarray(th["curves"][width][metric], dtype=float)
        for n, k in enumerate(shown):
            g = g_sim[k]
            j = gamma_index(g_th, g)
            x = np.arange(len(labels)) + (n - (len(shown) - 1) / 2) * 0.3
            name = format_value(g)
            ax.plot(x - 0.06, (E[:, 0] - E[:, j])[order], "D", mfc="white", color=colors[k], mew=1.5, ms=6,
                    ls="none", label=f"γ = {name}, theory, N₁ = {result.parameters['n_hidden']}")
            res = [sim["results"][list(sim["labels"]).index(labels[i])] for i in order]
            b = np.array([r[metric]["mean"][i0] - r[metric]["mean"][k] for r in res])
            se = np.array([np.hypot(r[metric]["se"][i0], r[metric]["se"][k]) for r in res])
            ax.errorbar(x + 0.06, b, yerr=se, fmt="o", color=colors[k], mec="k", mew=0.6, capsize=3,
                        label=f"γ = {name}, sampled, N₁ = {sim['n_hidden']}")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xticks(np.arange(len(labels)))
        ax.set_xticklabels([f"{labels[i]}\nρ = {rho[i]:.2f}" for i in order], fontsize="small")
        ax.set_xlabel("catalogue target, by decreasing relatedness ρ")
        sym = ERROR_NAMES[metric]
        ax.set_ylabel(f"benefit {sym}(0) − {sym}(γ) (target test MSE)")
        ax.set_title(ERROR_LABELS[metric], fontsize="medium")
        ax.legend(fontsize="small", loc="lower left")
    return axes


def plot_digits_width(axes, result, metrics=("mean_error", "single_source_error")):
    r"""The benefit of frozen features :math:`\epsilon(0) - \epsilon(\infty)` against the width (``result``: the
    cached ``digits_width_effect``), one panel per error in ``metrics``, one colour per target. Lines: theory
    at finite widths (the value at :math:`N_1 = \infty`, zero, is the dotted level); points: sampled networks
    (standard errors of the two estimates added in quadrature). Returns the axes."""
    th, sim = result.theory, result.simulation
    widths = np.asarray(th["widths"], dtype=float)
    fin = np.isfinite(widths)
    for ax, metric in zip(np.ravel(axes), metrics):
        for rel, c in th["curves"].items():
            color = TARGET_COLORS.get(rel, "k")
            E = np.asarray(c[metric], dtype=float)
            ax.plot(widths[fin], (E[:, 0] - E[:, -1])[fin], "-", color=color, lw=1.8,
                    label=f"{rel} (ρ = {c['relatedness']:.2f}), theory")
            rows = sim["results"].get(rel, [])
            if rows:
                b = np.array([r[metric]["mean"][0] - r[metric]["mean"][-1] for r in rows])
                se = np.array([np.hypot(r[metric]["se"][0], r[metric]["se"][-1]) for r in rows])
                ax.errorbar(np.asarray(sim["widths"], dtype=float), b, yerr=se, fmt="o", color=color, mec="k",
                            mew=0.6, capsize=3, label=f"{rel}, sampled")
        ax.axhline(0, color="0.6", lw=0.8, ls=":", label="N₁ = ∞ (lazy limit): no benefit")
        ax.set_xscale("log")
        ax.set_xlabel("width N₁")
        sym = ERROR_NAMES[metric]
        ax.set_ylabel(f"benefit {sym}(0) − {sym}(∞) (target test MSE)")
        ax.set_title(ERROR_LABELS[metric], fontsize="medium")
        ax.legend(fontsize="small")
    return axes


def plot_digits_source_size(axes, result, metrics=("mean_error", "single_source_error")):
    r"""The benefit of frozen features :math:`\epsilon(0) - \epsilon(\infty)` against the source size
    :math:`P_s` (``result``: the cached ``digits_source_size``), one panel per error in ``metrics``, one colour per
    target size :math:`P_t`. Lines: theory; points: sampled networks (standard errors added in quadrature).
    Source training sets are nested. Returns the axes."""
    th, sim = result.theory, result.simulation
    Ps = np.asarray(th["n_sources"], dtype=float)
    Pt = [int(n) for n in th["n_targets"]]
    keys = {"mean_error": ("E_zero", "E_inf"), "single_source_error": ("E_single_zero", "E_single_inf")}
    for ax, metric in zip(np.ravel(axes), metrics):
        z_key, i_key = keys[metric]
        for i, nt in enumerate(Pt):
            ax.plot(Ps, np.asarray(th[z_key])[i] - np.asarray(th[i_key])[i], "-", color=f"C{i}",
                    lw=2.0 if nt in [int(n) for n in sim["n_targets"]] else 1.0, label=f"theory, Pₜ = {nt}")
        for i, nt in enumerate(sim["n_targets"]):
            color = f"C{Pt.index(int(nt))}"
            z, f = sim["gamma_zero"][metric], sim["gamma_inf"][i][metric]
            b = z["mean"][i] - np.asarray(f["mean"], dtype=float)
            se = np.hypot(z["se"][i], np.asarray(f["se"], dtype=float))
            ax.errorbar(np.asarray(sim["n_sources"], dtype=float) * (1 + 0.03 * (i - 0.5)), b, yerr=se, fmt="o",
                        color=color, mec="k", mew=0.6, capsize=3,
                        label=f"sampled, Pₜ = {int(nt)}, N₁ = {sim['n_hidden']}")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xscale("log")
        ticks = [t for t in 10 * 2.0 ** np.arange(8) if Ps.min() * 0.99 <= t <= Ps.max() * 1.01]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])  # sizes that double: fewer labels than the log minor ticks
        ax.minorticks_off()
        ax.set_xlabel("source size Pₛ (nested training sets)")
        sym = ERROR_NAMES[metric]
        ax.set_ylabel(f"benefit {sym}(0) − {sym}(∞) (target test MSE)")
        ax.set_title(ERROR_LABELS[metric], fontsize="medium")
        ax.legend(fontsize="small", ncols=2)
    return axes
