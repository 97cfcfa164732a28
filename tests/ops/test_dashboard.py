"""The admin home as an operations dashboard, through the admin's own views."""

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from messaging.reports import rollups
from tests.ops.factories import seed_operations

pytestmark = pytest.mark.django_db


def links(html: str) -> dict[str, str]:
    """Visible text of each link -> its href (tags inside the link dropped)."""
    found = {}
    for href, inner in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', html, re.S):
        text = " ".join(re.sub(r"<[^>]+>", "", inner).split())
        found[text] = unescape(href)
    return found


def test_empty_database_shows_friendly_placeholders(ops_client):
    response = ops_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "No broadcast today yet.",
        "No spend yet this month.",
        "no data yet",
        "No failures in the last 7 days.",
        "No per-number spend computed yet this month.",
        "refresh_rollups --all",
    ):
        assert text in html
    assert html.count('<svg class="ops-chart"') == 2
    # The app list is still there, below the dashboard.
    assert 'id="apps"' in html and "/admin/messaging/message/" in html


def test_dashboard_figures_link_to_the_filtered_lists_behind_them(ops_client):
    today = timezone.localdate()
    seeded = seed_operations(today)
    rollups.refresh_recent()
    html = ops_client.get("/admin/").content.decode()
    found = links(html)

    # Month-to-date spend: delivered 0.0083 + read (actual) 0.0042 (+ yesterday's if this month).
    spend_link = next(href for text, href in found.items() if text.startswith("$"))
    listed = ops_client.get(spend_link)
    assert listed.status_code == 200
    shown = set(listed.context["cl"].result_list)
    assert seeded["delivered"] in shown and seeded["whatsapp"] in shown
    assert seeded["failed"] not in shown

    # Failures by error code, with the code's meaning, link to those failures.
    assert "Unreachable destination handset" in html
    failure_link = next(h for h in found.values() if "error_code=30003" in h)
    assert list(ops_client.get(failure_link).context["cl"].result_list) == [seeded["failed"]]

    # Today's broadcast progress: figures link to the broadcast's messages by status.
    assert "1 sent of 4 (50% done)" in html
    failed_of_broadcast = found["Failed: 1"]
    assert f"broadcast__id__exact={seeded['broadcast'].pk}" in failed_of_broadcast
    assert list(ops_client.get(failed_of_broadcast).context["cl"].result_list) == [seeded["failed"]]

    # Top numbers link to the log searched by that number.
    top = found["+13125550101"]
    result = ops_client.get(top).context["cl"].result_list
    assert {m.phone for m in result} == {"+13125550101"}

    # Both charts are labelled SVG with a title and a description.
    assert len(re.findall(r'<svg class="ops-chart"[^>]*role="img"', html)) == 2
    assert "<title id=" in html and "<desc id=" in html
    assert "Opt-ins: total 3" in html and "Opt-outs: total 1" in html


def test_staff_without_message_permission_sees_no_figures():
    user = get_user_model().objects.create_user("clerk", password="x-0123456789", is_staff=True)
    client = Client()
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    assert "ops-dashboard" not in html and "Spend this month" not in html


def test_dashboard_query_count_does_not_grow_with_data(ops_client, django_assert_max_num_queries):
    seed_operations(timezone.localdate())
    rollups.refresh_recent()
    with django_assert_max_num_queries(16):
        assert ops_client.get("/admin/").status_code == 200
