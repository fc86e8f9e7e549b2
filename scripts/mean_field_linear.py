"""The mean-field saddle over the units' empirical measure (tflmini.mean_field) against the sampled linear networks.

    PYTHONPATH=. python scripts/mean_field_linear.py [--out data/experiments/mean_field_linear.json]

Points: every linear row of ``data/validation_single_network.json`` (N0 = 50), each on the training and test sets
its run used (``make_teacher_task`` with the run's seed; the scalar theory recomputed here is checked against the
value stored in the cached file). For every point: the sampled Gibbs and posterior-mean errors (mean +- se),
kernel renormalization (Q and both errors), the mean-field saddle (both errors, iterations, how far its weight
covariance moved from the prior) and the infinite-width network. A few seconds in all.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from tflmini import KernelRenormalization, make_teacher_task
from tflmini.mean_field import MeanFieldLinearNetwork
from tflmini.results import load_validation

KEYS = ("gibbs_error", "mean_error")


def errors(est, task):
    return {k: getattr(est, k)(task.X_test, task.y_test) for k in KEYS}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "experiments" /
                                         "mean_field_linear.json"))
    args = ap.parse_args()
    t_start = time.time()
    data = load_validation()
    p = data["parameters"]
    T, lam0, lam1 = p["temperature"], p["lambda0"], p["lambda1"]
    rows = []
    for row in data["rows"]:
        if row["activation"] != "linear":
            continue
        n1, P = row["n_hidden"], row["P"]
        task = make_teacher_task(P, p["n_test"], p["n_features"], teacher=p["teacher"], seed=p["seed"] + P)
        kr = KernelRenormalization(n1, T, lam0, lam1, "linear").fit(task.X_train, task.y_train)
        scalar = {"Q": kr.Q_, **errors(kr, task)}
        for k in KEYS + ("Q",):  # the same training and test sets as the cached run
            if not np.isclose(scalar[k], row["theory"][k], rtol=1e-6, atol=1e-12):
                raise RuntimeError(f"N1={n1} P={P}: scalar {k} {scalar[k]} differs from the cached {row['theory'][k]}")
        t0 = time.perf_counter()
        mf = MeanFieldLinearNetwork(n1, T, lam0, lam1).fit(task.X_train, task.y_train)
        seconds = time.perf_counter() - t0
        tilt = np.linalg.eigvalsh(lam0 * mf.weight_covariance_)
        infinite = KernelRenormalization(np.inf, T, lam0, lam1, "linear").fit(task.X_train, task.y_train)
        rows.append({"n_hidden": n1, "n_features": p["n_features"], "P": P, "temperature": T,
                     "sampler": {k: row["sampler"][k] for k in KEYS}, "scalar": scalar,
                     "mean_field": {**errors(mf, task), "iterations": mf.n_iter_, "seconds": seconds,
                                    "tilt_min": float(tilt[0]), "tilt_max": float(tilt[-1]),
                                    "tilt_mean": float(tilt.mean())},
                     "infinite_width": errors(infinite, task)})
        r = rows[-1]
        print(f"N1={n1} P={P}: sampled {r['sampler']['gibbs_error']['mean']:.4f}  KR {scalar['gibbs_error']:.4f}  "
              f"mean field {r['mean_field']['gibbs_error']:.4f}  N1=inf {r['infinite_width']['gibbs_error']:.4f}",
              flush=True)
    record = {"experiment": "mean_field_linear", "source": "validation_single_network (linear rows)",
              "parameters": {k: p[k] for k in ("n_features", "temperature", "lambda0", "lambda1", "teacher", "n_test",
                                               "seed")},
              "estimator": MeanFieldLinearNetwork(1, T).get_params(),
              "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
              "complete": True, "wall_seconds": time.time() - t_start, "rows": rows}
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
