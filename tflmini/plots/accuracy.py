r"""Figures of the accuracy atlas (book page "How accurate is the theory?"): :func:`plot_deviation_map` (relative
deviations between theory and sampled networks over two parameters) and :func:`plot_finite_size_scaling`
(their magnitude against :math:`1/N_1`, with a power-law fit).

Data come from :mod:`tflmini.experiments.atlas` (tables of relative deviations between theory and sampled
networks) and :mod:`tflmini.accuracy` (merged points, power-law fits); the functions here only draw. No NaN
reaches a figure: points without a finite deviation are dropped.
"""

from __future__ import annotations

import numpy as np

from ..accuracy import combine_points, fit_power_law
from .style import plot_simulation, width_color

__all__ = ["plot_deviation_map", "plot_finite_size_scaling", "plot_adaptive_comparison", "plot_adaptive_limit"]


def plot_deviation_map(ax, x, y, dev, dev_se, *, vmax=None, cmap="RdBu_r", annotate=True, size=900, xticks=None,
                       yticks=None):
    r"""Map of relative deviations (in %) over two parameters ``x`` and ``y`` (both drawn on log axes):
    one coloured square per distinct point (duplicates merged by :func:`combine_points`), blue where the
    sampled networks lie below the theory, red above, annotated with the value. Tick marks at ``xticks`` /
    ``yticks`` (default: the values present). Returns the scatter (for a colour bar)."""
    from matplotlib.colors import TwoSlopeNorm

    x, y, d, s, _ = combine_points(x, y, dev, dev_se)
    if x.size == 0:
        raise ValueError("no finite atlas points to draw")
    d, s = 100 * d, 100 * s
    vmax = float(np.max(np.abs(d))) if vmax is None else float(vmax)
    vmax = max(vmax, 1e-6)
    sc = ax.scatter(x, y, c=d, s=size, marker="s", cmap=cmap, norm=TwoSlopeNorm(0.0, -vmax, vmax),
                    edgecolors="0.3", linewidths=0.5)
    if annotate:
        for a, b, v, e in zip(x, y, d, s):
            strong = abs(v) > 0.6 * vmax
            ax.annotate(f"{v:+.1f}", (a, b), ha="center", va="center", fontsize="small",
                        color="white" if strong else "black")
    ax.set_xscale("log")
    ax.set_yscale("log")
    xt = np.unique(x) if xticks is None else np.asarray(xticks, dtype=float)
    yt = np.unique(y) if yticks is None else np.asarray(yticks, dtype=float)
    ax.set_xticks(xt, [f"{v:g}" for v in xt])
    ax.set_yticks(yt, [f"{v:g}" for v in yt])
    ax.minorticks_off()
    pad = 1.35  # room for the squares around the outermost ticks (log axes)
    ax.set_xlim(xt.min() / pad, xt.max() * pad)
    ax.set_ylim(yt.min() / pad, yt.max() * pad)
    return sc


def plot_finite_size_scaling(ax, n_hidden, dev, dev_se, *, color="C0", marker="o", label="", fit=True,
                             min_z=2.0):
    r"""Magnitude of the relative deviation (in %) against :math:`1/N_1` on log-log axes, with one standard
    error, and the weighted power-law fit :math:`|\Delta| = c\,N_1^{-s}` through the points that differ from
    zero by more than ``min_z`` standard errors (:func:`fit_power_law`; drawn if at least two such points).
    Returns ``(s, s_err)`` (NaN without a fit)."""
    n, d, e = (np.asarray(a, dtype=float) for a in (n_hidden, dev, dev_se))
    ok = np.isfinite(n) & np.isfinite(d) & np.isfinite(e)
    n, d, e = n[ok], d[ok], e[ok]
    mag = np.abs(d)
    resolved = mag > min_z * e
    s, s_err = np.nan, np.nan
    if fit and resolved.sum() >= 2:
        s, s_err, c = fit_power_law(n[resolved], mag[resolved], e[resolved])
        grid = np.geomspace(n[resolved].min(), n[resolved].max(), 20)
        ax.plot(1.0 / grid, 100 * c * grid**-s, color=color, lw=1.2, ls="--")
        err = "" if not np.isfinite(s_err) else f" ± {s_err:.2f}"
        label = f"{label} (slope {s:.2f}{err})"
    # unresolved points (within min_z standard errors of zero) are drawn open
    plot_simulation(ax, 1.0 / n[resolved], 100 * mag[resolved], 100 * e[resolved], color=color, marker=marker,
                    label=label)
    if (~resolved).any():
        plot_simulation(ax, 1.0 / n[~resolved], 100 * mag[~resolved], 100 * e[~resolved], color=color,
                        marker=marker, mfc="none")
    ax.set_xscale("log")
    ax.set_yscale("log")
    return s, s_err


def plot_adaptive_comparison(ax, table, *, activation="erf", scalar=True, marker="s", label="adaptive theory",
                             strip=0.94):
    r"""Relative deviation (in %) of the sampled Gibbs error from each theory's,
    :math:`(\bar E - E_{\rm theory})/E_{\rm theory}` (the atlas convention), against :math:`P/N_0` for the points of ``table``
    (:func:`tflmini.results.adaptive_comparison`) of one ``activation``: the scalar theory as open circles, the
    adaptive theory as filled squares (bars: its spread over the seeds of its importance samples), both coloured
    by the width :math:`N_1` and shifted apart slightly; where the adaptive closure has no converged solution, a
    cross in a strip at height ``strip`` (axes fraction) above the data, in the width's colour. The shaded band is the
    +-5 % goal. A second variant can be added by a second call with ``scalar=False`` and another ``marker``,
    ``label`` and ``strip``."""
    from matplotlib.transforms import blended_transform_factory

    sel = np.array([a == activation for a in table["activation"]])
    if not sel.any():
        raise ValueError(f"no {activation} points in the table")
    x = table["P_over_N0"][sel]
    n1 = table["n_hidden"][sel]
    ref, ref_se = table["sampled"][sel], table["sampled_se"][sel]
    th_scalar, adaptive = table["scalar"][sel], table["adaptive"][sel]
    spread, ok = table["adaptive_spread"][sel], table["converged"][sel]
    if scalar:
        ax.axhspan(-5, 5, color="0.92", zorder=0)
        ax.axhline(0, color="0.5", lw=0.8)
    for i in range(x.size):
        c = width_color(n1[i])
        shift = 1.0 + 0.03 * np.searchsorted(np.unique(n1), n1[i])  # widths side by side
        if scalar:
            ax.errorbar(x[i] / 1.12 * shift, 100 * (ref[i] - th_scalar[i]) / th_scalar[i], yerr=100 * ref_se[i] / th_scalar[i],
                        marker="o", mfc="none", color=c, ls="none", ms=6)
        if ok[i]:
            # bars: the sampler's standard error and the adaptive theory's own seed spread, added in quadrature
            bar = np.hypot(ref_se[i], spread[i] if np.isfinite(spread[i]) else 0.0)
            ax.errorbar(x[i] * 1.04 * shift, 100 * (ref[i] - adaptive[i]) / adaptive[i], yerr=100 * bar / adaptive[i],
                        marker=marker, color=c, ls="none", ms=6)

    if (~ok).any():  # crosses in a strip above the data (the y range grown to hold it, once)
        if scalar:
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi + 0.3 * (hi - lo))
        ax.text(0.01, strip, f"{label}: no solution", transform=ax.transAxes, fontsize="small", va="center")
        for i in np.flatnonzero(~ok):
            shift = 1.0 + 0.03 * np.searchsorted(np.unique(n1), n1[i])
            ax.plot(x[i] * 1.04 * shift, strip, "x", color=width_color(n1[i]), ms=8, mew=1.8,
                    transform=blended_transform_factory(ax.transData, ax.transAxes), clip_on=False)
    ax.set_xscale("log")
    xt = np.unique(x)
    ax.set_xticks(xt, [f"{v:g}" for v in xt])
    ax.minorticks_off()
    # legend entries: the marker kinds (colours: widths)
    if scalar:
        ax.errorbar([], [], marker="o", mfc="none", color="0.3", ls="none", label="scalar theory")
    ax.errorbar([], [], marker=marker, color="0.3", ls="none", label=label)
    if scalar:
        ax.plot([], [], "x", color="0.3", mew=1.8, label="no solution (top)")
        for w in np.unique(n1):
            ax.plot([], [], "s", color=width_color(w), label=f"$N_1 = {w:g}$")
    return ax


LIMIT_STYLE = {"plain": ("x", "0.55", "Laplace, plain"),  # the proposal, and how its samples are used
               "controlled": ("^", "tab:orange", "Laplace, control variates"),
               "equivalent": ("o", "tab:blue", "Gaussian-equivalent,\ncontrol variates")}


def plot_adaptive_limit(ax, table, *, sweep, by, key="test_mean", P=None):
    r"""The single-unit map at the scalar theory's solution against kernel renormalization (in %), against ``by``
    ("N0" or "N1", log axes), for the rows of ``table`` (:func:`tflmini.results.adaptive_limit`) of one ``sweep``
    (and ``P``), one series per estimator of the w integral; bars: the standard deviation over the seeds of the
    importance samples."""
    if by not in ("N0", "N1"):
        raise ValueError(f"by must be 'N0' or 'N1', got {by!r}")
    drawn = 0
    for est, (marker, color, label) in LIMIT_STYLE.items():
        sel = np.array([s == sweep and e == est for s, e in zip(table["sweep"], table["estimator"])])
        if P is not None:
            sel &= table["P"] == P
        if not sel.any():
            continue
        x = table[by][sel]
        ax.errorbar(x, 100 * table[key][sel], yerr=100 * table[key + "_spread"][sel], marker=marker, color=color,
                    label=label, ms=6, capsize=2)
        drawn += 1
    if not drawn:
        raise ValueError(f"no rows for sweep={sweep!r}, P={P!r}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    xt = np.unique(table[by][np.array([s == sweep for s in table["sweep"]])])
    ax.set_xticks(xt, [f"{v:g}" for v in xt])
    ax.minorticks_off()
    return ax
