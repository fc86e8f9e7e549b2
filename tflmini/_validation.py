"""Input checks shared by every public function: clear errors that name the argument."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_matrix",
    "check_targets",
    "check_positive",
    "check_nonnegative",
    "check_count",
    "check_same_dim",
    "check_random_state",
]


def _refuse_complex(value, name):
    """Raise a TypeError naming ``name`` if ``value`` holds complex numbers (numpy would drop the imaginary
    part with only a ComplexWarning)."""
    try:
        is_complex = np.iscomplexobj(value)
    except (TypeError, ValueError):  # not array-like: the conversion that follows says so
        return
    if is_complex:
        raise TypeError(f"{name} must be real-valued, got complex values (pass {name}.real explicitly if the "
                        "imaginary part is meant to be dropped)")


def check_matrix(X, name="X", *, min_rows=1):
    """Return ``X`` as a finite float64 array of shape (P, N0), or raise naming ``name``."""
    if X is None:
        raise TypeError(f"{name} must be an array of shape (P, N0), got None")
    _refuse_complex(X, name)
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (P, N0): {exc}") from None
    if arr.ndim != 2:
        hint = " (use X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single point)" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D with shape (P, N0), got shape {arr.shape}{hint}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} point(s), got shape {arr.shape}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one input dimension, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_targets(y, n_rows, name="y"):
    """Return ``y`` as a finite float64 vector of length ``n_rows``."""
    if y is None:
        raise TypeError(f"{name} must be an array of shape (P,), got None")
    _refuse_complex(y, name)
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (P,): {exc}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (P,) (one scalar label per point), got shape {arr.shape}")
    if arr.shape[0] != n_rows:
        raise ValueError(f"{name} has {arr.shape[0]} labels but the inputs have {n_rows} points")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_real(value, name):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if np.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return value


def check_positive(value, name, *, allow_inf=False):
    """Return ``value`` as a float > 0 (finite unless ``allow_inf``)."""
    value = _check_real(value, name)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if np.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def as_number(value):
    """A number from a parameter file: ``"inf"``/``"infinity"`` (any case) and ``inf`` give ``numpy.inf``, anything
    else ``float(value)`` (couplings and widths are stored this way in cached results)."""
    if isinstance(value, str) and value.strip().lower() in ("inf", "infinity"):
        return np.inf
    return float(value)


def check_width(n_hidden, name="n_hidden"):
    """Return a width :math:`N_1` as a float > 0; ``numpy.inf`` (the infinite-width limit) is allowed."""
    return check_positive(n_hidden, name, allow_inf=True)


def check_hidden_units(n_hidden, name="n_hidden"):
    """Return a number of hidden units :math:`N_1` (an estimator's width) as a float: a positive whole number
    (``50`` or ``50.0``), or ``numpy.inf`` (the infinite-width limit). Unlike :func:`check_width`, which the
    continuous theory curves use at any real width, a fractional width is refused."""
    value = check_width(n_hidden, name)
    if np.isfinite(value) and not value.is_integer():
        raise ValueError(f"{name} must be a whole number of hidden units (or numpy.inf), got {n_hidden!r}")
    return value


def check_nonnegative(value, name, *, allow_inf=False):
    """Return ``value`` as a float >= 0 (``inf`` allowed if ``allow_inf``)."""
    value = _check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    if np.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_same_dim(X, n_features, name="X", reference="the training inputs"):
    """Raise if ``X`` does not have ``n_features`` columns."""
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} has input dimension {X.shape[1]} but {reference} have dimension {n_features}"
        )


def check_random_state(seed):
    """Turn ``seed`` (None, int or Generator) into a ``numpy.random.Generator``."""
    seed = check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {type(seed).__name__}")


# -- counts, seeds, finite arrays and numbers in a range (shared by the samplers, tasks and panels) ---------


def check_count(value, name, *, minimum=1, why=None):
    """Return ``value`` as a Python int >= ``minimum``: one check for every count argument (iterations, chains,
    sizes). Integers (and integer-valued floats such as ``5.0``) pass; ``2.5``, ``"5"`` and booleans are
    refused with a ``TypeError`` naming ``name``, values below ``minimum`` with a ``ValueError`` that says why
    (``why``) when given."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if not (isinstance(value, (float, np.floating)) and float(value).is_integer()):
            raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be >= {minimum}{reason}, got {value}")
    return value


def check_seed(seed, name="seed"):
    """Return ``seed`` if it is None, a non-negative int or a ``numpy.random.Generator``; raise naming ``name``
    otherwise (numpy refuses negative seeds)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be None, a non-negative int or a numpy.random.Generator, "
                        f"got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer (numpy seeds are >= 0), got {seed}")
    return int(seed)


def check_finite_array(value, name):
    """Return ``value`` as a float64 array with only finite entries, or raise naming ``name``."""
    if value is None:
        raise TypeError(f"{name} must be a numeric array, got None")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains NaN or infinite values ({bad} of {arr.size} entries)")
    return arr


def check_open_interval(value, name, lo, hi):
    """Return ``value`` as a float strictly between ``lo`` and ``hi``; a non-number is a ``TypeError`` naming
    ``name`` (``"0.8"`` included)."""
    value = _check_real(value, name)
    if not lo < value < hi:
        raise ValueError(f"{name} must be in ({lo:g}, {hi:g}), got {value}")
    return value


def check_finite_real(value, name):
    """Return ``value`` as a finite float (any sign); a non-number is a ``TypeError`` naming ``name``."""
    value = _check_real(value, name)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value
