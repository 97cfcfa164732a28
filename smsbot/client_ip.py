"""The client's IP address, for every per-client limit and for consent evidence.

Behind TRUSTED_PROXY_COUNT proxies, each proxy appends the address it received
the connection from to X-Forwarded-For, and the last one connects to us
(REMOTE_ADDR). The client is then the TRUSTED_PROXY_COUNT-th entry from the
right: everything to its left was written by the client and proves nothing.
With no proxies (the default) the header is ignored and REMOTE_ADDR is used.

django-ratelimit calls client_ip through RATELIMIT_IP_META_KEY (its documented
hook for a callable), and django-axes through AXES_CLIENT_IP_CALLABLE for the
admin-login lockout.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# What an address nobody can determine counts as: every such request shares one
# bucket, so the limits still hold (a proxy speaking over a Unix socket sends no
# REMOTE_ADDR).
UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder value, never bound to


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent request: always a valid IP address."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote or UNKNOWN
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        # The request did not pass through every proxy (or one dropped the
        # header): only the connection's own address is known.
        return remote or UNKNOWN
    return _address(hops[-proxies]) or remote or UNKNOWN


def _address(text: str) -> str:
    """text as a normalised IP address, accepting the "1.2.3.4:port" and "[v6]:port"
    forms some proxies write; "" when it is not an address."""
    candidates = [text]
    if text.startswith("[") and "]" in text:
        candidates.append(text[1 : text.index("]")])
    elif text.count(":") == 1:
        candidates.append(text.partition(":")[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return ""
