# gridgate: two commands do all set-up on a fresh machine.
#   make demo   bootstrap .venv, run broker + hub + edge locally, show them working
#   make test   bootstrap .venv, start what tests need, run ruff, mypy --strict and pytest

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PIP_FLAGS := --quiet --disable-pip-version-check
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: all bootstrap services lint typecheck pytest test test-fast demo lock clean

all: test

$(STAMP): pyproject.toml devkit/pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade "pip>=24"
	$(PY) -m pip install $(PIP_FLAGS) -c requirements.lock -e '.[dev]' -e ./devkit
	touch $@

bootstrap: $(STAMP)

services:
	scripts/ensure-services.sh

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: bootstrap
	$(VENV)/bin/mypy

pytest: bootstrap services
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

test-fast: bootstrap services
	$(VENV)/bin/pytest -m "not slow" $(PYTEST_ARGS)

demo: bootstrap services
	$(PY) scripts/demo.py $(DEMO_ARGS)

# Re-pin every dependency after changing pyproject.toml (writes requirements.lock).
lock: bootstrap
	$(PY) -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^gridgate' > requirements.lock

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache .pytest_cache
