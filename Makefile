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

# mypy and import-linter resolve modules by folder: a tree of links named as the installed
# package (mipguide/ = service/ + models/ + instances/), made before they run.
MIRROR := build/mirror

.PHONY: install serve test lint typecheck unit bench-read clean mirror

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(FIND_LINKS) "torch==2.13.0"
	$(PIP) install -q $(FIND_LINKS) -e ".[server,dev,bench,postgres,quantization,ray]"
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/mipguide serve --host $(HOST) --port $(PORT)

mirror:
	rm -rf $(MIRROR) && mkdir -p $(MIRROR)/mipguide
	for f in service/*.py service/*/; do ln -s "$(CURDIR)/$${f%/}" $(MIRROR)/mipguide/; done
	rm -f $(MIRROR)/mipguide/__pycache__
	ln -s "$(CURDIR)/models" $(MIRROR)/mipguide/models
	ln -s "$(CURDIR)/instances" $(MIRROR)/mipguide/instances

lint: $(STAMP) mirror
	$(VENV)/bin/ruff check service models instances tests
	$(VENV)/bin/ruff format --check service models instances tests
	PYTHONPATH=$(MIRROR) $(VENV)/bin/lint-imports

typecheck: $(STAMP) mirror
	cd $(MIRROR) && $(CURDIR)/$(VENV)/bin/mypy --config-file $(CURDIR)/pyproject.toml -p mipguide

unit: $(STAMP)
	$(PY) -m pytest -q

test: lint typecheck unit

bench-read: $(STAMP)
	$(VENV)/bin/mipguide bench read

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
