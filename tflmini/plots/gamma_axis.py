r"""The coupling axis of part II: :math:`\gamma = 0` and :math:`\gamma = \infty` as the two ends of a logarithmic
axis, with break marks between them and the logarithmic part.

:func:`gamma_position` (x coordinate of couplings), :func:`format_gamma_axis` (ticks, labels, break marks),
:func:`plot_gamma_curve` (a theory line, its ends as ticks), :func:`plot_gamma_points` (simulation points with
error bars), :func:`gamma_text` (a coupling as math text, ``\infty`` for infinity) and
:func:`plot_order_parameters` (the three target order parameters of a theory curve along the coupling, as the
slider panels show them).
"""

from __future__ import annotations

import numpy as np

__all__ = ["gamma_position", "format_gamma_axis", "plot_gamma_curve", "plot_gamma_points", "gamma_text",
           "plot_order_parameters"]


def gamma_text(g):
    r"""A coupling as math text (inside ``$...$``): ``\infty`` for :math:`\gamma = \infty`, else ``f"{g:g}"``."""
    return r"\infty" if np.isinf(g) else f"{g:g}"


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


def plot_order_parameters(ax, gammas, curve, index, *, sampled=None, marker="o", ms=8, label_suffix="",
                          ylabel="order parameter", legend_kw=None):
    r""":math:`Q_t, Q_{st}, Q_{tt}` of a theory ``curve`` (dict of arrays along ``gammas``) against the coupling,
    with a ``marker`` at ``gammas[index]`` and, if given, ``sampled = (gammas, {key: {"mean", "se"}})`` as points
    with error bars; plain-text labels (fast, for slider panels)."""
    from .style import COLORS, Q_LABELS

    for k in ("Q_t", "Q_st", "Q_tt"):
        plot_gamma_curve(ax, gammas, curve[k], color=COLORS[k], lw=2, label=Q_LABELS[k] + label_suffix)
        if sampled is not None:
            plot_gamma_points(ax, sampled[0], sampled[1][k]["mean"], sampled[1][k]["se"], color=COLORS[k], mec="k",
                              mew=0.6)
        if np.isfinite(curve[k][index]):
            ax.plot(gamma_position(gammas[index]), curve[k][index], marker, color=COLORS[k], ms=ms, mec="k")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    format_gamma_axis(ax, math=False)
    ax.set_ylabel(ylabel)
    ax.legend(**{"fontsize": "small", "loc": "center left", **(legend_kw or {})})
