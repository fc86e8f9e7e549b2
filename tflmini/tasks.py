r"""Synthetic regression tasks: Gaussian inputs labelled by a teacher, and source/target pairs of
dialable relatedness.

A teacher is a unit-norm direction :math:`w^*` (scaled to norm :math:`\sqrt{N_0}`) and a link:
``"linear"``: :math:`y = w^*\cdot x/\sqrt{N_0}`; ``"erf"``: :math:`y = \mathrm{erf}(w^*\cdot x/\sqrt{N_0})`.
For a pair, the target teacher is :math:`w_t = \rho\, w_s + \sqrt{1-\rho^2}\, w_\perp` with
:math:`w_\perp \perp w_s` of the same norm, so :math:`\rho = w_s\cdot w_t/|w_s||w_t|` is the relatedness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from ._validation import check_nonnegative, check_positive_int, check_random_state

__all__ = ["Task", "TransferTask", "teacher_direction", "teacher_labels", "make_teacher_task", "make_transfer_task"]

TEACHERS = ("linear", "erf")


@dataclass(frozen=True)
class Task:
    """Train/test data of one task: ``X_train`` (P, N0), ``y_train`` (P,), ``X_test`` (M, N0), ``y_test`` (M,),
    and the teacher direction ``w`` (N0,)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    w: np.ndarray


@dataclass(frozen=True)
class TransferTask:
    """A source task and a target task whose teachers have overlap ``rho``."""

    source: Task
    target: Task
    rho: float


def teacher_direction(n_features, rng):
    """A random teacher vector of norm sqrt(N0)."""
    w = rng.standard_normal(n_features)
    return w * np.sqrt(n_features) / np.linalg.norm(w)


def teacher_labels(X, w, teacher="linear"):
    r"""Labels :math:`g(w\cdot x/\sqrt{N_0})` with g the teacher's link (``"linear"`` or ``"erf"``)."""
    z = X @ w / np.sqrt(X.shape[1])
    if teacher == "linear":
        return z
    if teacher == "erf":
        return erf(z)
    raise ValueError(f"teacher must be one of {TEACHERS}, got {teacher!r}")


def _make_task(w, n_train, n_test, teacher, noise, rng):
    n0 = w.shape[0]
    X = rng.standard_normal((n_train + n_test, n0))
    y = teacher_labels(X, w, teacher) + noise * rng.standard_normal(n_train + n_test)
    return Task(X[:n_train], y[:n_train], X[n_train:], y[n_train:], w)


def make_teacher_task(n_train, n_test, n_features, *, teacher="linear", noise=0.0, seed=None):
    """One task with Gaussian inputs N(0, I_N0) labelled by a random teacher plus Gaussian label noise."""
    n_train = check_positive_int(n_train, "n_train")
    n_test = check_positive_int(n_test, "n_test")
    n_features = check_positive_int(n_features, "n_features")
    noise = check_nonnegative(noise, "noise")
    if teacher not in TEACHERS:
        raise ValueError(f"teacher must be one of {TEACHERS}, got {teacher!r}")
    rng = check_random_state(seed)
    return _make_task(teacher_direction(n_features, rng), n_train, n_test, teacher, noise, rng)


def make_transfer_task(n_source, n_target, n_test, n_features, rho, *, teacher="linear", noise=0.0, seed=None):
    r"""Source and target tasks whose teachers overlap by ``rho`` in [0, 1].

    Both use inputs N(0, I_N0); the source has ``n_source`` training points, the target ``n_target``,
    each with ``n_test`` test points.
    """
    n_source = check_positive_int(n_source, "n_source")
    n_target = check_positive_int(n_target, "n_target")
    n_test = check_positive_int(n_test, "n_test")
    n_features = check_positive_int(n_features, "n_features")
    noise = check_nonnegative(noise, "noise")
    rho = check_nonnegative(rho, "rho")
    if rho > 1:
        raise ValueError(f"rho must be in [0, 1], got {rho}")
    if n_features < 2:
        raise ValueError("n_features must be >= 2 for two teachers with a dialable overlap")
    if teacher not in TEACHERS:
        raise ValueError(f"teacher must be one of {TEACHERS}, got {teacher!r}")
    rng = check_random_state(seed)
    ws = teacher_direction(n_features, rng)
    perp = rng.standard_normal(n_features)
    perp -= (perp @ ws) / (ws @ ws) * ws
    perp *= np.sqrt(n_features) / np.linalg.norm(perp)
    wt = rho * ws + np.sqrt(1.0 - rho**2) * perp
    source = _make_task(ws, n_source, n_test, teacher, noise, rng)
    target = _make_task(wt, n_target, n_test, teacher, noise, rng)
    return TransferTask(source, target, float(rho))
