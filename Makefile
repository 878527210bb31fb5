# posecoach: two commands on a fresh machine.
#   make demo   set up .venv, install posecoach, analyse the built-in synthetic runner
#   make test   set up .venv, install posecoach with test tools, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.posecoach-installed
DEMO_OUT ?= posecoach-demo

.PHONY: demo test lint install clean accuracy bench

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/posecoach demo -o $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests

accuracy: $(STAMP)
	$(PY) scripts/accuracy.py

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
