"""Demo data and an admin login, for a first look at the portal."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = "Create an admin login (password printed once) and demo data. Safe to re-run."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--admin-only", action="store_true", help="Only create the admin login."
        )

    def handle(self, *args: object, **options: object) -> None:
        self.create_admin()
        if not options["admin_only"]:
            from subscribers.demo import seed

            self.stdout.write(seed())

    def create_admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin login exists already; its password is not shown again.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(DEMO_USERNAME, "admin@example.com", password)
        bar = "=" * 60
        self.stdout.write(
            f"{bar}\nDemo admin login (shown once): {DEMO_USERNAME} / {password}\n"
            f"Open http://127.0.0.1:8000/admin/\n{second_factor_note()}\n{bar}"
        )


def second_factor_note() -> str:
    if settings.ADMIN_2FA_REQUIRED:
        return "Two-factor login is on: at first login, scan the QR code with an authenticator app."
    return (
        "Two-factor login is off for this demo (ADMIN_2FA_REQUIRED=false); "
        "set it to true in production."
    )
