"""The client's IP address, for every per-client limit and for consent evidence.

Behind TRUSTED_PROXY_COUNT proxies, each proxy appends the address it received
the connection from to X-Forwarded-For, and the last one connects to us
(REMOTE_ADDR). The client is then the TRUSTED_PROXY_COUNT-th entry from the
right: everything to its left was written by the client and proves nothing.
With no proxies (the default) the header is ignored and REMOTE_ADDR is used.

django-ratelimit calls client_ip through RATELIMIT_IP_META_KEY (its documented
hook for a callable), and django-axes through AXES_CLIENT_IP_CALLABLE for the
admin-login lockout.

signup_source() names where a sign-up came from for the confirmation cap's fair
release: the client's network, kept only as a salted hash.
"""

import hashlib
import hmac
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


# The network a sign-up source is: one subscriber line's worth of addresses. An IPv6
# host gets a whole /64, and a /24 is what one IPv4 customer or small data-centre
# tenant usually holds, so stepping through neighbouring addresses makes no new source.
IPV4_SOURCE_PREFIX = 24
IPV6_SOURCE_PREFIX = 64


def signup_source(request: HttpRequest) -> str:
    """Where a sign-up came from: the salted hash of the client's network (64 hex
    digits). The address itself is never stored for this; "" is kept for sign-ups
    with no client (imports, the admin)."""
    return source_of(client_ip(request))


def source_of(ip: str) -> str:
    """The salted hash of ip's /24 (IPv4) or /64 (IPv6) network."""
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped:
        # ::ffff:a.b.c.d is an IPv4 client: one /64 would hold every such client.
        address = address.ipv4_mapped
    prefix = IPV4_SOURCE_PREFIX if address.version == 4 else IPV6_SOURCE_PREFIX
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    # The salt phone hashes use (subscribers.consent.phone_hash), with a label of its
    # own so a network's hash can never equal a number's.
    salt = (settings.PHONE_HASH_SALT or settings.SECRET_KEY).encode()
    return hmac.new(salt, f"signup-source:{network}".encode(), hashlib.sha256).hexdigest()


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
