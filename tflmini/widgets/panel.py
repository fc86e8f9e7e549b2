r"""The one slider-panel engine of the book: a Matplotlib drawing behind ipywidgets sliders.

A panel is a function ``draw(fig, **values)`` (it draws one figure for one value of every parameter and
returns the arrays it plotted) plus the sliders that choose the values. :class:`Panel` shows it in one of
two modes, chosen by one argument, with one API (:meth:`Panel.update`, :meth:`Panel.render`,
:meth:`Panel.frame`):

* **live** (``static=None``, needs a running kernel): every slider move calls ``draw`` and shows the new
  figure as a PNG :class:`ipywidgets.Image`. A slider is a :class:`ipywidgets.SelectionSlider` over a list
  of values, or a :class:`ipywidgets.FloatLogSlider` over a :class:`LogRange`.
* **static** (``static={name: values}`` for one or two sliders, for the website, no kernel): the figure of
  every combination of those values is drawn in advance into a PNG frame. The frames sit in nested
  :class:`ipywidgets.Stack` widgets, one level per slider (the first slider outermost), whose
  ``selected_index`` is ``jslink``-ed to the slider's ``index``: the browser switches frames with no
  Python. The other parameters keep their initial values. The same panel is also written as plain HTML
  (:meth:`Panel.static_html`: range inputs, the frames inline, switched by the website's
  ``tflmini-panels.js``), which the website shows instead of the widget: it needs no widget manager and
  appears as soon as the page is parsed. Jupyter, Binder and Colab keep showing the widget.

The readout beside a selection slider is a plain :class:`ipywidgets.Label` (one per value, in a Stack
``jslink``-ed to the slider's ``index``), not the slider's own readout: that one is an editable field whose
typed values a selection slider ignores, so it could disagree with the figure. A static panel shown in a
notebook (and on the website) also carries its default frame as a plain ``<img>`` inside ``<noscript>``
(:meth:`Panel.noscript_html`): a page read with JavaScript off shows that image instead of an empty panel,
and with JavaScript on the reader sees the widget only.

The figure layout is chosen once per panel (``layout``): ``"frozen"`` (a constrained layout computed on
the first drawing and then kept, so the axes do not jump between values and each drawing renders once),
``"constrained"`` (recomputed at every drawing) or a dict of ``subplots_adjust`` margins (fastest; the
drawing may then reuse the figure's axes, see :func:`reuse_axes`). Making axes, ticks and lines anew at every move
costs more than most theory: a panel built with ``retain=True`` (or with a margins layout) keeps its figure, and its
drawing makes its artists once (:func:`retained`) and then only gives them new data, limits and text. The figure
is drawn on a :class:`~tflmini.widgets.canvas.PanelCanvas` (Agg with cached text: the same pixels, faster). Drawing
never raises on a slider move:
a failure is drawn as a message and kept in ``last_error``. Static frames are different: they are drawn when
the page is built, so a static value off the slider's values, or a frame that fails to draw, raises a
``ValueError`` naming the slider values.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import time
import traceback
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from .._threads import single_thread
from ..plots.style import format_value

__all__ = ["LogRange", "Panel", "retained", "reuse_axes", "rescale", "static_grid"]

_PNG_CACHE_SIZE = 128


@dataclass(frozen=True)
class LogRange:
    """A continuous slider on a logarithmic scale from ``lo`` to ``hi`` (live mode only)."""

    lo: float
    hi: float
    step: float = 0.02

    def __post_init__(self):
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and 0 < self.lo < self.hi):
            raise ValueError(f"LogRange needs 0 < lo < hi, both finite; got lo={self.lo}, hi={self.hi}")

    def clip(self, value):
        return float(np.clip(float(value), self.lo, self.hi))


def static_grid(static, default):
    """The frames of a panel function's ``static`` argument: ``None``/``False`` (live), ``True`` (the panel's
    ``default`` grid) or a dict {slider: values} for one or two sliders (copied as tuples)."""
    if static is None or static is False:
        return None
    if static is True:
        static = default
    if not isinstance(static, dict):
        raise TypeError(f"static must be None, True or a dict {{slider: values}}, got {type(static).__name__}")
    return {name: tuple(values) for name, values in static.items()}


def _same(a, b):
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return a == b
    return (np.isinf(fa) and np.isinf(fb) and fa == fb) or bool(np.isclose(fa, fb, rtol=1e-9, atol=1e-12))


def _on_grid(value, options):
    """The option equal to ``value``, else the nearest one for numbers; ``None`` for an unknown name."""
    hit = next((v for v in options if _same(value, v)), None)
    if hit is not None:
        return hit
    try:
        numbers = np.array([float(v) for v in options])
        target = float(value)
    except (TypeError, ValueError):
        return None
    if np.isnan(target) or np.any(np.isnan(numbers)):
        return None
    if np.isinf(target):
        return options[int(np.argmax(numbers) if target > 0 else np.argmin(numbers))]
    return options[int(np.argmin(np.abs(numbers - target)))]


def _cache_key(values):
    def one(v):
        try:
            return float(v)
        except (TypeError, ValueError):
            return str(v)

    return tuple(sorted((k, one(v)) for k, v in values.items()))


class Panel(widgets.VBox):
    r"""Sliders above a figure drawn by ``draw(fig, **values)``.

    Parameters
    ----------
    draw : callable ``draw(fig, **values) -> data``; draws on the panel's figure, returns what it plotted.
    controls : dict name -> (label, options) or (label, options, text); ``options`` is a sequence of values
        (numbers or names: a selection slider) or a :class:`LogRange` (a continuous logarithmic slider, live
        mode only); ``text(value)`` writes a value on the slider (default :func:`format_value`).
    values : dict name -> initial value, one per control (snapped to the nearest option).
    static : None (live) or dict name -> values for one or two sliders (precomputed frames).
    figsize, dpi : the figure's size in inches and the resolution of its PNG.
    layout : ``"frozen"``, ``"constrained"`` or a dict of ``subplots_adjust`` margins (module docstring).
    retain : keep the figure between drawings (``"frozen"`` layout): ``draw`` then updates the artists it made
        before (see :func:`retained`) instead of drawing on a cleared figure, so axes, ticks and lines are made
        once per panel, not at every slider move.

    Attributes
    ----------
    sliders : dict name -> slider widget. readouts : dict name -> (the read-only readout of a selection slider,
        a Stack of Labels; its ``jslink`` to the slider's ``index``). values : the current value of every parameter.
    figure : the Matplotlib figure of the last drawing. image : the live :class:`ipywidgets.Image` (live mode).
    stack, links, grid, frames : static mode: the outer Stack, the slider -> Stack ``jslink``-s, the slider
        values {name: tuple} and {tuple of values, in ``grid`` order: PNG bytes}.
    png : the PNG bytes of the last drawing.
    last_data, last_error : what the last drawing returned; the traceback of the last failed drawing or None.
    render_seconds : the duration (s) of every drawing, cached revisits excluded.
    """

    def __init__(self, draw, controls, values, *, static=None, figsize, dpi=80, layout="frozen", retain=False):
        from matplotlib.figure import Figure

        from .canvas import PanelCanvas

        if not (layout in ("frozen", "constrained") or isinstance(layout, dict)):
            raise ValueError(f"layout must be 'frozen', 'constrained' or a dict of margins, got {layout!r}")
        missing = set(controls) - set(values)
        if missing:
            raise ValueError(f"no initial value for the slider(s) {sorted(missing)}")
        self._draw, self._controls, self._dpi, self._layout = draw, dict(controls), dpi, layout
        self._retain = bool(retain)
        self.figure = Figure(figsize=figsize, dpi=dpi)
        PanelCanvas(self.figure)  # Agg, with the text drawn from caches (the same pixels, faster)
        self._positions, self._frozen_axes = None, []
        self._png_cache = {}
        self.values = {name: self._initial(name, values[name]) for name in self._controls}
        self.sliders, self.readouts, self.frames, self.links, self.grid = {}, {}, {}, [], {}
        self.stack = self.image = None
        self.last_data, self.last_error, self.render_seconds, self.png = None, None, [], None
        super().__init__()
        if static:
            self._build_static(static)
        else:
            self._build_live()

    # -- drawing -------------------------------------------------------------------------------------

    def render(self, **values):
        """PNG bytes of the figure for ``values`` (parameters not given keep their current values)."""
        vals = {**self.values, **values}
        key = _cache_key(vals)
        if key in self._png_cache:
            self.png, self.last_data = self._png_cache[key]
            self.last_error = None
            return self.png
        start = time.perf_counter()
        try:
            with single_thread():
                self.last_data = self._draw_figure(vals)
            self.last_error = None
        except Exception as exc:  # a panel must never raise on a slider move: it shows the error instead
            self.last_error, self.last_data = traceback.format_exc(), None
            self._message(f"cannot draw these values:\n{type(exc).__name__}: {exc}")
        png = self.png = self._png()
        self.render_seconds.append(time.perf_counter() - start)
        if self.last_error is None:
            if len(self._png_cache) >= _PNG_CACHE_SIZE:  # keep the most recent figures
                self._png_cache.pop(next(iter(self._png_cache)))
            self._png_cache[key] = (png, self.last_data)
        return png

    def update(self, **values):
        """Set parameters as slider moves would (live mode: the sliders move too) and redraw once; returns the
        panel (so a notebook cell shows it), its figure in :attr:`png`."""
        unknown = set(values) - set(self._controls)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)}; this panel has {list(self._controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.values[name] = self._initial(name, value)
                slider = self.sliders.get(name)
                if slider is not None and not _same(slider.value, self.values[name]):
                    slider.value = self.values[name]
        finally:
            self._holding = False
        png = self.render()
        if self.image is not None:
            self.image.value = png
        return self

    def frame(self, **values):
        """Static mode: the PNG frame shown for these slider values (each one of the slider's values; a
        slider not named keeps its current value)."""
        values = {**self.values, **values}
        key = tuple(_on_grid(values[name], self.grid[name]) for name in self.grid)
        return self.frames[key]

    # -- display -------------------------------------------------------------------------------------

    def noscript_html(self):
        """Static mode: HTML showing the default frame as a plain image inside ``<noscript>`` (what a browser
        with JavaScript off shows in place of the panel); None in live mode. :meth:`_ipython_display_` shows
        it together with the same frame as a PNG, which formats that cannot show HTML (the PDF) use."""
        if self.stack is None:
            return None
        where = ", ".join(f"{self._controls[n][0]} = {self._text(n, self.values[n])}" for n in self.grid)
        src = "data:image/png;base64," + base64.b64encode(self.frame()).decode("ascii")
        alt = html.escape(f"the panel's figure at {where}", quote=True)
        note = html.escape(f"The figure at {where}. The slider(s) need JavaScript.")
        return (f'<noscript><figure class="tflmini-panel-noscript" style="margin:0">'
                f'<img src="{src}" alt="{alt}" style="max-width:100%;height:auto">'
                f'<figcaption style="font-size:0.9em">{note}</figcaption></figure></noscript>')

    def static_html(self):
        """Static mode: the panel as plain HTML for a web page (None in live mode), shown without any widget
        manager as soon as the page is parsed.

        The default frame is an ``<img>``; each slider is a native ``<input type="range">`` over the indices of
        its values, inside its ``<label>``, with a read-only ``<output>`` readout; every frame is a data URI in a
        ``<script type="application/json">`` (inert until used). The website's ``tflmini-panels.js``
        (``book/_static``) switches the image and the readout when a slider moves (keyboard, mouse, touch). The
        panel starts ``hidden`` and an inline script shows it, so that with JavaScript off only the
        :meth:`noscript_html` fallback is seen; that script also sets the panel up at once (``tflmini-panels.js`` is
        loaded in the page's head; if it comes later, it sets up every panel when it runs)."""
        if self.stack is None:
            return None
        names = list(self.grid)

        def uri(png):
            return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

        frames = [uri(self.frames[combo]) for combo in itertools.product(*self.grid.values())]
        sliders = []
        for name in names:
            labels = [self._text(name, v) for v in self.grid[name]]
            index = self.sliders[name].index
            sliders.append(
                f'<label class="tflmini-slider"><span class="tflmini-slider-name">'
                f'{html.escape(self._controls[name][0])}</span>'
                f'<input type="range" min="0" max="{len(labels) - 1}" step="1" value="{index}" '
                f'aria-valuetext="{html.escape(labels[index], quote=True)}" '
                f'data-labels="{html.escape(json.dumps(labels, ensure_ascii=False), quote=True)}">'
                f'<output class="tflmini-readout" aria-live="polite">{html.escape(labels[index])}</output></label>')
        where = ", ".join(f"{self._controls[n][0]} = {self._text(n, self.values[n])}" for n in names)
        data = json.dumps({"shape": [len(self.grid[n]) for n in names], "frames": frames}).replace("</", "<\\/")
        return (f'<div class="tflmini-panel" hidden>'
                f'<div class="tflmini-panel-controls">{"".join(sliders)}</div>'
                f'<div class="tflmini-panel-figure"><img class="tflmini-panel-frame" src="{uri(self.frame())}" '
                f'alt="{html.escape(f"the panel figure at {where}", quote=True)}"></div>'
                f'<script type="application/json" class="tflmini-panel-frames">{data}</script></div>'
                f'<script>(function (panel) {{ panel.hidden = false; if (window.tflminiPanels) {{ '
                f'window.tflminiPanels.setUp(panel); }} }})(document.currentScript.previousElementSibling);</script>')

    def _repr_mimebundle_(self, **kwargs):
        """The widget view (what Jupyter, Binder and Colab show); a static panel adds :meth:`static_html` as
        ``text/html``, the view the website shows instead (``_ext/tflmini_book.py`` ranks it first there)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        page = self.static_html()
        if bundle is not None and page is not None:
            bundle["text/html"] = page
        return bundle

    def _ipython_display_(self):
        """Show the widget; a static panel adds a second output (myst-nb renders only one mime type of an
        output, the widget view, so the default frame cannot share the widget's output) carrying the default
        frame twice: as :meth:`noscript_html` ("text/html", what the website shows) and as the PNG itself
        ("image/png", what a builder without HTML, the PDF's LaTeX, picks; see ``nb_mime_priority_overrides``
        in _config.yml)."""
        from IPython.display import HTML, display

        display(self._repr_mimebundle_(), raw=True)
        fallback = self.noscript_html()
        if fallback is not None:
            png = self.frame()

            class DefaultFrame(HTML):
                def _repr_png_(self):
                    return png

            display(DefaultFrame(fallback))

    def _draw_figure(self, values):
        fig = self.figure
        if isinstance(self._layout, dict):
            data = self._draw(fig, **values)
            fig.subplots_adjust(**self._layout)
            fig.canvas.draw()
            return data
        if not self._retain:
            fig.clear()
        fig.set_layout_engine("none")
        data = self._draw(fig, **values)
        if self._layout == "constrained":
            fig.set_layout_engine("constrained")
            fig.canvas.draw()
        elif self._positions is None or len(self._positions) != len(fig.axes) or self._moved(fig):
            fig.set_layout_engine("constrained", w_pad=0.06, h_pad=0.06)
            fig.canvas.draw()
            self._positions = [ax.get_position() for ax in fig.axes]
            self._frozen_axes = list(fig.axes)
            fig.set_layout_engine("none")
        else:
            for ax, pos in zip(fig.axes, self._positions):
                ax.set_position(pos)
            fig.canvas.draw()
        return data

    def _moved(self, fig):
        """Whether a retained figure's axes were made anew since its layout was frozen."""
        return self._retain and any(ax is not old for ax, old in zip(fig.axes, self._frozen_axes))

    def _message(self, text):
        fig = self.figure
        fig.clear()
        fig.set_layout_engine("none")
        self._positions = None
        fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
        fig.canvas.draw()

    def _png(self):
        """The last drawing as PNG bytes, encoded from the canvas buffer (without drawing again). Static frames,
        which a page embeds by the dozen, are stored with a palette of 256 colours (no dithering): about 2.4
        times smaller, the same picture to the eye (antialiased edges move by a few levels), and compressed harder; a
        live image, made at every slider move and shown once, is compressed at zlib's fastest level (the same
        pixels, PNG being lossless, in about two thirds of the time and a few percent more bytes)."""
        from PIL import Image

        width, height = self.figure.canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), self.figure.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image = image.convert("RGB")
        if self.grid:  # static mode: its grid is set before the frames are drawn
            image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buf = io.BytesIO()
        image.save(buf, format="png", optimize=False, compress_level=6 if self.grid else 1)
        return buf.getvalue()

    # -- sliders -------------------------------------------------------------------------------------

    def _initial(self, name, value):
        options = self._controls[name][1]
        if isinstance(options, LogRange):
            return options.clip(value)
        hit = _on_grid(value, tuple(options))
        if hit is None:
            raise ValueError(f"{name}={value!r} is not among the slider values {list(options)}")
        return hit

    def _text(self, name, value):
        control = self._controls[name]
        return control[2](value) if len(control) > 2 and control[2] is not None else format_value(value)

    def _slider(self, name, options, static):
        label = self._controls[name][0]
        style, layout = {"description_width": "initial"}, widgets.Layout(width="400px")
        if isinstance(options, LogRange):
            return widgets.FloatLogSlider(value=self.values[name], base=10, min=np.log10(options.lo),
                                          max=np.log10(options.hi), step=options.step, description=label,
                                          continuous_update=False, readout_format=".3g", style=style, layout=layout)
        labels = [self._text(name, v) for v in options]
        if len(set(labels)) != len(labels):
            raise ValueError(f"the values of slider {name!r} print alike: {labels}")
        slider = widgets.SelectionSlider(options=list(zip(labels, options)), value=self.values[name], description=label,
                                         continuous_update=static, readout=False, style=style, layout=layout)
        # the readout: a read-only Label per value, the one of the slider's index shown (browser-side link)
        readout = widgets.Stack([widgets.Label(text, layout=widgets.Layout(margin="0 0 0 4px")) for text in labels],
                                selected_index=slider.index, layout=widgets.Layout(width="auto"))
        readout.add_class("tflmini-readout")
        self.readouts[name] = (readout, widgets.jslink((slider, "index"), (readout, "selected_index")))
        return slider

    def _controls_box(self):
        children = []
        for name, slider in self.sliders.items():
            children += [slider] + ([self.readouts[name][0]] if name in self.readouts else [])
        return widgets.Box(children, layout=widgets.Layout(flex_flow="row wrap", align_items="center"))

    def _build_live(self):
        self._holding = False
        for name, (_, options) in self._controls.items():
            self.sliders[name] = self._slider(name, options, static=False)
            self.sliders[name].observe(lambda change, name=name: self._on_move(name, change["new"]), names="value")
        self.image = widgets.Image(format="png", value=self.render(),
                                   layout=_image_layout())
        self.children = [self._controls_box(), self.image]

    def _on_move(self, name, value):
        if not self._holding:
            self.update(**{name: value})

    def _build_static(self, static):
        names = list(static)
        if not 1 <= len(names) <= 2:
            raise ValueError(f"static mode takes one or two sliders, got {names}")
        for name in names:
            if name not in self._controls:
                raise ValueError(f"unknown slider {name!r}; this panel has {list(self._controls)}")
            values = tuple(static[name])
            if not values:
                raise ValueError(f"no values given for the static slider {name!r}")
            options = self._controls[name][1]
            if isinstance(options, LogRange) and not all(np.isfinite(float(v)) and options.lo <= float(v) <= options.hi
                                                         for v in values):
                raise ValueError(f"the static values of {name!r} must lie in [{options.lo:g}, {options.hi:g}], got "
                                 f"{list(values)}")
            if not isinstance(options, LogRange):
                off = [v for v in values if not any(_same(v, o) for o in options)]
                if off:
                    raise ValueError(f"the static values {off} of {name!r} ({self._controls[name][0]}) are not among "
                                     f"the slider's values "
                                     f"{[format_value(o) for o in options]}")
            self._controls[name] = (self._controls[name][0], values, *self._controls[name][2:])
            self.values[name] = self._initial(name, self.values[name])
            self.grid[name] = values
            self.sliders[name] = self._slider(name, values, static=True)
        for combo in itertools.product(*self.grid.values()):
            self.frames[combo] = self.render(**dict(zip(names, combo)))
            if self.last_error is not None:
                # static frames are built once (when the book is built): a frame that cannot be drawn is an error,
                # not a picture of an error message
                where = ", ".join(f"{n}={format_value(v)}" for n, v in zip(names, combo))
                raise ValueError(f"cannot draw the static frame {where}: {self.last_error.strip().splitlines()[-1]}")

        def stack(prefix, level):
            if level == len(names):
                return widgets.Image(value=self.frames[prefix], format="png",
                                     layout=_image_layout())
            slider = self.sliders[names[level]]
            s = widgets.Stack([stack(prefix + (v,), level + 1) for v in self.grid[names[level]]],
                              selected_index=slider.index)
            self.links.append(widgets.jslink((slider, "index"), (s, "selected_index")))
            return s

        self.stack = stack((), 0)
        self.children = [self._controls_box(), self.stack]


def _image_layout():
    """Images scale down with the page, never up, keeping their aspect ratio."""
    return widgets.Layout(max_width="100%", height="auto", object_fit="contain")


def reuse_axes(fig, ncols, **kwargs):
    """The figure's ``ncols`` axes in one row, emptied of their data artists but keeping ticks and labels
    (re-creating axes at every slider move costs more than the theory); made afresh if the figure has others.
    For panels with a margins layout."""
    if len(fig.axes) != ncols:
        fig.clear()
        return list(np.atleast_1d(fig.subplots(1, ncols, **kwargs)))
    for ax in fig.axes:
        for container in list(ax.containers):  # e.g. error bars, which a legend would still list
            container.remove()
        for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches]:
            artist.remove()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.set_prop_cycle(None)
    return list(fig.axes)


def retained(fig, build):
    """What ``build(fig)`` returned (the artists it made on ``fig``), built once and kept on the figure: made again
    only when the figure no longer holds the axes ``build`` made (cleared, e.g. by an error message). For panels
    with ``retain=True``, whose drawing then only updates data, limits and text of the artists it keeps."""
    kept = getattr(fig, "_tflmini_retained", None)
    if kept is None or kept[0] != build or kept[1] != list(fig.axes):
        fig.clear()
        artists = build(fig)
        kept = fig._tflmini_retained = (build, list(fig.axes), artists)
    return kept[2]


def rescale(*axes):
    """Autoscale reused axes to their new data."""
    for ax in axes:
        ax.relim()
        ax.autoscale_view()
