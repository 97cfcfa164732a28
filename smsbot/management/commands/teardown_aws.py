"""Remove what provision_aws created. DynamoDB tables only with --delete-data."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from smsbot import provisioning
from smsbot.provisioning.core import Context, teardown


class Command(BaseCommand):
    help = "Delete the portal's AWS resources (tables only with --delete-data). Needs --yes."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--yes", action="store_true", help="Confirm: really delete.")
        parser.add_argument(
            "--delete-data",
            action="store_true",
            help="Also delete the DynamoDB tables and every item in them.",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not options["yes"]:
            raise CommandError(
                "teardown_aws deletes the portal's AWS resources; run it again with --yes."
            )
        ctx = Context.discover()
        self.stdout.write(f"Tearing down in account {ctx.account_id}, {ctx.region}:")
        teardown(
            provisioning.resources(with_secrets=True, tearing_down=True),
            ctx,
            self.stdout,
            delete_data=bool(options["delete_data"]),
        )
        self.stdout.write("Done.")
