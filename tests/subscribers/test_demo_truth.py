"""The demo tells the truth: consent before every message, a login per role that works
as that role, and the console priced as the provider it stands in for."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Min
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.broadcasts import audience, daily, due, schedule
from messaging.models import Broadcast, BroadcastState, Message, MessageKind
from messaging.skips import SkipReason
from subscribers.consent import ConsentError, change
from subscribers.models import ConsentEvent, Subscriber

pytestmark = pytest.mark.django_db

LOGIN_LINE = re.compile(r"^  (\S+) / (\S+)   \(([^:]+):", re.M)
ROLES = {"admin": "superuser", "operations": "Operations Manager", "devops": "DevOps"}


@pytest.fixture
def seeded(settings, capsys, django_capture_on_commit_callbacks) -> str:
    settings.SMS_PROVIDER = "console"
    settings.CONSOLE_PRICES_AS = "sns"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    return capsys.readouterr().out


def logins(printed: str) -> dict[str, tuple[str, str]]:
    return {user: (password, role) for user, password, role in LOGIN_LINE.findall(printed)}


def logged_in(username: str, password: str) -> Client:
    """Through the login page, as a person logs in (the lockout guard sees the request)."""
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def test_no_demo_message_precedes_its_numbers_consent(seeded):
    first_event = dict(
        ConsentEvent.objects.values("subscriber")
        .annotate(at=Min("created_at"))
        .values_list("subscriber", "at")
    )
    opted_in = dict(
        ConsentEvent.objects.filter(to_status="opted_in")
        .values("subscriber")
        .annotate(at=Min("created_at"))
        .values_list("subscriber", "at")
    )
    messages = Message.objects.filter(subscriber__isnull=False)
    sent_to_subscribers = messages.exclude(kind=MessageKind.CONFIRMATION)
    assert sent_to_subscribers.filter(kind=MessageKind.BROADCAST).count() > 100
    for message in messages:
        assert first_event[message.subscriber_id] <= message.created_at, message
    for message in sent_to_subscribers:
        # A broadcast or a reply goes only to a number that had opted in before it.
        assert opted_in[message.subscriber_id] < message.created_at, message
        assert message.subscriber.opted_in_at < message.created_at
    # Every week-old broadcast had an audience that had signed up before it.
    first_broadcast = Broadcast.objects.order_by("started_at").first()
    assert first_broadcast.total > 0
    # The subscriber's own opted-in time is its opt-in event's.
    for subscriber in Subscriber.objects.filter(consent_status="opted_in"):
        assert subscriber.opted_in_at == opted_in[subscriber.pk]


def test_consent_cannot_be_dated_in_the_future():
    with pytest.raises(ConsentError):
        change(
            "+13125550190", "opted_in", "admin", {"reason": "x"},
            at=timezone.now() + timedelta(days=1),
        )  # fmt: skip
    assert not ConsentEvent.objects.exists()


def test_a_login_per_role_is_printed_in_one_banner_and_works_as_that_role(seeded):
    banner = seeded.split("=" * 72)[1]
    printed = logins(banner)
    assert {user: role for user, (_, role) in printed.items()} == ROLES
    User = get_user_model()
    for username, (password, role) in printed.items():
        user = User.objects.get(username=username)
        assert user.check_password(password) and user.is_staff
        if role == "superuser":
            assert user.is_superuser
        else:
            assert not user.is_superuser
            assert list(user.groups.values_list("name", flat=True)) == [role]

    ops = logged_in("operations", printed["operations"][0])
    devops = logged_in("devops", printed["devops"][0])
    # Both compose broadcasts; only DevOps edits daily content.
    assert ops.get(reverse("admin:messaging_broadcast_add")).status_code == 200
    assert ops.get(reverse("admin:messaging_dailycontent_add")).status_code == 403
    assert devops.get(reverse("admin:messaging_dailycontent_add")).status_code == 200
    assert devops.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_reset_password_prints_every_role_login_again(seeded, capsys):
    call_command("seed_demo")
    assert "not shown again" in capsys.readouterr().out
    call_command("seed_demo", "--reset-password")
    again = logins(capsys.readouterr().out)
    assert set(again) == set(ROLES)
    for username, (password, _) in again.items():
        assert get_user_model().objects.get(username=username).check_password(password)
    logged_in("devops", again["devops"][0])


def test_the_console_is_priced_as_the_provider_it_stands_in_for(seeded, settings):
    preview = audience.preview("Good morning! A tip for today.")
    assert preview.recipients > 0 and preview.projected_cost > 0
    assert set(preview.cost_by_provider) == {"console"}
    settings.CONSOLE_PRICES_AS = "twilio"  # Twilio's SMS costs more than SNS's
    assert audience.preview("Good morning! A tip for today.").projected_cost > (
        preview.projected_cost
    )
    settings.CONSOLE_PRICES_AS = "sns"

    # The compose preview an Operations Manager sees names it and shows the cost.
    ops = logged_in("operations", logins(seeded)["operations"][0])
    draft = Broadcast.objects.create(idempotency_key="adhoc:t", name="Tip", text="Hello there")
    page = ops.get(reverse("admin:messaging_broadcast_preview", args=[draft.pk]))
    html = page.content.decode()
    # The preview reaches SMS and WhatsApp subscribers: SNS sends no WhatsApp, so the
    # console's WhatsApp is priced as Twilio and the label says both.
    assert "Console (priced as AWS SNS; WhatsApp as Twilio)" in html
    cost = Decimal(re.search(r'id="cost">([\d.]+) USD', html).group(1))
    assert cost > 0

    # The subscribers import's projected cost of its confirmations.
    csv = "phone,evidence,channel,consent_status\n+13125550150,web form export,sms,pending\n"
    page = ops.post(
        reverse("admin:subscribers_subscriber_import"),
        {"format": "0", "import_file": SimpleUploadedFile("m.csv", csv.encode(), "text/csv")},
    )
    forecast = page.context["result"].confirmations
    assert forecast.cost is not None and forecast.cost > 0
    assert "projected cost up to $0.0000" not in page.content.decode()
    # Each console message records the estimate too.
    assert Message.objects.filter(provider="console", price_estimated__gt=0).exists()


def test_the_demos_whatsapp_sends_keep_to_the_24_hour_window(seeded, settings):
    """No demo WhatsApp broadcast message went out (with no template) to a number that had
    not written in the 24 hours before it; those were skipped for that reason, as the send
    skips them. Some subscribers are inside the window and some outside: the preview now
    and every WhatsApp broadcast afterwards show both."""
    whatsapp = Message.objects.filter(kind=MessageKind.BROADCAST, channel="whatsapp")
    for message in whatsapp:
        inside = audience.wrote_in_window(message.phone, message.created_at).exists()
        if message.status == "skipped":
            assert (inside, message.skip_reason) == (False, "whatsapp_window"), message
            assert not message.provider_message_id and not message.provider_calls.exists()
        else:
            assert inside, message
    for broadcast in Broadcast.objects.exclude(channel="sms"):
        statuses = set(whatsapp.filter(broadcast=broadcast).values_list("status", flat=True))
        assert "skipped" in statuses and statuses - {"skipped"}, broadcast
        assert broadcast.skipped == whatsapp.filter(broadcast=broadcast, status="skipped").count()
    split = audience.skip_split("whatsapp")
    outside = split.count(SkipReason.WHATSAPP_WINDOW)
    assert 0 < outside < split.sendable, split


def zone_at_noon() -> str:
    """A timezone where it is now between 12:00 and 13:00: a 01:00 send has passed today
    and a 23:00 one has not, whatever the hour the test runs at."""
    ahead = (12 - timezone.now().hour + 12) % 24 - 12  # hours ahead of UTC, -12..11
    return f"Etc/GMT{-ahead:+d}"  # POSIX signs: Etc/GMT-5 is five hours ahead


@pytest.mark.parametrize("hour, sent", [(1, True), (23, False)])
def test_a_demo_started_after_todays_send_time_shows_it_sent_not_missed(
    settings, django_capture_on_commit_callbacks, hour, sent
):
    zone = zone_at_noon()
    settings.SMS_PROVIDER, settings.DAILY_SEND_TIMEZONE = "console", zone
    schedule.update(hour=hour, minute=0, timezone=zone, enabled=True, mode=schedule.SAME_MOMENT)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    expected = due.today()
    todays = Broadcast.objects.filter(idempotency_key=daily.key_for(expected.day)).first()
    if sent:
        # Sent at the schedule's time, to those opted in by then; begun, so not missed.
        assert todays.state == BroadcastState.DONE and todays.total > 0
        assert todays.started_at == expected.due_at
        assert expected.state() == due.State.BEGUN
    else:
        assert todays is None and expected.state() == due.State.UPCOMING
    assert not expected.overdue()
