"""Launch links and companion notebooks, all from the one repository setting of ``_config.yml``.

* ``test_repository_named_in_one_place``: no file of the repository but ``_config.yml`` names the
  GitHub repository (``repository.url``): a copy published elsewhere changes that one line;
* ``test_launch_urls_built_from_the_setting``: every link of the built site to GitHub, Binder or Colab
  (repository and issue buttons, launch menu, companion notebooks) and every Thebe configuration is
  what the setting (``repository.url``, ``repository.branch``, ``launch_buttons``) gives;
* ``test_companion_notebook_linked``: every chapter with a companion notebook (``notebooks/<chapter>.ipynb``)
  shows a "Companion notebook" box whose download is that notebook, served with the site (on
  Binder, the page's session holds it); every companion notebook belongs to a chapter;
* ``test_companion_notebook_in_browser``: the box is visible in Chromium and its download works
  (screenshot ``_build/screenshots/companion-notebook.png``).

Set ``TFLMINI_SITE_HTML`` to check a site built elsewhere (``book_html`` in tests/conftest.py).
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from site_utils import (
    ROOT,
    book_config,
    built_pages,
    classify,
    docname_to_page,
    executable_docnames,
    is_local_url,
    parse_page,
    served_chromium,
    toc_docnames,
)

SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def site(book_html) -> Path:
    return book_html


def setting() -> dict:
    """What the launch URLs are built from."""
    config = book_config()
    repo = config.get("repository", {}) or {}
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)/?", str(repo.get("url", "")))
    assert match, f"repository.url in _config.yml is not a GitHub repository: {repo.get('url')!r}"
    launch = config.get("launch_buttons", {}) or {}
    return {
        "org": match.group(1),
        "repo": match.group(2),
        "url": f"https://github.com/{match.group(1)}/{match.group(2)}",
        "branch": str(repo.get("branch", "main")),
        "binderhub": str(launch.get("binderhub_url", "")).rstrip("/"),
        "colab": str(launch.get("colab_url", "")).rstrip("/"),
        "ui": {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")],
    }


def binder_url(s: dict, repo_path: str) -> str:
    return f"{s['binderhub']}/v2/gh/{s['org']}/{s['repo']}/{s['branch']}?urlpath={s['ui']}/{repo_path}"


def colab_url(s: dict, repo_path: str) -> str:
    return f"{s['colab']}/github/{s['org']}/{s['repo']}/blob/{s['branch']}/{repo_path}"


def companions() -> dict[str, str]:
    """Docname of a chapter -> repository path of its companion notebook."""
    chapters = {Path(name).name: name for name in toc_docnames()}
    return {chapters[nb.stem]: f"notebooks/{nb.name}" for nb in sorted(NOTEBOOKS.glob("*.ipynb")) if nb.stem in chapters}


def test_repository_named_in_one_place() -> None:
    s = setting()
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(rf"github\.com[/:]{re.escape(s['org'])}/{re.escape(s['repo'])}\b|"
                         rf"\b{re.escape(s['org'])}/{re.escape(s['repo'])}\b(?!\.)", re.IGNORECASE)
    found = []
    for name in files:
        path = ROOT / name
        if name == "_config.yml" or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found, ("the repository is named outside _config.yml (repository.url): derive it from "
                       "the setting instead:\n" + "\n".join(found))


def test_launch_urls_built_from_the_setting(site: Path) -> None:
    s = setting()
    assert s["binderhub"] and s["colab"], "launch_buttons.binderhub_url and colab_url must be set"
    executable = {docname_to_page(d) for d in executable_docnames()}
    problems: list[str] = []
    for page in built_pages(site):
        parsed = parse_page(site / page)
        hrefs = [a.get("href", "") for a in parsed.anchors]
        kinds = set()
        for href in hrefs:
            host = urlsplit(href).netloc
            if href.startswith(s["binderhub"] + "/"):
                kinds.add("binder")
                path = href.partition(f"?urlpath={s['ui']}/")[2]
                if not path or href != binder_url(s, path):
                    problems.append(f"{page}: Binder link not from the setting: {href}")
            elif href.startswith(s["colab"] + "/"):
                kinds.add("colab")
                path = href.partition(f"/blob/{s['branch']}/")[2]
                if not path or href != colab_url(s, path):
                    problems.append(f"{page}: Colab link not from the setting: {href}")
            elif host == "github.com" and page.startswith("book/") and not href.startswith(s["url"]):
                # Links of the chapters' text to other projects are fine; the buttons are checked below.
                continue
            elif href == s["url"]:
                kinds.add("repository")
            elif href.startswith(s["url"] + "/issues/new"):
                kinds.add("issues")
            elif href.startswith(s["url"]):
                problems.append(f"{page}: unexpected link into the repository: {href}")
        if page.startswith("book/"):
            for kind in ("repository", "issues"):
                if kind not in kinds:
                    problems.append(f"{page}: no {kind} button ({s['url']})")
        if page in executable:
            for kind in ("binder", "colab"):
                if kind not in kinds:
                    problems.append(f"{page}: no {kind} launch link")
            html = (site / page).read_text(encoding="utf-8")
            for block in re.findall(r'<script type="text/x-thebe-config">(.*?)</script>', html, re.DOTALL):
                for expected in (f'repo: "{s["org"]}/{s["repo"]}"', f'ref: "{s["branch"]}"'):
                    if expected not in block:
                        problems.append(f"{page}: Thebe configuration lacks {expected}")
    assert not problems, "\n".join(problems)


def test_companion_notebook_linked(site: Path) -> None:
    import nbformat

    s = setting()
    pairs = companions()
    orphans = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if f"notebooks/{p.name}" not in pairs.values())
    assert not orphans, f"companion notebooks of no chapter of _toc.yml (name them like the chapter's file): {orphans}"
    assert pairs, "no companion notebook found in notebooks/"
    problems: list[str] = []
    for docname, repo_path in pairs.items():
        page = docname_to_page(docname)
        if not (site / page).is_file():
            problems.append(f"{page} was not built")
            continue
        anchors = parse_page(site / page).anchors
        downloads = [a["href"] for a in anchors if "tflmini-companion-download" in a.get("class", "")]
        if len(downloads) != 1:
            problems.append(f"{page}: {len(downloads)} companion-notebook download links (expected 1)")
            continue
        target = classify(page, downloads[0])
        served = site / target.path if target.path else None
        if served is None or not served.is_file():
            problems.append(f"{page}: the companion notebook link {downloads[0]} leads to no file of the site")
        elif served.read_bytes() != (ROOT / repo_path).read_bytes():
            problems.append(f"{page}: {downloads[0]} is not {repo_path} as in the repository")
        else:
            nbformat.validate(nbformat.read(served, as_version=4))
        # On Binder the notebook is in the page's session (launch branch of the setting): the box
        # adds no launch link of its own (tests/test_site.py: one Binder and one Colab link a page).
        box = (site / page).read_text(encoding="utf-8").partition('class="tflmini-companion')[2].partition("</div>")[0]
        if s["binderhub"] in box or s["colab"] in box:
            problems.append(f"{page}: the companion box has a launch link of its own")
    assert not problems, "\n".join(problems)


def test_companion_notebook_in_browser(site: Path) -> None:
    docname, repo_path = next(iter(companions().items()))
    page_path = docname_to_page(docname)
    external: list[str] = []
    with served_chromium(site) as (server, browser):
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.on("request", lambda r: None if is_local_url(r.url) else external.append(r.url))
        page.goto(server.url(page_path), wait_until="load")
        box = page.locator(".tflmini-companion")
        box.wait_for(state="visible", timeout=10_000)
        assert "Companion notebook" in box.inner_text()
        box.scroll_into_view_if_needed()
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOT_DIR / "companion-notebook.png"
        page.screenshot(path=str(shot), clip=_around(box.bounding_box(), page.viewport_size))
        href = box.locator("a.tflmini-companion-download").get_attribute("href")
        response = page.request.get(server.url(posixpath.normpath(posixpath.join(posixpath.dirname(page_path), href))))
        assert response.ok and response.body() == (ROOT / repo_path).read_bytes(), f"download of {href} failed"
    assert shot.stat().st_size > 1000
    assert not external, f"requests to other hosts: {external}"


def _around(box: dict, viewport: dict, margin: int = 120) -> dict:
    y = max(0, box["y"] - margin)
    return {"x": 0, "y": y, "width": viewport["width"], "height": min(viewport["height"] - y, box["height"] + 2 * margin)}
