"""The send pipeline through aws-sms against the SNS provider, in the same run.

A broadcast to BENCH_AWS_SUBSCRIBERS (default 2,000) subscribers goes out twice
on one scratch database, as in bench_broadcast: `daily.start()` → fan-out →
Celery workers (separate processes, thread pools) → provider → status recorded,
until every message is sent; SMS_SEND_RATE far above reach. Once with
SMS_PROVIDER=sns, once with SMS_PROVIDER=aws-sms; the figure is aws-sms's msg/s
as a share of SNS's (target >= 90 %).

Both providers go through real boto3 clients to real HTTP servers on loopback,
in this process's threads:

- SNS: moto's ThreadedMotoServer answers Publish and the opt-out check
  (CheckIfPhoneNumberIsOptedOut) on every send, and PutMetricData;
- aws-sms: tests/fakes/aws_sms_server.py answers SendTextMessage, and
  DescribePhoneNumbers for the origination number's MPS (read once, cached). It is
  a production account with one origination number whose MPS is far above the run,
  the `smsbot` configuration set and a spend quota far above it, which both
  providers' budget guard reads (DescribeSpendLimits).

The portal's sandbox read (GetSMSSandboxAccountStatus, which moto lacks) is
answered by tests/fakes/sns_sandbox.py in front of moto for this process, which
starts the broadcast; the workers find it cached and talk to moto directly, so
SNS's Publish pays no extra hop.

What the fakes add or lack: no network latency, TLS or request signing checks, no
throttling by AWS; moto does more work per request than the End User Messaging
fake (a werkzeug app and its backend against a small http.server handler), and
both share this process's interpreter with the polling loop. The figures compare
the portal's code on the two send paths (SNS makes two calls a send, aws-sms one),
not AWS's services.
"""

import logging
import os
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from bench.shared import (
    IN_FLIGHT,
    ROOT,
    WORKERS,
    broadcast_until_sent,
    create_subscribers,
    scratch_database,
    start_workers,
    stop_workers,
    worker_env,
)

SUBSCRIBERS = int(os.environ.get("BENCH_AWS_SUBSCRIBERS", "2000"))
ORIGIN = "+13125550100"
ACCOUNT = "123456789012"
UNREACHABLE = 1_000_000  # msg/s, USD: far above what the run reaches or spends
TARGET = 0.90


@dataclass
class Endpoints:
    """moto (SNS), the SNS sandbox in front of it, End User Messaging SMS: all listening."""

    moto: Any
    moto_url: str
    proxy: Any
    eum: Any

    @classmethod
    def start(cls) -> "Endpoints":
        from moto.server import ThreadedMotoServer

        from tests.conftest import free_port
        from tests.fakes.aws_sms_server import FakeSmsVoice, SpendLimit
        from tests.fakes.faulty_proxy import FaultyProxy
        from tests.fakes.sns_sandbox import SnsSandbox

        port = free_port()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto.start()
        moto_url = f"http://127.0.0.1:{port}"
        proxy = FaultyProxy(moto_url, answers=SnsSandbox(in_sandbox=False)).start()
        eum = FakeSmsVoice(tier="PRODUCTION").start()
        eum.spend_limit = SpendLimit(enforced=UNREACHABLE, maximum=UNREACHABLE)
        eum.add_phone_number(ORIGIN, "TOLL_FREE", mps=UNREACHABLE)
        return cls(moto, moto_url, proxy, eum)

    def stop(self) -> None:
        self.eum.stop()
        self.proxy.stop()
        self.moto.stop()


def provider_settings(provider: str, aws_endpoint: str, eum_url: str) -> dict[str, str]:
    return {
        "SMS_PROVIDER": provider,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2": eum_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCOUNT_ID": ACCOUNT,
        "SMS_ORIGINATION_NUMBERS": ORIGIN,
        "SMS_MONTHLY_SPEND_LIMIT_USD": str(UNREACHABLE),
        "QUIET_HOURS": "",
    }


def apply_settings(values: dict[str, str]) -> None:
    """The same settings for this process, which starts the broadcast."""
    from decimal import Decimal

    from django.conf import settings

    for name, value in values.items():
        setattr(settings, name, value)
    settings.SMS_ORIGINATION_NUMBERS = [values["SMS_ORIGINATION_NUMBERS"]]
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal(values["SMS_MONTHLY_SPEND_LIMIT_USD"])
    settings.SMS_SEND_RATE = float(UNREACHABLE)


def subscribers_less_opted_out(n: int) -> int:
    """n fictional subscribers less those moto's SNS calls opted out: its
    CheckIfPhoneNumberIsOptedOut says yes to every number ending in 99. How many are left."""
    from subscribers.models import Subscriber

    create_subscribers(n)
    Subscriber.objects.filter(phone__endswith="99").delete()
    return Subscriber.objects.count()


def _run_one(provider: str, day: date, db_url: str, at: Endpoints, audience: int) -> float:
    """One broadcast through provider; its msg/s, first send to the last one recorded."""
    from django.core.cache import cache

    from messaging.models import Message
    from tests.conftest import purge_queues

    Message.objects.all().delete()
    cache.clear()
    purge_queues()
    apply_settings(provider_settings(provider, at.proxy.url, at.eum.url))
    env = {
        **worker_env(db_url, UNREACHABLE),
        **provider_settings(provider, at.moto_url, at.eum.url),
    }
    env.pop("RECORDING_LATENCY")
    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    workers = start_workers(WORKERS, env, log_dir, f"bench-{provider}")
    try:
        elapsed, _ = broadcast_until_sent(day, audience, timeout=900)
    finally:
        stop_workers(workers)
    return audience / elapsed


def run() -> list[str]:
    import django

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    django.setup()
    from django.db import connection

    from smsbot import aws
    from smsbot.aws_names import CONFIGURATION_SET
    from tests.conftest import purge_queues

    db_url, original = scratch_database()
    at = Endpoints.start()
    try:
        apply_settings(provider_settings("aws-sms", at.proxy.url, at.eum.url))
        aws.client("pinpoint-sms-voice-v2").create_configuration_set(
            ConfigurationSetName=aws.resource_name(CONFIGURATION_SET)
        )
        audience = subscribers_less_opted_out(SUBSCRIBERS)
        sns = _run_one("sns", date(2030, 1, 1), db_url, at, audience)
        aws_sms = _run_one("aws-sms", date(2030, 1, 2), db_url, at, audience)
        calls = Counter(c.operation for c in at.eum.calls)
    finally:
        purge_queues()
        at.stop()
        connection.creation.destroy_test_db(original, verbosity=0)
    share = aws_sms / sns
    return [
        f"{audience} subscribers, {WORKERS} worker processes, {IN_FLIGHT} sends in flight "
        f"each, {connection.vendor}; moto and the End User Messaging SMS fake on loopback",
        f"sns (CheckIfPhoneNumberIsOptedOut + Publish, moto): {sns:.0f} msg/s",
        f"aws-sms (SendTextMessage): {aws_sms:.0f} msg/s",
        "End User Messaging SMS calls over both runs: "
        + ", ".join(f"{op} {n}" for op, n in calls.most_common()),
        f"aws-sms = {share:.0%} of sns (target >= {TARGET:.0%})"
        + ("" if share >= TARGET else "  ** below target **"),
    ]
