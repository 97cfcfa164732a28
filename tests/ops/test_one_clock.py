"""One clock: every admin page shows its dates and times in one format, the zone named.

The pages are found on the admin site itself (tests/security/doors.py) and opened
as a superuser with one row of every model (tests/security/samples.py), so a page
added tomorrow is read too. A datetime reads "Sun 6 Dec 2026, 04:12 CST" (in
OPS_TIMEZONE), a date "Sun 6 Dec 2026"; UTC appears only in hover titles; inputs
hold ISO dates and 24-hour times, never the browser's locale.
"""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule

from messaging.models import Broadcast, Message
from smsbot.models import AuditEntry
from smsbot.timezones import ops_zone
from subscribers.models import Subscriber
from tests.security import doors
from tests.security.samples import make_samples

DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# The formats of smsbot/formats/en/formats.py, longest first: a datetime, a date, a
# chart's or a week's day (the year is the page's), a month.
SHOWN = re.compile(
    rf"{DAY} [1-9]\d? {MONTH} \d{{4}}, [0-2]\d:[0-5]\d (?:(?!UTC\b)[A-Z]{{2,5}}|[+-]\d{{2,4}})"
    rf"|{DAY} [1-9]\d? {MONTH} \d{{4}}|{DAY} [1-9]\d? {MONTH}|(?<!\d ){MONTH} \d{{4}}"
)
# What another format leaves once the one clock's are taken out.
OTHER = {
    "a numeric date (12/01/2026)": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    "an ISO date or datetime (2026-12-06 04:12)": re.compile(r"\b\d{4}-\d{2}-\d{2}(?!\d)"),
    "a month before its day (Dec 11, Dec. 11)": re.compile(rf"\b{MONTH}\.? \d{{1,2}}\b"),
    "a 12-hour time (4:12 a.m.)": re.compile(r"\b\d{1,2}(?::\d{2})? ?(?:[ap]\.m\.|[AP]M)\b"),
    "another day-month form (6 Dec 2026 without its weekday, Sun 06 Dec)": re.compile(
        rf"\b\d{{1,2}} {MONTH}\b"
    ),
    # A moment given in UTC, or a column of them; "days in UTC" (the reports' days) is a rule.
    "a time in UTC outside a hover title": re.compile(r"\d{2}:\d{2}(?::\d{2})? ?UTC\b|\(UTC\)"),
}
# Inputs hold what DATE_INPUT_FORMATS / TIME_INPUT_FORMATS / DATETIME_INPUT_FORMATS read first.
INPUT_VALUE = re.compile(r"\d{4}-\d{2}-\d{2}(?: [0-2]\d:[0-5]\d(?::[0-5]\d)?)?|[0-2]\d:[0-5]\d")
DATEISH = re.compile(r"\d{1,4}[-/:]\d{1,2}")
TYPED = {"text", "search", "number"}  # what an operator types into, not buttons
LOCALE_INPUTS = {"date", "time", "datetime-local", "month", "week"}


class Reader(HTMLParser):
    """A page's visible text, and its inputs' types and values; titles are hovers.

    A span of class "utc" is a document's printed UTC beside its ops time (the
    consent proof is read on paper, where nothing hovers): the rule's one exception.
    """

    SKIPPED = {"script", "style", "textarea", "option"}  # code, typed text, zone names

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.inputs: list[dict[str, str]] = []
        self.skipping = 0
        self.spans: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        printed_utc = tag == "span" and "utc" in (dict(attrs).get("class") or "").split()
        if tag == "span":
            self.spans.append(printed_utc)
        if tag in self.SKIPPED or printed_utc:
            self.skipping += 1
        if tag == "input":
            self.inputs.append({k: v or "" for k, v in attrs})

    def handle_endtag(self, tag: str) -> None:
        printed_utc = tag == "span" and self.spans and self.spans.pop()
        if (tag in self.SKIPPED or printed_utc) and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.text.append(data)


def third_party_text(samples: dict[type[models.Model], models.Model]) -> re.Pattern[str]:
    """What django-axes and django-celery-beat write themselves, in their own formats.

    Their rows' names ("Attempted Access: 2026-12-06 10:12:00+00:00", a clocked time),
    a crontab described in words ("At 10:00 AM") and the crontab's zone field (its
    default is the zone named UTC, not a time in it).
    """
    names = [str(samples[m]) for m in (AccessAttempt, AccessLog, AccessFailureLog, ClockedSchedule)]
    return re.compile(
        "|".join(map(re.escape, names)) + r"|At \d{2}:\d{2} [AP]M|Default is UTC|Every minute UTC"
    )


def problems(html: str, ignored: re.Pattern[str] | None = None) -> list[str]:
    reader = Reader()
    reader.feed(html)
    text = " ".join(reader.text)
    text = SHOWN.sub("·", ignored.sub("·", text) if ignored else text)
    found = [
        f"{what}: …{text[max(m.start() - 40, 0) : m.end() + 40]!r}…"
        for what, pattern in OTHER.items()
        for m in pattern.finditer(text)
    ]
    for field in reader.inputs:
        kind, value = field.get("type", "text"), field.get("value", "")
        if kind in LOCALE_INPUTS:
            found.append(f"a browser-locale {kind} input: {field.get('name')}")
        elif kind in TYPED and DATEISH.search(value) and not INPUT_VALUE.fullmatch(value):
            found.append(f"input {field.get('name')} holds {value!r}")
    return found


@pytest.fixture
def samples(db: None, settings: Any) -> dict[type[models.Model], models.Model]:
    settings.DYNAMODB_SYNC_ENABLED = True  # the mirror's state on the subscriber page
    made = make_samples()
    # Every kind of time a broadcast page shows: scheduled, started, finished.
    now = timezone.now()
    Broadcast.objects.filter(pk=made[Broadcast].pk).update(
        scheduled_for=now, started_at=now, finished_at=now
    )
    return made


def test_every_admin_page_shows_dates_and_times_in_the_one_format(samples, admin_client):
    ignored = third_party_text(samples)
    wrong: dict[str, str] = {}  # each problem once, with the first page that shows it
    read = 0
    for page in doors.pages(samples):
        response = admin_client.get(page.path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        read += 1
        for problem in problems(response.content.decode(), ignored):
            wrong.setdefault(problem, f"{page.key} ({page.path})")
    assert read > 50, f"only {read} admin pages read"
    assert not wrong, "\n".join(f"{where}: {problem}" for problem, where in wrong.items())


def test_a_hold_that_ends_another_day_is_said_in_the_one_format(samples, admin_client):
    """A message held past midnight (quiet hours from 22:00 end at 08:00 tomorrow) names
    the day as every other page does: on the message list, its page and the number's
    conversation, which say the same words."""
    held = samples[Message]
    until = timezone.now() + timedelta(hours=30)  # another day in any zone
    Message.objects.filter(pk=held.pk).update(status="queued", error_code="", next_attempt_at=until)
    at = until.astimezone(ops_zone())
    words = f"Held until {at:%a} {at.day} {at:%b}, {at:%H:%M} {at.tzname()} (quiet hours)"
    pages = [
        changelist_url(Message) + f"?id__exact={held.pk}",
        change_url(held),
        change_url(Subscriber.objects.get(phone=held.phone)),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert words in html, url
        assert not problems(html, third_party_text(samples)), url


def test_the_reader_catches_each_other_format():
    for stray in ["12/01/2026", "2026-12-06 04:12 CST", "Dec. 11, 2026", "Dec 6, 2026, 4:12 a.m.",
                  "Sun 06 Dec 2026, 04:20 CST", "2026-12-06T04:12:00", "10:12 UTC"]:  # fmt: skip
        assert problems(f"<p>{stray}</p>"), stray
    assert problems('<input type="datetime-local" name="when">')
    assert problems('<input name="when" value="12/01/2026 04:12">')
    shown = '<time title="Sun 6 Dec 2026, 10:12 UTC">Sun 6 Dec 2026, 04:12 CST</time>'
    inputs = '<input name="day" value="2026-12-06"><input name="at" value="2026-12-06 04:12">'
    assert not problems(f"<p>{shown}, on Sun 6 Dec 2026; chart: Sun 6 Dec; Dec 2026</p>{inputs}")


def test_the_audit_log_shows_ops_time_named_with_utc_on_hover(samples, admin_client, settings):
    sample = samples[AuditEntry]
    moment = datetime(2026, 12, 6, 10, 12, tzinfo=UTC)
    entry = AuditEntry.objects.create(  # the trail refuses UPDATE: a row of that moment
        action_time=moment,
        user=sample.user,
        content_type=sample.content_type,
        object_id=sample.object_id,
        object_repr=sample.object_repr,
        action_flag=sample.action_flag,
        change_message="Sampled at a known moment",
    )
    hover = (
        '<time datetime="2026-12-06T10:12:00Z" title="Sun 6 Dec 2026, 10:12 UTC">'
        "Sun 6 Dec 2026, 04:12 CST</time>"
    )
    for url in (changelist_url(AuditEntry), change_url(entry)):
        html = admin_client.get(url).content.decode()
        assert hover in html, url
        assert "(UTC)" not in html
    settings.OPS_TIMEZONE = "Australia/Sydney"
    html = admin_client.get(changelist_url(AuditEntry)).content.decode()
    assert ">Sun 6 Dec 2026, 21:12 AEDT</time>" in html


def changelist_url(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj: models.Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
