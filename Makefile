# `make run` and `make test` do all the set-up on a fresh machine; `make serve`
# runs the production configuration (see README, "Production").
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000
WEB_CONCURRENCY ?= 2

.PHONY: run serve secret-key-set test lint install migrate clean load-test fault-test

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed.
$(VENV)/.installed: $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Production needs only the runtime set.
$(VENV)/.installed-runtime: $(PY) requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput

run: migrate
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo --if-empty
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST)

# Settings refuse to start without DJANGO_SECRET_KEY when debug is off; this
# says so in one line, before installing anything.
secret-key-set:
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: set DJANGO_SECRET_KEY to a long random value (see README, Production)" >&2; exit 1; }

serve: secret-key-set $(VENV)/.installed-runtime
	DJANGO_DEBUG=0 $(PY) manage.py collectstatic --noinput
	DJANGO_DEBUG=0 $(PY) manage.py migrate_locked --noinput
	DJANGO_DEBUG=0 exec $(VENV)/bin/gunicorn crm.wsgi --bind $(HOST) \
		--workers $(WEB_CONCURRENCY) --no-control-socket

test: install
	$(PY) -m pytest

# ruff, configured in ruff.toml; the code keeps its own formatting.
lint: install
	$(VENV)/bin/ruff check .

# wrk drives the load test: without it, stop with one line saying how to get
# it, before anything is installed or started.
ifneq ($(filter load-test,$(MAKECMDGOALS)),)
ifeq ($(shell command -v wrk),)
$(error make load-test: wrk is not installed: apt-get install -y wrk)
endif
endif

# Not part of the suite: needs PostgreSQL, Redis and wrk (see README, "Load test").
load-test: $(VENV)/.installed-runtime
	$(PY) bench/load_test.py

# Not part of the suite either: Redis killed, frozen and paused under load (see
# docs/performance.md, "Redis faults"); needs PostgreSQL and redis-server.
fault-test: $(VENV)/.installed-runtime
	$(PY) bench/fault_test.py $(FAULT_TEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
