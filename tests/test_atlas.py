"""Accuracy atlas: the quick atlas runs end to end (< 60 s), its files carry every parameter and the sampler
diagnostics, the atlas tables join new and cached points (the analysis helpers are tested in test_accuracy.py)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from tflmini.experiments import atlas, get_experiment, list_experiments, load, result_path, run

NAMES = ("atlas_alpha", "atlas_temperature", "atlas_width", "atlas_tasks", "atlas_transfer")


@pytest.fixture(scope="module")
def quick_atlas(tmp_path_factory):
    directory = tmp_path_factory.mktemp("atlas")
    t0 = time.perf_counter()
    for name in NAMES:
        run(name, quick=True, directory=directory, progress=False)
    return directory, time.perf_counter() - t0


def test_atlas_experiments_are_registered():
    assert set(NAMES) <= set(list_experiments())
    for name in NAMES:
        full = get_experiment(name).parameters()
        assert "temperature" in full and "lambda0" in full and "lambda1" in full and "activation" in full
        assert full["sampler"] != get_experiment(name).parameters(quick=True)["sampler"]


def test_quick_atlas_runs_within_a_minute(quick_atlas):
    directory, seconds = quick_atlas
    assert seconds < 60
    for name in NAMES:
        raw = json.loads(result_path(name, quick=True, directory=directory).read_text())
        assert raw["parameters"]["experiment"] == name and raw["seed"] == raw["parameters"]["seed"]
        assert raw["timing"]["simulation_seconds"] > 0


@pytest.mark.parametrize("name", NAMES[:4])
def test_single_network_points_store_diagnostics(quick_atlas, name):
    directory, _ = quick_atlas
    r = load(name, quick=True, directory=directory, require_simulation=True)
    n = len(r.theory["activation"])
    assert n == len(atlas._single_points(r.parameters)) > 0
    diag = r.simulation["diagnostics"]
    assert set(atlas.DIAGNOSTIC_KEYS) <= set(diag)
    # Metropolis-adjusted: a proper acceptance rate in (0, 1], finite R-hat and ESS at every point
    assert np.all((diag["acceptance"] > 0) & (diag["acceptance"] <= 1))
    assert np.all(np.isfinite(diag["rhat_Q"])) and np.all(diag["ess_Q"] > 0)
    assert r.simulation["seconds"].shape == (n,) and np.all(r.simulation["seconds"] >= 0)
    for k in atlas.SINGLE_KEYS:
        assert r.theory[k].shape == (n,) and np.all(np.isfinite(r.theory[k]))
        assert np.all(r.simulation[k]["se"] >= 0)
    # the points are those of the grid: P = alpha N1, N0 as requested
    np.testing.assert_allclose(r.theory["P"], np.round(r.theory["alpha"] * r.theory["n_hidden"]))


def test_width_grid_keeps_P_over_N0_fixed():
    p = get_experiment("atlas_width").parameters()
    pts = atlas._single_points(p)
    added = {}
    for n1, ratio in p["grid"]["added"]:
        added.setdefault(ratio, []).append(n1)
    assert added == {0.5: [800]}  # the N1 = 800 point of the proportional sequence N0 = N1/2
    for ratio in p["grid"]["n0_over_n1"]:
        sel = [(n1, n0, P) for (_, n1, n0, P, _) in pts if n0 == round(ratio * n1)]
        assert [n1 for n1, _, _ in sel] == p["grid"]["widths"] + added.get(ratio, [])
        assert len({P / n0 for _, n0, P in sel}) == 1 and len({P / n1 for n1, _, P in sel}) == 1


def test_added_points_keep_the_seeds_of_the_grid():
    """Points added after the grid come last, so every earlier point keeps its place (hence its seeds)."""
    p = get_experiment("atlas_width").parameters()
    base = {**p, "grid": {k: v for k, v in p["grid"].items() if k != "added"}}
    pts, old = atlas._single_points(p), atlas._single_points(base)
    assert pts[:len(old)] == old and len(pts) == len(old) + len(p["grid"]["added"])
    assert atlas._point_keys(pts)[:len(old)] == atlas._point_keys(old)


def test_transfer_points(quick_atlas):
    directory, _ = quick_atlas
    r = load("atlas_transfer", quick=True, directory=directory, require_simulation=True)
    g = r.theory["gamma"]
    assert g.size == len(r.parameters["gammas"]) * len(r.parameters["rhos"]) * len(r.parameters["widths"])
    # theory: no source-target overlap without coupling
    np.testing.assert_allclose(r.theory["Q_st"][g == 0], 0.0, atol=1e-10)
    acc = r.simulation["target_acceptance"]
    assert np.all(acc[np.isinf(g)] == 1.0) and np.all((acc > 0) & (acc <= 1))
    assert np.all((r.simulation["source_acceptance"] > 0) & (r.simulation["source_acceptance"] <= 1))


def test_atlas_tables_join_new_and_cached_points(quick_atlas):
    directory, _ = quick_atlas
    t = atlas.single_network_atlas(quick=True, directory=directory, include_cached_validation=False)
    n = sum(len(load(nm, quick=True, directory=directory).theory["P"]) for nm in NAMES[:4])
    assert len(t["source"]) == n and t["P"].shape == (n,)
    d = t["gibbs_error"]
    np.testing.assert_allclose(d["dev"], (d["mean"] - d["theory"]) / d["theory"])
    np.testing.assert_allclose(t["alpha"], t["P"] / t["n_hidden"])
    full = atlas.single_network_atlas(quick=True, directory=directory)
    assert len(full["source"]) >= n
    tr = atlas.transfer_atlas(quick=True, directory=directory, include_cached_validation=False)
    assert set(tr["source"]) == {"atlas_transfer"}
    # Q_st is predicted 0 at gamma = 0: its relative deviation is undefined, reported as NaN
    assert np.all(np.isnan(tr["Q_st"]["dev"][tr["gamma"] == 0]))
    assert np.all(np.isfinite(tr["gibbs_error"]["dev"]))


def test_missing_atlas_files_are_skipped(tmp_path):
    t = atlas.single_network_atlas(directory=tmp_path, include_cached_validation=False)
    assert t["P"].size == 0 and t["alpha"].size == 0
    tr = atlas.transfer_atlas(directory=tmp_path, include_cached_validation=False)
    assert tr["gamma"].size == 0


def test_task_repetitions_are_independent_training_sets():
    p = get_experiment("atlas_tasks").parameters()
    pts = atlas._single_points(p)
    assert len(pts) == len(p["grid"]["widths"]) * p["grid"]["n_tasks"]
    t0, t1 = atlas._point_task(p, 0, pts[0][2], pts[0][3]), atlas._point_task(p, 1, pts[1][2], pts[1][3])
    assert pts[0] == pts[1] and not np.allclose(t0.X_train, t1.X_train)
