"""tflmini: statistical mechanics of transfer learning in fully connected networks.

Kernels -> single-network kernel renormalization -> Franz-Parisi transfer -> sampler of finite
Bayesian networks -> tasks -> curves, cached results and their analysis (``curves``, ``transfer_curves``,
``results``, ``accuracy``, ``real_data``) -> figures (``plots``) and slider panels (``widgets``). Computation
never imports a plotting or widgets module (``tests/test_layering.py``). See the book for the derivations.
"""

from .kernels import ACTIVATIONS, get_activation, nngp_diagonal, nngp_kernel
from .renormalization import ConvergenceError, KernelRenormalization
from .sampling.sampler import BayesianNetworkSampler, SamplerDivergenceWarning, SamplerResult
from .tasks import make_teacher_task, make_transfer_task
from .transfer import FranzParisiTransfer
from .sampling.transfer_sampler import TransferSampler, TransferSamplingResult
from .curves import TheoryOnData
from .results import load_validation

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "BayesianNetworkSampler",
    "ConvergenceError",
    "FranzParisiTransfer",
    "TransferSampler",
    "TransferSamplingResult",
    "TheoryOnData",
    "KernelRenormalization",
    "SamplerDivergenceWarning",
    "SamplerResult",
    "get_activation",
    "load_validation",
    "make_teacher_task",
    "make_transfer_task",
    "nngp_diagonal",
    "nngp_kernel",
    "__version__",
]

# Modules that import Matplotlib or ipywidgets are loaded on first use: ``tflmini.plots``,
# ``tflmini.widgets`` and the older name ``tflmini.plotting`` (``import tflmini`` alone stays light).
_LAZY_MODULES = ("plots", "widgets", "plotting")


def __getattr__(name):
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
