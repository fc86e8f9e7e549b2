"""Cached results that cannot lie (issue 17, F3 and F4).

F3: every cached file is checked against the schema declared with its experiment (finite numbers, non-negative
errors, consistent lengths, known keys, integer widths) and against the code's parameters, name and version;
a partial file is refused unless asked for. F4: an interrupted validation run leaves its progress in
``<name>.partial.json``, never in the result file, and ``--resume`` completes it.

Every test works on copies of the cached files in a temporary directory: ``data/`` is never written.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tflmini import experiments
from tflmini.experiments._cache import (CacheError, IncompleteCacheError, SchemaError, StaleCacheError,
                                        StaleCacheWarning, partial_path, write_text)
from tflmini.results import ResultsError, load_input_dimension, load_validation, load_validation_transfer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def test_one_hierarchy_of_errors():
    for cls in (CacheError, SchemaError, StaleCacheError, IncompleteCacheError):
        assert issubclass(cls, ResultsError) and issubclass(cls, ValueError)


# -- F3: registry experiments (experiments.load) -----------------------------------------------------------

@pytest.fixture
def gamma_sweep_copy(tmp_path):
    shutil.copy(DATA / "experiments" / "gamma_sweep.json", tmp_path / "gamma_sweep.json")
    return tmp_path


def _tamper(directory, mutate, name="gamma_sweep"):
    path = directory / f"{name}.json"
    raw = json.loads(path.read_text())
    mutate(raw)
    path.write_text(json.dumps(raw))


def _curve(raw):
    return raw["theory"]["curves"]["rho=0.9"]["N1=100"]


TAMPERED = {
    "negative error": (lambda raw: _curve(raw)["mean_error"].__setitem__(3, -5.0), r"mean_error\[3\].*-5\.0"),
    "curve of -5.0": (lambda raw: _curve(raw).__setitem__("mean_error", -5.0), r"mean_error must be an array.*-5\.0"),
    "curve 'nan'": (lambda raw: _curve(raw).__setitem__("mean_error", "nan"), r"mean_error must be an array.*nan"),
    "curve 'oops'": (lambda raw: _curve(raw).__setitem__("mean_error", "oops"), r"mean_error must be an array.*oops"),
    "'oops' inside": (lambda raw: _curve(raw)["gibbs_error"].__setitem__(0, "oops"), r"gibbs_error.*'oops'"),
    "unrecorded NaN": (lambda raw: _curve(raw)["gibbs_error"].__setitem__(5, "nan"), r"NaN values but records n_failed = 0"),
    "truncated curve": (lambda raw: _curve(raw).__setitem__("Q_t", _curve(raw)["Q_t"][:-4]),
                        r"Q_t has length 61 along 'gamma'.*length 65"),
    "empty theory": (lambda raw: raw.__setitem__("theory", {}), r"theory lacks the key\(s\) \['gammas', 'curves'\]"),
    "empty curves": (lambda raw: raw["theory"].__setitem__("curves", {}), r"theory.curves must be an object"),
    "unknown key": (lambda raw: _curve(raw).__setitem__("bogus", [1.0]), r"bogus is not a known key"),
    "negative se": (lambda raw: raw["simulation"]["results"]["rho=0.3"]["Q_t"]["se"].__setitem__(0, -0.1),
                    r"results\['rho=0.3'\].Q_t.se\[0\] must be a number >= 0"),
    "infinite mean": (lambda raw: raw["simulation"]["results"]["rho=0.3"]["mean_error"]["mean"].__setitem__(1, "inf"),
                      r"mean_error.mean\[1\].*inf"),
    "sampled gammas truncated": (lambda raw: raw["simulation"].__setitem__("gammas", raw["simulation"]["gammas"][:-1]),
                                 r"simulation.gammas has length 5 along 'sim_gamma', but the parameters"),
    "boolean width": (lambda raw: raw["simulation"].__setitem__("n_hidden", True), r"n_hidden must be an integer"),
    "negative coupling": (lambda raw: raw["theory"]["gammas"].__setitem__(0, -1.0), r"theory.gammas\[0\].*-1\.0"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_registry_file_is_refused(gamma_sweep_copy, case):
    mutate, message = TAMPERED[case]
    _tamper(gamma_sweep_copy, mutate)
    with pytest.raises(SchemaError, match=message) as info:
        experiments.load("gamma_sweep", directory=gamma_sweep_copy)
    assert str(gamma_sweep_copy / "gamma_sweep.json") in str(info.value)
    assert "python -m tflmini.experiments run gamma_sweep" in str(info.value)


def test_untampered_copy_loads_and_findings_skip_a_broken_file(gamma_sweep_copy):
    assert experiments.load("gamma_sweep", directory=gamma_sweep_copy).theory["gammas"].size == 65
    _tamper(gamma_sweep_copy, TAMPERED["curve 'oops'"][0])
    tables = experiments.findings_tables(directory=gamma_sweep_copy)  # no crash inside numpy
    assert any("gamma_sweep" in note for t in tables for note in t.notes)


def test_every_cached_registry_file_meets_its_schema():
    for name in experiments.list_experiments(validation_runs=False):
        experiments.load(name)


# -- F3: validation files (tflmini.results) -------------------------------------------------------------------

def _copy(tmp_path, name, mutate=None):
    raw = json.loads((DATA / f"{name}.json").read_text())
    if mutate is not None:
        mutate(raw)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(raw))
    return path


def test_changed_parameters_are_stale_and_the_panel_refuses_them(tmp_path, monkeypatch):
    path = _copy(tmp_path, "validation_single_network", lambda raw: raw["parameters"].update(temperature=0.5))
    with pytest.raises(StaleCacheError, match=r"temperature: 0.5 in the file, 0.05 in the code"):
        load_validation(path=path)
    with pytest.warns(StaleCacheWarning, match="temperature"):
        load_validation(path=path, on_stale="warn")
    # the renormalization panel loads the default file: with such a file it refuses instead of overlaying
    # networks sampled at T = 0.05 on a theory started at T = 0.5
    monkeypatch.setenv("TFLMINI_DATA_DIR", str(tmp_path))
    from tflmini.widgets import renormalization_panel

    with pytest.raises(StaleCacheError, match="temperature"):
        renormalization_panel()


def test_version_name_and_size_are_checked(tmp_path):
    path = _copy(tmp_path, "validation_single_network", lambda raw: raw.update(tflmini_version="0.0.1"))
    with pytest.warns(StaleCacheWarning, match="0.0.1"):
        load_validation(path=path)
    with pytest.raises(StaleCacheError, match="holds experiment 'validation_single_network', not 'validation_relu'"):
        load_validation("validation_relu", path=_copy(tmp_path, "validation_single_network"))
    quick = _copy(tmp_path, "validation_single_network", lambda raw: raw["parameters"].update(quick=True))
    with pytest.raises(StaleCacheError, match=r"grid.widths: \[100, 200, 400, 800\] in the file, \[50, 100\]"):
        load_validation(path=quick)


def _transfer_row(raw, i=0):
    return raw["rows"][i]


BAD_TRANSFER = {
    "theory 'nan'": (lambda raw: _transfer_row(raw)["theory"].update(Q_t="nan"), r"rows\[0\].theory.Q_t.*nan"),
    "negative error": (lambda raw: _transfer_row(raw)["theory"].update(gibbs_error=-3), r"theory.gibbs_error.*-3"),
    "infinite mean": (lambda raw: _transfer_row(raw)["sampler"]["Q_s"].update(mean="inf"), r"sampler.Q_s.mean.*inf"),
    "negative coupling": (lambda raw: _transfer_row(raw).update(gamma=-1), r"rows\[0\].gamma.*-1"),
    "boolean width": (lambda raw: _transfer_row(raw).update(n_hidden=True), r"rows\[0\].n_hidden.*True"),
    "float width": (lambda raw: _transfer_row(raw).update(n_hidden=200.5), r"rows\[0\].n_hidden.*200.5"),
    "string se": (lambda raw: _transfer_row(raw)["sampler"]["Q_t"].update(se="0.1"), r"sampler.Q_t.se.*'0.1'"),
    "unknown key": (lambda raw: _transfer_row(raw).update(extra=1), r"rows\[0\].extra is not a known key"),
    "row outside the grid": (lambda raw: _transfer_row(raw).update(rho=0.7), r"rows\[0\] is the configuration"),
    "repeated row": (lambda raw: raw["rows"].__setitem__(1, copy.deepcopy(raw["rows"][0])), r"rows\[1\] repeats"),
    "complete but short": (lambda raw: raw["rows"].pop(), r"marked complete but lacks 1 of the 28"),
}


@pytest.mark.parametrize("case", sorted(BAD_TRANSFER))
def test_bad_transfer_file_is_refused(tmp_path, case):
    mutate, message = BAD_TRANSFER[case]
    path = _copy(tmp_path, "validation_transfer", mutate)
    with pytest.raises(SchemaError, match=message) as info:
        load_validation_transfer(path)
    assert str(path) in str(info.value) and "run validation_transfer" in str(info.value)


def test_bad_single_network_and_input_dimension_rows(tmp_path):
    path = _copy(tmp_path, "validation_single_network", lambda raw: raw["rows"][2].update(activation="tanh"))
    with pytest.raises(SchemaError, match=r"rows\[2\].activation must be one of \['erf', 'linear'\], got 'tanh'"):
        load_validation(path=path)
    path = _copy(tmp_path, "validation_relu", lambda raw: raw["rows"][0]["sampler"]["Q"].update(se=-1.0))
    with pytest.raises(SchemaError, match=r"rows\[0\].sampler.Q.se"):
        load_validation("validation_relu", path=path)
    path = _copy(tmp_path, "accuracy_input_dimension", lambda raw: raw["rows"][1].update(prior_alignment=0.5))
    with pytest.raises(SchemaError, match="1/N0"):
        load_input_dimension(path=path)


def test_incomplete_file_is_refused_unless_asked_for(tmp_path):
    def partial(raw):
        raw["complete"] = False
        del raw["rows"][5:]

    path = _copy(tmp_path, "validation_single_network", partial)
    with pytest.raises(IncompleteCacheError, match=r"partial result.*5 of 21.*run validation_single_network "
                                                   r"--resume --out .*validation_single_network.json"):
        load_validation(path=path)
    assert len(load_validation(path=path, allow_incomplete=True)["rows"]) == 5
    assert len(load_validation(path=path, require_complete=False)["rows"]) == 5  # the former keyword
    # the legacy file without a "complete" flag (accuracy_input_dimension.json) counts its configurations
    path = _copy(tmp_path, "accuracy_input_dimension", lambda raw: raw["rows"].pop())
    with pytest.raises(IncompleteCacheError, match="4 of 5"):
        load_input_dimension(path=path)


# -- F4: interrupted runs --------------------------------------------------------------------------------------

def test_write_text_leaves_no_temporary_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    write_text(target, "old\n")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text(target, "new\n")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_sigint_mid_run_keeps_the_complete_file_and_resume_completes_it(tmp_path):
    """SIGINT to a quick single-network run after its first rows: the complete file at --out is untouched, the
    progress is in the .partial.json that the loader refuses unless asked for, and --resume completes it."""
    out = tmp_path / "validation_single_network.quick.json"
    complete_text = "complete file of an earlier run\n"  # its content does not matter: it must stay as it is
    out.write_text(complete_text)
    partial = partial_path(out)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cli = [sys.executable, "-m", "tflmini.experiments", "run", "validation_single_network", "--quick", "--no-progress",
           "--out", str(out)]
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if partial.is_file() and len(json.loads(partial.read_text())["rows"]) >= 2:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the quick run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert out.read_text() == complete_text
    done = len(json.loads(partial.read_text())["rows"])
    assert 2 <= done < 6
    with pytest.raises(IncompleteCacheError, match=rf"{done} of 6 configurations.*--resume --out {out}"):
        load_validation(path=partial)
    assert len(load_validation(path=partial, allow_incomplete=True)["rows"]) == done
    resumed = subprocess.run(cli + ["--resume"], capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {done} rows kept" in resumed.stdout
    data = load_validation(path=out)
    assert data["complete"] is True and len(data["rows"]) == 6 and not partial.exists()
    assert np.all([row["sampler"]["gibbs_error"]["se"] >= 0 for row in data["rows"]])
