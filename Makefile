# Each target does its own set-up: `make run` and `make test` work on a fresh clone.
VENV ?= .venv
PYTHON ?= python3
# Pinned so pip takes the wheels on disk here instead of downloading another build.
TORCH ?= torch==2.14.1 torchvision==0.29.1
# Use the MNIST copy beside the repository when there is one; otherwise ganzoo downloads it.
GANZOO_DATA ?= $(if $(wildcard ../shared/datasets/MNIST/raw),$(abspath ../shared/datasets),)
export GANZOO_DATA

.PHONY: setup run test bench-acgan

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q $(TORCH)
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	touch $@

run: setup  ## the main job: ACGAN on MNIST with the built-in recipe
	$(VENV)/bin/ganzoo run acgan --dataset mnist

test: setup
	$(VENV)/bin/python -m pytest -q

bench-acgan: setup  ## one epoch of ACGAN, then how often an MNIST classifier recognises its samples
	$(VENV)/bin/ganzoo run acgan --dataset mnist --epochs 1 --out runs/acgan-one-epoch
	$(VENV)/bin/python benchmarks/conditional_accuracy.py runs/acgan-one-epoch --per-class 1000
