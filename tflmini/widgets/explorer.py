r"""The theory behind the transfer panels: curves along a grid of couplings, computed once and cached.

:class:`Explorer` is the base of :class:`~tflmini.widgets.transfer.TransferExplorer` (synthetic teacher
tasks) and :class:`~tflmini.widgets.digits.DigitsExplorer` (the digits catalogue): the coupling grid
:attr:`~Explorer.gammas`, the position of a coupling on it (:meth:`~Explorer.index`) and one cache of
curves (:meth:`~Explorer.cached`), so a slider that only moves :math:`\gamma` costs no theory at all.
"""

from __future__ import annotations

import numpy as np

from ..transfer_curves import gamma_index

__all__ = ["Explorer"]


class Explorer:
    """Cached theory curves along the couplings ``gammas`` (1-d, increasing, ``inf`` allowed)."""

    def __init__(self, gammas):
        self.gammas = np.asarray(gammas, dtype=np.float64)
        if self.gammas.ndim != 1 or self.gammas.size == 0 or np.any(np.isnan(self.gammas)) or np.any(self.gammas < 0):
            raise ValueError(f"gammas must be a non-empty 1-d sequence of couplings >= 0, got {gammas!r}")
        self._cache = {}

    def index(self, gamma):
        """Position of ``gamma`` in :attr:`gammas` (it must be one of them: ``ValueError`` otherwise)."""
        try:
            return gamma_index(self.gammas, float(gamma))
        except KeyError:
            raise ValueError(f"gamma={gamma} is not on the grid of couplings {self.gammas.tolist()}") from None

    def cached(self, key, compute):
        """``compute()`` the first time ``key`` is asked for, the stored value afterwards."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]
