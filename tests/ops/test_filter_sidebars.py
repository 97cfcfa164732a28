"""A list opened with filters in its URL shows them selected in its sidebar.

The dashboard and the broadcast pages link to lists with `status__in=...` and date
ranges of the reports' own days; the sidebar said "All" / "Any date" over them.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.ops.factories import message
from tests.security.conftest import OPS, role_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client: Client) -> Client:
    client.force_login(role_user(OPS))
    return client


def selected(client: Client, url: str) -> dict[str, list[str]]:
    """Filter title -> the displays of its selected choices, as the sidebar shows them."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    cl = response.context["cl"]
    found = {
        str(spec.title): [str(c["display"]) for c in spec.choices(cl) if c["selected"]]
        for spec in cl.filter_specs
    }
    page = response.content.decode()
    for displays in found.values():
        for display in displays:
            assert re.search(r'<li class="selected">\s*<a [^>]*>' + re.escape(display), page), (
                display
            )
    return found


def test_status_in_shows_as_the_selected_status_choice(ops):
    failed = message(status="failed", error_code="30003")
    message(status="undelivered", error_code="30005")
    message(status="delivered")
    url = "/admin/messaging/message/?status__in=failed,undelivered"
    response = ops.get(url)
    assert response.context["cl"].result_count == 2
    assert selected(ops, url)["status"] == ["Failed or Undelivered"]
    # One status through __in is that status's own choice; the exact lookup still works.
    assert selected(ops, "/admin/messaging/message/?status__in=failed")["status"] == ["Failed"]
    assert selected(ops, "/admin/messaging/message/?status__exact=failed")["status"] == ["Failed"]
    assert selected(ops, "/admin/messaging/message/")["status"] == ["All"]
    # Choosing another status replaces the multi-status lookup rather than adding to it.
    cl = ops.get(url).context["cl"]
    spec = next(s for s in cl.filter_specs if str(s.title) == "status")
    delivered = next(c for c in spec.choices(cl) if str(c["display"]) == "Delivered")
    assert "status__in" not in delivered["query_string"]
    assert failed.pk


def test_a_date_range_of_other_days_shows_as_selected(ops):
    start = (timezone.now() - timedelta(days=3)).date().isoformat()
    url = f"/admin/messaging/message/?created_at__gte={start}T00:00:00%2B00:00"
    assert selected(ops, url)["created at"] == [f"From {start}"]
    assert selected(ops, "/admin/messaging/message/")["created at"] == ["Any date"]


def test_the_dashboards_links_show_their_filters(ops):
    from messaging.reports import dashboard

    url = dashboard.messages_url(status__in=("failed", "undelivered"))
    assert selected(ops, url)["status"] == ["Failed or Undelivered"]
    consent = dashboard.consent_url(
        "opted_out", timezone.now().date() - timedelta(days=29), timezone.now().date()
    )
    shown = selected(ops, consent)
    assert shown["new status"] == ["Opted out"]
    assert shown["created at"][0].startswith("From ")


def test_broadcast_states_understand_state_in(ops):
    shown = selected(ops, "/admin/messaging/broadcast/?state__in=sending,paused")
    assert shown["state"] == ["Sending or Paused"]
