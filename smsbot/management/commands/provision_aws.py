"""Create or update every AWS resource the portal uses; a second run changes nothing."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from smsbot import provisioning
from smsbot.provisioning.core import Action, Context, provision


class Command(BaseCommand):
    help = (
        "Create or update the portal's AWS resources (IAM, log groups, SNS, SES with "
        "EMAIL_FROM, DynamoDB, dashboard, alarms, budget), printing create/update/unchanged "
        "per resource."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the plan; change nothing."
        )
        parser.add_argument(
            "--with-secrets",
            action="store_true",
            help="Also store TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN in Secrets Manager.",
        )

    def handle(self, *args: object, **options: object) -> None:
        dry_run = bool(options["dry_run"])
        ctx = Context.discover()
        self.stdout.write(
            f"{'Plan (dry run, nothing is changed)' if dry_run else 'Provisioning'} "
            f"for account {ctx.account_id} in {ctx.region}:"
        )
        counts = provision(
            provisioning.resources(with_secrets=bool(options["with_secrets"])),
            ctx,
            self.stdout,
            dry_run=dry_run,
        )
        summary = ", ".join(f"{counts[a]} {a.value}" for a in Action if counts[a])
        self.stdout.write(f"Done: {summary}." + (" Nothing was changed." if dry_run else ""))
