"""The sampler of finite Bayesian networks: exact pieces, exactness on a tiny network, diagnostics."""

import numpy as np
import pytest

from tflmini import BayesianNetworkSampler, make_teacher_task
from tflmini.sampling.diagnostics import effective_sample_size, integrated_autocorr_time, mean_and_stderr, split_rhat
from tflmini.sampling.sampler import CollapsedPosterior

TASK = make_teacher_task(12, 30, 5, teacher="erf", seed=4)


def direct_readout_posterior(post, W):
    """Readout posterior given W from its definition: precision lambda1 I + Phi^T Phi/(T N1)."""
    n1, T, lam1 = post.n_hidden, post.temperature, post.lambda1
    Phi = post.act.function(post.X @ W.T / np.sqrt(post.n_features))
    prec = lam1 * np.eye(n1) + Phi.T @ Phi / (T * n1)
    cov = np.linalg.inv(prec)
    mean = cov @ Phi.T @ post.y / (T * np.sqrt(n1))
    return mean, cov


@pytest.mark.parametrize("n_hidden", [6, 40])  # N1-space and P-space linear algebra
@pytest.mark.parametrize("activation", ["erf", "linear", "relu"])
def test_collapsed_energy_gradient_and_observables(n_hidden, activation):
    rng = np.random.default_rng(1)
    post = CollapsedPosterior(TASK.X_train, TASK.y_train, n_hidden, 0.2, 1.4, activation, precision=1.1)
    assert post.p_space == (n_hidden >= 12)
    W = rng.standard_normal((3, n_hidden, 5))
    energy, grad, state = post.likelihood(W)
    # energy = -log N(y; 0, Phi Phi^T/(lambda1 N1) + T I) up to the constant
    Phi = post.features(W) * np.sqrt(1.4 * n_hidden)
    G = Phi[0] @ Phi[0].T / (1.4 * n_hidden) + 0.2 * np.eye(12)
    ref = 0.5 * (np.linalg.slogdet(G)[1] + TASK.y_train @ np.linalg.solve(G, TASK.y_train))
    assert energy[0] == pytest.approx(ref, rel=1e-10)
    # gradient by central differences along a random direction
    d = rng.standard_normal(W.shape)
    eps = 1e-6
    fd = (post.likelihood(W + eps * d, need_grad=False)[0] - post.likelihood(W - eps * d, need_grad=False)[0]) / (2 * eps)
    np.testing.assert_allclose(np.einsum("cij,cij->c", grad, d), fd, rtol=1e-5, atol=1e-7)
    # Rao-Blackwellized observables against the readout posterior written out directly
    obs = post.observables(W, state, TASK.X_test, TASK.y_test)
    mean, cov = direct_readout_posterior(post, W[0])
    assert obs["Q"][0] == pytest.approx((mean @ mean + np.trace(cov)) / n_hidden, rel=1e-9)
    np.testing.assert_allclose(obs["v_mean"][0], mean, atol=1e-9)
    Phit = post.act.function(TASK.X_test @ W[0].T / np.sqrt(5))
    np.testing.assert_allclose(obs["test_mean"][0], Phit @ mean / np.sqrt(n_hidden), atol=1e-9)
    np.testing.assert_allclose(obs["test_var"][0], np.einsum("mi,ij,mj->m", Phit, cov, Phit) / n_hidden, atol=1e-9)
    Phin = post.act.function(TASK.X_train @ W[0].T / np.sqrt(5))
    f, fv = Phin @ mean / np.sqrt(n_hidden), np.einsum("mi,ij,mj->m", Phin, cov, Phin) / n_hidden
    assert obs["train_error"][0] == pytest.approx(np.mean((TASK.y_train - f) ** 2 + fv), rel=1e-9)


def test_readout_draws_follow_the_gaussian_posterior():
    post = CollapsedPosterior(TASK.X_train, TASK.y_train, 4, 0.3, 1.0, "erf", precision=1.0)
    W = np.random.default_rng(2).standard_normal((1, 4, 5))
    _, _, state = post.likelihood(W, need_grad=False)
    rng = np.random.default_rng(3)
    draws = np.array([post.sample_readout(W, state, rng)[0] for _ in range(20000)])
    mean, cov = direct_readout_posterior(post, W[0])
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=5 * np.sqrt(np.diag(cov).max() / 20000))
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.05 * np.abs(cov).max())


def test_exact_on_a_tiny_network_against_importance_sampling():
    """N1 = 3, N0 = 2: posterior averages by importance sampling from the prior are exact references."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    y = np.array([0.8, -0.5, 0.3, 1.0, -1.2, 0.1])
    Xe, ye = rng.standard_normal((5, 2)), rng.standard_normal(5)
    post = CollapsedPosterior(X, y, 3, 0.05, 1.0, "erf", precision=1.0)
    Wp = rng.standard_normal((300_000, 3, 2))
    u, _, st = post.likelihood(Wp, need_grad=False)
    obs = post.observables(Wp, st, Xe, ye)
    w = np.exp(-(u - u.min()))
    w /= w.sum()
    assert 1 / np.sum(w**2) > 5000  # enough effective importance samples
    sampler = BayesianNetworkSampler(3, 0.05, n_chains=8, n_warmup=200, n_samples=1500, seed=1, progress=False)
    res = sampler.sample(X, y, Xe, ye)
    summ = res.summary()
    for key, trace_key in (("Q", "Q"), ("train_error", "train_error"), ("gibbs_error", "test_error")):
        ref = np.sum(w * obs[trace_key])
        ref_se = np.sqrt(np.sum(w**2 * (obs[trace_key] - ref) ** 2))
        mean, se = summ[key]
        assert abs(mean - ref) < 4 * np.hypot(se, ref_se), (key, mean, se, ref, ref_se)
    assert res.diagnostics["divergences"] == 0
    assert res.diagnostics["rhat_Q"] < 1.05


def test_no_step_size_bias():
    """Metropolis-adjusted: a step tuned for acceptance 0.6 and one for 0.95 give the same answer."""
    out = []
    for target in (0.6, 0.95):
        s = BayesianNetworkSampler(20, 0.05, n_chains=4, n_warmup=150, n_samples=400, target_accept=target,
                                   seed=11, progress=False)
        r = s.sample(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test)
        out.append((r.summary(), r.diagnostics["step_size"]))
    (a, step_a), (b, step_b) = out
    assert step_b < 0.8 * step_a
    for key in ("Q", "gibbs_error"):
        assert abs(a[key][0] - b[key][0]) < 4 * np.hypot(a[key][1], b[key][1])


def test_reproducible_from_seed_and_shapes():
    kw = dict(n_chains=3, n_warmup=10, n_samples=15, seed=5, progress=False)
    r1 = BayesianNetworkSampler(8, 0.1, **kw).sample(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test)
    r2 = BayesianNetworkSampler(8, 0.1, **kw).sample(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test)
    np.testing.assert_array_equal(r1.Q, r2.Q)
    assert r1.Q.shape == r1.train_error.shape == r1.test_error.shape == (15, 3)
    assert r1.test_mean.shape == r1.test_var.shape == (30,)
    assert r1.W.shape == (3, 8, 5) and r1.v_mean.shape == (3, 8)
    assert np.all(r1.test_var >= 0)


def test_snapshots():
    s = BayesianNetworkSampler(8, 0.1, n_chains=2, n_warmup=5, n_samples=12, seed=0, progress=False)
    r = s.sample(TASK.X_train, TASK.y_train, snapshot_every=4)
    assert r.snapshots["W"].shape == (3, 2, 8, 5)
    assert r.snapshots["v_mean"].shape == (3, 2, 8)
    np.testing.assert_array_equal(r.snapshots["W"][-1], r.W)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"step_size": 0.0}, ValueError, "step_size"),
        ({"step_size": 2.0}, ValueError, "step_size"),
        ({"step_size": float("nan")}, ValueError, "step_size"),
        ({"n_chains": 0}, ValueError, "n_chains"),
        ({"n_samples": 2.5}, TypeError, "n_samples"),
        ({"target_accept": 1.0}, ValueError, "target_accept"),
        ({"n_warmup": -1}, ValueError, "n_warmup"),
        ({"seed": "abc"}, TypeError, "seed"),
    ],
)
def test_bad_sampler_settings(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        s = BayesianNetworkSampler(8, 0.1, progress=False, **kwargs)
        s.sample(TASK.X_train, TASK.y_train)


def test_bad_sampler_data():
    s = BayesianNetworkSampler(8, 0.1, n_chains=2, n_warmup=1, n_samples=4, progress=False)
    with pytest.raises(ValueError, match="X_test has input dimension"):
        s.sample(TASK.X_train, TASK.y_train, TASK.X_test[:, :3], TASK.y_test)
    with pytest.raises(ValueError, match="prior_mean must have shape"):
        s.sample(TASK.X_train, TASK.y_train, prior_mean=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="W_init must have shape"):
        s.sample(TASK.X_train, TASK.y_train, W_init=np.zeros((1, 8, 5)))


def test_autocorrelation_time_of_an_ar1_process():
    rng = np.random.default_rng(0)
    phi, n, chains = 0.8, 20000, 4
    x = np.zeros((n, chains))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.standard_normal(chains)
    tau = integrated_autocorr_time(x)
    assert tau == pytest.approx((1 + phi) / (1 - phi), rel=0.1)
    assert effective_sample_size(x) == pytest.approx(n * chains / tau)
    mean, se = mean_and_stderr(x)
    assert abs(mean) < 4 * se
    assert split_rhat(x) < 1.01
    shifted = x + np.array([0, 0, 0, 5.0])
    assert split_rhat(shifted) > 1.5
