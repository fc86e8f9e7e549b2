"""Run every benchmark of tflmini and write the results the book's "Performance" appendix loads.

    python benchmarks/run_all.py            # full run -> data/benchmarks.json (tens of minutes)
    python benchmarks/run_all.py --quick    # small sizes, a few minutes, nothing written to data/

Sections (``--only`` / ``--skip``, comma-separated):

- ``theory``   KernelRenormalization.fit and FranzParisiTransfer.fit vs one eigh / Cholesky, P = 100 ... 4000,
               and a new coupling (with_gamma) at Ps = Pt = 500 (bench_theory.py);
- ``transfer_map`` the theory of the 30 x 30 (gamma, rho) map of the ``map_gamma_rho`` experiment
               (bench_transfer_map.py);
- ``deepbays`` the authors' package on the same problems: theory and Langevin sampler (bench_deepbays.py;
               skipped with a message without the environment /work/bench-venv or $DEEPBAYS_PYTHON);
- ``panels``   slider latency of every ``*_panel`` of tflmini.widgets (single, transfer, digits)
               (bench_panels.py; run with an interpreter that has ipywidgets, the project's .venv if needed);
- ``book``     the book build from a clean copy (bench_book.py; full runs only unless ``--book``);
- ``parallel`` the atlas experiments in one process, on 2 joblib workers and on a local Dask cluster of 2
               workers: speedups, per-point overhead, same numbers (bench_parallel.py);
- ``site``     time to the first slider panel of the built site _build/html in Chromium, ch02/ch04/ch07/ch08
               (bench_first_widget.py; skipped with a message without a built site or Chromium).

These are measurements, not tests: medians of repeated runs, and ratios of quantities measured in the
same run (interleaved), so that the machine's load affects both sides of a ratio alike. With
``--wait-load L`` the run first waits (up to ``--wait-minutes``) for the 1-minute load average to drop
below L; the load before and after every section is recorded either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import ROOT, loadavg, log, machine_info, set_thread_env, write_json  # noqa: E402 (no numpy yet)

SECTIONS = ("theory", "transfer_map", "deepbays", "panels", "parallel", "book", "site")
DEFAULT_OUT = ROOT / "data" / "benchmarks.json"


def wait_for_load(threshold, minutes, poll=60.0):
    t0 = time.time()
    history = [(0.0, loadavg()[0])]
    while history[-1][1] >= threshold and time.time() - t0 < 60 * minutes:
        log(f"waiting for the 1-minute load average ({history[-1][1]:.2f}) to drop below {threshold} "
            f"({(time.time() - t0) / 60:.0f}/{minutes:.0f} min)")
        time.sleep(poll)
        history.append((time.time() - t0, loadavg()[0]))
    reached = history[-1][1] < threshold
    if not reached:
        log(f"the load average stayed above {threshold} for {minutes:.0f} min: running anyway (numbers from a loaded machine)")
    return {"threshold": threshold, "waited_s": time.time() - t0, "reached": reached, "history": history}


def _script_name():
    script = Path(sys.argv[0]).resolve()
    return str(script.relative_to(ROOT)) if script.is_relative_to(ROOT) else sys.argv[0]


def panels_python():
    """An interpreter that can import ipywidgets and tflmini: this one, else the project's .venv."""
    try:
        import ipywidgets  # noqa: F401

        return Path(sys.executable)
    except ImportError:
        venv = ROOT / ".venv" / "bin" / "python"
        return venv if venv.exists() else None


def run_panels(quick, threads):
    py = panels_python()
    if py is None:
        msg = "panel benchmark skipped: no interpreter with ipywidgets (run `make venv` or install ipywidgets)"
        log(msg)
        return {"skipped": msg}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "panels.json"
        env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
        cmd = [str(py), str(HERE / "bench_panels.py"), "--json", str(out)] + (["--quick"] if quick else [])
        proc = subprocess.run(cmd, env=env, cwd=ROOT)
        if proc.returncode != 0 or not out.exists():
            msg = f"panel benchmark failed (exit {proc.returncode}; output above)"
            log(msg)
            return {"skipped": msg}
        res = json.loads(out.read_text())
    res["python"] = str(py)
    return res


def run_site(repeat):
    html = ROOT / "_build" / "html"
    if not (html / "index.html").is_file():
        msg = f"site benchmark skipped: no built site in {html} (make book)"
        log(msg)
        return {"skipped": msg}
    import bench_first_widget  # (puts tests/ on sys.path for site_utils)
    from site_utils import chromium_problem

    problem = chromium_problem()
    if problem:
        msg = f"site benchmark skipped: {problem}"
        log(msg)
        return {"skipped": msg}
    try:
        res = bench_first_widget.run(html, repeat=max(3, min(repeat, 5)))
    except Exception as exc:  # noqa: BLE001 (a measurement: report and go on)
        msg = f"site benchmark failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        log(msg)
        return {"skipped": msg}
    bench_first_widget.report(res)
    return res


def goals(results):
    """Which goals of the performance issue are met, from the numbers (None: not measured)."""
    g = {}
    th = results.get("theory")
    if th and "fits" in th:
        rows = th["fits"]["rows"]
        big = [r for r in rows if r["P"] >= 400] or rows
        g["kr_fit_within_10x_eigh"] = {"value": max(r["kr_over_eigh"] for r in rows), "goal": "<= 10", "met": None}
        g["fp_fit_within_10x_eigh"] = {"value": max(r["fp_over_eigh"] for r in big), "goal": "<= 10 (P >= 400)", "met": None}
        ex = th["fits"]["exponents"]
        g["kr_fit_exponent"] = {"value": ex["kr_fit"]["P>=400"], "goal": "<= 3.2 (O(P^3), P >= 400)", "met": None}
        g["fp_fit_exponent"] = {"value": ex["fp_fit"]["P>=400"], "goal": "<= 3.2 (O(P^3), P >= 400)", "met": None}
        ng = th["new_gamma"]
        g["new_gamma_decompositions"] = {"value": ng["slider_step_over_eigh"], "goal": "<= 2 eigh (Ps = Pt = "
                                         f"{ng['P']})", "met": None}
        for k, lim in (("kr_fit_within_10x_eigh", 10), ("fp_fit_within_10x_eigh", 10), ("kr_fit_exponent", 3.2),
                       ("fp_fit_exponent", 3.2), ("new_gamma_decompositions", 2.0)):
            val = g[k]["value"]
            g[k]["met"] = None if val is None or val != val else bool(val <= lim)  # NaN: not measurable
    db = results.get("deepbays")
    if db and "theory" in db:
        sp = [r["fit_speedup"] for r in db["theory"]["rows"]]
        g["theory_vs_deepbays"] = {"value": min(sp), "goal": ">= 1 (tflmini at least as fast, every P)", "met": min(sp) >= 1}
        s = db["sampler"]["summary"]
        v = s.get("speedup_raw_vs_raw")
        g["sampler_vs_deepbays"] = {"value": v, "goal": ">= 3 (ESS/s of raw |v|^2/N1)", "met": None if v is None else v >= 3}
    pn = results.get("panels")
    if pn and pn.get("panels"):
        worst = max(p["first_visit_median_s"] or 0 for p in pn["panels"])
        g["slider_latency"] = {"value": worst, "goal": "< 0.2 s (median of first-visit moves, every panel)",
                               "met": worst < 0.2}
        if all(p.get("defaults_p95_s") is not None for p in pn["panels"]):  # issue 20: every panel's p95 move
            for key, what in (("defaults_p95_s", "wall"), ("defaults_p95_cpu_s", "CPU")):
                worst = max(p.get(key) or 0.0 for p in pn["panels"])
                g[f"panel_p95_{what.lower()}"] = {"value": worst, "met": worst < 0.3,
                                                  "goal": f"< 0.3 s ({what} time, 95th percentile of the moves at "
                                                          "the default sizes, every panel)"}
    tm = results.get("transfer_map")
    if tm and "median_s" in tm:
        g["transfer_map"] = {"value": tm["median_s"], "goal": f"< {tm['target_s']:.0f} s (whole map)", "met": tm["met"]}
    bk = results.get("book")
    if bk and bk.get("completed"):
        g["book_build"] = {"value": bk["total_s"], "goal": "< 600 s (clean copy, incl. environment)",
                           "met": bk["total_s"] < 600}
        g["book_build_without_environment"] = {"value": bk["book_s"], "goal": "< 600 s (make book only)",
                                               "met": bk["book_s"] < 600}
    return g


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (development); writes nothing to data/ by default")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads (default 1: single-threaded numbers, least disturbed by other jobs)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per timing (medians; fewer at the largest sizes)")
    ap.add_argument("--only", default=None, help=f"comma-separated sections among {', '.join(SECTIONS)}")
    ap.add_argument("--skip", default="", help="comma-separated sections to leave out")
    ap.add_argument("--book", action="store_true", help="include the book build in a --quick run")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"JSON output (default {DEFAULT_OUT.relative_to(ROOT)} for full runs, none for --quick)")
    ap.add_argument("--merge", action="store_true", help="update only the sections run in an existing --out file")
    ap.add_argument("--wait-load", type=float, default=None, help="wait until the 1-minute load average is below this")
    ap.add_argument("--wait-minutes", type=float, default=60.0)
    args = ap.parse_args(argv)

    set_thread_env(args.threads)  # before numpy is imported by any benchmark module
    sections = [s for s in (args.only.split(",") if args.only else SECTIONS) if s and s not in args.skip.split(",")]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {sorted(unknown)}; choose among {SECTIONS}")
    if args.quick and not args.book and not args.only:
        sections = [s for s in sections if s != "book"]
    out_path = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)

    load = {"before": loadavg()}
    if args.wait_load is not None:
        load["wait"] = wait_for_load(args.wait_load, args.wait_minutes)
        load["before"] = loadavg()
    t_start = time.time()
    results = {
        "schema": 1,
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python " + " ".join(shlex.quote(a) for a in [_script_name(), *sys.argv[1:]]),
        "quick": args.quick,
        "machine": machine_info(args.threads),
        "sections": sections,
        "section_load": {},
        "section_seconds": {},
        "section_date": {},
    }
    from _common import git_describe

    results["git"] = git_describe()
    log(f"tflmini benchmarks ({'quick' if args.quick else 'full'}): {', '.join(sections)}; {args.threads} BLAS thread(s); "
        f"{results['machine']['cpu_model']}, {results['machine']['logical_cores']} cores; load {load['before']}")
    for sec in sections:
        before = loadavg()
        t0 = time.time()
        results["section_date"][sec] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        log(f"\n== {sec} ==  (load average {' '.join(f'{x:.2f}' for x in before)})")
        if sec == "theory":
            import bench_theory

            results["theory"] = bench_theory.run(args.quick, args.repeat)
        elif sec == "transfer_map":
            import bench_transfer_map

            results["transfer_map"] = bench_transfer_map.run(3 if not args.quick else 1, args.threads)
        elif sec == "deepbays":
            import bench_deepbays

            results["deepbays"] = bench_deepbays.run(args.quick, args.repeat, args.threads)
        elif sec == "panels":
            results["panels"] = run_panels(args.quick, args.threads)
        elif sec == "parallel":
            import bench_parallel

            results["parallel"] = bench_parallel.run(1 if args.quick else 3)
        elif sec == "book":
            import bench_book

            results["book"] = bench_book.run(threads=args.threads)
        elif sec == "site":
            results["site"] = run_site(args.repeat)
        results["section_seconds"][sec] = time.time() - t0
        results["section_load"][sec] = {"before": before, "after": loadavg()}
        log(f"== {sec}: {results['section_seconds'][sec]:.0f} s; load average after "
            f"{' '.join(f'{x:.2f}' for x in results['section_load'][sec]['after'])}")
    load["after"] = loadavg()
    results["load"] = load
    results["wall_seconds"] = time.time() - t_start

    if out_path is not None and args.merge and out_path.exists():
        old = json.loads(out_path.read_text())
        for sec in SECTIONS:
            if sec not in sections and sec in old:
                results[sec] = old[sec]
                results["section_load"][sec] = old.get("section_load", {}).get(sec)
                results["section_seconds"][sec] = old.get("section_seconds", {}).get(sec)
                results["section_date"][sec] = (old.get("section_date") or {}).get(sec, old.get("date"))
        results["merged_from"] = {"date": old.get("date"), "sections": [s for s in SECTIONS if s not in sections and s in old]}
    results["goals"] = goals(results)
    log("\n== goals ==")
    for k, v in results["goals"].items():
        val = v["value"]
        log(f"  {k:32s} {'met' if v['met'] else 'NOT met' if v['met'] is not None else '?':8s} "
            f"value {val:.3g}  goal {v['goal']}" if isinstance(val, (int, float)) else f"  {k}: {v}")
    log(f"load average before {load['before']}, after {load['after']}; {results['wall_seconds'] / 60:.1f} min")
    if out_path is not None:
        write_json(out_path, results)
        log(f"wrote {out_path}")


if __name__ == "__main__":
    main()
