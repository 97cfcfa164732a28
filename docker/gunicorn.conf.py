"""gunicorn settings, shared by `make run` and the container."""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
# An empty value (a copied .env.example) means the default.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(4, multiprocessing.cpu_count() * 2))
# Webhook requests spend about half their time waiting on the database: with 4
# threads a worker keeps the CPU busy meanwhile (inbound bench: +30% req/s over 2).
threads = int(os.environ.get("WEB_THREADS") or 4)
timeout = 30
graceful_timeout = 20
accesslog = "-"
# Mask numbers in query strings too: the access log goes through no Django filter.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
