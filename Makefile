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
.PHONY: help html gettext intl livehtml test bench clean deps

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

clean: ## Remove the build output (keeps .venv and node_modules)
	rm -rf $(BUILDDIR)
	find locales -name '*.mo' -delete

FORCE:
