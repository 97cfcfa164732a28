"""SMS provider failover (SMS_FAILOVER) over real HTTP: moto's SNS, the fake Twilio.

A message moves to the other provider only when the first provably did not send
it; the two fake servers' own request logs show that nothing was sent twice.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import requests
from django.core.management import call_command
from django.test import Client

from messaging.billing import build, pricing
from messaging.models import (
    Broadcast,
    BroadcastState,
    DailyContent,
    Message,
    MessageKind,
    MessageStatus,
    ProviderCall,
)
from messaging.outbound import dispatch, failover
from messaging.reports import rollups
from subscribers.models import Subscriber
from tests.conftest import free_port
from tests.fakes.faulty_proxy import AWS_QUERY_ERROR, FaultyProxy
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.pipeline.conftest import opted_in, wait_for
from tests.ops.factories import ops_manager

DAY = date(2026, 11, 23)
BODY = "Word of the day: serendipity"
pytestmark = pytest.mark.django_db


@pytest.fixture
def both(settings, twilio, aws, aws_sms) -> Iterator[FakeTwilio]:  # type: ignore[no-untyped-def]
    """SNS first, Twilio as failover; fast retries, a high rate, no cool-down unless set.
    End User Messaging SMS answers at its own endpoint, as on a real account: the send
    guard reads the account's spend quota there (DescribeSpendLimits), and without it
    those reads would go through the proxy and take the faults meant for Publish."""
    settings.SMS_PROVIDER, settings.SMS_FAILOVER = "sns", "twilio"
    settings.SMS_SEND_RATE = 1000
    settings.SEND_RETRY_BASE_SECONDS = 0.2
    settings.SEND_RETRY_MAX_SECONDS = 1
    settings.FAILOVER_FAILURE_THRESHOLD = 1000
    settings.SNS_CHECK_OPT_OUT = False
    yield twilio


@pytest.fixture
def proxy(aws, settings) -> Iterator[FaultyProxy]:  # type: ignore[no-untyped-def]
    with FaultyProxy(aws) as proxy:
        settings.AWS_ENDPOINT_URL = proxy.url
        yield proxy


def sns_closed(settings) -> None:  # type: ignore[no-untyped-def]
    """SNS at a port nothing listens on: every connection is refused."""
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"


def moto_sms(moto_url: str) -> list[dict]:
    data = requests.get(f"{moto_url}/moto-api/data.json", timeout=10).json()
    return data.get("sns", {}).get("SMS", [])  # no "sns" key: SNS never used


def twilio_sends(twilio: FakeTwilio) -> list[str]:
    """The To of every message request the fake Twilio received (accepted or not)."""
    return [r.form["To"] for r in twilio.requests if r.path.endswith("/Messages.json")]


def publishes(proxy: FaultyProxy) -> list[str]:
    forms = [parse_qs(r.body) for r in proxy.requests]
    return [f["PhoneNumber"][0] for f in forms if f.get("Action") == ["Publish"]]


def reply(subscriber: Subscriber, provider: str = "sns") -> Message:
    message = build.outbound(
        kind=MessageKind.REPLY,
        channel="sms",
        provider=provider,
        phone=subscriber.phone,
        body=BODY,
        subscriber=subscriber,
        status=MessageStatus.QUEUED,
    )
    message.save()
    return message


def send_until_settled(message: Message) -> dispatch.Outcome:
    """dispatch.send again while it asks to (a failover queues it at once), as the task does."""
    for _ in range(5):
        outcome = dispatch.send(message.pk)
        if outcome.status != failover.MOVED:
            return outcome
    raise AssertionError("moved more than once")


def finished() -> bool:
    b = Broadcast.objects.filter(idempotency_key=f"daily:{DAY}").first()
    return b is not None and b.state == BroadcastState.DONE


def test_with_sns_refusing_connections_a_broadcast_completes_through_twilio_once_each(
    celery_worker, both, aws, settings
):
    sns_closed(settings)
    subs = opted_in(8)
    DailyContent.objects.create(date=DAY, text=BODY)

    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="the broadcast to finish")

    messages = Message.objects.filter(broadcast__idempotency_key=f"daily:{DAY}")
    assert set(messages.values_list("status", "provider")) == {(MessageStatus.SENT, "twilio")}
    # Each number reached Twilio exactly once, SNS never.
    assert sorted(twilio_sends(both)) == sorted(s.phone for s in subs)
    assert moto_sms(aws) == []
    # Both attempts are in each message's call log, SNS's first.
    for message in messages:
        calls = list(message.provider_calls.order_by("created_at", "id"))
        assert [(c.provider, c.outcome) for c in calls] == [
            ("sns", "retryable"),
            ("twilio", "sent"),
        ]
    # The estimate, and so the cost report, follow the provider that sent.
    twilio_price = pricing.estimate("twilio", "sms", BODY, phone=subs[0].phone)
    assert twilio_price != pricing.estimate("sns", "sms", BODY, phone=subs[0].phone)
    assert set(messages.values_list("price_estimated", flat=True)) == {twilio_price}
    call_command("refresh_rollups", "--all")
    today = rollups.today()
    client = Client()
    client.force_login(ops_manager())
    report = client.get(
        "/admin/messaging/message/costs/",
        {"start": str(rollups.month_start(today)), "end": str(today), "format": "csv"},
    )
    rows = list(csv.DictReader(io.StringIO(report.content.decode())))
    assert [(r["provider"], r["channel"]) for r in rows] == [("twilio", "sms")]
    assert Decimal(rows[0]["estimated_usd"]) == twilio_price * len(subs)


def test_throttling_beyond_the_retries_moves_only_the_turned_away_messages(
    both, proxy, aws, settings
):
    settings.SNS_RETRY_ATTEMPTS = 1  # botocore tries twice
    settings.SEND_MAX_ATTEMPTS = 2  # and the dispatcher twice: four throttles, then Twilio
    first, second = opted_in(2)
    throttled = AWS_QUERY_ERROR.format(code="Throttling", message="Rate exceeded")
    proxy.fail_next(400, throttled, times=4, action="Publish")
    moved, stayed = reply(first), reply(second)

    assert dispatch.send(moved.pk).status == "retry"  # its own retries first
    Message.objects.filter(pk=moved.pk).update(next_attempt_at=None)
    assert send_until_settled(moved).status == MessageStatus.SENT
    assert send_until_settled(stayed).status == MessageStatus.SENT

    moved.refresh_from_db()
    stayed.refresh_from_db()
    assert (moved.provider, stayed.provider) == ("twilio", "sns")
    assert twilio_sends(both) == [first.phone]
    assert [sms["phone_number"] for sms in moto_sms(aws)] == [second.phone]
    assert publishes(proxy) == [first.phone] * 4 + [second.phone]
    assert moved.provider_calls.filter(provider="sns").count() == 2
    assert moved.price_estimated == pricing.estimate("twilio", "sms", BODY, phone=first.phone)


def test_sns_unavailable_before_acceptance_moves_but_an_internal_error_does_not(
    both, proxy, aws, settings
):
    settings.SNS_RETRY_ATTEMPTS = 0
    settings.SEND_MAX_ATTEMPTS = 1
    first, second = opted_in(2)
    proxy.fail_next(
        503, AWS_QUERY_ERROR.format(code="ServiceUnavailable", message="busy"), action="Publish"
    )
    assert send_until_settled(reply(first)).status == MessageStatus.SENT
    assert twilio_sends(both) == [first.phone]

    # A 500 may follow the Publish: retried nowhere else (here: out of attempts, failed).
    proxy.fail_next(
        500, AWS_QUERY_ERROR.format(code="InternalError", message="oops"), action="Publish"
    )
    settings.SNS_RETRY_ATTEMPTS = 3  # botocore must not retry it either
    message = reply(second)
    assert send_until_settled(message).status == MessageStatus.FAILED
    message.refresh_from_db()
    assert message.provider == "sns"
    assert twilio_sends(both) == [first.phone]
    assert publishes(proxy) == [first.phone, second.phone]


def test_a_publish_whose_answer_was_lost_is_not_moved_but_needs_review(both, proxy, aws):
    [subscriber] = opted_in(1)
    proxy.drop_next(
        action="Publish"
    )  # SNS takes the Publish, the connection drops before the answer
    message = reply(subscriber)

    assert send_until_settled(message).status == MessageStatus.NEEDS_REVIEW

    message.refresh_from_db()
    assert (message.provider, message.status) == ("sns", MessageStatus.NEEDS_REVIEW)
    assert len(moto_sms(aws)) == 1  # SNS did send it: Twilio must not
    assert twilio_sends(both) == []


@pytest.mark.parametrize(
    "fault", ["timeout", "maybe-sent"], ids=["timeout-after-sending", "5xx-after-acceptance"]
)
def test_twilio_first_ambiguous_outcomes_never_reach_sns(both, aws, settings, fault):
    settings.SMS_PROVIDER, settings.SMS_FAILOVER = "twilio", "sns"
    [subscriber] = opted_in(1)
    if fault == "timeout":
        both.hang_next(3.0)  # reads the request, accepts it after the client gave up
    else:
        both.fail_next(500, code=20500)
    message = reply(subscriber, provider="twilio")

    assert send_until_settled(message).status == MessageStatus.NEEDS_REVIEW

    message.refresh_from_db()
    assert message.provider == "twilio"
    assert len(twilio_sends(both)) == 1
    assert moto_sms(aws) == []


def test_twilio_refusing_connections_fails_over_to_sns(both, aws, settings):
    settings.SMS_PROVIDER, settings.SMS_FAILOVER = "twilio", "sns"
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{free_port()}"
    [subscriber] = opted_in(1)
    message = reply(subscriber, provider="twilio")

    assert send_until_settled(message).status == MessageStatus.SENT

    message.refresh_from_db()
    assert message.provider == "sns"
    assert [sms["phone_number"] for sms in moto_sms(aws)] == [subscriber.phone]
    assert message.price_estimated == pricing.estimate("sns", "sms", BODY, phone=subscriber.phone)


def test_a_failing_provider_cools_down_is_skipped_and_the_banner_says_so(both, aws, settings):
    settings.FAILOVER_FAILURE_THRESHOLD = 2
    settings.FAILOVER_COOLDOWN_SECONDS = 300
    sns_closed(settings)
    subs = opted_in(4)
    messages = [reply(s) for s in subs]

    for message in messages[:2]:
        assert send_until_settled(message).status == MessageStatus.SENT
    assert failover.cooling_down("sns") is not None
    for message in messages[2:]:
        assert send_until_settled(message).status == MessageStatus.SENT

    # The first two tried SNS and moved; the rest skipped it without a call.
    tried = ProviderCall.objects.filter(provider="sns").values_list("message_id", flat=True)
    assert sorted(tried) == sorted(m.pk for m in messages[:2])
    assert sorted(twilio_sends(both)) == sorted(s.phone for s in subs)
    assert set(Message.objects.values_list("provider", flat=True)) == {"twilio"}

    client = Client()
    client.force_login(ops_manager())
    page = client.get("/admin/").content.decode()
    assert "Provider failover: AWS SNS failed 2 times without sending" in page
    assert "go through Twilio meanwhile" in page


def test_the_cool_down_never_moves_a_message_already_tried(both, aws, settings):
    settings.FAILOVER_FAILURE_THRESHOLD = 1
    sns_closed(settings)
    first, second = opted_in(2)
    send_until_settled(reply(first))  # refused: moves, and SNS now cools down
    assert failover.cooling_down("sns") is not None
    # A message SNS already had (a 500: it may have sent it) waits for SNS, cool-down or not.
    tried = reply(second)
    Message.objects.filter(pk=tried.pk).update(attempts=1)

    assert not failover.before_claim(Message.objects.get(pk=tried.pk))
    assert Message.objects.get(pk=tried.pk).provider == "sns"


def test_whatsapp_and_the_failover_provider_itself_never_move(both, settings):
    [subscriber] = opted_in(1, channel="whatsapp")
    whatsapp = build.outbound(
        kind=MessageKind.REPLY, channel="whatsapp", provider="twilio", phone=subscriber.phone,
        body=BODY, subscriber=subscriber, status=MessageStatus.QUEUED,
    )  # fmt: skip
    assert failover.backup_for(whatsapp) is None
    on_backup = build.outbound(
        kind=MessageKind.REPLY, channel="sms", provider="twilio", phone=subscriber.phone,
        body=BODY, status=MessageStatus.QUEUED,
    )  # fmt: skip
    assert failover.backup_for(on_backup) is None
    settings.SMS_FAILOVER = ""
    sms = build.outbound(
        kind=MessageKind.REPLY, channel="sms", provider="sns", phone=subscriber.phone,
        body=BODY, status=MessageStatus.QUEUED,
    )  # fmt: skip
    assert failover.backup_for(sms) is None
