"""Reference numbers that a refactoring must not change (issue 16: "behaviour unchanged, and shown").

``compute()`` evaluates the theory (single network, transfer along the coupling with the matched-prior
control and the single-source error, the exact split, the frozen-feature curve) on small fixed tasks, and
reads summary numbers of the cached results through the package's loaders. ``tests/data/reference_values.json``
holds the values of the code at the time it was written; ``tests/test_reference_values.py`` compares.
After a change that is meant to alter the numbers, regenerate it with ``python tests/reference_values.py --write``
and say why in the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "reference_values.json"


def _floats(x):
    return [float(v) for v in np.ravel(np.asarray(x, dtype=float))]


def compute():
    from tflmini import FranzParisiTransfer, KernelRenormalization, make_teacher_task, make_transfer_task
    from tflmini.curves import learning_curve
    from tflmini.experiments import load
    from tflmini.results import load_validation, load_validation_transfer, relu_series, validation_series
    from tflmini.transfer_curves import frozen_transfer_curve, gamma_grid, optimal_gamma, theory_along_gamma

    out = {}
    single = make_teacher_task(40, 60, 12, teacher="erf", seed=1)
    for act in ("erf", "linear", "relu"):
        kr = KernelRenormalization(30, 0.05, activation=act).fit(single.X_train, single.y_train)
        out[f"kr_{act}"] = [kr.Q_, kr.gibbs_error(single.X_test, single.y_test), kr.mean_error(single.X_test, single.y_test)]
    lc = learning_curve(single, [10, 20, 40], 25, 0.05)
    out["learning_curve"] = _floats(np.r_[lc["Q"], lc["gibbs_error"], lc["mean_error"]])

    task = make_transfer_task(50, 20, 40, 12, 0.8, teacher="erf", seed=2)
    gammas = gamma_grid(1e-1, 1e2, per_decade=1)
    curve = theory_along_gamma(task, 30, gammas, temperature=0.05, matched_prior=True)
    for k in ("mean_error", "gibbs_error", "Q_t", "Q_tt", "Q_st", "matched_mean_error", "matched_gibbs_error"):
        out[f"curve_{k}"] = _floats(curve[k])
    out["optimal_gamma"] = _floats(optimal_gamma(gammas, curve["mean_error"]))
    S, T = task.source, task.target
    fp = FranzParisiTransfer(30, 3.0, 0.05).fit(S.X_train, S.y_train, T.X_train, T.y_train)
    split = fp.transfer_split(T.X_test, T.y_test)
    out["split"] = [split[k] for k in sorted(split)]
    out["source_variance"] = _floats(fp.source_variance(T.X_test[:5]))
    fc = frozen_transfer_curve(task, np.array([5, 20]), 30, 0.05)
    out["frozen_curve"] = _floats(np.r_[fc["scratch_mean_error"], fc["frozen_mean_error"], fc["frozen_single_source_error"]])

    # cached results, through the loaders
    series = validation_series(load_validation(), activation="erf")
    out["validation_single_network"] = _floats([np.sum(s["theory"]["gibbs_error"]) + np.sum(s["sampler"]["gibbs_error"][0])
                                                for s in series.values()])
    out["validation_relu"] = _floats(np.concatenate([s["gap"] for s in relu_series(load_validation("validation_relu")).values()]))
    rows = load_validation_transfer()["rows"]
    out["validation_transfer"] = _floats([len(rows), sum(r["theory"]["gibbs_error"] for r in rows)])
    for name, key in (("gamma_sweep", "mean_error"), ("transfer_decomposition", "single_source_error"),
                      ("digits_gamma_sweep", "single_source_error")):
        res = load(name)
        th = res.theory["curves"]
        first = next(iter(th.values()))
        values = first[key] if key in first else next(v for v in first.values() if isinstance(v, dict))[key]
        out[f"cache_{name}"] = _floats(np.nansum(np.asarray(values, dtype=float)))
    return {k: _floats(v) for k, v in out.items()}


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        PATH.parent.mkdir(parents=True, exist_ok=True)
        PATH.write_text(json.dumps(compute(), indent=1) + "\n")
        print("wrote", PATH)
    else:
        print(json.dumps(compute(), indent=1))
