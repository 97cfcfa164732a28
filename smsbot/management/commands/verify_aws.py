"""The validation checklist of the AWS side: one ✓/✗ line per item; exits 1 on any ✗."""

from argparse import ArgumentParser

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from smsbot import opt_out_list, provisioning
from smsbot.management.arguments import e164
from smsbot.provisioning import account, logs, ses
from smsbot.provisioning.core import Check, Context, client, describe_error, verify
from smsbot.redaction import mask_phone


class Command(BaseCommand):
    help = "Check every AWS resource provision_aws creates; exit 1 when any check fails."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--test-number", help="Also send a test SMS through SNS to this number (E.164)."
        )
        parser.add_argument(
            "--with-secrets", action="store_true", help="Also check the Twilio secret."
        )

    def handle(self, *args: object, **options: object) -> None:
        number = self._number(options["test_number"])
        ctx = Context.discover()
        checks = verify(
            provisioning.resources(with_secrets=bool(options["with_secrets"])), ctx, self.stdout
        )
        standing = [
            *account.checks(),
            *ses.account_checks(),
            self._logs_flowing(),
            *self._opt_out_lists(),
        ]
        for check in standing:
            self.stdout.write(f"{check}\n")
            checks.append(check)
        if number:
            check = self._send_test(number)
            self.stdout.write(f"{check}\n")
            checks.append(check)
        failed = sum(1 for c in checks if c.ok is False)
        if failed:
            raise CommandError(f"{failed} of {len(checks)} checks failed.")
        self.stdout.write(f"All {len(checks)} checks passed.")

    def _number(self, raw: object) -> str | None:
        return e164(raw, "--test-number") if raw else None

    def _logs_flowing(self) -> Check:
        try:
            return logs.delivery_logs_flowing()
        except (ClientError, BotoCoreError) as exc:
            return Check(False, f"CloudWatch logs flowing: could not check — {describe_error(exc)}")

    def _opt_out_lists(self) -> list[Check]:
        """The last daily reconcile of AWS's opt-out lists with the portal's consent."""
        if not opt_out_list.lists():
            return []
        results = opt_out_list.last_reconcile()
        if not results:
            return [Check(None, "opt-out lists: not reconciled yet (task reconcile-aws-opt-outs)")]
        return [Check(not r.opted_in_here, r.line()) for r in results]

    def _send_test(self, number: str) -> Check:
        what = f"test SMS to {mask_phone(number)}"
        try:
            sent = client("sns").publish(
                PhoneNumber=number, Message="smsbot verify_aws: test message, no reply needed."
            )
        except (ClientError, BotoCoreError) as exc:
            return Check(False, f"{what}: not sent — {describe_error(exc)}")
        return Check(True, f"{what}: accepted by SNS, message id {sent['MessageId']}")
