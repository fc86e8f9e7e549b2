r"""Validation runs: the theory against sampled finite networks, one row per configuration.

Four experiments of the registry, each writing the file that :mod:`tflmini.results` reads (the book's
chapters load them there, never through :func:`~tflmini.experiments.load`):

``validation_single_network``
    kernel renormalization vs :class:`~tflmini.BayesianNetworkSampler` over widths :math:`N_1` and loads
    :math:`\alpha = P/N_1` (erf and linear networks); read with :func:`tflmini.results.load_validation`.
``validation_transfer``
    Franz-Parisi theory vs :class:`~tflmini.TransferSampler` over widths, couplings :math:`\gamma` (``inf``
    included) and relatedness :math:`\rho`; read with :func:`tflmini.results.load_validation_transfer`.
``validation_relu``
    the single-network comparison for ReLU networks in the proportional regime (:math:`N_1`, :math:`P`,
    :math:`N_0` grow together), labels with and without a large mean; read with
    ``load_validation("validation_relu")``.
``accuracy_input_dimension``
    the single-network comparison at fixed :math:`N_1 = P` as the input dimension :math:`N_0` varies, with
    the alignment of the sampled first-layer weights to the teacher; read with
    :func:`tflmini.results.load_input_dimension`.

Files: ``data/<name>.json`` (:func:`tflmini.results.data_directory`; ``<name>.quick.json`` for the quick
size; ``--directory`` or ``--out`` elsewhere), one JSON object ``{"experiment", "tflmini_version",
"parameters": {**common parameters, "grid", "quick"}, "complete", "machine", "wall_seconds", "rows"}``. The
file is written after every row (``"complete": false`` until the run ends), so an interrupted run keeps what
it has done; ``validation_transfer`` can resume it (``--resume``: the (width, rho) groups already in the file
are kept when its parameters are the same). ``--theory-only`` does not apply: each row pairs the theory with
its sampled networks.

Command line: ``python -m tflmini.experiments run validation_transfer [--quick] [--resume] [--out PATH]``.
"""

from __future__ import annotations

import copy
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..renormalization import KernelRenormalization
from ..results import data_directory
from ..sampling.sampler import BayesianNetworkSampler
from ..sampling.transfer_sampler import KEYS, TransferSampler
from ..tasks import make_teacher_task, make_transfer_task
from ..transfer import FranzParisiTransfer
from ._base import Experiment, _version, register
from ._cache import write_text


@dataclass(frozen=True, kw_only=True)
class ValidationRun(Experiment):
    """A validation run: ``rows(grid, common, progress, on_rows[, done]) -> list of rows`` over the ``grid``
    (``params["grid"]``, replaced as a whole by ``quick["grid"]``) with the ``common`` parameters, written in
    the row format of :mod:`tflmini.results` into ``data/`` (see the module's docstring)."""

    rows: Callable
    loader: str
    resumable: bool = False

    def parameters(self, quick=False):
        """``{**common parameters, "grid": the full or quick grid, "quick": quick}``: the ``parameters`` of
        the file."""
        return copy.deepcopy({**self.params, **(self.quick if quick else {}), "quick": bool(quick)})

    def result_path(self, quick=False, directory=None) -> Path:
        """``data/<name>.json`` (:func:`tflmini.results.data_directory`, where the loaders read it), or
        ``<directory>/<name>.json``; ``<name>.quick.json`` for the quick size."""
        return Path(directory or data_directory()) / f"{self.name}{'.quick' if quick else ''}.json"

    def execute(self, path, *, quick=False, theory_only=False, resume=False, progress=True, threads=1):
        """Run the grid, writing ``path`` after every row and once more, marked complete, at the end."""
        if theory_only:
            raise ValueError(f"{self.name!r} has no separate theory part (each row pairs the theory with sampled "
                             "networks): run it without --theory-only")
        if resume and not self.resumable:
            raise ValueError(f"{self.name!r} cannot resume an interrupted run; run it again")
        path = Path(path)
        parameters = self.parameters(quick)
        common = {k: v for k, v in parameters.items() if k not in ("grid", "quick")}
        t0 = time.time()
        extra = {}
        if self.resumable:
            done = []
            if resume and path.is_file():
                old = json.loads(path.read_text())
                if old.get("parameters") == parameters:
                    done = old["rows"]
                    t0 -= old.get("wall_seconds", 0.0)
                    print(f"resuming: {len(done)} rows kept from {path}")
                else:
                    print(f"not resuming: the parameters in {path} differ")
            extra["done"] = done
        save = result_writer(path, self.name, parameters, t0)
        with threadpool_limits(limits=threads):
            rows = self.rows(parameters["grid"], common, progress=progress, on_rows=save, **extra)
        save(rows, complete=True)
        return path


def _register(name, title, rows, loader, common, full, quick, resumable=False):
    """Register the validation run ``name``: ``rows`` over the grid ``full`` (``quick`` at the quick size) with
    the ``common`` parameters; its file is read by ``loader``."""
    return register(ValidationRun(name=name, title=title, findings=(), params={**common, "grid": full},
                                  quick={"grid": quick}, theory=None, simulation=None, rows=rows, loader=loader,
                                  resumable=resumable))


def result_writer(out, experiment, parameters, t0):
    """``save(rows, complete=False)``: write a validation file (parameters, package version, machine, wall time
    since ``t0``, rows) to ``out``, after every row so that an interrupted run keeps what it has done."""
    def save(rows, complete=False):
        record = {"experiment": experiment, "tflmini_version": _version(), "parameters": parameters,
                  "complete": complete,
                  "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
                  "wall_seconds": time.time() - t0, "rows": rows}
        write_text(out, json.dumps(record, indent=1))
    return save


def sampled_comparison(kr, sampler, X, y, X_test, y_test, fields, label):
    """Sample with ``sampler`` and return one row of a validation file: ``fields``, the theory of the fitted
    ``kr`` (Q and the two test errors), the sampler's estimates with standard errors, its diagnostics and the
    wall time; prints a one-line summary starting with ``label``."""
    t0 = time.time()
    res = sampler.sample(X, y, X_test, y_test, desc=label.strip())
    summ = res.summary()
    row = {**fields,
           "theory": {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(X_test, y_test), "mean_error": kr.mean_error(X_test, y_test)},
           "sampler": {k: {"mean": v[0], "se": v[1]} for k, v in summ.items()},
           "diagnostics": {k: v for k, v in res.diagnostics.items() if not isinstance(v, str)},
           "seconds": time.time() - t0}
    print(f"{label}  Q th {kr.Q_:.4f} sim {summ['Q'][0]:.4f}±{summ['Q'][1]:.4f}   gibbs th "
          f"{row['theory']['gibbs_error']:.4f} sim {summ['gibbs_error'][0]:.4f}±{summ['gibbs_error'][1]:.4f}"
          f"   ({row['seconds']:.0f}s)", flush=True)
    return row


# -- single network: widths and loads -------------------------------------------------------------------

def single_network_rows(grid, common, progress=True, on_rows=None):
    """Rows over (activation, width, load); P = alpha * N1 is capped at ``max_P`` to bound the cost (the
    sampler's cost grows like P^2 N1)."""
    rows = []
    configs = [(act, n1, a) for act in grid["activations"]
               for n1 in (grid["widths"] if act == "erf" else grid["linear_widths"])
               for a in grid["alphas"] if a * n1 <= grid["max_P"]]
    for act, n1, alpha in configs:
        P = int(round(alpha * n1))
        task = make_teacher_task(P, common["n_test"], common["n_features"], teacher=common["teacher"],
                                 seed=common["seed"] + P)
        kr = KernelRenormalization(n1, common["temperature"], common["lambda0"], common["lambda1"], act)
        kr.fit(task.X_train, task.y_train)
        sampler = BayesianNetworkSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], act,
                                         n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                         n_samples=common["n_samples"], seed=common["seed"] + n1, progress=progress)
        rows.append(sampled_comparison(kr, sampler, task.X_train, task.y_train, task.X_test, task.y_test,
                                       {"activation": act, "n_hidden": n1, "P": P, "alpha": alpha},
                                       f"{act:6s} N1={n1:4d} P={P:5d}"))
        if on_rows is not None:
            on_rows(rows)
    return rows


VALIDATION_SINGLE_NETWORK = _register(
    "validation_single_network", "Validation: kernel renormalization vs sampled networks over widths and loads",
    single_network_rows, "tflmini.results.load_validation()",
    common={"n_features": 50, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf", "n_test": 500,
            "n_chains": 4, "n_warmup": 100, "n_samples": 200, "seed": 2024},
    full={"widths": [100, 200, 400, 800], "alphas": [0.25, 0.5, 1.0, 2.0], "max_P": 400,
          "activations": ["erf", "linear"], "linear_widths": [100, 200]},
    quick={"widths": [50, 100], "alphas": [0.5, 1.0], "max_P": 100, "activations": ["erf", "linear"],
           "linear_widths": [50]})


# -- transfer: widths, couplings and relatedness ----------------------------------------------------------

def transfer_rows(grid, common, progress=True, on_rows=None, done=()):
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


VALIDATION_TRANSFER = _register(
    "validation_transfer", "Validation: Franz-Parisi theory vs sampled source-target pairs (widths, gamma, rho)",
    transfer_rows, "tflmini.results.load_validation_transfer()",
    common={"n_features": 50, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf",
            "alpha_source": 1.0, "alpha_target": 0.3, "n_test": 300, "n_source_chains": 4, "snapshots_per_chain": 3,
            "snapshot_every": 10, "source_warmup": 150, "target_warmup": 60, "target_samples": 60, "seed": 7},
    # relatedness values per width (the widest network only at rho = 0.9, to bound the cost)
    full={"widths": [200, 400, 800], "rhos": {"200": [0.0, 0.5, 0.9], "400": [0.0, 0.5, 0.9], "800": [0.9]},
          "gammas": [0.0, 1.0, 10.0, "inf"]},
    quick={"widths": [100], "rhos": {"100": [0.0, 0.9]}, "gammas": [0.0, 1.0, 10.0, "inf"]},
    resumable=True)


# -- ReLU networks in the proportional regime -----------------------------------------------------------

def relu_task(n_train, n0, offset, common, dataset=0):
    """Gaussian inputs, labels y = max(w.x/sqrt(N0), 0) + offset (teacher w ~ N(0, I)); one random data set
    (teacher, inputs) per ``dataset`` index."""
    rng = np.random.default_rng([common["seed"], n_train, n0, dataset])
    w = rng.standard_normal(n0)
    X = rng.standard_normal((n_train + common["n_test"], n0))
    y = np.maximum(X @ w / np.sqrt(n0), 0.0) + offset
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def relu_rows(grid, common, progress=True, on_rows=None):
    r"""ReLU networks, whose hidden units have a nonzero mean: the readout sum :math:`M = \sum_i v_i/\sqrt{N_1}`
    multiplies the mean hidden-unit output, and, given :math:`Q = |v|^2/N_1`, M is Gaussian with variance Q (the
    book's chapter 4, "Activations with a nonzero mean"), so ``KernelRenormalization(activation="relu")`` needs
    no second order parameter. Rows for every label offset, width and random data set, at fixed
    :math:`\alpha = P/N_1` and :math:`P/N_0`: the deviation must shrink as :math:`N_1` grows."""
    rows = []
    for offset in grid["label_offsets"]:
        for n1, dataset in ((n1, d) for n1 in grid["widths"] for d in range(grid["n_datasets"])):
            P = int(round(grid["alpha"] * n1))
            n0 = int(round(P / grid["P_over_N0"]))
            X, y, Xe, ye = relu_task(P, n0, offset, common, dataset)
            kr = KernelRenormalization(n1, common["temperature"], common["lambda0"], common["lambda1"], "relu").fit(X, y)
            sampler = BayesianNetworkSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], "relu",
                                             n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                             n_samples=common["n_samples"], seed=common["seed"] + 1000 * dataset + n1,
                                             progress=progress)
            rows.append(sampled_comparison(kr, sampler, X, y, Xe, ye,
                                           {"activation": "relu", "n_hidden": n1, "P": P, "alpha": P / n1,
                                            "n_features": n0, "label_offset": offset, "dataset": dataset},
                                           f"relu offset={offset:g} N1={n1:4d} P={P} N0={n0} data set {dataset}"))
            if on_rows is not None:
                on_rows(rows)
    return rows


VALIDATION_RELU = _register(
    "validation_relu", "Validation: ReLU networks (nonzero-mean activation) vs sampled networks, proportional regime",
    relu_rows, 'tflmini.results.load_validation("validation_relu")',
    common={"temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "relu", "n_test": 500, "n_chains": 4,
            "n_warmup": 300, "n_samples": 400, "seed": 11},
    full={"widths": [50, 100, 200], "alpha": 1.0, "P_over_N0": 1.0, "label_offsets": [0.0, 1.0], "n_datasets": 3},
    quick={"widths": [20, 40], "alpha": 1.0, "P_over_N0": 1.0, "label_offsets": [1.0], "n_datasets": 2})


# -- the input dimension at fixed width and sample size ---------------------------------------------------

def input_dimension_rows(grid, common, progress=True, on_rows=None):
    """Where does kernel renormalization hold? Rows over the input dimension N0 at fixed width and sample
    size (N1 = P), i.e. over the number of examples per input dimension P/N0; each row also holds the
    alignment of the sampled first-layer weights with the teacher (its prior value is 1/N0)."""
    rows = []
    for n0 in grid["n_features"]:
        task = make_teacher_task(grid["P"], common["n_test"], n0, teacher=common["teacher"], seed=common["seed"])
        kr = KernelRenormalization(grid["n_hidden"], common["temperature"], common["lambda0"], common["lambda1"],
                                   common["activation"]).fit(task.X_train, task.y_train)
        sampler = BayesianNetworkSampler(grid["n_hidden"], common["temperature"], common["lambda0"], common["lambda1"],
                                         common["activation"], n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                         n_samples=common["n_samples"], seed=common["seed"] + n0, progress=progress)
        t0 = time.time()
        res = sampler.sample(task.X_train, task.y_train, task.X_test, task.y_test, desc=f"N0={n0}")
        # alignment of first-layer weights with the teacher: mean over units of (w.w*/|w||w*|)^2 (prior: 1/N0)
        w_star = task.w / np.linalg.norm(task.w)
        overlap = res.W @ w_star / np.linalg.norm(res.W, axis=2)
        summ = res.summary()
        rows.append({"n_features": n0, "P_over_N0": grid["P"] / n0,
                     "theory": {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(task.X_test, task.y_test),
                                "mean_error": kr.mean_error(task.X_test, task.y_test)},
                     "sampler": {k: {"mean": v[0], "se": v[1]} for k, v in summ.items()},
                     "teacher_alignment": float(np.mean(overlap**2)), "prior_alignment": 1.0 / n0,
                     "diagnostics": {k: v for k, v in res.diagnostics.items() if not isinstance(v, str)},
                     "seconds": time.time() - t0})
        r = rows[-1]
        print(f"N0={n0:4d}  Gibbs theory {r['theory']['gibbs_error']:.4f} sampler {summ['gibbs_error'][0]:.4f}"
              f"±{summ['gibbs_error'][1]:.4f}   alignment {r['teacher_alignment']:.4f} (prior {1 / n0:.4f})", flush=True)
        if on_rows is not None:
            on_rows(rows)
    return rows


ACCURACY_INPUT_DIMENSION = _register(
    "accuracy_input_dimension", "Validation: kernel renormalization vs sampled networks over the input dimension N0",
    input_dimension_rows, "tflmini.results.load_input_dimension()",
    common={"temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf", "activation": "erf", "n_test": 400,
            "n_chains": 4, "n_warmup": 100, "n_samples": 150, "seed": 11},
    full={"n_features": [25, 50, 100, 200, 400], "n_hidden": 200, "P": 200},
    quick={"n_features": [20, 80], "n_hidden": 40, "P": 40})
