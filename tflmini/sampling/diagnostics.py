r"""MCMC diagnostics: integrated autocorrelation time, effective sample size, split R-hat, error bars.

Traces are arrays of shape (n_samples, n_chains). The standard error of a posterior mean is
:math:`\sqrt{\mathrm{Var}(x)\,\tau_{\rm int}/(n\,C)}` with :math:`\tau_{\rm int}` estimated by Geyer's
initial-positive-sequence rule on the chain-averaged autocorrelation (Geyer 1992).
"""

from __future__ import annotations

import numpy as np

__all__ = ["autocorrelation", "integrated_autocorr_time", "effective_sample_size", "split_rhat", "mean_and_stderr"]


def _as_trace(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 4:
        raise ValueError(f"trace must have shape (n_samples >= 4, n_chains), got {x.shape}")
    return x


def autocorrelation(trace):
    """Autocorrelation function averaged over chains (FFT), shape (n_samples,)."""
    x = _as_trace(trace)
    n = x.shape[0]
    xc = x - x.mean(axis=0)
    f = np.fft.rfft(xc, n=2 * n, axis=0)
    acov = np.fft.irfft(f * np.conj(f), axis=0)[:n] / n
    acov = acov.mean(axis=1)
    if acov[0] <= 0:
        return np.r_[1.0, np.zeros(n - 1)]
    return acov / acov[0]


def integrated_autocorr_time(trace):
    r""":math:`\tau = 1 + 2\sum_t \rho_t`, truncated by Geyer's initial positive sequence (>= 1/(n C) floor)."""
    rho = autocorrelation(trace)
    n = rho.shape[0]
    tau = 1.0
    for t in range(1, n - 1, 2):
        pair = rho[t] + rho[t + 1]
        if pair <= 0:
            break
        tau += 2.0 * pair
    return max(tau, 1.0 / n)


def effective_sample_size(trace):
    """Number of independent samples worth: n_samples * n_chains / tau."""
    x = _as_trace(trace)
    return x.size / integrated_autocorr_time(x)


def split_rhat(trace):
    """Gelman-Rubin potential scale reduction with each chain split in two halves (1 = converged)."""
    x = _as_trace(trace)
    half = x.shape[0] // 2
    chains = np.concatenate([x[:half], x[half : 2 * half]], axis=1)
    n = chains.shape[0]
    within = chains.var(axis=0, ddof=1).mean()
    between = n * chains.mean(axis=0).var(ddof=1)
    if within == 0:
        return 1.0
    var_plus = (n - 1) / n * within + between / n
    return float(np.sqrt(var_plus / within))


def mean_and_stderr(trace):
    """Posterior mean of a trace and its Monte Carlo standard error (autocorrelation-corrected)."""
    x = _as_trace(trace)
    tau = integrated_autocorr_time(x)
    return float(x.mean()), float(np.sqrt(x.var(ddof=1) * tau / x.size))
