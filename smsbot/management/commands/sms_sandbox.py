"""Add, verify and list the SMS sandbox's destination numbers (DevOps, a new AWS account).

In the sandbox AWS delivers only to verified destination numbers: `add` makes AWS
text a code to a number, `verify` enters that code, `list` shows where the account
stands. SNS's sandbox, or End User Messaging SMS's with SMS_PROVIDER=aws-sms.
"""

from argparse import ArgumentParser

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from smsbot import sms_account
from smsbot.management.arguments import e164
from smsbot.provisioning.core import describe_error
from smsbot.redaction import mask_phone


class Command(BaseCommand):
    help = (
        "SMS sandbox destinations: add PHONE (AWS texts it a code), verify PHONE CODE, list. "
        "SNS's sandbox, or End User Messaging SMS's with SMS_PROVIDER=aws-sms."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Add a destination; AWS texts it a code.")
        add.add_argument("phone")
        verify = actions.add_parser("verify", help="Verify a destination with its code.")
        verify.add_argument("phone")
        verify.add_argument("code")
        actions.add_parser("list", help="Whether the account is in the sandbox, and its numbers.")

    def handle(self, *args: object, **options: object) -> None:
        service = sms_account.sandbox_service()
        try:
            if options["action"] == "add":
                self._add(e164(options["phone"], "phone"), service)
            elif options["action"] == "verify":
                self._verify(e164(options["phone"], "phone"), str(options["code"]), service)
            else:
                self._list()
        except (ClientError, BotoCoreError) as exc:
            raise CommandError(f"{service} sandbox: {describe_error(exc)}") from exc

    def _add(self, phone: str, service: str) -> None:
        sms_account.add_destination(phone)
        self.stdout.write(
            f"{service} sandbox: added {mask_phone(phone)}; AWS texted it a verification code. "
            f"Run: manage.py sms_sandbox verify {phone} CODE"
        )

    def _verify(self, phone: str, code: str, service: str) -> None:
        if not code.strip().isdigit():
            raise CommandError(f"code: {code!r} is not the digits AWS texted")
        try:
            sms_account.verify_destination(phone, code.strip())
        except LookupError:
            raise CommandError(
                f"{service} sandbox: {mask_phone(phone)} was never added; run "
                f"manage.py sms_sandbox add {phone} first"
            ) from None
        self.stdout.write(f"{service} sandbox: {mask_phone(phone)} verified.")

    def _list(self) -> None:
        sandbox = sms_account.current_sandbox()
        state = "IN THE SANDBOX" if sandbox.in_sandbox else "out of the sandbox (production)"
        self.stdout.write(f"{sandbox.service}: {state}")
        for phone in sandbox.verified:
            self.stdout.write(f"  verified  {phone}")
        for phone in sandbox.pending:
            self.stdout.write(f"  pending   {phone}")
        if sandbox.in_sandbox:
            self.stdout.write(f"To leave the sandbox: {sandbox.help_url}")
