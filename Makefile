# The README's two commands: `make run` (the service, with simulators when no real shop is
# connected) and `make test` (the whole suite). Both create the virtual environment first.
#
# Dependencies are locked in two files, both compiled from pyproject.toml with hashes:
#   requirements.txt      production: what the platform's buildpack installs (pip)
#   requirements-dev.txt  production + the `dev` dependency group, the production pins
#                         taken as constraints, so both install the same versions
# `make lock` recompiles them (keeping every pin that still fits); `make lock-check`, run by
# `make test`, fails when they no longer match pyproject.toml.
# lock-check compares with process substitution
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# uv reads its own settings, not pip's: give it the package index pip is configured with,
# if any (PIP_INDEX_URL, or pip's config file), unless uv has been given one already.
UV = index="$${UV_DEFAULT_INDEX:-$${UV_INDEX_URL:-$${PIP_INDEX_URL:-$$($(abspath $(BIN))/python -m pip config get global.index-url 2>/dev/null)}}}"; \
	$${index:+env UV_DEFAULT_INDEX="$$index"} $(abspath $(BIN))/uv
COMPILE = pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
LOCK_PROD = $(UV) $(COMPILE) pyproject.toml -o requirements.txt
LOCK_DEV = $(UV) $(COMPILE) pyproject.toml --group dev -c requirements.txt -o requirements-dev.txt

.PHONY: run test lint bench chaos clean lock lock-check

$(STAMP): requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m sandbox.run

# The tiers (tests/conftest.py), side by side (tests/run_tiers.sh): unit and integration
# on TEST_WORKERS pytest-xdist workers (each with its own PostgreSQL and Redis database),
# and the system tier (whole processes, the browser) on SYSTEM_WORKERS, the longest
# started first (worksteal: a worker that is done takes tests from a busy one); its tests
# mostly wait (on processes, faults, retries), so they run in the fast tier's gaps. Each
# run prints its ten slowest tests.
TEST_WORKERS ?= 2
SYSTEM_WORKERS ?= 4
test: $(STAMP) lock-check lint
	PYTHON_BIN=$(BIN)/python TEST_WORKERS=$(TEST_WORKERS) SYSTEM_WORKERS=$(SYSTEM_WORKERS) \
		bash tests/run_tiers.sh $(PYTEST_ARGS)

# ruff (lint and format), mypy, the import contracts (pyproject.toml: the floors of app/,
# the pure core, only app/clients talks HTTP) and no module of the service over 300 lines.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	@find app worker reconciler -name '*.py' -exec wc -l {} + | \
		awk '$$2 != "total" && $$1 > 300 { print "over 300 lines: " $$2 " (" $$1 ")"; bad = 1 } \
		     END { exit bad }'

# Recompile both lock files from pyproject.toml. Pins that still satisfy it are kept; to
# move everything to the newest versions: `make lock LOCK_ARGS=--upgrade`.
lock: $(STAMP)
	$(LOCK_PROD) $(LOCK_ARGS)
	$(LOCK_DEV) $(LOCK_ARGS)

# Recompile into a scratch directory and compare the pins (name==version and markers; not
# the hashes, which change when a registry adds a file to a pinned release): a dependency
# added to or changed in pyproject.toml without `make lock` fails here (and so in CI).
PINS = sed -e '/^ *\#/d' -e '/--hash=/d' -e 's/ *\\$$//' 
lock-check: $(STAMP)
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	cp pyproject.toml requirements.txt requirements-dev.txt "$$scratch"/ && \
	(cd "$$scratch" && $(LOCK_PROD) && $(LOCK_DEV)) && \
	if diff -u <($(PINS) requirements.txt) <($(PINS) "$$scratch"/requirements.txt) && \
	   diff -u <($(PINS) requirements-dev.txt) <($(PINS) "$$scratch"/requirements-dev.txt); then \
		echo "lock files match pyproject.toml"; \
	else \
		echo "requirements.txt / requirements-dev.txt do not match pyproject.toml: run make lock" >&2; \
		exit 1; \
	fi

# Benchmarks (needs PostgreSQL and redis-server, like `make chaos`); writes
# docs/benchmarks.md. Options: `make bench BENCH_ARGS="--memory-bookings 10000"`.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The fault-injection suite at full size (500 orders; the normal suite runs 120) with the
# full matrix of money settings and random sale families (issue 23; the normal suite runs a
# reduced matrix), then the property tests exploring: random, ten times the examples
# (HYPOTHESIS_PROFILE=explore; add what they find as an @example). -s: the suite prints
# what it injected and checked.
chaos: $(STAMP)
	CHAOS_ORDERS=$${CHAOS_ORDERS:-500} MONEY_MATRIX=full SCALE_TEST=1 REFUSAL_SECONDS=60 \
		$(BIN)/python -m pytest tests/chaos tests/test_money_matrix.py \
		tests/test_money_families.py tests/test_scale.py tests/test_issue29_e2e.py \
		-m slow -s $(PYTEST_ARGS)
	PAGES_FULL=1 $(BIN)/python -m pytest tests/web/test_pages.py -n $(TEST_WORKERS) $(PYTEST_ARGS)
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest tests/test_mapping_properties.py \
		tests/test_order_factory.py -n $(TEST_WORKERS) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
