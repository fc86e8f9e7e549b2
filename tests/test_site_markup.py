"""Math and markup as readers see them: no raw TeX or literal MyST role in the text, no clipped math;
and the polish of the site (issue 18, item 6).

Issue 18 found pages that the other site tests passed: a proof of ch04 shown as raw TeX with literal
``{eq}`` roles (a source line inside ``$$...$$`` that began with ``+ O(`` was parsed as a list item and
split the math), a stray ``$ $ (ch01-alpha)`` in ch01, and inline math cut off inside an exercise
solution (ch06) and a proof (ch03). These tests look for each kind of failure, wherever it comes from:

* ``test_no_unrendered_markup[<page>]`` (static, every page of the build): the text of the page outside
  math containers (``span.math``/``div.math``, MathML), code (``pre``, ``code``, ``kbd``, ``samp``,
  highlighted blocks), scripts and styles holds no TeX (``$\\cmd``, ``\\frac``, ``$ $``, ``$$``, ``\\(``,
  ``\\[``, ``\\begin{``, a leftover equation label ``$ (label)``) and no literal MyST role or directive
  (``{eq}``, ``{cite}``, ``{doc}``, ``{ref}``, ``{numref}``, ``{prf:ref}``, ``{math}``, ``:::{``,
  ```` ```{ ````). The text of collapsed dropdowns (solutions, hidden cells) is in the HTML and scanned
  too, and so is the TeX of every math container for a literal MyST role (a role swallowed by a
  split formula). ``test_scan_catches_issue_18_examples`` runs the scan on HTML cut from a build of the
  issue's broken sources (``ISSUE_18_HTML``), so it is known to fail on them and to pass on the fixes.
* ``test_math_not_clipped_in_browser[<page>]`` (headless Chromium, 1280 x 900, every page of the table
  of contents): after opening every dropdown (solutions, hidden cells, ``<details>``) and waiting for
  MathJax, each visible ``mjx-container`` is compared with every ancestor that clips its overflow
  (``overflow-x`` other than ``visible``). The rule:

  - inline math must fit entirely in the visible box of every such ancestor (pydata-sphinx-theme gives
    ``span.math`` ``max-width: 100%; overflow: hidden``, so a formula wider than its paragraph, list
    item or admonition is silently cut: that is the clipping of issue 18);
  - display math may be wider than the column only if it scrolls inside its own box: the
    ``mjx-container`` (or its ``div.math``) has ``overflow-x: auto``/``scroll``, so the browser gives it a
    scrollbar. Display math cut by any other ancestor (an admonition, a hidden-overflow box) fails.
    Headless Chromium hides scrollbars, so the scrollbar is checked through the computed style, not by
    measuring it.

  The visible text of the page (with dropdowns open, including text written by JavaScript such as
  widget labels) gets the raw-markup scan as well. ``test_clipping_check_catches_clipped_math`` puts
  the issue's constructs back into a copy of the built ch06 page (the over-long inline formula of the
  solution of the determinant exercise, the broken ch01 list item and ch04 proof) and requires the
  browser check to report each of them.

The same module checks the book-only polish of issue 18, item 6 (see the section at its end): one
search box, numbering per chapter (Definition 6.1, (6.1), Fig. 6.1, Exercise 6.1), no visible setup
cell, a course table that links every chapter, and tables that fit the content column at 1280 px.

Point the tests at an existing build with ``TFLMINI_SITE_HTML=/path/to/_build/html`` (see
``tests/site_utils.py``: ``prebuilt_site``); otherwise the session builds the book (``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from site_utils import (ROOT, WAIT_MATHJAX_JS, SiteServer, browser_context, built_pages, chromium_problem,
                        docname_to_page, toc_docnames)

TOC_PAGES = list(dict.fromkeys(["index.html", *(docname_to_page(d) for d in toc_docnames())]))
VIEWPORT = {"width": 1280, "height": 900}
PAGE_TIMEOUT_MS = 60_000

# --- what unrendered markup looks like ----------------------------------------------------------

# (name, regular expression) pairs; the expressions are valid in Python and in JavaScript.
MARKUP_PATTERNS: list[tuple[str, str]] = [
    ("TeX command after $", r"\$\s*\\[A-Za-z]"),
    ("TeX command", r"\\(?:frac|tfrac|dfrac|sqrt|sum|prod|int|mathrm|mathbb|mathcal|mathbf|operatorname|left|right|"
                    r"begin|end|cdot|partial|lambda|gamma|alpha|rho|sigma|Sigma|Delta|delta|epsilon|infty|to|le|ge|"
                    r"langle|rangle|top|text|big|Big|quad|qquad|log|exp|mid|hat|tilde|bar)(?![A-Za-z])"),
    ("empty or split $ $ pair", r"\$\s+\$"),
    ("$$ delimiter", r"\$\$"),
    ("\\( or \\[ delimiter", r"\\[(\[]"),
    ("equation label after $", r"\$\s*\([A-Za-z0-9_]+[-:][A-Za-z0-9_:-]+\)"),
    ("literal MyST role", r"\{(?:eq|cite(?::[a-z]+)?|doc|ref|numref|prf:ref|math|term|download|glue(?::[a-z]+)?)\}"),
    ("literal MyST directive", r"(?:^|\n)\s*(?::::*|```+)\s*\{[A-Za-z:-]+\}"),
]
MARKUP_RE = re.compile("|".join(f"(?:{p})" for _, p in MARKUP_PATTERNS))
# In the TeX of a math container, a MyST role means the formula swallowed the prose around it.
ROLE_IN_MATH_RE = re.compile(dict(MARKUP_PATTERNS)["literal MyST role"])

# Elements whose text is not prose: code, scripts, styles, and the math containers themselves.
SKIP_TAGS = {"script", "style", "pre", "code", "kbd", "samp", "textarea", "template", "head", "math",
             "mjx-container", "svg"}
SKIP_CLASSES = {"math", "highlight"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
             "track", "wbr"}


class _ProseText(HTMLParser):
    """Collects the text of an HTML document outside math containers, code, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, skipped, math container)
        self.skipping = 0
        self.in_math = 0
        self.chunks: list[str] = []
        self.math: list[str] = []  # the text of each math container

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in VOID_TAGS:
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES)
        math = tag in ("math", "mjx-container") or "math" in classes
        if math and not self.in_math:
            self.math.append("")
        self.stack.append((tag, skip, math))
        self.skipping += skip
        self.in_math += math

    def handle_startendtag(self, tag: str, attrs) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or not any(entry[0] == tag for entry in self.stack):
            return  # a stray end tag: ignore it rather than unwind the stack
        while self.stack:
            t, skip, math = self.stack.pop()
            self.skipping -= skip
            self.in_math -= math
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(data)
        elif self.in_math:
            self.math[-1] += data


def _parse(html: str) -> _ProseText:
    parser = _ProseText()
    parser.feed(html)
    parser.close()
    return parser


def prose_text(html: str) -> str:
    return "".join(_parse(html).chunks)


def markup_problems(html: str, limit: int = 25) -> list[str]:
    """One line per piece of unrendered markup in the prose of ``html`` (what, and the text around it),
    and per math container whose TeX holds a literal MyST role; at most ``limit`` lines."""
    parsed = _parse(html)
    text = "".join(parsed.chunks)
    out = [f"literal MyST role inside math: {' '.join(tex.split())[:140]!r}"
           for tex in parsed.math if ROLE_IN_MATH_RE.search(tex)]
    for match in MARKUP_RE.finditer(text):
        what = next(name for name, p in MARKUP_PATTERNS if re.fullmatch(p, match.group(0)))
        around = " ".join(text[max(0, match.start() - 60): match.end() + 60].split())
        out.append(f"{what}: {match.group(0).strip()!r} in ...{around}...")
    if len(out) > limit:
        out[limit:] = [f"... and {len(out) - limit} more"]
    return out


# --- the browser check --------------------------------------------------------------------------

OPEN_DROPDOWNS_JS = """() => {
  let opened = 0;
  // sphinx-togglebutton (exercise solutions with :class: dropdown, admonitions with the dropdown class)
  for (const button of document.querySelectorAll('button.toggle-button.toggle-button-hidden')) {
    button.click(); opened += 1;
  }
  // <details>: hidden cell inputs/outputs (hide-input...), sphinx-design dropdowns, toggle directives
  for (const details of document.querySelectorAll('details:not([open])')) { details.open = true; opened += 1; }
  return opened;
}"""

# For every visible mjx-container: the ancestors (and the container itself) that clip overflow, and
# by how much the formula goes past their visible (padding) box. Display math that overflows its own
# scrolling box (overflow-x auto/scroll on the container or its div.math) is allowed.
CLIPPING_JS = r"""() => {
  const TOL = 1.5;  // px: sub-pixel rounding
  const label = el => {
    const cls = (el.getAttribute('class') || '').trim().split(/\s+/).slice(0, 3).join('.');
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (cls ? '.' + cls : '');
  };
  const where = el => {
    const box = el.closest('.admonition') || el.closest('.cell, section');
    const title = box && box.querySelector('.admonition-title, h1, h2, h3, h4');
    const heading = title ? title.textContent.trim().replace(/\s+/g, ' ').slice(0, 80) : '';
    return (box ? label(box) : 'page') + (heading ? ` "${heading}"` : '');
  };
  const source = new Map();  // mjx-container -> its TeX
  try {
    for (const item of MathJax.startup.document.getMathItemsWithin(document.body)) {
      if (item.typesetRoot) source.set(item.typesetRoot, item.math);
    }
  } catch (e) { /* MathJax absent: the raw-TeX checks report it */ }
  const out = [];
  for (const c of document.querySelectorAll('mjx-container')) {
    if (!c.getClientRects().length) continue;  // not displayed (a closed dropdown, a hidden tab)
    const display = c.getAttribute('display') === 'true' || !!c.closest('div.math');
    const r = c.getBoundingClientRect();
    const tex = source.get(c) || c.textContent;
    const contentWidth = Math.max(c.scrollWidth, r.width);
    const problems = [];
    // The container's own content: MathJax draws the formula at its natural width inside it.
    const own = getComputedStyle(c).overflowX;
    if (c.scrollWidth > c.clientWidth + TOL) {
      if (own === 'hidden' || own === 'clip') {
        problems.push(`cut by its own box by ${Math.round(c.scrollWidth - c.clientWidth)} px`);
      } else if (!display && (own === 'auto' || own === 'scroll')) {
        problems.push(`inline math scrolls inside its own box (${Math.round(c.scrollWidth - c.clientWidth)} px hidden)`);
      }
    }
    for (let a = c.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const style = getComputedStyle(a);
      const ox = style.overflowX;
      if (ox === 'visible') continue;
      const ar = a.getBoundingClientRect();
      const left = ar.left + a.clientLeft, right = left + a.clientWidth;
      const past = Math.max(left - r.left, r.right - right);
      if (past <= TOL) continue;
      const scrolls = ox === 'auto' || ox === 'scroll';
      const ownScroller = display && scrolls && (a.matches('div.math') || a === c.closest('div.math'));
      if (ownScroller) continue;
      if (scrolls && !a.matches('span.math, div.math')) {
        // a scrolling block (a wide table) that the reader scrolls sideways: reachable, not cut
        continue;
      }
      problems.push(`cut by ${label(a)} (overflow-x: ${ox}) by ${Math.round(past)} px`);
    }
    if (problems.length) {
      out.push({display, where: where(c), tex: (tex || '').trim().replace(/\s+/g, ' ').slice(0, 100),
                width: Math.round(contentWidth), problems});
    }
  }
  return out;
}"""

VISIBLE_TEXT_JS = r"""(patterns) => {
  const skip = 'script, style, pre, code, kbd, samp, textarea, noscript, template, mjx-container, .math, .highlight, svg';
  const re = new RegExp(patterns.map(p => '(?:' + p + ')').join('|'));
  const hits = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest(skip) || !parent.getClientRects().length) continue;
    const text = node.textContent;
    if (re.test(text)) hits.push(text.trim().replace(/\s+/g, ' ').slice(0, 160));
  }
  return hits;
}"""


# Tables of the article wider than the box they are shown in (they would scroll sideways).
WIDE_TABLES_JS = r"""() => [...document.querySelectorAll('article table')].filter(t => t.getClientRects().length)
  .map(t => {
    const box = t.closest('.pst-scrollable-table-container, .cell_output, .output') || t.parentElement;
    const caption = t.querySelector('caption, th');
    return {width: Math.round(t.scrollWidth), box: Math.round(box.clientWidth),
            head: caption ? caption.textContent.trim().replace(/\s+/g, ' ').slice(0, 80) : ''};
  }).filter(t => t.width > t.box + 1)"""

# Search fields and buttons the reader sees (header, sidebars, article).
SEARCH_BOXES_JS = r"""() => [...document.querySelectorAll(
    'input[type=search], form[role=search], .search-button-field, .search-button, #searchbox input')]
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .filter((e, i, all) => !all.some(o => o !== e && o.contains(e)))
  .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].slice(0, 3).join('.')} in `
            + (e.closest('header, .bd-sidebar-primary, .bd-sidebar-secondary, article') || {className: '?'}).className.split(' ')[0])"""


class MathBrowser:
    """A page loaded in Chromium with every dropdown open and MathJax done (one visit per page)."""

    def __init__(self, server: SiteServer, context) -> None:
        self.server = server
        self.context = context
        self.results: dict[str, dict] = {}

    def visit(self, page_path: str) -> dict:
        if page_path not in self.results:
            self.results[page_path] = self.check(page_path)
        return self.results[page_path]

    def check(self, page_path: str, screenshot: Path | None = None, selector: str | None = None) -> dict:
        page = self.context.new_page()
        try:
            page.goto(self.server.url(page_path), wait_until="load", timeout=PAGE_TIMEOUT_MS)
            page.evaluate(WAIT_MATHJAX_JS)
            search_boxes = page.evaluate(SEARCH_BOXES_JS)  # before opening anything
            opened = page.evaluate(OPEN_DROPDOWNS_JS)
            page.wait_for_timeout(300)  # the toggle's CSS transition
            page.evaluate(WAIT_MATHJAX_JS)
            result = {
                "opened": opened,
                "containers": page.evaluate("() => document.querySelectorAll('mjx-container').length"),
                "clipped": page.evaluate(CLIPPING_JS),
                "raw": page.evaluate(VISIBLE_TEXT_JS, [p for _, p in MARKUP_PATTERNS]),
                "wide_tables": page.evaluate(WIDE_TABLES_JS),
                "search_boxes": search_boxes,
            }
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                element = page.locator(selector).first if selector else None
                if element is not None and element.count():
                    element.scroll_into_view_if_needed()
                    element.screenshot(path=str(screenshot))
                else:
                    page.screenshot(path=str(screenshot), full_page=True)
            return result
        finally:
            page.close()


@contextlib.contextmanager
def math_browser_session(html_dir: Path):
    """A MathBrowser on ``html_dir`` served from 127.0.0.1 (system Chromium, 1280 x 900)."""
    with browser_context(html_dir, VIEWPORT) as (server, context):
        yield MathBrowser(server, context)


def clipping_report(result: dict) -> list[str]:
    out = []
    for item in result["clipped"]:
        kind = "display" if item["display"] else "inline"
        out.append(f"{kind} math {item['tex']!r} ({item['width']} px) in {item['where']}: " + "; ".join(item["problems"]))
    out += [f"raw markup in the visible text: {t!r}" for t in result["raw"]]
    return out


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def math_browser(book_html: Path):
    problem = chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)  # never skip: CI and developers must see it
    with math_browser_session(book_html) as browser:
        yield browser


# --- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", TOC_PAGES)
def test_no_unrendered_markup(page: str, book_html: Path) -> None:
    path = book_html / page
    if not path.is_file():
        pytest.fail(f"{page} was not built", pytrace=False)
    problems = markup_problems(path.read_text(encoding="utf-8"))
    assert not problems, f"{page}: unrendered markup in the text:\n  " + "\n  ".join(problems)


def test_no_unrendered_markup_in_other_pages(book_html: Path) -> None:
    """Pages of the build outside the table of contents (index, genindex, search, domain indices)."""
    failures = []
    for page in built_pages(book_html):
        if page not in TOC_PAGES:
            problems = markup_problems((book_html / page).read_text(encoding="utf-8"))
            failures += [f"{page}: {p}" for p in problems]
    assert not failures, "\n".join(failures)


# HTML of the issue's broken sources (book/ch01_why_transfer.md and book/ch04_kernel_renormalization.md at
# commit fb6effb: the display equation (ch01-alpha) inside a list item, and the proof whose inline formula
# ran onto a line beginning with "+ O(") and of the same passages as fixed today, built by this toolchain
# (jupyter-book 1.0.4, myst-parser 3.0.1, sphinx-proof 0.4.0) and cut from the page.
ISSUE_18_HTML = {
    'broken_ch01': (
        '<ul class="simple">\n'
        '<li><p><strong>The proportional limit</strong>, <span class="math notranslate nohighlight">\\(P\\to\\infty\\)</span> and <span class="math notranslate nohighlight">\\(N_1\\to\\infty\\)</span> with the load\n'
        '$<span class="math notranslate nohighlight">\\(\n'
        '\\alpha = \\frac{P}{N_1}\n'
        '\\)</span>$ (ch01-alpha)\n'
        'fixed. Here the data leave a finite mark on the hidden layer (<a class="reference internal" href="#sec-ch04"><span class="std std-ref">Saddle</span></a>).</p></li>\n'
        '</ul>'
    ),
    'broken_ch04': (
        '<div class="proof admonition" id="proof">\n'
        '<p>Proof. Write the left-hand side of <a class="reference internal" href="#equation-eq-saddle">(1)</a> as <span class="math notranslate nohighlight">\\(R(Q) = \\lambda_1Q - 1 + \\frac{1}{N_1}\\Sigma(Q)\\)</span>, where\n'
        '<span class="math notranslate nohighlight">\\(\\Sigma(Q)\\)</span> is the sum over modes, which does not depend on <span class="math notranslate nohighlight">\\(N_1\\)</span>. At <span class="math notranslate nohighlight">\\(N_1 = \\infty\\)</span> the root is <span class="math notranslate nohighlight">\\(q_0\\)</span>.\n'
        'Put <span class="math notranslate nohighlight">\\(Q = q_0 + \\delta\\)</span> and expand: $R = \\lambda_1\\delta + \\frac{1}{N_1}\\Sigma(q_0) + \\frac{1}{N_1}\\Sigma’(q_0)\\delta</p>\n'
        '<ul class="simple">\n'
        '<li><p>O(\\delta^2)<span class="math notranslate nohighlight">\\(. Setting \\)</span>R = 0<span class="math notranslate nohighlight">\\( gives \\)</span>\\delta = -\\Sigma(q_0)/(\\lambda_1N_1) + O(N_1^{-2})<span class="math notranslate nohighlight">\\(, which is\n'
        '{eq}`eq-saddle`. With \\)</span>Q^* = 1/\\lambda_1<span class="math notranslate nohighlight">\\(, {eq}`eq-saddle` is GP regression with\n'
        'kernel \\)</span>K/\\lambda_1$.</p></li>\n'
        '</ul>\n'
        '</div>'
    ),
    'fixed_ch01': (
        '<ul class="simple">\n'
        '<li><p><strong>The proportional limit</strong>, <span class="math notranslate nohighlight">\\(P\\to\\infty\\)</span> and <span class="math notranslate nohighlight">\\(N_1\\to\\infty\\)</span> with the load <span class="math notranslate nohighlight">\\(\\alpha = P/N_1\\)</span> fixed. Here the\n'
        'data leave a finite mark on the hidden layer (<a class="reference internal" href="broken.html#sec-ch04"><span class="std std-ref">Saddle</span></a>).</p></li>\n'
        '</ul>'
    ),
    'fixed_ch04': (
        '<div class="proof admonition" id="proof">\n'
        '<p>Proof. Write the left-hand side of <a class="reference internal" href="broken.html#equation-eq-saddle">(1)</a> as <span class="math notranslate nohighlight">\\(R(Q) = \\lambda_1Q - 1 + \\frac{1}{N_1}\\Sigma(Q)\\)</span>, where\n'
        '<span class="math notranslate nohighlight">\\(\\Sigma(Q)\\)</span> is the sum over modes, which does not depend on <span class="math notranslate nohighlight">\\(N_1\\)</span>. At <span class="math notranslate nohighlight">\\(N_1 = \\infty\\)</span> the root is <span class="math notranslate nohighlight">\\(q_0\\)</span>.\n'
        'Put <span class="math notranslate nohighlight">\\(Q = q_0 + \\delta\\)</span> and expand:</p>\n'
        '<div class="math notranslate nohighlight">\n'
        '\\[\n'
        "R = \\lambda_1\\delta + \\frac{1}{N_1}\\Sigma(q_0) + \\frac{1}{N_1}\\Sigma'(q_0)\\delta + O(\\delta^2).\n"
        '\\]</div>\n'
        '<p>Setting <span class="math notranslate nohighlight">\\(R = 0\\)</span> gives <span class="math notranslate nohighlight">\\(\\delta = -\\Sigma(q_0)/(\\lambda_1N_1) + O(N_1^{-2})\\)</span>, which is\n'
        '<a class="reference internal" href="broken.html#equation-eq-saddle">(1)</a>. With <span class="math notranslate nohighlight">\\(Q^* = 1/\\lambda_1\\)</span>, <a class="reference internal" href="broken.html#equation-eq-saddle">(1)</a> is GP regression with\n'
        'kernel <span class="math notranslate nohighlight">\\(K/\\lambda_1\\)</span>.</p>\n'
        '</div>'
    ),
}


@pytest.mark.parametrize("name", ["ch01", "ch04"])
def test_scan_catches_issue_18_examples(name: str) -> None:
    """The scan reports the broken HTML that issue 18 found, and nothing in the fixed passage."""
    broken = markup_problems(ISSUE_18_HTML[f"broken_{name}"])
    assert broken, f"the scan found nothing in the broken {name} passage"
    if name == "ch01":
        assert any("(ch01-alpha)" in p for p in broken), broken
    else:
        assert any("{eq}" in p for p in broken) and any("\\lambda_1\\delta" in p for p in broken), broken
    assert markup_problems(ISSUE_18_HTML[f"fixed_{name}"]) == []


def test_scan_ignores_math_and_code() -> None:
    html = ('<p>Text <span class="math notranslate nohighlight">\\(\\frac{a}{b}\\)</span> and '
            '<code class="docutils literal">{eq}`x` $$ \\frac</code></p>'
            '<div class="math notranslate nohighlight">\\[ \\alpha = P/N_1 \\]</div>'
            '<div class="highlight"><pre>$ $ \\lambda</pre></div><script>var a = "{cite}";</script>'
            '<p>5 $ and 6 $ (prices), a set {x} and a dollar $</p>')
    assert markup_problems(html) == []
    assert markup_problems("<p>see {eq}<code>ch04-mean</code></p>")
    assert markup_problems("<li><p>O(1/N_1) $$ which by {prf:ref}</p></li>")


@pytest.mark.parametrize("page", [p for p in TOC_PAGES if p != "index.html"])
def test_math_not_clipped_in_browser(page: str, book_html: Path, math_browser: MathBrowser) -> None:
    if not (book_html / page).is_file():
        pytest.fail(f"{page} was not built", pytrace=False)
    result = math_browser.visit(page)
    problems = clipping_report(result)
    assert not problems, f"{page} ({result['containers']} formulas, {result['opened']} dropdowns opened):\n  " + (
        "\n  ".join(problems))


# The solution of ch06's determinant exercise as the issue found it: one inline formula, 74 px too wide
# for the solution dropdown at 1280 px (pydata-sphinx-theme clips span.math with overflow: hidden).
ISSUE_18_WIDE_INLINE = (
    r'<p>With <span class="math notranslate nohighlight">\(A = \Delta I_n\)</span>: '
    r'<span class="math notranslate nohighlight">\(\det(\Delta I + m\mathbf{1}\mathbf{1}^\top)'
    r' = \Delta^n(1 + \mathbf{1}^\top\mathbf{1}\,m/\Delta) = \Delta^n(1 + nm/\Delta) = \Delta^{n-1}(\Delta + nm)\)'
    r'</span>.</p>'
)


def test_clipping_check_catches_clipped_math(book_html: Path, math_browser: MathBrowser) -> None:
    """A copy of the built ch06 page with the issue's failures put back into its first solution dropdown
    (closed on load): the over-long inline formula, the broken ch01 list item and the broken ch04 proof.
    The browser check must report the clipped formula and the raw TeX."""
    source = book_html / "book" / "ch06_transfer_theory.html"
    if not source.is_file():
        pytest.fail("book/ch06_transfer_theory.html was not built", pytrace=False)
    broken = ISSUE_18_WIDE_INLINE + ISSUE_18_HTML["broken_ch01"] + ISSUE_18_HTML["broken_ch04"]
    injected, n = re.subn(r'(<div class="solution dropdown admonition"[^>]*>\s*<p class="admonition-title">.*?</p>\s*'
                          r'<section[^>]*>)', lambda m: m.group(1) + broken, source.read_text(encoding="utf-8"),
                          count=1, flags=re.DOTALL)
    assert n == 1, "no solution dropdown in ch06 to put the broken HTML into"
    probe = book_html / "book" / "_markup_probe.html"  # next to the page, so that its relative URLs work
    probe.write_text(injected, encoding="utf-8")
    try:
        result = math_browser.check("book/_markup_probe.html")
    finally:
        probe.unlink()
    clipped = [c for c in result["clipped"] if not c["display"] and "\\det(\\Delta I" in c["tex"]]
    assert clipped, f"the clipped inline formula was not reported: {result['clipped']}"
    assert any("span.math" in p for p in clipped[0]["problems"]), clipped
    assert "solution" in clipped[0]["where"], clipped
    raw = " ".join(result["raw"])
    assert "(ch01-alpha)" in raw and "\\lambda_1\\delta" in raw, result["raw"]


# --- issue 18, item 6: the book-only polish ------------------------------------------------------
#
# * the landing page shows one search box (test_one_search_box, Chromium at 1280 px);
# * chapters are numbered and their figures, equations, theorems (sphinx-proof) and exercises
#   (sphinx-exercise) restart per chapter with the chapter number as prefix (Definition 6.1, (6.1));
# * setup cells (%matplotlib inline and the imports) and bare panel calls show no input;
# * the course table links every chapter;
# * tables fit the content column at 1280 px (the performance appendix's did not).

SECTION_NUMBER_RE = re.compile(r'<h1>\s*<span class="section-number">(\d+)\.\s*</span>')
CAPTION_NUMBER_RE = re.compile(r'<span class="caption-number">([^<]*?)\s*</span>')
EQNO_RE = re.compile(r'<span class="eqno">\(([^)<]*)\)')


def _numbered_docnames() -> list[str]:
    """Pages of the parts of _toc.yml marked ``numbered``, in order."""
    from site_utils import load_yaml

    toc = load_yaml(ROOT / "_toc.yml")
    return [str(c["file"]) for part in toc.get("parts", []) if part.get("numbered")
            for c in part.get("chapters", []) if "file" in c]


def test_toc_numbers_the_chapters() -> None:
    numbered = _numbered_docnames()
    assert [d for d in numbered if re.match(r"book/ch0\d_", d)] == [
        d for d in toc_docnames() if re.match(r"book/ch0\d_", d)], "every chapter must be in a numbered part"


@pytest.mark.parametrize("docname", _numbered_docnames())
def test_numbering_restarts_per_chapter(docname: str, book_html: Path) -> None:
    """Every numbered item of a chapter carries the chapter's number and restarts at 1 in each
    chapter: ``Definition 6.1``, ``Fig. 6.1``, ``Exercise 6.1``, equation ``(6.1)``."""
    page = book_html / docname_to_page(docname)
    if not page.is_file():
        pytest.fail(f"{docname} was not built", pytrace=False)
    html = page.read_text(encoding="utf-8")
    match = SECTION_NUMBER_RE.search(html)
    assert match, f"{docname}: the page title has no chapter number (numbered: in _toc.yml)"
    chapter = match.group(1)
    numbers: dict[str, list[str]] = {}
    for text in CAPTION_NUMBER_RE.findall(html):
        kind, _, number = text.strip().rpartition(" ")
        numbers.setdefault(kind, []).append(number)
    numbers["equation"] = EQNO_RE.findall(html)
    problems = []
    for kind, found in numbers.items():
        if not found:
            continue
        wrong = [n for n in found if not n.startswith(f"{chapter}.")]
        if wrong:
            problems.append(f"{kind}: numbers {wrong[:5]} lack the chapter prefix {chapter}.")
        elif found[0] != f"{chapter}.1" and kind in ("equation", "Exercise", "Fig."):
            problems.append(f"{kind}: the first is {found[0]}, not {chapter}.1 (numbering does not restart)")
    assert not problems, f"{docname} (chapter {chapter}):\n  " + "\n  ".join(problems)


def test_ch06_opens_at_definition_6_1(book_html: Path) -> None:
    """The issue's example: ch06 opened at Definition 9, Fig. 17, equation (62), Exercise 17."""
    html = (book_html / "book" / "ch06_transfer_theory.html").read_text(encoding="utf-8")
    captions = [t.strip() for t in CAPTION_NUMBER_RE.findall(html)]
    firsts = {kind: next((c for c in captions if c.startswith(kind + " ")), None)
              for kind in ("Definition", "Fig.", "Exercise")}
    assert firsts == {"Definition": "Definition 6.1", "Fig.": "Fig. 6.1", "Exercise": "Exercise 6.1"}, firsts
    assert EQNO_RE.findall(html)[0] == "6.1"


CELL_RE = re.compile(r'<div class="cell( [^"]*)?"[^>]*>(.*?)(?=<div class="cell[ "]|<section|</section>|\Z)', re.DOTALL)


def _input_source(cell_html: str) -> str | None:
    """The code shown in a cell's input area, or None if the input is removed or collapsed."""
    match = re.search(r'<div class="cell_input[^"]*"[^>]*>(.*)', cell_html, re.DOTALL)
    if not match:
        return None
    if "<details" in cell_html[: match.start()]:  # hide-input: behind "Show code cell source"
        return None
    pre = re.search(r"<pre[^>]*>(.*?)</pre>", match.group(1), re.DOTALL)
    if not pre:
        return None
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", pre.group(1)))


def setup_inputs(html: str) -> list[str]:
    """Visible cell inputs that are setup, not content: %matplotlib, or only a bare ``*_panel(...)`` call."""
    out = []
    for match in CELL_RE.finditer(html):
        source = _input_source(match.group(2))
        if source is None:
            continue
        lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if any(line.lstrip().startswith("%matplotlib") for line in lines) or (
                len(lines) == 1 and re.fullmatch(r"\s*[\w.]*_panel\(.*\)\s*;?\s*", lines[0])):
            out.append(" | ".join(lines)[:120])
    return out


def test_setup_input_check_catches_visible_setup() -> None:
    visible = ('<div class="cell docutils container"><div class="cell_input docutils container">'
               '<div class="highlight-ipython3 notranslate"><div class="highlight"><pre><span></span>'
               '<span class="o">%</span><span class="k">matplotlib</span> inline\n<span class="kn">import</span> numpy\n'
               '</pre></div></div></div></div>'
               '<div class="cell docutils container"><div class="cell_input docutils container">'
               '<div class="highlight"><pre><span class="n">saddle_panel</span><span class="p">(</span>static'
               '<span class="o">=</span><span class="kc">True</span><span class="p">)</span>\n</pre></div></div></div>')
    assert len(setup_inputs(visible)) == 2
    hidden = ('<div class="cell tag_hide-input docutils container">\n<details class="admonition hide above-input">'
              '\n<summary aria-label="Toggle hidden content">\n<p class="collapsed admonition-title">Show code cell '
              'source</p>\n</summary>\n<div class="cell_input docutils container">\n<div class="highlight-ipython3 '
              'notranslate"><div class="highlight"><pre><span></span><span class="o">%</span><span class="k">'
              'matplotlib</span> inline\n</pre></div></div></div></details></div>')
    assert setup_inputs(hidden) == []


@pytest.mark.parametrize("page", [p for p in TOC_PAGES if p != "index.html"])
def test_no_visible_setup_cells(page: str, book_html: Path) -> None:
    path = book_html / page
    if not path.is_file():
        pytest.fail(f"{page} was not built", pytrace=False)
    visible = setup_inputs(path.read_text(encoding="utf-8"))
    assert not visible, (f"{page}: setup cells shown to the reader (tag them hide-input, or remove-input "
                         f"for a bare panel call): {visible}")


def test_course_table_links_every_chapter(book_html: Path) -> None:
    html = (book_html / "book" / "course.html").read_text(encoding="utf-8")
    # the (first) week-by-week schedule: its rows are weeks, its second column the chapters of each week
    table = next((t for t in re.finditer(r"<table.*?</table>", html, re.DOTALL)
                  if re.search(r"<th[^>]*>\s*(<p>)?\s*week\b", t.group(0), re.IGNORECASE)), None)
    assert table, "no week-by-week schedule table on the course page"
    # The chapters column (the second): every chapter it names is a link.
    unlinked = []
    for row in re.findall(r"<tr.*?</tr>", table.group(0), re.DOTALL)[1:]:
        cells = re.findall(r"<td.*?</td>", row, re.DOTALL)
        if len(cells) > 1:
            text = re.sub(r"<[^>]+>", " ", re.sub(r"<a\b.*?</a>", "", cells[1], flags=re.DOTALL))
            unlinked += re.findall(r"\bchapters? \d+[^,;]{0,30}", text, flags=re.IGNORECASE)
    missing = [d for d in toc_docnames() if re.match(r"book/ch0\d_", d)
               and f'href="{d.removeprefix("book/")}.html' not in table.group(0)]
    assert not missing, f"chapters without a link in the course table: {missing}"
    assert not unlinked, f"chapters named without a link in the course table: {unlinked}"


def test_one_search_box(book_html: Path, math_browser: MathBrowser) -> None:
    """The landing page (and any chapter) shows one search field at the desktop layout."""
    for page in ("book/intro.html", "book/ch06_transfer_theory.html"):
        boxes = math_browser.visit(page)["search_boxes"]
        assert len(boxes) == 1, f"{page}: {len(boxes)} search boxes: {boxes}"


@pytest.mark.parametrize("page", [p for p in TOC_PAGES if p != "index.html"])
def test_tables_fit_the_content_column(page: str, book_html: Path, math_browser: MathBrowser) -> None:
    """At 1280 px no table is wider than the column it is shown in (no sideways scrolling)."""
    if not (book_html / page).is_file():
        pytest.fail(f"{page} was not built", pytrace=False)
    wide = math_browser.visit(page)["wide_tables"]
    assert not wide, f"{page}: tables wider than their column: {wide}"
