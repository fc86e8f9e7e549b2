r"""NNGP kernels of one-hidden-layer networks, with separate weight statistics on the two sides.

A hidden unit computes :math:`\sigma(h(x))` with preactivation :math:`h(x) = w\cdot x/\sqrt{N_0}`.
If the weight vectors producing :math:`h(x)` and :math:`h'(x')` have per-component variances
``var1``, ``var2`` and covariance ``cov`` (all components independent), then
:math:`(h, h')` is Gaussian with covariance

.. math::

   \Sigma = \begin{pmatrix} c_1 C(x,x) & c_{12} C(x,x') \\ c_{12} C(x,x') & c_2 C(x',x') \end{pmatrix},
   \qquad C(x, x') = x\cdot x'/N_0,

and the kernel is :math:`K(x,x') = \mathbb{E}[\sigma(h)\sigma(h')]` (book, appendix "Kernel formulas").
With ``var1 = var2 = cov = 1/lambda0`` this is the NNGP kernel of a single network; the transfer
theory also needs the source/target and replica/replica kernels, where the three differ.

Each activation's closed form sits next to the activation itself, in :data:`ACTIVATIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import erf

from ._validation import check_finite_real, check_matrix, check_positive, check_same_dim

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "input_overlaps", "nngp_kernel", "kernel_from_overlaps",
           "nngp_diagonal"]


# -- closed forms of E[sigma(h) sigma(h')] for h, h' Gaussian with variances s11, s22, covariance s12 --


def _sqrt_product(a, b):
    r""":math:`\sqrt{ab}`, as ``sqrt(a)*sqrt(b)`` where the product ``a*b`` overflows (huge inputs; elsewhere the
    plain form, so ordinary results do not change by a rounding)."""
    with np.errstate(over="ignore"):
        out = np.sqrt(a * b)
    if np.all(np.isfinite(out)):
        return out
    return np.where(np.isfinite(out), out, np.sqrt(a) * np.sqrt(b))


def _erf_kernel(s11, s22, s12):
    r""":math:`\frac{2}{\pi}\arcsin\frac{2 s_{12}}{\sqrt{(1+2s_{11})(1+2s_{22})}}` (Williams 1997)."""
    ratio = 2.0 * s12 / _sqrt_product(1.0 + 2.0 * s11, 1.0 + 2.0 * s22)
    return (2.0 / np.pi) * np.arcsin(np.clip(ratio, -1.0, 1.0))


def _linear_kernel(s11, s22, s12):
    r""":math:`s_{12}` (the covariance itself)."""
    return np.asarray(s12, dtype=np.float64) * np.ones(np.broadcast(s11, s22, s12).shape)


def _relu_kernel(s11, s22, s12):
    r"""Arc-cosine kernel of degree one (Cho & Saul 2009):
    :math:`\frac{\sqrt{s_{11}s_{22}}}{2\pi}\left(\sin\theta + (\pi-\theta)\cos\theta\right)`,
    :math:`\cos\theta = s_{12}/\sqrt{s_{11}s_{22}}`."""
    norm = _sqrt_product(s11, s22)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norm > 0, s12 / np.where(norm > 0, norm, 1.0), 0.0)
    theta = np.arccos(np.clip(cos, -1.0, 1.0))
    return norm / (2.0 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))


def _erf_prime(h):
    return (2.0 / np.sqrt(np.pi)) * np.exp(-h * h)


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative and its closed-form Gaussian kernel.

    Attributes
    ----------
    name : str
    function : callable, sigma(h), elementwise.
    derivative : callable, sigma'(h), elementwise (used by the sampler's gradients).
    kernel : callable ``(s11, s22, s12) -> E[sigma(h) sigma(h')]`` for a centred Gaussian pair.
    odd : bool, whether sigma(-h) = -sigma(h); the transfer theory assumes an odd activation.
    """

    name: str
    function: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    kernel: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    odd: bool


ACTIVATIONS = {
    "erf": Activation("erf", erf, _erf_prime, _erf_kernel, odd=True),
    "linear": Activation("linear", lambda h: h, np.ones_like, _linear_kernel, odd=True),
    "relu": Activation(
        "relu", lambda h: np.maximum(h, 0.0), lambda h: (h > 0).astype(h.dtype), _relu_kernel, odd=False
    ),
}


def get_activation(activation) -> Activation:
    """Look up an activation by name (``"erf"``, ``"linear"``, ``"relu"``) or pass one through."""
    if isinstance(activation, Activation):
        return activation
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a string, one of {sorted(ACTIVATIONS)}, got {type(activation).__name__}")
    try:
        return ACTIVATIONS[activation]
    except KeyError:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}") from None


def input_overlaps(X1, X2=None):
    r"""Input overlaps :math:`C(x,x') = x\cdot x'/N_0`: returns ``(C11, C22, C12)``.

    ``C11`` (P1,) and ``C22`` (P2,) are the diagonal overlaps, ``C12`` (P1, P2) the cross overlaps.
    """
    X1 = check_matrix(X1, "X1")
    X2 = X1 if X2 is None else check_matrix(X2, "X2")
    check_same_dim(X2, X1.shape[1], "X2", "X1")
    n0 = X1.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        c11 = np.einsum("ij,ij->i", X1, X1) / n0
        c22 = c11 if X2 is X1 else np.einsum("ij,ij->i", X2, X2) / n0
        c12 = X1 @ X2.T / n0
    for name, X, c in (("X1", X1, c11), ("X2", X2, c22)):
        if not np.all(np.isfinite(c)):
            raise ValueError(f"{name} is too large: its overlaps x.x/N0 overflow float64 (largest |entry| "
                             f"{np.max(np.abs(X)):.3g}); rescale the inputs")
    if not np.all(np.isfinite(c12)):  # only reachable through overflow, which the diagonals already catch
        raise ValueError("X1 and X2 are too large: their overlaps x.x'/N0 overflow float64; rescale the inputs")
    return c11, c22, c12


def _finite_kernel(K, what):
    """``K``, or a ValueError naming the inputs if the closed form overflowed (NaN or inf)."""
    if not np.all(np.isfinite(K)):
        raise ValueError(f"the kernel is not finite: the preactivation variances ({what}) overflow float64; "
                         "rescale the inputs or the weight variances")
    return K


def _check_weight_stats(var1, var2, cov):
    var1 = check_positive(var1, "var1")
    var2 = var1 if var2 is None else check_positive(var2, "var2")
    cov = var1 if cov is None and var2 == var1 else cov
    if cov is None:
        raise ValueError("cov must be given when var1 != var2 (the weight covariance between the two sides)")
    cov = check_finite_real(cov, "cov")
    if cov * cov > var1 * var2 * (1 + 1e-12):
        raise ValueError(f"cov**2 must not exceed var1*var2 (a valid joint Gaussian); got cov={cov}, var1={var1}, var2={var2}")
    return var1, var2, cov


def nngp_kernel(X1, X2=None, *, var1=1.0, var2=None, cov=None, activation="erf"):
    r"""Kernel matrix :math:`K_{\mu\nu} = \mathbb{E}[\sigma(h(x_\mu))\,\sigma(h'(x'_\nu))]`.

    Parameters
    ----------
    X1 : array (P1, N0)
    X2 : array (P2, N0), optional; defaults to ``X1``.
    var1, var2 : float > 0
        Per-component variances of the weights acting on ``X1`` and on ``X2``
        (``var2`` defaults to ``var1``).
    cov : float
        Covariance between the two weight vectors; defaults to ``var1`` when the two sides share
        one network (``var1 == var2``), and must be given otherwise. ``cov**2 <= var1*var2``.
    activation : {"erf", "linear", "relu"}

    Returns
    -------
    K : array (P1, P2)
        Closed form from :data:`ACTIVATIONS` evaluated on
        :math:`s_{11} = c_1 C(x,x)`, :math:`s_{22} = c_2 C(x',x')`, :math:`s_{12} = c_{12} C(x,x')`.
    """
    return kernel_from_overlaps(input_overlaps(X1, X2), var1=var1, var2=var2, cov=cov, activation=activation)


def kernel_from_overlaps(overlaps, *, var1=1.0, var2=None, cov=None, activation="erf"):
    r""":func:`nngp_kernel` from the input overlaps ``(C11, C22, C12)`` of :func:`input_overlaps`: the same closed
    form, for callers that evaluate kernels of one pair of input sets at many weight statistics (the couplings of
    a transfer slider) and compute the overlaps, an (P1, N0) x (N0, P2) product, once."""
    act = get_activation(activation)
    var1, var2, cov = _check_weight_stats(var1, var2, cov)
    c11, c22, c12 = overlaps
    with np.errstate(over="ignore", invalid="ignore"):
        K = act.kernel(var1 * c11[:, None], var2 * c22[None, :], cov * c12)
    return _finite_kernel(K, "var1 * |x|^2/N0 of the rows of X1, var2 * |x|^2/N0 of the rows of X2")


def nngp_diagonal(X, *, var=1.0, activation="erf"):
    r"""Diagonal :math:`K(x_\mu, x_\mu)` for weights of variance ``var`` (O(P N0), no P x P matrix)."""
    act = get_activation(activation)
    var = check_positive(var, "var")
    X = check_matrix(X, "X")
    with np.errstate(over="ignore", invalid="ignore"):
        s = var * np.einsum("ij,ij->i", X, X) / X.shape[1]
        K = act.kernel(s, s, s)
    return _finite_kernel(K, "var * |x|^2/N0 of the rows of X")
