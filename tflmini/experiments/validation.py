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
"parameters": {**common parameters, "grid", "quick"}, "complete", "machine", "wall_seconds", "rows"}``.

Partial results: while a run goes, its progress is written (atomically) after every row to a separate file,
``<name>.partial.json`` next to the result (``"complete": false``); the result file itself is written once,
complete, when the run ends, and the partial file is then removed. An interrupted run therefore never
replaces a complete result, and ``--resume`` continues from the partial file (the configurations already
there are kept when its parameters are the same; ``validation_transfer`` keeps whole (width, rho) groups).
``--theory-only`` does not apply: each row pairs the theory with its sampled networks.

Checks (:meth:`ValidationRun.check_file`, used by every loader of :mod:`tflmini.results`): the file's
experiment name, parameters and package version against the code's (:func:`._base.check_provenance`, as for
the registry experiments), every row against the schema declared below with its run (``*_ROW``), every row
against the configurations of the file's grid (no row outside it, none twice), and completeness: a file
that lacks configurations (``"complete": false``) is refused unless the caller allows it.

Command line: ``python -m tflmini.experiments run validation_transfer [--quick] [--resume] [--out PATH]``.
"""

from __future__ import annotations

import copy
import json
from functools import partial
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..renormalization import KernelRenormalization
from ..sampling.sampler import BayesianNetworkSampler
from ..sampling.transfer_sampler import KEYS, TransferSampler
from ..tasks import make_teacher_task, make_transfer_task
from ..transfer import FranzParisiTransfer
from ._base import Experiment, _version, check_provenance, command, register
from ._parallel import executing, map_points
from ._cache import (COUNT, COUPLING, DIAGNOSTICS, FINITE, NONNEG, OBSERVABLES, POSITIVE, SIZE, Anything,
                     IncompleteCacheError, List, Map, Num, Obj, Schema, SchemaError, Text, Flag, check_schema,
                     estimate, from_jsonable, partial_path, write_text)


@dataclass(frozen=True, kw_only=True)
class ValidationRun(Experiment):
    """A validation run: ``rows(grid, common, progress, on_rows, done) -> list of rows`` over the ``grid``
    (``params["grid"]``, replaced as a whole by ``quick["grid"]``) with the ``common`` parameters, written in
    the row format of :mod:`tflmini.results` into ``data/`` (see the module's docstring).

    ``row_schema`` declares a row; ``configurations(parameters)`` lists the configurations of a grid (in run
    order) and ``row_key(row)`` the configuration of a row: a file's rows are checked against its grid, and a
    resumed run skips the configurations already done."""

    rows: Callable
    loader: str
    row_schema: Schema
    configurations: Callable
    row_key: Callable
    resumable: bool = True

    def parameters(self, quick=False):
        """``{**common parameters, "grid": the full or quick grid, "quick": quick}``: the ``parameters`` of
        the file."""
        return copy.deepcopy({**self.params, **(self.quick if quick else {}), "quick": bool(quick)})

    def result_path(self, quick=False, directory=None) -> Path:
        """``data/<name>.json`` (:func:`tflmini.results.data_directory`, where the loaders read it), or
        ``<directory>/<name>.json``; ``<name>.quick.json`` for the quick size."""
        from ..results import data_directory

        return Path(directory or data_directory()) / f"{self.name}{'.quick' if quick else ''}.json"

    def completion_command(self, path, quick):
        """The command that completes (resumes) the run whose result belongs at ``path`` (a result file or its
        ``.partial.json``)."""
        path = Path(path)
        final = path.with_name(path.name[:-len(".partial.json")] + ".json") if path.name.endswith(".partial.json") \
            else path
        out = "" if final.resolve() == self.result_path(quick).resolve() else f" --out {final}"
        return command(self.name, quick) + " --resume" + out

    def file_schema(self):
        """The schema of the whole file (its parameters are checked against the code's, not here)."""
        return Obj({"experiment": Text(self.name), "tflmini_version": Text(), "parameters": Anything(),
                    "rows": List(self.row_schema, "rows")},
                   optional={"complete": Flag(), "machine": Anything(), "wall_seconds": NONNEG})

    def check_file(self, data, path, *, on_stale="raise", allow_incomplete=False):
        """Check a validation file read as a JSON object: provenance (:func:`._base.check_provenance`: the
        experiment, the parameters of the code at the file's size, the package version; ``on_stale`` as in
        :func:`~tflmini.experiments.load`), the schema of every row, the rows against the configurations of the
        file's grid, and completeness: a file lacking configurations (``"complete": false``: an interrupted or
        running run) raises :class:`~._cache.IncompleteCacheError` naming the command that completes it, unless
        ``allow_incomplete``. Returns ``data`` with its rows read (``"inf"`` -> ``inf``)."""
        params = data.get("parameters")
        quick = params.get("quick") if isinstance(params, dict) else None
        hint = command(self.name, bool(quick))
        if not isinstance(quick, bool):
            raise SchemaError(f"{path}: parameters.quick must be true or false, got {quick!r}; "
                              f"regenerate the file with: {hint}")
        check_provenance(self, data, path, quick=quick, on_stale=on_stale, hint=hint)
        data["rows"] = from_jsonable(data.get("rows"), arrays=False)
        check_schema(self.file_schema(), data, "", path=path, hint=hint)
        try:
            expected = [_hashable(k) for k in self.configurations(from_jsonable(params, arrays=False))]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SchemaError(f"{path}: parameters.grid cannot be read ({exc!r}); regenerate the file with: {hint}") \
                from None
        allowed, seen = set(expected), set()
        for i, row in enumerate(data["rows"]):
            key = _hashable(self.row_key(row))
            if key not in allowed:
                raise SchemaError(f"{path}: rows[{i}] is the configuration {key}, which is not one of the grid in "
                                  f"its parameters; regenerate the file with: {hint}")
            if key in seen:
                raise SchemaError(f"{path}: rows[{i}] repeats the configuration {key}; regenerate the file with: {hint}")
            seen.add(key)
        missing = [k for k in expected if k not in seen]
        complete = data.get("complete")
        if missing and complete is True:
            raise SchemaError(f"{path} is marked complete but lacks {len(missing)} of the {len(expected)} "
                              f"configurations of its grid (first: {missing[0]}); regenerate it with: {hint}")
        if (missing or complete is False) and not allow_incomplete:
            raise IncompleteCacheError(
                f"{path} is a partial result: its run has not finished ({len(seen)} of {len(expected)} "
                f"configurations done). Complete it with: {self.completion_command(path, quick)} "
                "(or read it anyway with allow_incomplete=True)")
        return data

    def execute(self, path, *, quick=False, theory_only=False, resume=False, progress=True, threads=1, jobs=1,
                backend="loky", scheduler=None):
        """Run the grid: progress goes after every row to ``<path>.partial.json``; ``path`` is written once,
        complete, at the end (then the partial file is removed). ``resume`` keeps the configurations of the
        partial file (else of ``path``) when its parameters are the same. ``jobs``, ``backend``, ``scheduler``:
        where rows that run through :func:`._parallel.map_points` go (:func:`._parallel.executing`)."""
        if theory_only:
            raise ValueError(f"{self.name!r} has no separate theory part (each row pairs the theory with sampled "
                             "networks): run it without --theory-only")
        if resume and not self.resumable:
            raise ValueError(f"{self.name!r} cannot resume an interrupted run; run it again")
        path = Path(path)
        partial = partial_path(path)
        parameters = self.parameters(quick)
        common = {k: v for k, v in parameters.items() if k not in ("grid", "quick")}
        t0 = time.time()
        done = []
        if resume:
            done, seconds = self._resumed_rows(partial if partial.is_file() else path, parameters)
            t0 -= seconds
        save = result_writer(partial, self.name, parameters, t0)
        with threadpool_limits(limits=threads), executing(jobs=jobs, backend=backend, scheduler=scheduler):
            rows = self.rows(parameters["grid"], common, progress=progress, on_rows=save, done=done)
        result_writer(path, self.name, parameters, t0)(rows, complete=True)
        partial.unlink(missing_ok=True)
        return path

    def _resumed_rows(self, source, parameters):
        """Rows (and wall seconds) kept from ``source`` when its parameters are ``parameters``."""
        if not source.is_file():
            print(f"not resuming: no partial result at {source}")
            return [], 0.0
        try:
            old = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            print(f"not resuming: {source} is not readable ({exc})")
            return [], 0.0
        if not isinstance(old, dict) or old.get("parameters") != parameters:
            print(f"not resuming: the parameters in {source} differ")
            return [], 0.0
        try:
            self.check_file(copy.deepcopy(old), source, on_stale="ignore", allow_incomplete=True)
        except SchemaError as exc:
            print(f"not resuming: {exc}")
            return [], 0.0
        print(f"resuming: {len(old['rows'])} rows kept from {source}")
        return old["rows"], float(old.get("wall_seconds", 0.0))


def _hashable(key):
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key


def _register(name, title, rows, loader, common, full, quick, *, row_schema, configurations, row_key):
    """Register the validation run ``name``: ``rows`` over the grid ``full`` (``quick`` at the quick size) with
    the ``common`` parameters; its file is read by ``loader``; rows declared by ``row_schema``."""
    return register(ValidationRun(name=name, title=title, findings=(), params={**common, "grid": full},
                                  quick={"grid": quick}, theory=None, simulation=None, rows=rows, loader=loader,
                                  row_schema=row_schema, configurations=configurations, row_key=row_key))


def result_writer(out, experiment, parameters, t0):
    """``save(rows, complete=False)``: write a validation file (parameters, package version, machine, wall time
    since ``t0``, rows) to ``out``, atomically (:func:`._cache.write_text`)."""
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


def parallel_rows(func, configs, done, on_rows, *, key, row_key, desc, progress):
    """The rows ``done`` (kept by ``--resume``) and ``func(config)`` (a list of rows) for every configuration of
    ``configs`` without a row in ``done`` (a row belongs to the configuration ``key(config) == row_key(row)``),
    run where :func:`._parallel.executing` says (:func:`._parallel.map_points`). ``on_rows(rows)`` gets every
    row so far after each configuration finishes (the run's partial file). The rows come back in the order of
    ``configs`` (rows of one configuration in the order ``func`` gave them), whatever order they finished in."""
    rows = list(done)
    rank = {_hashable(key(c)): i for i, c in enumerate(configs)}
    finished = {_hashable(row_key(row)) for row in rows}
    todo = [c for c in configs if _hashable(key(c)) not in finished]

    def report(config, new):
        rows.extend(new)
        if on_rows is not None:
            on_rows(rows)

    map_points("rows", func, todo, [repr(_hashable(key(c))) for c in todo], desc=desc, progress=progress,
               report=report)
    rows.sort(key=lambda row: rank.get(_hashable(row_key(row)), len(rank)))
    return rows


# -- single network: widths and loads -------------------------------------------------------------------

def _single_configs(grid):
    return [(act, n1, a) for act in grid["activations"]
            for n1 in (grid["widths"] if act == "erf" else grid["linear_widths"])
            for a in grid["alphas"] if a * n1 <= grid["max_P"]]


def _single_network_row(common, config):
    act, n1, alpha = config
    P = int(round(alpha * n1))
    task = make_teacher_task(P, common["n_test"], common["n_features"], teacher=common["teacher"],
                             seed=common["seed"] + P)
    kr = KernelRenormalization(n1, common["temperature"], common["lambda0"], common["lambda1"], act)
    kr.fit(task.X_train, task.y_train)
    sampler = BayesianNetworkSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], act,
                                     n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                     n_samples=common["n_samples"], seed=common["seed"] + n1, progress=False)
    return [sampled_comparison(kr, sampler, task.X_train, task.y_train, task.X_test, task.y_test,
                               {"activation": act, "n_hidden": n1, "P": P, "alpha": alpha},
                               f"{act:6s} N1={n1:4d} P={P:5d}")]


def single_network_rows(grid, common, progress=True, on_rows=None, done=()):
    """Rows over (activation, width, load); P = alpha * N1 is capped at ``max_P`` to bound the cost (the
    sampler's cost grows like P^2 N1). Configurations with a row in ``done`` (kept by ``--resume``) are not
    sampled again (each configuration has its own seeds, so a resumed run gives the same rows); the others run
    in parallel (:func:`parallel_rows`)."""
    return parallel_rows(partial(_single_network_row, common), _single_configs(grid), done, on_rows,
                         key=lambda c: (c[0], c[1], int(round(c[2] * c[1]))), row_key=_single_key,
                         desc="configurations", progress=progress)


def _single_key(row):
    return row["activation"], row["n_hidden"], row["P"]


def _alpha_is_P_over_N1(row):
    if abs(row["P"] / row["n_hidden"] - row["alpha"]) > 0.01 * row["alpha"]:
        return f"alpha = {row['alpha']} but P/N1 = {row['P']}/{row['n_hidden']}"
    return None


#: Theory of a single-network row: Q and the two test errors, finite and positive.
SINGLE_THEORY = Obj({k: POSITIVE for k in ("Q", "gibbs_error", "mean_error")})
#: The sampler's estimates of a single-network row (:meth:`~tflmini.SamplerResult.summary`).
SINGLE_SAMPLER = Obj({k: estimate(k) for k in ("Q", "train_error", "gibbs_error", "mean_error")})
#: A row of ``validation_single_network``.
SINGLE_ROW = Obj({"activation": Text("erf", "linear"), "n_hidden": SIZE, "P": SIZE, "alpha": POSITIVE,
                  "theory": SINGLE_THEORY, "sampler": SINGLE_SAMPLER},
                 optional={"diagnostics": DIAGNOSTICS, "seconds": NONNEG}, rules=(_alpha_is_P_over_N1,))

VALIDATION_SINGLE_NETWORK = _register(
    "validation_single_network", "Validation: kernel renormalization vs sampled networks over widths and loads",
    single_network_rows, "tflmini.results.load_validation()",
    common={"n_features": 50, "temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf", "n_test": 500,
            "n_chains": 4, "n_warmup": 100, "n_samples": 200, "seed": 2024},
    full={"widths": [100, 200, 400, 800], "alphas": [0.25, 0.5, 1.0, 2.0], "max_P": 400,
          "activations": ["erf", "linear"], "linear_widths": [100, 200]},
    quick={"widths": [50, 100], "alphas": [0.5, 1.0], "max_P": 100, "activations": ["erf", "linear"],
           "linear_widths": [50]},
    row_schema=SINGLE_ROW, row_key=_single_key,
    configurations=lambda p: [(act, n1, int(round(a * n1))) for act, n1, a in _single_configs(p["grid"])])


# -- transfer: widths, couplings and relatedness ----------------------------------------------------------

def _transfer_width_rows(common, gammas, point):
    """The rows of the (width, rho) groups ``rhos`` of one width: the source sampled once, then the targets of
    each rho in turn (one generator per width)."""
    n1, rhos = point
    ps, pt = int(round(common["alpha_source"] * n1)), int(round(common["alpha_target"] * n1))
    sampler = TransferSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], "erf",
                              n_source_chains=common["n_source_chains"],
                              snapshots_per_chain=common["snapshots_per_chain"],
                              snapshot_every=common["snapshot_every"], source_warmup=common["source_warmup"],
                              target_warmup=common["target_warmup"], target_samples=common["target_samples"],
                              seed=common["seed"] + n1, progress=False)
    source, rows = None, []
    for rho in rhos:
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
            rows.append({"n_hidden": n1, "P_source": ps, "P_target": pt, "rho": rho,
                         "gamma": "inf" if np.isinf(g) else g, "theory": theory,
                         "sampler": {k: {"mean": float(res.mean[k][i]), "se": float(res.stderr[k][i])} for k in KEYS},
                         "n_snapshots": res.n_snapshots})
            print(f"N1={n1} rho={rho} gamma={g:g}: " + "  ".join(
                f"{k} {theory[k]:.4f}/{res.mean[k][i]:.4f}±{res.stderr[k][i]:.4f}" for k in KEYS), flush=True)
        rows[-1]["seconds_this_rho"] = time.time() - t0
        diag = res.diagnostics
        rows[-1]["diagnostics"] = {"source": {k: v for k, v in diag["source"].items() if not isinstance(v, str)},
                                   "targets": {g: {k: v for k, v in d.items() if not isinstance(v, str)}
                                               for g, d in diag["targets"].items()}}
    return rows


def transfer_rows(grid, common, progress=True, on_rows=None, done=()):
    """Sample and solve every (width, rho) group of ``grid``; rows of groups listed in ``done`` (earlier
    rows of the same parameters, kept by ``--resume``) are returned unchanged. The widths run in parallel
    (:func:`parallel_rows`); the rhos of a width share its source snapshots, so they run in turn and a
    width's rows are kept when all its rhos are done."""
    gammas = [np.inf if g == "inf" else float(g) for g in grid["gammas"]]
    finished = {(row["n_hidden"], row["rho"]) for row in done}
    # one point per width, with its rhos not done yet (a width whose rhos are all done has no point)
    points = [(n1, tuple(rho for rho in grid["rhos"][str(n1)] if (n1, rho) not in finished)) for n1 in grid["widths"]]
    rows = parallel_rows(partial(_transfer_width_rows, common, gammas), [pt for pt in points if pt[1]], done,
                         on_rows, key=lambda pt: pt[0], row_key=lambda row: None, desc="widths", progress=progress)
    # rows by (width, rho) group in the order of the grid; a group's rows keep their order (stable sort)
    rank = {g: i for i, g in enumerate((n1, rho) for n1 in grid["widths"] for rho in grid["rhos"][str(n1)])}
    return sorted(rows, key=lambda row: rank.get((row["n_hidden"], row["rho"]), len(rank)))


def _transfer_configs(p):
    grid = p["grid"]
    return [(n1, int(round(p["alpha_source"] * n1)), int(round(p["alpha_target"] * n1)), rho, g)
            for n1 in grid["widths"] for rho in grid["rhos"][str(n1)] for g in grid["gammas"]]


def _transfer_key(row):
    return row["n_hidden"], row["P_source"], row["P_target"], row["rho"], row["gamma"]


_TRANSFER_OBSERVABLES = ("Q_s", "Q_t", "Q_st", "Q_tt", "gibbs_error", "mean_error")
#: A row of ``validation_transfer``: one coupling of one (width, rho) group; the last row of a group carries
#: the group's diagnostics and run time.
TRANSFER_ROW = Obj({"n_hidden": SIZE, "P_source": SIZE, "P_target": SIZE, "rho": Num(-1.0), "gamma": COUPLING,
                    "theory": Obj({k: OBSERVABLES[k] for k in _TRANSFER_OBSERVABLES}),
                    "sampler": Obj({k: estimate(k) for k in _TRANSFER_OBSERVABLES}), "n_snapshots": SIZE},
                   optional={"seconds_this_rho": NONNEG,
                             "diagnostics": Obj({"source": DIAGNOSTICS, "targets": Map(DIAGNOSTICS, min_size=0)})},
                   rules=(lambda row: None if row["rho"] <= 1.0 else f"rho = {row['rho']} is not in [-1, 1]",))

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
    row_schema=TRANSFER_ROW, row_key=_transfer_key, configurations=_transfer_configs)


# -- ReLU networks in the proportional regime -----------------------------------------------------------

def relu_task(n_train, n0, offset, common, dataset=0):
    """Gaussian inputs, labels y = max(w.x/sqrt(N0), 0) + offset (teacher w ~ N(0, I)); one random data set
    (teacher, inputs) per ``dataset`` index."""
    rng = np.random.default_rng([common["seed"], n_train, n0, dataset])
    w = rng.standard_normal(n0)
    X = rng.standard_normal((n_train + common["n_test"], n0))
    y = np.maximum(X @ w / np.sqrt(n0), 0.0) + offset
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def _relu_configs(grid):
    """(label offset, N1, data set, P, N0) in run order."""
    out = []
    for offset in grid["label_offsets"]:
        for n1, dataset in ((n1, d) for n1 in grid["widths"] for d in range(grid["n_datasets"])):
            P = int(round(grid["alpha"] * n1))
            out.append((offset, n1, dataset, P, int(round(P / grid["P_over_N0"]))))
    return out


def _relu_key(row):
    return row["label_offset"], row["n_hidden"], row["dataset"], row["P"], row["n_features"]


def _relu_row(common, config):
    offset, n1, dataset, P, n0 = config
    X, y, Xe, ye = relu_task(P, n0, offset, common, dataset)
    kr = KernelRenormalization(n1, common["temperature"], common["lambda0"], common["lambda1"], "relu").fit(X, y)
    sampler = BayesianNetworkSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], "relu",
                                     n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                     n_samples=common["n_samples"], seed=common["seed"] + 1000 * dataset + n1,
                                     progress=False)
    return [sampled_comparison(kr, sampler, X, y, Xe, ye,
                               {"activation": "relu", "n_hidden": n1, "P": P, "alpha": P / n1,
                                "n_features": n0, "label_offset": offset, "dataset": dataset},
                               f"relu offset={offset:g} N1={n1:4d} P={P} N0={n0} data set {dataset}")]


def relu_rows(grid, common, progress=True, on_rows=None, done=()):
    r"""ReLU networks, whose hidden units have a nonzero mean: the readout sum :math:`M = \sum_i v_i/\sqrt{N_1}`
    multiplies the mean hidden-unit output, and, given :math:`Q = |v|^2/N_1`, M is Gaussian with variance Q (the
    book's chapter 4, "Activations with a nonzero mean"), so ``KernelRenormalization(activation="relu")`` needs
    no second order parameter. Rows for every label offset, width and random data set, at fixed
    :math:`\alpha = P/N_1` and :math:`P/N_0`: the deviation must shrink as :math:`N_1` grows. Configurations
    in parallel (:func:`parallel_rows`)."""
    return parallel_rows(partial(_relu_row, common), _relu_configs(grid), done, on_rows, key=tuple, row_key=_relu_key,
                         desc="configurations", progress=progress)


#: A row of ``validation_relu``: a single-network row with the input dimension, label offset and data set.
RELU_ROW = Obj({**SINGLE_ROW.fields, "activation": Text("relu"), "n_features": SIZE, "label_offset": FINITE,
                "dataset": COUNT}, optional=SINGLE_ROW.optional, rules=SINGLE_ROW.rules)

VALIDATION_RELU = _register(
    "validation_relu", "Validation: ReLU networks (nonzero-mean activation) vs sampled networks, proportional regime",
    relu_rows, 'tflmini.results.load_validation("validation_relu")',
    common={"temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "relu", "n_test": 500, "n_chains": 4,
            "n_warmup": 300, "n_samples": 400, "seed": 11},
    full={"widths": [50, 100, 200], "alpha": 1.0, "P_over_N0": 1.0, "label_offsets": [0.0, 1.0], "n_datasets": 3},
    quick={"widths": [20, 40], "alpha": 1.0, "P_over_N0": 1.0, "label_offsets": [1.0], "n_datasets": 2},
    row_schema=RELU_ROW, row_key=_relu_key, configurations=lambda p: _relu_configs(p["grid"]))


# -- the input dimension at fixed width and sample size ---------------------------------------------------

def _input_dimension_row(grid, common, n0):
    task = make_teacher_task(grid["P"], common["n_test"], n0, teacher=common["teacher"], seed=common["seed"])
    kr = KernelRenormalization(grid["n_hidden"], common["temperature"], common["lambda0"], common["lambda1"],
                               common["activation"]).fit(task.X_train, task.y_train)
    sampler = BayesianNetworkSampler(grid["n_hidden"], common["temperature"], common["lambda0"], common["lambda1"],
                                     common["activation"], n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                     n_samples=common["n_samples"], seed=common["seed"] + n0, progress=False)
    t0 = time.time()
    res = sampler.sample(task.X_train, task.y_train, task.X_test, task.y_test, desc=f"N0={n0}")
    # alignment of first-layer weights with the teacher: mean over units of (w.w*/|w||w*|)^2 (prior: 1/N0)
    w_star = task.w / np.linalg.norm(task.w)
    overlap = res.W @ w_star / np.linalg.norm(res.W, axis=2)
    summ = res.summary()
    r = {"n_features": n0, "P_over_N0": grid["P"] / n0,
         "theory": {"Q": kr.Q_, "gibbs_error": kr.gibbs_error(task.X_test, task.y_test),
                    "mean_error": kr.mean_error(task.X_test, task.y_test)},
         "sampler": {k: {"mean": v[0], "se": v[1]} for k, v in summ.items()},
         "teacher_alignment": float(np.mean(overlap**2)), "prior_alignment": 1.0 / n0,
         "diagnostics": {k: v for k, v in res.diagnostics.items() if not isinstance(v, str)},
         "seconds": time.time() - t0}
    print(f"N0={n0:4d}  Gibbs theory {r['theory']['gibbs_error']:.4f} sampler {summ['gibbs_error'][0]:.4f}"
          f"±{summ['gibbs_error'][1]:.4f}   alignment {r['teacher_alignment']:.4f} (prior {1 / n0:.4f})", flush=True)
    return [r]


def input_dimension_rows(grid, common, progress=True, on_rows=None, done=()):
    """Where does kernel renormalization hold? Rows over the input dimension N0 at fixed width and sample
    size (N1 = P), i.e. over the number of examples per input dimension P/N0; each row also holds the
    alignment of the sampled first-layer weights with the teacher (its prior value is 1/N0). Input dimensions
    in parallel (:func:`parallel_rows`)."""
    return parallel_rows(partial(_input_dimension_row, grid, common), list(grid["n_features"]), done, on_rows,
                         key=lambda n0: n0, row_key=lambda row: row["n_features"], desc="input dimensions",
                         progress=progress)


def _prior_alignment_is_one_over_N0(row):
    if abs(row["prior_alignment"] * row["n_features"] - 1.0) > 1e-6:
        return f"prior_alignment must be 1/N0 = 1/{row['n_features']}, got {row['prior_alignment']}"
    if row["teacher_alignment"] > 1.0:
        return f"teacher_alignment is a mean squared cosine (at most 1), got {row['teacher_alignment']}"
    return None


#: A row of ``accuracy_input_dimension`` (width and P in the grid).
INPUT_DIMENSION_ROW = Obj({"n_features": SIZE, "P_over_N0": POSITIVE, "theory": SINGLE_THEORY,
                           "sampler": SINGLE_SAMPLER, "teacher_alignment": POSITIVE, "prior_alignment": POSITIVE},
                          optional={"diagnostics": DIAGNOSTICS, "seconds": NONNEG},
                          rules=(_prior_alignment_is_one_over_N0,))

ACCURACY_INPUT_DIMENSION = _register(
    "accuracy_input_dimension", "Validation: kernel renormalization vs sampled networks over the input dimension N0",
    input_dimension_rows, "tflmini.results.load_input_dimension()",
    common={"temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "erf", "activation": "erf", "n_test": 400,
            "n_chains": 4, "n_warmup": 100, "n_samples": 150, "seed": 11},
    full={"n_features": [25, 50, 100, 200, 400], "n_hidden": 200, "P": 200},
    quick={"n_features": [20, 80], "n_hidden": 40, "P": 40},
    row_schema=INPUT_DIMENSION_ROW, row_key=lambda row: row["n_features"],
    configurations=lambda p: list(p["grid"]["n_features"]))
