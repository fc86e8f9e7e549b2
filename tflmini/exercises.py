r"""Self-checking exercises for the companion notebooks: ``check(exercise_id, answer)``.

Each exercise of the registry (:data:`EXERCISES`, ids such as ``"ch04.saddle_point"``) has

- a **problem** (:func:`problem`): the data and parameters the student works with, drawn here so that the
  notebook and the checker use the same ones;
- a **reference** computed by tflmini itself on that problem (never a stored number): a saddle point of
  :class:`~tflmini.KernelRenormalization`, a kernel of :mod:`tflmini.kernels`, order parameters of
  :class:`~tflmini.FranzParisiTransfer`...; for an exercise whose answer is a function, the reference is
  evaluated on inputs the student does not see;
- a tolerance, a list of **typical mistakes** (the value a known slip would give, with a message that names
  the slip), and **hints** revealed one at a time by :func:`hint`.

:func:`check` returns a :class:`Feedback` (shown in a notebook as one line): correct, not answered yet, wrong
type, wrong shape, not finite, off by a sign, by a factor, a reciprocal, transposed, a named mistake, or just
not correct. The feedback never contains the reference value, nor a bound or a ratio that would give it away.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

__all__ = ["EXERCISES", "Exercise", "Feedback", "check", "exercises", "feedback", "hint", "problem", "reset_hints"]

STATUSES = ("correct", "unanswered", "wrong_type", "wrong_shape", "not_finite", "error", "sign", "reciprocal",
            "transposed", "factor", "mistake", "wrong")


@dataclass(frozen=True)
class Exercise:
    """One exercise. ``kind`` is ``"number"``, ``"array"`` or ``"function"``.

    ``setup()`` returns the problem (a dict); ``reference(setup)`` the expected number or array; for a function,
    ``probes(setup)`` returns the hidden argument tuples and ``reference(setup, *args)`` the expected value for
    each. ``mistakes`` are ``(value_of_the_slip, message)`` pairs with the same signature as ``reference``;
    ``factors`` are ``(factor_of_the_problem(setup), name, message)``: the answer is that factor times too
    large (or too small)."""

    id: str
    title: str
    kind: str
    setup: Callable[[], dict]
    reference: Callable[..., Any]
    hints: tuple[str, ...]
    probes: Callable[[dict], list] | None = None
    rtol: float = 1e-6
    atol: float = 1e-9
    mistakes: tuple = ()
    factors: tuple = ()
    integer: bool = False
    offset_free: bool = False  # a function defined up to an additive constant (an action): differences are compared

    @property
    def chapter(self) -> str:
        return self.id.split(".", 1)[0]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``status`` (one of :data:`STATUSES`) and a ``message`` for the student."""

    exercise_id: str
    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return f"[{self.exercise_id}] {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {"correct": "#1b5e20", "unanswered": "#37474f"}.get(self.status, "#b71c1c")
        mark = {"correct": "&#10004;", "unanswered": "&#8230;"}.get(self.status, "&#10008;")
        return (f'<div class="tflmini-feedback" style="color:{colour}"><b>{mark} {html.escape(self.exercise_id)}</b>: '
                f"{html.escape(self.message)}</div>")


# --- problems ------------------------------------------------------------------------------------------


def _rng(seed):
    return np.random.default_rng(seed)


def _teacher(P, n_test, n0, seed):
    from .tasks import make_teacher_task

    return make_teacher_task(P, n_test, n0, teacher="erf", seed=seed)


def _transfer_task(seed=7, rho=0.9):
    from .tasks import make_transfer_task

    return make_transfer_task(100, 30, 300, 50, rho, teacher="erf", seed=seed)


# ch01: the one-parameter model of transfer (estimate a from P noisy measurements, source guess b)

def _scalar_error(gamma, n, d):
    """Mean squared error of the precision-weighted estimate, from its bias and its variance."""
    bias = gamma * d / (n + gamma)
    variance = n / (n + gamma) ** 2
    return bias**2 + variance


def _ch01_estimate(setup, y, b, T, gamma):
    y = np.asarray(y, dtype=float)
    return (y.sum() / T + gamma * b) / (y.size / T + gamma)


def _ch01_probes(setup):
    rng = _rng(101)
    return [(rng.normal(0.3, 0.5, size=n), float(rng.normal()), float(t), float(g))
            for n, t, g in ((5, 0.2, 0.0), (12, 0.5, 3.0), (40, 1.3, 0.7), (8, 0.05, 50.0), (3, 2.0, 1e4))]


def _ch01_coupling_setup():
    return {"P": 25, "T": 0.5, "d": 0.2}


def _ch01_optimal_coupling(setup):
    from scipy.optimize import minimize_scalar

    n = setup["P"] / setup["T"]
    res = minimize_scalar(lambda lg: _scalar_error(np.exp(lg), n, setup["d"]), bounds=(-20.0, 20.0),
                          method="bounded", options={"xatol": 1e-12})
    return float(np.exp(res.x))


def _ch01_frozen_setup():
    task = _transfer_task_ch01()
    return {"task": task, "P_t": 32, "n_hidden": 50, "temperature": 0.05}


@lru_cache(maxsize=1)
def _transfer_task_ch01():
    from .tasks import make_transfer_task

    return make_transfer_task(400, 32, 500, 20, 0.95, teacher="erf", seed=1)


def _ch01_frozen_curve(setup):
    from .transfer_curves import frozen_transfer_curve

    return frozen_transfer_curve(setup["task"], np.array([setup["P_t"]]), setup["n_hidden"], setup["temperature"])


def _ch01_frozen_ratio(setup):
    c = _ch01_frozen_curve(setup)
    return float(c["scratch_mean_error"][0] / c["frozen_single_source_error"][0])


def _ch01_frozen_ratio_gibbs(setup):
    c = _ch01_frozen_curve(setup)
    return float(c["scratch_gibbs_error"][0] / c["frozen_single_source_error"][0])


# ch02: the readout posterior given the first layer

def _ch02_setup():
    task = _teacher(20, 50, 10, seed=3)
    W = _rng(4).standard_normal((30, 10))
    return {"X": task.X_train, "y": task.y_train, "W": W, "X_test": task.X_test, "temperature": 0.1, "lambda1": 1.0}


def _ch02_posterior(setup, **changes):
    from .sampling.checks import readout_posterior

    p = {**setup, **changes}
    return readout_posterior(p["X"], p["y"], p["W"], temperature=p["temperature"], lambda1=p["lambda1"],
                             X_test=p["X_test"])


def _ch02_mean(setup):
    return _ch02_posterior(setup)["test_mean"][0]


def _ch02_mean_no_temperature(setup):
    # the slip: the prior precision not multiplied by T (ridge lambda1 instead of lambda1 T)
    return _ch02_posterior(setup, temperature=1.0)["test_mean"][0]


def _ch02_ratio_setup():
    s = _ch02_setup()
    return {**s, "a": {"temperature": 0.05, "lambda1": 1.0}, "b": {"temperature": 0.005, "lambda1": 10.0}}


def _ch02_variance_ratio(setup):
    a = _ch02_posterior(setup, **setup["a"])["test_var"][0]
    b = _ch02_posterior(setup, **setup["b"])["test_var"][0]
    return float(np.median(a / b))


def _ch02_tau(setup, phi):
    # 1 + 2 sum_k rho_k with rho_k = phi**k the autocorrelation of the chain, summed until the terms vanish
    return float(1.0 + 2.0 * np.sum(phi ** np.arange(1, 20000)))


def _ch02_tau_one_sided(setup, phi):
    return float(1.0 + np.sum(phi ** np.arange(1, 20000)))


def _ch02_tau_probes(setup):
    return [(0.0,), (0.3,), (0.5,), (0.8,), (-0.4,), (0.95,)]


# ch03: NNGP kernels and infinite-width regression

def _ch03_setup():
    X = _rng(31).standard_normal((5, 8))
    return {"X": X, "lambda0": 2.5}


def _ch03_linear_kernel(setup):
    from .kernels import nngp_kernel

    return nngp_kernel(setup["X"], var1=1.0 / setup["lambda0"], activation="linear")


def _ch03_erf_probes(setup):
    rng = _rng(32)
    return [(rng.standard_normal((3, 6)), rng.standard_normal((4, 6)), 1.0),
            (rng.normal(0, 2.0, (2, 20)), rng.standard_normal((5, 20)), 0.5),
            (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), 3.0)]


def _ch03_erf_kernel(setup, X1, X2, var):
    from .kernels import nngp_kernel

    return nngp_kernel(X1, X2, var1=var, activation="erf")


def _ch03_erf_no_n0(setup, X1, X2, var):
    # the slip: overlaps x.x' not divided by N0
    return _ch03_erf_kernel(setup, X1 * np.sqrt(X1.shape[1]), X2 * np.sqrt(X1.shape[1]), var)


def _ch03_gp_setup():
    task = _teacher(30, 6, 10, seed=33)
    return {"X": task.X_train, "y": task.y_train, "X_test": task.X_test, "temperature": 0.05}


def _ch03_gp_mean(setup):
    from .renormalization import KernelRenormalization

    model = KernelRenormalization(np.inf, setup["temperature"]).fit(setup["X"], setup["y"])
    return model.predict(setup["X_test"])


def _ch03_gp_no_noise(setup):
    from .renormalization import KernelRenormalization

    model = KernelRenormalization(np.inf, 1e-10).fit(setup["X"], setup["y"])
    return model.predict(setup["X_test"])


# ch04: kernel renormalization

def _ch04_setup():
    task = _teacher(40, 8, 20, seed=41)
    return {"X": task.X_train, "y": task.y_train, "X_test": task.X_test, "n_hidden": 20, "temperature": 0.05,
            "lambda1": 1.0}


@lru_cache(maxsize=4)
def _ch04_model(n_hidden=None, lambda1=None):
    from .renormalization import KernelRenormalization

    s = _ch04_setup()
    return KernelRenormalization(s["n_hidden"] if n_hidden is None else n_hidden, s["temperature"],
                                 lambda1=s["lambda1"] if lambda1 is None else lambda1).fit(s["X"], s["y"])


def _ch04_saddle(setup):
    return float(_ch04_model().Q_)


def _ch04_saddle_no_n1(setup):
    return float(_ch04_model(n_hidden=1).Q_)


def _ch04_lazy_setup():
    return {**_ch04_setup(), "lambda1": 2.5}


def _ch04_lazy(setup):
    return float(_ch04_model(n_hidden=np.inf, lambda1=setup["lambda1"]).Q_)


def _ch04_action_probes(setup):
    return [(0.3,), (0.7,), (1.0,), (1.9,), (4.0,)]


def _ch04_action(setup, Q):
    return float(_ch04_model().action(Q))


def _ch04_action_no_n1(setup, Q):
    m = _ch04_model()
    prior = -0.5 * (np.log(Q) - setup["lambda1"] * Q)
    return float(prior + (m.action(Q) - prior) * setup["n_hidden"])


def _ch04_prediction(setup):
    return _ch04_model().predict(setup["X_test"])


def _ch04_prediction_nngp(setup):
    return _ch04_model(n_hidden=np.inf).predict(setup["X_test"])


# ch05: weight statistics of the coupled replicas

def _ch05_setup():
    return {"gamma": 2.0, "lambda0": 1.5}


def _ch05_stats(setup):
    from .transfer_action import coupled_weight_statistics

    c = coupled_weight_statistics(setup["gamma"], setup["lambda0"])
    return np.array([c["c_ss"], c["c_st"], c["c_tt"]])


def _ch05_stats_no_conditional_variance(setup):
    from .transfer_action import coupled_weight_statistics

    c = coupled_weight_statistics(setup["gamma"], setup["lambda0"])
    return np.array([c["c_ss"], c["c_st"], c["c_x"]])


def _ch05_mean_probes(setup):
    rng = _rng(51)
    return [(rng.standard_normal(4), 0.0, 1.0), (rng.standard_normal(3), 2.0, 1.5), (rng.standard_normal(5), 0.3, 0.8),
            (np.array([1.0, -2.0]), 1e3, 1.0)]


def _ch05_conditional_mean(setup, w_s, gamma, lambda0):
    from .transfer_action import coupled_weight_statistics

    c = coupled_weight_statistics(gamma, lambda0)
    return (c["c_st"] / c["c_ss"]) * np.asarray(w_s, dtype=float)


def _ch05_mean_forgot_prior(setup, w_s, gamma, lambda0):
    return _ch05_conditional_mean(setup, w_s, gamma, 1.0)


def _ch05_kernel_setup():
    rng = _rng(52)
    return {"X_s": rng.standard_normal((4, 12)), "X_t": rng.standard_normal((3, 12)), "gamma": 2.0, "lambda0": 1.0}


def _ch05_kernel_with(setup, cov_key):
    from .kernels import nngp_kernel
    from .transfer_action import coupled_weight_statistics

    c = coupled_weight_statistics(setup["gamma"], setup["lambda0"])
    return nngp_kernel(setup["X_s"], setup["X_t"], var1=c["c_ss"], var2=c["c_tt"], cov=c[cov_key])


def _ch05_kernel(setup):
    return _ch05_kernel_with(setup, "c_st")


def _ch05_kernel_one_network(setup):
    from .kernels import nngp_kernel

    return nngp_kernel(setup["X_s"], setup["X_t"], var1=1.0 / setup["lambda0"])


# ch06: the Franz-Parisi order parameters

def _ch06_setup():
    task = _transfer_task()
    return {"task": task, "n_hidden": 50, "gamma": 1.0, "temperature": 0.05}


@lru_cache(maxsize=1)
def _ch06_model():
    from .transfer import FranzParisiTransfer

    s = _ch06_setup()
    S, T = s["task"].source, s["task"].target
    return FranzParisiTransfer(s["n_hidden"], s["gamma"], s["temperature"]).fit(S.X_train, S.y_train, T.X_train,
                                                                                 T.y_train)


def _ch06_order(setup):
    op = _ch06_model().order_parameters_
    return np.array([op["Q_t"], op["Q_tt"], op["Q_st"]])


def _ch06_order_permutations(setup):
    return [(_ch06_order(setup)[list(p)], "these are the right values in the wrong order: give [Q_t, Q_tt, Q_st]")
            for p in ((0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))]


def _ch06_maxima(setup):
    return int(np.sum(np.linalg.eigvalsh(_ch06_model().action_hessian()) < 0))


def _ch06_minima(setup):
    return int(np.sum(np.linalg.eigvalsh(_ch06_model().action_hessian()) > 0))


def _ch06_scratch_setup():
    return {**_ch06_setup(), "gamma": 0.0}


def _ch06_scratch_q(setup):
    return float(_ch06_model().with_gamma(0.0).order_parameters_["Q_t"])


def _ch06_source_q(setup):
    return float(_ch06_model().order_parameters_["Q_s"])


# ch07: when transfer helps

def _ch07_setup(rho=0.9):
    return {"task": _transfer_task(seed=7, rho=rho), "n_hidden": 50, "temperature": 0.05}


def _ch07_gamma_setup():
    return _ch07_setup(rho=0.5)


@lru_cache(maxsize=2)
def _ch07_curve(rho):
    from .transfer_curves import gamma_grid, theory_along_gamma

    s = _ch07_setup(rho)
    return theory_along_gamma(s["task"], s["n_hidden"], gamma_grid(), temperature=s["temperature"])


def _ch07_benefit(setup):
    e = _ch07_curve(setup["task"].rho)["mean_error"]  # the grid starts at gamma = 0 and ends at gamma = inf
    return float(100.0 * (e[0] - e[-1]) / e[0])


def _ch07_benefit_over_frozen(setup):
    e = _ch07_curve(setup["task"].rho)["mean_error"]
    return float(100.0 * (e[0] - e[-1]) / e[-1])


def _ch07_best_gamma(setup, key="mean_error"):
    c = _ch07_curve(setup["task"].rho)
    return float(c["gammas"][int(np.nanargmin(c[key]))])


def _ch07_best_gamma_gibbs(setup):
    return _ch07_best_gamma(setup, "gibbs_error")


def _ch07_matched_setup():
    return {**_ch07_setup(), "gamma": 1.0}


def _ch07_matched(setup):
    from .transfer_curves import matched_prior_control

    T = setup["task"].target
    model = matched_prior_control(setup["task"], setup["n_hidden"], setup["gamma"], temperature=setup["temperature"])
    return float(model.mean_error(T.X_test, T.y_test))


def _ch07_unmatched(setup):
    from .renormalization import KernelRenormalization

    T = setup["task"].target
    model = KernelRenormalization(setup["n_hidden"], setup["temperature"]).fit(T.X_train, T.y_train)
    return float(model.mean_error(T.X_test, T.y_test))


# ch08: real data (handwritten digits)

@lru_cache(maxsize=1)
def _digits_task():
    from .datasets import make_digits_transfer_task

    return make_digits_transfer_task("close", n_source=160, n_target=20, seed=0)


def _ch08_setup():
    return {"task": _digits_task()}


def _ch08_effective_dimension(setup):
    from .real_data import effective_dimension

    return effective_dimension(setup["task"].source.X_train)


def _ch08_effective_dimension_uncentred(setup):
    X = setup["task"].source.X_train
    ell = np.clip(np.linalg.eigvalsh(X.T @ X / X.shape[0]), 0.0, None)
    return float(ell.sum() ** 2 / np.sum(ell**2))


def _ch08_relatedness(setup):
    from .relatedness import task_relatedness

    S, T = setup["task"].source, setup["task"].target
    return float(task_relatedness(S.X_train, S.y_train, T.X_train, T.y_train))


def _ch08_relatedness_squared(setup):
    return _ch08_relatedness(setup) ** 2


def _ch08_frozen_setup():
    return {"task": _digits_task(), "n_hidden": 100, "temperature": 0.05}


def _ch08_errors(setup):
    from .transfer import FranzParisiTransfer

    S, T = setup["task"].source, setup["task"].target
    fp = FranzParisiTransfer(setup["n_hidden"], 0.0, setup["temperature"]).fit(S.X_train, S.y_train, T.X_train,
                                                                               T.y_train)
    return fp.mean_error(T.X_test, T.y_test), fp.with_gamma(np.inf).mean_error(T.X_test, T.y_test)


def _ch08_frozen_ratio(setup):
    scratch, frozen = _ch08_errors(setup)
    return float(frozen / scratch)


# ch09: beyond the theory

def _ch09_relu_probes(setup):
    rng = _rng(91)
    return [(rng.standard_normal(10), 1.0), (rng.normal(0, 3.0, 4), 0.5), (rng.standard_normal(50), 2.0)]


def _ch09_relu_mean(setup, x, c):
    from .kernels import nngp_kernel

    x = np.asarray(x, dtype=float)[None, :]
    # two independent ReLU units (covariance 0) on the same input: E[sigma(h)] E[sigma(h')] = mu(x)^2
    return float(np.sqrt(nngp_kernel(x, x, var1=c, var2=c, cov=0.0, activation="relu")[0, 0]))


def _ch09_relu_mean_no_2pi(setup, x, c):
    return _ch09_relu_mean(setup, x, c) * np.sqrt(2.0 * np.pi)


def _ch09_kst_setup():
    rng = _rng(92)
    return {"x": rng.standard_normal(50), "x_prime": rng.standard_normal(50), "c": 1.0}


def _ch09_kst(setup):
    from .kernels import nngp_kernel

    X1, X2 = setup["x"][None, :], setup["x_prime"][None, :]
    return float(nngp_kernel(X1, X2, var1=setup["c"], var2=setup["c"], cov=0.0, activation="relu")[0, 0])


def _ch09_kss(setup):
    from .kernels import nngp_kernel

    X1, X2 = setup["x"][None, :], setup["x_prime"][None, :]
    return float(nngp_kernel(X1, X2, var1=setup["c"], activation="relu")[0, 0])


def _ch09_ridge_setup():
    rng = _rng(93)
    X = rng.standard_normal((15, 6))
    w_s = rng.standard_normal(6)
    y = X @ (w_s + 0.5 * rng.standard_normal(6)) + 0.1 * rng.standard_normal(15)
    return {"X": X, "y": y, "w_s": w_s, "gamma": 4.0}


def _ch09_ridge_from(setup, w_s):
    from .relatedness import ridge_readout

    X = setup["X"]
    # ridge_readout's penalty is relative to the mean eigenvalue of X^T X: convert gamma to that scale
    relative = setup["gamma"] * X.shape[1] / np.trace(X.T @ X)
    return w_s + ridge_readout(X, setup["y"] - X @ w_s, ridge=relative)


def _ch09_ridge(setup):
    return _ch09_ridge_from(setup, setup["w_s"])


def _ch09_ridge_no_source(setup):
    return _ch09_ridge_from(setup, np.zeros_like(setup["w_s"]))


# accuracy: relative deviations and finite-size scaling

def _acc_dev_probes(setup):
    rng = _rng(201)
    t = rng.uniform(0.05, 1.0, 6)
    return [(t, t * (1 + rng.normal(0, 0.1, 6))), (np.array([0.2, -0.5]), np.array([0.25, -0.4])),
            (np.array([1.0]), np.array([0.5]))]


def _acc_deviation(setup, theory, sampled):
    from .accuracy import relative_deviation

    return relative_deviation(theory, sampled, np.zeros_like(np.asarray(theory, dtype=float)), small=0.0)[0]


def _acc_deviation_over_sampled(setup, theory, sampled):
    theory, sampled = np.asarray(theory, dtype=float), np.asarray(sampled, dtype=float)
    return (sampled - theory) / np.abs(sampled)


def _acc_scaling_setup():
    rng = _rng(202)
    widths = np.array([25.0, 50.0, 100.0, 200.0, 400.0, 800.0])
    deviation = 2.0 * widths ** -rng.uniform(0.6, 1.4) * np.exp(rng.normal(0, 0.05, widths.size))
    return {"widths": widths, "deviation": deviation}


def _acc_exponent(setup):
    from .accuracy import fit_power_law

    return fit_power_law(setup["widths"], setup["deviation"])[0]


def _acc_within_setup():
    rng = _rng(203)
    se = rng.uniform(0.01, 0.05, 40)
    dev = rng.normal(0.0, 1.0, 40) * se * rng.uniform(0.5, 2.5, 40)
    dev[[3, 17]] = np.nan  # comparisons that were not formed
    return {"dev": dev, "dev_se": se}


def _acc_within(setup):
    from .accuracy import fraction_within

    return float(fraction_within(setup["dev"], setup["dev_se"], n_se=2.0)[0])


def _acc_within_nan_counted(setup):
    dev, se = setup["dev"], setup["dev_se"]
    return float(np.sum(np.abs(dev) <= 2.0 * se) / dev.size)


# --- the registry -----------------------------------------------------------------------------------------

_LIST = [
    Exercise("ch01.scalar_estimate", "The posterior mean of the one-parameter model", "function", dict,
             _ch01_estimate, probes=_ch01_probes,
             hints=("Write the log posterior: a sum of squares over the P measurements (each with variance T) plus "
                    "the prior term -gamma (a - b)^2 / 2.",
                    "Only sum(y) enters: the data act like one measurement of mean(y) with precision P/T.",
                    "A product of Gaussians in a is Gaussian; its mean is the precision-weighted average of the means."),
             mistakes=((lambda s, y, b, T, g: (np.mean(y) + g * b) / (1 + g),
                        "the data precision is P/T, not 1: weigh mean(y) by P/T"),
                       (lambda s, y, b, T, g: (np.sum(y) * T + g * b) / (np.size(y) * T + g),
                        "the noise variance T divides the data precision, it does not multiply it"))),
    Exercise("ch01.optimal_coupling", "The best coupling of the one-parameter model", "number", _ch01_coupling_setup,
             _ch01_optimal_coupling, rtol=1e-4,
             hints=("Differentiate the error with respect to gamma; the denominator is a power of (P/T + gamma).",
                    "The numerator of the derivative factorises: its sign changes at a single coupling.",
                    "Does the optimum depend on the data resolution P/T at all?"),
             factors=((lambda s: s["P"] / s["T"], "P/T", "the optimal coupling does not depend on the data precision"),)),
    Exercise("ch01.frozen_vs_scratch", "Scratch over frozen: the ratio of errors", "number", _ch01_frozen_setup,
             _ch01_frozen_ratio, rtol=1e-6,
             hints=("Use tflmini.transfer_curves.frozen_transfer_curve(task, [P_t], n_hidden, temperature).",
                    "Compare 'scratch_mean_error' with 'frozen_single_source_error' (one pretrained source).",
                    "The ratio asked for is scratch divided by frozen: above 1 means the frozen network wins."),
             mistakes=((_ch01_frozen_ratio_gibbs, "use the error of the posterior-mean predictor of the scratch network "
                                                  "(scratch_mean_error), not its Gibbs error"),)),
    Exercise("ch02.readout_posterior_mean", "The posterior mean of the output, first layer fixed", "array", _ch02_setup,
             _ch02_mean, rtol=1e-6,
             hints=("Features: phi_i(x) = erf(w_i . x / sqrt(N0)) / sqrt(N1), one row per input.",
                    "Given W the output is linear in v: Bayesian linear regression with prior precision lambda1 "
                    "and noise variance T.",
                    "Posterior mean of v: (Phi^T Phi + lambda1 T I)^(-1) Phi^T y; then evaluate at the test inputs."),
             mistakes=((_ch02_mean_no_temperature, "the ridge is lambda1 * T: multiply the prior precision by the "
                                                   "temperature"),)),
    Exercise("ch02.variance_ratio", "Posterior variance: which combination of T and lambda1 matters",
             "number", _ch02_ratio_setup, _ch02_variance_ratio, rtol=1e-6,
             hints=("Use tflmini.sampling.checks.readout_posterior with X_test and read 'test_var'.",
                    "Both points have the same product lambda1 T: the chapter tells how the variance scales then.",
                    "Take the median over the test points of var(a) / var(b)."),),
    Exercise("ch02.autocorrelation_time", "The integrated autocorrelation time of a simple chain", "function",
             dict, _ch02_tau, probes=_ch02_tau_probes, rtol=1e-8,
             hints=("The autocorrelation of x_{t+1} = phi x_t + sqrt(1 - phi^2) xi_t at lag k is phi^k.",
                    "tau = 1 + 2 * (sum of the autocorrelations over the lags k >= 1).",
                    "Sum the geometric series in closed form; it must work for negative phi too."),
             mistakes=((_ch02_tau_one_sided, "count the lags on both sides: tau = 1 + 2 sum_k rho_k"),)),
    Exercise("ch03.linear_kernel", "The NNGP kernel of linear units", "array", _ch03_setup, _ch03_linear_kernel,
             hints=("For sigma(h) = h the kernel is the covariance of the preactivations h = w . x / sqrt(N0).",
                    "The weights have variance 1/lambda0 per component.",
                    "K = X X^T / (N0 lambda0): a (P, P) matrix."),
             factors=((lambda s: float(s["X"].shape[1]), "N0", "divide the overlaps x . x' by N0"),
                      (lambda s: s["lambda0"] ** 2, "lambda0^2", "the weight variance is 1/lambda0, not lambda0"),
                      (lambda s: s["lambda0"], "lambda0", "the weight variance is 1/lambda0: divide by lambda0"))),
    Exercise("ch03.erf_kernel", "The NNGP kernel of erf units, as a function", "function", dict, _ch03_erf_kernel,
             probes=_ch03_erf_probes, rtol=1e-8,
             hints=("Compute s11 = var |x|^2 / N0, s22 = var |x'|^2 / N0 and s12 = var x . x' / N0 for every pair.",
                    "Williams' formula: (2/pi) arcsin(2 s12 / sqrt((1 + 2 s11)(1 + 2 s22))).",
                    "Return a matrix of shape (len(X1), len(X2)); np.einsum or broadcasting avoids loops."),
             mistakes=((_ch03_erf_no_n0, "the overlaps are x . x' / N0: divide by the input dimension"),)),
    Exercise("ch03.gp_mean", "Infinite-width regression: the posterior mean", "array", _ch03_gp_setup, _ch03_gp_mean,
             rtol=1e-6,
             hints=("At infinite width the network is a Gaussian process with the erf NNGP kernel (lambda0 = 1).",
                    "The mean at test inputs is k(X_test, X) (K + T I)^(-1) y.",
                    "tflmini.nngp_kernel(X_test, X) gives the cross kernel."),
             mistakes=((_ch03_gp_no_noise, "the likelihood has variance T: add T to the diagonal of the training kernel"),)),
    Exercise("ch04.lazy_limit", "The saddle point at infinite width", "number", _ch04_lazy_setup, _ch04_lazy, rtol=1e-8,
             hints=("At N1 = infinity the data term of S(Q) carries a vanishing weight 1/N1.",
                    "Minimise the prior part -(log Q - lambda1 Q)/2 alone."),),
    Exercise("ch04.saddle_point", "The saddle point Q* of a small problem", "number", _ch04_setup, _ch04_saddle,
             rtol=1e-5,
             hints=("Build K = tflmini.nngp_kernel(X) (erf, lambda0 = 1) and diagonalise it once.",
                    "S(Q) = -(log Q - lambda1 Q)/2 + [log det(Q K + T I) + y^T (Q K + T I)^(-1) y] / (2 N1).",
                    "Minimise S over Q > 0 (scipy.optimize.minimize_scalar with bounds) or find the zero of S'."),
             mistakes=((_ch04_saddle_no_n1, "check the 1/N1 in front of the data term of the action"),)),
    Exercise("ch04.action", "The effective action S(Q), as a function", "function", _ch04_setup, _ch04_action,
             probes=_ch04_action_probes, rtol=1e-6, offset_free=True,
             hints=("The checker compares differences S(Q1) - S(Q2): an additive constant does not matter.",
                    "The data term is [log det(Q K + T I) + y^T (Q K + T I)^(-1) y] / (2 N1).",
                    "With K = U diag(k) U^T and y~ = U^T y: sum_i [log(Q k_i + T) + y~_i^2 / (Q k_i + T)]."),
             mistakes=((_ch04_action_no_n1, "the data term is N1 times too large: check its 1/N1"),)),
    Exercise("ch04.renormalized_prediction", "The predictor with the renormalized kernel", "array", _ch04_setup,
             _ch04_prediction, rtol=1e-5,
             hints=("The predictor is Gaussian-process regression with the kernel Q* K and noise T.",
                    "Mean: Q* k(X_test, X) (Q* K + T I)^(-1) y, with Q* the saddle point of the previous exercise."),
             mistakes=((_ch04_prediction_nngp, "this is the infinite-width prediction: renormalize the kernel by Q* "
                                               "at width N1"),)),
    Exercise("ch05.weight_statistics", "Second moments of the source and target weights", "array", _ch05_setup,
             _ch05_stats, rtol=1e-8,
             hints=("w_s ~ N(0, 1/lambda0); given w_s, w_t ~ N(gamma w_s / (lambda0 + gamma), 1/(lambda0 + gamma)).",
                    "c_st = E[w_s w_t]: average the conditional mean times w_s over w_s.",
                    "c_tt is the variance of the conditional mean plus the conditional variance."),
             mistakes=((_ch05_stats_no_conditional_variance, "c_tt misses the conditional variance 1/(lambda0 + "
                                                             "gamma) of the target given the source"),)),
    Exercise("ch05.conditional_mean", "The conditional mean of the target weights", "function", dict,
             _ch05_conditional_mean, probes=_ch05_mean_probes, rtol=1e-10,
             hints=("Complete the square in w_t of -lambda0 w_t^2 / 2 - gamma (w_t - w_s)^2 / 2.",
                    "The precision of w_t given w_s is lambda0 + gamma."),
             mistakes=((_ch05_mean_forgot_prior, "the prior precision lambda0 enters the denominator"),)),
    Exercise("ch05.mixed_kernel", "The source-target kernel at coupling gamma", "array", _ch05_kernel_setup,
             _ch05_kernel, rtol=1e-8,
             hints=("Use tflmini.nngp_kernel(X_s, X_t, var1=..., var2=..., cov=...) with the erf activation.",
                    "The weight statistics come from tflmini.transfer.coupled_weight_statistics(gamma, lambda0).",
                    "var1 = c_ss, var2 = c_tt and the covariance is the source-target one."),
             mistakes=((lambda s: _ch05_kernel_with(s, "c_x"), "c_x couples two target replicas: the source-target "
                                                              "covariance is c_st"),
                       (_ch05_kernel_one_network, "this is the kernel of one network: the two sides have different "
                                                  "weight statistics"))),
    Exercise("ch06.order_parameters", "The order parameters of the transfer theory", "array", _ch06_setup,
             _ch06_order, rtol=1e-5,
             hints=("Fit tflmini.FranzParisiTransfer(n_hidden, gamma, temperature) on source then target data.",
                    "Read fitted.order_parameters_ and give [Q_t, Q_tt, Q_st] in this order."),
             mistakes=(_ch06_order_permutations,)),
    Exercise("ch06.saddle_maxima", "How many directions is the stationary point a maximum along?", "number",
             _ch06_setup, _ch06_maxima, integer=True,
             hints=("fitted.action_hessian() is the Hessian of phi in (Q_t, Q_tt, Q_st).",
                    "Count the eigenvalues of one sign (numpy.linalg.eigvalsh)."),
             mistakes=((_ch06_minima, "that is the number of directions along which phi is a minimum"),)),
    Exercise("ch06.zero_coupling", "At gamma = 0 the target is a network trained from scratch", "number",
             _ch06_scratch_setup, _ch06_scratch_q, rtol=1e-5,
             hints=("At gamma = 0 nothing couples the target to the source.",
                    "Fit tflmini.KernelRenormalization(n_hidden, temperature) on the target data alone, or use "
                    "FranzParisiTransfer(...).with_gamma(0)."),
             mistakes=((_ch06_source_q, "that is the source's order parameter Q_s: the question asks for the "
                                        "target's"),)),
    Exercise("ch07.frozen_benefit", "The benefit of frozen features, in per cent", "number", _ch07_setup,
             _ch07_benefit, rtol=1e-5,
             hints=("Fit FranzParisiTransfer at gamma = 0, then .with_gamma(np.inf); compare mean_error on the "
                    "target's test set.",
                    "Benefit = 100 * (scratch - frozen) / scratch: positive when frozen features help."),
             mistakes=((_ch07_benefit_over_frozen, "divide by the scratch error, not by the frozen one"),),
             factors=((lambda s: 100.0, "100", "give the benefit in per cent (multiply the fraction by 100)"),)),
    Exercise("ch07.best_gamma", "The best coupling of the grid", "number", _ch07_gamma_setup, _ch07_best_gamma, rtol=1e-9,
             hints=("tflmini.transfer_curves.theory_along_gamma(task, n_hidden, gamma_grid(), temperature=...) "
                    "computes the curve.",
                    "Take the grid coupling of lowest 'mean_error' (numpy.nanargmin)."),
             mistakes=((_ch07_best_gamma_gibbs, "that minimises the Gibbs error: the question asks for the "
                                                "posterior-mean error"),)),
    Exercise("ch07.matched_prior", "The matched-prior control at gamma = 1", "number", _ch07_matched_setup,
             _ch07_matched, rtol=1e-6,
             hints=("The control trains on the target alone with the coupled target's prior variance c_tt(gamma).",
                    "KernelRenormalization with lambda0 = 1 / c_tt (tflmini.transfer.coupled_weight_statistics), "
                    "or tflmini.transfer_curves.matched_prior_control.",
                    "Report its mean_error on the target's test set."),
             mistakes=((_ch07_unmatched, "this is the scratch network: the control's first-layer prior variance is "
                                         "c_tt(gamma), not 1/lambda0"),)),
    Exercise("ch08.effective_dimension", "How many directions do the digit images use?", "number", _ch08_setup,
             _ch08_effective_dimension, rtol=1e-6,
             hints=("Centre the source training images, form their covariance matrix and its eigenvalues.",
                    "Participation ratio: (sum of eigenvalues)^2 / sum of squared eigenvalues."),
             mistakes=((_ch08_effective_dimension_uncentred, "centre the images (subtract their mean) first"),)),
    Exercise("ch08.relatedness", "The relatedness of the two digit tasks", "number", _ch08_setup, _ch08_relatedness,
             rtol=1e-6,
             hints=("tflmini.relatedness.task_relatedness(X_source, y_source, X_target, y_target).",
                    "Use the training sets of the source and of the target."),
             mistakes=((_ch08_relatedness_squared, "rho is the overlap itself, not its square"),)),
    Exercise("ch08.frozen_ratio", "Frozen over scratch on digits", "number", _ch08_frozen_setup, _ch08_frozen_ratio,
             rtol=1e-5,
             hints=("Fit FranzParisiTransfer(n_hidden, 0.0, temperature) on the source then target training sets.",
                    "mean_error on the target test set, at gamma = 0 and after .with_gamma(np.inf).",
                    "The ratio asked for is frozen divided by scratch: below 1 means frozen features help."),),
    Exercise("ch09.relu_mean", "The mean output of a ReLU unit", "function", dict, _ch09_relu_mean,
             probes=_ch09_relu_probes, rtol=1e-8,
             hints=("h = w . x / sqrt(N0) is Gaussian with variance c |x|^2 / N0.",
                    "E[max(h, 0)] for h ~ N(0, s^2) is s times a constant: integrate h e^(-h^2 / 2 s^2) over h > 0."),
             mistakes=((_ch09_relu_mean_no_2pi, "check the normalisation of the Gaussian density (a 1/sqrt(2 pi))"),),
             factors=((lambda s: 1.0 / math.sqrt(2.0), "sqrt(2)", "E[max(h, 0)] is half the mean of |h|"),)),
    Exercise("ch09.relu_source_target", "The source-target ReLU kernel at zero coupling", "number", _ch09_kst_setup,
             _ch09_kst, rtol=1e-8,
             hints=("At gamma = 0 the two units are independent: the expectation of the product factorises.",
                    "Use the mean of one ReLU unit (previous exercise) at x and at x'."),
             mistakes=((_ch09_kss, "that is the kernel of one network (the same weights on both inputs); at "
                                   "gamma = 0 the weights are independent"),)),
    Exercise("ch09.coupled_minimiser", "The minimiser of the loss with a coupling to source weights", "array",
             _ch09_ridge_setup, _ch09_ridge, rtol=1e-8,
             hints=("Set the gradient of |y - X w|^2 / 2 + gamma |w - w_s|^2 / 2 to zero.",
                    "Write w = w_s + u and solve (X^T X + gamma I) u = X^T (y - X w_s)."),
             mistakes=((_ch09_ridge_no_source, "this is plain ridge regression: the penalty pulls towards w_s, "
                                               "not towards 0"),)),
    Exercise("accuracy.relative_deviation", "The relative deviation, as a function", "function", dict,
             _acc_deviation, probes=_acc_dev_probes, rtol=1e-10,
             hints=("Deviation of the sampled value from the theory, in units of the theory.",
                    "Divide by |theory|: the sign then says whether the sampled value is above the theory."),
             mistakes=((_acc_deviation_over_sampled, "divide by the theory, not by the sampled value"),)),
    Exercise("accuracy.scaling_exponent", "The exponent of a finite-size scaling law", "number", _acc_scaling_setup,
             _acc_exponent, rtol=1e-6,
             hints=("Fit a straight line to log(deviation) against log(width), all points with equal weights.",
                    "The exponent s is defined by deviation = c * width^(-s): mind the sign of the slope.",
                    "tflmini.accuracy.fit_power_law does this fit."),),
    Exercise("accuracy.fraction_within", "The share of comparisons within two standard errors", "number",
             _acc_within_setup, _acc_within, rtol=1e-9,
             hints=("A comparison counts when |dev| <= 2 dev_se.",
                    "Leave out the comparisons whose deviation is NaN (not formed) from the count AND the total."),
             mistakes=((_acc_within_nan_counted, "leave the comparisons that were not formed (NaN) out of the total"),),
             factors=((lambda s: 100.0, "100", "give a fraction between 0 and 1, not a percentage"),)),
]

#: exercise id -> :class:`Exercise`
EXERCISES: dict[str, Exercise] = {ex.id: ex for ex in _LIST}

_hints_shown: dict[str, int] = {}


def _get(exercise_id) -> Exercise:
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a string such as 'ch04.saddle_point', got {type(exercise_id).__name__}")
    try:
        return EXERCISES[exercise_id]
    except KeyError:
        chapter = exercise_id.split(".", 1)[0]
        same = [k for k in EXERCISES if k.startswith(chapter + ".")]
        raise ValueError(f"unknown exercise_id {exercise_id!r}; "
                         + (f"this chapter's exercises are {same}" if same else f"known ids are {list(EXERCISES)}")
                         ) from None


def exercises(chapter=None) -> list[str]:
    """The exercise ids, all or those of one chapter (``"ch04"``, ``"accuracy"``)."""
    if chapter is not None and not isinstance(chapter, str):
        raise TypeError(f"chapter must be a string such as 'ch04', got {type(chapter).__name__}")
    ids = [k for k in EXERCISES if chapter is None or k.split(".", 1)[0] == chapter]
    if chapter is not None and not ids:
        chapters = sorted({k.split(".", 1)[0] for k in EXERCISES})
        raise ValueError(f"chapter {chapter!r} has no exercises; chapters with exercises: {chapters}")
    return ids


@lru_cache(maxsize=None)
def _setup(exercise_id) -> dict:
    return _get(exercise_id).setup()


def problem(exercise_id) -> dict:
    """The data and parameters of an exercise (a fresh copy: changing it does not change the checker's)."""
    import copy

    return copy.deepcopy(_setup(exercise_id))


@lru_cache(maxsize=None)
def _expected(exercise_id):
    """The reference answer (or, for a function, the list of (hidden arguments, expected value))."""
    ex = _get(exercise_id)
    s = _setup(exercise_id)
    if ex.kind == "function":
        return [(args, np.asarray(ex.reference(s, *args), dtype=float)) for args in ex.probes(s)]
    return np.asarray(ex.reference(s), dtype=float)


def _mistake_values(ex, s, args=None):
    """[(value, message)] of the exercise's typical mistakes (on hidden arguments ``args`` for a function)."""
    out = []
    for m in ex.mistakes:
        if callable(m):  # a generator of several (value, message) pairs
            out.extend((np.asarray(v, dtype=float), msg) for v, msg in m(s))
            continue
        fn, msg = m
        try:
            value = fn(s) if args is None else fn(s, *args)
        except Exception:  # noqa: BLE001 - a slip that cannot be evaluated here is simply not recognised
            continue
        out.append((np.asarray(value, dtype=float), msg))
    return out


def _close(a, b, ex) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(
        np.allclose(a, b, rtol=ex.rtol, atol=ex.atol, equal_nan=False))


def _as_array(answer, ex, what):
    """``(array, None)`` or ``(None, (status, message))``."""
    if answer is None:
        return None, ("unanswered", f"{what} is None")
    if isinstance(answer, (str, bytes)):
        return None, ("wrong_type", f"{what} is text ({type(answer).__name__}); give a number"
                                    + (" or an array" if ex.kind != "number" else ""))
    if isinstance(answer, (bool, np.bool_)):
        return None, ("wrong_type", f"{what} is a boolean; give a number" + (" or an array" if ex.kind != "number" else ""))
    if isinstance(answer, dict) or callable(answer):
        return None, ("wrong_type", f"{what} is a {type(answer).__name__}; give a number"
                                    + (" or an array" if ex.kind != "number" else ""))
    if np.iscomplexobj(answer):
        return None, ("wrong_type", f"{what} is complex; the answer is real")
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None, ("wrong_type", f"{what} ({type(answer).__name__}) is not a number or an array of numbers")
    return arr, None


def _compare(value, expected, ex, mistakes, what="your answer") -> tuple[str, str] | None:
    """None if ``value`` matches ``expected``; else ``(status, message)`` that never shows ``expected``."""
    arr, problem_ = _as_array(value, ex, what)
    if problem_ is not None:
        return problem_
    if expected.ndim == 0 and arr.shape in ((1,), (1, 1)):
        arr = arr.reshape(())
    if arr.shape != expected.shape:
        if expected.ndim == 0:
            return "wrong_shape", f"{what} has shape {arr.shape}; a single number is expected"
        if arr.ndim == 2 and arr.T.shape == expected.shape and _close(arr.T, expected, ex):
            return "transposed", f"{what} is the transpose of the expected array: swap the two axes"
        return "wrong_shape", f"{what} has shape {arr.shape}; the expected shape is {expected.shape}"
    if not np.all(np.isfinite(arr)):
        return "not_finite", f"{what} contains NaN or infinite values"
    if ex.integer and not np.all(arr == np.round(arr)):
        return "wrong_type", f"{what} should be a whole number"
    if _close(arr, expected, ex):
        return None
    for alt, msg in mistakes:
        if alt.shape == expected.shape and _close(arr, alt, ex) and not _close(alt, expected, ex):
            return "mistake", f"not correct yet: {msg}."
    if ex.integer:  # a count: a sign or a factor would only give the answer away
        return "wrong", f"not correct yet. hint({ex.id!r}) gives a hint."
    if np.any(expected != 0) and _close(-arr, expected, ex):
        return "sign", f"{what} is off by a sign."
    return _factor_feedback(arr, expected, ex, what)


def _factor_feedback(arr, expected, ex, what):
    s = _setup(ex.id)
    named = [(f(s), name, msg) for f, name, msg in ex.factors] + [(2.0, "2", "check the factors of 2"),
                                                                    (math.pi, "pi", "check the factors of pi")]
    for factor, name, msg in named:
        if factor in (0.0, 1.0) or not np.isfinite(factor):
            continue
        if _close(arr, expected * factor, ex):
            return "factor", f"{what} is about {name} times too large: {msg}."
        if _close(arr, expected / factor, ex):
            return "factor", f"{what} is about {name} times too small: {msg}."
    if expected.ndim == 0 and expected != 0 and arr != 0 and _close(1.0 / arr, expected, ex):
        return "reciprocal", f"{what} looks like the reciprocal (1/x) of the expected quantity."
    if expected.ndim > 0 and arr.size > 1:
        wrong = int(np.sum(~np.isclose(arr, expected, rtol=ex.rtol, atol=ex.atol)))
        return "wrong", (f"not correct yet: {wrong} of {arr.size} entries differ from the expected values "
                         f"(relative tolerance {ex.rtol:g}). hint({ex.id!r}) gives a hint.")
    return "wrong", f"not correct yet (relative tolerance {ex.rtol:g}). hint({ex.id!r}) gives a hint."


def feedback(exercise_id, answer) -> Feedback:
    """Check ``answer`` against the exercise's reference; return a :class:`Feedback` (no printing)."""
    ex = _get(exercise_id)
    if answer is None:
        what = {"number": "a number", "array": "an array", "function": "a function"}[ex.kind]
        return Feedback(ex.id, "unanswered", f"not answered yet: set `answer` to {what} and run this cell again.")
    s = _setup(exercise_id)
    if ex.kind != "function":
        verdict = _compare(answer, _expected(exercise_id), ex, _mistake_values(ex, s))
        return Feedback(ex.id, "correct", "correct!") if verdict is None else Feedback(ex.id, *verdict)
    if not callable(answer):
        return Feedback(ex.id, "wrong_type", f"the answer is a {type(answer).__name__}; give a function (def ... or "
                                             "lambda) that the checker calls on its own inputs")
    expected = _expected(exercise_id)
    values = []
    for i, (args, _) in enumerate(expected, 1):
        try:
            with np.errstate(all="ignore"):
                value = answer(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
        except Exception as exc:  # noqa: BLE001 - the student's code: report, do not crash the notebook
            return Feedback(ex.id, "error", f"your function raised {type(exc).__name__} on hidden test input {i}: {exc}")
        if value is None:
            return Feedback(ex.id, "wrong_type", "your function returned None: did you forget `return`?")
        values.append(value)
    mistakes = [_mistake_values(ex, s, args) for args, _ in expected]
    if ex.offset_free:  # compare S(Q_i) - S(Q_1): an additive constant is free
        arrays = []
        for i, value in enumerate(values, 1):
            arr, problem_ = _as_array(value, ex, f"the value on hidden test input {i}")
            if problem_ is not None:
                return Feedback(ex.id, *problem_)
            arrays.append(arr)
        values = [a - arrays[0] for a in arrays]
        expected = [(args, e - expected[0][1]) for args, e in expected]
        mistakes = [[(v - m0[j][0], msg) for j, (v, msg) in enumerate(m)] for m, m0 in zip(mistakes, [mistakes[0]] * len(mistakes))]
        values, expected, mistakes = values[1:], expected[1:], mistakes[1:]
    for i, (value, (args, exp), slips) in enumerate(zip(values, expected, mistakes), 1):
        verdict = _compare(value, exp, ex, slips, what=f"the value on hidden test input {i}")
        if verdict is not None:
            return Feedback(ex.id, *verdict)
    return Feedback(ex.id, "correct", f"correct on all {len(values)} hidden test inputs!")


def check(exercise_id, answer) -> Feedback:
    """Check an answer (a number, an array or a function): the result shows as one line of feedback in a
    notebook (and is truthy when correct). The reference value is never shown."""
    return feedback(exercise_id, answer)


class _Text(str):
    """A string shown without quotes as the last value of a notebook cell."""

    def __repr__(self) -> str:
        return str(self)


def hint(exercise_id) -> str:
    """The next hint of an exercise (one more per call; :func:`reset_hints` starts again)."""
    ex = _get(exercise_id)
    shown = _hints_shown.get(ex.id, 0)
    if shown >= len(ex.hints):
        return _Text(f"No more hints for {ex.id} (all {len(ex.hints)} shown): see the chapter's derivation.")
    _hints_shown[ex.id] = shown + 1
    return _Text(f"Hint {shown + 1}/{len(ex.hints)}: {ex.hints[shown]}")


def reset_hints(exercise_id=None) -> None:
    """Forget the hints shown (of one exercise, or of all)."""
    if exercise_id is None:
        _hints_shown.clear()
    else:
        _hints_shown.pop(_get(exercise_id).id, None)
