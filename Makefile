# The three commands of the README. VENV can point elsewhere: make setup VENV=/tmp/venv
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: setup book test

# torch is installed first and pinned to the CPU build: an unpinned torch pulls a
# multi-GB CUDA build.
setup:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e ".[dev]"

book:
	$(VENV)/bin/vatnb build

test:
	$(PYTHON) -m pytest -q
