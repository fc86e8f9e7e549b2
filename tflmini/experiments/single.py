r"""Single network: test error against the load :math:`\alpha = P/N_1` (kernel renormalization vs sampler).

Theory: :class:`~tflmini.KernelRenormalization` at several widths (``inf``: the NNGP limit) on nested
training sets of one teacher task. Simulation: :class:`~tflmini.BayesianNetworkSampler` at width
``n_hidden`` for the loads ``alphas``.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_number
from ..renormalization import KernelRenormalization
from ..sampling.sampler import BayesianNetworkSampler
from ..tasks import make_teacher_task
from ._base import Experiment, register
from ._cache import NONNEG, POSITIVE, SIZE, Arr, Map, Obj, ResultSchema, estimates
from ._common import MODEL, SYNTHETIC, loop, rng_for


def _task(p, n_max):
    return make_teacher_task(n_max, p["n_test"], p["n_features"], teacher=p["teacher"], noise=p["noise"], seed=p["seed"])


def _sizes(p):
    grid = p["theory"]["alphas"]
    P = np.unique(np.round(np.geomspace(grid["min"], grid["max"], grid["num"]) * p["n_hidden"]).astype(int))
    return P[P >= 1]


def theory(p, progress):
    P = _sizes(p)
    n_sim = [max(1, round(a * p["n_hidden"])) for a in p["alphas"]]
    task = _task(p, int(max(P.max(), max(n_sim))))
    curves = {}
    for width in loop(p["theory"]["widths"], "widths", progress):
        n1 = as_number(width)
        c = {"mean_error": [], "gibbs_error": [], "Q": []}
        for n in P:
            kr = KernelRenormalization(n1, p["temperature"], p["lambda0"], p["lambda1"], p["activation"])
            kr.fit(task.X_train[:n], task.y_train[:n])
            c["Q"].append(kr.Q_)
            c["mean_error"].append(kr.mean_error(task.X_test, task.y_test))
            c["gibbs_error"].append(kr.gibbs_error(task.X_test, task.y_test))
        curves[f"N1={width}"] = c
    return {"P": P, "alpha": P / p["n_hidden"], "curves": curves}


def simulation(p, progress):
    n_sim = [max(1, round(a * p["n_hidden"])) for a in p["alphas"]]
    P = _sizes(p)
    task = _task(p, int(max(P.max(), max(n_sim))))
    keys = ("Q", "train_error", "gibbs_error", "mean_error")
    out = {k: {"mean": [], "se": []} for k in keys}
    for i, n in enumerate(loop(n_sim, "loads", progress)):
        s = BayesianNetworkSampler(p["n_hidden"], p["temperature"], p["lambda0"], p["lambda1"], p["activation"],
                                   **p["sampler"], seed=rng_for(p["seed"], i), progress=progress)
        summary = s.sample(task.X_train[:n], task.y_train[:n], task.X_test, task.y_test).summary()
        for k in keys:
            out[k]["mean"].append(summary[k][0])
            out[k]["se"].append(summary[k][1])
    return {"P": n_sim, "alpha": [n / p["n_hidden"] for n in n_sim], **out}


#: The result file of ``alpha_sweep``: theory curves over the training-set sizes ``P`` (one per width, keyed
#: ``"N1=<width>"``), sampled estimates at the loads ``alphas``.
ALPHA_SWEEP_SCHEMA = ResultSchema(
    theory=Obj({"P": Arr(SIZE, "P"), "alpha": Arr(POSITIVE, "P"),
                "curves": Map(Obj({k: Arr(NONNEG, "P") for k in ("mean_error", "gibbs_error", "Q")}))}),
    simulation=Obj({"P": Arr(SIZE, "load"), "alpha": Arr(POSITIVE, "load"),
                    **estimates(("Q", "train_error", "gibbs_error", "mean_error"), "load").fields}),
    dims=lambda p: {"load": len(p["alphas"])})

ALPHA_SWEEP = register(Experiment(
    name="alpha_sweep",
    title="Single network: test error vs load alpha = P/N1",
    findings=(),
    params={**SYNTHETIC, **MODEL, "seed": 11, "n_test": 300, "n_hidden": 100,
            "theory": {"widths": [100, 400, "inf"], "alphas": {"min": 0.05, "max": 4.0, "num": 40}},
            "alphas": [0.25, 0.5, 1.0, 2.0],
            "sampler": {"n_chains": 4, "n_warmup": 150, "n_samples": 300}},
    quick={"n_features": 10, "n_test": 40, "n_hidden": 12,
           "theory": {"widths": [12, "inf"], "alphas": {"min": 0.2, "max": 2.0, "num": 4}},
           "alphas": [0.5, 1.0], "sampler": {"n_chains": 2, "n_warmup": 10, "n_samples": 20}},
    theory=theory,
    simulation=simulation,
    schema=ALPHA_SWEEP_SCHEMA,
))
