# Two set-up commands keep working on a fresh machine: `make demo` and `make test`.
# Both build .venv (python3 -m venv) and install the project into it when missing or stale.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
DEMO_ARGS ?=

.PHONY: demo test lint unit bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

.venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/fedlink demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check protocol agency_node hub fedlink tests
	$(BIN)/mypy protocol

# The PostgreSQL leg runs when a server answers on 127.0.0.1:5432.
test: $(STAMP) lint
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('host=127.0.0.1 port=5432 dbname=test user=postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL answers: running the suite with FEDLINK_TEST_DATABASE_URL=$(PG_URL)"; \
		FEDLINK_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest; \
	else \
		echo "No PostgreSQL on 127.0.0.1:5432: SQLite only"; \
		$(BIN)/python -m pytest; \
	fi

# The peers of `fedlink bench`: Splink from the [bench] extra; anonlink + clkhash in a venv
# of their own (clkhash pins cryptography<41, see fedlink/bench/peer-requirements.txt).
BENCH_STAMP := $(VENV)/.bench-installed
PEERS       := .venv-bench-peers
PEERS_STAMP := $(PEERS)/.installed
BENCH_ARGS  ?=

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

$(PEERS_STAMP): fedlink/bench/peer-requirements.txt
	@test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/bin/python -m pip install --quiet -r fedlink/bench/peer-requirements.txt
	@touch $(PEERS_STAMP)

bench: $(BENCH_STAMP) $(PEERS_STAMP)
	$(BIN)/fedlink bench --readme README.md $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
