# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint audit setup translations messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Development settings with fresh random secrets, written once. Real
# environment variables always win over this file (config.py).
.env:
	@$(PYTHON) -c "import secrets; print('JIDU_ENV=development'); print('SECRET_KEY=' + secrets.token_urlsafe(48)); print('JIDU_RECEIPT_KEY=' + secrets.token_urlsafe(48))" > .env
	@echo "wrote .env (development settings)"

translations: $(VENV)/.installed
	@if ls app/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel --quiet compile -d app/translations; fi

# After changing user-facing text: refresh the catalog, then translate the
# new entries in app/translations/en/LC_MESSAGES/messages.po.
messages: $(VENV)/.installed
	$(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot .
	$(BIN)/pybabel --quiet update -i app/translations/messages.pot -d app/translations

setup: $(VENV)/.installed .env translations
	$(FLASK) db upgrade
	$(FLASK) dev-setup

# The mail worker runs beside the development server (mail goes to
# instance/data/mail unless MAIL_SERVER is set) and stops with it.
run: setup
	@$(FLASK) outbox run & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy app

# axe-core for the accessibility test, pinned in tests/browser/package-lock.json.
# Without npm the test skips with the reason (fails under CI=true).
AXE_STAMP := tests/browser/node_modules/.installed
$(AXE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $@; \
	else echo "npm is missing (apt-get install npm): accessibility test not set up"; fi

# Everything, the slow crash and injection suites included; for a quick
# round while working: .venv/bin/python -m pytest -m "not slow".
test: $(VENV)/.installed-dev translations lint $(AXE_STAMP)
	$(BIN)/python -m pytest

# Known vulnerabilities in the installed dependencies: fails on one that has a
# fixed version (.ci/pip_audit.py). Needs pypi.org's JSON API; without it,
# says "skipped" (and fails under CI=true unless JIDU_AUDIT_OFFLINE=skip).
audit: $(VENV)/.installed-dev
	$(BIN)/python .ci/pip_audit.py

# Every benchmark (bench/run.py) at each of SIZES clues, on SQLite and, when
# BENCH_DATABASE_URL is set (its tables are dropped), on PostgreSQL; prints
# one table. The full run rewrites bench/RESULTS.md; other SIZES (the quick
# round: make bench SIZES=10000) write bench/.data/RESULTS-quick.md. Intake
# under load needs wrk (apt-get install wrk); without it, it says so.
SIZES ?= 10000,100000,1000000
BENCH_FULL := 10000,100000,1000000
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py --sizes $(SIZES) \
		$(if $(BENCH_DATABASE_URL),--postgres $(BENCH_DATABASE_URL)) \
		--write $(if $(subst $(BENCH_FULL),,$(SIZES)),bench/.data/RESULTS-quick.md,bench/RESULTS.md)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
