# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 3
export FLASK_APP := wsgi.py

.PHONY: run test lint bench serve clean-venv mutants

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## make run: install, migrate, import question_banks/, create demo accounts on an empty database, serve (with a job worker).
run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask banks import question_banks
	$(BIN)/flask demo setup
	@echo "Serving on http://$(HOST):$(PORT)"
	@echo "Background jobs run in a worker started and stopped with gunicorn (trainer/serving.py)"
	$(BIN)/gunicorn -c python:trainer.serving --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

AXE := .cache/axe/node_modules/axe-core/axe.min.js

# axe-core for the browser accessibility tests, from the npm registry; without npm those tests are skipped.
$(AXE):
	@if command -v npm >/dev/null 2>&1; then npm install --silent --no-audit --no-fund --prefix .cache/axe axe-core@4; \
	else echo "npm not found: the axe-core accessibility tests will be skipped"; fi

OIDC_PROVIDER := .cache/oidc/node_modules/oidc-provider/package.json

# npm's certified oidc-provider, the identity provider the single sign-on tests sign in through; without npm they are skipped.
$(OIDC_PROVIDER):
	@if command -v npm >/dev/null 2>&1; then npm install --silent --no-audit --no-fund --prefix .cache/oidc oidc-provider@9; \
	else echo "npm not found: the single sign-on tests will be skipped"; fi

## make lint: ruff (style, likely bugs) and mypy (types of trainer/), as configured in pyproject.toml.
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy

## make test: lint, then the whole suite (PostgreSQL too when TEST_DATABASE_URL is set; browser tests when Chromium is installed).
test: $(VENV)/.dev $(AXE) $(OIDC_PROVIDER) lint
	$(BIN)/pytest $(PYTEST_ARGS)

## make bench: page ratios to bare Flask (wrk), the 5,000-staff export, the 1,000-learner spike (README).
## make bench ARGS="spike --learners 200": one scenario; BENCH_DATABASE_URL adds a PostgreSQL run.
bench: $(VENV)/.dev
	$(BIN)/python -m bench.run $(ARGS)

## make mutants: mutation testing (mutmut) of the quiz core, status rules, attempts and security.py.
## Scope and test selection are in pyproject.toml [tool.mutmut]; MUTANTS="trainer.security.*" runs one module.
## Results stay in mutants/ (ignored by git); `.venv/bin/mutmut browse` shows the survivors' diffs.
MUTANTS ?=
MUTANT_WORKERS ?= 2
mutants: $(VENV)/.dev
	$(BIN)/mutmut run --max-children $(MUTANT_WORKERS) $(MUTANTS)
	$(BIN)/mutmut results
