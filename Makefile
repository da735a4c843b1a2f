# Istio & Envoy Insider: build, translate, preview and test the book.
# `make html` builds both editions into _build/html/{en,zh_CN}; `make test` runs every check.
SHELL      := /bin/bash
PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
SPHINXOPTS ?= -W --keep-going -n
BUILDDIR   ?= _build
LANGS      := en zh_CN
SPHINX     := $(BIN)/sphinx-build -c . -j auto

.DEFAULT_GOAL := help
.PHONY: help html epub pdf offline-deps gettext intl livehtml test bench clean deps lock repin-report repin

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([^:]+):.*## (.*)/  make \1\t\2/' | expand -t 22

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(VENV)/.installed node_modules/.installed ## Create .venv and node_modules (other targets do it for you)

html: $(addprefix html-,$(LANGS)) ## Build both editions into _build/html/{en,zh_CN}
	@cp _templates/site-root.html $(BUILDDIR)/html/index.html
	@echo "Open $(BUILDDIR)/html/index.html (or serve $(BUILDDIR)/html, e.g. python3 -m http.server -d $(BUILDDIR)/html)"

html-%: deps FORCE
	$(SPHINX) -b html -d $(BUILDDIR)/doctrees/$* -D language=$* $(SPHINXOPTS) book $(BUILDDIR)/html/$*

# Offline editions. The PDF needs XeLaTeX with CJK support; tools/ensure-system-deps.sh installs the
# Debian packages (as root) or names them.
offline-deps:
	@bash tools/ensure-system-deps.sh offline

epub: $(addprefix epub-,$(LANGS)) ## Build the EPUB of both editions into _build/epub/{en,zh_CN}/
	@ls -1 $(BUILDDIR)/epub/*/*.epub

epub-%: deps offline-deps FORCE
	$(SPHINX) -b epub -d $(BUILDDIR)/doctrees/epub-$* -D language=$* $(SPHINXOPTS) book $(BUILDDIR)/epub-tree/$*
	@mkdir -p $(BUILDDIR)/epub/$* && cp $(BUILDDIR)/epub-tree/$*/*.epub $(BUILDDIR)/epub/$*/

pdf: $(addprefix pdf-,$(LANGS)) ## Build the PDF of both editions into _build/pdf/{en,zh_CN}/ (XeLaTeX)
	@ls -1 $(BUILDDIR)/pdf/*/*.pdf

pdf-%: deps offline-deps FORCE
	$(SPHINX) -b latex -d $(BUILDDIR)/doctrees/latex-$* -D language=$* $(SPHINXOPTS) book $(BUILDDIR)/latex/$*
	cd $(BUILDDIR)/latex/$* && latexmk -r latexmkrc -pdfxe -interaction=nonstopmode -halt-on-error -quiet $$(ls *.tex) >/dev/null \
	  || { tail -40 $(BUILDDIR)/latex/$*/*.log; echo "pdf-$*: XeLaTeX failed; the log is $(BUILDDIR)/latex/$*/"; exit 1; }
	@mkdir -p $(BUILDDIR)/pdf/$* && cp $(BUILDDIR)/latex/$*/*.pdf $(BUILDDIR)/pdf/$*/

gettext: deps ## Extract messages into _build/gettext (one .pot per page)
	$(SPHINX) -b gettext -d $(BUILDDIR)/doctrees/gettext $(SPHINXOPTS) book $(BUILDDIR)/gettext

intl: gettext ## Update locales/zh_CN/*.po from the English sources (then translate the new entries)
	$(BIN)/sphinx-intl update -p $(BUILDDIR)/gettext -d locales -l zh_CN -w 0 --no-obsolete

livehtml: deps ## Preview with live reload: make livehtml [LANG=zh_CN]
	$(BIN)/sphinx-autobuild -c . -D language=$(or $(LANG),en) --watch locales --watch _ext --watch _templates --watch _static book $(BUILDDIR)/live/$(or $(LANG),en)

test: deps ## Run the whole test suite (what CI runs)
	@bash tools/ensure-system-deps.sh
	$(BIN)/python -m pytest tests

bench: html ## Measure build times and page weight (prints a report; not a test)
	$(BIN)/python tools/benchmark.py

# The source lock (sources.lock.json) needs a git clone or mirror of each pinned tree:
#   make lock ENVOY_GIT=~/src/envoy ISTIO_GIT=~/src/istio PROXY_GIT=~/src/proxy ZTUNNEL_GIT=~/src/ztunnel
# A re-pin names the new refs too: make repin-report ... ISTIO=1.31.0-rc.0 [PROXY=...] [ZTUNNEL=...] [ENVOY=...]
LOCK_GITS = --git envoy=$(ENVOY_GIT) --git istio=$(ISTIO_GIT) --git proxy=$(PROXY_GIT) --git ztunnel=$(ZTUNNEL_GIT)
REPIN_TO  = --to envoy=$(ENVOY) --to istio=$(ISTIO) --to proxy=$(PROXY) --to ztunnel=$(ZTUNNEL)

lock: deps ## Write sources.lock.json from clones of the pinned trees (ENVOY_GIT=… ISTIO_GIT=… PROXY_GIT=… ZTUNNEL_GIT=…)
	$(BIN)/python tools/sourcelock.py lock $(LOCK_GITS)

repin-report: deps ## What moving the pins would change, per page (the clones above, plus e.g. ISTIO=1.31.0-rc.0)
	$(BIN)/python tools/sourcelock.py report $(LOCK_GITS) $(REPIN_TO)

repin: deps ## Move the pins, rewrite moved links, refresh the lock; list changed and gone links (same variables)
	$(BIN)/python tools/sourcelock.py apply $(LOCK_GITS) $(REPIN_TO)

clean: ## Remove the build output (keeps .venv and node_modules)
	rm -rf $(BUILDDIR)
	find locales -name '*.mo' -delete

FORCE:
