"""Who a broadcast skips and why: the same per-reason counts before (preview, daily
schedule, send_daily --dry-run) and after (broadcast page, dashboard)."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from messaging.billing import budget
from messaging.broadcasts import audience
from messaging.broadcasts.fanout import fan_out
from messaging.models import Broadcast, Message, MessageStatus
from messaging.outbound import dispatch
from subscribers import consent
from subscribers.models import Subscriber
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.pipeline.conftest import opted_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):  # type: ignore[no-untyped-def]
    user = User.objects.create_superuser("ops", "ops@example.test", "pw-for-tests-only")
    client.force_login(user)
    return client


def counts(page: str, table_id: str) -> dict[str, int]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert table, f"no table {table_id}"
    rows = re.findall(r'data-reason="(\w+)">.*?<td class="skip-count">(\d+)</td>', table[0], re.S)
    return {reason: int(n) for reason, n in rows}


def seed_every_reason(settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Two sendable, and subscribers skipped for each reason a fictional number allows."""
    settings.DAILY_FALLBACK_TEXT = "Today's word"
    chicago = datetime.now(ZoneInfo("America/Chicago"))
    start, end = chicago - timedelta(hours=1), chicago + timedelta(hours=1)
    settings.QUIET_HOURS = f"{start:%H:%M}-{end:%H:%M}"
    sendable = opted_in(3, start=100)
    # Twelve hours away from Chicago: outside the quiet hours.
    Subscriber.objects.filter(pk__in=[s.pk for s in sendable[:2]]).update(timezone="Asia/Kolkata")
    for phone in ("+13125550110", "+13125550111"):
        consent.change(phone, "opted_in", "admin", {"test": True})
        consent.change(phone, "opted_out", "admin", {"test": True})
    consent.change("+13125550120", "pending", "admin", {"test": True})
    paused = opted_in(1, start=130)[0]
    paused.paused_until = timezone.now() + timedelta(days=3)
    paused.save(update_fields=["paused_until"])
    broken = opted_in(2, start=140)
    Subscriber.objects.filter(pk__in=[s.pk for s in broken]).update(undeliverable=True)
    opted_in(1, start=150, channel="whatsapp")  # never wrote in, and no template
    Subscriber.objects.filter(timezone="America/Chicago", channel="whatsapp").update(
        timezone="Asia/Kolkata"
    )
    # Joined before premium-rate numbers were refused at every door (the fictional 555-01xx
    # range under a 900 area code): kept, opted in, and refused by number type.
    premium = Subscriber.objects.create(phone="+19005550100", timezone="Asia/Kolkata")
    consent.change(premium.phone, "opted_in", "admin", {"test": True})
    return {"opted_out": 2, "pending": 1, "paused": 1, "undeliverable": 2,
            "quiet_hours": 1, "whatsapp_window": 1, "refused_number": 1}  # fmt: skip


def test_a_broadcast_skips_the_same_subscribers_for_the_same_reasons_before_and_after(
    staff, settings
):
    settings.SMS_PROVIDER = "console"
    expected = seed_every_reason(settings)
    response = staff.post(
        reverse("admin:messaging_broadcast_add"),
        {"name": "Launch", "text": "Hello", "channel": "", "whatsapp_content_variables": "{}",
         "_preview": "Preview"},
    )  # fmt: skip
    broadcast = Broadcast.objects.get()
    page = staff.get(response.url).content.decode()
    assert counts(page, "preview-skips") == expected
    # Each reason links to its subscribers in the subscriber list.
    listing = re.search(r'<a href="([^"]+)">Paused</a>', page)[1].replace("&amp;", "&")
    paused_page = staff.get(listing).content.decode()
    assert "+13125550130" in paused_page and "+13125550100" not in paused_page
    out = StringIO()
    call_command("send_daily", "--dry-run", stdout=out)
    assert "skipped: opted out 2" in out.getvalue() and "skipped: paused 1 (until" in out.getvalue()

    staff.post(reverse("admin:messaging_broadcast_preview", args=[broadcast.pk]),
               {"send": "1", "confirmed": "1"})  # fmt: skip
    fan_out(broadcast.pk)
    # A STOP between the fan-out and the send: skipped at the claim, for the same reason.
    consent.change("+13125550100", "opted_out", "admin", {"test": True})
    for queued in Message.objects.filter(broadcast=broadcast).order_by("pk"):
        dispatch.send(queued.pk)
    stopped = Message.objects.get(broadcast=broadcast, phone="+13125550100")
    assert stopped.status == MessageStatus.SKIPPED and stopped.skip_reason == "opted_out"
    # The number the preview counted as refused is skipped at its send, saying so.
    refused = Message.objects.get(broadcast=broadcast, phone="+19005550100")
    assert (refused.status, refused.skip_reason) == (MessageStatus.SKIPPED, "refused_number")
    assert "premium-rate" in refused.error_message and not refused.provider_message_id
    # WhatsApp with no template to a number that has not written in 24 hours: skipped at
    # its send for the preview's reason, never handed to the provider (which would refuse
    # it: Twilio 63016), not billed, its budget reservation given back.
    window = Message.objects.get(broadcast=broadcast, channel="whatsapp")
    assert (window.status, window.skip_reason) == (MessageStatus.SKIPPED, "whatsapp_window")
    assert not window.provider_message_id and not window.provider_calls.exists()
    assert budget.status().spent == budget.spent_in_database()

    # Quiet hours hold their message rather than drop it: the same count, held until then.
    after = {reason: n for reason, n in expected.items() if reason != "quiet_hours"}
    after["opted_out"] += 1
    record = staff.get(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    assert counts(record.content.decode(), "skips-after") == after
    assert record.context["live"]["text"]["holds"].startswith("1 held until ")
    assert record.context["live"]["text"]["holds"].endswith("(quiet hours)")
    dashboard = staff.get(reverse("admin:index")).content.decode()
    card = re.search(rf'data-broadcast-skips="{broadcast.pk}">(.*?)</p>', dashboard, re.S)[1]
    shown = dict(re.findall(r'<strong data-reason="(\w+)">(\d+)</strong>', card))
    assert {k: int(v) for k, v in shown.items()} == after
    # It counts people, more than the Skipped bucket's messages, and says so; channel
    # names are written as everywhere else.
    words = re.sub(r"<[^>]+>", "", card)
    assert words.startswith("People not sent to, by reason")
    assert "so Skipped does not count them" in words
    assert "Outside the WhatsApp 24-hour window, no template 1" in words
    assert "whatsapp" not in words


def test_the_daily_schedule_names_who_its_next_run_skips(staff, settings):
    expected = seed_every_reason(settings)
    page = staff.get(reverse("admin:messaging_dailyscheduletask_changelist")).content.decode()
    found = counts(page, "next-run-skips")
    # At the next run's time the clock differs: the left-out reasons do not.
    for reason in ("opted_out", "pending", "paused", "undeliverable"):
        assert found[reason] == expected[reason]


def test_over_budget_names_how_many_the_remaining_budget_cannot_pay(settings):
    settings.SMS_PROVIDER = "sns"
    opted_in(4)
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0.013")  # two messages at 0.00645
    p = audience.preview("Hello")
    assert p.recipients == 4 and p.projected_cost == Decimal("0.0258")
    assert [(s.reason, s.count) for s in p.skips] == [("over_budget", 2)]


def test_a_country_the_provider_refuses_is_skipped_for_the_previews_reason(staff, settings):
    """Twilio refuses a country outside the account's Messaging Geo Permissions (21408) at
    the send: that message is skipped as refused by country, not failed, nothing is billed,
    and the rest of the broadcast goes on (a setting of one country pauses no one else)."""
    with FakeTwilio() as twilio:
        for name, value in twilio.settings().items():
            setattr(settings, name, value)
        settings.SMS_PROVIDER, settings.TWILIO_SMS_FROM = "twilio", "+13125550199"
        settings.TWILIO_MESSAGING_SERVICE_SID, settings.QUIET_HOURS = "", ""
        australia = consent.change("+61491570006", "opted_in", "admin", {"test": True})
        opted_in(2, start=160)
        broadcast = Broadcast.objects.create(
            idempotency_key="adhoc:abroad", name="Abroad", text="Hello", state="sending"
        )
        fan_out(broadcast.pk)
        twilio.fail_next(400, code=21408, message="Permission to send an SMS has not been "
                         "enabled for the region indicated by the 'To' number")  # fmt: skip
        first = Message.objects.get(broadcast=broadcast, phone=australia.subscriber.phone)
        for queued in [first, *Message.objects.filter(broadcast=broadcast).exclude(pk=first.pk)]:
            dispatch.send(queued.pk)

    first.refresh_from_db()
    assert (first.status, first.skip_reason, first.error_code) == ("skipped", "refused_number",
                                                                   "21408")  # fmt: skip
    broadcast.refresh_from_db()
    assert broadcast.state == "sending"  # not paused: the other numbers went
    assert Message.objects.filter(broadcast=broadcast, status="sent").count() == 2
    record = staff.get(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    assert counts(record.content.decode(), "skips-after") == {"refused_number": 1}


# A batch's pool threads use their own connections: they must see committed rows.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["one by one", "in a batch"])
def test_whatsapp_outside_its_window_in_quiet_hours_is_skipped_not_held(settings, path):
    """The preview asks the destination before the zone: so does the send, whichever path
    takes the message, so the preview's held count is what the send holds."""
    from messaging.outbound import bulk_send

    settings.SMS_PROVIDER = "console"
    settings.WHATSAPP_PROVIDER = "console"
    chicago = datetime.now(ZoneInfo("America/Chicago"))
    settings.QUIET_HOURS = (
        f"{chicago - timedelta(hours=1):%H:%M}-{chicago + timedelta(hours=1):%H:%M}"
    )
    opted_in(1, start=160)  # SMS, in Chicago's quiet hours: held
    opted_in(1, start=161, channel="whatsapp")  # never wrote in, no template: skipped
    before = audience.preview("Hello").skips
    assert {s.reason.value: s.count for s in before} == {"quiet_hours": 1, "whatsapp_window": 1}
    broadcast = Broadcast.objects.create(name="Night", text="Hello", state="sending")
    fan_out(broadcast.pk)
    ids = list(Message.objects.filter(broadcast=broadcast).values_list("pk", flat=True))
    if path == "one by one":
        for pk in ids:
            dispatch.send(pk)
    else:
        bulk_send.send_batch(ids)
    window = Message.objects.get(broadcast=broadcast, channel="whatsapp")
    assert (window.status, window.skip_reason) == (MessageStatus.SKIPPED, "whatsapp_window")
    held = Message.objects.get(broadcast=broadcast, channel="sms")
    assert held.status == MessageStatus.QUEUED and held.next_attempt_at > timezone.now()
