r"""The run of :class:`~tflmini.sampling.sampler.BayesianNetworkSampler`: Metropolis-adjusted split Hamiltonian
Monte Carlo on a :class:`~tflmini.sampling.posterior.CollapsedPosterior`, and what it returns.

``_run_hmc``: :math:`W` moves by HMC with mass :math:`\lambda`; the Gaussian-prior part of each leapfrog step is
integrated exactly (a rotation of :math:`(W - M, p/\lambda)`) and the likelihood part is a kick (split HMC,
Neal 2011 sec. 5.5), followed by a Metropolis test. During warm-up the step is tuned (Robbins-Monro on its
logarithm) towards a target acceptance; then the exact averages over :math:`v\,|\,W` are accumulated.
:class:`SamplerResult` holds the traces, the test predictions and the diagnostics (acceptance, divergences,
effective sample sizes, split R-hat); :class:`SamplerDivergenceWarning` flags diverging runs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .diagnostics import averaged_predictor_error, effective_sample_size, mean_and_stderr, split_rhat

__all__ = ["SamplerDivergenceWarning", "SamplerResult"]


class SamplerDivergenceWarning(RuntimeWarning):
    """Many HMC trajectories diverged or the acceptance collapsed."""



@dataclass
class SamplerResult:
    """Traces and summaries of one sampling run.

    Traces have shape (n_samples, n_chains): ``Q`` (posterior mean of |v|^2/N1 given each W),
    ``train_error``, ``test_error`` (Gibbs test error given each W, if test data were given).
    ``test_mean`` (M,) and ``test_var`` (M,) are the posterior mean and total posterior variance of
    the test outputs; ``test_mean_chains`` (n_chains, M) the per-chain posterior means.
    ``W`` (n_chains, N1, N0) are the last states, ``v_mean`` (n_chains, N1) the time-averaged
    posterior mean readout per chain. ``diagnostics`` holds acceptance, step size, leapfrog steps,
    divergences, effective sample sizes and split R-hat. ``snapshots`` (if requested) holds ``W``
    (n_snap, n_chains, N1, N0) and ``v_mean`` (n_snap, n_chains, N1), the exact E[v | W] at each snapshot.
    """

    Q: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray | None
    test_mean: np.ndarray | None
    test_var: np.ndarray | None
    test_mean_chains: np.ndarray | None
    W: np.ndarray
    v_mean: np.ndarray
    y_test: np.ndarray | None
    diagnostics: dict = field(default_factory=dict)
    snapshots: dict | None = None

    def summary(self):
        """Posterior means with standard errors: {'Q': (mean, se), 'train_error': ..., 'gibbs_error': ..., 'mean_error': ...}."""
        out = {"Q": mean_and_stderr(self.Q), "train_error": mean_and_stderr(self.train_error)}
        if self.test_error is not None:
            out["gibbs_error"] = mean_and_stderr(self.test_error)
            out["mean_error"] = self.mean_error()
        return out

    def mean_error(self):
        r"""Test error of the posterior-mean predictor with a standard error (jackknife over chains), never negative.

        The squared error of a Monte Carlo average is biased up by its variance; the bias
        (between-chain variance of the per-chain means / n_chains) is subtracted, and an estimate that the
        correction makes negative is reported as 0 with a warning (the positive part: never farther from the
        true error, unchanged when the correction is smaller than the error); see
        :func:`~tflmini.sampling.diagnostics.averaged_predictor_error`.
        """
        if self.test_mean_chains is None or self.y_test is None:
            raise ValueError("mean_error needs test data: sample with both X_test and y_test")
        return averaged_predictor_error(self.test_mean_chains, self.y_test, "chains")


def _run_hmc(cfg, post, W, rng, X_test, y_test, desc, snapshot_every=None):
    """Warm-up (step tuning) then measurement; see :class:`BayesianNetworkSampler`."""
    C = cfg.n_chains
    lam = post.precision
    M = 0.0 if post.prior_mean is None else post.prior_mean
    u_lik, grad, state = post.likelihood(W)
    log_step = np.log(cfg.step_size)
    n_total = cfg.n_warmup + cfg.n_samples
    traces = {"Q": [], "train_error": [], "test_error": []}
    test_sum = test_sq = test_var_sum = None
    v_sum = np.zeros((C, post.n_hidden))
    accepted = divergences = 0
    accept_warm = []
    snapshots = {"W": [], "v_mean": []}
    bar = tqdm(range(n_total), desc=desc, disable=not cfg.progress, leave=False)
    for it in bar:
        step = np.exp(log_step)
        n_leap = int(np.ceil(cfg.trajectory_angle / step))
        eps = step * rng.uniform(0.8, 1.0)  # jitter avoids periodic trajectories
        cos, sin = np.cos(eps), np.sin(eps)
        p = rng.standard_normal(W.shape) * np.sqrt(lam)
        h0 = u_lik + post.prior_energy(W) + 0.5 * np.einsum("cij,cij->c", p, p) / lam
        Wn, pn, gn = W.copy(), p.copy(), grad
        ok = np.ones(C, dtype=bool)
        with np.errstate(all="ignore"):
            try:
                for _ in range(n_leap):
                    pn = pn - 0.5 * eps * gn
                    # exact flow of the Gaussian prior part (mass lam): a rotation of (W - M, p / lam)
                    d = Wn - M
                    d, pn = d * cos + pn / lam * sin, pn * cos - d * lam * sin
                    Wn = d + M
                    un, gn, staten = post.likelihood(Wn)
                    pn = pn - 0.5 * eps * gn
                h1 = un + post.prior_energy(Wn) + 0.5 * np.einsum("cij,cij->c", pn, pn) / lam
            except np.linalg.LinAlgError:
                h1 = np.full(C, np.inf)
                ok[:] = False
        dh = h1 - h0
        bad = ~np.isfinite(dh) | (dh > 1000.0)
        divergences += int(bad.sum())
        acc_prob = np.where(bad, 0.0, np.exp(np.minimum(0.0, -np.where(bad, 0.0, dh))))
        accept = (rng.uniform(size=C) < acc_prob) & ok & ~bad
        if accept.any():
            W = np.where(accept[:, None, None], Wn, W)
            u_lik = np.where(accept, un, u_lik)
            grad = np.where(accept[:, None, None], gn, grad)
            if accept.all():
                state = staten
            else:
                state = {k: np.where(accept.reshape((C,) + (1,) * (v.ndim - 1)), staten[k], v) for k, v in state.items()}
        if it < cfg.n_warmup:
            # Robbins-Monro on log(step) towards the target acceptance
            rate = float(acc_prob.mean())
            accept_warm.append(rate)
            log_step += (rate - cfg.target_accept) * 2.0 / np.sqrt(it + 1.0)
            log_step = min(log_step, np.log(np.pi / 2))
            continue
        accepted += int(accept.sum())
        obs = post.observables(W, state, X_test, y_test)
        traces["Q"].append(obs["Q"])
        traces["train_error"].append(obs["train_error"])
        v_sum += obs["v_mean"]
        if snapshot_every and (it - cfg.n_warmup + 1) % snapshot_every == 0:
            snapshots["W"].append(W.copy())
            snapshots["v_mean"].append(obs["v_mean"])
        if X_test is not None:
            if test_sum is None:
                test_sum = np.zeros_like(obs["test_mean"])
                test_sq = np.zeros(obs["test_mean"].shape[1])
                test_var_sum = np.zeros(obs["test_mean"].shape[1])
            test_sum += obs["test_mean"]
            test_sq += (obs["test_mean"] ** 2).sum(axis=0)
            test_var_sum += obs["test_var"].sum(axis=0)
            if y_test is not None:
                traces["test_error"].append(obs["test_error"])
        if cfg.progress and (it - cfg.n_warmup) % 20 == 0:
            bar.set_postfix(acc=f"{accepted / (C * (it - cfg.n_warmup + 1)):.2f}", Q=f"{np.mean(traces['Q']):.3f}")
    bar.close()
    n = cfg.n_samples
    Qtr = np.array(traces["Q"])
    acc_rate = accepted / (C * n)
    diag = {
        "sampler": "split HMC on the collapsed first-layer posterior (Metropolis-adjusted)",
        "acceptance": acc_rate,
        "warmup_acceptance": float(np.mean(accept_warm[-max(1, len(accept_warm) // 4):])) if accept_warm else None,
        "step_size": float(np.exp(log_step)),
        "n_leapfrog": int(np.ceil(cfg.trajectory_angle / np.exp(log_step))),
        "divergences": divergences,
        "ess_Q": float(effective_sample_size(Qtr)) if n >= 4 else float("nan"),
        "rhat_Q": float(split_rhat(Qtr)) if n >= 4 else float("nan"),
        "n_chains": C,
        "n_samples": n,
        "n_warmup": cfg.n_warmup,
    }
    if divergences > 0.01 * C * n_total or acc_rate < 0.3:
        warnings.warn(
            f"sampler: {divergences} divergent trajectories, acceptance {acc_rate:.2f}; the posterior may be "
            "badly scaled (inputs or labels of large magnitude, very small temperature). Increase n_warmup "
            "or start from a smaller step_size.",
            SamplerDivergenceWarning,
            stacklevel=3,
        )
    test_mean = test_var = test_chains = None
    if test_sum is not None:
        test_chains = test_sum / n
        test_mean = test_chains.mean(axis=0)
        # total posterior variance: E[var | W] + Var(E[f | W])
        test_var = test_var_sum / (n * C) + np.clip(test_sq / (n * C) - test_mean**2, 0.0, None)
    err = np.array(traces["test_error"]) if traces["test_error"] else None
    if err is not None and n >= 4:
        diag["ess_test_error"] = float(effective_sample_size(err))
        diag["rhat_test_error"] = float(split_rhat(err))
    return SamplerResult(
        Q=Qtr,
        train_error=np.array(traces["train_error"]),
        test_error=err,
        test_mean=test_mean,
        test_var=test_var,
        test_mean_chains=test_chains,
        W=W,
        v_mean=v_sum / n,
        y_test=y_test,
        diagnostics=diag,
        snapshots={k: np.array(v) for k, v in snapshots.items()} if snapshot_every else None,
    )
