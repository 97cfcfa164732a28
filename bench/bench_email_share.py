"""A broadcast with a 10 % e-mail share against the same broadcast all by SMS, in one run.

The same audience (BENCH_EMAIL_SUBSCRIBERS, default 2,000, less the numbers moto's
SNS calls opted out) gets the daily broadcast twice on one scratch database, as in
bench_aws_providers: `daily.start()` → fan-out → Celery workers (separate
processes, thread pools) → provider → status recorded, until every message is
sent. Once all by SMS (SMS_PROVIDER=sns: CheckIfPhoneNumberIsOptedOut + Publish on
moto); once with every tenth subscriber on the e-mail channel (an address
confirmed), whose message goes through django-anymail's Amazon SES backend to
moto's sesv2 SendEmail, rendered as text and HTML with the unsubscribe headers.
Each kind runs twice, in the order SMS, e-mail, e-mail, SMS; the figure is the mixed
runs' mean msg/s as a share of the SMS-only runs' (target >= 90 %).

Both rates are set far above reach: SMS_SEND_RATE, and SES's MaxSendRate (moto's
sesv2 has no GetAccount, so the rate messaging.providers.ses.quota would read is
put in the shared cache). A real account's MaxSendRate (14/s when it leaves the
sandbox) would be the bound there; this compares the portal's two send paths.
"""

import logging
import os
from datetime import date
from typing import Any

from bench.bench_aws_providers import (
    UNREACHABLE,
    Endpoints,
    apply_settings,
    provider_settings,
    subscribers_less_opted_out,
)
from bench.shared import (
    IN_FLIGHT,
    ROOT,
    WORKERS,
    broadcast_until_sent,
    scratch_database,
    start_workers,
    stop_workers,
    worker_env,
)

SUBSCRIBERS = int(os.environ.get("BENCH_EMAIL_SUBSCRIBERS", "2000"))
EMAIL_EVERY = 10  # every tenth subscriber: a 10 % e-mail share
ORDER = ("sms", "email", "email", "sms")
TARGET = 0.90
EMAIL = {
    "EMAIL_FROM": "Daily Word <daily@example.com>",
    "EMAIL_POSTAL_ADDRESS": "1 Example Plaza, Chicago, IL 60601",
    "PUBLIC_BASE_URL": "https://portal.example.com",
}


def _give_addresses(every: int) -> list[int]:
    """Every `every`-th subscriber gets a confirmed address (still reading by SMS)."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from subscribers.models import Subscriber

    ids = list(Subscriber.objects.order_by("id").values_list("id", flat=True)[::every])
    address = Concat(Value("reader"), Cast("id", CharField()), Value("@example.com"))
    Subscriber.objects.filter(pk__in=ids).update(email=address, email_status="opted_in")
    return ids


def _read_by(ids: list[int], channel: str) -> None:
    from subscribers.models import Subscriber

    Subscriber.objects.filter(pk__in=ids).update(channel=channel)


def _run_one(day: date, db_url: str, at: Endpoints, audience: int) -> float:
    """One broadcast; its msg/s, from the start to the last message recorded sent."""
    from django.core.cache import cache

    from messaging.models import Message
    from messaging.providers.ses import quota
    from tests.conftest import purge_queues

    Message.objects.all().delete()
    cache.clear()
    purge_queues()
    apply_settings({**provider_settings("sns", at.proxy.url, at.eum.url), **EMAIL})
    # What GetAccount's SendQuota.MaxSendRate would say, for every process (shared cache).
    cache.set(quota.CACHE_KEY, float(UNREACHABLE), quota.CACHE_SECONDS)
    env = {
        **worker_env(db_url, UNREACHABLE),
        **provider_settings("sns", at.moto_url, at.eum.url),
        **EMAIL,
    }
    env.pop("RECORDING_LATENCY")
    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    workers = start_workers(WORKERS, env, log_dir, "bench-email")
    try:
        elapsed, _ = broadcast_until_sent(day, audience, timeout=900)
    finally:
        stop_workers(workers)
    return audience / elapsed


def _sent_by_ses(moto_url: str) -> int:
    import requests

    data: dict[str, Any] = requests.get(f"{moto_url}/moto-api/data.json", timeout=30).json()
    return len(data.get("ses", {}).get("RawMessage", []))


def run() -> list[str]:
    import django

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    django.setup()
    from django.db import connection

    from smsbot import aws
    from smsbot.aws_names import SES_CONFIGURATION_SET
    from tests.conftest import purge_queues

    db_url, original = scratch_database()
    at = Endpoints.start()
    try:
        apply_settings(provider_settings("sns", at.moto_url, at.eum.url))
        ses = aws.client("sesv2")
        ses.create_email_identity(EmailIdentity="example.com")
        ses.create_configuration_set(ConfigurationSetName=aws.resource_name(SES_CONFIGURATION_SET))
        audience = subscribers_less_opted_out(SUBSCRIBERS)
        readers = _give_addresses(EMAIL_EVERY)
        rates: dict[str, list[float]] = {"sms": [], "email": []}
        # SMS only, with e-mail, with e-mail, SMS only: a machine growing busier or
        # quieter during the run weighs on both kinds alike.
        for day, kind in enumerate(ORDER, start=1):
            _read_by(readers, "email" if kind == "email" else "sms")
            rates[kind].append(_run_one(date(2030, 1, day), db_url, at, audience))
        mailed = _sent_by_ses(at.moto_url)
    finally:
        purge_queues()
        at.stop()
        connection.creation.destroy_test_db(original, verbosity=0)
    sms_only, mixed = (sum(rates[k]) / len(rates[k]) for k in ("sms", "email"))
    share = mixed / sms_only
    return [
        f"{audience} subscribers, {WORKERS} worker processes, {IN_FLIGHT} sends in flight "
        f"each, {connection.vendor}; moto (SNS, SES v2) on loopback; runs in the order "
        + ", ".join(ORDER),
        "SMS only (sns): " + _rates(rates["sms"]),
        f"{len(readers) / audience:.0%} by e-mail ({len(readers)} a run through SES, {mailed} in "
        "moto's sent mail over both), the rest by SMS: " + _rates(rates["email"]),
        f"with e-mail = {share:.0%} of SMS only (target >= {TARGET:.0%}): "
        + ("ok" if share >= TARGET else "OVER (slower than the target allows)"),
    ]


def _rates(found: list[float]) -> str:
    runs = " and ".join(f"{r:.0f}" for r in found)
    return f"{sum(found) / len(found):.0f} msg/s (runs: {runs})"
