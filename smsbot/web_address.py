"""Where the web process listens (WEB_BIND) and the address a person opens for it.

One default for gunicorn's config (docker/gunicorn.conf.py, which `make run` and the
image share) and for the banners that tell an operator where the admin is.
"""

import os

DEFAULT_BIND = "127.0.0.1:8000"
# gunicorn's port when a bind names only a host.
DEFAULT_PORT = "8000"
# Listening on every interface: the portal answers on loopback, among others.
ALL_INTERFACES = {"", "0.0.0.0", "[::]"}  # noqa: S104 - recognised, not bound


def web_bind() -> str:
    """WEB_BIND, or the default when it is unset or empty (a copied .env.example)."""
    return os.environ.get("WEB_BIND") or DEFAULT_BIND


def admin_url(bind: str) -> str:
    """The admin's address for a gunicorn bind (host:port, [v6]:port, or unix:path)."""
    if bind.startswith(("unix:", "fd://")):
        return f"{bind} (a socket: open it through the proxy in front of it)"
    host, colon, port = bind.rpartition(":")
    if not colon or not port.isdigit():  # a host alone: "localhost", "[::1]"
        host, port = bind, DEFAULT_PORT
    if host in ALL_INTERFACES:
        return f"http://127.0.0.1:{port}/admin/ (listening on {bind})"
    return f"http://{host}:{port}/admin/"
