r"""The Agg canvas of the slider panels: the same pixels, with the text drawn from caches.

A slider move redraws the whole figure, and Matplotlib's Agg renderer lays out every string and rasterizes every
glyph of it again (tick labels, legends, titles: about half the time of a drawing). Most of those strings and
glyphs are the same at every move. :class:`PanelCanvas` gives a figure a renderer that keeps

* the layout of a string (its glyphs and their offsets) per font, size, resolution and string, and
* the bitmap of a glyph per font, size, resolution, rotation and position *within a pixel* (in FreeType's units
  of 1/64 pixel): a glyph moved by whole pixels is the same bitmap moved by those pixels,

and composes the text from them with Agg's own glyph compositing, so the picture is the one Agg draws without the
caches (``tests/test_widgets_panel.py`` compares the two pixel by pixel). Mathematical text goes through the same
glyph cache. With a Matplotlib whose Agg renderer lacks the private glyph interface used here, the canvas is a
plain :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag

__all__ = ["PanelCanvas", "clear_text_caches"]

#: the caches are emptied when they hold more entries than this (a long session with many figures)
_MAX_ENTRIES = 50_000
_LAYOUTS, _GLYPHS, _MATRICES = {}, {}, {}


def _supported():
    try:
        from matplotlib.ft2font import FT2Font, RenderMode  # noqa: F401
    except ImportError:
        return False
    return (hasattr(RendererAgg, "_draw_text_glyphs_and_boxes") and hasattr(RendererAgg, "_prepare_font")
            and all(hasattr(FT2Font, name) for name in ("_layout", "_render_glyph", "_set_transform", "set_size")))


SUPPORTED = _supported()


def clear_text_caches():
    """Empty the string-layout and glyph caches shared by every panel canvas."""
    _LAYOUTS.clear()
    _GLYPHS.clear()
    _MATRICES.clear()


def _matrix(angle, slant, extend):
    """FreeType's 16.16 transform of a glyph, computed as Agg computes it (once per angle, slant and extension)."""
    key = (angle, slant, extend)
    found = _MATRICES.get(key)
    if found is None:
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        found = _MATRICES[key] = (0x10000 * np.array([[cos, -sin], [sin, cos]])
                                  @ [[extend, extend * slant], [0, 1]]).round().astype(int)
    return found


class _CachedTextRenderer(RendererAgg):
    """Agg's renderer with cached string layouts and glyph bitmaps (see the module docstring)."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:
            return self.draw_mathtext(gc, x, y, s, prop, angle)
        flags = get_hinting_flag()
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        size = prop.get_size_in_points()
        key = (prop, size, self.dpi, s, flags, features, language)
        items = _LAYOUTS.get(key)
        if items is None:
            font = self._prepare_font(prop)
            items = [(item.ft_object, item.glyph_index, item.x, item.y)
                     for item in font._layout(s, flags=flags, features=features, language=language)]
            if len(_LAYOUTS) >= _MAX_ENTRIES:
                _LAYOUTS.clear()
            _LAYOUTS[(prop.copy(),) + key[1:]] = items
        self._draw_text_glyphs_and_boxes(gc, x, y, angle, ((f, size, g, 0, 1, dx, dy) for f, g, dx, dy in items), [])

    def _draw_text_glyphs_and_boxes(self, gc, x, y, angle, glyphs, boxes):
        from matplotlib.ft2font import RenderMode

        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        flags = get_hinting_flag()
        antialiased = gc.get_antialiased()
        mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
        height = int(self.height)
        for font, size, glyph_index, slant, extend, dx, dy in glyphs:  # dy is upwards, y downwards
            # the glyph's origin in FreeType's units (1/64 pixel, y upwards), as Agg places it
            tx = round(0x40 * (x + dx * cos - dy * sin))
            ty = round(0x40 * (self.height - y + dx * sin + dy * cos))
            key = (font, size, self.dpi, glyph_index, angle, slant, extend, tx % 64, ty % 64, flags, antialiased)
            glyph = _GLYPHS.get(key)
            if glyph is None:
                font.set_size(size, self.dpi)
                font._set_transform(_matrix(angle, slant, extend), [tx, ty])
                bitmap = font._render_glyph(glyph_index, flags, mode)
                buffer = np.array(bitmap.buffer)  # a copy: the font reuses its bitmap
                if not antialiased:
                    buffer *= 0xff
                if len(_GLYPHS) >= _MAX_ENTRIES:
                    _GLYPHS.clear()
                # offsets relative to the whole pixel of the origin: the same bitmap serves every whole-pixel shift
                glyph = _GLYPHS[key] = (buffer, bitmap.left - tx // 64, bitmap.top - ty // 64)
            buffer, left, top = glyph
            self._renderer.draw_text_image(buffer, left + tx // 64, height - (top + ty // 64) + buffer.shape[0], 0, gc)
        if boxes:  # the rules of mathematical text (fraction bars, roots): drawn as Agg draws them
            super()._draw_text_glyphs_and_boxes(gc, x, y, angle, (), boxes)


class PanelCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer draws text from the shared caches (:class:`_CachedTextRenderer`): the same
    picture as :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`, drawn faster when strings repeat."""

    def get_renderer(self):
        renderer = super().get_renderer()
        if SUPPORTED and type(renderer) is RendererAgg:
            renderer.__class__ = _CachedTextRenderer
        return renderer
