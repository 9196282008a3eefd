# Every target sets itself up: a fresh machine needs only `make run` or `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
ARRS   := $(VENV)/bin/arrs
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export ANONYMIZED_TELEMETRY=False

.PHONY: install ingest run serve ask test test-fast lint format eval bench chromium clean

install: $(STAMP)

# CPU torch first (a wheel on this machine), then everything else pinned against it,
# otherwise pip resolves a CUDA build of several GB.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e '.[dev,llm]'
	touch $(STAMP)

ingest: install
	$(ARRS) ingest

ask: ingest
	$(ARRS) ask "Which roles can a PCN claim for under ARRS?"

# Install, ingest the bundled corpus, answer one question, then serve the API and demo widget.
run: ask
	@echo "Serving the demo site with the enquiry widget at http://$(HOST):$(PORT)/"
	$(ARRS) serve --host $(HOST) --port $(PORT)

serve: install
	$(ARRS) serve --host $(HOST) --port $(PORT)

# Chromium for the browser tests (Debian's package; never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: browser tests will be skipped (run as root to install)"; fi; }

test: install chromium
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not integration and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

eval: ingest
	$(ARRS) eval

bench: ingest
	$(ARRS) bench

clean:
	rm -rf data .pytest_cache .ruff_cache test-artifacts
