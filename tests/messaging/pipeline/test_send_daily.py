"""manage.py send_daily: dry run, idempotent run, bad input, days without content."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from messaging.broadcasts import daily
from messaging.models import Broadcast, DailyContent, Message
from smsbot.models import OutboxTask
from tests.messaging.pipeline.conftest import opted_in

pytestmark = pytest.mark.django_db
DAY = date(2026, 12, 1)


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_daily", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_the_dry_run_prints_recipients_segments_and_cost_and_changes_nothing(settings):
    settings.SMS_PROVIDER = "sns"
    opted_in(4)
    opted_in(2, start=150, channel="whatsapp")
    DailyContent.objects.create(date=DAY, text="It’s a lovely day " + "x" * 60)
    output = run("--date", DAY.isoformat(), "--dry-run")
    assert "recipients: 6 sms 4, whatsapp 2" in output
    assert "segments: 2 (UCS-2)" in output
    assert "curly quote" in output
    # 4 SMS × 2 segments × 0.00645 (SNS) + 2 WhatsApp × 0.005 (Twilio session message).
    assert f"projected cost: {Decimal('0.0616'):.4f} USD" in output
    assert "dry run: nothing changed" in output
    assert not Broadcast.objects.exists() and not Message.objects.exists()
    assert not OutboxTask.objects.exists()


def test_a_run_creates_the_broadcast_once_and_queues_the_fan_out():
    opted_in(2)
    DailyContent.objects.create(date=DAY, text="Hi")
    assert "started" in run("--date", DAY.isoformat())
    # The fan-out task has not run yet: a second run queues it again, nothing more.
    assert "fan-out continued" in run("--date", DAY.isoformat())
    assert Broadcast.objects.count() == 1
    broadcast = Broadcast.objects.get()
    assert broadcast.idempotency_key == "daily:2026-12-01" and broadcast.state == "sending"
    assert OutboxTask.objects.filter(task_name="messaging.fan_out").count() >= 1


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "01/12/2026"])
def test_a_bad_date_exits_non_zero_with_a_message(bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_daily", "--date", bad)


def test_a_bad_date_from_the_shell_exits_non_zero():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "send_daily", "--date", "2026-02-30", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert result.returncode != 0
    assert "--date must be YYYY-MM-DD" in result.stderr


def test_without_content_or_fallback_the_day_is_skipped_with_a_warning():
    opted_in(1)
    output = run("--date", DAY.isoformat())
    assert "no content for 2026-12-01: skipped" in output
    assert not Broadcast.objects.exists()
    assert "2026-12-01" in daily.skipped_days()
    assert DAY in daily.days_without_content(DAY)


def test_the_fallback_text_covers_a_day_without_content(settings):
    settings.DAILY_FALLBACK_TEXT = "Have a good day!"
    opted_in(1)
    run("--date", DAY.isoformat())
    broadcast = Broadcast.objects.get()
    assert broadcast.text == "Have a good day!" and "fallback" in broadcast.name
    assert daily.days_without_content(DAY) == []
