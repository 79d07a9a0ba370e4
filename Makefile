# fundapp — `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PO     := $(wildcard fundapp/translations/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)
export FLASK_APP := fundapp


.PHONY: system-packages
.PHONY: run test venv translations extract-messages bench lint clean

run: venv translations system-packages
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@# The task worker (Huey; imports run in it) runs beside the server and stops with it (Ctrl-C or any exit).
	$(BIN)/huey_consumer fundapp.tasks.huey --workers 2 --logfile instance/huey.log & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: venv translations system-packages
	$(BIN)/pytest -n $${PYTEST_WORKERS:-auto} --dist loadgroup

venv: $(STAMP)

system-packages:
	@bash scripts/system-packages.sh

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

translations: $(MO)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

# Refresh the catalogs after changing user-facing strings, then translate the new zh_CN entries.
extract-messages: venv
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs='.*' -k _l -k lazy_gettext -k books_text -o fundapp/translations/messages.pot .
	$(BIN)/pybabel update -N -i fundapp/translations/messages.pot -d fundapp/translations

# Ledger benchmarks (bench/README.md), about 10 minutes; e.g. `make bench BENCH_ARGS="--with-10m"` or "--quick".
bench: venv
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

lint: venv
	$(BIN)/ruff check fundapp tests bench config.py
