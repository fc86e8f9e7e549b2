# Build and test entry points for tflmini and its Jupyter Book.
#
#   make book   - set up .venv (pinned book deps + `pip install -e .`), fetch the vendored JS
#                 assets, build the book into _build/html (fails on any Sphinx warning)
#   make pdf    - install Debian's TeX packages if missing (apt, as root), build the printable book
#                 _build/latex/tflmini.pdf with Jupyter Book's LaTeX builder (fails on any warning)
#   make test   - set up .venv (book + test deps), fetch the vendored assets, install the system
#                 Chromium for the browser tests and TeX for the PDF test if missing (apt, as root),
#                 run pytest on tests/
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
# Thebe ("Live Code" of the launch menu), served from the site instead of sphinx-thebe's unpkg URL
# (_ext/tflmini_live.py points the pages at it). Pinned by version and by the SHA-512 of the npm
# tarball (the registry's `dist.integrity`, in hex): a different tarball stops `make vendor`.
THEBE_VERSION := 0.9.3
THEBE_SHA512 := 45bffb91586d95f7d7adade421eeceb88184edac2c9b6fdf196c70db50e235f9d62e751088397d016a9876c84fc193c6ff90f32e9b0944f8b1db1b423ed26641
THEBE_STAMP := $(VENDOR)/.stamp-thebe$(THEBE_VERSION)
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

# TeX for the printable book (make pdf): Debian's packages, installed with apt as the browser is. Jupyter
# Book's LaTeX builder (sphinx-jupyterbook-latex) runs xelatex through latexmk; the LaTeX packages of
# Sphinx and of the book's extensions are in texlive-latex-recommended/-extra, the text fonts are GNU
# FreeFont (Sphinx's xelatex default), the math font Latin Modern Math, the code font DejaVu Sans Mono
# (its subscripts: Qₛ), see _latex/tflmini.sty.
TEX_PACKAGES := latexmk texlive-xetex texlive-latex-recommended texlive-latex-extra \
    texlive-fonts-recommended fonts-freefont-otf fonts-lmodern fonts-dejavu-core
PDF := _build/latex/tflmini.pdf

.PHONY: help book book-instructor pdf test test-all venv venv-test vendor browser tex live clean distclean

help:
	@echo "make book      build the Jupyter Book into _build/html (-W: warnings are errors)"
	@echo "make book-instructor  build the instructor edition (problem-set solutions and rubrics) into $(INSTRUCTOR)/_build/html"
	@echo "make pdf       build the printable book $(PDF) (installs TeX with apt if missing)"
	@echo "make test      run the test suite (builds the book, executes notebooks)"
	@echo "make test-all  run the test suite including tests marked slow"
	@echo "make live      serve the built book on 127.0.0.1:$(LIVE_PORT) with Live Code on a local Jupyter server"
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

# thebe: lib/ of the npm package (index.js loads its numbered chunks from its own folder; the
# source maps are left out) -> _vendor/static/thebe/ -> _build/html/_static/thebe/.
$(THEBE_STAMP): | $(VENDOR_STAMP)
	command -v npm >/dev/null || { echo "npm is required to fetch the vendored assets" >&2; exit 1; }
	rm -rf $(VENDOR)/thebe.tmp && mkdir -p $(VENDOR)/thebe.tmp/npm
	cd $(VENDOR)/thebe.tmp/npm && $(NPM) pack --silent thebe@$(THEBE_VERSION) >/dev/null
	echo "$(THEBE_SHA512)  $(VENDOR)/thebe.tmp/npm/thebe-$(THEBE_VERSION).tgz" | sha512sum --check --quiet - \
	    || { echo "make vendor: thebe-$(THEBE_VERSION).tgz does not match THEBE_SHA512" >&2; exit 1; }
	tar -xzf $(VENDOR)/thebe.tmp/npm/thebe-$(THEBE_VERSION).tgz -C $(VENDOR)/thebe.tmp/npm
	mkdir -p $(VENDOR)/thebe.tmp/thebe
	cd $(VENDOR)/thebe.tmp/npm/package/lib && cp *.js *.css *.LICENSE.txt ../../../thebe/
	cp $(VENDOR)/thebe.tmp/npm/package/LICENSE* $(VENDOR)/thebe.tmp/thebe/ 2>/dev/null || true
	rm -rf $(VENDOR)/static/thebe && mv $(VENDOR)/thebe.tmp/thebe $(VENDOR)/static/thebe
	rm -rf $(VENDOR)/thebe.tmp $(VENDOR)/.stamp-thebe*
	touch $@

vendor: $(VENDOR_STAMP) $(THEBE_STAMP)

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

# --- TeX for the printable book ------------------------------------------------------------

tex:
	@missing=$$(for p in $(TEX_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done | tr '\n' ' '); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make tex: installing $$missing(apt-get)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then \
	    echo "make tex: installing $$missing(sudo apt-get)"; \
	    sudo -n apt-get update && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	    echo "make tex: the printable book needs Debian's packages: $$missing" >&2; \
	    echo "  Install them as root:  apt-get update && apt-get install -y --no-install-recommends $(TEX_PACKAGES)" >&2; \
	    exit 1; \
	fi; \
	command -v xelatex >/dev/null && command -v latexmk >/dev/null \
	    || { echo "make tex: xelatex or latexmk still missing after installing TeX" >&2; exit 1; }

# --- targets ------------------------------------------------------------------------------

book: venv vendor
	mkdir -p _build
	@# --all: re-read every page, so that warnings of unchanged pages are reported again
	@# (executed notebooks still come from the jupyter-cache in _build/.jupyter_cache).
	$(BIN)/jupyter-book build --all . -W --keep-going 2>&1 | tee _build/build.log
	@if grep -E '(WARNING|ERROR|CRITICAL):' _build/build.log >/dev/null; then \
	    echo "make book: the build reported warnings (see above and _build/build.log)" >&2; exit 1; fi
	@echo "make book: built _build/html/index.html"

# The instructor edition: the book plus the problem-set solutions and rubrics (book/problems/solutions/), which
# the public build never reads. _ext/tflmini_instructor.py writes its _config.yml and _toc.yml (derived from the
# book's, sharing the notebook cache of `make book`); the site is $(INSTRUCTOR)/_build/html.
INSTRUCTOR := _build/instructor

book-instructor: venv vendor
	mkdir -p $(INSTRUCTOR)
	$(BIN)/python _ext/tflmini_instructor.py $(INSTRUCTOR)
	$(BIN)/jupyter-book build --all . -W --keep-going --config $(INSTRUCTOR)/_config.yml --toc $(INSTRUCTOR)/_toc.yml \
	    --path-output $(INSTRUCTOR) 2>&1 | tee $(INSTRUCTOR)/build.log
	@if grep -E '(WARNING|ERROR|CRITICAL):' $(INSTRUCTOR)/build.log >/dev/null; then \
	    echo "make book-instructor: the build reported warnings (see $(INSTRUCTOR)/build.log)" >&2; exit 1; fi
	@echo "make book-instructor: built $(INSTRUCTOR)/_build/html/index.html"

# The printable book: Sphinx's LaTeX builder (-W: Sphinx warnings fail it), then latexmk/xelatex (errors
# fail it). LaTeX only warns about references it cannot resolve (printed "??") and characters no font has
# (printed as nothing), so its log is checked too.
pdf: venv vendor tex
	mkdir -p _build
	$(BIN)/jupyter-book build --all . --builder pdflatex -W --keep-going 2>&1 | tee _build/pdf.log
	@if grep -E '(WARNING|ERROR|CRITICAL):' _build/pdf.log >/dev/null; then \
	    echo "make pdf: the build reported warnings (see above and _build/pdf.log)" >&2; exit 1; fi
	@if grep -E 'There were undefined references|Reference .* undefined|Missing character' $(PDF:.pdf=.log); then \
	    echo "make pdf: LaTeX left references unresolved or characters out (see $(PDF:.pdf=.log))" >&2; exit 1; fi
	@test -s $(PDF) && echo "make pdf: built $(PDF)"

# The built site on http://127.0.0.1:$(LIVE_PORT)/ plus a token-less Jupyter server on 127.0.0.1:$(JUPYTER_PORT)
# (only the site's origin may use it), started in this repository: the pages' Live Code (rocket menu)
# runs their cells on it, in the page's folder, as the build did. Builds the book first if needed.
# Ctrl-C stops both. See README.md, "Live code".
LIVE_PORT ?= 8000
JUPYTER_PORT ?= 8888

live: venv-test vendor
	@test -f _build/html/index.html || $(MAKE) --no-print-directory book
	$(BIN)/python _ext/tflmini_live.py --site _build/html --port $(LIVE_PORT) --jupyter-port $(JUPYTER_PORT)

# Without the browser (no chromium, no root to install it) the other tests still run, and the
# browser tests fail with the same message of what is missing; likewise TeX and tests/test_pdf.py.
test: venv-test vendor
	@$(MAKE) --no-print-directory browser || echo "make test: running the tests anyway; the browser tests will fail" >&2
	@$(MAKE) --no-print-directory tex || echo "make test: running the tests anyway; the PDF tests will fail" >&2
	$(BIN)/python -m pytest tests/ $(PYTEST_ARGS) --timeout=$(PYTEST_TIMEOUT)

test-all: PYTEST_ARGS :=
test-all: test

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) $(VENDOR) $(VENDOR).tmp .pytest_cache .hypothesis
