# Build and test entry points for tflmini and its Jupyter Book.
#
#   make book   - set up .venv (pinned book deps + `pip install -e .`), fetch the vendored JS
#                 assets, build the book into _build/html (fails on any Sphinx warning)
#   make test   - set up .venv (book + test deps), fetch the vendored assets, install the system
#                 Chromium for the browser tests if missing (apt, as root), run pytest on tests/
#
# Everything is idempotent: the venv is only reinstalled when pyproject.toml or
# requirements/*.txt change, and the npm assets only when their pinned versions change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check

# Vendored front-end assets, served from the built site so it works offline (see _config.yml).
# Not called `_static`: Sphinx would inject every .js file under such a folder into every page.
VENDOR := _vendor
MATHJAX_VERSION := 3.2.2
HTML_MANAGER_VERSION := 1.0.6
REQUIREJS_VERSION := 2.3.8
VENDOR_STAMP := $(VENDOR)/.stamp-mathjax$(MATHJAX_VERSION)-htmlmanager$(HTML_MANAGER_VERSION)-requirejs$(REQUIREJS_VERSION)
NPM := npm --no-audit --no-fund --loglevel=error

# Headless browser of the site tests (tests/test_site.py): Debian's chromium, driven by the
# playwright package with this executable (never `playwright install`, which downloads browsers).
# Another Chromium build can be used with `make test CHROMIUM=/path/to/chrome`.
CHROMIUM := /usr/bin/chromium
export TFLMINI_CHROMIUM := $(CHROMIUM)

# Arguments for pytest; "slow" tests (long validation runs) are excluded by default.
PYTEST_ARGS ?= -m "not slow"
PYTEST_TIMEOUT ?= 3600

# Make the venv's kernelspec win over any user-level "python3" kernel, for the book's
# notebook execution and for the tests. Quiet the debugger warning of frozen modules.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export MPLBACKEND := Agg

.PHONY: help book test test-all venv venv-test vendor browser clean distclean

help:
	@echo "make book      build the Jupyter Book into _build/html (-W: warnings are errors)"
	@echo "make test      run the test suite (builds the book, executes notebooks)"
	@echo "make test-all  run the test suite including tests marked slow"
	@echo "make clean     remove _build;  make distclean: also .venv and $(VENDOR)"

# --- Python environment -------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.stamp-book: pyproject.toml requirements/book.txt | $(BIN)/python
	$(PIP) install --quiet -r requirements/book.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tflmini)" >/dev/null
	touch $@

$(VENV)/.stamp-test: pyproject.toml requirements/book.txt requirements/test.txt | $(BIN)/python
	$(PIP) install --quiet -r requirements/test.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tflmini)" >/dev/null
	touch $@ $(VENV)/.stamp-book

venv: $(VENV)/.stamp-book
venv-test: $(VENV)/.stamp-test

# --- vendored npm assets ------------------------------------------------------------------
# static/ -> html_static_path (copied to _build/html/_static/)
# extra/  -> html_extra_path  (copied to _build/html/): icon fonts that the widget manager
#            requests relative to the page, i.e. next to top-level pages and next to book/*.html.

$(VENDOR_STAMP):
	command -v npm >/dev/null || { echo "npm is required to fetch the vendored assets" >&2; exit 1; }
	rm -rf $(VENDOR).tmp && mkdir -p $(VENDOR).tmp/npm $(VENDOR).tmp/static $(VENDOR).tmp/extra
	cd $(VENDOR).tmp/npm && $(NPM) pack --silent \
	    mathjax@$(MATHJAX_VERSION) \
	    @jupyter-widgets/html-manager@$(HTML_MANAGER_VERSION) \
	    requirejs@$(REQUIREJS_VERSION) >/dev/null
	cd $(VENDOR).tmp/npm && for pkg in mathjax jupyter-widgets-html-manager requirejs; do \
	    mkdir -p $$pkg && tar -xzf $$pkg-*.tgz -C $$pkg --strip-components=1; done
	cp -r $(VENDOR).tmp/npm/mathjax/es5 $(VENDOR).tmp/static/mathjax
	cp $(VENDOR).tmp/npm/requirejs/require.js $(VENDOR).tmp/static/require.js
	cp $(VENDOR).tmp/npm/jupyter-widgets-html-manager/dist/embed-amd.js $(VENDOR).tmp/static/embed-amd.js
	for d in @jupyter-widgets @jupyter-widgets/html-manager/dist \
	         book/@jupyter-widgets book/@jupyter-widgets/html-manager/dist; do \
	    mkdir -p $(VENDOR).tmp/extra/$$d; \
	    cp $(VENDOR).tmp/npm/jupyter-widgets-html-manager/dist/*.{woff,woff2,ttf} $(VENDOR).tmp/extra/$$d/; \
	done
	rm -rf $(VENDOR).tmp/npm
	touch $(VENDOR).tmp/$(notdir $(VENDOR_STAMP))
	rm -rf $(VENDOR) && mv $(VENDOR).tmp $(VENDOR)

vendor: $(VENDOR_STAMP)

# --- system browser for the site tests ----------------------------------------------------

browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make browser: installing chromium (apt-get)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then \
	    echo "make browser: installing chromium (sudo apt-get)"; \
	    sudo -n apt-get update && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
	    echo "make browser: $(CHROMIUM) is missing; the browser tests need Debian's chromium." >&2; \
	    echo "  Install it as root:  apt-get update && apt-get install -y chromium" >&2; \
	    echo "  (do not run 'playwright install': the tests use the system chromium)" >&2; \
	    exit 1; \
	fi; \
	test -x $(CHROMIUM) || { echo "make browser: $(CHROMIUM) still missing after installing chromium" >&2; exit 1; }

# --- targets ------------------------------------------------------------------------------

book: venv vendor
	mkdir -p _build
	@# --all: re-read every page, so that warnings of unchanged pages are reported again
	@# (executed notebooks still come from the jupyter-cache in _build/.jupyter_cache).
	$(BIN)/jupyter-book build --all . -W --keep-going 2>&1 | tee _build/build.log
	@if grep -E '(WARNING|ERROR|CRITICAL):' _build/build.log >/dev/null; then \
	    echo "make book: the build reported warnings (see above and _build/build.log)" >&2; exit 1; fi
	@echo "make book: built _build/html/index.html"

# Without the browser (no chromium, no root to install it) the other tests still run, and the
# browser tests fail with the same message of what is missing.
test: venv-test vendor
	@$(MAKE) --no-print-directory browser || echo "make test: running the tests anyway; the browser tests will fail" >&2
	$(BIN)/python -m pytest tests/ $(PYTEST_ARGS) --timeout=$(PYTEST_TIMEOUT)

test-all: PYTEST_ARGS :=
test-all: test

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) $(VENDOR) $(VENDOR).tmp .pytest_cache .hypothesis
