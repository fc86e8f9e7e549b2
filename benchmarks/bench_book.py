"""Full book build time from a clean copy of the repository with its cached experiment results.

Method
------
1. The files a fresh clone would have are copied into a temporary directory: every file git tracks
   (``git ls-files``) plus the untracked files that are not git-ignored (``git ls-files --others
   --exclude-standard``: pages, notebooks and modules written but not yet committed). The cached
   results in ``data/`` are tracked, so they come along; nothing ignored does (no ``.venv``, no
   ``_build`` and so no jupyter-cache of executed pages, no ``_vendor`` assets).
2. ``make`` runs there in three timed phases: ``make venv`` (a new virtual environment with the pinned
   dependencies; pip installs from its local wheel cache), ``make vendor`` (the JavaScript assets from
   npm) and ``make book`` (executes every page into a fresh jupyter-cache and builds the HTML,
   ``jupyter-book build --all . -W --keep-going``).
3. The book phase's log gives the execution time of every page; the pages listed in ``_toc.yml``
   that exist in the copy are recorded, and so are the pages whose execution failed and the number
   of Sphinx warnings (``make book`` fails on any warning, but ``--keep-going`` builds every page
   first, so the time is still that of a full build).

BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1`` from ``run_all.py --threads 1``, the default),
pages are executed one after the other, as Jupyter Book does. The copy is deleted afterwards unless
``--keep``.

Usage: python benchmarks/bench_book.py [--keep] [--threads 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, THREAD_VARS, loadavg, log, write_json

PHASES = ("venv", "vendor", "book")


def checkout_files(root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(tracked, untracked-but-not-ignored) files of the work tree that exist, as repo-relative paths."""
    def ls(*args):
        out = subprocess.run(["git", "ls-files", "-z", *args], cwd=root, capture_output=True, check=True).stdout
        return sorted(p for p in out.decode().split("\0") if p and (root / p).is_file())

    return ls(), ls("--others", "--exclude-standard")


def copy_files(files, src: Path, dest: Path) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)


def toc_pages(root: Path) -> list[str]:
    """The ``file:`` / ``root:`` entries of ``_toc.yml`` (without suffix), in order."""
    text = (root / "_toc.yml").read_text()
    return re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)", text, re.MULTILINE)


def page_source(root: Path, page: str) -> str | None:
    for suffix in (".md", ".ipynb", ".rst"):
        if (root / f"{page}{suffix}").is_file():
            return f"{page}{suffix}"
    return None


def run_phase(target, cwd, log_path, env):
    t0 = time.perf_counter()
    with open(log_path, "w") as fh:
        proc = subprocess.run(["make", target], cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    return time.perf_counter() - t0, proc.returncode


def executed_pages(build_log: str, root: Path) -> dict:
    """Per-page execution times reported by myst-nb in the build log ({page: seconds})."""
    out = {}
    for m in re.finditer(r"^(\S+): Executed notebook in ([0-9.]+) seconds", build_log, re.MULTILINE):
        out[os.path.relpath(m.group(1), root)] = float(m.group(2))
    return out


def failed_pages(build_log: str, root: Path) -> list[str]:
    """Pages whose execution raised: myst-nb logs "<page>: WARNING: Executing notebook failed: <error>"."""
    found = re.findall(r"^(\S+?\.(?:md|ipynb))\S*: WARNING: Executing notebook failed", build_log, re.MULTILINE)
    return sorted({os.path.relpath(p, root) for p in found})


def run(keep=False, threads=1):
    if shutil.which("make") is None or shutil.which("git") is None:
        msg = "book build skipped: git and make are needed"
        log(msg)
        return {"skipped": msg}
    tmp = Path(tempfile.mkdtemp(prefix="tflmini-bookbuild-"))
    dest, logs = tmp / "tflmini", tmp / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL",
                                                            "JUPYTER_PATH")}
    env.update({v: str(threads) for v in THREAD_VARS})
    result = {"copy": str(dest), "logs": str(logs), "threads": threads, "phases": {}, "load_before": loadavg()}
    try:
        t0 = time.perf_counter()
        tracked, untracked = checkout_files()
        copy_files(tracked + untracked, ROOT, dest)
        result["copy_s"] = time.perf_counter() - t0
        result["n_files"] = {"tracked": len(tracked), "untracked": len(untracked)}
        result["untracked_files"] = untracked
        pages = toc_pages(dest)
        result["toc_pages"] = {p: page_source(dest, p) for p in pages}
        present = [p for p, s in result["toc_pages"].items() if s]
        absent = [p for p, s in result["toc_pages"].items() if not s]
        log(f"book build: copied {len(tracked)} tracked + {len(untracked)} untracked files to {dest} in "
            f"{result['copy_s']:.1f} s; {len(present)} of the {len(pages)} pages in _toc.yml exist"
            + (f" (missing: {', '.join(absent)})" if absent else ""))
        for phase in PHASES:
            before = loadavg()
            dt, rc = run_phase(phase, dest, logs / f"make-{phase}.log", env)
            result["phases"][phase] = {"seconds": dt, "returncode": rc, "load_before": before, "load_after": loadavg()}
            log(f"  make {phase}: {dt:7.1f} s (exit {rc}; load average before {before[0]:.2f}, after "
                f"{result['phases'][phase]['load_after'][0]:.2f})")
            if rc != 0 and phase != "book":
                tail = (logs / f"make-{phase}.log").read_text(errors="replace").splitlines()[-30:]
                result["failure_log_tail"] = tail
                log("  phase failed:\n    " + "\n    ".join(tail))
                break
        book_log_path = logs / "make-book.log"
        html_index = dest / "_build" / "html" / "index.html"
        result["completed"] = len(result["phases"]) == len(PHASES) and html_index.is_file()
        result["ok"] = result["completed"] and all(p["returncode"] == 0 for p in result["phases"].values())
        result["total_s"] = sum(p["seconds"] for p in result["phases"].values())
        result["book_s"] = result["phases"].get("book", {}).get("seconds")
        if book_log_path.is_file():
            build_log = book_log_path.read_text(errors="replace")
            result["page_execution_s"] = executed_pages(build_log, dest)
            result["failed_pages"] = failed_pages(build_log, dest)
            warnings = re.findall(r"^.*(?:WARNING|ERROR|CRITICAL):.*$", build_log, re.MULTILINE)
            result["n_warnings"] = len(warnings)
            result["warnings_head"] = warnings[:20]
            if result["completed"]:
                result["html_pages"] = sum(1 for _ in (dest / "_build" / "html").rglob("*.html"))
        result["load_after"] = loadavg()
        state = ("" if result["ok"] else
                 f" -- built with {result.get('n_warnings', '?')} warnings/errors" if result["completed"] else " -- FAILED")
        log(f"book build from a clean copy: {result['total_s']:.0f} s in all (environment "
            f"{result['phases'].get('venv', {}).get('seconds', float('nan')):.0f} s, assets "
            f"{result['phases'].get('vendor', {}).get('seconds', float('nan')):.0f} s, build "
            f"{result['book_s'] or float('nan'):.0f} s){state}")
        if result.get("page_execution_s"):
            log("  page execution: " + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(result["page_execution_s"].items())))
        if result.get("failed_pages"):
            log("  pages whose execution failed: " + ", ".join(result["failed_pages"]))
    finally:
        if not keep:
            t0 = time.perf_counter()
            shutil.rmtree(tmp, ignore_errors=True)
            result["cleanup_s"] = time.perf_counter() - t0
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="keep the copy (with its .venv and logs) for inspection")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads of the page execution")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    out = run(args.keep, args.threads)
    if args.json:
        write_json(args.json, out)


if __name__ == "__main__":
    main()
