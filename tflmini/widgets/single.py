r"""Slider panels of the book's part I: one call returns the whole panel.

Each panel is a :class:`~tflmini.widgets.panel.Panel`: live by default (continuous logarithmic sliders;
everything that depends only on the data, such as kernel eigendecompositions, test-kernel projections and
prior draws, is computed once when the panel is built, so a move only solves a one-dimensional saddle point
and redraws, in a small fraction of a second; the NNGP and renormalization panels make their axes and lines once
and give them new data, see :func:`~tflmini.widgets.panel.retained`), or precomputed frames with ``static=True``
(each panel's default grid) or ``static={slider: values}``, switched in the browser without a kernel.

Panels
    :func:`posterior_panel` (chapter "Bayesian networks as statistical mechanics"): the exact posterior
    of the readout given one first layer, against temperature and readout prior.
    :func:`nngp_panel` (chapter "The infinite-width limit"): kernel shapes and NNGP learning curves,
    against the first-layer prior and the temperature.
    :func:`renormalization_panel` (chapter "Kernel renormalization"): the effective action, the order
    parameter and the test errors against the load :math:`\alpha = P/N_1`, temperature and readout
    prior, with the cached sampler results.
"""

from __future__ import annotations

import numpy as np

from .. import plots as plotting
from ..curves import TheoryOnData, learning_curve, nested_theories
from .._validation import check_count, check_nonnegative, check_positive, check_seed
from ..kernels import get_activation
from ..sampling.checks import readout_draws, readout_posterior
from ..tasks import make_teacher_task
from .panel import LogRange, Panel, rescale, retained, static_grid

__all__ = [
    "posterior_panel",
    "nngp_panel",
    "renormalization_panel",
]

# -- chapter 2: the readout posterior given one first layer ---------------------------------------

class _ReadoutPosterior:
    r"""A network with inputs on a circle, :math:`x(\theta) = \sqrt{2}(\cos\theta, \sin\theta)`
    (:math:`N_0 = 2`, :math:`|x|^2/N_0 = 1`), an erf teacher, and one fixed first layer drawn from the
    prior. Given that first layer the readout posterior is Gaussian; :meth:`draw` shows it."""

    def __init__(self, n_hidden, n_train, lambda0, activation, noise, n_draws, seed):
        rng = np.random.default_rng(seed)
        self.n_hidden, self.lambda0, self.activation = int(n_hidden), float(lambda0), activation
        self.n_draws, self.seed = int(n_draws), seed
        theta_star = rng.uniform(0, 2 * np.pi)
        self.teacher = np.sqrt(2.0) * np.array([np.cos(theta_star), np.sin(theta_star)])
        self.theta_train = np.sort(rng.uniform(0, 2 * np.pi, n_train))
        self.theta_grid = np.linspace(0, 2 * np.pi, 241)
        self.X_train, self.X_grid = self._inputs(self.theta_train), self._inputs(self.theta_grid)
        self.y_grid = self._labels(self.X_grid)
        self.y_train = self._labels(self.X_train) + noise * rng.standard_normal(n_train)
        self.W = rng.standard_normal((1, self.n_hidden, 2)) / np.sqrt(self.lambda0)

    @staticmethod
    def _inputs(theta):
        return np.sqrt(2.0) * np.stack([np.cos(theta), np.sin(theta)], axis=1)

    def _labels(self, X):
        from scipy.special import erf

        return erf(X @ self.teacher / np.sqrt(2.0))

    def posterior(self, temperature, lambda1):
        """Exact readout posterior given W: grid mean and variance, draws, Q and errors."""
        kw = dict(temperature=temperature, lambda1=lambda1, lambda0=self.lambda0, activation=self.activation)
        obs = readout_posterior(self.X_train, self.y_train, self.W, X_test=self.X_grid, y_test=self.y_grid, **kw)
        # the same random numbers for every slider value: the draws move smoothly with the sliders
        draws = readout_draws(self.X_train, self.y_train, self.W, n_draws=self.n_draws, X_test=self.X_grid,
                              seed=self.seed + 1, **kw)["outputs"][:, 0, :]
        mean, var = obs["test_mean"][0], obs["test_var"][0]
        sq = (self.y_grid - mean) ** 2
        return {"mean": mean, "std": np.sqrt(var), "draws": draws, "Q": float(obs["Q"][0]),
                "mean_error": float(np.mean(sq)), "variance": float(np.mean(var)),
                "gibbs_error": float(obs["test_error"][0]), "train_error": float(obs["train_error"][0])}

    def draw(self, fig, temperature, lambda1):
        r = self.posterior(temperature, lambda1)
        ax = fig.subplots()
        plotting.plot_readout_posterior(ax, self.theta_grid, r["mean"], r["std"], r["draws"], self.theta_train,
                                        self.y_train, self.y_grid)
        lim = max(1.6, float(np.max(np.abs(self.y_train))) + 0.4)
        ax.set_ylim(-lim, lim)
        ax.set_xlim(0, 2 * np.pi)
        ax.set_xticks(np.arange(5) * np.pi / 2, ["0", "π/2", "π", "3π/2", "2π"])
        plotting.label_axes(ax, r"input angle $\theta$", r"network output $f(x(\theta))$",
                            title=(f"T = {temperature:.3g}, λ1 = {lambda1:.3g}:  Gibbs error {r['gibbs_error']:.3f}"
                                   f" = mean error {r['mean_error']:.3f} + variance {r['variance']:.3f}"),
                            legend_kw={"loc": "upper right", "ncol": 3})
        return r


def posterior_panel(*, temperature=0.05, lambda1=1.0, n_hidden=50, n_train=8, lambda0=1.0, activation="erf",
                    noise=0.05, n_draws=5, seed=3, static=None, dpi=None):
    r"""Chapter 2's panel: the exact posterior of the readout :math:`v` for one fixed first layer.

    The inputs lie on a circle, :math:`x(\theta) = \sqrt2(\cos\theta, \sin\theta)`, labelled by an erf
    teacher plus noise of standard deviation ``noise``; ``n_train`` of them are training points. The
    first layer (``n_hidden`` units) is one draw from its prior (precision ``lambda0``) and stays fixed:
    it is one state of the sampler's chain. Given it, :math:`v` has a Gaussian posterior, drawn as its
    mean, a band of two standard deviations, and ``n_draws`` posterior draws; the title splits the
    Gibbs error into the posterior-mean error plus the posterior variance (against the teacher).

    Sliders: ``temperature`` :math:`T` (1e-3 to 1) and ``lambda1`` :math:`\lambda_1` (0.1 to 10).
    ``static=True`` precomputes frames over seven temperatures x three priors, ``static={slider: values}``
    over given values. Returns a :class:`~tflmini.widgets.panel.Panel`.
    """
    get_activation(activation)
    n_hidden = check_count(n_hidden, "n_hidden")
    n_train = check_count(n_train, "n_train")
    n_draws = check_count(n_draws, "n_draws")
    lambda0 = check_positive(lambda0, "lambda0")
    noise = check_nonnegative(noise, "noise")
    seed = _panel_seed(seed)
    model = _ReadoutPosterior(n_hidden, n_train, lambda0, activation, noise, n_draws, seed)
    controls = {"temperature": ("T", LogRange(1e-3, 1.0)), "lambda1": ("λ1", LogRange(0.1, 10.0))}
    static = static_grid(static, {"temperature": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0), "lambda1": (0.2, 1.0, 5.0)})
    return Panel(model.draw, controls, {"temperature": temperature, "lambda1": lambda1}, static=static,
                 figsize=(8.0, 3.6), dpi=dpi or (80 if static else 90))


def _panel_seed(seed):
    """A panel's seed: a non-negative int (the panels derive further seeds from it, e.g. ``seed + 1``)."""
    seed = check_seed(seed)
    if not isinstance(seed, int):
        raise TypeError(f"seed must be a non-negative int for a panel (it derives further seeds from it), got "
                        f"{type(seed).__name__}")
    return seed


# -- chapter 3: the infinite-width limit ----------------------------------------------------------

class _NNGPModel:
    """Kernel shapes and NNGP learning curves of one teacher task; nested kernels cached per lambda0."""

    def __init__(self, n_features, n_max, n_test, teacher, seed, activation):
        self.task = make_teacher_task(n_max, n_test, n_features, teacher=teacher, seed=seed)
        self.sizes = np.unique(np.round(np.geomspace(4, n_max, 24)).astype(int))
        self.activation = activation
        self._cache = {}

    def theories(self, lambda0):
        key = round(float(lambda0), 12)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = nested_theories(self.task, self.sizes, lambda0=lambda0, activation=self.activation)
        return self._cache[key]

    def _build(self, fig):
        """The axes and the lines every drawing updates (made once per panel, see :func:`retained`)."""
        ax1, ax2 = fig.subplots(1, 2)
        rho, profiles = plotting.kernel_profiles(1.0)
        kernels = {name: plotting.plot_theory(ax1, rho, k, color=plotting.ACTIVATION_COLORS.get(name), label=name)
                   for name, k in profiles.items()}
        ax1.axhline(0, color="0.85", lw=0.8, zorder=0)
        ax1.axvline(0, color="0.85", lw=0.8, zorder=0)
        ax1.set_xlabel(r"input overlap $\rho = x\cdot x'/N_0$")
        ax1.set_ylabel(r"kernel correlation $K(x,x')/K(x,x)$")
        errors = {key: plotting.plot_theory(ax2, [4.0], [1.0], color=plotting.ERROR_COLORS[key], label=label)
                  for key, label in (("gibbs_error", "Gibbs error"), ("mean_error", "posterior-mean error"))}
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_ylim(2e-3, 2.0)
        ax2.set_xlabel(r"training points $P$")
        ax2.set_ylabel("test error (NNGP, erf network)")
        return {"axes": (ax1, ax2), "kernels": kernels, "errors": errors}

    def draw(self, fig, lambda0, temperature):
        art = retained(fig, self._build)
        ax1, ax2 = art["axes"]
        rho, profiles = plotting.kernel_profiles(1.0 / lambda0)
        for name, k in profiles.items():
            plotting.update_theory(art["kernels"][name], rho, k)
        rescale(ax1)
        plotting.label_axes(ax1, ax1.get_xlabel(), ax1.get_ylabel())
        ax1.set_title(f"first-layer weight variance 1/λ0 = {1 / lambda0:.3g}", fontsize="medium")
        lc = learning_curve(self.task, self.sizes, np.inf, temperature, lambda0=lambda0,
                            theories=self.theories(lambda0))
        for key, line in art["errors"].items():
            plotting.update_theory(line, lc["P"], lc[key])
        rescale(ax2)  # P only: the error axis keeps its range
        plotting.label_axes(ax2, ax2.get_xlabel(), ax2.get_ylabel(),
                            title=f"λ0 = {lambda0:.3g}, T = {temperature:.3g}")
        return lc


def nngp_panel(*, lambda0=1.0, temperature=0.05, n_features=50, n_max=400, n_test=500, teacher="erf", seed=7,
               activation="erf", static=None, dpi=None):
    r"""Chapter 3's panel: the infinite-width network as a Gaussian process.

    Left: the kernel correlation :math:`K(x,x')/K(x,x)` against the input overlap for the linear, erf and
    ReLU networks at first-layer weight variance :math:`1/\lambda_0`. Right: the NNGP learning curves
    (Gibbs and posterior-mean test errors against :math:`P`, nested training sets of a ``teacher`` task
    in ``n_features`` dimensions) of the ``activation`` network at :math:`(\lambda_0, T)`.

    Sliders: ``lambda0`` (0.01 to 100) and ``temperature`` (1e-3 to 1). The nested kernels are computed
    once per :math:`\lambda_0` and cached; a temperature move only re-solves. ``static=True``
    precomputes frames over seven priors x three temperatures, ``static={slider: values}`` over given values.
    """
    n_max = check_count(n_max, "n_max", minimum=4, why="the learning curves start at P = 4")
    model = _NNGPModel(check_count(n_features, "n_features"), n_max, check_count(n_test, "n_test"), teacher,
                       _panel_seed(seed), get_activation(activation).name)
    controls = {"lambda0": ("λ0", LogRange(0.01, 100.0)), "temperature": ("T", LogRange(1e-3, 1.0))}
    static = static_grid(static, {"lambda0": (0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0), "temperature": (0.005, 0.05, 0.5)})
    return Panel(model.draw, controls, {"lambda0": lambda0, "temperature": temperature}, static=static,
                 figsize=(8.5, 3.4), dpi=dpi or (80 if static else 90), retain=True)


# -- chapter 4: kernel renormalization ------------------------------------------------------------

class _RenormalizationModel:
    r"""One training set of P points; the theory along the load alpha = P/N1 at (T, lambda1), and the
    sampled networks of the cached validation run on the same training set."""

    ALPHA_RANGE = (0.02, 5.0)

    def __init__(self, n_train, n_features, n_test, teacher, seed, lambda0, activation, validation):
        self.n_train = int(n_train)
        self.task = make_teacher_task(self.n_train, n_test, n_features, teacher=teacher, seed=seed)
        self.theory = TheoryOnData(self.task.X_train, self.task.y_train, self.task.X_test, self.task.y_test,
                                   lambda0=lambda0, activation=activation)
        self.alpha_grid = np.geomspace(*self.ALPHA_RANGE, 90)
        self.nngp = {}
        self._curves = {}
        self.sim, self.sim_T, self.sim_lambda1 = None, None, None
        if validation is not None:
            series = _validation_series_at(validation, self.n_train, activation)
            if series is not None:
                self.sim = series
                self.sim_T = float(validation["parameters"]["temperature"])
                self.sim_lambda1 = float(validation["parameters"]["lambda1"])

    def curves(self, temperature, lambda1):
        key = (round(float(temperature), 12), round(float(lambda1), 12))
        if key not in self._curves:
            if len(self._curves) > 256:
                self._curves.clear()
            along = self.theory.along(self.n_train / self.alpha_grid, temperature, lambda1)
            nngp = self.theory.evaluate(np.inf, temperature, lambda1)
            self._curves[key] = (along, nngp)
        return self._curves[key]

    def _build(self, fig):
        """The figure's axes and the artists every drawing updates (made once per panel, see :func:`retained`)."""
        ax1, ax2, ax3 = fig.subplots(1, 3)
        nan = [np.nan]
        art = {"axes": (ax1, ax2, ax3), "sims": []}
        # (a) the action around its minimum, and the prior part alone
        art["action"] = plotting.plot_theory(ax1, [0.0], [0.0], color="C0", label=r"$S(Q) - S(Q^*)$")
        (art["prior"],) = ax1.plot(nan, nan, **plotting.NNGP_STYLE, label="prior part only (NNGP)")
        (art["q_star"],) = ax1.plot(nan, nan, "o", color="C0", markersize=6, label="Q*")
        ax1.set_xlabel(r"order parameter $Q$")
        ax1.set_ylabel("action (per hidden unit)")
        # (b) Q* against alpha; (c) the test errors against alpha
        art["Q"] = plotting.plot_theory(ax2, [1.0], [0.0], color="C4", label="theory")
        art["nngp_Q"] = ax2.axhline(np.nan, **plotting.NNGP_STYLE, label=r"NNGP: $1/\lambda_1$")
        # the current load's markers: above the sampled points, which each drawing adds after them
        marker = {"color": "k", "markersize": 7, "markerfacecolor": "none", "markeredgewidth": 1.5, "zorder": 2.5}
        (art["Q_marker"],) = ax2.plot(nan, nan, "o", **marker)
        for key, name in (("gibbs_error", "Gibbs"), ("mean_error", "mean")):
            color = plotting.ERROR_COLORS[key]
            art[key] = plotting.plot_theory(ax3, [1.0], [0.0], color=color, label=f"{name} error, theory")
            art["nngp_" + key] = ax3.axhline(np.nan, color=color, ls="--", lw=1.0, alpha=0.6)
            (art[key + "_marker"],) = ax3.plot(nan, nan, "o", **marker)
        for ax, ylabel in ((ax2, r"$Q^*$"), (ax3, "test error")):
            ax.set_xscale("log")
            ax.set_xlabel(r"load $\alpha = P/N_1$")
            ax.set_ylabel(ylabel)
        ax3.set_title("dashed: NNGP limit (α → 0)", fontsize="medium")
        return art

    def draw(self, fig, alpha, temperature, lambda1=1.0):
        n1 = self.n_train / alpha
        along, nngp = self.curves(temperature, lambda1)
        art = retained(fig, self._build)
        ax1, ax2, ax3 = art["axes"]
        for container in art["sims"]:  # the sampled points of the previous drawing (shown at the run's T, λ1 only)
            container.remove()
        art["sims"] = []
        # (a) the action around its minimum, and the prior part alone
        q_star = self.theory.saddle(n1, temperature, lambda1)
        hi = 2.2 * max(q_star, 1.0 / lambda1)
        q = np.linspace(0.08 * hi, hi, 300)
        s = self.theory.action(q, n1, temperature, lambda1)
        s_star = self.theory.action(q_star, n1, temperature, lambda1)
        prior = -0.5 * (np.log(q) - lambda1 * q)
        prior_min = -0.5 * (np.log(1.0 / lambda1) - 1.0)
        plotting.update_theory(art["action"], q, s - s_star)
        art["prior"].set_data(q, prior - prior_min)
        art["q_star"].set_data([q_star], [0.0])
        art["q_star"].set_label(rf"$Q^* = {q_star:.3f}$")
        top = 1.3 * float(max(s[-1] - s_star, prior[-1] - prior_min))
        rescale(ax1)
        ax1.set_ylim(-0.06 * top, top)
        plotting.label_axes(ax1, ax1.get_xlabel(), ax1.get_ylabel(), title=f"α = {alpha:.3g}:  N1 = P/α = {n1:.4g}")
        # (b) Q* against alpha; (c) the test errors against alpha
        show_sim = (self.sim is not None and abs(temperature - self.sim_T) <= 1e-6 * self.sim_T
                    and abs(lambda1 - self.sim_lambda1) <= 1e-6 * self.sim_lambda1)
        sim = self.sim if show_sim else None
        plotting.update_theory(art["Q"], self.alpha_grid, along["Q"])
        art["nngp_Q"].set_ydata([1.0 / lambda1] * 2)
        art["Q_marker"].set_data([alpha], [q_star])
        for key in ("gibbs_error", "mean_error"):
            plotting.update_theory(art[key], self.alpha_grid, along[key])
            art["nngp_" + key].set_ydata([nngp[key]] * 2)
            current = self.theory.errors(q_star, temperature)[0 if key == "gibbs_error" else 1]
            art[key + "_marker"].set_data([alpha], [current])
        ax3.set_autoscaley_on(True)  # its lower limit was fixed at 0 by the previous drawing
        rescale(ax2, ax3)  # the theory lines; the sampled points below add their error bars to the limits
        if sim:
            art["sims"].append(plotting.plot_simulation(ax2, sim["alpha"], *sim["sampler"]["Q"], color="C4",
                                                        label="sampled networks"))
            for key, name in (("gibbs_error", "Gibbs"), ("mean_error", "mean")):
                art["sims"].append(plotting.plot_simulation(ax3, sim["alpha"], *sim["sampler"][key],
                                                            color=plotting.ERROR_COLORS[key],
                                                            label=f"{name} error, sampled"))
            ax2.autoscale_view()
            ax3.autoscale_view()
        ax3.set_ylim(bottom=0.0)
        plotting.label_axes(ax2, ax2.get_xlabel(), ax2.get_ylabel(), title=f"P = {self.n_train}, T = {temperature:.3g}")
        plotting.label_axes(ax3, ax3.get_xlabel(), ax3.get_ylabel(), legend_kw={"loc": "lower left"})
        return {"Q": q_star, "n_hidden": n1}


def _validation_series_at(validation, n_train, activation):
    from ..results import validation_series

    series = validation_series(validation, activation=activation, by="P")
    return series.get(n_train)


def renormalization_panel(*, alpha=1.0, temperature=None, lambda1=None, n_train=200, validation="default",
                          activation="erf", static=None, dpi=None):
    r"""Chapter 4's panel: kernel renormalization against the load :math:`\alpha = P/N_1`.

    One training set of ``n_train`` points, made exactly as in the cached validation run
    (``data/validation_single_network.json``: same input dimension, teacher, test set and seed), so the
    sampled networks of that run with this :math:`P` appear as points. The width is :math:`N_1 = P/\alpha`.
    Left: the effective action :math:`S(Q)-S(Q^*)` and its prior part alone. Middle: :math:`Q^*` against
    :math:`\alpha`. Right: the Gibbs and posterior-mean test errors against :math:`\alpha`, with the NNGP
    values dashed. The sampled points are shown when :math:`T` and :math:`\lambda_1` equal the run's.

    Parameters
    ----------
    alpha, temperature, lambda1 : initial slider values (``None``: the validation run's values, else 0.05, 1).
    n_train : int, P.
    validation : ``"default"`` (load the cached file with :func:`tflmini.results.load_validation`), a dict
        returned by it, or ``None`` (no simulation points; then the data set uses N0 = 50, erf teacher,
        500 test points and seed 2024 + P, the defaults of the experiment
        ``validation_single_network``).
    static : ``True`` (frames over eleven loads x three temperatures) or {slider: values}; the
        :math:`\lambda_1` slider stays at its initial value in static mode. ``"n_hidden"`` in place of
        ``"alpha"`` gives a width slider: frames at the widths :math:`N_1` given (the loads
        :math:`\alpha = P/N_1`, at the fixed :math:`P`), the slider labelled by :math:`N_1`; the initial
        width is ``P/alpha``.

    One eigendecomposition of the training kernel is done when the panel is built; each slider move
    solves the saddle point along the alpha grid (cached per temperature and prior) and redraws.
    """
    n_train = check_count(n_train, "n_train")
    if isinstance(validation, str):
        if validation != "default":
            raise ValueError("validation must be 'default', a dict from tflmini.results.load_validation, or None")
        from ..results import load_validation

        validation = load_validation()
    params = dict(n_features=50, temperature=0.05, lambda0=1.0, lambda1=1.0, teacher="erf", n_test=500, seed=2024)
    if validation is not None:
        params.update({k: validation["parameters"][k] for k in params if k in validation["parameters"]})
    temperature = params["temperature"] if temperature is None else float(temperature)
    lambda1 = params["lambda1"] if lambda1 is None else float(lambda1)
    model = _RenormalizationModel(n_train, params["n_features"], params["n_test"], params["teacher"],
                                  int(params["seed"]) + int(n_train), params["lambda0"], get_activation(activation).name,
                                  validation)
    controls = {"alpha": ("α = P/N1", LogRange(*model.ALPHA_RANGE)), "temperature": ("T", LogRange(1e-3, 1.0)),
                "lambda1": ("λ1", LogRange(0.1, 10.0))}
    if isinstance(static, dict) and "n_hidden" in static:
        if "alpha" in static:
            raise ValueError("static takes 'alpha' or 'n_hidden' (the width, alpha = P/N1), not both")
        widths = [float(n) for n in static["n_hidden"]]
        if not all(np.isfinite(n) and n > 0 for n in widths):
            raise ValueError(f"the static widths must be positive and finite, got {widths}")
        static = {("alpha" if k == "n_hidden" else k): (tuple(n_train / n for n in widths) if k == "n_hidden" else v)
                  for k, v in static.items()}
        controls["alpha"] = (f"width N1 (α = {n_train}/N1)", controls["alpha"][1], lambda a: f"{n_train / a:.4g}")
    static = static_grid(static, {"alpha": (0.03, 0.06, 0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0),
                                  "temperature": tuple(sorted({0.01, params["temperature"], 0.2}))})
    return Panel(model.draw, controls, {"alpha": alpha, "temperature": temperature, "lambda1": lambda1},
                 static=static, figsize=(8.5, 3.4), dpi=dpi or (80 if static else 90), retain=True)
