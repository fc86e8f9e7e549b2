"""Issue 17, F5 and F6 (sampler, kernels, tasks, downloads, class pairs, CLI, panels): each reproducer of the
hostile-user pass, now a clear ``ValueError``/``TypeError`` naming the argument (or an argparse error, exit
status 2), never a silent NaN, a negative error estimate or a frame that shows an error message."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from tflmini import BayesianNetworkSampler, TransferSampler, make_teacher_task, make_transfer_task
from tflmini._download import ChecksumError, fetch_file, sha256_of
from tflmini._validation import check_count, check_random_state, check_seed
from tflmini.sampling.diagnostics import averaged_predictor_error
from tflmini.sampling.hmc import SamplerResult

TASK = make_teacher_task(12, 30, 5, teacher="erf", seed=4)


def sampler(**kw):
    kw = {"n_chains": 2, "n_warmup": 2, "n_samples": 4, "progress": False, "seed": 0, **kw}
    return BayesianNetworkSampler(8, 0.1, **kw)


# -- sampling/sampler.py: BayesianNetworkSampler --------------------------------------------------------------

@pytest.mark.parametrize("arg", ["W_init", "prior_mean"])
def test_nan_start_or_prior_mean_is_refused_by_name(arg):
    value = np.zeros((2, 8, 5)) if arg == "W_init" else np.zeros((8, 5))
    value[0, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no misleading "badly scaled" warning before the error
        with pytest.raises(ValueError, match=arg + " contains NaN"):
            sampler().sample(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test, **{arg: value})
        with pytest.raises(ValueError, match=arg):
            sampler().sample(TASK.X_train, TASK.y_train, **{arg: np.full(value.shape, np.inf)})


def test_too_few_samples_for_the_summary_are_refused_before_running():
    with pytest.raises(ValueError, match=r"n_samples must be >= 4.*summary.*got 3"):
        sampler(n_samples=3).sample(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test)
    res = sampler(n_samples=4).sample(TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test)
    summary = res.summary()  # the minimum is enough for every entry of the summary
    assert set(summary) == {"Q", "train_error", "gibbs_error", "mean_error"}
    assert all(np.isfinite(v[0]) for v in summary.values())


@pytest.mark.parametrize("name", ["n_chains", "n_warmup", "n_samples"])
@pytest.mark.parametrize("value", [2.5, "5", True])
def test_every_count_argument_gets_one_integer_check(name, value):
    with pytest.raises(TypeError, match=name):
        sampler(**{name: value})


def test_count_limits_and_integral_floats():
    with pytest.raises(ValueError, match="n_warmup must be >= 0"):
        sampler(n_warmup=-1)
    with pytest.raises(ValueError, match="n_chains must be >= 1"):
        sampler(n_chains=0)
    assert sampler(n_warmup=0).n_warmup == 0
    assert sampler(n_warmup=5.0).n_warmup == 5 and isinstance(sampler(n_warmup=5.0).n_warmup, int)
    assert check_count(np.int64(3), "n") == 3


@pytest.mark.parametrize("name", ["snapshots_per_chain", "snapshot_every", "source_warmup", "target_warmup",
                                  "target_samples", "n_source_chains"])
def test_transfer_sampler_counts_get_the_same_check(name):
    with pytest.raises(TypeError, match=name):
        TransferSampler(8, 0.1, progress=False, **{name: 2.5})
    with pytest.raises(TypeError, match=name):
        TransferSampler(8, 0.1, progress=False, **{name: "5"})


def test_target_accept_as_a_string_is_named():
    with pytest.raises(TypeError, match="target_accept"):
        sampler(target_accept="0.8")
    with pytest.raises(ValueError, match="target_accept"):
        sampler(target_accept=1.5)


def test_negative_seed_is_named_everywhere():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        sampler(seed=-1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        TransferSampler(8, 0.1, seed=-1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        check_random_state(-1)
    with pytest.raises(TypeError, match="seed"):
        check_seed(1.5)
    assert check_seed(np.int64(3)) == 3 and check_seed(None) is None


def test_y_test_without_x_test_is_refused():
    with pytest.raises(ValueError, match="y_test was given without X_test"):
        sampler().sample(TASK.X_train, TASK.y_train, y_test=TASK.y_test)


# -- sampling/hmc.py and diagnostics.py: the posterior-mean error is never negative ---------------------------

def test_mean_error_of_disagreeing_chains_is_clipped_at_zero_with_a_warning():
    """Chains whose means straddle the labels: the finite-sample correction exceeds the plug-in error."""
    y = np.zeros(3)
    chains = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0], [0.5, -0.5, 0.0]])
    raw = np.mean(chains.mean(axis=0) ** 2)
    unbiased = raw - chains.var(axis=0, ddof=1).mean() / 3
    assert unbiased < 0  # what the estimator returned before
    res = SamplerResult(None, None, None, None, None, chains, None, None, y)
    with pytest.warns(RuntimeWarning, match="reported as 0"):
        est, se = res.mean_error()
    assert est == 0.0 and se > 0


def test_mean_error_with_labels_of_a_million_is_not_negative():
    """The issue's -5.5e10: labels of 1e6 and chains that disagree by ~1e6 on the test points."""
    rng = np.random.default_rng(0)
    y = 1e6 * rng.standard_normal(20)
    chains = y + 3e5 * rng.standard_normal((4, 20))
    chains[:, :] -= chains.mean(axis=0) - y  # the chains' average hits the labels exactly
    with pytest.warns(RuntimeWarning, match="reported as 0"):
        est, se = averaged_predictor_error(chains, y)
    assert est == 0.0 and np.isfinite(se) and se > 0


def test_sampled_mean_error_at_tiny_lambda0_is_not_negative():
    """The issue's lambda0 = 1e-8: a real run whose unbiased estimate is negative (-0.0068)."""
    task = make_teacher_task(6, 3, 3, teacher="erf", seed=0)
    s = BayesianNetworkSampler(4, 0.05, lambda0=1e-8, n_chains=3, n_warmup=10, n_samples=4, seed=0, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = s.sample(task.X_train, task.y_train, task.X_test, task.y_test)
    fc = res.test_mean_chains
    unbiased = np.mean((task.y_test - fc.mean(axis=0)) ** 2) - fc.var(axis=0, ddof=1).mean() / 3
    assert unbiased < 0
    with pytest.warns(RuntimeWarning, match="mean_error"):
        summary = res.summary()
    assert summary["mean_error"][0] == 0.0
    assert summary["mean_error"][1] > 0


def test_mean_error_is_unchanged_where_the_correction_is_small():
    """The positive part equals the unbiased estimator (bit for bit) whenever that is >= 0."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        C, M = rng.integers(1, 7), rng.integers(1, 10)
        y = rng.standard_normal(M)
        chains = y + rng.normal(0.3, 1.0) + rng.standard_normal((C, M)) * rng.uniform(0.01, 3.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            est, se = averaged_predictor_error(chains, y)
        assert est >= 0 and (np.isnan(se) or se >= 0)
        if C >= 2:
            unbiased = np.mean((y - chains.mean(axis=0)) ** 2) - chains.var(axis=0, ddof=1).mean() / C
            assert est == max(unbiased, 0.0)
        else:
            assert est == np.mean((y - chains[0]) ** 2)


def test_transfer_sampler_snapshot_average_error_is_not_negative():
    from tflmini.sampling.transfer_sampler import _averaged_predictor_error

    y = np.zeros(3)
    snapshots = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0], [0.5, -0.5, 0.0]])
    with pytest.warns(RuntimeWarning, match="source snapshots"):
        assert _averaged_predictor_error(snapshots, y)[0] == 0.0


# -- sampling/transfer_sampler.py ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def source_and_sampler():
    ts = TransferSampler(8, 0.1, n_source_chains=2, snapshots_per_chain=1, snapshot_every=2, source_warmup=1,
                         target_warmup=1, target_samples=1, progress=False, seed=0)
    return ts, ts.sample_source(TASK.X_train, TASK.y_train)


def test_incomplete_source_dict_names_the_missing_keys(source_and_sampler):
    ts, source = source_and_sampler
    broken = {k: v for k, v in source.items() if k != "v_mean"}
    with pytest.raises(ValueError, match=r"missing the key\(s\) \['v_mean'\].*sample_source"):
        ts.sample_targets(broken, TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test, [1.0])
    with pytest.raises(TypeError, match="source must be a dict"):
        ts.sample_targets([1, 2], TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test, [1.0])
    with pytest.raises(ValueError, match=r"source\['W'\]"):
        TransferSampler(5, 0.1, progress=False).sample_targets(source, TASK.X_train, TASK.y_train, TASK.X_test,
                                                              TASK.y_test, [1.0])
    res = ts.sample_targets(source, TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test, [1.0, np.inf])
    assert np.all(res.mean["mean_error"] >= 0)


def test_transfer_run_checks_the_target_inputs_before_sampling_the_source(monkeypatch):
    ts = TransferSampler(8, 0.1, progress=False, seed=0)
    monkeypatch.setattr(ts, "sample_source", lambda *a, **k: pytest.fail("the source ran before the check"))
    with pytest.raises(ValueError, match="gammas"):
        ts.run(TASK.X_train, TASK.y_train, TASK.X_train, TASK.y_train, TASK.X_test, TASK.y_test, [-1.0])
    with pytest.raises(ValueError, match="X_test has input dimension"):
        ts.run(TASK.X_train, TASK.y_train, TASK.X_train, TASK.y_train, TASK.X_test[:, :3], TASK.y_test, [1.0])


# -- tasks.py -------------------------------------------------------------------------------------------------

def test_make_transfer_task_negative_seed_is_named():
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer.*got -1"):
        make_transfer_task(20, 10, 5, 6, 0.5, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        make_teacher_task(5, 5, 3, seed=-7)


# -- kernels.py -----------------------------------------------------------------------------------------------

def test_nngp_kernel_of_huge_inputs_raises_instead_of_nan():
    from tflmini.kernels import nngp_diagonal, nngp_kernel

    X = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(ValueError, match="X1 is too large"):
        nngp_kernel(X * 1e200)
    with pytest.raises(ValueError, match="X2 is too large"):
        nngp_kernel(X, X * 1e200)
    with pytest.raises(ValueError, match="rows of X"):
        nngp_diagonal(X * 1e200)
    with pytest.raises(ValueError, match="not finite"):
        nngp_kernel(X * 1e150, var1=1e300, activation="linear")
    # large but representable inputs: the erf kernel is scale-free in this limit, computed without overflow
    K_big, K = nngp_kernel(X * 1e100), nngp_kernel(X * 1e10)
    assert np.all(np.isfinite(K_big))
    np.testing.assert_allclose(K_big, K, atol=1e-8)
    assert np.all(np.isfinite(nngp_kernel(X * 1e100, activation="relu")))


def test_nngp_kernel_names_a_bad_cov():
    from tflmini.kernels import nngp_kernel

    X = np.ones((2, 3))
    with pytest.raises(TypeError, match="cov"):
        nngp_kernel(X, cov="a")
    with pytest.raises(ValueError, match="cov"):
        nngp_kernel(X, var2=2.0, cov=np.nan)


# -- _download.py ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("record", [{"sha256": None}, {}, {"sha256": "abc"}, {"sha256": 12}, [1, 2], "not json"])
def test_a_damaged_checksum_record_is_an_error_never_overwritten(tmp_path, record):
    src = tmp_path / "a.bin"
    src.write_bytes(b"hello")
    path = fetch_file([src.as_uri()], "a.bin", "x", data_home=tmp_path / "c", progress=False)
    rec = path.with_name("a.bin.sha256")
    text = record if isinstance(record, str) else json.dumps(record)
    rec.write_text(text)
    path.write_bytes(b"tampered")  # the file changed: a trusted-on-overwrite record would hide it
    with pytest.raises(ChecksumError, match="checksum record"):
        fetch_file([src.as_uri()], "a.bin", "x", data_home=tmp_path / "c", progress=False)
    assert rec.read_text() == text  # the record was left as it was
    rec.write_text(json.dumps({"sha256": sha256_of(path)}))  # a valid record is still honoured
    assert fetch_file([src.as_uri()], "a.bin", "x", data_home=tmp_path / "c", progress=False) == path


# -- datasets.py / class_pairs.py -----------------------------------------------------------------------------

def test_class_pair_sizes_say_how_many_examples_there_are():
    from tflmini.class_pairs import make_class_pair_task
    from tflmini.datasets import load_digits_pool, make_digits_task

    with pytest.raises(ValueError, match=r"class pair 3 vs 8 has 250 examples, asked for n_train=10000") as err:
        make_digits_task((3, 8), 10000)
    assert "-" not in str(err.value).split("asked for")[1]
    X, y = load_digits_pool()
    with pytest.raises(ValueError, match=r"has 357 examples, asked for n_train=10000 .*at most 356") as err:
        make_class_pair_task(X, y, (3, 8), 10000)
    assert "n_test=-" not in str(err.value)
    with pytest.raises(ValueError, match=r"has 357 examples, asked for n_train=300 and n_test=100 \(400 in all\)"):
        make_class_pair_task(X, y, (3, 8), 300, 100)


# -- experiments/__main__.py and findings.py: the command line ------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tflmini.experiments", *args], capture_output=True, text=True)


@pytest.mark.parametrize("threads", ["0", "-1", "two"])
def test_cli_refuses_bad_thread_counts(threads):
    proc = _cli("run", "gamma_sweep", "--quick", "--threads", threads)
    assert proc.returncode == 2 and "--threads" in proc.stderr and "must be an integer >= 1" in proc.stderr


def test_cli_refuses_a_file_as_directory(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    for args in (("run", "gamma_sweep", "--quick", "--theory-only", "--directory", str(f)),
                 ("findings", "--directory", str(f))):
        proc = _cli(*args)
        assert proc.returncode == 2 and "is a file, not a directory" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_cli_findings_in_a_missing_or_empty_directory_is_an_error(tmp_path):
    proc = _cli("findings", "--directory", str(tmp_path / "nonexistent"))
    assert proc.returncode == 2 and "no such directory" in proc.stderr and proc.stdout == ""
    proc = _cli("findings", "--directory", str(tmp_path))
    assert proc.returncode == 2 and "holds none of the cached results" in proc.stderr and proc.stdout == ""


def test_findings_tables_refuse_a_missing_directory(tmp_path):
    from tflmini.experiments.findings import findings_tables

    with pytest.raises(FileNotFoundError, match="does not exist"):
        findings_tables(directory=tmp_path / "nonexistent")
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        findings_tables(directory=tmp_path / "f")


# -- widgets: panel arguments and static frames --------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, name", [
    ({"n_hidden": 0}, ValueError, "n_hidden"),
    ({"n_train": -3}, ValueError, "n_train"),
    ({"n_hidden": 2.5}, TypeError, "n_hidden"),
    ({"n_draws": 0}, ValueError, "n_draws"),
    ({"lambda0": 0.0}, ValueError, "lambda0"),
    ({"noise": -1.0}, ValueError, "noise"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": None}, TypeError, "seed"),
])
def test_posterior_panel_validates_its_arguments_up_front(kwargs, exc, name):
    from tflmini.widgets.single import posterior_panel

    with pytest.raises(exc, match=name):
        posterior_panel(**kwargs)


def test_other_single_network_panels_validate_sizes():
    from tflmini.widgets.single import nngp_panel, renormalization_panel

    with pytest.raises(ValueError, match="n_max"):
        nngp_panel(n_max=2)
    with pytest.raises(ValueError, match="n_train"):
        renormalization_panel(n_train=0, validation=None)


def test_static_value_off_the_coupling_grid_names_the_grid():
    from tflmini.widgets.transfer import PANEL_GAMMAS, TransferExplorer, saddle_panel

    ex = TransferExplorer(n_features=10, n_test=20, max_source=40, max_target=20)
    with pytest.raises(ValueError, match=r"static values \[7.0\] of 'gamma'.*not among the slider's values") as err:
        saddle_panel(static={"gamma": [7.0]}, explorer=ex)
    assert "'10'" in str(err.value) and len(PANEL_GAMMAS) > 2


def test_static_frame_that_fails_to_draw_raises_naming_the_values():
    from tflmini.widgets.panel import Panel

    def draw(fig, a, b=1.0):
        if a == 2.0:
            raise RuntimeError("no stationary point found")
        fig.subplots().plot([0, 1], [0, a * b])
        return a

    controls = {"a": ("a", (1.0, 2.0, 3.0)), "b": ("b", (1.0, 5.0))}
    with pytest.raises(ValueError, match=r"cannot draw the static frame a=2, b=5: RuntimeError: no stationary point"):
        Panel(draw, controls, {"a": 1.0, "b": 1.0}, static={"a": [1.0, 2.0], "b": [5.0]}, figsize=(3, 2))
    live = Panel(draw, controls, {"a": 1.0, "b": 1.0}, figsize=(3, 2))  # a live move still never raises
    live.update(a=2.0)
    assert live.last_error is not None
