"""Fast theory curves agree with the estimator KernelRenormalization, point by point."""

from __future__ import annotations

import numpy as np
import pytest

from tflmini import KernelRenormalization, make_teacher_task, nngp_diagonal, nngp_kernel
from tflmini.curves import TheoryOnData, learning_curve, nested_theories

TASK = make_teacher_task(60, 150, 12, teacher="erf", seed=5)


@pytest.mark.parametrize("activation", ["erf", "linear", "relu"])
@pytest.mark.parametrize("n_hidden", [20, 300, np.inf])
def test_matches_the_estimator(activation, n_hidden):
    T, lam0, lam1 = 0.07, 1.3, 0.8
    theory = TheoryOnData(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test, lambda0=lam0, activation=activation)
    kr = KernelRenormalization(n_hidden, T, lam0, lam1, activation).fit(TASK.X_train, TASK.y_train)
    out = theory.evaluate(n_hidden, T, lam1)
    assert out["Q"] == pytest.approx(kr.Q_, rel=1e-10)
    assert out["gibbs_error"] == pytest.approx(kr.gibbs_error(TASK.X_test, TASK.y_test), rel=1e-9)
    assert out["mean_error"] == pytest.approx(kr.mean_error(TASK.X_test, TASK.y_test), rel=1e-9)
    mean, var = theory.predict(out["Q"], T)
    m_ref, v_ref = kr.predict(TASK.X_test, return_var=True)
    np.testing.assert_allclose(mean, m_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(var, v_ref, rtol=1e-8, atol=1e-12)
    q = np.linspace(0.3, 2.0, 7)
    np.testing.assert_allclose(theory.action(q, n_hidden, T, lam1), kr.action(q), rtol=1e-12)


def test_along_broadcasts_and_from_kernels_agrees():
    theory = TheoryOnData(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test)
    widths = np.array([10.0, 60.0, 600.0])
    out = theory.along(widths, 0.05)
    assert out["n_failed"] == 0 and out["Q"].shape == (3,)
    for i, n in enumerate(widths):
        assert out["Q"][i] == pytest.approx(KernelRenormalization(n, 0.05).fit(TASK.X_train, TASK.y_train).Q_)
    grid = theory.along(widths[:, None], np.array([0.01, 0.1])[None, :])
    assert grid["gibbs_error"].shape == (3, 2) and np.all(np.isfinite(grid["gibbs_error"]))
    K = nngp_kernel(TASK.X_train)
    same = TheoryOnData.from_kernels(K, TASK.y_train, nngp_kernel(TASK.X_train, TASK.X_test),
                                     nngp_diagonal(TASK.X_test, var=1.0), TASK.y_test)
    assert same.evaluate(60, 0.05) == pytest.approx(theory.evaluate(60, 0.05))


def test_nested_learning_curve():
    sizes = [5, 20, 60]
    lc = learning_curve(TASK, sizes, np.inf, 0.05)
    for i, P in enumerate(sizes):
        kr = KernelRenormalization(np.inf, 0.05).fit(TASK.X_train[:P], TASK.y_train[:P])
        assert lc["gibbs_error"][i] == pytest.approx(kr.gibbs_error(TASK.X_test, TASK.y_test), rel=1e-9)
    # a fixed load alpha: the width follows the size
    lc_alpha = learning_curve(TASK, sizes, np.array(sizes) / 0.5, 0.05, theories=nested_theories(TASK, sizes))
    kr = KernelRenormalization(40, 0.05).fit(TASK.X_train[:20], TASK.y_train[:20])
    assert lc_alpha["Q"][1] == pytest.approx(kr.Q_)


def test_input_errors():
    theory = TheoryOnData(TASK.X_train, TASK.y_train)
    assert set(theory.evaluate(50, 0.05)) == {"Q"}
    with pytest.raises(RuntimeError, match="without X_test"):
        theory.predict(1.0, 0.05)
    with pytest.raises(ValueError, match="Q must be > 0"):
        theory.action([0.0, 1.0], 50, 0.05)
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(TASK, [0, 10], np.inf, 0.05)
    with pytest.raises(ValueError, match="n_hidden"):
        theory.saddle(-1, 0.05)
