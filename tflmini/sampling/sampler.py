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

The collapsed posterior is :mod:`tflmini.sampling.posterior`; the HMC run and its result, :mod:`tflmini.sampling.hmc`.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    check_count,
    check_finite_array,
    check_matrix,
    check_open_interval,
    check_positive,
    check_random_state,
    check_same_dim,
    check_seed,
    check_targets,
)
from ..kernels import get_activation
from .hmc import SamplerDivergenceWarning, SamplerResult, _run_hmc
from .posterior import CollapsedPosterior

__all__ = ["CollapsedPosterior", "SamplerResult", "BayesianNetworkSampler", "SamplerDivergenceWarning"]

#: Fewest measurement iterations per chain :meth:`SamplerResult.summary` can use: its error bars need an
#: autocorrelation time, estimated from at least 4 samples per chain
#: (:func:`tflmini.sampling.diagnostics.mean_and_stderr`).
MIN_SAMPLES = 4


class BayesianNetworkSampler:
    r"""Metropolis-adjusted sampler of the posterior of a finite one-hidden-layer network.

    Parameters
    ----------
    n_hidden : int, width :math:`N_1`.
    temperature : float > 0, :math:`T`.
    lambda0, lambda1 : float > 0, prior precisions of first layer and readout.
    activation : {"erf", "linear", "relu"}
    n_chains : int, independent chains run together.
    n_warmup, n_samples : int, HMC iterations for tuning (discarded, >= 0) and for measurement
        (>= :data:`MIN_SAMPLES` = 4, what :meth:`SamplerResult.summary` needs; checked when :meth:`sample` runs).
    step_size : float or None, initial step (an angle of the prior rotation, in (0, pi/2]); tuned in warm-up.
    trajectory_angle : float, total prior-rotation angle per trajectory (pi/2 decorrelates prior-dominated
        directions in one iteration); the number of leapfrog steps is ``ceil(angle/step)``.
    target_accept : float in (0, 1), acceptance the warm-up aims at.
    seed : None, non-negative int or numpy Generator.
    progress : bool, show a tqdm progress bar.
    """

    def __init__(self, n_hidden, temperature, lambda0=1.0, lambda1=1.0, activation="erf", *, n_chains=4,
                 n_warmup=200, n_samples=400, step_size=0.3, trajectory_angle=np.pi / 2, target_accept=0.8,
                 seed=None, progress=True):
        self.n_hidden = check_count(n_hidden, "n_hidden")
        self.temperature = check_positive(temperature, "temperature")
        self.lambda0 = check_positive(lambda0, "lambda0")
        self.lambda1 = check_positive(lambda1, "lambda1")
        self.activation = get_activation(activation).name
        self.n_chains = check_count(n_chains, "n_chains")
        self.n_warmup = check_count(n_warmup, "n_warmup", minimum=0)
        self.n_samples = check_count(n_samples, "n_samples")
        self.step_size = check_positive(step_size, "step_size")
        if self.step_size > np.pi / 2:
            raise ValueError(f"step_size must be in (0, pi/2] (an angle of the prior rotation), got {step_size}")
        self.trajectory_angle = check_positive(trajectory_angle, "trajectory_angle")
        self.target_accept = check_open_interval(target_accept, "target_accept", 0.0, 1.0)
        self.seed = check_seed(seed)
        self.progress = bool(progress)

    def posterior(self, X, y, *, precision=None, prior_mean=None):
        """The :class:`CollapsedPosterior` this sampler draws from (validated inputs)."""
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        precision = self.lambda0 if precision is None else check_positive(precision, "precision")
        if prior_mean is not None:
            prior_mean = check_finite_array(prior_mean, "prior_mean")
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

        Every input is checked before the chains start: ``n_samples`` must be at least :data:`MIN_SAMPLES`
        (what :meth:`SamplerResult.summary` needs), ``W_init`` and ``prior_mean`` finite, and ``y_test``
        comes with ``X_test``.
        """
        return self._sample(X, y, X_test, y_test, precision=precision, prior_mean=prior_mean, W_init=W_init,
                            snapshot_every=snapshot_every, desc=desc, min_samples=MIN_SAMPLES)

    def _sample(self, X, y, X_test=None, y_test=None, *, precision=None, prior_mean=None, W_init=None,
                snapshot_every=None, desc="sampling", min_samples=MIN_SAMPLES):
        """:meth:`sample`; ``min_samples=1`` for callers that never summarise the run (the transfer sampler
        only averages its traces)."""
        if self.n_samples < min_samples:
            raise ValueError(f"n_samples must be >= {min_samples} (SamplerResult.summary estimates error bars from "
                             f"the autocorrelation of at least {min_samples} samples per chain), got {self.n_samples}")
        if y_test is not None and X_test is None:
            raise ValueError("y_test was given without X_test: pass the test inputs X_test with their labels y_test "
                             "(or neither)")
        rng = check_random_state(self.seed)
        post = self.posterior(X, y, precision=precision, prior_mean=prior_mean)
        if X_test is not None:
            X_test = check_matrix(X_test, "X_test")
            check_same_dim(X_test, post.n_features, "X_test")
            if y_test is not None:
                y_test = check_targets(y_test, X_test.shape[0], "y_test")
        if W_init is None:
            W = post.prior_draw(self.n_chains, rng)
        else:
            W = np.array(check_finite_array(W_init, "W_init"))
        if W.shape != (self.n_chains, self.n_hidden, post.n_features):
            raise ValueError(f"W_init must have shape {(self.n_chains, self.n_hidden, post.n_features)}, got {W.shape}")
        if snapshot_every is not None:
            snapshot_every = check_count(snapshot_every, "snapshot_every")
        return _run_hmc(self, post, W, rng, X_test, y_test, desc, snapshot_every)
