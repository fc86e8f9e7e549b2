"""JSON result files of experiments: encoding (numpy arrays, non-finite floats), atomic writing, validation.

A result file is one JSON object with the keys in :data:`REQUIRED_KEYS`. Non-finite floats are written
as the strings ``"inf"``, ``"-inf"``, ``"nan"`` (strict JSON has no such numbers) and read back as floats.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

SCHEMA = "tflmini.experiment/1"
REQUIRED_KEYS = ("schema", "experiment", "quick", "parameters", "seed", "tflmini_version", "created", "timing",
                 "theory", "simulation")
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class CacheError(ValueError):
    """An experiment's result file is missing, corrupted or incomplete."""


class StaleCacheError(CacheError):
    """An experiment's result file was produced with other parameters than the code now defines."""


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
    with os.fdopen(fd, "w") as f:
        f.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions of a new file
    os.replace(tmp, path)
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
