"""Subscribers, their consent evidence trail, delivery windows, bot conversations and CSV
exports."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone

from subscribers.localtime import validate_send_time, validate_timezone
from subscribers.phones import timezone_for


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "E-mail"


class ConsentStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


# Where a change came from: of consent, and of a delivery window (SubscriberEvent).
class ConsentSource(models.TextChoices):
    SMS_KEYWORD = "sms_keyword", "SMS keyword"
    WHATSAPP_KEYWORD = "whatsapp_keyword", "WhatsApp keyword"
    WEB_FORM = "web_form", "Web form"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    IMPORT = "import", "Import"
    PROVIDER = "provider", "Provider report"
    # A link in an e-mail: the double opt-in confirmation, or the unsubscribe link.
    EMAIL_LINK = "email_link", "E-mail link"


class AddressKind(models.TextChoices):
    """Which of a subscriber's addresses a consent event is about."""

    PHONE = "phone", "Phone number"
    EMAIL = "email", "E-mail address"


class MirrorState(models.Model):
    """What the DynamoDB mirror last managed to write for a row."""

    version = models.PositiveBigIntegerField(default=1)
    mirror_synced_version = models.PositiveBigIntegerField(default=0)
    mirror_synced_at = models.DateTimeField(null=True, blank=True)
    mirror_error = models.TextField(blank=True)

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        # Every change gets a new version, so the mirror can drop stale writes.
        if not self._state.adding:
            self.version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)


class Subscriber(MirrorState):
    phone = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +13125550123")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    consent_status = models.CharField(
        max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.PENDING
    )
    consent_source = models.CharField(max_length=20, choices=ConsentSource.choices, blank=True)
    opted_in_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    undeliverable = models.BooleanField(
        default=False, help_text="A provider reported this number cannot receive messages."
    )
    undeliverable_reason = models.CharField(max_length=200, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Delivery windows (subscribers.delivery_window writes the pause and the preferred time).
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="IANA name, e.g. America/Chicago. Filled from the number when the "
        "subscriber is created; blank means DAILY_SEND_TIMEZONE.",
    )
    preferred_time = models.TimeField(
        "preferred send time",
        null=True,
        blank=True,
        validators=[validate_send_time],
        help_text="Local time of the daily message when it goes out at each "
        "subscriber's local time; blank: the schedule's time.",
    )
    paused_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="No broadcast reaches this subscriber before this moment (PAUSE).",
    )
    # AWS holds the number opted out while the portal holds it opted in: shown for review,
    # never resolved by changing consent (DESIGN invariant 11). Cleared when the two agree.
    provider_opt_out_at = models.DateTimeField(
        "opted out at AWS since",
        null=True,
        blank=True,
        help_text="AWS's opt-out list holds this number while the portal holds it opted in.",
    )
    provider_opt_out_reason = models.CharField(
        "AWS's reason", max_length=300, blank=True, default="", db_default=""
    )
    # The e-mail address: its own consent (subscribers.consent.change with email=),
    # confirmed by a signed link, and its own deliverability (SES bounces). Columns
    # added after the first release carry a database default: during a rolling deploy
    # the previous release keeps inserting rows without them (deploy_aws migrates first).
    email = models.EmailField("e-mail address", blank=True, default="", db_default="")
    email_status = models.CharField(
        "e-mail consent",
        max_length=10,
        choices=ConsentStatus.choices,
        blank=True,
        default="",
        db_default="",
    )
    email_consent_source = models.CharField(
        max_length=20, choices=ConsentSource.choices, blank=True, default="", db_default=""
    )
    email_undeliverable = models.BooleanField(
        "e-mail undeliverable",
        default=False,
        db_default=False,
        help_text="SES reported a hard bounce for this address.",
    )
    email_undeliverable_reason = models.CharField(
        max_length=200, blank=True, default="", db_default=""
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"), name="one_subscriber_per_email", condition=~models.Q(email="")
            )
        ]
        indexes = [
            models.Index(fields=["email_status"]),
            models.Index(fields=["consent_status", "channel"]),
            models.Index(fields=["consent_source"]),
            models.Index(fields=["channel"]),
            models.Index(
                fields=["id"],
                name="subscriber_undeliverable_idx",
                condition=models.Q(undeliverable=True),
            ),
            # Paused now: the subscriber list's Paused filter (few rows carry a pause).
            models.Index(
                fields=["paused_until"],
                name="subscriber_paused_idx",
                condition=models.Q(paused_until__isnull=False),
            ),
            # Opted out at AWS (review): the list's filter and the dashboard banner count
            # these few rows.
            models.Index(
                fields=["provider_opt_out_at"],
                name="subscriber_aws_opt_out_idx",
                condition=models.Q(provider_opt_out_at__isnull=False),
            ),
            models.Index(fields=["opted_in_at"]),
            models.Index(fields=["opted_out_at"]),
            # The broadcast fan-out walks opted-in rows in id order from a checkpoint.
            models.Index(
                fields=["id"],
                name="subscriber_sendable_idx",
                condition=models.Q(consent_status="opted_in", undeliverable=False),
            ),
        ]

    def __str__(self) -> str:
        from smsbot.redaction import mask_phone

        return mask_phone(self.phone)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not self.timezone:
            self.timezone = timezone_for(self.phone)
        super().save(*args, **kwargs)


def _append_only(model: type[models.Model]) -> PermissionDenied:
    return PermissionDenied(f"{model._meta.verbose_name_plural.capitalize()} are append-only.")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise _append_only(self.model)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise _append_only(self.model)


class AppendOnlyEvent(models.Model):
    """An evidence record: written once, never edited, never deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise _append_only(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise _append_only(type(self))


def current_time() -> datetime:
    # Looked up at each call, so a test's clock (tests/clock.py) moves it as it does auto_now.
    return django_timezone.now()


class ConsentEvent(AppendOnlyEvent):
    """One change of consent, with its proof. Never edited, never deleted."""

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.PROTECT, related_name="consent_events"
    )
    # A salted hash of the number, so the proof survives erasure of personal data.
    phone_hash = models.CharField(max_length=64, db_index=True)
    # Which address changed: the number, or the e-mail address (kept, like the number,
    # only as a salted hash, so the proof survives erasure).
    address_kind = models.CharField(
        "address",
        max_length=5,
        choices=AddressKind.choices,
        default=AddressKind.PHONE,
        db_default=AddressKind.PHONE,
    )
    email_hash = models.CharField(
        max_length=64, blank=True, db_index=True, default="", db_default=""
    )
    from_status = models.CharField(max_length=10, choices=ConsentStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    evidence = models.JSONField(default=dict)
    # A default, not auto_now_add: consent.change may date an event earlier (the demo),
    # once, at its creation; the table is append-only.
    created_at = models.DateTimeField(default=current_time, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # One per admin list filter.
        indexes = [
            models.Index(fields=["source", "created_at"]),
            models.Index(fields=["to_status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status} ({self.source})"


class SubscriberEventKind(models.TextChoices):
    PAUSED = "paused", "Paused"
    RESUMED = "resumed", "Resumed"
    PREFERRED_TIME = "preferred_time", "Preferred send time"
    # The number's place on AWS's opt-out list (SNS or End User Messaging SMS).
    AWS_OPT_OUT = "aws_opt_out", "AWS opt-out list"


class SubscriberEvent(AppendOnlyEvent):
    """A change of when a subscriber gets messages (pause, resume, preferred time) and
    its proof. Not a consent change: the subscriber stays opted in throughout."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=SubscriberEventKind.choices)
    # As the subscriber reads them: "2027-03-18" (messages start again), "19:30".
    before = models.CharField(max_length=40, blank=True)
    after = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.before or '-'} → {self.after or '-'}"


class Conversation(MirrorState):
    """Per-number bot state: the BotConversations schema."""

    phone_number = models.CharField(max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    message_count = models.PositiveIntegerField(default=0)
    conversation_state = models.CharField(max_length=50, default="new", db_index=True)
    last_message = models.TextField(blank=True)
    last_response = models.TextField(blank=True)
    user_context = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        from smsbot.redaction import mask_phone

        return mask_phone(self.phone_number)


class ExportState(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Writing"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class SubscriberExport(models.Model):
    """A CSV file of the subscribers a filtered admin list showed, written by a worker.

    The file is kept in the database (as parts), so the web process that serves
    the download needs no disk shared with the worker that wrote it.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The admin list's filters and search, as its URL query string, and in words.
    query = models.TextField(blank=True)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=8, choices=ExportState.choices, default=ExportState.QUEUED)
    total = models.PositiveIntegerField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"subscriber export #{self.pk}"


class SubscriberExportPart(models.Model):
    """A run of rows of an export's CSV text; the first part starts with the header."""

    export = models.ForeignKey(SubscriberExport, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export", "number"], name="one_export_part_per_number")
        ]

    def __str__(self) -> str:
        return f"part {self.number} of export #{self.export_id}"
