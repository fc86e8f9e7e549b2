"""tflmini.course: page measures, problem estimates and the balanced schedules of the course page."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tflmini.course import (DEFAULT_RATES, PageMeasure, balance_weeks, page_measure, problem_estimates,
                            reading_minutes)

ROOT = Path(__file__).resolve().parents[1]

PAGE = """---
jupytext:
  text_representation:
    extension: .md
---

(label)=
# A title with $x$ math

Two words.

$$
a = b
$$ (eq-one)

```{code-cell} ipython3
---
tags: [hide-input]
---
# a comment
x = 1
y = 2
```

````{prf:proof}
Inside a proof.

```{math}
c = d
```
````

$$ e = f $$
"""


def test_page_measure_counts_prose_equations_and_code():
    m = page_measure(PAGE)
    # "# A title with M math" (5) + "Two words." (2) + "Inside a proof." (3)
    assert m == PageMeasure(words=10, equations=3, code_lines=2)


def test_reading_minutes_uses_the_rates():
    m = PageMeasure(words=200, equations=2, code_lines=20)
    assert reading_minutes(m) == pytest.approx(200 / 100 + 2 * 1.5 + 20 / 10)
    assert reading_minutes(m, {"words_per_minute": 200.0}) == pytest.approx(1 + 3 + 2)
    with pytest.raises(ValueError, match="rates"):
        reading_minutes(m, {"words_per_minute": 0})
    with pytest.raises(ValueError, match="unknown"):
        reading_minutes(m, {"words": 100})
    with pytest.raises(TypeError, match="measure"):
        reading_minutes((1, 2, 3))
    assert set(DEFAULT_RATES) == {"words_per_minute", "minutes_per_equation", "code_lines_per_minute"}


def test_problem_estimates_reads_heading_and_meta_line():
    text = ("## Problem 2.1: Flat spectrum\n\n*Chapter {ref}`ch04` · derivation · about 60 min · 15 points*\n\n"
            "### Problem 4.1: Project\n*Chapter {ref}`ch07` · project · about 8 h · 30 points*\n")
    p1, p2 = problem_estimates(text)
    assert (p1.number, p1.title, p1.chapter, p1.minutes, p1.points) == ("2.1", "Flat spectrum", "ch04", 60.0, 15)
    assert (p2.chapter, p2.minutes, p2.points) == ("ch07", 480.0, 30)
    with pytest.raises(ValueError, match="problem 1.1"):
        problem_estimates("### Problem 1.1: No estimate\n\nJust text.\n")
    with pytest.raises(TypeError, match="source"):
        problem_estimates(3)


def _brute_force(loads, n_weeks):
    """Smallest heaviest week, and the smallest sum of squared weeks among the splits that reach it."""
    splits = []
    for cuts in itertools.combinations(range(1, len(loads)), n_weeks - 1):
        bounds = (0,) + cuts + (len(loads),)
        splits.append([sum(loads[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])
    best_max = min(max(s) for s in splits)
    return best_max, min(sum(w * w for w in s) for s in splits if max(s) <= best_max * (1 + 1e-12))


@pytest.mark.parametrize("seed", range(6))
def test_balance_weeks_is_optimal_contiguous_and_complete(seed):
    rng = np.random.default_rng(seed)
    loads = list(rng.uniform(0.5, 5.0, size=rng.integers(4, 10)))
    for n_weeks in range(1, len(loads) + 1):
        weeks = balance_weeks(loads, n_weeks)
        assert len(weeks) == n_weeks and all(weeks)
        assert [i for w in weeks for i in w] == list(range(len(loads)))
        heaviest = max(sum(loads[i] for i in w) for w in weeks)
        best_max, best_squares = _brute_force(loads, n_weeks)
        assert heaviest == pytest.approx(best_max)
        assert sum(sum(loads[i] for i in w)**2 for w in weeks) == pytest.approx(best_squares)


def test_balance_weeks_example_and_errors():
    assert balance_weeks([1, 1, 1, 1], 2) == [[0, 1], [2, 3]]
    # heaviest week 8 in any case; the even split does not leave a one-item first week
    assert balance_weeks([1, 1, 1, 1, 1, 1, 8], 3) == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="n_weeks"):
        balance_weeks([1, 2], 3)
    with pytest.raises(TypeError, match="n_weeks"):
        balance_weeks([1, 2], 1.5)
    with pytest.raises(ValueError, match="loads"):
        balance_weeks([1, -2], 1)
    with pytest.raises(ValueError, match="loads"):
        balance_weeks([], 1)


def test_book_problem_sets_have_estimates_for_every_problem():
    """Every problem of the book's sets states a chapter, a time and points (the course page needs them)."""
    sets = sorted((ROOT / "book" / "problems").glob("set*.md"))
    assert len(sets) >= 4
    for path in sets:
        problems = problem_estimates(path)
        heads = [line for line in path.read_text().splitlines() if line.startswith("## Problem")]
        assert len(problems) == len(heads) >= 1
        assert all(p.minutes > 0 and p.points > 0 for p in problems)
