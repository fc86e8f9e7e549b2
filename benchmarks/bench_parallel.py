"""Time the atlas experiments run in one process, on 2 local worker processes (joblib) and on a local Dask
cluster of 2 worker processes (joblib's dask backend), in one run.

Two workloads, each a list of atlas experiments run through ``Experiment.execute`` into a temporary folder:

``quick_atlas``
    the five atlas experiments at their ``--quick`` size (what CI runs): many tiny points, so the time is
    mostly the cost of handing points out: it gives the *per-point overhead* of each way of running.
``atlas_alpha_sampler``
    ``atlas_alpha`` on its quick grid (8 points) with the sampler settings of the full atlas (4 chains, 120
    warm-up and 200 kept steps): points that take a noticeable time, where 2 workers can pay off.

For each workload and each way of running: the median wall time of ``--repeats`` runs, the calls interleaved
(one of each way in turn) after an untimed warm-up round that starts the worker processes; the speedup
(median in one process divided by the median of that way); and the per-point overhead, the core-seconds a
way spends on each point beyond the work done in one process: ``(workers x median - median in one process)
/ points``. The file of every run is compared with that of the run in one process (the timing fields left
out): the numbers must be the same.

Usage: python benchmarks/bench_parallel.py [--repeats 3] [--json PATH]
(``python benchmarks/run_all.py`` runs it as its ``parallel`` section.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, loadavg, log, machine_info, write_json

WORKERS = 2
ATLAS = ("atlas_alpha", "atlas_temperature", "atlas_width", "atlas_tasks", "atlas_transfer")


def _workloads():
    from tflmini.experiments import get_experiment
    from tflmini.experiments.atlas import SINGLE_SAMPLER

    alpha = get_experiment("atlas_alpha")
    return {"quick_atlas": [get_experiment(name) for name in ATLAS],
            "atlas_alpha_sampler": [dataclasses.replace(alpha, quick={**alpha.quick, "sampler": SINGLE_SAMPLER})]}


def _n_points(exp):
    """The sampled points of an atlas experiment at its quick size (a transfer point is one width)."""
    from tflmini.experiments.atlas import _single_points

    p = exp.parameters(quick=True)
    return len(p["widths"]) if "widths" in p else len(_single_points(p))


def _numbers(path):
    raw = json.loads(Path(path).read_text())
    for k in ("created", "timing", "machine"):
        raw.pop(k)
    raw["simulation"].pop("seconds")
    return raw


def run(repeats=3):
    from dask.distributed import LocalCluster

    os.environ.setdefault("PYTHONPATH", str(ROOT))  # the Dask workers import this tflmini
    workloads = _workloads()
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None)
    cluster_start_s = time.perf_counter() - t0
    ways = {"one process": {"jobs": 1}, f"{WORKERS} jobs (loky)": {"jobs": WORKERS},
            f"Dask, {WORKERS} workers": {"backend": "dask", "scheduler": cluster.scheduler_address}}
    runs = {w: {k: [] for k in ways} for w in workloads}
    same = {w: {k: True for k in ways} for w in workloads}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(repeats + 1):  # round 0: warm-up (worker processes start), not timed
                for w, exps in workloads.items():
                    for k, how in ways.items():
                        folder = Path(tmp) / w / k.replace(" ", "_")
                        t0 = time.perf_counter()
                        for exp in exps:
                            exp.execute(folder / f"{exp.name}.json", quick=True, progress=False, **how)
                        seconds = time.perf_counter() - t0
                        if r:
                            runs[w][k].append(seconds)
                        reference = Path(tmp) / w / "one_process"
                        same[w][k] &= all(_numbers(folder / f"{e.name}.json") == _numbers(reference / f"{e.name}.json")
                                          for e in exps)
    finally:
        cluster.close()
    res = {"workers": WORKERS, "repeats": repeats, "cpu_count": os.cpu_count(), "dask_cluster_start_s": cluster_start_s,
           "machine": machine_info(1), "load_after": loadavg(), "workloads": {}}
    for w, exps in workloads.items():
        n = sum(_n_points(e) for e in exps)
        serial = statistics.median(runs[w]["one process"])
        rows = []
        for k, how in ways.items():
            med = statistics.median(runs[w][k])
            workers = how.get("jobs", WORKERS)
            rows.append({"way": k, "workers": workers, "median_s": med, "min_s": min(runs[w][k]),
                         "max_s": max(runs[w][k]), "runs_s": runs[w][k], "speedup": serial / med,
                         "overhead_per_point_s": (workers * med - serial) / n if workers > 1 else 0.0,
                         "same_numbers": same[w][k]})
        res["workloads"][w] = {"experiments": [e.name for e in exps], "points": n, "rows": rows}
        log(f"{w} ({n} sampled points, {', '.join(e.name for e in exps)}):")
        for row in rows:
            log(f"  {row['way']:18s} median {row['median_s']:.3f} s  speedup {row['speedup']:.2f}  "
                f"overhead {1e3 * row['overhead_per_point_s']:.1f} ms per point  "
                f"same numbers: {row['same_numbers']}")
    log(f"(Dask cluster started in {cluster_start_s:.1f} s, not counted above)")
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    res = run(args.repeats)
    if args.json:
        write_json(args.json, res)


if __name__ == "__main__":
    main()
