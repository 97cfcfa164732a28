"""Messages, broadcasts, daily content, delivery events and provider call logs."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import DecimalField
from django.db.models.functions import Coalesce
from django_celery_beat.models import PeriodicTask

from messaging.skips import SkipReason
from smsbot import timezones
from smsbot.history import ChangesOnlyHistory
from subscribers.models import Channel, Subscriber


class Provider(models.TextChoices):
    SNS = "sns", "AWS SNS"
    AWS_SMS = "aws-sms", "AWS End User Messaging SMS"
    TWILIO = "twilio", "Twilio"
    SES = "ses", "Amazon SES (e-mail)"
    CONSOLE = "console", "Console (records only)"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class MessageKind(models.TextChoices):
    BROADCAST = "broadcast", "Broadcast"
    REPLY = "reply", "Bot reply"
    COMPLIANCE = "compliance", "STOP/HELP confirmation"
    CONFIRMATION = "confirmation", "Double opt-in confirmation"
    INBOUND = "inbound", "Inbound"
    # One message to a staff phone before a broadcast goes out: never part of it.
    TEST = "test", "Broadcast test"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    # A confirmation waiting for room under the hourly cap (messaging.confirmations.hourly_cap).
    HELD = "held", "Held (waiting)"
    NEEDS_REVIEW = "needs_review", "Needs review (may have been sent)"
    # Sent, and no final delivery report came within the provider's horizon
    # (messaging.delivery.horizons); a late report still settles it.
    UNKNOWN = "unknown", "Unknown (no delivery report)"


# Statuses in which an outbound message reached, or may have reached, a provider,
# and so may be charged: the budget guard and the reports count the same ones.
BILLED_STATUSES = (
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
    MessageStatus.UNDELIVERED,
    MessageStatus.NEEDS_REVIEW,
    MessageStatus.UNKNOWN,
)

# What a message cost: the provider's price when reported, the estimate until then.
COST = Coalesce("price_actual", "price_estimated", output_field=DecimalField())

# Forward-only ordering of outbound statuses; a late callback never moves back.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.NEEDS_REVIEW: 1,
    MessageStatus.SENT: 2,
    # Above sent (a late "sent" keeps it unknown), below every final report (which settles it).
    MessageStatus.UNKNOWN: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.UNDELIVERED: 4,
    MessageStatus.FAILED: 4,
    MessageStatus.READ: 5,
}


class DailyContent(models.Model):
    date = models.DateField(unique=True)
    text = models.TextField()
    whatsapp_content_sid = models.CharField(
        "WhatsApp template ContentSid", max_length=64, blank=True
    )
    whatsapp_content_variables = models.JSONField(
        "WhatsApp template variables", default=dict, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Every version, with who saved it (the admin's History page lists them).
    history = ChangesOnlyHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-date"]
        verbose_name_plural = "daily content"

    def __str__(self) -> str:
        return f"{timezones.shown_date(self.date)}: {self.text[:40]}"


class SendMode(models.TextChoices):
    """How the daily broadcast meets the clock (the daily schedule's mode)."""

    SAME_MOMENT = "same_moment", "Same moment for everyone"
    LOCAL_TIME = "local_time", "Send time in each subscriber's timezone"


class BroadcastState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Done"


class Broadcast(models.Model):
    # "daily:2026-11-22" for the daily send; a unique key makes duplicate triggers harmless.
    idempotency_key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    date = models.DateField(null=True, blank=True, db_index=True)
    text = models.TextField()
    whatsapp_content_sid = models.CharField(max_length=64, blank=True)
    whatsapp_content_variables = models.JSONField(default=dict, blank=True)
    channel = models.CharField(
        max_length=10, choices=Channel.choices, blank=True, help_text="Blank: every channel."
    )
    state = models.CharField(
        max_length=10, choices=BroadcastState.choices, default=BroadcastState.DRAFT, db_index=True
    )
    pause_reason = models.CharField(max_length=200, blank=True)
    # When the brake paused it (messaging.delivery.brake); None when an operator did.
    braked_at = models.DateTimeField(null=True, blank=True)
    # Who the fan-out left out when it started, by SkipReason: {"opted_out": 3, ...}.
    skips = models.JSONField(
        default=dict, blank=True, db_default=models.Value({}, models.JSONField())
    )
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # Sent, with no delivery report within the provider's horizon (outcomes.Bucket.UNKNOWN).
    unknown = models.PositiveIntegerField(default=0, db_default=0)
    # Fan-out checkpoint: the highest subscriber id already given a message.
    cursor = models.PositiveBigIntegerField(default=0)
    fanout_done = models.BooleanField(default=False)
    # When a fan-out last moved a cursor (the broadcast's or a wave's): the sweep
    # queues again only a fan-out with work left that has stopped moving.
    fanout_moved_at = models.DateTimeField(null=True, blank=True)
    # Local time: the messages are made wave by wave (Wave); the minute check has
    # looked for waves due up to this moment.
    mode = models.CharField(max_length=12, choices=SendMode.choices, default=SendMode.SAME_MOMENT)
    waves_checked_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When a scheduled broadcast starts; beat's due check starts it (states.start_due).
    scheduled_for = models.DateTimeField("schedule for", null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class BroadcastAttribution(models.Model):
    """What a broadcast caused: inbounds from its recipients within
    BROADCAST_ATTRIBUTION_HOURS of their message, counted as each arrives
    (messaging.inbound.attribution), so no screen scans messages for them. Each
    inbound counts once: as a STOP that opted the number out, a PAUSE, or a reply."""

    broadcast = models.OneToOneField(
        Broadcast, on_delete=models.CASCADE, primary_key=True, related_name="attribution"
    )
    replies = models.PositiveIntegerField(default=0)
    stops = models.PositiveIntegerField(default=0)
    pauses = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"attribution of {self.broadcast_id}"


class Wave(models.Model):
    """The part of a local-time broadcast due at one moment: every (timezone, send time)
    group whose send time on the broadcast's date falls at due_at."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="waves")
    due_at = models.DateTimeField()
    # [[timezone, "HH:MM" or null (the schedule's time)], ...]: who belongs to the wave.
    groups = models.JSONField(default=list)
    recipients = models.PositiveIntegerField(default=0)
    projected_cost = models.DecimalField(max_digits=12, decimal_places=5, default=Decimal("0"))
    # Fan-out checkpoint, as on Broadcast.
    cursor = models.PositiveBigIntegerField(default=0)
    fanout_done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "due_at"], name="one_wave_per_moment")
        ]

    def __str__(self) -> str:
        return f"{self.broadcast} at {timezones.shown(self.due_at)}"


class Message(models.Model):
    direction = models.CharField(max_length=8, choices=Direction.choices)
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    phone = models.CharField(max_length=20, db_index=True)
    # Our side of the conversation, E.164: on an inbound the number the person texted
    # (two-way's destinationNumber, Twilio's To); on its reply the same number, which
    # the reply leaves from when it is one of the portal's (providers' origination).
    our_number = models.CharField(max_length=20, blank=True, default="", db_default="")
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    broadcast = models.ForeignKey(
        Broadcast, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    # A test send of a broadcast: linked apart from `broadcast`, so that it counts in
    # neither the broadcast's progress nor its one-message-per-subscriber rule.
    test_of = models.ForeignKey(
        Broadcast,
        verbose_name="test of broadcast",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="test_messages",
        db_index=False,
    )
    # The inbound message this one answers, if any.
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    body = models.TextField(blank=True)
    # An e-mail sent in place of the daily message to an undeliverable number
    # (FALLBACK_CHANNEL=email): still the one message of its (broadcast, subscriber).
    fallback = models.BooleanField(default=False, db_default=False)
    content_sid = models.CharField(max_length=64, blank=True)
    content_variables = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, db_index=True)
    provider_message_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=20, blank=True, db_index=True)
    error_message = models.TextField(blank=True)
    # A skipped message: why, in the preview's words (messaging.skips).
    skip_reason = models.CharField(
        max_length=20, choices=SkipReason.choices, blank=True, default="", db_default=""
    )
    segments = models.PositiveSmallIntegerField(default=1)
    encoding = models.CharField(max_length=5, default="GSM-7")
    price_estimated = models.DecimalField(max_digits=10, decimal_places=5, default=Decimal("0"))
    price_actual = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    price_unit = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Confirmations: when the hourly cap let it go to the send queue (at once, or after
    # being held); the cap's rolling hour counts these.
    released_at = models.DateTimeField(null=True, blank=True)
    # Confirmations: where the sign-up came from (smsbot.client_ip.signup_source, a
    # salted hash of the client's network, never the address); "" for imports and the
    # admin. Held ones are released in turn per source (hourly_cap.release).
    signup_source = models.CharField(max_length=64, blank=True, default="", db_default="")
    # An inbound: the broadcast whose message to this number it followed within
    # BROADCAST_ATTRIBUTION_HOURS (messaging.inbound.attribution), set when it arrived.
    after_broadcast = models.ForeignKey(
        Broadcast,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caused",
        db_index=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "subscriber"],
                name="one_message_per_broadcast_subscriber",
                condition=models.Q(broadcast__isnull=False, subscriber__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["phone", "direction", "created_at"]),
            models.Index(fields=["broadcast", "status"]),
            models.Index(fields=["provider", "channel", "created_at"]),
            models.Index(
                fields=["test_of"],
                name="message_test_of_idx",
                condition=models.Q(test_of__isnull=False),
            ),
            # The e-mail fallbacks of a broadcast, counted apart from its one pass over
            # its messages (outcomes.tallies_of): they are few.
            models.Index(
                fields=["broadcast"],
                name="message_fallback_idx",
                condition=models.Q(fallback=True),
            ),
            # Held messages (queued, waiting for a moment) per broadcast: what the outcome
            # counts read to say "held until 08:00 CST", without the broadcast's other rows.
            models.Index(
                fields=["broadcast", "next_attempt_at", "error_code"],
                name="message_held_idx",
                condition=models.Q(status="queued"),
            ),
            # The confirmation cap counts the last hour's released confirmations on every
            # sign-up: without this it reads every message of that hour.
            models.Index(
                fields=["released_at"],
                name="message_confirmation_idx",
                condition=models.Q(kind="confirmation"),
            ),
            # Held confirmations per sign-up source: what the door counts before it takes
            # another sign-up from that source, and the order the cap releases them in.
            models.Index(
                fields=["signup_source", "created_at"],
                name="message_held_source_idx",
                condition=models.Q(status="held"),
            ),
            # Only inbounds that followed a broadcast: a draft's deletion looks here.
            models.Index(
                fields=["after_broadcast"],
                name="message_after_broadcast_idx",
                condition=models.Q(after_broadcast__isnull=False),
            ),
            # Sent messages still waiting for a report, per provider and age: what the
            # daily horizon check marks unknown, without reading settled messages.
            models.Index(
                fields=["provider", "sent_at"],
                name="message_awaiting_report_idx",
                condition=models.Q(status="sent"),
            ),
            # The confirmations the cap holds, oldest first.
            models.Index(
                fields=["created_at"],
                name="message_held_confirmation_idx",
                condition=models.Q(kind="confirmation", status="held"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} #{self.pk}"

    @property
    def cost(self) -> Decimal:
        return self.price_actual if self.price_actual is not None else self.price_estimated

    @property
    def template_sid(self) -> str:
        """The approved WhatsApp template it may go as: its own, else its broadcast's."""
        if self.content_sid:
            return self.content_sid
        return self.broadcast.whatsapp_content_sid if self.broadcast_id else ""


class DailyScheduleTask(PeriodicTask):
    """The "daily-broadcast" periodic task as the Daily schedule screen shows it.

    A proxy of django-celery-beat's row (messaging.broadcasts.schedule edits it):
    it gives the screen its place in the admin and its own view and change
    permissions, apart from the raw Periodic tasks admin.
    """

    class Meta:
        proxy = True
        verbose_name = "daily schedule"
        verbose_name_plural = "daily schedule"

    def __str__(self) -> str:
        # The audit log and the history page name it so, not by its cron line.
        return "Daily schedule"


class DeliveryEvent(models.Model):
    """Every status callback as received: the audit trail of delivery."""

    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="delivery_events"
    )
    # The message's broadcast, copied as the report is recorded: the brake reads a
    # broadcast's latest reports by it (deliveryevent_brake_window_idx), not by a join.
    broadcast = models.ForeignKey(
        Broadcast,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    provider = models.CharField(max_length=10, choices=Provider.choices)
    provider_message_id = models.CharField(max_length=100, db_index=True)
    # Twilio resends the same callback; SNS has a MessageId. Either way, once.
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=20, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    price_unit = models.CharField(max_length=3, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # A broadcast's latest final reports, newest first: the brake's window.
            models.Index(
                fields=["broadcast", "-id"],
                name="deliveryevent_brake_window_idx",
                condition=models.Q(
                    broadcast__isnull=False,
                    status__in=["delivered", "read", "undelivered", "failed"],
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.status} {self.provider_message_id}"


class ProviderCall(models.Model):
    """One request to a provider, secrets redacted, for the message log."""

    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="provider_calls"
    )
    provider = models.CharField(max_length=10, choices=Provider.choices)
    operation = models.CharField(max_length=50)
    request = models.JSONField(default=dict)
    response = models.JSONField(default=dict, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider} {self.operation} {self.outcome}"


# --- Reporting rollups -------------------------------------------------------------
class DailyRollup(models.Model):
    """Message totals for one day and one combination of dimensions.

    Recomputed from Message by messaging.reports.rollups (a beat task refreshes recent
    days; `manage.py refresh_rollups` rebuilds any range), so reports over
    months read a few hundred rows instead of a million messages.
    """

    day = models.DateField()
    direction = models.CharField(max_length=8, choices=Direction.choices)
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    status = models.CharField(max_length=12, choices=MessageStatus.choices)
    error_code = models.CharField(max_length=20, blank=True)
    messages = models.PositiveIntegerField(default=0)
    segments = models.PositiveBigIntegerField(default=0)
    cost_estimated = models.DecimalField(max_digits=16, decimal_places=5, default=Decimal("0"))
    # Sum of the providers' actual prices, over the `priced` messages that have one.
    cost_actual = models.DecimalField(max_digits=16, decimal_places=5, default=Decimal("0"))
    priced = models.PositiveIntegerField(default=0)
    # The estimate of those same priced messages, to compare estimate with actual.
    estimated_priced = models.DecimalField(max_digits=16, decimal_places=5, default=Decimal("0"))
    refreshed_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "direction", "kind", "channel", "provider", "status", "error_code"],
                name="dailyrollup_one_row_per_dimensions",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.provider}/{self.channel} {self.status}: {self.messages}"


class PhoneMonthlySpend(models.Model):
    """Spend per phone number and month (per-number cost tracking), refreshed by rollups."""

    month = models.DateField(help_text="First day of the month.")
    phone = models.CharField(max_length=20)
    messages = models.PositiveIntegerField(default=0)
    segments = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=5, default=Decimal("0"))
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "phone"], name="phonemonthlyspend_unique")
        ]
        indexes = [models.Index(fields=["month", "-cost"], name="phonemonthlyspend_top_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.cost}"


# --- Price estimates ------------------------------------------------------------------
class CountryPrice(models.Model):
    """What one provider charges to one destination country: the basis of every estimate.

    DevOps keep it in step with the providers' price lists in the admin. A blank
    country is the price for every country without a row of its own.
    """

    provider = models.CharField(
        max_length=10, choices=[(Provider.SNS, "AWS SNS"), (Provider.TWILIO, "Twilio")]
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    country = models.CharField(
        max_length=2,
        blank=True,
        help_text="ISO 3166 code of the destination (e.g. US, CA, GB); "
        "blank: every country without a row of its own.",
    )
    price_usd = models.DecimalField(
        "price (USD)",
        max_digits=10,
        decimal_places=5,
        help_text="Per SMS segment; for WhatsApp, per message inside the 24-hour window.",
    )
    template_price_usd = models.DecimalField(
        "template price (USD)",
        max_digits=10,
        decimal_places=5,
        null=True,
        blank=True,
        help_text="WhatsApp only: per approved-template message (outside the 24-hour window).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "channel", "country"]
        verbose_name = "price per country"
        verbose_name_plural = "prices per country"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "channel", "country"], name="countryprice_one_per_destination"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.channel} {self.country or 'other countries'}"


class DeliveryLogCursor(models.Model):
    """How far the portal has read one of SNS's SMS delivery log groups in CloudWatch Logs.

    position_ms is the event time of the newest line read; recent_ids maps the id
    of every line read at or after position_ms minus the late-line window to its
    event time, so a line re-read in that window is recognised and a late one is not
    missed. Counters add up what every run found.
    """

    log_group = models.CharField(max_length=512, unique=True)
    position_ms = models.BigIntegerField(default=0)
    recent_ids = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    applied = models.PositiveBigIntegerField(default=0)
    not_ours = models.PositiveBigIntegerField(default=0)
    malformed = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return self.log_group


class ReplyMute(models.Model):
    """The bot stopped answering a number that looked like a loop or a flood.

    Each row is one trip of the loop breaker (messaging.inbound.reply_limits), kept
    as the record of what happened: automatic replies to the number stop until
    muted_until; the admin home lists the numbers muted now.
    """

    phone = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)
    muted_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone", "muted_until"])]

    def __str__(self) -> str:
        return f"{self.phone} muted until {timezones.shown(self.muted_until)}"
