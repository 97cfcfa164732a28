"""No stock-admin leftovers in an operator's way: page titles, section names, the
periodic task list, the message list's provider cell and its broadcast filter."""

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse

from tests.ops.factories import message
from tests.security import doors
from tests.security.conftest import DEVOPS, OPS, ROLES, STAFF, SUPER, role_user
from tests.security.samples import make_samples

STOCK_TITLE = re.compile(r"^(Select .+ to (change|view)|Change (?!history|password)|View |Add )")


@pytest.fixture
def samples(db: None) -> dict[type[models.Model], models.Model]:
    return make_samples()


def title_of(response: Any) -> str:
    return str(response.context["title"]) if response.context else ""


def test_every_list_and_record_page_is_titled_in_an_operators_words(samples):
    client = Client()
    client.force_login(role_user(SUPER))
    stock = []
    seen = 0
    for page in doors.pages(samples):
        if not page.key.endswith(("_changelist", "_change", "_add")):
            continue
        response = client.get(page.path, follow=True)
        if response.status_code == 403:
            continue  # nobody adds a record of this kind
        assert response.status_code == 200, page
        title = title_of(response)
        seen += 1
        if STOCK_TITLE.match(title) or not title:
            stock.append(f"{page.path}: {title!r}")
        assert f"<h1>{title}</h1>".encode() in response.content or not title, page
    assert seen > 40
    assert not stock, "\n".join(stock)


SECTIONS = {
    SUPER: [
        "Subscribers",
        "Messaging",
        "Audit log",
        "Login lockouts",
        "Schedules",
        "Two-factor devices",
        "Users and roles",
    ],
    DEVOPS: ["Subscribers", "Messaging", "Audit log", "Schedules"],
    # Only what operations staff work with: no internal section.
    OPS: ["Subscribers", "Messaging", "Audit log"],
    STAFF: [],
}


@pytest.mark.parametrize("role", ROLES)
def test_the_home_page_names_each_roles_sections_as_operators_do(db, role):
    client = Client()
    client.force_login(role_user(role))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert [app["name"] for app in response.context["app_list"]] == SECTIONS[role]
    html = response.content.decode()
    assert re.findall(r'class="section">([^<]*)</a></caption>', html) == SECTIONS[role]
    assert "application" not in html  # Django's "Models in the … application"
    if role == OPS:
        for internal in ("auth", "axes", "otp_totp", "otp_static", "django_celery_beat"):
            assert f'href="/admin/{internal}/' not in html


@pytest.mark.parametrize("role", [SUPER, DEVOPS])
def test_the_periodic_task_list_links_the_daily_task_to_its_daily_schedule_screen(db, role):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from messaging import task_names
    from messaging.broadcasts import schedule

    crontab = CrontabSchedule.objects.create(hour="3", minute="0")
    other = PeriodicTask.objects.create(
        name="nightly", task=task_names.START_DAILY_BROADCAST, crontab=crontab
    )
    daily = PeriodicTask.objects.get(name=schedule.PERIODIC_TASK_NAME)
    client = Client()
    client.force_login(role_user(role))
    html = client.get(reverse("admin:django_celery_beat_periodictask_changelist")).content.decode()
    screen = reverse("admin:messaging_dailyscheduletask_changelist")
    assert f'<a href="{screen}">{daily.name}</a>' in html
    assert reverse("admin:django_celery_beat_periodictask_change", args=[daily.pk]) not in html
    # Any other task opens its raw form, which stays for DevOps and superusers.
    other_url = reverse("admin:django_celery_beat_periodictask_change", args=[other.pk])
    assert f'<a href="{other_url}">{other.name}</a>' in html
    assert (
        client.get(
            reverse("admin:django_celery_beat_periodictask_change", args=[daily.pk])
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("provider", "channel", "shown"),
    [
        ("sns", "sms", "SNS SMS"),
        ("twilio", "whatsapp", "Twilio WhatsApp"),
        ("console", "sms", "Console SMS"),
    ],
)
def test_the_message_lists_via_cell_is_a_short_provider_label_on_one_line(
    db, provider, channel, shown
):
    msg = message(provider=provider, channel=channel)
    client = Client()
    client.force_login(role_user(OPS))
    html = client.get(reverse("admin:messaging_message_changelist")).content.decode()
    row = html[html.index(f'href="/admin/messaging/message/{msg.pk}/change/') :]
    assert f'<td class="field-route">{shown}</td>' in row[: row.index("</tr>")]
    css = Path(finders.find("smsbot/ops.css")).read_text()
    assert re.search(r"td\.field-route\s*\{\s*white-space:\s*nowrap", css)


def sidebar(client: Client, url: str) -> tuple[Any, dict[str, str]]:
    """The response, and the broadcast filter's choices: display -> "selected" or ""."""
    response = client.get(url)
    assert response.status_code == 200
    cl = response.context["cl"]
    spec = next(s for s in cl.filter_specs if str(s.title) == "broadcast")
    return response, {
        str(c["display"]): "selected" if c["selected"] else "" for c in spec.choices(cl)
    }


def test_a_message_list_opened_from_a_broadcast_names_it_in_the_sidebar(db):
    from messaging.models import Broadcast

    old = Broadcast.objects.create(idempotency_key="adhoc:old", name="Spring sale", text="Hi")
    recent = [
        Broadcast.objects.create(idempotency_key=f"adhoc:{n}", name=f"Tip {n}", text="Hi")
        for n in range(12)
    ]
    mine = message(broadcast=old)
    other = message(broadcast=recent[-1])
    client = Client()
    client.force_login(role_user(OPS))
    url = reverse("admin:messaging_message_changelist")

    response, choices = sidebar(client, url)
    assert choices["All"] == "selected"
    # The ten most recent broadcasts are offered, newest first.
    assert [d for d in choices if d != "All"] == [f"Tip {n}" for n in range(11, 1, -1)]

    # Opened from an older broadcast's page: that broadcast, named and selected.
    response, choices = sidebar(client, f"{url}?broadcast__id__exact={old.pk}")
    assert choices["Spring sale"] == "selected" and choices["All"] == ""
    assert list(response.context["cl"].result_list) == [mine]
    assert re.search(r'<li class="selected">\s*<a [^>]*>Spring sale', response.content.decode())

    # A recent one is its own choice; nothing else is selected.
    response, choices = sidebar(client, f"{url}?broadcast__id__exact={recent[-1].pk}")
    assert [d for d, s in choices.items() if s] == ["Tip 11"]
    assert list(response.context["cl"].result_list) == [other]

    # A hand-made URL: refused in words, nothing listed, no error page.
    response, choices = sidebar(client, f"{url}?broadcast__id__exact=abc")
    assert list(response.context["cl"].result_list) == []
    assert "No broadcast “abc”" in response.content.decode()
    response, choices = sidebar(client, f"{url}?broadcast__id__exact=999999")
    assert choices["No broadcast #999999"] == "selected"


def upload(client: Client, url: str, body: str) -> str:
    form = {"resource": "0", "format": "0"}
    file = SimpleUploadedFile("content.csv", body.encode(), "text/csv")
    response = client.post(url, {**form, "import_file": file})
    assert response.status_code == 200
    return response.content.decode()


def test_an_import_preview_shows_the_files_columns_and_each_rows_action_in_words(db):
    from messaging.models import DailyContent

    DailyContent.objects.create(date=date(2027, 3, 1), text="Same")
    DailyContent.objects.create(date=date(2027, 3, 2), text="Before")
    client = Client()
    client.force_login(role_user(DEVOPS))
    url = reverse("admin:messaging_dailycontent_import")
    html = upload(client, url, "date,text\n2027-03-01,Same\n2027-03-02,After\n2027-03-03,New\n")
    assert "smsbot/imports.css" in html
    table = html[html.index('<table class="import-rows">') :]
    table = table[: table.index("</table>")]
    # Only the file's columns, after the row number and what happens to it.
    headers = re.findall(r'<th scope="col">([^<]*)</th>', table)
    assert headers == ["Row", "Action", "date", "text"]
    actions = re.findall(r'<tr class="(\w+)"><td>(\d+)</td><td class="import-action">(\w+)<', table)
    assert actions == [("skip", "1", "Unchanged"), ("update", "2", "Changed"), ("new", "3", "New")]
    assert "Skipped" not in html and "import-preview" not in html

    # A file with a wrong row: the row to fix, highlighted in the portal's table.
    html = upload(client, url, "date,text\n2027-03-04,Fine\nnot-a-date,Broken\n")
    assert "Some rows need fixing" in html or "The file cannot be imported" in html
    errors = html[html.index('<table class="import-errors">') :]
    assert re.search(
        r'<td class="import-error-row">2</td>\s*<td></td>\s*<td>Value could not be parsed.*'
        r'</td>\s*<td class="import-error-cells">not-a-date, Broken</td>',
        errors,
    )
    assert 'class="import-rows"' not in html
