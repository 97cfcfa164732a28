"""Outcomes that never came: sent messages past their provider's report horizon.

A provider sends its final delivery report within a known time or never: SNS
keeps SMS delivery logs for 72 hours (AWS's documented limit), End User
Messaging SMS the same; Twilio's status callback comes within
DELIVERY_REPORT_HORIZON_TWILIO_HOURS; the console answers at once. A message
still "sent" after that moves to "unknown" (outcomes.Bucket.UNKNOWN), so no
screen counts it as sent or delivered for ever. Unknown ranks below every final
report (models.STATUS_RANK): a late report still settles it.

The daily check is one UPDATE per provider over the partial index of messages
awaiting a report (message_awaiting_report_idx).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from messaging.models import Message, MessageStatus, Provider

log = logging.getLogger(__name__)

# End User Messaging SMS's provider name, where it sends (smsbot.sms_account.AWS_PROVIDERS).
AWS_SMS = "aws-sms"
AWS_LOG_HORIZON = timedelta(hours=72)


def horizons() -> dict[str, timedelta]:
    """How long each provider may take to report a message's outcome."""
    return {
        Provider.SNS: AWS_LOG_HORIZON,
        AWS_SMS: AWS_LOG_HORIZON,
        Provider.TWILIO: timedelta(hours=settings.DELIVERY_REPORT_HORIZON_TWILIO_HOURS),
        Provider.CONSOLE: timedelta(hours=1),
    }


@dataclass
class Marked:
    """What one check moved to unknown."""

    per_provider: dict[str, int] = field(default_factory=dict)
    broadcast_ids: set[int] = field(default_factory=set)
    # The oldest created_at among them: the reports' daily rollups from there are stale.
    oldest: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.per_provider.values())


def mark_unknown(now: datetime | None = None) -> Marked:
    """Move every sent message past its provider's horizon to unknown; per provider."""
    now = now or timezone.now()
    marked = Marked()
    for provider, horizon in horizons().items():
        overdue = Message.objects.filter(
            status=MessageStatus.SENT, provider=provider, sent_at__lt=now - horizon
        )
        # Their broadcasts' stored counts are recounted after (they may have settled).
        marked.broadcast_ids.update(
            overdue.filter(broadcast__isnull=False)
            .order_by()
            .values_list("broadcast_id", flat=True)
            .distinct()
        )
        oldest = overdue.aggregate(oldest=Min("created_at"))["oldest"]
        if oldest is not None:
            marked.oldest = min(oldest, marked.oldest or oldest)
        count = overdue.update(status=MessageStatus.UNKNOWN, updated_at=now)
        if count:
            marked.per_provider[provider] = count
            log.warning(
                "%s: %d message(s) sent before %s have no delivery report: now unknown",
                provider,
                count,
                (now - horizon).isoformat(timespec="minutes"),
            )
    return marked
