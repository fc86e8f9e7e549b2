"""Theory solves against the linear-algebra floor, medians of repeated runs, ratios from one run.

1. KernelRenormalization.fit for P = 100 ... 2000 next to one numpy.linalg.eigh of the same size.
2. FranzParisiTransfer: first fit, then a new gamma (with_gamma, the slider path) at Ps = Pt = 500.

Usage: python benchmarks/bench_theory.py [--quick] [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from tflmini import FranzParisiTransfer, KernelRenormalization, make_teacher_task, make_transfer_task


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench_single(sizes, repeat):
    rows = []
    for P in sizes:
        task = make_teacher_task(P, 10, 50, teacher="erf", seed=0)
        A = np.random.default_rng(0).standard_normal((P, P))
        A = A @ A.T / P
        t_fit = median_time(lambda: KernelRenormalization(P, 0.05).fit(task.X_train, task.y_train), repeat)
        t_eigh = median_time(lambda: np.linalg.eigh(A), repeat)
        rows.append({"P": P, "fit_s": t_fit, "eigh_s": t_eigh, "ratio": t_fit / t_eigh})
        print(f"KernelRenormalization.fit  P={P:5d}: {1e3 * t_fit:8.1f} ms   eigh {1e3 * t_eigh:8.1f} ms   "
              f"ratio {t_fit / t_eigh:5.2f}", flush=True)
    logP = np.log([r["P"] for r in rows])
    slope = np.polyfit(logP, np.log([r["fit_s"] for r in rows]), 1)[0] if len(rows) > 1 else float("nan")
    print(f"fitted exponent of fit time vs P: {slope:.2f}")
    return rows, float(slope)


def bench_transfer(P, repeat):
    task = make_transfer_task(P, P, 10, 50, 0.7, teacher="erf", seed=0)
    S, T = task.source, task.target
    t_first = median_time(lambda: FranzParisiTransfer(P, 1.0, 0.05).fit(S.X_train, S.y_train, T.X_train, T.y_train),
                          repeat)
    base = FranzParisiTransfer(P, 1.0, 0.05).fit(S.X_train, S.y_train, T.X_train, T.y_train)
    gammas = [0.5, 2.0, 5.0, 20.0, np.inf]
    per_gamma = [median_time(lambda g=g: base.with_gamma(g), repeat) for g in gammas]
    A = np.random.default_rng(0).standard_normal((P, P))
    A = A @ A.T / P
    t_eigh = median_time(lambda: np.linalg.eigh(A), repeat)
    t_chol = median_time(lambda: np.linalg.cholesky(A + np.eye(P)), repeat)
    iters = [base.with_gamma(g).solver_info_["target"]["iterations"] for g in gammas]
    print(f"FranzParisiTransfer Ps=Pt={P}: first fit {1e3 * t_first:.1f} ms; new gamma (median over "
          f"{gammas}) {1e3 * np.median(per_gamma):.1f} ms [{', '.join(f'{1e3 * t:.0f}' for t in per_gamma)}], "
          f"Newton steps {iters}; eigh {1e3 * t_eigh:.1f} ms, cholesky {1e3 * t_chol:.1f} ms", flush=True)
    return {"P": P, "first_fit_s": t_first, "new_gamma_s": per_gamma, "gammas": [str(g) for g in gammas],
            "newton_steps": iters, "eigh_s": t_eigh, "cholesky_s": t_chol,
            "new_gamma_over_eigh": float(np.median(per_gamma) / t_eigh)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    sizes = [100, 200, 400] if args.quick else [100, 200, 400, 800, 1000, 2000]
    single, slope = bench_single(sizes, args.repeat)
    transfer = bench_transfer(200 if args.quick else 500, args.repeat)
    out = {"machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                       "numpy": np.__version__},
           "single": single, "single_exponent": slope, "transfer": transfer, "repeat": args.repeat}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
