"""Compatibility module: the shared style and the part I figures, now in :mod:`tflmini.plots.style` and
:mod:`tflmini.plots.single`. Kept so old notebooks keep working; new code imports tflmini.plots."""

from .plots.single import *  # noqa: F401,F403
from .plots.single import __all__ as _single
from .plots.style import *  # noqa: F401,F403
from .plots.style import __all__ as _style

__all__ = [*_style, *_single]
