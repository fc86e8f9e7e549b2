"""Sampling finite Bayesian networks: the collapsed Metropolis-adjusted sampler of one network
(:mod:`.sampler`, built on the collapsed posterior of the first layer, :mod:`.posterior`, and the split-HMC
chain, :mod:`.hmc`), the quenched source -> target protocol (:mod:`.transfer_sampler`), convergence
diagnostics (:mod:`.diagnostics`) and exact checks on tiny networks (:mod:`.checks`)."""

from .sampler import BayesianNetworkSampler, CollapsedPosterior, SamplerDivergenceWarning, SamplerResult
from .transfer_sampler import SINGLE_SOURCE_KEYS, TransferSampler, TransferSamplingResult

__all__ = ["BayesianNetworkSampler", "CollapsedPosterior", "SamplerDivergenceWarning", "SamplerResult",
           "SINGLE_SOURCE_KEYS", "TransferSampler", "TransferSamplingResult"]
