r"""Accuracy of the theory against sampled networks: relative deviations, tables of points, power-law fits.

Analysis helpers for the accuracy atlas (:mod:`tflmini.experiments.atlas`, whose tables they read) and its
figures (:mod:`tflmini.plots.accuracy`): :func:`relative_deviation` (sampled minus theory over theory, with its
standard error), :func:`select` (rows of a table by column values), :func:`combine_points` (points at the
same coordinates merged, scatter between them included) and :func:`fit_power_law` (finite-size scaling).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SMALL", "relative_deviation", "select", "combine_points", "fit_power_law", "fraction_within"]

#: Relative deviations of quantities whose predicted value is below this (e.g. Q_st at gamma = 0) are NaN.
SMALL = 1e-3


def relative_deviation(theory, mean, se, small=SMALL):
    r"""Relative deviation of sampled from predicted values, :math:`(s - t)/|t|`, and its standard error
    :math:`\mathrm{se}(s)/|t|` (the theory is deterministic); NaN where :math:`|t| <` ``small``.
    Negative: the sampled networks have a smaller value than the theory predicts."""
    t = np.asarray(theory, dtype=float)
    m, s = np.asarray(mean, dtype=float), np.asarray(se, dtype=float)
    ok = np.abs(t) >= small
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, (m - t) / np.abs(t), np.nan), np.where(ok, s / np.abs(t), np.nan)


def select(table, **conditions):
    """The rows of an atlas table (from :func:`~tflmini.experiments.atlas.single_network_atlas` or
    :func:`~tflmini.experiments.atlas.transfer_atlas`) whose columns equal the given values, e.g.
    ``select(t, activation="erf", n_features=50)``; a value may be a callable returning a boolean mask
    (``P=lambda P: P <= 200``). Returns a table of the same layout."""
    n = len(table["source"])
    mask = np.ones(n, dtype=bool)
    for col, val in conditions.items():
        if col not in table:
            raise KeyError(f"the table has no column {col!r}")
        c = table[col]
        if callable(val):
            mask &= np.asarray(val(np.asarray(c) if not isinstance(c, list) else np.array(c)), dtype=bool)
        elif isinstance(c, list):
            mask &= np.array([x == val for x in c], dtype=bool)
        else:
            mask &= np.isclose(c, float(val), rtol=1e-9, atol=0) | (np.isinf(c) & np.isinf(float(val)))
    out = {}
    for col, c in table.items():
        if isinstance(c, dict):
            out[col] = {k: v[mask] for k, v in c.items()}
        elif isinstance(c, list):
            out[col] = [x for x, m in zip(c, mask) if m]
        else:
            out[col] = c[mask]
    return out


def combine_points(x, y, dev, dev_se):
    """Merge atlas points at the same ``(x, y)`` (e.g. the same width and load on several training sets) by an
    inverse-variance weighted mean. Its standard error is the larger of the inverse-variance one and the
    scatter between the merged points (standard deviation / sqrt(count)), so that the variation from one
    training set to another is included. Returns ``x, y, dev, dev_se, count`` over the distinct finite points."""
    x, y, dev, dev_se = (np.asarray(a, dtype=float) for a in (x, y, dev, dev_se))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(dev) & np.isfinite(dev_se)
    keys = sorted({(a, b) for a, b in zip(x[ok], y[ok])})
    out = np.zeros((len(keys), 5))
    for j, (a, b) in enumerate(keys):
        m = ok & (x == a) & (y == b)
        w = 1.0 / np.maximum(dev_se[m], 1e-12) ** 2
        k = int(m.sum())
        spread = np.var(dev[m], ddof=1) / k if k > 1 else 0.0
        out[j] = a, b, np.sum(w * dev[m]) / w.sum(), np.sqrt(max(1.0 / w.sum(), spread)), k
    return tuple(out.T) if keys else tuple(np.zeros(0) for _ in range(5))


def fit_power_law(x, y, se=None):
    r"""Weighted least-squares fit of :math:`y = c\,x^{-s}` (all ``y`` > 0) in log-log coordinates.

    ``se`` are standard errors of ``y`` (weights :math:`y/\mathrm{se}`, i.e. inverse errors of
    :math:`\log y`); without them all points weigh the same. Returns ``(s, s_err, c)``; ``s_err`` is the
    standard error of the exponent (NaN with fewer than three points): from ``se``, inflated by the reduced
    chi-square when the points scatter more than their errors; from the scatter alone without ``se``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("need at least two points of equal-length x and y")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive for a power-law fit")
    w = np.ones_like(y) if se is None else y / np.maximum(np.asarray(se, dtype=float), 1e-12 * y)
    A = np.c_[np.log(x), np.ones_like(x)]
    Aw, bw = A * w[:, None], np.log(y) * w
    coef, *_ = np.linalg.lstsq(Aw, bw, rcond=None)
    s, logc = -coef[0], coef[1]
    if x.size < 3:
        return float(s), float("nan"), float(np.exp(logc))
    resid = bw - Aw @ coef
    chi2 = resid @ resid / (x.size - 2)
    # with standard errors, scatter beyond them inflates the error (never deflates it); without, it sets it
    cov = np.linalg.inv(Aw.T @ Aw) * (chi2 if se is None else max(chi2, 1.0))
    return float(s), float(np.sqrt(cov[0, 0])), float(np.exp(logc))


def fraction_within(dev, dev_se, n_se=2.0):
    r"""Fraction of theory-vs-sampler comparisons whose deviation lies within ``n_se`` standard errors of zero.

    ``dev`` and ``dev_se`` are arrays of deviations and their standard errors, for instance from
    :func:`relative_gap` or the ``dev`` and ``dev_se`` columns of the atlas tables
    (:func:`tflmini.experiments.atlas.single_network_atlas`, :func:`~tflmini.experiments.atlas.transfer_atlas`).
    Entries where either is not finite (a deviation that was not formed, such as an overlap predicted to
    vanish) are left out. If the theory were exact and the errors Gaussian, about 95% of the comparisons
    would lie within two standard errors.

    Returns
    -------
    fraction : float
        Share of the counted entries with :math:`|\mathrm{dev}| \le n_{se}\,\mathrm{dev\_se}` (NaN if none).
    count : int
        Number of entries counted.
    """
    dev = np.asarray(dev, dtype=float).ravel()
    dev_se = np.asarray(dev_se, dtype=float).ravel()
    if dev.shape != dev_se.shape:
        raise ValueError("dev and dev_se must have the same number of entries")
    ok = np.isfinite(dev) & np.isfinite(dev_se)
    count = int(ok.sum())
    if count == 0:
        return float("nan"), 0
    return float(np.mean(np.abs(dev[ok]) <= n_se * dev_se[ok])), count
