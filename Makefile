# One Makefile for developers and CI. `scripts/bootstrap.sh` installs the system packages and
# then calls these targets; after that, everything here works on its own.
SHELL   := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV    ?= .venv
LOGS    := .ci-logs
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
	@date +"== %T $@"
	$(VENV)/bin/ruff check pmgfast tests bench setup.py
	$(VENV)/bin/ruff format --check pmgfast tests bench setup.py
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
	@date +"== %T $@"
	@mkdir -p $(LOGS)
	cargo test --release 2>&1 | tee $(LOGS)/cargo-test.log

test-python:
	@date +"== %T $@"
	@mkdir -p $(LOGS)
	$(PYTEST) -q --durations=15 | tee $(LOGS)/pytest.log

test-pure:
	@date +"== %T $@"
	@mkdir -p $(LOGS)
	PMGFAST_NO_EXTENSIONS=1 $(PYTEST) -q --durations=15 | tee $(LOGS)/pytest-pure.log

bench:
	$(PY) -m bench

bench-quick:
	@date +"== %T $@"
	$(PY) -m bench --quick

# What CI runs (scripts/bootstrap.sh test): lint, Rust tests, the pure-Python suite, the full
# suite with the compiled hot paths, the quick benchmark (fails only when a native result
# disagrees with its baseline), then the test runners' summary lines again, pytest's last.
ci: build lint test-rust test-pure test-python bench-quick ci-summary

ci-summary:
	@echo "== summary"
	@grep -h "^test result:" $(LOGS)/cargo-test.log | awk '{p+=$$4; f+=$$6} END {print "cargo test: " p " passed; " f " failed"}'
	@echo "pytest, pure-Python twins (PMGFAST_NO_EXTENSIONS=1):"
	@tail -n 1 $(LOGS)/pytest-pure.log
	@echo "pytest, compiled hot paths:"
	@tail -n 1 $(LOGS)/pytest.log

start: build
	$(VENV)/bin/pmgfast start

stop:
	$(VENV)/bin/pmgfast stop

clean:
	rm -rf build target $(VENV) *.egg-info $(LOGS)
	find pmgfast -name '*.so' -delete
