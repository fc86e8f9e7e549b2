"""Experiments: every one runs at its --quick size (theory and simulation) into a temporary directory;
result files carry parameters, seed and version; loading detects missing, corrupted and stale caches.
The validation runs (theory vs sampled networks, row files of tflmini.results) run at their --quick size too,
and their files load through the loaders of tflmini.results."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tflmini
from tflmini import experiments
from tflmini.experiments import (CacheError, StaleCacheError, StaleCacheWarning, findings_tables, format_tables,
                                 get_experiment, list_experiments, load, result_path, run)
from tflmini.experiments._cache import REQUIRED_KEYS, from_jsonable, to_jsonable
from tflmini.results import ResultsError, load_input_dimension, load_validation, load_validation_transfer

ROOT = Path(__file__).resolve().parents[1]
#: The validation runs and the loader of tflmini.results that reads each one's file (refusing a partial one).
VALIDATION = {"validation_single_network": lambda path: load_validation(path=path, require_complete=True),
              "validation_relu": lambda path: load_validation("validation_relu", path=path, require_complete=True),
              "validation_transfer": lambda path: load_validation_transfer(path, require_complete=True),
              "accuracy_input_dimension": lambda path: load_input_dimension(path=path)}
NAMES = [name for name in list_experiments() if name not in VALIDATION]
EXPECTED = {"alpha_sweep", "gamma_sweep", "relatedness_sweep", "width_effect", "source_size", "map_gamma_rho",
            "map_alpha_rho", "digits_gamma_sweep", "digits_relatedness_sweep", "digits_width_effect",
            "digits_source_size"}


def _quick_runs(tmp_path_factory, folder, names):
    directory = tmp_path_factory.mktemp(folder)
    for name in names:
        run(name, quick=True, directory=directory, progress=False)
    return directory


@pytest.fixture(scope="module")
def quick_dir(tmp_path_factory):
    """Every experiment at its quick size, run once for this module."""
    return _quick_runs(tmp_path_factory, "experiments", NAMES)


def _finite_leaves(tree):
    if isinstance(tree, dict):
        for v in tree.values():
            yield from _finite_leaves(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from _finite_leaves(v)
    elif isinstance(tree, np.ndarray):
        yield tree


def _error_arrays(tree, inside=False):
    """Arrays stored under a key naming a test error (E_*, *_error), skipping standard errors."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == "se":
                continue
            yield from _error_arrays(v, inside or k.endswith("_error") or k.startswith("E_") or k == "E")
    elif isinstance(tree, list):
        for v in tree:
            yield from _error_arrays(v, inside)
    elif inside and isinstance(tree, np.ndarray):
        yield tree


def test_registry_has_every_required_experiment():
    assert EXPECTED <= set(NAMES)
    assert set(VALIDATION) <= set(list_experiments())
    for name in list_experiments():
        exp = get_experiment(name)
        full, quick = exp.parameters(), exp.parameters(quick=True)
        assert full["seed"] == quick["seed"]
        assert full["experiment"] == name if name in NAMES else (full["quick"], quick["quick"]) == (False, True)
        assert full != quick


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_writes_a_complete_valid_file(quick_dir, name):
    raw = json.loads(result_path(name, quick=True, directory=quick_dir).read_text())
    assert set(REQUIRED_KEYS) <= set(raw)
    assert raw["tflmini_version"] == tflmini.__version__ and raw["quick"] is True
    assert raw["seed"] == raw["parameters"]["seed"]
    assert raw["parameters"] == to_jsonable(get_experiment(name).parameters(quick=True))
    res = load(name, quick=True, directory=quick_dir, require_simulation=True)
    assert res.simulation is not None and res.theory
    arrays = list(_finite_leaves(res.theory)) + list(_finite_leaves(res.simulation))
    assert arrays and all(a.size > 0 for a in arrays)
    # every test error, predicted or sampled, is a finite positive number
    errors = list(_error_arrays(res.theory)) + list(_error_arrays(res.simulation))
    assert errors
    for a in errors:
        assert np.all(np.isfinite(a)) and np.all(a > 0), a
    assert res.meta["timing"]["theory_seconds"] >= 0


def test_theory_facts_visible_in_quick_results(quick_dir):
    r = load("gamma_sweep", quick=True, directory=quick_dir)
    g = r.theory["gammas"]
    for curves in r.theory["curves"].values():
        lazy = curves["N1=inf"]
        # infinite width: no source information, the curve is that of a scratch network with prior c_tt(gamma)
        np.testing.assert_allclose(lazy["mean_error"], lazy["matched_mean_error"], rtol=1e-8)
        np.testing.assert_allclose(lazy["Q_st"], 0.0, atol=1e-12)
        assert lazy["mean_error"][0] == pytest.approx(lazy["mean_error"][-1], rel=1e-8)
        finite = curves[f"N1={r.parameters['n_hidden']}"]
        assert finite["Q_st"][0] == pytest.approx(0.0, abs=1e-10) and finite["Q_st"][-1] > 0
    assert g[0] == 0 and math.isinf(g[-1])
    m = load("map_gamma_rho", quick=True, directory=quick_dir).theory["maps"]["N1=inf"]
    # lazy limit: only the prior c_tt(gamma) changes, and c_tt is symmetric under gamma -> lambda0^2 / gamma
    np.testing.assert_allclose(m["gammas"][0] * m["gammas"][-1], 1.0)
    np.testing.assert_allclose(m["benefit"][:, 0], m["benefit"][:, -1], atol=1e-10)


def test_cli_list_and_run(tmp_path):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "tflmini.experiments", "list"], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert all(name in out for name in EXPECTED)
    proc = subprocess.run([sys.executable, "-m", "tflmini.experiments", "run", "gamma_sweep", "--quick",
                           "--theory-only", "--no-progress", "--directory", str(tmp_path)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert load("gamma_sweep", quick=True, directory=tmp_path).simulation is None
    with pytest.raises(CacheError, match="--theory-only"):
        load("gamma_sweep", quick=True, directory=tmp_path, require_simulation=True)
    bad = subprocess.run([sys.executable, "-m", "tflmini.experiments", "run", "no_such_thing"], capture_output=True,
                         text=True, env=env)
    assert bad.returncode != 0 and "unknown experiment" in bad.stderr


def test_theory_only_keeps_an_existing_simulation(tmp_path):
    run("map_gamma_rho", quick=True, directory=tmp_path, progress=False)
    first = load("map_gamma_rho", quick=True, directory=tmp_path)
    run("map_gamma_rho", quick=True, theory_only=True, directory=tmp_path, progress=False)
    second = load("map_gamma_rho", quick=True, directory=tmp_path, require_simulation=True)
    np.testing.assert_array_equal(first.simulation["results"][0]["mean_error"]["mean"],
                                  second.simulation["results"][0]["mean_error"]["mean"])


def test_missing_corrupted_and_incomplete_files(tmp_path, quick_dir):
    with pytest.raises(CacheError, match="python -m tflmini.experiments run alpha_sweep --quick"):
        load("alpha_sweep", quick=True, directory=tmp_path)
    path = result_path("alpha_sweep", quick=True, directory=tmp_path)
    path.write_text('{"schema": "tflmini.experiment/1", "theory": [1, 2')
    with pytest.raises(CacheError, match="corrupted"):
        load("alpha_sweep", quick=True, directory=tmp_path)
    raw = json.loads(result_path("alpha_sweep", quick=True, directory=quick_dir).read_text())
    del raw["seed"], raw["theory"]
    path.write_text(json.dumps(raw))
    with pytest.raises(CacheError, match=r"lacks the keys \['seed', 'theory'\]"):
        load("alpha_sweep", quick=True, directory=tmp_path)
    path.write_text("[]")
    with pytest.raises(CacheError, match="JSON object"):
        load("alpha_sweep", quick=True, directory=tmp_path)


def test_stale_cache_is_noticed(quick_dir, monkeypatch):
    exp = get_experiment("source_size")
    changed = dataclasses.replace(exp, quick={**exp.quick, "n_test": exp.quick["n_test"] + 1})
    with monkeypatch.context() as m:
        m.setitem(experiments.REGISTRY, "source_size", changed)
        with pytest.raises(StaleCacheError, match=r"n_test: 30 in the file, 31 in the code[\s\S]*run source_size --quick"):
            load("source_size", quick=True, directory=quick_dir)
        with pytest.warns(StaleCacheWarning, match="stale"):
            load("source_size", quick=True, directory=quick_dir, on_stale="warn")
        assert load("source_size", quick=True, directory=quick_dir, on_stale="ignore").parameters["n_test"] == 30
    load("source_size", quick=True, directory=quick_dir)  # the code's parameters again: fresh


def test_other_version_warns(tmp_path, quick_dir):
    raw = json.loads(result_path("alpha_sweep", quick=True, directory=quick_dir).read_text())
    raw["tflmini_version"] = "0.0.1"
    result_path("alpha_sweep", quick=True, directory=tmp_path).write_text(json.dumps(raw))
    with pytest.warns(StaleCacheWarning, match="0.0.1"):
        load("alpha_sweep", quick=True, directory=tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown experiment 'nope'"):
        load("nope")
    with pytest.raises(TypeError, match="name"):
        run(3)
    with pytest.raises(ValueError, match="on_stale"):
        load("alpha_sweep", on_stale="shout")


def test_json_round_trip_of_non_finite_numbers():
    tree = {"a": np.array([0.0, np.inf, -np.inf]), "b": [1, 2.5], "c": np.nan, "d": ["x", "inf"], "e": (1, True)}
    back = from_jsonable(json.loads(json.dumps(to_jsonable(tree), allow_nan=False)))
    np.testing.assert_array_equal(back["a"], [0.0, np.inf, -np.inf])
    assert isinstance(back["b"], np.ndarray) and math.isnan(back["c"]) and back["d"] == ["x", math.inf]
    with pytest.raises(TypeError, match="set"):
        to_jsonable({"s": {1, 2}})


def test_findings_tables_from_quick_results(quick_dir):
    tables = findings_tables(quick=True, directory=quick_dir)
    assert [t.finding for t in tables] == [1, 2, 3, 4]
    assert all(t.rows for t in tables)
    text = format_tables(tables)
    assert "Finding 4" in text and "±" in text


def test_default_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TFLMINI_EXPERIMENTS_DIR", str(tmp_path))
    assert experiments.default_directory() == tmp_path
    monkeypatch.delenv("TFLMINI_EXPERIMENTS_DIR")
    assert experiments.default_directory() == ROOT / "data" / "experiments"


# -- the validation runs: rows of theory vs sampled networks, in the files that tflmini.results reads ---------

@pytest.fixture(scope="module")
def validation_dir(tmp_path_factory):
    """Every validation run at its quick size, run once for this module."""
    return _quick_runs(tmp_path_factory, "validation", VALIDATION)


@pytest.mark.parametrize("name", sorted(VALIDATION))
def test_validation_quick_run_loads_through_the_results_loader(validation_dir, name):
    path = result_path(name, quick=True, directory=validation_dir)
    assert path.name == f"{name}.quick.json"
    raw = json.loads(path.read_text())
    assert raw["experiment"] == name and raw["complete"] is True and raw["tflmini_version"] == tflmini.__version__
    assert raw["parameters"] == get_experiment(name).parameters(quick=True) and raw["parameters"]["quick"] is True
    data = VALIDATION[name](path)
    assert len(data["rows"]) >= 2
    with pytest.raises(ValueError, match="tflmini.results.load"):
        load(name, quick=True, directory=validation_dir)


@pytest.mark.parametrize("name", sorted(VALIDATION))
def test_cached_validation_files_hold_the_parameters_of_the_code(name):
    """``python -m tflmini.experiments run NAME`` reruns the cached file's grid with its seeds: same parameters,
    at the place the loaders read (data/NAME.json)."""
    path = result_path(name)
    assert path == ROOT / "data" / f"{name}.json"
    raw = json.loads(path.read_text())
    assert raw["experiment"] == name
    assert raw["parameters"] == get_experiment(name).parameters()


def test_validation_transfer_resumes_and_other_options_are_refused(validation_dir, tmp_path):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "resumed.json"
    out.write_text(result_path("validation_transfer", quick=True, directory=validation_dir).read_text())
    cli = [sys.executable, "-m", "tflmini.experiments", "run"]
    # every (width, rho) group is already in the file: nothing is sampled again
    proc = subprocess.run(cli + ["validation_transfer", "--quick", "--resume", "--no-progress", "--out", str(out)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "resuming: 8 rows kept" in proc.stdout
    assert len(load_validation_transfer(out, require_complete=True)["rows"]) == 8
    for args, message in ((["validation_relu", "--quick", "--theory-only"], "no separate theory part"),
                          (["gamma_sweep", "--resume"], "cannot resume")):
        bad = subprocess.run(cli + args, capture_output=True, text=True, env=env)
        assert bad.returncode != 0 and message in bad.stderr, bad.stderr


def test_validation_run_writes_partial_results(tmp_path):
    """Progress goes after every row to <name>.partial.json, marked incomplete; the result file is written only
    when the run is complete, so an interrupted run never replaces it."""
    from tflmini.experiments._cache import IncompleteCacheError, partial_path

    def interrupted(grid, common, progress=True, on_rows=None, done=()):
        on_rows([{"activation": "erf", "n_hidden": 50, "P": 25, "alpha": 0.5,
                  "theory": {"Q": 1.0, "gibbs_error": 0.5, "mean_error": 0.4},
                  "sampler": {k: {"mean": 0.5, "se": 0.01} for k in ("Q", "train_error", "gibbs_error", "mean_error")}}])
        raise KeyboardInterrupt

    exp = dataclasses.replace(get_experiment("validation_single_network"), rows=interrupted)
    path = tmp_path / "validation_single_network.quick.json"
    path.write_text("a complete result\n")
    with pytest.raises(KeyboardInterrupt):
        exp.execute(path, quick=True, progress=False)
    assert path.read_text() == "a complete result\n"
    partial = partial_path(path)
    assert partial.name == "validation_single_network.quick.partial.json"
    assert load_validation(path=partial, allow_incomplete=True)["complete"] is False
    with pytest.raises(IncompleteCacheError, match="--quick --resume"):
        load_validation(path=partial)
    assert issubclass(IncompleteCacheError, ResultsError)
