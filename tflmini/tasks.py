r"""Synthetic regression tasks: Gaussian inputs labelled by a teacher, and source/target pairs with two
independent, dialable kinds of relatedness.

Teacher. A direction :math:`w^*` of norm :math:`\sqrt{N_0}` and a link, ``"linear"``:
:math:`y = w^*\cdot x/\sqrt{N_0}` or ``"erf"``: :math:`y = \mathrm{erf}(w^*\cdot x/\sqrt{N_0})`, plus
Gaussian label noise of standard deviation ``noise``.

1. Teacher relatedness :math:`\rho\in[0,1]`: the target teacher is
   :math:`w_t = \rho\, w_s + \sqrt{1-\rho^2}\, w_\perp` with :math:`w_\perp \perp w_s` of the same norm,
   so :math:`\rho = w_s\cdot w_t/(|w_s||w_t|)`.
2. Input-distribution shift :math:`s\in[0,1)`: source inputs are :math:`\mathcal N(0, I)`, target inputs
   :math:`\mathcal N(0, \Sigma_t)` with :math:`\Sigma_t = O\,\mathrm{diag}(1\pm s)\,O^\top` (half of the
   eigenvalues :math:`1+s`, half :math:`1-s`, :math:`O` a random rotation): the mean per-component
   variance stays 1 and :math:`s = 0` gives identical input distributions. :func:`input_overlap` turns
   :math:`s` into a per-dimension Bhattacharyya coefficient (1 = identical distributions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from ._validation import check_count, check_nonnegative, check_random_state

__all__ = [
    "TEACHERS",
    "Task",
    "TransferTask",
    "teacher_direction",
    "teacher_labels",
    "teacher_overlap",
    "shift_eigenvalues",
    "input_overlap",
    "make_teacher_task",
    "make_transfer_task",
]

TEACHERS = ("linear", "erf")


@dataclass(frozen=True)
class Task:
    """Train/test data of one task: ``X_train`` (P, N0), ``y_train`` (P,), ``X_test`` (M, N0), ``y_test`` (M,),
    the teacher direction ``w`` (N0,) (None for real data) and a ``name``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    w: np.ndarray | None = None
    name: str = ""

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


@dataclass(frozen=True)
class TransferTask:
    """A source task and a target task with relatedness ``rho`` (teacher overlap for synthetic tasks,
    see :mod:`tflmini.datasets` for real data) and target input shift ``input_shift``."""

    source: Task
    target: Task
    rho: float
    input_shift: float = 0.0


def _check_teacher(teacher):
    if not isinstance(teacher, str) or teacher not in TEACHERS:
        raise ValueError(f"teacher must be one of {TEACHERS}, got {teacher!r}")
    return teacher


def teacher_direction(n_features, rng):
    """A random teacher vector of norm sqrt(N0)."""
    w = rng.standard_normal(n_features)
    return w * np.sqrt(n_features) / np.linalg.norm(w)


def teacher_labels(X, w, teacher="linear"):
    r"""Labels :math:`g(w\cdot x/\sqrt{N_0})` with g the teacher's link (``"linear"`` or ``"erf"``)."""
    z = X @ w / np.sqrt(X.shape[1])
    if _check_teacher(teacher) == "linear":
        return z
    return erf(z)


def teacher_overlap(w_source, w_target):
    r"""Cosine :math:`w_s\cdot w_t/(|w_s||w_t|)` of two teacher directions."""
    w_source = np.asarray(w_source, dtype=np.float64)
    w_target = np.asarray(w_target, dtype=np.float64)
    if w_source.shape != w_target.shape or w_source.ndim != 1:
        raise ValueError(f"w_source and w_target must be 1-D of equal length, got {w_source.shape} and {w_target.shape}")
    return float(w_source @ w_target / (np.linalg.norm(w_source) * np.linalg.norm(w_target)))


def _check_shift(input_shift):
    s = check_nonnegative(input_shift, "input_shift")
    if s >= 1:
        raise ValueError(f"input_shift must be in [0, 1), got {s}")
    return s


def shift_eigenvalues(n_features, input_shift):
    r"""Eigenvalues of the target input covariance: :math:`1+s` and :math:`1-s` alternating (a last
    eigenvalue 1 if :math:`N_0` is odd), so their mean is exactly 1."""
    n_features = check_count(n_features, "n_features")
    s = _check_shift(input_shift)
    eig = np.ones(n_features)
    m = 2 * (n_features // 2)
    eig[:m:2] += s
    eig[1:m:2] -= s
    return eig


def input_overlap(input_shift, n_features=2):
    r"""Per-dimension Bhattacharyya coefficient :math:`BC^{1/N_0}` between the source :math:`\mathcal N(0,I)`
    and target :math:`\mathcal N(0,\Sigma_t)` input distributions,
    :math:`BC = \prod_i \lambda_i^{1/4}\big/\big((1+\lambda_i)/2\big)^{1/2}`; 1 at ``input_shift = 0``."""
    eig = shift_eigenvalues(n_features, input_shift)
    log_bc = np.sum(0.25 * np.log(eig) - 0.5 * np.log((1.0 + eig) / 2.0))
    return float(np.exp(log_bc / eig.size))


def _draw(n_points, n_features, noise, rng):
    """Standard Gaussian inputs and the label-noise draws, in this order (fixes the random stream)."""
    Z = rng.standard_normal((n_points, n_features))
    return Z, noise * rng.standard_normal(n_points)


def _split_task(X, y, n_train, w, name):
    return Task(X[:n_train], y[:n_train], X[n_train:], y[n_train:], w, name)


def make_teacher_task(n_train, n_test, n_features, *, teacher="linear", noise=0.0, seed=None):
    """One task with Gaussian inputs N(0, I_N0) labelled by a random teacher plus Gaussian label noise."""
    n_train = check_count(n_train, "n_train")
    n_test = check_count(n_test, "n_test")
    n_features = check_count(n_features, "n_features")
    noise = check_nonnegative(noise, "noise")
    teacher = _check_teacher(teacher)
    rng = check_random_state(seed)
    w = teacher_direction(n_features, rng)
    X, eps = _draw(n_train + n_test, n_features, noise, rng)
    return _split_task(X, teacher_labels(X, w, teacher) + eps, n_train, w, f"{teacher} teacher")


def make_transfer_task(n_source, n_target, n_test, n_features, rho, *, teacher="linear", noise=0.0, input_shift=0.0,
                       seed=None):
    r"""Source and target tasks whose teachers overlap by ``rho`` in [0, 1].

    The source has ``n_source`` training points, the target ``n_target``, each with ``n_test`` test
    points; ``noise`` is the label-noise standard deviation of both. Source inputs are N(0, I_N0);
    target inputs are N(0, Sigma_t) with the covariance shift ``input_shift`` in [0, 1) (module
    docstring). For a given seed the source task and the target's standard-normal draws do not depend
    on ``rho`` or ``input_shift``, so sweeps over either compare like with like.
    """
    n_source = check_count(n_source, "n_source")
    n_target = check_count(n_target, "n_target")
    n_test = check_count(n_test, "n_test")
    n_features = check_count(n_features, "n_features")
    noise = check_nonnegative(noise, "noise")
    rho = check_nonnegative(rho, "rho")
    if rho > 1:
        raise ValueError(f"rho must be in [0, 1], got {rho}")
    if n_features < 2:
        raise ValueError("n_features must be >= 2 for two teachers with a dialable overlap")
    teacher = _check_teacher(teacher)
    shift = _check_shift(input_shift)
    rng = check_random_state(seed)
    ws = teacher_direction(n_features, rng)
    perp = rng.standard_normal(n_features)
    perp -= (perp @ ws) / (ws @ ws) * ws
    perp *= np.sqrt(n_features) / np.linalg.norm(perp)
    wt = rho * ws + np.sqrt(1.0 - rho**2) * perp
    Xs, eps_s = _draw(n_source + n_test, n_features, noise, rng)
    Xt, eps_t = _draw(n_target + n_test, n_features, noise, rng)
    if shift > 0:
        # drawn after every other number, so the rest of the stream is that of input_shift = 0
        O, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        Xt = (Xt * np.sqrt(shift_eigenvalues(n_features, shift))) @ O.T
    source = _split_task(Xs, teacher_labels(Xs, ws, teacher) + eps_s, n_source, ws, f"source ({teacher} teacher)")
    target = _split_task(Xt, teacher_labels(Xt, wt, teacher) + eps_t, n_target, wt,
                         f"target ({teacher} teacher, rho={rho:g}, shift={shift:g})")
    return TransferTask(source, target, float(rho), float(shift))
