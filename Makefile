# danlu — two commands to start: `make demo` and `make test`.
# Both create .venv, install torch first (so pip never swaps in a CUDA build),
# then the package. Elsewhere, pick your torch build, e.g.
#   make demo TORCH='torch --index-url https://download.pytorch.org/whl/cpu'
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.danlu-installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/danlu demo --out runs/demo

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py --out BENCHMARKS.md

clean:
	rm -rf $(VENV) runs build dist src/*.egg-info .pytest_cache .ruff_cache
