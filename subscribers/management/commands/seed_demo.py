"""Demo data and an admin login, for a first look."""

import secrets
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand

from smsbot import enrolment

DEMO_USERNAME = "admin"


def python_command() -> str:
    """How to run this Python from here: .venv/bin/python under make run, else python."""
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return "python"


RESET_HINT = f"Forgot it? {python_command()} manage.py seed_demo --reset-password prints a new one."


class Command(BaseCommand):
    help = (
        "Create an admin login (password printed once) and demo data. Safe to re-run. "
        "--reset-password gives the demo login a new password and prints it."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--admin-only", action="store_true", help="Only create the admin login."
        )
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help=f"Give the demo login ({DEMO_USERNAME}) a new password and print it.",
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["reset_password"]:
            self.reset_password()
            return
        self.create_admin()
        if not options["admin_only"]:
            from subscribers.demo import seed

            self.stdout.write(seed())

    def create_admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                f"An admin login exists already; its password is not shown again. {RESET_HINT}"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(DEMO_USERNAME, "admin@example.com", password)
        self.show_login(password, "shown once")

    def reset_password(self) -> None:
        User = get_user_model()
        password = secrets.token_urlsafe(12)
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            User.objects.create_superuser(DEMO_USERNAME, "admin@example.com", password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.show_login(password, "new password")

    def show_login(self, password: str, note: str) -> None:
        bar = "=" * 72
        user = get_user_model().objects.get(username=DEMO_USERNAME)
        self.stdout.write(
            f"{bar}\nDemo admin login ({note}): {DEMO_USERNAME} / {password}\n"
            f"Open http://127.0.0.1:8000/admin/\n{second_factor_note(user)}\n{RESET_HINT}\n{bar}"
        )


def second_factor_note(user: AbstractBaseUser) -> str:
    if not settings.ADMIN_2FA_REQUIRED:
        return (
            "Two-factor login is off for this demo (ADMIN_2FA_REQUIRED=false); "
            "set it to true in production."
        )
    if enrolment.enrolled(user):
        return "Two-factor login is on: log in with your authenticator app's code."
    link, token = enrolment.issue(user, None)
    return (
        "Two-factor login is on: open this link first, log in there and set up an "
        f"authenticator app.\n{enrolment.printed(link, token)}"
    )
