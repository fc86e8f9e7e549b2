"""The instructor edition of the book: the public book plus the solutions and rubrics of the problem sets.

The public build (``make book``) lists only the problem pages ``book/problems/setN.md`` in ``_toc.yml``; with
``only_build_toc_files`` the solution pages ``book/problems/solutions/setN.md`` are not read at all, so neither
their text nor their executed outputs reach ``_build/html`` (pages, ``_sources`` or the search index).

``make book-instructor`` runs ``python _ext/tflmini_instructor.py OUT`` first, which writes ``OUT/_config.yml``
(the book's configuration, with this module added as a Sphinx extension, the title marked as the instructor
edition and the notebook cache shared with the public build) and ``OUT/_toc.yml`` (the book's table of contents
with each solution page after its problem page), then builds with ``--config``/``--toc`` into ``OUT/_build/html``.

As a Sphinx extension this module adds the ``instructor`` tag, so ``{only} instructor`` blocks can address the
instructor edition.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = "book/problems"
SOLUTIONS = "book/problems/solutions"
EDITION = " (instructor edition)"


def _solution_for(entry_file, root):
    """The solution page of a problem page of the toc (``book/problems/set1`` -> ``.../solutions/set1``), if any."""
    path = Path(entry_file)
    if path.parent.as_posix() != PROBLEMS:
        return None
    candidate = Path(SOLUTIONS) / path.stem
    return candidate.as_posix() if (root / candidate).with_suffix(".md").exists() else None


def _add_solutions(entries, root):
    out = []
    for entry in entries:
        entry = dict(entry)
        for key in ("chapters", "sections"):
            if key in entry:
                entry[key] = _add_solutions(entry[key], root)
        out.append(entry)
        solution = _solution_for(entry["file"], root) if "file" in entry else None
        if solution:
            out.append({"file": solution})
    return out


def instructor_toc(toc, root=ROOT):
    """A copy of the table of contents ``toc`` (dict) with each problem set's solution page right after it."""
    if not isinstance(toc, dict):
        raise TypeError(f"toc must be a dict (a parsed _toc.yml), got {type(toc).__name__}")
    toc = copy.deepcopy(toc)
    root = Path(root)
    for key in ("parts", "chapters"):
        if key in toc:
            if key == "parts":
                toc["parts"] = [dict(part, chapters=_add_solutions(part.get("chapters", []), root))
                                for part in toc["parts"]]
            else:
                toc["chapters"] = _add_solutions(toc["chapters"], root)
    return toc


def instructor_config(config, cache_path, root=ROOT):
    """A copy of the book configuration ``config`` (dict) for the instructor edition, executing notebooks into
    the jupyter-cache at ``cache_path`` (shared with the public build, so unchanged pages are not re-run)."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict (a parsed _config.yml), got {type(config).__name__}")
    config = copy.deepcopy(config)
    config["title"] = str(config.get("title", "")) + EDITION
    config.setdefault("execute", {})["cache"] = str(Path(cache_path).resolve())
    sphinx = config.setdefault("sphinx", {})
    extensions = sphinx.setdefault("local_extensions", {})
    extensions["tflmini_instructor"] = "_ext/"
    # Jupyter Book looks for local extensions next to the configuration file, which is not in the book's folder
    for name, folder in extensions.items():
        if not Path(folder).is_absolute():
            extensions[name] = str(Path(root) / folder)
    return config


def write_instructor_files(out, config_file=ROOT / "_config.yml", toc_file=ROOT / "_toc.yml",
                           cache_path=ROOT / "_build" / ".jupyter_cache", root=ROOT):
    """Write ``out/_config.yml`` and ``out/_toc.yml`` for the instructor build; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(Path(config_file).read_text(encoding="utf-8"))
    toc = yaml.safe_load(Path(toc_file).read_text(encoding="utf-8"))
    paths = out / "_config.yml", out / "_toc.yml"
    paths[0].write_text(yaml.safe_dump(instructor_config(config, cache_path, root), sort_keys=False), encoding="utf-8")
    paths[1].write_text(yaml.safe_dump(instructor_toc(toc, root), sort_keys=False), encoding="utf-8")
    return paths


def _add_tag(app, config):
    app.tags.add("instructor")


def setup(app):
    app.connect("config-inited", _add_tag)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the generated _config.yml and _toc.yml")
    parser.add_argument("--toc", default=str(ROOT / "_toc.yml"), help="table of contents to extend")
    parser.add_argument("--cache", default=str(ROOT / "_build" / ".jupyter_cache"), help="shared jupyter-cache")
    args = parser.parse_args(argv)
    for path in write_instructor_files(args.out, toc_file=args.toc, cache_path=args.cache):
        print(path)


if __name__ == "__main__":
    main()
