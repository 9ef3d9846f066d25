# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 3
export FLASK_APP := wsgi.py

.PHONY: run test bench serve clean-venv mutants

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## make run: install, migrate, import question_banks/, create demo accounts on an empty database, serve.
run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask banks import question_banks
	$(BIN)/flask demo setup
	@echo "Serving on http://$(HOST):$(PORT)"
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

AXE := .cache/axe/node_modules/axe-core/axe.min.js

# axe-core for the browser accessibility tests, from the npm registry; without npm those tests are skipped.
$(AXE):
	@if command -v npm >/dev/null 2>&1; then npm install --silent --no-audit --no-fund --prefix .cache/axe axe-core@4; \
	else echo "npm not found: the axe-core accessibility tests will be skipped"; fi

## make test: the whole suite (PostgreSQL too when TEST_DATABASE_URL is set; browser tests when Chromium is installed).
test: $(VENV)/.dev $(AXE)
	$(BIN)/pytest $(PYTEST_ARGS)

## make bench: request rates of the main pages against a bare Flask route, under the same gunicorn.
bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

## make mutants: mutation testing (mutmut) of the quiz core, status rules, attempts and security.py.
## Scope and test selection are in setup.cfg [mutmut]; MUTANTS="trainer.security.*" runs one module.
## Results stay in mutants/ (ignored by git); `.venv/bin/mutmut browse` shows the survivors' diffs.
MUTANTS ?=
MUTANT_WORKERS ?= 2
mutants: $(VENV)/.dev
	$(BIN)/mutmut run --max-children $(MUTANT_WORKERS) $(MUTANTS)
	$(BIN)/mutmut results
