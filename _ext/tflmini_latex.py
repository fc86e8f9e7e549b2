"""The printable book (``make pdf``, Sphinx's LaTeX builder): references to exercises in other chapters.

sphinx-exercise writes an exercise into LaTeX with the label ``exercise:<label>`` and turns a ``{numref}``
to it *from the same page* into a link to that label showing the resolved text ("Exercise 1.1"). A
``{numref}`` from *another* page keeps Sphinx's form, a link plus ``\\ref`` to ``<page>:<label>``, a LaTeX
label that nothing defines: the PDF then printed "Exercise ??" (in the course page and in chapters citing
another chapter's exercise). This post-transform gives those references sphinx-exercise's same-page form.
It only acts on LaTeX builds and leaves the website alone.
"""

from __future__ import annotations

from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform


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


def setup(app):
    app.add_post_transform(CrossPageExerciseReferences)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
