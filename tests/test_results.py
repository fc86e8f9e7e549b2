"""Cached results: the loaders accept well-formed files and refuse missing, corrupted or inconsistent ones
with a message naming the command (a validation experiment) that regenerates them."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from tflmini import results
from tflmini.results import (ResultsError, load_input_dimension, load_validation, load_validation_transfer,
                             relative_gap, validation_groups, validation_series, validation_zscores)


def _row(activation, n_hidden, P, theory_gibbs=0.2, sim_gibbs=0.19):
    est = lambda m: {"mean": m, "se": 0.001}  # noqa: E731
    return {"activation": activation, "n_hidden": n_hidden, "P": P, "alpha": P / n_hidden,
            "theory": {"Q": 0.9, "gibbs_error": theory_gibbs, "mean_error": 0.1},
            "sampler": {"Q": est(0.9), "train_error": est(0.04), "gibbs_error": est(sim_gibbs), "mean_error": est(0.1)},
            "diagnostics": {}, "seconds": 1.0}


def _parameters(name="validation_single_network"):
    from tflmini.experiments import get_experiment

    return get_experiment(name).parameters(quick=True)


#: A complete file of the quick grid of validation_single_network (erf: N1 in {50, 100}, alpha in {0.5, 1};
#: linear: N1 = 50): parameters of the code, one row per configuration.
VALID = {
    "experiment": "validation_single_network", "tflmini_version": "0.1.0", "complete": True,
    "parameters": _parameters(),
    "rows": [_row("erf", 50, 25), _row("erf", 50, 50, 0.12, 0.09), _row("erf", 100, 50), _row("erf", 100, 100),
             _row("linear", 50, 25), _row("linear", 50, 50)],
}


def _write(tmp_path, content, name="v.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_valid_file_loads_and_groups(tmp_path):
    data = load_validation(path=_write(tmp_path, VALID))
    assert data["path"].endswith("v.json")
    by_width = validation_series(data)
    assert sorted(by_width) == [50, 100]
    np.testing.assert_allclose(by_width[50]["alpha"], [0.5, 1.0])
    by_P = validation_series(data, by="P")
    assert sorted(by_P) == [25, 50, 100]
    np.testing.assert_allclose(by_P[50]["n_hidden"], [100, 50])  # ordered by alpha
    assert list(validation_series(data, activation="linear")) == [50]
    assert validation_series(data, activation="relu") == {}
    gap, se = relative_gap(by_width[50])
    np.testing.assert_allclose(gap, [-0.05, -0.25])
    np.testing.assert_allclose(se, [0.001 / 0.2, 0.001 / 0.12])


def _broken(mutate):
    content = copy.deepcopy(VALID)
    mutate(content)
    return content


BROKEN = {
    "no rows key": _broken(lambda c: c.pop("rows")),
    "empty rows": _broken(lambda c: c.update(rows=[])),
    "missing parameter": _broken(lambda c: c["parameters"].pop("temperature")),
    "other parameter": _broken(lambda c: c["parameters"].update(temperature=0.5)),
    "boolean width": _broken(lambda c: c["rows"][0].update(n_hidden=True)),
    "negative theory": _broken(lambda c: c["rows"][3]["theory"].update(Q=-1.0)),
    "unknown activation": _broken(lambda c: c["rows"][3].update(activation="tanh")),
    "row outside the grid": _broken(lambda c: c["rows"][3].update(n_hidden=400, P=400)),
    "row without theory": _broken(lambda c: c["rows"][0].pop("theory")),
    "theory without Q": _broken(lambda c: c["rows"][1]["theory"].pop("Q")),
    "NaN theory": _broken(lambda c: c["rows"][1]["theory"].update(gibbs_error=float("nan"))),
    "string estimate": _broken(lambda c: c["rows"][2]["sampler"]["Q"].update(mean="0.9")),
    "negative se": _broken(lambda c: c["rows"][2]["sampler"]["Q"].update(se=-1.0)),
    "alpha is not P/N1": _broken(lambda c: c["rows"][0].update(alpha=3.0)),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_inconsistent_files_are_refused(tmp_path, case):
    path = _write(tmp_path, json.dumps(BROKEN[case], allow_nan=True))
    with pytest.raises(ResultsError, match="python -m tflmini.experiments run validation_single_network"):
        load_validation(path=path)


def test_missing_and_corrupted_files(tmp_path):
    with pytest.raises(ResultsError, match="does not exist.*tflmini.experiments run validation_single_network"):
        load_validation(path=tmp_path / "absent.json")
    with pytest.raises(ResultsError, match="not readable JSON"):
        load_validation(path=_write(tmp_path, '{"rows": [1, 2'))
    with pytest.raises(ResultsError, match="JSON object"):
        load_validation(path=_write(tmp_path, "[1, 2]"))


def test_partial_file(tmp_path):
    """A partial file is refused unless asked for, with the command that completes it."""
    path = _write(tmp_path, {**VALID, "complete": False, "rows": VALID["rows"][:2]})
    with pytest.raises(ResultsError, match=r"partial.*2 of 6.*run validation_single_network --quick --resume"):
        load_validation(path=path)
    assert load_validation(path=path, allow_incomplete=True)["complete"] is False
    assert len(load_validation(path=path, require_complete=False)["rows"]) == 2
    with pytest.raises(ResultsError, match="partial"):
        load_validation(path=path, require_complete=True)


def test_data_directory_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TFLMINI_DATA_DIR", str(tmp_path))
    assert results.data_directory() == tmp_path
    _write(tmp_path, VALID, "validation_single_network.json")
    assert len(load_validation()["rows"]) == len(VALID["rows"])
    with pytest.raises(ValueError, match="load_input_dimension"):
        load_validation("accuracy_input_dimension")


def test_input_dimension_file(tmp_path):
    def row(n0):
        single = {k: v for k, v in _row("erf", 40, 40).items() if k in ("theory", "sampler", "diagnostics", "seconds")}
        return {**single, "n_features": n0, "P_over_N0": 40 / n0, "teacher_alignment": 1.5 / n0, "prior_alignment": 1.0 / n0}

    content = {"experiment": "accuracy_input_dimension", "tflmini_version": "0.1.0",
               "parameters": _parameters("accuracy_input_dimension"), "rows": [row(80), row(20)]}
    data = load_input_dimension(path=_write(tmp_path, content))
    np.testing.assert_allclose(data["arrays"]["n_features"], [20, 80])
    np.testing.assert_allclose(data["arrays"]["teacher_alignment"] / data["arrays"]["prior_alignment"], 1.5)
    content["rows"][0]["prior_alignment"] = 0.5
    with pytest.raises(ResultsError, match="1/N0"):
        load_input_dimension(path=_write(tmp_path, content))


def test_cached_files_of_the_repository_load():
    """The files the book reads are present and well formed."""
    data = load_validation()
    assert validation_series(data, activation="erf")
    assert len(load_input_dimension()["arrays"]["n_features"]) >= 2


def test_relu_series_groups_by_label_offset():
    from tflmini.results import relu_series

    rows = []
    for offset in (0.0, 1.0):
        for n in (40, 20):
            rows.append({"activation": "relu", "n_hidden": n, "P": n, "alpha": 1.0, "n_features": n,
                         "label_offset": offset, "theory": {"Q": 1.0, "gibbs_error": 0.4, "mean_error": 0.2},
                         "sampler": {k: {"mean": 0.4, "se": 0.01} for k in ("Q", "train_error", "gibbs_error", "mean_error")}})
    series = relu_series({"rows": rows})
    assert list(series) == [0.0, 1.0]
    np.testing.assert_array_equal(series[1.0]["n_hidden"], [20, 40])
    np.testing.assert_allclose(series[1.0]["gap"], [0.0, 0.0])
    np.testing.assert_array_equal(series[1.0]["n_features"], [20, 40])


# -- the transfer validation (data/validation_transfer.json) ------------------------------------------

def test_load_validation_transfer_partial_file(tmp_path):
    data = load_validation_transfer(require_complete=False)
    groups = validation_groups(data)
    assert groups and all(np.all(np.diff(g["gammas"]) > 0) for g in groups.values())
    z = validation_zscores(data)
    assert {"Q_t", "Q_st", "Q_tt", "gibbs_error"} <= set(z)
    # a file marked incomplete is refused only on request
    import json

    raw = json.loads(open(data["path"], encoding="utf-8").read())
    raw["complete"] = False
    path = tmp_path / "validation_transfer.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert load_validation_transfer(path, require_complete=False)["rows"]
    assert load_validation_transfer(path, allow_incomplete=True)["rows"]
    with pytest.raises(ResultsError, match="partial"):
        load_validation_transfer(path, require_complete=True)
    with pytest.raises(ResultsError, match="partial"):
        load_validation_transfer(path)
    with pytest.raises(ResultsError, match="does not exist.*python -m tflmini.experiments run validation_transfer"):
        load_validation_transfer(tmp_path / "absent.json")


def test_load_benchmarks_reads_the_cached_file_and_refuses_a_broken_one(tmp_path):
    from tflmini.results import load_benchmarks

    data = load_benchmarks()
    assert {"machine", "sections"} <= set(data)
    with pytest.raises(ResultsError, match="does not exist"):
        load_benchmarks(path=tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"machine": {}}')
    with pytest.raises(ResultsError, match="lacks"):
        load_benchmarks(path=bad)
