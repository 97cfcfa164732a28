"""A broadcast's test send: its message, now, to one staff phone, outside the broadcast.

Consent: a test obeys the rule every message obeys. It goes only to a
subscriber who is opted in, deliverable and not erased, on a channel the
broadcast reaches; staff subscribe their own phone once (text START, or
JOIN <keyword> on WhatsApp), which records their consent like anyone's. The
portal never messages a number without recorded consent, a staff phone
included, and dispatch checks consent again when it claims the message.

Numbers are parsed like every number that enters the portal, and number
types that cost the sender or mislead (premium rate, shared cost, toll-free,
UAN, voicemail, pager) are refused.

The test is a message of its own kind (MessageKind.TEST) linked to the
broadcast by test_of, not by broadcast: it is in none of the broadcast's
counts, progress or recipients, and does not take the subscriber's one
message of the broadcast. What it costs counts in the month's spend like any
message, and it is refused when that would pass the monthly limit.
"""

from django.db import transaction
from django.utils import timezone

from messaging import task_names
from messaging.billing import budget
from messaging.broadcasts.audience import build_message
from messaging.models import Broadcast, BroadcastState, Message
from smsbot import outbox
from smsbot.celery import REPLIES_QUEUE
from subscribers import phones, sendable
from subscribers.models import Channel, ConsentStatus, Subscriber

TESTABLE_STATES = (BroadcastState.DRAFT, BroadcastState.SCHEDULED)


class TestRefused(ValueError):
    """Why a test cannot go, in one sentence for the operator."""

    __test__ = False  # not a pytest test class


def send_test(broadcast: Broadcast, raw_phone: str) -> Message:
    """Queue the broadcast's message to one opted-in number now; TestRefused says why not."""
    if broadcast.state not in TESTABLE_STATES:
        raise TestRefused("This broadcast has started: a test is for before it goes out.")
    subscriber = _recipient(raw_phone)
    if broadcast.channel and subscriber.channel != broadcast.channel:
        raise TestRefused(
            f"{subscriber.phone} subscribes by {Channel(subscriber.channel).label}; this "
            f"broadcast goes to {Channel(broadcast.channel).label} subscribers only."
        )
    message = build_message(broadcast, subscriber, test=True)
    spend = budget.status()
    if spend.spent + message.price_estimated > spend.limit:
        raise TestRefused(f"A test would take this month's spend past the {spend.limit} USD limit.")
    with transaction.atomic():
        message.save()
        outbox.enqueue(task_names.SEND_MESSAGE, message.pk, queue=REPLIES_QUEUE)
    return message


def _recipient(raw_phone: str) -> Subscriber:
    try:
        phone = phones.normalize(raw_phone)
    except phones.InvalidPhone as exc:
        raise TestRefused(f"“{raw_phone.strip()}”: {exc}.") from None
    try:
        phones.check_subscriber(phone)
    except phones.InvalidPhone as exc:
        raise TestRefused(f"{phone}: {exc}; the portal never sends to one.") from None
    subscriber = Subscriber.objects.filter(phone=phone, erased_at__isnull=True).first()
    if subscriber is None:
        raise TestRefused(
            f"{phone} is not a subscriber. A test goes only to a number that opted in: "
            "text START (or JOIN on WhatsApp) from that phone first."
        )
    # A test goes to whoever may receive the broadcast, paused or not (staff phones).
    if sendable.refusal(subscriber, timezone.now(), pause=False) is None:
        return subscriber
    if subscriber.consent_status != ConsentStatus.OPTED_IN:
        status = ConsentStatus(subscriber.consent_status).label.lower()
        raise TestRefused(
            f"{phone} is {status}, not opted in: a test goes only to a number that opted in."
        )
    reason = f" ({subscriber.undeliverable_reason})" if subscriber.undeliverable_reason else ""
    raise TestRefused(f"{phone} is marked undeliverable{reason}.")
