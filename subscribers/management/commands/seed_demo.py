"""Demo data and a login per role (admin, Operations Manager, DevOps), for a first look."""

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from smsbot import enrolment
from smsbot.web_address import admin_url, web_bind

DEMO_USERNAME = "admin"


def python_command() -> str:
    """How to run this Python from here: .venv/bin/python under make run, else python."""
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return "python"


RESET_HINT = f"Forgot one? {python_command()} manage.py seed_demo --reset-password prints new ones."


@dataclass(frozen=True)
class DemoLogin:
    username: str
    group: str  # "" for the superuser
    may: str  # what the role does, for the banner


ADMIN_LOGIN = DemoLogin(DEMO_USERNAME, "", "everything")
# One login per staff group (the groups come with the migrations), so the demo shows
# what each role sees; README "Security > Admin > Roles" has the whole table.
ROLE_LOGINS = [
    DemoLogin("operations", "Operations Manager", "subscribers, consent, broadcasts"),
    DemoLogin("devops", "DevOps", "also the daily schedule, daily content, prices"),
]


class Command(BaseCommand):
    help = (
        "Create the demo logins (an admin, an Operations Manager, a DevOps; passwords "
        "printed once) and demo data. Safe to re-run. --reset-password gives the demo "
        "logins new passwords and prints them."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--admin-only",
            action="store_true",
            help="Only create the admin login (no role logins, no demo data).",
        )
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help=f"Give the demo logins ({DEMO_USERNAME} and the role logins there are) new "
            "passwords and print them.",
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["reset_password"]:
            self.show_logins(self.reset_passwords(), "new passwords")
            return
        made = self.create_admin()
        if not options["admin_only"]:
            groups = set(Group.objects.values_list("name", flat=True))
            for login in ROLE_LOGINS:
                if login.group not in groups:
                    # Migrations create the groups; a flushed database has none.
                    self.stderr.write(f"No {login.group!r} group (run migrate): no login for it.")
                elif not exists(login):
                    made.append((login, make_login(login)))
        if made:
            self.show_logins(made, "shown once")
        else:
            self.stdout.write(
                f"The demo logins exist already; their passwords are not shown again. {RESET_HINT}"
            )
        if not options["admin_only"]:
            from subscribers.demo import seed

            self.stdout.write(seed())

    def create_admin(self) -> list[tuple[DemoLogin, str]]:
        if get_user_model().objects.filter(is_superuser=True).exists():
            return []
        return [(ADMIN_LOGIN, make_login(ADMIN_LOGIN))]

    def reset_passwords(self) -> list[tuple[DemoLogin, str]]:
        """The admin's (created if missing) and each role login's that exists."""
        User = get_user_model()
        reset = []
        for login in [ADMIN_LOGIN, *ROLE_LOGINS]:
            user = User.objects.filter(username=login.username).first()
            if user is None:
                if login is ADMIN_LOGIN:
                    reset.append((login, make_login(login)))
                continue
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
            reset.append((login, password))
        return reset

    def show_logins(self, logins: list[tuple[DemoLogin, str]], note: str) -> None:
        bar = "=" * 72
        lines = [
            f"  {login.username} / {password}   ({login.group or 'superuser'}: {login.may})"
            for login, password in logins
        ]
        self.stdout.write(
            "\n".join(
                [
                    bar,
                    f"Demo logins ({note}) for {admin_url(web_bind())}:",
                    *lines,
                    second_factor_note([login for login, _ in logins]),
                    RESET_HINT,
                    bar,
                ]
            )
        )


def exists(login: DemoLogin) -> bool:
    return get_user_model().objects.filter(username=login.username).exists()


def make_login(login: DemoLogin) -> str:
    """Create the login with a new password; returns the password."""
    password = secrets.token_urlsafe(12)
    User = get_user_model()
    email = f"{login.username}@example.com"
    if not login.group:
        User.objects.create_superuser(login.username, email, password)
        return password
    user = User.objects.create_user(login.username, email, password, is_staff=True)
    user.groups.add(Group.objects.get(name=login.group))
    return password


def second_factor_note(logins: list[DemoLogin]) -> str:
    if not settings.ADMIN_2FA_REQUIRED:
        return (
            "Two-factor login is off for this demo (ADMIN_2FA_REQUIRED=false); "
            "set it to true in production."
        )
    # A first authenticator is enrolled only through a one-time link (smsbot.enrolment).
    notes = ["Two-factor login is on."]
    for user in get_user_model().objects.filter(username__in=[x.username for x in logins]):
        if enrolment.enrolled(user):
            notes.append(f"{user}: log in with your authenticator app's code.")
        else:
            link, token = enrolment.issue(user, None)
            notes.append(
                "Open this link first, log in there and set up an authenticator app.\n"
                + enrolment.printed(link, token)
            )
    return "\n".join(notes)
