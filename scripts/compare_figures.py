"""Compare the figures of two builds of the book, pixel by pixel.

    python scripts/compare_figures.py BEFORE/_build/html AFTER/_build/html [--json PATH]

For every page, collects the figures a reader sees: the images of executed cells (``<img>`` files under
``_images/``) and every frame of the static slider panels: the frames of their plain-HTML view (the JSON of
``script.tflmini-panel-frames``, ``Panel.static_html``) or, in builds before that view existed, the PNGs of
the ``ImageModel``-s in the page's embedded widget state. Each image is decoded to RGB pixels and hashed, so two builds that encode the same
pixels differently (PNG compression, an alpha channel) still compare equal. A page's figures are compared as
multisets (the widget state does not keep an order). Prints one line per page and exits with status 1 if
any page differs. Used to show that a refactoring left every figure of the book unchanged.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import html
import io
import json
import re
import sys
from pathlib import Path

from PIL import Image

_IMG = re.compile(r'<img[^>]+src="([^"]+\.png)"')
_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)
_PANEL_FRAMES = re.compile(r'<script type="application/json" class="tflmini-panel-frames">(.*?)</script>', re.S)


def pixel_hash(png_bytes):
    """sha256 of the RGB pixels and the size of a PNG image."""
    image = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    return hashlib.sha256(repr(image.size).encode() + image.tobytes()).hexdigest()[:16]


def page_figures(page):
    """{"cells": Counter of pixel hashes, "frames": Counter of pixel hashes} of one built HTML page."""
    text = page.read_text(encoding="utf-8")
    cells = collections.Counter()
    for src in _IMG.findall(text):
        path = (page.parent / html.unescape(src)).resolve()
        if "_images" in path.parts and path.exists():
            cells[pixel_hash(path.read_bytes())] += 1
    frames = collections.Counter()
    for block in _PANEL_FRAMES.findall(text):
        for uri in json.loads(block)["frames"]:
            frames[pixel_hash(base64.b64decode(uri.split(",", 1)[1]))] += 1
    for block in _STATE.findall(text):
        for model in json.loads(block)["state"].values():
            if model.get("model_name") == "ImageModel":
                for buf in model.get("buffers", []):
                    frames[pixel_hash(base64.b64decode(buf["data"]))] += 1
    return {"cells": cells, "frames": frames}


def compare(before, after):
    """Rows (page, kind, n_before, n_after, n_unmatched) for every page of either build."""
    pages = sorted({p.relative_to(before) for p in before.rglob("*.html")} |
                   {p.relative_to(after) for p in after.rglob("*.html")})
    rows = []
    for rel in pages:
        if "_sources" in rel.parts or "_static" in rel.parts:
            continue
        a = page_figures(before / rel) if (before / rel).exists() else {"cells": collections.Counter(),
                                                                        "frames": collections.Counter()}
        b = page_figures(after / rel) if (after / rel).exists() else {"cells": collections.Counter(),
                                                                      "frames": collections.Counter()}
        for kind in ("cells", "frames"):
            n_a, n_b = sum(a[kind].values()), sum(b[kind].values())
            if n_a or n_b:
                unmatched = sum((a[kind] - b[kind]).values()) + sum((b[kind] - a[kind]).values())
                rows.append((str(rel), kind, n_a, n_b, unmatched))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    rows = compare(args.before, args.after)
    for page, kind, n_a, n_b, unmatched in rows:
        status = "same" if unmatched == 0 else f"{unmatched} image(s) differ"
        print(f"{page:45s} {kind:6s} {n_a:4d} -> {n_b:4d}  {status}")
    total = sum(r[2] for r in rows)
    changed = sum(r[4] for r in rows)
    print(f"{total} figures before, {sum(r[3] for r in rows)} after; {changed} unmatched")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("page", "kind", "before", "after", "unmatched"), r)) for r in rows],
                                        indent=1))
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
