# Each target does its own set-up: `make run` and `make test` work on a fresh clone.
VENV ?= .venv
PYTHON ?= python3
# Pinned so pip takes the wheels on disk here instead of downloading another build.
TORCH ?= torch==2.14.1 torchvision==0.29.1
# Use the MNIST copy beside the repository when there is one; otherwise ganzoo downloads it.
GANZOO_DATA ?= $(if $(wildcard ../shared/datasets/MNIST/raw),$(abspath ../shared/datasets),)
export GANZOO_DATA

# A third-party plugin package, installed the way users install one (not editable), and tested in CI.
EXAMPLE ?= examples/ganzoo-projection
EXAMPLE_FILES := $(shell find $(EXAMPLE) -name '*.py' -o -name '*.toml' | grep -v egg-info)

.PHONY: setup run test lint bench-acgan zoo

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q $(TORCH)
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	touch $@

run: setup  ## the main job: ACGAN on MNIST with the built-in recipe
	$(VENV)/bin/ganzoo run acgan --dataset mnist

$(VENV)/.example-installed: $(VENV)/.installed $(EXAMPLE_FILES)
	$(VENV)/bin/python -m pip install -q --force-reinstall --no-deps ./$(EXAMPLE)
	touch $@

test: setup $(VENV)/.example-installed  ## ganzoo's tests and the example plugin package's, one pytest worker per core (pytest-xdist)
	$(VENV)/bin/python -m pytest -q -n auto --durations=15 tests $(EXAMPLE)/tests

lint: setup  ## ruff, configured in pyproject.toml
	$(VENV)/bin/ruff check .

bench-acgan: setup  ## one epoch of ACGAN, then how often an MNIST classifier recognises its samples
	$(VENV)/bin/ganzoo run acgan --dataset mnist --epochs 1 --out runs/acgan-one-epoch
	$(VENV)/bin/python benchmarks/conditional_accuracy.py runs/acgan-one-epoch --per-class 1000

zoo: setup  ## the results table: every variant's default recipe to the end, 3 seeds, into benchmarks/RESULTS.md
	$(VENV)/bin/python benchmarks/zoo.py
