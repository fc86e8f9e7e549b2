r"""Maps of the transfer benefit (book part II): :func:`plot_benefit_map` (one map of
:math:`\epsilon(\gamma=0) - \epsilon` with its zero contour), :func:`plot_gamma_rho_maps` (over coupling and
relatedness, cached ``map_gamma_rho`` and ``relatedness_sweep``) and :func:`plot_alpha_rho_maps` (over target
load and relatedness, cached ``map_alpha_rho``). Lines: theory; points: sampled networks.
"""

from __future__ import annotations

import numpy as np

from ..transfer_curves import estimate_difference
from .gamma_axis import gamma_text
from .style import ERROR_SYMBOLS

__all__ = ["plot_benefit_map", "plot_gamma_rho_maps", "plot_alpha_rho_maps"]


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
            gname = gamma_text(g)
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
