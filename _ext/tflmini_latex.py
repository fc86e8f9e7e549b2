"""The printable book (``make pdf``, Sphinx's LaTeX builder): two post-transforms, for LaTeX builds only
(the website is left alone).

**References to exercises in other chapters.** sphinx-exercise writes an exercise into LaTeX with the label ``exercise:<label>`` and turns a ``{numref}``
to it *from the same page* into a link to that label showing the resolved text ("Exercise 1.1"). A
``{numref}`` from *another* page keeps Sphinx's form, a link plus ``\\ref`` to ``<page>:<label>``, a LaTeX
label that nothing defines: the PDF then printed "Exercise ??" (in the course page and in chapters citing
another chapter's exercise). :class:`CrossPageExerciseReferences` gives those references sphinx-exercise's
same-page form.

**HTML outputs.** LaTeX cannot show a code cell's HTML output, and myst-nb would print its text repr instead
("<IPython.core.display.HTML object>"). The book's configuration makes the LaTeX build take such an output's
HTML (``nb_mime_priority_overrides`` in _config.yml: after PNG, LaTeX and Markdown, before plain text), and
:class:`HtmlOutputsToNodes` turns it into document nodes: paragraphs and tables with italic, bold, code,
sub- and superscript text (what the performance appendix writes). Any other markup is reported as a warning
(``make pdf`` fails on warnings) instead of being dropped. A widget view (also raw HTML) is left for LaTeX
to skip: a slider panel prints through its default-frame output.
"""

from __future__ import annotations

from html.parser import HTMLParser

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

INLINE = {"i": nodes.emphasis, "em": nodes.emphasis, "b": nodes.strong, "strong": nodes.strong,
          "code": nodes.literal, "sub": nodes.subscript, "sup": nodes.superscript}
VOID = {"br"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class _Element:
    def __init__(self, tag):
        self.tag, self.children = tag, []


class _TreeBuilder(HTMLParser):
    """The HTML as a tree of :class:`_Element` (tags) and str (text); unknown tags are kept for the caller
    to report."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Element(None)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = _Element(tag)
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not any(e.tag == tag for e in self.stack[1:]):
            raise ValueError(f"</{tag}> closes no open tag")
        while self.stack.pop().tag != tag:
            pass

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def _inline(element):
    """Docutils inline nodes for the children of ``element``."""
    out = []
    for child in element.children:
        if isinstance(child, str):
            out.append(nodes.Text(child))
        elif child.tag in VOID:
            out.append(nodes.Text(" "))
        elif child.tag in INLINE:
            node = INLINE[child.tag]()
            node.extend(_inline(child))
            out.append(node)
        else:
            raise ValueError(f"<{child.tag}> inside text")
    return out


def _rows(element):
    for child in element.children:
        if isinstance(child, _Element):
            if child.tag == "tr":
                yield [c for c in child.children if isinstance(c, _Element)]
            else:
                raise ValueError(f"<{child.tag}> in a table section")


def _table(element):
    """A docutils table from ``<table>`` with an optional ``<caption>``, ``<thead>`` and ``<tbody>``."""
    caption, head, body = None, [], []
    for child in element.children:
        if isinstance(child, str):
            if child.strip():
                raise ValueError("text directly inside <table>")
        elif child.tag == "caption":
            caption = child
        elif child.tag == "thead":
            head = list(_rows(child))
        elif child.tag == "tbody":
            body = list(_rows(child))
        else:
            raise ValueError(f"<{child.tag}> in <table>")
    ncols = max(len(row) for row in head + body)
    table = nodes.table()
    if caption is not None:
        table += nodes.title("", "", *_inline(caption))
    group = nodes.tgroup(cols=ncols)
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in range(ncols))
    for rows, section in ((head, nodes.thead()), (body, nodes.tbody())):
        if not rows:
            continue
        for cells in rows:
            row = nodes.row()
            for cell in cells:
                if cell.tag not in ("td", "th"):
                    raise ValueError(f"<{cell.tag}> in a table row")
                row += nodes.entry("", nodes.paragraph("", "", *_inline(cell)))
            row.extend(nodes.entry("", nodes.paragraph()) for _ in range(ncols - len(cells)))
            section += row
        group += section
    return table


def html_to_nodes(html: str) -> list[nodes.Element]:
    """Docutils block nodes for a fragment of HTML made of ``<p>`` paragraphs, ``<table>`` tables and text
    (with the inline tags of ``INLINE``); ValueError names any other markup."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    blocks, loose = [], []
    for child in builder.root.children + [None]:  # None: the end, where loose text is flushed too
        if isinstance(child, str) or (child is not None and (child.tag in INLINE or child.tag in VOID)):
            loose.append(child)
            continue
        if any(not isinstance(c, str) or c.strip() for c in loose):  # text outside <p>: a paragraph
            holder = _Element(None)
            holder.children = loose
            blocks.append(nodes.paragraph("", "", *_inline(holder)))
        loose = []
        if child is None:
            break
        if child.tag == "p":
            blocks.append(nodes.paragraph("", "", *_inline(child)))
        elif child.tag == "table":
            blocks.append(_table(child))
        else:
            raise ValueError(f"<{child.tag}>")
    return blocks


class CrossPageExerciseReferences(SphinxPostTransform):
    """``number_reference`` nodes that point (``refuri``) at another page's numbered exercise become
    sphinx-exercise's LaTeX exercise reference, labelled by the exercise's label."""

    default_priority = 21  # before sphinx-exercise's own reference transform (22), so it renders them
    formats = ("latex",)

    def run(self, **kwargs):
        from sphinx_exercise.nodes import exercise_enumerable_node, exercise_latex_number_reference

        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for node in list(self.document.findall(addnodes.number_reference)):
            refuri = node.get("refuri", "")
            if node.get("refid") or "#" not in refuri:
                continue
            label = refuri.rsplit("#", 1)[1]
            target = registry.get(label)
            if target is None or not isinstance(target.get("node"), exercise_enumerable_node):
                continue
            new = exercise_latex_number_reference()
            new.attributes = dict(node.attributes, refid=label)
            new.extend(node.children)
            node.replace_self(new)


#: how the web view of a static slider panel (tflmini.widgets.panel.Panel.static_html) begins
STATIC_PANEL = '<div class="tflmini-panel"'


class HtmlOutputsToNodes(SphinxPostTransform):
    """A code cell's HTML output (a raw HTML node in a ``cell_output`` container) becomes paragraphs and
    tables; a widget view is left as it is."""

    default_priority = 200
    formats = ("latex",)

    def run(self, **kwargs):
        for raw in list(self.document.findall(nodes.raw)):
            if "html" not in raw.get("format", "").split() or WIDGET_VIEW in raw.astext():
                continue
            if not any("cell_output" in p.get("classes", ()) for p in _ancestors(raw)):
                continue
            if raw.astext().lstrip().startswith(STATIC_PANEL):
                # a static slider panel's web view: the PDF prints its default frame from the panel's next
                # output (the PNG beside the noscript fallback, Panel._ipython_display_)
                raw.parent.remove(raw)
                continue
            try:
                blocks = html_to_nodes(raw.astext())
            except ValueError as error:
                logger.warning("an HTML output the PDF cannot print (%s): %.80s", error, raw.astext(),
                               location=raw, type="tflmini", subtype="latex_html")
                continue
            raw.replace_self(blocks)


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def setup(app):
    app.add_post_transform(CrossPageExerciseReferences)
    app.add_post_transform(HtmlOutputsToNodes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
