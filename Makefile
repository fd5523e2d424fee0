# The command contract: `make up` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test venv system-packages unit integration e2e lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

system-packages:
	bash hack/install-system-packages.sh

up: venv system-packages
	$(BIN)/kube-py up $(UP_ARGS)

test: venv system-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

unit: venv
	$(BIN)/python -m pytest -q tests/unit

integration: venv system-packages
	$(BIN)/python -m pytest -q tests/integration

lint: venv
	$(BIN)/ruff check .

bench: venv system-packages
	$(BIN)/python bench/storage.py
	$(BIN)/python bench/apiserver.py

clean:
	rm -rf $(VENV) build *.egg-info
