# Workforce Planner — the two commands:
#   make run    create .venv, install, first-start bootstrap (prints the admin password once), start the app
#   make test   create .venv, install (incl. test tools and Debian's chromium when missing), run every test
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test install install-dev chromium lint bench api clean-db

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
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

lint: install-dev
	$(VENV)/bin/ruff check src tests bench

bench: install-dev
	$(PY) -m pip install --quiet -r requirements-bench.txt
	for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

api: install
	$(PY) -m src.api --port 8000

clean-db:
	rm -f data/workforce.db data/workforce.db-wal data/workforce.db-shm
