# Workforce Planner — the two commands:
#   make run    create .venv, install, first-start bootstrap (prints the admin password once), start the app
#   make test   create .venv, install (incl. test tools and Debian's chromium when missing), run every test
# the newest Python 3.13 / 3.12 / 3.11 that runs here (a pyenv shim of a version not selected exists but fails)
PYTHON ?= $(shell for v in 3.13 3.12 3.11; do python$$v -c "import sys" >/dev/null 2>&1 && { echo python$$v; break; }; done)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test test-second-python install install-dev chromium lint bench api clean-db

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11, 3.12 or 3.13 is required (none of python3.13/3.12/3.11 runs here)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: install
	$(PY) -m src.cli bootstrap
	$(PY) -m streamlit run src/app.py --server.port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "chromium is missing and cannot be installed here (need root + apt): browser tests will fail"; fi; }

test: install-dev chromium
	$(PY) -m pytest

# unit and app tests on a second interpreter (CI: another Python than .venv's), e.g. PY2=python3.13
PY2 ?=
VENV2 := .venv-second
test-second-python:
	@test -n "$(PY2)" || { echo "set PY2 to a python executable"; exit 1; }
	$(PY2) -m venv $(VENV2)
	$(VENV2)/bin/python -m pip install --quiet --upgrade pip
	$(VENV2)/bin/python -m pip install --quiet -r requirements-dev.txt
	$(VENV2)/bin/python -m pytest tests/unit tests/app

lint: install-dev
	$(VENV)/bin/ruff check src tests bench

bench: install-dev
	$(PY) -m pip install --quiet -r requirements-bench.txt
	for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

api: install
	$(PY) -m src.api --port 8000

clean-db:
	rm -f data/workforce.db data/workforce.db-wal data/workforce.db-shm
