r"""Course planning: reading load of the chapters, the problem sets' time estimates, balanced schedules.

The course page of the book (``book/course.md``) calls this module at build time, so the schedule it states
follows the text as it is, not as it was when the page was written.

* :func:`page_measure` counts the prose words, display equations and code lines of one MyST page.
* :func:`reading_minutes` turns such counts into minutes at stated reading rates.
* :func:`problem_estimates` reads the problems of a problem-set page: number, title, chapter, minutes, points,
  from the line under each ``## Problem`` heading (``*Chapter {ref}`ch04` · ... · about 45 min · 10 points*``).
* :func:`balance_weeks` splits a sequence of loads into contiguous weeks, minimising the heaviest week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validation import check_count

#: Default reading rates: words of mathematical prose per minute, minutes per display equation, and
#: code lines per minute (reading a code cell, not running it).
DEFAULT_RATES = {"words_per_minute": 100.0, "minutes_per_equation": 1.5, "code_lines_per_minute": 10.0}

_FENCE = re.compile(r"^(`{3,}|:{3,})(.*)$")
_PROBLEM = re.compile(r"^#{2,3}\s+Problem\s+(\d+\.\d+)\s*:\s*(.+?)\s*$")
_META_MINUTES = re.compile(r"about\s+(\d+(?:\.\d+)?)\s*(min|h)\b")
_META_POINTS = re.compile(r"(\d+)\s+points\b")
_META_CHAPTER = re.compile(r"\{ref\}`([A-Za-z0-9_-]+)`")


@dataclass(frozen=True)
class PageMeasure:
    """What a reader goes through on one page: prose words, display equations, lines of code."""

    words: int
    equations: int
    code_lines: int


@dataclass(frozen=True)
class Problem:
    """One problem of a problem set, as its page states it."""

    number: str
    title: str
    chapter: str
    minutes: float
    points: int


def _text(source):
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8")
    if not isinstance(source, str):
        raise TypeError(f"source must be a str (page text) or a pathlib.Path, got {type(source).__name__}")
    return source


def _strip_front_matter(lines):
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() == "---":
                return lines[i + 1:]
    return lines


def page_measure(source):
    """Count prose words, display equations and code lines of a MyST Markdown page.

    ``source`` is the page text (str) or a :class:`pathlib.Path`. Code cells (``{code-cell}``) and plain code
    blocks count as code lines; ``$$ ... $$`` blocks and ``{math}`` directives count as one display equation
    each; directive option lines (``:label: ...``), labels ``(name)=`` and cell metadata are skipped; inline
    math counts as one word. Everything else is prose, split on white space.
    """
    lines = _strip_front_matter(_text(source).splitlines())
    words = equations = code_lines = 0
    open_directives = []  # fences of directives whose content is prose (proofs, admonitions, exercises)
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        fence = _FENCE.match(line)
        if fence and not fence.group(2).strip() and open_directives and open_directives[-1] == fence.group(1):
            open_directives.pop()
            i += 1
            continue
        if fence and fence.group(2).strip().startswith("{") and "code-cell" not in fence.group(2) \
                and "{math}" not in fence.group(2):
            open_directives.append(fence.group(1))
            i += 1
            continue
        if fence and ("code-cell" in fence.group(2) or fence.group(2).strip() in ("", "python", "py", "bash",
                                                                                  "ipython3", "text")):
            # a code block: count its non-empty lines up to the closing fence (metadata excluded)
            marker, i = fence.group(1), i + 1
            in_meta = i < len(lines) and lines[i].strip() == "---"
            if in_meta:
                i += 1
            while i < len(lines) and lines[i].strip() != marker:
                stripped = lines[i].strip()
                if in_meta:
                    in_meta = stripped != "---"
                elif stripped and not stripped.startswith(":") and not stripped.startswith("#"):
                    code_lines += 1
                i += 1
            i += 1
            continue
        if fence and "{math}" in fence.group(2):
            equations += 1
            marker, i = fence.group(1), i + 1
            while i < len(lines) and lines[i].strip() != marker:
                i += 1
            i += 1
            continue
        if line.startswith("$$"):
            equations += 1
            if not (len(line) > 2 and line.endswith("$$") and line != "$$"):
                i += 1
                while i < len(lines) and not lines[i].strip().startswith("$$"):
                    i += 1
            i += 1
            continue
        if line.startswith(":") or re.match(r"^\([A-Za-z0-9_-]+\)=$", line):
            i += 1
            continue
        words += len(re.sub(r"\$[^$]+\$", " M ", line.lstrip("#")).split())
        i += 1
    return PageMeasure(words, equations, code_lines)


def _check_rates(rates):
    merged = dict(DEFAULT_RATES)
    if rates is not None:
        if not isinstance(rates, dict):
            raise TypeError(f"rates must be a dict, got {type(rates).__name__}")
        unknown = set(rates) - set(DEFAULT_RATES)
        if unknown:
            raise ValueError(f"rates has unknown keys {sorted(unknown)}; known: {sorted(DEFAULT_RATES)}")
        merged.update(rates)
    for key, value in merged.items():
        if not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"rates[{key!r}] must be a positive number, got {value!r}")
    return merged


def reading_minutes(measure, rates=None):
    """Minutes needed to read a page with the counts ``measure`` (:class:`PageMeasure`) at ``rates``
    (keys of :data:`DEFAULT_RATES`; missing keys take the defaults)."""
    if not isinstance(measure, PageMeasure):
        raise TypeError(f"measure must be a PageMeasure, got {type(measure).__name__}")
    r = _check_rates(rates)
    return (measure.words / r["words_per_minute"] + measure.equations * r["minutes_per_equation"]
            + measure.code_lines / r["code_lines_per_minute"])


def problem_estimates(source):
    """The problems of a problem-set page, in order, as :class:`Problem` records.

    Each problem is a heading ``## Problem <set>.<n>: <title>`` whose first non-empty line below states the
    chapter (a ``{ref}`` to the chapter label), the time (``about 45 min`` or ``about 6 h``) and the points
    (``10 points``). A heading without all three raises ValueError naming the problem.
    """
    lines = _text(source).splitlines()
    problems = []
    for i, line in enumerate(lines):
        head = _PROBLEM.match(line.strip())
        if not head:
            continue
        meta = next((ln for ln in lines[i + 1:] if ln.strip()), "")
        minutes, points, chapter = _META_MINUTES.search(meta), _META_POINTS.search(meta), _META_CHAPTER.search(meta)
        if not (minutes and points and chapter):
            raise ValueError(f"source: problem {head.group(1)} lacks a chapter, time ('about N min') or points "
                             f"line under its heading (found {meta.strip()!r})")
        value = float(minutes.group(1)) * (60.0 if minutes.group(2) == "h" else 1.0)
        problems.append(Problem(head.group(1), head.group(2), chapter.group(1), value, int(points.group(1))))
    return problems


def balance_weeks(loads, n_weeks):
    """Split ``loads`` (a sequence of positive numbers, in teaching order) into ``n_weeks`` contiguous,
    non-empty groups so that the heaviest group is as light as possible.

    Returns a list of ``n_weeks`` lists of indices into ``loads``. Among the splits with the smallest
    maximum, the one with the smallest sum of squared week loads (the most even one) is returned; remaining
    ties go to the lighter earlier weeks. Two dynamic programmes, O(n_weeks * len(loads)^2) each.
    """
    loads = np.asarray(loads, dtype=float)
    if loads.ndim != 1 or loads.size == 0:
        raise ValueError("loads must be a non-empty one-dimensional sequence of numbers")
    if not np.all(np.isfinite(loads)) or np.any(loads <= 0):
        raise ValueError("loads must be finite and positive")
    n_weeks = check_count(n_weeks, "n_weeks")
    n = loads.size
    if n_weeks > n:
        raise ValueError(f"n_weeks must be at most the number of items ({n}), got {n_weeks}")
    prefix = np.concatenate([[0.0], np.cumsum(loads)])

    def week(start, m):
        return prefix[start + m] - prefix[start]

    def tail_optimum(cost, combine):
        # best[k][j]: optimum over splits of the last j items into k non-empty weeks
        best = np.full((n_weeks + 1, n + 1), np.inf)
        best[0][0] = 0.0
        for k in range(1, n_weeks + 1):
            for j in range(k, n + 1):
                for m in range(1, j - k + 2):
                    c = cost(week(n - j, m))
                    if np.isfinite(c):
                        best[k][j] = min(best[k][j], combine(c, best[k - 1][j - m]))
        return best

    # 1. the smallest possible heaviest week
    heaviest = tail_optimum(lambda w: w, max)[n_weeks][n]
    # 2. the most even split among those: least sum of squares with every week at most that heaviest week
    bound = heaviest * (1 + 1e-12)
    squares = tail_optimum(lambda w: w * w if w <= bound else np.inf, lambda a, b: a + b)
    weeks, start = [], 0
    for k in range(n_weeks, 0, -1):
        remaining = n - start
        target = squares[k][remaining]
        for m in range(1, remaining - k + 2):
            w = week(start, m)
            if w <= bound and w * w + squares[k - 1][remaining - m] <= target * (1 + 1e-12) + 1e-12:
                weeks.append(list(range(start, start + m)))
                start += m
                break
    return weeks
