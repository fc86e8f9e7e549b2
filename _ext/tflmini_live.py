"""Live Code (Thebe) that works offline, or says at once why it cannot (registered in _config.yml).

sphinx-thebe 0.3.1 writes ``const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"`` into
every page, and its ``initThebe()`` (the launch menu's "Live Code") loads that URL: offline the page
said "Loading thebe from CDN..." forever. This extension

* points ``THEBE_JS_URL`` of every page at the copy of thebe served with the site,
  ``_static/thebe/index.js`` (npm ``thebe``, fetched and checksum-verified by ``make vendor`` into
  ``_vendor/static/thebe``; the npm registry has 0.9.x only, whose bundle still offers the
  ``thebelab.on`` / ``thebelab.bootstrap`` API that ``sphinx-thebe.js`` calls);
* adds ``tflmini-live.js`` (``_ext/tflmini_live_static``), which wraps "Live Code" and decides where
  the kernel comes from before thebe starts:

  - a page served by ``make live`` (``python _ext/tflmini_live.py``) finds ``tflmini-live.json`` at the
    site root, naming the local Jupyter server that the same command started: thebe connects to it
    (``useBinder: false`` + ``serverSettings``, a second ``text/x-thebe-config`` block that thebe
    merges over sphinx-thebe's);
  - a page served from this machine without that file (a plain local build), or any page whose
    kernel does not answer within a few seconds, shows a message with what to do instead
    (``make live``, Binder, Colab, the notebook download): no request leaves the machine unless the
    reader chooses Binder from the message;
  - on the published site, Live Code starts a kernel on Binder as before, after a quick check that
    the BinderHub answers at all (offline, the message shows instead of a spinner forever).

``python _ext/tflmini_live.py [--site _build/html] [--port 8000] [--jupyter-port 8888]`` (``make live``)
serves the built site on 127.0.0.1 and starts a token-less Jupyter server on 127.0.0.1 only, in the
repository (so kernels start in the page's folder, as the build executed it), that accepts the site's
origin (``allow_origin``) and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

STATIC_DIR = Path(__file__).with_name("tflmini_live_static")
THEBE_STATIC = "thebe/index.js"  # inside html_static_path (_vendor/static/thebe, `make vendor`)
LIVE_CONFIG_NAME = "tflmini-live.json"  # served at the site root by `make live` only
_THEBE_URL_RE = re.compile(r'(const THEBE_JS_URL = )"[^"]*"')


# --- Sphinx extension ---------------------------------------------------------------------------


def _add_static(app) -> None:
    app.config.html_static_path.append(str(STATIC_DIR))
    if not any(Path(app.confdir, p, THEBE_STATIC).is_file() for p in app.config.html_static_path):
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "[tflmini_live] %s is in no html_static_path folder: run `make vendor` (Live Code would "
            "load thebe from a CDN)", THEBE_STATIC)


def _local_thebe_url(app, pagename, templatename, context, doctree) -> None:
    """Rewrite sphinx-thebe's inline ``const THEBE_JS_URL = "..."`` to the page's path of the local copy."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list) or "pathto" not in context:
        return
    url = context["pathto"]("_static/" + THEBE_STATIC, 1)
    for i, script in enumerate(scripts):
        attributes = getattr(script, "attributes", None)
        body = (attributes or {}).get("body", "")
        if "THEBE_JS_URL" in body:
            new_body = _THEBE_URL_RE.sub(lambda m: m.group(1) + json.dumps(url), body)
            # A new object: the builder shares its script list between pages.
            scripts[i] = type(script)(script.filename, priority=script.priority,
                                      **{**attributes, "body": new_body})


def _default_live_config(app, exception) -> None:
    """``tflmini-live.json`` saying "no local server" (``make live`` serves its own): no 404 on a plain server."""
    if exception is None and app.builder.format == "html":
        Path(app.outdir, LIVE_CONFIG_NAME).write_text("{}\n", encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _add_static)
    app.connect("build-finished", _default_live_config)
    # Before tflmini_book's _dedupe_scripts (950), which compares the scripts' bodies.
    app.connect("html-page-context", _local_thebe_url, priority=940)
    app.add_js_file("tflmini-live.js", priority=520, defer="defer")
    app.add_css_file("tflmini-live.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}


# --- `make live`: the built site + a local Jupyter server -----------------------------------------


def free_port(preferred: int = 0) -> int:
    """``preferred`` if it is free on 127.0.0.1 (0: any free port)."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    live_config: bytes = b"{}"

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        if path.endswith("/" + LIVE_CONFIG_NAME):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(self.live_config)))
            self.end_headers()
            self.wfile.write(self.live_config)
            return
        if path == "/favicon.ico" and not Path(self.directory, "favicon.ico").exists():
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


class LiveSite:
    """The built site on http://127.0.0.1:<site_port>/ plus a Jupyter server on <jupyter_port>.

    A context manager (used by ``make live`` and tests/test_live_code.py). The Jupyter server runs
    token-less, bound to 127.0.0.1, in ``root`` (the repository), and accepts requests and
    websockets from the site's origin only.
    """

    def __init__(self, site: Path, root: Path, site_port: int = 0, jupyter_port: int = 0,
                 python: str = sys.executable, log=None) -> None:
        self.site, self.root, self.python, self.log = Path(site), Path(root), python, log
        self.jupyter_port = free_port(jupyter_port)
        self.jupyter_url = f"http://127.0.0.1:{self.jupyter_port}/"
        handler = type("Handler", (_SiteHandler,), {"live_config": json.dumps({
            "baseUrl": self.jupyter_url,
            "wsUrl": f"ws://127.0.0.1:{self.jupyter_port}/",
            "token": "",
        }).encode()})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", free_port(site_port)), functools.partial(handler, directory=str(self.site)))
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.jupyter: subprocess.Popen | None = None

    def jupyter_command(self) -> list[str]:
        origin = self.base.rstrip("/")
        return [
            self.python, "-m", "jupyter_server", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.jupyter_port}",
            "--ServerApp.port_retries=0", f"--ServerApp.root_dir={self.root}",
            "--IdentityProvider.token=", "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",  # thebe's requests carry no XSRF cookie
            f"--ServerApp.allow_origin={origin}",  # the site (another port: another origin)
            "--ServerApp.allow_credentials=False",
            "--ServerApp.allow_remote_access=False",
            "--ServerApp.open_browser=False",
            "--ServerApp.terminals_enabled=False",  # the pages need kernels only
        ] + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])

    def __enter__(self) -> LiveSite:
        env = dict(os.environ)
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        self.jupyter = subprocess.Popen(self.jupyter_command(), cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        threading.Thread(target=self.httpd.serve_forever, name="live-site", daemon=True).start()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the Jupyter server answers (``/api``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.jupyter is not None and self.jupyter.poll() is not None:
                raise RuntimeError(f"the Jupyter server exited with {self.jupyter.returncode}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.jupyter_url + "api", timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.2)
        raise TimeoutError(f"the Jupyter server did not answer at {self.jupyter_url} within {timeout:.0f} s")

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.jupyter is not None and self.jupyter.poll() is None:
            self.jupyter.send_signal(signal.SIGINT)  # lets the server shut its kernels down
            try:
                self.jupyter.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.jupyter.pid, signal.SIGKILL)
                self.jupyter.wait()


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description="Serve the built book with live code on a local Jupyter server.")
    parser.add_argument("--site", type=Path, default=root / "_build" / "html", help="the built site (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port of the site on 127.0.0.1 (default %(default)s)")
    parser.add_argument("--jupyter-port", type=int, default=8888, help="port of the Jupyter server (default %(default)s)")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"{args.site}/index.html is missing: build the book first (make book)", file=sys.stderr)
        return 1
    if shutil.which("jupyter-server") is None and not _has_module("jupyter_server"):
        print("jupyter_server is not installed in this environment (make venv-test)", file=sys.stderr)
        return 1
    with LiveSite(args.site, root, args.port, args.jupyter_port, log=sys.stderr) as live:
        live.wait_ready()
        print(f"\nThe book with live code: {live.base}index.html  (Jupyter server: {live.jupyter_url}, "
              f"kernels run in {root})\nOpen a chapter, choose the rocket menu > Live Code. Ctrl-C stops both.\n",
              flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while live.jupyter.poll() is None:
                time.sleep(0.5)
    return 0


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    sys.exit(main())
