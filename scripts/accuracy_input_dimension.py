"""Where does kernel renormalization hold? Theory vs sampler as the input dimension N0 varies at
fixed width and sample size (N1 = P = 200), i.e. as the number of examples per input dimension P/N0
varies. Writes data/accuracy_input_dimension.json.

Usage: python scripts/accuracy_input_dimension.py [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

import tflmini
from tflmini import BayesianNetworkSampler, KernelRenormalization, make_teacher_task

FULL = {"n_features": [25, 50, 100, 200, 400], "n_hidden": 200, "P": 200}
QUICK = {"n_features": [20, 80], "n_hidden": 40, "P": 40}
COMMON = {"temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf", "activation": "erf", "n_test": 400,
          "n_chains": 4, "n_warmup": 100, "n_samples": 150, "seed": 11}


def run(grid, common, progress=True):
    rows = []
    for n0 in grid["n_features"]:
        task = make_teacher_task(grid["P"], common["n_test"], n0, teacher=common["teacher"], seed=common["seed"])
        kr = KernelRenormalization(grid["n_hidden"], common["temperature"], common["lambda0"], common["lambda1"],
                                   common["activation"]).fit(task.X_train, task.y_train)
        sampler = BayesianNetworkSampler(grid["n_hidden"], common["temperature"], common["lambda0"], common["lambda1"],
                                         common["activation"], n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                         n_samples=common["n_samples"], seed=common["seed"] + n0, progress=progress)
        t0 = time.time()
        res = sampler.sample(task.X_train, task.y_train, task.X_test, task.y_test, desc=f"N0={n0}")
        # alignment of first-layer weights with the teacher: mean over units of (w.w*/|w||w*|)^2 (prior: 1/N0)
        w_star = task.w / np.linalg.norm(task.w)
        overlap = res.W @ w_star / np.linalg.norm(res.W, axis=2)
        summ = res.summary()
        rows.append({"n_features": n0, "P_over_N0": grid["P"] / n0,
                     "theory": {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(task.X_test, task.y_test),
                                "mean_error": kr.mean_error(task.X_test, task.y_test)},
                     "sampler": {k: {"mean": v[0], "se": v[1]} for k, v in summ.items()},
                     "teacher_alignment": float(np.mean(overlap**2)), "prior_alignment": 1.0 / n0,
                     "diagnostics": {k: v for k, v in res.diagnostics.items() if not isinstance(v, str)},
                     "seconds": time.time() - t0})
        r = rows[-1]
        print(f"N0={n0:4d}  Gibbs theory {r['theory']['gibbs_error']:.4f} sampler {summ['gibbs_error'][0]:.4f}"
              f"±{summ['gibbs_error'][1]:.4f}   alignment {r['teacher_alignment']:.4f} (prior {1 / n0:.4f})", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "accuracy_input_dimension.json")
    args = ap.parse_args(argv)
    grid = QUICK if args.quick else FULL
    t0 = time.time()
    rows = run(grid, COMMON, progress=sys.stderr.isatty())
    out = {"experiment": "accuracy_input_dimension", "tflmini_version": tflmini.__version__,
           "parameters": {**COMMON, "grid": grid, "quick": args.quick},
           "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
           "wall_seconds": time.time() - t0, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
