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


# -- transfer against the control, the split and the single-source error (book chapter 7) ----------------------

def _fake_decomposition():
    """A result shaped like the cached ``transfer_decomposition`` (theory on 6 couplings, 5 sampled), with the
    exact split err = no_source + linear + quadratic."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    gammas = np.array([0.0, 0.3, 1.0, 3.0, 10.0, np.inf])
    x = np.array([0.0, 0.3 / 1.3, 0.5, 0.75, 10 / 11, 1.0])
    theory, sampled = {}, {}
    for rel in ("0", "0.5", "0.9"):
        q = 0.1 * float(rel) * x
        c = {"Q_st": q, "Q_s": np.full(6, 0.9), "Q_t": np.full(6, 0.95), "Q_tt": 1.3 * q, "source_variance": 0.01 * x}
        for m, base in (("mean_error", 0.25), ("gibbs_error", 0.5)):
            c[m + "_no_source"] = base + 0.001 * x
            c[m + "_source_linear"] = -0.2 * q
            c[m + "_source_quadratic"] = 0.3 * q**2
            c[m] = c[m + "_no_source"] + c[m + "_source_linear"] + c[m + "_source_quadratic"]
            c["control_" + m] = np.full(6, base) - 0.0005 * x * (1 - x)
        c["single_source_error"] = c["mean_error"] + c["source_variance"]
        c["single_source_error_no_source"] = c["mean_error_no_source"] + c["source_variance"]
        c["single_source_error_source_linear"] = c["mean_error_source_linear"]
        c["single_source_error_source_quadratic"] = c["mean_error_source_quadratic"]
        theory[rel] = c
        sampled[rel] = {k: {"mean": np.asarray(c[k])[1:] + 1e-3 * rng.normal(size=5), "se": np.full(5, 2e-3)}
                        for k in ("Q_s", "Q_t", "Q_st", "Q_tt", "gibbs_error", "mean_error", "single_source_error",
                                  "source_variance", "control_gibbs_error", "control_mean_error")}
    return SimpleNamespace(theory={"gammas": gammas, "curves": theory},
                           simulation={"gammas": gammas[1:], "curves": sampled}, parameters={})


def test_decomposition_gain_adds_up_and_vanishes_without_overlap():
    res = _fake_decomposition()
    for rel in ("0", "0.9"):
        for metric in ("mean_error", "gibbs_error", "single_source_error"):
            d = tp.decomposition_gain(res, rel, metric)
            th = d["theory"]
            assert np.allclose(th["carried"] + th["rest"], th["gain"])
            assert np.all(th["carried"][th["Q_st"] == 0] == 0)
            s = d["sampled"]
            assert s["gain"].shape == s["gain_se"].shape == (5,)
            assert np.allclose(s["gain_se"], np.hypot(2e-3, 2e-3))
    # the single-source control is the control's mean error (no source, no source variance)
    d = tp.decomposition_gain(res, 0.9, "single_source_error")
    c = res.theory["curves"]["0.9"]
    assert np.allclose(d["theory"]["gain"], c["control_mean_error"] - c["single_source_error"])


def test_decomposition_figures_draw_finite_values_with_labels():
    res = _fake_decomposition()
    fig, ax = plt.subplots()
    out = tp.plot_gain_vs_overlap(ax, res)
    assert set(out) == {"0", "0.5", "0.9"}
    assert "Q_{st}" in ax.get_xlabel() and "control" in ax.get_ylabel()
    assert len(ax.get_legend().get_texts()) == 6
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(2, 3)
    tp.plot_single_source(axes, res)
    assert all(a.get_ylabel() for a in axes.ravel()) and all(a.get_xlabel() for a in axes[-1])
    assert any("single" in t.get_text() for t in axes[0, 0].get_legend().get_texts())
    assert any("Gibbs" in t.get_text() for t in axes[1, 0].get_legend().get_texts())
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)  # one row of errors, two relatedness values, no control
    tp.plot_single_source(axes, res, relations=(0, 0.9), rows=(("single_source_error",),), control=False)
    assert [a.get_title() for a in axes] == [r"$\rho = 0$", r"$\rho = 0.9$"]
    assert all("control" not in t.get_text() for t in axes[0].get_legend().get_texts())
    plt.close(fig)


def test_plot_transfer_control_adds_the_sampled_points(task):
    res = _fake_decomposition()
    gammas = np.array([0.0, 1.0, np.inf])
    runs = {0.0: tp.theory_along_gamma(make_transfer_task(60, 20, 80, 20, 0.0, teacher="erf", seed=2), 40, gammas,
                                       temperature=0.05, matched_prior=True),
            0.9: tp.theory_along_gamma(task, 40, gammas, temperature=0.05, matched_prior=True)}
    fig, axes = plt.subplots(1, 2)
    tp.plot_transfer_control(axes, runs, gammas, res)
    for ax in axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "transfer, sampled" in labels and "control, sampled" in labels
        assert ax.get_ylabel() and ax.get_xlabel()
    _finite_figure(fig)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    tp.plot_transfer_control(axes, runs, gammas)  # theory only
    assert all("sampled" not in t.get_text() for t in axes[0].get_legend().get_texts())
    plt.close(fig)
