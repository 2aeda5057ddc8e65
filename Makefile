# `make run` and `make test` work on a fresh machine: each creates .venv and installs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/planner run instances/eu-2026 --out results/eu-2026/base

test: $(STAMP)
	$(BIN)/ruff check planner models tests bench
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/bench_run.py

clean:
	rm -rf $(VENV) results .pytest_cache
