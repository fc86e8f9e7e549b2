"""Adaptive kernel renormalization (single-unit cavity theory): linear limit, determinism, API, inputs."""

import numpy as np
import pytest
from sklearn.base import clone

from tflmini import KernelRenormalization, make_teacher_task
from tflmini.adaptive import AdaptiveKernelRenormalization, whitened_normal
from tflmini.renormalization import ConvergenceError

TASK = make_teacher_task(60, 80, 10, teacher="erf", seed=3)
FEW = make_teacher_task(20, 60, 30, teacher="erf", seed=5)  # P/N0 < 1: the erf closure converges
SMALL = dict(n_samples=256, n_nodes=8)


@pytest.mark.parametrize("n_hidden, temperature", [(30, 0.1), (120, 0.02)])
def test_linear_network_is_kernel_renormalization(n_hidden, temperature):
    """For a linear unit the single-unit measure is Gaussian and the trace form of the quadratic term gives the
    saddle-point equation of kernel renormalization: Q, predictive mean and variance, both errors to rounding."""
    args = (n_hidden, temperature, 1.3, 0.8, "linear")
    kr = KernelRenormalization(*args).fit(TASK.X_train, TASK.y_train)
    ad = AdaptiveKernelRenormalization(*args, **SMALL).fit(TASK.X_train, TASK.y_train)
    assert ad.Q_ == pytest.approx(kr.Q_, rel=1e-9)
    m1, v1 = kr.predict(TASK.X_test, return_var=True)
    m2, v2 = ad.predict(TASK.X_test, return_var=True)
    np.testing.assert_allclose(m2, m1, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(v2, v1, rtol=1e-8, atol=1e-10)
    assert ad.gibbs_error(TASK.X_test, TASK.y_test) == pytest.approx(kr.gibbs_error(TASK.X_test, TASK.y_test), rel=1e-9)
    assert ad.mean_error(TASK.X_test, TASK.y_test) == pytest.approx(kr.mean_error(TASK.X_test, TASK.y_test), rel=1e-9)
    # a linear unit's importance weights are all equal: the Laplace proposal is the unit's exact measure
    assert ad.solver_info_["min_ess"] == pytest.approx(SMALL["n_samples"], rel=1e-9)


def test_linear_network_exact_quadratic_term_differs_at_order_one_over_width():
    """Keeping sigma^T G sigma instead of its trace moves a linear network away from kernel renormalization by
    an amount that shrinks at least like 1/N1 (here faster)."""
    gaps = []
    for n1 in (40, 160):
        kr = KernelRenormalization(n1, 0.1, activation="linear").fit(TASK.X_train, TASK.y_train)
        ad = AdaptiveKernelRenormalization(n1, 0.1, activation="linear", quadratic_term="exact", **SMALL)
        gaps.append(abs(ad.fit(TASK.X_train, TASK.y_train).Q_ - kr.Q_) / kr.Q_)
    assert gaps[0] > 1e-4
    assert gaps[1] < 0.3 * gaps[0]


def test_whitened_normal_moments_are_exact():
    Z = whitened_normal(64, 7, np.random.default_rng(1))
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(Z.T @ Z / 64, np.eye(7), atol=1e-12)


def test_erf_fit_is_deterministic_and_differs_from_the_scalar_theory():
    est = AdaptiveKernelRenormalization(40, 0.1, activation="erf", **SMALL)
    a = clone(est).fit(FEW.X_train, FEW.y_train)
    b = clone(est).fit(FEW.X_train, FEW.y_train)
    assert a.Q_ == b.Q_
    np.testing.assert_array_equal(a.predict(FEW.X_test), b.predict(FEW.X_test))
    assert a.solver_info_["residual"] <= 1e-9
    # the data-tilted units do not reproduce the Gaussian-equivalent predictor
    kr = KernelRenormalization(40, 0.1).fit(FEW.X_train, FEW.y_train)
    assert np.max(np.abs(a.predict(FEW.X_test) - kr.predict(FEW.X_test))) > 1e-3
    # the closure holds: the training mean is the cavity mean sqrt(N1) E[v sigma], and b = (y - fbar)/T
    np.testing.assert_allclose(a.b_, (FEW.y_train - a.train_mean_) / 0.1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a.predict(FEW.X_train), a.train_mean_, atol=1e-10)
    # another seed of the importance samples gives another (nearby) theory: the Monte Carlo error is real
    c = clone(est).set_params(random_state=1).fit(FEW.X_train, FEW.y_train)
    assert c.Q_ != a.Q_ and abs(c.Q_ - a.Q_) < 0.2 * a.Q_


def test_get_params_and_clone():
    est = AdaptiveKernelRenormalization(50, 0.05, lambda0=2.0, quadratic_term="exact", random_state=4)
    params = est.get_params()
    assert params["lambda0"] == 2.0 and params["quadratic_term"] == "exact" and params["random_state"] == 4
    twin = clone(est)
    assert twin.get_params() == params and not hasattr(twin, "Q_")


def test_not_converged_raises_convergence_error():
    with pytest.raises(ConvergenceError, match="not converged"):
        AdaptiveKernelRenormalization(40, 0.1, max_iter=1, **SMALL).fit(TASK.X_train, TASK.y_train)


def test_predict_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        AdaptiveKernelRenormalization(10, 0.1).predict(TASK.X_test)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(n_hidden=np.inf), ValueError, "n_hidden"),
    (dict(n_hidden=10.5), ValueError, "n_hidden"),
    (dict(temperature=-1.0), ValueError, "temperature"),
    (dict(lambda1=0.0), ValueError, "lambda1"),
    (dict(activation="relu"), ValueError, "activation"),
    (dict(activation=3), TypeError, "activation"),
    (dict(quadratic_term="full"), ValueError, "quadratic_term"),
    (dict(integrator="mcmc"), ValueError, "integrator"),
    (dict(control_variate="yes"), TypeError, "control_variate"),
    (dict(n_samples=255), ValueError, "n_samples"),
    (dict(n_samples=8), ValueError, "n_samples"),
    (dict(n_samples=2.5), TypeError, "n_samples"),
    (dict(n_nodes=0), ValueError, "n_nodes"),
    (dict(random_state="seed"), TypeError, "random_state"),
    (dict(tol=0.0), ValueError, "tol"),
])
def test_bad_parameters_are_named(kwargs, error, name):
    params = dict(n_hidden=20, temperature=0.1, **SMALL)
    params.update(kwargs)
    with pytest.raises(error, match=name):
        AdaptiveKernelRenormalization(**params).fit(TASK.X_train, TASK.y_train)


def test_bad_data_are_named():
    est = AdaptiveKernelRenormalization(20, 0.1, activation="linear", **SMALL)
    with pytest.raises(ValueError, match="X"):
        est.fit(TASK.X_train[:, 0], TASK.y_train)
    with pytest.raises(ValueError, match="y"):
        est.fit(TASK.X_train, TASK.y_train[:-1])
    est.fit(TASK.X_train, TASK.y_train)
    with pytest.raises(ValueError, match="X"):
        est.predict(TASK.X_test[:, :5])


# -- the cached comparison with the sampler and its figure ---------------------------------------------------

def _record(complete=True):
    def row(act, n1, P, sampled, scalar, adaptive, converged):
        fits = [{"quadratic_term": "trace", "integrator": "importance", "converged": converged, "seconds": 2.0,
                 **({"gibbs_error": adaptive, "other_seeds": [{"converged": True, "gibbs_error": adaptive + 0.01}]}
                    if converged else {"reason": "not converged"})}]
        return {"source": "validation_single_network", "activation": act, "n_hidden": n1, "n_features": 50, "P": P,
                "temperature": 0.05, "sampler": {"gibbs_error": {"mean": sampled, "se": 0.001}},
                "scalar": {"gibbs_error": scalar}, "scalar_seconds": 0.01, "adaptive": fits,
                "at_scalar_field": {"evaluated": True, "Q_scalar": 0.8, "Q_unit": 1.6, "weighted_ess": 512,
                                    "n_samples": 2048}}
    return {"experiment": "adaptive_vs_sampler", "complete": complete,
            "parameters": {"variants": [{"quadratic_term": "trace", "integrator": "importance"}]},
            "rows": [row("erf", 100, 50, 0.30, 0.31, 0.29, True), row("erf", 200, 400, 0.05, 0.08, None, False),
                     row("linear", 100, 200, 0.09, 0.09, 0.09, True)]}


def test_adaptive_comparison_table(tmp_path):
    import json

    from tflmini.results import ResultsError, adaptive_comparison

    path = tmp_path / "a.json"
    path.write_text(json.dumps(_record()))
    t = adaptive_comparison(path=path)
    np.testing.assert_array_equal(t["converged"], [True, False, True])
    np.testing.assert_allclose(t["P_over_N0"], [1.0, 8.0, 4.0])
    assert t["adaptive"][0] == 0.29 and np.isnan(t["adaptive"][1])
    np.testing.assert_allclose(t["adaptive_spread"][[0, 2]], 0.01)
    np.testing.assert_allclose(t["field_Q_ratio"], 2.0)
    np.testing.assert_allclose(t["field_ess"], 0.25)
    with pytest.raises(ValueError, match="variant"):
        adaptive_comparison(path=path, variant=1)
    path.write_text(json.dumps(_record(complete=False)))
    with pytest.raises(ResultsError, match="partial"):
        adaptive_comparison(path=path)


def test_plot_adaptive_comparison_marks_failures(tmp_path):
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tflmini.plots import plot_adaptive_comparison
    from tflmini.results import adaptive_comparison

    path = tmp_path / "a.json"
    path.write_text(json.dumps(_record()))
    fig, ax = plt.subplots()
    plot_adaptive_comparison(ax, adaptive_comparison(path=path))
    crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x" and len(ln.get_xdata())]
    assert len(crosses) == 1 and crosses[0].get_xdata()[0] == pytest.approx(8.0, rel=0.15)
    # the scalar point of the failed erf point is drawn: sampled 0.05 against 0.08, i.e. -37.5 %
    ys = [y for c in ax.containers for y in np.atleast_1d(c.lines[0].get_ydata())]
    assert any(abs(y + 37.5) < 1e-9 for y in ys)
    with pytest.raises(ValueError, match="relu"):
        plot_adaptive_comparison(ax, adaptive_comparison(path=path), activation="relu")
    plt.close(fig)


# -- control variates and the limit of vanishing tilt -----------------------------------------------------------

def _unit_at_scalar_solution(task, n1, n_samples, seed, **options):
    """The single-unit map at the scalar theory's (b, Q): its mean training outputs and E[v^2], and the scalar
    theory's."""
    from tflmini.adaptive import _UnitMeasure
    from tflmini.kernels import get_activation

    kr = KernelRenormalization(n1, 0.05).fit(task.X_train, task.y_train)
    b = kr.spectrum_.solve(kr.Q_, 0.05, task.y_train)
    unit = _UnitMeasure(task.X_train, get_activation("erf"), n1, 0.05, 1.0, 1.0, n_samples, 8,
                        np.random.default_rng(seed), **options)
    fbar, Q, _ = unit.moments(b, kr.Q_)
    return fbar, Q, task.y_train - 0.05 * b, kr.Q_


def test_control_variates_are_consistent_and_remove_noise():
    """The controlled estimate tends to the same limit as the plain self-normalised one (a long plain run of the
    Laplace proposal is the reference) and is closer to it with few samples, for both proposals (much closer for
    the Gaussian-equivalent one, whose log-weights vary less)."""
    task = make_teacher_task(20, 10, 24, teacher="erf", seed=2)
    ref, Q_ref, _, _ = _unit_at_scalar_solution(task, 400, 2**16, 9, control_variate=False)
    for integrator, gain in (("importance", 0.8), ("equivalent", 0.3)):
        long_cv, Q_cv, _, _ = _unit_at_scalar_solution(task, 400, 2**16, 9, integrator=integrator)
        assert np.linalg.norm(long_cv - ref) < 0.02 * np.linalg.norm(ref)
        assert Q_cv == pytest.approx(Q_ref, rel=0.01)
        errs = {cv: np.mean([np.linalg.norm(_unit_at_scalar_solution(task, 400, 256, s, integrator=integrator,
                                                                     control_variate=cv)[0] - ref)
                             for s in (0, 1, 2)]) for cv in (False, True)}
        assert errs[True] < gain * errs[False], errs


def test_unit_reduces_to_kernel_renormalization_when_the_tilt_vanishes():
    """Fixed data, growing width: one unit's tilt v b / sqrt(N1) vanishes and the single-unit map at the scalar
    theory's solution returns that solution (mean outputs and E[v^2]); the difference shrinks about like 1/N1 with
    the Gaussian-equivalent proposal and control variates. The plain estimate multiplies its Monte Carlo error by
    sqrt(N1) and misses the limit."""
    task = make_teacher_task(30, 10, 60, teacher="erf", seed=4)
    gaps = {}
    for n1 in (30, 1000):
        fbar, Q, f_kr, Q_kr = _unit_at_scalar_solution(task, n1, 512, 0, integrator="equivalent")
        gaps[n1] = (np.linalg.norm(fbar - f_kr) / np.linalg.norm(f_kr), abs(Q / Q_kr - 1))
        plain = _unit_at_scalar_solution(task, n1, 512, 0, control_variate=False)
        gaps[n1, "plain"] = np.linalg.norm(plain[0] - f_kr) / np.linalg.norm(f_kr)
    assert gaps[1000][0] < 0.1 * gaps[30][0] and gaps[1000][0] < 4e-3
    assert gaps[1000][1] < 0.1 * gaps[30][1] + 1e-4
    assert gaps[1000, "plain"] > 10 * gaps[1000][0]


def test_equivalent_fit_approaches_kernel_renormalization_with_width():
    """The closure solved with the Gaussian-equivalent proposal: Gibbs error, Q and the mean predictor move
    towards kernel renormalization as the width grows at fixed data."""
    task = make_teacher_task(30, 40, 60, teacher="erf", seed=4)
    rel = {}
    for n1 in (30, 1000):
        kr = KernelRenormalization(n1, 0.05).fit(task.X_train, task.y_train)
        ad = AdaptiveKernelRenormalization(n1, 0.05, n_samples=512, n_nodes=8, integrator="equivalent")
        ad.fit(task.X_train, task.y_train)
        rel[n1] = np.array([abs(ad.gibbs_error(task.X_test, task.y_test) / kr.gibbs_error(task.X_test, task.y_test) - 1),
                            abs(ad.Q_ / kr.Q_ - 1),
                            np.linalg.norm(ad.predict(task.X_test) - kr.predict(task.X_test))
                            / np.linalg.norm(kr.predict(task.X_test))])
    assert np.all(rel[1000] < 0.2 * rel[30] + 1e-4), rel
    assert np.all(rel[1000] < 5e-3), rel


def test_equivalent_linear_network_is_kernel_renormalization():
    args = (40, 0.1, 1.3, 0.8, "linear")
    kr = KernelRenormalization(*args).fit(TASK.X_train, TASK.y_train)
    ad = AdaptiveKernelRenormalization(*args, integrator="equivalent", **SMALL).fit(TASK.X_train, TASK.y_train)
    assert ad.Q_ == pytest.approx(kr.Q_, rel=1e-9)
    np.testing.assert_allclose(ad.predict(TASK.X_test), kr.predict(TASK.X_test), rtol=1e-8, atol=1e-10)


def _limit_record(complete=True):
    rows = []
    for est, scale in (("plain", 0.2), ("equivalent", 1.0)):
        for n1 in (100, 400, 1600):
            val = scale * 100.0 / n1 if est == "equivalent" else scale
            rows.append({"sweep": "width", "P": 100, "N0": 400, "N1": n1, "estimator": est, "Q": [val, -val],
                         "train_mean": [val, val], "test_mean": [val, 1.2 * val], "weighted_ess": [1, 1],
                         "seconds": [1, 1]})
    return {"experiment": "adaptive_limit", "complete": complete, "parameters": {"seeds": [0, 1]}, "rows": rows,
            "fits": [{"sweep": "width", "N1": 400, "converged": True, "gibbs_error": 0.001, "seconds": 3.0}]}


def test_adaptive_limit_table_and_slope(tmp_path):
    import json

    from tflmini.results import ResultsError, adaptive_limit, limit_slope, limit_value

    path = tmp_path / "l.json"
    path.write_text(json.dumps(_limit_record()))
    t = adaptive_limit(path=path)
    assert limit_value(t, "Q", sweep="width", estimator="equivalent", N1=400) == pytest.approx(0.25)
    assert limit_value(t, "test_mean", sweep="width", estimator="equivalent", N1=100) == pytest.approx(1.1)
    assert limit_value(t, "test_mean_spread", sweep="width", estimator="equivalent", N1=100) == pytest.approx(0.1)
    slope, n = limit_slope(t, sweep="width", estimator="equivalent", key="Q", by="N1")
    assert slope == pytest.approx(-1.0) and n == 3
    assert limit_slope(t, sweep="width", estimator="plain", key="Q", by="N1")[0] == pytest.approx(0.0, abs=1e-12)
    assert t["fits"][0]["gibbs_error"] == 0.001
    with pytest.raises(ValueError, match="by"):
        limit_slope(t, sweep="width", estimator="plain", key="Q", by="P")
    with pytest.raises(ValueError, match="rows"):
        limit_value(t, "Q", sweep="width", estimator="plain")
    path.write_text(json.dumps(_limit_record(complete=False)))
    with pytest.raises(ResultsError, match="partial"):
        adaptive_limit(path=path)


def _cached_figure(tmp_path, record, loader):
    """The table ``loader`` reads from ``record`` written to a file, and a fresh (Agg) figure and axes."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = tmp_path / "cached.json"
    path.write_text(json.dumps(record))
    fig, ax = plt.subplots()
    return loader(path=path), fig, ax


def test_plot_adaptive_limit(tmp_path):
    import matplotlib.pyplot as plt

    from tflmini.plots import plot_adaptive_limit
    from tflmini.results import adaptive_limit

    table, fig, ax = _cached_figure(tmp_path, _limit_record(), adaptive_limit)
    plot_adaptive_limit(ax, table, sweep="width", by="N1")
    assert len(ax.containers) == 2  # one series per estimator present
    np.testing.assert_allclose(ax.containers[1].lines[0].get_ydata(), [110.0, 27.5, 6.875])
    with pytest.raises(ValueError, match="rows"):
        plot_adaptive_limit(ax, table, sweep="inputs", by="N0")
    plt.close(fig)
