"""Recompute the reporting rollups for a range of days."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.models import Message
from messaging.reports import rollups


class Command(BaseCommand):
    help = (
        "Recompute daily message rollups and per-number monthly spend. Default: what the "
        "beat task does (the last ROLLUP_REFRESH_DAYS days, the days since its last run, "
        "and a stretch of older history); --all: every day since the first message."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--since", help="first day to recompute, YYYY-MM-DD")
        group.add_argument("--all", action="store_true", help="every day with messages")

    def handle(self, *args: object, since: str | None, all: bool, **options: object) -> None:
        today = rollups.today()
        if all:
            first = Message.objects.order_by("created_at").values_list("created_at", flat=True)
            oldest = first.first()
            start = rollups.day_of(oldest) if oldest else today
        elif since:
            try:
                start = date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since must be YYYY-MM-DD, not {since!r}") from exc
            if start > today:
                raise CommandError(f"--since {since} is in the future")
        else:
            result = rollups.refresh_recent()
            self.stdout.write(self._summary(result))
            return
        result = rollups.refresh(start, today + timedelta(days=1))
        self.stdout.write(self._summary(result))

    @staticmethod
    def _summary(result: dict[str, int]) -> str:
        summary = f"Rollups refreshed: {result['days']} day(s), {result['months']} month(s)"
        if result.get("backfilled"):
            summary += f"; {result['backfilled']} older day(s) rolled up"
        return summary + "."
