"""The points of an experiment, run in parallel and kept one by one as they finish.

An experiment that splits its work into independent *points* (one training set sampled, one width of a
transfer series) hands them to :func:`map_points`. Where they run is chosen by the caller of
:func:`~tflmini.experiments.run` (or the command line) and set for the duration of the run with
:func:`executing`:

* ``jobs=1``: one after the other, in this process;
* ``jobs=N`` (default: every core, ``os.cpu_count()``): ``N`` worker processes of joblib's ``loky`` backend;
* ``backend="dask", scheduler=ADDRESS``: the workers of a Dask cluster, through joblib's ``dask`` backend and a
  :class:`dask.distributed.Client` connected to the scheduler (the workers must have the same ``tflmini``).

A point's random numbers come from its own generator, derived from the run's seed and the point's place in
the grid that the parameters define (never from the order in which points finish), so every choice above
gives the same numbers. Each worker keeps BLAS single-threaded (:func:`tflmini._threads.single_thread`), so
``N`` jobs use ``N`` cores, not ``N`` times the BLAS threads.

As each point finishes, the main process adds it to the run's ``<name>.partial.json`` (:class:`PointStore`,
written atomically with :func:`._cache.write_json`); a run interrupted or killed at any moment resumes
(``--resume``) from the points already there.
"""

from __future__ import annotations

import contextlib
import json
import os

from tqdm.auto import tqdm

from .._threads import single_thread
from ._cache import SCHEMA, from_jsonable, to_jsonable, write_json

BACKENDS = ("loky", "dask")

_CURRENT = []


def check_jobs(jobs):
    """``jobs``: ``None`` (every core: ``os.cpu_count()``) or an integer >= 1; returns the integer."""
    if jobs is None:
        return os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int):
        raise TypeError(f"jobs must be an integer >= 1 or None (every core), got {type(jobs).__name__}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1 (the number of parallel workers), got {jobs}")
    return jobs


def check_backend(backend, scheduler):
    """``backend``: ``"loky"`` (local processes) or ``"dask"`` (a cluster: ``scheduler`` is its address)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "dask":
        if not isinstance(scheduler, str) or not scheduler:
            raise ValueError("backend='dask' needs scheduler, the address of the Dask scheduler "
                             f"(e.g. 'tcp://10.0.0.5:8786'), got {scheduler!r}")
    elif scheduler is not None:
        raise ValueError(f"scheduler={scheduler!r} is used only with backend='dask'")
    return backend


def dask_client(scheduler):
    """A :class:`dask.distributed.Client` connected to ``scheduler`` (clear error if Dask is missing)."""
    try:
        from dask.distributed import Client
    except ImportError:  # pragma: no cover - installed by `make test`
        raise ImportError("backend='dask' needs dask.distributed: pip install 'tflmini[cluster]' "
                          "(or 'dask[distributed]')") from None
    return Client(scheduler)


class PointStore:
    """The finished points of a run, kept in its partial file: ``{"schema", "experiment", "quick",
    "parameters", "complete": false, "points": {part: {key: value}}}``, rewritten atomically after each point."""

    def __init__(self, path, experiment, quick, parameters):
        self.path = path
        self.header = {"schema": SCHEMA, "experiment": experiment, "quick": bool(quick),
                       "parameters": to_jsonable(parameters), "complete": False}
        self.points = {}

    def resume(self):
        """Keep the points of an existing partial file with the same experiment and parameters; returns how
        many were kept (a message says why none were)."""
        if not self.path.is_file():
            print(f"not resuming: no partial result at {self.path}", flush=True)
            return 0
        try:
            old = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            print(f"not resuming: {self.path} is not readable ({exc})", flush=True)
            return 0
        if not isinstance(old, dict) or not isinstance(old.get("points"), dict) or \
                any(old.get(k) != v for k, v in self.header.items()):
            print(f"not resuming: {self.path} holds another experiment, size or parameters", flush=True)
            return 0
        self.points = {part: {k: from_jsonable(v, arrays=False) for k, v in values.items()}
                       for part, values in old["points"].items() if isinstance(values, dict)}
        kept = sum(len(v) for v in self.points.values())
        print(f"resuming: {kept} points kept from {self.path}", flush=True)
        return kept

    def done(self, part):
        return dict(self.points.get(part, {}))

    def add(self, part, key, value):
        self.points.setdefault(part, {})[key] = value
        write_json(self.path, {**self.header, "points": self.points})


class _Execution:
    def __init__(self, jobs, backend, scheduler, store):
        self.jobs, self.backend, self.scheduler, self.store = jobs, backend, scheduler, store


@contextlib.contextmanager
def executing(*, jobs=1, backend="loky", scheduler=None, store=None):
    """Inside the block, :func:`map_points` runs on ``jobs`` local processes (``backend="loky"``; 1: in this
    process) or on the Dask cluster at ``scheduler`` (``backend="dask"``), keeping points in ``store``."""
    jobs = check_jobs(jobs)
    backend = check_backend(backend, scheduler)
    with contextlib.ExitStack() as stack:
        if backend == "dask":
            stack.enter_context(dask_client(scheduler))
        _CURRENT.append(_Execution(jobs, backend, scheduler, store))
        try:
            yield _CURRENT[-1]
        finally:
            _CURRENT.pop()


def _call(func, key, item):
    with single_thread():
        return key, func(item)


def _finished(func, todo, ex):
    """``(key, value)`` of the points ``todo`` (pairs ``(key, item)``), in the order they finish."""
    if ex.backend == "loky" and (ex.jobs == 1 or len(todo) <= 1):
        for key, item in todo:
            yield key, func(item)
        return
    from joblib import Parallel, delayed, parallel_config

    config = {"backend": "dask"} if ex.backend == "dask" else \
        {"backend": "loky", "n_jobs": min(ex.jobs, len(todo)), "inner_max_num_threads": 1}
    with parallel_config(**config):
        yield from Parallel(return_as="generator_unordered")(delayed(_call)(func, key, item) for key, item in todo)


def map_points(part, func, items, keys, *, desc, progress, report=None):
    """``[func(item) for item in items]``, the points running where :func:`executing` says (in this process
    if no run is going on), each stored under ``keys[i]`` in the run's partial file as soon as it finishes and
    skipped if a resumed run already has it. ``part`` names the group of points (``"theory"``,
    ``"simulation"``). The progress bar counts finished points; ``report(item, value)`` is called in this
    process for each newly finished point. ``func`` must be picklable (a module-level function or a
    :func:`functools.partial` of one). With a store, values are returned as stored (JSON types, non-finite
    floats kept), whether computed now or read from the partial file; without one, as ``func`` gave them."""
    items, keys = list(items), [str(k) for k in keys]
    if len(set(keys)) != len(keys) or len(keys) != len(items):
        raise ValueError(f"map_points({part!r}): keys must be unique, one per item")
    ex = _CURRENT[-1] if _CURRENT else _Execution(1, "loky", None, None)
    results = {k: v for k, v in (ex.store.done(part) if ex.store else {}).items() if k in set(keys)}
    where = dict(zip(keys, items))
    todo = [(k, it) for k, it in zip(keys, items) if k not in results]
    with tqdm(total=len(items), initial=len(items) - len(todo), desc=desc, disable=not progress,
              leave=False) as bar:
        for key, value in _finished(func, todo, ex):
            if ex.store is not None:
                value = from_jsonable(to_jsonable(value), arrays=False)  # the value a resumed run reads back
                ex.store.add(part, key, value)
            results[key] = value
            if report is not None:
                report(where[key], value)
            bar.update()
    return [results[k] for k in keys]


__all__ = ["BACKENDS", "PointStore", "check_backend", "check_jobs", "dask_client", "executing", "map_points"]
