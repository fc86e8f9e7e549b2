"""The self-checking exercises of the companion notebooks (:mod:`tflmini.exercises`).

* ``test_correct_answer_passes``: for every exercise, an answer computed here (from the closed forms of the
  chapters or another route through the package) is accepted; this also checks each reference.
* ``test_wrong_answers_get_the_right_feedback``: a sign flip, a factor 2, a wrong shape, None, NaN and text
  get the feedback that names them, and a function that raises or returns nothing is reported, not raised.
* ``test_named_mistakes_are_recognised``: each exercise's typical slips are named when made.
* ``test_feedback_never_shows_the_reference``: no feedback message contains the reference value, written at
  several precisions.
* ``test_every_chapter_has_a_notebook_with_checked_exercises``: each chapter of ``_toc.yml`` (ch01-ch09 and
  the accuracy page) has ``notebooks/<chapter>.ipynb`` with at least three exercises, each with a blank answer
  cell and a check cell.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.optimize import minimize_scalar
from scipy.special import erf

from tflmini import exercises as E

ROOT = Path(__file__).resolve().parents[1]
IDS = list(E.EXERCISES)


def _erf_kernel(X1, X2, v1, v2, c):
    n0 = X1.shape[1]
    s11 = v1 * np.sum(X1**2, 1)[:, None] / n0
    s22 = v2 * np.sum(X2**2, 1)[None, :] / n0
    s12 = c * X1 @ X2.T / n0
    return 2 / np.pi * np.arcsin(2 * s12 / np.sqrt((1 + 2 * s11) * (1 + 2 * s22)))


def _features(X, W):
    return erf(X @ W.T / np.sqrt(X.shape[1])) / np.sqrt(W.shape[0])


def _posterior(p, T, l1):
    F, Ft = _features(p["X"], p["W"]), _features(p["X_test"], p["W"])
    A = F.T @ F + l1 * T * np.eye(F.shape[1])
    mean = Ft @ np.linalg.solve(A, F.T @ p["y"])
    var = T * np.einsum("ij,ji->i", Ft, np.linalg.solve(A, Ft.T))
    return mean, var


def _action_parts(p):
    K = _erf_kernel(p["X"], p["X"], 1.0, 1.0, 1.0)
    k, U = np.linalg.eigh(K)
    return k, U.T @ p["y"]


def _action(p, Q):
    k, yt = _action_parts(p)
    g = Q * k + p["temperature"]
    return -0.5 * (np.log(Q) - p["lambda1"] * Q) + np.sum(np.log(g) + yt**2 / g) / (2 * p["n_hidden"])


def _saddle(p):
    res = minimize_scalar(lambda lq: _action(p, np.exp(lq)), bounds=(-10, 5), method="bounded",
                          options={"xatol": 1e-12})
    return float(np.exp(res.x))


def _gp_mean(X, y, X_test, T, scale=1.0):
    K = scale * _erf_kernel(X, X, 1.0, 1.0, 1.0)
    k = scale * _erf_kernel(X_test, X, 1.0, 1.0, 1.0)
    return k @ np.linalg.solve(K + T * np.eye(len(y)), y)


def _fp(task, n_hidden, gamma, T=0.05):
    from tflmini import FranzParisiTransfer

    S, Tt = task.source, task.target
    return FranzParisiTransfer(n_hidden, gamma, T).fit(S.X_train, S.y_train, Tt.X_train, Tt.y_train)


def _stats(g, l0):
    return 1 / l0, g / (l0 * (l0 + g)), g**2 / (l0 * (l0 + g) ** 2) + 1 / (l0 + g)


def _ch01_frozen(p):
    from tflmini import KernelRenormalization

    T = p["task"].target
    Xt, yt = T.X_train[: p["P_t"]], T.y_train[: p["P_t"]]
    scratch = KernelRenormalization(p["n_hidden"], p["temperature"]).fit(Xt, yt).mean_error(T.X_test, T.y_test)
    from tflmini import FranzParisiTransfer

    S = p["task"].source
    fp = FranzParisiTransfer(p["n_hidden"], np.inf, p["temperature"]).fit(S.X_train, S.y_train, Xt, yt)
    return scratch / fp.single_source_error(T.X_test, T.y_test)


def _ch07_errors(p, gammas):
    fp = _fp(p["task"], p["n_hidden"], 0.0, p["temperature"])
    T = p["task"].target
    return np.array([fp.with_gamma(g).mean_error(T.X_test, T.y_test) for g in gammas])


def _participation(X):
    ell = np.linalg.eigvalsh(np.cov(X.T))
    return ell.sum() ** 2 / np.sum(ell**2)


def _relatedness(p):
    S, T = p["task"].source, p["task"].target
    ref = np.r_[S.X_train, T.X_train]

    def readout(X, y):
        A = X.T @ X
        return ref @ np.linalg.solve(A + 0.01 * np.trace(A) / X.shape[1] * np.eye(X.shape[1]), X.T @ y)

    fs, ft = readout(S.X_train, S.y_train), readout(T.X_train, T.y_train)
    return abs(fs @ ft) / np.sqrt((fs @ fs) * (ft @ ft))


def _within(p):
    ok = np.isfinite(p["dev"])
    return np.mean(np.abs(p["dev"][ok]) <= 2 * p["dev_se"][ok])


#: exercise id -> the correct answer, computed from the problem without the exercise's reference function
SOLUTIONS = {
    "ch01.scalar_estimate": lambda p: (lambda y, b, T, g: (np.sum(y) / T + g * b) / (len(y) / T + g)),
    "ch01.optimal_coupling": lambda p: 1 / p["d"] ** 2,
    "ch01.frozen_vs_scratch": _ch01_frozen,
    "ch02.readout_posterior_mean": lambda p: _posterior(p, p["temperature"], p["lambda1"])[0],
    "ch02.variance_ratio": lambda p: float(np.median(_posterior(p, p["a"]["temperature"], p["a"]["lambda1"])[1]
                                                     / _posterior(p, p["b"]["temperature"], p["b"]["lambda1"])[1])),
    "ch02.autocorrelation_time": lambda p: (lambda phi: (1 + phi) / (1 - phi)),
    "ch03.linear_kernel": lambda p: p["X"] @ p["X"].T / (p["X"].shape[1] * p["lambda0"]),
    "ch03.erf_kernel": lambda p: (lambda X1, X2, v: _erf_kernel(X1, X2, v, v, v)),
    "ch03.gp_mean": lambda p: _gp_mean(p["X"], p["y"], p["X_test"], p["temperature"]),
    "ch04.lazy_limit": lambda p: 1 / p["lambda1"],
    "ch04.saddle_point": _saddle,
    "ch04.action": lambda p: (lambda Q: _action(p, Q) + 3.0),  # an additive constant is free
    "ch04.renormalized_prediction": lambda p: _gp_mean(p["X"], p["y"], p["X_test"], p["temperature"], _saddle(p)),
    "ch05.weight_statistics": lambda p: np.array(_stats(p["gamma"], p["lambda0"])),
    "ch05.conditional_mean": lambda p: (lambda w, g, l0: g * np.asarray(w) / (l0 + g)),
    "ch05.mixed_kernel": lambda p: _erf_kernel(p["X_s"], p["X_t"], *np.array(_stats(p["gamma"], p["lambda0"]))[[0, 2, 1]]),
    "ch06.order_parameters": lambda p: np.array([_fp(p["task"], p["n_hidden"], p["gamma"]).order_parameters_[k]
                                                 for k in ("Q_t", "Q_tt", "Q_st")]),
    "ch06.saddle_maxima": lambda p: 2,  # chapter 6: a maximum along Q_t and Q_st, a minimum along Q_tt
    "ch06.zero_coupling": lambda p: __import__("tflmini").KernelRenormalization(p["n_hidden"], p["temperature"]).fit(
        p["task"].target.X_train, p["task"].target.y_train).Q_,
    "ch07.frozen_benefit": lambda p: (lambda e: 100 * (e[0] - e[1]) / e[0])(_ch07_errors(p, [0.0, np.inf])),
    "ch07.best_gamma": lambda p: (lambda g: g[int(np.argmin(_ch07_errors(p, g)))])(
        __import__("tflmini.transfer_curves", fromlist=["gamma_grid"]).gamma_grid()),
    "ch07.matched_prior": lambda p: __import__("tflmini").KernelRenormalization(
        p["n_hidden"], p["temperature"], lambda0=1 / _stats(p["gamma"], 1.0)[2]).fit(
        p["task"].target.X_train, p["task"].target.y_train).mean_error(p["task"].target.X_test, p["task"].target.y_test),
    "ch08.effective_dimension": lambda p: _participation(p["task"].source.X_train),
    "ch08.relatedness": _relatedness,
    "ch08.frozen_ratio": lambda p: (lambda fp, T: fp.with_gamma(np.inf).mean_error(T.X_test, T.y_test)
                                    / fp.mean_error(T.X_test, T.y_test))(_fp(p["task"], p["n_hidden"], 0.0),
                                                                         p["task"].target),
    "ch09.relu_mean": lambda p: (lambda x, c: np.sqrt(c * np.mean(np.asarray(x) ** 2) / (2 * np.pi))),
    "ch09.relu_source_target": lambda p: p["c"] * np.sqrt(np.mean(p["x"] ** 2) * np.mean(p["x_prime"] ** 2)) / (2 * np.pi),
    "ch09.coupled_minimiser": lambda p: np.linalg.solve(p["X"].T @ p["X"] + p["gamma"] * np.eye(p["X"].shape[1]),
                                                        p["X"].T @ p["y"] + p["gamma"] * p["w_s"]),
    "accuracy.relative_deviation": lambda p: (lambda t, s: (np.asarray(s) - t) / np.abs(t)),
    "accuracy.scaling_exponent": lambda p: -np.polyfit(np.log(p["widths"]), np.log(p["deviation"]), 1)[0],
    "accuracy.fraction_within": _within,
}


@lru_cache(maxsize=None)
def _solution(exercise_id):
    return SOLUTIONS[exercise_id](E.problem(exercise_id))


def test_every_exercise_has_a_solution_here():
    assert set(SOLUTIONS) == set(E.EXERCISES)


@pytest.mark.parametrize("exercise_id", IDS)
def test_correct_answer_passes(exercise_id):
    result = E.check(exercise_id, _solution(exercise_id))
    assert result.correct, f"{exercise_id}: the independent solution is refused: {result.message}"
    assert bool(result) and "correct" in str(result)


def _wrong_answers(exercise_id):
    """(answer, expected status) pairs of typical wrong answers."""
    ex, good = E.EXERCISES[exercise_id], _solution(exercise_id)
    scaled = "wrong" if ex.integer else "factor"
    signed = "wrong" if ex.integer else "sign"
    if ex.kind == "function":
        def times(c):
            return lambda *a: c * np.asarray(good(*a), dtype=float)

        def broken(*a):
            raise ZeroDivisionError("a bug in the student's code")

        def nothing(*a):
            return None

        def nan(*a):
            return np.full_like(np.asarray(good(*a), dtype=float), np.nan)

        def string(*a):
            return "0.5"

        return [(None, "unanswered"), (times(-1.0), "sign"), (times(2.0), "factor"), (broken, "error"),
                (nothing, "wrong_type"), (nan, "not_finite"), (string, "wrong_type"), (0.5, "wrong_type"),
                (lambda *a: np.append(np.atleast_1d(good(*a)), 1.0), "wrong_shape")]
    good = np.asarray(good, dtype=float)
    out = [(None, "unanswered"), (-good, signed), (2.0 * good, scaled), (np.full_like(good, np.nan), "not_finite"),
           ("0.5", "wrong_type"), (True, "wrong_type"), (np.append(good.ravel(), 1.0), "wrong_shape"),
           ({"answer": 1.0}, "wrong_type")]
    if good.ndim == 2 and good.shape[0] != good.shape[1]:
        out.append((good.T, "transposed"))
    return out


@pytest.mark.parametrize("exercise_id", IDS)
def test_wrong_answers_get_the_right_feedback(exercise_id):
    for answer, status in _wrong_answers(exercise_id):
        result = E.check(exercise_id, answer)
        assert result.status == status, (exercise_id, repr(answer)[:60], result.status, result.message)
        assert result.status in E.STATUSES
        assert not result
        assert result.message


def _mistaken(exercise_id):
    """The exercise's own typical slips, evaluated on its problem (numbers and arrays) or as functions."""
    ex, s = E.EXERCISES[exercise_id], E._setup(exercise_id)
    if ex.kind == "function":
        return [(lambda *a, fn=fn: fn(s, *a)) for fn, _ in ex.mistakes]
    return [value for value, _ in E._mistake_values(ex, s)]


@pytest.mark.parametrize("exercise_id", [i for i in IDS if E.EXERCISES[i].mistakes])
def test_named_mistakes_are_recognised(exercise_id):
    for answer in _mistaken(exercise_id):
        result = E.check(exercise_id, answer)
        assert result.status == "mistake", (exercise_id, result.status, result.message)


def test_named_factors_are_recognised():
    """A factor of the problem (N0 in a kernel, per cent against fraction) is named in the feedback."""
    K = SOLUTIONS["ch03.linear_kernel"](E.problem("ch03.linear_kernel"))
    result = E.check("ch03.linear_kernel", K * E.problem("ch03.linear_kernel")["X"].shape[1])
    assert result.status == "factor" and "N0 times too large" in result.message, result.message
    benefit = SOLUTIONS["ch07.frozen_benefit"](E.problem("ch07.frozen_benefit"))
    result = E.check("ch07.frozen_benefit", benefit / 100)
    assert result.status == "factor" and "per cent" in result.message, result.message
    gamma = SOLUTIONS["ch01.optimal_coupling"](E.problem("ch01.optimal_coupling"))
    assert E.check("ch01.optimal_coupling", 1 / gamma).status == "reciprocal"


def _reference_values(exercise_id):
    expected = E._expected(exercise_id)
    arrays = [e for _, e in expected] if E.EXERCISES[exercise_id].kind == "function" else [expected]
    return [float(v) for a in arrays for v in np.ravel(a) if np.isfinite(v) and v != 0]


def _shows(message, value):
    for text in {f"{value:.3g}", f"{value:.4g}", f"{value:.6g}", f"{value:.10g}", repr(value), f"{value:.3f}",
                 f"{value:.2f}"}:
        if len(text.lstrip("-0.")) < 2:  # one digit: too short to tell apart from any other number
            continue
        if re.search(r"(?<![\d.eE+-])" + re.escape(text) + r"(?!\d)", message):
            return text
    return None


@pytest.mark.parametrize("exercise_id", IDS)
def test_feedback_never_shows_the_reference(exercise_id):
    answers = [a for a, _ in _wrong_answers(exercise_id)] + _mistaken(exercise_id) + [_solution(exercise_id)]
    ex = E.EXERCISES[exercise_id]
    if ex.kind != "function":
        good = np.asarray(_solution(exercise_id), dtype=float)
        answers += [good * 1.01, good + 0.3, np.zeros_like(good), good * 100]
    messages = [E.check(exercise_id, a).message for a in answers]
    for message in messages:  # no array printed
        assert "array(" not in message and "[" not in message.replace("[Q_t, Q_tt, Q_st]", ""), message
    messages += [E.hint(exercise_id) for _ in range(len(ex.hints) + 1)]
    E.reset_hints(exercise_id)
    for value in _reference_values(exercise_id):
        for message in messages:
            assert _shows(message, value) is None, f"{exercise_id}: {message!r} shows {_shows(message, value)}"


def test_hints_one_at_a_time():
    ex = E.EXERCISES["ch04.saddle_point"]
    E.reset_hints()
    shown = [E.hint("ch04.saddle_point") for _ in ex.hints]
    assert [s.split(":", 1)[0] for s in shown] == [f"Hint {i}/{len(ex.hints)}" for i in range(1, len(ex.hints) + 1)]
    assert len(set(shown)) == len(ex.hints)
    assert "No more hints" in E.hint("ch04.saddle_point")
    E.reset_hints("ch04.saddle_point")
    assert E.hint("ch04.saddle_point").startswith("Hint 1/")
    assert repr(E.hint("ch04.saddle_point")).startswith("Hint 2/")  # shown without quotes in a notebook
    E.reset_hints()


def test_bad_exercise_ids_are_refused():
    with pytest.raises(ValueError, match="exercise_id.*ch04.saddle_point"):
        E.check("ch04.sadle_point", 1.0)
    with pytest.raises(ValueError, match="exercise_id"):
        E.hint("nope")
    with pytest.raises(TypeError, match="exercise_id"):
        E.check(4, 1.0)
    with pytest.raises(ValueError, match="chapter"):
        E.exercises("ch42")
    with pytest.raises(TypeError, match="chapter"):
        E.exercises(4)


def test_problem_is_a_copy():
    p = E.problem("ch03.linear_kernel")
    p["X"][:] = 0.0
    assert np.any(E.problem("ch03.linear_kernel")["X"] != 0.0)
    assert E.check("ch03.linear_kernel", SOLUTIONS["ch03.linear_kernel"](E.problem("ch03.linear_kernel")))


def test_feedback_renders_in_a_notebook():
    html = E.check("ch04.lazy_limit", None)._repr_html_()
    assert "ch04.lazy_limit" in html and "not answered yet" in html


# --- notebooks ----------------------------------------------------------------------------------------------

_CHECK_RE = re.compile(r"""check\(\s*["']([\w.]+)["']\s*,\s*answer\s*\)""")


def _toc_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc["parts"] for c in part.get("chapters", [])]
    return [Path(f).name for f in files if re.match(r"ch0[1-9]_|accuracy$", Path(f).name)]


def test_the_toc_has_the_ten_chapters():
    assert len(_toc_chapters()) == 10, _toc_chapters()


@pytest.mark.parametrize("chapter", _toc_chapters())
def test_every_chapter_has_a_notebook_with_checked_exercises(chapter):
    path = ROOT / "notebooks" / f"{chapter}.ipynb"
    assert path.exists(), f"no companion notebook {path.relative_to(ROOT)} for the chapter {chapter}"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    checked = []
    for i, src in enumerate(code):
        for exercise_id in _CHECK_RE.findall(src):
            assert exercise_id in E.EXERCISES, f"{path.name}: unknown exercise {exercise_id}"
            assert i > 0 and re.search(r"^answer = None\b", code[i - 1], re.MULTILINE), (
                f"{path.name}: the check of {exercise_id} must follow a blank answer cell (answer = None)")
            checked.append(exercise_id)
    assert len(set(checked)) >= 3, f"{path.name}: {len(set(checked))} checked exercises, at least 3 expected"
    prefix = "accuracy" if chapter == "accuracy" else chapter[:4]
    assert set(E.exercises(prefix)) <= set(checked), f"{path.name}: exercises of {prefix} not in the notebook"


def test_companion_box_describes_the_notebook():
    """The site's "Companion notebook" box (_ext/tflmini_companion.py) says what each notebook holds: live panels
    only where the chapter has them, and the number of self-checking exercises."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tflmini_companion", ROOT / "_ext" / "tflmini_companion.py")
    companion = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(companion)
    found = companion.companion_notebooks(ROOT)
    assert set(_toc_chapters()) <= set(found), "a chapter's notebook is not offered by the companion box"
    for chapter in _toc_chapters():
        contents = companion.notebook_contents(ROOT / found[chapter])
        prefix = "accuracy" if chapter == "accuracy" else chapter[:4]
        assert contents["exercises"] == E.exercises(prefix), chapter
        box = companion._box(f"book/{chapter}", found[chapter], contents)
        assert f"has {len(contents['exercises'])} self-checking exercises" in box, box
        assert ("panels live" in box) == (chapter not in ("ch01_why_transfer", "ch05_franz_parisi", "ch09_beyond",
                                                          "accuracy")), (chapter, box)
