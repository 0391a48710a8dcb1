# Two set-up commands keep working on a fresh machine: `make demo` and `make test`.
# Both build .venv (python3 -m venv) and install the project into it when missing or stale.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
DEMO_ARGS ?=

.PHONY: demo test lint unit bench clean dist lock

$(STAMP): pyproject.toml client/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./client -e '.[node,hub,synth,test]'
	@touch $(STAMP)

.venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/fedlink demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check protocol agency_node hub fedlink client tests
	$(BIN)/mypy protocol
	$(BIN)/mypy --strict client/src

# The PostgreSQL leg runs when a server answers on 127.0.0.1:5432. The suite is spread over
# two worker processes (pytest-xdist): each has its own PostgreSQL schema, SQLite files and
# ports. The schemathesis fuzz (marker `fuzz`) runs after it in one process: its cases share a
# test id, which pytest-xdist would run only once.
PYTEST_ARGS ?= -n 2
PYTEST = $(BIN)/python -m pytest -m 'not fuzz' $(PYTEST_ARGS) && $(BIN)/python -m pytest -m fuzz
test: $(STAMP) lint
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('host=127.0.0.1 port=5432 dbname=test user=postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL answers: running the suite with FEDLINK_TEST_DATABASE_URL=$(PG_URL)"; \
		export FEDLINK_TEST_DATABASE_URL=$(PG_URL); $(PYTEST); \
	else \
		echo "No PostgreSQL on 127.0.0.1:5432: SQLite only"; \
		$(PYTEST); \
	fi

# The peers of `fedlink bench`: Splink from the [bench] extra; anonlink + clkhash in a venv
# of their own (clkhash pins cryptography<41, see fedlink/bench/peer-requirements.txt).
BENCH_STAMP := $(VENV)/.bench-installed
PEERS       := .venv-bench-peers
PEERS_STAMP := $(PEERS)/.installed
BENCH_ARGS  ?=

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ./client -e '.[node,hub,synth,test,bench]'
	@touch $(BENCH_STAMP)

$(PEERS_STAMP): fedlink/bench/peer-requirements.txt
	@test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/bin/python -m pip install --quiet -r fedlink/bench/peer-requirements.txt
	@touch $(PEERS_STAMP)

bench: $(BENCH_STAMP) $(PEERS_STAMP)
	$(BIN)/fedlink bench --readme README.md $(BENCH_ARGS)

# The release artefacts: a wheel and an sdist of both distributions (fedlink-vlds and
# fedlink-client) in dist/. Operators install them by file, never by name from an index
# (docs/install.md); tests/test_packaging.py builds, installs and smoke-tests them.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m build --outdir dist client

# The Docker images' hash-pinned third-party packages (deploy/requirements-*.lock): one lock
# per image role, plus the build backend the image builds the wheels with. Run after changing
# a dependency; tests/test_packaging.py fails while a lock misses one.
LOCK := $(BIN)/uv pip compile - --quiet --universal --python-version 3.11 --generate-hashes \
	--no-emit-package fedlink-client --no-emit-package fedlink-vlds --custom-compile-command "make lock"
lock: $(STAMP)
	printf './client\n.[node]\n' | $(LOCK) -o deploy/requirements-node.lock
	printf './client\n.[hub]\n' | $(LOCK) -o deploy/requirements-hub.lock
	sed -n 's/^requires = \[\(.*\)\]/\1/p' pyproject.toml | tr -d '" ' | tr ',' '\n' \
		| $(LOCK) -o deploy/requirements-build.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
