"""tflmini.accuracy: the analysis helpers of the accuracy atlas (relative deviation, selection of rows, merged
points, power-law fit) give known answers."""

from __future__ import annotations

import numpy as np
import pytest

from tflmini import accuracy


def test_relative_deviation():
    dev, se = accuracy.relative_deviation([0.5, -2.0, 0.0], [0.55, -1.0, 0.1], [0.01, 0.2, 0.1])
    np.testing.assert_allclose(dev[:2], [0.1, 0.5])
    np.testing.assert_allclose(se[:2], [0.02, 0.1])
    assert np.isnan(dev[2]) and np.isnan(se[2])


def test_fit_power_law_known_answers():
    x = np.array([50.0, 100, 200, 400])
    s, s_err, c = accuracy.fit_power_law(x, 3.0 / x)
    assert s == pytest.approx(1.0) and c == pytest.approx(3.0) and s_err < 1e-8
    rng = np.random.default_rng(0)
    y = 2.0 * x**-0.5 * (1 + 0.02 * rng.standard_normal(x.size))
    s, s_err, _ = accuracy.fit_power_law(x, y, 0.02 * y)
    assert abs(s - 0.5) < 4 * s_err and 0 < s_err < 0.1
    with pytest.raises(ValueError):
        accuracy.fit_power_law([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError):
        accuracy.fit_power_law([1.0], [1.0])


def test_combine_points_merges_duplicates_with_their_spread():
    x, y, d, e, k = accuracy.combine_points([1, 1, 2, 2, 3], [5, 5, 5, 5, 5], [0.1, 0.3, 0.2, 0.2, np.nan],
                                            [0.01, 0.01, 0.05, 0.05, 0.01])
    np.testing.assert_allclose(x, [1, 2]) and np.testing.assert_allclose(k, [2, 2])
    np.testing.assert_allclose(d, [0.2, 0.2])
    # two equal-error points 0.2 apart: the spread (0.1) dominates the inverse-variance error (0.007)
    np.testing.assert_allclose(e, [np.sqrt(0.02 / 2), 0.05 / np.sqrt(2)])


def test_select_rows_by_value_list_and_mask():
    t = {"source": ["a", "b", "c"], "n_hidden": np.array([100.0, 200.0, np.inf]),
         "Q": {"dev": np.array([0.1, 0.2, 0.3]), "dev_se": np.array([0.01, 0.02, 0.03])}}
    s = accuracy.select(t, n_hidden=np.inf)
    assert s["source"] == ["c"] and list(s["Q"]["dev"]) == [0.3]
    s = accuracy.select(t, source="b")
    assert list(s["n_hidden"]) == [200.0]
    s = accuracy.select(t, n_hidden=lambda n: n < 1000)
    assert s["source"] == ["a", "b"] and list(s["Q"]["dev_se"]) == [0.01, 0.02]
    with pytest.raises(KeyError):
        accuracy.select(t, width=1)


def test_fraction_within_counts_finite_comparisons():
    frac, count = accuracy.fraction_within([0.1, -0.5, 0.05, np.nan], [0.1, 0.1, np.inf, 0.1])
    assert count == 2 and frac == pytest.approx(0.5)
    frac, count = accuracy.fraction_within([], [])
    assert count == 0 and np.isnan(frac)
    with pytest.raises(ValueError, match="same number"):
        accuracy.fraction_within([1.0, 2.0], [1.0])
