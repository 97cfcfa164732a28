"""Fictional demo subscribers (555-01xx numbers), created through the consent function.

Other apps add their own demo data (messages, broadcasts, daily content) when
the subscribers exist: they listen to `seeding`.
"""

from typing import Any

from django.conf import settings
from django.dispatch import Signal

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


def seed() -> str:
    created = 0
    for phone, channel, status, source, evidence in DEMO_NUMBERS:
        if Subscriber.objects.filter(phone=phone).exists():
            continue
        change(phone, status, source, evidence or _web_form(), channel=channel)
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
