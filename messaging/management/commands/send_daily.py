"""manage.py send_daily [--date YYYY-MM-DD] [--dry-run]"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.broadcasts import audience, daily
from messaging.models import Broadcast


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
        if options["dry_run"]:
            self._dry_run(day)
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

    def _dry_run(self, day: date) -> None:
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
            f"projected cost: {p.projected_cost:.4f} USD "
            + ", ".join(f"{prov} {c:.4f}" for prov, c in sorted(p.cost_by_provider.items())),
            f"existing broadcast: #{existing.pk} {existing.state}"
            if existing
            else "existing broadcast: none",
            "dry run: nothing changed",
        ]
        self.stdout.write("\n".join(lines))
