"""The predictor of one pretrained source and the exact split of the test errors in Q_st (book chapter 6,
propositions ch06-prop-source-variance and ch06-prop-split).

The closed forms of FranzParisiTransfer (predict, source_variance, predictor_parts, transfer_split) are checked
against an independent dense computation with the hierarchical Gaussian model of the replica saddle point: a
source draws a shared field (s, g) conditioned on y_s; each target replica adds an independent field e and
conditions on y_t. Then the exact limits (gamma = 0, infinite width), the sampler's estimators, and the
uniqueness check of the stationary point.
"""

import numpy as np
import pytest

from tflmini import FranzParisiTransfer, TransferSampler, make_transfer_task, nngp_kernel
from tflmini.sampling.transfer_sampler import _source_variance

TASK = make_transfer_task(80, 25, 40, 20, 0.8, teacher="erf", seed=3)
S, T = TASK.source, TASK.target


def fitted(gamma, n_hidden=60, temperature=0.05):
    return FranzParisiTransfer(n_hidden, gamma, temperature).fit(S.X_train, S.y_train, T.X_train, T.y_train)


def dense_hierarchical(fp, X):
    """Mean, total variance and source-to-source variance at X from the hierarchical model, by plain
    conditioning of Gaussians (no Schur-complement shortcuts)."""
    st, op, Tmp = fp.weight_statistics_, fp.order_parameters_, fp.temperature
    Q_s, Q_t, Q_tt, Q_st = op["Q_s"], op["Q_t"], op["Q_tt"], op["Q_st"]
    Z = np.vstack([T.X_train, X])  # target points then test points
    Pt = T.X_train.shape[0]
    K_ss = nngp_kernel(S.X_train, var1=st["c_ss"])
    K_sz = nngp_kernel(S.X_train, Z, var1=st["c_ss"], var2=st["c_tt"], cov=st["c_st"])
    K_zz = nngp_kernel(Z, var1=st["c_tt"])
    K_x = nngp_kernel(Z, var1=st["c_tt"], var2=st["c_tt"], cov=st["c_x"])
    # source posterior of the shared target field g on Z
    G = Q_s * K_ss + Tmp * np.eye(len(K_ss))
    C_gs = Q_st * K_sz.T
    mean_g = C_gs @ np.linalg.solve(G, S.y_train)
    cov_g = Q_tt * K_x - C_gs @ np.linalg.solve(G, C_gs.T)
    # each replica: t = g + e, e with covariance E = Q_t K_tt - Q_tt K_x, noise T on the training points
    E = Q_t * K_zz - Q_tt * K_x
    A = E[:Pt, :Pt] + Tmp * np.eye(Pt)
    H = np.linalg.solve(A, E[:Pt, Pt:])  # (Pt, M)
    # <f(x)>_t = g(x) + H^T (y_t - g_t): linear in g with coefficients L
    L = np.hstack([-H.T, np.eye(X.shape[0])])  # (M, Pt + M)
    mean = L @ mean_g + H.T @ T.y_train
    source_var = np.einsum("mi,ij,mj->m", L, cov_g, L)
    within = np.diag(E[Pt:, Pt:]) - np.einsum("pm,pm->m", E[:Pt, Pt:], H)
    return mean, within + source_var, source_var


@pytest.mark.parametrize("gamma", [0.0, 0.5, 5.0, np.inf])
def test_closed_forms_match_the_hierarchical_model(gamma):
    fp = fitted(gamma)
    mean, var, source_var = dense_hierarchical(fp, T.X_test)
    m, v = fp.predict(T.X_test, return_var=True)
    np.testing.assert_allclose(m, mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(v, var, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(fp.source_variance(T.X_test), source_var, rtol=1e-7, atol=1e-10)
    assert np.allclose(fp.predict(T.X_test), m, rtol=1e-10, atol=1e-12)  # the mean-only fast path


@pytest.mark.parametrize("gamma", [0.5, 5.0, np.inf])
def test_split_is_exact_and_quadratic_in_q_st(gamma):
    fp = fitted(gamma)
    split = fp.transfer_split(T.X_test, T.y_test)
    for err in ("gibbs_error", "mean_error", "single_source_error"):
        parts = sum(split[err + k] for k in ("_no_source", "_source_linear", "_source_quadratic"))
        assert split[err] == pytest.approx(parts, rel=1e-12)
    assert split["gibbs_error"] == pytest.approx(fp.gibbs_error(T.X_test, T.y_test), rel=1e-9)
    assert split["mean_error"] == pytest.approx(fp.mean_error(T.X_test, T.y_test), rel=1e-9)
    sv = np.mean(fp.source_variance(T.X_test))
    assert fp.single_source_error(T.X_test, T.y_test) == pytest.approx(fp.mean_error(T.X_test, T.y_test) + sv, rel=1e-9)
    # the Q_st = 0 part is the dense model with Q_st set to zero (same Q_t, Q_tt)
    fp.order_parameters_ = dict(fp.order_parameters_, Q_st=0.0)
    mean0, var0, sv0 = dense_hierarchical(fp, T.X_test)
    assert split["mean_error_no_source"] == pytest.approx(np.mean((T.y_test - mean0) ** 2), rel=1e-8)
    assert split["gibbs_error_no_source"] == pytest.approx(np.mean((T.y_test - mean0) ** 2 + var0), rel=1e-8)
    assert split["single_source_error_no_source"] == pytest.approx(np.mean((T.y_test - mean0) ** 2 + sv0), rel=1e-8)


def test_limits_no_coupling_and_infinite_width():
    for fp in (fitted(0.0), fitted(3.0, n_hidden=np.inf)):
        assert np.all(fp.source_variance(T.X_test) == 0.0)
        assert fp.single_source_error(T.X_test, T.y_test) == pytest.approx(fp.mean_error(T.X_test, T.y_test), rel=1e-12)
        split = fp.transfer_split(T.X_test, T.y_test)
        assert split["mean_error_source_linear"] == 0.0 and split["gibbs_error_source_quadratic"] == 0.0


def test_source_variance_grows_towards_frozen_features():
    sv = [np.mean(fitted(g).source_variance(T.X_test)) for g in (0.1, 1.0, 10.0, np.inf)]
    assert np.all(np.diff(sv) > 0)


def test_source_variance_estimator_is_unbiased():
    rng = np.random.default_rng(0)
    K, M, sd_g, sd_noise = 12, 50, 0.3, 0.5
    est = []
    for _ in range(400):
        g = sd_g * rng.standard_normal((K, M))  # the source-dependent posterior mean
        est.append(_source_variance(g + sd_noise * rng.standard_normal((K, M)),
                                    g + sd_noise * rng.standard_normal((K, M)))[0])
    assert np.mean(est) == pytest.approx(sd_g**2, rel=0.03)
    f = rng.standard_normal((K, M))
    assert _source_variance(f, f)[0] == pytest.approx(np.mean(f.var(axis=0, ddof=1)))


def test_sampler_reports_single_source_observables():
    sampler = TransferSampler(20, 0.05, n_source_chains=2, snapshots_per_chain=2, snapshot_every=2, source_warmup=5,
                              target_warmup=5, target_samples=5, seed=1, progress=False)
    res = sampler.run(S.X_train[:20], S.y_train[:20], T.X_train[:10], T.y_train[:10], T.X_test, T.y_test,
                      [0.0, np.inf])
    for key in ("single_source_error", "source_variance"):
        assert res.mean[key].shape == (2,) and np.all(np.isfinite(res.mean[key]))
    assert res.per_snapshot["single_source_error"].shape == (2, 4)
    assert res.mean["source_variance"][1] > 0  # exact posterior means differ between frozen sources
    assert {"single_source_error", "source_variance"} <= set(res.table()[0])


def test_the_stationary_point_is_unique_from_random_starts():
    for gamma in (1.0, np.inf):
        fp = fitted(gamma)
        points = fp.stationary_points(n_starts=6, seed=1)
        assert points.shape == (1, 3)
        np.testing.assert_allclose(points[0], [fp.order_parameters_[k] for k in ("Q_t", "Q_tt", "Q_st")])
    with pytest.raises(ValueError, match="n_starts"):
        fp.stationary_points(n_starts=-1)
