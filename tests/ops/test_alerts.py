"""Alerts: the conditions shown as banners on the admin home and the broadcast pages."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.broadcasts import daily
from messaging.models import Broadcast, Message
from messaging.outbound import config_errors
from messaging.reports import alerts, monitoring
from subscribers import consent
from subscribers.models import Subscriber
from tests.ops.factories import message, ops_manager

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def healthy():
    """Beat and the workers alive, today's broadcast begun: no monitoring banner."""
    Broadcast.objects.create(
        idempotency_key=daily.key_for(daily.local_today()), name="Daily", text="Shalom",
        state="sending", started_at=timezone.now(),
    )  # fmt: skip
    monitoring.heartbeat()


def test_nothing_to_report_raises_no_alert(settings):
    settings.DAILY_FALLBACK_TEXT = "fallback"
    config_errors.dismiss()
    assert [a for a in alerts.active() if a.level == alerts.ERROR] == []


def test_the_quiet_case_asks_the_database_once_for_every_probe_and_the_cache_once(
    settings, django_assert_num_queries, monkeypatch
):
    """Banners run on every admin page: the conditions that are usually absent cost one
    query together (plus the schedule's timezone and the week's daily content), and
    what the checks keep in the cache one round trip."""
    settings.DAILY_FALLBACK_TEXT = "fallback"
    alerts.active()  # seeds the month's running spend, as the first page of the month does
    calls: list[str] = []
    depth = [0]  # shared by the two wrappers
    for name in ("get", "get_many"):
        monkeypatch.setattr(cache, name, _counted(getattr(cache, name), name, calls, depth))
    with django_assert_num_queries(2):  # the probes, the schedule's timezone
        assert alerts.active() == []
    assert calls == ["get_many"]


def _counted(read, name, calls, depth):
    """Count the reads the code makes, not those a backend's get_many makes of itself."""

    def counted(*args, **kwargs):
        if not depth[0]:
            calls.append(name)
        depth[0] += 1
        try:
            return read(*args, **kwargs)
        finally:
            depth[0] -= 1

    return counted


@pytest.mark.parametrize(
    "condition",
    ["needs_review", "unknown", "paused", "muted", "aws_opt_out", "confirmation_held"],
)
def test_each_probed_condition_still_raises_its_banner(settings, condition):
    from messaging.models import ReplyMute

    settings.DAILY_FALLBACK_TEXT = "fallback"
    long_ago = timezone.now() - timedelta(hours=2)
    if condition == "needs_review":
        Message.objects.filter(pk=message(status="needs_review").pk).update(updated_at=long_ago)
    elif condition == "unknown":
        message(status="unknown")
    elif condition == "paused":
        Broadcast.objects.create(idempotency_key="p", name="Paused one", text="x", state="paused")
    elif condition == "muted":
        ReplyMute.objects.create(
            phone="+13125550123", reason="loop", muted_until=timezone.now() + timedelta(hours=1)
        )
    elif condition == "aws_opt_out":
        Subscriber.objects.create(
            phone="+13125550124", consent_status="opted_in", provider_opt_out_at=timezone.now()
        )
    else:
        message(kind="confirmation", status="held")
    assert len(alerts.active()) == 1


def test_a_configuration_error_is_an_error_banner_on_the_admin_home(admin_client, settings):
    settings.DAILY_FALLBACK_TEXT = "fallback"
    config_errors.remember("twilio", "20003", "Authenticate")
    try:
        (alert,) = [a for a in alerts.active() if a.level == alerts.ERROR]
        assert "20003" in alert.text and alert.url == reverse(
            "admin:messaging_broadcast_changelist"
        )
        page = admin_client.get(reverse("admin:index")).content.decode()
        assert 'class="messagelist ops-alerts"' in page and "20003" in page
    finally:
        config_errors.dismiss()


def banner_links(client: Client) -> list[tuple[str, str]]:
    """(href, words) of each link in the home page's "No daily content" banner."""
    page = client.get(reverse("admin:index")).content.decode()
    banner = re.search(r"<li class=\"warning\">No daily content.*?</li>", page, re.S)
    assert banner, "no banner"
    return [(unescape(h), w) for h, w in re.findall(r'<a href="([^"]+)">([^<]+)</a>', banner[0])]


def test_missing_daily_content_links_to_where_it_is_added(admin_client, settings):
    settings.DAILY_FALLBACK_TEXT = ""
    first_gap = daily.days_without_content(daily.local_today())[0]
    ((url, words),) = banner_links(admin_client)
    assert words == "Add daily content"
    assert url == f"{reverse('admin:messaging_dailycontent_add')}?date={first_gap.isoformat()}"
    form = admin_client.get(url).context["adminform"].form
    assert str(form["date"].value()) == first_gap.isoformat()


def test_a_role_that_may_only_view_daily_content_is_offered_to_see_it_not_add_it(settings):
    settings.DAILY_FALLBACK_TEXT = ""
    client = Client()
    client.force_login(ops_manager())  # view permissions only
    ((url, words),) = banner_links(client)
    assert (url, words) == (reverse("admin:messaging_dailycontent_changelist"), "See daily content")
    assert client.get(url).status_code == 200


def test_messages_needing_review_and_paused_broadcasts_raise_warnings_with_links(admin_client):
    message(status="needs_review")
    message(status="needs_review")
    # A Twilio send settles by itself when its callback comes: only an hour on, a person.
    assert "Messages needing review" not in {a.link_text for a in alerts.active()}
    Message.objects.update(updated_at=timezone.now() - timedelta(hours=2))
    Broadcast.objects.create(idempotency_key="adhoc:p", name="Spring sale", text="x",
                             state="paused", pause_reason="budget")  # fmt: skip
    raised = {a.link_text: a for a in alerts.active()}
    review = raised["Messages needing review"]
    assert review.text.startswith("2 message(s) need review")
    assert list(admin_client.get(review.url).context["cl"].result_list) == list(
        Message.objects.filter(status="needs_review")
    )
    paused = raised["Broadcasts"]
    assert "Spring sale (budget)" in paused.text
    assert [b.name for b in admin_client.get(paused.url).context["cl"].result_list] == [
        "Spring sale"
    ]


def test_mirror_errors_are_an_error_banner_only_while_the_mirror_is_on(admin_client, settings):
    sub = consent.change("+13125550160", "opted_in", "web_form", {"form": "test"}).subscriber
    Subscriber.objects.filter(pk=sub.pk).update(mirror_error="AccessDeniedException")
    cache.delete(alerts.MIRROR_ERRORS_KEY)
    settings.DYNAMODB_SYNC_ENABLED = False
    assert not [a for a in alerts.active() if "DynamoDB" in a.text]

    settings.DYNAMODB_SYNC_ENABLED = True
    (alert,) = [a for a in alerts.active() if "DynamoDB" in a.text]
    assert alert.level == alerts.ERROR and "1 subscriber(s)" in alert.text
    assert [s.phone for s in admin_client.get(alert.url).context["cl"].result_list] == [
        "+13125550160"
    ]
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Rows with a mirror error" in page
    cache.delete(alerts.MIRROR_ERRORS_KEY)


def test_a_broadcasts_pages_show_the_banners_about_sending_the_home_shows_all(
    admin_client, settings
):
    """A paused broadcast concerns every broadcast page; next week's missing content is
    for the admin home and the Daily content list."""
    settings.DAILY_FALLBACK_TEXT = ""
    Broadcast.objects.create(idempotency_key="p", name="Held back", text="x", state="paused")
    daily_send = Broadcast.objects.get(name="Daily")
    pages = {
        "home": reverse("admin:index"),
        "daily content": reverse("admin:messaging_dailycontent_changelist"),
        "broadcasts": reverse("admin:messaging_broadcast_changelist"),
        "broadcast": reverse("admin:messaging_broadcast_change", args=[daily_send.pk]),
    }
    shown = {}
    for name, url in pages.items():
        page = unescape(admin_client.get(url).content.decode())
        shown[name] = ("Paused broadcasts: Held back" in page, "No daily content" in page)
    assert shown == {
        "home": (True, True),
        "daily content": (True, True),
        "broadcasts": (True, False),
        "broadcast": (True, False),
    }
