# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint setup translations messages bench clean

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

test: $(VENV)/.installed-dev translations lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
