# One Makefile for developers and CI. `scripts/bootstrap.sh` installs the system packages and
# then calls these targets; after that, everything here works on its own.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PYTEST  := $(VENV)/bin/pytest
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: all venv build build-rust build-python lint lint-python lint-rust fmt test test-rust \
        test-python test-pure bench bench-quick ci start stop clean

all: build lint test

venv: $(VENV)/.deps-installed

$(VENV)/.deps-installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip setuptools wheel cython "maturin>=1.5,<2"
	$(PY) -m pip install -q -e ".[dev]" --no-build-isolation
	touch $@

build: venv build-rust build-python

build-rust:
	cd rust && maturin develop --release -q

build-python:
	$(PY) setup.py -q build_ext --inplace

lint: lint-python lint-rust

lint-python:
	$(VENV)/bin/ruff check pmgfast tests bench setup.py
	$(VENV)/bin/mypy

lint-rust:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -q -- -D warnings

fmt:
	$(VENV)/bin/ruff check --fix pmgfast tests bench setup.py
	$(VENV)/bin/ruff format pmgfast tests bench setup.py
	cargo fmt --all

test: test-rust test-python

test-rust:
	cargo test --release

test-python:
	$(PYTEST) -q

test-pure:
	PMGFAST_NO_EXTENSIONS=1 $(PYTEST) -q

bench:
	$(PY) -m bench

bench-quick:
	$(PY) -m bench --quick

# What CI runs (scripts/bootstrap.sh test): lint, Rust tests, the pure-Python suite, then the
# full suite with the compiled hot paths, whose pytest summary line ends the run.
ci: build lint test-rust test-pure test-python

start: build
	$(VENV)/bin/pmgfast start

stop:
	$(VENV)/bin/pmgfast stop

clean:
	rm -rf build target $(VENV) *.egg-info
	find pmgfast -name '*.so' -delete
