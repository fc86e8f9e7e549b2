r"""Exact sampler of finite one-hidden-layer Bayesian networks.

Posterior (book, chapter "Bayesian networks as statistical mechanics"):

.. math::

   p(W, v) \propto \exp\Big[-\tfrac{1}{2T}\sum_\mu (y_\mu - f(x_\mu))^2
        - \tfrac{\lambda}{2}|W - M|^2 - \tfrac{\lambda_1}{2}|v|^2\Big],
   \qquad f(x) = N_1^{-1/2}\sum_i v_i\,\sigma(w_i\cdot x/\sqrt{N_0}).

A single network has :math:`M = 0`, :math:`\lambda = \lambda_0`; a target network coupled to a frozen
source :math:`W_s` with strength :math:`\gamma` has :math:`\lambda = \lambda_0+\gamma`,
:math:`M = \gamma W_s/(\lambda_0+\gamma)` (completing the square in the coupling).

How it samples
--------------
1. The readout is Gaussian given :math:`W`, so it is integrated out exactly: with
   :math:`\Psi = \sigma(XW^\top/\sqrt{N_0})/\sqrt{\lambda_1 N_1}`, the marginal is
   :math:`p(W)\propto e^{-\frac{\lambda}{2}|W-M|^2}\,\mathcal N(y;\,0,\,\Psi\Psi^\top + T I)`.
2. :math:`W` is moved by Hamiltonian Monte Carlo with mass :math:`\lambda`, whose Gaussian-prior part
   is integrated exactly (a rotation) and whose likelihood part is a kick (split HMC, Neal 2011 sec. 5.5),
   followed by a Metropolis test: no step-size bias, whatever the step. The step is tuned during
   warm-up to a target acceptance.
3. Observables are averaged exactly over :math:`v\,|\,W` (Rao-Blackwellization): the posterior mean of
   :math:`|v|^2/N_1`, of the train error, and of the test predictions and their variances.
   Exact draws of :math:`v\,|\,W` are available too (Matheron's rule), e.g. for snapshots.
Many chains run vectorised in one array.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .._validation import (
    check_matrix,
    check_positive,
    check_positive_int,
    check_random_state,
    check_same_dim,
    check_targets,
)
from .diagnostics import effective_sample_size, mean_and_stderr, split_rhat
from ..kernels import get_activation

__all__ = ["CollapsedPosterior", "SamplerResult", "BayesianNetworkSampler", "SamplerDivergenceWarning"]


def _bmv(A, x):
    """Batched matrix-vector product: A (C, n, k) times x (C, k) -> (C, n)."""
    return (A @ x[:, :, None])[:, :, 0]


def _bvm(x, A):
    """Batched vector-matrix product: x (C, n) times A (C, n, k) -> (C, k)."""
    return (x[:, None, :] @ A)[:, 0, :]


class SamplerDivergenceWarning(RuntimeWarning):
    """Many HMC trajectories diverged or the acceptance collapsed."""


class CollapsedPosterior:
    r"""Marginal posterior of the first-layer weights, readout integrated out.

    Energy :math:`U(W) = \frac{\lambda}{2}|W-M|^2 + \frac12\log\det G + \frac12 y^\top G^{-1}y`,
    :math:`G = \Psi\Psi^\top + T I`. Linear algebra is done in the smaller of the P-space
    (:math:`G`, P x P) and the N1-space (:math:`A = \Psi^\top\Psi + T I`, N1 x N1), which share their
    nonzero spectrum.

    Parameters
    ----------
    X : (P, N0) training inputs; y : (P,) labels.
    n_hidden, temperature, lambda1, activation : as in the model.
    precision : float, :math:`\lambda`; prior_mean : None or (N1, N0) array :math:`M`.
    """

    def __init__(self, X, y, n_hidden, temperature, lambda1, activation, precision, prior_mean=None):
        self.X, self.y = X, y
        self.n_hidden = int(n_hidden)
        self.temperature = float(temperature)
        self.lambda1 = float(lambda1)
        self.act = get_activation(activation)
        self.precision = float(precision)
        self.prior_mean = prior_mean
        self.n_points, self.n_features = X.shape
        self.psi_scale = 1.0 / np.sqrt(self.lambda1 * self.n_hidden)
        self.p_space = self.n_points <= self.n_hidden

    # -- features -------------------------------------------------------------------------------
    def preactivations(self, W, X=None):
        """h = X W^T / sqrt(N0), shape (C, P, N1) for W of shape (C, N1, N0)."""
        X = self.X if X is None else X
        return X @ np.swapaxes(W, 1, 2) / np.sqrt(self.n_features)

    def features(self, W, X=None):
        r""":math:`\Psi = \sigma(h)/\sqrt{\lambda_1 N_1}`, shape (C, P, N1)."""
        return self.act.function(self.preactivations(W, X)) * self.psi_scale

    # -- energy ----------------------------------------------------------------------------------
    def prior_energy(self, W):
        d = W if self.prior_mean is None else W - self.prior_mean
        return 0.5 * self.precision * np.einsum("cij,cij->c", d, d)

    def likelihood(self, W, need_grad=True):
        r"""Collapsed negative log-likelihood :math:`\frac12[\log\det G + y^\top G^{-1} y]` per chain,
        its gradient in W, and the linear-algebra state used by :meth:`observables`.

        Gradient: :math:`\partial/\partial\Psi = G^{-1}\Psi - \alpha\alpha^\top\Psi`, :math:`\alpha=G^{-1}y`.
        """
        T, y = self.temperature, self.y
        H = self.preactivations(W)
        Psi = self.act.function(H) * self.psi_scale
        C, P, N1 = Psi.shape
        if self.p_space:
            G = Psi @ np.swapaxes(Psi, 1, 2)
            G[:, np.arange(P), np.arange(P)] += T
            L = np.linalg.cholesky(G)
            logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
            inv = np.linalg.inv(G)
            alpha = inv @ y
            quad = alpha @ y
            GiPsi = inv @ Psi if need_grad else None
        else:
            A = np.swapaxes(Psi, 1, 2) @ Psi
            A[:, np.arange(N1), np.arange(N1)] += T
            L = np.linalg.cholesky(A)
            logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1) + (P - N1) * np.log(T)
            inv = np.linalg.inv(A)
            b = y @ Psi
            c = _bmv(inv, b)
            alpha = (y - _bmv(Psi, c)) / T
            quad = (y @ y - np.einsum("ci,ci->c", b, c)) / T
            GiPsi = Psi @ inv if need_grad else None
        energy = 0.5 * (logdet + quad)
        state = {"Psi": Psi, "inv": inv, "alpha": alpha}
        if not need_grad:
            return energy, None, state
        aPsi = _bvm(alpha, Psi)
        gPsi = GiPsi - alpha[:, :, None] * aPsi[:, None, :]
        gH = self.act.derivative(H) * gPsi * self.psi_scale
        grad = np.swapaxes(gH, 1, 2) @ self.X / np.sqrt(self.n_features)
        return energy, grad, state

    # -- exact averages over v | W ---------------------------------------------------------------
    def readout_mean(self, state):
        r"""Posterior mean of :math:`u = \sqrt{\lambda_1}v` given W: :math:`\Psi^\top\alpha`, shape (C, N1)."""
        return _bvm(state["alpha"], state["Psi"])

    def observables(self, W, state, X_test=None, y_test=None):
        r"""Exact averages over :math:`v\,|\,W` for each chain.

        Returns a dict with ``Q`` (:math:`\mathbb E[|v|^2]/N_1`), ``train_error``
        (:math:`\mathbb E\,\frac1P|y-f(X)|^2`), ``v_mean`` (:math:`\mathbb E[v]`, (C, N1)) and, with
        test data, ``test_mean``/``test_var`` ((C, M)) and ``test_error`` (Gibbs error per chain).
        """
        T, P, N1 = self.temperature, self.n_points, self.n_hidden
        Psi, inv, alpha = state["Psi"], state["inv"], state["alpha"]
        m = self.readout_mean(state)
        if self.p_space:
            tr_Ainv = np.trace(inv, axis1=1, axis2=2) + (N1 - P) / T
            tr_Ginv = np.trace(inv, axis1=1, axis2=2)
        else:
            tr_Ainv = np.trace(inv, axis1=1, axis2=2)
            tr_Ginv = tr_Ainv - (N1 - P) / T
        out = {
            "Q": (np.einsum("ci,ci->c", m, m) + T * tr_Ainv) / (self.lambda1 * N1),
            # E|y - f|^2 = T^2 |alpha|^2 + T (P - T tr G^{-1})
            "train_error": (T**2 * np.einsum("cp,cp->c", alpha, alpha) + T * (P - T * tr_Ginv)) / P,
            "v_mean": m / np.sqrt(self.lambda1),
        }
        if X_test is not None:
            Psi_t = self.features(W, X_test)  # (C, M, N1)
            mean = _bmv(Psi_t, m)
            if self.p_space:
                Kt = Psi_t @ np.swapaxes(Psi, 1, 2)  # (C, M, P)
                var = np.einsum("cmi,cmi->cm", Psi_t, Psi_t) - np.einsum("cmp,cmp->cm", Kt @ inv, Kt)
            else:
                var = T * np.einsum("cmi,cmi->cm", Psi_t @ inv, Psi_t)
            var = np.clip(var, 0.0, None)
            out["test_mean"], out["test_var"] = mean, var
            if y_test is not None:
                out["test_error"] = np.mean((y_test - mean) ** 2 + var, axis=1)
        return out

    def sample_readout(self, W, state, rng):
        r"""Exact draws :math:`v\sim p(v\,|\,W)` by Matheron's rule:
        :math:`u = z_1 + \Psi^\top G^{-1}(y - \Psi z_1 - \sqrt T z_2)`, :math:`v = u/\sqrt{\lambda_1}`."""
        Psi, inv = state["Psi"], state["inv"]
        C, P, N1 = Psi.shape
        z1 = rng.standard_normal((C, N1))
        z2 = rng.standard_normal((C, P))
        r = self.y - _bmv(Psi, z1) - np.sqrt(self.temperature) * z2
        if self.p_space:
            u = z1 + _bvm(_bmv(inv, r), Psi)
        else:
            u = z1 + _bmv(inv, _bvm(r, Psi))
        return u / np.sqrt(self.lambda1)

    def prior_draw(self, n_chains, rng):
        W = rng.standard_normal((n_chains, self.n_hidden, self.n_features)) / np.sqrt(self.precision)
        return W if self.prior_mean is None else W + self.prior_mean


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
        r"""Test error of the posterior-mean predictor with a standard error (jackknife over chains).

        The squared error of a Monte Carlo average is biased up by its variance; the bias
        (between-chain variance of the per-chain means / n_chains) is subtracted.
        """
        fc, y = self.test_mean_chains, self.y_test
        C = fc.shape[0]
        if C < 2:
            return float(np.mean((y - fc[0]) ** 2)), float("nan")

        def corrected(chains):
            f = chains.mean(axis=0)
            bias = chains.var(axis=0, ddof=1).mean() / chains.shape[0]
            return np.mean((y - f) ** 2) - bias

        est = corrected(fc)
        jack = np.array([corrected(np.delete(fc, c, axis=0)) for c in range(C)]) if C > 2 else np.array([est])
        se = np.sqrt((C - 1) / C * np.sum((jack - jack.mean()) ** 2)) if C > 2 else float("nan")
        return float(est), float(se)


class BayesianNetworkSampler:
    r"""Metropolis-adjusted sampler of the posterior of a finite one-hidden-layer network.

    Parameters
    ----------
    n_hidden : int, width :math:`N_1`.
    temperature : float > 0, :math:`T`.
    lambda0, lambda1 : float > 0, prior precisions of first layer and readout.
    activation : {"erf", "linear", "relu"}
    n_chains : int, independent chains run together.
    n_warmup, n_samples : int, HMC iterations for tuning (discarded) and for measurement.
    step_size : float or None, initial step (an angle of the prior rotation, in (0, pi/2]); tuned in warm-up.
    trajectory_angle : float, total prior-rotation angle per trajectory (pi/2 decorrelates prior-dominated
        directions in one iteration); the number of leapfrog steps is ``ceil(angle/step)``.
    target_accept : float in (0, 1), acceptance the warm-up aims at.
    seed : None, int or numpy Generator.
    progress : bool, show a tqdm progress bar.
    """

    def __init__(self, n_hidden, temperature, lambda0=1.0, lambda1=1.0, activation="erf", *, n_chains=4,
                 n_warmup=200, n_samples=400, step_size=0.3, trajectory_angle=np.pi / 2, target_accept=0.8,
                 seed=None, progress=True):
        self.n_hidden = check_positive_int(n_hidden, "n_hidden")
        self.temperature = check_positive(temperature, "temperature")
        self.lambda0 = check_positive(lambda0, "lambda0")
        self.lambda1 = check_positive(lambda1, "lambda1")
        self.activation = get_activation(activation).name
        self.n_chains = check_positive_int(n_chains, "n_chains")
        self.n_warmup = int(n_warmup)
        if self.n_warmup < 0:
            raise ValueError(f"n_warmup must be >= 0, got {n_warmup}")
        self.n_samples = check_positive_int(n_samples, "n_samples")
        self.step_size = check_positive(step_size, "step_size")
        if self.step_size > np.pi / 2:
            raise ValueError(f"step_size must be in (0, pi/2] (an angle of the prior rotation), got {step_size}")
        self.trajectory_angle = check_positive(trajectory_angle, "trajectory_angle")
        if not 0 < target_accept < 1:
            raise ValueError(f"target_accept must be in (0, 1), got {target_accept}")
        self.target_accept = float(target_accept)
        self.seed = seed
        self.progress = bool(progress)

    def posterior(self, X, y, *, precision=None, prior_mean=None):
        """The :class:`CollapsedPosterior` this sampler draws from (validated inputs)."""
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        precision = self.lambda0 if precision is None else check_positive(precision, "precision")
        if prior_mean is not None:
            prior_mean = np.asarray(prior_mean, dtype=np.float64)
            expected = (self.n_chains, self.n_hidden, X.shape[1])
            if prior_mean.shape == expected[1:]:
                prior_mean = np.broadcast_to(prior_mean, expected)
            if prior_mean.shape != expected:
                raise ValueError(f"prior_mean must have shape {expected[1:]} or {expected}, got {prior_mean.shape}")
        return CollapsedPosterior(X, y, self.n_hidden, self.temperature, self.lambda1, self.activation,
                                  precision, prior_mean)

    def sample(self, X, y, X_test=None, y_test=None, *, precision=None, prior_mean=None, W_init=None,
               snapshot_every=None, desc="sampling"):
        """Run the chains on training data (X, y); measure on (X_test, y_test) if given.

        ``precision`` and ``prior_mean`` override the first-layer prior (default: lambda0 and 0),
        which is how a target network coupled to a frozen source is sampled. With ``snapshot_every=k``
        the states W and the exact readout means E[v | W] are recorded every k measurement iterations
        (``result.snapshots``), e.g. as frozen sources for the Franz-Parisi protocol.
        """
        rng = check_random_state(self.seed)
        post = self.posterior(X, y, precision=precision, prior_mean=prior_mean)
        if X_test is not None:
            X_test = check_matrix(X_test, "X_test")
            check_same_dim(X_test, post.n_features, "X_test")
            if y_test is not None:
                y_test = check_targets(y_test, X_test.shape[0], "y_test")
        W = post.prior_draw(self.n_chains, rng) if W_init is None else np.array(W_init, dtype=np.float64)
        if W.shape != (self.n_chains, self.n_hidden, post.n_features):
            raise ValueError(f"W_init must have shape {(self.n_chains, self.n_hidden, post.n_features)}, got {W.shape}")
        if snapshot_every is not None:
            snapshot_every = check_positive_int(snapshot_every, "snapshot_every")
        return _run_hmc(self, post, W, rng, X_test, y_test, desc, snapshot_every)


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
