"""manage.py import_subscribers FILE.csv [--dry-run]"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subscribers.importing import import_csv


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file with columns phone, evidence and optionally "
        "channel (sms|whatsapp, default sms) and consent_status (default opted_in; pending "
        "rows are each sent a confirmation message). Every row is checked first; if any "
        "row is bad nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )

    def handle(self, *args: Any, file: Path, dry_run: bool, **options: Any) -> None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        report = import_csv(text, file.name, dry_run=dry_run)
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} problem(s) in {file.name}, nothing imported:\n"
                + "\n".join(report.errors)
            )
        counts = report.counts
        summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("new", "update", "skip"))
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            self.style.SUCCESS(f"{file.name}: {verb} ({summary}); dry run: {dry_run}")
        )
        self.stdout.write(str(report.confirmations))
