"""tflmini against deepbays (the authors' package) on the same network, prior, temperature and data.

deepbays is NOT a dependency of tflmini: its side runs in a separate environment (default
``/work/bench-venv``, or ``$DEEPBAYS_PYTHON``) through ``deepbays_worker.py`` in a subprocess, with a
throw-away ``cupy`` and ``torchvision`` stubs first on its path (deepbays imports both unconditionally
but the benchmark uses neither its GPU kernels nor its image data sets; the stubs are created in a
temporary directory at run time). Without that environment this benchmark is skipped with a message.

(a) Single-network theory: ``deepbays.rkgp.theory_1HL_FC_single_output.FC_1HL(N1, T, l0, l1, "erf")``
    (``preprocess`` + ``optimize``; then ``predict`` + ``averageLoss``) against
    ``KernelRenormalization(N1, T, l0, l1).fit`` (then ``gibbs_error``), runs interleaved; the order
    parameters agree (deepbays' optQ / l1 is tflmini's Q_) and so do the Gibbs test errors.
(b) Sampler: deepbays' Langevin training (``LangevinOpt`` + ``regLoss`` + ``NN.train``, one full-batch
    step per call) against ``BayesianNetworkSampler``: effective samples per second of |v|^2/N1 by
    integrated autocorrelation time (tflmini.sampling.diagnostics), over the measurement phase of each.
    tflmini's own trace is Rao-Blackwellized, E[|v|^2/N1 | W]; for a like-for-like comparison
    tflmini's raw |v|^2/N1 is also recorded, from one exact draw v ~ p(v | W) per iteration and chain
    (``CollapsedPosterior.sample_readout`` on the states W saved at every iteration), its cost included.
    Langevin is unadjusted, so its step size trades speed for bias: several are run and the comparison
    uses the fastest whose mean |v|^2/N1 is within 3% (+ 2 standard errors) of the exact posterior mean.

Usage: python benchmarks/bench_deepbays.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from tflmini import BayesianNetworkSampler, KernelRenormalization, make_teacher_task
from tflmini.sampling.diagnostics import effective_sample_size, integrated_autocorr_time, mean_and_stderr

from _common import THREAD_VARS, fmt_ms, log, timed, write_json

HERE = Path(__file__).resolve().parent
DEFAULT_VENV_PYTHON = Path("/work/bench-venv/bin/python")

THEORY = {"n_features": 50, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "alpha": 1.0, "n_test": 500,
          "teacher": "erf", "seed": 0, "sizes": [100, 200, 400, 1000, 2000], "quick_sizes": [100, 200],
          "check": {"P": 200, "lambda0": 2.0, "lambda1": 0.5}}
SAMPLER = {"n_features": 50, "n_hidden": 100, "P": 100, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0,
           "teacher": "erf", "seed": 1, "n_chains": 4, "n_warmup": 200, "n_samples": 1000, "segment": 250,
           "langevin_lrs": [0.01, 0.03, 0.1, 0.3, 0.6], "langevin_tau_guess": 17.0, "langevin_min_steps": 20000,
           "langevin_tau_multiple": 100, "bias_tolerance": 0.03}
SAMPLER_QUICK = {**SAMPLER, "n_hidden": 50, "P": 50, "n_warmup": 100, "n_samples": 400, "segment": 200,
                 "langevin_lrs": [0.03, 0.1, 0.3], "langevin_min_steps": 5000, "langevin_tau_multiple": 30}


def deepbays_python():
    return Path(os.environ.get("DEEPBAYS_PYTHON", DEFAULT_VENV_PYTHON))


SHIM_FILES = {
    # deepbays imports cupy unconditionally (for its GPU kernels, which the benchmark does not use)
    "cupy/__init__.py": "# stub for the deepbays benchmark: no GPU code is used\n",
    "cupy/cuda/__init__.py": "class Device:\n    pass\n",
    # deepbays.tasks imports torchvision for its MNIST/CIFAR loaders, which the benchmark does not use; the
    # torchvision wheel that pip pairs with the CPU build of torch fails to load its compiled operators
    "torchvision/__init__.py": "from . import datasets, transforms  # stub for the deepbays benchmark\n",
    "torchvision/transforms/__init__.py": "# stub: no image transforms are used\n",
    "torchvision/datasets/__init__.py": "# stub: no data set is downloaded\n",
}


def make_shim(shim: Path) -> Path:
    """Create the throw-away import stubs deepbays needs on a CPU-only machine, in ``shim`` (a temporary
    directory put first on the worker's PYTHONPATH; nothing of it belongs to tflmini)."""
    for rel, text in SHIM_FILES.items():
        f = shim / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return shim


class DeepbaysWorker:
    """``deepbays_worker.py`` running in the deepbays environment, one JSON line per request."""

    def __init__(self, python, threads, workdir):
        shim = make_shim(Path(workdir) / "shim")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update({"PYTHONPATH": str(shim), **{v: str(threads) for v in THREAD_VARS}})
        self.stderr = open(Path(workdir) / "deepbays_worker.stderr", "w")
        self.proc = subprocess.Popen([str(python), str(HERE / "deepbays_worker.py"), str(threads)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env, cwd=workdir)

    def __call__(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the deepbays worker died (see {self.stderr.name})")
        out = json.loads(line)
        if not out.get("ok"):
            raise RuntimeError(f"deepbays worker: {out.get('error')}")
        return out

    def close(self):
        try:
            self(cmd="quit")
        except Exception:  # noqa: BLE001
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.stderr.close()


# -- (a) theory ----------------------------------------------------------------------------------------

def bench_theory(worker, workdir, sizes, repeat, c=THEORY):
    rows = []
    for P in sizes:
        N1 = P / c["alpha"]
        task = make_teacher_task(P, c["n_test"], c["n_features"], teacher=c["teacher"], seed=c["seed"])
        path = Path(workdir) / f"theory_{P}.npz"
        np.savez(path, X=task.X_train, y=task.y_train, X_test=task.X_test, y_test=task.y_test)
        rep = repeat if P <= 1000 else max(2, repeat // 2)
        warm = P <= 1000
        db_fit, db_pred, tf_fit, tf_pred = [], [], [], []
        for r in range(rep + warm):
            d = worker(cmd="theory", data=str(path), N1=N1, T=c["temperature"], l0=c["lambda0"], l1=c["lambda1"])
            t1, kr = timed(lambda: KernelRenormalization(N1, c["temperature"], c["lambda0"], c["lambda1"]).fit(
                task.X_train, task.y_train))
            t2, err = timed(lambda: kr.gibbs_error(task.X_test, task.y_test))
            if r >= warm:
                db_fit.append(d["fit_s"])
                db_pred.append(d["predict_loss_s"])
                tf_fit.append(t1)
                tf_pred.append(t2)
        med = {k: statistics.median(v) for k, v in
               {"deepbays_fit_s": db_fit, "deepbays_predict_s": db_pred, "tflmini_fit_s": tf_fit,
                "tflmini_predict_s": tf_pred}.items()}
        row = {"P": P, "n_hidden": N1, "repeat": rep, **med,
               "fit_speedup": med["deepbays_fit_s"] / med["tflmini_fit_s"],
               "total_speedup": (med["deepbays_fit_s"] + med["deepbays_predict_s"]) /
                                (med["tflmini_fit_s"] + med["tflmini_predict_s"]),
               "Q_deepbays": d["Q"], "Q_tflmini": kr.Q_, "Q_rel_diff": abs(d["Q"] - kr.Q_) / kr.Q_,
               "gibbs_error_deepbays": d["gibbs_error"], "gibbs_error_tflmini": err,
               "gibbs_error_rel_diff": abs(d["gibbs_error"] - err) / err}
        rows.append(row)
        log(f"theory P={P:5d}: deepbays fit {fmt_ms(med['deepbays_fit_s'])}, tflmini fit {fmt_ms(med['tflmini_fit_s'])} "
            f"-> tflmini {row['fit_speedup']:6.1f}x faster (fit + test error {row['total_speedup']:.1f}x); "
            f"Q {d['Q']:.10f} vs {kr.Q_:.10f} (rel. diff {row['Q_rel_diff']:.1e}), Gibbs error rel. diff "
            f"{row['gibbs_error_rel_diff']:.1e}")
    # agreement with other priors: deepbays' optQ / l1 is tflmini's Q_
    ck = c["check"]
    task = make_teacher_task(ck["P"], c["n_test"], c["n_features"], teacher=c["teacher"], seed=c["seed"] + 1)
    path = Path(workdir) / "theory_check.npz"
    np.savez(path, X=task.X_train, y=task.y_train, X_test=task.X_test, y_test=task.y_test)
    N1 = ck["P"] / c["alpha"]
    d = worker(cmd="theory", data=str(path), N1=N1, T=c["temperature"], l0=ck["lambda0"], l1=ck["lambda1"])
    kr = KernelRenormalization(N1, c["temperature"], ck["lambda0"], ck["lambda1"]).fit(task.X_train, task.y_train)
    check = {**ck, "optQ_deepbays": d["optQ"], "Q_deepbays": d["Q"], "Q_tflmini": kr.Q_,
             "Q_rel_diff": abs(d["Q"] - kr.Q_) / kr.Q_,
             "gibbs_error_rel_diff": abs(d["gibbs_error"] - kr.gibbs_error(task.X_test, task.y_test)) / d["gibbs_error"]}
    log(f"theory agreement at lambda0={ck['lambda0']}, lambda1={ck['lambda1']}: optQ/l1 {d['Q']:.10f}, Q_ {kr.Q_:.10f} "
        f"(rel. diff {check['Q_rel_diff']:.1e})")
    return {"rows": rows, "agreement_check": check}


# -- (b) sampler ---------------------------------------------------------------------------------------

def _trace_stats(trace, seconds, var_raw):
    """tau, ESS and ESS per second of a trace (n, C); 'raw-equivalent' ESS is var_raw / se^2: the number of
    independent raw |v|^2/N1 draws that would give the same standard error of the posterior mean."""
    tau = integrated_autocorr_time(trace)
    ess = effective_sample_size(trace)
    mean, se = mean_and_stderr(trace)
    ess_eq = var_raw / se**2
    return {"n": int(np.asarray(trace).size), "mean": mean, "se": se, "sd": float(np.std(trace)), "tau": tau, "ess": ess,
            "seconds": seconds, "ess_per_s": ess / seconds, "raw_equivalent_ess": ess_eq,
            "raw_equivalent_ess_per_s": ess_eq / seconds}


def run_tflmini_sampler(task, c):
    """Warm-up, then a measurement phase in segments that save W at every iteration; one exact readout draw
    per saved state gives the raw |v|^2/N1 trace."""
    kw = dict(n_chains=c["n_chains"], progress=False)
    rng = np.random.default_rng(c["seed"])
    warm = BayesianNetworkSampler(c["n_hidden"], c["temperature"], c["lambda0"], c["lambda1"], "erf", n_warmup=c["n_warmup"],
                                  n_samples=4, seed=rng, **kw)
    t_warm, res = timed(lambda: warm.sample(task.X_train, task.y_train))
    step = res.diagnostics["step_size"]
    W = res.W
    prod = BayesianNetworkSampler(c["n_hidden"], c["temperature"], c["lambda0"], c["lambda1"], "erf", n_warmup=0,
                                  n_samples=c["segment"], step_size=step, seed=rng, **kw)
    post = prod.posterior(task.X_train, task.y_train)
    rb, raw, acc = [], [], []
    t_sample = t_draw = 0.0
    for _ in range(c["n_samples"] // c["segment"]):
        dt, seg = timed(lambda: prod.sample(task.X_train, task.y_train, W_init=W, snapshot_every=1))
        t_sample += dt
        W = seg.W
        rb.append(seg.Q)
        acc.append(seg.diagnostics["acceptance"])

        def draws():
            Ws = seg.snapshots["W"]  # (n, C, N1, N0)
            flat = Ws.reshape((-1,) + Ws.shape[2:])
            _, _, state = post.likelihood(flat, need_grad=False)
            v = post.sample_readout(flat, state, rng)
            return (np.einsum("bi,bi->b", v, v) / c["n_hidden"]).reshape(Ws.shape[:2])

        dt, q_raw = timed(draws)
        t_draw += dt
        raw.append(q_raw)
    rb, raw = np.concatenate(rb), np.concatenate(raw)
    var_raw = float(np.var(raw))
    return {"warmup_s": t_warm, "step_size": step, "n_leapfrog": res.diagnostics["n_leapfrog"],
            "acceptance": float(np.mean(acc)), "n_chains": c["n_chains"], "n_samples": int(rb.shape[0]),
            "rao_blackwellized": _trace_stats(rb, t_sample, var_raw),
            "raw_draws": {**_trace_stats(raw, t_sample + t_draw, var_raw), "sampling_s": t_sample, "readout_draws_s": t_draw}}


def bench_sampler(worker, workdir, c):
    task = make_teacher_task(c["P"], 10, c["n_features"], teacher=c["teacher"], seed=c["seed"])
    path = Path(workdir) / "sampler.npz"
    np.savez(path, X=task.X_train, y=task.y_train, X_test=task.X_test, y_test=task.y_test)
    theory_Q = KernelRenormalization(c["n_hidden"], c["temperature"], c["lambda0"], c["lambda1"]).fit(task.X_train,
                                                                                                    task.y_train).Q_
    log(f"sampler: N0={c['n_features']}, N1={c['n_hidden']}, P={c['P']}, T={c['temperature']}; tflmini HMC ...")
    tf = run_tflmini_sampler(task, c)
    var_raw = tf["raw_draws"]["sd"] ** 2
    exact = tf["rao_blackwellized"]["mean"]
    log(f"  tflmini: {tf['n_chains']} chains x {tf['n_samples']} iterations, step {tf['step_size']:.3f} "
        f"({tf['n_leapfrog']} leapfrog), acceptance {tf['acceptance']:.2f}; warm-up {tf['warmup_s']:.1f} s")
    for k in ("rao_blackwellized", "raw_draws"):
        s = tf[k]
        log(f"    {k:17s}: mean {s['mean']:.4f} ± {s['se']:.4f}, sd {s['sd']:.4f}, tau {s['tau']:.2f}, ESS {s['ess']:.0f} "
            f"in {s['seconds']:.1f} s -> {s['ess_per_s']:.1f} ESS/s ({s['raw_equivalent_ess_per_s']:.1f} raw-equivalent/s)")
    lv = []
    for lr in c["langevin_lrs"]:
        n = max(c["langevin_min_steps"], int(c["langevin_tau_multiple"] * c["langevin_tau_guess"] / lr))
        out = Path(workdir) / f"langevin_{lr}.npz"
        d = worker(cmd="langevin", data=str(path), out=str(out), N1=c["n_hidden"], T=c["temperature"], l0=c["lambda0"],
                   l1=c["lambda1"], lr=lr, n_burn=n // 5, n_steps=n, seed=c["seed"])
        row = {"lr": lr, "n_steps": n, "n_burn": n // 5, "burn_s": d["burn_s"], "finite": d["finite"],
               "dtype": d["torch_dtype"], "us_per_step": 1e6 * d["production_s"] / n}
        trace = np.load(out)["Q"]
        if d["finite"] and np.all(trace < 1e6):
            st = _trace_stats(trace, d["production_s"], var_raw)
            bias = abs(st["mean"] - exact)
            row.update(st, bias_rel=bias / exact, accurate=bool(bias <= c["bias_tolerance"] * exact + 2 * st["se"]))
            log(f"  deepbays Langevin lr={lr:<5}: {row['us_per_step']:.0f} us/step, mean {st['mean']:.4f} ± {st['se']:.4f} "
                f"(bias {100 * row['bias_rel']:.1f}%{'' if row['accurate'] else ', too biased'}), sd {st['sd']:.4f}, "
                f"tau {st['tau']:.0f} steps -> {st['ess_per_s']:.2f} ESS/s")
        else:
            row.update(accurate=False, diverged=True)
            log(f"  deepbays Langevin lr={lr:<5}: diverged")
        lv.append(row)
    ok = [r for r in lv if r.get("accurate")]
    stable = [r for r in lv if not r.get("diverged")]
    best_ok = max(ok, key=lambda r: r["ess_per_s"]) if ok else None
    best_any = max(stable, key=lambda r: r["ess_per_s"]) if stable else None
    summary = {"theory_Q": theory_Q, "exact_posterior_mean": exact,
               "deepbays_best_accurate_lr": best_ok["lr"] if best_ok else None,
               "deepbays_best_accurate_ess_per_s": best_ok["ess_per_s"] if best_ok else None,
               "deepbays_best_any_lr": best_any["lr"] if best_any else None,
               "deepbays_best_any_ess_per_s": best_any["ess_per_s"] if best_any else None}
    if best_ok:
        summary["speedup_raw_vs_raw"] = tf["raw_draws"]["ess_per_s"] / best_ok["ess_per_s"]
        summary["speedup_rb_ess"] = tf["rao_blackwellized"]["ess_per_s"] / best_ok["ess_per_s"]
        summary["speedup_rb_raw_equivalent"] = tf["rao_blackwellized"]["raw_equivalent_ess_per_s"] / best_ok["ess_per_s"]
    if best_any:
        summary["speedup_raw_vs_raw_any_lr"] = tf["raw_draws"]["ess_per_s"] / best_any["ess_per_s"]
    if best_ok:
        log(f"  ESS/s of |v|^2/N1: tflmini raw draws {tf['raw_draws']['ess_per_s']:.1f} vs deepbays Langevin (lr={best_ok['lr']}) "
            f"{best_ok['ess_per_s']:.2f}: {summary['speedup_raw_vs_raw']:.1f}x; Rao-Blackwellized trace "
            f"{summary['speedup_rb_ess']:.1f}x by ESS, {summary['speedup_rb_raw_equivalent']:.1f}x by standard error")
    return {"parameters": c, "tflmini": tf, "deepbays_langevin": lv, "summary": summary}


def run(quick=False, repeat=5, threads=1):
    py = deepbays_python()
    if not py.exists():
        msg = f"deepbays comparison skipped: no benchmark environment at {py} (set DEEPBAYS_PYTHON)"
        log(msg)
        return {"skipped": msg}
    workdir = tempfile.mkdtemp(prefix="tflmini-deepbays-")
    worker = DeepbaysWorker(py, threads, workdir)
    try:
        info = worker(cmd="info")
        info.pop("ok")
        log(f"deepbays {info['deepbays']} (torch {info['torch']}, numpy {info['numpy']}, {info['blas']['name']}) "
            f"in {py.parent.parent}")
        theory = bench_theory(worker, workdir, THEORY["quick_sizes"] if quick else THEORY["sizes"], repeat)
        sampler = bench_sampler(worker, workdir, SAMPLER_QUICK if quick else SAMPLER)
    finally:
        worker.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return {"environment": {**info, "python_path": str(py)}, "theory_parameters": THEORY, "theory": theory,
            "sampler": sampler}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/torch threads of the deepbays side")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    out = run(args.quick, args.repeat, args.threads)
    if args.json:
        write_json(args.json, out)


if __name__ == "__main__":
    main()
