r"""Diagrams of the systems the book studies, drawn with Matplotlib on a given ``Axes``.

* :func:`draw_two_layer_network`: the fully connected network with one hidden layer (chapter 1).
* :func:`draw_bayesian_setup`: how data, priors and temperature make the Gibbs posterior, and what is computed
  from it (chapter 2).
* :func:`draw_source_target_pair`: a source and a target network whose first layers are coupled with strength
  :math:`\gamma` (chapters 1 and 5).
* :func:`diagram_figure`: a new figure holding one diagram, as tall as the diagram's proportions ask.
* :func:`draw_replicated_system`: one source network and ``n`` target replicas coupled to it, with the readout
  overlaps :math:`Q_s, Q_t, Q_{tt}, Q_{st}` on the links they measure (chapter 6).

Each function turns the axes off, sets equal aspect and its own limits, and returns the axes. The text is at
least :data:`MIN_FONT_PT` points, so a diagram up to :data:`~tflmini.plots.style.BOOK_FIGURE_WIDTH` inches wide
stays legible in the book's column. Nothing here computes anything.
"""

from __future__ import annotations

import numpy as np

from .style import COLORS

__all__ = [
    "MIN_FONT_PT",
    "draw_two_layer_network",
    "draw_bayesian_setup",
    "draw_source_target_pair",
    "draw_replicated_system",
    "diagram_figure",
]

#: The smallest font size (points) of any text in a diagram.
MIN_FONT_PT = 9.5

_SOURCE_COLOR = COLORS["Q_s"]
_TARGET_COLOR = COLORS["Q_t"]
_SPRING_COLOR = "0.3"


def _check_axes(ax):
    if not hasattr(ax, "add_patch") or not hasattr(ax, "text"):
        raise TypeError(f"ax must be a Matplotlib Axes, got {type(ax).__name__}")


def _check_nodes(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return int(value)


def _finish(ax, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _network(ax, x0, y0, width, height, *, n_in=3, n_hidden=4, color="0.25", node_size=0.09, lw=0.8):
    """A small fully connected network, inputs on the left, hidden units in the middle, one output on the right,
    inside the box (x0, y0, width, height). Returns the node positions (inputs, hidden, output)."""
    from matplotlib.patches import Circle

    def column(x, n):
        ys = y0 + height * (np.arange(n) + 0.5) / n
        return [(x, y) for y in ys[::-1]]

    inputs = column(x0, n_in)
    hidden = column(x0 + width / 2, n_hidden)
    output = (x0 + width, y0 + height / 2)
    for a in inputs:
        for b in hidden:
            ax.plot([a[0], b[0]], [a[1], b[1]], color=color, lw=lw, alpha=0.55, zorder=1)
    for b in hidden:
        ax.plot([b[0], output[0]], [b[1], output[1]], color=color, lw=lw * 1.3, alpha=0.8, zorder=1)
    for (x, y), face in [*((p, "white") for p in inputs), *((p, color) for p in hidden), (output, "white")]:
        ax.add_patch(Circle((x, y), node_size, facecolor=face, edgecolor=color, lw=1.1, zorder=3))
    return inputs, hidden, output


def _spring(ax, a, b, *, coils=6, amplitude=0.09, color=_SPRING_COLOR, lw=1.4):
    """A zigzag spring from point a to point b (straight ends of a tenth of the length each)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    length = float(np.hypot(*d))
    u = d / length
    n = np.array([-u[1], u[0]])
    t = np.linspace(0.15, 0.85, 2 * coils + 1)
    offsets = amplitude * np.where(np.arange(t.size) % 2 == 0, 1.0, -1.0)
    offsets[[0, -1]] = 0.0
    pts = [a] + [a + ti * d + oi * n for ti, oi in zip(t, offsets)] + [b]
    pts = np.array(pts)
    ax.plot(pts[:, 0], pts[:, 1], color=color, lw=lw, zorder=2, solid_joinstyle="miter")


def _self_loop(ax, center, radius, color, label, *, fontsize, side="right"):
    """A circular arrow next to a node (a self-overlap), with its label."""
    from matplotlib.patches import FancyArrowPatch

    cx, cy = center
    sign = 1 if side == "right" else -1
    start = (cx + sign * 0.12, cy + 0.12)
    end = (cx + sign * 0.12, cy - 0.12)
    ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={-sign * 1.8}", arrowstyle="-|>",
                                 mutation_scale=10, color=color, lw=1.5, zorder=4))
    ax.text(cx + sign * (0.2 + 2.5 * radius), cy, label, color=color, fontsize=fontsize, ha="left" if sign > 0
            else "right", va="center", zorder=5)


def _box(ax, x, y, text, *, width, height, color, fontsize, face="white"):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=face, edgecolor=color,
                                lw=1.3, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3, linespacing=1.35)


def _arrow(ax, a, b, *, color="0.25", text=None, fontsize=MIN_FONT_PT, offset=(0.0, 0.12), rad=0.0):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color=color, lw=1.3, zorder=1,
                                 shrinkA=2, shrinkB=2, connectionstyle=f"arc3,rad={rad}"))
    if text:
        mx, my = (a[0] + b[0]) / 2 + offset[0], (a[1] + b[1]) / 2 + offset[1]
        ax.text(mx, my, text, ha="center", va="bottom", fontsize=fontsize, color=color)


# -- chapter 1: one network -------------------------------------------------------------------------

def draw_two_layer_network(ax, *, n_in=5, n_hidden=6, fontsize=11):
    r"""The fully connected network with one hidden layer of the book: ``n_in`` drawn input nodes standing for
    :math:`x\in\mathbb R^{N_0}`, ``n_hidden`` hidden units :math:`\sigma(w_i\cdot x/\sqrt{N_0})` and the
    output :math:`f(x)`, with the first-layer weights :math:`W` and the readout :math:`v` labelled by their
    prior precisions :math:`\lambda_0, \lambda_1`."""
    _check_axes(ax)
    n_in = _check_nodes("n_in", n_in, 2)
    n_hidden = _check_nodes("n_hidden", n_hidden, 2)
    fontsize = max(float(fontsize), MIN_FONT_PT)
    inputs, hidden, output = _network(ax, 0.0, 0.0, 6.0, 3.0, n_in=n_in, n_hidden=n_hidden, color="C0",
                                      node_size=0.11, lw=0.9)
    ax.text(0.0, 3.2, "input $x$\n" + r"($N_0$ components)", ha="center", va="bottom", fontsize=fontsize)
    ax.text(3.0, 3.2, r"$N_1$ hidden units" + "\n" + r"$\sigma(w_i\cdot x/\sqrt{N_0})$", ha="center",
            va="bottom", fontsize=fontsize)
    ax.text(6.0, 3.2, "output\n" + r"$f(x)$", ha="center", va="bottom", fontsize=fontsize)
    ax.text(1.5, -0.3, "first layer $W$\n" + r"(prior precision $\lambda_0$)", ha="center", va="top",
            fontsize=fontsize, color="C0")
    ax.text(4.5, -0.3, "readout $v$\n" + r"(prior precision $\lambda_1$)", ha="center", va="top",
            fontsize=fontsize, color="C0")
    ax.text(3.0, -1.45, r"$f(x)=\frac{1}{\sqrt{N_1}}\sum_{i=1}^{N_1} v_i\,\sigma\!\left(\frac{w_i\cdot x}"
            r"{\sqrt{N_0}}\right)$", ha="center", va="top", fontsize=fontsize + 1)
    return _finish(ax, (-1.1, 7.1), (-2.55, 4.05))


# -- chapter 2: the Bayesian setup ------------------------------------------------------------------

def draw_bayesian_setup(ax, *, fontsize=10.5):
    r"""How the book "trains" a network: the training data enter through the loss, the two layers through
    Gaussian priors, the temperature :math:`T` weighs the loss; together they make the Gibbs posterior over
    :math:`(W, v)`, which the readout integral reduces to a posterior of :math:`W` alone; a sampler draws from
    it, and the predictor's mean and variance and the test errors are averages over it."""
    _check_axes(ax)
    fontsize = max(float(fontsize), MIN_FONT_PT)
    c_in, c_post, c_out = "0.35", "C0", "C2"
    x1, w1, x2, w2, x3, w3, x4, w4 = 1.7, 3.4, 6.3, 4.0, 11.0, 3.6, 14.9, 2.6
    h = 1.05
    rows = (2.5, 1.2, -0.1)
    for y, text in zip(rows, ("training data\n" + r"$(x_\mu, y_\mu)$, $\mu \leq P$",
                              "Gaussian priors:\n" + r"$\lambda_0$ on $W$, $\lambda_1$ on $v$",
                              "temperature $T$\n(noise variance)")):
        _box(ax, x1, y, text, width=w1, height=h, color=c_in, fontsize=fontsize)
        _arrow(ax, (x1 + w1 / 2, y), (x2 - w2 / 2, 1.2 + 0.4 * np.sign(round(y - 1.2, 3))))
    _box(ax, x2, 1.2, "Gibbs posterior\n" + r"$p(W, v)\propto e^{-\mathcal{L}/T}\times$ priors" + "\n"
         + r"$\mathcal{L}$: square loss on the data", width=w2, height=1.7, color=c_post, fontsize=fontsize,
         face="#eef4fb")
    _box(ax, x3, 2.2, "$v$ integrated out:\nposterior of $W$", width=w3, height=h, color=c_post,
         fontsize=fontsize)
    _box(ax, x3, 0.2, "HMC sampler:\ndraws of $W$", width=w3, height=h, color=c_post, fontsize=fontsize)
    _box(ax, x4, 1.2, "predictor\nmean, variance;\ntest errors", width=w4, height=1.7, color=c_out,
         fontsize=fontsize)
    _arrow(ax, (x2 + w2 / 2, 1.6), (x3 - w3 / 2, 2.2))
    _arrow(ax, (x3, 2.2 - h / 2), (x3, 0.2 + h / 2))
    _arrow(ax, (x3 + w3 / 2, 0.2), (x4 - w4 / 2, 0.8))
    _arrow(ax, (x3 + w3 / 2, 2.2), (x4 - w4 / 2, 1.6))
    return _finish(ax, (-0.1, 16.3), (-0.8, 3.2))


# -- chapters 1 and 5: source and target ------------------------------------------------------------

def draw_source_target_pair(ax, *, fontsize=10.5):
    r"""The transfer setting of the book: a source network :math:`(W_s, v_s)` trained on :math:`P_s` source
    examples and then frozen, and a target network :math:`(W_t, v_t)` trained on :math:`P_t` target examples
    whose first layer is pulled towards the source's by the spring :math:`\frac{\gamma}{2}|W_t - W_s|^2`; the
    readouts are not coupled."""
    _check_axes(ax)
    fontsize = max(float(fontsize), MIN_FONT_PT)
    nets = {}
    for name, y0, color in (("s", 2.6, _SOURCE_COLOR), ("t", 0.0, _TARGET_COLOR)):
        nets[name] = _network(ax, 2.6, y0, 3.0, 1.5, n_in=3, n_hidden=4, color=color, node_size=0.1)
    ax.text(4.1, 4.25, "source network $(W_s, v_s)$: sampled first, then frozen", ha="center", va="bottom",
            fontsize=fontsize, color=_SOURCE_COLOR)
    ax.text(4.1, -0.25, "target network $(W_t, v_t)$", ha="center", va="top", fontsize=fontsize,
            color=_TARGET_COLOR)
    _box(ax, 0.0, 3.35, "source data\n$P_s$ examples", width=2.3, height=1.0, color=_SOURCE_COLOR,
         fontsize=fontsize)
    _box(ax, 0.0, 0.75, "target data\n$P_t$ examples", width=2.3, height=1.0, color=_TARGET_COLOR,
         fontsize=fontsize)
    _arrow(ax, (1.15, 3.35), (2.45, 3.35), color=_SOURCE_COLOR)
    _arrow(ax, (1.15, 0.75), (2.45, 0.75), color=_TARGET_COLOR)
    # the spring joins the two first layers (the middle of the input-to-hidden edges)
    _spring(ax, (3.4, 2.5), (3.4, 1.6), coils=5, amplitude=0.12)
    ax.text(3.6, 2.05, r"coupling $\frac{\gamma}{2}|W_t - W_s|^2$ on the first layers", ha="left", va="center",
            fontsize=fontsize, color=_SPRING_COLOR)
    ax.text(5.9, 3.35, r"$f_s(x)$", ha="left", va="center", fontsize=fontsize, color=_SOURCE_COLOR)
    ax.text(5.9, 0.75, r"$f_t(x)$", ha="left", va="center", fontsize=fontsize, color=_TARGET_COLOR)
    ax.text(10.9, 1.15, r"$\gamma = 0$: scratch" + "\n" + r"$0<\gamma<\infty$: fine-tuning" + "\n"
            + r"$\gamma\to\infty$: frozen features", ha="right", va="top", fontsize=fontsize, linespacing=1.5)
    return _finish(ax, (-1.3, 11.0), (-0.9, 4.75))


# -- chapter 6: the replicated system ---------------------------------------------------------------

def draw_replicated_system(ax, n_replicas=3, *, fontsize=10.5):
    r"""The replicated system of the transfer theory: one source network and ``n_replicas`` drawn target
    replicas :math:`a = 1, \dots, n`, each coupled to the source's first layer by a spring of strength
    :math:`\gamma`, none coupled to another. The readout overlaps are written on what they compare: the
    self-overlaps :math:`Q_s = |v_s|^2/N_1` and :math:`Q_t = |v_t^a|^2/N_1` on loops, :math:`Q_{st} = v_s\cdot
    v_t^a/N_1` on each source-replica link and :math:`Q_{tt} = v_t^a\cdot v_t^b/N_1` on dashed lines between
    replicas (which are correlated only through the source)."""
    _check_axes(ax)
    n_replicas = _check_nodes("n_replicas", n_replicas, 2)
    if n_replicas > 5:
        raise ValueError(f"n_replicas must be at most 5 to stay legible, got {n_replicas}")
    fontsize = max(float(fontsize), MIN_FONT_PT)
    w, h = 1.9, 1.1
    gap = 4.0
    xs = gap * (np.arange(n_replicas) - (n_replicas - 1) / 2)
    y_t, y_s = 0.0, 3.6
    src = _network(ax, -w / 2, y_s, w, h, color=_SOURCE_COLOR, node_size=0.08)
    ax.text(0.0, y_s + h + 0.2, "source $(W_s, v_s)$, $P_s$ examples", ha="center", va="bottom",
            fontsize=fontsize, color=_SOURCE_COLOR)
    _self_loop(ax, src[2], 0.1, COLORS["Q_s"], "$Q_s$", fontsize=fontsize)
    s_anchor = (0.0, y_s - 0.12)
    reps = []
    for a, x in enumerate(xs, start=1):
        reps.append(_network(ax, x - w / 2, y_t, w, h, color=_TARGET_COLOR, node_size=0.08))
        name = f"replica $a={a}$" if a < n_replicas else "replica $a=n$"
        ax.text(x, y_t - 0.18, name + f"\n$(W_t^{{{a if a < n_replicas else 'n'}}}, "
                f"v_t^{{{a if a < n_replicas else 'n'}}})$", ha="center", va="top", fontsize=fontsize,
                color=_TARGET_COLOR)
        _self_loop(ax, reps[-1][2], 0.1, COLORS["Q_t"], "$Q_t$", fontsize=fontsize)
        t_anchor = (x, y_t + h + 0.12)
        _spring(ax, s_anchor, t_anchor, coils=max(6, round(2.5 * np.hypot(x - s_anchor[0], t_anchor[1] - s_anchor[1]))),
                amplitude=0.1)
        # the label sits beside the middle of the spring, on the side away from the central replica
        mx, my = (s_anchor[0] + t_anchor[0]) / 2, (s_anchor[1] + t_anchor[1]) / 2
        d = np.array([t_anchor[0] - s_anchor[0], t_anchor[1] - s_anchor[1]])
        normal = np.array([d[1], -d[0]]) / np.hypot(*d)
        if normal[0] * x < 0 or (abs(x) < 1e-9 and normal[0] < 0):
            normal = -normal
        lx, ly = mx + 0.3 * normal[0], my + 0.3 * normal[1]
        ha, dx = ("left" if normal[0] >= 0 else "right"), 0.0
        ax.text(lx + dx, ly, r"$\gamma$, $Q_{st}$", ha=ha, va="center", fontsize=fontsize, color=COLORS["Q_st"])
    if n_replicas > 2:
        ax.text((xs[-2] + xs[-1] + 0.7) / 2, y_t + h / 2 + 0.4, r"$\cdots$", ha="center", va="center",
                fontsize=fontsize + 4, color=_TARGET_COLOR)
    for a in range(n_replicas - 1):
        left, right = xs[a] + w / 2 + 0.85, xs[a + 1] - w / 2 - 0.15
        ax.plot([left, right], [y_t + h / 2, y_t + h / 2], ls=(0, (4, 3)), color=COLORS["Q_tt"], lw=1.5,
                zorder=2)
        ax.text((left + right) / 2, y_t + h / 2 - 0.12, "$Q_{tt}$", ha="center", va="top", fontsize=fontsize,
                color=COLORS["Q_tt"])
    ax.text(xs[0] - w / 2 - 0.1, y_s + h / 2, "springs: coupling $\\gamma$\nof the first layers;\n"
            "$Q$: readout overlaps", ha="left", va="center", fontsize=fontsize, color="0.2", linespacing=1.4)
    return _finish(ax, (xs[0] - w / 2 - 0.3, xs[-1] + w / 2 + 0.9), (y_t - 1.15, y_s + h + 0.75))


_DIAGRAMS = (draw_two_layer_network, draw_bayesian_setup, draw_source_target_pair, draw_replicated_system)


def diagram_figure(draw, width=7.0, **kwargs):
    r"""A new Matplotlib figure ``width`` inches wide holding the diagram ``draw(ax, **kwargs)`` (one of the
    ``draw_*`` functions of this module), its height set from the diagram's proportions so that the drawing
    fills the figure. Returns the figure."""
    import matplotlib.pyplot as plt

    if draw not in _DIAGRAMS:
        raise ValueError(f"draw must be one of {', '.join(f.__name__ for f in _DIAGRAMS)}, got {draw!r}")
    if isinstance(width, bool) or not isinstance(width, (int, float, np.integer, np.floating)):
        raise TypeError(f"width must be a number of inches, got {type(width).__name__}")
    if not 2.0 <= float(width) <= 12.0:
        raise ValueError(f"width must be between 2 and 12 inches, got {width}")
    fig = plt.figure(figsize=(float(width), float(width) / 2))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    draw(ax, **kwargs)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    fig.set_size_inches(float(width), float(width) * (y1 - y0) / (x1 - x0))
    return fig
