#!/usr/bin/env python
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def development_secret_key() -> None:
    """Use the key `make run` keeps in var/secret_key when none is configured.

    Without it a second shell's commands stopped at start-up. The environment
    and .env win; a deployment has no var/secret_key.
    """
    import environ

    environ.Env.read_env(ROOT / ".env", overwrite=False)
    key_file = ROOT / "var" / "secret_key"
    if not os.environ.get("DJANGO_SECRET_KEY") and key_file.is_file():
        os.environ["DJANGO_SECRET_KEY"] = key_file.read_text().strip()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsbot.settings")
    development_secret_key()
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake is one sentence to fix, not a traceback to read.
        sys.exit(f"Error: {exc}")
