r"""MCMC diagnostics: integrated autocorrelation time, effective sample size, split R-hat, error bars.

Traces are arrays of shape (n_samples, n_chains). The standard error of a posterior mean is
:math:`\sqrt{\mathrm{Var}(x)\,\tau_{\rm int}/(n\,C)}` with :math:`\tau_{\rm int}` estimated by Geyer's
initial-positive-sequence rule on the chain-averaged autocorrelation (Geyer 1992).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["autocorrelation", "integrated_autocorr_time", "effective_sample_size", "split_rhat", "mean_and_stderr",
           "averaged_predictor_error"]


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


def averaged_predictor_error(estimates, y, what="chains"):
    r"""Test error :math:`\frac1M\sum_m (y_m - \bar f_m)^2` of a posterior mean :math:`\bar f` known through
    ``C`` independent estimates ``estimates`` (C, M) (chains, or frozen source snapshots), corrected for their
    finite number, with a jackknife standard error over the ``C`` estimates. Returns ``(estimate, se)``.

    The plug-in error of the average :math:`\hat f = \frac1C\sum_c f_c` is biased upwards by the variance of
    :math:`\hat f`: :math:`\mathbb E(y - \hat f)^2 = (y - \bar f)^2 + \mathrm{Var}\,\hat f`. Subtracting
    the between-estimate variance :math:`s_m^2/C` (``ddof=1``) gives the unbiased estimator
    :math:`U = \frac1M\sum_m[(y_m - \hat f_m)^2 - s_m^2/C]`, which equals the average over pairs
    :math:`c \neq c'` of :math:`(y - f_c)\cdot(y - f_{c'})/M`.

    :math:`U` is negative when the correction exceeds the plug-in error: the error is below the Monte Carlo
    resolution, or the estimates disagree (chains that have not mixed, labels of huge magnitude). An error is
    never negative, so the estimate is the positive part :math:`\max(U, 0)`: it is never farther from the
    true (non-negative) error than :math:`U` (hence a smaller mean squared error), it is consistent like
    :math:`U`, and it equals :math:`U` exactly whenever :math:`U \ge 0`, so results with a small correction are
    unchanged. A clipped estimate is reported with a ``RuntimeWarning``; its standard error is the jackknife
    spread of :math:`U` itself (so ``0 ± se`` says how large an error cannot be excluded). With one estimate
    the plug-in error is returned (no correction possible) and the standard error is NaN, as it is with two.
    """
    f = np.asarray(estimates, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    C = f.shape[0]
    if C < 2:
        return float(np.mean((y - f[0]) ** 2)), float("nan")

    def unbiased(g):
        raw = np.mean((y - g.mean(axis=0)) ** 2)
        return raw - g.var(axis=0, ddof=1).mean() / g.shape[0], raw

    est, raw = unbiased(f)
    se = float("nan")
    if C > 2:
        jack = np.array([unbiased(np.delete(f, c, axis=0))[0] for c in range(C)])
        se = float(np.sqrt((C - 1) / C * np.sum((jack - jack.mean()) ** 2)))
    if est < 0:
        warnings.warn(
            f"mean_error: the correction for {C} finite {what} ({raw - est:.3g}) exceeds the plug-in error "
            f"({raw:.3g}), so the unbiased estimate {est:.3g} is negative; reported as 0 (jackknife se {se:.3g}). "
            f"The error is below the Monte Carlo resolution or the {what} disagree (not mixed): sample longer "
            "or with more of them.",
            RuntimeWarning,
            stacklevel=3,
        )
        est = 0.0
    return float(est), se
