# Two commands matter: `make run` (the local stack) and `make test` (every test). Both create the
# virtualenv on first use and reinstall when a requirements file changes. `make run` installs only what
# the stack needs (requirements-run.txt); `make test` adds the test, lint, CDK and benchmark tools.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
PORT ?= 8086
# Test files run in parallel, one worker per core by default (each worker starts its own local stacks).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test lint bench clean

$(RUN_STAMP): requirements.txt requirements-run.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-run.txt
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(RUN_STAMP)
	PORT=$(PORT) $(PY) -m scripts.localstack

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff format --check . || true

bench: $(STAMP)
	$(PY) -m scripts.bench.bench_parse
	$(PY) -m scripts.bench.bench_codec
	$(PY) -m scripts.bench.bench_consumer
	$(PY) -m scripts.bench.bench_tasks
	$(PY) -m scripts.bench.bench_proxy
	$(PY) -m scripts.bench.bench_stacktach
	$(PY) -m scripts.bench.bench_e2e
	$(PY) -m scripts.bench.bench_query
	$(PY) -m scripts.bench.bench_memory
	$(PY) -m scripts.bench.bench_scale
	$(PY) -m scripts.bench.bench_freshness

clean:
	rm -rf $(VENV) cdk.out infra/cdk.out .pytest_cache
