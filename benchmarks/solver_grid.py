"""Reliability of the saddle-point solvers on a grid (issue 17, F1/F2): a measurement, not a test.

For every activation (erf, linear), temperature T, coupling gamma and load alpha = P/N1 (P = Ps = Pt fixed,
N1 = P/alpha), fit ``KernelRenormalization`` on the target data (gamma does not enter) and
``FranzParisiTransfer`` at each gamma, with the labels as drawn (scale c = 1) and multiplied by each
``--scales`` factor. Every fit that raises is classified:

- "no saddle exists": a :class:`tflmini.NoStationaryPointError` (a ``ConvergenceError`` whose message says
  that no stationary point exists in the admissible region, and why);
- "did not converge": any other ``ConvergenceError``;
- "other error": any other exception (a bug).

The core grid is erf/linear x T in {1e-6, 1e-4, 1e-2, 1} x gamma in {0, 1e-2, 1, 1e2, 1e4, inf} x
alpha in {0.5, 2, 5, 20, 50}: 40 single-network fits and 240 transfer fits = 280 points per label scale;
T = 10 is added as an extra row (70 more points, counted separately). Linear activation with P > N0 has a
kernel of rank N0, and the erf-teacher labels have components outside its range: the hardest case at small T.

Usage: python benchmarks/solver_grid.py [--quick] [--json PATH] [--scales 1e-3,1e4]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import set_thread_env  # noqa: E402

set_thread_env(1)

import numpy as np  # noqa: E402

from tflmini import FranzParisiTransfer, KernelRenormalization, make_transfer_task  # noqa: E402
from tflmini.renormalization import ConvergenceError  # noqa: E402

try:  # absent before issue 17
    from tflmini.renormalization import NoStationaryPointError  # noqa: E402
except ImportError:  # pragma: no cover - the code before the change
    NoStationaryPointError = None

CORE_T = [1e-6, 1e-4, 1e-2, 1.0]
EXTRA_T = [10.0]
GAMMAS = [0.0, 1e-2, 1.0, 1e2, 1e4, np.inf]
FULL = {"P": 100, "n_features": 20, "alphas": [0.5, 2.0, 5.0, 20.0, 50.0]}
QUICK = {"P": 50, "n_features": 20, "alphas": [1.0, 10.0, 50.0]}


def classify(exc):
    if NoStationaryPointError is not None and isinstance(exc, NoStationaryPointError):
        return "no saddle exists"
    if isinstance(exc, ConvergenceError):
        return "did not converge"
    return "other error"


def run_point(make, fit_args):
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = make().fit(*fit_args)
    except Exception as exc:  # noqa: BLE001 - the measurement classifies every failure
        return {"status": classify(exc), "error": f"{type(exc).__name__}: {exc}"[:600],
                "seconds": time.perf_counter() - t0}
    info = est.solver_info_ if isinstance(est, KernelRenormalization) else est.solver_info_["target"]
    rec = {"status": "ok", "seconds": time.perf_counter() - t0, "method": info.get("method"),
           "residual": info.get("residual"), "relative_residual": info.get("relative_residual")}
    rec["order_parameters"] = ({"Q": est.Q_} if isinstance(est, KernelRenormalization)
                               else {k: float(v) for k, v in est.order_parameters_.items()})
    return rec


def run_grid(cfg, scales, temperatures, progress=True):
    P, n0 = cfg["P"], cfg["n_features"]
    task = make_transfer_task(P, P, 20, n0, 0.8, teacher="erf", seed=0)
    S, T = task.source, task.target
    points = []
    for c in scales:
        for act in ("erf", "linear"):
            for temp in temperatures:
                for alpha in cfg["alphas"]:
                    n1 = int(round(P / alpha))
                    base = {"scale": c, "activation": act, "temperature": temp, "alpha": alpha, "n_hidden": n1,
                            "core": temp in CORE_T}
                    rec = run_point(lambda: KernelRenormalization(n1, temp, activation=act), (T.X_train, c * T.y_train))
                    points.append({"estimator": "KernelRenormalization", "gamma": None, **base, **rec})
                    for g in GAMMAS:
                        rec = run_point(lambda: FranzParisiTransfer(n1, g, temp, activation=act),
                                        (S.X_train, c * S.y_train, T.X_train, c * T.y_train))
                        points.append({"estimator": "FranzParisiTransfer", "gamma": g, **base, **rec})
                    if progress:
                        bad = sum(p["status"] != "ok" for p in points)
                        print(f"  c={c:g} {act:6s} T={temp:g} alpha={alpha:g}: {len(points)} fits, {bad} raised",
                              file=sys.stderr, flush=True)
    return points


def summarize(points):
    out = {}
    for c in sorted({p["scale"] for p in points}):
        for part, sel in (("core", lambda p: p["core"]), ("T=10", lambda p: not p["core"])):
            pts = [p for p in points if p["scale"] == c and sel(p)]
            if not pts:
                continue
            counts = {s: sum(p["status"] == s for p in pts)
                      for s in ("ok", "no saddle exists", "did not converge", "other error")}
            secs = sorted(p["seconds"] for p in pts)
            out[f"scale={c:g} {part}"] = {"points": len(pts), **counts, "raised": len(pts) - counts["ok"],
                                         "median_seconds": secs[len(secs) // 2], "max_seconds": secs[-1],
                                         "total_seconds": sum(secs)}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="P = 50 and three loads (a smoke run)")
    ap.add_argument("--json", type=Path, help="write the summary and every point to this file")
    ap.add_argument("--scales", default="1e-3,1e4", help="label scales besides 1 (comma separated)")
    ap.add_argument("--no-extra-T", action="store_true", help="skip the T = 10 row")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    scales = [1.0] + [float(s) for s in args.scales.split(",") if s.strip()]
    temps = CORE_T + ([] if args.no_extra_T else EXTRA_T)
    t0 = time.perf_counter()
    points = run_grid(cfg, scales, temps)
    summary = summarize(points)
    print(f"{'grid':22s} {'points':>6s} {'ok':>5s} {'no saddle':>9s} {'no conv.':>8s} {'other':>5s} "
          f"{'median s':>8s} {'max s':>7s}")
    for k, v in summary.items():
        print(f"{k:22s} {v['points']:6d} {v['ok']:5d} {v['no saddle exists']:9d} {v['did not converge']:8d} "
              f"{v['other error']:5d} {v['median_seconds']:8.3f} {v['max_seconds']:7.2f}")
    failures = [p for p in points if p["status"] != "ok"]
    for p in failures:
        print(f"[{p['status']}] {p['estimator']} c={p['scale']:g} {p['activation']} T={p['temperature']:g} "
              f"gamma={p['gamma']} alpha={p['alpha']:g} (N1={p['n_hidden']}): {p['error'][:200]}")
    print(f"total time {time.perf_counter() - t0:.1f} s")
    if args.json:
        def clean(x):
            return None if isinstance(x, float) and not np.isfinite(x) and not np.isinf(x) else (
                "inf" if isinstance(x, float) and np.isinf(x) else x)
        data = {"config": {**cfg, "scales": scales, "temperatures": temps,
                           "gammas": [clean(float(g)) for g in GAMMAS]},
                "summary": summary,
                "failures": [{k: clean(v) for k, v in p.items()} for p in failures],
                "points": [{k: clean(v) for k, v in p.items()} for p in points]}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=1, default=str) + "\n")
        print("wrote", args.json)


if __name__ == "__main__":
    main()
