"""Synthetic tasks: dialable teacher overlap, input-distribution shift, label noise, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import erf

from tflmini import make_teacher_task, make_transfer_task
from tflmini.tasks import (Task, TransferTask, input_overlap, shift_eigenvalues, teacher_labels, teacher_overlap)


def _reference_transfer_task(n_source, n_target, n_test, n_features, rho, teacher, noise, seed):
    """The first version of make_transfer_task, kept to check that its random stream is unchanged."""
    rng = np.random.default_rng(seed)
    ws = rng.standard_normal(n_features)
    ws = ws * np.sqrt(n_features) / np.linalg.norm(ws)
    perp = rng.standard_normal(n_features)
    perp -= (perp @ ws) / (ws @ ws) * ws
    perp *= np.sqrt(n_features) / np.linalg.norm(perp)
    wt = rho * ws + np.sqrt(1 - rho**2) * perp
    out = []
    for w, n in ((ws, n_source), (wt, n_target)):
        X = rng.standard_normal((n + n_test, n_features))
        z = X @ w / np.sqrt(n_features)
        y = (z if teacher == "linear" else erf(z)) + noise * rng.standard_normal(n + n_test)
        out.append((X[:n], y[:n], X[n:], y[n:], w))
    return out


@pytest.mark.parametrize("teacher", ["linear", "erf"])
def test_same_random_stream_as_the_first_version(teacher):
    task = make_transfer_task(30, 20, 10, 7, 0.6, teacher=teacher, noise=0.1, seed=3)
    ref = _reference_transfer_task(30, 20, 10, 7, 0.6, teacher, 0.1, 3)
    for part, (X, y, Xe, ye, w) in zip((task.source, task.target), ref):
        for a, b in ((part.X_train, X), (part.y_train, y), (part.X_test, Xe), (part.y_test, ye), (part.w, w)):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_existing_signatures_still_work():
    task = make_transfer_task(40, 12, 25, 8, 0.5, teacher="erf", seed=0)
    assert isinstance(task, TransferTask) and isinstance(task.source, Task)
    assert task.source.X_train.shape == (40, 8) and task.target.X_train.shape == (12, 8)
    assert task.source.X_test.shape == (25, 8) and task.target.y_test.shape == (25,)
    assert task.rho == 0.5 and task.input_shift == 0.0
    single = make_teacher_task(15, 5, 4, teacher="linear", noise=0.0, seed=1)
    np.testing.assert_allclose(single.y_train, single.X_train @ single.w / 2.0)
    # positional construction of the dataclasses, as before
    t = Task(np.zeros((1, 2)), np.zeros(1), np.zeros((1, 2)), np.zeros(1), np.zeros(2))
    assert TransferTask(t, t, 0.3).rho == 0.3


@settings(max_examples=40, deadline=None)
@given(rho=st.floats(0.0, 1.0), n_features=st.integers(2, 40), seed=st.integers(0, 2**31))
def test_teacher_overlap_is_rho(rho, n_features, seed):
    task = make_transfer_task(3, 3, 1, n_features, rho, seed=seed)
    assert teacher_overlap(task.source.w, task.target.w) == pytest.approx(rho, abs=1e-10)
    assert np.linalg.norm(task.target.w) == pytest.approx(np.sqrt(n_features), rel=1e-10)


def test_source_and_target_draws_do_not_depend_on_relatedness():
    a = make_transfer_task(50, 20, 30, 10, 0.1, teacher="linear", seed=5)
    b = make_transfer_task(50, 20, 30, 10, 0.95, teacher="linear", input_shift=0.0, seed=5)
    np.testing.assert_array_equal(a.source.X_train, b.source.X_train)
    np.testing.assert_array_equal(a.source.y_train, b.source.y_train)
    np.testing.assert_array_equal(a.target.X_train, b.target.X_train)
    assert not np.allclose(a.target.y_train, b.target.y_train)
    c = make_transfer_task(50, 20, 30, 10, 0.1, teacher="linear", input_shift=0.5, seed=5)
    np.testing.assert_array_equal(a.source.X_train, c.source.X_train)
    np.testing.assert_array_equal(a.target.w, c.target.w)


def test_labels_follow_the_teacher_and_noise_has_its_variance():
    task = make_transfer_task(20000, 20000, 10, 6, 0.7, teacher="erf", noise=0.3, seed=2)
    for part in (task.source, task.target):
        resid = part.y_train - teacher_labels(part.X_train, part.w, "erf")
        assert np.std(resid) == pytest.approx(0.3, rel=0.03)
        assert abs(np.mean(resid)) < 0.01
    clean = make_transfer_task(50, 50, 10, 6, 0.7, teacher="linear", noise=0.0, input_shift=0.4, seed=2)
    np.testing.assert_allclose(clean.target.y_train, clean.target.X_train @ clean.target.w / np.sqrt(6))


@pytest.mark.parametrize("shift", [0.0, 0.3, 0.8])
def test_input_shift_covariance(shift):
    n0 = 8
    task = make_transfer_task(10, 40000, 1, n0, 0.5, input_shift=shift, seed=4)
    C = np.cov(task.target.X_train.T)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(C)), np.sort(shift_eigenvalues(n0, shift)), atol=0.04)
    assert np.trace(C) / n0 == pytest.approx(1.0, abs=0.02)
    Cs = np.cov(make_transfer_task(40000, 5, 1, n0, 0.5, input_shift=shift, seed=4).source.X_train.T)
    np.testing.assert_allclose(Cs, np.eye(n0), atol=0.04)


def test_shift_eigenvalues_and_input_overlap():
    for n0 in (1, 2, 7, 10):
        assert shift_eigenvalues(n0, 0.6).mean() == pytest.approx(1.0)
    np.testing.assert_array_equal(shift_eigenvalues(5, 0.5), [1.5, 0.5, 1.5, 0.5, 1.0])
    values = [input_overlap(s) for s in (0.0, 0.2, 0.5, 0.9)]
    assert values[0] == pytest.approx(1.0)
    assert all(0 < b < a for a, b in zip(values, values[1:]))


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        ({"rho": 1.5}, ValueError, "rho"),
        ({"rho": -0.1}, ValueError, "rho"),
        ({"rho": "high"}, TypeError, "rho"),
        ({"teacher": "tanh"}, ValueError, "teacher"),
        ({"input_shift": 1.0}, ValueError, "input_shift"),
        ({"input_shift": -0.2}, ValueError, "input_shift"),
        ({"noise": -1.0}, ValueError, "noise"),
        ({"n_features": 1}, ValueError, "n_features"),
        ({"n_source": 0}, ValueError, "n_source"),
        ({"n_target": True}, TypeError, "n_target"),
        ({"n_test": 2.5}, TypeError, "n_test"),
        ({"seed": "x"}, TypeError, "seed"),
    ],
)
def test_bad_arguments_are_named(kwargs, exc, word):
    args = {"n_source": 5, "n_target": 5, "n_test": 5, "n_features": 4, "rho": 0.5, **kwargs}
    pos = [args.pop(k) for k in ("n_source", "n_target", "n_test", "n_features", "rho")]
    with pytest.raises(exc, match=word):
        make_transfer_task(*pos, **args)


def test_teacher_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="teacher"):
        teacher_labels(np.ones((2, 2)), np.ones(2), "relu")
    with pytest.raises(ValueError, match="w_source"):
        teacher_overlap(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="teacher"):
        make_teacher_task(3, 3, 3, teacher="quadratic")
