# PRISM Catalog. `make run` and `make test` do all the set-up on a fresh machine
# with Python 3.11; every other target calls `install` first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Local commands run with DEBUG on unless the environment says otherwise
# (DEBUG off needs a SECRET_KEY).
DEV := DEBUG=$${DEBUG:-1}

.PHONY: install run serve test test-fast worker beat lint typecheck format migrate seed bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(DEV) $(BIN)/python manage.py migrate --noinput

# A working catalog on SQLite with eager tasks: migrate, load the demo catalog
# once (seed_demo does nothing when it is already there), serve.
run: migrate
	$(DEV) $(BIN)/python manage.py seed_demo --if-empty
	$(DEV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

seed: migrate
	$(DEV) $(BIN)/python manage.py seed_demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Without a broker tasks already run inside the web process: a worker would
# have nothing to consume.
NEED_BROKER = @test -n "$$CELERY_BROKER_URL" || { echo "set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0): without it tasks run eagerly in the web process" >&2; exit 2; }

worker: install
	$(NEED_BROKER)
	$(DEV) $(BIN)/celery -A prism worker --loglevel=info --concurrency=2

beat: install
	$(NEED_BROKER)
	$(DEV) $(BIN)/celery -A prism beat --loglevel=info

# The shape of the code, in seconds: the layer and cycle contracts
# (import-linter), ruff (with PLC0415: no imports inside functions) and its
# formatting, no model change without its migration.
lint: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run

# Type hints of the actions and selectors (the public API of each layer).
typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: migrate
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(DEV) $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
