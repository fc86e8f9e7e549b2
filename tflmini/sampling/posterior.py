r"""The collapsed posterior of the first-layer weights of a one-hidden-layer network (book, chapter "Bayesian
networks as statistical mechanics"), the density the sampler (:mod:`tflmini.sampling.sampler`) draws from.

With :math:`\Psi = \sigma(XW^\top/\sqrt{N_0})/\sqrt{\lambda_1 N_1}` the readout is integrated out exactly:
:class:`CollapsedPosterior` gives the energy
:math:`U(W) = \frac{\lambda}{2}|W-M|^2 + \frac12\log\det G + \frac12 y^\top G^{-1}y`,
:math:`G = \Psi\Psi^\top + T I`, and its gradient (:meth:`~CollapsedPosterior.likelihood`), the exact averages
over :math:`v\,|\,W` (:meth:`~CollapsedPosterior.observables`: :math:`|v|^2/N_1`, train error, test mean and
variance) and exact draws of :math:`v\,|\,W` by Matheron's rule (:meth:`~CollapsedPosterior.sample_readout`).
"""

from __future__ import annotations

import numpy as np

from ..kernels import get_activation

__all__ = ["CollapsedPosterior"]


def _bmv(A, x):
    """Batched matrix-vector product: A (C, n, k) times x (C, k) -> (C, n)."""
    return (A @ x[:, :, None])[:, :, 0]


def _bvm(x, A):
    """Batched vector-matrix product: x (C, n) times A (C, n, k) -> (C, k)."""
    return (x[:, None, :] @ A)[:, 0, :]



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
