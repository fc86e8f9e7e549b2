r"""Accuracy atlas: how far the theory can be trusted, measured against sampled finite networks.

Every atlas point is one training set, solved by the theory (fast part) and sampled by the
Metropolis-adjusted split-HMC sampler (slow part; no step-size bias whatever the step, see
:mod:`tflmini.sampling.sampler`). Each simulated point stores the sampler diagnostics: acceptance, step size,
leapfrog steps, divergences, effective sample sizes and split R-hat of its traces, and its run time.

Registered experiments (``python -m tflmini.experiments run NAME [--quick]``):

``atlas_alpha``
    single network at fixed input dimension :math:`N_0`, loads :math:`\alpha = P/N_1` from 0.1 to 4, several
    widths, erf and linear activations (deviation map over load and width).
``atlas_temperature``
    single network at two sizes with :math:`N_0 = N_1/2`, :math:`\alpha = 1`, temperatures 0.01 to 1.
``atlas_width``
    finite-size scaling in the proportional limit: :math:`N_1` grows at fixed :math:`\alpha = P/N_1` *and*
    fixed :math:`N_0/N_1` (hence fixed :math:`P/N_0`), for two ratios :math:`N_0/N_1`.
``atlas_tasks``
    the same sequence (:math:`N_0 = N_1/2`) on several independent training sets per size: how much the
    deviation varies from one data set to another, which the sampler's error bars do not include.
``atlas_transfer``
    Franz-Parisi transfer (order parameters :math:`Q_s, Q_t, Q_{st}, Q_{tt}` and test errors) over the coupling
    :math:`\gamma` at two relatedness values, with :math:`N_0 = N_1/2`.

:func:`single_network_atlas` and :func:`transfer_atlas` gather these results, together with the cached
validation runs that fit (``data/validation_single_network.json``, ``data/validation_transfer.json``), into
tables of relative deviations (sampled minus theory, divided by theory) with error bars; the analysis of
these tables (:func:`~tflmini.accuracy.select`, :func:`~tflmini.accuracy.combine_points`,
:func:`~tflmini.accuracy.fit_power_law`) is in :mod:`tflmini.accuracy`.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from ..accuracy import relative_deviation
from ..renormalization import KernelRenormalization
from ..sampling.sampler import BayesianNetworkSampler
from ..tasks import make_teacher_task
from ..transfer import FranzParisiTransfer
from ..sampling.transfer_sampler import KEYS as TRANSFER_KEYS
from ._base import Experiment, register
from ._cache import COUPLING, FINITE, NONNEG, POSITIVE, SIZE, Arr, List, Num, Obj, ResultSchema, Text, estimates
from ._common import MODEL, SYNTHETIC, gamma_list, make_sampler, make_task, rng_for
from ._parallel import map_points

SINGLE_KEYS = ("Q", "gibbs_error", "mean_error")
DIAGNOSTIC_KEYS = ("acceptance", "warmup_acceptance", "step_size", "n_leapfrog", "divergences", "ess_Q", "rhat_Q",
                   "ess_test_error", "rhat_test_error")
SINGLE_SAMPLER = {"n_chains": 4, "n_warmup": 120, "n_samples": 200}
QUICK_SINGLE_SAMPLER = {"n_chains": 3, "n_warmup": 10, "n_samples": 12}


# -- single-network points ----------------------------------------------------------------------------

def _single_points(p):
    """The (activation, N1, N0, P, T) points of a single-network atlas experiment, in run order."""
    kind = p["grid"]["kind"]
    g = p["grid"]
    pts = []
    if kind == "alpha":
        for act in g["activations"]:
            for n1 in g["widths"]:
                for a in g["alphas"]:
                    P = max(1, int(round(a * n1)))
                    if P <= g["max_P"]:
                        pts.append((act, n1, p["n_features"], P, p["temperature"]))
    elif kind == "temperature":
        for n1 in g["widths"]:
            for T in g["temperatures"]:
                pts.append((p["activation"], n1, int(round(g["n0_over_n1"] * n1)), int(round(g["alpha"] * n1)), T))
    elif kind == "width":
        # the grid, then the points added after it (``"added": [[N1, N0/N1], ...]``): a point's seeds come from
        # its place in this list, so points added at the end leave every earlier point's numbers unchanged
        sizes = [(n1, r) for r in g["n0_over_n1"] for n1 in g["widths"]] + [tuple(a) for a in g.get("added", ())]
        for n1, r in sizes:
            for _ in range(g.get("n_tasks", 1)):  # independent training sets at the same sizes
                pts.append((p["activation"], n1, int(round(r * n1)), int(round(g["alpha"] * n1)), p["temperature"]))
    else:
        raise ValueError(f"unknown atlas grid kind {kind!r}")
    return pts


def _point_task(p, i, n0, P):
    return make_teacher_task(P, p["n_test"], n0, teacher=p["teacher"], noise=p["noise"],
                             seed=rng_for(p["seed"], 100, i))


def _columns(pts):
    act, n1, n0, P, T = zip(*pts)
    n1, P = np.array(n1, dtype=float), np.array(P, dtype=float)
    return {"activation": list(act), "n_hidden": n1, "n_features": np.array(n0, dtype=float), "P": P,
            "temperature": np.array(T, dtype=float), "alpha": P / n1, "P_over_N0": P / np.array(n0, dtype=float)}


def _point_keys(pts):
    """The key of each point in the partial file: its place in the grid (which fixes its seeds) and sizes."""
    return [f"{i}:{act},N1={n1},N0={n0},P={P},T={T:g}" for i, (act, n1, n0, P, T) in enumerate(pts)]


def _single_theory_point(p, point):
    i, (act, n1, n0, P, T) = point
    task = _point_task(p, i, n0, P)
    kr = KernelRenormalization(n1, T, p["lambda0"], p["lambda1"], act).fit(task.X_train, task.y_train)
    return {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(task.X_test, task.y_test),
            "mean_error": kr.mean_error(task.X_test, task.y_test)}


def single_theory(p, progress):
    """Kernel renormalization at every point: Q and the two test errors (points in parallel:
    :func:`._parallel.map_points`)."""
    pts = _single_points(p)
    values = map_points("theory", partial(_single_theory_point, p), enumerate(pts), _point_keys(pts),
                        desc="theory points", progress=progress)
    return {**_columns(pts), **{k: [v[k] for v in values] for k in SINGLE_KEYS}}


_SAMPLED_KEYS = ("Q", "train_error") + SINGLE_KEYS[1:]


def _single_simulation_point(p, point):
    """The sampler at one point (its training set and chains seeded by the point's place in the grid)."""
    i, (act, n1, n0, P, T) = point
    task = _point_task(p, i, n0, P)
    s = BayesianNetworkSampler(n1, T, p["lambda0"], p["lambda1"], act, **p["sampler"],
                               seed=rng_for(p["seed"], 200, i), progress=False)
    t0 = time.perf_counter()
    res = s.sample(task.X_train, task.y_train, task.X_test, task.y_test)
    seconds = time.perf_counter() - t0
    summary = res.summary()
    diag = res.diagnostics
    return {"mean": {k: summary[k][0] for k in _SAMPLED_KEYS}, "se": {k: summary[k][1] for k in _SAMPLED_KEYS},
            "seconds": seconds,
            "diagnostics": {k: np.nan if diag.get(k) is None else float(diag[k]) for k in DIAGNOSTIC_KEYS}}


def single_simulation(p, progress):
    """The sampler at every point: mean and standard error of Q, train and test errors, diagnostics, seconds
    (points in parallel, each kept as it finishes: :func:`._parallel.map_points`)."""
    pts = _single_points(p)

    def report(point, v):
        if not progress:
            _, (act, n1, n0, P, T) = point
            print(f"  [{p['experiment']}] {act} N1={n1} N0={n0} P={P} T={T:g}: gibbs {v['mean']['gibbs_error']:.4f}"
                  f"±{v['se']['gibbs_error']:.4f}  acc {v['diagnostics']['acceptance']:.2f}  "
                  f"({v['seconds']:.0f} s)", flush=True)

    values = map_points("simulation", partial(_single_simulation_point, p), enumerate(pts), _point_keys(pts),
                        desc="sampled points", progress=progress, report=report)
    return {**_columns(pts), **{k: {s: [v[s][k] for v in values] for s in ("mean", "se")} for k in _SAMPLED_KEYS},
            "seconds": [v["seconds"] for v in values],
            "diagnostics": {k: [v["diagnostics"][k] for v in values] for k in DIAGNOSTIC_KEYS}}


#: A sampler diagnostic per point: NaN or inf where it could not be estimated (an R-hat of a constant trace).
_DIAGNOSTIC = Num(nan=True, inf=True)
#: The point columns shared by the theory and simulation parts of the single-network atlas.
_SINGLE_COLUMNS = {"activation": List(Text("erf", "linear", "relu"), "point"), "n_hidden": Arr(SIZE, "point"),
                   "n_features": Arr(SIZE, "point"), "P": Arr(SIZE, "point"), "temperature": Arr(POSITIVE, "point"),
                   "alpha": Arr(POSITIVE, "point"), "P_over_N0": Arr(POSITIVE, "point")}
#: The result file of every single-network atlas experiment: one entry per point of the grid.
SINGLE_SCHEMA = ResultSchema(
    theory=Obj({**_SINGLE_COLUMNS, **{k: Arr(NONNEG, "point") for k in SINGLE_KEYS}}),
    simulation=Obj({**_SINGLE_COLUMNS, **estimates(("Q", "train_error") + SINGLE_KEYS[1:], "point").fields,
                    "seconds": Arr(NONNEG, "point"),
                    "diagnostics": Obj({k: Arr(_DIAGNOSTIC, "point") for k in DIAGNOSTIC_KEYS})}),
    dims=lambda p: {"point": len(_single_points(p))})

_SINGLE_BASE = {**SYNTHETIC, **MODEL, "n_test": 400, "sampler": SINGLE_SAMPLER}
_SCALED_BASE = {k: v for k, v in _SINGLE_BASE.items() if k != "n_features"}  # N0 set by the grid

ATLAS_ALPHA = register(Experiment(
    name="atlas_alpha",
    title="Accuracy atlas: theory vs sampled networks over the load alpha and the width (fixed N0)",
    findings=(),
    params={**_SINGLE_BASE, "seed": 31,
            "grid": {"kind": "alpha", "activations": ["erf", "linear"], "widths": [50, 100, 200],
                     "alphas": [0.1, 0.5, 1.0, 2.0, 4.0], "max_P": 400}},
    quick={"n_features": 8, "n_test": 40, "sampler": QUICK_SINGLE_SAMPLER,
           "grid": {"widths": [6, 12], "alphas": [0.5, 2.0], "max_P": 30}},
    theory=single_theory,
    simulation=single_simulation,
    schema=SINGLE_SCHEMA,
    resumable=True,
))

ATLAS_TEMPERATURE = register(Experiment(
    name="atlas_temperature",
    title="Accuracy atlas: theory vs sampled networks over the temperature (alpha = 1, N0 = N1/2)",
    findings=(),
    params={**_SCALED_BASE, "seed": 32,
            "grid": {"kind": "temperature", "widths": [100, 200], "temperatures": [0.01, 0.05, 0.2, 1.0],
                     "alpha": 1.0, "n0_over_n1": 0.5}},
    quick={"n_test": 40, "sampler": QUICK_SINGLE_SAMPLER,
           "grid": {"widths": [10], "temperatures": [0.05, 1.0]}},
    theory=single_theory,
    simulation=single_simulation,
    schema=SINGLE_SCHEMA,
    resumable=True,
))

ATLAS_WIDTH = register(Experiment(
    name="atlas_width",
    title="Accuracy atlas: finite-size scaling at fixed alpha = P/N1 and fixed N0/N1",
    findings=(),
    params={**_SCALED_BASE, "seed": 33,
            "grid": {"kind": "width", "widths": [50, 100, 200, 400], "alpha": 1.0, "n0_over_n1": [0.5, 1.0],
                     "added": [[800, 0.5]]}},
    quick={"n_test": 40, "sampler": QUICK_SINGLE_SAMPLER,
           "grid": {"widths": [8, 16], "n0_over_n1": [0.5], "added": [[24, 0.5]]}},
    theory=single_theory,
    simulation=single_simulation,
    schema=SINGLE_SCHEMA,
    resumable=True,
))

ATLAS_TASKS = register(Experiment(
    name="atlas_tasks",
    title="Accuracy atlas: spread of the deviation over independent training sets (alpha = 1, N0 = N1/2)",
    findings=(),
    params={**_SCALED_BASE, "seed": 35,
            "grid": {"kind": "width", "widths": [50, 100, 200, 400], "alpha": 1.0, "n0_over_n1": [0.5], "n_tasks": 4}},
    quick={"n_test": 40, "sampler": QUICK_SINGLE_SAMPLER,
           "grid": {"widths": [8], "n_tasks": 2}},
    theory=single_theory,
    simulation=single_simulation,
    schema=SINGLE_SCHEMA,
    resumable=True,
))


# -- transfer points ----------------------------------------------------------------------------------

def _transfer_groups(p):
    """(N1, N0, rho) groups; the source task (hence its sampled snapshots) is shared by the rhos of a width."""
    return [(n1, int(round(p["n0_over_n1"] * n1)), rho) for n1 in p["widths"] for rho in p["rhos"]]


def _transfer_task(p, n1, n0, rho):
    q = {**p, "n_features": n0, "n_source": int(round(p["alpha_source"] * n1)),
         "n_target": int(round(p["alpha_target"] * n1)), "seed": int(p["seed"]) + n1}
    return make_task(q, rho)


def _transfer_columns(p):
    groups = _transfer_groups(p)
    gammas = gamma_list(p["gammas"])
    rows = [(n1, n0, rho, g) for (n1, n0, rho) in groups for g in gammas]
    n1, n0, rho, g = (np.array(c, dtype=float) for c in zip(*rows))
    return {"n_hidden": n1, "n_features": n0, "rho": rho, "gamma": g,
            "P_source": np.round(p["alpha_source"] * n1), "P_target": np.round(p["alpha_target"] * n1)}


def _transfer_theory_group(p, group):
    n1, n0, rho = group
    task = _transfer_task(p, n1, n0, rho)
    S, T = task.source, task.target
    fp = FranzParisiTransfer(n1, 0.0, p["temperature"], p["lambda0"], p["lambda1"], p["activation"])
    fp.fit(S.X_train, S.y_train, T.X_train, T.y_train)
    out = {k: [] for k in TRANSFER_KEYS}
    for g in gamma_list(p["gammas"]):
        th = fp.with_gamma(g)
        for k in ("Q_s", "Q_t", "Q_st", "Q_tt"):
            out[k].append(th.order_parameters_[k])
        out["gibbs_error"].append(th.gibbs_error(T.X_test, T.y_test))
        out["mean_error"].append(th.mean_error(T.X_test, T.y_test))
    return out


def transfer_theory(p, progress):
    """Franz-Parisi theory at every (width, rho, gamma): order parameters and test errors ((width, rho) groups
    in parallel: :func:`._parallel.map_points`)."""
    groups = _transfer_groups(p)
    values = map_points("theory", partial(_transfer_theory_group, p), groups,
                        [f"N1={n1},N0={n0},rho={rho:g}" for n1, n0, rho in groups], desc="theory groups",
                        progress=progress)
    return {**_transfer_columns(p), **{k: [x for v in values for x in v[k]] for k in TRANSFER_KEYS}}


def _transfer_simulation_width(p, n1):
    """The protocol at one width: the source sampled once, then the targets of every rho in turn (one
    generator per width: the rhos of a width form one point)."""
    gammas = gamma_list(p["gammas"])
    sampler, source, groups = None, None, []
    for _, n0, rho in (g for g in _transfer_groups(p) if g[0] == n1):
        task = _transfer_task(p, n1, n0, rho)
        S, T = task.source, task.target
        t0 = time.perf_counter()
        if sampler is None:
            sampler = make_sampler(n1, p, rng_for(p["seed"], 300, n1), False)
            source = sampler.sample_source(S.X_train, S.y_train)
        res = sampler.sample_targets(source, T.X_train, T.y_train, T.X_test, T.y_test, list(gammas))
        ds = res.diagnostics["source"]
        # gamma = inf is exact given the source (no target chain): acceptance 1 by construction
        dts = [res.diagnostics["targets"]["inf" if np.isinf(g) else f"{g:g}"] for g in gammas]
        groups.append({"n_features": n0, "rho": rho, "seconds": time.perf_counter() - t0,
                       "mean": {k: np.asarray(res.mean[k], dtype=float) for k in TRANSFER_KEYS},
                       "se": {k: np.asarray(res.stderr[k], dtype=float) for k in TRANSFER_KEYS},
                       "source_acceptance": ds["acceptance"], "source_rhat_Q": ds["rhat_Q"], "source_ess_Q": ds["ess_Q"],
                       "target_acceptance": [dt.get("acceptance", 1.0) for dt in dts],
                       "target_rhat_Q": [dt.get("rhat_Q", 1.0) for dt in dts]})
    return groups


def transfer_simulation(p, progress):
    """The Franz-Parisi protocol sampled at every (width, rho): quenched means and standard errors over source
    snapshots, the acceptance of the source run and of each target run, and the seconds per group (widths in
    parallel, each kept as it finishes: :func:`._parallel.map_points`)."""
    n_gammas = len(p["gammas"])

    def report(n1, groups):
        if not progress:
            for g in groups:
                print(f"  [{p['experiment']}] N1={n1} N0={g['n_features']} rho={g['rho']:g}: gibbs "
                      + ", ".join(f"{m:.4f}" for m in g["mean"]["gibbs_error"]) + f"  ({g['seconds']:.0f} s)",
                      flush=True)

    widths = list(dict.fromkeys(n1 for n1, _, _ in _transfer_groups(p)))
    groups = [g for v in map_points("simulation", partial(_transfer_simulation_width, p), widths,
                                    [f"N1={n1}" for n1 in widths], desc="sampled widths", progress=progress,
                                    report=report) for g in v]
    out = {**_transfer_columns(p), **{k: {s: [x for g in groups for x in g[s][k]] for s in ("mean", "se")}
                                      for k in TRANSFER_KEYS},
           "seconds": [g["seconds"] for g in groups],
           **{k: [x for g in groups for x in g[k]] for k in ("target_acceptance", "target_rhat_Q")},
           **{k: [g[k] for g in groups for _ in range(n_gammas)]
              for k in ("source_acceptance", "source_rhat_Q", "source_ess_Q")}}
    return out


_TRANSFER_COLUMNS = {"n_hidden": Arr(SIZE, "row"), "n_features": Arr(SIZE, "row"), "rho": Arr(FINITE, "row"),
                     "gamma": Arr(COUPLING, "row"), "P_source": Arr(SIZE, "row"), "P_target": Arr(SIZE, "row")}
#: ``atlas_transfer``: one entry per (width, rho, gamma); run times per (width, rho) group.
TRANSFER_SCHEMA = ResultSchema(
    theory=Obj({**_TRANSFER_COLUMNS, **{k: Arr(Num(0.0) if k in ("Q_s", "Q_t", "gibbs_error", "mean_error")
                                             else FINITE, "row") for k in TRANSFER_KEYS}}),
    simulation=Obj({**_TRANSFER_COLUMNS, **estimates(TRANSFER_KEYS, "row").fields, "seconds": Arr(NONNEG, "group"),
                    **{k: Arr(_DIAGNOSTIC, "row") for k in ("source_acceptance", "source_rhat_Q", "source_ess_Q",
                                                            "target_acceptance", "target_rhat_Q")}}),
    dims=lambda p: {"group": len(_transfer_groups(p)), "row": len(_transfer_groups(p)) * len(p["gammas"])})

ATLAS_TRANSFER = register(Experiment(
    name="atlas_transfer",
    title="Accuracy atlas: transfer order parameters and errors over gamma and rho (N0 = N1/2)",
    findings=(),
    params={**{k: v for k, v in SYNTHETIC.items() if k != "n_features"}, **MODEL, "seed": 34, "n_test": 300,
            "widths": [100, 200, 400], "n0_over_n1": 0.5,
            "alpha_source": 1.0, "alpha_target": 0.3, "rhos": [0.5, 0.9], "gammas": [0.0, 0.3, 1.0, 3.0, 10.0, "inf"],
            "sampler": {"n_source_chains": 4, "snapshots_per_chain": 3, "snapshot_every": 10, "source_warmup": 150,
                        "target_warmup": 60, "target_samples": 60}},
    quick={"n_test": 40, "widths": [12], "rhos": [0.9], "gammas": [0.0, 1.0, "inf"],
           "sampler": {"n_source_chains": 2, "snapshots_per_chain": 2, "snapshot_every": 3, "source_warmup": 10,
                       "target_warmup": 8, "target_samples": 8}},
    theory=transfer_theory,
    simulation=transfer_simulation,
    schema=TRANSFER_SCHEMA,
    resumable=True,
))


# -- the atlas table ----------------------------------------------------------------------------------

SINGLE_EXPERIMENTS = ("atlas_alpha", "atlas_temperature", "atlas_width", "atlas_tasks")


def _empty_single():
    cols = ("source", "activation", "n_hidden", "n_features", "P", "temperature", "acceptance", "rhat_Q", "ess_Q",
            "seconds")
    out = {c: [] for c in cols}
    for k in SINGLE_KEYS:
        out[k] = {"theory": [], "mean": [], "se": []}
    return out


def _add_single(out, source, act, n1, n0, P, T, theory, sampled, diag, seconds):
    for c, v in (("source", source), ("activation", act), ("n_hidden", n1), ("n_features", n0), ("P", P),
                 ("temperature", T), ("acceptance", diag.get("acceptance", np.nan)),
                 ("rhat_Q", diag.get("rhat_Q", np.nan)), ("ess_Q", diag.get("ess_Q", np.nan)), ("seconds", seconds)):
        out[c].append(v)
    for k in SINGLE_KEYS:
        out[k]["theory"].append(float(theory[k]))
        out[k]["mean"].append(float(sampled[k]["mean"]))
        out[k]["se"].append(float(sampled[k]["se"]))


def _finish(out, keys):
    for c, v in list(out.items()):
        if c in keys:
            d = {s: np.asarray(x, dtype=float) for s, x in v.items()}
            d["dev"], d["dev_se"] = relative_deviation(d["theory"], d["mean"], d["se"])
            out[c] = d
        elif c not in ("source", "activation"):
            out[c] = np.asarray(v, dtype=float)
    return out


def single_network_atlas(*, quick=False, directory=None, include_cached_validation=True):
    r"""Every single-network atlas point, theory against sampled networks, as one table.

    Reads the atlas experiments (:data:`SINGLE_EXPERIMENTS`, skipping any not cached yet) and, with
    ``include_cached_validation``, the rows of ``data/validation_single_network.json`` and
    ``data/accuracy_input_dimension.json`` (theory and sampler at matching parameters, reused rather than
    recomputed).

    Returns
    -------
    dict of columns (one entry per point): ``source`` (experiment or file), ``activation``, ``n_hidden``,
    ``n_features``, ``P``, ``temperature``, ``alpha`` (P/N1), ``P_over_N0``, ``N0_over_N1``, ``acceptance``, ``rhat_Q``,
    ``ess_Q``, ``seconds`` (sampler wall time), and for each of Q, gibbs_error, mean_error a dict with
    ``theory``, ``mean``, ``se`` (sampled) and ``dev``, ``dev_se``
    (:func:`~tflmini.accuracy.relative_deviation`).
    """
    from ._base import load
    from ._cache import CacheError

    out = _empty_single()
    for name in SINGLE_EXPERIMENTS:
        try:
            r = load(name, quick=quick, directory=directory, require_simulation=True)
        except CacheError:
            continue
        th, sim = r.theory, r.simulation
        for i, act in enumerate(th["activation"]):
            diag = {k: sim["diagnostics"][k][i] for k in ("acceptance", "rhat_Q", "ess_Q")}
            _add_single(out, name, act, th["n_hidden"][i], th["n_features"][i], th["P"][i], th["temperature"][i],
                        {k: th[k][i] for k in SINGLE_KEYS},
                        {k: {"mean": sim[k]["mean"][i], "se": sim[k]["se"][i]} for k in SINGLE_KEYS},
                        diag, sim["seconds"][i])
    if include_cached_validation:
        from ..results import ResultsError, load_input_dimension, load_validation

        try:
            v = load_validation(require_complete=True)
        except ResultsError:
            v = None
        if v is not None:
            pv = v["parameters"]
            for row in v["rows"]:
                _add_single(out, "validation_single_network", row["activation"], row["n_hidden"], pv["n_features"],
                            row["P"], pv["temperature"], row["theory"], row["sampler"], row.get("diagnostics", {}),
                            row.get("seconds", np.nan))
        try:
            d = load_input_dimension()
        except ResultsError:
            d = None
        if d is not None:
            pd, grid = d["parameters"], d["parameters"]["grid"]
            for row in d["rows"]:
                _add_single(out, "accuracy_input_dimension", pd["activation"], grid["n_hidden"], row["n_features"],
                            grid["P"], pd["temperature"], row["theory"], row["sampler"], row.get("diagnostics", {}),
                            row.get("seconds", np.nan))
    out = _finish(out, SINGLE_KEYS)
    out["alpha"] = out["P"] / out["n_hidden"] if out["P"].size else np.zeros(0)
    out["P_over_N0"] = out["P"] / out["n_features"] if out["P"].size else np.zeros(0)
    out["N0_over_N1"] = out["n_features"] / out["n_hidden"] if out["P"].size else np.zeros(0)
    return out


def transfer_atlas(*, quick=False, directory=None, include_cached_validation=True):
    r"""Every transfer atlas point (``atlas_transfer`` and, with ``include_cached_validation``, the rows of
    ``data/validation_transfer.json``) as one table: columns ``source``, ``n_hidden``, ``n_features``, ``rho``,
    ``gamma``, ``P_source``, ``P_target``, ``source_acceptance``, ``target_acceptance`` and, for each of
    Q_s, Q_t, Q_st, Q_tt, gibbs_error, mean_error, a dict ``theory``, ``mean``, ``se``, ``dev``, ``dev_se``.
    The relative deviation of a quantity predicted below :data:`~tflmini.accuracy.SMALL` in magnitude (Q_st and
    Q_tt at gamma = 0, rho = 0) is NaN."""
    from ._base import load
    from ._cache import CacheError

    cols = ("source", "n_hidden", "n_features", "rho", "gamma", "P_source", "P_target", "source_acceptance",
            "target_acceptance")
    out = {c: [] for c in cols}
    for k in TRANSFER_KEYS:
        out[k] = {"theory": [], "mean": [], "se": []}

    def add(source, n1, n0, rho, g, ps, pt, th, sim, acc_s, acc_t):
        for c, val in zip(cols, (source, n1, n0, rho, g, ps, pt, acc_s, acc_t)):
            out[c].append(val)
        for k in TRANSFER_KEYS:
            out[k]["theory"].append(float(th[k]))
            out[k]["mean"].append(float(sim[k]["mean"]))
            out[k]["se"].append(float(sim[k]["se"]))

    try:
        r = load("atlas_transfer", quick=quick, directory=directory, require_simulation=True)
    except CacheError:
        r = None
    if r is not None:
        th, sim = r.theory, r.simulation
        for i in range(len(th["gamma"])):
            add("atlas_transfer", th["n_hidden"][i], th["n_features"][i], th["rho"][i], th["gamma"][i],
                th["P_source"][i], th["P_target"][i], {k: th[k][i] for k in TRANSFER_KEYS},
                {k: {"mean": sim[k]["mean"][i], "se": sim[k]["se"][i]} for k in TRANSFER_KEYS},
                sim["source_acceptance"][i], sim["target_acceptance"][i])
    if include_cached_validation:
        from ..results import ResultsError, load_validation_transfer

        try:
            v = load_validation_transfer()
        except ResultsError:
            v = None
        if v is not None:
            n0 = v["parameters"]["n_features"]
            diag = {}
            for row in v["rows"]:  # the diagnostics of a (width, rho) group sit on its last row
                if "diagnostics" in row:
                    diag[(row["n_hidden"], row["rho"])] = row["diagnostics"]
            for row in v["rows"]:
                d = diag.get((row["n_hidden"], row["rho"]), {})
                g = row["gamma"]
                dt = d.get("targets", {}).get("inf" if np.isinf(g) else f"{g:g}", {})
                add("validation_transfer", row["n_hidden"], n0, row["rho"], g, row["P_source"], row["P_target"],
                    row["theory"], row["sampler"], d.get("source", {}).get("acceptance", np.nan),
                    1.0 if np.isinf(g) else dt.get("acceptance", np.nan))
    return _finish(out, TRANSFER_KEYS)
