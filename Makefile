# make run             - the portal, a worker and beat on 127.0.0.1:8000 (embedded defaults)
# make test            - the whole test suite
# make provision-local - the AWS side, on the moto server that LOCAL_AWS=1 make run starts
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
LOCAL_AWS_ON := $(filter 1 true yes,$(LOCAL_AWS))
PROCESSES := web worker beat $(if $(LOCAL_AWS_ON),aws,)
# moto's server as the Procfile's "aws" process starts it.
LOCAL_AWS_PORT ?= 5055
LOCAL_AWS_URL := http://127.0.0.1:$(LOCAL_AWS_PORT)

.PHONY: run test lint bench install migrate clean provision-local

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

var/secret_key:
	mkdir -p var
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	chmod 600 $@

# Local runs are plain HTTP on loopback: cookies cannot be marked secure there.
run: export SESSION_COOKIE_SECURE ?= false
run: export CSRF_COOKIE_SECURE ?= false
run: export AWS_ENDPOINT_URL := $(if $(LOCAL_AWS_ON),$(LOCAL_AWS_URL),$(AWS_ENDPOINT_URL))
run: export AWS_ACCESS_KEY_ID := $(if $(LOCAL_AWS_ON),local,$(AWS_ACCESS_KEY_ID))
run: export AWS_SECRET_ACCESS_KEY := $(if $(LOCAL_AWS_ON),local,$(AWS_SECRET_ACCESS_KEY))
# Ctrl-C stops a thread pool cleanly (see CELERY_WORKER_POOL in settings).
run: export CELERY_WORKER_POOL ?= threads
# manage.py reads var/secret_key by itself, as gunicorn and Celery read the export.
# Ctrl-C makes honcho stop everything and exit 130: that is the normal way out.
run: install var/secret_key
	export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat var/secret_key)}"; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(PY) manage.py seed_demo && \
	{ PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/honcho start $(PROCESSES) || [ $$? -eq 130 ]; }

# In a second shell while LOCAL_AWS=1 make run runs: every AWS resource, on moto.
provision-local: export AWS_ENDPOINT_URL := $(LOCAL_AWS_URL)
provision-local: export AWS_ACCESS_KEY_ID := local
provision-local: export AWS_SECRET_ACCESS_KEY := local
provision-local: install var/secret_key
	$(PY) manage.py provision_aws
	$(PY) manage.py verify_aws

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var/broker var/cache staticfiles test-artifacts
