"""A send to more than one recipient asks once more: count, cost and finish time.

The preview's button leads to a page that states them; only the confirming POST
(CSRF-protected, like every admin form) sends or schedules. One recipient: one step.
"""

from datetime import timedelta
from html import unescape

import pytest
from django.template.defaultfilters import floatformat
from django.test import Client
from django.utils import timezone

from messaging import task_names
from messaging.models import BroadcastState, Message
from smsbot import timezones
from smsbot.models import OutboxTask
from tests.messaging.pipeline.conftest import opted_in
from tests.messaging.pipeline.test_admin_compose import draft, preview, staff
from tests.ops.factories import OPERATOR_PERMISSIONS

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(staff("ops", *OPERATOR_PERMISSIONS))
    return client


def started() -> int:
    return OutboxTask.objects.filter(task_name=task_names.FAN_OUT).count()


def test_send_now_to_many_asks_first_with_count_cost_and_finish(operator, settings):
    settings.SMS_PROVIDER = "sns"
    settings.SMS_SEND_RATE = 2  # 25 recipients: 12.5 seconds
    opted_in(25)
    broadcast = draft()
    assert "Send now to 25 recipients" in operator.get(preview(broadcast)).content.decode()

    asked = operator.post(preview(broadcast), {"send": "1"})
    assert asked.status_code == 200
    page = unescape(asked.content.decode())
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.DRAFT and started() == 0
    assert not Message.objects.exists()
    assert '<td id="confirm-recipients">25</td>' in page
    cost = asked.context["preview"].projected_cost
    assert cost > 0 and f'<td id="confirm-cost">{floatformat(cost, 4)} USD</td>' in page
    finish = asked.context["finishes"]
    assert finish in page and "about 13 seconds at 2 messages a second" in page
    expected = timezones.shown(timezone.now() + timedelta(seconds=12.5))
    assert finish[:16] == expected[:16]  # the same day, give or take the test's run
    assert 'name="confirmed"' in page and 'name="csrfmiddlewaretoken"' in page
    assert f'href="{preview(broadcast)}">Back</a>' in page

    operator.post(preview(broadcast), {"send": "1", "confirmed": "1"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SENDING and started() == 1


def test_the_confirming_post_needs_its_csrf_token(settings):
    opted_in(3)
    broadcast = draft()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff("ops", *OPERATOR_PERMISSIONS))
    assert client.post(preview(broadcast), {"send": "1", "confirmed": "1"}).status_code == 403
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.DRAFT and started() == 0


def test_scheduling_for_many_asks_first_and_projects_from_the_start(operator, settings):
    settings.SMS_SEND_RATE = 1
    opted_in(120)  # two minutes at one a second
    when = timezone.now() + timedelta(days=1)
    broadcast = draft(scheduled_for=when)
    asked = operator.post(preview(broadcast), {"schedule": "1"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.DRAFT
    assert asked.context["starts"] == timezones.shown(when)
    assert asked.context["finishes"] == timezones.shown(when + timedelta(seconds=120))
    assert "about 2 minutes" in asked.content.decode()
    operator.post(preview(broadcast), {"schedule": "1", "confirmed": "1"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SCHEDULED


def test_one_recipient_stays_one_step(operator):
    opted_in(1)
    broadcast = draft()
    operator.post(preview(broadcast), {"send": "1"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SENDING and started() == 1
