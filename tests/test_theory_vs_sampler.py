"""The gate: theory against finite networks sampled by tflmini (CI-sized runs, fixed seeds).

The proportional-limit theory keeps each hidden unit's weight statistics at their prior values.
Measured with this sampler (book, chapter 4 and "How accurate is the theory?"): it is accurate when
the number of examples does not exceed the input dimension much (P <~ N0), and the sampled networks
beat it when P >> N0 (their first layer tilts towards the teacher). These gates sit where the theory
claims validity: P <= N0 for the single network; target P_t < N0 for transfer.
"""

import numpy as np
import pytest

from tflmini import BayesianNetworkSampler, FranzParisiTransfer, KernelRenormalization, TransferSampler
from tflmini import make_teacher_task, make_transfer_task
from tflmini.sampling.transfer_sampler import KEYS, SINGLE_SOURCE_KEYS


@pytest.mark.parametrize("activation", ["erf", "linear"])
def test_single_network_theory_matches_sampler(activation):
    n0, n1, p, temperature = 200, 200, 200, 0.05
    task = make_teacher_task(p, 200, n0, teacher="erf", seed=11)
    kr = KernelRenormalization(n1, temperature, activation=activation).fit(task.X_train, task.y_train)
    sampler = BayesianNetworkSampler(n1, temperature, activation=activation, n_chains=4, n_warmup=100,
                                     n_samples=150, seed=5, progress=False)
    res = sampler.sample(task.X_train, task.y_train, task.X_test, task.y_test)
    summary = res.summary()
    theory = {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(task.X_test, task.y_test),
              "mean_error": kr.mean_error(task.X_test, task.y_test)}
    for key, value in theory.items():
        mean, se = summary[key]
        assert abs(mean - value) < 3 * se, f"{key}: theory {value:.5f}, sampler {mean:.5f} ± {se:.5f}"
    assert res.diagnostics["rhat_Q"] < 1.05 and res.diagnostics["divergences"] == 0


def test_transfer_theory_matches_quenched_sampling():
    n0, n1, temperature = 100, 200, 0.05
    gammas = [0.0, 1.0, 10.0, np.inf]
    sampler = TransferSampler(n1, temperature, n_source_chains=4, snapshots_per_chain=3, snapshot_every=8,
                              source_warmup=80, target_warmup=40, target_samples=40, seed=3, progress=False)
    source = None
    failures = []
    for rho in (0.0, 0.9):
        task = make_transfer_task(200, 60, 200, n0, rho, teacher="erf", seed=21)
        S, T = task.source, task.target
        if source is None:
            source = sampler.sample_source(S.X_train, S.y_train)
        res = sampler.sample_targets(source, T.X_train, T.y_train, T.X_test, T.y_test, gammas)
        base = FranzParisiTransfer(n1, 0.0, temperature).fit(S.X_train, S.y_train, T.X_train, T.y_train)
        for i, g in enumerate(gammas):
            fp = base.with_gamma(g)
            theory = dict(fp.order_parameters_, gibbs_error=fp.gibbs_error(T.X_test, T.y_test),
                          mean_error=fp.mean_error(T.X_test, T.y_test),
                          single_source_error=fp.single_source_error(T.X_test, T.y_test),
                          source_variance=float(np.mean(fp.source_variance(T.X_test))))
            for key in KEYS + SINGLE_SOURCE_KEYS:
                mean, se = res.mean[key][i], res.stderr[key][i]
                if abs(mean - theory[key]) >= 3 * se:
                    failures.append(f"rho={rho} gamma={g}: {key} theory {theory[key]:.5f} sampler {mean:.5f} ± {se:.5f}")
        for g, diag in res.diagnostics["targets"].items():
            assert g == "inf" or diag["acceptance"] > 0.5
    assert not failures, "\n".join(failures)
