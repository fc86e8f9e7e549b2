"""Experiments on every core and on a Dask cluster (issue 20, items 1 and 2).

The points of an experiment run through joblib (``--jobs N``) or a Dask cluster (``--backend dask --scheduler
ADDRESS``); each point is seeded by its place in the grid, so the numbers do not depend on where or in what
order points run; each finished point goes to ``<name>.partial.json`` at once, so a run killed at any moment
resumes without losing it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tflmini.experiments import get_experiment, load, run
from tflmini.experiments._cache import partial_path
from tflmini.experiments._parallel import check_backend, check_jobs, map_points

ROOT = Path(__file__).resolve().parents[1]
NAME = "atlas_alpha"
#: What differs from one run to another of the same experiment: dates, timings, the machine and how it ran.
TIMING = ("created", "timing", "machine")


def _numbers(path):
    """The content of a result file without its timing fields (and the per-point sampler seconds)."""
    raw = json.loads(Path(path).read_text())
    for k in TIMING:
        raw.pop(k)
    if raw["simulation"] is not None:
        raw["simulation"].pop("seconds")
    return raw


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    """The quick atlas run in this process (``jobs=1``): the reference numbers."""
    directory = tmp_path_factory.mktemp("jobs1")
    return run(NAME, quick=True, directory=directory, progress=False, jobs=1)


def test_two_jobs_give_the_numbers_of_one(in_process, tmp_path):
    path = run(NAME, quick=True, directory=tmp_path, progress=False, jobs=2)
    assert _numbers(path) == _numbers(in_process)
    raw = json.loads(path.read_text())
    assert raw["machine"]["jobs"] == 2 and raw["machine"]["backend"] == "loky"
    assert not partial_path(path).exists()  # removed once the result is written
    assert load(NAME, quick=True, directory=tmp_path, require_simulation=True).simulation["P"].size > 2


def _without_times(tree):
    """A result file's tree without its timing fields, at any depth (validation rows carry their seconds)."""
    if isinstance(tree, dict):
        return {k: _without_times(v) for k, v in tree.items()
                if k not in TIMING + ("seconds", "seconds_this_rho", "wall_seconds")}
    if isinstance(tree, list):
        return [_without_times(v) for v in tree]
    return tree


@pytest.mark.parametrize("name", ["width_effect", "validation_relu"])
def test_other_parallel_experiments_give_the_same_numbers_for_any_jobs(name, tmp_path):
    """The widths of a sweep and the configurations of a validation run (rows written in the grid's order)."""
    one = run(name, quick=True, directory=tmp_path / "one", progress=False, jobs=1)
    two = run(name, quick=True, directory=tmp_path / "two", progress=False, jobs=2)
    assert _without_times(json.loads(two.read_text())) == _without_times(json.loads(one.read_text()))


def test_order_of_the_points_does_not_matter(in_process, tmp_path, monkeypatch):
    """Points handed out in reverse order (as if they finished in another order) give the same file."""
    from tflmini.experiments import _parallel

    original = _parallel._finished

    def reversed_order(func, todo, ex):
        yield from original(func, list(reversed(todo)), ex)

    monkeypatch.setattr(_parallel, "_finished", reversed_order)
    path = run(NAME, quick=True, directory=tmp_path, progress=False, jobs=1)
    assert _numbers(path) == _numbers(in_process)


#: Runs the quick atlas in this process with each sampled point slowed down by 0.4 s, so that the test can
#: kill it between points: the numbers are those of the real points.
SLOW_RUN = textwrap.dedent("""
    import sys, time
    from tflmini.experiments import atlas, run

    real = atlas._single_simulation_point

    def slow(p, point):
        out = real(p, point)
        time.sleep(0.4)
        return out

    atlas._single_simulation_point = slow
    run("atlas_alpha", quick=True, directory=sys.argv[1], progress=False, jobs=1)
""")


def test_sigkill_mid_run_loses_no_finished_point_and_resume_completes_it(in_process, tmp_path):
    partial = partial_path(tmp_path / f"{NAME}.quick.json")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(tmp_path)], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    done = 0
    deadline = time.time() + 120
    try:
        while time.time() < deadline and proc.poll() is None:
            if partial.exists():
                done = len(json.loads(partial.read_text())["points"].get("simulation", {}))
                if done >= 2:
                    break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    n_points = len(json.loads(in_process.read_text())["theory"]["P"])
    kept = json.loads(partial.read_text())
    assert kept["complete"] is False and 2 <= len(kept["points"]["simulation"]) < n_points
    assert len(kept["points"]["theory"]) == n_points
    assert not (tmp_path / f"{NAME}.quick.json").exists()  # the result is written only when complete
    # the resumed run keeps the points already sampled and runs the others on two workers
    cli = [sys.executable, "-m", "tflmini.experiments", "run", NAME, "--quick", "--no-progress",
           "--directory", str(tmp_path)]
    resumed = subprocess.run(cli + ["--resume", "--jobs", "2"], capture_output=True, text=True, env=_env(), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    kept_points = n_points + len(kept["points"]["simulation"])
    assert f"resuming: {kept_points} points kept" in resumed.stdout
    printed = [line for line in resumed.stdout.splitlines() if line.startswith(f"  [{NAME}]")]
    assert len(printed) == n_points - len(kept["points"]["simulation"])  # only the missing points were sampled
    assert _numbers(tmp_path / f"{NAME}.quick.json") == _numbers(in_process)
    assert not partial.exists()


def test_resume_ignores_a_partial_file_of_other_parameters(in_process, tmp_path):
    partial = partial_path(tmp_path / f"{NAME}.quick.json")
    partial.write_text(json.dumps({"schema": "tflmini.experiment/1", "experiment": NAME, "quick": True,
                                   "parameters": {"seed": 0}, "complete": False,
                                   "points": {"simulation": {"0": {"bogus": 1}}}}))
    proc = subprocess.run([sys.executable, "-m", "tflmini.experiments", "run", NAME, "--quick", "--no-progress",
                           "--resume", "--jobs", "1", "--directory", str(tmp_path)],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "not resuming" in proc.stdout and "resuming: " not in proc.stdout.replace("not resuming", "")
    assert _numbers(tmp_path / f"{NAME}.quick.json") == _numbers(in_process)


def test_a_dask_cluster_gives_the_numbers_of_the_local_run(in_process, tmp_path):
    import dask.distributed as distributed  # installed by `make test` (requirements/test.txt)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        path = run(NAME, quick=True, directory=tmp_path / "python", progress=False, backend="dask",
                   scheduler=cluster.scheduler_address)
        cli = subprocess.run([sys.executable, "-m", "tflmini.experiments", "run", "atlas_transfer", "--quick",
                              "--no-progress", "--backend", "dask", "--scheduler", cluster.scheduler_address,
                              "--directory", str(tmp_path / "cli")], capture_output=True, text=True, env=_env(),
                             timeout=300)
        assert cli.returncode == 0, cli.stderr
        with distributed.Client(cluster.scheduler_address) as client:
            worker_pids = set(client.run(os.getpid).values())
    assert _numbers(path) == _numbers(in_process)
    assert json.loads(path.read_text())["machine"]["backend"] == "dask"
    local = run("atlas_transfer", quick=True, directory=tmp_path / "local", progress=False, jobs=1)
    assert _numbers(tmp_path / "cli" / "atlas_transfer.quick.json") == _numbers(local)
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids


def test_points_run_in_worker_processes_with_one_blas_thread(tmp_path):
    """With two jobs the points run in other processes, each with BLAS limited to one thread."""
    from tflmini.experiments._parallel import executing

    with executing(jobs=2):
        seen = map_points("probe", _where, range(4), range(4), desc="probe", progress=False)
    assert {pid for pid, _ in seen} - {os.getpid()}
    assert all(threads == 1 for _, threads in seen)


def _where(_):
    from threadpoolctl import threadpool_info

    return os.getpid(), max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def test_bad_arguments_are_refused():
    assert check_jobs(None) == (os.cpu_count() or 1) and check_jobs(3) == 3
    with pytest.raises(ValueError, match="jobs"):
        check_jobs(0)
    with pytest.raises(TypeError, match="jobs"):
        check_jobs("2")
    with pytest.raises(ValueError, match="backend"):
        check_backend("ray", None)
    with pytest.raises(ValueError, match="scheduler"):
        check_backend("dask", None)
    with pytest.raises(ValueError, match="scheduler"):
        run(NAME, quick=True, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="keys"):
        map_points("x", str, [1, 2], ["a", "a"], desc="", progress=False)
    with pytest.raises(ValueError, match="cannot resume"):
        get_experiment("gamma_sweep").execute(Path("/nonexistent/x.json"), resume=True)
    cli = [sys.executable, "-m", "tflmini.experiments", "run", NAME, "--quick"]
    for args, message in ((["--jobs", "0"], "--jobs"), (["--backend", "dask"], "--scheduler"),
                          (["--scheduler", "tcp://127.0.0.1:1"], "--backend dask"),
                          (["--backend", "ray"], "--backend")):
        proc = subprocess.run(cli + args, capture_output=True, text=True, env=_env(), timeout=120)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
