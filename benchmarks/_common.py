"""Shared helpers of the benchmarks: timing (medians, interleaved runs), machine description, JSON.

Not a test module: nothing here asserts a speed. Every benchmark prints medians of several runs and
ratios of quantities measured in the same run, so that a loaded machine slows both sides alike.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def set_thread_env(n_threads: int) -> None:
    """Set the BLAS/OpenMP thread variables (effective only before numpy is first imported)."""
    for var in THREAD_VARS:
        os.environ[var] = str(n_threads)


def timed(fn):
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def interleaved_medians(fns: dict, repeat: int, warmup: bool = True) -> dict:
    """Median wall time of each callable in ``fns``, the calls interleaved round-robin ``repeat`` times
    (after one untimed warm-up round if ``warmup``), so that a change of machine load hits all of them.

    Returns {name: {"median": s, "min": s, "max": s, "runs": [...]}}.
    """
    if warmup:
        for fn in fns.values():
            fn()
    runs = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            runs[k].append(timed(fn)[0])
    return {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "runs": v} for k, v in runs.items()}


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return [float("nan")] * 3


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return m.group(1).strip() if m else (platform.processor() or platform.machine())


def cpu_flags_summary() -> list[str]:
    """The SIMD flags that matter for BLAS speed (from /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    m = re.search(r"^flags\s*:\s*(.+)$", text, re.MULTILINE)
    flags = set(m.group(1).split()) if m else set()
    return sorted(f for f in flags if f in {"avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl", "avx512_vnni"})


def memory_gb() -> float:
    try:
        m = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        return round(int(m.group(1)) / 2**20, 1)
    except (OSError, AttributeError):
        return float("nan")


def numpy_blas_info() -> dict:
    """numpy version and a summary of its BLAS/LAPACK (numpy.show_config) and of the live thread pools."""
    import numpy as np

    info = {"numpy": np.__version__}
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        info["blas"] = {k: deps["blas"].get(k) for k in ("name", "version", "openblas configuration") if k in deps["blas"]}
        info["lapack"] = {k: deps["lapack"].get(k) for k in ("name", "version") if k in deps["lapack"]}
    except Exception as exc:  # noqa: BLE001 - best effort description
        info["blas"] = f"unavailable ({exc})"
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture",
                                                       "threading_layer")} for p in threadpool_info()]
    except ImportError:
        pass
    return info


def machine_info(n_threads: int) -> dict:
    import scipy

    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "simd_flags": cpu_flags_summary(),
        "memory_gb": memory_gb(),
        "threads": n_threads,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "scipy": scipy.__version__,
        **numpy_blas_info(),
    }


def git_describe() -> dict:
    def run(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}


def fmt_ms(s: float) -> str:
    return f"{1e3 * s:9.1f} ms" if s < 10 else f"{s:9.2f} s "


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_json_default) + "\n")
    tmp.replace(path)


def _json_default(obj):
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:
        pass
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def log(msg: str) -> None:
    print(msg, flush=True, file=sys.stdout)
