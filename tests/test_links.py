"""Link checker over the built site (``_build/html``), without a browser and without the network.

* ``test_internal_links_resolve``: every local link or resource of every page (``<a href>``,
  ``<link href>``, ``<img src>``, ``<script src>``, meta refresh...) names a file of the site, and its
  ``#fragment``, if any, an ``id`` of the target page. Cross-references, equation references,
  citations, the table of contents, the download buttons... are all such links.
* ``test_cross_references_resolved``: no cross-reference was left unresolved (Sphinx renders one as
  an element of class ``xref`` outside any link: ``{ref}``, ``{doc}``, ``{prf:ref}``...), named
  with its target.
* ``test_no_external_resources``: nothing a page loads by itself (scripts, stylesheets, images,
  iframes) comes from another host: the site works offline.
* ``test_external_links_listed``: the external links (GitHub, Binder, Colab, DOIs...) are listed, with
  the pages that contain them, in ``_build/external_links.txt`` for review. They are not fetched.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from site_utils import built_pages, classify, parse_page

MAX_REPORTED = 40


@pytest.fixture(scope="module")
def pages(book_html: Path) -> list[str]:
    found = built_pages(book_html)
    assert "index.html" in found, f"no index.html in {book_html}"
    return found


def _fmt(problems: list[str]) -> str:
    more = f"\n... and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
    return "\n".join(problems[:MAX_REPORTED]) + more


def test_internal_links_resolve(book_html: Path, pages: list[str]) -> None:
    broken: list[str] = []
    checked = 0
    for page in pages:
        for ref in parse_page(book_html / page).refs:
            target = classify(page, ref.url)
            if target.kind != "local":
                continue
            checked += 1
            where = f"{page}:{ref.line} <{ref.tag} {ref.attr}=\"{ref.url}\">"
            if target.path is None:
                broken.append(f"{where}: points outside the site")
                continue
            file = book_html / target.path
            if not file.is_file():
                broken.append(f"{where}: {target.path} does not exist")
                continue
            if target.fragment and file.suffix == ".html" and target.fragment not in parse_page(file).ids:
                broken.append(f"{where}: no id=\"{target.fragment}\" in {target.path}")
    assert checked > 0, "no internal link found at all: is the site empty?"
    assert not broken, f"{len(broken)} broken internal link(s):\n{_fmt(broken)}"


def test_cross_references_resolved(book_html: Path, pages: list[str]) -> None:
    unresolved = [f"{page}: {item}" for page in pages for item in parse_page(book_html / page).unresolved_xrefs]
    assert not unresolved, "unresolved cross-references:\n" + _fmt(unresolved)


def test_no_external_resources(book_html: Path, pages: list[str]) -> None:
    """Scripts, stylesheets, images... are served by the site itself (no CDN)."""
    external = [
        f"{page}:{ref.line} <{ref.tag} {ref.attr}=\"{ref.url}\">"
        for page in pages
        for ref in parse_page(book_html / page).refs
        if ref.resource and classify(page, ref.url).kind == "external"
    ]
    assert not external, "pages load resources from other hosts (not offline-safe):\n" + _fmt(external)


def test_external_links_listed(book_html: Path, pages: list[str]) -> None:
    """External links go to ``_build/external_links.txt`` (url, then the pages that link to it)."""
    found: dict[str, set[str]] = defaultdict(set)
    for page in pages:
        for ref in parse_page(book_html / page).refs:
            if classify(page, ref.url).kind == "external":
                found[ref.url].add(page)
    report = book_html.parent / "external_links.txt"
    lines = [
        "# External links of the built site (not fetched by the tests): url <TAB> pages",
        f"# {len(found)} distinct url(s) over {len(pages)} page(s)",
    ]
    lines += [f"{url}\t{' '.join(sorted(found[url]))}" for url in sorted(found)]
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Sanity: the repository button is an external link of every page.
    assert any("github.com" in url for url in found), f"no GitHub link found; see {report}"
    malformed = [url for url in found if " " in url or url.startswith("http://localhost")]
    assert not malformed, f"malformed external links: {malformed}"
