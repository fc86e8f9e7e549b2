r"""Theory along the coupling :math:`\gamma` of the Franz-Parisi transfer (computation only: no figures).

The coupling grid
    :func:`gamma_grid` (couplings from 0 to :math:`\infty`, log-spaced in between) and :func:`gamma_index`
    (the position of a coupling on a grid, ``inf`` included).

Theory along the coupling
    :func:`theory_along_gamma`: test errors and order parameters of :class:`~tflmini.FranzParisiTransfer`
    along a grid of couplings, each solve warm-started from the previous one
    (:meth:`~tflmini.FranzParisiTransfer.with_gamma`), optionally with the *matched-prior control*
    (:func:`matched_prior_control`, :func:`matched_prior_along_gamma`): a network trained on the target alone
    whose first-layer prior variance equals the target's marginal variance :math:`c_{tt}(\gamma)`, i.e.
    :class:`~tflmini.KernelRenormalization` with :math:`\lambda_0 = 1/c_{tt}(\gamma)`. It removes the part of
    the effect of :math:`\gamma` that is a change of prior, not a transfer of information.
    :func:`optimal_gamma`: the coupling of lowest error along a curve (refined by a parabola in
    :math:`\log\gamma` between grid points).

Reading the theory
    :func:`predictor_terms` splits the target's mean predictor into the source's prediction carried over by
    the renormalized source-target kernel and the regression of the residual labels;
    :func:`decomposition_gain` reads the gain over the matched-prior control and its exact split from the
    cached ``transfer_decomposition`` experiment; :func:`validation_theory_curves` recomputes the theory of
    ``data/validation_transfer.json`` (:func:`tflmini.results.load_validation_transfer`) on a dense grid.

The figures of these curves are in :mod:`tflmini.plots.transfer`.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_nonnegative, check_positive
from ._threads import single_thread
from .curves import TheoryOnData
from .kernels import nngp_kernel
from .renormalization import ConvergenceError, KernelRenormalization
from .results import VALIDATION_TRANSFER, ResultsError, validation_groups
from .transfer import FranzParisiTransfer, coupled_weight_statistics

__all__ = [
    "ORDER_PARAMETERS",
    "METRICS",
    "gamma_grid",
    "gamma_index",
    "theory_along_gamma",
    "matched_prior_control",
    "matched_prior_along_gamma",
    "optimal_gamma",
    "predictor_terms",
    "validation_theory_curves",
    "estimate_difference",
    "relation_key",
    "decomposition_gain",
    "frozen_transfer_curve",
]

ORDER_PARAMETERS = ("Q_s", "Q_t", "Q_st", "Q_tt")
METRICS = ("mean_error", "gibbs_error")


# -- the coupling grid ----------------------------------------------------------------------------------

def gamma_grid(g_min=1e-2, g_max=1e3, per_decade=3, *, zero=True, infinity=True):
    r"""Couplings ``[0, g_min, ..., g_max, inf]``: ``per_decade`` log-spaced points per decade between
    ``g_min`` and ``g_max`` (both included), with :math:`\gamma = 0` and :math:`\gamma = \infty` at the ends."""
    g_min = check_positive(g_min, "g_min")
    g_max = check_positive(g_max, "g_max")
    if g_max <= g_min:
        raise ValueError(f"g_max must exceed g_min, got g_min={g_min}, g_max={g_max}")
    if isinstance(per_decade, bool) or int(per_decade) != per_decade or per_decade < 1:
        raise ValueError(f"per_decade must be a positive integer, got {per_decade!r}")
    n = int(round(np.log10(g_max / g_min) * per_decade)) + 1
    mid = np.geomspace(g_min, g_max, max(n, 2))
    return np.r_[[0.0] if zero else [], mid, [np.inf] if infinity else []]


def gamma_index(grid, gamma):
    """Index of the coupling ``gamma`` in ``grid`` (equal to relative precision 1e-9; ``inf`` matches ``inf``).
    Raises ``KeyError`` if it is not there."""
    grid = np.asarray(grid, dtype=float)
    hits = np.flatnonzero((np.isinf(grid) & np.isinf(gamma)) | np.isclose(grid, gamma, rtol=1e-9, atol=0))
    if hits.size == 0:
        raise KeyError(f"coupling {gamma} is not on the theory grid")
    return int(hits[0])


# -- theory along the coupling ------------------------------------------------------------------------

def matched_prior_control(task, n_hidden, gamma, *, temperature=0.05, lambda0=1.0, lambda1=1.0, activation="erf"):
    r"""The matched-prior control at coupling ``gamma``: a network trained on the target data alone whose
    first-layer weights have the prior variance :math:`c_{tt}(\gamma)` of the coupled target, i.e.
    :class:`~tflmini.KernelRenormalization` with :math:`\lambda_0 \to 1/c_{tt}(\gamma)`, fitted on
    ``task.target``. At :math:`\gamma = 0` and :math:`\gamma=\infty`, :math:`c_{tt} = 1/\lambda_0`: the
    control is the network trained from scratch."""
    c_tt = coupled_weight_statistics(gamma, lambda0)["c_tt"]
    T = task.target
    with single_thread():
        return KernelRenormalization(n_hidden, temperature, 1.0 / c_tt, lambda1, activation).fit(T.X_train, T.y_train)


def _checked_metrics(metrics):
    metrics = tuple(metrics)
    if not metrics or any(m not in METRICS for m in metrics):
        raise ValueError(f"metrics must be a non-empty subset of {METRICS}, got {metrics!r}")
    return metrics


def matched_prior_along_gamma(task, n_hidden, gammas, *, temperature=0.05, lambda0=1.0, lambda1=1.0,
                              activation="erf", metrics=METRICS):
    r"""Test errors of :func:`matched_prior_control` along ``gammas``: dict with arrays ``mean_error`` and
    ``gibbs_error`` (target test set; only those named in ``metrics``: the posterior variance is computed for
    the Gibbs error alone). It uses the target data only: the source task plays no role."""
    gammas = np.atleast_1d(np.asarray(gammas, dtype=np.float64))
    metrics = _checked_metrics(metrics)
    out = {k: np.full(gammas.size, np.nan) for k in metrics}
    T = task.target
    with single_thread():
        for i, g in enumerate(gammas):
            try:
                kr = matched_prior_control(task, n_hidden, g, temperature=temperature, lambda0=lambda0,
                                           lambda1=lambda1, activation=activation)
            except ConvergenceError:
                continue
            _store_errors(out, i, kr, T)
    return out


def _store_errors(out, i, estimator, target):
    """The test errors of ``estimator`` on the ``target`` task into ``out[metric][i]``, for the metrics in ``out``
    (the variance only for the Gibbs error)."""
    if "gibbs_error" in out:
        mean, var = estimator.predict(target.X_test, return_var=True)
    else:
        mean, var = estimator.predict(target.X_test), None
    sq = (target.y_test - mean) ** 2
    if "mean_error" in out:
        out["mean_error"][i] = float(np.mean(sq))
    if var is not None:
        out["gibbs_error"][i] = float(np.mean(sq + var))


def theory_along_gamma(task, n_hidden, gammas, *, temperature=0.05, lambda0=1.0, lambda1=1.0, activation="erf",
                       matched_prior=False, estimators=False, metrics=METRICS):
    r"""Franz-Parisi theory of ``task`` (a :class:`~tflmini.tasks.TransferTask`) along the couplings ``gammas``.

    The first coupling is fitted from scratch, every later one with
    :meth:`~tflmini.FranzParisiTransfer.with_gamma` from its neighbour (couplings are visited in
    increasing order, whatever the order given). Errors are on the target's test set.

    Returns a dict of arrays over ``gammas``: ``mean_error`` (posterior-mean predictor), ``gibbs_error``
    (posterior-averaged error: bias plus variance), ``Q_s``, ``Q_t``, ``Q_st``, ``Q_tt``; with
    ``matched_prior`` also ``matched_mean_error`` and ``matched_gibbs_error`` of
    :func:`matched_prior_control`; with ``estimators`` the fitted estimators under ``"estimators"``.
    A coupling whose saddle point is not found gives NaN and is counted in ``n_failed``. ``metrics``: the errors
    to compute (a subset of ``("mean_error", "gibbs_error")``; the posterior variance only for the Gibbs error).
    """
    gammas = np.atleast_1d(np.asarray(gammas, dtype=np.float64))
    if gammas.ndim != 1 or gammas.size == 0:
        raise ValueError("gammas must be a non-empty 1-D sequence of couplings")
    for g in gammas:
        check_nonnegative(g, "gammas", allow_inf=True)
    S, T = task.source, task.target
    metrics = _checked_metrics(metrics)
    keys = list(metrics) + list(ORDER_PARAMETERS) + (["matched_" + m for m in metrics] if matched_prior else [])
    out = {k: np.full(gammas.size, np.nan) for k in keys}
    fitted = [None] * gammas.size
    n_failed, est = 0, None
    with single_thread():
        for i in np.argsort(gammas, kind="stable"):
            g = float(gammas[i])
            try:
                if est is None:
                    est = FranzParisiTransfer(n_hidden, g, temperature, lambda0, lambda1, activation)
                    est.fit(S.X_train, S.y_train, T.X_train, T.y_train)
                else:
                    est = est.with_gamma(g)
            except ConvergenceError:
                n_failed += 1
                continue
            _store_errors(out, i, est, T)
            for k in ORDER_PARAMETERS:
                out[k][i] = est.order_parameters_[k]
            fitted[i] = est
    if matched_prior:
        control = matched_prior_along_gamma(task, n_hidden, gammas, temperature=temperature, lambda0=lambda0,
                                            lambda1=lambda1, activation=activation, metrics=metrics)
        out.update({"matched_" + m: control[m] for m in metrics})
    out["gammas"] = gammas
    out["n_failed"] = n_failed
    if estimators:
        out["estimators"] = fitted
    return out


def optimal_gamma(gammas, errors):
    r"""``(gamma_star, error_star)``: the coupling of lowest error along a curve, refined between grid points.

    The grid point :math:`i` of lowest error (NaNs ignored) is the estimate, unless it is an interior minimum
    whose two neighbours are finite, positive couplings with finite errors: then a parabola in
    :math:`x = \log\gamma` through the three points :math:`(x_{i-1}, x_i, x_{i+1})`,

    .. math::

        E(x) \approx a\,(x - x_i)^2 + b\,(x - x_i) + c,

    gives, if it is convex (:math:`a > 0`), the refined minimum

    .. math::

        \gamma^* = \gamma_i\,\exp(\Delta), \quad \Delta = \operatorname{clip}\Big(-\frac{b}{2a},\,
        x_{i-1} - x_i,\, x_{i+1} - x_i\Big), \qquad E^* = \min\Big(E_i,\, c - \frac{b^2}{4a}\Big).

    A minimum at an end of the grid is not refined: :math:`\gamma^* = 0` means "do not couple" and
    :math:`\gamma^*=\infty` "freeze the source features" (a neighbour at :math:`\gamma = 0` or
    :math:`\infty` has no logarithm either). ``(nan, nan)`` if every error is NaN; ``ValueError`` if
    ``gammas`` and ``errors`` differ in shape.
    """
    gammas = np.asarray(gammas, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    if gammas.shape != errors.shape:
        raise ValueError(f"gammas and errors must have the same shape, got {gammas.shape} and {errors.shape}")
    if not np.any(np.isfinite(errors)):
        return np.nan, np.nan
    i = int(np.nanargmin(errors))
    g, e = float(gammas[i]), float(errors[i])
    if 0 < i < gammas.size - 1 and np.all(np.isfinite(errors[i - 1:i + 2])) and gammas[i - 1] > 0 \
            and np.isfinite(gammas[i + 1]):
        x = np.log(gammas[i - 1:i + 2])
        a, b, c = np.polyfit(x - x[1], errors[i - 1:i + 2], 2)
        if a > 0:
            dx = float(np.clip(-b / (2 * a), x[0] - x[1], x[2] - x[1]))
            g, e = float(np.exp(x[1] + dx)), float(min(e, c - b * b / (4 * a)))
    return g, e


# -- reading the theory -------------------------------------------------------------------------------

def predictor_terms(estimator, X):
    r"""The two terms of the target's mean predictor at inputs ``X`` (shape (M, N0)):

    - ``source``: :math:`Q_{st}\,k_{*s}^\top G_{ss}^{-1} y_s`, the source network's data carried to the
      target by the renormalized source-target kernel :math:`Q_{st}K_{st}`;
    - ``residual``: the rest, :math:`(Q_tk_{*t} - Q_{tt}k^\times_{*t})^\top D^{-1}\tilde y`, a regression of
      the residual labels :math:`\tilde y = y_t - Q_{st}K_{ts}G_{ss}^{-1}y_s`.

    Their sum is ``estimator.predict(X)``. ``estimator`` is a fitted :class:`~tflmini.FranzParisiTransfer`.
    """
    if not hasattr(estimator, "order_parameters_"):
        raise RuntimeError("the estimator is not fitted: call fit(X_source, y_source, X_target, y_target) first")
    X = np.asarray(X, dtype=np.float64)
    op, st, src = estimator.order_parameters_, estimator.weight_statistics_, estimator.source_
    with single_thread():
        k_s = nngp_kernel(src.X, X, var1=st["c_ss"], var2=st["c_tt"], cov=st["c_st"], activation=estimator.activation)
        G = op["Q_s"] * nngp_kernel(src.X, var1=st["c_ss"], activation=estimator.activation)
        G[np.diag_indices_from(G)] += estimator.temperature
        source = op["Q_st"] * (k_s.T @ np.linalg.solve(G, src.y))
        total = estimator.predict(X)
    return {"source": source, "residual": total - source, "total": total}


def validation_theory_curves(data, gammas=None):
    r"""Dense theory curves for every (N1, rho) group of :func:`~tflmini.results.load_validation_transfer`,
    recomputed from the file's parameters (the same tasks as the sampler's: :func:`~tflmini.make_transfer_task`
    with its sizes, ``n_test``, ``n_features``, ``teacher`` and ``seed``). Returns {(n_hidden, rho): curve of
    :func:`theory_along_gamma`}, and checks that the recomputed theory matches the values stored in the file at
    the sampled couplings (a ``ResultsError`` if not: the file was written by another version of the code)."""
    from .tasks import make_transfer_task

    p = data["parameters"]
    model = {k: p[k] for k in ("temperature", "lambda0", "lambda1") if k in p}
    groups = validation_groups(data)
    gammas = gamma_grid(1e-2, 1e3, per_decade=2) if gammas is None else np.asarray(gammas, dtype=np.float64)
    out = {}
    for (n1, rho), grp in groups.items():
        task = make_transfer_task(grp["P_source"], grp["P_target"], p["n_test"], p["n_features"], rho,
                                  teacher=p.get("teacher", "erf"), seed=p["seed"])
        g_all = np.unique(np.r_[gammas, grp["gammas"]])
        curve = theory_along_gamma(task, n1, g_all, activation=p.get("activation", "erf"), **model)
        idx = [int(np.flatnonzero((g_all == g) | (np.isinf(g_all) & np.isinf(g)))[0]) for g in grp["gammas"]]
        for key in ("Q_t", "Q_st", "Q_tt", "gibbs_error"):
            stored, again = grp["theory"][key], curve[key][idx]
            if not np.allclose(stored, again, rtol=1e-5, atol=1e-7):
                raise ResultsError(f"{data['path']}: the theory stored for N1={n1}, rho={rho} ({key}: {stored}) differs "
                                   f"from the theory recomputed now ({again}); regenerate the file with: "
                                   f"{VALIDATION_TRANSFER[1]}")
        out[(n1, rho)] = curve
    return out


# -- transfer against the matched-prior control (cached ``transfer_decomposition``) ---------------------

def estimate_difference(a, b):
    """Mean and standard error of a - b for two independent estimates {"mean", "se"} (arrays)."""
    return (np.asarray(a["mean"]) - np.asarray(b["mean"]),
            np.sqrt(np.asarray(a["se"]) ** 2 + np.asarray(b["se"]) ** 2))


def relation_key(relation):
    """The key of a relatedness in ``transfer_decomposition`` results: ``0.9`` -> ``"0.9"``, ``0`` -> ``"0"``."""
    return relation if isinstance(relation, str) else f"{float(relation):g}"


def _control_key(metric, curves):
    """The matched-prior control of an error: ``control_<metric>``; the control has no source, so its
    single-source error is its posterior-mean error (``control_mean_error``)."""
    key = "control_" + metric
    return key if key in curves else "control_mean_error"


def decomposition_gain(result, relation, metric="mean_error"):
    r"""Gain of transfer over the matched-prior control, :math:`E_{\rm control}(\gamma) - E(\gamma)`, and its split,
    from the cached ``transfer_decomposition`` experiment (``result``: :func:`tflmini.experiments.load`), for one
    relatedness ``relation`` (``0.9`` or ``"0.9"``) and one error ``metric`` (``"mean_error"``, ``"gibbs_error"``,
    ``"single_source_error"``).

    The theory stores the exact split :math:`E = E_{\rm no\,source} + E_{\rm linear} + E_{\rm quadratic}` (keys
    ``<metric>_no_source``, ``<metric>_source_linear``, ``<metric>_source_quadratic``), so the gain is the sum of
    ``carried`` :math:`= -(E_{\rm linear} + E_{\rm quadratic})`, the part carried by the renormalized source-target
    kernel :math:`Q_{st}K_{st}` (zero when :math:`Q_{st} = 0`), and ``rest`` :math:`= E_{\rm control} - E_{\rm no\,source}`.

    Returns ``{"theory": {gammas, Q_st, gain, carried, rest}, "sampled": {gammas, Q_st, Q_st_se, gain, gain_se}}``
    (``"sampled"`` is None without simulation); sampled gains are differences of two independent estimates,
    standard errors added in quadrature."""
    key = relation_key(relation)
    th = result.theory["curves"][key]
    control = _control_key(metric, th)
    err = np.asarray(th[metric], dtype=np.float64)
    theory = {"gammas": np.asarray(result.theory["gammas"], dtype=np.float64),
              "Q_st": np.asarray(th["Q_st"], dtype=np.float64),
              "gain": np.asarray(th[control], dtype=np.float64) - err,
              "carried": -(np.asarray(th[metric + "_source_linear"], dtype=np.float64)
                           + np.asarray(th[metric + "_source_quadratic"], dtype=np.float64)),
              "rest": np.asarray(th[control], dtype=np.float64) - np.asarray(th[metric + "_no_source"], dtype=np.float64)}
    sampled = None
    sim = getattr(result, "simulation", None)
    if sim is not None and key in sim["curves"]:
        c = sim["curves"][key]
        gain, gain_se = estimate_difference(c[_control_key(metric, c)], c[metric])
        sampled = {"gammas": np.asarray(sim["gammas"], dtype=np.float64),
                   "Q_st": np.asarray(c["Q_st"]["mean"], dtype=np.float64),
                   "Q_st_se": np.asarray(c["Q_st"]["se"], dtype=np.float64), "gain": gain, "gain_se": gain_se}
    return {"theory": theory, "sampled": sampled}


def frozen_transfer_curve(task, sizes, n_hidden, temperature, *, lambda0=1.0, lambda1=1.0, activation="erf"):
    r"""Target test errors against the number of target examples, from scratch and with frozen source
    features (a preview of part II).

    ``task`` is a :class:`~tflmini.tasks.TransferTask`; for each ``P`` in ``sizes`` the first ``P`` target
    points are used. "Scratch" is the single-network theory on the target data alone
    (:class:`~tflmini.curves.TheoryOnData`); "frozen" is :class:`~tflmini.FranzParisiTransfer` at :math:`\gamma=\infty`: the
    target network keeps the first layer of a network trained on the whole source set and learns only
    its readout. Returns arrays ``P``, ``scratch_gibbs_error``, ``scratch_mean_error``,
    ``frozen_gibbs_error``, ``frozen_mean_error`` (predictor averaged over source networks too) and
    ``frozen_single_source_error`` (the error of the target built on one pretrained source,
    :meth:`~tflmini.FranzParisiTransfer.single_source_error`), NaN where a saddle point is not found.
    """
    sizes = np.asarray(sizes, dtype=int)
    S, T = task.source, task.target
    if sizes.ndim != 1 or sizes.size == 0 or sizes.min() < 1 or sizes.max() > T.X_train.shape[0]:
        raise ValueError(f"sizes must be between 1 and the {T.X_train.shape[0]} target training points")
    keys = ("scratch_gibbs_error", "scratch_mean_error", "frozen_gibbs_error", "frozen_mean_error",
            "frozen_single_source_error")
    out = {"P": sizes, **{k: np.full(sizes.size, np.nan) for k in keys}}
    with single_thread():
        for i, P in enumerate(sizes):
            Xt, yt = T.X_train[:P], T.y_train[:P]
            try:
                scratch = TheoryOnData(Xt, yt, T.X_test, T.y_test, lambda0=lambda0, activation=activation)
                res = scratch.evaluate(n_hidden, temperature, lambda1)
                out["scratch_gibbs_error"][i], out["scratch_mean_error"][i] = res["gibbs_error"], res["mean_error"]
                fp = FranzParisiTransfer(n_hidden, np.inf, temperature, lambda0, lambda1, activation)
                fp.fit(S.X_train, S.y_train, Xt, yt)
                split = fp.transfer_split(T.X_test, T.y_test)
                for k in ("gibbs_error", "mean_error", "single_source_error"):
                    out[f"frozen_{k}"][i] = split[k]
            except ConvergenceError:
                continue
    return out
