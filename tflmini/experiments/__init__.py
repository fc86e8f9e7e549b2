"""Named, parameterised experiments with a fast theory part and a slow simulation part.

Command line: ``python -m tflmini.experiments list``, ``python -m tflmini.experiments run NAME [--quick]
[--theory-only]``. Results are cached as JSON under ``data/experiments/`` (with every parameter, the seed
and the package version); the book reads them with :func:`load`, which notices corrupted or stale files.
The validation runs (:mod:`.validation`: theory vs sampled networks, one row per configuration) write
``data/<name>.json``, read by the loaders of :mod:`tflmini.results`.

The independent points of an experiment run in parallel (``--jobs N``, default every core; or a Dask
cluster: ``--backend dask --scheduler ADDRESS``) with the same numbers whatever the number of workers, and
each finished point is kept at once in ``<name>.partial.json``, so ``--resume`` completes an interrupted or
killed run (:mod:`._parallel`).
"""

# registers the experiments, in this order
from . import single, sweeps, maps, atlas, decomposition, validation  # noqa: F401,I001
from ._base import (REGISTRY, Experiment, ExperimentResult, command, default_directory, get_experiment,
                    list_experiments, load, result_path, run)
from ._cache import CacheError, IncompleteCacheError, SchemaError, StaleCacheError, StaleCacheWarning
from .findings import findings_tables, format_tables

__all__ = [
    "REGISTRY",
    "Experiment",
    "ExperimentResult",
    "CacheError",
    "IncompleteCacheError",
    "SchemaError",
    "StaleCacheError",
    "StaleCacheWarning",
    "command",
    "default_directory",
    "findings_tables",
    "format_tables",
    "get_experiment",
    "list_experiments",
    "load",
    "result_path",
    "run",
]
