"""Franz-Parisi transfer theory: exact limits, the saddle point, the predictor, inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tflmini import FranzParisiTransfer, KernelRenormalization, make_transfer_task
from tflmini.renormalization import ConvergenceError
import tflmini.transfer as tr
from tflmini.transfer import coupled_weight_statistics, transfer_action

TASK = make_transfer_task(120, 40, 300, 20, 0.9, teacher="erf", seed=5)
S, T = TASK.source, TASK.target


def fit(n1=100, gamma=1.0, temperature=0.05, task=TASK, **kw):
    return FranzParisiTransfer(n1, gamma, temperature, **kw).fit(
        task.source.X_train, task.source.y_train, task.target.X_train, task.target.y_train)


def test_weight_statistics():
    st_ = coupled_weight_statistics(3.0, lambda0=2.0)
    # w_s ~ N(0, 1/2); w_t | w_s ~ N(3 w_s / 5, 1/5)
    assert st_["c_ss"] == pytest.approx(0.5)
    assert st_["c_st"] == pytest.approx(0.6 * 0.5)
    assert st_["c_x"] == pytest.approx(0.36 * 0.5)
    assert st_["c_tt"] == pytest.approx(0.36 * 0.5 + 0.2)
    assert coupled_weight_statistics(0.0)["c_st"] == 0 and coupled_weight_statistics(0.0)["c_tt"] == 1
    inf = coupled_weight_statistics(np.inf, lambda0=2.0)
    assert inf == {"c_ss": 0.5, "c_st": 0.5, "c_tt": 0.5, "c_x": 0.5}
    big = coupled_weight_statistics(1e12, lambda0=2.0)
    for k in inf:
        assert big[k] == pytest.approx(inf[k], rel=1e-9)


def test_gamma_zero_is_training_from_scratch():
    fp = fit(gamma=0.0)
    kr = KernelRenormalization(100, 0.05).fit(T.X_train, T.y_train)
    op = fp.order_parameters_
    assert op["Q_st"] == 0 and op["Q_tt"] == 0
    assert op["Q_t"] == pytest.approx(kr.Q_, abs=1e-8)
    m1, v1 = fp.predict(T.X_test, return_var=True)
    m2, v2 = kr.predict(T.X_test, return_var=True)
    np.testing.assert_allclose(m1, m2, atol=1e-8)
    np.testing.assert_allclose(v1, v2, atol=1e-8)
    assert fp.gibbs_error(T.X_test, T.y_test) == pytest.approx(kr.gibbs_error(T.X_test, T.y_test), abs=1e-8)
    assert op["Q_s"] == pytest.approx(KernelRenormalization(100, 0.05).fit(S.X_train, S.y_train).Q_, abs=1e-12)


def test_lazy_limit_has_no_transfer():
    """n_hidden -> inf at fixed data: Q_st, Q_tt -> 0 like 1/N1; exactly 0 at n_hidden = inf."""
    vals = np.array([[fit(n1=n1, gamma=5.0).order_parameters_[k] for k in ("Q_st", "Q_tt")] for n1 in (1e3, 1e4, 1e5)])
    assert np.all(np.abs(vals[-1]) < 1e-3)
    np.testing.assert_allclose(np.abs(vals[1:] / vals[:-1]), 0.1, rtol=0.1)
    fp = fit(n1=np.inf, gamma=5.0)
    assert fp.order_parameters_["Q_st"] == 0 and fp.order_parameters_["Q_tt"] == 0
    # and the target is a GP with its own kernel (prior c_tt), independent of the source labels
    other = make_transfer_task(120, 40, 300, 20, 0.9, teacher="linear", seed=9)
    fp2 = FranzParisiTransfer(np.inf, 5.0, 0.05).fit(other.source.X_train, other.source.y_train, T.X_train, T.y_train)
    np.testing.assert_allclose(fp.predict(T.X_test), fp2.predict(T.X_test), atol=1e-10)


def test_infinite_gamma_is_the_continuous_limit():
    a = fit(gamma=np.inf)
    b = fit(gamma=1e9)
    for k in ("Q_t", "Q_st", "Q_tt"):
        assert a.order_parameters_[k] == pytest.approx(b.order_parameters_[k], rel=1e-6, abs=1e-9)
    assert a.gibbs_error(T.X_test, T.y_test) == pytest.approx(b.gibbs_error(T.X_test, T.y_test), rel=1e-6)


def test_infinite_gamma_is_solved_in_closed_form_first():
    """gamma = inf takes the closed form directly (fit and with_gamma), and it is the generic solver's
    stationary point (solved here from the single-network cold start)."""
    a = fit(gamma=np.inf)
    assert a.solver_info_["target"]["method"].startswith("closed form")
    assert fit(gamma=2.0).with_gamma(np.inf).solver_info_["target"]["method"].startswith("closed form")
    tk, (tk_s, y_s) = a._tk, a._solved
    psi, info = tr.solve_transfer_saddle(tk_s, y_s, a.order_parameters_["Q_s"], 100, 0.05, 1.0)
    assert "closed form" not in info["method"]
    np.testing.assert_allclose(psi, a._gap, rtol=1e-9)


def test_saddle_point_is_stationary_with_the_expected_signature():
    fp = fit(gamma=2.0)
    op = fp.order_parameters_
    theta = np.array([op["Q_t"], op["Q_tt"], op["Q_st"]])
    h = 1e-6
    grad = [(fp.action(**{k: v + h}) - fp.action(**{k: v - h})) / (2 * h) for k, v in zip(("Q_t", "Q_tt", "Q_st"), theta)]
    np.testing.assert_allclose(grad, 0, atol=1e-7)
    H = fp.action_hessian()
    H_fd = np.array([[(fp.action(**{a: va + h, b: vb + h}) - fp.action(**{a: va + h, b: vb - h})
                       - fp.action(**{a: va - h, b: vb + h}) + fp.action(**{a: va - h, b: vb - h})) / (4 * h * h)
                      if a != b else (fp.action(**{a: va + h}) - 2 * fp.action() + fp.action(**{a: va - h})) / (h * h)
                      for b, vb in zip(("Q_t", "Q_tt", "Q_st"), theta)]
                     for a, va in zip(("Q_t", "Q_tt", "Q_st"), theta)])
    np.testing.assert_allclose(H, H_fd, atol=2e-3 * np.abs(H).max())
    eig = np.linalg.eigvalsh(H)
    assert np.sum(eig < 0) == 2 and np.sum(eig > 0) == 1  # maximum in two directions, minimum in one
    # the solver's own (secant) Hessian has the same signature
    eig_solver = np.array(fp.solver_info_["target"]["hessian_eigenvalues"])
    assert np.sum(eig_solver < 0) == 2 and np.sum(eig_solver > 0) == 1
    assert fp.solver_info_["target"]["residual"] < 1e-9


def test_analytic_gradient_and_hessian():
    fp = fit(gamma=3.0)
    args = (fp._tk, T.y_train, fp.order_parameters_["Q_s"], 100.0, 0.05, 1.0)
    th = np.array([0.9, 0.3, 0.2])
    _, g, H = transfer_action(th, *args, order=2)
    eps = 1e-6
    E = np.eye(3)
    gn = [(transfer_action(th + eps * E[i], *args) - transfer_action(th - eps * E[i], *args)) / (2 * eps) for i in range(3)]
    Hn = [(transfer_action(th + eps * E[i], *args, order=1)[1] - transfer_action(th - eps * E[i], *args, order=1)[1]) / (2 * eps)
          for i in range(3)]
    np.testing.assert_allclose(g, gn, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H, np.array(Hn), rtol=1e-5, atol=1e-7)


def test_with_gamma_equals_a_fresh_fit():
    base = fit(gamma=0.5)
    for g in (0.0, 2.0, 30.0, np.inf):
        a, b = base.with_gamma(g), fit(gamma=g)
        for k in ("Q_s", "Q_t", "Q_st", "Q_tt"):
            assert a.order_parameters_[k] == pytest.approx(b.order_parameters_[k], abs=1e-9)


def test_a_chain_of_couplings_equals_fresh_fits():
    """A slider's path: each with_gamma starts from the previous one (with a secant predictor)."""
    est, fresh = fit(gamma=0.0), {}
    for g in (0.1, 0.3, 1.0, 3.0, 1.0, 0.2, 8.0, np.inf, 5.0):
        est = est.with_gamma(g)
        fresh.setdefault(g, fit(gamma=g))
        for k in ("Q_t", "Q_st", "Q_tt"):
            assert est.order_parameters_[k] == pytest.approx(fresh[g].order_parameters_[k], abs=1e-9), (g, k)


def test_the_predictor_of_a_chain_is_the_parabola_through_its_fits():
    """with_gamma's warm start extrapolates the saddle along r = gamma/(lambda0+gamma) through the last three
    fits of a chain: exact for a saddle that is quadratic in r (here made up), the secant with two fits."""
    est = fit(gamma=1.0)  # r = 1/2
    psi0 = est._gap.copy()

    def parabola(r):
        return psi0 + (r - 0.5) * np.array([0.1, 0.05, -0.02]) + (r - 0.5) ** 2 * np.array([0.3, -0.2, 0.1])

    est._previous_solutions = ((1 / 3, parabola(1 / 3)), (0.25, parabola(0.25)))  # gamma = 1/2, 1/3
    est._gap = parabola(0.5)
    np.testing.assert_allclose(est._predicted_start(est._gap, 1.5), parabola(0.6), rtol=1e-12)
    est._previous_solutions = est._previous_solutions[:1]
    secant = parabola(0.5) + (parabola(0.5) - parabola(1 / 3)) * (0.6 - 0.5) / (0.5 - 1 / 3)
    np.testing.assert_allclose(est._predicted_start(est._gap, 1.5), secant, rtol=1e-12)
    # too far beyond the nodes (more than three times their spacing): the fit itself
    est._previous_solutions = ((0.48, parabola(0.48)),)
    np.testing.assert_array_equal(est._predicted_start(est._gap, 1.5), est._gap)


def test_a_chain_keeps_its_last_two_fits():
    est = fit(gamma=0.0).with_gamma(0.1).with_gamma(0.3).with_gamma(1.0)
    assert [r for r, _ in est._chain()] == pytest.approx([0.3 / 1.3, 0.1 / 1.1])


def test_the_value_of_the_action_alone_equals_its_value_with_the_gradient():
    from tflmini.transfer_action import gap_action

    fp = fit(gamma=2.0)
    tk, y = fp._solved
    args = (tk, y, fp.order_parameters_["Q_s"], 100.0, 0.05, 1.0)
    for psi in (fp._gap, fp._gap * np.array([1.3, 0.7, 0.5])):
        assert gap_action(psi, *args) == pytest.approx(gap_action(psi, *args, order=1)[0], rel=1e-13, abs=1e-13)


def matched_scratch_error(gamma, task, n1=200):
    """Control: a network trained from scratch whose first-layer prior variance equals c_tt(gamma)."""
    c_tt = coupled_weight_statistics(gamma)["c_tt"]
    kr = KernelRenormalization(n1, 0.05, lambda0=1.0 / c_tt).fit(task.target.X_train, task.target.y_train)
    return kr.mean_error(task.target.X_test, task.target.y_test)


def test_unrelated_tasks_gain_nothing_beyond_regularization():
    task = make_transfer_task(200, 60, 1000, 50, 0.0, teacher="erf", seed=3)
    base = fit(n1=200, gamma=0.0, task=task)
    for g in (0.3, 1.0, 10.0, np.inf):
        fp = base.with_gamma(g)
        err = fp.mean_error(task.target.X_test, task.target.y_test)
        assert err >= matched_scratch_error(g, task) - 1e-4, g


def test_related_tasks_benefit_and_approach_the_frozen_plateau():
    task = make_transfer_task(200, 60, 1000, 50, 0.9, teacher="erf", seed=3)
    base = fit(n1=200, gamma=0.0, task=task)
    errs = [base.with_gamma(g).mean_error(task.target.X_test, task.target.y_test) for g in (0.0, 1.0, 10.0, 100.0, np.inf)]
    assert errs[0] > errs[1] > errs[2] > errs[3] >= errs[4] - 1e-6
    assert errs[4] < matched_scratch_error(np.inf, task) - 0.01


def test_source_target_kernel():
    fp = fit(gamma=2.0)
    K = fp.source_target_kernel(S.X_train[:5], T.X_train[:7])
    assert K.shape == (5, 7)
    np.testing.assert_allclose(K, fp.order_parameters_["Q_st"] * fp._tk.K_st[:5, :7])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_permuting_target_points_changes_nothing(seed):
    perm = np.random.default_rng(seed).permutation(len(T.y_train))
    a = fit(gamma=1.5)
    b = FranzParisiTransfer(100, 1.5, 0.05).fit(S.X_train, S.y_train, T.X_train[perm], T.y_train[perm])
    for k in ("Q_t", "Q_st", "Q_tt"):
        assert a.order_parameters_[k] == pytest.approx(b.order_parameters_[k], abs=1e-9)
    np.testing.assert_allclose(a.predict(T.X_test[:10]), b.predict(T.X_test[:10]), atol=1e-8)


def test_predictions_are_finite_and_variances_nonnegative():
    for g in (0.0, 0.1, 10.0, np.inf):
        m, v = fit(gamma=g).predict(T.X_test, return_var=True)
        assert np.all(np.isfinite(m)) and np.all(v >= 0)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"gamma": -1.0}, ValueError, "gamma"),
        ({"gamma": float("nan")}, ValueError, "gamma"),
        ({"activation": "relu"}, ValueError, "odd activation"),
        ({"temperature": 0.0}, ValueError, "temperature"),
        ({"n_hidden": 0}, ValueError, "n_hidden"),
        ({"lambda1": 0.0}, ValueError, "lambda1"),
    ],
)
def test_bad_hyperparameters(kwargs, exc, match):
    args = {"n_hidden": 50, "gamma": 1.0, "temperature": 0.1, **kwargs}
    fp = FranzParisiTransfer(**args)  # stored as given (scikit-learn), checked in fit
    assert fp.get_params()[next(iter(kwargs))] is kwargs[next(iter(kwargs))]
    with pytest.raises(exc, match=match):
        fp.fit(S.X_train, S.y_train, T.X_train, T.y_train)


def test_bad_data():
    fp = FranzParisiTransfer(50, 1.0, 0.1)
    with pytest.raises(ValueError, match="X_target has input dimension 19"):
        fp.fit(S.X_train, S.y_train, T.X_train[:, :19], T.y_train)
    with pytest.raises(ValueError, match="y_source has 119 labels"):
        fp.fit(S.X_train, S.y_train[:-1], T.X_train, T.y_train)
    with pytest.raises(RuntimeError, match="not fitted"):
        fp.predict(T.X_test)
    fp.fit(S.X_train, S.y_train, T.X_train, T.y_train)
    with pytest.raises(ValueError, match="Q_t > Q_tt"):
        fp.action(Q_t=0.1, Q_tt=0.2)


def test_convergence_failure_is_reported():
    fp = fit(gamma=1.0)
    from tflmini.transfer import solve_transfer_saddle
    with pytest.raises(ConvergenceError, match="not converged"):
        solve_transfer_saddle(fp._tk, T.y_train, fp.order_parameters_["Q_s"], 100.0, 0.05, 1.0, max_iter=0,
                              start=(2.0, 0.5, 0.1))


def test_scikit_learn_conventions_clone_and_params():
    from sklearn.base import clone

    fp = FranzParisiTransfer(40, 2.0, 0.07, lambda0=1.3, lambda1=0.8)
    assert fp.get_params() == {"n_hidden": 40, "gamma": 2.0, "temperature": 0.07, "lambda0": 1.3, "lambda1": 0.8,
                               "activation": "erf"}
    fitted_ = fp.fit(S.X_train, S.y_train, T.X_train, T.y_train)
    copy = clone(fitted_)
    assert copy.get_params() == fp.get_params() and not hasattr(copy, "order_parameters_")
    # with_gamma is a copy constructor: the same as set_params + fit, to solver precision
    via_params = clone(fp).set_params(gamma=5.0).fit(S.X_train, S.y_train, T.X_train, T.y_train)
    via_copy = fp.with_gamma(5.0)
    assert via_copy.get_params() == via_params.get_params()
    for k in ("Q_t", "Q_tt", "Q_st"):
        assert via_copy.order_parameters_[k] == pytest.approx(via_params.order_parameters_[k], rel=1e-8, abs=1e-12)
    assert fp.gamma == 2.0  # the original is unchanged
