# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test install lint format check-bank screenshots bench faults load load-cluster clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install  ## set up SQLite, load the DOP-C02 bank, create demo accounts, serve on http://127.0.0.1:8000
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_bank
	$(BIN)/python manage.py create_demo_data
	@echo "Serving on http://$(HOST)  (log in as learner / learner-demo-pass)"
	$(BIN)/python manage.py runserver $(HOST)

test: install  ## lint, then the whole suite; installs the browser the tests drive if it is missing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@chromium=$$(scripts/ensure-browser $(BIN)) && CHROMIUM_PATH="$$chromium" $(BIN)/pytest

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-bank:  ## the bank checker on its own (no Django needed)
	$(PYTHON) quizapp/bank/bankfile.py quizapp/bank/data/dop-c02

screenshots: install  ## regenerate docs/*.png from a running `make run`
	$(BIN)/python docs/screenshots.py

bench: install  ## page and autosave timings of a 75-question mock (prints figures)
	$(BIN)/python bench/exam_pages.py

faults: install  ## kill a worker, restart PostgreSQL, cut the app's connections mid-load: nothing acknowledged is lost
	$(BIN)/python bench/faults.py

LEARNERS ?= 500
load: install  ## a group sitting of LEARNERS (default 500) on gunicorn + PostgreSQL, driven by locust (prints figures)
	$(BIN)/python bench/load/run.py --learners $(LEARNERS)

load-cluster: install  ## the same sitting on two app servers behind HAProxy, over PgBouncer; one server is killed half way (docs/scaling.md)
	scripts/ensure-packages haproxy pgbouncer
	$(BIN)/python bench/load/run.py --learners $(LEARNERS) --servers 2 --pgbouncer --no-probe

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .test-db.sqlite3* staticfiles .pytest_cache .ruff_cache
