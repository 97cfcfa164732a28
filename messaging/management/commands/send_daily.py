"""manage.py send_daily [--date YYYY-MM-DD] [--dry-run]"""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from messaging.broadcasts import audience, daily, schedule, windows
from messaging.models import Broadcast, SendMode


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Run the daily broadcast now (idempotent per date)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="local date YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--dry-run", action="store_true", help="print recipients and cost; change nothing"
        )

    def handle(self, *args: object, **options: object) -> None:
        day = parse_date(str(options["date"])) if options["date"] else daily.local_today()
        current = schedule.current()
        if options["dry_run"]:
            self._dry_run(day, current)
            return
        if current.local_time:
            self._local_time(day, current)
            return
        result = daily.start(day)
        if result.broadcast is None:
            self.stderr.write(self.style.WARNING(result.note))
            return
        b = result.broadcast
        b.refresh_from_db()
        self.stdout.write(
            f"{daily.key_for(day)}: broadcast #{b.pk} {result.note} "
            f"(state {b.state}, {b.sent}/{b.total} sent)"
        )

    def _local_time(self, day: date, current: schedule.DailySchedule) -> None:
        """Start the waves due now; the minute check starts the rest as they fall due."""
        started = windows.advance(day, timezone.now(), current, windows.audience_groups())
        broadcast = Broadcast.objects.filter(idempotency_key=daily.key_for(day)).first()
        if broadcast is None:
            content = daily.text_for(day)
            if content is None:
                self.stderr.write(self.style.WARNING(f"no content for {day}: skipped"))
                return
            why = "no wave is due yet" if current.enabled else "the daily schedule is disabled"
            self.stdout.write(f"{daily.key_for(day)}: {why}")
            self._waves(day, content.text, bool(content.content_sid), None)
            return
        self.stdout.write(
            f"{daily.key_for(day)}: broadcast #{broadcast.pk} ({broadcast.get_mode_display()}, "
            f"state {broadcast.state}): {started} wave(s) started now"
        )
        if broadcast.mode == SendMode.LOCAL_TIME:
            self._waves(day, broadcast.text, bool(broadcast.whatsapp_content_sid), broadcast)

    def _waves(self, day: date, text: str, template: bool, broadcast: Broadcast | None) -> None:
        rows = windows.wave_rows(day, text, template=template, broadcast=broadcast)
        self.stdout.write(f"waves: {len(rows)} (local time, UTC, recipients, projected cost)")
        for row in rows:
            self.stdout.write(
                f"  {', '.join(row.local_times)} | {row.due_at:%Y-%m-%d %H:%M} UTC | "
                f"{row.recipients} | {row.projected_cost:.4f} USD | {row.status}"
            )

    def _dry_run(self, day: date, current: schedule.DailySchedule) -> None:
        content = daily.text_for(day)
        if content is None:
            self.stdout.write(f"{day}: no content and no fallback text: the day would be skipped")
            return
        existing = Broadcast.objects.filter(idempotency_key=daily.key_for(day)).first()
        p = audience.preview(content.text, template=bool(content.content_sid))
        source = "fallback text" if content.fallback else "daily content"
        lines = [
            f"date: {day} ({source})",
            f"recipients: {p.recipients} "
            + ", ".join(f"{ch} {n}" for ch, n in sorted(p.by_channel.items())),
            f"segments: {p.segments} ({p.encoding})",
            *(f"warning: {w}" for w in p.warnings),
            *(
                [
                    f"sandbox: {p.sandbox_refused} SMS recipient(s) not verified, AWS would refuse "
                    f"them (SMS_SANDBOX_SEND={settings.SMS_SANDBOX_SEND})"
                ]
                if p.sandbox_refused
                else []
            ),
            f"projected cost: {p.projected_cost:.4f} USD "
            + ", ".join(f"{prov} {c:.4f}" for prov, c in sorted(p.cost_by_provider.items())),
            f"existing broadcast: #{existing.pk} {existing.state} ({existing.get_mode_display()})"
            if existing
            else "existing broadcast: none",
        ]
        self.stdout.write("\n".join(lines))
        if existing.mode == SendMode.LOCAL_TIME if existing else current.local_time:
            self._waves(day, content.text, bool(content.content_sid), existing)
        self.stdout.write("dry run: nothing changed")
