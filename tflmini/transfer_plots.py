r"""Figures of part II of the book (the Franz-Parisi theory of transfer).

The chapters stay thin: every figure they show is one call here. The curves come from
:mod:`tflmini.transfer_curves` (theory along the coupling, the matched-prior control, the gain over it) and
the cached files from :mod:`tflmini.results` (``data/validation_transfer.json``) and
:func:`tflmini.experiments.load`; nothing here computes a theory curve or samples networks.

The coupling axis (:func:`gamma_position`, :func:`format_gamma_axis`) shows :math:`\gamma = 0` and
:math:`\gamma=\infty` as the two ends of a logarithmic axis. Theory is drawn as lines, simulations as
points with error bars.
"""

from __future__ import annotations

import numpy as np

from ._threads import single_thread
from .results import validation_groups
from .transfer import coupled_weight_statistics
from .transfer_curves import decomposition_gain, estimate_difference, gamma_grid, gamma_index, relation_key

__all__ = [
    "ERROR_SYMBOLS",
    "COLORS",
    "gamma_position",
    "format_gamma_axis",
    "plot_gamma_curve",
    "plot_gamma_points",
    "plot_coupled_prior",
    "plot_weight_statistics",
    "plot_action_slices",
    "plot_benefit_map",
    "plot_sweep_vs_gamma",
    "plot_validation_transfer",
    "plot_width_effect",
    "plot_gamma_rho_maps",
    "plot_alpha_rho_maps",
    "plot_source_size",
    "plot_gain_vs_overlap",
    "plot_transfer_control",
    "plot_single_source",
]

#: The book's symbols of the target test errors (appendix "Notation").
ERROR_SYMBOLS = {"mean_error": r"\epsilon_{\rm m}", "gibbs_error": r"\epsilon_{\rm G}",
                 "single_source_error": r"\epsilon_{\rm single}"}

# Colours of the book's part II: one per role, the same in every figure.
COLORS = {"transfer": "C0", "control": "C1", "scratch": "0.35", "lazy": "0.6", "Q_t": "C2", "Q_st": "C0",
          "Q_tt": "C3", "Q_s": "C4"}


# -- the coupling axis ------------------------------------------------------------------------------

def gamma_position(gamma, g_min=1e-2, g_max=1e3, gap=1.0):
    r"""x coordinate of couplings on a log axis: :math:`\log_{10}\gamma` for finite positive couplings,
    :math:`\log_{10}g_{\min} - \text{gap}` for :math:`\gamma = 0` and :math:`\log_{10}g_{\max} + \text{gap}`
    for :math:`\gamma = \infty` (positive couplings outside [g_min, g_max] are clipped to it)."""
    g = np.asarray(gamma, dtype=np.float64)
    lo, hi = np.log10(g_min), np.log10(g_max)
    with np.errstate(divide="ignore"):
        x = np.clip(np.log10(np.where(g > 0, g, 1.0)), lo, hi)
    x = np.where(g == 0, lo - gap, x)
    return np.where(np.isinf(g), hi + gap, x)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_gamma_axis(ax, g_min=1e-2, g_max=1e3, gap=1.0, label=None, *, math=True, axis="x"):
    """Ticks at the decades between ``g_min`` and ``g_max`` plus "0" and "∞" at the ends, with break marks
    on the axis between an end and the logarithmic part. ``math=False`` writes the labels as plain
    Unicode text (much faster to draw: slider panels use it). ``axis="y"`` formats the vertical axis."""
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    lo, hi = np.log10(g_min), np.log10(g_max)
    decades = np.arange(np.ceil(lo), np.floor(hi) + 1)
    ticks = np.r_[lo - gap, decades, hi + gap]
    if math:
        labels = ["0"] + [f"$10^{{{int(d)}}}$" for d in decades] + [r"$\infty$"]
        label = r"coupling $\gamma$" if label is None else label
    else:
        labels = ["0"] + [f"10{str(int(d)).translate(_SUPERSCRIPT)}" for d in decades] + ["∞"]
        label = "coupling γ" if label is None else label
    set_ticks, set_labels, set_lim, set_label = (
        (ax.set_xticks, ax.set_xticklabels, ax.set_xlim, ax.set_xlabel) if axis == "x"
        else (ax.set_yticks, ax.set_yticklabels, ax.set_ylim, ax.set_ylabel))
    set_ticks(ticks)
    set_labels(labels)
    set_lim(lo - 1.25 * gap, hi + 1.25 * gap)
    set_label(label)
    marker = [(-1, -2), (1, 2)] if axis == "x" else [(-2, -1), (2, 1)]
    transform = ax.get_xaxis_transform() if axis == "x" else ax.get_yaxis_transform()
    for pos in (lo - gap / 2, hi + gap / 2):
        xy = ([pos], [0]) if axis == "x" else ([0], [pos])
        ax.plot(*xy, transform=transform, marker=marker, markersize=9, color="k", clip_on=False, linestyle="none",
                mew=1)
    return ax


def plot_gamma_curve(ax, gammas, values, *, g_min=1e-2, g_max=1e3, gap=1.0, **kwargs):
    """A theory line against the coupling (NaNs dropped). The values at γ = 0 and γ = ∞ are drawn as short
    horizontal ticks joined to the logarithmic part by dotted segments (the axis is broken there)."""
    gammas = np.asarray(gammas, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    g, y = gammas[ok], values[ok]
    x = gamma_position(g, g_min, g_max, gap)
    inner = np.isfinite(g) & (g > 0)
    (line,) = ax.plot(x[inner], y[inner], **kwargs)
    style = {"color": line.get_color(), "lw": line.get_linewidth(), "alpha": line.get_alpha(),
             "zorder": line.get_zorder()}
    idx = np.flatnonzero(inner)
    for end, j in ((g == 0, idx[0] if idx.size else None), (np.isinf(g), idx[-1] if idx.size else None)):
        if not np.any(end):
            continue
        k = np.flatnonzero(end)[0]
        if j is not None:
            ax.plot([x[k], x[j]], [y[k], y[j]], linestyle=":", **style)
        ax.plot([x[k]], [y[k]], marker="_", markersize=12, mew=2, linestyle="none", **style)
    return line


def plot_gamma_points(ax, gammas, mean, se, *, g_min=1e-2, g_max=1e3, gap=1.0, **kwargs):
    """Simulation points with error bars (one standard error) against the coupling."""
    mean = np.asarray(mean, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    x = gamma_position(gammas, g_min, g_max, gap)
    kwargs.setdefault("fmt", "o")
    kwargs.setdefault("capsize", 3)
    kwargs.setdefault("markersize", 5)
    return ax.errorbar(x, mean, yerr=np.where(np.isfinite(se), se, 0.0), **kwargs)


# -- part II figures --------------------------------------------------------------------------------

def plot_coupled_prior(ax, gammas=(0.0, 1.0, 5.0), lambda0=1.0, levels=(1.0, 2.0)):
    r"""Contours (``levels`` standard deviations) of the joint prior of one source weight and the coupled
    target weight, :math:`w_s\sim\mathcal N(0, 1/\lambda_0)`, :math:`w_t|w_s\sim\mathcal N(\gamma w_s/(\lambda_0+\gamma),
    1/(\lambda_0+\gamma))`, for each coupling; :math:`\gamma=\infty` is the diagonal :math:`w_t = w_s`."""
    t = np.linspace(0, 2 * np.pi, 200)
    circle = np.stack([np.cos(t), np.sin(t)])
    for i, g in enumerate(gammas):
        st = coupled_weight_statistics(g, lambda0)
        color = f"C{i}"
        if np.isinf(g):
            r = 2.5 / np.sqrt(lambda0)
            ax.plot([-r, r], [-r, r], color=color, label=r"$\gamma=\infty$")
            continue
        cov = np.array([[st["c_ss"], st["c_st"]], [st["c_st"], st["c_tt"]]])
        L = np.linalg.cholesky(cov)
        for j, lev in enumerate(levels):
            xy = lev * L @ circle
            ax.plot(xy[0], xy[1], color=color, lw=1.5 if j == 0 else 0.8,
                    label=rf"$\gamma={g:g}$" if j == 0 else None)
    ax.set_aspect("equal")
    ax.set_xlabel(r"source weight $w_s$")
    ax.set_ylabel(r"target weight $w_t$")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_weight_statistics(ax, lambda0=1.0, g_min=1e-2, g_max=1e3):
    r"""The weight statistics :math:`c_{ss}, c_{st}, c_{tt}, c_\times` and the source-target correlation
    :math:`c_{st}/\sqrt{c_{ss}c_{tt}}` against the coupling."""
    gammas = gamma_grid(g_min, g_max, per_decade=10)
    stats = [coupled_weight_statistics(g, lambda0) for g in gammas]
    names = {"c_ss": r"$c_{ss}$", "c_st": r"$c_{st}$", "c_tt": r"$c_{tt}$", "c_x": r"$c_\times$"}
    styles = {"c_ss": dict(color="0.4", ls="--"), "c_st": dict(color="C0"), "c_tt": dict(color="C2"),
              "c_x": dict(color="C3")}
    for k, name in names.items():
        plot_gamma_curve(ax, gammas, [s[k] for s in stats], g_min=g_min, g_max=g_max, label=name, **styles[k])
    corr = [s["c_st"] / np.sqrt(s["c_ss"] * s["c_tt"]) for s in stats]
    plot_gamma_curve(ax, gammas, corr, g_min=g_min, g_max=g_max, color="k", lw=1, ls="-.",
                     label=r"correlation $c_{st}/\sqrt{c_{ss}c_{tt}}$")
    format_gamma_axis(ax, g_min, g_max)
    ax.set_ylabel(rf"(co)variance per component, correlation ($\lambda_0={lambda0:g}$)")
    ax.legend(fontsize="small", loc="center left")
    return ax


def plot_action_slices(axes, estimator, *, half_width=None, n_points=61, math=True):
    r"""Three slices of the action :math:`\phi(Q_t, Q_{tt}, Q_{st})` through its stationary point, one order
    parameter varied at a time (``axes``: three Axes). The stationary point is marked. Returns the slices
    as {name: (grid, values)}. ``math=False``: plain-text labels (faster to draw)."""
    op = estimator.order_parameters_
    Q_s, Q_t, Q_tt, Q_st = op["Q_s"], op["Q_t"], op["Q_tt"], op["Q_st"]
    hw = half_width or max(0.05, 0.5 * max(abs(Q_st), abs(Q_tt), 0.1))
    out = {}
    # admissible ranges: Q_t > Q_tt, Q_tt >= Q_st^2/Q_s (and Q_t - Q_tt > 0)
    lo_tt = Q_st**2 / Q_s
    specs = {
        "Q_t": (np.linspace(max(Q_tt + 1e-3, Q_t - hw), Q_t + hw, n_points), r"$Q_t$" if math else "Qₜ"),
        "Q_tt": (np.linspace(max(lo_tt, Q_tt - hw), min(Q_tt + hw, Q_t - 1e-3), n_points),
                 r"$Q_{tt}$" if math else "Qₜₜ"),
        "Q_st": (np.linspace(-np.sqrt(max(Q_tt, 0.0) * Q_s), np.sqrt(max(Q_tt, 0.0) * Q_s), n_points)
                 if Q_tt > 1e-6 else np.array([0.0]), r"$Q_{st}$" if math else "Qₛₜ"),
    }
    with single_thread():
        phi0 = estimator.action()
        for ax, (name, (grid, label)) in zip(axes, specs.items()):
            vals = estimator.action(**{name: grid})
            out[name] = (grid, vals)
            ax.plot(grid, vals - phi0, color=COLORS[name])
            ax.plot([op[name]], [0.0], "o", color="k", zorder=3, label="stationary point")
            ax.set_xlabel(label)
            ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    for ax in axes:  # every slice is the same quantity (dimensionless, per hidden unit)
        ax.set_ylabel(r"$\phi - \phi^*$" if math else "φ − φ*")
    axes[0].legend(fontsize="small")
    return out


def plot_benefit_map(ax, x, y, benefit, *, xlabel, ylabel, log_x=False, vmax=None, colorbar=True, title=None,
                     metric="mean_error"):
    r"""A map of the transfer benefit :math:`\epsilon(\gamma=0) - \epsilon` (> 0: transfer helps) of the error ``metric``
    with a diverging colour scale centred at zero and the zero contour drawn (the border between positive and
    negative transfer)."""
    import matplotlib.colors as mcolors

    benefit = np.asarray(benefit, dtype=np.float64)
    vmax = vmax or float(np.nanmax(np.abs(benefit))) or 1.0
    norm = mcolors.TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    X = np.log10(x) if log_x else np.asarray(x, dtype=np.float64)
    mesh = ax.pcolormesh(X, y, benefit, cmap="RdBu", norm=norm, shading="nearest")
    if np.nanmin(benefit) < 0 < np.nanmax(benefit):
        ax.contour(X, y, benefit, levels=[0.0], colors="k", linewidths=1.2)
    if log_x:
        decades = np.arange(np.ceil(X.min()), np.floor(X.max()) + 1)
        ax.set_xticks(decades)
        ax.set_xticklabels([f"$10^{{{int(d)}}}$" for d in decades])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize="medium")
    if colorbar:
        sym = ERROR_SYMBOLS[metric]
        ax.figure.colorbar(mesh, ax=ax, label=rf"benefit ${sym}(\gamma{{=}}0) - {sym}$")
    return mesh


def plot_sweep_vs_gamma(ax, result, relation, key, *, widths=None, points=True, control=False, color=None,
                        label=None):
    r"""Theory lines and simulation points against the coupling from a cached *gamma sweep* experiment
    (:func:`tflmini.experiments.load` of ``"gamma_sweep"`` or ``"digits_gamma_sweep"``).

    ``relation``: a key of ``result.theory["curves"]`` (``"rho=0.9"``, ``"close"``, ...); ``key``: an
    error (``"mean_error"``, ``"gibbs_error"``) or order parameter (``"Q_st"``, ...). ``widths``: theory
    widths to draw (default: the sampled width only), e.g. ``["N1=50", "N1=100", "N1=inf"]``; wider
    networks get lighter lines. ``points``: the sampled networks (mean ± standard error over source
    snapshots). ``control``: the matched-prior control at the sampled width (dashed; error keys only).
    Returns the handles drawn.
    """
    import matplotlib.colors as mcolors

    th, sim = result.theory, result.simulation
    sampled = f"N1={result.parameters['n_hidden']}"
    widths = [sampled] if widths is None else list(widths)
    curves = th["curves"][relation]
    base = mcolors.to_rgb(color or COLORS.get(key, COLORS["transfer"]))
    handles = []
    for j, w in enumerate(widths):
        shade = 0.0 if w == sampled else 0.25 + 0.6 * j / max(len(widths), 1)
        c = tuple(b + (1 - b) * shade for b in base)
        lw = 2.0 if w == sampled else 1.2
        name = w.replace("N1=", r"$N_1=").replace("inf", r"\infty") + "$"
        handles.append(plot_gamma_curve(ax, th["gammas"], curves[w][key], color=c, lw=lw,
                                        label=(label or "theory") + f", {name}"))
    if control and "matched_" + key in curves[sampled]:
        handles.append(plot_gamma_curve(ax, th["gammas"], curves[sampled]["matched_" + key], color=COLORS["control"],
                                        ls="--", lw=1.5, label="matched-prior control"))
    if points and sim is not None:
        r = sim["results"][relation][key]
        handles.append(plot_gamma_points(ax, sim["gammas"], r["mean"], r["se"], color=base, mec="k", mew=0.6,
                                         label=f"sampled networks, $N_1={sim['n_hidden']}$"))
    format_gamma_axis(ax)
    return handles


def plot_validation_transfer(axes, data, curves, keys=("Q_st", "Q_tt", "gibbs_error"), rhos=None):
    r"""Theory (lines, :func:`~tflmini.transfer_curves.validation_theory_curves`) against sampled networks
    (points with standard errors) from :func:`~tflmini.results.load_validation_transfer`: one row of ``axes``
    per key, one column per relatedness ``rhos`` (default: all in the file); one shade per width (darker:
    wider)."""
    import matplotlib.colors as mcolors

    groups = validation_groups(data)
    widths = sorted({n1 for n1, _ in groups})
    rhos = sorted({rho for _, rho in groups}) if rhos is None else list(rhos)
    axes = np.atleast_2d(np.asarray(axes, dtype=object))
    labels = {"Q_t": "$Q_t$", "Q_st": "$Q_{st}$", "Q_tt": "$Q_{tt}$", "Q_s": "$Q_s$",
              "gibbs_error": "Gibbs test error", "mean_error": "test error of the mean predictor"}
    for i, key in enumerate(keys):
        base = mcolors.to_rgb(COLORS.get(key, "C0"))
        for j, rho in enumerate(rhos):
            ax = axes[i, j]
            for k, n1 in enumerate(widths):
                if (n1, rho) not in groups:
                    continue
                shade = 0.55 * (1 - (k + 1) / len(widths))  # widest darkest
                c = tuple(b + (1 - b) * shade for b in base)
                grp = groups[(n1, rho)]
                plot_gamma_curve(ax, curves[(n1, rho)]["gammas"], curves[(n1, rho)][key], color=c, lw=1.6,
                                 label=f"$N_1={n1}$")
                m, se = grp["sampler"][key]
                plot_gamma_points(ax, grp["gammas"], m, se, color=c, mec="k", mew=0.5)
            format_gamma_axis(ax, label=r"coupling $\gamma$" if i == len(keys) - 1 else "")
            if i == 0:
                ax.set_title(rf"$\rho = {rho:g}$")
            if j == 0:
                ax.set_ylabel(labels.get(key, key))
    axes[0, 0].legend(fontsize="small", title="theory (lines)\nsampled (points)", title_fontsize="small")
    return axes


def _width_positions(widths, top=None):
    """x positions of widths on a log axis, ``inf`` one half-decade beyond the largest finite width."""
    w = np.asarray(widths, dtype=np.float64)
    finite = w[np.isfinite(w)]
    top = np.log10(finite.max()) + 0.5 if top is None else top
    return np.where(np.isfinite(w), np.log10(np.where(np.isfinite(w), w, 1.0)), top), top


def _format_width_axis(ax, widths, top):
    finite = np.asarray([w for w in widths if np.isfinite(w)], dtype=float)
    ticks = [t for t in (25, 50, 100, 200, 400, 800, 1600, 3200) if finite.min() <= t <= finite.max()]
    ax.set_xticks(list(np.log10(ticks)) + [top])
    ax.set_xticklabels([str(t) for t in ticks] + [r"$\infty$"])
    ax.set_xlabel(r"width $N_1$")


def plot_width_effect(axes, result, metric=None):
    r"""Two panels from the cached ``width_effect`` experiment (fixed :math:`P_s, P_t`, growing width):
    (left) the optimal coupling :math:`\gamma^*` against :math:`N_1` for every relatedness; (right) the benefit
    of frozen features :math:`E(0) - E(\infty)` (lines: theory; points: sampled networks, difference of the
    two estimates with their standard errors added in quadrature)."""
    th, sim = result.theory, result.simulation
    metric = metric or result.parameters.get("metric", "mean_error")
    widths = np.asarray(th["widths"], dtype=float)
    x, top = _width_positions(widths)
    ax, bx = axes
    for j, (label, c) in enumerate(th["curves"].items()):
        color = f"C{j}"
        rho = c["relatedness"]
        ax.plot(x, gamma_position(c["gamma_star"]), "o-", color=color, ms=4, label=rf"$\rho={rho:g}$")
        bx.plot(x, np.asarray(c["E_zero"]) - np.asarray(c["E_inf"]), "-", color=color, label=rf"$\rho={rho:g}$ theory")
        if sim is not None and label in sim["results"]:
            g = np.asarray(sim["gammas"], dtype=float)
            i0, iinf = int(np.flatnonzero(g == 0)[0]), int(np.flatnonzero(np.isinf(g))[0])
            pts = [estimate_difference({k: r[metric][k][i0] for k in ("mean", "se")},
                               {k: r[metric][k][iinf] for k in ("mean", "se")}) for r in sim["results"][label]]
            xs, _ = _width_positions(sim["widths"], top)
            bx.errorbar(xs, [p[0] for p in pts], yerr=[p[1] for p in pts], fmt="s", color=color, mec="k", mew=0.6,
                        capsize=3, label=rf"$\rho={rho:g}$ sampled")
    format_gamma_axis(ax, axis="y", label=r"optimal coupling $\gamma^*$")
    for a in (ax, bx):
        _format_width_axis(a, widths, top)
    bx.axhline(0, color="0.6", lw=0.8)
    bx.set_ylabel(rf"benefit of frozen features ${ERROR_SYMBOLS[metric]}(0) - {ERROR_SYMBOLS[metric]}(\infty)$")
    ax.legend(fontsize="small")
    bx.legend(fontsize="small", ncols=2)
    return axes


def plot_gamma_rho_maps(axes, map_result, relatedness_result=None, widths=("N1=100", "N1=inf")):
    r"""The benefit :math:`\epsilon(0) - \epsilon(\gamma)` over (coupling, relatedness) from the cached ``map_gamma_rho``
    experiment, one map per width in ``widths`` (same colour scale); with ``relatedness_result`` (the cached
    ``relatedness_sweep``) a last panel of the benefit against :math:`\rho` at its sampled couplings (lines:
    theory at the sampled width; points: sampled networks)."""
    maps = map_result.theory["maps"]
    metric = map_result.theory.get("metric", "mean_error")
    vmax = max(float(np.nanmax(np.abs(maps[w]["benefit"]))) for w in widths)
    mesh = None
    for ax, w in zip(axes, widths):
        m = maps[w]
        name = w.replace("N1=", "").replace("inf", r"\infty")
        mesh = plot_benefit_map(ax, m["gammas"], m["rhos"], m["benefit"], xlabel=r"coupling $\gamma$",
                                ylabel=r"relatedness $\rho$", log_x=True, vmax=vmax, colorbar=False,
                                title=rf"$N_1 = {name}$", metric=metric)
    sym = ERROR_SYMBOLS[metric]
    axes[0].figure.colorbar(mesh, ax=list(axes[:len(widths)]), label=rf"benefit ${sym}(0) - {sym}(\gamma)$", shrink=0.8,
                            location="bottom", aspect=40)
    if relatedness_result is not None and len(axes) > len(widths):
        ax = axes[len(widths)]
        th, sim = relatedness_result.theory, relatedness_result.simulation
        width = f"N1={relatedness_result.parameters['n_hidden']}"
        g_th = np.asarray(th["gammas"], dtype=float)
        E = np.asarray(th["curves"][width][metric])  # (n_rho, n_gamma)
        g_sim = np.asarray(sim["gammas"], dtype=float)
        for k, g in enumerate(g_sim):
            if g == 0:
                continue
            j = int(np.flatnonzero((g_th == g) | (np.isinf(g_th) & np.isinf(g)))[0])
            color = f"C{k}"
            gname = r"\infty" if np.isinf(g) else f"{g:g}"
            ax.plot(th["relatedness"], E[:, 0] - E[:, j], color=color, label=rf"$\gamma={gname}$ theory")
            i0 = int(np.flatnonzero(g_sim == 0)[0])
            pts = [estimate_difference({s: r[metric][s][i0] for s in ("mean", "se")}, {s: r[metric][s][k] for s in ("mean", "se")})
                   for r in sim["results"]]
            ax.errorbar(sim["relatedness"], [p[0] for p in pts], yerr=[p[1] for p in pts], fmt="o", color=color,
                        mec="k", mew=0.6, capsize=3, label=rf"$\gamma={gname}$ sampled")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xlabel(r"relatedness $\rho$")
        ax.set_ylabel(rf"benefit ${ERROR_SYMBOLS[metric]}(0) - {ERROR_SYMBOLS[metric]}(\gamma)$")
        ax.set_title(rf"$N_1 = {relatedness_result.parameters['n_hidden']}$", fontsize="medium")
        ax.legend(fontsize="small")
    return axes


def plot_alpha_rho_maps(axes, result):
    r"""The benefit over (target load :math:`\alpha_t = P_t/N_1`, relatedness) from the cached ``map_alpha_rho``
    experiment: frozen features (:math:`\gamma=\infty`) and the best coupling of the grid, same colour scale;
    a third panel: the frozen-feature benefit against :math:`\alpha_t` at the sampled relatedness values
    (lines: theory; points: sampled networks)."""
    th, sim = result.theory, result.simulation
    metric = th.get("metric", "mean_error")
    a, r = np.asarray(th["alpha_targets"]), np.asarray(th["rhos"])
    vmax = float(np.nanmax(np.abs(np.r_[np.ravel(th["benefit_inf"]), np.ravel(th["benefit_star"])])))
    mesh = None
    for ax, key, title in ((axes[0], "benefit_inf", r"frozen features, $\gamma=\infty$"),
                           (axes[1], "benefit_star", r"best coupling $\gamma^*$")):
        mesh = plot_benefit_map(ax, a, r, th[key], xlabel=r"target load $\alpha_t = P_t/N_1$",
                                ylabel=r"relatedness $\rho$", log_x=True, vmax=vmax, colorbar=False, title=title, metric=metric)
        ax.set_xticks(np.log10([0.05, 0.1, 0.2, 0.5, 1.0]))
        ax.set_xticklabels(["0.05", "0.1", "0.2", "0.5", "1"])
    axes[0].figure.colorbar(mesh, ax=list(axes[:2]), label=rf"benefit ${ERROR_SYMBOLS[metric]}(0) - {ERROR_SYMBOLS[metric]}$", shrink=0.8, location="bottom",
                            aspect=40)
    if sim is not None and len(axes) > 2:
        ax = axes[2]
        n1 = th["n_hidden"]
        for k, (rho, res) in enumerate(zip(sim["rhos"], sim["results"])):
            i = int(np.argmin(np.abs(r - rho)))
            color = f"C{k}"
            ax.plot(a, np.asarray(th["benefit_inf"])[i], color=color, label=rf"$\rho={rho:g}$ theory")
            m, se = estimate_difference(res["gamma_zero"][metric], res["gamma_inf"][metric])
            ax.errorbar(np.asarray(sim["n_targets"]) / n1, m, yerr=se, fmt="o", color=color, mec="k", mew=0.6,
                        capsize=3, label=rf"$\rho={rho:g}$ sampled")
        ax.set_xscale("log")
        ax.set_xticks([0.05, 0.1, 0.2, 0.5, 1.0])
        ax.set_xticklabels(["0.05", "0.1", "0.2", "0.5", "1"])
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xlabel(r"target load $\alpha_t = P_t/N_1$")
        ax.set_ylabel(rf"benefit ${ERROR_SYMBOLS[metric]}(0) - {ERROR_SYMBOLS[metric]}(\infty)$")
        ax.set_title(rf"$N_1 = {n1:g}$, $\gamma=\infty$", fontsize="medium")
        ax.legend(fontsize="small")
    return axes


def plot_source_size(ax, result, n_targets=None):
    r"""The benefit of frozen features :math:`E(0) - E(\infty)` against the source size :math:`P_s`, one line per
    target size :math:`P_t`, from the cached ``source_size`` experiment (lines: theory; points: sampled networks,
    difference of two independent estimates with their standard errors added in quadrature). ``n_targets``:
    the target sizes to draw (default: every theory target size). Returns the theory values drawn as
    {P_t: array over the theory source sizes}."""
    th, sim = result.theory, result.simulation
    metric = th.get("metric", "mean_error")
    ns = np.asarray(th["n_sources"], dtype=float)
    nts = [int(t) for t in th["n_targets"]]
    chosen = nts if n_targets is None else [int(t) for t in n_targets]
    benefit = np.asarray(th["E_zero"], dtype=float) - np.asarray(th["E_inf"], dtype=float)
    sim_targets = [int(t) for t in sim["n_targets"]] if sim is not None else []
    out = {}
    for k, nt in enumerate(chosen):
        if nt not in nts:
            raise ValueError(f"P_t={nt} is not among the theory target sizes {nts}")
        color = f"C{k}"
        out[nt] = benefit[nts.index(nt)]
        ax.plot(ns, out[nt], color=color, label=rf"$P_t={nt}$ theory")
        if nt in sim_targets:
            i = sim_targets.index(nt)
            m, se = estimate_difference({s: np.asarray(sim["gamma_zero"][metric][s])[i] for s in ("mean", "se")},
                                sim["gamma_inf"][i][metric])
            ax.errorbar(np.asarray(sim["n_sources"], dtype=float), m, yerr=se, fmt="o", color=color, mec="k",
                        mew=0.6, capsize=3, label=rf"$P_t={nt}$ sampled")
    ax.set_xscale("log")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel(r"source size $P_s$")
    ax.set_ylabel(rf"benefit of frozen features ${ERROR_SYMBOLS[metric]}(0) - {ERROR_SYMBOLS[metric]}(\infty)$")
    ax.set_title(rf"$N_1 = {result.parameters['n_hidden']}$, $\rho = {th['relatedness']:g}$", fontsize="medium")
    ax.legend(fontsize="small", ncols=2)
    return out


# -- transfer, the matched-prior control and the single-source error (cached ``transfer_decomposition``) ----------

def _gamma_text(g):
    return r"\infty" if np.isinf(g) else f"{g:g}"


def plot_gain_vs_overlap(ax, result, metric="mean_error", relations=None, *, annotate=True):
    r"""The gain of transfer over the matched-prior control against the source-target overlap :math:`Q_{st}`,
    from the cached ``transfer_decomposition`` experiment, one colour per relatedness: solid lines, the theory
    gain along the coupling (:math:`\gamma` runs along each line, from :math:`Q_{st}=0` at :math:`\gamma = 0`);
    dashed lines, the part of it carried by :math:`Q_{st}K_{st}`
    (:func:`~tflmini.transfer_curves.decomposition_gain`); points, sampled networks (x: sampled :math:`Q_{st}`
    ± standard error; y: sampled control minus sampled transfer error, standard errors in quadrature). ``annotate``: write the sampled couplings next to the theory line of the
    last relatedness. Returns {relation: :func:`~tflmini.transfer_curves.decomposition_gain`}."""
    from matplotlib.lines import Line2D

    relations = list(result.theory["curves"]) if relations is None else [relation_key(r) for r in relations]
    out = {}
    for k, rel in enumerate(relations):
        color = f"C{k}"
        d = out[rel] = decomposition_gain(result, rel, metric)
        th = d["theory"]
        ok = np.isfinite(th["Q_st"]) & np.isfinite(th["gain"])
        ax.plot(th["Q_st"][ok], th["gain"][ok], "-", color=color, lw=1.8, label=rf"$\rho = {rel}$")
        ok_c = ok & np.isfinite(th["carried"])
        ax.plot(th["Q_st"][ok_c], th["carried"][ok_c], "--", color=color, lw=1.4)
        s = d["sampled"]
        if s is not None:
            ax.errorbar(s["Q_st"], s["gain"], xerr=s["Q_st_se"], yerr=s["gain_se"], fmt="o", color=color, mec="k",
                        mew=0.6, ms=5, capsize=2.5)
        if annotate and k == len(relations) - 1:
            marks = s["gammas"] if s is not None else th["gammas"]
            for g in marks:
                try:
                    i = gamma_index(th["gammas"], g)
                except KeyError:
                    continue
                if np.isfinite(th["Q_st"][i]) and np.isfinite(th["gain"][i]):
                    ax.annotate(rf"$\gamma={_gamma_text(g)}$", (th["Q_st"][i], th["gain"][i]), xytext=(-6, 6),
                                textcoords="offset points", ha="right", fontsize="x-small", color=color)
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    ax.axvline(0, color="0.6", lw=0.8, zorder=0)
    sym = ERROR_SYMBOLS.get(metric, "E")
    ctrl = r"\epsilon_{\rm G,\,control}" if metric == "gibbs_error" else r"\epsilon_{\rm control}"
    ax.set_xlabel(r"source-target overlap $Q_{st}$")
    ax.set_ylabel(rf"gain over the control ${ctrl}(\gamma) - {sym}(\gamma)$")
    handles, labels = ax.get_legend_handles_labels()
    styles = [Line2D([], [], color="k", lw=1.8), Line2D([], [], color="k", ls="--", lw=1.4),
              Line2D([], [], color="k", marker="o", ls="none", mfc="0.7")]
    names = ["theory: whole gain", r"theory: part carried by $Q_{st}K_{st}$", "sampled networks"]
    ax.legend(handles + styles, labels + names, fontsize="small")
    return out


def plot_transfer_control(axes, runs, gammas, decomposition=None, metric="mean_error"):
    r"""Transfer against the matched-prior control along the coupling, one panel per relatedness: ``runs`` is
    {rho: curve of :func:`~tflmini.transfer_curves.theory_along_gamma` with ``matched_prior=True``} on the grid
    ``gammas`` (lines: transfer, dashed: control, dotted: scratch level). With ``decomposition`` (the cached
    ``transfer_decomposition`` result) the sampled transfer errors and the sampled controls (a scratch network
    with first-layer prior variance :math:`c_{tt}(\gamma)`) at that relatedness are drawn as points (mean ±
    standard error). Returns the axes."""
    sym = ERROR_SYMBOLS.get(metric, "E")
    for ax, (rho, c) in zip(np.ravel(axes), runs.items()):
        plot_gamma_curve(ax, gammas, c[metric], color=COLORS["transfer"], lw=2, label="transfer, theory")
        plot_gamma_curve(ax, gammas, c["matched_" + metric], color=COLORS["control"], ls="--", lw=2,
                         label="matched-prior control, theory")
        ax.axhline(c[metric][0], color=COLORS["scratch"], ls=":", lw=1, label=r"scratch ($\gamma=0$), theory")
        sim = getattr(decomposition, "simulation", None) if decomposition is not None else None
        key = relation_key(rho)
        if sim is not None and key in sim["curves"]:
            s = sim["curves"][key]
            x = np.asarray(sim["gammas"], dtype=np.float64)
            plot_gamma_points(ax, x, s[metric]["mean"], s[metric]["se"], color=COLORS["transfer"], mec="k", mew=0.6,
                              label="transfer, sampled")
            plot_gamma_points(ax, x, s["control_" + metric]["mean"], s["control_" + metric]["se"], fmt="s",
                              color=COLORS["control"], mec="k", mew=0.6, label="control, sampled")
        format_gamma_axis(ax)
        ax.set_title(rf"$\rho = {float(rho):g}$")
        ax.set_ylabel(rf"target test error ${sym}$")
        ax.legend(fontsize="small")
    return axes


def plot_single_source(axes, result, relations=None,
                       rows=(("mean_error", "single_source_error"), ("gibbs_error",)), *, control=True):
    r"""The three target errors along the coupling from the cached ``transfer_decomposition`` experiment: one
    column of ``axes`` (2-d, ``len(rows)`` rows) per relatedness, one row per group of errors in ``rows`` (default:
    the error :math:`\epsilon_{\rm m}` of the source-averaged posterior mean with the single-source error
    :math:`\epsilon_{\rm single} = \epsilon_{\rm m} + \langle\mathrm{Var}_s\langle f\rangle_t\rangle_{\rm test}` of one
    pretrained source, then the Gibbs error :math:`\epsilon_{\rm G}`, whose scale is larger). Lines: theory; filled
    points: sampled networks (mean ± standard error over source snapshots). ``control``: the matched-prior control
    (dashed; open squares where sampled), its posterior-mean error beside :math:`\epsilon_{\rm m}` and
    :math:`\epsilon_{\rm single}` (it has no source, hence no source variance) and its Gibbs error beside
    :math:`\epsilon_{\rm G}`. Returns the axes."""
    from matplotlib.lines import Line2D

    names = {"mean_error": r"$\epsilon_{\rm m}$, posterior mean over sources",
             "single_source_error": r"$\epsilon_{\rm single}$, one pretrained source",
             "gibbs_error": r"$\epsilon_{\rm G}$, Gibbs"}
    colors = {"mean_error": "C0", "single_source_error": "C3", "gibbs_error": "C2"}
    th, sim = result.theory, getattr(result, "simulation", None)
    relations = list(th["curves"]) if relations is None else [relation_key(r) for r in relations]
    axes = np.asarray(axes, dtype=object).reshape(len(rows), -1)
    for i, metrics in enumerate(rows):
        for j, rel in enumerate(relations):
            ax, c = axes[i, j], th["curves"][rel]
            s_rel = sim["curves"].get(rel, {}) if sim is not None else {}
            controls = []
            for m in metrics:
                plot_gamma_curve(ax, th["gammas"], c[m], color=colors.get(m), lw=1.8, label=names.get(m, m))
                if m in s_rel:
                    plot_gamma_points(ax, sim["gammas"], s_rel[m]["mean"], s_rel[m]["se"], color=colors.get(m),
                                      mec="k", mew=0.6)
                key = "control_gibbs_error" if m == "gibbs_error" else "control_mean_error"
                if control and key in c and key not in controls:
                    controls.append(key)
            for key in controls:
                sym = r"\epsilon_{\rm G}" if key == "control_gibbs_error" else r"\epsilon_{\rm m}"
                plot_gamma_curve(ax, th["gammas"], c[key], color=COLORS["control"], ls="--", lw=1.4,
                                 label=rf"matched-prior control, ${sym}$")
                if key in s_rel:
                    plot_gamma_points(ax, sim["gammas"], s_rel[key]["mean"], s_rel[key]["se"], fmt="s",
                                      color=COLORS["control"], mfc="white", mew=1.0, markersize=4)
            format_gamma_axis(ax, label=r"coupling $\gamma$" if i == len(rows) - 1 else "")
            if i == 0:
                ax.set_title(rf"$\rho = {rel}$")
            ax.set_ylabel("target test error")
        handles, labels = axes[i, 0].get_legend_handles_labels()
        extra = [Line2D([], [], color="k", marker="o", ls="none", mfc="0.7")]
        names_extra = ["sampled networks"]
        if control:
            extra.append(Line2D([], [], color=COLORS["control"], marker="s", ls="none", mfc="white"))
            names_extra.append("control, sampled")
        axes[i, 0].legend(handles + extra, labels + names_extra, fontsize="x-small")
    return axes
