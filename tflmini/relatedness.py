r"""Relatedness of two tasks (:func:`task_relatedness`). With :math:`f_s, f_t` the best linear readouts
of each task (ridge regression, no intercept, like the bias-free network), the relatedness is their
normalised overlap as functions on a reference set :math:`R`:

.. math:: \rho = \frac{|\langle f_s, f_t\rangle_R|}{\sqrt{\langle f_s, f_s\rangle_R\,\langle f_t, f_t\rangle_R}},
          \qquad \langle f, g\rangle_R = \frac{1}{|R|}\sum_{x\in R} f(x)g(x).

Defaults, chosen for robustness: each readout is fitted on every *training* image of its class pair
(source and target parts, never the test part), with a ridge penalty relative to the input scale,
:math:`r = \text{ridge}\times\mathrm{tr}(X^\top X)/N_0` (``ridge=0.01``; on the digits catalogue the values
move by at most about 0.1 between penalties 0.001 and 1 and with the NNGP predictor, and the order of the
targets does not change); the reference set is the union of the two tasks' training inputs, where the two
predictors are used. For linear teachers on isotropic Gaussian
inputs this is the teacher overlap :math:`\rho` of :mod:`tflmini.tasks` in the limit of many examples; it is
invariant under swapping a task's labels, as the transfer theory is (the target readout is free). Target
labels are oriented so the signed overlap is positive. ``method="nngp"`` uses the infinite-width
network's posterior-mean predictors instead of ridge.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_matrix, check_positive, check_targets
from .kernels import nngp_kernel

__all__ = ["ridge_readout", "task_relatedness"]

METHODS = ("ridge", "nngp")


def ridge_readout(X, y, ridge=0.01):
    r"""Ridge readout :math:`w = (X^\top X + rI)^{-1}X^\top y` (no intercept) with the penalty relative to the
    input scale, :math:`r = \text{ridge}\times\mathrm{tr}(X^\top X)/N_0` (the mean eigenvalue of :math:`X^\top X`;
    :math:`= P\,\text{ridge}` for inputs with :math:`|x|^2 = N_0`)."""
    X = check_matrix(X, "X")
    y = check_targets(y, X.shape[0], "y")
    ridge = check_positive(ridge, "ridge")
    A = X.T @ X
    r = ridge * np.trace(A) / X.shape[1]
    return np.linalg.solve(A + r * np.eye(X.shape[1]), X.T @ y)


def _readout_on(X_train, y_train, X_ref, method, ridge, temperature):
    if method == "ridge":
        return X_ref @ ridge_readout(X_train, y_train, ridge)
    K = nngp_kernel(X_train)
    K[np.diag_indices_from(K)] += temperature
    return nngp_kernel(X_ref, X_train) @ np.linalg.solve(K, y_train)


def task_relatedness(X_source, y_source, X_target, y_target, X_ref=None, *, method="ridge", ridge=0.01,
                     temperature=0.05, signed=False):
    r"""Overlap of the two tasks' predictors on the reference inputs ``X_ref`` (module docstring).

    ``method="ridge"``: ridge readouts (:func:`ridge_readout`, penalty ``ridge`` relative to the input
    scale); ``"nngp"``: posterior means of the infinite-width erf network (NNGP kernel, noise
    ``temperature``). ``X_ref=None``: the union of the two tasks' inputs. Pass training inputs only. Returns
    :math:`\rho\in[0,1]`, or the signed overlap in [-1, 1] if ``signed``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    ridge = check_positive(ridge, "ridge")
    temperature = check_positive(temperature, "temperature")
    Xs = check_matrix(X_source, "X_source")
    ys = check_targets(y_source, Xs.shape[0], "y_source")
    Xt = check_matrix(X_target, "X_target")
    yt = check_targets(y_target, Xt.shape[0], "y_target")
    if Xt.shape[1] != Xs.shape[1]:
        raise ValueError(f"X_target has {Xt.shape[1]} components but X_source has {Xs.shape[1]}")
    Xr = np.r_[Xs, Xt] if X_ref is None else check_matrix(X_ref, "X_ref")
    if Xr.shape[1] != Xs.shape[1]:
        raise ValueError(f"X_ref has {Xr.shape[1]} components but X_source has {Xs.shape[1]}")
    fs = _readout_on(Xs, ys, Xr, method, ridge, temperature)
    ft = _readout_on(Xt, yt, Xr, method, ridge, temperature)
    norm = np.sqrt((fs @ fs) * (ft @ ft))
    if norm == 0:
        raise ValueError("a task's predictor vanishes on X_ref: relatedness undefined")
    overlap = float(fs @ ft / norm)
    return overlap if signed else abs(overlap)

