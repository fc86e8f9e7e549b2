"""Time to the first slider panel of the built website (issue 18): how long a reader waits, after navigating to
a chapter, until its first slider panel shows a slider and a figure, and until that slider works.

    python benchmarks/bench_first_widget.py [--html _build/html ...] [--repeat 3] [--json out.json]

With several ``--html`` sites (e.g. the builds before and after a change) their navigations are interleaved, so
that a change of machine load hits all of them alike.

Method: the site is served on 127.0.0.1 (tests/site_utils.py ``served_chromium``: Debian's Chromium driven by
Playwright, nothing reachable but 127.0.0.1), viewport 1280 x 900. Every navigation opens a fresh browser
context (empty cache: a first visit). A script injected before the page's own scripts polls, at every animation
frame and every 10 ms, for

* **visible**: a slider panel with a visible slider and a decoded figure in it, in either form the book has had:
  the ipywidgets panel (``.widget-slider`` plus an ``<img>`` in the same cell output, rendered by the
  @jupyter-widgets/html-manager) or the plain HTML panel (``.tflmini-panel`` with an ``<input type="range">``
  and its ``img.tflmini-panel-frame``);
* **interactive**: the same panel ready to switch frames (the ipywidgets view: as soon as it is rendered; the
  HTML panel: once ``tflmini-panels.js`` has set it up);

and records ``performance.now()`` (ms since the navigation started). The Performance timeline of the same
navigation gives where the time goes: DOMContentLoaded, the load event, the end of the download of the page,
of require.js / embed-amd.js (the widget manager) and of MathJax. Reported: the median over ``--repeat``
navigations per page (the pages interleaved, so that a change of machine load hits all of them alike).
A measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _common import ROOT, loadavg, log, write_json  # noqa: E402

PAGES = ("book/ch02_bayesian_networks.html", "book/ch04_kernel_renormalization.html",
         "book/ch07_when_transfer_helps.html", "book/ch08_real_data.html")
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 120_000

# Injected before any script of the page (context.add_init_script).
WATCH_JS = r"""(() => {
  const marks = window.__tflminiFirstPanel = {visible: null, interactive: null};
  const shown = el => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const decoded = img => shown(img) && img.complete && img.naturalWidth > 0;
  function check() {
    const now = performance.now();
    for (const panel of document.querySelectorAll('.tflmini-panel')) {
      const range = panel.querySelector('input[type="range"]');
      if (shown(range) && decoded(panel.querySelector('img.tflmini-panel-frame'))) {
        if (marks.visible === null) { marks.visible = now; }
        if (marks.interactive === null && panel.dataset.tflminiReady) { marks.interactive = now; }
      }
    }
    for (const slider of document.querySelectorAll('.widget-slider')) {
      const output = slider.closest('.cell_output') || slider.parentElement;
      if (shown(slider) && [...output.querySelectorAll('img')].some(decoded)) {
        if (marks.visible === null) { marks.visible = now; }
        if (marks.interactive === null) { marks.interactive = now; }
      }
    }
    return marks.visible !== null && marks.interactive !== null;
  }
  // every animation frame (while the page renders) and every 10 ms (also when no frame is drawn)
  const frame = () => { if (!check()) { requestAnimationFrame(frame); } };
  const timer = setInterval(() => { if (check()) { clearInterval(timer); } }, 10);
  frame();
})()"""

TIMELINE_JS = r"""() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const end = pattern => {
    const hits = performance.getEntriesByType('resource').filter(r => pattern.test(r.name));
    return hits.length ? Math.max(...hits.map(r => r.responseEnd)) : null;
  };
  return {
    response_end_ms: nav.responseEnd, dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    load_ms: nav.loadEventEnd, page_bytes: nav.transferSize || nav.encodedBodySize,
    widget_manager_ms: end(/embed-amd\.js|require\.js/), mathjax_ms: end(/mathjax\/tex-mml-chtml\.js/),
    panels_js_ms: end(/tflmini-panels\.js/),
    visible_ms: window.__tflminiFirstPanel.visible, interactive_ms: window.__tflminiFirstPanel.interactive,
  };
}"""


def measure(chromium, server, page_path: str) -> dict:
    """One navigation in a fresh context: the first panel's visible / interactive times and the timeline (ms)."""
    context = chromium.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        context.add_init_script(WATCH_JS)
        page = context.new_page()
        page.goto(server.url(page_path), wait_until="load")
        page.wait_for_function("() => window.__tflminiFirstPanel.interactive !== null", timeout=TIMEOUT_MS,
                               polling=50)
        return page.evaluate(TIMELINE_JS)
    finally:
        context.close()


def run(html_dir: Path, pages=PAGES, repeat: int = 3, others=()) -> dict | list[dict]:
    """The medians of ``repeat`` navigations to each page of the site ``html_dir`` (and of each site of
    ``others``, interleaved with it: then a list of results, one per site)."""
    import contextlib

    from site_utils import SiteServer, served_chromium

    sites = [Path(html_dir), *map(Path, others)]
    runs = [{p: [] for p in pages} for _ in sites]
    load_before = loadavg()
    with served_chromium(sites[0]) as (first, chromium), contextlib.ExitStack() as stack:
        servers = [first, *(stack.enter_context(SiteServer(site)) for site in sites[1:])]
        for server in servers:
            measure(chromium, server, pages[0])  # warm-up (the browser process, the server), not counted
        for _ in range(repeat):
            for page_path in pages:
                for server, site_runs in zip(servers, runs):
                    site_runs[page_path].append(measure(chromium, server, page_path))
    load_after = loadavg()
    results = [_summary(site, site_runs, repeat, load_before, load_after) for site, site_runs in zip(sites, runs)]
    return results if others else results[0]


def _summary(html_dir, runs, repeat, load_before, load_after) -> dict:
    out = {"html": str(html_dir), "repeat": repeat, "viewport": VIEWPORT, "load_before": load_before,
           "load_after": load_after, "pages": {}}
    for page_path, items in runs.items():
        def median(key):
            values = [r[key] for r in items if r.get(key) is not None]
            return statistics.median(values) if values else None

        keys = ("visible_ms", "interactive_ms", "response_end_ms", "dom_content_loaded_ms", "load_ms",
                "widget_manager_ms", "mathjax_ms", "panels_js_ms", "page_bytes")
        out["pages"][page_path] = {"median": {k: median(k) for k in keys}, "runs": items}
    return out


def report(result: dict) -> None:
    log(f"time to the first slider panel, {result.get('label') or result['html']} (median of {result['repeat']}, ms since navigation start; "
        f"load average {result['load_before'][0]:.2f} -> {result['load_after'][0]:.2f})")
    log(f"  {'page':40s} {'visible':>8s} {'interact':>8s} {'DCL':>7s} {'load':>7s} {'manager':>8s} {'MathJax':>8s} "
        f"{'MB':>5s}")
    for page_path, item in result["pages"].items():
        m = item["median"]

        def ms(key):
            return f"{m[key]:8.0f}" if m[key] is not None else f"{'-':>8s}"

        log(f"  {Path(page_path).name:40s} {ms('visible_ms')} {ms('interactive_ms')} {ms('dom_content_loaded_ms')[1:]} "
            f"{ms('load_ms')[1:]} {ms('widget_manager_ms')} {ms('mathjax_ms')} {m['page_bytes'] / 1e6:5.1f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", type=Path, nargs="+", default=[ROOT / "_build" / "html"],
                    help="built site(s) (default _build/html); several: interleaved")
    ap.add_argument("--repeat", type=int, default=3, help="navigations per page (median)")
    ap.add_argument("--pages", default=",".join(PAGES), help="comma-separated pages of the site")
    ap.add_argument("--label", nargs="+", default=None, help="a name for each site in the JSON (e.g. a commit)")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    for site in args.html:
        if not (site / "index.html").is_file():
            ap.error(f"--html {site}: no built site there (make book)")
    labels = args.label or [str(site) for site in args.html]
    if len(labels) != len(args.html):
        ap.error("give one --label per --html site")
    results = run(args.html[0], tuple(p for p in args.pages.split(",") if p), args.repeat, others=args.html[1:])
    results = results if isinstance(results, list) else [results]
    for label, result in zip(labels, results):
        result["label"] = label
        report(result)
    if args.json is not None:
        write_json(args.json, {"sites": results})
        log(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
