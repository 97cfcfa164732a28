"""Fictional demo subscribers (555-01xx numbers), created through the consent function.

Their consent is dated in the past (SIGNED_UP_DAYS_AGO onwards, a number every
SIGNED_UP_EVERY), before any demo message: a consent tool's demo must not show
texts sent before the consent. Other apps add their own demo data (messages,
broadcasts, daily content) when the subscribers exist: they listen to `seeding`,
and message only numbers whose consent came first.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.dispatch import Signal
from django.utils import timezone

from subscribers.consent import change
from subscribers.models import Conversation, Subscriber

KEYWORD = {"text": "JOIN MITZVAH", "message_sid": "SM00000000000000000000000000demo01"}
ADMIN = {"reason": "demo data from seed_demo", "admin_user": "seed_demo"}


def _web_form() -> dict[str, Any]:
    return {
        "ip": "192.0.2.10",
        "user_agent": "demo browser",
        "consent_text": settings.OPTIN_CONSENT_TEXT,
        "form": {"channel": "whatsapp", "consent": "on"},
    }


# The first number signed up this long ago, the next SIGNED_UP_EVERY later, and so on:
# the last one, three weeks on, still a week before the demo's first daily broadcast.
SIGNED_UP_DAYS_AGO = 30
SIGNED_UP_EVERY = timedelta(hours=17)

# Sent once the demo subscribers exist; each receiver returns a line saying what it did.
seeding = Signal()

# phone, channel, status, source, evidence
DEMO_NUMBERS = [
    ("+13125550101", "sms", "opted_in", "sms_keyword", KEYWORD),
    (
        "+13125550102",
        "sms",
        "opted_in",
        "import",
        {"file": "demo.csv", "row": 1, "evidence": "fair"},
    ),
    ("+13125550103", "whatsapp", "opted_in", "whatsapp_keyword", KEYWORD),
    ("+13125550104", "sms", "opted_out", "admin", ADMIN),
    ("+13125550105", "whatsapp", "pending", "web_form", None),
    # A crowd of imported numbers, one in three on WhatsApp, so the figures have some size.
    *(
        (
            f"+131255501{n:02d}",
            "whatsapp" if n % 3 == 0 else "sms",
            "opted_in",
            "import",
            {"file": "demo.csv", "row": n, "evidence": "signed up at the demo stand"},
        )
        for n in range(6, 28)
    ),
    (
        "+13125550128",
        "sms",
        "opted_out",
        "sms_keyword",
        {"text": "STOP", "message_sid": "SMdemo28"},
    ),
]


def signed_up_at(n: int, now: datetime | None = None) -> datetime:
    """When the nth demo number gave its consent (its event and its opted-in time)."""
    start = (now or timezone.now()) - timedelta(days=SIGNED_UP_DAYS_AGO)
    return start + n * SIGNED_UP_EVERY


def seed() -> str:
    created = 0
    now = timezone.now()
    for n, (phone, channel, status, source, evidence) in enumerate(DEMO_NUMBERS):
        if Subscriber.objects.filter(phone=phone).exists():
            continue
        # A pending sign-up is today's: its confirmation goes out as the demo runs.
        at = None if status == "pending" else signed_up_at(n, now)
        subscriber = change(
            phone, status, source, evidence or _web_form(), channel=channel, at=at
        ).subscriber
        # The row was first seen when the number signed up, not when the demo ran.
        Subscriber.objects.filter(pk=subscriber.pk).update(created_at=at or now)
        created += 1
    Conversation.objects.get_or_create(
        phone_number="+13125550101",
        defaults={
            "conversation_state": "subscribed",
            "message_count": 3,
            "last_message": "What time does the message come?",
            "last_response": "Every day at 10:00 Chicago time.",
            "user_context": {"name": "demo"},
        },
    )
    lines = [f"Demo subscribers: {created} created, {len(DEMO_NUMBERS) - created} already there."]
    lines += [str(said) for _, said in seeding.send(sender=Subscriber) if said]
    return "\n".join(lines)
