"""The client IP behind TRUSTED_PROXY_COUNT proxies: never a value the client chooses."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from smsbot.client_ip import client_ip
from subscribers.models import ConsentEvent, Subscriber

FORM = reverse("subscribers:optin")
PROXY = "10.0.0.2"


def ip_of(settings, proxies: int, **meta: str) -> str:
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/")
    request.META.pop("REMOTE_ADDR", None)
    request.META.update(meta)
    return client_ip(request)


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "192.0.2.10"}, "192.0.2.10"),
        (0, {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, "192.0.2.10"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, "198.51.100.1"),
        # The client wrote the left part; our proxy appended the right-most one.
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.1"},
         "198.51.100.1"),
        (2, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.1, 10.0.0.9"},
         "198.51.100.1"),
        # Fewer hops than proxies: the request came round the proxies.
        (2, {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "192.0.2.10"),
        (1, {"REMOTE_ADDR": PROXY}, PROXY),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ""}, PROXY),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": " , ,"}, PROXY),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "not-an-ip"}, PROXY),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1:4711"}, "198.51.100.1"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "[2001:db8::1]:4711"}, "2001:db8::1"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "2001:DB8::1"}, "2001:db8::1"),
        (0, {}, "0.0.0.0"),
        (0, {"REMOTE_ADDR": ""}, "0.0.0.0"),
        (1, {"REMOTE_ADDR": "", "HTTP_X_FORWARDED_FOR": "garbage"}, "0.0.0.0"),
    ],
)  # fmt: skip
def test_client_ip(settings, proxies, meta, expected):
    assert ip_of(settings, proxies, **meta) == expected


def submit(client, phone: str, **meta: str):
    data = {"phone": phone, "channel": "sms", "consent": "on"}
    return client.post(FORM, data, **meta)


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_the_limit_without_proxies(client, settings, probe):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.OPTIN_RATE_LIMIT = "3/h"
    probe.must_refuse = 7
    for n in range(10):
        response = submit(
            client,
            f"+1312555{100 + n:04d}",
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        probe.attack(response, refused=response.status_code == 429)
    assert probe.statuses == [302] * 3 + [429] * 7
    assert {e.evidence["ip"] for e in ConsentEvent.objects.all()} == {"192.0.2.10"}


@pytest.mark.django_db
def test_behind_one_proxy_the_right_most_hop_is_the_client(client, settings, probe):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.OPTIN_RATE_LIMIT = "3/h"
    probe.must_refuse = 7
    # The attacker varies the part of the header it controls; the proxy appends its address.
    for n in range(10):
        response = submit(
            client,
            f"+1312555{100 + n:04d}",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7",
        )
        probe.attack(response, refused=response.status_code == 429)
    assert probe.statuses == [302] * 3 + [429] * 7
    # Another client behind the same proxy has its own budget.
    other = submit(client, "+13125550150", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 302
    ips = [e.evidence["ip"] for e in ConsentEvent.objects.order_by("id")]
    assert ips == ["203.0.113.7"] * 3 + ["203.0.113.8"]


@pytest.mark.django_db
def test_requests_without_or_with_broken_headers_never_fail(client, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    for n, meta in enumerate(
        [
            {"REMOTE_ADDR": ""},
            {"REMOTE_ADDR": PROXY},
            {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "\x00, ::::, 999.1.1.1"},
            {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "x" * 5000},
            {"REMOTE_ADDR": "not an address"},
        ]
    ):
        assert submit(client, f"+1312555{160 + n:04d}", **meta).status_code == 302, meta
    assert Subscriber.objects.count() == 5
