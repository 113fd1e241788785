# olist-segments: every target sets up what it needs (virtualenv, profile, warehouse).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR ?= $(CURDIR)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup warehouse warehouse-stop run segment report test test-fast lint docs lineage bench reliability sample clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(BIN)/olist-segments: pyproject.toml requirements.lock adapters/mysql_python/pyproject.toml harness/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e adapters/mysql_python -e . -e harness
	@touch $@

profiles.yml:
	cp profiles.yml.example profiles.yml

setup: $(BIN)/olist-segments profiles.yml warehouse  ## virtualenv + dbt profile + reachable warehouse

warehouse:  ## make sure a MySQL/MariaDB answers (starts our own under .warehouse/ if needed)
	@bash scripts/warehouse.sh

warehouse-stop:  ## stop our own MariaDB (data kept; rm -rf .warehouse afterwards removes it)
	@bash scripts/warehouse.sh stop

run: setup  ## the whole chain: seed → customer_features → segments → downstream marts → snapshot
	$(BIN)/olist-segments run

segment: setup  ## only the segmentation step
	$(BIN)/olist-segments segment

report: setup  ## plots + HTML report of the latest segments (reports/)
	$(BIN)/olist-segments report

lint: $(BIN)/olist-segments  ## ruff + sqlfluff
	$(BIN)/ruff check scripts adapters harness tests benchmarks
	$(BIN)/ruff format --check scripts adapters harness tests benchmarks
	$(BIN)/sqlfluff lint models macros snapshots tests/dbt

test: setup lint  ## lint, then the pytest suite on the real database (both adapter types)
	$(BIN)/pytest

test-fast: setup  ## pytest without the slow fault-injection tests
	$(BIN)/pytest -m "not slow"

docs: setup  ## dbt docs generate (target/index.html)
	$(BIN)/dbt docs generate

lineage: setup  ## regenerate the Mermaid lineage diagram in README.md from the manifest
	$(BIN)/olist-segments lineage --write README.md

bench: setup  ## benchmarks → benchmarks/RESULTS.md (needs ../shared/olist or OLIST_DATA_DIR)
	$(BIN)/python benchmarks/run.py

reliability: setup  ## fault-injection scenarios → docs/reliability.md
	$(BIN)/olist-harness reliability --out docs/reliability.md

sample: $(BIN)/olist-segments  ## regenerate the bundled synthetic sample (deterministic)
	$(BIN)/olist-harness generate-sample seeds/olist_sample

clean:  ## remove build artefacts (not the warehouse)
	rm -rf target logs reports .pytest_cache
