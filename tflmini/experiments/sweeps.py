r"""Transfer experiments along one axis: the coupling :math:`\gamma`, the relatedness, the width
:math:`N_1` at fixed sizes, and the source (and target) size. Each exists for the synthetic teacher
tasks and for the digits catalogue (:mod:`tflmini.datasets`).

Theory: :class:`~tflmini.FranzParisiTransfer` curves (:func:`._common.transfer_curve`). Simulation:
:class:`~tflmini.TransferSampler`, one set of source snapshots shared by every target of a width
(the source task does not depend on the target for a given seed), error bars over snapshots.

The digits experiments (parameters ``single_source`` and ``source_report``) also store the error with one
pretrained source (theory and sampled: :data:`~tflmini.sampling.transfer_sampler.SINGLE_SOURCE_KEYS`) and a report on
the source network itself, under ``"source"``: theory (kernel renormalization of the source task: ``Q_s`` and
the source's test errors on the test images of its digits) and sampled snapshots (the same, plus the
alignment of the snapshots' first-layer weights with the ridge readout template of the source and of each
target, :func:`source_measurements`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..datasets import DIGITS_PREPROCESSING, DIGITS_SOURCE, DIGITS_TARGETS, digits_pair_training, ridge_readout
from ..renormalization import KernelRenormalization
from ..sampling.sampler import BayesianNetworkSampler
from .._validation import as_number
from ..sampling.transfer_sampler import KEYS, SINGLE_SOURCE_KEYS, _averaged_predictor_error
from ..transfer_curves import optimal_gamma
from ._base import Experiment, register
from ._parallel import map_points
from ._cache import (COUNT, COUPLING, DIAGNOSTICS, FINITE, NONNEG, SIZE, SOLVED, WIDTH, Arr, List, Map, Num, Obj,
                     ResultSchema, Text, estimate, estimates)
from ._common import (DIGITS, MODEL, QUICK_SAMPLER, SAMPLER, SYNTHETIC, gamma_list, loop, make_sampler, make_task,
                      merge, relation_label, relations, rng_for, sample_gammas, subsample, theory_gammas,
                      transfer_curve)

SYN = {**SYNTHETIC, **MODEL, "seed": 7, "n_source": 100, "n_target": 30, "n_test": 300, "n_hidden": 100,
       "sampler": SAMPLER}
DIG = {**DIGITS, "inputs": DIGITS_PREPROCESSING, **MODEL, "seed": 5, "n_source": 160, "n_target": 20, "n_test": 100,
       "n_hidden": 100, "sampler": SAMPLER, "single_source": True, "source_report": True}
QUICK_SYN = {"n_features": 10, "n_source": 16, "n_target": 8, "n_test": 30, "n_hidden": 12, "sampler": QUICK_SAMPLER}
QUICK_DIG = {"n_source": 20, "n_target": 10, "n_test": 30, "n_hidden": 12, "sampler": QUICK_SAMPLER}
DENSE = {"min": 0.01, "max": 1000.0, "num": 61}
QUICK_DENSE = {"min": 0.1, "max": 10.0, "num": 3}


def _numeric(d):
    return {k: v for k, v in d.items() if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)}


class _SharedSource:
    """Samples the source once per (experiment, width) and checks every task uses that same source."""

    def __init__(self, p, n_hidden, key, progress):
        self.sampler = make_sampler(n_hidden, p, rng_for(p["seed"], *key), progress)
        self.source = None
        self.X = None

    def get(self, task):
        S = task.source
        if self.source is None:
            self.source = self.sampler.sample_source(S.X_train, S.y_train)
            self.X = S.X_train
        elif not np.array_equal(self.X, S.X_train):
            raise RuntimeError("tasks of one sweep must share their source training set")
        return self.source

    def diagnostics(self):
        return _numeric(self.source["diagnostics"]) if self.source is not None else {}


# -- digits: the error with one source, and the source network itself ----------------------------------

def _keys(p):
    """Sampled observables stored: with ``single_source`` also the single-source error and source variance."""
    return KEYS + SINGLE_SOURCE_KEYS if p.get("single_source") else KEYS


def _curve_metrics(p):
    return ("mean_error", "gibbs_error") + (("single_source_error",) if p.get("single_source") else ())


def source_theory(p, task, widths):
    r"""Kernel renormalization of the source task at each width: ``Q_s`` and the source's ``mean_error`` and
    ``gibbs_error`` on its test set (arrays over ``widths``)."""
    S = task.source
    out = {"Q_s": [], "mean_error": [], "gibbs_error": []}
    for w in widths:
        kr = KernelRenormalization(as_number(w), p["temperature"], p["lambda0"], p["lambda1"], p["activation"])
        kr.fit(S.X_train, S.y_train)
        out["Q_s"].append(kr.Q_)
        out["mean_error"].append(kr.mean_error(S.X_test, S.y_test))
        out["gibbs_error"].append(kr.gibbs_error(S.X_test, S.y_test))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def _mean_se(values):
    v = np.asarray(values, dtype=float)
    return {"mean": float(v.mean()), "se": float(v.std(ddof=1) / np.sqrt(v.size))}


def source_measurements(p, source, task, targets=()):
    r"""The sampled source network (``source``: :meth:`~tflmini.TransferSampler.sample_source` on ``task``'s
    source), measured on the source's test set: ``Q_s`` (mean and standard error over chains), ``gibbs_error``
    (exact given each snapshot's first layer) and ``mean_error`` (error of the snapshot-averaged posterior
    mean), with standard errors over snapshots; and ``alignment``: for the ridge readout template :math:`u`
    (:func:`~tflmini.datasets.ridge_readout` on the training images of a digit pair) of the source and of
    each catalogue target in ``targets``, the squared cosine :math:`(w_i\cdot u)^2/(|w_i|^2|u|^2)` between
    the snapshots' first-layer weight vectors and :math:`u`, averaged over units, in units of its prior value
    :math:`1/N_0` (so 1 means no alignment beyond the prior's)."""
    S = task.source
    W = np.asarray(source["W"], dtype=float)
    K, N1, N0 = W.shape
    net = BayesianNetworkSampler(N1, p["temperature"], p["lambda0"], p["lambda1"], p["activation"], n_chains=K,
                                 n_warmup=0, n_samples=1, progress=False)
    post = net.posterior(S.X_train, S.y_train)
    _, _, state = post.likelihood(W, need_grad=False)
    obs = post.observables(W, state, S.X_test, S.y_test)
    m, m_se = _averaged_predictor_error(obs["test_mean"], S.y_test)
    qc = np.asarray(source["Q_chains"], dtype=float)
    out = {"Q_s": _mean_se(qc), "mean_error": {"mean": m, "se": m_se}, "gibbs_error": _mean_se(obs["test_error"]),
           "n_snapshots": K, "n_chains": int(qc.size), "alignment": {}}
    norms = np.einsum("kij,kij->ki", W, W)
    for name, pair in (("source", DIGITS_SOURCE),) + tuple((t, DIGITS_TARGETS[t]) for t in targets):
        u = ridge_readout(*digits_pair_training(pair))
        cos2 = np.einsum("kij,j->ki", W, u) ** 2 / (norms * (u @ u))
        out["alignment"][name] = _mean_se(N0 * cos2.mean(axis=1))
    return out


# -- schemas of the result files ------------------------------------------------------------------------------

#: A minimum over a coupling grid: gamma* >= 0 (inf: frozen features are best), NaN if the curve failed.
GAMMA_STAR = Num(0.0, nan=True, inf=True)
#: A difference of errors (a benefit E(0) - E): any sign, NaN where a solve failed.
DIFFERENCE = Num(nan=True)


def _at_most_n_failed(curve):
    """A theory curve holds NaN only at the couplings whose saddle point was not found (``n_failed``)."""
    bad = max(int(np.isnan(v).sum()) for k, v in curve.items() if isinstance(v, np.ndarray))
    if bad > curve["n_failed"]:
        return f"holds {bad} NaN values but records n_failed = {curve['n_failed']}"
    return None


def theory_curve(*shape, order_parameters=True, single_source=True, matched=False, failures=True):
    """A :func:`._common.transfer_curve` along ``shape``: errors (NaN only where a solve failed), optionally the
    order parameters, the matched-prior errors, the single-source error and ``n_failed``."""
    fields = {k: Arr(SOLVED, *shape) for k in ("mean_error", "gibbs_error")}
    if order_parameters:
        fields.update({"Q_s": Arr(SOLVED, *shape), "Q_t": Arr(SOLVED, *shape), "Q_st": Arr(DIFFERENCE, *shape),
                       "Q_tt": Arr(DIFFERENCE, *shape)})
    if matched:
        fields.update({k: Arr(SOLVED, *shape) for k in ("matched_mean_error", "matched_gibbs_error")})
    if failures:
        fields["n_failed"] = COUNT
    return Obj(fields, optional={"single_source_error": Arr(SOLVED, *shape)} if single_source else {},
               rules=(_at_most_n_failed,) if failures else ())


def source_theory_schema(dim):
    """:func:`source_theory` over the widths ``dim`` (the widths themselves optional)."""
    return Obj({k: Arr(NONNEG, dim) for k in ("Q_s", "mean_error", "gibbs_error")}, optional={"widths": Arr(WIDTH, dim)})


#: :func:`source_measurements`.
SOURCE_MEASUREMENTS = Obj({"Q_s": estimate("Q_s"), "mean_error": estimate("mean_error"),
                           "gibbs_error": estimate("gibbs_error"), "n_snapshots": SIZE, "n_chains": SIZE,
                           "alignment": Map(Obj({"mean": NONNEG, "se": Num(0.0, nan=True)}))})


def sampled(*shape):
    """Sampled observables along ``shape``: :data:`KEYS`, plus the single-source ones when stored."""
    return estimates(KEYS, *shape, optional=SINGLE_SOURCE_KEYS)


GAMMA_SWEEP_SCHEMA = ResultSchema(
    theory=Obj({"gammas": Arr(COUPLING, "gamma"),
                "curves": Map(Obj({"relatedness": FINITE}, extra=theory_curve("gamma", matched=True)))},
               optional={"source": source_theory_schema("source_width")}),
    simulation=Obj({"gammas": Arr(COUPLING, "sim_gamma"), "n_hidden": SIZE, "relatedness": Map(FINITE),
                    "results": Map(sampled("sim_gamma")), "source_diagnostics": DIAGNOSTICS},
                   optional={"source": SOURCE_MEASUREMENTS}),
    dims=lambda p: {"sim_gamma": len(p["gammas"])})

RELATEDNESS_SWEEP_SCHEMA = ResultSchema(
    theory=Obj({"gammas": Arr(COUPLING, "gamma"), "relatedness": Arr(FINITE, "rel"), "labels": List(Text(), "rel"),
                "curves": Map(theory_curve("rel", "gamma", order_parameters=False, failures=False))},
               optional={"source": source_theory_schema("source_width"),
                         "input_shift": Obj({"rho": FINITE, "n_hidden": WIDTH,
                                             "curves": Map(theory_curve("gamma", order_parameters=False))})}),
    simulation=Obj({"gammas": Arr(COUPLING, "sim_gamma"), "n_hidden": SIZE, "relatedness": Arr(FINITE, "sim_rel"),
                    "labels": List(Text(), "sim_rel"), "results": List(sampled("sim_gamma"), "sim_rel"),
                    "source_diagnostics": DIAGNOSTICS},
                   optional={"source": SOURCE_MEASUREMENTS}),
    dims=lambda p: {"sim_gamma": len(p["sim_gammas"]), "sim_rel": len(relations(p) if p["dataset"] != "synthetic"
                                                                       else p["sim_rhos"])})

WIDTH_EFFECT_SCHEMA = ResultSchema(
    theory=Obj({"gammas": Arr(COUPLING, "gamma"), "widths": Arr(WIDTH, "width"),
                "curves": Map(Obj({**theory_curve("width", "gamma", order_parameters=False, failures=False).fields,
                                   "gamma_star": Arr(GAMMA_STAR, "width"), "E_star": Arr(SOLVED, "width"),
                                   "E_zero": Arr(SOLVED, "width"), "E_inf": Arr(SOLVED, "width"),
                                   "relatedness": FINITE},
                                  optional={"single_source_error": Arr(SOLVED, "width", "gamma")}))},
               optional={"source": source_theory_schema("width")}),
    simulation=Obj({"gammas": Arr(COUPLING, "sim_gamma"), "widths": Arr(SIZE, "sim_width"),
                    "results": Map(List(sampled("sim_gamma"), "sim_width")),
                    "source_diagnostics": List(DIAGNOSTICS, "sim_width")},
                   optional={"source": List(SOURCE_MEASUREMENTS, "sim_width")}),
    dims=lambda p: {"sim_gamma": len(p["gammas"]), "sim_width": len(p["widths"])})

SOURCE_SIZE_SCHEMA = ResultSchema(
    theory=Obj({"n_sources": Arr(SIZE, "ns"), "n_targets": Arr(SIZE, "nt"), "relatedness": FINITE,
                "metric": Text("mean_error", "gibbs_error"), "gamma_star": Arr(GAMMA_STAR, "nt", "ns"),
                **{k: Arr(SOLVED, "nt", "ns") for k in ("E_zero", "E_inf", "E_star")}},
               optional={"E_single_zero": Arr(SOLVED, "nt", "ns"), "E_single_inf": Arr(SOLVED, "nt", "ns"),
                         "source": source_theory_schema("ns")}),
    simulation=Obj({"n_sources": Arr(SIZE, "sim_ns"), "n_targets": Arr(SIZE, "sim_nt"), "n_hidden": SIZE,
                    "relatedness": FINITE, "gamma_zero": sampled("sim_nt"),
                    "gamma_inf": List(sampled("sim_ns"), "sim_nt"), "source_diagnostics": List(DIAGNOSTICS, "sim_ns")},
                   optional={"source": List(SOURCE_MEASUREMENTS, "sim_ns")}),
    dims=lambda p: {"sim_ns": len(p["n_sources"]), "sim_nt": len(p["n_targets"])})


# -- gamma sweep -------------------------------------------------------------------------------------

def gamma_theory(p, progress):
    gammas = theory_gammas(p["theory"]["gammas"], p["gammas"])
    curves = {}
    for rel in loop(relations(p), "relatedness", progress):
        task = make_task(p, rel)
        curves[relation_label(p, rel)] = {
            f"N1={w}": transfer_curve(task, as_number(w), gammas, p, matched_scratch=True,
                                      single_source=bool(p.get("single_source")))
            for w in p["theory"]["widths"]}
        curves[relation_label(p, rel)]["relatedness"] = task.rho
    out = {"gammas": gammas, "curves": curves}
    if p.get("source_report"):
        out["source"] = {"widths": list(p["theory"]["widths"]),
                         **source_theory(p, task, p["theory"]["widths"])}
    return out


def gamma_simulation(p, progress):
    gammas = gamma_list(p["gammas"])
    shared = _SharedSource(p, p["n_hidden"], (0,), progress)
    results, rho = {}, {}
    for rel in loop(relations(p), "relatedness", progress):
        task = make_task(p, rel)
        results[relation_label(p, rel)] = sample_gammas(shared.sampler, shared.get(task), task, gammas, _keys(p))
        rho[relation_label(p, rel)] = task.rho
    out = {"gammas": gammas, "n_hidden": p["n_hidden"], "relatedness": rho, "results": results,
           "source_diagnostics": shared.diagnostics()}
    if p.get("source_report"):
        out["source"] = source_measurements(p, shared.source, task, relations(p))
    return out


GAMMA_SIM = [0.0, 0.3, 1.0, 3.0, 10.0, "inf"]
register(Experiment(
    name="gamma_sweep", title="Target test error vs coupling gamma (synthetic teacher tasks)", findings=(1, 2),
    params={**SYN, "rhos": [0.9, 0.3], "gammas": GAMMA_SIM,
            "theory": {"widths": [50, 100, 200, 400, "inf"], "gammas": DENSE}},
    quick={**QUICK_SYN, "gammas": [0.0, 1.0, "inf"], "theory": {"widths": [12, "inf"], "gammas": QUICK_DENSE}},
    theory=gamma_theory, simulation=gamma_simulation, schema=GAMMA_SWEEP_SCHEMA))
register(Experiment(
    name="digits_gamma_sweep", title="Target test error vs coupling gamma (digits catalogue)", findings=(1, 2),
    params={**DIG, "targets": ["close", "related", "unrelated"], "gammas": GAMMA_SIM,
            "theory": {"widths": [50, 100, 200, "inf"], "gammas": DENSE}},
    quick={**QUICK_DIG, "targets": ["close", "unrelated"], "gammas": [0.0, 1.0, "inf"],
           "theory": {"widths": [12, "inf"], "gammas": QUICK_DENSE}},
    theory=gamma_theory, simulation=gamma_simulation, version=2, schema=GAMMA_SWEEP_SCHEMA))


# -- relatedness sweep ---------------------------------------------------------------------------------

def relatedness_theory(p, progress):
    gammas = np.unique(np.r_[gamma_list(p["gammas"]), gamma_list(p["sim_gammas"])])
    rels = list(np.linspace(0.0, 1.0, p["theory"]["n_rhos"])) if p["dataset"] == "synthetic" else list(p["targets"])
    curves, rho = {f"N1={w}": {} for w in p["theory"]["widths"]}, []
    for rel in loop(rels, "relatedness", progress):
        task = make_task(p, rel)
        rho.append(task.rho)
        for w in p["theory"]["widths"]:
            c = transfer_curve(task, as_number(w), gammas, p, order_parameters=False,
                               single_source=bool(p.get("single_source")))
            for k in _curve_metrics(p):
                curves[f"N1={w}"].setdefault(k, []).append(c[k])
    out = {"gammas": gammas, "relatedness": rho, "labels": [relation_label(p, r) for r in rels], "curves": curves}
    if p.get("source_report"):
        out["source"] = {"widths": list(p["theory"]["widths"]), **source_theory(p, task, p["theory"]["widths"])}
    if p["dataset"] == "synthetic":  # the second kind of relatedness: input-distribution shift, theory only
        shift = {}
        for s in p["theory"]["input_shifts"]:
            task = make_task({**p, "input_shift": s}, p["theory"]["shift_rho"])
            shift[f"shift={s:g}"] = transfer_curve(task, p["n_hidden"], gammas, p, order_parameters=False)
        out["input_shift"] = {"rho": p["theory"]["shift_rho"], "n_hidden": p["n_hidden"], "curves": shift}
    return out


def relatedness_simulation(p, progress):
    gammas = gamma_list(p["sim_gammas"])
    shared = _SharedSource(p, p["n_hidden"], (1,), progress)
    rels = p["sim_rhos"] if p["dataset"] == "synthetic" else p["targets"]
    results, rho = [], []
    for rel in loop(rels, "relatedness", progress):
        task = make_task(p, rel)
        results.append(sample_gammas(shared.sampler, shared.get(task), task, gammas, _keys(p)))
        rho.append(task.rho)
    out = {"gammas": gammas, "n_hidden": p["n_hidden"], "relatedness": rho,
           "labels": [relation_label(p, r) for r in rels], "results": results,
           "source_diagnostics": shared.diagnostics()}
    if p.get("source_report"):
        out["source"] = source_measurements(p, shared.source, task, rels)
    return out


register(Experiment(
    name="relatedness_sweep", title="Target test error vs teacher overlap rho (and input shift, theory)",
    findings=(1, 2),
    params={**SYN, "gammas": [0.0, 1.0, 10.0, "inf"], "sim_gammas": [0.0, 3.0, "inf"], "sim_rhos": [0.0, 0.3, 0.6, 0.9],
            "theory": {"widths": [100, "inf"], "n_rhos": 21, "input_shifts": [0.0, 0.25, 0.5, 0.75], "shift_rho": 0.9}},
    quick={**QUICK_SYN, "sim_gammas": [0.0, "inf"], "sim_rhos": [0.0, 0.9],
           "theory": {"widths": [12, "inf"], "n_rhos": 3, "input_shifts": [0.0, 0.5], "shift_rho": 0.9}},
    theory=relatedness_theory, simulation=relatedness_simulation, schema=RELATEDNESS_SWEEP_SCHEMA))
register(Experiment(
    name="digits_relatedness_sweep", title="Target test error across the digits catalogue", findings=(1, 2),
    params={**DIG, "targets": ["close", "related", "intermediate", "weak", "unrelated"],
            "gammas": [0.0, 1.0, 10.0, "inf"], "sim_gammas": [0.0, 3.0, "inf"], "theory": {"widths": [100, "inf"]}},
    quick={**QUICK_DIG, "targets": ["close", "unrelated"], "sim_gammas": [0.0, "inf"], "theory": {"widths": [12, "inf"]}},
    theory=relatedness_theory, simulation=relatedness_simulation, version=2, schema=RELATEDNESS_SWEEP_SCHEMA))


# -- width at fixed sizes ------------------------------------------------------------------------------

def _widths(spec):
    return list(np.unique(np.round(np.geomspace(spec["min"], spec["max"], spec["num"])).astype(int))) + [np.inf]


def width_theory(p, progress):
    gammas = theory_gammas(p["theory"]["gammas"], p["gammas"])
    widths = _widths(p["theory"]["widths"])
    rels = p["theory"]["rhos"] if p["dataset"] == "synthetic" else p["targets"]
    out = {"gammas": gammas, "widths": widths, "curves": {}}
    for rel in loop(rels, "relatedness", progress):
        task = make_task(p, rel)
        rows = {k: [] for k in _curve_metrics(p) + ("gamma_star", "E_star", "E_zero", "E_inf")}
        for w in widths:
            c = transfer_curve(task, w, gammas, p, order_parameters=False, single_source=bool(p.get("single_source")))
            for k in _curve_metrics(p):
                rows[k].append(c[k])
            g_star, e_star = optimal_gamma(gammas, c[p["metric"]])
            rows["gamma_star"].append(g_star)
            rows["E_star"].append(e_star)
            rows["E_zero"].append(c[p["metric"]][0])
            rows["E_inf"].append(c[p["metric"]][-1])
        out["curves"][relation_label(p, rel)] = {**rows, "relatedness": task.rho}
    if p.get("source_report"):
        out["source"] = source_theory(p, task, widths)
    return out


def _width_point(p, point):
    """The sampled couplings of every relation at one width (its source sampled once, seeded by the width's
    place in the list)."""
    i, w = point
    gammas = gamma_list(p["gammas"])
    rels = p["sim_rhos"] if p["dataset"] == "synthetic" else p["targets"]
    shared = _SharedSource(p, w, (2, i), False)
    out = {"results": {}}
    for rel in rels:
        task = make_task(p, rel)
        out["results"][relation_label(p, rel)] = sample_gammas(shared.sampler, shared.get(task), task, gammas, _keys(p))
    out["source_diagnostics"] = shared.diagnostics()
    if p.get("source_report"):
        out["source"] = source_measurements(p, shared.source, task, rels)
    return out


def width_simulation(p, progress):
    """Every width sampled (widths in parallel, each kept as it finishes: :func:`._parallel.map_points`)."""
    rels = p["sim_rhos"] if p["dataset"] == "synthetic" else p["targets"]
    points = map_points("simulation", partial(_width_point, p), enumerate(p["widths"]),
                        [f"{i}:N1={w}" for i, w in enumerate(p["widths"])], desc="widths", progress=progress)
    out = {"gammas": gamma_list(p["gammas"]), "widths": p["widths"],
           "results": {relation_label(p, r): [_arrays(pt["results"][relation_label(p, r)]) for pt in points]
                       for r in rels},
           "source_diagnostics": [pt["source_diagnostics"] for pt in points]}
    if p.get("source_report"):
        out["source"] = [pt["source"] for pt in points]
    return out


def _arrays(summary):
    """A :func:`._common.summarize` output read back from the partial file: its lists as arrays again."""
    return {k: {s: np.asarray(v, dtype=float) for s, v in d.items()} for k, d in summary.items()}


register(Experiment(
    name="width_effect", title="Width N1 at fixed sample sizes: optimal coupling and the lazy limit", findings=(2, 3),
    params={**SYN, "metric": "mean_error", "widths": [100, 200, 400], "sim_rhos": [0.0, 0.9],
            "gammas": [0.0, 0.5, 3.0, "inf"],
            "theory": {"widths": {"min": 50, "max": 3200, "num": 13}, "rhos": [0.0, 0.3, 0.6, 0.9], "gammas": DENSE}},
    quick={**QUICK_SYN, "widths": [8, 16], "gammas": [0.0, "inf"],
           "theory": {"widths": {"min": 8, "max": 32, "num": 2}, "rhos": [0.0, 0.9], "gammas": QUICK_DENSE}},
    theory=width_theory, simulation=width_simulation, schema=WIDTH_EFFECT_SCHEMA, resumable=True))
register(Experiment(
    name="digits_width_effect", title="Width N1 at fixed sample sizes (digits catalogue)", findings=(2, 3),
    params={**DIG, "metric": "mean_error", "widths": [50, 100, 200], "targets": ["close", "unrelated"],
            "gammas": [0.0, 0.5, 3.0, "inf"],
            "theory": {"widths": {"min": 25, "max": 1600, "num": 13}, "gammas": DENSE}},
    quick={**QUICK_DIG, "widths": [8, 16], "gammas": [0.0, "inf"],
           "theory": {"widths": {"min": 8, "max": 32, "num": 2}, "gammas": QUICK_DENSE}},
    theory=width_theory, simulation=width_simulation, version=2, schema=WIDTH_EFFECT_SCHEMA, resumable=True))


# -- source (and target) size --------------------------------------------------------------------------

def _source_sizes(spec):
    return list(np.unique(np.round(np.geomspace(spec["min"], spec["max"], spec["num"])).astype(int)))


def _relation(p):
    return p["rho"] if p["dataset"] == "synthetic" else p["target"]


def _full_task(p):
    """The task at the largest source and target sizes of theory and simulation: every size is a nested
    subsample of it, with one test set."""
    ns = max(_source_sizes(p["theory"]["n_sources"]) + list(p["n_sources"]))
    nt = max(list(p["theory"]["n_targets"]) + list(p["n_targets"]))
    return make_task(p, _relation(p), n_source=ns, n_target=nt)


def size_theory(p, progress):
    gammas = theory_gammas(p["theory"]["gammas"])
    Ps = sorted(set(_source_sizes(p["theory"]["n_sources"])) | {int(n) for n in p["n_sources"]})
    Pt = sorted({int(n) for n in p["theory"]["n_targets"]} | {int(n) for n in p["n_targets"]})
    full = _full_task(p)
    shape = (len(Pt), len(Ps))
    single = bool(p.get("single_source"))
    keys = ("E_zero", "E_inf", "E_star", "gamma_star") + (("E_single_zero", "E_single_inf") if single else ())
    out = {k: np.full(shape, np.nan) for k in keys}
    for i, nt in enumerate(loop(Pt, "target sizes", progress)):
        for j, ns in enumerate(Ps):
            c = transfer_curve(subsample(full, ns, nt), p["n_hidden"], gammas, p, order_parameters=False,
                               single_source=single)
            out["E_zero"][i, j], out["E_inf"][i, j] = c[p["metric"]][0], c[p["metric"]][-1]
            out["gamma_star"][i, j], out["E_star"][i, j] = optimal_gamma(gammas, c[p["metric"]])
            if single:
                out["E_single_zero"][i, j], out["E_single_inf"][i, j] = c["single_source_error"][[0, -1]]
    if p.get("source_report"):
        rows = [source_theory(p, subsample(full, ns, None), [p["n_hidden"]]) for ns in Ps]
        out["source"] = {k: np.array([r[k][0] for r in rows]) for k in rows[0]}
    return {"n_sources": Ps, "n_targets": Pt, "relatedness": full.rho, "metric": p["metric"], **out}


def _size_point(p, point):
    """One source size: its source sampled once (seeded by the size's place in the list), then gamma = inf at
    every target size, and gamma = 0 at every target size for the first source size."""
    j, ns = point
    full = _full_task(p)
    shared = _SharedSource(p, p["n_hidden"], (3, j), False)
    zero, frozen = [], []
    for nt in p["n_targets"]:
        task = subsample(full, ns, nt)
        source = shared.get(task)
        if j == 0:
            zero.append(sample_gammas(shared.sampler, source, task, [0.0], _keys(p)))
        frozen.append(sample_gammas(shared.sampler, source, task, [np.inf], _keys(p)))
    out = {"zero": zero, "frozen": frozen, "diagnostics": shared.diagnostics()}
    if p.get("source_report"):
        out["source"] = source_measurements(p, shared.source, task, [_relation(p)])
    return out


def size_simulation(p, progress):
    """Every source size sampled (sizes in parallel, each kept as it finishes: :func:`._parallel.map_points`)."""
    Ps, Pt = p["n_sources"], p["n_targets"]
    points = map_points("simulation", partial(_size_point, p), enumerate(Ps), [f"{j}:Ps={ns}" for j, ns in enumerate(Ps)],
                        desc="source sizes", progress=progress)
    # gamma = 0: the target chains ignore the source, so one run per target size (with the first source size)
    zero = [_arrays(z) for z in points[0]["zero"]]
    frozen = [[_arrays(pt["frozen"][i]) for pt in points] for i in range(len(Pt))]
    out = {"n_sources": Ps, "n_targets": Pt, "n_hidden": p["n_hidden"], "relatedness": _full_task(p).rho,
           "gamma_zero": merge(zero), "gamma_inf": [merge(row) for row in frozen],
           "source_diagnostics": [pt["diagnostics"] for pt in points]}
    if p.get("source_report"):
        out["source"] = [pt["source"] for pt in points]
    return out


register(Experiment(
    name="source_size", title="Transfer benefit vs source size Ps and target size Pt (synthetic, rho = 0.9)",
    findings=(4,),
    params={**SYN, "metric": "mean_error", "rho": 0.9, "n_sources": [25, 50, 100, 200], "n_targets": [15, 30],
            "theory": {"n_sources": {"min": 10, "max": 400, "num": 15}, "n_targets": [10, 15, 30, 60, 120],
                       "gammas": {"min": 0.01, "max": 1000.0, "num": 25}}},
    quick={**QUICK_SYN, "n_sources": [8, 16], "n_targets": [4, 8],
           "theory": {"n_sources": {"min": 8, "max": 16, "num": 2}, "n_targets": [4, 8], "gammas": QUICK_DENSE}},
    theory=size_theory, simulation=size_simulation, schema=SOURCE_SIZE_SCHEMA, resumable=True))
register(Experiment(
    name="digits_source_size", title="Transfer benefit vs source and target size (digits, close target)",
    findings=(4,),
    params={**DIG, "metric": "mean_error", "target": "close", "n_sources": [40, 80, 120, 160], "n_targets": [10, 20],
            "theory": {"n_sources": {"min": 20, "max": 175, "num": 10}, "n_targets": [10, 20, 40, 60],
                       "gammas": {"min": 0.01, "max": 1000.0, "num": 25}}},
    quick={**QUICK_DIG, "n_sources": [10, 20], "n_targets": [5, 10],
           "theory": {"n_sources": {"min": 10, "max": 20, "num": 2}, "n_targets": [5, 10], "gammas": QUICK_DENSE}},
    theory=size_theory, simulation=size_simulation, version=2, schema=SOURCE_SIZE_SCHEMA, resumable=True))
