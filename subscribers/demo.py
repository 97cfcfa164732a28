"""Fictional demo subscribers (555-01xx numbers), created through the consent function."""

from .consent import change
from .models import Subscriber

DEMO_NUMBERS = [
    ("+13125550101", "sms", "opted_in"),
    ("+13125550102", "sms", "opted_in"),
    ("+13125550103", "whatsapp", "opted_in"),
    ("+13125550104", "sms", "opted_out"),
    ("+13125550105", "whatsapp", "pending"),
]


def seed() -> str:
    created = 0
    for phone, channel, status in DEMO_NUMBERS:
        if Subscriber.objects.filter(phone=phone).exists():
            continue
        change(
            phone,
            status,
            "admin",
            {"reason": "demo data from seed_demo", "admin_user": "seed_demo"},
            channel=channel,
        )
        created += 1
    return f"Demo subscribers: {created} created, {len(DEMO_NUMBERS) - created} already there."
