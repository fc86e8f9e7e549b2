r"""Figures of the book's part II (Franz-Parisi transfer), the benefit maps aside (:mod:`.transfer_maps`).

The coupled prior and its weight statistics, action slices, theory and sampled networks against the coupling
(gamma sweeps, validation), the effect of the width and of the source size, and the gain of transfer over the
matched-prior control. Curves come from :mod:`tflmini.transfer_curves`, cached files from
:mod:`tflmini.results` and :func:`tflmini.experiments.load`: nothing here computes theory or samples networks.
"""

from __future__ import annotations

import numpy as np

from .._threads import single_thread
from ..results import validation_groups
from ..transfer import coupled_weight_statistics
from ..transfer_curves import decomposition_gain, estimate_difference, gamma_grid, gamma_index, relation_key
from .gamma_axis import format_gamma_axis, gamma_position, gamma_text, plot_gamma_curve, plot_gamma_points
from .style import COLORS, ERROR_SYMBOLS, Q_LABELS

__all__ = [
    "plot_coupled_prior",
    "plot_weight_statistics",
    "plot_action_slices",
    "plot_sweep_vs_gamma",
    "plot_validation_transfer",
    "plot_width_effect",
    "plot_source_size",
    "plot_gain_vs_overlap",
    "plot_transfer_control",
    "plot_single_source",
]


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
        "Q_t": (np.linspace(max(Q_tt + 1e-3, Q_t - hw), Q_t + hw, n_points), r"$Q_t$" if math else Q_LABELS["Q_t"]),
        "Q_tt": (np.linspace(max(lo_tt, Q_tt - hw), min(Q_tt + hw, Q_t - 1e-3), n_points),
                 r"$Q_{tt}$" if math else Q_LABELS["Q_tt"]),
        "Q_st": (np.linspace(-np.sqrt(max(Q_tt, 0.0) * Q_s), np.sqrt(max(Q_tt, 0.0) * Q_s), n_points)
                 if Q_tt > 1e-6 else np.array([0.0]), r"$Q_{st}$" if math else Q_LABELS["Q_st"]),
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
                    ax.annotate(rf"$\gamma={gamma_text(g)}$", (th["Q_st"][i], th["gain"][i]), xytext=(-6, 6),
                                textcoords="offset points", ha="right", fontsize="small", color=color)
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
        axes[i, 0].legend(handles + extra, labels + names_extra, fontsize="small")
    return axes
