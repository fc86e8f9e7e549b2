"""Theory solves against the linear-algebra floor: medians of interleaved runs, ratios from the same run.

1. ``KernelRenormalization.fit`` and ``FranzParisiTransfer.fit`` (Ps = Pt = P) for P = 100 ... 4000 next
   to one ``numpy.linalg.eigh`` and one ``numpy.linalg.cholesky`` of a P x P SPD matrix; fitted
   exponents of time vs P.
2. A new coupling after the first fit (``FranzParisiTransfer.with_gamma``, the slider path) at
   Ps = Pt = 500: time in decomposition-equivalents, with its anatomy (kernels, source products, number
   of gradient / Hessian evaluations of the saddle solver and their unit costs), for slider steps on a
   log grid of gamma (each from the fit at the previous grid value, reached the same way: a chain, whose
   earlier fits the warm start extrapolates) and for jumps from gamma = 1.

Usage: python benchmarks/bench_theory.py [--quick] [--repeat N] [--json PATH]
(``python benchmarks/run_all.py`` runs this together with the other benchmarks.)
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

import tflmini.transfer as tr
from tflmini import FranzParisiTransfer, KernelRenormalization, make_teacher_task, make_transfer_task
from tflmini.kernels import nngp_kernel

from _common import fmt_ms, interleaved_medians, log, timed, write_json

COMMON = {"n_features": 50, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf",
          "alpha": 1.0, "rho": 0.7, "gamma": 1.0, "seed": 0}
FULL_SIZES = [100, 200, 400, 800, 1000, 2000, 4000]
QUICK_SIZES = [100, 200, 400]


def spd_matrix(P, seed=0):
    """A well-conditioned SPD test matrix for the floor (eigh and Cholesky cost do not depend on its values)."""
    A = np.random.default_rng(seed).standard_normal((P, P))
    return A @ A.T / P + np.eye(P)


def repeats_for(P, repeat):
    """(runs, warm-up?) at size P: fewer runs and no warm-up for the largest sizes, whose single runs take
    from seconds (P = 2000) to minutes (the transfer fit at P = 4000) on one core."""
    if P <= 1000:
        return repeat, True
    return (min(repeat, 3), False) if P <= 2000 else (min(repeat, 2), False)


@contextlib.contextmanager
def count_action_calls():
    """Count evaluations of the action by order (1: gradient, 2: gradient + Hessian), wherever the estimator
    and its saddle-point solver make them: ``gap_action`` (the solver's form) and ``transfer_action`` (the
    book's form, which calls ``gap_action`` itself and is therefore not counted twice), in
    ``tflmini.transfer``, ``tflmini.transfer_saddle`` and ``tflmini.transfer_action``."""
    import tflmini.transfer_action as ta
    import tflmini.transfer_saddle as ts

    counts = {0: 0, 1: 0, 2: 0}
    orig = ta.gap_action
    callers = [m for m in (tr, ts, ta) if getattr(m, "gap_action", None) is orig]

    def counting(*args, order=0, **kwargs):
        counts[order] += 1
        return orig(*args, order=order, **kwargs)

    for m in callers:
        m.gap_action = counting
    try:
        yield counts
    finally:
        for m in callers:
            m.gap_action = orig


def fitted_exponent(Ps, ts, min_P=0):
    sel = [(p, t) for p, t in zip(Ps, ts) if p >= min_P]
    if len(sel) < 2:
        return float("nan")
    x, y = np.log([p for p, _ in sel]), np.log([t for _, t in sel])
    return float(np.polyfit(x, y, 1)[0])


def bench_fits(sizes, repeat, c=COMMON):
    rows = []
    for P in sizes:
        rep, warm = repeats_for(P, repeat)
        N1 = P / c["alpha"]
        single = make_teacher_task(P, 10, c["n_features"], teacher=c["teacher"], seed=c["seed"])
        task = make_transfer_task(P, P, 10, c["n_features"], c["rho"], teacher=c["teacher"], seed=c["seed"])
        S, T = task.source, task.target
        A = spd_matrix(P)

        def kr_fit():
            return KernelRenormalization(N1, c["temperature"], c["lambda0"], c["lambda1"]).fit(single.X_train, single.y_train)

        def fp_fit():
            return FranzParisiTransfer(N1, c["gamma"], c["temperature"], c["lambda0"], c["lambda1"]).fit(
                S.X_train, S.y_train, T.X_train, T.y_train)

        t = interleaved_medians({"kr_fit": kr_fit, "fp_fit": fp_fit, "eigh": lambda: np.linalg.eigh(A),
                                 "cholesky": lambda: np.linalg.cholesky(A), "matmul": lambda: A @ A}, rep, warm)
        with count_action_calls() as calls:
            fp = fp_fit()
        kr = kr_fit()
        med = {k: v["median"] for k, v in t.items()}
        row = {"P": P, "n_hidden": N1, "repeat": rep, **{f"{k}_s": v for k, v in med.items()},
               "spread": {k: [v["min"], v["max"]] for k, v in t.items()},
               "kr_over_eigh": med["kr_fit"] / med["eigh"], "fp_over_eigh": med["fp_fit"] / med["eigh"],
               "kr_over_cholesky": med["kr_fit"] / med["cholesky"], "fp_over_cholesky": med["fp_fit"] / med["cholesky"],
               "Q": kr.Q_, "fp_order_parameters": fp.order_parameters_,
               "fp_solver": {"method": fp.solver_info_["target"]["method"],
                             "iterations": fp.solver_info_["target"]["iterations"],
                             "hessian_evaluations": calls[2], "gradient_evaluations": calls[1]}}
        rows.append(row)
        log(f"P={P:5d}  KR.fit {fmt_ms(med['kr_fit'])} ({row['kr_over_eigh']:5.2f} eigh)   "
            f"FP.fit {fmt_ms(med['fp_fit'])} ({row['fp_over_eigh']:5.2f} eigh; {calls[2]} Hessian evals)   "
            f"eigh {fmt_ms(med['eigh'])}  cholesky {fmt_ms(med['cholesky'])}  matmul {fmt_ms(med['matmul'])}")
    Ps = [r["P"] for r in rows]
    exps = {}
    for key in ("kr_fit", "fp_fit", "eigh", "cholesky", "matmul"):
        ts = [r[f"{key}_s"] for r in rows]
        exps[key] = {"all": fitted_exponent(Ps, ts), "P>=400": fitted_exponent(Ps, ts, 400)}
    log("fitted exponents of time vs P (all sizes / P >= 400): " +
        ", ".join(f"{k} {v['all']:.2f}/{v['P>=400']:.2f}" for k, v in exps.items()))
    return {"rows": rows, "exponents": exps}


def _solver_args(fp):
    p = fp._checked_params()
    return p, fp.source_


def anatomy(fp, repeat, A):
    """Unit costs at the fitted coupling: kernels, source products, one gradient, one Hessian evaluation; and
    one ``eigh`` of the target-sized matrix ``A``, interleaved with them (the unit of the ratios)."""
    p, src = _solver_args(fp)
    Xt, yt = fp.X_target_, fp.y_target_
    st = fp.weight_statistics_
    act = p["activation"]
    theta = np.array([fp.order_parameters_[k] for k in ("Q_t", "Q_tt", "Q_st")])
    tk = tr.transfer_kernels(src.X, Xt, src.spectrum, src.Q_s, p["gamma"], p["temperature"], p["lambda0"], act)

    def kernels():
        nngp_kernel(Xt, var1=st["c_tt"], activation=act)
        nngp_kernel(Xt, var1=st["c_tt"], var2=st["c_tt"], cov=st["c_x"], activation=act)
        nngp_kernel(src.X, Xt, var1=st["c_ss"], var2=st["c_tt"], cov=st["c_st"], activation=act)

    def products():
        proj = src.spectrum.eigvecs.T @ tk.K_st
        return proj.T @ (proj * src.spectrum.eigvals[:, None])

    def action(order):
        return lambda: tr.transfer_action(theta, tk, yt, src.Q_s, p["n_hidden"], p["temperature"], p["lambda1"], order=order)

    t = interleaved_medians({"transfer_kernels": lambda: tr.transfer_kernels(src.X, Xt, src.spectrum, src.Q_s, p["gamma"],
                                                                               p["temperature"], p["lambda0"], act),
                             "kernel_evaluations": kernels, "source_products": products,
                             "gradient_evaluation": action(1), "hessian_evaluation": action(2),
                             "eigh": lambda: np.linalg.eigh(A)}, repeat)
    return {k: v["median"] for k, v in t.items()}


def tolerance_study(fp, new_gamma, tols=(1e-10, 1e-8, 1e-6)):
    """Gradient evaluations of the warm-started solve at a new coupling for several tolerances, and how far
    the order parameters move from the tight solution (what a looser slider tolerance would cost/give)."""
    p, src = _solver_args(fp)
    tk = tr.transfer_kernels(src.X, fp.X_target_, src.spectrum, src.Q_s, new_gamma, p["temperature"], p["lambda0"],
                             p["activation"])
    start, H = fp._gap, fp.solver_info_["target"]["gap_hessian"]  # the solver's coordinates (Q_t - Q_tt, Q_tt, Q_st)
    out, ref = [], None
    for tol in tols:
        with count_action_calls() as calls:
            _, info = tr.solve_transfer_saddle(tk, fp.y_target_, src.Q_s, p["n_hidden"], p["temperature"],
                                               p["lambda1"], start=start, hessian=H, tol=tol)
        theta = info["theta"]
        ref = theta if ref is None else ref
        out.append({"tol": tol, "gradient_evaluations": calls[1], "hessian_evaluations": calls[2],
                    "method": info["method"], "max_rel_change": float(np.max(np.abs(theta - ref) / np.abs(ref).clip(1e-300)))})
    return out


def bench_new_gamma(P, repeat, c=COMMON, n_grid=13):
    N1 = P / c["alpha"]
    task = make_transfer_task(P, P, 10, c["n_features"], c["rho"], teacher=c["teacher"], seed=c["seed"])
    S, T = task.source, task.target
    A = spd_matrix(P)

    def first_fit():
        return FranzParisiTransfer(N1, c["gamma"], c["temperature"], c["lambda0"], c["lambda1"]).fit(
            S.X_train, S.y_train, T.X_train, T.y_train)

    floor = interleaved_medians({"first_fit": first_fit, "eigh": lambda: np.linalg.eigh(A),
                                 "cholesky": lambda: np.linalg.cholesky(A), "matmul": lambda: A @ A}, repeat)
    floor = {k: v["median"] for k, v in floor.items()}
    t_first = floor.pop("first_fit")
    base = first_fit()

    def measure(fit, g):
        """with_gamma(g) from ``fit``, each run right after one eigh of the target size (its own floor)."""
        times, floors = [], []
        # how far the warm start (the chain's extrapolation) lies from the saddle it leads to, relative per
        # component of (Q_t - Q_tt, Q_tt, Q_st): what the solver's iterations have to remove
        guess = fit._predicted_start(fit._gap, float(g))
        for _ in range(repeat):
            floors.append(timed(lambda: np.linalg.eigh(A))[0])
            with count_action_calls() as calls:
                dt, new = timed(lambda: fit.with_gamma(g))
            times.append(dt)
        info = new.solver_info_["target"]
        start_error = float(np.max(np.abs(guess - new._gap) / np.abs(new._gap)))
        return {"gamma": str(g), "from_gamma": str(fit.gamma), "seconds": statistics.median(times),
                "start_rel_error": start_error,
                "eigh_s": statistics.median(floors), "over_eigh": statistics.median(times) / statistics.median(floors),
                "gradient_evaluations": calls[1], "hessian_evaluations": calls[2], "iterations": info["iterations"],
                "method": info["method"]}

    # (a) slider steps: consecutive values of a log grid, each warm-started from the fit at its neighbour, which
    # was itself reached by a slider step (a chain, as a slider moved along the grid builds it)
    grid = np.geomspace(0.01, 100.0, n_grid)
    fits = [base.with_gamma(grid[0])]
    for g in grid[1:]:
        fits.append(fits[-1].with_gamma(g))
    steps = [measure(fits[i], grid[i + 1]) for i in range(n_grid - 1)]
    # (b) jumps from the first fit (gamma = 1), including gamma = inf (a cold start)
    jumps = [measure(base, g) for g in (0.5, 2.0, 5.0, 20.0, np.inf)]
    units_all = anatomy(base, repeat, A)
    units = {k: v for k, v in units_all.items() if k != "eigh"}
    tols = tolerance_study(fits[n_grid // 2], grid[n_grid // 2 + 1])
    step_t = [s["seconds"] for s in steps]
    ngrad = [s["gradient_evaluations"] for s in steps]
    nhess = [s["hessian_evaluations"] for s in steps]
    summary = {
        "P": P, "n_hidden": N1, "first_fit_s": t_first, "floor": floor,
        "first_fit_over_eigh": t_first / floor["eigh"],
        "slider_step_median_s": statistics.median(step_t), "slider_step_max_s": max(step_t),
        "slider_step_over_eigh": statistics.median([s["over_eigh"] for s in steps]),
        "slider_step_eigh_s": statistics.median([s["eigh_s"] for s in steps]),
        "slider_step_over_cholesky": statistics.median([s["over_eigh"] for s in steps]) * floor["eigh"] / floor["cholesky"],
        "slider_step_gradient_evaluations": {"median": statistics.median(ngrad), "min": min(ngrad), "max": max(ngrad)},
        "slider_step_hessian_evaluations": {"median": statistics.median(nhess), "min": min(nhess), "max": max(nhess)},
        "slider_step_start_rel_error": {"median": statistics.median(s["start_rel_error"] for s in steps),
                                        "min": min(s["start_rel_error"] for s in steps),
                                        "max": max(s["start_rel_error"] for s in steps)},
        "unit_costs_s": units,
        "unit_costs_eigh_s": units_all["eigh"],
        "unit_costs_over_eigh": {k: v / units_all["eigh"] for k, v in units.items()},
        "grid": grid.tolist(), "slider_steps": steps, "jumps": jumps, "tolerance_study": tols,
    }
    log(f"new gamma at Ps=Pt={P}: first fit {fmt_ms(t_first)} ({summary['first_fit_over_eigh']:.1f} eigh); slider step "
        f"median {fmt_ms(summary['slider_step_median_s'])} = {summary['slider_step_over_eigh']:.2f} eigh = "
        f"{summary['slider_step_over_cholesky']:.1f} Cholesky (gradient evaluations {min(ngrad)}-{max(ngrad)}, median "
        f"{statistics.median(ngrad)}); eigh {fmt_ms(floor['eigh'])}, cholesky {fmt_ms(floor['cholesky'])}")
    log("  unit costs (in eigh): " + ", ".join(f"{k} {v:.2f}" for k, v in summary["unit_costs_over_eigh"].items()))
    log("  jumps from gamma=1: " + ", ".join(f"{j['gamma']}: {j['over_eigh']:.1f} eigh ({j['gradient_evaluations']}g+"
                                            f"{j['hessian_evaluations']}H)" for j in jumps))
    log("  tolerance of the warm-started solve: " + ", ".join(f"{x['tol']:.0e}: {x['gradient_evaluations']} gradients "
                                                             f"(rel. change {x['max_rel_change']:.1e})" for x in tols))
    return summary


def run(quick=False, repeat=5):
    sizes = QUICK_SIZES if quick else FULL_SIZES
    fits = bench_fits(sizes, repeat)
    new_gamma = bench_new_gamma(200 if quick else 500, repeat)
    return {"parameters": {**COMMON, "sizes": sizes, "repeat": repeat, "new_gamma_P": new_gamma["P"]},
            "fits": fits, "new_gamma": new_gamma}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    out = run(args.quick, args.repeat)
    if args.json:
        write_json(args.json, out)


if __name__ == "__main__":
    main()
