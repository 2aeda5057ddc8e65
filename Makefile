# `make run` and `make test` work on a fresh machine: each creates .venv and installs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint bench clean browser screenshot bytecode

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Our own modules compiled ahead (pip does it for every installed package, not for an editable
# install): where PYTHONDONTWRITEBYTECODE is set, each run would otherwise compile them again
# (about 0.1 s of every `planner` command). Up-to-date files are skipped.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q planner models

run: $(STAMP) bytecode
	$(BIN)/planner run instances/eu-2026 --out results/eu-2026/base

# pytest on both cores, one test file per worker (module fixtures are built once). Installs no
# system package: the browser test skips, saying why, where Chromium is missing (`make browser`,
# which .ci/run calls, installs it). Measured 2026-12-04 on this machine, shared with other
# agents (load 5-17): 10 min 47 s wall before issue 13, 6 min 11 s after; about 5 min of CPU,
# so about 3 min on a quiet machine (bench/README.md, "Issue 13: test suite").
test: $(STAMP) bytecode
	$(BIN)/ruff check planner models tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 --dist loadfile

# The inner loop: lint, types and the `unit` tests (no solver, no
# process; markers in pyproject.toml), in one process: starting two xdist workers costs more than
# these tests take. About 9 s without mypy (2026-12-04, busy machine).
check: $(STAMP) bytecode
	$(BIN)/ruff check planner models tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -n 0 -m unit

bench: $(STAMP) bytecode
	$(BIN)/python bench/harness.py

# Debian's chromium and chromium-driver for the report's browser test, installed with apt-get
# where missing (as root); never fails: the test then skips and says why. Run by .ci/run, not
# by `make test`.
browser: $(STAMP)
	$(BIN)/python tests/browser.py install

# docs/report.png and docs/explain.png for the README: the browser tests' own code paths on
# instances/eu-2026.
screenshot: $(STAMP)
	$(BIN)/python tests/browser.py screenshot docs/report.png
	$(BIN)/python tests/browser.py screenshot-explain docs/explain.png

clean:
	rm -rf $(VENV) results .pytest_cache
