r"""Where the benefit of transfer comes from, and what one pretrained source gives.

Experiment ``transfer_decomposition`` (book chapters 6 and 7). For synthetic tasks at several relatedness
values and couplings it records

- the three target test errors of the theory: Gibbs, mean (predictor averaged over sources as well) and
  single-source (:meth:`~tflmini.FranzParisiTransfer.single_source_error`), the average source-to-source
  variance, the order parameters, and the exact split of each error by its dependence on :math:`Q_{st}`
  (:meth:`~tflmini.FranzParisiTransfer.transfer_split`, book proposition ``ch06-prop-split``);
- the matched-prior control: a network trained on the target alone whose first-layer prior variance is
  :math:`c_{tt}(\gamma)` (:func:`~tflmini.transfer_curves.matched_prior_along_gamma`);
- sampled finite networks: the transfer protocol (:class:`~tflmini.TransferSampler`, with the single-source
  observables) and the control (:class:`~tflmini.BayesianNetworkSampler` with :math:`\lambda_0 = 1/c_{tt}(\gamma)`).
"""

from __future__ import annotations

import numpy as np

from ..sampling.sampler import BayesianNetworkSampler
from ..transfer import FranzParisiTransfer, coupled_weight_statistics
from .._threads import single_thread
from ..transfer_curves import matched_prior_along_gamma
from ..sampling.transfer_sampler import KEYS, SINGLE_SOURCE_KEYS
from ..renormalization import ConvergenceError
from ._base import Experiment, register
from ._cache import COUPLING, SIZE, SOLVED, Arr, Map, Num, Obj, ResultSchema, estimates
from ._common import (MODEL, QUICK_SAMPLER, SAMPLER, SYNTHETIC, gamma_list, loop, make_sampler, make_task, rng_for,
                      theory_gammas)

ERRORS = ("gibbs_error", "mean_error", "single_source_error")
SPLIT_KEYS = tuple(f"{e}{part}" for e in ERRORS for part in ("_no_source", "_source_linear", "_source_quadratic"))
THEORY_KEYS = ERRORS + ("source_variance", "Q_s", "Q_t", "Q_tt", "Q_st", "control_gibbs_error",
                        "control_mean_error") + SPLIT_KEYS
SIMULATION_KEYS = KEYS + SINGLE_SOURCE_KEYS + ("control_gibbs_error", "control_mean_error")


def _label(rho):
    return f"{float(rho):g}"


def decomposition_theory(p, progress):
    """Theory curves over a dense coupling grid (joined with the sampled couplings), one per relatedness."""
    gammas = theory_gammas(p["theory_gammas"], p["gammas"])
    curves = {}
    for rho in loop(p["rhos"], "relatedness", progress):
        task = make_task(p, rho)
        T = task.target
        out = {k: np.full(gammas.size, np.nan) for k in THEORY_KEYS}
        est = None
        with single_thread():
            for i, g in enumerate(gammas):  # increasing: each fit warm-starts from the previous coupling
                try:
                    if est is None:
                        est = FranzParisiTransfer(p["n_hidden"], float(g), p["temperature"], p["lambda0"],
                                                  p["lambda1"], p["activation"])
                        est.fit(task.source.X_train, task.source.y_train, T.X_train, T.y_train)
                    else:
                        est = est.with_gamma(float(g))
                except ConvergenceError:
                    continue
                split = est.transfer_split(T.X_test, T.y_test)
                for k in ERRORS + SPLIT_KEYS:
                    out[k][i] = split[k]
                out["source_variance"][i] = float(np.mean(est.source_variance(T.X_test)))
                for k in ("Q_s", "Q_t", "Q_tt", "Q_st"):
                    out[k][i] = est.order_parameters_[k]
        control = matched_prior_along_gamma(task, p["n_hidden"], gammas, temperature=p["temperature"],
                                            lambda0=p["lambda0"], lambda1=p["lambda1"], activation=p["activation"])
        out["control_gibbs_error"], out["control_mean_error"] = control["gibbs_error"], control["mean_error"]
        curves[_label(rho)] = out
    return {"gammas": gammas, "curves": curves}


def _sample_control(p, task, gamma, rng, progress):
    """The matched-prior control sampled: a scratch network on the target with prior variance c_tt(gamma)."""
    c_tt = coupled_weight_statistics(gamma, p["lambda0"])["c_tt"]
    cs = p["control_sampler"]
    sampler = BayesianNetworkSampler(p["n_hidden"], p["temperature"], 1.0 / c_tt, p["lambda1"], p["activation"],
                                     n_chains=cs["n_chains"], n_warmup=cs["n_warmup"], n_samples=cs["n_samples"],
                                     seed=rng, progress=progress)
    T = task.target
    summ = sampler.sample(T.X_train, T.y_train, T.X_test, T.y_test, desc=f"control, gamma={gamma:g}").summary()
    return {k: summ[k] for k in ("gibbs_error", "mean_error")}


def decomposition_simulation(p, progress):
    """One set of source snapshots (the source task does not depend on the relatedness), two target replicas
    per snapshot and coupling, and the sampled control, for every relatedness."""
    gammas = gamma_list(p["gammas"])
    sampler = make_sampler(p["n_hidden"], p, rng_for(p["seed"], 0), progress)
    source, source_X = None, None
    curves = {}
    for j, rho in enumerate(loop(p["rhos"], "relatedness", progress)):
        task = make_task(p, rho)
        S, T = task.source, task.target
        if source is None:
            source, source_X = sampler.sample_source(S.X_train, S.y_train), S.X_train
        elif not np.array_equal(source_X, S.X_train):
            raise RuntimeError("the tasks of transfer_decomposition must share their source training set")
        res = sampler.sample_targets(source, T.X_train, T.y_train, T.X_test, T.y_test, list(gammas),
                                     rng=rng_for(p["seed"], 1, j))
        out = {k: {"mean": np.asarray(res.mean[k], dtype=float), "se": np.asarray(res.stderr[k], dtype=float)}
               for k in KEYS + SINGLE_SOURCE_KEYS}
        ctrl = {k: {"mean": np.zeros(gammas.size), "se": np.zeros(gammas.size)} for k in ("gibbs_error", "mean_error")}
        for i, g in enumerate(gammas):
            c = _sample_control(p, task, float(g), rng_for(p["seed"], 2, j, i), progress)
            for k in ctrl:
                ctrl[k]["mean"][i], ctrl[k]["se"][i] = c[k]
        out["control_gibbs_error"], out["control_mean_error"] = ctrl["gibbs_error"], ctrl["mean_error"]
        curves[_label(rho)] = out
    return {"gammas": gammas, "n_snapshots": int(res.n_snapshots), "curves": curves}


#: Theory values that can be negative: the cross overlaps and the source-dependent parts of each error split
#: (the quadratic part is -2e-8 at rho = 0 in the quick run: round-off around zero).
_SIGNED = {"Q_st", "Q_tt"} | {k for k in SPLIT_KEYS if not k.endswith("_no_source")}
#: ``transfer_decomposition``: theory curves over the dense couplings (NaN where a solve failed), sampled
#: estimates (transfer protocol and control) at the sampled couplings, per relatedness.
DECOMPOSITION_SCHEMA = ResultSchema(
    theory=Obj({"gammas": Arr(COUPLING, "gamma"),
                "curves": Map(Obj({k: Arr(Num(nan=True) if k in _SIGNED else SOLVED, "gamma") for k in THEORY_KEYS}))}),
    simulation=Obj({"gammas": Arr(COUPLING, "sim_gamma"), "n_snapshots": SIZE,
                    "curves": Map(estimates(SIMULATION_KEYS, "sim_gamma"))}),
    dims=lambda p: {"sim_gamma": len(p["gammas"])})

register(Experiment(
    name="transfer_decomposition",
    title="Transfer vs regularization and the single-source error (synthetic teacher tasks)",
    findings=(1, 3),
    params={**SYNTHETIC, **MODEL, "seed": 7, "n_source": 200, "n_target": 60, "n_test": 500, "n_hidden": 200,
            "rhos": [0.0, 0.5, 0.9], "gammas": [0.0, 0.3, 1.0, 3.0, 10.0, "inf"],
            "theory_gammas": {"min": 0.01, "max": 1000.0, "num": 41},
            "sampler": {**SAMPLER, "snapshots_per_chain": 6},
            "control_sampler": {"n_chains": 8, "n_warmup": 150, "n_samples": 300}},
    quick={"n_features": 10, "n_source": 16, "n_target": 8, "n_test": 30, "n_hidden": 12,
           "rhos": [0.0, 0.9], "gammas": [0.0, 1.0, "inf"], "theory_gammas": {"min": 0.1, "max": 10.0, "num": 3},
           "sampler": QUICK_SAMPLER, "control_sampler": {"n_chains": 2, "n_warmup": 10, "n_samples": 10}},
    theory=decomposition_theory, simulation=decomposition_simulation, schema=DECOMPOSITION_SCHEMA,
    notes="The control at gamma = 0 and gamma = inf is the scratch network (c_tt = 1/lambda0)."))
