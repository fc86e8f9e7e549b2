r"""Sampling the Franz-Parisi transfer protocol with finite networks.

1. Source chains sample :math:`W_s` from the source posterior (readout integrated out exactly); every
   ``snapshot_every`` iterations a state is frozen, giving K source snapshots with their exact
   :math:`\mathbb E[v_s\,|\,W_s]`.
2. For each snapshot and each coupling :math:`\gamma`, two target chains (replicas a, b) sample
   :math:`W_t` with the prior :math:`\lambda_0|W_t|^2/2 + \gamma|W_t - W_s|^2/2`, i.e. precision
   :math:`\lambda_0+\gamma` around :math:`\gamma W_s/(\lambda_0+\gamma)`; all snapshots' replicas run
   as one vectorised batch of chains.
3. Per snapshot: :math:`Q_t` = mean of :math:`\mathbb E[|v_t|^2\,|\,W_t]/N_1`;
   :math:`Q_{st} = \mathbb E[v_s|W_s]\cdot\overline{\mathbb E[v_t|W_t]}/N_1`;
   :math:`Q_{tt} = \overline{\mathbb E[v^a_t|W^a_t]}\cdot\overline{\mathbb E[v^b_t|W^b_t]}/N_1`
   (bars: time averages; replicas are independent given the source); Gibbs test error.
   Error bars are standard errors over snapshots (quenched average).
   With one pretrained source, the error of the target's posterior mean is the *single-source error*
   :math:`\mathbb E_s\langle(y - \langle f\rangle_t)^2\rangle`, estimated without bias per snapshot by
   :math:`\langle(y - \bar f^a)(y - \bar f^b)\rangle_{\rm test}` (two independent replicas), and the
   *source variance* :math:`\mathrm{Var}_s\langle f\rangle_t` by the covariance over snapshots of the two replicas'
   posterior means (book proposition ``ch06-prop-source-variance``).
4. :math:`\gamma=\infty` needs no target chain: with :math:`W_t = W_s` the target readout posterior is
   Gaussian, so every observable is exact per snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .._validation import (check_count, check_matrix, check_nonnegative, check_random_state, check_same_dim,
                           check_seed, check_targets)
from .diagnostics import averaged_predictor_error
from .sampler import BayesianNetworkSampler

__all__ = ["TransferSamplingResult", "TransferSampler"]

KEYS = ("Q_s", "Q_t", "Q_st", "Q_tt", "gibbs_error", "mean_error")
#: Observables of one pretrained source (also in every :class:`TransferSamplingResult`).
SINGLE_SOURCE_KEYS = ("single_source_error", "source_variance")
#: Keys of the source dict that :meth:`TransferSampler.sample_targets` reads (made by :meth:`TransferSampler.sample_source`).
SOURCE_KEYS = ("W", "v_mean", "Q_chains", "diagnostics")


@dataclass
class TransferSamplingResult:
    """Quenched averages over source snapshots, one entry per coupling.

    ``mean[key]`` and ``stderr[key]`` are arrays over ``gammas`` for keys Q_s, Q_t, Q_st, Q_tt,
    gibbs_error, mean_error, single_source_error, source_variance; ``per_snapshot[key]`` has shape
    (len(gammas), n_snapshots) (mean_error and source_variance excepted: they are properties of the
    ensemble of snapshots). ``diagnostics`` holds the source
    run's and each target run's sampler diagnostics.
    """

    gammas: np.ndarray
    mean: dict
    stderr: dict
    per_snapshot: dict
    n_snapshots: int
    diagnostics: dict = field(default_factory=dict)

    def table(self):
        """Rows (gamma, then mean and stderr of each observable) for printing or saving."""
        rows = []
        for i, g in enumerate(self.gammas):
            row = {"gamma": float(g)}
            for k in KEYS + SINGLE_SOURCE_KEYS:
                row[k] = float(self.mean[k][i])
                row[k + "_se"] = float(self.stderr[k][i])
            rows.append(row)
        return rows


class TransferSampler:
    r"""Finite-network simulation of the Franz-Parisi protocol.

    Parameters
    ----------
    n_hidden, temperature, lambda0, lambda1, activation : the model, as in :class:`~tflmini.FranzParisiTransfer`.
    n_source_chains : int, source chains.
    snapshots_per_chain : int, frozen source states taken from each source chain (K = product).
    snapshot_every : int, measurement iterations between snapshots (>= the autocorrelation time).
    source_warmup, target_warmup, target_samples : HMC iterations.
    seed, progress : reproducibility and a tqdm progress bar.
    """

    def __init__(self, n_hidden, temperature, lambda0=1.0, lambda1=1.0, activation="erf", *, n_source_chains=4,
                 snapshots_per_chain=3, snapshot_every=10, source_warmup=150, target_warmup=100,
                 target_samples=100, seed=None, progress=True):
        self.n_hidden = check_count(n_hidden, "n_hidden")
        self.temperature = temperature
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.activation = activation
        self.n_source_chains = check_count(n_source_chains, "n_source_chains")
        self.snapshots_per_chain = check_count(snapshots_per_chain, "snapshots_per_chain")
        self.snapshot_every = check_count(snapshot_every, "snapshot_every")
        self.source_warmup = check_count(source_warmup, "source_warmup", minimum=0)
        self.target_warmup = check_count(target_warmup, "target_warmup", minimum=0)
        self.target_samples = check_count(target_samples, "target_samples")
        self.seed = check_seed(seed)
        self.progress = bool(progress)
        # validates temperature, priors and activation once
        self._sampler(1, 1, 1)

    def _sampler(self, n_chains, n_warmup, n_samples, rng=None):
        return BayesianNetworkSampler(self.n_hidden, self.temperature, self.lambda0, self.lambda1, self.activation,
                                      n_chains=n_chains, n_warmup=n_warmup, n_samples=n_samples, seed=rng,
                                      progress=self.progress)

    def run(self, X_source, y_source, X_target, y_target, X_test, y_test, gammas):
        """Sample the protocol for every coupling in ``gammas`` (``inf`` allowed) and return a
        :class:`TransferSamplingResult`: :meth:`sample_source` then :meth:`sample_targets`."""
        rng = check_random_state(self.seed)
        Xs = check_matrix(X_source, "X_source")
        # every input is checked before the (long) source run
        self._target_inputs(X_target, y_target, X_test, y_test, gammas, Xs.shape[1])
        source = self.sample_source(Xs, y_source, rng=rng)
        return self.sample_targets(source, X_target, y_target, X_test, y_test, gammas, rng=rng)

    def sample_source(self, X_source, y_source, rng=None):
        """Source chains and K frozen snapshots: dict with ``W`` (K, N1, N0), ``v_mean`` (K, N1),
        ``Q_chains`` (per-chain mean Q_s), ``X``, ``diagnostics``. Reusable across target tasks."""
        rng = check_random_state(self.seed if rng is None else rng)
        Xs = check_matrix(X_source, "X_source")
        ys = check_targets(y_source, Xs.shape[0], "y_source")
        src = self._sampler(self.n_source_chains, self.source_warmup, self.snapshots_per_chain * self.snapshot_every, rng)
        res = src._sample(Xs, ys, snapshot_every=self.snapshot_every, desc="source chains", min_samples=1)
        # snapshots are (n_snap, chains, ...): order them chain by chain
        W = np.swapaxes(res.snapshots["W"], 0, 1).reshape((-1,) + res.snapshots["W"].shape[2:])
        v = np.swapaxes(res.snapshots["v_mean"], 0, 1).reshape(-1, self.n_hidden)
        return {"W": W, "v_mean": v, "Q_chains": res.Q.mean(axis=0), "X": Xs, "diagnostics": res.diagnostics}

    def sample_targets(self, source, X_target, y_target, X_test, y_test, gammas, rng=None):
        """Two target replicas per source snapshot for every coupling; quenched averages with error bars."""
        rng = check_random_state(self.seed if rng is None else rng)
        source = self._check_source(source)
        Xt, yt, Xe, ye, gammas = self._target_inputs(X_target, y_target, X_test, y_test, gammas, source["W"].shape[2])
        W_s, mu_s = source["W"], source["v_mean"]
        K, N1 = W_s.shape[0], self.n_hidden
        per_chain = K // source["Q_chains"].size
        diagnostics = {"source": source["diagnostics"], "targets": {}}
        per = {k: np.zeros((gammas.size, K)) for k in KEYS + ("single_source_error",) if k != "mean_error"}
        mean_err, mean_err_se = np.zeros(gammas.size), np.zeros(gammas.size)
        src_var, src_var_se = np.zeros(gammas.size), np.zeros(gammas.size)
        for i, gamma in enumerate(tqdm(gammas, desc="couplings", disable=not self.progress, leave=False)):
            per["Q_s"][i] = np.repeat(source["Q_chains"], per_chain)
            if np.isinf(gamma):
                obs = self._frozen_features(W_s, Xt, yt, Xe, ye)
                v_a = v_b = obs["v_mean"]
                per["Q_t"][i] = obs["Q"]
                per["gibbs_error"][i] = obs["test_error"]
                f_a = f_b = obs["test_mean"]  # (K, M), exact per snapshot
                diagnostics["targets"]["inf"] = {"sampler": "exact Gaussian readout given W_t = W_s"}
            else:
                lam = self.lambda0 + gamma
                prior_mean = np.repeat(gamma / lam * W_s, 2, axis=0)  # chains (k, a), (k, b)
                tgt = self._sampler(2 * K, self.target_warmup, self.target_samples, rng)
                res = tgt._sample(Xt, yt, Xe, ye, precision=lam, prior_mean=prior_mean,
                                  desc=f"target chains, gamma={gamma:g}", min_samples=1)
                v = res.v_mean.reshape(K, 2, N1)
                v_a, v_b = v[:, 0], v[:, 1]
                per["Q_t"][i] = res.Q.mean(axis=0).reshape(K, 2).mean(axis=1)
                per["gibbs_error"][i] = res.test_error.mean(axis=0).reshape(K, 2).mean(axis=1)
                f_ab = res.test_mean_chains.reshape(K, 2, -1)
                f_a, f_b = f_ab[:, 0], f_ab[:, 1]
                diagnostics["targets"][f"{gamma:g}"] = res.diagnostics
            per["Q_st"][i] = 0.5 * np.einsum("ki,ki->k", mu_s, v_a + v_b) / N1
            per["Q_tt"][i] = np.einsum("ki,ki->k", v_a, v_b) / N1
            mean_err[i], mean_err_se[i] = _averaged_predictor_error(0.5 * (f_a + f_b), ye)
            per["single_source_error"][i] = np.mean((ye - f_a) * (ye - f_b), axis=1)
            src_var[i], src_var_se[i] = _source_variance(f_a, f_b)

        mean = {k: v.mean(axis=1) for k, v in per.items()}
        stderr = {k: v.std(axis=1, ddof=1) / np.sqrt(K) if K > 1 else np.full(gammas.size, np.nan)
                  for k, v in per.items()}
        # Q_s: one value per source chain, so its error bar counts chains
        qc = source["Q_chains"]
        stderr["Q_s"][:] = qc.std(ddof=1) / np.sqrt(qc.size) if qc.size > 1 else np.nan
        mean["mean_error"], stderr["mean_error"] = mean_err, mean_err_se
        mean["source_variance"], stderr["source_variance"] = src_var, src_var_se
        return TransferSamplingResult(gammas, mean, stderr, per, K, diagnostics)

    @staticmethod
    def _target_inputs(X_target, y_target, X_test, y_test, gammas, n0):
        """The target task, its test set and the couplings, checked against the source input dimension ``n0``."""
        Xt = check_matrix(X_target, "X_target")
        yt = check_targets(y_target, Xt.shape[0], "y_target")
        check_same_dim(Xt, n0, "X_target", "the source inputs (X_source)")
        Xe = check_matrix(X_test, "X_test")
        ye = check_targets(y_test, Xe.shape[0], "y_test")
        check_same_dim(Xe, n0, "X_test", "the source inputs (X_source)")
        try:
            gammas = np.atleast_1d(np.asarray(gammas, dtype=np.float64))
        except (TypeError, ValueError):
            raise TypeError(f"gammas must be a list of couplings (numbers >= 0, inf allowed), got {gammas!r}") from None
        if gammas.ndim != 1 or gammas.size == 0:
            raise ValueError("gammas must be a non-empty 1-D list of couplings")
        for g in gammas:
            check_nonnegative(g, "gammas", allow_inf=True)
        return Xt, yt, Xe, ye, gammas

    def _check_source(self, source):
        """The source dict of :meth:`sample_source`, its keys and shapes checked."""
        made_by = "pass the dict returned by TransferSampler.sample_source(X_source, y_source)"
        if not isinstance(source, dict):
            raise TypeError(f"source must be a dict with keys {list(SOURCE_KEYS)}, got {type(source).__name__}: {made_by}")
        missing = [k for k in SOURCE_KEYS if k not in source]
        if missing:
            raise ValueError(f"source is missing the key(s) {missing} (it needs {list(SOURCE_KEYS)}): {made_by}")
        W = np.asarray(source["W"], dtype=np.float64)
        v = np.asarray(source["v_mean"], dtype=np.float64)
        qc = np.atleast_1d(np.asarray(source["Q_chains"], dtype=np.float64))
        if W.ndim != 3 or W.shape[1] != self.n_hidden:
            raise ValueError(f"source['W'] must have shape (n_snapshots, n_hidden={self.n_hidden}, N0), got {W.shape}: "
                             f"{made_by} with this sampler's width")
        if v.shape != W.shape[:2]:
            raise ValueError(f"source['v_mean'] must have shape {W.shape[:2]} (one readout per snapshot), got {v.shape}")
        if qc.ndim != 1 or qc.size == 0 or W.shape[0] % qc.size:
            raise ValueError(f"source['Q_chains'] must hold one value per source chain, dividing the {W.shape[0]} "
                             f"snapshots, got shape {qc.shape}")
        for key, arr in (("W", W), ("v_mean", v), ("Q_chains", qc)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"source['{key}'] contains NaN or infinite values")
        return {**source, "W": W, "v_mean": v, "Q_chains": qc}

    def _frozen_features(self, W_s, Xt, yt, Xe, ye):
        """gamma = inf: exact averages over the Gaussian target readout given W_t = W_s, per snapshot."""
        sampler = self._sampler(W_s.shape[0], 0, 1)
        post = sampler.posterior(Xt, yt)
        _, _, state = post.likelihood(W_s, need_grad=False)
        return post.observables(W_s, state, Xe, ye)


def _averaged_predictor_error(f_snap, y):
    """Error of the snapshot-averaged predictor, corrected for the finite number of snapshots
    (subtract between-snapshot variance / K; never negative: clipped at 0 with a warning), with a jackknife
    standard error: :func:`~tflmini.sampling.diagnostics.averaged_predictor_error`."""
    return averaged_predictor_error(f_snap, y, "source snapshots")


def _source_variance(f_a, f_b):
    r"""Test average of :math:`\mathrm{Var}_s\langle f\rangle_t` from two replicas' posterior means per snapshot,
    ``f_a``, ``f_b`` of shape (K, M): the covariance over snapshots of the two replicas (unbiased: their
    sampling noises are independent), with a jackknife standard error over snapshots. With exact posterior
    means (``f_a is f_b``, gamma = inf) it is the plain variance over snapshots."""
    K = f_a.shape[0]

    def estimate(a, b):
        return float(np.mean(np.sum((a - a.mean(axis=0)) * (b - b.mean(axis=0)), axis=0) / (a.shape[0] - 1)))

    if K < 2:
        return float("nan"), float("nan")
    est = estimate(f_a, f_b)
    if K < 3:
        return est, float("nan")
    jack = np.array([estimate(np.delete(f_a, k, axis=0), np.delete(f_b, k, axis=0)) for k in range(K)])
    return est, float(np.sqrt((K - 1) / K * np.sum((jack - jack.mean()) ** 2)))
