"""tflmini: statistical mechanics of transfer learning in fully connected networks.

Kernels -> single-network kernel renormalization -> Franz-Parisi transfer -> sampler of finite
Bayesian networks -> tasks -> plotting and widgets. See the book for the derivations.
"""

from .kernels import ACTIVATIONS, get_activation, nngp_diagonal, nngp_kernel
from .renormalization import ConvergenceError, KernelRenormalization
from .sampler import BayesianNetworkSampler, SamplerDivergenceWarning, SamplerResult
from .tasks import make_teacher_task, make_transfer_task
from .transfer import FranzParisiTransfer
from .transfer_sampler import TransferSampler, TransferSamplingResult

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "BayesianNetworkSampler",
    "ConvergenceError",
    "FranzParisiTransfer",
    "TransferSampler",
    "TransferSamplingResult",
    "KernelRenormalization",
    "SamplerDivergenceWarning",
    "SamplerResult",
    "get_activation",
    "make_teacher_task",
    "make_transfer_task",
    "nngp_diagonal",
    "nngp_kernel",
    "__version__",
]
