# make run   - the portal, a worker and beat on 127.0.0.1:8000 (embedded defaults)
# make test  - the whole test suite
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
PROCESSES := web worker beat $(if $(filter 1 true yes,$(LOCAL_AWS)),aws,)

.PHONY: run test lint bench install migrate clean

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
run: export AWS_ENDPOINT_URL := $(if $(filter 1 true yes,$(LOCAL_AWS)),http://127.0.0.1:5055,$(AWS_ENDPOINT_URL))
run: export AWS_ACCESS_KEY_ID := $(if $(filter 1 true yes,$(LOCAL_AWS)),local,$(AWS_ACCESS_KEY_ID))
run: export AWS_SECRET_ACCESS_KEY := $(if $(filter 1 true yes,$(LOCAL_AWS)),local,$(AWS_SECRET_ACCESS_KEY))
run: install var/secret_key
	export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat var/secret_key)}"; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(PY) manage.py seed_demo && \
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/honcho start $(PROCESSES)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var/broker var/cache staticfiles test-artifacts
