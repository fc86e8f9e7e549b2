r"""The coupling axis of part II: :math:`\gamma = 0` and :math:`\gamma = \infty` as the two ends of a logarithmic
axis, with break marks between them and the logarithmic part.

:func:`gamma_position` (x coordinate of couplings), :func:`format_gamma_axis` (ticks, labels, break marks),
:func:`plot_gamma_curve` (a theory line, its ends as ticks), :func:`plot_gamma_points` (simulation points with
error bars), :func:`gamma_text` (a coupling as math text, ``\infty`` for infinity) and
:func:`plot_order_parameters` (the three target order parameters of a theory curve along the coupling, as the
slider panels show them). :class:`GammaCurve` and :class:`OrderParameterCurves` draw the same once and then take
new values, for slider panels that keep their artists between moves.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gamma_position", "format_gamma_axis", "plot_gamma_curve", "GammaCurve", "plot_gamma_points", "gamma_text",
           "plot_order_parameters", "OrderParameterCurves"]


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


def _gamma_curve_pieces(gammas, values, g_min, g_max, gap):
    """What :func:`plot_gamma_curve` draws: the logarithmic part ``(x, y)`` and, for γ = 0 and γ = ∞ in turn,
    ``None`` (no finite value there) or ``(tick, join)``: the end's point and the dotted segment from it to the
    nearest point of the logarithmic part (``None`` if that part is empty)."""
    gammas = np.asarray(gammas, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    g, y = gammas[ok], values[ok]
    x = gamma_position(g, g_min, g_max, gap)
    inner = np.isfinite(g) & (g > 0)
    idx = np.flatnonzero(inner)
    ends = []
    for end, j in ((g == 0, idx[0] if idx.size else None), (np.isinf(g), idx[-1] if idx.size else None)):
        if not np.any(end):
            ends.append(None)
            continue
        k = np.flatnonzero(end)[0]
        ends.append((([x[k]], [y[k]]), None if j is None else ([x[k], x[j]], [y[k], y[j]])))
    return (x[inner], y[inner]), ends


def _end_styles(line):
    style = {"color": line.get_color(), "lw": line.get_linewidth(), "alpha": line.get_alpha(),
             "zorder": line.get_zorder()}
    return {"linestyle": ":", **style}, {"marker": "_", "markersize": 12, "mew": 2, "linestyle": "none", **style}


def plot_gamma_curve(ax, gammas, values, *, g_min=1e-2, g_max=1e3, gap=1.0, **kwargs):
    """A theory line against the coupling (NaNs dropped). The values at γ = 0 and γ = ∞ are drawn as short
    horizontal ticks joined to the logarithmic part by dotted segments (the axis is broken there)."""
    inner, ends = _gamma_curve_pieces(gammas, values, g_min, g_max, gap)
    (line,) = ax.plot(*inner, **kwargs)
    join_style, tick_style = _end_styles(line)
    for piece in ends:
        if piece is None:
            continue
        tick, join = piece
        if join is not None:
            ax.plot(*join, **join_style)
        ax.plot(*tick, **tick_style)
    return line


class GammaCurve:
    """A theory line against the coupling, drawn as :func:`plot_gamma_curve` draws it, whose values can be replaced
    (:meth:`update`): slider panels keep their lines and give them new data at every move.

    Attributes: ``line`` (the logarithmic part, which carries the label) and ``ends``, the (dotted join, tick)
    lines at γ = 0 and γ = ∞ (empty where the curve has no finite value)."""

    def __init__(self, ax, *, g_min=1e-2, g_max=1e3, gap=1.0, **kwargs):
        self.axis = (g_min, g_max, gap)
        (self.line,) = ax.plot([], [], **kwargs)
        join_style, tick_style = _end_styles(self.line)
        self.ends = [(ax.plot([], [], **join_style)[0], ax.plot([], [], **tick_style)[0]) for _ in range(2)]

    def update(self, gammas, values):
        """Draw ``values`` along ``gammas`` (NaNs dropped); returns self."""
        inner, ends = _gamma_curve_pieces(gammas, values, *self.axis)
        self.line.set_data(*inner)
        for (join_line, tick_line), piece in zip(self.ends, ends):
            tick, join = piece if piece is not None else (([], []), None)
            tick_line.set_data(*tick)
            join_line.set_data(*(join if join is not None else ([], [])))
        return self


def plot_gamma_points(ax, gammas, mean, se, *, g_min=1e-2, g_max=1e3, gap=1.0, **kwargs):
    """Simulation points with error bars (one standard error) against the coupling."""
    mean = np.asarray(mean, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    x = gamma_position(gammas, g_min, g_max, gap)
    kwargs.setdefault("fmt", "o")
    kwargs.setdefault("capsize", 3)
    kwargs.setdefault("markersize", 5)
    return ax.errorbar(x, mean, yerr=np.where(np.isfinite(se), se, 0.0), **kwargs)


class OrderParameterCurves:
    r""":math:`Q_t, Q_{st}, Q_{tt}` of theory curves against the coupling, with a ``marker`` at the chosen coupling
    and, if given, sampled points with error bars; plain-text labels (fast, for slider panels). Made once on ``ax``
    (axis, labels, legend), then :meth:`update` draws a curve: slider panels keep these artists between moves."""

    def __init__(self, ax, *, marker="o", ms=8, label_suffix="", ylabel="order parameter", legend_kw=None):
        from .style import COLORS, Q_LABELS

        self.ax, self.sampled = ax, []
        self.curves, self.markers = {}, {}
        for k in ("Q_t", "Q_st", "Q_tt"):
            self.curves[k] = GammaCurve(ax, color=COLORS[k], lw=2, label=Q_LABELS[k] + label_suffix)
            # above the curves and the sampled points, which each update adds after it
            (self.markers[k],) = ax.plot([], [], marker, color=COLORS[k], ms=ms, mec="k", zorder=2.5)
        ax.axhline(0, color="0.85", lw=0.8, zorder=0)
        format_gamma_axis(ax, math=False)
        ax.set_ylabel(ylabel)
        ax.legend(**{"fontsize": "small", "loc": "center left", **(legend_kw or {})})

    def update(self, gammas, curve, index, sampled=None):
        """Draw ``curve`` (dict of arrays along ``gammas``) with the marker at ``gammas[index]`` and, if given,
        ``sampled = (gammas, {key: {"mean", "se"}})`` as points with error bars; returns self."""
        from .style import COLORS

        for container in self.sampled:
            container.remove()
        self.sampled = []
        for k in ("Q_t", "Q_st", "Q_tt"):
            self.curves[k].update(gammas, curve[k])
            finite = np.isfinite(curve[k][index])
            self.markers[k].set_data(*(([gamma_position(gammas[index])], [curve[k][index]]) if finite else ([], [])))
            if sampled is not None:
                self.sampled.append(plot_gamma_points(self.ax, sampled[0], sampled[1][k]["mean"], sampled[1][k]["se"],
                                                      color=COLORS[k], mec="k", mew=0.6))
        return self


def plot_order_parameters(ax, gammas, curve, index, *, sampled=None, marker="o", ms=8, label_suffix="",
                          ylabel="order parameter", legend_kw=None):
    r""":math:`Q_t, Q_{st}, Q_{tt}` of a theory ``curve`` (dict of arrays along ``gammas``) against the coupling,
    with a ``marker`` at ``gammas[index]`` and, if given, ``sampled = (gammas, {key: {"mean", "se"}})`` as points
    with error bars; plain-text labels (fast, for slider panels). Returns the :class:`OrderParameterCurves`."""
    return OrderParameterCurves(ax, marker=marker, ms=ms, label_suffix=label_suffix, ylabel=ylabel,
                                legend_kw=legend_kw).update(gammas, curve, index, sampled)
