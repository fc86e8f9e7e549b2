"""JSON result files of experiments: encoding (numpy arrays, non-finite floats), atomic writing, validation.

A result file is one JSON object with the keys in :data:`REQUIRED_KEYS`. Non-finite floats are written
as the strings ``"inf"``, ``"-inf"``, ``"nan"`` (strict JSON has no such numbers) and read back as floats.

Every cached file, of the registry experiments and of the validation runs alike, is checked against a
*schema* declared next to the experiment that writes it: a small tree of :class:`Num`, :class:`Arr`,
:class:`Obj`, ... nodes (:func:`check_schema`). Arrays that run in parallel name a common dimension
(``Arr(ERROR, "gamma")``: every array of dimension ``"gamma"`` must have the same length, which may also be
fixed by the parameters), numbers say whether they must be finite, non-negative or integer, objects list
their keys. A violation raises :class:`SchemaError` naming the file, the key, the bad value and the command
that regenerates the file.

Errors form one hierarchy rooted at :class:`tflmini.results.ResultsError`: :class:`CacheError` (missing,
corrupted, incomplete), :class:`SchemaError` (bad content), :class:`StaleCacheError` (other parameters or
another experiment than the code's), :class:`IncompleteCacheError` (a run that has not finished).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..results import ResultsError

SCHEMA = "tflmini.experiment/1"
REQUIRED_KEYS = ("schema", "experiment", "quick", "parameters", "seed", "tflmini_version", "created", "timing",
                 "theory", "simulation")
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class CacheError(ResultsError):
    """An experiment's result file is missing, corrupted or incomplete (a :class:`~tflmini.results.ResultsError`:
    one hierarchy for every cached file)."""


class StaleCacheError(CacheError):
    """A result file was produced with other parameters (or by another experiment) than the code now defines."""


class SchemaError(CacheError):
    """A result file's content violates the schema declared with its experiment (wrong type, non-finite or
    negative value, inconsistent lengths, unknown or missing key)."""


class IncompleteCacheError(CacheError):
    """A result file (or its ``.partial.json``) holds the progress of a run that has not finished."""


class StaleCacheWarning(UserWarning):
    """Warning variant of :class:`StaleCacheError` (``load(..., on_stale="warn")``)."""


def to_jsonable(obj):
    """Plain JSON types: arrays and tuples -> lists, numpy scalars -> Python, inf/nan -> strings."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isfinite(x):
            return x
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in an experiment result file")


def _is_numeric(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def from_jsonable(obj, arrays=True):
    """Inverse of :func:`to_jsonable`; with ``arrays``, (nested) lists of numbers become float arrays."""
    if isinstance(obj, dict):
        return {k: from_jsonable(v, arrays) for k, v in obj.items()}
    if isinstance(obj, str):
        return _NONFINITE.get(obj, obj)
    if isinstance(obj, list):
        items = [from_jsonable(v, arrays) for v in obj]
        if arrays and items and all(_is_numeric(v) or isinstance(v, np.ndarray) for v in items):
            try:
                arr = np.array(items, dtype=np.float64)
            except ValueError:  # ragged
                return items
            if arr.dtype == np.float64 and arr.ndim >= 1:
                return arr
        return items
    return obj


def write_json(path, record):
    """Write ``record`` atomically (temporary file + rename)."""
    return write_text(path, json.dumps(to_jsonable(record), indent=1, allow_nan=False) + "\n")


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (temporary file + rename): a reader, or a run interrupted while
    writing, never sees a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the rename makes it visible
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions of a new file
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt included: leave no temporary file behind
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_json(path, regenerate_hint):
    """Read and validate a result file; raise :class:`CacheError` naming the problem and the fix."""
    path = Path(path)
    if not path.exists():
        raise CacheError(f"no cached result at {path}; produce it with: {regenerate_hint}")
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheError(f"{path} is corrupted ({exc}); regenerate it with: {regenerate_hint}") from None
    if not isinstance(raw, dict):
        raise CacheError(f"{path} does not hold a JSON object; regenerate it with: {regenerate_hint}")
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise CacheError(f"{path} lacks the keys {missing}; regenerate it with: {regenerate_hint}")
    if raw["schema"] != SCHEMA:
        raise CacheError(f"{path} has schema {raw['schema']!r}, expected {SCHEMA!r}; regenerate it with: {regenerate_hint}")
    if not isinstance(raw["parameters"], dict) or not isinstance(raw["theory"], dict):
        raise CacheError(f"{path}: 'parameters' and 'theory' must be JSON objects; regenerate it with: {regenerate_hint}")
    if raw["simulation"] is not None and not isinstance(raw["simulation"], dict):
        raise CacheError(f"{path}: 'simulation' must be an object or null; regenerate it with: {regenerate_hint}")
    return raw


def parameter_differences(stored, current, prefix=""):
    """Human-readable differences between two JSON parameter trees (stored in a file vs defined in code)."""
    out = []
    if isinstance(stored, dict) and isinstance(current, dict):
        for k in sorted(set(stored) | set(current)):
            key = f"{prefix}{k}"
            if k not in stored:
                out.append(f"{key}: missing in the file, {current[k]!r} in the code")
            elif k not in current:
                out.append(f"{key}: {stored[k]!r} in the file, no longer in the code")
            else:
                out.extend(parameter_differences(stored[k], current[k], key + "."))
    elif stored != current:
        out.append(f"{prefix.rstrip('.')}: {stored!r} in the file, {current!r} in the code")
    return out


# -- schemas of result files -------------------------------------------------------------------------------

class _Invalid(Exception):
    """A schema violation at ``where`` (a key path such as ``theory.curves['rho=0.9'].mean_error[3]``)."""

    def __init__(self, where, message):
        super().__init__(where, message)
        self.where, self.message = where, message


def _describe(value):
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Dims:
    """Lengths of the named dimensions seen so far (or fixed by the parameters), and where each was set."""

    def __init__(self, fixed=None):
        self.seen = {name: (int(n), "the parameters") for name, n in (fixed or {}).items()}

    def bind(self, name, n, where):
        if name is None:
            return
        if isinstance(name, int):
            if n != name:
                raise _Invalid(where, f"has length {n}, expected {name}")
            return
        if name not in self.seen:
            self.seen[name] = (n, where)
        elif self.seen[name][0] != n:
            m, other = self.seen[name]
            raise _Invalid(where, f"has length {n} along {name!r}, but {other} has length {m} "
                                  "(parallel arrays must have the same length)")


class Schema:
    """A node of a result schema: ``validate(value, where, dims)`` raises on a violation."""

    def validate(self, value, where, dims):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Num(Schema):
    """A real number: finite unless ``nan`` / ``inf`` (+inf only: couplings, widths) allow it; ``>= minimum``
    (``> minimum`` with ``strict``); ``integer``: an integral value, never a boolean."""

    minimum: float | None = None
    strict: bool = False
    nan: bool = False
    inf: bool = False
    integer: bool = False

    def describe(self):
        parts = ["an integer" if self.integer else "a number"]
        if self.minimum is not None:
            parts.append(f"{'>' if self.strict else '>='} {self.minimum:g}")
        parts.append("(" + ", ".join(["finite" if not (self.nan or self.inf) else
                                      "inf allowed" if self.inf and not self.nan else
                                      "NaN allowed" if self.nan and not self.inf else "NaN and inf allowed"]) + ")")
        return " ".join(parts)

    def _bad(self, x):
        if math.isnan(x):
            return not self.nan
        if math.isinf(x):
            return not (self.inf and x > 0)
        if self.integer and not float(x).is_integer():
            return True
        if self.minimum is not None and (x < self.minimum or (self.strict and x == self.minimum)):
            return True
        return False

    def validate(self, value, where, dims):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise _Invalid(where, f"must be {self.describe()}, got {_describe(value)}")
        if self.integer and isinstance(value, (float, np.floating)) and not math.isinf(value):
            raise _Invalid(where, f"must be {self.describe()} (an integer, not a float), got {_describe(value)}")
        if self._bad(float(value)):
            raise _Invalid(where, f"must be {self.describe()}, got {_describe(value)}")

    def validate_array(self, arr, where):
        bad = np.array([self._bad(x) for x in arr.ravel()], dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            index = np.unravel_index(i, arr.shape)
            raise _Invalid(f"{where}[{', '.join(map(str, index))}]",
                           f"must be {self.describe()}, got {arr.ravel()[i]!r} ({int(bad.sum())} bad of {arr.size})")


@dataclass(frozen=True)
class Arr(Schema):
    """An array of :class:`Num` items whose shape is given by dimension names (a length shared by every array
    of that name), integers (a fixed length) or None (any length)."""

    item: Num
    shape: tuple = (None,)

    def __init__(self, item, *shape):
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "shape", shape or (None,))

    def validate(self, value, where, dims):
        if isinstance(value, list) and not value:
            value = np.zeros((0,) * len(self.shape))
        if not isinstance(value, np.ndarray):
            if isinstance(value, list):
                flat = value
                while flat and all(isinstance(v, (list, np.ndarray)) for v in flat):
                    flat = [x for v in flat for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
                bad = next((i for i, v in enumerate(flat) if isinstance(v, bool) or
                            not isinstance(v, (int, float, np.integer, np.floating))), None)
                if bad is not None:
                    raise _Invalid(where, f"must be an array of {self.item.describe()}s, but holds {flat[bad]!r}")
                raise _Invalid(where, f"must be a rectangular array of {len(self.shape)} dimension(s), "
                                      f"got a ragged list {_describe(value)}")
            raise _Invalid(where, f"must be an array of {self.item.describe()}s, got {_describe(value)}")
        if value.ndim != len(self.shape):
            raise _Invalid(where, f"must have {len(self.shape)} dimension(s), got shape {value.shape}")
        for name, n in zip(self.shape, value.shape):
            dims.bind(name, n, where)
        self.item.validate_array(value, where)


@dataclass(frozen=True)
class Text(Schema):
    """A string, one of ``choices`` if given."""

    choices: tuple = ()

    def __init__(self, *choices):
        object.__setattr__(self, "choices", choices)

    def validate(self, value, where, dims):
        if not isinstance(value, str) or (self.choices and value not in self.choices):
            want = f"one of {list(self.choices)}" if self.choices else "a string"
            raise _Invalid(where, f"must be {want}, got {_describe(value)}")


@dataclass(frozen=True)
class Flag(Schema):
    """A boolean."""

    def validate(self, value, where, dims):
        if not isinstance(value, bool):
            raise _Invalid(where, f"must be true or false, got {_describe(value)}")


@dataclass(frozen=True)
class Anything(Schema):
    """Free-form content, not checked (machine descriptions, run times of diagnostics)."""

    def validate(self, value, where, dims):
        return None


@dataclass(frozen=True)
class Maybe(Schema):
    """``schema`` or null."""

    schema: Schema

    def validate(self, value, where, dims):
        if value is not None:
            self.schema.validate(value, where, dims)


@dataclass(frozen=True)
class Obj(Schema):
    """A JSON object with the ``fields`` (required) and ``optional`` keys, each with its schema; other keys are
    refused unless ``extra`` gives their schema. ``rules``: ``(function(obj) -> message or None)`` for the
    relations between fields (e.g. ``alpha = P/N1``)."""

    fields: dict
    optional: dict = field(default_factory=dict)
    extra: Schema | None = None
    rules: tuple = ()

    def validate(self, value, where, dims):
        if not isinstance(value, dict):
            raise _Invalid(where, f"must be an object with the keys {sorted(self.fields)}, got {_describe(value)}")
        missing = [k for k in self.fields if k not in value]
        if missing:
            raise _Invalid(where, f"lacks the key(s) {missing}")
        for k, v in value.items():
            schema = self.fields.get(k, self.optional.get(k, self.extra))
            if schema is None:
                raise _Invalid(_join(where, k), f"is not a known key (known: {sorted({**self.fields, **self.optional})})")
            schema.validate(v, _join(where, k), dims)
        for rule in self.rules:
            message = rule(value)
            if message:
                raise _Invalid(where, message)


@dataclass(frozen=True)
class Map(Schema):
    """A JSON object with free keys (labels such as ``"rho=0.9"``), every value with the schema ``value``; at
    least ``min_size`` entries. Dimensions are shared across its values."""

    value: Schema
    min_size: int = 1

    def validate(self, value, where, dims):
        if not isinstance(value, dict) or len(value) < self.min_size:
            raise _Invalid(where, f"must be an object with at least {self.min_size} entr{'y' if self.min_size == 1 else 'ies'}, "
                                  f"got {_describe(value)}")
        for k, v in value.items():
            self.value.validate(v, _join(where, k), dims)


@dataclass(frozen=True)
class List(Schema):
    """A list of items with the schema ``item``, its length along the dimension ``length``."""

    item: Schema
    length: str | int | None = None

    def validate(self, value, where, dims):
        if isinstance(value, np.ndarray):
            value = list(value)
        if not isinstance(value, list) or not value:
            raise _Invalid(where, f"must be a non-empty list, got {_describe(value)}")
        dims.bind(self.length, len(value), where)
        for i, v in enumerate(value):
            self.item.validate(v, f"{where}[{i}]", dims)


def _join(where, key):
    return f"{where}.{key}" if where and str(key).isidentifier() else (f"{where}[{key!r}]" if where else str(key))


@dataclass(frozen=True)
class ResultSchema:
    """The declared content of an experiment's result file: the ``theory`` and ``simulation`` parts (registry
    experiments) or the ``rows`` (validation runs), and ``dims(parameters) -> {dimension: length}``, the
    lengths fixed by the parameters (e.g. the sampled couplings)."""

    theory: Schema | None = None
    simulation: Schema | None = None
    rows: Schema | None = None
    dims: object = None

    def fixed_dims(self, parameters):
        if self.dims is None:
            return {}
        try:
            return self.dims(parameters)
        except (KeyError, TypeError, ValueError):
            return {}  # parameters of another shape: the parameter check reports it


def check_schema(schema, value, where, *, path, hint, dims=None):
    """Check ``value`` (read with :func:`from_jsonable`) against ``schema``; :class:`SchemaError` naming the file
    ``path``, the key, the bad value and ``hint`` (the command that regenerates the file)."""
    try:
        schema.validate(value, where, dims if isinstance(dims, _Dims) else _Dims(dims))
    except _Invalid as exc:
        raise SchemaError(f"{path}: {exc.where} {exc.message}; regenerate the file with: {hint}") from None


def dims(fixed=None):
    """A fresh record of dimension lengths (shared between several :func:`check_schema` calls of one file)."""
    return _Dims(fixed)


# -- building blocks of the schemas ---------------------------------------------------------------------------

#: A finite real number (a relatedness, an overlap that can be negative such as Q_st, a benefit E(0) - E).
FINITE = Num()
#: A finite number >= 0 (test errors, variances, order parameters that are squared norms, seconds).
NONNEG = Num(0.0)
#: A finite number > 0.
POSITIVE = Num(0.0, strict=True)
#: A standard error: >= 0, NaN allowed (too few chains for an estimate), never negative or infinite.
STDERR = Num(0.0, nan=True)
#: A theory value from a saddle-point solve: >= 0, NaN where the solve failed (the experiments count these).
SOLVED = Num(0.0, nan=True)
#: A coupling gamma: >= 0, inf allowed (frozen features).
COUPLING = Num(0.0, inf=True)
#: A width N1: a positive integer, inf allowed (the infinite-width limit).
WIDTH = Num(1.0, inf=True, integer=True)
#: A count (sizes, seeds, steps): an integer >= 0.
COUNT = Num(0.0, integer=True)
#: A size that must be at least one (P, N0, N1).
SIZE = Num(1.0, integer=True)

#: Value constraints of the sampled observables stored by the experiments: squared norms and errors are >= 0;
#: the cross overlaps Q_st and Q_tt (source-target, target-target replicas) can be negative in a sample, and
#: so can the sampled source-to-source variance, an unbiased two-replica covariance whose true value is 0 at
#: gamma = 0 (the cached digits and decomposition runs hold -2e-5 there, within 1-2 standard errors).
OBSERVABLES = {"Q": NONNEG, "Q_s": NONNEG, "Q_t": NONNEG, "Q_st": FINITE, "Q_tt": FINITE, "train_error": NONNEG,
               "gibbs_error": NONNEG, "mean_error": NONNEG, "single_source_error": NONNEG,
               "source_variance": FINITE, "control_gibbs_error": NONNEG, "control_mean_error": NONNEG}


def estimates(keys, *shape, optional=()):
    """``{key: {"mean": array, "se": array}}`` for the observables ``keys`` (+ ``optional`` ones), arrays of
    ``shape``: means with the constraint of :data:`OBSERVABLES`, standard errors :data:`STDERR`."""
    def one(k):
        return Obj({"mean": Arr(OBSERVABLES.get(k, FINITE), *shape), "se": Arr(STDERR, *shape)})
    return Obj({k: one(k) for k in keys}, optional={k: one(k) for k in optional})


def estimate(key):
    """One scalar estimate ``{"mean", "se"}`` of the observable ``key``."""
    return Obj({"mean": OBSERVABLES.get(key, FINITE), "se": STDERR})


#: Sampler diagnostics: named numbers (NaN and inf allowed: an R-hat or ESS that could not be estimated).
DIAGNOSTICS = Map(Num(nan=True, inf=True), min_size=0)


def partial_path(path):
    """Where a run keeps its progress until it is complete: ``<name>.partial.json`` next to ``<name>.json``."""
    path = Path(path)
    stem = path.name[:-len(".json")] if path.name.endswith(".json") else path.name
    return path.with_name(stem + ".partial.json")
