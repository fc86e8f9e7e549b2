"""Time the theory of the (gamma, rho) transfer map: 30 couplings x 30 relatedness values (plus the
gamma = 0 baseline of each rho) at the width of the ``map_gamma_rho`` experiment, single-threaded BLAS.

Reports the median (and min/max) wall time of several runs; the target is < 30 s.
Usage: python benchmarks/bench_transfer_map.py [--repeats 5] [--threads 1] [--width 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from tflmini.experiments import get_experiment
from tflmini.experiments.maps import gamma_rho_map


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads")
    ap.add_argument("--width", type=float, default=None, help="N1 (default: the experiment's sampled width)")
    args = ap.parse_args(argv)
    p = get_experiment("map_gamma_rho").parameters()
    width = p["n_hidden"] if args.width is None else args.width
    n_points = p["theory"]["gammas"]["num"] * p["theory"]["n_rhos"]
    times = []
    with threadpool_limits(limits=args.threads):
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = gamma_rho_map(p, width)
            times.append(time.perf_counter() - t0)
    assert out["E"].shape == (p["theory"]["n_rhos"], p["theory"]["gammas"]["num"])
    assert np.all(np.isfinite(out["E"])), "some saddle points failed"
    med = statistics.median(times)
    print(f"(gamma, rho) map, {p['theory']['gammas']['num']} x {p['theory']['n_rhos']} = {n_points} points "
          f"(+{p['theory']['n_rhos']} baselines), N1={width:g}, Ps={p['n_source']}, Pt={p['n_target']}, "
          f"M={p['n_test']} test points, {args.threads} BLAS thread(s)")
    print(f"median {med:.2f} s over {args.repeats} runs (min {min(times):.2f}, max {max(times):.2f}); "
          f"{1e3 * med / n_points:.1f} ms per point; target < 30 s: {'OK' if med < 30 else 'TOO SLOW'}")
    return 0 if med < 30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
