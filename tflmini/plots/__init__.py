r"""The book's figures, by concept. Every public name of the submodules is re-exported here (``import
tflmini.plots as tp; tp.plot_sweep_vs_gamma(...)``). Plotting never computes theory or samples networks: the
numbers come from :mod:`tflmini.curves`, :mod:`tflmini.transfer_curves`, :mod:`tflmini.results`,
:mod:`tflmini.accuracy`, :mod:`tflmini.real_data` and :func:`tflmini.experiments.load`.

Module map:

* :mod:`~tflmini.plots.style`: shared style (colours, symbols, theory lines, simulation points, labels, PNG).
* :mod:`~tflmini.plots.gamma_axis`: the coupling axis, with :math:`\gamma = 0` and :math:`\infty` at its ends.
* :mod:`~tflmini.plots.single`: part I, one network (chapters 2 to 4, single-network validation).
* :mod:`~tflmini.plots.transfer`: part II, transfer along the coupling, width, source size, control.
* :mod:`~tflmini.plots.transfer_maps`: part II, maps of the transfer benefit.
* :mod:`~tflmini.plots.real_data`: the real-data chapter (scikit-learn digits).
* :mod:`~tflmini.plots.accuracy`: the accuracy atlas (theory against sampled networks).
* :mod:`~tflmini.plots.diagrams`: diagrams of the systems studied (a network, its posterior, source and target,
  the replicated system).
"""

from . import accuracy, diagrams, gamma_axis, real_data, single, style, transfer, transfer_maps
from .accuracy import *  # noqa: F401,F403
from .diagrams import *  # noqa: F401,F403
from .gamma_axis import *  # noqa: F401,F403
from .real_data import *  # noqa: F401,F403
from .single import *  # noqa: F401,F403
from .style import *  # noqa: F401,F403
from .transfer import *  # noqa: F401,F403
from .transfer_maps import *  # noqa: F401,F403

__all__ = [*style.__all__, *gamma_axis.__all__, *single.__all__, *transfer.__all__, *transfer_maps.__all__,
           *real_data.__all__, *accuracy.__all__, *diagrams.__all__]
