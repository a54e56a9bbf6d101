# Two entry points: `make demo` and `make test`. Both bootstrap everything they need:
# uv in .tools/, a Python 3.12 virtualenv in .venv/, the locked dependencies.

# A real 3.12 interpreter: the version check skips pyenv shims that exist but exit 127.
PY312 ?= $(firstword $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12.*/bin/python /usr/local/bin/python3.12 /usr/bin/python3.12 python3; do \
          command -v $$p >/dev/null 2>&1 && $$p -c "import sys; assert sys.version_info[:2]==(3,12)" 2>/dev/null \
          && command -v $$p; done))
# uv only needs some Python to install itself; prefer the 3.12 we found.
BOOT_PY := $(or $(PY312),python3)
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS ?= never

.PHONY: demo test bench lint clean help

help:
	@echo "make demo   - build a sample TAQ day, ingest it, backtest, write the HTML report"
	@echo "make test   - run the test suite (starts its own redis-server)"
	@echo "make bench  - run the benchmarks in bench/"

$(UV):
	$(BOOT_PY) -m venv .tools && .tools/bin/pip install -q uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	@test -n "$(PY312)" || { echo "error: Python 3.12 not found (set PY312=/path/to/python3.12)" >&2; exit 1; }
	$(UV) venv --allow-existing --python $(PY312) .venv
	$(UV) sync --frozen --group dev
	@touch $@

demo: .venv/.synced
	$(UV) run --frozen hftmm demo

test: .venv/.synced
	$(UV) run --frozen pytest -q $(PYTEST_ARGS)

bench: .venv/.synced
	$(UV) run --frozen python bench/run_all.py

clean:
	rm -rf .venv .tools runs .pytest_cache
