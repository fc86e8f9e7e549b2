"""The structure every chapter shares (issue 19, item 4), read from the page sources (no build needed).

* Every chapter ends its text with a "Key results" section, an admonition listing its results by equation
  label: only the exercises and the references follow it, and every ``{eq}``, ``{prf:ref}`` and ``{numref}``
  reference in it names a label that the book defines (a glued number names a value the page glues).
* No solution holds a plain ```` ```python ```` block: code a solution runs is an executed cell, so readers see
  its output. A non-executed block outside a solution must say that it is not run when the book is built.
* The chapters that introduce a system draw it with :mod:`tflmini.plots.diagrams` in an executed cell.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("ch0*.md")) + [BOOK / "accuracy.md"]
PAGES = sorted(BOOK.glob("*.md"))

#: The systems each chapter introduces, as the diagram functions that draw them.
DIAGRAMS = {
    "ch01_why_transfer.md": ["draw_two_layer_network", "draw_source_target_pair"],
    "ch02_bayesian_networks.md": ["draw_bayesian_setup"],
    "ch05_franz_parisi.md": ["draw_source_target_pair"],
    "ch06_transfer_theory.md": ["draw_replicated_system"],
}

FENCE = re.compile(r"^\s*(?:\d+\.\s+)?(`{3,}|~{3,})\s*(\{[^}]*\}|[\w+-]*)")
PLAIN_PYTHON = {"python", "py", "python3", "ipython", "ipython3", "{code-block}", "{code}", "{sourcecode}"}


def _all_text():
    return "\n".join(p.read_text(encoding="utf-8") for p in PAGES)


def _defined_labels():
    text = _all_text()
    eq = set(re.findall(r"^\$\$\s*\(([\w-]+)\)\s*$", text, flags=re.M))
    named = set(re.findall(r"^\s*:label:\s*([\w-]+)\s*$", text, flags=re.M))
    named |= set(re.findall(r"^\s*name:\s*([\w-]+)\s*$", text, flags=re.M))
    named |= set(re.findall(r"^\(([\w-]+)\)=\s*$", text, flags=re.M))
    return eq, named


def _sections(text):
    """(title, body) of the level-2 sections of a page, in order."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def _key_results(path):
    sections = _sections(path.read_text(encoding="utf-8"))
    titles = [t.strip() for t, _ in sections]
    assert "Key results" in titles, f"{path.name} has no '## Key results' section"
    k = titles.index("Key results")
    after = titles[k + 1:]
    assert set(after) <= {"Exercises", "References"}, \
        f"{path.name}: the key results must end the chapter's text, but {after} follow them"
    return sections[k][1]


def _glued_names(text):
    return set(re.findall(r"""(?:glue|keep|keep_agreement)\(\s*f?["']([\w{}]+)["']""", text))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_key_results(path):
    body = _key_results(path)
    assert re.search(r"^`{3,}\{admonition\}", body, flags=re.M), f"{path.name}: key results are not an admonition"
    items = re.findall(r"^- ", body, flags=re.M)
    assert len(items) >= 3, f"{path.name}: key results list only {len(items)} results"
    eq_refs = re.findall(r"\{eq\}`([^`]+)`", body)
    prf_refs = re.findall(r"\{prf:ref\}`([^`]+)`", body)
    num_refs = re.findall(r"\{(?:numref|ref)\}`([^`<>]+)`", body)
    assert eq_refs, f"{path.name}: key results name no equation"
    eq, named = _defined_labels()
    assert not [r for r in eq_refs if r not in eq], f"{path.name}: unknown equation labels"
    assert not [r for r in prf_refs + num_refs if r not in named], f"{path.name}: unknown labels"
    # a result stated with a number quotes a value the page glues, never a number typed in the list
    source = path.read_text(encoding="utf-8")
    glued = _glued_names(source)
    for key in re.findall(r"\{glue:text\}`([\w]+)", body):
        assert key in glued or any("{" in g and re.fullmatch(re.sub(r"\{[^}]*\}", r"\\w+", g), key) for g in glued), \
            f"{path.name}: {key} is not glued on the page"
    for own in re.findall(r"\{eq\}`((?:ch\d\d|accuracy)-[\w-]+)`", body):
        assert own in eq


def test_key_results_check_detects_a_missing_section(tmp_path):
    page = tmp_path / "chx.md"
    page.write_text("## Overview\n\ntext\n\n## Summary\n\n- a\n\n## Exercises\n\n## More text\n")
    with pytest.raises(AssertionError, match="no '## Key results'"):
        _key_results(page)
    page.write_text("## Key results\n\n- a\n\n## Later section\n\n## Exercises\n")
    with pytest.raises(AssertionError, match="must end the chapter"):
        _key_results(page)


def _plain_python_blocks(text):
    """(line number, inside a solution) of every non-executed Python block of a page. Solutions are gated
    (``{solution-start}`` ... ``{solution-end}``) or a ``{solution}`` directive; the contents of code fences
    are skipped, those of other directives are read."""
    found, gated, code_fence, solution_fences = [], 0, None, []
    for n, line in enumerate(text.splitlines(), start=1):
        m = FENCE.match(line)
        if not m:
            continue
        ticks, info = m.groups()
        if code_fence is not None:  # inside a code block: only its closing fence matters
            if ticks == code_fence and not info:
                code_fence = None
            continue
        if info.startswith("{solution-start}"):
            gated += 1
        elif info.startswith("{solution-end}"):
            gated -= 1
        elif info.startswith("{solution}"):
            solution_fences.append(ticks)
        elif not info and solution_fences and ticks == solution_fences[-1]:
            solution_fences.pop()
        elif info in PLAIN_PYTHON or info == "{code-cell}" or (info and not info.startswith("{")):
            if info in PLAIN_PYTHON:
                found.append((n, gated > 0 or bool(solution_fences)))
            code_fence = ticks
    return found


def test_plain_block_finder():
    text = ("````{solution-start} x\n````\n\n```python\nprint(1)\n```\n\n4. ```python\n   x = 1\n   ```\n\n"
            "````{solution-end}\n````\n\n```{code-cell} ipython3\nx\n```\n\n```python\ny\n```\n\n"
            "````{solution} ex\n```python\nz\n```\n````\n\n```text\n```python\n```\n")
    assert _plain_python_blocks(text) == [(4, True), (8, True), (19, False), (24, True)]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_no_plain_python_block_in_a_solution(path):
    text = path.read_text(encoding="utf-8")
    inside = [n for n, sol in _plain_python_blocks(text) if sol]
    assert not inside, f"{path.name}: non-executed python blocks inside solutions at lines {inside}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_non_executed_block_says_so(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, _ in _plain_python_blocks("\n".join(lines)):
        before = " ".join(lines[max(0, n - 8):n - 1])
        assert "not run when the book is built" in before, \
            f"{path.name}:{n}: a python block that is not executed must say so (or be a code cell)"


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_chapters_draw_the_systems_they_introduce(name):
    text = (BOOK / name).read_text(encoding="utf-8")
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    code = "\n".join(cells)
    for draw in DIAGRAMS[name]:
        assert re.search(rf"diagram_figure\((?:tp\.)?{draw}\b", code), f"{name} does not draw {draw}"
    figure_cells = [c for c in cells if "diagram_figure(" in c]
    assert all("hide-input" in c and "name: fig-" in c for c in figure_cells)
