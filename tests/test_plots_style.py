"""tflmini.plots.style and the package: theory lines and simulation points drop non-finite values, the NaN
detector used by the widget tests does detect NaN, the shared labels, and the compatibility modules re-export
the objects of tflmini.plots."""

from __future__ import annotations

import importlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tflmini.plots as plots  # noqa: E402
from tflmini.plots import style  # noqa: E402
from tflmini.plots.gamma_axis import gamma_text  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_theory_and_simulation_drop_non_finite(ax):
    line = style.plot_theory(ax, [1, 2, 3, 4], [1.0, np.nan, 3.0, np.inf], label="t")
    assert line.get_xydata().tolist() == [[1, 1], [3, 3]]
    bars = style.plot_simulation(ax, [1, 2, 3], [1.0, np.nan, 2.0], [0.1, 0.1, np.nan], label="s")
    assert np.asarray(bars.lines[0].get_xydata()).tolist() == [[1, 1], [3, 2]]
    for arr in style.plotted_arrays(ax.figure):
        assert np.all(np.isfinite(arr))


def test_nan_detector_detects_nan(ax):
    ax.plot([0, 1], [0, np.nan])
    assert any(not np.all(np.isfinite(a)) for a in style.plotted_arrays(ax.figure))


def test_width_colors_are_stable():
    assert style.width_color(200) == style.width_color(200.0)
    assert style.width_color(100) != style.width_color(800)
    assert style.width_color(np.inf) == style.NNGP_STYLE["color"]


def test_figure_png(ax):
    ax.plot([0, 1], [1, 0])
    assert style.figure_png(ax.figure).startswith(b"\x89PNG")


def test_value_and_coupling_labels():
    assert [style.format_value(v) for v in (np.inf, float("inf"), 0.1, 3, np.float64(100.0), "close")] == \
        ["∞", "∞", "0.1", "3", "100", "close"]
    assert [gamma_text(g) for g in (0.0, 0.5, np.inf)] == ["0", "0.5", r"\infty"]
    assert style.Q_LABELS == {"Q_t": "Qₜ", "Q_st": "Qₛₜ", "Q_tt": "Qₜₜ"}


def test_the_flat_namespace_holds_every_public_name_once():
    assert len(plots.__all__) == len(set(plots.__all__))
    for name in ("style", "gamma_axis", "single", "transfer", "transfer_maps", "real_data", "accuracy"):
        module = importlib.import_module(f"tflmini.plots.{name}")
        assert module.__doc__
        for public in module.__all__:
            assert getattr(plots, public) is getattr(module, public), f"{name}.{public}"
    assert plots.plot_source_size is plots.transfer.plot_source_size  # the synthetic sweep, not the digits one


def test_the_compatibility_module_re_exports_the_same_objects():
    """``tflmini.plotting``, a public name of the package, keeps working for older notebooks."""
    import tflmini.plotting as plotting

    assert "tflmini.plots" in plotting.__doc__ and plotting.__all__
    for name in plotting.__all__:
        assert getattr(plotting, name) is getattr(plots, name), name
