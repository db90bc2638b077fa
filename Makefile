# Two commands on a fresh machine with Python 3.11, pip and make:
#   make demo   run the main job end to end on the embedded default (SQLite)
#   make test   run every test, mypy --strict and ruff
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test pytest typecheck lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[testing,postgres,calendar,dataframe,report]' --group dev
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(BIN)/stakeholder demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest
	$(BIN)/mypy --strict src
	$(BIN)/mypy --strict tests/typing tests/test_downstream.py
	$(BIN)/ruff check src tests benchmarks

pytest: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(ARGS)

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy --strict src
	$(BIN)/mypy --strict tests/typing tests/test_downstream.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis demo.db demo.db-wal demo.db-shm
