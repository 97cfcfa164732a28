"""Test settings: the real settings, with test-only storage locations."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("PUBLIC_BASE_URL", "https://portal.example.test")
# Tests never reach real AWS: credentials are fake and every client goes to moto.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# Quiet hours follow the wall clock: a broadcast test run at night in Chicago would be
# held. Off unless a test turns them on, with a clock it sets (tests/clock.py).
os.environ.setdefault("QUIET_HOURS", "")
# Every fictional test number is in one NPA-NXX (+1 312 555): the confirmation cap's
# shares per country and prefix are whole unless a test sets them.
os.environ.setdefault("OPTIN_CONFIRMATIONS_COUNTRY_SHARE", "100")
os.environ.setdefault("OPTIN_CONFIRMATIONS_PREFIX_SHARE", "100")

TEST_TMP = Path(os.environ.setdefault("SMSBOT_TEST_TMP", tempfile.mkdtemp(prefix="smsbot-test-")))
os.environ.setdefault("CELERY_BROKER_FOLDER", str(TEST_TMP / "broker"))
os.environ.setdefault("IMPORT_DIR", str(TEST_TMP / "imports"))

from smsbot.settings import *  # noqa: E402,F403
from smsbot.settings import CACHES, DATABASES, REDIS_URL  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that servers and workers started by tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_TMP / "test.sqlite3")}
if not REDIS_URL:
    CACHES["default"]["LOCATION"] = str(TEST_TMP / "cache")
