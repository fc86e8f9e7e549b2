r"""Building blocks shared by the experiments: tasks from parameters, theory curves over the coupling
:math:`\gamma`, and sampled finite networks.

Metrics (target test set): ``mean_error`` :math:`\langle(y-\bar f(x))^2\rangle`, the test loss of the
posterior-mean predictor, and ``gibbs_error`` (posterior average of the loss: bias plus variance).
The transfer *benefit* at coupling :math:`\gamma` is :math:`E(\gamma=0) - E(\gamma)` (> 0: transfer helps).
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .._validation import as_number
from ..datasets import make_digits_transfer_task
from ..tasks import Task, TransferTask, make_transfer_task
from ..transfer_curves import ORDER_PARAMETERS, theory_along_gamma
from ..sampling.transfer_sampler import KEYS, TransferSampler

MODEL = {"temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "activation": "erf"}
SAMPLER = {"n_source_chains": 4, "snapshots_per_chain": 4, "snapshot_every": 10, "source_warmup": 150,
           "target_warmup": 80, "target_samples": 80}
QUICK_SAMPLER = {"n_source_chains": 2, "snapshots_per_chain": 2, "snapshot_every": 3, "source_warmup": 15,
                 "target_warmup": 10, "target_samples": 10}
SYNTHETIC = {"dataset": "synthetic", "n_features": 50, "teacher": "erf", "noise": 0.0, "input_shift": 0.0}
DIGITS = {"dataset": "digits"}


def gamma_list(values):
    return np.array([as_number(g) for g in values], dtype=np.float64)


def theory_gammas(spec, extra=()):
    """``{"min", "max", "num"}`` -> sorted [0, log-spaced points, inf] joined with the couplings ``extra``
    (those sampled, so theory and simulation meet at the same points)."""
    dense = np.r_[0.0, np.geomspace(spec["min"], spec["max"], spec["num"]), np.inf]
    return np.unique(np.r_[dense, gamma_list(extra)])


def rng_for(seed, *keys):
    """Independent generator for one part of an experiment: ``default_rng([seed, *keys])``."""
    return np.random.default_rng([int(seed), *(int(k) for k in keys)])


def subsample(task: TransferTask, n_source=None, n_target=None) -> TransferTask:
    """The first ``n_source`` / ``n_target`` training points (test sets unchanged): nested training sets."""
    s, t = task.source, task.target
    for n, part, name in ((n_source, s, "n_source"), (n_target, t, "n_target")):
        if n is not None and n > part.X_train.shape[0]:
            raise ValueError(f"{name}={n} exceeds the {part.X_train.shape[0]} training points of the task")
    if n_source is not None:
        s = Task(s.X_train[:n_source], s.y_train[:n_source], s.X_test, s.y_test, s.w, s.name)
    if n_target is not None:
        t = Task(t.X_train[:n_target], t.y_train[:n_target], t.X_test, t.y_test, t.w, t.name)
    return TransferTask(s, t, task.rho, task.input_shift)


def make_task(p, relation, n_source=None, n_target=None) -> TransferTask:
    """The task of parameters ``p`` at ``relation`` (rho for synthetic data, a catalogue target for digits),
    with at most ``n_source``/``n_target`` training points (default: p's)."""
    ns = p["n_source"] if n_source is None else n_source
    nt = p["n_target"] if n_target is None else n_target
    if p["dataset"] == "synthetic":
        return make_transfer_task(ns, nt, p["n_test"], p["n_features"], float(relation), teacher=p["teacher"],
                                  noise=p["noise"], input_shift=p["input_shift"], seed=p["seed"])
    if p["dataset"] == "digits":
        return make_digits_transfer_task(relation, ns, nt, p["n_test"], seed=p["seed"])
    raise ValueError(f"dataset must be 'synthetic' or 'digits', got {p['dataset']!r}")


def relations(p):
    """The relatedness values (synthetic ``rhos``) or catalogue targets (digits ``targets``) of ``p``."""
    return p["rhos"] if p["dataset"] == "synthetic" else p["targets"]


def relation_label(p, relation):
    return f"rho={float(relation):g}" if p["dataset"] == "synthetic" else str(relation)


def transfer_curve(task: TransferTask, n_hidden, gammas, p, *, order_parameters=True, matched_scratch=False,
                   single_source=False):
    r"""Franz-Parisi theory along ``gammas`` (each warm-started from the previous one) with the parameters
    ``p``: :func:`tflmini.transfer_curves.theory_along_gamma`, giving arrays ``mean_error``, ``gibbs_error``
    (+ order parameters; + ``matched_mean_error``/``matched_gibbs_error`` of a network trained on the target
    alone with the target's marginal weight variance :math:`c_{tt}(\gamma)`, which separates the information
    coming from the source from the change of prior; + ``single_source_error`` with ``single_source``, the
    error with one pretrained source). A coupling whose saddle point is not found gives NaN in every array
    (counted in ``n_failed``)."""
    out = theory_along_gamma(task, n_hidden, gammas, temperature=p["temperature"], lambda0=p["lambda0"],
                             lambda1=p["lambda1"], activation=p["activation"], matched_prior=matched_scratch,
                             estimators=single_source)
    del out["gammas"]
    if single_source:
        tgt = task.target
        out["single_source_error"] = np.array([np.nan if est is None else est.single_source_error(tgt.X_test, tgt.y_test)
                                               for est in out.pop("estimators")])
    if not order_parameters:
        for k in ORDER_PARAMETERS:
            del out[k]
    if matched_scratch:
        failed = np.isnan(out["mean_error"])
        for k in ("matched_mean_error", "matched_gibbs_error"):
            out[k][failed] = np.nan
    return out


def make_sampler(n_hidden, p, rng, progress):
    return TransferSampler(int(n_hidden), p["temperature"], p["lambda0"], p["lambda1"], p["activation"],
                           **p["sampler"], seed=rng, progress=progress)


def summarize(res, keys=KEYS):
    """A :class:`~tflmini.TransferSamplingResult` as {key: {"mean": [...], "se": [...]}} over its couplings
    (the observables ``keys``; :data:`~tflmini.sampling.transfer_sampler.SINGLE_SOURCE_KEYS` can be added)."""
    return {k: {"mean": np.asarray(res.mean[k], dtype=float), "se": np.asarray(res.stderr[k], dtype=float)}
            for k in keys}


def merge(parts):
    """Concatenate several :func:`summarize` outputs (couplings sampled in separate calls)."""
    return {k: {s: np.concatenate([q[k][s] for q in parts]) for s in ("mean", "se")} for k in parts[0]}


def sample_gammas(sampler, source, task, gammas, keys=KEYS):
    T = task.target
    return summarize(sampler.sample_targets(source, T.X_train, T.y_train, T.X_test, T.y_test, list(gammas)), keys)


def loop(items, desc, progress):
    """A tqdm progress bar over an experiment's outer loop."""
    return tqdm(list(items), desc=desc, disable=not progress, leave=False)
