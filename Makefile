# mipguide: `make serve` runs the service, `make test` installs everything and runs lint + tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# torch is pinned to the local CPU wheel; find-links makes that explicit where it exists.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: install serve test lint typecheck unit bench-read clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(FIND_LINKS) "torch==2.13.0"
	$(PIP) install -q $(FIND_LINKS) -e ".[dev,bench,postgres]"
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/mipguide serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check service models instances tests
	$(VENV)/bin/ruff format --check service models instances tests
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy service models instances

unit: $(STAMP)
	$(PY) -m pytest -q

test: lint typecheck unit

bench-read: $(STAMP)
	$(VENV)/bin/mipguide bench read

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
