"""The report functions, against rows in the database (rollups for past days, live today)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from messaging import outcomes
from messaging.billing import pricing
from messaging.broadcasts import daily
from messaging.models import Broadcast, DailyContent, DailyRollup, PhoneMonthlySpend
from messaging.reports import figures, rollups
from subscribers import consent
from tests.ops.factories import at, message, seed_operations

pytestmark = pytest.mark.django_db
Q5 = Decimal("0.00001")


def facts_for(today: date, days: int = 40) -> list[figures.Fact]:
    return figures.load_facts(today - timedelta(days=days), today + timedelta(days=1), today)


def test_empty_database_gives_empty_figures_without_errors():
    today = timezone.localdate()
    facts = facts_for(today)
    assert facts == []
    spend = figures.month_to_date_spend(facts, today)
    assert spend.spend == 0 and spend.projection == 0 and not spend.projected_over_limit
    assert figures.delivery_success(facts, today, 7).rate is None
    assert figures.failures_by_error_code(facts, today) == []
    assert figures.daily_broadcast(today) is None
    assert figures.top_numbers(today) == ([], None)
    assert figures.cost_report(today, today + timedelta(days=1)) == []
    assert [row[1:] for row in figures.consent_per_day(today, today + timedelta(days=1))] == [
        (0, 0)
    ]


def test_closed_days_come_from_rollups_and_today_is_live(django_assert_num_queries):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    message(at(yesterday), price_estimated=Decimal("0.0100"))
    message(timezone.now(), price_estimated=Decimal("0.0200"))
    # Nothing rolled up yet (a fresh install): every day is counted live.
    assert rollups.coverage().start == rollups.coverage().end
    assert {(f.day, f.messages) for f in facts_for(today)} == {(yesterday, 1), (today, 1)}

    rollups.refresh_recent()
    assert rollups.coverage() == rollups.Coverage(yesterday, today, rollups.last_refreshed())
    # Rolled-up days come from the rollups: a message slipped into yesterday behind the
    # rollups' back is not seen until the next refresh.
    message(at(yesterday, 13), price_estimated=Decimal("0.0400"))
    with django_assert_num_queries(5):  # coverage (3), the rollups, today live
        facts = facts_for(today)
    assert {(f.day, f.messages) for f in facts} == {(yesterday, 1), (today, 1)}
    # A message written today shows at once, without another refresh.
    message(timezone.now(), price_estimated=Decimal("0.0300"))
    per_day = dict(figures.spend_per_day(facts_for(today), yesterday, today + timedelta(days=1)))
    assert per_day == {yesterday: Decimal("0.01000"), today: Decimal("0.05000")}


def test_refresh_recomputes_a_day_after_late_status_and_price_changes():
    day = timezone.localdate() - timedelta(days=2)
    msg = message(at(day), status="sent")
    rollups.refresh_day(day)
    row = DailyRollup.objects.get(day=day)
    assert (row.status, row.priced) == ("sent", 0)

    # A late callback, written by a queryset update (no model signals fire).
    type(msg).objects.filter(pk=msg.pk).update(status="delivered", price_actual=Decimal("0.0079"))
    rollups.refresh_day(day)
    row = DailyRollup.objects.get(day=day)
    assert (row.status, row.messages, row.priced) == ("delivered", 1, 1)
    assert row.cost_actual.quantize(Q5) == Decimal("0.00790")


def test_month_spend_projection_and_limit(settings):
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("1.00")
    today = date(2026, 11, 10)
    facts = [
        figures.Fact(today - timedelta(days=d), "outbound", "broadcast", "sms", "sns", status,
                     "", 10, 10, Decimal("0.10"), Decimal("0"), 0, Decimal("0"))
        for d in range(3)
        for status in ("delivered", "failed", "queued")
    ]  # fmt: skip
    # Last month's and inbound messages never count against this month.
    facts.append(figures.Fact(date(2026, 10, 31), "outbound", "reply", "sms", "sns", "sent", "",
                              1, 1, Decimal("5"), Decimal("0"), 0, Decimal("0")))  # fmt: skip
    spend = figures.month_to_date_spend(facts, today)
    # Only delivered (billed) messages: 3 days × 0.10; failed and queued cost nothing.
    assert spend.spend == Decimal("0.30000")
    assert spend.projection == Decimal("0.90000")  # 0.30 / 10 days × 30 days
    assert spend.percent_of_limit == pytest.approx(30.0)
    assert not spend.projected_over_limit
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0.50")
    assert figures.month_to_date_spend(facts, today).projected_over_limit


def test_actual_price_replaces_the_estimate_where_known():
    today = timezone.localdate()
    message(timezone.now(), price_estimated=Decimal("0.0083"), price_actual=Decimal("0.0079"))
    message(timezone.now(), price_estimated=Decimal("0.0083"))
    spend = figures.month_to_date_spend(facts_for(today), today)
    assert spend.spend == Decimal("0.01620")


def test_delivery_success_failures_and_broadcast_progress():
    today = timezone.localdate()
    seeded = seed_operations(today)
    message(at(today - timedelta(days=10)), status="undelivered", error_code="30005")
    rollups.refresh(today - timedelta(days=12), today)
    facts = facts_for(today)

    week = figures.delivery_success(facts, today, 7)
    assert (week.delivered, week.failed) == (3, 1)  # delivered ×2 + read; 30003 today
    assert week.rate == pytest.approx(75.0)
    month = figures.delivery_success(facts, today, 30)
    assert (month.delivered, month.failed) == (3, 2)

    codes = figures.failures_by_error_code(facts, today - timedelta(days=29))
    assert [(c.code, c.messages) for c in codes] == [("30003", 1), ("30005", 1)]
    assert codes[0].meaning.startswith("Unreachable destination handset")

    broadcast = figures.daily_broadcast(daily.local_today())
    assert broadcast == seeded["broadcast"]
    counts = outcomes.outcomes(broadcast)
    # Each message in one bucket: the read one is not the broadcast's.
    assert (counts.total, counts["sent"], counts["delivered"], counts["failed"]) == (2, 0, 1, 1)
    assert counts.percent == 100
    assert figures.may_move(broadcast, counts)  # still sending


def test_consent_per_day_counts_opt_ins_and_opt_outs():
    today = timezone.localdate()
    seed_operations(today)
    rows = figures.consent_per_day(today - timedelta(days=1), today + timedelta(days=1))
    assert rows == [(today - timedelta(days=1), 0, 0), (today, 3, 1)]


def test_top_numbers_by_spend_per_month():
    today = timezone.localdate()
    for _ in range(3):
        message(timezone.now(), phone="+13125550150", price_estimated=Decimal("0.0100"))
    message(timezone.now(), phone="+13125550151", price_estimated=Decimal("0.0200"))
    message(timezone.now(), phone="+13125550152", status="failed")  # not billed
    call_command("refresh_rollups")
    top, as_of = figures.top_numbers(today)
    assert [(t.phone, t.messages, t.cost) for t in top] == [
        ("+13125550150", 3, Decimal("0.03000")),
        ("+13125550151", 1, Decimal("0.02000")),
    ]
    assert as_of is not None
    assert PhoneMonthlySpend.objects.filter(month=today.replace(day=1)).count() == 2


def test_cost_report_by_month_provider_and_channel():
    today = timezone.localdate()
    last_month = rollups.month_start(today) - timedelta(days=1)
    message(at(last_month), provider="sns", price_estimated=Decimal("0.00645"))
    message(at(last_month), provider="sns", price_estimated=Decimal("0.00645"),
            price_actual=Decimal("0.00600"))  # fmt: skip
    message(timezone.now(), channel="whatsapp", price_estimated=Decimal("0.005"))
    message(timezone.now(), status="queued")  # not sent: not in the report
    call_command("refresh_rollups", "--since", str(last_month))
    rows = figures.cost_report(last_month, today + timedelta(days=1))
    assert [(r.month, r.provider_label, r.channel_label, r.messages) for r in rows] == [
        (rollups.month_start(today), "Twilio", "WhatsApp", 1),
        (rollups.month_start(last_month), "AWS SNS", "SMS", 2),
    ]
    # A range gets only its own days.
    assert [r.provider for r in figures.cost_report(today, today + timedelta(days=1))] == ["twilio"]
    sns = rows[1]
    assert sns.estimated == Decimal("0.01290")
    assert (sns.actual, sns.priced, sns.estimated_priced) == (
        Decimal("0.00600"),
        1,
        Decimal("0.00645"),
    )
    assert sns.difference == Decimal("-0.00045")
    assert sns.cost == Decimal("0.01245")


def test_rollups_backfill_older_history_a_stretch_per_run(settings):
    """Imported history is rolled up by the refresh task itself, newest stretch first."""
    settings.ROLLUP_REFRESH_DAYS = 2
    today = rollups.today()
    old_days = [today - timedelta(days=n) for n in (10, 45, 200)]
    for day in old_days:
        message(at(day))
    message(timezone.now())

    first = rollups.refresh_recent()
    assert first["backfilled"] == rollups.BACKFILL_DAYS  # the stretch ending 10 days ago
    assert set(DailyRollup.objects.values_list("day", flat=True)) == {today, old_days[0]}
    rollups.refresh_recent()  # the stretch ending 45 days ago
    rollups.refresh_recent()  # the one ending 200 days ago: empty days in between skipped
    assert set(DailyRollup.objects.values_list("day", flat=True)) == {today, *old_days}
    assert rollups.refresh_recent()["backfilled"] == 0
    assert rollups.coverage().start == old_days[2]


def test_refresh_catches_up_on_the_days_since_the_last_run(settings):
    """Beat down for a week: the next run recomputes every day since its last run."""
    settings.ROLLUP_REFRESH_DAYS = 1
    today = rollups.today()
    six_days_ago = today - timedelta(days=6)
    message(at(six_days_ago))
    rollups.refresh(six_days_ago, six_days_ago + timedelta(days=1))
    DailyRollup.objects.update(refreshed_at=rollups.day_start(six_days_ago))
    message(at(today - timedelta(days=4)))
    result = rollups.refresh_recent()
    assert result["days"] == 7  # six days ago through today
    assert DailyRollup.objects.filter(day=today - timedelta(days=4)).exists()


def test_active_subscribers_worked_back_from_consent_events():
    today = rollups.today()
    for n in range(3):
        consent.change(f"+1312555014{n}", "opted_in", "web_form", {"form": "test"})
    consent.change("+13125550143", "opted_in", "whatsapp_keyword", {"text": "JOIN"},
                   channel="whatsapp")  # fmt: skip
    consent.change("+13125550140", "opted_out", "sms_keyword", {"text": "STOP"})
    consent.change("+13125550140", "opted_out", "sms_keyword", {"text": "STOP"})  # no change
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    trends = {t.channel: t for t in figures.active_subscribers(yesterday, tomorrow)}
    assert (trends["sms"].now, trends["whatsapp"].now) == (2, 1)
    # Everything happened today: yesterday ended with nobody, today with the current count.
    assert trends["sms"].per_day == [(yesterday, 0), (today, 2)]
    assert trends["whatsapp"].per_day == [(yesterday, 0), (today, 1)]


def test_upcoming_content_and_ad_hoc_broadcasts_apart_from_the_daily_one(settings):
    settings.DAILY_FALLBACK_TEXT = ""
    first = daily.local_today()
    DailyContent.objects.create(date=first, text="Today's tip")
    days = figures.upcoming_content(first, 3)
    assert [(d.day, d.missing) for d in days] == [
        (first, False), (first + timedelta(days=1), True), (first + timedelta(days=2), True),
    ]  # fmt: skip
    settings.DAILY_FALLBACK_TEXT = "A fallback"
    assert not any(d.missing for d in figures.upcoming_content(first, 3))

    seeded = seed_operations(timezone.localdate())
    adhoc = Broadcast.objects.create(idempotency_key="adhoc:1", name="Holiday hours", text="x",
                                     state="sending")  # fmt: skip
    shown = figures.adhoc_broadcasts(timezone.now() - timedelta(days=7))
    assert shown == [adhoc]
    assert figures.daily_broadcast(first) == seeded["broadcast"]


def provider_cells(html: str, table: str) -> set[tuple[str, str]]:
    """(provider, channel) of each row of the table at the id or class given."""
    found = re.search(rf'(id|class)="{table}".*?</table>', html, re.S)
    assert found, table
    row = r"<tr><td>(?:[^<]*</td><td>)?([^<]+)</td><td>([^<]+)</td>"
    return set(re.findall(row, found[0]))


def test_the_consoles_whatsapp_is_named_as_priced_as_twilio_not_sns(admin_client, settings):
    """SNS sends no WhatsApp, so the console's WhatsApp is priced as Twilio: each spend
    row names what its own channel is priced as, and a figure without a channel both."""
    settings.CONSOLE_PRICES_AS = "sns"
    message(timezone.now(), provider="console", channel="sms")
    message(timezone.now(), provider="console", channel="whatsapp")
    expected = {("Console (priced as AWS SNS)", "SMS"), ("Console (priced as Twilio)", "WhatsApp")}
    dashboard = admin_client.get(reverse("admin:index")).content.decode()
    assert provider_cells(dashboard, "ops-by-provider") == expected
    call_command("refresh_rollups", "--since", str(timezone.localdate() - timedelta(days=1)))
    report = admin_client.get(reverse("admin:messaging_message_costs")).content.decode()
    assert provider_cells(report, "ops-cost-report") == expected
    assert pricing.provider_label("console") == "Console (priced as AWS SNS; WhatsApp as Twilio)"
    settings.CONSOLE_PRICES_AS = "twilio"
    assert pricing.provider_label("console") == "Console (priced as Twilio)"
