r"""Cached simulation results of the validation runs: loading, checking, grouping.

The book never samples networks while it is built: long runs of :class:`~tflmini.BayesianNetworkSampler`
are done by the validation experiments (:mod:`tflmini.experiments.validation`, run with
``python -m tflmini.experiments run NAME``), which write JSON files ``data/NAME.json``; the chapters load
them here. Each loader checks the file before anything is plotted, with the machinery of the registry
experiments (:meth:`tflmini.experiments.validation.ValidationRun.check_file`): the experiment name, the
parameters and the package version against the code's (a file of other parameters raises
:class:`~tflmini.experiments.StaleCacheError`, or warns with ``on_stale="warn"``), every row against the
schema declared with its run (finite numbers, non-negative errors and standard errors, integer widths,
couplings >= 0 with inf, known keys) and against the configurations of the file's grid, and completeness:
the progress of a run that has not finished (``"complete": false``, e.g. ``<name>.partial.json``) is refused
unless ``allow_incomplete=True``. Every error is a :class:`ResultsError` naming the file, the key, the bad
value and the command that produces or completes the file.

Files
    ``validation_single_network.json`` (experiment ``validation_single_network``): kernel-renormalization
    theory and sampled finite networks over widths :math:`N_1` and loads :math:`\alpha = P/N_1`;
    :func:`load_validation` and :func:`validation_series`.

    ``validation_relu.json`` (experiment ``validation_relu``): the same comparison for ReLU networks, whose
    theory has the readout-sum term of a nonzero-mean activation; :func:`load_validation`.

    ``accuracy_input_dimension.json`` (experiment ``accuracy_input_dimension``): the same comparison
    at fixed :math:`N_1` and :math:`P` as the input dimension :math:`N_0` varies, with the alignment of
    the sampled first-layer weights to the teacher; :func:`load_input_dimension`.

    ``validation_transfer.json`` (experiment ``validation_transfer``): Franz-Parisi theory and sampled
    source-target pairs over couplings, widths and relatedness; :func:`load_validation_transfer`,
    :func:`validation_groups`, :func:`validation_zscores`.

Used by the book's chapter "The proportional limit and kernel renormalization".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .accuracy import relative_deviation

__all__ = [
    "ResultsError",
    "data_directory",
    "VALIDATION_FILES",
    "load_validation",
    "validation_series",
    "relu_series",
    "relative_gap",
    "load_input_dimension",
    "VALIDATION_TRANSFER",
    "load_validation_transfer",
    "validation_groups",
    "validation_zscores",
    "load_benchmarks",
    "adaptive_comparison",
    "mean_field_comparison",
    "directional_comparison",
    "adaptive_limit",
    "limit_slope",
    "limit_value",
]

def _run_command(name):
    """The command that writes ``data/<name>.json``: the validation experiment ``name``."""
    return f"python -m tflmini.experiments run {name}"


#: Name of a cached result -> (file name in ``data/``, command that writes it).
VALIDATION_FILES = {name: (f"{name}.json", _run_command(name))
                    for name in ("validation_single_network", "validation_relu", "accuracy_input_dimension")}

THEORY_KEYS = ("Q", "gibbs_error", "mean_error")
SAMPLER_KEYS = ("Q", "train_error", "gibbs_error", "mean_error")


class ResultsError(ValueError):
    """A cached result file is missing, corrupted or does not have the expected content. The root of the errors
    of every cached file: :class:`tflmini.experiments.CacheError` (and its ``StaleCacheError``, ``SchemaError``,
    ``IncompleteCacheError``) derive from it."""


def data_directory() -> Path:
    """Folder of the cached results: ``$TFLMINI_DATA_DIR`` if set, else ``data/`` of the source checkout."""
    env = os.environ.get("TFLMINI_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "data"


def _resolve(name, path):
    if name not in VALIDATION_FILES:
        raise ValueError(f"unknown cached result {name!r}; choose one of {sorted(VALIDATION_FILES)}")
    filename, hint = VALIDATION_FILES[name]
    path = Path(path) if path is not None else data_directory() / filename
    return path, hint


def _read_json_object(path, hint):
    """The JSON object in ``path``; :class:`ResultsError` naming ``hint`` (the command that writes the file)
    if it is missing, unreadable or not an object. The one reader of every cached-file loader."""
    if not path.is_file():
        from .experiments._cache import partial_path

        partial = partial_path(path)
        if partial.is_file():
            raise ResultsError(f"{path} does not exist; its run has not finished: {partial} holds its progress "
                               f"(complete it with: {hint} --resume)")
        raise ResultsError(f"{path} does not exist; produce it with: {hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path} is not readable JSON ({exc}); regenerate it with: {hint}") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path} does not hold a JSON object; regenerate it with: {hint}")
    return data


def _read_json(path, hint):
    """A validation file: a JSON object with ``experiment``, ``parameters`` and a non-empty list of ``rows``."""
    data = _read_json_object(path, hint)
    for key in ("experiment", "parameters", "rows"):
        if key not in data:
            raise ResultsError(f"{path} lacks the key {key!r}; regenerate it with: {hint}")
    if not isinstance(data["parameters"], dict) or not isinstance(data["rows"], list):
        raise ResultsError(f"{path}: 'parameters' must be an object and 'rows' a list; regenerate it with: {hint}")
    if not data["rows"]:
        raise ResultsError(f"{path} holds no result rows yet; regenerate it with: {hint}")
    return data


def _checked(name, path, hint, *, on_stale, allow_incomplete, require_complete):
    """The validation file ``path`` of the run ``name``, read and checked by the run's
    :meth:`~tflmini.experiments.validation.ValidationRun.check_file` (one mechanism with the registry
    experiments), with ``path`` added."""
    from .experiments import get_experiment

    if require_complete is not None:  # the former keyword: require_complete=False allows a partial file
        allow_incomplete = not require_complete
    data = _read_json(path, hint)
    get_experiment(name).check_file(data, path, on_stale=on_stale, allow_incomplete=allow_incomplete)
    data["path"] = str(path)
    return data


def load_validation(name="validation_single_network", *, path=None, on_stale="raise", allow_incomplete=False,
                    require_complete=None):
    """Load and check ``data/validation_single_network.json`` (theory vs sampler over N1 and alpha) or, with
    ``name="validation_relu"``, ``data/validation_relu.json`` (the same format, ReLU networks).

    Parameters
    ----------
    name : str
        The cached result, ``"validation_single_network"`` or ``"validation_relu"``.
    path : str or Path, optional
        Read this file instead of ``data_directory() / "validation_single_network.json"``.
    on_stale : ``"raise"``, ``"warn"`` or ``"ignore"``
        What to do when the file's parameters differ from those of the experiment in the code (as
        :func:`tflmini.experiments.load`).
    allow_incomplete : bool
        Accept the progress of a run that has not finished (``"complete": false``, missing configurations).
    require_complete : bool, optional
        Former spelling: ``require_complete=False`` is ``allow_incomplete=True``.

    Returns
    -------
    dict
        The file's content with ``path`` added; each row has ``activation``, ``n_hidden`` (int), ``P``
        (int), ``alpha`` (float, checked equal to P/N1), ``theory`` {Q, gibbs_error, mean_error} and
        ``sampler`` {Q, train_error, gibbs_error, mean_error: {mean, se}}.

    Raises
    ------
    ResultsError
        Missing file, invalid JSON, content violating the row schema, rows outside the grid of the file,
        a partial file (``IncompleteCacheError``), other parameters than the code's (``StaleCacheError``); the
        message names the file, the key, the value and the command that regenerates or completes the file.
    """
    if name not in ("validation_single_network", "validation_relu"):
        raise ValueError(f"load_validation reads 'validation_single_network' or 'validation_relu', got {name!r} "
                         "(use load_input_dimension for 'accuracy_input_dimension')")
    path, hint = _resolve(name, path)
    return _checked(name, path, hint, on_stale=on_stale, allow_incomplete=allow_incomplete,
                    require_complete=require_complete)


def validation_series(data, *, activation="erf", by="n_hidden"):
    r"""Rows of :func:`load_validation` grouped into series, each sorted along the load.

    Parameters
    ----------
    data : dict from :func:`load_validation`.
    activation : str, keep the rows of this activation.
    by : ``"n_hidden"`` (one series per width, ordered by alpha) or ``"P"`` (one series per training
        set size, ordered by width: at fixed P the training set is the same).

    Returns
    -------
    dict
        ``{value of by: {"n_hidden", "P", "alpha": arrays, "theory": {key: array},
        "sampler": {key: (mean array, se array)}}}``, keys in increasing order. Empty if no row has
        this activation.
    """
    if by not in ("n_hidden", "P"):
        raise ValueError(f"by must be 'n_hidden' or 'P', got {by!r}")
    groups = {}
    for row in data["rows"]:
        if row["activation"] == activation:
            groups.setdefault(row[by], []).append(row)
    return {key: _series(groups[key], "alpha") for key in sorted(groups)}


def _series(rows, order):
    """Rows of one series as arrays, sorted by the row key ``order``."""
    rows = sorted(rows, key=lambda r: r[order])
    return {
        "n_hidden": np.array([r["n_hidden"] for r in rows], dtype=float),
        "P": np.array([r["P"] for r in rows], dtype=float),
        "alpha": np.array([r["alpha"] for r in rows], dtype=float),
        "theory": {k: np.array([r["theory"][k] for r in rows], dtype=float) for k in THEORY_KEYS},
        "sampler": {k: (np.array([r["sampler"][k]["mean"] for r in rows], dtype=float),
                        np.array([r["sampler"][k]["se"] for r in rows], dtype=float)) for k in SAMPLER_KEYS},
    }


def relu_series(data, key="gibbs_error"):
    r"""Rows of ``load_validation("validation_relu")`` as relative deviations of the sampled ``key`` from the
    theory, :math:`(s - t)/t`, grouped by label offset and averaged over the random data sets of each width.

    Returns ``{label_offset: {"n_hidden", "n_features", "gap", "gap_se", "n_datasets"}}`` (arrays over the
    widths, increasing; along them P and N0 grow with N1: the proportional regime). ``gap_se`` is the
    standard error of the mean over data sets (it includes the variation from one data set to another), or
    the sampler's error when a width has a single data set.
    """
    groups = {}
    for row in data["rows"]:
        groups.setdefault(float(row["label_offset"]), {}).setdefault(int(row["n_hidden"]), []).append(row)
    out = {}
    for offset in sorted(groups):
        widths = sorted(groups[offset])
        gap, gap_se, n0, n_sets = [], [], [], []
        for n1 in widths:
            rows = groups[offset][n1]
            g = np.array([(r["sampler"][key]["mean"] - r["theory"][key]) / r["theory"][key] for r in rows])
            gap.append(g.mean())
            gap_se.append(g.std(ddof=1) / np.sqrt(g.size) if g.size > 1
                          else rows[0]["sampler"][key]["se"] / abs(rows[0]["theory"][key]))
            n0.append(rows[0]["n_features"])
            n_sets.append(len(rows))
        out[offset] = {"n_hidden": np.array(widths, dtype=float), "n_features": np.array(n0, dtype=float),
                       "gap": np.array(gap), "gap_se": np.array(gap_se), "n_datasets": np.array(n_sets)}
    return out


def relative_gap(series, key="gibbs_error"):
    r"""Relative deviation of the sampled value from the theory, :math:`(s - t)/|t|`, and its standard
    error (:func:`tflmini.accuracy.relative_deviation`), for one series of :func:`validation_series` (or
    :func:`load_input_dimension`'s ``arrays``).
    Negative: the sampled networks have a smaller value than the theory predicts."""
    return relative_deviation(series["theory"][key], *series["sampler"][key], small=0.0)


def load_input_dimension(*, path=None, on_stale="raise", allow_incomplete=False):
    r"""Load and check ``data/accuracy_input_dimension.json``: theory vs sampler at fixed :math:`N_1` and
    :math:`P` for several input dimensions :math:`N_0`.

    Returns the file's content with ``path`` and ``arrays`` (rows in increasing :math:`N_0`):
    ``n_features``, ``P_over_N0``, ``theory`` {key: array}, ``sampler`` {key: (mean, se)},
    ``teacher_alignment`` (mean over hidden units of the squared cosine between a unit's weight vector and
    the teacher, in the sampled networks) and ``prior_alignment`` (its prior value :math:`1/N_0`).
    Raises :class:`ResultsError` as :func:`load_validation`.
    """
    path, hint = _resolve("accuracy_input_dimension", path)
    data = _checked("accuracy_input_dimension", path, hint, on_stale=on_stale, allow_incomplete=allow_incomplete,
                    require_complete=None)
    rows = sorted(data["rows"], key=lambda r: r["n_features"])
    data["arrays"] = {
        "n_features": np.array([r["n_features"] for r in rows], dtype=float),
        "P_over_N0": np.array([r["P_over_N0"] for r in rows], dtype=float),
        "theory": {k: np.array([r["theory"][k] for r in rows], dtype=float) for k in THEORY_KEYS},
        "sampler": {k: (np.array([r["sampler"][k]["mean"] for r in rows], dtype=float),
                        np.array([r["sampler"][k]["se"] for r in rows], dtype=float)) for k in SAMPLER_KEYS},
        "teacher_alignment": np.array([r["teacher_alignment"] for r in rows], dtype=float),
        "prior_alignment": np.array([r["prior_alignment"] for r in rows], dtype=float),
    }
    return data


# -- the transfer validation (``data/validation_transfer.json``) ------------------------------------

#: (file name in ``data/``, command that writes it) of the transfer validation.
VALIDATION_TRANSFER = ("validation_transfer.json", _run_command("validation_transfer"))


def load_validation_transfer(path=None, *, on_stale="raise", allow_incomplete=False, require_complete=None):
    """Theory vs sampler for the transfer protocol, as written by the experiment ``validation_transfer``
    (``data/validation_transfer.json``; ``python -m tflmini.experiments run validation_transfer``).

    Returns the file's dict (``parameters``, ``rows``, ...) plus ``path``; each row's ``gamma`` is a float
    (``"inf"`` -> ``numpy.inf``). ``on_stale``, ``allow_incomplete`` (and the former ``require_complete``)
    as in :func:`load_validation`. Raises :class:`~tflmini.results.ResultsError` (with the command that
    produces or completes the file) for a missing, corrupted, stale, incomplete or malformed file: widths and
    sizes must be integers (not booleans), couplings >= 0 (inf allowed), every estimate finite, errors and
    standard errors non-negative.
    """
    name, hint = VALIDATION_TRANSFER
    path = Path(path) if path is not None else data_directory() / name
    return _checked("validation_transfer", path, hint, on_stale=on_stale, allow_incomplete=allow_incomplete,
                    require_complete=require_complete)


def validation_groups(data):
    """Rows of :func:`load_validation_transfer` grouped by (n_hidden, rho), couplings in increasing order:
    ``{(n_hidden, rho): {"gammas", "P_source", "P_target", "n_snapshots", "theory": {key: array},
    "sampler": {key: (mean, se)}}}``."""
    groups = {}
    for row in data["rows"]:
        groups.setdefault((int(row["n_hidden"]), float(row["rho"])), []).append(row)
    out = {}
    for key, rows in sorted(groups.items()):
        rows = sorted(rows, key=lambda r: r["gamma"])
        out[key] = {
            "gammas": np.array([r["gamma"] for r in rows]),
            "P_source": int(rows[0]["P_source"]),
            "P_target": int(rows[0]["P_target"]),
            "n_snapshots": int(rows[0].get("n_snapshots", 0)),
            "theory": {k: np.array([r["theory"][k] for r in rows], dtype=float) for k in rows[0]["theory"]},
            "sampler": {k: (np.array([r["sampler"][k]["mean"] for r in rows], dtype=float),
                            np.array([r["sampler"][k]["se"] for r in rows], dtype=float)) for k in rows[0]["sampler"]},
        }
    return out


def validation_zscores(data):
    r"""Standardized deviations :math:`(s - t)/\mathrm{se}` of the sampled values from the theory for every row
    and key of :func:`load_validation_transfer` (rows without a positive standard error are skipped; the source
    order parameter :math:`Q_s`, shared by every row of a width, counts once per width): {key: array}."""
    out, sources = {}, set()
    for row in data["rows"]:
        for key, th in row["theory"].items():
            s = row["sampler"].get(key)
            if s is None or not np.isfinite(s["se"]) or s["se"] <= 0:
                continue
            if key == "Q_s":  # one source run per width, repeated on every row of that width: count it once
                if row["n_hidden"] in sources:
                    continue
                sources.add(row["n_hidden"])
            out.setdefault(key, []).append((s["mean"] - th) / s["se"])
    return {k: np.array(v) for k, v in out.items()}


def load_benchmarks(*, path=None):
    """Load ``data/benchmarks.json``, written by ``python benchmarks/run_all.py`` (the book's appendix
    "Performance"): the measured sections, the machine and the load it ran under. Raises
    :class:`ResultsError` if the file is missing, not JSON, or lacks ``machine`` or ``sections``."""
    hint = "python benchmarks/run_all.py"
    path = Path(path) if path is not None else data_directory() / "benchmarks.json"
    data = _read_json_object(path, hint)
    if not {"machine", "sections"} <= set(data):
        raise ResultsError(f"{path} lacks 'machine' or 'sections'; regenerate it with: {hint}")
    return data


def _read_complete(path, name, command):
    """A finished script's JSON record: ``path``, or ``data/experiments/<name>.json`` when it is None, read as a
    validation file and refused if its run has not finished. Returns ``(path, data)``."""
    path = Path(path) if path is not None else data_directory() / "experiments" / f"{name}.json"
    data = _read_json(path, command)
    if data.get("complete") is not True:
        raise ResultsError(f"{path} is a partial result (its run has not finished); complete it with: {command}")
    return path, data


ADAPTIVE_COMMAND = "PYTHONPATH=. python scripts/adaptive_vs_sampler.py (then --seed-spread 1 2)"


def adaptive_comparison(*, path=None, variant=0):
    r"""The cached comparison of the scalar theory, the adaptive theory
    (:class:`~tflmini.adaptive.AdaptiveKernelRenormalization`) and the sampled networks
    (``data/experiments/adaptive_vs_sampler.json``, written by ``scripts/adaptive_vs_sampler.py``), as arrays over
    its points for one ``variant`` (index into ``parameters.variants``).

    Returns a dict of arrays: ``source``, ``activation`` (lists), ``n_hidden``, ``n_features``, ``P``,
    ``P_over_N0``; ``sampled`` and ``sampled_se`` (Gibbs error), ``scalar`` and ``adaptive`` (Gibbs error, NaN
    where the adaptive closure did not converge), ``converged`` (bool), ``adaptive_spread`` (largest distance of
    the other seeds' Gibbs errors from seed 0, NaN without them), ``scalar_seconds``, ``adaptive_seconds``,
    ``field_Q_ratio`` and ``field_ess`` (the default variant's unit measure at the scalar theory's field: its
    :math:`\mathbb E[v^2]` over the scalar Q, and its effective sample size as a fraction of the samples; NaN
    where not evaluated), ``reseed_failed`` (another seed found no converged solution);
    plus ``parameters`` and ``wall_seconds`` of the file. Raises :class:`ResultsError` for a missing, partial or
    malformed file."""
    path, data = _read_complete(path, "adaptive_vs_sampler", ADAPTIVE_COMMAND)
    variants = data["parameters"].get("variants", [])
    if not isinstance(variant, int) or not 0 <= variant < len(variants):
        raise ValueError(f"variant must be an index into the {len(variants)} variants of {path}, got {variant!r}")
    out = {k: [] for k in ("source", "activation", "n_hidden", "n_features", "P", "sampled", "sampled_se", "scalar",
                           "adaptive", "converged", "adaptive_spread", "scalar_seconds", "adaptive_seconds",
                           "field_Q_ratio", "field_ess", "reseed_failed")}
    try:
        for row in data["rows"]:
            fits = [a for a in row["adaptive"] if {k: a[k] for k in variants[variant]} == variants[variant]]
            if not fits:  # a variant not run at this point (linear points: the default variant only)
                continue
            fit = fits[0]
            for k in ("source", "activation", "n_hidden", "n_features", "P"):
                out[k].append(row[k])
            out["sampled"].append(row["sampler"]["gibbs_error"]["mean"])
            out["sampled_se"].append(row["sampler"]["gibbs_error"]["se"])
            out["scalar"].append(row["scalar"]["gibbs_error"])
            out["converged"].append(bool(fit["converged"]))
            out["adaptive"].append(fit["gibbs_error"] if fit["converged"] else np.nan)
            others = [o["gibbs_error"] for o in fit.get("other_seeds", []) if o["converged"]]
            out["adaptive_spread"].append(max(abs(o - fit["gibbs_error"]) for o in others) if others else np.nan)
            out["reseed_failed"].append(any(not o["converged"] for o in fit.get("other_seeds", [])))
            out["scalar_seconds"].append(row["scalar_seconds"])
            out["adaptive_seconds"].append(fit["seconds"])
            field = row.get("at_scalar_field", {})
            done = bool(field.get("evaluated"))
            out["field_Q_ratio"].append(field["Q_unit"] / field["Q_scalar"] if done else np.nan)
            out["field_ess"].append(field["weighted_ess"] / field["n_samples"] if done else np.nan)
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: a row lacks {exc}; regenerate it with: {ADAPTIVE_COMMAND}") from None
    table = {k: (v if k in ("source", "activation") else
                 np.asarray(v, dtype=bool if k in ("converged", "reseed_failed") else float))
             for k, v in out.items()}
    table["P_over_N0"] = table["P"] / table["n_features"]
    table["parameters"] = data["parameters"]
    table["wall_seconds"] = data.get("wall_seconds", np.nan)
    return table


MEAN_FIELD_COMMAND = "PYTHONPATH=. python scripts/mean_field_linear.py"


def mean_field_comparison(*, path=None):
    r"""The cached comparison of the mean-field saddle over the units' empirical measure
    (:class:`~tflmini.mean_field.MeanFieldLinearNetwork`), kernel renormalization, the infinite-width network and
    the sampled linear networks (``data/experiments/mean_field_linear.json``, written by
    ``scripts/mean_field_linear.py``), as arrays over its points.

    Returns a dict of arrays: ``n_hidden``, ``n_features``, ``P``, ``alpha`` (P/N1), ``P_over_N0``; ``sampled``
    and ``sampled_se`` (Gibbs error), ``scalar`` (kernel renormalization), ``mean_field``, ``infinite_width``
    (Gibbs errors), ``scalar_Q``, ``tilt_min`` and ``tilt_max`` (the extreme eigenvalues of
    :math:`\lambda_0S`, 1 for the untilted prior); plus ``parameters`` and ``wall_seconds`` of the file. Raises
    :class:`ResultsError` for a missing, partial or malformed file."""
    path, data = _read_complete(path, "mean_field_linear", MEAN_FIELD_COMMAND)
    getters = {"n_hidden": lambda r: r["n_hidden"], "n_features": lambda r: r["n_features"], "P": lambda r: r["P"],
               "sampled": lambda r: r["sampler"]["gibbs_error"]["mean"],
               "sampled_se": lambda r: r["sampler"]["gibbs_error"]["se"],
               "scalar": lambda r: r["scalar"]["gibbs_error"], "scalar_Q": lambda r: r["scalar"]["Q"],
               "mean_field": lambda r: r["mean_field"]["gibbs_error"],
               "infinite_width": lambda r: r["infinite_width"]["gibbs_error"],
               "tilt_min": lambda r: r["mean_field"]["tilt_min"], "tilt_max": lambda r: r["mean_field"]["tilt_max"]}
    try:
        table = {k: np.asarray([get(r) for r in data["rows"]], dtype=float) for k, get in getters.items()}
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: a row lacks {exc}; regenerate it with: {MEAN_FIELD_COMMAND}") from None
    table["alpha"] = table["P"] / table["n_hidden"]
    table["P_over_N0"] = table["P"] / table["n_features"]
    table["parameters"] = data["parameters"]
    table["wall_seconds"] = data.get("wall_seconds", np.nan)
    return table


DIRECTIONAL_COMMAND = "PYTHONPATH=. python scripts/directional_vs_sampler.py"


def directional_comparison(*, path=None):
    r"""The cached comparison of :class:`~tflmini.directional.DirectionalKernelRenormalization`, the scalar theory and
    the sampled networks (``data/experiments/directional_vs_sampler.json``, written by
    ``scripts/directional_vs_sampler.py``), as arrays over its points.

    Returns a dict: ``source``, ``activation`` (lists); arrays ``n_hidden``, ``n_features``, ``P``, ``P_over_N0``,
    ``sampled``, ``sampled_se`` (Gibbs error), ``scalar``; for each quadratic term ``v`` in ("exact", "trace"):
    ``v`` (Gibbs error, NaN where the closure did not converge), ``converged_v``, ``m2_v`` (:math:`\mathbb E[m^2]`),
    ``edge_v`` (mass of p(m) at the end of its grid), ``seconds_v``; ``scalar_seconds``; plus ``parameters`` and
    ``wall_seconds``. Raises :class:`ResultsError` for a missing, partial or malformed file."""
    path, data = _read_complete(path, "directional_vs_sampler", DIRECTIONAL_COMMAND)
    variants = data["parameters"]["variants"]
    out = {k: [] for k in ("source", "activation", "n_hidden", "n_features", "P", "sampled", "sampled_se", "scalar",
                           "scalar_seconds")}
    for v in variants:
        for k in ("", "converged_", "m2_", "edge_", "seconds_"):
            out[k + v] = []
    try:
        for row in data["rows"]:
            for k in ("source", "activation", "n_hidden", "n_features", "P"):
                out[k].append(row[k])
            out["sampled"].append(row["sampler"]["gibbs_error"]["mean"])
            out["sampled_se"].append(row["sampler"]["gibbs_error"]["se"])
            out["scalar"].append(row["scalar"]["gibbs_error"])
            out["scalar_seconds"].append(row["scalar"]["seconds"])
            fits = {f["quadratic_term"]: f for f in row["directional"]}
            for v in variants:
                f = fits[v]
                ok = bool(f["converged"])
                out[v].append(f["gibbs_error"] if ok else np.nan)
                out["converged_" + v].append(ok)
                out["m2_" + v].append(f["m2"] if ok else np.nan)
                out["edge_" + v].append(f["edge_mass"] if ok else np.nan)
                out["seconds_" + v].append(f["seconds"])
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: a row lacks {exc}; regenerate it with: {DIRECTIONAL_COMMAND}") from None
    table = {k: (v if k in ("source", "activation") else
                 np.asarray(v, dtype=bool if k.startswith("converged_") else float)) for k, v in out.items()}
    table["P_over_N0"] = table["P"] / table["n_features"]
    table["parameters"] = data["parameters"]
    table["wall_seconds"] = data.get("wall_seconds", np.nan)
    return table


ADAPTIVE_LIMIT_COMMAND = "PYTHONPATH=. python scripts/adaptive_limit.py"
LIMIT_KEYS = ("Q", "train_mean", "test_mean")


def adaptive_limit(*, path=None):
    r"""The cached limit study of the single-unit theory (``data/experiments/adaptive_limit.json``, written by
    ``scripts/adaptive_limit.py``): the single-unit map at the scalar theory's solution against kernel
    renormalization, for each sweep point and estimator of the w integral.

    Returns a dict: ``sweep``, ``estimator`` (lists), ``P``, ``N0``, ``N1`` (arrays), and for each of ``Q``,
    ``train_mean`` and ``test_mean`` (relative differences from the scalar theory: of Q, and the relative rms of the
    mean outputs) the mean of their absolute values over the seeds of the importance samples and ``<key>_spread``,
    their standard deviation over the seeds; ``fits``, the rows of the full fits, and ``check``, the refits of
    points of the comparison with the sampler (lists of dicts, empty if not run); ``parameters`` and
    ``wall_seconds`` of the file. Raises :class:`ResultsError` for a missing, partial or malformed file."""
    path, data = _read_complete(path, "adaptive_limit", ADAPTIVE_LIMIT_COMMAND)
    out = {k: [] for k in ("sweep", "estimator", "P", "N0", "N1", *LIMIT_KEYS, *(k + "_spread" for k in LIMIT_KEYS))}
    try:
        for row in data["rows"]:
            for k in ("sweep", "estimator", "P", "N0", "N1"):
                out[k].append(row[k])
            for k in LIMIT_KEYS:
                vals = np.abs(np.asarray(row[k], dtype=float))
                out[k].append(float(np.mean(vals)))
                out[k + "_spread"].append(float(np.std(np.asarray(row[k], dtype=float))))
        fits, check = list(data.get("fits", [])), list(data.get("check", []))
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: a row lacks {exc}; regenerate it with: {ADAPTIVE_LIMIT_COMMAND}") from None
    table = {k: (v if k in ("sweep", "estimator") else np.asarray(v, dtype=float)) for k, v in out.items()}
    table.update(fits=fits, check=check, parameters=data["parameters"], wall_seconds=data.get("wall_seconds", np.nan))
    return table


def limit_slope(table, *, sweep, estimator, key, by, P=None):
    """Log-log slope of ``key`` against ``by`` ("N0" or "N1") over the rows of one sweep and estimator (and ``P``,
    if given): the measured rate of approach to kernel renormalization (about -1 for a difference of order
    1/N). Returns ``(slope, n_points)``."""
    if by not in ("N0", "N1"):
        raise ValueError(f"by must be 'N0' or 'N1', got {by!r}")
    if key not in LIMIT_KEYS:
        raise ValueError(f"key must be one of {LIMIT_KEYS}, got {key!r}")
    sel = np.array([s == sweep and e == estimator for s, e in zip(table["sweep"], table["estimator"])])
    if P is not None:
        sel &= table["P"] == P
    if sel.sum() < 2:
        raise ValueError(f"fewer than two rows for sweep={sweep!r}, estimator={estimator!r}, P={P!r}")
    slope = np.polyfit(np.log(table[by][sel]), np.log(table[key][sel]), 1)[0]
    return float(slope), int(sel.sum())


def limit_value(table, key, *, sweep, estimator, **where):
    """``key`` of the one row of an :func:`adaptive_limit` table with this ``sweep``, ``estimator`` and the values
    ``where`` of P, N0, N1 (e.g. ``N1=6400``)."""
    sel = np.array([s == sweep and e == estimator for s, e in zip(table["sweep"], table["estimator"])])
    for k, v in where.items():
        if k not in ("P", "N0", "N1"):
            raise ValueError(f"rows are selected by P, N0 or N1, got {k!r}")
        sel &= table[k] == v
    if sel.sum() != 1:
        raise ValueError(f"{sel.sum()} rows match sweep={sweep!r}, estimator={estimator!r}, {where}")
    return float(table[key][sel][0])
