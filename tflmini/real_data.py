r"""Computations of the real-data chapter of the book (scikit-learn digits); the figures and the slider panel
are in :mod:`tflmini.plots.real_data`.

Nothing here samples networks; sampled networks come from the cached experiments ``digits_gamma_sweep``,
``digits_relatedness_sweep``, ``digits_width_effect`` and ``digits_source_size``
(:func:`tflmini.experiments.load`).

Errors are named as in the book: :math:`\epsilon_{\rm m}` (``mean_error``, the prediction averaged over source
networks), :math:`\epsilon_{\rm single}` (``single_source_error``, the target built on ONE pretrained source)
and :math:`\epsilon_{\rm G}` (``gibbs_error``).

Inputs, split and relatedness
    :func:`training_index`, :func:`digits_pixel_mask`, :func:`input_dimension`; :func:`input_statistics`
    (sizes of the split, scale of the inputs, overlaps, effective dimensions, :func:`effective_dimension`);
    :func:`leak_check` (shared rows between training and test sets over the catalogue) and
    :func:`independent_draw_leaks` (what independent draws from one pool would share);
    :func:`readout_template`; :func:`relatedness_sensitivity` (the relatedness of the catalogue under other
    penalties, predictors and reference sets).

The source network
    :func:`source_comparison` (theory against sampled source at the sampled width).

Theory against sampled targets
    :func:`theory_vs_sampled`, :func:`agreement_summary` (fraction of sampled points within two standard errors
    of the theory), :func:`sampled_benefits`, :func:`benefit_agreement`, :func:`pooled_benefit`.
"""

from __future__ import annotations

import numpy as np

from .datasets import (DIGITS_SOURCE, DIGITS_TARGETS, class_pair, digits_catalogue, digits_pair_training,
                       digits_split, load_digits_pool, make_digits_transfer_task, ridge_readout, shared_rows,
                       standardize, task_relatedness)
from .transfer_curves import gamma_index

__all__ = [
    "training_index",
    "digits_pixel_mask",
    "input_dimension",
    "effective_dimension",
    "input_statistics",
    "leak_check",
    "independent_draw_leaks",
    "readout_template",
    "SENSITIVITY_VARIANTS",
    "relatedness_sensitivity",
    "source_comparison",
    "theory_vs_sampled",
    "agreement_summary",
    "sampled_benefits",
    "benefit_agreement",
    "pooled_benefit",
]


# -- inputs, split and relatedness ------------------------------------------------------------------

def training_index():
    """Indices (into :func:`~tflmini.datasets.load_digits_pool`) of the training images, source and target parts."""
    sp = digits_split()
    return np.sort(np.r_[sp["source"], sp["target"]])


def digits_pixel_mask():
    """Boolean (8, 8) mask of the pixels kept by :func:`~tflmini.datasets.load_digits_pool` (the pixels that
    vary over the training images), in the order of its 61 input components."""
    from sklearn.datasets import load_digits

    X = load_digits().data.astype(np.float64)[training_index()]
    std = X.std(axis=0)
    return (std > 1e-12 * max(1.0, float(np.max(std)))).reshape(8, 8)


def input_dimension():
    """Number of input components :math:`N_0` of the digits (pixels kept by :func:`digits_pixel_mask`)."""
    return int(digits_pixel_mask().sum())


def effective_dimension(X):
    r"""Participation ratio :math:`(\sum_k \ell_k)^2 / \sum_k \ell_k^2` of the eigenvalues :math:`\ell_k` of the
    empirical covariance of the rows of ``X``: the number of input directions that carry the variance. It
    equals the number of components :math:`N_0` for isotropic inputs and 1 when all variance lies along one
    direction."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"X must be a matrix with at least two rows, got shape {X.shape}")
    Xc = X - X.mean(axis=0)
    ell = np.linalg.eigvalsh(Xc.T @ Xc / X.shape[0])
    ell = np.clip(ell, 0.0, None)
    if ell.sum() == 0:
        raise ValueError("X has no variance")
    return float(ell.sum() ** 2 / np.sum(ell ** 2))


def input_statistics(source=DIGITS_SOURCE):
    r"""Numbers about the digits inputs, from training images only (except ``n_images``).

    Returns a dict: ``n_images``; ``n0`` (components kept); ``parts`` {part: number of images};
    ``source_parts`` {part: images of the source pair}; ``overlap_mean`` and ``overlap_abs_mean`` (mean and
    mean absolute value of the off-diagonal overlaps :math:`C(x,x') = x\cdot x'/N_0` among the source pair's
    training images); ``n_eff_pair`` and ``n_eff_pool`` (:func:`effective_dimension` of the source pair's
    training images and of every training image); ``standardised_norm_min``/``_max`` (the range of
    :math:`|x|^2/N_0` over the training images under per-pixel standardisation, for comparison).
    """
    from sklearn.datasets import load_digits

    X, y = load_digits_pool()
    sp = digits_split()
    train = training_index()
    Xs, _ = digits_pair_training(source)
    C = Xs @ Xs.T / X.shape[1]
    off = C[~np.eye(C.shape[0], dtype=bool)]
    raw = load_digits().data.astype(np.float64)[train]
    Z = standardize(raw)
    norms = np.sum(Z**2, axis=1) / Z.shape[1]
    in_pair = np.isin(y, source)
    return {"n_images": int(X.shape[0]), "n0": int(X.shape[1]),
            "parts": {k: int(v.size) for k, v in sp.items()},
            "source_parts": {k: int(np.sum(in_pair[v])) for k, v in sp.items()},
            "overlap_mean": float(off.mean()), "overlap_abs_mean": float(np.abs(off).mean()),
            "n_eff_pair": effective_dimension(Xs), "n_eff_pool": effective_dimension(X[train]),
            "standardised_norm_min": float(norms.min()), "standardised_norm_max": float(norms.max())}


def leak_check(seeds=(0, 1, 5), sizes=((20, 10, None), (160, 20, None))):
    r"""Rows shared between training and test sets of :func:`~tflmini.datasets.make_digits_transfer_task`, by
    exact comparison, over every catalogue target, the ``seeds`` and the ``sizes`` (n_source, n_target,
    n_test). Returns ``{"source_train_in_target_test", "target_train_in_target_test",
    "source_train_in_source_test", "n_test_rows", "n_tasks"}`` (totals over all tasks)."""
    out = {"source_train_in_target_test": 0, "target_train_in_target_test": 0, "source_train_in_source_test": 0,
           "n_test_rows": 0, "n_tasks": 0}
    for seed in seeds:
        for ns, nt, ne in sizes:
            for name in DIGITS_TARGETS:
                task = make_digits_transfer_task(name, ns, nt, ne, seed=seed)
                src, tgt = task.source, task.target
                out["source_train_in_target_test"] += shared_rows(tgt.X_test, src.X_train)
                out["target_train_in_target_test"] += shared_rows(tgt.X_test, tgt.X_train)
                out["source_train_in_source_test"] += shared_rows(src.X_test, src.X_train)
                out["n_test_rows"] += tgt.X_test.shape[0]
                out["n_tasks"] += 1
    return out


def independent_draw_leaks(target="close", n_source=160, n_target=20, *, source=DIGITS_SOURCE, seed=0):
    r"""What a split that is NOT made once would do: the source training set drawn at random among all images of
    the source pair, the target training set among all images of the target pair and the target test set the
    rest of the target pair, independently (the construction this package used before the fixed split).
    Returns ``(shared, n_test)``: the number of target test images that are source training images, and the
    size of the target test set."""
    X, y = load_digits_pool()
    rng = np.random.default_rng(seed)
    pair = DIGITS_TARGETS[target] if isinstance(target, str) else tuple(target)
    Xs, _ = class_pair(X, y, tuple(source))
    Xt, _ = class_pair(X, y, pair)
    src = Xs[rng.permutation(len(Xs))[:n_source]]
    test = Xt[rng.permutation(len(Xt))[n_target:]]
    return shared_rows(test, src), int(test.shape[0])


def readout_template(classes, *, ridge=0.01):
    r"""The ridge readout :math:`w` of :func:`~tflmini.datasets.ridge_readout` (penalty ``ridge`` relative to the
    input scale) of the digit pair ``classes`` (labels +1 for the first digit, -1 for the second; every
    training image of the pair, :func:`~tflmini.datasets.digits_pair_training`) as an (8, 8) image; pixels
    that are dropped are 0. Its predictions :math:`Xw` are the function :math:`f` whose normalised overlap is
    the relatedness of :func:`~tflmini.datasets.task_relatedness` (``method="ridge"``)."""
    X, y = digits_pair_training(tuple(classes))
    w = ridge_readout(X, y, ridge)
    image = np.zeros(64)
    image[digits_pixel_mask().ravel()] = w
    return image.reshape(8, 8)


#: The variants of :func:`relatedness_sensitivity`: (column title, keyword arguments or a special name).
SENSITIVITY_VARIANTS = (
    ("ridge 0.01 (default)", {}),
    ("ridge 0.001", {"ridge": 1e-3}),
    ("ridge 0.1", {"ridge": 0.1}),
    ("ridge 1", {"ridge": 1.0}),
    ("NNGP, T = 0.05", {"method": "nngp"}),
    ("reference: all training digits", "pool"),
    ("reference: target inputs", "target"),
    ("former definition", "former"),
)


def _former_relatedness(source, target):
    """The definition used before the split: per-pixel standardised pool, absolute ridge penalty 1, readouts on
    every image of each pair (test images included), reference set all 1797 images."""
    from sklearn.datasets import load_digits

    raw, y = load_digits(return_X_y=True)
    X = standardize(raw.astype(np.float64))

    def f(pair):
        Xp, yp = class_pair(X, y, pair)
        return X @ np.linalg.solve(Xp.T @ Xp + np.eye(X.shape[1]), Xp.T @ yp)

    fs, ft = f(source), f(target)
    return float(abs(fs @ ft) / np.sqrt((fs @ fs) * (ft @ ft)))


def relatedness_sensitivity(source=DIGITS_SOURCE, extra=((3, 4),)):
    r"""The relatedness of every catalogue target (and of the pairs ``extra``) under the variants
    :data:`SENSITIVITY_VARIANTS`: ridge penalties relative to the input scale from 0.001 to 1, the NNGP
    predictor, two other reference sets (every training image of all digits; the target's own training
    inputs), and the former definition (:func:`_former_relatedness`, which used test images). All but the last
    use training images only. Returns ``{"columns": [...], "rows": [{"name", "pair", "values"}]}``."""
    X, y = load_digits_pool()
    pool = X[training_index()]
    Xs, ys = digits_pair_training(source)
    targets = [(r["name"], r["target"]) for r in digits_catalogue(source=source)]
    targets += [(f"{a} vs {b}", (a, b)) for a, b in extra]
    rows = []
    for name, pair in targets:
        Xt, yt = digits_pair_training(pair)
        values = []
        for _, v in SENSITIVITY_VARIANTS:
            if v == "pool":
                values.append(task_relatedness(Xs, ys, Xt, yt, pool))
            elif v == "target":
                values.append(task_relatedness(Xs, ys, Xt, yt, Xt))
            elif v == "former":
                values.append(_former_relatedness(tuple(source), tuple(pair)))
            else:
                values.append(task_relatedness(Xs, ys, Xt, yt, **v))
        rows.append({"name": name, "pair": tuple(pair), "values": np.array(values)})
    return {"columns": [c for c, _ in SENSITIVITY_VARIANTS], "rows": rows}


# -- the source network --------------------------------------------------------------------------------

def source_comparison(result):
    r"""The source network of a cached digits experiment with one sampled width (``digits_gamma_sweep`` or
    ``digits_relatedness_sweep``): for ``Q_s``, ``mean_error`` and ``gibbs_error`` of the source on the test
    images of its two digits, a dict ``{theory, sampled, se, z, relative}`` (theory: kernel renormalization at
    the sampled width; ``z`` = (sampled - theory) / se; ``relative`` = sampled / theory - 1); and
    ``alignment`` {template: {"mean", "se"}} (squared cosine of the first-layer weights with each ridge
    template, in units of its prior value :math:`1/N_0`)."""
    th, sim = result.theory["source"], result.simulation["source"]
    widths = [str(w) for w in th["widths"]]
    n1 = str(result.parameters["n_hidden"])
    j = widths.index(n1) if n1 in widths else int(np.flatnonzero(np.asarray(th["widths"], dtype=float)
                                                                 == float(n1))[0])
    out = {}
    for k in ("Q_s", "mean_error", "gibbs_error"):
        t, m, se = float(th[k][j]), float(sim[k]["mean"]), float(sim[k]["se"])
        out[k] = {"theory": t, "sampled": m, "se": se, "z": (m - t) / se, "relative": m / t - 1.0}
    out["alignment"] = {k: {"mean": float(v["mean"]), "se": float(v["se"])} for k, v in sim["alignment"].items()}
    return out


# -- theory against sampled networks -------------------------------------------------------------------

def theory_vs_sampled(result, relation, key):
    r"""Theory at the sampled width against the sampled networks of a cached digits gamma sweep, for one
    observable ``key`` (an error or an order parameter) at every sampled coupling: dict of arrays
    ``gammas``, ``theory``, ``sampled``, ``se``, ``z`` = (sampled - theory) / se (NaN where se = 0)."""
    th, sim = result.theory, result.simulation
    width = f"N1={result.parameters['n_hidden']}"
    curve = np.asarray(th["curves"][relation][width][key], dtype=float)
    gammas = np.asarray(sim["gammas"], dtype=float)
    theory = np.array([curve[gamma_index(th["gammas"], g)] for g in gammas])
    r = sim["results"][relation][key]
    mean, se = np.asarray(r["mean"], dtype=float), np.asarray(r["se"], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (mean - theory) / se, np.nan)
    return {"gammas": gammas, "theory": theory, "sampled": mean, "se": se, "z": z}


def agreement_summary(result, keys, relations=None, *, skip_zero=("Q_st", "Q_tt"), n_se=2.0):
    r"""How often the sampled networks of a cached digits gamma sweep lie within ``n_se`` standard errors of the
    theory: for each ``key``, ``{"n", "within", "fraction", "max_abs_z"}`` over the targets ``relations``
    (default: all) and the sampled couplings; for the keys ``skip_zero`` the coupling :math:`\gamma = 0` is
    left out (there both are zero by construction)."""
    relations = list(result.simulation["results"]) if relations is None else list(relations)
    out = {}
    for key in keys:
        zs = []
        for rel in relations:
            d = theory_vs_sampled(result, rel, key)
            keep = np.isfinite(d["z"]) & ~((d["gammas"] == 0) & (key in skip_zero))
            zs.append(d["z"][keep])
        z = np.concatenate(zs)
        within = int(np.sum(np.abs(z) <= n_se))
        out[key] = {"n": int(z.size), "within": within, "fraction": within / z.size if z.size else np.nan,
                    "max_abs_z": float(np.max(np.abs(z))) if z.size else np.nan}
    return out


def sampled_benefits(result, relation, *, metric="mean_error"):
    r"""Benefit of transfer :math:`B(\gamma) = \epsilon(0) - \epsilon(\gamma)` for the error ``metric``
    (``mean_error``, ``single_source_error``, ``gibbs_error``) at every sampled coupling of a cached gamma sweep
    (``result``: :func:`tflmini.experiments.load` of ``"digits_gamma_sweep"`` or ``"gamma_sweep"``).

    Returns a dict of arrays over the sampled couplings: ``gammas``; ``theory`` (the theory at the sampled
    width); ``simulation`` and ``se`` (sampled networks; the standard errors of the two estimates added in
    quadrature); ``z`` = (simulation - theory) / se; ``ratio`` = simulation / theory (NaN where the theory's
    benefit is below ``1e-12``); ``theory_error``, ``simulation_error``, ``simulation_error_se``.
    """
    if result.simulation is None:
        raise ValueError(f"{result.name} has no simulation part")
    d = theory_vs_sampled(result, relation, metric)
    gammas, E_th, mean, se = d["gammas"], d["theory"], d["sampled"], d["se"]
    i0 = int(np.flatnonzero(gammas == 0)[0])
    b_th = E_th[i0] - E_th
    b_sim = mean[i0] - mean
    b_se = np.sqrt(se[i0] ** 2 + se ** 2)
    b_se[i0] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.abs(b_th) > 1e-12, b_sim / b_th, np.nan)
        z = np.where(b_se > 0, (b_sim - b_th) / b_se, np.nan)
    return {"gammas": gammas, "theory": b_th, "simulation": b_sim, "se": b_se, "z": z, "ratio": ratio,
            "theory_error": E_th, "simulation_error": mean, "simulation_error_se": se}


def benefit_agreement(result, metric, relations=None, *, n_se=2.0):
    r"""How often the sampled benefits :math:`\epsilon(0) - \epsilon(\gamma)` of a cached digits gamma sweep lie
    within ``n_se`` standard errors of the theory's (:func:`sampled_benefits`, couplings :math:`\gamma > 0`, the
    targets ``relations``, default all): ``{"n", "within", "fraction", "max_abs_z"}``."""
    relations = list(result.simulation["results"]) if relations is None else list(relations)
    z = np.concatenate([sampled_benefits(result, rel, metric=metric)["z"][1:] for rel in relations])
    z = z[np.isfinite(z)]
    within = int(np.sum(np.abs(z) <= n_se))
    return {"n": int(z.size), "within": within, "fraction": within / z.size if z.size else np.nan,
            "max_abs_z": float(np.max(np.abs(z))) if z.size else np.nan}


_TASK_KEYS = ("seed", "n_test", "temperature", "lambda0", "lambda1", "activation", "inputs")


def _frozen_estimates(result, relation, metric, n_source, n_target):
    """(width, theory, sampled, se) of the benefit of frozen features in one cached result, for the task with
    ``n_source`` and ``n_target`` training examples (empty if the result does not hold that task)."""
    th, sim, p = result.theory, result.simulation, result.parameters
    out = []
    if result.name == "digits_source_size":
        if relation != p["target"] or n_source not in sim["n_sources"] or n_target not in sim["n_targets"]:
            return out
        i, j = list(sim["n_targets"]).index(n_target), list(sim["n_sources"]).index(n_source)
        a = [int(n) for n in th["n_targets"]].index(int(n_target))
        b = [int(n) for n in th["n_sources"]].index(int(n_source))
        kz, ki = ("E_zero", "E_inf") if metric == "mean_error" else ("E_single_zero", "E_single_inf")
        z, f = sim["gamma_zero"][metric], sim["gamma_inf"][i][metric]
        out.append((p["n_hidden"], th[kz][a, b] - th[ki][a, b], z["mean"][i] - f["mean"][j],
                    float(np.hypot(z["se"][i], f["se"][j]))))
        return out
    if (p["n_source"], p["n_target"]) != (n_source, n_target):
        return out
    if result.name == "digits_gamma_sweep":
        if relation in sim["results"]:
            b = sampled_benefits(result, relation, metric=metric)
            out.append((p["n_hidden"], b["theory"][-1], b["simulation"][-1], b["se"][-1]))
    elif result.name == "digits_relatedness_sweep":
        if relation in th["labels"]:
            k = list(th["labels"]).index(relation)
            E = np.asarray(th["curves"][f"N1={p['n_hidden']}"][metric], dtype=float)[k]
            r = sim["results"][list(sim["labels"]).index(relation)][metric]
            out.append((p["n_hidden"], E[0] - E[-1], r["mean"][0] - r["mean"][-1],
                        float(np.hypot(r["se"][0], r["se"][-1]))))
    elif result.name == "digits_width_effect":
        if relation in sim["results"]:
            c = th["curves"][relation]
            widths = np.asarray(th["widths"], dtype=float)
            E = np.asarray(c[metric], dtype=float)
            for j, w in enumerate(p["widths"]):
                i = int(np.flatnonzero(widths == w)[0])
                r = sim["results"][relation][j][metric]
                out.append((w, E[i, 0] - E[i, -1], r["mean"][0] - r["mean"][-1],
                            float(np.hypot(r["se"][0], r["se"][-1]))))
    else:
        raise ValueError(f"no frozen-feature benefit in {result.name}")
    return out


def pooled_benefit(results, relation="close", *, metric="mean_error", n_hidden=100, n_source=None, n_target=None):
    r"""The benefit of frozen features :math:`\epsilon(0) - \epsilon(\infty)` at width ``n_hidden`` on one target
    from several cached experiments (``digits_gamma_sweep``, ``digits_relatedness_sweep``,
    ``digits_width_effect``, ``digits_source_size``), each with its own independent sample of source networks, on
    the same task: same seed, test images and model, and ``n_source``, ``n_target`` training examples (default:
    those of the first result). Returns ``{"theory", "estimates": [(experiment, sampled, se, z)], "pooled",
    "pooled_se", "z", "chi2"}``: the inverse-variance weighted mean of the sampled estimates, its standard error,
    its distance from the theory in standard errors, and the :math:`\chi^2` of the estimates about their mean
    (``len(estimates) - 1`` degrees of freedom)."""
    results = list(results)
    first = results[0].parameters
    n_source = first["n_source"] if n_source is None else n_source
    n_target = first["n_target"] if n_target is None else n_target
    est, theory = [], None
    for r in results:
        if any(r.parameters.get(k) != first.get(k) for k in _TASK_KEYS):
            raise ValueError(f"{r.name} does not hold the same task as {results[0].name}")
        for w, t, m, se in _frozen_estimates(r, relation, metric, n_source, n_target):
            if w == n_hidden:
                if theory is not None and not np.isclose(t, theory, rtol=1e-6, atol=1e-9):
                    raise ValueError(f"{r.name}: theory {t} differs from {theory}: not the same task")
                theory = float(t)
                est.append((r.name, float(m), float(se), (float(m) - float(t)) / float(se)))
    if not est:
        raise ValueError(f"no sampled benefit at N1={n_hidden} for {relation!r}")
    wts = np.array([1 / e[2] ** 2 for e in est])
    vals = np.array([e[1] for e in est])
    pooled = float(np.sum(wts * vals) / wts.sum())
    se = float(1 / np.sqrt(wts.sum()))
    return {"theory": theory, "estimates": est, "pooled": pooled, "pooled_se": se, "z": (pooled - theory) / se,
            "chi2": float(np.sum(wts * (vals - pooled) ** 2))}
