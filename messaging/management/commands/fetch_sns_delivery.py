"""manage.py fetch_sns_delivery [--since ISO-TIME]"""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.providers.sns import delivery_logs


def parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--since must be an ISO time such as 2026-11-01T00:00, not {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Read SNS's SMS delivery log groups in CloudWatch Logs now and apply delivery "
        "statuses and actual prices (beat also runs this every minute). Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            help="re-read from this time (ISO 8601, UTC unless it names an offset) instead "
            "of the stored cursor; lines already applied are not applied again",
        )

    def handle(self, *args: object, **options: object) -> None:
        since = parse_since(str(options["since"])) if options["since"] else None
        if since is not None:
            self.stdout.write(f"Reading from {since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC.")
        try:
            result = delivery_logs.fetch(since)
        except delivery_logs.DeliveryLogError as exc:
            raise CommandError(str(exc)) from exc
        for group in result.groups:
            if not group.found:
                self.stdout.write(f"{group.log_group}: not created yet (no SMS logged there)")
                continue
            newest = f"{group.newest:%Y-%m-%d %H:%M:%S} UTC" if group.newest else "none"
            self.stdout.write(
                f"{group.log_group}: {group.lines} new lines: {group.applied} applied, "
                f"{group.repeated} already applied, {group.not_ours} not sent by the portal, "
                f"{group.malformed} malformed; newest line {newest}"
            )
