"""Theory vs sampler for the Franz-Parisi transfer protocol: order parameters and target test errors
over widths, couplings gamma (including inf) and task relatedness rho.

Writes data/validation_transfer.json (all parameters, package version, seeds, wall time).
Usage: python scripts/validate_transfer.py [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from tflmini import FranzParisiTransfer, make_transfer_task
from tflmini.sampling.transfer_sampler import KEYS, TransferSampler
from validate_single_network import result_writer

# relatedness values per width (the widest network only at rho = 0.9, to bound the cost)
FULL = {"widths": [200, 400, 800], "rhos": {"200": [0.0, 0.5, 0.9], "400": [0.0, 0.5, 0.9], "800": [0.9]},
        "gammas": [0.0, 1.0, 10.0, "inf"]}
QUICK = {"widths": [100], "rhos": {"100": [0.0, 0.9]}, "gammas": [0.0, 1.0, 10.0, "inf"]}
COMMON = {"n_features": 50, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf",
          "alpha_source": 1.0, "alpha_target": 0.3, "n_test": 300, "n_source_chains": 4, "snapshots_per_chain": 3,
          "snapshot_every": 10, "source_warmup": 150, "target_warmup": 60, "target_samples": 60, "seed": 7}


def run(grid, common, progress=True, on_rows=None, done=()):
    """Sample and solve every (width, rho) group of ``grid``; rows of groups listed in ``done`` (earlier
    rows of the same parameters, kept by ``--resume``) are returned unchanged."""
    rows = [row for row in done]
    finished = {(row["n_hidden"], row["rho"]) for row in rows}
    gammas = [np.inf if g == "inf" else float(g) for g in grid["gammas"]]
    for n1 in grid["widths"]:
        ps, pt = int(round(common["alpha_source"] * n1)), int(round(common["alpha_target"] * n1))
        sampler = TransferSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], "erf",
                                  n_source_chains=common["n_source_chains"],
                                  snapshots_per_chain=common["snapshots_per_chain"],
                                  snapshot_every=common["snapshot_every"], source_warmup=common["source_warmup"],
                                  target_warmup=common["target_warmup"], target_samples=common["target_samples"],
                                  seed=common["seed"] + n1, progress=progress)
        source = None
        for rho in grid["rhos"][str(n1)]:
            if (n1, rho) in finished:
                continue
            # the source task does not depend on rho for a given seed, so its snapshots are shared
            task = make_transfer_task(ps, pt, common["n_test"], common["n_features"], rho, teacher=common["teacher"],
                                      seed=common["seed"])
            S, T = task.source, task.target
            t0 = time.time()
            if source is None:
                source = sampler.sample_source(S.X_train, S.y_train)
            assert np.array_equal(source["X"], S.X_train)
            res = sampler.sample_targets(source, T.X_train, T.y_train, T.X_test, T.y_test, gammas)
            fp = FranzParisiTransfer(n1, 0.0, common["temperature"], common["lambda0"], common["lambda1"])
            fp.fit(S.X_train, S.y_train, T.X_train, T.y_train)
            for i, g in enumerate(gammas):
                th = fp.with_gamma(g)
                theory = dict(th.order_parameters_, gibbs_error=th.gibbs_error(T.X_test, T.y_test),
                              mean_error=th.mean_error(T.X_test, T.y_test))
                row = {"n_hidden": n1, "P_source": ps, "P_target": pt, "rho": rho, "gamma": "inf" if np.isinf(g) else g,
                       "theory": theory,
                       "sampler": {k: {"mean": float(res.mean[k][i]), "se": float(res.stderr[k][i])} for k in KEYS},
                       "n_snapshots": res.n_snapshots}
                rows.append(row)
                print(f"N1={n1} rho={rho} gamma={g:g}: " + "  ".join(
                    f"{k} {theory[k]:.4f}/{res.mean[k][i]:.4f}±{res.stderr[k][i]:.4f}" for k in KEYS), flush=True)
            rows[-1]["seconds_this_rho"] = time.time() - t0
            if on_rows is not None:
                on_rows(rows)
            diag = res.diagnostics
            rows[-1]["diagnostics"] = {"source": {k: v for k, v in diag["source"].items() if not isinstance(v, str)},
                                       "targets": {g: {k: v for k, v in d.items() if not isinstance(v, str)}
                                                   for g, d in diag["targets"].items()}}
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small CI-sized grid")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "validation_transfer.json")
    ap.add_argument("--resume", action="store_true",
                    help="keep the (width, rho) groups already in --out when its parameters are the same")
    args = ap.parse_args(argv)
    grid = QUICK if args.quick else FULL
    t0 = time.time()
    done = []
    if args.resume and args.out.is_file():
        old = json.loads(args.out.read_text())
        if old.get("parameters") == {**COMMON, "grid": grid, "quick": args.quick}:
            done = old["rows"]
            t0 -= old.get("wall_seconds", 0.0)
            print(f"resuming: {len(done)} rows kept from {args.out}")
        else:
            print(f"not resuming: the parameters in {args.out} differ")

    save = result_writer(args.out, "validation_transfer", {**COMMON, "grid": grid, "quick": args.quick}, t0)

    rows = run(grid, COMMON, progress=sys.stderr.isatty(), on_rows=save, done=done)
    save(rows, complete=True)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
