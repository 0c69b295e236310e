# Causeway: `make demo` and `make test` are all a newcomer needs (Python >= 3.11).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check serve simulate bench bench-quick chaos clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Causeway needs Python >= 3.11 on the PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/causeway demo

test: $(STAMP)
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.run --json bench-results.json --markdown README.md

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

chaos: $(STAMP)
	$(BIN)/causeway chaos

serve: $(STAMP)
	$(BIN)/causeway keys
	$(BIN)/causeway serve

simulate: $(STAMP)
	$(BIN)/causeway keys
	$(BIN)/causeway simulate

clean:
	rm -rf $(VENV) .causeway .mypy_cache .ruff_cache .pytest_cache .hypothesis
