"""Directional kernel renormalization against the sampled networks, on the training and test sets of the cached runs.

    PYTHONPATH=. python scripts/directional_vs_sampler.py [--out data/experiments/directional_vs_sampler.json]

The points of ``scripts/adaptive_vs_sampler.py`` (every single-network row of
``data/validation_single_network.json``, N0 = 50, erf and linear, and the erf points of the accuracy atlas with
P/N0 >= 4), each on the data its run used; the scalar theory recomputed here is checked against the cached value.
For every point: the sampled Gibbs error, the scalar theory, and ``DirectionalKernelRenormalization`` with the
exact quadratic term (the default) and with the trace term, or the reason it failed, with E[m^2], the mass of
p(m) at the end of its grid, the temperatures of its continuation and the time per fit. Written after every point.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from adaptive_vs_sampler import run_points  # the same points and data (this directory)

from tflmini import KernelRenormalization
from tflmini.directional import DirectionalKernelRenormalization
from tflmini.renormalization import ConvergenceError

VARIANTS = ("exact", "trace")


def evaluate(point, task, stored, sampled, p):
    n1, T = point["n_hidden"], point["temperature"]
    args = (n1, T, p["lambda0"], p["lambda1"], point["activation"])
    t0 = time.perf_counter()
    kr = KernelRenormalization(*args).fit(task.X_train, task.y_train)
    scalar = {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(task.X_test, task.y_test),
              "seconds": time.perf_counter() - t0}
    if not np.isclose(scalar["gibbs_error"], stored["gibbs_error"], rtol=1e-6):
        raise RuntimeError(f"{point}: the scalar theory {scalar['gibbs_error']} differs from the cached "
                           f"{stored['gibbs_error']}: not the same data")
    out = {**point, "P_over_N0": point["P"] / point["n_features"], "alpha": point["P"] / n1,
           "sampler": {"gibbs_error": sampled["gibbs_error"]}, "scalar": scalar, "directional": []}
    for variant in VARIANTS:
        t0 = time.perf_counter()
        entry = {"quadratic_term": variant}
        try:
            est = DirectionalKernelRenormalization(*args, quadratic_term=variant).fit(task.X_train, task.y_train)
            entry.update(converged=True, Q=est.Q_, gibbs_error=est.gibbs_error(task.X_test, task.y_test), m2=est.m2_,
                         edge_mass=est.edge_mass_, temperatures=est.solver_info_["temperatures"])
        except ConvergenceError as exc:
            entry.update(converged=False, reason=str(exc)[:300])
        entry["seconds"] = time.perf_counter() - t0
        out["directional"].append(entry)
        print(f"  {variant:5s} " + (f"gibbs {entry['gibbs_error']:.4f} Q {entry['Q']:.4f} <m^2> {entry['m2']:.2f}"
                                    if entry["converged"] else "FAILED " + entry["reason"][:90])
              + f" ({entry['seconds']:.1f} s)", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "experiments" /
                                         "directional_vs_sampler.json"))
    args = ap.parse_args()
    t_start = time.time()
    rows = []
    est = DirectionalKernelRenormalization(1, 1.0)
    record = {"experiment": "directional_vs_sampler",
              "parameters": {"variants": list(VARIANTS), "atlas_min_P_over_N0": 4.0,
                             "estimator": {k: v for k, v in est.get_params().items()
                                           if k not in ("n_hidden", "temperature", "lambda0", "lambda1", "activation",
                                                        "quadratic_term")}},
              "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
              "complete": False, "rows": rows}
    run_points(record, evaluate, Path(args.out), t_start)


if __name__ == "__main__":
    main()
