"""tflmini.transfer_plots: the theory along the coupling, the matched-prior control, the predictor split, the
cached-result readers and the part II figures (no NaN drawn, labelled axes)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tflmini.transfer_plots as tp  # noqa: E402
from tflmini import KernelRenormalization, make_transfer_task, plotting  # noqa: E402
from tflmini.experiments import CacheError, load  # noqa: E402


@pytest.fixture(scope="module")
def task():
    return make_transfer_task(60, 20, 80, 20, 0.8, teacher="erf", seed=2)


@pytest.fixture(scope="module")
def curve(task):
    return tp.theory_along_gamma(task, 40, [np.inf, 0.0, 1.0, 10.0], temperature=0.05, matched_prior=True,
                                 estimators=True)


def _finite_figure(fig):
    arrays = plotting.plotted_arrays(fig)
    assert arrays
    for arr in arrays:
        assert np.all(np.isfinite(arr)), "a plotted array holds NaN or inf"


def test_gamma_grid_ends_and_density():
    g = tp.gamma_grid(1e-2, 1e2, per_decade=2)
    assert g[0] == 0.0 and np.isinf(g[-1])
    assert np.allclose(g[1:-1], np.geomspace(1e-2, 1e2, 9))
    assert tp.gamma_grid(1e-2, 1e2, zero=False, infinity=False)[0] == pytest.approx(1e-2)
    with pytest.raises(ValueError):
        tp.gamma_grid(1.0, 0.5)


def test_theory_along_gamma_keeps_the_given_order(curve):
    assert list(curve["gammas"][:2]) == [np.inf, 0.0]
    assert curve["n_failed"] == 0
    assert curve["Q_st"][1] == pytest.approx(0.0, abs=1e-10) and curve["Q_tt"][1] == pytest.approx(0.0, abs=1e-10)
    for k in ("mean_error", "gibbs_error", "Q_s", "Q_t", "Q_st", "Q_tt", "matched_mean_error"):
        assert np.all(np.isfinite(curve[k])), k
    assert np.all(curve["gibbs_error"] >= curve["mean_error"])  # Gibbs error = mean error + variance


def test_matched_prior_control_is_scratch_at_both_ends(task, curve):
    # gamma = 0 and gamma = inf: c_tt = 1/lambda0, so the control is the network trained from scratch
    scratch = KernelRenormalization(40, 0.05).fit(task.target.X_train, task.target.y_train)
    e = float(np.mean((task.target.y_test - scratch.predict(task.target.X_test)) ** 2))
    for i in (0, 1):
        assert curve["matched_mean_error"][i] == pytest.approx(e, rel=1e-8)
    assert curve["mean_error"][1] == pytest.approx(e, rel=1e-8)  # transfer at gamma = 0 is scratch too
    # in between the prior variance is smaller: a different network
    assert curve["matched_mean_error"][2] != pytest.approx(e, rel=1e-6)


def test_lazy_limit_equals_the_matched_prior_control(task):
    c = tp.theory_along_gamma(task, np.inf, [0.0, 0.5, 1.0, 5.0, np.inf], temperature=0.05, matched_prior=True)
    assert np.allclose(c["mean_error"], c["matched_mean_error"], rtol=1e-9, atol=1e-12)
    assert np.allclose(c["Q_st"], 0.0) and np.allclose(c["Q_tt"], 0.0)


def test_optimal_gamma():
    assert tp.optimal_gamma([0.0, 1.0, np.inf], [0.3, 0.1, 0.2]) == (1.0, 0.1)
    assert tp.optimal_gamma([0.0, np.inf], [np.nan, 0.2]) == (np.inf, 0.2)
    g, e = tp.optimal_gamma([0.0, 1.0], [np.nan, np.nan])
    assert np.isnan(g) and np.isnan(e)
    with pytest.raises(ValueError):
        tp.optimal_gamma([0.0, 1.0], [0.1])


def test_predictor_terms_add_up(task, curve):
    est = curve["estimators"][2]  # gamma = 1
    terms = tp.predictor_terms(est, task.target.X_test)
    assert np.allclose(terms["source"] + terms["residual"], est.predict(task.target.X_test), atol=1e-12)
    assert np.max(np.abs(terms["source"])) > 0
    at_zero = tp.predictor_terms(curve["estimators"][1], task.target.X_test)  # gamma = 0: nothing from the source
    assert np.allclose(at_zero["source"], 0.0, atol=1e-10)


def test_gamma_position_puts_the_ends_outside_the_log_axis():
    x = tp.gamma_position([0.0, 1e-2, 1.0, 1e3, np.inf, 1e6])
    assert x[0] == pytest.approx(-3.0) and x[-2] == pytest.approx(4.0)
    assert list(x[1:4]) == pytest.approx([-2.0, 0.0, 3.0])
    assert x[-1] == pytest.approx(3.0)  # clipped to g_max


def test_plot_action_slices_labels_and_signature(curve):
    fig, axes = plt.subplots(1, 3)
    out = tp.plot_action_slices(axes, curve["estimators"][2])
    _finite_figure(fig)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert set(out) == {"Q_t", "Q_tt", "Q_st"}
    plt.close(fig)


def test_prior_figures_draw_finite_values():
    fig, (ax, bx) = plt.subplots(1, 2)
    tp.plot_coupled_prior(ax, gammas=(0.0, 1.0, np.inf))
    tp.plot_weight_statistics(bx)
    _finite_figure(fig)
    plt.close(fig)


def _cached(name):
    try:
        return load(name)
    except CacheError as exc:  # the cached experiments are part of the repository; say which one is missing
        pytest.fail(f"cached experiment {name} is not readable: {exc}")


def test_plot_source_size_matches_the_cached_theory():
    res = _cached("source_size")
    fig, ax = plt.subplots()
    out = tp.plot_source_size(ax, res)
    _finite_figure(fig)
    th = res.theory
    for k, nt in enumerate(th["n_targets"]):
        assert np.allclose(out[int(nt)], np.asarray(th["E_zero"])[k] - np.asarray(th["E_inf"])[k])
    # the sampled target sizes are drawn as error bars
    assert len(ax.containers) == len(res.simulation["n_targets"])
    assert ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="not among"):
        tp.plot_source_size(ax, res, n_targets=[7])
    plt.close(fig)


def test_cached_experiment_figures_draw_finite_values():
    fig, axes = plt.subplots(1, 2)
    tp.plot_width_effect(axes, _cached("width_effect"))
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 3)
    tp.plot_alpha_rho_maps(axes, _cached("map_alpha_rho"))
    plt.close(fig)
    fig, axes = plt.subplots(1, 3)
    tp.plot_gamma_rho_maps(axes, _cached("map_gamma_rho"), _cached("relatedness_sweep"))
    plt.close(fig)


def test_load_validation_transfer_partial_file(tmp_path):
    data = tp.load_validation_transfer(require_complete=False)
    groups = tp.validation_groups(data)
    assert groups and all(np.all(np.diff(g["gammas"]) > 0) for g in groups.values())
    z = tp.validation_zscores(data)
    assert {"Q_t", "Q_st", "Q_tt", "gibbs_error"} <= set(z)
    # a file marked incomplete is refused only on request
    import json

    raw = json.loads(open(data["path"], encoding="utf-8").read())
    raw["complete"] = False
    path = tmp_path / "validation_transfer.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert tp.load_validation_transfer(path, require_complete=False)["rows"]
    with pytest.raises(tp.ResultsError, match="partial"):
        tp.load_validation_transfer(path, require_complete=True)
