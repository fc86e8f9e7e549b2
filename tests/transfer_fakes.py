"""Inputs shared by the tests of tflmini.transfer_curves and tflmini.plots.transfer: the fixtures ``task`` (a small
transfer task) and ``curve`` (its theory along a few couplings), imported by both test modules, and a fake cached
``transfer_decomposition`` result."""

from __future__ import annotations

import numpy as np
import pytest

from tflmini import make_transfer_task
from tflmini.transfer_curves import theory_along_gamma


@pytest.fixture(scope="module")
def task():
    """A small transfer task (rho = 0.8)."""
    return make_transfer_task(60, 20, 80, 20, 0.8, teacher="erf", seed=2)


@pytest.fixture(scope="module")
def curve(task):
    """Theory of ``task`` at couplings inf, 0, 1, 10 (in that order), with the control and the estimators."""
    return theory_along_gamma(task, 40, [np.inf, 0.0, 1.0, 10.0], temperature=0.05, matched_prior=True,
                              estimators=True)


def fake_decomposition():
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
