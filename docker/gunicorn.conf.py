"""gunicorn settings, shared by `make run` and the container."""

import gc
import multiprocessing
import os
from pathlib import Path
from typing import Any

import environ

from smsbot.web_address import admin_url, web_bind

# The optional .env the settings read (make run): the master binds before Django
# loads, so WEB_BIND and the rest of this file's variables are read from it here too.
environ.Env.read_env(
    Path(__file__).resolve().parent.parent / ".env", overwrite=False, parse_comments=True
)
bind = web_bind()
# An empty value (a copied .env.example) means the default. One process per core,
# each with several threads: a webhook waits on the database about half its time,
# and fewer processes switch less (inbound bench on 2 cores: 2 x 8 answered 10%
# more requests than 4 x 4, with less CPU per request).
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, multiprocessing.cpu_count()))
threads = int(os.environ.get("WEB_THREADS") or 8)
timeout = 30
graceful_timeout = 20
accesslog = "-"
# Mask numbers in query strings too: the access log goes through no Django filter.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"


def when_ready(server: Any) -> None:
    # The address each socket actually got (WEB_BIND's port 0 picks a free one).
    for listener in server.LISTENERS:
        address = listener.sock.getsockname()
        if isinstance(address, tuple):
            host = f"[{address[0]}]" if ":" in address[0] else address[0]
            address = f"{host}:{address[1]}"
        else:
            address = f"unix:{address}"
        server.log.info("The portal's admin: %s", admin_url(address))


def post_worker_init(worker: Any) -> None:
    # Django and its imports leave a few hundred thousand long-lived objects that
    # every full collection walks again: 40-100 ms with all of the worker's
    # threads stopped (measured under the inbound bench). Frozen, they are
    # skipped.
    gc.freeze()


# The first requests fill Django's lazy caches (URL resolver, templates, query
# helpers) and open the database connections: freezing once more after them
# took the longest full collection from 19-28 ms to about 2 ms.
REFREEZE_AFTER = {200, 2000}
_served = 0


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    global _served
    _served += 1
    if _served in REFREEZE_AFTER:
        gc.freeze()
