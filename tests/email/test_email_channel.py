"""E-mail through the real doors: sign-up, confirmation link, daily broadcast, fallback,
one-click unsubscribe."""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

from django.core.management import call_command
from django.test import Client

from messaging.models import Broadcast, DailyContent, Message
from messaging.outbound import dispatch
from subscribers import consent, history
from subscribers.models import ConsentEvent, Subscriber
from tests.email.conftest import POSTAL, link, sent_mail, text_part
from tests.messaging.pipeline.conftest import opted_in, wait_for
from tests.ops.factories import ops_manager

DAY = date(2026, 12, 1)
PHONE = "+13125550140"
ADDRESS = "reader@example.net"


def finished(key: str = f"daily:{DAY}") -> bool:
    broadcast = Broadcast.objects.filter(idempotency_key=key).first()
    return bool(broadcast and broadcast.state == "done")


def sign_up(client: Client) -> None:
    answer = client.post(
        "/optin/",
        {"phone": PHONE, "channel": "email", "email": ADDRESS, "consent": "on"},
        HTTP_USER_AGENT="pytest",
    )
    assert answer.status_code == 302, answer.content


def test_a_web_sign_up_confirms_by_its_link_and_gets_the_daily_message_by_email(
    email_on, celery_worker, client
):
    sign_up(client)
    wait_for(lambda: sent_mail(email_on, ADDRESS), what="the confirmation e-mail")
    (confirmation,) = sent_mail(email_on, ADDRESS)
    assert confirmation["Subject"] == "Please confirm your e-mail address"
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert POSTAL in text_part(confirmation)
    path = link(confirmation, "/optin/email/")

    page = client.get(path)
    assert page.status_code == 200 and ADDRESS.encode() in page.content
    assert Subscriber.objects.get(phone=PHONE).email_status == "pending"  # GET changes nothing
    assert client.post(path, HTTP_USER_AGENT="pytest").status_code == 200
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.email_status == "opted_in" and subscriber.channel == "email"
    event = subscriber.consent_events.filter(address_kind="email").first()
    assert event.source == "email_link" and event.to_status == "opted_in"
    assert event.evidence["user_agent"] == "pytest" and event.evidence["clicked_at"]
    # The link is used: a second click says so and writes nothing.
    assert client.post(path).status_code == 400
    assert subscriber.consent_events.filter(address_kind="email").count() == 2

    DailyContent.objects.create(date=DAY, text="Word of the day: serendipity\nA happy accident.")
    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="the broadcast to finish")
    daily = sent_mail(email_on, ADDRESS)[1]
    assert daily["Subject"] == "Word of the day: serendipity"
    assert "A happy accident." in text_part(daily)
    assert "".join(daily["List-Unsubscribe"].split()).startswith(
        "<https://portal.example.com/unsubscribe/"
    )
    message = Message.objects.get(broadcast__date=DAY)
    assert (message.channel, message.provider, message.status) == ("email", "ses", "sent")
    assert message.price_estimated == Decimal("0.0001")  # $0.10 per 1,000
    # The cost report has SES on its own row (provider and channel), at that price: the
    # confirmation and the daily e-mail.
    client.force_login(ops_manager())
    report = client.get("/admin/messaging/message/costs/")
    assert "Amazon SES (e-mail)" in report.content.decode()
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/admin/messaging/message/costs/", {"format": "csv"}).content.decode())))  # fmt: skip
    ses = [r for r in rows if r["provider"] == "ses"]
    assert [(r["channel"], r["messages"], r["cost_usd"]) for r in ses] == [
        ("email", "2", "0.00020")
    ]


def test_an_undeliverable_number_gets_tomorrows_message_by_email_once(
    email_on, celery_worker, settings, twilio, client
):
    """Today Twilio refuses the number (21211, which the error policy reads as "cannot
    receive"); tomorrow's daily message goes to the confirmed address, once however
    often the day is triggered, and the broadcast's figures show it as a fallback."""
    settings.FALLBACK_CHANNEL = "email"
    settings.SMS_PROVIDER = "twilio"
    (subscriber,) = opted_in(1)
    consent.change(subscriber.phone, "pending", "admin", {"t": 1}, email=ADDRESS)
    consent.change(subscriber.phone, "opted_in", "email_link", {"t": 2}, email="")

    DailyContent.objects.create(date=DAY, text="Today's word")
    twilio.fail_next(400, code=21211)  # the one send of today's broadcast
    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="today's broadcast to finish")
    assert Message.objects.get(broadcast__date=DAY).status == "failed"
    assert Subscriber.objects.get(pk=subscriber.pk).undeliverable

    (other,) = opted_in(1, start=141)  # a number that still works: SMS as before
    tomorrow = DAY + timedelta(days=1)
    DailyContent.objects.create(date=tomorrow, text="Tomorrow's word")
    for _ in range(2):  # a duplicate trigger changes nothing
        call_command("send_daily", "--date", tomorrow.isoformat())
    wait_for(lambda: finished(f"daily:{tomorrow}"), what="tomorrow's broadcast to finish")
    messages = Message.objects.filter(broadcast__date=tomorrow)
    assert messages.count() == 2
    fallback = messages.get(subscriber=subscriber)
    assert (fallback.channel, fallback.fallback, fallback.status) == ("email", True, "sent")
    assert messages.get(subscriber=other).channel == "sms"
    # The one daily e-mail (the confirmation found the address confirmed already: skipped),
    # and Twilio saw no attempt at the lost number tomorrow.
    assert [m["Subject"] for m in sent_mail(email_on, ADDRESS)] == ["Tomorrow's word"]
    sends = [r.form["To"] for r in twilio.requests if r.path.endswith("/Messages.json")]
    assert sends == [subscriber.phone, other.phone]
    # Sending the claimed message again does nothing: at most once per subscriber and day.
    assert dispatch.send(fallback.pk).status == "not-queued"

    # The broadcast's page shows the fallback send apart, as its live figures do.
    broadcast = fallback.broadcast
    client.force_login(ops_manager())
    page = client.get(f"/admin/messaging/broadcast/{broadcast.pk}/change/")
    shown = channel_figures(page.content.decode(), broadcast.pk)
    assert shown == {"channel_sms": "1", "channel_whatsapp": "0", "channel_email": "1",
                     "fallback": "1"}  # fmt: skip
    live = client.get("/admin/messaging/broadcast/progress/", {"id": broadcast.pk}).json()
    assert {k: live["broadcasts"][0]["text"][k] for k in shown} == shown
    # The fallback figure links to exactly those messages.
    listed = client.get(
        "/admin/messaging/message/",
        {"broadcast__id__exact": broadcast.pk, "channel__exact": "email", "fallback__exact": "1"},
    )
    assert listed.context["cl"].result_count == 1


def channel_figures(html: str, broadcast_id: int) -> dict[str, str]:
    """The live figures by channel a page shows for a broadcast: {field: value}."""
    pattern = rf'data-broadcast="{broadcast_id}" data-live="((?:channel_\w+)|fallback)">(\d+)<'
    return dict(re.findall(pattern, html))


def test_a_one_click_unsubscribe_post_opts_the_address_out_with_evidence(
    email_on, celery_worker, client
):
    sign_up(client)
    wait_for(lambda: sent_mail(email_on, ADDRESS), what="the confirmation e-mail")
    client.post(link(sent_mail(email_on, ADDRESS)[0], "/optin/email/"))
    unsubscribe = link(sent_mail(email_on, ADDRESS)[0], "/unsubscribe/")
    assert b"<form" in client.get(unsubscribe).content  # GET: a button, nothing changed
    assert Subscriber.objects.get(phone=PHONE).email_status == "opted_in"

    # RFC 8058: the mailbox provider POSTs this body, no session, no CSRF token.
    answer = Client(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.email_status == "opted_out"
    event = ConsentEvent.objects.filter(subscriber=subscriber).first()
    assert (event.address_kind, event.source, event.to_status) == (
        "email",
        "email_link",
        "opted_out",
    )
    assert event.evidence["one_click"] is True
    # The subscriber's consent history says it in words.
    assert "E-mail link" in history.sentence(event)
