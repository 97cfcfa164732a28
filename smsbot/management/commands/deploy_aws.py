"""Deploy an image from the ECR repository to the ECS services: migrations first."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from smsbot.provisioning.core import Context
from smsbot.provisioning.deploy import deploy


class Command(BaseCommand):
    help = (
        "Register task definitions with the image --image TAG, run migrate as a one-off task "
        "(stopping if it fails), update web, worker and beat and wait until they are stable."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--image", required=True, help="The image tag in the ECR repository (a commit SHA)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would change; change nothing."
        )

    def handle(self, *args: object, **options: object) -> None:
        ctx = Context.discover()
        self.stdout.write(f"Deploying to account {ctx.account_id} in {ctx.region}:")
        deploy(ctx, str(options["image"]), self.stdout, dry_run=bool(options["dry_run"]))
