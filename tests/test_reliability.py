"""Edge cases and failure reporting across the public API (no network, no silent NaN)."""

import socket
import subprocess
import sys

import numpy as np
import pytest

import tflmini
from tflmini import (BayesianNetworkSampler, FranzParisiTransfer, KernelRenormalization, SamplerDivergenceWarning,
                     TransferSampler, make_teacher_task, make_transfer_task)

TASK = make_transfer_task(40, 15, 50, 8, 0.7, teacher="erf", seed=1)
S, T = TASK.source, TASK.target


def fit_fp(gamma=1.0, n1=30, temperature=0.05, Xs=S.X_train, ys=S.y_train, Xt=T.X_train, yt=T.y_train):
    return FranzParisiTransfer(n1, gamma, temperature).fit(Xs, ys, Xt, yt)


@pytest.mark.parametrize("gamma", [0.0, 1e-8, 1.0, 1e6, 1e12, np.inf])
def test_every_coupling_gives_finite_answers(gamma):
    fp = fit_fp(gamma)
    assert all(np.isfinite(v) for v in fp.order_parameters_.values())
    assert np.isfinite(fp.gibbs_error(T.X_test, T.y_test))


def test_large_gamma_is_continuous_towards_infinity():
    errs = [fit_fp(g).gibbs_error(T.X_test, T.y_test) for g in (1e3, 1e5, 1e7)]
    inf = fit_fp(np.inf).gibbs_error(T.X_test, T.y_test)
    gaps = np.abs(np.array(errs) - inf)
    assert gaps[2] < gaps[1] < gaps[0] and gaps[2] < 1e-6


def test_zero_temperature_limit_interpolates_the_target():
    fp = fit_fp(gamma=1.0, temperature=1e-7)
    np.testing.assert_allclose(fp.predict(T.X_train), T.y_train, atol=1e-3)
    kr = KernelRenormalization(30, 1e-9).fit(T.X_train, T.y_train)
    np.testing.assert_allclose(kr.predict(T.X_train), T.y_train, atol=1e-4)


def test_duplicated_points_and_single_points():
    Xd, yd = np.vstack([T.X_train, T.X_train]), np.concatenate([T.y_train, T.y_train])
    assert np.all(np.isfinite(fit_fp(Xt=Xd, yt=yd).predict(T.X_test)))
    assert np.all(np.isfinite(fit_fp(Xt=T.X_train[:1], yt=T.y_train[:1]).predict(T.X_test)))
    assert np.all(np.isfinite(fit_fp(Xs=S.X_train[:1], ys=S.y_train[:1]).predict(T.X_test)))


def test_lazy_width_and_large_labels_and_float32():
    fp = fit_fp(n1=1e7)
    assert abs(fp.order_parameters_["Q_st"]) < 1e-5
    big = fit_fp(Xs=S.X_train, ys=1e3 * S.y_train, Xt=T.X_train, yt=1e3 * T.y_train)
    assert all(np.isfinite(v) for v in big.order_parameters_.values())
    kr = KernelRenormalization(30, 0.05).fit(T.X_train, 1e4 * T.y_train)
    assert np.isfinite(kr.Q_) and kr.Q_ > 1e3
    f32 = fit_fp(Xs=S.X_train.astype(np.float32), Xt=T.X_train.astype(np.float32))
    assert f32.order_parameters_["Q_t"] == pytest.approx(fit_fp().order_parameters_["Q_t"], rel=1e-5)


def test_one_dimensional_confusion_is_explained():
    with pytest.raises(ValueError, match="reshape"):
        KernelRenormalization(10, 0.1).fit(T.X_train[:, 0], T.y_train)
    with pytest.raises(ValueError, match="X_source must be 2-D"):
        FranzParisiTransfer(10, 1.0, 0.1).fit(S.X_train[0], S.y_train, T.X_train, T.y_train)


def test_empty_and_nonfinite_data():
    with pytest.raises(ValueError, match="at least 1 point"):
        FranzParisiTransfer(10, 1.0, 0.1).fit(S.X_train[:0], S.y_train[:0], T.X_train, T.y_train)
    yt = T.y_train.copy()
    yt[0] = np.nan
    with pytest.raises(ValueError, match="y_target contains NaN"):
        FranzParisiTransfer(10, 1.0, 0.1).fit(S.X_train, S.y_train, T.X_train, yt)
    with pytest.raises(TypeError, match="X must be a numeric array"):
        KernelRenormalization(10, 0.1).fit([["a", "b"]], [1.0])


def test_sampler_reports_divergence_with_advice():
    """A start far from the posterior with a huge step and labels of enormous magnitude: warned, not silent."""
    task = make_teacher_task(10, 5, 4, seed=0)
    s = BayesianNetworkSampler(5, 1e-4, n_chains=2, n_warmup=0, n_samples=20, step_size=1.5, seed=0, progress=False)
    with pytest.warns(SamplerDivergenceWarning, match="acceptance"):
        r = s.sample(task.X_train, 1e3 * task.y_train, W_init=30 * np.ones((2, 5, 4)))
    assert np.all(np.isfinite(r.Q))


def test_transfer_sampler_rejects_bad_couplings():
    ts = TransferSampler(10, 0.1, n_source_chains=2, snapshots_per_chain=1, snapshot_every=1, source_warmup=1,
                         target_warmup=1, target_samples=1, progress=False, seed=0)
    with pytest.raises(ValueError, match="gammas"):
        ts.run(S.X_train, S.y_train, T.X_train, T.y_train, T.X_test, T.y_test, [-1.0])
    with pytest.raises(ValueError, match="X_test has input dimension"):
        ts.run(S.X_train, S.y_train, T.X_train, T.y_train, T.X_test[:, :3], T.y_test, [1.0])


def test_no_network_access_at_import_or_use(monkeypatch):
    """Importing tflmini and running its estimators opens no socket."""
    def guard(*args, **kwargs):
        raise AssertionError("tflmini tried to open a network socket")
    code = ("import socket\n"
            "def guard(*a, **k):\n    raise SystemExit('socket opened')\n"
            "socket.socket.connect = guard\nsocket.create_connection = guard\n"
            "import tflmini, numpy as np\n"
            "t = tflmini.make_transfer_task(20, 10, 5, 6, 0.5, seed=0)\n"
            "tflmini.FranzParisiTransfer(20, 1.0, 0.1).fit(t.source.X_train, t.source.y_train, t.target.X_train, t.target.y_train)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr + out.stdout
    monkeypatch.setattr(socket.socket, "connect", guard)
    fit_fp()
    KernelRenormalization(10, 0.1).fit(T.X_train, T.y_train)


def test_public_api_is_exported():
    for name in tflmini.__all__:
        assert hasattr(tflmini, name), name


def test_lazy_presentation_modules_keep_working():
    """``tflmini.plots``, ``tflmini.widgets`` and the older ``tflmini.plotting`` load on first use; the
    compatibility module re-exports the same objects as the package."""
    assert tflmini.plots.label_axes is tflmini.plotting.label_axes
    assert callable(tflmini.widgets.transfer_panel) and callable(tflmini.widgets.posterior_panel)
    with pytest.raises(AttributeError):
        tflmini.no_such_module
