"""Print a one-time enrolment link for a staff user's first authenticator app.

For whoever runs the portal from a shell: the first superuser (nobody could issue
them a link in the admin yet), or a superuser who lost their phone (--reset).
"""

from argparse import ArgumentParser

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from smsbot import enrolment


class Command(BaseCommand):
    help = (
        "Print a one-time link with which USERNAME sets up two-factor login (with their "
        "password). --reset first deletes their authenticator app and recovery codes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the user's authenticator app and recovery codes first (a lost phone).",
        )

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: options["username"]}).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        refusal = enrolment.issue_refusal(user, resetting=bool(options["reset"]))
        if refusal:
            hint = " (--reset deletes their devices first)" if enrolment.enrolled(user) else ""
            raise CommandError(refusal + hint)
        do = enrolment.reset if options["reset"] else enrolment.issue
        link, token = do(user, None)
        self.stdout.write(enrolment.printed(link, token))
