# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test test-sqlite test-postgres lint fmt typecheck check bench migration seed install translations messages

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) translations ## create .venv and install the app with its dev tools

# One .mo per catalog, rebuilt only when its .po changes; no catalogs yet means nothing to do.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGS)

app/translations/%/LC_MESSAGES/messages.mo: app/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -f -i $< -o $@

run: install ## migrate, load demo data once, serve http://127.0.0.1:5000 with the scheduler
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	SCHEDULER_ENABLED=1 $(BIN)/python -m app.serve --host $(HOST) --port $(PORT)

test: install ## the whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test-sqlite: install
	env -u TEST_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install ## ruff check and format check
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

fmt: install ## format the code
	$(BIN)/ruff check --fix app tests bench
	$(BIN)/ruff format app tests bench

typecheck: install ## mypy on app/
	$(BIN)/mypy app

check: lint typecheck test ## lint, typecheck and test

bench: install ## run the benchmarks in bench/ (N= to size them)
	$(BIN)/python bench/customer_search.py $(if $(N),--n $(N),)
	$(BIN)/python bench/classify_eval.py --no-db
	$(BIN)/python bench/survey_answer.py
	$(BIN)/python bench/voice_import.py
	$(BIN)/python bench/survey_send.py

migration: install ## new migration: make migration m="what changed"
	$(FLASK) db migrate -m "$(m)"

seed: install ## load demo data (idempotent)
	$(FLASK) db upgrade
	$(FLASK) seed-demo

messages: install ## extract UI strings and update the zh/en catalogs (then translate zh)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs ".*" -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d app/translations
	rm -f messages.pot
