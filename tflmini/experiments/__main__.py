"""Command line: ``python -m tflmini.experiments {list, run NAME [--quick] [--theory-only] [--resume] [--out PATH]
[--jobs N | --backend dask --scheduler ADDRESS], findings}``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import REGISTRY, command, format_tables, list_experiments, result_path, run
from ._parallel import BACKENDS
from .findings import FINDINGS_EXPERIMENTS, findings_tables


def _at_least_one(what):
    """An argparse type: an integer >= 1 (``what`` names it in the message; anything else exits with status 2)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"must be an integer >= 1 (the number of {what}), got {value}")
        return value
    return parse


def _check_directory(ap, directory, *, must_exist):
    """``--directory``: refused (argparse error, exit status 2) if it names a file, or does not exist when
    ``must_exist``."""
    if directory is None:
        return
    path = Path(directory).expanduser()
    if path.exists() and not path.is_dir():
        ap.error(f"--directory {directory}: is a file, not a directory")
    if must_exist and not path.is_dir():
        ap.error(f"--directory {directory}: no such directory")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tflmini.experiments", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the experiments, their findings and cache files")
    r = sub.add_parser("run", help="run one experiment (or 'all') and cache its result")
    r.add_argument("name", help="experiment name, or 'all'")
    r.add_argument("--quick", action="store_true", help="small CI-sized version (written to NAME.quick.json)")
    r.add_argument("--theory-only", action="store_true", help="skip the (slow) simulation part")
    r.add_argument("--resume", action="store_true",
                   help="keep the finished part of an interrupted run in the result file when its parameters are "
                        "the same (the atlas experiments and the validation runs)")
    r.add_argument("--directory", default=None,
                   help="where to write (default: data/experiments; data/ for the validation runs)")
    r.add_argument("--out", default=None, help="write the result to this file (one experiment only)")
    r.add_argument("--threads", type=_at_least_one("BLAS threads"), default=1,
                   help="BLAS threads, >= 1 (default 1: fastest for these sizes)")
    r.add_argument("--jobs", type=_at_least_one("parallel workers"), default=None,
                   help="worker processes for the experiment's points (default: every core; 1: in this process)")
    r.add_argument("--backend", choices=BACKENDS, default="loky",
                   help="loky: local processes (default); dask: the workers of a Dask cluster (--scheduler)")
    r.add_argument("--scheduler", default=None,
                   help="address of the Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --backend dask)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    f = sub.add_parser("findings", help="print the table of numbers for each finding from the cached results")
    f.add_argument("--quick", action="store_true")
    f.add_argument("--directory", default=None, help="where the cached results are (default: data/experiments)")
    args = ap.parse_args(argv)

    if args.cmd == "list":
        for name in list_experiments():
            exp = REGISTRY[name]
            path = result_path(name)
            state = "cached" if path.exists() else "not cached"
            findings = ",".join(map(str, exp.findings)) or "-"
            print(f"{name:26s} findings {findings:7s} {state:10s}  {exp.title}")
        print(f"\nrun one with: {command('NAME')} [--quick] [--theory-only]")
        return 0
    if args.cmd == "findings":
        _check_directory(ap, args.directory, must_exist=True)
        if args.directory is not None and not any(result_path(name, args.quick, args.directory).exists()
                                                  for name in FINDINGS_EXPERIMENTS):
            ap.error(f"--directory {args.directory}: holds none of the cached results the findings read "
                     f"({', '.join(n + ('.quick' if args.quick else '') + '.json' for n in FINDINGS_EXPERIMENTS)})")
        print(format_tables(findings_tables(quick=args.quick, directory=args.directory)))
        return 0
    _check_directory(ap, args.directory, must_exist=False)
    if args.backend == "dask" and not args.scheduler:
        ap.error("--backend dask needs --scheduler ADDRESS (the Dask scheduler, e.g. tcp://10.0.0.5:8786)")
    if args.scheduler and args.backend != "dask":
        ap.error("--scheduler is used only with --backend dask")
    if args.backend == "dask" and args.jobs is not None:
        ap.error("--jobs does not apply to --backend dask: the cluster's workers run the points")
    names = list_experiments() if args.name == "all" else [args.name]
    for name in names:
        if name not in REGISTRY:
            ap.error(f"unknown experiment {name!r}; choose from: {', '.join(list_experiments())}")
    if args.out is not None and len(names) > 1:
        ap.error("--out writes one experiment's result: name one experiment, not 'all'")
    if args.name != "all":
        exp = REGISTRY[args.name]
        if args.theory_only and exp.theory is None:
            ap.error(f"{args.name} has no separate theory part: run it without --theory-only")
        if args.resume and not exp.resumable:
            ap.error(f"{args.name} cannot resume an interrupted run: run it without --resume")
    for name in names:
        exp = REGISTRY[name]
        if args.theory_only and exp.theory is None:  # 'all --theory-only': the validation runs have no theory part
            print(f"{name}: skipped (no separate theory part)", flush=True)
            continue
        t0 = time.perf_counter()
        path = run(name, quick=args.quick, theory_only=args.theory_only, directory=args.directory, out=args.out,
                   resume=args.resume and exp.resumable, progress=not args.no_progress, threads=args.threads,
                   jobs=args.jobs, backend=args.backend, scheduler=args.scheduler)
        print(f"{name}: wrote {path} in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
