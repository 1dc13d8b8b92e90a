# The README's two commands: `make run` (the service, with simulators when no real shop is
# connected) and `make test` (the whole suite). Both create the virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check bench chaos clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m sandbox.run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

# Benchmarks (needs PostgreSQL and redis-server, like `make chaos`); writes
# docs/benchmarks.md. Options: `make bench BENCH_ARGS="--memory-bookings 10000"`.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The fault-injection suite at full size (500 orders; the normal suite runs 120). -s: the
# suite prints what it injected and checked.
chaos: $(STAMP)
	CHAOS_ORDERS=$${CHAOS_ORDERS:-500} $(BIN)/python -m pytest tests/chaos -m slow -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
