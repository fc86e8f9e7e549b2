r"""The single-network theory on one data set, evaluated fast for many widths, temperatures and priors.

:class:`~tflmini.KernelRenormalization` fits one width and one temperature. Curves and slider panels
need the same data set at hundreds of :math:`(N_1, T, \lambda_1)` values. Everything that depends on
the data only is computed once here:

* the eigendecomposition :math:`K = U\,\mathrm{diag}(k)\,U^\top` of the training kernel and the projected
  labels :math:`\tilde y = U^\top y` (:math:`O(P^3)`, once);
* the projections :math:`U^\top k_*` of the train/test kernel and the test diagonal :math:`k_{**}`
  (:math:`O(P^2 M)`, once).

After that, the saddle point :math:`Q^*` costs :math:`O(P)` per evaluation of the action, and the test
errors of the renormalized predictor cost :math:`O(PM)`:

.. math::

   \bar f(x_*) = Q\sum_i \frac{(U^\top k_*)_i\,\tilde y_i}{Qk_i + T},\qquad
   \mathrm{Var}\,f(x_*) = Q k_{**} - Q^2 \sum_i \frac{(U^\top k_*)_i^2}{Qk_i + T}.

Used by the book's chapters on the infinite-width limit and on kernel renormalization and by
:mod:`tflmini.widgets`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._validation import check_matrix, check_positive, check_same_dim, check_targets, check_width
from .kernels import get_activation, nngp_diagonal, nngp_kernel
from ._threads import single_thread
from .renormalization import ConvergenceError, KernelSpectrum, kr_action, solve_kr_saddle

__all__ = ["TheoryOnData", "nested_theories", "learning_curve"]


class TheoryOnData:
    r"""Kernel renormalization of one training set, fast for many :math:`(N_1, T, \lambda_1)`.

    Parameters
    ----------
    X : array (P, N0), training inputs; y : array (P,), labels.
    X_test : array (M, N0), optional; y_test : array (M,), optional. Needed for test errors.
    lambda0 : float > 0, prior precision of the first layer (the kernel has weight variance 1/lambda0).
    activation : {"erf", "linear", "relu"}

    Attributes
    ----------
    spectrum : :class:`~tflmini.renormalization.KernelSpectrum` of the training kernel.
    n_train : int, P.

    Examples
    --------
    >>> from tflmini import make_teacher_task
    >>> task = make_teacher_task(100, 200, 20, teacher="erf", seed=0)
    >>> theory = TheoryOnData(task.X_train, task.y_train, task.X_test, task.y_test)
    >>> out = theory.evaluate(n_hidden=50, temperature=0.05)
    >>> sorted(out)
    ['Q', 'gibbs_error', 'mean_error']
    """

    def __init__(self, X, y, X_test=None, y_test=None, *, lambda0=1.0, activation="erf"):
        X = check_matrix(X, "X")
        y = check_targets(y, X.shape[0], "y")
        lambda0 = check_positive(lambda0, "lambda0")
        activation = get_activation(activation).name
        k_cross = k_diag = None
        with single_thread():
            K = nngp_kernel(X, var1=1.0 / lambda0, activation=activation)
            if X_test is not None:
                X_test = check_matrix(X_test, "X_test")
                check_same_dim(X_test, X.shape[1], "X_test", "X")
                k_cross = nngp_kernel(X, X_test, var1=1.0 / lambda0, activation=activation)
                k_diag = nngp_diagonal(X_test, var=1.0 / lambda0, activation=activation)
                if y_test is not None:
                    y_test = check_targets(y_test, X_test.shape[0], "y_test")
            self._set_kernels(K, y, k_cross, k_diag, y_test)
        self.lambda0 = lambda0
        self.activation = activation

    @classmethod
    def from_kernels(cls, K, y, k_cross=None, k_diag=None, y_test=None, *, lambda0=None, activation=None):
        r"""Build from precomputed kernels: ``K`` (P, P) on the training inputs, ``k_cross`` (P, M)
        train/test and ``k_diag`` (M,) test diagonal (e.g. slices of one large kernel, for nested
        training sets). ``lambda0`` and ``activation`` are only recorded."""
        self = cls.__new__(cls)
        K = np.asarray(K, dtype=np.float64)
        if K.ndim != 2 or K.shape[0] != K.shape[1]:
            raise ValueError(f"K must be a square matrix, got shape {K.shape}")
        y = check_targets(y, K.shape[0], "y")
        if (k_cross is None) != (k_diag is None):
            raise ValueError("give both k_cross and k_diag, or neither")
        if k_cross is not None:
            k_cross = np.asarray(k_cross, dtype=np.float64)
            k_diag = np.asarray(k_diag, dtype=np.float64)
            if k_cross.shape != (K.shape[0], k_diag.shape[0]):
                raise ValueError(f"k_cross must have shape (P, M) = {(K.shape[0], k_diag.shape[0])}, got {k_cross.shape}")
            if y_test is not None:
                y_test = check_targets(y_test, k_diag.shape[0], "y_test")
        elif y_test is not None:
            raise ValueError("y_test needs k_cross and k_diag")
        with single_thread():
            self._set_kernels(K, y, k_cross, k_diag, y_test)
        self.lambda0, self.activation = lambda0, activation
        return self

    def _set_kernels(self, K, y, k_cross, k_diag, y_test):
        self.n_train = K.shape[0]
        self.spectrum = KernelSpectrum.from_kernel(K, y)
        self._proj = self._proj_sq = None
        self._k_diag, self._y_test = k_diag, y_test
        if k_cross is not None:
            self._proj = self.spectrum.eigvecs.T @ k_cross  # (P, M)
            self._proj_sq = self._proj**2
        self._saddle = lru_cache(maxsize=4096)(self._solve)

    # -- the saddle point ------------------------------------------------------------------------
    def _solve(self, n_hidden, temperature, lambda1):
        return solve_kr_saddle(self.spectrum, n_hidden, temperature, lambda1)[0]

    def saddle(self, n_hidden, temperature, lambda1=1.0):
        r"""The saddle point :math:`Q^*` (cached per :math:`(N_1, T, \lambda_1)`).
        Raises :class:`~tflmini.ConvergenceError` if no stationary point is found."""
        n_hidden = check_width(n_hidden)
        temperature = check_positive(temperature, "temperature")
        lambda1 = check_positive(lambda1, "lambda1")
        return self._saddle(n_hidden, temperature, lambda1)

    def action(self, Q, n_hidden, temperature, lambda1=1.0):
        r"""The effective action :math:`S(Q)` (vectorised over ``Q > 0``)."""
        Q = np.asarray(Q, dtype=np.float64)
        if np.any(Q <= 0):
            raise ValueError("Q must be > 0")
        return kr_action(Q, self.spectrum.eigvals, self.spectrum.y_proj, check_width(n_hidden),
                         check_positive(temperature, "temperature"), check_positive(lambda1, "lambda1"))

    # -- the predictor ---------------------------------------------------------------------------
    def predict(self, Q, temperature):
        r"""Posterior mean and variance of :math:`f` on the test inputs for the kernel :math:`QK`, noise T."""
        if self._proj is None:
            raise RuntimeError("TheoryOnData was built without X_test: no test predictions")
        Q = check_positive(Q, "Q")
        temperature = check_positive(temperature, "temperature")
        denom = Q * self.spectrum.eigvals + temperature
        mean = Q * (self._proj.T @ (self.spectrum.y_proj / denom))
        var = Q * self._k_diag - Q**2 * (self._proj_sq.T @ (1.0 / denom))
        return mean, np.clip(var, 0.0, None)

    def errors(self, Q, temperature):
        r"""``(gibbs_error, mean_error)`` of the predictor with kernel :math:`QK` and noise :math:`T`:
        the posterior-mean error :math:`\langle(y-\bar f)^2\rangle` and the Gibbs error, which adds the
        posterior variance."""
        if self._y_test is None:
            raise RuntimeError("TheoryOnData was built without y_test: no test errors")
        mean, var = self.predict(Q, temperature)
        sq = (self._y_test - mean) ** 2
        return float(np.mean(sq + var)), float(np.mean(sq))

    def evaluate(self, n_hidden, temperature, lambda1=1.0):
        r"""``{"Q", "gibbs_error", "mean_error"}`` at one :math:`(N_1, T, \lambda_1)`; the errors need test data."""
        Q = self.saddle(n_hidden, temperature, lambda1)
        out = {"Q": Q}
        if self._y_test is not None:
            out["gibbs_error"], out["mean_error"] = self.errors(Q, temperature)
        return out

    def along(self, n_hidden, temperature, lambda1=1.0):
        r""":meth:`evaluate` along arrays: each argument is a scalar or an array, broadcast together.

        Returns a dict of arrays of the broadcast shape; a point whose saddle point is not found is NaN
        (and counted in ``n_failed``).
        """
        n1, T, l1 = np.broadcast_arrays(np.asarray(n_hidden, dtype=float), np.asarray(temperature, dtype=float),
                                        np.asarray(lambda1, dtype=float))
        keys = ["Q"] + (["gibbs_error", "mean_error"] if self._y_test is not None else [])
        out = {k: np.full(n1.shape, np.nan) for k in keys}
        failed = 0
        with single_thread():
            for idx in np.ndindex(n1.shape):
                try:
                    res = self.evaluate(n1[idx], T[idx], l1[idx])
                except ConvergenceError:
                    failed += 1
                    continue
                for k in keys:
                    out[k][idx] = res[k]
        out["n_failed"] = failed
        return out


def nested_theories(task, sizes, *, lambda0=1.0, activation="erf"):
    r"""One :class:`TheoryOnData` per training-set size: the first ``P`` points of ``task.X_train`` for
    each ``P`` in ``sizes`` (nested training sets, one test set). The kernels are computed once on the
    largest set and sliced."""
    sizes = np.asarray(sizes, dtype=int)
    n_max = task.X_train.shape[0]
    if sizes.ndim != 1 or sizes.size == 0 or sizes.min() < 1 or sizes.max() > n_max:
        raise ValueError(f"sizes must be between 1 and the {n_max} training points of the task")
    lambda0 = check_positive(lambda0, "lambda0")
    activation = get_activation(activation).name
    X, y = task.X_train[: sizes.max()], task.y_train[: sizes.max()]
    with single_thread():
        K = nngp_kernel(X, var1=1.0 / lambda0, activation=activation)
        k_cross = nngp_kernel(X, task.X_test, var1=1.0 / lambda0, activation=activation)
        k_diag = nngp_diagonal(task.X_test, var=1.0 / lambda0, activation=activation)
    return [TheoryOnData.from_kernels(K[:P, :P], y[:P], k_cross[:P], k_diag, task.y_test, lambda0=lambda0,
                                      activation=activation) for P in sizes]


def learning_curve(task, sizes, n_hidden, temperature, *, lambda0=1.0, lambda1=1.0, activation="erf",
                   theories=None):
    r"""Theory test errors against the number of training points, on nested training sets of ``task``.

    The first ``P`` points of ``task.X_train`` are used for each ``P`` in ``sizes``; ``n_hidden`` may be
    ``numpy.inf`` (the NNGP limit) or an array broadcast with ``sizes`` (e.g. ``sizes / alpha`` for a
    fixed load). ``theories`` (from :func:`nested_theories` with the same sizes) skips the kernel work.
    Returns ``{"P", "Q", "gibbs_error", "mean_error"}`` arrays over ``sizes`` (NaN where the saddle point
    is not found).
    """
    sizes = np.asarray(sizes, dtype=int)
    if theories is None:
        theories = nested_theories(task, sizes, lambda0=lambda0, activation=activation)
    if len(theories) != sizes.size:
        raise ValueError(f"got {len(theories)} theories for {sizes.size} sizes")
    widths = np.broadcast_to(np.asarray(n_hidden, dtype=float), sizes.shape)
    out = {"P": sizes, "Q": np.full(sizes.size, np.nan), "gibbs_error": np.full(sizes.size, np.nan),
           "mean_error": np.full(sizes.size, np.nan)}
    with single_thread():
        for i, (theory, n1) in enumerate(zip(theories, widths)):
            try:
                res = theory.evaluate(n1, temperature, lambda1)
            except ConvergenceError:
                continue
            for k in ("Q", "gibbs_error", "mean_error"):
                out[k][i] = res[k]
    return out
