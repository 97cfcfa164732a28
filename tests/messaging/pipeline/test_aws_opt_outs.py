"""Opt-outs in step with AWS (issue 21 item 3), through the real doors: SNS inbound
webhooks signed by moto, a real Celery worker, moto's SNS behind the SNS sandbox and
opt-out-list model (tests/fakes/sns_sandbox.py), the End User Messaging SMS fake."""

import json
import time
import uuid
from datetime import date, timedelta

import pytest
import requests
from django.core.management import call_command

from messaging import tasks
from messaging.billing import build
from messaging.broadcasts import sandbox
from messaging.models import Broadcast, BroadcastState, DailyContent, Message, MessageStatus
from messaging.outbound import dispatch
from messaging.providers.sns import verification as sns_verify
from messaging.reports import alerts
from smsbot import opt_out_list, sms_account
from smsbot.aws import client as aws_client
from subscribers import consent
from subscribers.models import Subscriber, SubscriberEvent
from tests.messaging.pipeline.conftest import not_granted, opted_in, wait_for

PHONE = "+13125550123"
OTHER = "+13125550124"
DAY = date(2026, 11, 23)
BODY = "Word of the day: serendipity"
DAYS = 24 * 3600
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sns(sns_sandbox, settings):  # type: ignore[no-untyped-def]
    """SNS sends, out of the sandbox unless a test puts it back; fast retries."""
    settings.SMS_PROVIDER = "sns"
    settings.SNS_CHECK_OPT_OUT = True
    settings.SMS_SEND_RATE = 1000
    settings.SEND_RETRY_BASE_SECONDS = 0.2
    settings.SEND_RETRY_MAX_SECONDS = 1
    sns_sandbox.in_sandbox = False
    return sns_sandbox


@pytest.fixture
def inbound(live_server, sns, settings):  # type: ignore[no-untyped-def]
    """Texting the account: what AWS does with it (two-way into the inbound topic,
    which moto posts, signed, to the live portal)."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SNS_VERIFY_SIGNATURES = True
    sns_verify.certificates.clear()
    client = aws_client("sns")
    topic = client.create_topic(Name="bot-sms-inbound")["TopicArn"]
    client.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{live_server.url}/webhooks/sns/")

    def text(body: str, sender: str = PHONE) -> None:
        if body.upper() == "STOP":
            sns.opt_out(sender)  # AWS puts the number on the account's list by itself
        payload = {
            "originationNumber": sender,
            "destinationNumber": "+13125550100",
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": body,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": str(uuid.uuid4()),
        }
        client.publish(TopicArn=topic, Message=json.dumps(payload))

    return text


def moto_sms(moto_url: str) -> list[dict]:
    data = requests.get(f"{moto_url}/moto-api/data.json", timeout=10).json()
    return data.get("sns", {}).get("SMS", [])


def broadcast_state() -> str | None:
    b = Broadcast.objects.filter(idempotency_key=f"daily:{DAY}").first()
    return b.state if b else None


def aws_events(phone: str) -> list[SubscriberEvent]:
    return list(SubscriberEvent.objects.filter(subscriber__phone=phone, kind="aws_opt_out"))


def test_stop_then_start_over_sns_then_the_broadcast_reaches_the_number(
    aws_calls, celery_worker, inbound, sns, aws, settings
):
    settings.SMS_PROVIDER = "console"  # signed up before SNS: no opt-in sync to wait for
    consent.change(PHONE, "opted_in", "web_form", {"form": "signup"})
    settings.SMS_PROVIDER = "sns"
    inbound("STOP")
    wait_for(lambda: Subscriber.objects.get(phone=PHONE).consent_status == "opted_out")
    assert PHONE in sns.opted_out

    inbound("START")
    wait_for(lambda: Subscriber.objects.get(phone=PHONE).consent_status == "opted_in")
    # The START is taken to AWS by the worker: OptInPhoneNumber took it off the list.
    wait_for(lambda: PHONE not in sns.opted_out, what="OptInPhoneNumber")
    wait_for(lambda: [e.after for e in aws_events(PHONE)] == ["taken off AWS's list"])

    DailyContent.objects.create(date=DAY, text=BODY)
    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(lambda: broadcast_state() == BroadcastState.DONE, what="the broadcast to finish")
    message = Message.objects.get(broadcast__idempotency_key=f"daily:{DAY}")
    assert message.status == MessageStatus.SENT
    assert [m["message"] for m in moto_sms(aws) if m["phone_number"] == PHONE].count(BODY) == 1
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.provider_opt_out_at is None
    # All of it works under the portal's least-privilege role.
    assert "sns:OptInPhoneNumber" in aws_calls
    assert not_granted(aws_calls) == set()


def test_a_start_within_30_days_of_an_opt_in_is_refused_with_the_reason_in_history(
    celery_worker, sns
):
    consent.change(PHONE, "opted_out", "admin", {"reason": "asked by phone"})
    sns.opt_out(PHONE)
    sns.opted_in_at[PHONE] = time.time() - 10 * DAYS  # AWS opted it in 10 days ago

    consent.change(PHONE, "opted_in", "admin", {"reason": "asked again by phone"})
    wait_for(lambda: any(e.after == "opt-in refused" for e in aws_events(PHONE)))

    refused = next(e for e in aws_events(PHONE) if e.after == "opt-in refused")
    assert refused.evidence["error_code"] == "InvalidParameter"
    assert "30 days" in refused.evidence["reason"]
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.consent_status == "opted_in"  # consent as the person asked
    assert "30 days" in subscriber.provider_opt_out_reason
    assert PHONE in sns.opted_out
    banner = next(a for a in alerts.active() if "opted out at AWS" in a.text)
    assert banner.text.startswith("1 number(s) opted out at AWS but opted in here — review")
    assert banner.links and "30 days" in banner.links[0][0]


def test_an_aws_opted_out_refusal_for_an_opted_in_subscriber_is_held_for_review(sns, clock):
    clock.set(clock.now() - timedelta(days=1))
    [subscriber] = opted_in(1, start=123)
    clock.set(clock.now() + timedelta(days=1))
    sns.opt_out(PHONE)  # AWS's list says otherwise: a START it never heard of
    message = build.outbound(
        kind="broadcast", channel="sms", provider="sns", phone=PHONE, body=BODY,
        subscriber=subscriber, status=MessageStatus.QUEUED,
    )  # fmt: skip
    message.save()

    dispatch.send(message.pk)

    message.refresh_from_db()
    assert (message.status, message.error_code) == (MessageStatus.FAILED, "sns:OptedOut")
    subscriber.refresh_from_db()
    assert subscriber.consent_status == "opted_in"
    assert subscriber.consent_events.count() == 1  # no consent change
    assert "opt-out list" in subscriber.provider_opt_out_reason
    assert [e.after for e in aws_events(PHONE)] == ["needs review"]
    # A second refusal adds nothing.
    again = build.outbound(
        kind="reply", channel="sms", provider="sns", phone=PHONE, body=BODY,
        subscriber=subscriber, status=MessageStatus.QUEUED,
    )  # fmt: skip
    again.save()
    dispatch.send(again.pk)
    assert len(aws_events(PHONE)) == 1


def test_a_sandbox_refusal_pauses_the_broadcast_as_a_configuration_error(celery_worker, sns, aws):
    # The portal last saw the account out of the sandbox (its cached standing), so the
    # broadcast starts (SMS_SANDBOX_SEND=refuse would hold it otherwise): AWS's refusals
    # while sending are what stop it.
    assert sms_account.cached_sandbox().in_sandbox is False
    sns.in_sandbox = True
    sns.numbers[OTHER] = "Verified"
    subs = opted_in(3, start=123)  # +13125550123..125: only ...124 is verified
    DailyContent.objects.create(date=DAY, text=BODY)

    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(lambda: broadcast_state() == BroadcastState.PAUSED, what="the pause")

    broadcast = Broadcast.objects.get(idempotency_key=f"daily:{DAY}")
    assert "sns:Sandbox" in broadcast.pause_reason
    refused = Message.objects.filter(broadcast=broadcast, error_code="sns:Sandbox")
    assert refused.exists()
    # A valid number the sandbox refused is not a bad number.
    assert not Subscriber.objects.filter(pk__in=[s.pk for s in subs], undeliverable=True).exists()
    assert any("sandbox" in a.text.lower() for a in alerts.active())


def test_a_sandboxed_sns_account_sends_to_verified_numbers_only_and_says_why_not(
    celery_worker, sns, aws, settings
):
    """SMS_SANDBOX_SEND=verified-only on SNS (the aws-sms case is in test_aws_sms.py):
    the sandbox read before the broadcast skips the unverified, AWS refuses nothing."""
    settings.SMS_SANDBOX_SEND = "verified-only"
    settings.QUIET_HOURS = ""
    sns.in_sandbox = True
    sns.numbers[OTHER] = "Verified"
    opted_in(3, start=123)  # +13125550123..125: only ...124 is verified
    DailyContent.objects.create(date=DAY, text=BODY)

    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(lambda: broadcast_state() == BroadcastState.DONE, what="the broadcast to finish")

    messages = Message.objects.filter(broadcast__idempotency_key=f"daily:{DAY}")
    assert {m.phone: m.status for m in messages} == {
        "+13125550123": MessageStatus.SKIPPED,
        OTHER: MessageStatus.SENT,
        "+13125550125": MessageStatus.SKIPPED,
    }
    assert {m.error_message for m in messages if m.status == MessageStatus.SKIPPED} == {
        sandbox.NOT_VERIFIED
    }
    assert [m["phone_number"] for m in moto_sms(aws)] == [OTHER]


def test_the_reconcile_reports_the_difference_and_changes_no_consent(aws_calls, sns):
    [here_in, here_out] = [
        consent.change(PHONE, "opted_in", "web_form", {"form": "t"}).subscriber,
        consent.change(OTHER, "opted_out", "admin", {"reason": "t"}).subscriber,
    ]
    sns.opt_out(PHONE)

    lines = tasks.reconcile_aws_opt_outs()

    assert lines == [
        next(r.line() for r in opt_out_list.last_reconcile()),
    ]
    [result] = opt_out_list.last_reconcile()
    assert result.opted_in_here == (PHONE,)
    assert result.missing_at_aws == 1  # SNS cannot take the admin's STOP
    here_in.refresh_from_db(), here_out.refresh_from_db()
    assert (here_in.consent_status, here_out.consent_status) == ("opted_in", "opted_out")
    assert here_in.consent_events.count() == 1 and here_in.provider_opt_out_at is not None
    banner = next(a for a in alerts.active() if "opted out at AWS" in a.text)
    assert "?provider_opt_out_at__isempty=0" in banner.url

    # AWS takes it off (the person texted START to it): the next run clears the mark.
    sns.opted_out.discard(PHONE)
    tasks.reconcile_aws_opt_outs()
    here_in.refresh_from_db()
    assert here_in.provider_opt_out_at is None
    assert [e.after for e in aws_events(PHONE)] == ["agrees", "needs review"]
    assert "sns:ListPhoneNumbersOptedOut" in aws_calls
    assert not_granted(aws_calls) == set()


def test_end_user_messaging_gets_the_portals_stops_and_starts(
    aws_calls, celery_worker, aws_sms, settings
):
    settings.SMS_PROVIDER = "aws-sms"
    consent.change(PHONE, "opted_out", "admin", {"reason": "asked by phone"})
    wait_for(lambda: PHONE in aws_sms.opt_out_lists["Default"], what="PutOptedOutNumber")

    consent.change(PHONE, "opted_in", "admin", {"reason": "asked again"})
    wait_for(lambda: PHONE not in aws_sms.opt_out_lists["Default"], what="DeleteOptedOutNumber")

    # A second STOP and START within 30 days: AWS keeps it, the history says why.
    consent.change(PHONE, "opted_out", "admin", {"reason": "stop again"})
    wait_for(lambda: PHONE in aws_sms.opt_out_lists["Default"])
    consent.change(PHONE, "opted_in", "admin", {"reason": "start again"})
    wait_for(lambda: any(e.after == "opt-in refused" for e in aws_events(PHONE)))
    refused = next(e for e in aws_events(PHONE) if e.after == "opt-in refused")
    assert refused.evidence["error_code"] == "ValidationException"
    assert Subscriber.objects.get(phone=PHONE).consent_status == "opted_in"

    # The reconcile pushes a STOP the list lacks (repair), shows the rest.
    consent.change(OTHER, "opted_out", "import", {"file": "t.csv", "evidence": "t"})
    # The worker puts it on the list; then AWS loses it (the reconcile must repair that).
    wait_for(lambda: OTHER in aws_sms.opt_out_lists["Default"], what="PutOptedOutNumber")
    aws_sms.opt_out_lists["Default"].pop(OTHER, None)
    [result] = opt_out_sync_reconcile()
    if not result.pushed:
        # A second delivery of the STOP's sync task (the outbox may publish it twice;
        # the task is idempotent) put it back in between: lose it again.
        aws_sms.opt_out_lists["Default"].pop(OTHER, None)
        [result] = opt_out_sync_reconcile()
    assert result.pushed == 1 and result.opted_in_here == (PHONE,)
    assert OTHER in aws_sms.opt_out_lists["Default"]
    assert {
        "sms-voice:PutOptedOutNumber",
        "sms-voice:DeleteOptedOutNumber",
        "sms-voice:DescribeOptedOutNumbers",
    } <= aws_calls
    assert not_granted(aws_calls) == set()


def opt_out_sync_reconcile() -> list[opt_out_list.Reconciled]:
    from messaging.providers import opt_out_sync

    return opt_out_sync.reconcile()
