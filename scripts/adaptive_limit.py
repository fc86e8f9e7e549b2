"""Where the single-unit theory must reduce to kernel renormalization, and whether its estimators do.

    PYTHONPATH=. python scripts/adaptive_limit.py [--out data/experiments/adaptive_limit.json]

The single-unit map of :mod:`tflmini.adaptive` is evaluated once at the scalar theory's solution
(``b = (QK + TI)^{-1} y`` and its Q): its ``E[v^2]`` and its mean outputs ``sqrt(N1) E[v sigma]`` on the training
and test inputs. If kernel renormalization were the adaptive theory's solution, these would equal Q and the
scalar mean predictor; the relative differences are how far the adaptive closure is from the scalar theory there.
Erf teacher and network, T = 0.05, lambda0 = lambda1 = 1 (the accuracy atlas), data from ``make_teacher_task``.

Two sweeps, each for three estimators of the w integral (importance sampling from the Laplace Gaussian without
and with control variates, and from the Gaussian-equivalent unit with control variates) and three seeds of the
importance samples:

- ``inputs``: P = N1 fixed (100 and 200), N0 growing (50 ... 1600);
- ``width``: the data fixed (P = 100, N0 = 400), N1 growing (100 ... 6400): the tilt of one unit, of order
  ``v b / sqrt(N1)``, vanishes.

Full fits (the closure solved) at a few points of both sweeps give the Gibbs error too.

    PYTHONPATH=. python scripts/adaptive_limit.py --check

adds to the file the fits with control variates (the default Laplace proposal) at two points of the cached comparison with the
sampler (``data/experiments/adaptive_vs_sampler.json``, made with the plain estimate): does the control variate
change its numbers?
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from tflmini import KernelRenormalization, make_teacher_task
from tflmini._validation import check_random_state
from tflmini.adaptive import AdaptiveKernelRenormalization, _UnitMeasure
from tflmini.kernels import get_activation
from tflmini.renormalization import ConvergenceError

T, LAMBDA0, LAMBDA1, N_TEST, DATA_SEED = 0.05, 1.0, 1.0, 200, 7
N_SAMPLES, N_NODES, SEEDS = 4096, 8, (0, 1, 2)
ESTIMATORS = {"plain": {"integrator": "importance", "control_variate": False},
              "controlled": {"integrator": "importance", "control_variate": True},
              "equivalent": {"integrator": "equivalent", "control_variate": True}}
INPUTS = {"P": (100, 200), "N0": (50, 100, 200, 400, 800, 1600)}
LAPLACE_P = (100,)  # the Laplace proposal's estimators at these P of the input sweep only (time)
WIDTH = {"P": 100, "N0": 400, "N1": (100, 400, 1600, 6400)}
LAPLACE_MAX_N0 = 400  # the Laplace proposal's mode search costs O(N0^3) per step: not run beyond
FITS = [("inputs", 100, 400, 100), ("width", 100, 400, 1600)]  # (sweep, P, N0, N1): the closure solved too
FIT_SEEDS = (0,)


def rel_rms(a, ref):
    return float(np.sqrt(np.mean((a - ref) ** 2) / np.mean(ref ** 2)))


def at_scalar_solution(task, n1, estimator, seed):
    """The single-unit map at the scalar theory's (b, Q): relative differences from the scalar theory."""
    kr = KernelRenormalization(n1, T, LAMBDA0, LAMBDA1, "erf").fit(task.X_train, task.y_train)
    b = kr.spectrum_.solve(kr.Q_, T, task.y_train)
    t0 = time.perf_counter()
    unit = _UnitMeasure(task.X_train, get_activation("erf"), float(n1), T, LAMBDA0, LAMBDA1, N_SAMPLES, N_NODES,
                        check_random_state(seed), **ESTIMATORS[estimator])
    fbar, Q, nd = unit.moments(b, kr.Q_)
    test = np.sqrt(n1) * sum(r * v * m for v, r, m in zip(nd["v"], nd["rho"], unit.test_means(nd, task.X_test)))
    return {"Q": Q / kr.Q_ - 1.0, "train_mean": rel_rms(fbar, task.y_train - T * b),
            "test_mean": rel_rms(test, kr.predict(task.X_test)), "weighted_ess": float(nd["rho"] @ nd["ess"]),
            "seconds": time.perf_counter() - t0}


def full_fit(task, n1, estimator, seed):
    kr = KernelRenormalization(n1, T, LAMBDA0, LAMBDA1, "erf").fit(task.X_train, task.y_train)
    t0 = time.perf_counter()
    est = AdaptiveKernelRenormalization(n1, T, LAMBDA0, LAMBDA1, "erf", n_samples=N_SAMPLES, n_nodes=N_NODES,
                                        random_state=seed, max_iter=30, **ESTIMATORS[estimator])
    try:
        est.fit(task.X_train, task.y_train)
    except ConvergenceError as exc:
        return {"converged": False, "reason": str(exc)[:200], "seconds": time.perf_counter() - t0}
    g, g0 = est.gibbs_error(task.X_test, task.y_test), kr.gibbs_error(task.X_test, task.y_test)
    return {"converged": True, "gibbs_error": g / g0 - 1.0, "Q": est.Q_ / kr.Q_ - 1.0,
            "test_mean": rel_rms(est.predict(task.X_test), kr.predict(task.X_test)),
            "seconds": time.perf_counter() - t0}


CHECK_POINTS = [("validation_single_network", 100, 50), ("atlas_alpha", 50, 200)]  # (source, N1, P)


def check_comparison(out):
    """Refit two points of the cached comparison with the sampler with control variates (Laplace proposal)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("adaptive_vs_sampler", Path(__file__).with_name(
        "adaptive_vs_sampler.py"))
    avs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(avs)
    cached = json.loads((Path(__file__).resolve().parents[1] / "data" / "experiments" /
                         "adaptive_vs_sampler.json").read_text())
    record = json.loads(out.read_text())
    record["check"] = []
    for point, task, _, sampled, p in [*avs.validation_points(), *avs.atlas_points()]:
        key = (point["source"], point["n_hidden"], point["P"])
        if point["activation"] != "erf" or key not in CHECK_POINTS:
            continue
        row = next(r for r in cached["rows"] if (r["source"], r["n_hidden"], r["P"], r["activation"]) == (*key, "erf"))
        stored = row["adaptive"][0]  # the default variant, plain estimate
        entry = {"source": key[0], "N1": key[1], "P": key[2], "N0": point["n_features"],
                 "sampled": sampled["gibbs_error"]["mean"], "sampled_se": sampled["gibbs_error"]["se"],
                 "scalar": row["scalar"]["gibbs_error"],
                 "plain": stored.get("gibbs_error") if stored["converged"] else None, "fits": {}}
        for integrator in ("importance",):
            opts = {**avs.ESTIMATOR, "control_variate": True, "integrator": integrator}
            t0 = time.perf_counter()
            est = AdaptiveKernelRenormalization(point["n_hidden"], point["temperature"], p["lambda0"], p["lambda1"],
                                                "erf", **opts)
            try:
                est.fit(task.X_train, task.y_train)
                fit = {"converged": True, "gibbs_error": est.gibbs_error(task.X_test, task.y_test), "Q": est.Q_}
            except ConvergenceError as exc:
                fit = {"converged": False, "reason": str(exc)[:200]}
            fit["seconds"] = time.perf_counter() - t0
            entry["fits"][integrator] = fit
            print(key, integrator, fit, flush=True)
        record["check"].append(entry)
        out.write_text(json.dumps(record, indent=1))
    record["parameters"]["check_points"] = CHECK_POINTS
    out.write_text(json.dumps(record, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "experiments" /
                                         "adaptive_limit.json"))
    ap.add_argument("--no-fits", action="store_true", help="only the evaluations at the scalar solution")
    ap.add_argument("--check", action="store_true", help="only add the refits of points of the comparison with "
                    "the sampler to --out")
    ap.add_argument("--resume", action="store_true", help="keep the rows of an interrupted run in --out")
    args = ap.parse_args()
    out = Path(args.out)
    if args.check:
        return check_comparison(out)
    record = {"experiment": "adaptive_limit", "complete": False,
              "parameters": {"temperature": T, "lambda0": LAMBDA0, "lambda1": LAMBDA1, "teacher": "erf",
                             "activation": "erf", "n_test": N_TEST, "data_seed": DATA_SEED,
                             "n_samples": N_SAMPLES, "n_nodes": N_NODES, "seeds": list(SEEDS),
                             "estimators": ESTIMATORS, "inputs": INPUTS, "width": WIDTH,
                             "laplace_max_N0": LAPLACE_MAX_N0, "laplace_P": LAPLACE_P,
                             "fits": FITS, "fit_seeds": FIT_SEEDS},
              "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
              "rows": [], "fits": []}
    done = {}
    if args.resume and out.exists():
        done = {(r["sweep"], r["P"], r["N0"], r["N1"], r["estimator"]): r for r in json.loads(out.read_text())["rows"]}
    points = [("inputs", P, n0, P) for P in INPUTS["P"] for n0 in INPUTS["N0"]]
    points += [("width", WIDTH["P"], WIDTH["N0"], n1) for n1 in WIDTH["N1"]]
    t_start = time.time()
    for sweep, P, n0, n1 in points:
        task = make_teacher_task(P, N_TEST, n0, teacher="erf", seed=DATA_SEED)
        for name, est in ESTIMATORS.items():
            if est["integrator"] == "importance" and (n0 > LAPLACE_MAX_N0 or (sweep == "inputs" and P not in LAPLACE_P)):
                continue
            key = (sweep, P, n0, n1, name)
            if key in done:  # from an interrupted run of the same script
                record["rows"].append(done[key])
                continue
            runs = [at_scalar_solution(task, n1, name, s) for s in SEEDS]
            row = {"sweep": sweep, "P": P, "N0": n0, "N1": n1, "estimator": name,
                   **{k: [r[k] for r in runs] for k in runs[0]}}
            record["rows"].append(row)
            print(sweep, P, n0, n1, name, {k: np.round(v, 4).tolist() for k, v in row.items()
                                           if isinstance(v, list)}, flush=True)
            record["wall_seconds"] = time.time() - t_start
            out.write_text(json.dumps(record, indent=1))
    if not args.no_fits:
        for sweep, P, n0, n1 in FITS:
            task = make_teacher_task(P, N_TEST, n0, teacher="erf", seed=DATA_SEED)
            for s in FIT_SEEDS:
                fit = {"sweep": sweep, "P": P, "N0": n0, "N1": n1, "estimator": "equivalent", "random_state": s,
                       **full_fit(task, n1, "equivalent", s)}
                record["fits"].append(fit)
                print(fit, flush=True)
                out.write_text(json.dumps(record, indent=1))
    record["complete"] = True
    record["wall_seconds"] = time.time() - t_start
    out.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
