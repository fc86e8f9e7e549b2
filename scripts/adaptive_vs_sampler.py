"""Adaptive kernel renormalization against the sampled networks, on the training and test sets of the cached runs.

    PYTHONPATH=. python scripts/adaptive_vs_sampler.py [--out data/experiments/adaptive_vs_sampler.json]

Points: every single-network row of ``data/validation_single_network.json`` (N0 = 50, erf and linear) and the
erf points of ``data/experiments/atlas_alpha.json`` with P/N0 >= 4 (N0 = 50). Each point's task is rebuilt
exactly as its run built it (``make_teacher_task`` with the run's seed; the atlas through
``atlas._point_task``), and the scalar theory recomputed here is checked against the value stored in the
cached file (same data). For every point: the scalar theory, the adaptive theory for each variant
(``quadratic_term`` x ``integrator``) or the reason it failed (``ConvergenceError``), the sampled mean +- se,
the single-unit importance-sampling effective sample sizes, and the time per fit. Results are written after
every point (the file is usable while the script runs).

    PYTHONPATH=. python scripts/adaptive_vs_sampler.py --seed-spread 1 2

adds to an existing file, for every erf point where an importance-sampling variant converged, the same fit with other
seeds of the importance samples (``random_state``): the Monte Carlo spread of the adaptive theory itself; and,
for every erf point, one evaluation of the single-unit measure (default variant) at the scalar theory's field
``b = (QK + TI)^{-1} y`` and Q: the unit's E[v^2] there and the effective sample sizes of its importance
weights (why the closure runs away where it does).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from tflmini import KernelRenormalization, make_teacher_task
from tflmini.adaptive import AdaptiveKernelRenormalization
from tflmini.experiments import atlas, load
from tflmini.renormalization import ConvergenceError
from tflmini.results import load_validation

VARIANTS = [{"quadratic_term": "trace", "integrator": "importance"},
            {"quadratic_term": "exact", "integrator": "importance"},
            {"quadratic_term": "trace", "integrator": "laplace"}]
# the plain self-normalised estimate of the w integral: the cached file was made before the control variates
# existed (scripts/adaptive_limit.py --check compares them at a few of its points)
ESTIMATOR = {"n_samples": 2048, "n_nodes": 12, "random_state": 0, "tol": 1e-9, "max_iter": 20,
             "control_variate": False}
KEYS = ("Q", "gibbs_error", "mean_error")


def validation_points():
    data = load_validation()
    p = data["parameters"]
    for row in data["rows"]:
        task = make_teacher_task(row["P"], p["n_test"], p["n_features"], teacher=p["teacher"], seed=p["seed"] + row["P"])
        yield ({"source": "validation_single_network", "activation": row["activation"], "n_hidden": row["n_hidden"],
                "n_features": p["n_features"], "P": row["P"], "temperature": p["temperature"]},
               task, row["theory"], {k: row["sampler"][k] for k in KEYS}, p)


def atlas_points(min_p_over_n0=4.0):
    res = load("atlas_alpha")
    p = res.parameters
    th, sim = res.theory, res.simulation
    for i, (act, n1, n0, P, T) in enumerate(atlas._single_points(p)):
        if act != "erf" or P / n0 < min_p_over_n0:
            continue
        task = atlas._point_task(p, i, n0, P)
        yield ({"source": "atlas_alpha", "activation": act, "n_hidden": n1, "n_features": n0, "P": P,
                "temperature": T},
               task, {k: float(th[k][i]) for k in KEYS},
               {k: {"mean": float(sim[k]["mean"][i]), "se": float(sim[k]["se"][i])} for k in KEYS}, p)


def evaluate(point, task, stored_theory, sampled, p):
    n1, T = point["n_hidden"], point["temperature"]
    args = (n1, T, p["lambda0"], p["lambda1"], point["activation"])
    t0 = time.perf_counter()
    kr = KernelRenormalization(*args).fit(task.X_train, task.y_train)
    scalar_seconds = time.perf_counter() - t0
    scalar = {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(task.X_test, task.y_test),
              "mean_error": kr.mean_error(task.X_test, task.y_test)}
    for k in KEYS:  # the same training and test sets as the cached run
        if not np.isclose(scalar[k], stored_theory[k], rtol=1e-6, atol=1e-12):
            raise RuntimeError(f"{point}: scalar {k} {scalar[k]} differs from the cached {stored_theory[k]}: not the "
                               "same data")
    out = {**point, "P_over_N0": point["P"] / point["n_features"], "alpha": point["P"] / n1, "sampler": sampled,
           "scalar": scalar, "scalar_seconds": scalar_seconds, "adaptive": []}
    for variant in VARIANTS if point["activation"] == "erf" else VARIANTS[:1]:  # linear: exact by construction
        t0 = time.perf_counter()
        entry = {**variant}
        try:
            est = AdaptiveKernelRenormalization(*args, **variant, **ESTIMATOR).fit(task.X_train, task.y_train)
            entry.update(converged=True, Q=est.Q_, gibbs_error=est.gibbs_error(task.X_test, task.y_test),
                         mean_error=est.mean_error(task.X_test, task.y_test),
                         min_ess=est.solver_info_["min_ess"], weighted_ess=est.solver_info_["weighted_ess"],
                         residual=est.solver_info_["residual"])
        except ConvergenceError as exc:
            entry.update(converged=False, reason=str(exc)[:300])
        entry["seconds"] = time.perf_counter() - t0
        out["adaptive"].append(entry)
        desc = (f"Q {entry['Q']:.4f} gibbs {entry['gibbs_error']:.4f} ess {entry['weighted_ess']:.0f}"
                if entry["converged"] else "FAILED " + entry["reason"][:80])
        print(f"  {variant['quadratic_term']:5s} {variant['integrator']:10s} {desc} ({entry['seconds']:.1f} s)",
              flush=True)
    return out


def field_diagnostics(row, task, p):
    """The default variant's single-unit measure at the scalar theory's field: E[v^2] and importance weights."""
    from tflmini._validation import check_random_state
    from tflmini.adaptive import _UnitMeasure
    from tflmini.kernels import get_activation

    kr = KernelRenormalization(row["n_hidden"], row["temperature"], p["lambda0"], p["lambda1"], "erf")
    kr.fit(task.X_train, task.y_train)
    unit = _UnitMeasure(task.X_train, get_activation("erf"), float(row["n_hidden"]), row["temperature"], p["lambda0"],
                        p["lambda1"], ESTIMATOR["n_samples"], ESTIMATOR["n_nodes"],
                        check_random_state(ESTIMATOR["random_state"]), **{
                            "quadratic": VARIANTS[0]["quadratic_term"], "integrator": VARIANTS[0]["integrator"],
                            "control_variate": ESTIMATOR["control_variate"]})
    b = kr.spectrum_.solve(kr.Q_, row["temperature"], task.y_train)
    try:
        _, Q_unit, nd = unit.moments(b, kr.Q_)
    except ConvergenceError as exc:
        return {"evaluated": False, "reason": str(exc)[:300]}
    return {"evaluated": True, "Q_scalar": kr.Q_, "Q_unit": Q_unit, "min_ess": float(np.min(nd["ess"])),
            "weighted_ess": float(nd["rho"] @ nd["ess"]), "n_samples": ESTIMATOR["n_samples"]}


def seed_spread(path, seeds):
    record = json.loads(path.read_text())
    tasks = {(pt["source"], pt["activation"], pt["n_hidden"], pt["P"]): (task, p)
             for pt, task, _, _, p in [*validation_points(), *atlas_points()]}
    for row in record["rows"]:
        if row["activation"] != "erf":
            continue
        task, p = tasks[(row["source"], row["activation"], row["n_hidden"], row["P"])]
        row["at_scalar_field"] = field_diagnostics(row, task, p)
        print(row["source"], row["n_hidden"], row["P"], "at the scalar field:", row["at_scalar_field"], flush=True)
        path.write_text(json.dumps(record, indent=1))
        for fit in row["adaptive"][:2]:  # the trace and exact importance-sampling variants, where they converged
            if not fit["converged"]:
                continue
            variant = {k: fit[k] for k in ("quadratic_term", "integrator")}
            refits = []
            for seed in seeds:
                t0 = time.perf_counter()
                est = AdaptiveKernelRenormalization(row["n_hidden"], row["temperature"], p["lambda0"], p["lambda1"],
                                                    "erf", **variant, **{**ESTIMATOR, "random_state": seed})
                try:
                    est.fit(task.X_train, task.y_train)
                    refits.append({"random_state": seed, "converged": True, "Q": est.Q_,
                                   "gibbs_error": est.gibbs_error(task.X_test, task.y_test),
                                   "mean_error": est.mean_error(task.X_test, task.y_test),
                                   "seconds": time.perf_counter() - t0})
                except ConvergenceError as exc:
                    refits.append({"random_state": seed, "converged": False, "reason": str(exc)[:300],
                                   "seconds": time.perf_counter() - t0})
                print(row["source"], row["n_hidden"], row["P"], variant["quadratic_term"], refits[-1], flush=True)
            fit["other_seeds"] = refits
            path.write_text(json.dumps(record, indent=1))
    record["parameters"]["seed_spread"] = list(seeds)
    path.write_text(json.dumps(record, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "experiments" /
                                         "adaptive_vs_sampler.json"))
    ap.add_argument("--seed-spread", type=int, nargs="*", default=None,
                    help="only add refits of the default variant with these random_state seeds to --out")
    args = ap.parse_args()
    if args.seed_spread:
        return seed_spread(Path(args.out), args.seed_spread)
    t_start = time.time()
    rows = []
    record = {"experiment": "adaptive_vs_sampler", "parameters": {"variants": VARIANTS, "estimator": ESTIMATOR,
                                                                  "atlas_min_P_over_N0": 4.0},
              "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
              "complete": False, "rows": rows}
    run_points(record, evaluate, Path(args.out), t_start)


def run_points(record, evaluate, out, t_start):
    """Evaluate every point (validation rows, then atlas points) with ``evaluate(point, task, stored, sampled, p)``
    into ``record["rows"]``, writing ``out`` after each one and marking it complete at the end."""
    for point, task, stored, sampled, p in [*validation_points(), *atlas_points()]:
        print(f"{point['source']} {point['activation']} N1={point['n_hidden']} P={point['P']}: sampled gibbs "
              f"{sampled['gibbs_error']['mean']:.4f}+-{sampled['gibbs_error']['se']:.4f}, scalar "
              f"{stored['gibbs_error']:.4f}", flush=True)
        record["rows"].append(evaluate(point, task, stored, sampled, p))
        record["wall_seconds"] = time.time() - t_start
        out.write_text(json.dumps(record, indent=1))
    record["complete"] = True
    record["wall_seconds"] = time.time() - t_start
    out.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
