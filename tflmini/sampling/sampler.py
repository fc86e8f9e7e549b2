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
    check_matrix,
    check_positive,
    check_positive_int,
    check_random_state,
    check_same_dim,
    check_targets,
)
from ..kernels import get_activation
from .hmc import SamplerDivergenceWarning, SamplerResult, _run_hmc
from .posterior import CollapsedPosterior

__all__ = ["CollapsedPosterior", "SamplerResult", "BayesianNetworkSampler", "SamplerDivergenceWarning"]


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
