"""tflmini.plots.accuracy: the accuracy-atlas figures draw no NaN (non-finite points dropped, duplicates merged),
and the finite-size scaling figure draws the power-law fit it returns. The fit and the merging are tested in
test_accuracy.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tflmini.plots import plotted_arrays  # noqa: E402
from tflmini.plots.accuracy import plot_deviation_map, plot_finite_size_scaling  # noqa: E402


def _finite_figure(fig):
    arrays = plotted_arrays(fig)
    assert arrays
    for arr in arrays:
        assert np.all(np.isfinite(arr))


def test_deviation_map_merges_points_and_drops_nan():
    fig, ax = plt.subplots()
    x = [50, 50, 100, 100, 200]
    y = [0.5, 0.5, 1.0, 2.0, 1.0]
    dev = [0.02, 0.04, -0.05, np.nan, 0.01]
    sc = plot_deviation_map(ax, x, y, dev, [0.01] * 5)
    assert len(sc.get_offsets()) == 3  # the duplicate merged, the NaN dropped
    assert [t.get_text() for t in ax.texts] and all(t.get_text()[0] in "+-" for t in ax.texts)
    _finite_figure(fig)
    with pytest.raises(ValueError, match="no finite"):
        plot_deviation_map(ax, [1.0], [1.0], [np.nan], [0.1])
    plt.close(fig)


def test_finite_size_scaling_fits_resolved_points():
    fig, ax = plt.subplots()
    n = np.array([50.0, 100.0, 200.0, 400.0, np.nan])
    dev = 2.0 / n
    s, s_err = plot_finite_size_scaling(ax, n, dev, 0.01 * np.abs(dev), label="erf")
    assert s == pytest.approx(1.0, rel=1e-6)
    assert "slope 1.00" in ax.get_legend_handles_labels()[1][0]
    _finite_figure(fig)
    plt.close(fig)
    fig, ax = plt.subplots()
    s, _ = plot_finite_size_scaling(ax, [50.0, 100.0], [0.01, -0.01], [0.1, 0.1])  # nothing resolved: no fit
    assert np.isnan(s)
    _finite_figure(fig)
    plt.close(fig)
