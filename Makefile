# Everything the project needs is installed by `make install` from the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgres faults lint format typecheck openapi lock bench bench-http bench-inprocess load fuzz clients clean

install: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(BIN)/ntm db upgrade
	$(BIN)/ntm seed
	$(BIN)/ntm serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite; set NTM_TEST_DATABASE_URL to run it on PostgreSQL.
test: install
	$(BIN)/pytest

test-postgres: install
	NTM_TEST_DATABASE_URL=$${NTM_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/ntm_test} $(BIN)/pytest

# Fault tests (tests/faults): each module starts its own PostgreSQL on 127.0.0.1 (ports
# NTM_FAULTS_PG_PORTS, default 18350-18399; as the postgres user when run as root) to crash,
# restart and replicate it. Not part of `make test`; they fail, never skip, without PostgreSQL.
faults: install
	$(BIN)/pytest tests/faults -m faults

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: install
	$(BIN)/python scripts/export_openapi.py

# Re-resolve the lock files after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements-dev.lock

# The service under concurrency first (`ntm serve` on PostgreSQL driven by wrk against two
# baselines, bench/RESULTS.md; BENCH_HTTP_ARGS=--quick for a short run), then the in-process
# benchmarks (`python -m bench`).
bench: bench-http bench-inprocess

bench-http: install
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
		{ [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk || sudo apt-get install -y -q wrk; }; } || \
		{ echo "wrk is needed: install the 'wrk' package (Debian/Ubuntu: apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.concurrency $(BENCH_HTTP_ARGS)

bench-inprocess: install
	$(BIN)/python -m bench

# The load test (bench/load.py): CLIENTS concurrent clients for DURATION seconds against
# `ntm serve --workers 2` + `ntm worker` on a throwaway PostgreSQL database, then every
# acknowledged write checked in the database; non-zero exit on a lost write or a 5xx.
DURATION ?= 60
CLIENTS ?= 200
LOAD_PORT ?= 18400
load: install
	$(BIN)/python -m bench.load --duration $(DURATION) --clients $(CLIENTS) --port $(LOAD_PORT)

# Schema-driven fuzzing of a live server (fixed seed, bounded); NTM_FUZZ_DATABASE_URL selects
# PostgreSQL, else a temporary SQLite file. Fails on any 5xx or non-conforming response.
fuzz: install
	$(BIN)/python scripts/fuzz.py

# Python (openapi-python-client) and TypeScript (openapi-typescript) clients from the committed
# document, into build/clients/: zero generator warnings, then mypy --strict and tsc --noEmit.
clients: install
	cd clients && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/clients.py

clean:
	rm -rf clients/node_modules build/clients $(VENV) var .pytest_cache .mypy_cache .ruff_cache
