r"""When does transfer help? Maps of the benefit :math:`E(\gamma=0) - E(\gamma)` (synthetic tasks).

- ``map_gamma_rho``: over the coupling :math:`\gamma` and the teacher overlap :math:`\rho` at fixed sizes.
- ``map_alpha_rho``: over the target load :math:`\alpha_t = P_t/N_1` and :math:`\rho`, for frozen
  features (:math:`\gamma=\infty`) and for the best coupling of a grid.

Simulations sample a few points of each map.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .._validation import as_number
from ..transfer_curves import optimal_gamma
from ._base import Experiment, register
from ._parallel import map_points
from ._common import gamma_list, loop, make_task, merge, sample_gammas, subsample, transfer_curve
from ._cache import COUNT, COUPLING, DIAGNOSTICS, FINITE, POSITIVE, SIZE, SOLVED, Arr, List, Map, Obj, ResultSchema, Text
from .sweeps import DIFFERENCE, GAMMA_STAR, QUICK_SYN, SYN, _SharedSource, sampled


def gamma_rho_map(p, n_hidden, progress=False):
    """Theory on the grid ``p["theory"]["gammas"]`` x ``p["theory"]["n_rhos"]`` rhos in [0, 1] (plus the gamma = 0
    baseline of each rho): ``E`` (n_rho, n_gamma), ``E_zero`` (n_rho,), ``benefit`` = E_zero - E."""
    spec = p["theory"]["gammas"]
    gammas = np.geomspace(spec["min"], spec["max"], spec["num"])
    rhos = np.linspace(0.0, 1.0, p["theory"]["n_rhos"])
    E, E0 = np.empty((rhos.size, gammas.size)), np.empty(rhos.size)
    failed = 0
    for i, rho in enumerate(loop(rhos, f"rho (N1={n_hidden})", progress)):
        c = transfer_curve(make_task(p, rho), n_hidden, np.r_[0.0, gammas], p, order_parameters=False)
        E0[i], E[i] = c[p["metric"]][0], c[p["metric"]][1:]
        failed += c["n_failed"]
    return {"gammas": gammas, "rhos": rhos, "E": E, "E_zero": E0, "benefit": E0[:, None] - E, "n_failed": failed}


def _sim_points_theory(p, rhos, gammas, n_target=None):
    out = []
    for rho in rhos:
        task = make_task(p, rho)
        if n_target is not None:
            task = subsample(task, n_target=n_target)
        c = transfer_curve(task, p["n_hidden"], gammas, p, order_parameters=False)
        out.append(c[p["metric"]])
    return np.array(out)


def _width_map(p, w):
    return gamma_rho_map(p, as_number(w))


def gamma_rho_theory(p, progress):
    """The map of every width (widths in parallel: :func:`._parallel.map_points`) and the theory at the
    sampled points."""
    keys = [f"N1={w}" for w in p["theory"]["widths"]]
    maps = dict(zip(keys, map_points("theory", partial(_width_map, p), p["theory"]["widths"], keys,
                                     desc="map widths", progress=progress)))
    g = gamma_list(p["gammas"])
    return {"metric": p["metric"], "maps": maps, "sim_points": {"rhos": p["sim_rhos"], "gammas": g,
                                                                 p["metric"]: _sim_points_theory(p, p["sim_rhos"], g)}}


def gamma_rho_simulation(p, progress):
    gammas = gamma_list(p["gammas"])
    shared = _SharedSource(p, p["n_hidden"], (4,), progress)
    results = []
    for rho in loop(p["sim_rhos"], "rho", progress):
        task = make_task(p, rho)
        results.append(sample_gammas(shared.sampler, shared.get(task), task, gammas))
    return {"rhos": p["sim_rhos"], "gammas": gammas, "n_hidden": p["n_hidden"], "results": results,
            "source_diagnostics": shared.diagnostics()}


#: ``map_gamma_rho``: maps over (rho, gamma) per width, theory at the sampled points, sampled estimates.
MAP_GAMMA_RHO_SCHEMA = ResultSchema(
    theory=Obj({"metric": Text("mean_error", "gibbs_error"),
                "maps": Map(Obj({"gammas": Arr(POSITIVE, "map_gamma"), "rhos": Arr(FINITE, "map_rho"),
                                 "E": Arr(SOLVED, "map_rho", "map_gamma"), "E_zero": Arr(SOLVED, "map_rho"),
                                 "benefit": Arr(DIFFERENCE, "map_rho", "map_gamma"), "n_failed": COUNT})),
                "sim_points": Obj({"rhos": Arr(FINITE, "sim_rho"), "gammas": Arr(COUPLING, "sim_gamma")},
                                  extra=Arr(SOLVED, "sim_rho", "sim_gamma"))}),
    simulation=Obj({"rhos": Arr(FINITE, "sim_rho"), "gammas": Arr(COUPLING, "sim_gamma"), "n_hidden": SIZE,
                    "results": List(sampled("sim_gamma"), "sim_rho"), "source_diagnostics": DIAGNOSTICS}),
    dims=lambda p: {"sim_rho": len(p["sim_rhos"]), "sim_gamma": len(p["gammas"]), "map_rho": p["theory"]["n_rhos"],
                    "map_gamma": p["theory"]["gammas"]["num"]})

register(Experiment(
    name="map_gamma_rho", title="When does transfer help: benefit over (gamma, rho)", findings=(1, 2, 3),
    params={**SYN, "metric": "mean_error", "sim_rhos": [0.2, 0.9], "gammas": [0.0, 1.0, "inf"],
            "theory": {"widths": [100, "inf"], "n_rhos": 30, "gammas": {"min": 0.01, "max": 1000.0, "num": 30}}},
    quick={**QUICK_SYN, "gammas": [0.0, "inf"],
           "theory": {"widths": [12, "inf"], "n_rhos": 3, "gammas": {"min": 0.1, "max": 10.0, "num": 3}}},
    theory=gamma_rho_theory, simulation=gamma_rho_simulation, schema=MAP_GAMMA_RHO_SCHEMA))


# -- (alpha_target, rho) ------------------------------------------------------------------------------

def _target_sizes(p):
    spec = p["theory"]["alpha_targets"]
    grid = np.round(np.geomspace(spec["min"], spec["max"], spec["num"]) * p["n_hidden"]).astype(int)
    return sorted(set(int(n) for n in grid if n >= 1) | {int(n) for n in p["n_targets"]})


def alpha_rho_theory(p, progress):
    Pt = _target_sizes(p)
    rhos = np.linspace(0.0, 1.0, p["theory"]["n_rhos"])
    spec = p["theory"]["gammas"]
    gammas = np.r_[0.0, np.geomspace(spec["min"], spec["max"], spec["num"]), np.inf]
    shape = (rhos.size, len(Pt))
    out = {k: np.full(shape, np.nan) for k in ("E_zero", "E_inf", "E_star", "gamma_star")}
    for i, rho in enumerate(loop(rhos, "rho", progress)):
        full = make_task(p, rho, n_target=max(Pt))
        for j, nt in enumerate(Pt):
            c = transfer_curve(subsample(full, n_target=nt), p["n_hidden"], gammas, p, order_parameters=False)
            e = c[p["metric"]]
            out["E_zero"][i, j], out["E_inf"][i, j] = e[0], e[-1]
            out["gamma_star"][i, j], out["E_star"][i, j] = optimal_gamma(gammas, e)
    return {"metric": p["metric"], "n_targets": Pt, "alpha_targets": np.array(Pt) / p["n_hidden"], "rhos": rhos,
            "n_hidden": p["n_hidden"], "gammas": gammas, **out,
            "benefit_inf": out["E_zero"] - out["E_inf"], "benefit_star": out["E_zero"] - out["E_star"]}


def alpha_rho_simulation(p, progress):
    Pt = p["n_targets"]
    n_max = max(_target_sizes(p))
    shared = _SharedSource(p, p["n_hidden"], (5,), progress)
    results = []
    for rho in loop(p["sim_rhos"], "rho", progress):
        full = make_task(p, rho, n_target=n_max)
        source = shared.get(full)
        per_size = [sample_gammas(shared.sampler, source, subsample(full, n_target=nt), [0.0, np.inf]) for nt in Pt]
        results.append({"gamma_zero": merge([_pick(r, 0) for r in per_size]),
                        "gamma_inf": merge([_pick(r, 1) for r in per_size])})
    return {"rhos": p["sim_rhos"], "n_targets": Pt, "n_hidden": p["n_hidden"], "results": results,
            "source_diagnostics": shared.diagnostics()}


def _pick(summary, i):
    return {k: {s: v[s][i:i + 1] for s in ("mean", "se")} for k, v in summary.items()}


#: ``map_alpha_rho``: maps over (rho, target size) at gamma = 0, inf and the best coupling; sampled at
#: gamma = 0 and inf.
MAP_ALPHA_RHO_SCHEMA = ResultSchema(
    theory=Obj({"metric": Text("mean_error", "gibbs_error"), "n_targets": Arr(SIZE, "nt"),
                "alpha_targets": Arr(POSITIVE, "nt"), "rhos": Arr(FINITE, "rho"), "n_hidden": SIZE,
                "gammas": Arr(COUPLING, "gamma"), "gamma_star": Arr(GAMMA_STAR, "rho", "nt"),
                **{k: Arr(SOLVED, "rho", "nt") for k in ("E_zero", "E_inf", "E_star")},
                **{k: Arr(DIFFERENCE, "rho", "nt") for k in ("benefit_inf", "benefit_star")}}),
    simulation=Obj({"rhos": Arr(FINITE, "sim_rho"), "n_targets": Arr(SIZE, "sim_nt"), "n_hidden": SIZE,
                    "results": List(Obj({"gamma_zero": sampled("sim_nt"), "gamma_inf": sampled("sim_nt")}), "sim_rho"),
                    "source_diagnostics": DIAGNOSTICS}),
    dims=lambda p: {"sim_rho": len(p["sim_rhos"]), "sim_nt": len(p["n_targets"]), "rho": p["theory"]["n_rhos"]})

register(Experiment(
    name="map_alpha_rho", title="When does transfer help: benefit over (alpha_target, rho)", findings=(4,),
    params={**SYN, "metric": "mean_error", "sim_rhos": [0.3, 0.9], "n_targets": [10, 20, 40, 80],
            "theory": {"n_rhos": 21, "alpha_targets": {"min": 0.05, "max": 1.5, "num": 16},
                       "gammas": {"min": 0.1, "max": 100.0, "num": 7}}},
    quick={**QUICK_SYN, "n_targets": [4, 8],
           "theory": {"n_rhos": 3, "alpha_targets": {"min": 0.3, "max": 1.0, "num": 2},
                      "gammas": {"min": 1.0, "max": 10.0, "num": 2}}},
    theory=alpha_rho_theory, simulation=alpha_rho_simulation, schema=MAP_ALPHA_RHO_SCHEMA))
