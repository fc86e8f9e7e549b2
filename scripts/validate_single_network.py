"""Theory vs sampler for one network: Q and test errors over widths and loads alpha = P/N1.

Writes data/validation_single_network.json (all parameters, package version, seed, wall time).
Usage: python scripts/validate_single_network.py [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path


import tflmini
from tflmini import BayesianNetworkSampler, KernelRenormalization, make_teacher_task

# P = alpha * N1 is capped at max_P to bound the cost (the sampler's cost grows like P^2 N1)
FULL = {"widths": [100, 200, 400, 800], "alphas": [0.25, 0.5, 1.0, 2.0], "max_P": 400,
        "activations": ["erf", "linear"], "linear_widths": [100, 200]}
QUICK = {"widths": [50, 100], "alphas": [0.5, 1.0], "max_P": 100, "activations": ["erf", "linear"], "linear_widths": [50]}
COMMON = {"n_features": 50, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf", "n_test": 500,
          "n_chains": 4, "n_warmup": 100, "n_samples": 200, "seed": 2024}


def sampled_comparison(kr, sampler, X, y, X_test, y_test, fields, label):
    """Sample with ``sampler`` and return one row of a validation file: ``fields``, the theory of the fitted
    ``kr`` (Q and the two test errors), the sampler's estimates with standard errors, its diagnostics and the
    wall time; prints a one-line summary starting with ``label``."""
    t0 = time.time()
    res = sampler.sample(X, y, X_test, y_test, desc=label.strip())
    summ = res.summary()
    row = {**fields,
           "theory": {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(X_test, y_test), "mean_error": kr.mean_error(X_test, y_test)},
           "sampler": {k: {"mean": v[0], "se": v[1]} for k, v in summ.items()},
           "diagnostics": {k: v for k, v in res.diagnostics.items() if not isinstance(v, str)},
           "seconds": time.time() - t0}
    print(f"{label}  Q th {kr.Q_:.4f} sim {summ['Q'][0]:.4f}±{summ['Q'][1]:.4f}   gibbs th "
          f"{row['theory']['gibbs_error']:.4f} sim {summ['gibbs_error'][0]:.4f}±{summ['gibbs_error'][1]:.4f}"
          f"   ({row['seconds']:.0f}s)", flush=True)
    return row


def result_writer(out, experiment, parameters, t0):
    """``save(rows, complete=False)``: write a validation file (parameters, package version, machine, wall time
    since ``t0``, rows) to ``out``, after every row so that an interrupted run keeps what it has done."""
    def save(rows, complete=False):
        record = {"experiment": experiment, "tflmini_version": tflmini.__version__, "parameters": parameters,
                  "complete": complete,
                  "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
                  "wall_seconds": time.time() - t0, "rows": rows}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1))
    return save


def run(grid, common, progress=True, on_rows=None):
    rows = []
    configs = [(act, n1, a) for act in grid["activations"]
               for n1 in (grid["widths"] if act == "erf" else grid["linear_widths"])
               for a in grid["alphas"] if a * n1 <= grid["max_P"]]
    for act, n1, alpha in configs:
        P = int(round(alpha * n1))
        task = make_teacher_task(P, common["n_test"], common["n_features"], teacher=common["teacher"],
                                 seed=common["seed"] + P)
        kr = KernelRenormalization(n1, common["temperature"], common["lambda0"], common["lambda1"], act)
        kr.fit(task.X_train, task.y_train)
        sampler = BayesianNetworkSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], act,
                                         n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                         n_samples=common["n_samples"], seed=common["seed"] + n1, progress=progress)
        rows.append(sampled_comparison(kr, sampler, task.X_train, task.y_train, task.X_test, task.y_test,
                                       {"activation": act, "n_hidden": n1, "P": P, "alpha": alpha},
                                       f"{act:6s} N1={n1:4d} P={P:5d}"))
        if on_rows is not None:
            on_rows(rows)
    return rows


def run_cli(argv, doc, experiment, full, quick, common, run_grid):
    """Command line of a validation script: ``--quick`` (CI-sized grid) and ``--out`` (default
    ``data/<experiment>.json``); runs ``run_grid(grid, common, progress, on_rows)`` and writes the file after
    every row and once more, marked complete, at the end."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--quick", action="store_true", help="small CI-sized grid")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / f"{experiment}.json")
    args = ap.parse_args(argv)
    grid = quick if args.quick else full
    save = result_writer(args.out, experiment, {**common, "grid": grid, "quick": args.quick}, time.time())
    rows = run_grid(grid, common, progress=sys.stderr.isatty(), on_rows=save)
    save(rows, complete=True)
    print("wrote", args.out)


def main(argv=None):
    run_cli(argv, __doc__, "validation_single_network", FULL, QUICK, COMMON, run)


if __name__ == "__main__":
    main()
