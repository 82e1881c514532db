# Every target bootstraps what it needs: a fresh machine has Python 3.11, Node 20 and npm.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install demo test lint typecheck unit contract contract-live bench generate check-generated pull-spec mock regenerate clean docs mutation api-check dist-check

help:
	@echo "make demo             run the main job (local mock unless TOLOKA_API_KEY is set)"
	@echo "make test             lint, type-check, check generated/ and the public API, run every test"
	@echo "make api-check        the public API against api/ (a break needs the version and CHANGELOG.md)"
	@echo "make dist-check       build sdist + wheel, twine check, README quick starts from clean venvs"
	@echo "make generate         regenerate generated/ from openapi/v2-beta.yaml, toloka_ext/_sync/ from _async/"
	@echo "make check-generated  fail if generated/ or toloka_ext/_sync/ differ from their sources"
	@echo "make docs             build the documentation site into site/ (mkdocs --strict: warnings fail)"
	@echo "make pull-spec        pull the v2-beta spec, report changes (ARGS=--file X; ARGS=\"--api v1\": published v1 vs openapi/v1.yaml)"
	@echo "make mock             serve both contracts with Prism on 127.0.0.1 (Ctrl-C stops)"
	@echo "make contract         schemathesis + property tests against Prism and the sandbox"
	@echo "make contract-live    validate the live API through a Prism proxy (needs TOLOKA_API_KEY)"
	@echo "make bench            the clients' throughput, CPU and memory vs toloka-kit and plain httpx, against"
	@echo "                      a minimal server and the sandbox; import time; v2 upload (<= 14 min;"
	@echo "                      ARGS=--quick checks the harness, ~1 min) -> bench/out/v1_create.{md,png,json}"
	@echo "make mutation         mutmut over the pure core, kill rate per module (~1 h; ARGS=\"retry journal\")"

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet -e '.[testing,cli]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: install
	$(PY) scripts/demo.py

test: install lint typecheck check-generated api-check
	$(PY) -m pytest

unit: install
	$(PY) -m pytest -m "not prism"

contract: install
	$(PY) -m pytest tests/contract tests/drift tests/testing/test_schemathesis.py tests/testing/test_schemathesis_asgi.py

bench: $(STAMP)
	$(PY) bench/compare.py $(ARGS)

# Not part of `make test`: an hour of mutants. Runs in scratch copies outside the tree.
mutation: $(STAMP)
	$(PY) scripts/mutation.py --survivors $(ARGS)

contract-live: install
	$(PY) scripts/contract_live.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check toloka_ext scripts tests bench
	$(BIN)/ruff format --check toloka_ext scripts tests bench
	$(BIN)/vulture

typecheck: $(STAMP)
	$(BIN)/mypy

generate: $(STAMP)
	scripts/generate.sh
	$(PY) scripts/gen_sync.py

check-generated: $(STAMP)
	scripts/check_generated.sh
	$(PY) scripts/gen_sync.py --check

# The public API (docs/versioning.md) against the baseline in api/: a break fails unless
# toloka_ext/_version.py and CHANGELOG.md announce it. At a release: ARGS=--write.
api-check: $(STAMP)
	$(PY) scripts/api_check.py $(ARGS)

# What the release workflow publishes, checked as a pip user meets it (offline, ~30 s):
# CI runs it on every push (.ci/run).
dist-check: $(STAMP)
	$(PY) scripts/dist_check.py $(ARGS)

pull-spec: $(STAMP)
	$(PY) scripts/pull_spec.py $(ARGS)

mock: install
	$(PY) scripts/mockserver.py $(ARGS)

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis dist .venv-toloka-kit

regenerate: install
	$(PY) scripts/regenerate.py $(ARGS)

# The documentation site (mkdocs.yml, docs/); warnings are errors.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site
