# The three commands of the README. VENV can point elsewhere: make setup VENV=/tmp/venv
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: setup book test

# torch is installed first, pinned to 2.13.0, because an unpinned torch pulls a
# multi-GB CUDA build. The package index of the project's CI machines serves 2.13.0
# as a CPU build. Elsewhere on Linux, PyPI's 2.13.0 is the CUDA build; for the CPU
# one run: $(PYTHON) -m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
setup:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e ".[dev]"

book:
	$(VENV)/bin/vatnb build

test:
	$(PYTHON) -m pytest -q
