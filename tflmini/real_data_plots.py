r"""Computations, figures and a slider panel for the real-data chapter of the book (scikit-learn digits).

The chapter stays thin: everything it shows is one call here. Nothing here samples networks; sampled
networks come from the cached experiments ``digits_gamma_sweep``, ``digits_relatedness_sweep``,
``digits_width_effect`` and ``digits_source_size`` (:func:`tflmini.experiments.load`).

Tasks and relatedness
    :func:`readout_template`: the ridge readout of a class pair drawn as an 8x8 image (the vector whose
    overlap defines the relatedness of :func:`tflmini.datasets.task_relatedness`);
    :func:`plot_digits_catalogue`: class-mean images and the templates of the source and every catalogue
    target, with their relatedness.

Theory against sampled networks
    :func:`sampled_benefits`: the benefit of transfer :math:`E(0) - E(\gamma)` of the theory and of the
    sampled networks at each sampled coupling of a cached gamma sweep, and their ratio;
    :func:`plot_benefit_vs_relatedness` (cached relatedness sweep), :func:`plot_source_size` (cached
    source-size experiment).

Slider panel
    :class:`DigitsExplorer` (cached Franz-Parisi theory on the digits catalogue, with the sizes and seed of
    the cached experiments, so theory lines and sampled points refer to the same tasks) and
    :func:`digits_panel`: target test error and order parameters against :math:`\gamma`, sliders for the
    target task, the coupling and the width; ``static=True`` renders frames (target x coupling) switched
    in the browser without a kernel.
"""

from __future__ import annotations

import numpy as np

from .datasets import DIGITS_SOURCE, DIGITS_TARGETS, class_pair, digits_catalogue, load_digits_pool, \
    make_digits_transfer_task
from .transfer_plots import COLORS, format_gamma_axis, gamma_grid, gamma_index, gamma_position, plot_gamma_curve, \
    plot_gamma_points, theory_along_gamma
from .transfer_widgets import SliderPanel

__all__ = [
    "digits_pixel_mask",
    "readout_template",
    "plot_digits_catalogue",
    "effective_dimension",
    "sampled_benefits",
    "plot_benefit_vs_relatedness",
    "plot_source_size",
    "DigitsExplorer",
    "digits_panel",
]

TARGET_NAMES = tuple(DIGITS_TARGETS)
PANEL_GAMMAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, np.inf)
PANEL_WIDTHS = (25, 50, 100, 200, 400)
_Q_LABELS = {"Q_t": "Qₜ", "Q_st": "Qₛₜ", "Q_tt": "Qₜₜ"}


def _fmt(v):
    if isinstance(v, str):
        return v
    return "∞" if np.isinf(v) else f"{v:g}"


# -- tasks and relatedness ---------------------------------------------------------------------------

def digits_pixel_mask():
    """Boolean (8, 8) mask of the pixels kept by :func:`~tflmini.datasets.load_digits_pool` (the pixels
    that are not constant over the 1797 digits), in the order of its 61 input components."""
    from sklearn.datasets import load_digits

    X = load_digits().data.astype(np.float64)
    std = X.std(axis=0)
    return (std > 1e-12 * max(1.0, float(np.max(std)))).reshape(8, 8)


def readout_template(classes, *, ridge=1.0):
    r"""The ridge readout :math:`w = (X^\top X + r I)^{-1}X^\top y` of the digit pair ``classes`` (labels +1
    for the first class, -1 for the second; standardised inputs, all examples of the pair) as an (8, 8)
    image; pixels dropped by the standardisation are 0. Its predictions on the pool, :math:`Xw`, are the
    function :math:`f` whose normalised overlap is the relatedness of
    :func:`~tflmini.datasets.task_relatedness` (``method="ridge"``)."""
    X, y = load_digits_pool()
    Xp, yp = class_pair(X, y, tuple(classes))
    w = np.linalg.solve(Xp.T @ Xp + float(ridge) * np.eye(Xp.shape[1]), Xp.T @ yp)
    image = np.zeros(64)
    image[digits_pixel_mask().ravel()] = w
    return image.reshape(8, 8)


def plot_digits_catalogue(fig, *, source=DIGITS_SOURCE):
    r"""Top row: the mean image of every digit of the catalogue (standardised pixels). Bottom row: the ridge
    readout template (:func:`readout_template`) of the source task and of each catalogue target, oriented so
    that its overlap with the source is positive, titled with the relatedness :math:`\rho`. Returns the
    catalogue rows (:func:`~tflmini.datasets.digits_catalogue`)."""
    rows = digits_catalogue(source=source)
    X, y = load_digits_pool()
    mask = digits_pixel_mask().ravel()
    digits = sorted({int(d) for r in rows for d in r["target"]} | {int(d) for d in source})
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.25])
    axes = np.atleast_1d(top.subplots(1, len(digits)))
    for ax, d in zip(axes, digits):
        img = np.zeros(64)
        img[mask] = X[y == d].mean(axis=0)
        ax.imshow(img.reshape(8, 8), cmap="gray_r")
        ax.set_title(f"digit {d}", fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    top.suptitle("class means (standardised pixels)", fontsize="medium")
    pairs = [("source", tuple(source), 1.0)] + [(r["name"], r["target"], r["relatedness"]) for r in rows]
    axes = np.atleast_1d(bottom.subplots(1, len(pairs)))
    templates = [readout_template(p) for _, p, _ in pairs]
    vmax = max(float(np.max(np.abs(t))) for t in templates)
    im = None
    for ax, (name, pair, rho), t in zip(axes, pairs, templates):
        im = ax.imshow(t, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        title = f"{name}: {pair[0]} vs {pair[1]}" + ("" if name == "source" else f"\nρ = {rho:.2f}")
        ax.set_title(title, fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    bottom.colorbar(im, ax=list(axes), shrink=0.8, label="readout weight (dimensionless)")
    bottom.suptitle("ridge readout templates (red: votes for the first class)", fontsize="medium")
    return rows


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


# -- theory against sampled networks -------------------------------------------------------------------

def sampled_benefits(result, relation, *, metric="mean_error"):
    r"""Benefit of transfer :math:`B(\gamma) = E(0) - E(\gamma)` at every sampled coupling of a cached gamma
    sweep (``result``: :func:`tflmini.experiments.load` of ``"digits_gamma_sweep"`` or ``"gamma_sweep"``).

    Returns a dict of arrays over the sampled couplings: ``gammas``; ``theory`` (the theory at the sampled
    width); ``simulation`` and ``se`` (sampled networks; the standard errors of the two estimates added in
    quadrature); ``ratio`` = simulation / theory (NaN where the theory's benefit is below ``1e-12``).
    """
    th, sim = result.theory, result.simulation
    if sim is None:
        raise ValueError(f"{result.name} has no simulation part")
    width = f"N1={result.parameters['n_hidden']}"
    curve = np.asarray(th["curves"][relation][width][metric], dtype=float)
    gammas = np.asarray(sim["gammas"], dtype=float)
    E_th = np.array([curve[gamma_index(th["gammas"], g)] for g in gammas])
    r = sim["results"][relation][metric]
    mean, se = np.asarray(r["mean"], dtype=float), np.asarray(r["se"], dtype=float)
    i0 = int(np.flatnonzero(gammas == 0)[0])
    b_th = E_th[i0] - E_th
    b_sim = mean[i0] - mean
    b_se = np.sqrt(se[i0] ** 2 + se ** 2)
    b_se[i0] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.abs(b_th) > 1e-12, b_sim / b_th, np.nan)
    return {"gammas": gammas, "theory": b_th, "simulation": b_sim, "se": b_se, "ratio": ratio,
            "theory_error": E_th, "simulation_error": mean, "simulation_error_se": se}


def plot_benefit_vs_relatedness(ax, result, *, metric="mean_error"):
    r"""The benefit :math:`E(0) - E(\gamma)` across the digits catalogue against the relatedness :math:`\rho`
    (``result``: the cached ``digits_relatedness_sweep``). Lines: theory at the sampled width (solid) and at
    :math:`N_1=\infty` (dotted), at the sampled couplings; points: sampled networks (standard errors added in
    quadrature). Each target is labelled by its catalogue name."""
    th, sim = result.theory, result.simulation
    width = f"N1={result.parameters['n_hidden']}"
    rho = np.asarray(th["relatedness"], dtype=float)
    order = np.argsort(rho)
    g_th = np.asarray(th["gammas"], dtype=float)
    g_sim = np.asarray(sim["gammas"], dtype=float)
    i0 = int(np.flatnonzero(g_sim == 0)[0])
    for k, g in enumerate(g_sim):
        if g == 0:
            continue
        color = f"C{k - 1}"
        name = "∞" if np.isinf(g) else f"{g:g}"
        j = gamma_index(g_th, g)
        for w, ls, lab in ((width, "-", f"theory, N₁ = {result.parameters['n_hidden']}"), ("N1=inf", ":", "theory, N₁ = ∞")):
            E = np.asarray(th["curves"][w][metric], dtype=float)
            ax.plot(rho[order], (E[:, 0] - E[:, j])[order], ls, color=color, lw=1.8 if ls == "-" else 1.2,
                    label=f"γ = {name}, {lab}")
        b = np.array([r[metric]["mean"][i0] - r[metric]["mean"][k] for r in sim["results"]])
        se = np.array([np.hypot(r[metric]["se"][i0], r[metric]["se"][k]) for r in sim["results"]])
        ax.errorbar(sim["relatedness"], b, yerr=se, fmt="o", color=color, mec="k", mew=0.6, capsize=3,
                    label=f"γ = {name}, sampled, N₁ = {sim['n_hidden']}")
    for x, lab in zip(rho, th["labels"]):
        ax.annotate(lab, (x, 0), xytext=(0, -14), textcoords="offset points", ha="center", fontsize="x-small",
                    rotation=30, color="0.3")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("relatedness ρ (dimensionless)")
    ax.set_ylabel("benefit E(0) − E(γ) (target test MSE)")
    return ax


def plot_source_size(ax, result):
    r"""The benefit of frozen features :math:`E(0) - E(\infty)` against the source size :math:`P_s`, one line
    per target size :math:`P_t` (``result``: the cached ``digits_source_size``). Lines: theory; points:
    sampled networks (standard errors added in quadrature)."""
    th, sim = result.theory, result.simulation
    Ps = np.asarray(th["n_sources"], dtype=float)
    Pt = list(th["n_targets"])
    for i, nt in enumerate(Pt):
        color = f"C{i}"
        ax.plot(Ps, np.asarray(th["E_zero"])[i] - np.asarray(th["E_inf"])[i], "-", color=color,
                label=f"theory, Pₜ = {int(nt)}")
    if sim is not None:
        metric = th.get("metric", "mean_error")
        for i, nt in enumerate(sim["n_targets"]):
            color = f"C{Pt.index(nt)}"
            z, f = sim["gamma_zero"][metric], sim["gamma_inf"][i][metric]
            b = z["mean"][i] - np.asarray(f["mean"], dtype=float)
            se = np.hypot(z["se"][i], np.asarray(f["se"], dtype=float))
            ax.errorbar(sim["n_sources"], b, yerr=se, fmt="o", color=color, mec="k", mew=0.6, capsize=3,
                        label=f"sampled, Pₜ = {int(nt)}, N₁ = {sim['n_hidden']}")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("source size Pₛ")
    ax.set_ylabel("benefit E(0) − E(∞) (target test MSE)")
    return ax


# -- the slider panel ---------------------------------------------------------------------------------

class DigitsExplorer:
    r"""Cached Franz-Parisi theory on the digits catalogue.

    Tasks are :func:`~tflmini.datasets.make_digits_transfer_task` with the sizes, seed and model of the cached
    experiment ``experiment`` (default ``digits_gamma_sweep``: :math:`P_s, P_t`, test size, seed,
    :math:`T, \lambda_0, \lambda_1`, activation), so the theory curves are those of the cached files.
    :meth:`curve` (target, width) is computed once along :attr:`gammas` with the matched-prior control.
    :meth:`sampled` finds cached sampled networks for a (target, width), if any.
    """

    def __init__(self, experiment="digits_gamma_sweep", gammas=None):
        from .experiments import get_experiment

        p = get_experiment(experiment).parameters()
        self.params = {k: p[k] for k in ("n_source", "n_target", "n_test", "seed", "temperature", "lambda0",
                                         "lambda1", "activation")}
        base = gamma_grid(1e-2, 1e3, per_decade=3) if gammas is None else np.asarray(gammas, dtype=float)
        self.gammas = np.unique(np.r_[base, PANEL_GAMMAS, 0.5])
        self._tasks, self._curves, self._sampled = {}, {}, None

    def task(self, target):
        """The :class:`~tflmini.tasks.TransferTask` of a catalogue target name."""
        if target not in self._tasks:
            p = self.params
            self._tasks[target] = make_digits_transfer_task(target, p["n_source"], p["n_target"], p["n_test"],
                                                            seed=p["seed"])
        return self._tasks[target]

    def curve(self, target, n_hidden):
        """Theory along :attr:`gammas` (dict of :func:`~tflmini.transfer_plots.theory_along_gamma`, with the
        matched-prior control)."""
        key = (target, float(n_hidden))
        if key not in self._curves:
            p = self.params
            self._curves[key] = theory_along_gamma(self.task(target), n_hidden, self.gammas,
                                                   temperature=p["temperature"], lambda0=p["lambda0"],
                                                   lambda1=p["lambda1"], activation=p["activation"],
                                                   matched_prior=True)
        return self._curves[key]

    def index(self, gamma):
        return gamma_index(self.gammas, float(gamma))

    def sampled(self, target, n_hidden):
        """Cached sampled networks for (target, width): ``(experiment name, gammas, {key: {"mean", "se"}})``, or
        None. Looked up in ``digits_gamma_sweep``, ``digits_width_effect``, ``digits_relatedness_sweep`` (in this
        order); experiments whose file is missing or whose task sizes differ from the explorer's are skipped."""
        if self._sampled is None:
            self._sampled = self._load_sampled()
        return self._sampled.get((target, float(n_hidden)))

    def _load_sampled(self):
        from .experiments import CacheError, load

        found = {}
        for name in ("digits_gamma_sweep", "digits_width_effect", "digits_relatedness_sweep"):
            try:
                r = load(name, on_stale="ignore")
            except CacheError:
                continue
            if r.simulation is None or any(r.parameters[k] != v for k, v in self.params.items()):
                continue
            sim = r.simulation
            g = np.asarray(sim["gammas"], dtype=float)
            if name == "digits_gamma_sweep":
                for t, res in sim["results"].items():
                    found.setdefault((t, float(sim["n_hidden"])), (name, g, res))
            elif name == "digits_width_effect":
                for t, rows in sim["results"].items():
                    for w, res in zip(sim["widths"], rows):
                        found.setdefault((t, float(w)), (name, g, res))
            else:
                for t, res in zip(sim["labels"], sim["results"]):
                    found.setdefault((t, float(sim["n_hidden"])), (name, g, res))
        return found


def digits_panel(*, target="close", gamma=1.0, n_hidden=100, static=None, explorer=None, figsize=(10.5, 4.2),
                 dpi=80):
    r"""Transfer on real data: the digits catalogue (:data:`~tflmini.datasets.DIGITS_TARGETS`), source 3 vs 8.

    Left: target test error (posterior-mean predictor) against the coupling :math:`\gamma`: Franz-Parisi
    theory at width ``n_hidden`` (solid), matched-prior control (dashed), lazy limit :math:`N_1=\infty`
    (grey), scratch (dotted), and cached sampled networks where they exist for this target and width (points
    with error bars). Right: the order parameters :math:`Q_t, Q_{st}, Q_{tt}` (theory lines, sampled points).
    A marker shows the slider's coupling.

    Sliders: ``target`` (catalogue name), ``gamma``, ``n_hidden``. ``static=True``: frames over target x
    gamma at the given width; or a dict {slider: values} (one or two sliders). Returns a
    :class:`~tflmini.transfer_widgets.SliderPanel`.
    """
    ex = explorer or DigitsExplorer()
    rho = {r["name"]: r["relatedness"] for r in digits_catalogue()}
    pairs = {r["name"]: r["target"] for r in digits_catalogue()}
    spec = {"target": ("target task", TARGET_NAMES), "gamma": ("coupling γ", PANEL_GAMMAS),
            "n_hidden": ("width N₁", PANEL_WIDTHS)}
    for name, value in (("target", target), ("gamma", gamma), ("n_hidden", n_hidden)):
        if not any(value == v for v in spec[name][1]):
            raise ValueError(f"{name}={value!r} is not among the slider values {list(spec[name][1])}")

    def draw(fig, target, gamma, n_hidden):
        c = ex.curve(target, n_hidden)
        lazy = ex.curve(target, np.inf)
        g, i = ex.gammas, ex.index(gamma)
        m = "mean_error"
        ax, bx = fig.subplots(1, 2)
        plot_gamma_curve(ax, g, c[m], color=COLORS["transfer"], lw=2, label=f"theory, N₁ = {n_hidden}")
        plot_gamma_curve(ax, g, c["matched_" + m], color=COLORS["control"], ls="--", label="matched-prior control")
        plot_gamma_curve(ax, g, lazy[m], color=COLORS["lazy"], lw=1, label="lazy limit N₁ → ∞")
        ax.axhline(c[m][0], color=COLORS["scratch"], ls=":", lw=1, label="scratch (γ = 0)")
        sampled = ex.sampled(target, n_hidden)
        if sampled is not None:
            name, gs, res = sampled
            plot_gamma_points(ax, gs, res[m]["mean"], res[m]["se"], color=COLORS["transfer"], mec="k", mew=0.6,
                              label=f"sampled ({name})")
        if np.isfinite(c[m][i]):
            ax.plot(gamma_position(g[i]), c[m][i], "o", color=COLORS["transfer"], ms=9, mec="k")
        format_gamma_axis(ax, math=False)
        ax.set_ylabel("target test error (MSE, posterior mean)")
        ax.legend(fontsize="x-small", loc="best")
        for k in ("Q_t", "Q_st", "Q_tt"):
            plot_gamma_curve(bx, g, c[k], color=COLORS[k], lw=2, label=_Q_LABELS[k] + " theory")
            if sampled is not None:
                plot_gamma_points(bx, sampled[1], sampled[2][k]["mean"], sampled[2][k]["se"], color=COLORS[k],
                                  mec="k", mew=0.6)
            if np.isfinite(c[k][i]):
                bx.plot(gamma_position(g[i]), c[k][i], "D", color=COLORS[k], ms=7, mec="k")
        bx.axhline(0, color="0.85", lw=0.8, zorder=0)
        format_gamma_axis(bx, math=False)
        bx.set_ylabel("order parameter (dimensionless)")
        bx.legend(fontsize="x-small", loc="center left")
        a, b = pairs[target]
        fig.suptitle(f"target {target} ({a} vs {b}, ρ = {rho[target]:.2f}), N₁ = {n_hidden}, γ = {_fmt(gamma)}:  "
                     f"E = {c[m][i]:.4f}, benefit over scratch {c[m][0] - c[m][i]:+.4f}", fontsize="medium")
        return {"gammas": g, "transfer": c[m], "control": c["matched_" + m], "lazy": lazy[m],
                "order_parameters": {k: c[k] for k in ("Q_t", "Q_st", "Q_tt")}, "sampled": sampled is not None}

    if static is True:
        static = {"target": list(TARGET_NAMES), "gamma": [0.0, 0.3, 1.0, 3.0, 10.0, np.inf]}
    elif static:
        static = {k: list(v) for k, v in dict(static).items()}
        if not 1 <= len(static) <= 2:
            raise ValueError(f"static mode takes one or two sliders, got {list(static)}")
    defaults = {"target": target, "gamma": gamma, "n_hidden": n_hidden}
    return SliderPanel().setup(spec, draw, defaults, static or None, figsize, dpi)
