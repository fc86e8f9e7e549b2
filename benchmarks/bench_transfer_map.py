"""Time the theory of the (gamma, rho) transfer map of the ``map_gamma_rho`` experiment: 30 couplings x 30
relatedness values (plus the gamma = 0 baseline of each rho) at the experiment's sampled width, with
single-threaded BLAS.

Reports the median (and min/max) wall time of several runs, and the time per map point; the target is a
whole map in under 30 s. Not a test: nothing here fails on a slow machine.

Usage: python benchmarks/bench_transfer_map.py [--repeats 3] [--threads 1] [--width N1] [--json PATH]
(``python benchmarks/run_all.py`` runs it as its ``transfer_map`` section.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from threadpoolctl import threadpool_limits

from tflmini.experiments import get_experiment
from tflmini.experiments.maps import gamma_rho_map

from _common import log, write_json

TARGET_S = 30.0


def run(repeats=3, threads=1, width=None):
    p = get_experiment("map_gamma_rho").parameters()
    width = p["n_hidden"] if width is None else width
    n_gammas, n_rhos = p["theory"]["gammas"]["num"], p["theory"]["n_rhos"]
    n_points = n_gammas * n_rhos
    times = []
    with threadpool_limits(limits=threads):
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = gamma_rho_map(p, width)
            times.append(time.perf_counter() - t0)
    finite = bool(np.all(np.isfinite(out["E"])))
    med = statistics.median(times)
    res = {"n_hidden": width, "n_source": p["n_source"], "n_target": p["n_target"], "n_test": p["n_test"],
           "n_gammas": n_gammas, "n_rhos": n_rhos, "n_points": n_points, "threads": threads, "repeats": repeats,
           "median_s": med, "min_s": min(times), "max_s": max(times), "runs_s": times,
           "per_point_s": med / n_points, "all_finite": finite, "n_failed": int(out["n_failed"]),
           "target_s": TARGET_S, "met": med < TARGET_S}
    log(f"(gamma, rho) map, {n_gammas} x {n_rhos} = {n_points} points (+{n_rhos} baselines), N1={width:g}, "
        f"Ps={p['n_source']}, Pt={p['n_target']}, M={p['n_test']} test points, {threads} BLAS thread(s): median "
        f"{med:.2f} s over {repeats} runs (min {min(times):.2f}, max {max(times):.2f}); {1e3 * med / n_points:.1f} ms "
        f"per point; target < {TARGET_S:.0f} s: {'met' if res['met'] else 'NOT met'}"
        + ("" if finite else f"; {out['n_failed']} saddle points failed"))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads")
    ap.add_argument("--width", type=float, default=None, help="N1 (default: the experiment's sampled width)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    res = run(args.repeats, args.threads, args.width)
    if args.json:
        write_json(args.json, res)


if __name__ == "__main__":
    main()
