r"""The style shared by every figure of the book, its notebooks and its slider panels.

Conventions, the same in every figure:

* theory is drawn as lines (:func:`plot_theory`), simulations as points with error bars of one
  standard error (:func:`plot_simulation`), in the same colour when they describe the same system;
* a width :math:`N_1` always has the same colour (:func:`width_color`); the infinite-width (NNGP)
  limit is a dashed grey line (:data:`NNGP_STYLE`); part II has one colour per role (:data:`COLORS`);
* every axis is labelled, with the symbol of the book's notation table (:data:`ERROR_SYMBOLS`,
  :data:`Q_LABELS`, :func:`format_value` for plain-text values).

Also :func:`figure_png` (PNG bytes of a figure) and :func:`plotted_arrays` (every array drawn, for tests).

Legibility: the book shows a figure in a content column :data:`COLUMN_PX` wide (desktop layout), scaled
down if it was drawn wider; every text must then be at least :data:`MIN_TEXT_PX` pixels high on screen. A
figure ``W`` inches wide whose smallest text is ``s`` points passes when ``s / 72 * COLUMN_PX / W >=
MIN_TEXT_PX``, whatever its dpi: with the default 10 pt font (legends ``"small"``, 8.3 pt) that is at most
:data:`BOOK_FIGURE_WIDTH` inches. :func:`use_book_style` (run by each page's setup cell) records, in every
figure's PNG, its smallest text in pixels (:func:`legibility_metadata`), which the site tests
(``tests/test_figure_legibility.py``) compare with the width at which the browser shows the image.
"""

from __future__ import annotations

import io

import numpy as np

__all__ = [
    "THEORY_STYLE",
    "SIMULATION_STYLE",
    "NNGP_STYLE",
    "ERROR_COLORS",
    "ACTIVATION_COLORS",
    "COLORS",
    "ERROR_SYMBOLS",
    "Q_LABELS",
    "format_value",
    "width_color",
    "plot_theory",
    "update_theory",
    "plot_simulation",
    "label_axes",
    "figure_png",
    "plotted_arrays",
    "COLUMN_PX",
    "MIN_TEXT_PX",
    "BOOK_FIGURE_WIDTH",
    "smallest_text_pt",
    "legibility_metadata",
    "use_book_style",
]

#: Width (CSS px) at which the book shows a cell's figure at the desktop layout (1280 px viewport: the article is
#: 752 px wide, a cell output 672 px).
COLUMN_PX = 672
#: The smallest on-screen height (CSS px) of any text of a figure at the desktop layout.
MIN_TEXT_PX = 9.0
#: The widest figure (inches) that keeps ``"small"`` text (8.3 pt at the default 10 pt) >= MIN_TEXT_PX on screen
#: (8.33 / 72 * 672 / 8.0 = 9.7 px; the PNG's tight bounding box adds or trims a few per cent); a figure with
#: ``"x-small"`` text (6.9 pt) must be at most 6.5 inches wide.
BOOK_FIGURE_WIDTH = 8.0

THEORY_STYLE = {"lw": 1.8, "solid_capstyle": "round"}
SIMULATION_STYLE = {"marker": "o", "markersize": 5, "capsize": 3, "elinewidth": 1.2, "linestyle": "none"}
NNGP_STYLE = {"color": "0.45", "ls": "--", "lw": 1.4}
#: Colours of the two test errors (chapter 2): the Gibbs error and the posterior-mean error.
ERROR_COLORS = {"gibbs_error": "C3", "mean_error": "C0", "train_error": "C2", "Q": "C4"}
ACTIVATION_COLORS = {"linear": "0.3", "erf": "C0", "relu": "C1"}

#: Colours of the book's part II: one per role, the same in every figure.
COLORS = {"transfer": "C0", "control": "C1", "scratch": "0.35", "lazy": "0.6", "Q_t": "C2", "Q_st": "C0",
          "Q_tt": "C3", "Q_s": "C4"}

#: The book's symbols of the target test errors (appendix "Notation").
ERROR_SYMBOLS = {"mean_error": r"\epsilon_{\rm m}", "gibbs_error": r"\epsilon_{\rm G}",
                 "single_source_error": r"\epsilon_{\rm single}"}

#: Plain-text (Unicode) names of the target order parameters (fast to draw: slider panels, titles).
Q_LABELS = {"Q_t": "Qₜ", "Q_st": "Qₛₜ", "Q_tt": "Qₜₜ"}


def format_value(v):
    """A parameter value as plain text: ``"∞"`` for an infinite float, ``f"{v:g}"`` for a number, else
    ``str(v)``."""
    if isinstance(v, (float, np.floating)) and np.isinf(v):
        return "∞"
    return f"{v:g}" if isinstance(v, (float, int, np.floating, np.integer)) else str(v)


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


def update_theory(line, x, y):
    """Give a line drawn by :func:`plot_theory` new data (points with a non-finite coordinate dropped alike):
    slider panels update their curves instead of drawing new ones."""
    line.set_data(*_finite(x, y))
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
    """The figure as PNG bytes (for image widgets and precomputed slider frames), with its smallest text size
    in the PNG metadata (:func:`legibility_metadata`)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.08,
                metadata=legibility_metadata(fig, dpi=dpi))
    return buf.getvalue()


def smallest_text_pt(fig):
    """The font size (points) of the smallest non-empty visible text of ``fig`` (tick labels, labels, titles,
    legends, annotations, colour bars), after laying the figure out; None if it has no text."""
    from matplotlib.text import Text

    fig.draw_without_rendering()  # creates the tick labels and runs the layout engine
    sizes = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts = ax.findobj(Text) if ax.axison else [*ax.texts, ax.title, ax._left_title, ax._right_title,
                                                      *([ax.get_legend()] if ax.get_legend() else [])]
        for t in texts:
            if isinstance(t, Text):
                sizes.append(t)
            else:
                sizes.extend(t.findobj(Text))
    for art in (*fig.texts, *fig.legends, *getattr(fig, "subfigs", ())):
        sizes.extend(art.findobj(Text) if not isinstance(art, Text) else [art])
    shown = [t.get_fontsize() for t in sizes if t.get_visible() and t.get_text().strip()]
    return min(shown) if shown else None


def legibility_metadata(fig, dpi=None):
    """PNG text chunks that let the site tests check the figure's legibility: the smallest text in points
    (:func:`smallest_text_pt`), the dpi of the PNG, and that text in PNG pixels (points * dpi / 72)."""
    dpi = float(fig.dpi if dpi in (None, "figure") else dpi)
    pt = smallest_text_pt(fig)
    if pt is None:
        return {"tflmini:dpi": f"{dpi:g}"}
    return {"tflmini:smallest-text-pt": f"{pt:.3f}", "tflmini:dpi": f"{dpi:g}",
            "tflmini:smallest-text-px": f"{pt * dpi / 72:.3f}"}


def _inline_png(fig):
    from IPython.core.pylabtools import print_figure

    try:
        from matplotlib_inline.backend_inline import InlineBackend

        kwargs = dict(InlineBackend.instance().print_figure_kwargs)
    except Exception:  # pragma: no cover - outside the inline backend
        kwargs = {"bbox_inches": "tight"}
    dpi = kwargs.get("dpi", None)
    return print_figure(fig, "png", base64=True, **{**kwargs, "metadata": legibility_metadata(fig, dpi=dpi)})


def use_book_style():
    """The book's setup for figures shown by a notebook (call after ``%matplotlib inline``): each figure's PNG
    carries its smallest text size (:func:`legibility_metadata`), which ``tests/test_figure_legibility.py``
    checks against the width the page shows it at. Outside IPython it does nothing."""
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib.pyplot as plt

    # Load the (inline) backend first: loading it registers its own figure formatters.
    plt.switch_backend(plt.get_backend())
    shell.display_formatter.formatters["image/png"].for_type(Figure, _inline_png)


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
