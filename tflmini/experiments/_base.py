"""Named experiments: a registry, running (theory and simulation parts, cached as JSON) and loading.

Each :class:`Experiment` has full parameters and ``quick`` overrides (CI size). ``run`` writes
``<directory>/<name>.json`` (``<name>.quick.json`` for the quick size) with the parameters, the seed,
the package version, timings and both parts; ``load`` validates the file and compares its parameters
with the code's, so a stale cache is noticed.

An experiment writes its file through its :meth:`Experiment.execute` and names it with
:meth:`Experiment.result_path`; the validation runs (:mod:`.validation`) override both, keeping the row
format and the place (``data/``) of the files that :mod:`tflmini.results` reads.
"""

from __future__ import annotations

import copy
import os
import platform
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from threadpoolctl import threadpool_limits

from ._cache import (SCHEMA, CacheError, ResultSchema, StaleCacheError, StaleCacheWarning, check_schema, dims,
                     from_jsonable, parameter_differences, partial_path, read_json, to_jsonable, write_json)
from ._parallel import PointStore, check_backend, check_jobs, executing

REGISTRY: dict[str, "Experiment"] = {}


def _deep_update(base, overrides):
    out = copy.deepcopy(base)
    for k, v in overrides.items():
        out[k] = _deep_update(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


@dataclass(frozen=True)
class Experiment:
    """A named experiment: ``theory(params, progress) -> dict`` (fast) and ``simulation(params, progress)
    -> dict`` (slow, sampled finite networks), with full ``params`` and ``quick`` overrides."""

    name: str
    title: str
    findings: tuple
    params: dict
    quick: dict
    theory: Callable
    simulation: Callable
    version: int = 1
    notes: str = field(default="")
    #: The declared content of the result file (:class:`~._cache.ResultSchema`), checked by :func:`load`.
    schema: ResultSchema | None = None

    #: Reader of the result file when it is not :func:`load` (the validation runs: a loader of
    #: :mod:`tflmini.results`), named in the error of :func:`load`.
    loader = None
    #: Whether ``run(..., resume=True)`` can keep the finished part of an interrupted run: the experiment
    #: runs its points through :func:`._parallel.map_points`, which keeps each one as it finishes.
    resumable: bool = False

    def parameters(self, quick=False):
        """The parameter dict of the full (or quick) size, with the experiment's version and name."""
        p = _deep_update(self.params, self.quick) if quick else copy.deepcopy(self.params)
        return {"experiment": self.name, "experiment_version": self.version, **p}

    def result_path(self, quick=False, directory=None) -> Path:
        """``<directory>/<name>.json`` (``<name>.quick.json`` for the quick size); default directory
        :func:`default_directory`."""
        return Path(directory or default_directory()) / f"{self.name}{'.quick' if quick else ''}.json"

    def execute(self, path, *, quick=False, theory_only=False, resume=False, progress=True, threads=1, jobs=1,
                backend="loky", scheduler=None):
        """Run the experiment and write its result file to ``path``; returns ``path``.

        ``theory_only`` skips the simulation part, keeping the simulation of an existing file with the same
        parameters. ``threads`` caps the BLAS threads (small matrices run fastest single-threaded).
        ``jobs``, ``backend``, ``scheduler``: where the points run (:func:`._parallel.executing`). The points
        finished so far are kept in ``<path>.partial.json`` (removed once ``path`` is written); ``resume``
        keeps those of an interrupted run with the same parameters.
        """
        if resume and not self.resumable:
            raise ValueError(f"{self.name!r} cannot resume an interrupted run; run it again")
        params = self.parameters(quick)
        partial = partial_path(path)
        store = PointStore(partial, self.name, quick, params)
        if resume:
            store.resume()
        record = {"schema": SCHEMA, "experiment": self.name, "title": self.title, "findings": list(self.findings),
                  "quick": bool(quick), "parameters": params, "seed": params["seed"],
                  "tflmini_version": _version(), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                  "machine": {"python": platform.python_version(), "platform": platform.platform(),
                              "blas_threads": threads, "jobs": check_jobs(jobs), "backend": backend},
                  "timing": {}, "theory": None, "simulation": None}
        with threadpool_limits(limits=threads), executing(jobs=jobs, backend=backend, scheduler=scheduler,
                                                          store=store):
            t0 = time.perf_counter()
            record["theory"] = self.theory(copy.deepcopy(params), progress)
            record["timing"]["theory_seconds"] = time.perf_counter() - t0
            if theory_only:
                old = _previous_simulation(path, params)
                if old is not None:
                    record["simulation"], record["timing"]["simulation_seconds"] = old
            else:
                t0 = time.perf_counter()
                record["simulation"] = self.simulation(copy.deepcopy(params), progress)
                record["timing"]["simulation_seconds"] = time.perf_counter() - t0
        write_json(path, record)
        partial.unlink(missing_ok=True)
        return path


@dataclass
class ExperimentResult:
    """A loaded result file: ``parameters``, ``theory``, ``simulation`` (None after ``--theory-only``),
    ``meta`` (version, seed, dates, timings, machine) and the ``path`` it came from."""

    name: str
    parameters: dict
    theory: dict
    simulation: dict | None
    meta: dict
    path: Path


def register(exp: Experiment) -> Experiment:
    if exp.name in REGISTRY:
        raise ValueError(f"experiment {exp.name!r} is already registered")
    REGISTRY[exp.name] = exp
    return exp


def get_experiment(name) -> Experiment:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in REGISTRY:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def list_experiments(*, validation_runs=True):
    """Names of the registered experiments, in registration order; without the validation runs (read by
    :mod:`tflmini.results`, not :func:`load`) if ``validation_runs`` is false."""
    return [name for name, exp in REGISTRY.items() if validation_runs or exp.loader is None]


def default_directory() -> Path:
    """``$TFLMINI_EXPERIMENTS_DIR``, else ``data/experiments`` of the source checkout."""
    env = os.environ.get("TFLMINI_EXPERIMENTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data" / "experiments"


def result_path(name, quick=False, directory=None) -> Path:
    """Where experiment ``name`` keeps its (full or quick) result: :meth:`Experiment.result_path`."""
    return get_experiment(name).result_path(quick, directory)


def command(name, quick=False, theory_only=False):
    """The shell command that (re)generates an experiment's result file."""
    return f"python -m tflmini.experiments run {name}" + (" --quick" if quick else "") + \
        (" --theory-only" if theory_only else "")


def run(name, *, quick=False, theory_only=False, directory=None, out=None, resume=False, progress=True, threads=1,
        jobs=None, backend="loky", scheduler=None):
    """Run an experiment and write its result file; returns the file's path.

    The file is ``out`` if given, else :func:`result_path` (in ``directory``). ``theory_only`` skips the
    simulation part, keeping the simulation of an existing file with the same parameters. ``resume`` keeps
    the finished part of an interrupted run in that file (the validation runs that support it).
    ``threads`` caps the BLAS threads (small matrices run fastest single-threaded).

    ``jobs`` (default ``None``: every core, ``os.cpu_count()``; 1: in this process) local worker processes run
    the experiment's points, or with ``backend="dask"`` the workers of the Dask cluster whose scheduler is at
    ``scheduler`` (:mod:`._parallel`). The numbers do not depend on where or in what order the points run.
    """
    exp = get_experiment(name)
    jobs = check_jobs(jobs)
    check_backend(backend, scheduler)
    path = Path(out) if out is not None else exp.result_path(quick, directory)
    return exp.execute(path, quick=quick, theory_only=theory_only, resume=resume, progress=progress, threads=threads,
                       jobs=jobs, backend=backend, scheduler=scheduler)


def _version():
    from .. import __version__

    return __version__


def _previous_simulation(path, params):
    try:
        raw = read_json(path, "")
    except CacheError:
        return None
    if raw["simulation"] is None or parameter_differences(raw["parameters"], to_jsonable(params)):
        return None
    return raw["simulation"], raw["timing"].get("simulation_seconds")


def load(name, *, quick=False, directory=None, on_stale="raise", require_simulation=False) -> ExperimentResult:
    """Load and validate a cached result (the book's entry point).

    Raises :class:`CacheError` if the file is missing, corrupted or lacks keys; :class:`SchemaError` if its
    content violates the experiment's declared :class:`~._cache.ResultSchema` (non-finite or negative values,
    inconsistent lengths, unknown keys); and, when its parameters differ from the code's (or it holds another
    experiment), :class:`StaleCacheError` (``on_stale="raise"``) or a :class:`StaleCacheWarning` (``"warn"``):
    :func:`check_provenance`. Every message names the file, the problem and the command to regenerate it.
    """
    exp = get_experiment(name)
    if exp.loader is not None:
        raise ValueError(f"{name!r} is a validation run in the format of tflmini.results: read it with {exp.loader}")
    path = exp.result_path(quick, directory)
    hint = command(name, quick)
    raw = read_json(path, hint)
    if bool(raw["quick"]) != bool(quick):
        raise StaleCacheError(f"{path} holds the {'quick' if raw['quick'] else 'full'} size of {raw['experiment']!r}, "
                              f"not the {'quick' if quick else 'full'} size; regenerate it with: {hint}")
    check_provenance(exp, raw, path, quick=quick, on_stale=on_stale, hint=hint)
    if require_simulation and raw["simulation"] is None:
        raise CacheError(f"{path} has no simulation part (it was run with --theory-only); run: {hint}")
    theory = from_jsonable(raw["theory"])
    simulation = None if raw["simulation"] is None else from_jsonable(raw["simulation"])
    if exp.schema is not None:
        # lengths fixed by the file's own parameters: the file must be consistent with what it says it ran
        lengths = dims(exp.schema.fixed_dims(raw["parameters"]))
        check_schema(exp.schema.theory, theory, "theory", path=path, hint=hint, dims=lengths)
        if simulation is not None:
            check_schema(exp.schema.simulation, simulation, "simulation", path=path, hint=hint, dims=lengths)
    meta = {k: raw[k] for k in raw if k not in ("parameters", "theory", "simulation")}
    return ExperimentResult(name, from_jsonable(raw["parameters"], arrays=False), theory, simulation, meta, path)


def check_provenance(exp, raw, path, *, quick, on_stale, hint):
    """Compare a cached file's experiment name, parameters and package version with the code's (one check for
    the registry experiments and the validation runs).

    A file of another experiment, or whose ``parameters`` differ from ``exp.parameters(quick)``, raises
    :class:`StaleCacheError` (``on_stale="raise"``), warns with :class:`StaleCacheWarning` (``"warn"``) or passes
    (``"ignore"``); the message lists every difference and ends with ``hint``, the command that regenerates the
    file. Another package version warns (unless ``"ignore"``)."""
    if on_stale not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_stale must be 'raise', 'warn' or 'ignore', got {on_stale!r}")
    if raw.get("experiment") != exp.name:
        raise StaleCacheError(f"{path} holds experiment {raw.get('experiment')!r}, not {exp.name!r}; "
                              f"regenerate it with: {hint}")
    if not isinstance(raw.get("parameters"), dict):
        raise CacheError(f"{path}: 'parameters' must be a JSON object; regenerate it with: {hint}")
    diffs = parameter_differences(raw["parameters"], to_jsonable(exp.parameters(quick)))
    if diffs and on_stale != "ignore":
        msg = (f"{path} is stale: its parameters differ from those of experiment {exp.name!r} in the code:\n  "
               + "\n  ".join(diffs) + f"\nRegenerate it with: {hint}")
        if on_stale == "raise":
            raise StaleCacheError(msg)
        warnings.warn(msg, StaleCacheWarning, stacklevel=3)
    version = raw.get("tflmini_version")
    if version != _version() and on_stale != "ignore":
        warnings.warn(f"{path} was produced by tflmini {version}, this is {_version()}; "
                      f"if the computation changed, regenerate it with: {hint}", StaleCacheWarning, stacklevel=3)
