# Seer: the one entry point for install, test, bench, demo and lint.
# `make demo` and `make test` work on a fresh clone with nothing but Python 3.11 and the package registries.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.seer-installed
PYTEST := $(PY) -m pytest

.PHONY: install postgres docker-compose test test-slow conformance bench bench-ml bench-sampling demo lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[ml,dev]'
	@touch $(STAMP)

# Makes sure the test PostgreSQL (127.0.0.1:5432, user postgres, database test) is up.
postgres:
	@bash scripts/ensure-postgres.sh

# Debian's docker-compose, for the test that validates docker-compose.yml (no Docker engine needed).
docker-compose:
	@bash scripts/ensure-docker-compose.sh

test: install postgres docker-compose
	$(PYTEST)

test-slow: install postgres
	$(PYTEST) -m slow || [ $$? -eq 5 ]  # 5: no test is marked slow at present

conformance: install postgres
	$(PY) -m tests.conformance --backend sqlite --backend postgres

bench: install postgres
	$(PY) -m bench

bench-ml: install
	$(PY) -m bench ml

bench-sampling: install
	$(PY) -m bench sampling

demo: install
	$(VENV)/bin/seer demo

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
