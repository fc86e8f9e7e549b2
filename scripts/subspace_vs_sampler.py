"""The subspace single-unit theory (tflmini.subspace) against the sampled networks, on the cached runs' data.

    PYTHONPATH=. python scripts/subspace_vs_sampler.py [--out data/experiments/subspace_vs_sampler.json]

Points: the erf points of ``scripts/adaptive_vs_sampler.py`` (the single-network runs with N0 = 50 and the atlas
points with P/N0 >= 4), each task rebuilt as its run built it (the scalar theory recomputed and checked against
the cached value). The theory gives the mean predictor only: compared are the mean test error and Q, against the
sampled mean +- se and the scalar theory; with the time per fit.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import time
from pathlib import Path

from tflmini.renormalization import ConvergenceError
from tflmini.subspace import SubspaceKernelRenormalization

ESTIMATOR = {"n_overlap": 61, "n_mehler": 12, "tol": 1e-8, "max_iter": 40}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "experiments" /
                                         "subspace_vs_sampler.json"))
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("adaptive_vs_sampler", Path(__file__).with_name(
        "adaptive_vs_sampler.py"))
    avs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(avs)
    record = {"experiment": "subspace_vs_sampler", "parameters": {"estimator": ESTIMATOR},
              "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
              "complete": False, "rows": []}
    for point, task, stored, sampled, p in [*avs.validation_points(), *avs.atlas_points()]:
        if point["activation"] != "erf":
            continue
        row = {**point, "P_over_N0": point["P"] / point["n_features"], "sampler": sampled,
               "scalar": {k: stored[k] for k in ("Q", "mean_error", "gibbs_error")}}
        t0 = time.perf_counter()
        est = SubspaceKernelRenormalization(point["n_hidden"], point["temperature"], p["lambda0"], p["lambda1"],
                                            **ESTIMATOR)
        try:
            est.fit(task.X_train, task.y_train)
            row["subspace"] = {"converged": True, "Q": est.Q_, "mean_error": est.mean_error(task.X_test, task.y_test),
                               "overlap_rms": est.overlap_rms_}
        except ConvergenceError as exc:
            row["subspace"] = {"converged": False, "reason": str(exc)[:300]}
        row["subspace"]["seconds"] = time.perf_counter() - t0
        record["rows"].append(row)
        print(point["source"][:5], point["n_hidden"], point["P"], row["subspace"], flush=True)
        Path(args.out).write_text(json.dumps(record, indent=1))
    record["complete"] = True
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
