"""manage.py verify_twilio"""

from django.core.management.base import BaseCommand, CommandError

from messaging.tasks import run_twilio_checks


class Command(BaseCommand):
    help = (
        "Twilio's checklist, one ✓/✗ line per check with what to do: credentials, the "
        "sender, A2P 10DLC or toll-free status for US senders, the daily WhatsApp "
        "templates' approval and category, the webhook URLs. Exits non-zero on a failure; "
        "the admin's banner shows the failures until a run passes."
    )

    def handle(self, *args: object, **options: object) -> None:
        results = run_twilio_checks()
        for check in results:
            self.stdout.write(check.line())
        failed = sum(1 for check in results if not check.ok)
        if failed:
            raise CommandError(f"{failed} of {len(results)} Twilio check(s) failed")
        self.stdout.write(f"All {len(results)} Twilio checks passed.")
