"""Why a subscriber does not get a broadcast: one vocabulary from preview to report.

The preview splits the audience by these reasons before a send
(messaging.broadcasts.audience.skip_split); a message skipped while sending
records its reason in Message.skip_reason; a broadcast keeps the split of those
its fan-out left out (Broadcast.skips). The broadcast page and the dashboard add
the two, so the "skipped" figure afterwards splits by the same words as the
preview before it. It imports nothing of the project: models use it.
"""

from datetime import timedelta

from django.db import models


class SkipReason(models.TextChoices):
    OPTED_OUT = "opted_out", "Opted out"
    PENDING = "pending", "Pending confirmation"
    PAUSED = "paused", "Paused"
    UNDELIVERABLE = "undeliverable", "Undeliverable"
    QUIET_HOURS = "quiet_hours", "Held by quiet hours"
    WHATSAPP_WINDOW = "whatsapp_window", "Outside the WhatsApp 24-hour window, no template"
    REFUSED_NUMBER = "refused_number", "Refused by country or number type"
    OVER_BUDGET = "over_budget", "Over budget"
    # The AWS SMS sandbox delivers only to verified destinations (broadcasts.sandbox).
    SANDBOX_UNVERIFIED = "sandbox_unverified", "Sandbox: destination not verified"
    # Only while sending: not in a preview.
    ERASED = "erased", "Subscriber erased"
    CANCELLED = "cancelled", "Broadcast cancelled"
    ALREADY_CONFIRMED = "already_confirmed", "Address already confirmed"


# Reasons that hold a message back rather than drop it: counted in the preview, then held.
HOLDING = frozenset({SkipReason.QUIET_HOURS, SkipReason.OVER_BUDGET})

# WhatsApp's customer-service window: inside it (the number wrote to us) free-form
# messages may go; outside it only an approved template.
WHATSAPP_WINDOW = timedelta(hours=24)
