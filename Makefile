# Treffpunkt — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
LOCALES := src/treffpunkt/locale
SQLITE_TEST_URL := sqlite:///$(CURDIR)/.test-data/test.sqlite3
POSTGRES_TEST_URL ?= $(or $(TREFFPUNKT_TEST_POSTGRES_URL),postgresql://postgres@127.0.0.1:5432/treffpunkt_test)

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	    rm -rf $(VENV); \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "Installing python3-venv (Debian ships venv separately)"; \
	      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
	    else \
	      echo "error: '$(PYTHON) -m venv' failed. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; \
	    fi; }; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

.PHONY: install
install: $(STAMP) ## Create .venv and install Treffpunkt with its development tools

.PHONY: messages
messages: $(STAMP) ## Extract translatable strings and update the de/en catalogues
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -o $(LOCALES)/messages.pot src templates
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete

.PHONY: run
run: install ## Migrate, load demo data and serve on http://127.0.0.1:8000 (SQLite)
	$(BIN)/treffpunkt migrate
	$(BIN)/treffpunkt demo
	@echo
	@echo "  Catalogue:      http://$(HOST):$(PORT)/events"
	@echo "  API:            http://$(HOST):$(PORT)/api/v1/events"
	@echo "  OpenAPI:        http://$(HOST):$(PORT)/schema/openapi.json"
	@echo "  Organiser login http://$(HOST):$(PORT)/login  demo@treffpunkt.example / treffpunkt-demo"
	@echo
	$(BIN)/treffpunkt serve --host $(HOST) --port $(PORT)

.PHONY: screenshots
screenshots: install ## Retake the README's screenshots from the demo data (needs Debian's chromium)
	$(BIN)/python docs/screenshots.py

.PHONY: lint
lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check src tests bench docs piccolo_conf.py hatch_build.py
	$(BIN)/ruff format --check src tests bench docs piccolo_conf.py hatch_build.py

.PHONY: format
format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench docs piccolo_conf.py hatch_build.py
	$(BIN)/ruff format src tests bench docs piccolo_conf.py hatch_build.py

.PHONY: typecheck
typecheck: $(STAMP) ## mypy (strict) on src/
	$(BIN)/mypy

.PHONY: test
test: install lint typecheck migrations-check ## Lint, type-check and run the tests on SQLite, then on PostgreSQL if reachable
	@echo "== tests on SQLite"
	@rm -rf .test-data && mkdir -p .test-data
	TREFFPUNKT_DATABASE_URL=$(SQLITE_TEST_URL) $(BIN)/pytest
	@if $(BIN)/python .ci/db_reachable.py '$(POSTGRES_TEST_URL)'; then \
	  echo "== tests on PostgreSQL ($(POSTGRES_TEST_URL))"; \
	  TREFFPUNKT_DATABASE_URL='$(POSTGRES_TEST_URL)' $(BIN)/pytest; \
	elif [ -n "$$TREFFPUNKT_TEST_REQUIRE_POSTGRES" ]; then \
	  echo "error: PostgreSQL is required but not reachable at $(POSTGRES_TEST_URL)"; exit 1; \
	else \
	  echo "== SKIPPED the PostgreSQL run: nothing answers at $(POSTGRES_TEST_URL)"; \
	  echo "   (start PostgreSQL or set TREFFPUNKT_TEST_POSTGRES_URL)"; \
	fi

.PHONY: migrations-check
migrations-check: $(STAMP) ## Fail if a table changed without a migration
	$(BIN)/python .ci/migrations_check.py

.PHONY: bench
bench: install ## The benchmark on PostgreSQL (installs wrk if missing); see docs/performance.md
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py

.PHONY: bench-smoke
bench-smoke: install ## Every benchmark scenario for a few seconds on tiny data (runs in CI)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py --smoke

.PHONY: clean
clean: ## Remove the virtualenv, caches and local databases
	rm -rf $(VENV) .test-data .pytest_cache .mypy_cache .ruff_cache treffpunkt.sqlite3*
