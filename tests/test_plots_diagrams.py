"""tflmini.plots.diagrams: each diagram draws its system with the labels a reader needs, in text that stays
legible in the book's column, and bad arguments are refused with an error naming them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import tflmini.plots as tp  # noqa: E402
from tflmini.plots import diagrams  # noqa: E402
from tflmini.plots.style import COLUMN_PX, MIN_TEXT_PX, smallest_text_pt  # noqa: E402


def _texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(7, 4))
    yield ax
    plt.close(fig)


def test_the_diagrams_are_re_exported():
    for name in diagrams.__all__:
        assert getattr(tp, name) is getattr(diagrams, name)


def test_two_layer_network(ax):
    diagrams.draw_two_layer_network(ax, n_in=4, n_hidden=5)
    text = _texts(ax)
    for label in ("input $x$", "$N_1$ hidden units", "first layer $W$", "readout $v$", r"\lambda_0", r"\lambda_1"):
        assert label in text
    assert len(ax.patches) == 4 + 5 + 1  # one circle per drawn node
    assert len(ax.lines) == 4 * 5 + 5  # every input joined to every hidden unit, every hidden unit to the output
    assert not ax.axison


def test_bayesian_setup(ax):
    diagrams.draw_bayesian_setup(ax)
    text = _texts(ax)
    for label in ("training data", "Gaussian priors", "temperature $T$", "Gibbs posterior", "HMC sampler",
                  "test errors"):
        assert label in text


def test_source_target_pair(ax):
    diagrams.draw_source_target_pair(ax)
    text = _texts(ax)
    for label in ("source network $(W_s, v_s)$", "target network $(W_t, v_t)$", r"\frac{\gamma}{2}|W_t - W_s|^2",
                  "$P_s$", "$P_t$", "frozen features"):
        assert label in text


@pytest.mark.parametrize("n", [2, 3, 4])
def test_replicated_system(ax, n):
    diagrams.draw_replicated_system(ax, n)
    texts = [t.get_text() for t in ax.texts]
    assert sum("replica $a=" in t for t in texts) == n
    assert sum(t == "$Q_t$" for t in texts) == n  # one self-overlap per replica
    assert sum(t == "$Q_s$" for t in texts) == 1
    assert sum("Q_{st}" in t for t in texts) == n  # one per source-replica link
    assert sum(t == "$Q_{tt}$" for t in texts) == n - 1  # one per neighbouring pair of replicas
    assert "replica $a=n$" in " ".join(texts)


@pytest.mark.parametrize("draw", [diagrams.draw_two_layer_network, diagrams.draw_bayesian_setup,
                                  diagrams.draw_source_target_pair, diagrams.draw_replicated_system])
def test_diagram_text_is_legible_in_the_column(draw):
    fig = diagrams.diagram_figure(draw, width=7.5)
    try:
        width = fig.get_size_inches()[0]
        assert smallest_text_pt(fig) >= diagrams.MIN_FONT_PT
        assert smallest_text_pt(fig) / 72 * COLUMN_PX / width >= MIN_TEXT_PX
        (x0, x1), (y0, y1) = fig.axes[0].get_xlim(), fig.axes[0].get_ylim()
        assert fig.get_size_inches()[1] == pytest.approx(width * (y1 - y0) / (x1 - x0))
    finally:
        plt.close(fig)


def test_bad_arguments_are_named(ax):
    with pytest.raises(TypeError, match="ax"):
        diagrams.draw_two_layer_network("not an axes")
    with pytest.raises(ValueError, match="n_hidden"):
        diagrams.draw_two_layer_network(ax, n_hidden=1)
    with pytest.raises(TypeError, match="n_in"):
        diagrams.draw_two_layer_network(ax, n_in=2.5)
    with pytest.raises(ValueError, match="n_replicas"):
        diagrams.draw_replicated_system(ax, 1)
    with pytest.raises(ValueError, match="n_replicas"):
        diagrams.draw_replicated_system(ax, 9)
    with pytest.raises(ValueError, match="draw"):
        diagrams.diagram_figure(print)
    with pytest.raises(ValueError, match="width"):
        diagrams.diagram_figure(diagrams.draw_bayesian_setup, width=50)
