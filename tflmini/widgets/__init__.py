r"""Slider panels of the book, live in a notebook or as precomputed frames on the website.

- :mod:`~tflmini.widgets.panel`: the engine, :class:`Panel` (``draw(fig, **values)`` behind sliders; live or
  ``static`` frames, one API: ``update``, ``render``, ``frame``).
- :mod:`~tflmini.widgets.explorer`: :class:`Explorer`, cached theory curves along a grid of couplings.
- :mod:`~tflmini.widgets.single`: part I panels (:func:`posterior_panel`, :func:`nngp_panel`,
  :func:`renormalization_panel`).
- :mod:`~tflmini.widgets.transfer`: part II panels (:func:`transfer_panel`, :func:`saddle_panel`,
  :func:`order_parameter_panel`) and :class:`TransferExplorer`.
- :mod:`~tflmini.widgets.digits`: the real-data panel (:func:`digits_panel`) and :class:`DigitsExplorer`.
"""

from .digits import DigitsExplorer, digits_panel
from .explorer import Explorer
from .panel import LogRange, Panel
from .single import nngp_panel, posterior_panel, renormalization_panel
from .transfer import TransferExplorer, order_parameter_panel, saddle_panel, transfer_panel

__all__ = [
    "Panel",
    "LogRange",
    "Explorer",
    "TransferExplorer",
    "DigitsExplorer",
    "posterior_panel",
    "nngp_panel",
    "renormalization_panel",
    "transfer_panel",
    "saddle_panel",
    "order_parameter_panel",
    "digits_panel",
]
