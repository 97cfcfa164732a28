"""Settings: everything comes from the environment (see .env.example)."""

import re
from base64 import b64encode
from datetime import timedelta
from decimal import Decimal
from hashlib import sha256
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False, parse_comments=True)

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (any long random string) or, for "
            "local development only, set DJANGO_DEBUG=true to use a dev-only key."
        )
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "smsbot.apps.PortalAdminConfig",
    "smsbot.apps.UsersAndRolesConfig",  # django.contrib.auth
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "smsbot.apps.SchedulesConfig",  # django_celery_beat
    "import_export",
    "smsbot.apps.LoginLockoutsConfig",  # axes
    "csp",
    "django_otp",
    "smsbot.apps.TwoFactorDevicesConfig",  # django_otp.plugins.otp_totp
    "smsbot.apps.RecoveryCodesConfig",  # django_otp.plugins.otp_static
    "simple_history",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "smsbot",
    "subscribers",
    "messaging",
]

MIDDLEWARE = [
    # First: a load balancer's probe names a Host no setting can list (smsbot/probes.py).
    "smsbot.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "smsbot.timezones.OpsTimezoneMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "smsbot.urls"
WSGI_APPLICATION = "smsbot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL plus a busy timeout lets the web, worker and beat processes share one file.
    # A transaction that reads and then writes cannot wait for SQLite's write lock
    # ("database is locked" at once): IMMEDIATE takes it at BEGIN, so concurrent
    # requests queue on the busy timeout instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (also backs rate limits) ------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "smsbot",
        }
    }
else:
    # A file cache is shared by every local process, which django-ratelimit needs.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth, i18n, static --------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user or address before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The admin's datetime format names the zone (smsbot/formats/en/formats.py).
FORMAT_MODULE_PATH = ["smsbot.formats"]
# Widgets render with the project's templates, so that templates/admin/widgets/ can
# name the zone next to the admin's date and time inputs.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

STATIC_URL = "static/"
# Empty (a copied .env.example) means the default, where the image collected them.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security ------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
_proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_header:
    # e.g. "HTTP_X_FORWARDED_PROTO,https" behind a TLS-terminating load balancer.
    _name, _, _value = _proxy_header.partition(",")
    SECURE_PROXY_SSL_HEADER = (_name.strip(), (_value or "https").strip())

# Admin login: django-axes locks out a user name, and separately a client address,
# after AXES_FAILURE_LIMIT failed logins, for AXES_COOLOFF_TIME (counted from the
# last failure). A superuser unlocks in Admin › Axes › Access attempts.
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "smsbot.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "smsbot.login_guard.lockout_response"
# Staff log in with a TOTP code from an authenticator app (django-otp). The first
# one is enrolled only through a one-time link a superuser issues (smsbot.enrolment),
# valid this many hours; enrolling gives this many one-time recovery codes.
ADMIN_2FA_REQUIRED = env.bool("ADMIN_2FA_REQUIRED", default=False)
ADMIN_2FA_ENROLMENT_LINK_HOURS = env.int("ADMIN_2FA_ENROLMENT_LINK_HOURS", default=24)
ADMIN_2FA_RECOVERY_CODES = env.int("ADMIN_2FA_RECOVERY_CODES", default=10)
if ADMIN_2FA_ENROLMENT_LINK_HOURS < 1 or ADMIN_2FA_RECOVERY_CODES < 1:
    raise ImproperlyConfigured(
        "ADMIN_2FA_ENROLMENT_LINK_HOURS and ADMIN_2FA_RECOVERY_CODES must be at least 1."
    )
OTP_TOTP_ISSUER = "smsbot"
# The device list never shows a secret key or its QR code, not even to a superuser.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Versions (django-simple-history) are shown, never restored from the history page.
SIMPLE_HISTORY_REVERT_DISABLED = True
# django-import-export lets any staff user import or export unless told which
# permission each needs: importing writes rows, exporting reads them.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# Admin imports (smsbot.imports): an uploaded file waits for its confirmation in this
# private directory (0700, files 0600, random names), never in the shared /tmp.
# A relative path is taken from the project directory.
IMPORT_DIR = BASE_DIR / env.str("IMPORT_DIR", default="var/imports")
# Django writes an upload larger than FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) to a file
# for the length of the request, before any view can refuse it: into the imports'
# private directory (created 0700 at start, smsbot.private_files), not /tmp.
FILE_UPLOAD_TEMP_DIR = str(IMPORT_DIR)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=50_000)
# Files with more rows than this are previewed by a worker, with a progress page.
IMPORT_INLINE_ROWS = env.int("IMPORT_INLINE_ROWS", default=2_000)
# How long a preview may be confirmed; its file is deleted after that.
IMPORT_CONFIRM_MINUTES = env.int("IMPORT_CONFIRM_MINUTES", default=30)
# Content-Security-Policy (django-csp) on every response: scripts, styles, images
# and fonts only from the portal itself, no inline script or style, no framing.
# One exception, by hash: the two style attributes of django-import-export's
# import preview, which marks inserted and deleted text with diff-match-patch's
# diff_prettyHtml ('unsafe-hashes' admits exactly these values, nothing else).
IMPORT_DIFF_STYLES = ("background:#e6ffe6;", "background:#ffe6e6;")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": [
            "'unsafe-hashes'",
            *(
                f"'sha256-{b64encode(sha256(style.encode()).digest()).decode()}'"
                for style in IMPORT_DIFF_STYLES
            ),
        ],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SESSION_COOKIE_HTTPONLY = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    # Unset or empty: a year behind a TLS proxy (SECURE_PROXY_SSL_HEADER), else off.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=None)
    if SECURE_HSTS_SECONDS is None:
        SECURE_HSTS_SECONDS = 31536000 if _proxy_header else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = bool(SECURE_HSTS_SECONDS)

# --- Logging -------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "smsbot.logging.RedactingFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        "twilio.http_client": {"level": "WARNING"},
        # django-axes logs every login at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}

# --- Public URL, phone numbers -------------------------------------------------
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")
# The key of the phone-number hashes kept with consent evidence (subscribers.consent),
# which find an erased number's history. Its own setting, so that DJANGO_SECRET_KEY can
# rotate; unset, the hashes are keyed by SECRET_KEY as before it existed (check --deploy
# warns: set it to that key's value once, then rotate the key freely).
PHONE_HASH_SALT = env.str("PHONE_HASH_SALT", default="")

# --- Celery ----------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = Path(env.str("CELERY_BROKER_FOLDER", default="") or VAR_DIR / "broker")
CELERY_EMBEDDED_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
# prefork in production; make run uses threads: honcho stops a process by signalling its
# whole process group, and prefork's pool processes dying of that signal end every
# Ctrl-C with ERROR lines and a forced kill.
CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="prefork")
# Redis (and any broker but the embedded one).
REDIS_BROKER_TRANSPORT_OPTIONS = {
    # Strict order: a waiting reply is always taken before the next bulk send.
    "queue_order_strategy": "priority",
    # Unacknowledged tasks of a killed worker come back after this many seconds.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # A dead broker must fail fast: webhooks publish after commit (smsbot.outbox).
    # Without max_retries kombu reconnects for about 6 s before it gives up; workers
    # and beat reconnect on their own (broker_connection_retry, retry policies).
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 0,
}
if CELERY_EMBEDDED_BROKER:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
        # The transport sleeps this long whenever every worker slot is busy;
        # kombu's 1 s default caps a worker at about one task per slot per second.
        "polling_interval": env.float("CELERY_BROKER_POLL_SECONDS", default=0.05),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS

# --- Messaging -------------------------------------------------------------------
SMS_PROVIDER = env.str("SMS_PROVIDER", default="console")
SMS_MONTHLY_SPEND_LIMIT_USD = env.get_value(
    "SMS_MONTHLY_SPEND_LIMIT_USD", cast=Decimal, default=Decimal("100")
)
SMS_SEND_RATE = env.float("SMS_SEND_RATE", default=20.0)
# The End User Messaging SMS origination numbers (E.164) the portal sends from and
# switches two-way on for; empty: every phone number of the account in AWS_REGION.
# The End User Messaging SMS opt-out list the portal keeps in step with its STOPs and
# STARTs (smsbot.opt_out_list); every account has "Default".
AWS_SMS_OPT_OUT_LIST = env.str("AWS_SMS_OPT_OUT_LIST", default="Default")
# AWS's "opted out" refusal this soon after an opt-in is the opt-in not yet taken to
# AWS (the sync task records any refusal itself): not held for review.
AWS_OPT_IN_SYNC_GRACE_SECONDS = 600
SMS_ORIGINATION_NUMBERS = [
    n.strip() for n in env.list("SMS_ORIGINATION_NUMBERS", default=[]) if n.strip()
]
for _number in SMS_ORIGINATION_NUMBERS:
    if not re.fullmatch(r"\+[1-9]\d{7,14}", _number):
        raise ImproperlyConfigured(
            f"SMS_ORIGINATION_NUMBERS: {_number!r} is not an E.164 number such as +13125550100."
        )
# The other SMS provider ("twilio" or "sns"), which takes a message only when
# SMS_PROVIDER provably did not send it; empty: no failover.
SMS_FAILOVER = env.str("SMS_FAILOVER", default="")
if SMS_FAILOVER and {SMS_PROVIDER, SMS_FAILOVER} != {"sns", "twilio"}:
    raise ImproperlyConfigured(
        f"SMS_FAILOVER={SMS_FAILOVER!r} needs SMS_PROVIDER to be the other of sns and twilio "
        f"(it is {SMS_PROVIDER!r}), with both configured; leave it empty for no failover."
    )
# A provider that failed this many times without sending, within the cool-down, is
# skipped for FAILOVER_COOLDOWN_SECONDS: new messages go straight to SMS_FAILOVER.
FAILOVER_FAILURE_THRESHOLD = env.int("FAILOVER_FAILURE_THRESHOLD", default=5)
FAILOVER_COOLDOWN_SECONDS = env.int("FAILOVER_COOLDOWN_SECONDS", default=300)
# In the SMS sandbox (sms_account): "refuse" starts no broadcast; "verified-only" sends
# to the sandbox's verified destination numbers and skips the rest, saying why.
SMS_SANDBOX_SEND = env.str("SMS_SANDBOX_SEND", default="refuse")
if SMS_SANDBOX_SEND not in ("refuse", "verified-only"):
    raise ImproperlyConfigured(
        f"SMS_SANDBOX_SEND must be refuse or verified-only, not {SMS_SANDBOX_SEND!r}."
    )
DAILY_SEND_TIME = env.str("DAILY_SEND_TIME", default="10:00")
DAILY_SEND_TIMEZONE = env.str("DAILY_SEND_TIMEZONE", default="America/Chicago")
# The admin shows times in this zone, named on screen (storage stays UTC).
OPS_TIMEZONE = env.str("OPS_TIMEZONE", default="") or DAILY_SEND_TIMEZONE
for _name in ("DAILY_SEND_TIMEZONE", "OPS_TIMEZONE"):
    try:
        ZoneInfo(globals()[_name])
    except (ValueError, ZoneInfoNotFoundError):
        raise ImproperlyConfigured(
            f"{_name} must be an IANA timezone such as America/Chicago, not {globals()[_name]!r}."
        ) from None
# Recipient-local "HH:MM-HH:MM" (may wrap midnight) in which no broadcast message is
# sent: it waits until the window opens. Empty turns quiet hours off.
QUIET_HOURS = env.str("QUIET_HOURS", default="21:00-08:00")
MESSAGE_RETENTION_DAYS = env.int("MESSAGE_RETENTION_DAYS", default=None)
WEBHOOK_TOKEN = env.str("WEBHOOK_TOKEN", default="")

# --- E-mail (Amazon SES v2) --------------------------------------------------------
# The sender; unset turns e-mail off (no e-mail field on the opt-in page, no e-mail sent).
EMAIL_FROM = env.str("EMAIL_FROM", default="")
# CAN-SPAM: every commercial e-mail carries the sender's valid physical postal address.
EMAIL_POSTAL_ADDRESS = env.str("EMAIL_POSTAL_ADDRESS", default="")
if EMAIL_FROM and not EMAIL_POSTAL_ADDRESS.strip():
    raise ImproperlyConfigured(
        "EMAIL_POSTAL_ADDRESS is required when EMAIL_FROM is set (CAN-SPAM: every e-mail's "
        "footer gives the sender's postal address)."
    )
# "email": a subscriber whose number became undeliverable gets the daily message at
# their confirmed address instead.
FALLBACK_CHANNEL = env.str("FALLBACK_CHANNEL", default="")
if FALLBACK_CHANNEL not in ("", "email"):
    raise ImproperlyConfigured(
        f"FALLBACK_CHANNEL must be empty or email, not {FALLBACK_CHANNEL!r}."
    )
# How long a double opt-in confirmation link stays valid.
EMAIL_CONFIRM_HOURS = env.int("EMAIL_CONFIRM_HOURS", default=72)
# What one e-mail costs: SES charges $0.10 per 1,000.
SES_PRICE_PER_EMAIL = Decimal("0.0001")

# --- AWS -------------------------------------------------------------------------
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
# boto3's per-service convention: End User Messaging SMS at its own endpoint (an emulator
# of it, as moto has none) while AWS_ENDPOINT_URL serves the rest (smsbot.aws.endpoint_url).
AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 = env.str(
    "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2", default=""
)
AWS_RESOURCE_PREFIX = env.str("AWS_RESOURCE_PREFIX", default="")
# The account whose SNS topics the portal accepts; unset asks STS (GetCallerIdentity) once.
AWS_ACCOUNT_ID = env.str("AWS_ACCOUNT_ID", default="")
SNS_SMS_TYPE = env.str("SNS_SMS_TYPE", default="Transactional")
SNS_SENDER_ID = env.str("SNS_SENDER_ID", default="AIBOT")
SNS_VERIFY_SIGNATURES = env.bool("SNS_VERIFY_SIGNATURES", default=True)
DYNAMODB_SYNC_ENABLED = env.bool("DYNAMODB_SYNC_ENABLED", default=False)
DYNAMODB_SUBSCRIBERS_TABLE = env.str("DYNAMODB_SUBSCRIBERS_TABLE", default="BotSubscribers")
DYNAMODB_CONVERSATIONS_TABLE = env.str("DYNAMODB_CONVERSATIONS_TABLE", default="BotConversations")
DYNAMODB_ANALYTICS_TABLE = env.str("DYNAMODB_ANALYTICS_TABLE", default="BotAnalytics")

# --- Twilio ----------------------------------------------------------------------
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_SMS_FROM = env.str("TWILIO_SMS_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_WHATSAPP_NUMBER = env.str("TWILIO_WHATSAPP_NUMBER", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
TWILIO_VALIDATE_SIGNATURES = env.bool("TWILIO_VALIDATE_SIGNATURES", default=True)
# Provider errors with a policy (messaging.delivery.error_codes): a missing registration
# (30034, 30032, 21608) pauses a broadcast after this many of its messages met one.
REGISTRATION_ERRORS_PAUSE_AFTER = env.int("REGISTRATION_ERRORS_PAUSE_AFTER", default=3)
# Carrier filtering (30007) above this % of a broadcast's last CARRIER_FILTER_WINDOW
# delivery reports (once it has CARRIER_FILTER_MIN_REPORTS) pauses it for an operator.
CARRIER_FILTER_PERCENT = env.float("CARRIER_FILTER_PERCENT", default=5.0)
CARRIER_FILTER_WINDOW = env.int("CARRIER_FILTER_WINDOW", default=100)
CARRIER_FILTER_MIN_REPORTS = env.int("CARRIER_FILTER_MIN_REPORTS", default=20)
# The brake (messaging.broadcasts.brake): a sending broadcast pauses itself when more
# than BROADCAST_BRAKE_PERCENT of its last BROADCAST_BRAKE_WINDOW final delivery reports
# are failures (once it has BROADCAST_BRAKE_MIN_REPORTS of them). Content-blocking codes
# (30007, TEXT_SPAM, TEXT_BLOCKED) use the CARRIER_FILTER_* thresholds above, lower.
BROADCAST_BRAKE_WINDOW = env.int("BROADCAST_BRAKE_WINDOW", default=200)
BROADCAST_BRAKE_PERCENT = env.float("BROADCAST_BRAKE_PERCENT", default=15.0)
BROADCAST_BRAKE_MIN_REPORTS = env.int("BROADCAST_BRAKE_MIN_REPORTS", default=50)
# How long Twilio may take to send a final status callback before a sent message counts
# as unknown (SNS and End User Messaging: 72 hours, AWS's delivery-log limit; console: 1).
DELIVERY_REPORT_HORIZON_TWILIO_HOURS = env.int("DELIVERY_REPORT_HORIZON_TWILIO_HOURS", default=24)
# A message Twilio reported "not now" (63018, 63049 outside the US) is sent again after
# PROVIDER_RETRY_BASE_SECONDS × 2^(n-1), at most PROVIDER_RETRY_LIMIT times.
PROVIDER_RETRY_LIMIT = env.int("PROVIDER_RETRY_LIMIT", default=3)
PROVIDER_RETRY_BASE_SECONDS = env.float("PROVIDER_RETRY_BASE_SECONDS", default=900.0)
# Actual prices: a Twilio message final this many seconds is fetched for its price; one
# still unpriced after TWILIO_PRICE_HORIZON_HOURS keeps its estimate. At most
# TWILIO_PRICE_FETCH_BATCH messages a run, TWILIO_PRICE_FETCH_RATE requests a second.
TWILIO_PRICE_FETCH_AFTER_SECONDS = env.int("TWILIO_PRICE_FETCH_AFTER_SECONDS", default=120)
TWILIO_PRICE_HORIZON_HOURS = env.int("TWILIO_PRICE_HORIZON_HOURS", default=48)
TWILIO_PRICE_FETCH_BATCH = env.int("TWILIO_PRICE_FETCH_BATCH", default=200)
TWILIO_PRICE_FETCH_RATE = env.float("TWILIO_PRICE_FETCH_RATE", default=5.0)
# Who answers STOP/START/HELP on SMS: "twilio" (its default opt-out handling or
# Advanced Opt-Out answers them; the portal records the consent change and answers with
# empty TwiML) or "portal" (only where Twilio's handling is off, e.g. a short code).
# WhatsApp keywords are always answered by the portal: Twilio does not handle them there.
TWILIO_OPT_OUT_HANDLING = env.str("TWILIO_OPT_OUT_HANDLING", default="twilio")
if TWILIO_OPT_OUT_HANDLING not in ("twilio", "portal"):
    raise ImproperlyConfigured(
        f"TWILIO_OPT_OUT_HANDLING must be twilio or portal, not {TWILIO_OPT_OUT_HANDLING!r}."
    )
# An API key (SK...) and its secret for REST calls, as Twilio recommends; the auth token
# then only checks webhook signatures.
TWILIO_API_KEY_SID = env.str("TWILIO_API_KEY_SID", default="")
TWILIO_API_KEY_SECRET = env.str("TWILIO_API_KEY_SECRET", default="")
# During an auth token rotation: the other token, also accepted for webhook signatures.
TWILIO_AUTH_TOKEN_SECONDARY = env.str("TWILIO_AUTH_TOKEN_SECONDARY", default="")
# Hours a broadcast message may wait in Twilio's queue before Twilio drops it
# (ValidityPeriod, capped to Twilio's range of 1 second to 10 hours): a daily message
# never arrives in the evening. Replies and confirmations keep Twilio's default.
TWILIO_BROADCAST_VALIDITY_HOURS = env.float("TWILIO_BROADCAST_VALIDITY_HOURS", default=4.0)
if not TWILIO_BROADCAST_VALIDITY_HOURS > 0:
    raise ImproperlyConfigured("TWILIO_BROADCAST_VALIDITY_HOURS must be more than 0.")

# --- AWS provisioning (provision_aws / verify_aws / teardown_aws) -----------------
AWS_ENVIRONMENT = env.str("AWS_ENVIRONMENT", default="production")
BUDGET_ALERT_EMAIL = env.str("BUDGET_ALERT_EMAIL", default="")
SMS_WORKER_FAILURE_ALARM_THRESHOLD = env.int("SMS_WORKER_FAILURE_ALARM_THRESHOLD", default=10)
# Addresses subscribed to the alerts topic every alarm notifies (comma-separated);
# unset: no alerts topic, and the alarms notify nobody.
ALERT_EMAILS = [a.strip() for a in env.list("ALERT_EMAILS", default=[]) if a.strip()]
# % of delivery reports in an hour saying undelivered that raises the failure-rate alarm.
ALERT_FAILURE_RATE = env.float("ALERT_FAILURE_RATE", default=10.0)
# Read TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN from the Secrets Manager secret
# "<AWS_RESOURCE_PREFIX>smsbot/twilio" when they are not set here (smsbot.secrets).
TWILIO_CREDENTIALS_FROM_AWS = env.bool("TWILIO_CREDENTIALS_FROM_AWS", default=False)

# --- Hosting on AWS (provision_aws with DEPLOY_TARGET=ecs, deploy_aws) ------------
# "ecs": provision_aws also creates the ECR repository, the ECS cluster, web/worker/beat
# task definitions and services; empty: nothing for hosting (docker compose).
DEPLOY_TARGET = env.str("DEPLOY_TARGET", default="")
if DEPLOY_TARGET not in ("", "ecs"):
    raise ImproperlyConfigured(f"DEPLOY_TARGET must be empty or ecs, not {DEPLOY_TARGET!r}.")
ECR_KEEP_IMAGES = env.int("ECR_KEEP_IMAGES", default=20)
# The operator's network and load balancer target group (ip targets, port 8000).
ECS_SUBNETS = env.list("ECS_SUBNETS", default=[])
ECS_SECURITY_GROUPS = env.list("ECS_SECURITY_GROUPS", default=[])
ECS_ASSIGN_PUBLIC_IP = env.bool("ECS_ASSIGN_PUBLIC_IP", default=False)
ECS_TARGET_GROUP_ARN = env.str("ECS_TARGET_GROUP_ARN", default="")
# Fargate's smallest size: 0.25 vCPU (256) and 512 MiB, per task.
ECS_CPU = env.int("ECS_CPU", default=256)
ECS_MEMORY = env.int("ECS_MEMORY", default=512)
ECS_WEB_COUNT = env.int("ECS_WEB_COUNT", default=1)
ECS_WORKER_COUNT = env.int("ECS_WORKER_COUNT", default=1)
# The Secrets Manager secret (JSON) the tasks read DJANGO_SECRET_KEY, DATABASE_URL, ... from.
ECS_APP_SECRET = env.str("ECS_APP_SECRET", default="smsbot/app")
# Names of further (non-secret) variables copied into the tasks, with the values they
# have where provision_aws runs (e.g. DJANGO_ALLOWED_HOSTS,PUBLIC_BASE_URL,SMS_PROVIDER).
ECS_ENVIRONMENT = env.list("ECS_ENVIRONMENT", default=[])
# deploy_aws: how long the migration and the services may take, and how long it waits
# for a deployment already in progress before refusing.
ECS_DEPLOY_TIMEOUT_SECONDS = env.int("ECS_DEPLOY_TIMEOUT_SECONDS", default=900)
ECS_DEPLOY_BUSY_WAIT_SECONDS = env.int("ECS_DEPLOY_BUSY_WAIT_SECONDS", default=600)
# owner/name of the GitHub repository whose main branch may deploy (the deploy role).
DEPLOY_GITHUB_REPO = env.str("DEPLOY_GITHUB_REPO", default="")

# --- Inbound: keywords and bot replies -------------------------------------------
JOIN_KEYWORD = env.str("JOIN_KEYWORD", default="MITZVAH")
KEYWORD_REPLY_STOP = env.str(
    "KEYWORD_REPLY_STOP",
    default="You are unsubscribed and will receive no more messages. Reply START to resubscribe.",
)
KEYWORD_REPLY_START = env.str(
    "KEYWORD_REPLY_START",
    default="You are subscribed to daily messages. Msg & data rates may apply. "
    "Reply HELP for help, STOP to cancel.",
)
# {pause}, {resume} and {time} become the first PAUSE_KEYWORDS, RESUME_KEYWORDS and TIME_KEYWORD.
KEYWORD_REPLY_HELP = env.str(
    "KEYWORD_REPLY_HELP",
    default="Daily messages. Msg & data rates may apply. Reply STOP to cancel, START to join, "
    "{pause} 3 to pause 3 days, {resume} to restart, {time} 7pm to pick your time.",
)
# Delivery windows: words (whole message, any case, punctuation ignored) that pause,
# resume and time a subscriber's daily messages; "PAUSE 3" pauses for 3 days.
PAUSE_KEYWORDS = env.list("PAUSE_KEYWORDS", default=["PAUSE"])
RESUME_KEYWORDS = env.list("RESUME_KEYWORDS", default=["RESUME"])
TIME_KEYWORD = env.str("TIME_KEYWORD", default="TIME")
PAUSE_DEFAULT_DAYS = env.int("PAUSE_DEFAULT_DAYS", default=7)
# Replies, STOP and PAUSE this many hours after a broadcast message count towards it.
BROADCAST_ATTRIBUTION_HOURS = env.int("BROADCAST_ATTRIBUTION_HOURS", default=24)
# A dotted path to a callable taking a messaging.inbound.bot.BotInput, returning a BotReply.
BOT_HANDLER = env.str("BOT_HANDLER", default="messaging.inbound.bot.default_handler")
BOT_MENU_TEXT = env.str(
    "BOT_MENU_TEXT",
    default="Reply TODAY for today's message, HELP for help, STOP to unsubscribe.",
)
# Limits on the replies that cost money (messaging.inbound.reply_limits): automatic
# replies a number gets per clock hour, at most, whatever it sends.
BOT_REPLIES_PER_NUMBER_PER_HOUR = env.int("BOT_REPLIES_PER_NUMBER_PER_HOUR", default=10)
# The loop breaker: the same text this many times in a row, or more than
# BOT_LOOP_BURST_MESSAGES messages within BOT_LOOP_BURST_SECONDS (faster than a person
# types), mutes the number's automatic replies for BOT_LOOP_MUTE_MINUTES.
BOT_LOOP_REPEATS = env.int("BOT_LOOP_REPEATS", default=5)
BOT_LOOP_BURST_MESSAGES = env.int("BOT_LOOP_BURST_MESSAGES", default=6)
BOT_LOOP_BURST_SECONDS = env.int("BOT_LOOP_BURST_SECONDS", default=10)
BOT_LOOP_MUTE_MINUTES = env.int("BOT_LOOP_MUTE_MINUTES", default=60)

# --- DynamoDB mirror -------------------------------------------------------------
# botocore's own retries per call; "adaptive" also slows the client when throttled.
DYNAMODB_RETRY_MODE = env.str("DYNAMODB_RETRY_MODE", default="adaptive")
DYNAMODB_MAX_ATTEMPTS = env.int("DYNAMODB_MAX_ATTEMPTS", default=5)
# Then the mirror task's own retries, with back-off from this many seconds, doubling.
DYNAMODB_MIRROR_RETRIES = env.int("DYNAMODB_MIRROR_RETRIES", default=6)
DYNAMODB_MIRROR_RETRY_DELAY = env.float("DYNAMODB_MIRROR_RETRY_DELAY", default=10.0)
# BatchWriteItem (backfill, analytics): rounds for throttling and UnprocessedItems.
DYNAMODB_BATCH_ROUNDS = env.int("DYNAMODB_BATCH_ROUNDS", default=10)
# Rows the 5-minute reconcile writes per task (a full batch queues the next at once).
DYNAMODB_RECONCILE_BATCH = env.int("DYNAMODB_RECONCILE_BATCH", default=1000)

# --- Opt-in page, API and double opt-in ------------------------------------------
# The exact wording beside the consent box; it is stored as evidence with each opt-in.
# An empty value (as in a copied .env.example) means the default wording.
OPTIN_CONSENT_TEXT = env.str("OPTIN_CONSENT_TEXT", default="") or (
    "I agree to receive one automated daily message at this number. Consent is not a "
    "condition of purchase. Msg&data rates may apply. Reply STOP to cancel, HELP for help."
)
OPTIN_CONFIRMATION_TEXT = env.str("OPTIN_CONFIRMATION_TEXT", default="") or (
    "Reply YES to confirm your subscription to daily messages. Msg&data rates may apply. "
    "Reply STOP to cancel."
)
# WhatsApp only delivers business-initiated text inside a 24-hour window; outside it an
# approved template is needed, so the confirmation uses this ContentSid when set.
OPTIN_CONFIRMATION_WHATSAPP_CONTENT_SID = env.str(
    "OPTIN_CONFIRMATION_WHATSAPP_CONTENT_SID", default=""
)
# django-ratelimit rates for sign-ups (the form and the API together): per client IP
# (callers with the WEBHOOK_TOKEN are exempt), and per number (everyone).
OPTIN_RATE_LIMIT = env.str("OPTIN_RATE_LIMIT", default="10/m")
OPTIN_NUMBER_RATE_LIMIT = env.str("OPTIN_NUMBER_RATE_LIMIT", default="5/h")
# Without WEBHOOK_TOKEN the API answers 401, unless it is deliberately public.
OPTIN_API_PUBLIC = env.bool("OPTIN_API_PUBLIC", default=False)
# Regions (ISO 3166 codes, as phonenumbers names them) a sign-up may come from; "*"
# allows any. Empty (a copied .env.example line) means the default.
OPTIN_ALLOWED_COUNTRIES = [
    code.strip().upper() for code in env.list("OPTIN_ALLOWED_COUNTRIES", default=[]) if code.strip()
] or ["US", "CA"]
# The SMS-pumping breaker: double opt-in confirmations sent per rolling hour, all doors.
OPTIN_CONFIRMATIONS_PER_HOUR = env.int("OPTIN_CONFIRMATIONS_PER_HOUR", default=100)
# Of that hour, the % one country, and the % one number prefix (the country code and
# the first OPTIN_CONFIRMATIONS_PREFIX_DIGITS national digits: a NANP NPA-NXX), may
# take, so that one range cannot spend it all; the rest wait their turn.
OPTIN_CONFIRMATIONS_COUNTRY_SHARE = env.int("OPTIN_CONFIRMATIONS_COUNTRY_SHARE", default=50)
OPTIN_CONFIRMATIONS_PREFIX_SHARE = env.int("OPTIN_CONFIRMATIONS_PREFIX_SHARE", default=10)
OPTIN_CONFIRMATIONS_PREFIX_DIGITS = env.int("OPTIN_CONFIRMATIONS_PREFIX_DIGITS", default=6)
# While the cap holds confirmations, a sign-up source (the client's /24 or /64 network)
# with this many held is refused at the form and the API (429); 0 turns this off. The
# WEBHOOK_TOKEN's partners are exempt, as from OPTIN_RATE_LIMIT.
OPTIN_HELD_PER_SOURCE = env.int("OPTIN_HELD_PER_SOURCE", default=10)

# --- Client IP ----------------------------------------------------------------------
# Proxies (load balancers, CDNs) in front of the portal, each appending to
# X-Forwarded-For; 0 ignores the header. Every per-client limit uses smsbot.client_ip.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "smsbot.client_ip.client_ip"

# --- Operations reports ----------------------------------------------------------
# Days (before today) the rollup task recomputes on every run, to catch late
# delivery reports and prices; older days change only through refresh_rollups.
ROLLUP_REFRESH_DAYS = env.int("ROLLUP_REFRESH_DAYS", default=3)

# --- Providers -------------------------------------------------------------------
# The console provider (sends nothing) reports each message delivered, or now and
# then undelivered, this many seconds after "sending" it, so a demo shows delivery.
CONSOLE_DELIVERY_REPORTS = env.bool("CONSOLE_DELIVERY_REPORTS", default=True)
CONSOLE_DELIVERY_DELAY_SECONDS = env.float("CONSOLE_DELIVERY_DELAY_SECONDS", default=3.0)
CONSOLE_FAILURE_PERCENT = env.float("CONSOLE_FAILURE_PERCENT", default=5.0)
# The console stands in for a real provider: its messages, previews and import costs are
# estimated at that provider's prices (WhatsApp at Twilio's: SNS does not send it).
CONSOLE_PRICES_AS = env.str("CONSOLE_PRICES_AS", default="sns")
if CONSOLE_PRICES_AS not in ("sns", "twilio"):
    raise ImproperlyConfigured(
        f"CONSOLE_PRICES_AS must be sns or twilio, not {CONSOLE_PRICES_AS!r}."
    )
# SNS refuses to send an SMS that would cost more than this (AWS.SNS.SMS.MaxPrice).
SNS_MAX_PRICE_USD = env.str("SNS_MAX_PRICE_USD", default="0.50")
# Ask SNS whether a number opted out (replied STOP to AWS) before each publish.
SNS_CHECK_OPT_OUT = env.bool("SNS_CHECK_OPT_OUT", default=True)
# botocore retries (after the first try) for SNS throttling, 5xx and refused connections.
SNS_RETRY_ATTEMPTS = env.int("SNS_RETRY_ATTEMPTS", default=3)
# SMS_PROVIDER=aws-sms (End User Messaging SMS SendTextMessage): the origination identity
# (phone number, its id or ARN, pool id or ARN, sender ID); empty: the first of
# SMS_ORIGINATION_NUMBERS, else AWS picks one of the account's.
AWS_SMS_ORIGINATION_IDENTITY = env.str("AWS_SMS_ORIGINATION_IDENTITY", default="")
# A broadcast message AWS could not hand to the carrier within this many seconds is
# dropped (TEXT_TTL_EXPIRED) rather than landing hours late; replies carry no TTL.
AWS_SMS_BROADCAST_TTL_SECONDS = env.int("AWS_SMS_BROADCAST_TTL_SECONDS", default=4 * 3600)
if not 5 <= AWS_SMS_BROADCAST_TTL_SECONDS <= 259200:
    raise ImproperlyConfigured("AWS_SMS_BROADCAST_TTL_SECONDS must be 5..259200 (AWS's range).")
# botocore attempts (standard retry mode) for throttling, 5xx and refused connections.
AWS_SMS_RETRY_ATTEMPTS = env.int("AWS_SMS_RETRY_ATTEMPTS", default=3)
# Seconds the Twilio client waits to connect and for each answer.
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# CloudWatch metrics (namespace SMSBot): on with SMS_PROVIDER=sns or AWS_ENDPOINT_URL, or here.
CLOUDWATCH_METRICS_ENABLED = env.bool("CLOUDWATCH_METRICS_ENABLED", default=False)
# Buffered data points are sent once this many were recorded, or at the end of a
# task once the oldest is this many seconds old.
CLOUDWATCH_METRICS_BATCH = env.int("CLOUDWATCH_METRICS_BATCH", default=20)
CLOUDWATCH_METRICS_FLUSH_SECONDS = env.float("CLOUDWATCH_METRICS_FLUSH_SECONDS", default=10.0)

# --- Dispatch --------------------------------------------------------------------
# A message gets at most this many provider attempts for retryable errors.
SEND_MAX_ATTEMPTS = env.int("SEND_MAX_ATTEMPTS", default=5)
# Back-off base: attempt n waits base × 2^(n-1) seconds (with jitter), capped.
SEND_RETRY_BASE_SECONDS = env.float("SEND_RETRY_BASE_SECONDS", default=30.0)
SEND_RETRY_MAX_SECONDS = env.float("SEND_RETRY_MAX_SECONDS", default=3600.0)
# Token bucket burst, in seconds of SMS_SEND_RATE; bulk leaves this share for replies.
SEND_RATE_BURST_SECONDS = env.float("SEND_RATE_BURST_SECONDS", default=1.0)
SEND_RATE_REPLY_RESERVE = env.float("SEND_RATE_REPLY_RESERVE", default=0.2)
# A queued message untouched this long gets its task published again (lost task);
# a message stuck in "sending" this long is flagged for review (worker died mid-send).
SEND_REQUEUE_AFTER_SECONDS = env.int("SEND_REQUEUE_AFTER_SECONDS", default=600)
SEND_STUCK_AFTER_SECONDS = env.int("SEND_STUCK_AFTER_SECONDS", default=600)
# A fan-out with work left (a same-moment cursor, or a local-time wave that has come)
# whose cursor has not moved this long is queued again by the sweep; nothing else is.
FANOUT_REQUEUE_AFTER_SECONDS = env.int("FANOUT_REQUEUE_AFTER_SECONDS", default=300)
BROADCAST_BATCH_SIZE = env.int("BROADCAST_BATCH_SIZE", default=1000)
# Broadcast messages per send task, and provider calls in flight per worker process.
SEND_BATCH_SIZE = env.int("SEND_BATCH_SIZE", default=50)
SEND_BATCH_CONCURRENCY = env.int("SEND_BATCH_CONCURRENCY", default=16)
# Percentage of SMS_MONTHLY_SPEND_LIMIT_USD at which the admin and logs warn.
SPEND_ALERT_PERCENT = env.int("SPEND_ALERT_PERCENT", default=80)
# Sent when a day has no DailyContent; empty skips that day (with an admin warning).
DAILY_FALLBACK_TEXT = env.str("DAILY_FALLBACK_TEXT", default="")
# Today's daily broadcast, not begun this long after its time, is late: the admin's
# banner, the Daily schedule screen and the dashboard say so (messaging.broadcasts.due);
# this long, it is missed: the CloudWatch alarm smsbot-daily-broadcast-missed fires.
DAILY_LATE_BANNER_MINUTES = env.int("DAILY_LATE_BANNER_MINUTES", default=15)
DAILY_MISSED_ALARM_MINUTES = env.int("DAILY_MISSED_ALARM_MINUTES", default=30)
